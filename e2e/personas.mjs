// Personas: the Agents Playground as someone other than Hana. The Playground shows one
// person (its config's currentUser) and only that person's personal chat, so each
// persona is a Playground of its own, with a config generated from the repo's
// .m365agentsplayground.yml: the same tenant, user ids, group chat, team and channels
// (so every persona's cards land in the same conversations of the same `tapbot dev`),
// with the persona as currentUser and a personal chat of their own.

import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_CONFIG_PATH } from './lib.mjs';

/**
 * Who each persona is, and the conversations they add tapbot to when their Playground
 * starts (as Teams does at a first sign-in with the app pre-installed, or when the app
 * is added to a team): tapbot's proactive cards for that role then reach this Playground.
 */
export const PERSONAS = {
  hana: { email: 'hana@contoso.com', role: 'helpdesk: /tap, /status, the stuck cards in General', installs: ['personal', 'general'] },
  max: { email: 'max@contoso.com', role: 'manager: /onboard a new hire, /requests', installs: ['personal'] },
  alex: { email: 'alex@contoso.com', role: 'approver: approves onboarding in the Onboarding channel', installs: ['personal', 'channel'] },
  nina: { email: 'nina@contoso.com', role: 'new hire: her first Teams sign-in brings her checklist', installs: ['personal'] },
};

/**
 * Reads the block YAML subset .m365agentsplayground.yml is written in: comments, maps
 * by indentation, lists of maps ("- key: value"), plain or double-quoted scalars.
 * Enough for that file; the Playground itself validates what we write back.
 */
export function parseTenantYaml(text) {
  const lines = text
    .split('\n')
    .map((raw) => raw.replace(/\s+#.*$|^\s*#.*$/, ''))
    .filter((l) => l.trim() !== '')
    .map((l) => ({ indent: l.length - l.trimStart().length, text: l.trim() }));
  let i = 0;
  const scalar = (s) => (s.startsWith('"') ? JSON.parse(s) : s);
  function block(indent) {
    if (lines[i].text.startsWith('- ')) {
      const list = [];
      while (i < lines.length && lines[i].indent === indent && lines[i].text.startsWith('- ')) {
        // "- key: value" opens a map whose other keys sit two columns further in.
        lines[i] = { indent: indent + 2, text: lines[i].text.slice(2) };
        list.push(block(indent + 2));
      }
      return list;
    }
    const map = {};
    while (i < lines.length && lines[i].indent === indent && !lines[i].text.startsWith('- ')) {
      const { text: t } = lines[i++];
      const colon = t.indexOf(':');
      const key = t.slice(0, colon);
      const rest = t.slice(colon + 1).trim();
      map[key] = rest !== '' ? scalar(rest) : block(lines[i].indent);
    }
    return map;
  }
  return block(0);
}

/** The repo's Playground config (Hana's), parsed. */
export function baseConfig(configPath = DEFAULT_CONFIG_PATH) {
  return parseTenantYaml(fs.readFileSync(configPath, 'utf8'));
}

/**
 * base's tenant seen by user (one of base's people, or another account such as a hire
 * onboarding just created: {id, name, userPrincipleName, aadObjectId}). The Playground
 * wants exactly 5 other users: someone new replaces the last one (the guest).
 */
export function personaConfig(base, user) {
  const everyone = [base.currentUser, ...base.users];
  const others = everyone.filter((u) => u.aadObjectId !== user.aadObjectId).slice(0, base.users.length);
  const local = String(user.userPrincipleName).split('@')[0].replace(/[^a-z0-9]/gi, '').toLowerCase();
  const personal = user.aadObjectId === base.currentUser.aadObjectId ? base.personalChat.id : `a:1contoso-${local}-tapbot-personal`;
  return { ...base, currentUser: user, users: others, personalChat: { id: personal } };
}

/** The config of a persona by name (PERSONAS) or email. */
export function personaByName(name, base = baseConfig()) {
  const email = PERSONAS[name]?.email ?? name;
  const user = [base.currentUser, ...base.users].find((u) => u.email === email || u.userPrincipleName === email);
  if (!user) throw new Error(`no persona ${name}: use one of ${Object.keys(PERSONAS).join(', ')}`);
  return personaConfig(base, user);
}

/** Writes config into dir and returns its path. JSON is YAML, so the Playground reads it. */
export function writeConfig(config, dir) {
  const file = path.join(dir, '.m365agentsplayground.yml');
  fs.writeFileSync(file, JSON.stringify(config, null, 2) + '\n');
  return file;
}

/**
 * Adds tapbot to conversations of a running Playground as its UI does (its debug API):
 * tapbot gets the installationUpdate and the conversationUpdate naming the bot, stores
 * where to reach this persona, greets once, and sends what was waiting for them.
 * kinds: 'personal' | 'channel' | 'general' (see Playground.conversationId).
 */
export async function install(baseUrl, conversationIds) {
  for (const id of conversationIds) {
    const res = await fetch(`${baseUrl}/_debug/conversation/${encodeURIComponent(id)}/installation`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    if (!res.ok) throw new Error(`installing tapbot in ${id}: HTTP ${res.status} ${await res.text()}`);
  }
}

/** Conversation ids of a generated config for install()'s kinds. */
export function conversationIds(config, kinds) {
  const channel = config.team.channels?.[0]?.id;
  const ids = { personal: config.personalChat.id, general: config.team.id, channel };
  return kinds.map((k) => {
    if (!ids[k]) throw new Error(`config has no ${k} conversation`);
    return ids[k];
  });
}

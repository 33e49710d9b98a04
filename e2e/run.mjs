// End-to-end tests: tapbot (local `dev` mode) against the Microsoft 365 Agents
// Playground (Teams emulator). Run with `npm test` (= node --test run.mjs) in e2e/.
//
// Env:
//   TAPBOT_URL      bot messaging endpoint (default http://127.0.0.1:3978/api/messages)
//   TAPBOT_BIN      if set, start `$TAPBOT_BIN dev` here on a port it picks itself
//                   (TAPBOT_URL is then ignored: the tests never talk to a bot they did
//                   not start, such as a `make run` on 3978), TAPBOT_DB_PATH in a temp
//                   dir, wait for /healthz, stop it at the end; otherwise a bot must
//                   already be listening at TAPBOT_URL
//   PLAYGROUND_PORT preferred playground port (default 56150; another is picked if taken)
//   E2E_TIMEOUT_MS  how long to wait for each bot reply (default 15000)
//   E2E_KEEP_TMP=1  keep the temp dir (logs, db) even when everything passes

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  ADAPTIVE_CARD,
  OutputTail,
  cardJson,
  killGroup,
  localEnv,
  pollUntil,
  spawnGroup,
  startPlayground,
} from './lib.mjs';
import { PERSONAS, baseConfig, conversationIds, install, personaByName, personaConfig, writeConfig } from './personas.mjs';

let TAPBOT_URL = process.env.TAPBOT_URL || 'http://127.0.0.1:3978/api/messages';
const TAPBOT_BIN = process.env.TAPBOT_BIN || '';
const REPLY_TIMEOUT_MS = Number(process.env.E2E_TIMEOUT_MS || 15000);
const TEST_TIMEOUT_MS = REPLY_TIMEOUT_MS + 5000;

const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tapbot-e2e-'));
let pg; // Playground
let bot; // { child, out } when we started tapbot ourselves
let failed = false;

// listeningAddr finds the address tapbot logged it listens on (console or JSON log).
const LISTENING = /listening.*"addr":\s*"([^"]+)"/;

/**
 * Starts `$TAPBOT_BIN dev` in dir (its own database there) with extra env on a port the
 * kernel picks; resolves when it answers /healthz, with { child, out, url }.
 */
async function startTapbot(dir = tmpDir, env = {}) {
  const out = new OutputTail(path.join(dir, 'tapbot.log'));
  // Port 0: the kernel picks a free one, so a bot already running (make run on 3978)
  // can neither block this one nor be tested in its place.
  const child = spawnGroup(TAPBOT_BIN, ['dev'], {
    cwd: dir,
    env: localEnv({ ...env, TAPBOT_LISTEN_ADDR: '127.0.0.1:0', TAPBOT_DB_PATH: path.join(dir, 'tapbot.db') }),
  });
  child.stdout.on('data', (d) => out.push(d));
  child.stderr.on('data', (d) => out.push(d));
  let exited = null;
  child.once('exit', (code, sig) => (exited = code ?? sig));
  child.once('error', (e) => (exited = e.message));
  let addr = null;
  try {
    await pollUntil(
      async () => {
        if (exited !== null) throw Object.assign(new Error(`tapbot exited (${exited})`), { fatal: true });
        addr ??= LISTENING.exec(out.text(1 << 20))?.[1] ?? null;
        return addr !== null && (await fetch(`http://${addr}/healthz`)).status === 200;
      },
      { timeoutMs: 30000, what: 'tapbot dev to log its address and answer /healthz' },
    );
  } catch (e) {
    await killGroup(child);
    out.close();
    throw new Error(`${TAPBOT_BIN} dev did not become healthy: ${e.message}\n--- tapbot output ---\n${out.text()}`);
  }
  return { child, out, url: `http://${addr}/api/messages` };
}

/**
 * Runs a test body; on failure, adds what the emulators got from the bot and tapbot's log.
 * scene() names them: by default the suite's Playground (Hana's) and bot; a test with a
 * bot of its own passes its own (read at failure time, so it may still be filling).
 */
async function withDiagnostics(fn, scene = () => ({ playgrounds: { hana: pg }, tapbot: bot, dir: tmpDir })) {
  try {
    await fn();
  } catch (e) {
    failed = true;
    const { playgrounds = {}, tapbot, dir = tmpDir } = scene();
    for (const [name, p] of Object.entries(playgrounds)) {
      if (!p) continue;
      const frames = p.botFrames().map((f) => JSON.stringify(f)).join('\n');
      e.message +=
        `\n--- bot messages shown by ${name}'s playground so far ---\n${frames || '(none)'}` +
        `\n--- ${name}'s playground log (activities to the bot, the bot's connector calls) ---\n${p.logSummary() || '(none)'}`;
    }
    e.message +=
      (tapbot ? `\n--- tapbot output (tail) ---\n${tapbot.out.text(6000)}` : '') +
      `\n(full logs kept in ${dir}: tapbot.log, m365agentsplayground.log, playground-log-stream.jsonl =` +
      ` every activity exchanged with status codes, playground-frames.jsonl = what the chat UI would show)`;
    throw e;
  }
}

const isCardListing = (needle) => (m) => cardJson(m).some((json) => json.includes(needle));

before(async () => {
  failed = true; // until setup completes: keep the temp dir for diagnosis
  if (TAPBOT_BIN) {
    bot = await startTapbot();
    TAPBOT_URL = bot.url;
  } else {
    const origin = new URL(TAPBOT_URL).origin;
    await pollUntil(async () => (await fetch(`${origin}/healthz`)) && true, {
      timeoutMs: 5000,
      what: `a bot at ${origin} (start \`tapbot dev\` or set TAPBOT_BIN)`,
    });
  }
  pg = await startPlayground({ botEndpoint: TAPBOT_URL, tmpDir });
  failed = false;
});

after(async () => {
  // The bot first: it drains in-flight replies while the emulator is still there to take them.
  if (bot) {
    await killGroup(bot.child, 10000);
    bot.out.close();
  }
  await pg?.stop();
  if (failed || process.env.E2E_KEEP_TMP) console.log(`e2e temp dir kept: ${tmpDir}`);
  else fs.rmSync(tmpDir, { recursive: true, force: true });
});

test('personal chat: /help replies with an Adaptive Card listing the commands', { timeout: TEST_TIMEOUT_MS }, () =>
  withDiagnostics(async () => {
    const sent = await pg.send('personal', '/help');
    const msg = (await pg.waitForBotMessage(sent, isCardListing('/help'), REPLY_TIMEOUT_MS, 'an Adaptive Card listing /help')).message;
    const card = msg.attachments.find((a) => a.contentType === ADAPTIVE_CARD);
    assert.ok(card, 'reply has an Adaptive Card attachment');
    const json = JSON.stringify(card.content);
    assert.match(json, /tapbot/i, 'card mentions tapbot');
    assert.ok(json.includes('/help'), 'card lists /help');
  }),
);

test('channel: @tapbot help (with a mention) replies in the channel with the help card', { timeout: TEST_TIMEOUT_MS }, () =>
  withDiagnostics(async () => {
    const sent = await pg.send('channel', 'help', { mention: true });
    assert.ok(sent.postConversationId, 'posting to a channel starts a thread');
    const frame = await pg.waitForBotMessage(sent, isCardListing('/help'), REPLY_TIMEOUT_MS, 'an Adaptive Card listing /help');
    // The reply is in the channel: in the new post's thread (or, if the bot posted to the
    // channel itself, as a new post there).
    assert.ok(
      frame.actionConversationId === sent.postConversationId ||
        frame.actionConversationId === sent.parentConversationId,
      `reply landed in ${frame.actionConversationId}`,
    );
    assert.ok(cardJson(frame).some((j) => j.includes('/help')), 'card lists /help');
  }),
);

test('personal chat: non-command text gets a hint mentioning /help', { timeout: TEST_TIMEOUT_MS }, () =>
  withDiagnostics(async () => {
    const sent = await pg.send('personal', 'hello there');
    const msg = (
      await pg.waitForBotMessage(sent, (m) => typeof m.text === 'string' && m.text.includes('/help'), REPLY_TIMEOUT_MS, 'a text reply mentioning /help')
    ).message;
    assert.ok(msg.text.includes('/help'));
  }),
);

/** The pass on a TAP card: the monospace run of its RichTextBlock. */
function tapValue(m) {
  for (const json of cardJson(m)) {
    const card = JSON.parse(json);
    for (const el of card.body ?? []) {
      for (const run of el.type === 'RichTextBlock' ? el.inlines : []) {
        if (run.fontType === 'Monospace') return run.text;
      }
    }
  }
  return '';
}

const isTapCard = (m) => tapValue(m) !== '';

test('personal chat: /tap for the new hire delivers a TAP card with a Revoke button', { timeout: TEST_TIMEOUT_MS }, () =>
  withDiagnostics(async () => {
    const sent = await pg.send('personal', '/tap nina@contoso.com 2h ticket 4711');
    const msg = (await pg.waitForBotMessage(sent, isTapCard, REPLY_TIMEOUT_MS, 'a TAP card')).message;
    assert.match(tapValue(msg), /^\S{8,48}$/, 'a pass of the policy length');
    const json = cardJson(msg).join('');
    assert.ok(json.includes('nina@contoso.com') && json.includes('tap.revoke'), 'card names the user and offers Revoke');
  }),
);

test('channel: /tap answers publicly without the pass and delivers it in the 1:1 chat', { timeout: TEST_TIMEOUT_MS }, () =>
  withDiagnostics(async () => {
    const since = pg.frames.length;
    const sent = await pg.send('channel', 'tap max@contoso.com', { mention: true });
    const note = (await pg.waitForBotMessage(sent, (m) => (m.text ?? '').includes('private chat'), REPLY_TIMEOUT_MS, 'the public note')).message;
    const card = await pg.waitFor((f) => f.message?.from?.id === pg.botId && isTapCard(f.message), REPLY_TIMEOUT_MS, {
      since,
      what: 'the TAP card in a 1:1 chat',
    });
    const value = tapValue(card.message);
    const channelConvs = new Set([sent.conversationId, sent.parentConversationId]);
    assert.ok(!channelConvs.has(card.actionConversationId), 'the TAP card is not in the channel');
    assert.equal(card.actionConversationId, pg.conversationId('personal'), 'the TAP card is in the personal chat');
    for (const f of pg.frames.slice(since)) {
      if (channelConvs.has(f.actionConversationId)) assert.ok(!JSON.stringify(f).includes(value), 'the pass never appears in the channel');
    }
    assert.ok(!JSON.stringify(note).includes(value));
  }),
);

test('personal chat: /tap for the Global Administrator is refused with the reason', { timeout: TEST_TIMEOUT_MS }, () =>
  withDiagnostics(async () => {
    const sent = await pg.send('personal', '/tap gwen@contoso.com');
    const msg = (await pg.waitForBotMessage(sent, (m) => (m.text ?? '').includes('Global Administrator'), REPLY_TIMEOUT_MS, 'a refusal')).message;
    assert.ok(!isTapCard(msg));
  }),
);

test('personal chat: Revoke on the TAP card replaces it with a card without the pass', { timeout: TEST_TIMEOUT_MS }, () =>
  withDiagnostics(async () => {
    const sent = await pg.send('personal', '/tap alex@contoso.com');
    const frame = await pg.waitForBotMessage(sent, isTapCard, REPLY_TIMEOUT_MS, 'a TAP card');
    const value = tapValue(frame.message);
    const card = JSON.parse(cardJson(frame.message)[0]);
    const revoke = card.actions.find((a) => a.verb === 'tap.revoke');
    assert.ok(revoke, 'card has a Revoke action');
    const answer = await pg.invoke({ conversationId: 'personal', replyToId: frame.message.messageId, verb: revoke.verb, data: revoke.data });
    const json = JSON.stringify(answer);
    assert.match(json, /revoked/, 'the answer card says the pass was revoked');
    assert.ok(!json.includes(value), 'the answer card does not show the pass');
  }),
);

test('personal chat: /doctor shows the tenant check to an admin', { timeout: TEST_TIMEOUT_MS }, () =>
  withDiagnostics(async () => {
    const sent = await pg.send('personal', '/doctor');
    const msg = (await pg.waitForBotMessage(sent, (m) => cardJson(m).some((j) => j.includes('Temporary Access Pass')), REPLY_TIMEOUT_MS, 'the doctor card')).message;
    const json = cardJson(msg).join('');
    assert.ok(json.includes('Microsoft Authenticator') && json.includes('tapbot doctor --fix'), 'card reports the policies and points to the CLI for fixes');
  }),
);

/** Every input of a card with its current value, as Teams merges them into the action data. */
function inputValues(card) {
  const values = {};
  const walk = (v) => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (v && typeof v === 'object') {
      if (typeof v.type === 'string' && v.type.startsWith('Input.') && v.id) values[v.id] = v.value ?? '';
      Object.values(v).forEach(walk);
    }
  };
  walk(card.body);
  return values;
}

/** The first card action with verb, anywhere in a card (actions, action sets, columns). */
function findAction(card, verb) {
  let found;
  const walk = (v) => {
    if (found || !v || typeof v !== 'object') return;
    if (Array.isArray(v)) return v.forEach(walk);
    if (v.verb === verb && typeof v.type === 'string' && v.type.startsWith('Action.')) found = v;
    else Object.values(v).forEach(walk);
  };
  walk(card);
  return found;
}

/**
 * In pg (a manager's Playground), fills and submits /onboard for Erik Example (mail
 * nickname nick, starting in a week); resolves when the form says it waits for approval.
 */
async function submitOnboarding(pg, nick) {
  const sent = await pg.send('personal', '/onboard');
  const formMsg = (await pg.waitForBotMessage(sent, (m) => cardJson(m).some((j) => j.includes('onboard.submit')), REPLY_TIMEOUT_MS, 'the onboarding form')).message;
  const form = JSON.parse(cardJson(formMsg)[0]);
  const submit = form.actions.find((a) => a.verb === 'onboard.submit');
  const start = new Date(Date.now() + 7 * 86400e3).toISOString().slice(0, 10);
  const values = inputValues(form);
  const licence = form.body.flatMap(function find(el) {
    if (el.id === 'licence') return [el];
    return [...(el.items ?? []), ...(el.columns ?? [])].flatMap(find);
  })[0];
  Object.assign(values, {
    givenName: 'Erik', surname: 'Example', displayName: 'Erik Example', mailNickname: nick, startDate: start,
    hasSmartphone: 'true', licence: licence?.choices?.[0]?.value ?? '',
  });
  const answer = await pg.invoke({ conversationId: 'personal', replyToId: formMsg.messageId, verb: submit.verb, data: { ...submit.data, ...values } });
  assert.match(JSON.stringify(answer), /Waiting for approval/, `submit answered ${JSON.stringify(answer).slice(0, 400)}`);
}

/** Approves, in pg as from, the approval card for nick that reaches pg after since. */
async function approveOnboarding(pg, nick, since, from) {
  const approval = await pg.waitFor(
    (f) => f.message?.from?.id === pg.botId && cardJson(f.message).some((j) => j.includes('onboard.approve') && j.includes(nick)),
    REPLY_TIMEOUT_MS,
    { since, what: 'the approval card in the approvers channel' },
  );
  const card = JSON.parse(cardJson(approval.message)[0]);
  const approve = card.actions.find((a) => a.verb === 'onboard.approve');
  const decided = await pg.invoke({ conversationId: approval.message.postConversationId ?? approval.actionConversationId, replyToId: approval.message.messageId, verb: approve.verb, data: approve.data, from });
  assert.doesNotMatch(JSON.stringify(decided), /onboard\.approve/, 'the decided card has no Approve button');
}

test('onboarding: a manager fills the form, an approver approves in the channel, the account exists', { timeout: 3 * TEST_TIMEOUT_MS }, () =>
  withDiagnostics(async () => {
    // The approvers' channel must know the bot: an @mention there is enough (in Teams,
    // adding the bot to the team does it).
    const hello = await pg.send('channel', 'help', { mention: true });
    await pg.waitForBotMessage(hello, isCardListing('/help'), REPLY_TIMEOUT_MS, 'the help card in the channel');
    const nick = `e2e${Date.now() % 100000}`;
    const since = pg.frames.length;
    await submitOnboarding(pg, nick);
    await approveOnboarding(pg, nick, since, 'Alex Approver');

    // The account exists in the simulated tenant: the helpdesk sees it with /status.
    const upn = `${nick}@contoso.com`;
    await pollUntil(
      async () => {
        const s = await pg.send('personal', `/status ${upn}`);
        const m = (await pg.waitForBotMessage(s, (x) => (x.text ?? '').includes(upn) || cardJson(x).some((j) => j.includes(upn)), REPLY_TIMEOUT_MS, 'a status answer')).message;
        return cardJson(m).some((j) => j.includes('enabled'));
      },
      { timeoutMs: REPLY_TIMEOUT_MS * 2, intervalMs: 500, what: `${upn} to exist` },
    );
  }),
);

test('checklist: delivered in the personal chat; "I\'m stuck" reaches the helpdesk channel with Issue new TAP', { timeout: 3 * TEST_TIMEOUT_MS }, () =>
  withDiagnostics(async () => {
    // The helpdesk channel (the team's General channel in the simulated company) must know the bot.
    const hello = await pg.send('general', 'help', { mention: true });
    await pg.waitForBotMessage(hello, isCardListing('/help'), REPLY_TIMEOUT_MS, 'the help card in General');
    // Hana is staff too: the playground's only personal chat is hers, so the checklist is hers.
    const sent = await pg.send('personal', '/checklist hana@contoso.com');
    const frame = await pg.waitForBotMessage(sent, (m) => cardJson(m).some((j) => j.includes('checklist.refresh')), REPLY_TIMEOUT_MS, 'the checklist card');
    const card = JSON.parse(cardJson(frame.message)[0]);
    assert.ok(card.refresh && card.refresh.action.verb === 'checklist.refresh', 'the card refreshes itself');
    // Hana's own sign-in is set up, so her steps are ticked and show no buttons; press
    // "I'm stuck" for the laptop step with her card's request id, as the button would.
    const { requestId } = card.refresh.action.data;
    const since = pg.frames.length;
    const answer = await pg.invoke({
      conversationId: 'personal', replyToId: frame.message.messageId, verb: 'checklist.stuck',
      data: { verb: 'checklist.stuck', requestId, step: 'laptop' },
    });
    assert.match(JSON.stringify(answer), /helpdesk knows/);
    const posted = await pg.waitFor((f) => f.message?.from?.id === pg.botId && cardJson(f.message).some((j) => j.includes('tap.issue')), REPLY_TIMEOUT_MS, {
      since,
      what: 'the stuck card in the helpdesk channel',
    });
    assert.notEqual(posted.actionConversationId, pg.conversationId('personal'), 'the stuck card is not in the personal chat');
  }),
);

test('personas: each config keeps the tenant, its ids and conversations, with the persona signed in', () => {
  const base = baseConfig();
  const chats = new Set();
  for (const name of Object.keys(PERSONAS)) {
    const c = personaByName(name, base);
    assert.equal(c.currentUser.email, PERSONAS[name].email);
    assert.equal(c.users.length, 5, 'the Playground wants exactly 5 other users');
    const ids = [c.currentUser, ...c.users].map((u) => u.aadObjectId).sort();
    assert.deepEqual(ids, [base.currentUser, ...base.users].map((u) => u.aadObjectId).sort(), 'the same people');
    assert.deepEqual([c.tenantId, c.bot, c.groupChat, c.team], [base.tenantId, base.bot, base.groupChat, base.team]);
    chats.add(c.personalChat.id);
  }
  assert.equal(chats.size, Object.keys(PERSONAS).length, 'a personal chat each');
  assert.equal(personaByName('hana', base).personalChat.id, base.personalChat.id, "Hana's is the repo config's");
});

/**
 * Adds tapbot to conversations of Playground p (install(), a first sign-in) and waits for
 * its first message in each, its hello: the Playground answers the install at once and
 * only then tells the bot, and tapbot stores the conversation's reference before it says
 * hello, so from then on tapbot can reach the persona there.
 */
async function installAndWait(p, ids) {
  const since = p.mark();
  await install(p.baseUrl, ids);
  await Promise.all(
    ids.map((id) =>
      p.waitFor((f) => f.action === 'createMessage' && f.message?.from?.id === p.botId && f.actionConversationId === id, REPLY_TIMEOUT_MS, {
        since,
        what: `tapbot's hello in ${id} after the install`,
      }),
    ),
  );
}

/** Starts a Playground as config's currentUser (a persona) and adds tapbot to kinds of its conversations. */
async function startAs(name, config, kinds) {
  const dir = fs.mkdtempSync(path.join(tmpDir, `${name}-`));
  const persona = await startPlayground({ botEndpoint: TAPBOT_URL, configPath: writeConfig(config, dir), tmpDir: dir });
  personas.push(persona);
  await installAndWait(persona, conversationIds(config, kinds));
  return persona;
}
const personas = []; // Playgrounds of the personas test, stopped after it

/** The hire's object id, from tapbot's log of the account it created (as Entra would show it). */
async function createdUserID(upn) {
  const line = new RegExp(`user created[^\\n]*"upn":\\s*"${upn.replace(/[.]/g, '\\.')}",\\s*"user":\\s*"([0-9a-f-]{36})"`);
  return pollUntil(() => line.exec(bot.out.text(1 << 20))?.[1], { timeoutMs: REPLY_TIMEOUT_MS, what: `the account step for ${upn} in tapbot's log` });
}

test(
  'personas: Max onboards, Alex approves in the channel, the hire signs in to the checklist and is stuck, Hana issues a pass',
  { timeout: 8 * TEST_TIMEOUT_MS, skip: TAPBOT_BIN ? false : 'needs TAPBOT_BIN (reads the new account from the bot log)' },
  () =>
    withDiagnostics(async () => {
      try {
        const base = baseConfig();
        // One Playground per person: the Playground shows only its currentUser's
        // personal chat. Hana is the suite's own; the helpdesk channel (General) is hers.
        await installAndWait(pg, conversationIds(base, ['general']));
        const max = await startAs('max', personaByName('max', base), PERSONAS.max.installs);
        const alex = await startAs('alex', personaByName('alex', base), PERSONAS.alex.installs);

        const nick = `hire${Date.now() % 100000}`;
        const upn = `${nick}@contoso.com`;
        const since = alex.mark();
        await submitOnboarding(max, nick);
        await approveOnboarding(alex, nick, since, 'Alex Approver');

        // The hire's first Teams sign-in: a Playground as the new account; installing
        // tapbot in their personal chat brings the checklist.
        const hireConfig = personaConfig(base, {
          id: `29:1${nick}`, name: 'Erik Example', userPrincipleName: upn, aadObjectId: await createdUserID(upn),
          givenName: 'Erik', surname: 'Example', email: upn,
        });
        const hire = await startAs('hire', hireConfig, ['personal']);
        const hireChat = hireConfig.personalChat.id;
        const checklist = await hire.waitFor((f) => f.message?.from?.id === hire.botId && cardJson(f.message).some((j) => j.includes('checklist.stuck')), REPLY_TIMEOUT_MS, {
          what: "the checklist with I'm stuck in the hire's chat",
        });
        assert.equal(checklist.actionConversationId, hireChat, "the checklist is in the hire's personal chat");

        // "I'm stuck" on the current step reaches the helpdesk channel in Hana's Playground.
        const stuck = findAction(JSON.parse(cardJson(checklist.message)[0]), 'checklist.stuck');
        const pgSince = pg.mark();
        const answer = await hire.invoke({ conversationId: 'personal', replyToId: checklist.message.messageId, verb: stuck.verb, data: stuck.data, title: stuck.title });
        assert.match(JSON.stringify(answer), /helpdesk knows/);
        const stuckCard = await pg.waitFor((f) => f.message?.from?.id === pg.botId && cardJson(f.message).some((j) => j.includes('tap.issue') && j.includes(upn)), REPLY_TIMEOUT_MS, {
          since: pgSince,
          what: "the stuck card in Hana's helpdesk channel",
        });
        assert.equal(stuckCard.actionConversationId, pg.conversationId('general'), 'the stuck card is in the helpdesk channel');

        // Hana presses Issue new TAP: the pass comes to her 1:1 chat, and only there.
        const issue = findAction(JSON.parse(cardJson(stuckCard.message)[0]), 'tap.issue');
        await pg.invoke({ conversationId: stuckCard.message.postConversationId ?? stuckCard.actionConversationId, replyToId: stuckCard.message.messageId, verb: issue.verb, data: issue.data, title: issue.title });
        const tap = await pg.waitFor((f) => f.message?.from?.id === pg.botId && isTapCard(f.message) && cardJson(f.message).some((j) => j.includes(upn)), REPLY_TIMEOUT_MS, {
          since: pgSince,
          what: "the new hire's pass in Hana's personal chat",
        });
        assert.equal(tap.actionConversationId, pg.conversationId('personal'), "the pass is in Hana's personal chat");
        const value = tapValue(tap.message);
        for (const p of [pg, max, alex, hire]) {
          for (const f of p.frames) {
            if (f !== tap) assert.ok(!JSON.stringify(f).includes(value), 'the pass appears nowhere else');
          }
        }
      } finally {
        await Promise.all(personas.splice(0).map((p) => p.stop()));
      }
    }),
);

// Second-person confirmation (issue #15): a bot of its own with TAPBOT_TAP_VERIFY on
// (dev mode defaults it to off) and a security channel, and a Playground each for Hana
// (the helpdesk member who asks) and Max (the established account the pass is for).
// One bot per test: its simulated tenant and database start fresh, so a pass issued in
// one test is not there in the next.
const SECURITY_CHANNEL = baseConfig().team.channels[0].id; // the team's Onboarding channel
const VERIFY_ENV = { TAPBOT_TAP_VERIFY: 'target', TAPBOT_SECURITY_CONVERSATION: SECURITY_CHANNEL };

/**
 * Runs fn({ hana, max, tapbot }) against a fresh confirming bot: Hana's Playground has
 * tapbot in her personal chat and in the security channel (the channel stands for the
 * security team's; tapbot posts there through the Playground that stored it last), Max's
 * in his personal chat, as at his first sign-in: that stored reference is how tapbot
 * reaches the account holder.
 */
async function withVerifyScene(fn) {
  const scene = { dir: fs.mkdtempSync(path.join(tmpDir, 'verify-')), playgrounds: {} };
  const started = [];
  const play = async (name, config, kinds) => {
    const dir = fs.mkdtempSync(path.join(scene.dir, `${name}-`));
    const p = await startPlayground({ botEndpoint: scene.tapbot.url, configPath: writeConfig(config, dir), tmpDir: dir, port: 0 });
    started.push(p);
    scene.playgrounds[name] = p;
    await installAndWait(p, conversationIds(config, kinds));
    return p;
  };
  return withDiagnostics(
    async () => {
      try {
        scene.tapbot = await startTapbot(scene.dir, VERIFY_ENV);
        const base = baseConfig();
        const hana = await play('hana', personaByName('hana', base), ['personal', 'channel']);
        const max = await play('max', personaByName('max', base), ['personal']);
        await fn({ hana, max, tapbot: scene.tapbot });
      } finally {
        // The bot first, as in after(): it drains its replies while the emulators listen.
        if (scene.tapbot) {
          await killGroup(scene.tapbot.child, 10000);
          scene.tapbot.out.close();
        }
        await Promise.all(started.map((p) => p.stop()));
      }
    },
    () => scene,
  );
}

const fromBot = (p) => (f) => (f.action === 'createMessage' || f.action === 'updateMessage') && f.message?.from?.id === p.botId;
const cardHas = (m, needle) => cardJson(m).some((j) => j.includes(needle));

/**
 * Hana asks for a pass for Max; resolves when Max's Playground shows the question,
 * with Hana's waiting card and Max's question frame.
 */
async function askForMax(hana, max, reason) {
  const maxSince = max.mark();
  const sent = await hana.send('personal', `/tap max@contoso.com ${reason}`);
  const waiting = await hana.waitForBotMessage(sent, (m) => cardHas(m, 'Waiting for confirmation') && cardHas(m, 'max@contoso.com'), REPLY_TIMEOUT_MS, "Hana's waiting card");
  assert.ok(cardHas(waiting.message, 'Max Manager (the account holder)'), 'the waiting card says who confirms');
  assert.ok(cardHas(waiting.message, 'tap.confirm.cancel'), 'the waiting card lets Hana cancel');
  const question = await max.waitFor(
    (f) => fromBot(max)(f) && cardHas(f.message, 'Did you just ask the helpdesk for a Temporary Access Pass?'),
    REPLY_TIMEOUT_MS,
    { since: maxSince, what: "the confirmation question in Max's Playground" },
  );
  assert.equal(question.actionConversationId, max.conversationId('personal'), "the question is in Max's personal chat");
  assert.ok(cardHas(question.message, reason), 'the question shows the reason given');
  assert.ok(!hana.frames.slice(sent.since).some((f) => fromBot(hana)(f) && isTapCard(f.message)), 'no pass before the confirmation');
  return { sent, waiting, question, card: JSON.parse(cardJson(question.message)[0]) };
}

/**
 * The bot's connector calls about message id, from a Playground's log: the post that
 * created it (the answer names it) and any update-activity (PUT …/activities/{id}: its body
 * names it, answered or not).
 */
const callsAbout = (p, id) => p.logs.filter((l) => l.from === 'User Application' && (l.messageId === id || l.request?.body?.id === id));

/**
 * Once Max has answered, tapbot replaces Hana's waiting card (update-activity: an
 * updateMessage frame with the card's messageId) with a notice that says what was decided
 * and has no buttons, so her Cancel no longer shows. Returns once her Playground has also
 * logged that call (a Playground pushes the frame, then logs the call as it answers it):
 * tapbot settles Max's question before the waiting card, so by then whatever it sent about
 * the question is in Max's frames and log too.
 */
async function waitingSettled(hana, waiting, says) {
  const id = waiting.message.messageId;
  const update = await hana.waitFor((f) => fromBot(hana)(f) && f.action === 'updateMessage' && f.message.messageId === id, REPLY_TIMEOUT_MS, {
    since: waiting.seq + 1,
    what: `tapbot's update of Hana's waiting card (messageId ${id})`,
  });
  assert.equal(update.actionConversationId, hana.conversationId('personal'), "the update is to Hana's personal chat");
  const json = cardJson(update.message).join('');
  assert.match(json, says, `the waiting card now says what was decided: ${json.slice(0, 600)}`);
  assert.ok(!json.includes('tap.confirm.cancel'), `the waiting card no longer offers Cancel: ${json.slice(0, 600)}`);
  assert.ok(!json.includes('"Action.'), `the settled card has no buttons: ${json.slice(0, 600)}`);
  const put = await pollUntil(() => callsAbout(hana, id).find((l) => l.request?.body?.id === id), {
    timeoutMs: REPLY_TIMEOUT_MS,
    what: "the update of Hana's waiting card in her Playground's log",
  });
  assert.equal(put.response?.statusCode, 200, `the Playground took the update: ${JSON.stringify(put).slice(0, 600)}`);
}

/**
 * The question Max clicked is left as the invoke's answer made it: tapbot sends no update of
 * its own to it. The Playground shows an invoke's answer without a WebSocket frame (it
 * stores the card from the invoke's HTTP answer in place of the question), so an
 * updateMessage frame for the question, or a connector call about it after the post, would
 * be tapbot's. Call it after waitingSettled.
 */
function questionLeftAsAnswered(max, question) {
  const id = question.message.messageId;
  const updates = max.frames.filter((f) => f.action === 'updateMessage' && f.message?.messageId === id);
  assert.deepEqual(updates.map((f) => JSON.stringify(f).slice(0, 600)), [], 'no update from tapbot to the question Max answered');
  const calls = callsAbout(max, id);
  assert.deepEqual(
    calls.slice(1).map((l) => JSON.stringify(l).slice(0, 600)),
    [],
    `tapbot made no connector call about the question after posting it (${calls.length} in all)`,
  );
}

/** Every frame of every Playground given, as JSON, except the ones in keep. */
function framesExcept(playgrounds, keep = []) {
  return playgrounds.flatMap((p) => p.frames.filter((f) => !keep.includes(f)).map((f) => JSON.stringify(f)));
}

test(
  'confirmation: Hana asks for a pass for Max (established), Max confirms in his Playground, the pass reaches only Hana',
  { timeout: 6 * TEST_TIMEOUT_MS, skip: TAPBOT_BIN ? false : 'needs TAPBOT_BIN (starts a bot with TAPBOT_TAP_VERIFY=target)' },
  () =>
    withVerifyScene(async ({ hana, max }) => {
      const { sent, waiting, question, card } = await askForMax(hana, max, 'ticket 42');
      const yes = findAction(card, 'tap.confirm');
      assert.ok(yes && findAction(card, 'tap.deny'), 'the question offers Yes and No');
      const answer = await max.invoke({ conversationId: 'personal', replyToId: question.message.messageId, verb: yes.verb, data: yes.data, title: yes.title });
      assert.match(JSON.stringify(answer), /Confirmed/, `Max's answer card: ${JSON.stringify(answer).slice(0, 400)}`);

      const tap = await hana.waitFor((f) => fromBot(hana)(f) && isTapCard(f.message) && cardHas(f.message, 'max@contoso.com'), REPLY_TIMEOUT_MS, {
        since: sent.since,
        what: "Max's pass in Hana's personal chat",
      });
      assert.equal(tap.actionConversationId, hana.conversationId('personal'), "the pass is in Hana's personal chat");
      const value = tapValue(tap.message);
      assert.match(value, /^\S{8,48}$/, 'a pass of the policy length');
      assert.ok(!max.frames.some((f) => fromBot(max)(f) && isTapCard(f.message)), "no TAP card in Max's Playground");
      for (const f of framesExcept([hana, max], [tap])) assert.ok(!f.includes(value), `the pass appears nowhere else: ${f.slice(0, 300)}`);
      assert.ok(!JSON.stringify(answer).includes(value), "Max's answer card has no pass");

      await waitingSettled(hana, waiting, /The pass for max@contoso\.com was confirmed/);
      questionLeftAsAnswered(max, question);
    }),
);

test(
  "confirmation: Max answers \"No, this wasn't me\": the security channel is alerted, Hana is told, no pass exists",
  { timeout: 6 * TEST_TIMEOUT_MS, skip: TAPBOT_BIN ? false : 'needs TAPBOT_BIN (starts a bot with TAPBOT_TAP_VERIFY=target)' },
  () =>
    withVerifyScene(async ({ hana, max }) => {
      const { sent, waiting, question, card } = await askForMax(hana, max, 'ticket 43');
      const no = findAction(card, 'tap.deny');
      assert.equal(no?.title, "No, this wasn't me");
      const answer = await max.invoke({ conversationId: 'personal', replyToId: question.message.messageId, verb: no.verb, data: no.data, title: no.title });
      assert.match(JSON.stringify(answer), /no pass was issued/, `Max's answer card: ${JSON.stringify(answer).slice(0, 400)}`);

      const inChannel = (f) => f.actionConversationId === SECURITY_CHANNEL || f.actionConversationId?.startsWith(`${SECURITY_CHANNEL};`) || f.message?.postConversationId?.startsWith(`${SECURITY_CHANNEL};`);
      const alert = await hana.waitFor((f) => fromBot(hana)(f) && inChannel(f) && JSON.stringify(f.message).includes('Suspected social engineering'), REPLY_TIMEOUT_MS, {
        since: sent.since,
        what: 'the alert in the security channel',
      });
      const text = JSON.stringify(alert.message);
      for (const want of ['max@contoso.com', 'ticket 43', 'No pass was issued', hana.me.aadObjectId]) {
        assert.ok(text.includes(want), `the alert names ${want}: ${text.slice(0, 600)}`);
      }

      const refusal = await hana.waitForBotMessage(sent, (m) => (m.text ?? '').includes('said no to the pass for max@contoso.com'), REPLY_TIMEOUT_MS, "the refusal in Hana's chat");
      assert.equal(refusal.actionConversationId, hana.conversationId('personal'));
      assert.match(refusal.message.text, /none was issued/);
      await waitingSettled(hana, waiting, /The pass for max@contoso\.com was denied/);
      questionLeftAsAnswered(max, question);

      const asked = await hana.send('personal', '/status max@contoso.com');
      const status = await hana.waitForBotMessage(asked, (m) => cardHas(m, 'Sign-in status'), REPLY_TIMEOUT_MS, "Max's status card");
      const facts = [];
      JSON.parse(cardJson(status.message)[0]).body.forEach(function walk(el) {
        if (el?.type === 'FactSet') facts.push(...el.facts);
        for (const k of ['items', 'columns']) (el?.[k] ?? []).forEach(walk);
      });
      assert.equal(facts.find((f) => f.title === 'Temporary Access Pass')?.value, 'none', 'Max has no pass');
      assert.ok(![hana, max].some((p) => p.frames.some((f) => fromBot(p)(f) && isTapCard(f.message))), 'no TAP card anywhere');
      assert.ok(!max.frames.some((f) => JSON.stringify(f).includes('Suspected social engineering')), "the alert is not in Max's Playground");
    }),
);

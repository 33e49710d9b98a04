// `npm run playground [-- --as hana|max|alex|nina]`: opens Microsoft's Agents Playground
// on the simulated Contoso tenant once tapbot answers, so the emulator never starts on
// its built-in tenant or talks to a bot that is not up yet. --as picks the persona (see
// personas.mjs; default hana): run one per terminal, all against the same `tapbot dev`.
// A persona's Playground adds tapbot to their personal chat (and, for hana and alex,
// to the channel their cards go to) as a first Teams sign-in does, so Nina's checklist
// arrives once the helpdesk or an onboarding has started it.
//
// Env: TAPBOT_URL (default http://127.0.0.1:3978/api/messages), TEAMSAPPTESTER_BROWSER
// (default none: print the URL instead of opening a browser).
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pollUntil } from './lib.mjs';
import { PERSONAS, conversationIds, install, personaByName, writeConfig } from './personas.mjs';

const { values: args } = parseArgs({ options: { as: { type: 'string', default: 'hana' } } });
const persona = PERSONAS[args.as];
if (!persona) {
  process.stderr.write(`unknown persona ${args.as}; one of:\n`);
  for (const [name, p] of Object.entries(PERSONAS)) process.stderr.write(`  --as ${name.padEnd(5)} ${p.email}, ${p.role}\n`);
  process.exit(2);
}
const config = personaByName(args.as);
const configDir = fs.mkdtempSync(path.join(os.tmpdir(), `tapbot-playground-${args.as}-`));
const configPath = writeConfig(config, configDir);
const url = process.env.TAPBOT_URL || 'http://127.0.0.1:3978/api/messages';
const healthz = new URL('/healthz', url).toString();

process.stderr.write(`waiting for tapbot at ${healthz} (start it with \`make run\`)…\n`);
await pollUntil(
  async () => {
    try {
      return (await fetch(healthz)).status === 200;
    } catch {
      return false;
    }
  },
  { timeoutMs: 10 * 60 * 1000, intervalMs: 500, what: `tapbot at ${healthz}` },
);
process.stderr.write(`tapbot is up; starting the Agents Playground as ${config.currentUser.name} (${persona.role})\n`);

const cli = createRequire(import.meta.url).resolve('@microsoft/m365agentsplayground/cli.js');
const child = spawn(process.execPath, [cli, '-e', url, '-c', 'msteams', '--disable-telemetry'], {
  stdio: ['inherit', 'pipe', 'inherit'],
  env: {
    ...process.env,
    TEAMSAPPTESTER_BROWSER: process.env.TEAMSAPPTESTER_BROWSER ?? 'none',
    M365_AGENTS_PLAYGROUND_CONFIG_PATH: configPath,
  },
});
// Each persona's Playground takes the next free port: read it from its output, then
// sign the persona in (install tapbot where they meet it).
let installed = false;
child.stdout.on('data', (d) => {
  process.stdout.write(d);
  const port = /Listening on (\d+)/.exec(d.toString())?.[1];
  if (port && !installed) {
    installed = true;
    signIn(`http://127.0.0.1:${port}`).catch((e) => process.stderr.write(`signing ${args.as} in failed: ${e.message}\n`));
  }
});
async function signIn(baseUrl) {
  await pollUntil(async () => (await fetch(`${baseUrl}/_debug/ping`)).ok, { timeoutMs: 30000, what: 'the Playground' });
  await install(baseUrl, conversationIds(config, persona.installs));
  process.stderr.write(`${config.currentUser.name} signed in: tapbot is in ${persona.installs.join(', ')}\n`);
}
const cleanUp = () => fs.rmSync(configDir, { recursive: true, force: true });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, sig) => {
  cleanUp();
  process.exit(code ?? (sig ? 1 : 0));
});

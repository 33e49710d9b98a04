// `npm run playground`: opens Microsoft's Agents Playground on the simulated Contoso
// tenant (../.m365agentsplayground.yml) once tapbot answers, so the emulator never
// starts on its built-in tenant or talks to a bot that is not up yet.
//
// Env: TAPBOT_URL (default http://127.0.0.1:3978/api/messages), TEAMSAPPTESTER_BROWSER
// (default none: print the URL instead of opening a browser).
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { DEFAULT_CONFIG_PATH, pollUntil } from './lib.mjs';

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
process.stderr.write('tapbot is up; starting the Agents Playground\n');

const cli = createRequire(import.meta.url).resolve('@microsoft/m365agentsplayground/cli.js');
const child = spawn(process.execPath, [cli, '-e', url, '-c', 'msteams', '--disable-telemetry'], {
  stdio: 'inherit',
  env: {
    ...process.env,
    TEAMSAPPTESTER_BROWSER: process.env.TEAMSAPPTESTER_BROWSER ?? 'none',
    M365_AGENTS_PLAYGROUND_CONFIG_PATH: process.env.M365_AGENTS_PLAYGROUND_CONFIG_PATH ?? DEFAULT_CONFIG_PATH,
  },
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, sig) => process.exit(code ?? (sig ? 1 : 0)));

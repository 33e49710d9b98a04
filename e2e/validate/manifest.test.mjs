// The Teams app package that `tapbot manifest` writes passes Microsoft's own manifest
// validator (@microsoft/app-manifest, offline), and the validator catches a broken one.
//
// The package comes from, in order: $TAPBOT_MANIFEST (an existing zip or manifest.json),
// `$TAPBOT_BIN manifest …`, or `go run ./cmd/tapbot manifest …` in the repository root.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readPackage, validateManifest } from './manifest.mjs';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const here = fileURLToPath(new URL('.', import.meta.url));
const APP_ID = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';

let tmp;
let pkgPath;
let generated = false;

before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'tapbot-manifest-'));
  if (process.env.TAPBOT_MANIFEST) {
    pkgPath = resolve(process.env.TAPBOT_MANIFEST);
    return;
  }
  pkgPath = join(tmp, 'tapbot-teams-app.zip');
  const args = ['manifest', '-app-id', APP_ID, '-o', pkgPath, '-domain', 'tapbot.contoso.com'];
  const [cmd, argv] = process.env.TAPBOT_BIN
    ? [resolve(process.env.TAPBOT_BIN), args]
    : ['go', ['run', './cmd/tapbot', ...args]];
  // Without the deployment's variables: the app id must come from -app-id.
  const env = { ...process.env };
  delete env.TAPBOT_APP_ID;
  delete env.MicrosoftAppId;
  execFileSync(cmd, argv, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'inherit'] });
  generated = true;
});

after(() => rmSync(tmp, { recursive: true, force: true }));

function node(...args) {
  try {
    const stdout = execFileSync(process.execPath, [join(here, 'manifest.mjs'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    return { code: 0, out: stdout.toString() };
  } catch (err) {
    return { code: err.status, out: `${err.stdout}${err.stderr}` };
  }
}

test('the package passes Microsoft\'s schema validation', async () => {
  const { manifest, files } = readPackage(pkgPath);
  assert.deepEqual(await validateManifest(manifest, files), []);
  const [major, minor] = manifest.manifestVersion.split('.').map(Number);
  assert.ok(major > 1 || (major === 1 && minor >= 17), `manifestVersion ${manifest.manifestVersion} < 1.17`);
  if (generated) {
    assert.equal(manifest.id, APP_ID);
    assert.equal(manifest.bots[0].botId, APP_ID);
    assert.deepEqual(manifest.validDomains, ['tapbot.contoso.com']);
    assert.deepEqual([...files.keys()], ['manifest.json', 'color.png', 'outline.png']);
  }
  // The command line says so too.
  const r = node(pkgPath);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /valid Teams app manifest/);
});

test('an invalid manifest is caught', async () => {
  const { manifest, files } = readPackage(pkgPath);
  const bad = structuredClone(manifest);
  bad.name.short = 'tapbot — Temporary Access Passes'; // 32 characters, at most 30
  bad.bots[0].botId = `28:${APP_ID}`; // the bot's channel account id, not its app id
  bad.bots[0].commandLists[0].scopes = ['channel'];
  bad.accentColor = 'blue';
  delete bad.developer.privacyUrl;
  const errors = await validateManifest(bad, files);
  for (const want of [/^\/name\/short .*30/, /^\/bots\/0\/botId .*pattern/, /^\/bots\/0\/commandLists\/0\/scopes\/0 /,
    /^\/accentColor /, /^\/developer .*privacyUrl/]) {
    assert.ok(errors.some((e) => want.test(e)), `no error matching ${want} in:\n${errors.join('\n')}`);
  }

  const badPath = join(tmp, 'bad-manifest.json');
  writeFileSync(badPath, JSON.stringify(bad));
  const r = node(badPath);
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /\/name\/short/);
  assert.match(r.out, /\/bots\/0\/botId/);
});

test('icons are checked against the package', async () => {
  const { manifest, files } = readPackage(pkgPath);
  if (!files) return; // a bare manifest.json has no icons to check
  const swapped = new Map(files);
  swapped.set(manifest.icons.outline, files.get(manifest.icons.color));
  assert.deepEqual(await validateManifest(manifest, swapped), [`icons.outline: ${manifest.icons.outline} is 192×192, Teams wants 32×32`]);
  const missing = new Map(files);
  missing.delete(manifest.icons.color);
  assert.deepEqual(await validateManifest(manifest, missing), [`icons.color: ${manifest.icons.color} is not in the package`]);
});

test('schemas are never fetched: an unbundled schema is refused', async () => {
  const { manifest } = readPackage(pkgPath);
  const m = structuredClone(manifest);
  m.$schema = 'https://example.com/MicrosoftTeams.schema.json';
  const errors = await validateManifest(m);
  assert.equal(errors.length, 1);
  assert.match(errors[0], /not a Teams schema bundled/);
  // v1.18 was never published, so the package does not bundle it.
  m.$schema = 'https://developer.microsoft.com/json-schemas/teams/v1.18/MicrosoftTeams.schema.json';
  assert.match((await validateManifest(m))[0], /not a Teams schema bundled/);
});

test('the command line reports usage and unreadable input', () => {
  assert.equal(node().code, 2);
  const r = node(join(tmp, 'nope.zip'));
  assert.equal(r.code, 1);
  assert.match(r.out, /ENOENT/);
});

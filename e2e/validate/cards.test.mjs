// Every card tapbot sends (written by `go test ./cards -run TestWriteSamples` with
// CARDS_OUT set) parses and renders in Microsoft's Adaptive Cards renderer at schema 1.5,
// and the check fails on cards Teams could not show.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { checkCard } from './cards.mjs';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

let dir;
const cards = new Map(); // name → parsed JSON

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'tapbot-cards-'));
  execFileSync('go', ['test', './cards', '-run', '^TestWriteSamples$', '-count=1'], {
    cwd: repoRoot,
    env: { ...process.env, CARDS_OUT: dir },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    cards.set(f.slice(0, -'.json'.length), JSON.parse(readFileSync(join(dir, f), 'utf8')));
  }
});

after(() => rmSync(dir, { recursive: true, force: true }));

describe('tapbot\'s cards', () => {
  test('every kind of card was written', () => {
    for (const name of ['help-personal', 'help-groupchat', 'help-channel', 'tap', 'tap-redacted', 'confirm-replace',
      'notice', 'status', 'audit', 'audit-empty', 'confirm-target', 'confirm-manager', 'confirm-helpdesk', 'confirm-waiting']) {
      assert.ok(cards.has(name), `${name}.json missing; got ${[...cards.keys()].join(', ')}`);
    }
  });

  test('each parses at schema 1.5 without events and renders', () => {
    assert.ok(cards.size > 0);
    for (const [name, json] of cards) {
      const { errors, text } = checkCard(json);
      assert.deepEqual(errors, [], `${name}.json`);
      assert.ok(text.trim().length > 0, `${name}.json rendered no text`);
    }
  });

  test('the pass renders exactly as issued', () => {
    const json = cards.get('tap');
    const run = json.body.flatMap((e) => e.inlines ?? []).find((r) => r.fontType === 'Monospace');
    assert.ok(run, 'no monospace run in tap.json');
    assert.match(run.text, /\+/);
    assert.match(run.text, /!/);
    const { text } = checkCard(json);
    assert.ok(text.includes(run.text), `rendered text lacks ${run.text}:\n${text}`);
    assert.ok(text.includes('Revoke'), 'no Revoke button');
  });
});

describe('the check itself', () => {
  const ok = () => structuredClone(cards.get('notice'));

  test('a sample card passes', () => {
    assert.deepEqual(checkCard(ok()).errors, []);
  });

  const broken = [
    ['an unknown element type', (c) => c.body.push({ type: 'Foo', text: 'x' }), /unknown type "Foo"/, /UnknownElementType/],
    ['an unknown action type', (c) => { c.actions = [{ type: 'Action.Foo', title: 'x' }]; }, /unknown type "Action.Foo"/, /UnknownActionType/],
    ['version 1.6', (c) => { c.version = '1.6'; }, /version 1\.6/, /UnsupportedCardVersion/],
    ['an element from 1.6', (c) => c.body.push({ type: 'Carousel', pages: [] }), /Carousel needs Adaptive Cards 1\.6/, /UnknownElementType/],
    ['a nested unknown element', (c) => c.body.push({ type: 'Container', items: [{ type: 'Foo' }] }), /\$\.body\[2\]\.items\[0\]: unknown type "Foo"/, /UnknownElementType/],
    ['a property from 1.6', (c) => c.body.push({ type: 'Image', url: 'https://contoso.com/a.png', forceLoad: true }), /UnsupportedProperty.*forceLoad/],
    ['an invalid property value', (c) => { c.body[0].size = 'Huge'; }, /InvalidPropertyValue/, /Huge/],
    ['not a card', (c) => { c.type = 'Message'; }, /type "Message"/, /MissingCardType/],
    ['a malformed date function', (c) => { c.body[0].text = 'until {{DATE(tomorrow)}}'; }, /was not formatted/, /DATE/],
  ];
  for (const [what, mutate, ...want] of broken) {
    test(`fails on ${what}`, () => {
      const card = ok();
      mutate(card);
      const { errors } = checkCard(card);
      for (const w of want) assert.ok(errors.some((e) => w.test(e)), `no error matching ${w} in:\n${errors.join('\n')}`);
    });
  }
});

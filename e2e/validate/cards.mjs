#!/usr/bin/env node
// Checks Adaptive Card JSON with the official renderer (npm `adaptivecards`, pinned) in
// a jsdom DOM: it must parse without a single validation event at schema 1.5 (the newest
// Teams renders), use no element, action or property newer than 1.5, and render to
// non-empty HTML.
//
//   node validate/cards.mjs card.json …      # exit 0: all fine; 1: problems; 2: usage
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { JSDOM } from 'jsdom';

/** The newest Adaptive Card schema Teams renders. */
export const TEAMS_MAX_VERSION = '1.5';

// The renderer needs a browser DOM. jsdom provides one; its globals go on globalThis
// before the library is loaded.
const dom = new JSDOM('<!doctype html><html><body></body></html>', { pretendToBeVisual: true });
globalThis.window ??= dom.window;
for (const name of Object.getOwnPropertyNames(dom.window)) {
  if (!(name in globalThis)) {
    try {
      globalThis[name] = dom.window[name];
    } catch {
      // a few window properties cannot be read outside a browsing context
    }
  }
}
// jsdom does not implement innerText (it needs layout), and the renderer writes all
// text through it; without this the rendered card would be empty. textContent is
// what innerText amounts to for the renderer's text-only nodes.
if (!Object.getOwnPropertyDescriptor(dom.window.HTMLElement.prototype, 'innerText')) {
  Object.defineProperty(dom.window.HTMLElement.prototype, 'innerText', {
    get() { return this.textContent; },
    set(v) { this.textContent = v; },
    configurable: true,
  });
}

// The package's lib/ build is ESM with extension-less imports, which Node cannot load;
// dist/ is the same library bundled as UMD.
const require = createRequire(import.meta.url);
const AC = require('adaptivecards/dist/adaptivecards.js');

// Teams applies its own markdown subset; here TextBlocks render as plain text (and the
// renderer stops warning that no markdown processor is configured).
AC.AdaptiveCard.onProcessMarkdown = (_text, result) => {
  result.didProcess = false;
};

const target = AC.Versions.v1_5;
if (target.toString() !== TEAMS_MAX_VERSION) throw new Error('adaptivecards: Versions.v1_5 is not 1.5');

// Typed objects the renderer parses itself rather than through its registries.
const subTypes = { Column: AC.Versions.v1_0, TableRow: AC.Versions.v1_5, TableCell: AC.Versions.v1_5, CarouselPage: AC.Versions.v1_6 };
// Keys whose values are the host's or the bot's, not card schema.
const opaqueKeys = new Set(['data', 'msteams', 'metadata', '$schema']);

/** Every object with a `type` below the card root, with its JSON path. */
function typedObjects(node, path, out) {
  if (Array.isArray(node)) {
    node.forEach((v, i) => typedObjects(v, `${path}[${i}]`, out));
  } else if (node && typeof node === 'object') {
    if (path !== '$' && typeof node.type === 'string') out.push({ path, type: node.type });
    for (const [k, v] of Object.entries(node)) {
      if (!opaqueKeys.has(k)) typedObjects(v, `${path}.${k}`, out);
    }
  }
  return out;
}

/** Texts the card shows literally (TextRun never goes through markdown or functions). */
function literalTexts(node, out = []) {
  if (Array.isArray(node)) node.forEach((v) => literalTexts(v, out));
  else if (node && typeof node === 'object') {
    if (node.type === 'TextRun' && typeof node.text === 'string' && !node.text.includes('{{')) out.push(node.text);
    if (/^Action\./.test(node.type) && typeof node.title === 'string') out.push(node.title);
    for (const [k, v] of Object.entries(node)) if (!opaqueKeys.has(k)) literalTexts(v, out);
  }
  return out;
}

function versionOf(s) {
  const m = /^(\d+)\.(\d+)$/.exec(String(s));
  return m ? new AC.Version(Number(m[1]), Number(m[2])) : undefined;
}

/**
 * Checks one card (parsed JSON). Returns { errors, text, html }: errors is empty when
 * the card is fine; text is what the renderer shows.
 */
export function checkCard(json) {
  const errors = [];
  if (!json || typeof json !== 'object' || Array.isArray(json)) return { errors: ['not a JSON object'], text: '', html: '' };
  if (json.type !== 'AdaptiveCard') errors.push(`type ${JSON.stringify(json.type)}, want "AdaptiveCard"`);
  const version = versionOf(json.version);
  if (!version) errors.push(`version ${JSON.stringify(json.version)}: want MAJOR.MINOR`);
  else if (version.compareTo(target) > 0) errors.push(`version ${json.version}: Teams renders up to ${TEAMS_MAX_VERSION}`);

  // Each type's version, as the library's registries declare it.
  for (const { path, type } of typedObjects(json, '$', [])) {
    const reg = AC.GlobalRegistry.elements.findByName(type) ?? AC.GlobalRegistry.actions.findByName(type);
    const since = reg?.schemaVersion ?? subTypes[type];
    if (!since) errors.push(`${path}: unknown type "${type}"`);
    else if (since.compareTo(target) > 0) errors.push(`${path}: ${type} needs Adaptive Cards ${since}, Teams renders up to ${TEAMS_MAX_VERSION}`);
  }

  // Parse as a 1.5 host would: newer types come out unknown, newer properties and
  // enum values unsupported. Any event at all is a problem.
  const card = new AC.AdaptiveCard();
  card.maxVersion = target;
  const context = new AC.SerializationContext(target);
  card.parse(json, context);
  for (let i = 0; i < context.eventCount; i++) {
    const e = context.getEventAt(i);
    errors.push(`parse: ${AC.ValidationEvent[e.event]}: ${e.message}`);
  }
  for (const e of card.validateProperties().validationEvents) {
    errors.push(`validate: ${AC.ValidationEvent[e.event]}: ${e.message}`);
  }

  let html = '';
  let text = '';
  try {
    const el = card.render();
    if (!el) errors.push('render: produced nothing');
    else {
      html = el.outerHTML;
      text = el.textContent;
    }
  } catch (err) {
    errors.push(`render: ${err.stack ?? err}`);
  }
  if (html && !text.trim()) errors.push('render: no text');
  if (/\{\{(DATE|TIME)\(/.test(text)) errors.push('render: a {{DATE()}} or {{TIME()}} function was not formatted (bad syntax?)');
  for (const t of literalTexts(json)) {
    if (html && !text.includes(t)) errors.push(`render: ${JSON.stringify(t)} is not shown verbatim`);
  }
  return { errors, text, html };
}

/** Reads and checks a card file. */
export function checkCardFile(path) {
  let json;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    return { errors: [err.message], text: '', html: '' };
  }
  return checkCard(json);
}

function main(argv) {
  if (argv.length === 0 || argv.some((a) => a.startsWith('-'))) {
    console.error('usage: node validate/cards.mjs card.json …');
    return 2;
  }
  let bad = 0;
  for (const path of argv) {
    const { errors } = checkCardFile(path);
    if (errors.length === 0) {
      console.log(`${path}: ok`);
      continue;
    }
    bad++;
    console.error(`${path}:`);
    for (const e of errors) console.error(`  - ${e}`);
  }
  return bad > 0 ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = main(process.argv.slice(2));
}

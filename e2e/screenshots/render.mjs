#!/usr/bin/env node
// Renders tapbot's main Adaptive Cards to PNG (docs/cards/<name>.png) with Microsoft's
// own renderer (npm `adaptivecards`, pinned) in headless Debian Chromium driven by npm
// `playwright-core` (pinned). The cards come from `go test ./cards -run TestWriteSamples`
// with CARDS_OUT set, exactly as validate/cards.test.mjs produces them.
//
//   cd e2e && npm run screenshots            # needs /usr/bin/chromium (apt-get install chromium)
//   node screenshots/render.mjs [name …]     # only these cards
//
// Environment: CHROMIUM (browser binary, default /usr/bin/chromium), CARDS_PNG_OUT
// (output directory, default <repo>/docs/cards), CARDS_JSON_DIR (use the sample JSONs
// already in this directory instead of running go test).
//
// Not part of `npm test` / `npm run validate`: CI has no browser.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const outDir = process.env.CARDS_PNG_OUT || join(repoRoot, 'docs', 'cards');
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const require = createRequire(import.meta.url);
const acScript = require.resolve('adaptivecards/dist/adaptivecards.js');

/** The cards shown in the docs, in order. Missing samples are skipped with a note. */
export const CARDS = ['help-personal', 'tap', 'tap-redacted', 'confirm-replace', 'status', 'audit',
  'onboard-form-errors', 'onboard-summary'];

const WIDTH = 480; // px, the card's width in the image
const OVERALL_TIMEOUT_MS = 120_000;
const STEP_TIMEOUT_MS = 15_000;

// Teams-like light host config, kept simple: Segoe-ish system font stack, 12 px base,
// Teams' neutral greys and brand purple.
const FONT = "'Segoe UI', 'Segoe UI Web (West European)', -apple-system, BlinkMacSystemFont, Roboto, 'Helvetica Neue', 'Liberation Sans', 'DejaVu Sans', sans-serif";
const MONO = "Consolas, 'Cascadia Mono', Menlo, 'Liberation Mono', 'DejaVu Sans Mono', monospace";
const color = (normal, subtle) => ({ default: normal, subtle });
const foregroundColors = {
  default: color('#242424', '#616161'),
  dark: color('#242424', '#616161'),
  light: color('#ffffff', '#f5f5f5'),
  accent: color('#5b5fc7', '#7f85f5'),
  good: color('#0e700e', '#107c10'),
  warning: color('#835b00', '#8a6a00'),
  attention: color('#c4314b', '#d13438'),
};
export const HOST_CONFIG = {
  supportsInteractivity: true,
  fontTypes: {
    default: {
      fontFamily: FONT,
      fontSizes: { small: 11, default: 12, medium: 14, large: 18, extraLarge: 22 },
      fontWeights: { lighter: 300, default: 400, bolder: 600 },
    },
    monospace: {
      fontFamily: MONO,
      fontSizes: { small: 11, default: 12, medium: 14, large: 18, extraLarge: 22 },
      fontWeights: { lighter: 300, default: 400, bolder: 600 },
    },
  },
  spacing: { small: 4, default: 8, medium: 16, large: 20, extraLarge: 24, padding: 16 },
  separator: { lineThickness: 1, lineColor: '#e0e0e0' },
  imageSizes: { small: 32, medium: 52, large: 100 },
  containerStyles: {
    default: { backgroundColor: '#ffffff', foregroundColors },
    emphasis: { backgroundColor: '#f5f5f5', foregroundColors },
    accent: { backgroundColor: '#e8ebfa', foregroundColors },
    good: { backgroundColor: '#dff6dd', foregroundColors },
    attention: { backgroundColor: '#fdf3f4', foregroundColors },
    warning: { backgroundColor: '#fff9f5', foregroundColors },
  },
  actions: {
    maxActions: 6,
    spacing: 'default',
    buttonSpacing: 8,
    showCard: { actionMode: 'inline', inlineTopMargin: 8 },
    actionsOrientation: 'horizontal',
    actionAlignment: 'left',
  },
  inputs: { label: { requiredInputs: { suffix: ' *', suffixColor: 'attention' } } },
  factSet: {
    title: { color: 'default', size: 'default', isSubtle: false, weight: 'bolder', wrap: true, maxWidth: 150 },
    value: { color: 'default', size: 'default', isSubtle: false, weight: 'default', wrap: true },
    spacing: 12,
  },
};

// Minimal Teams-ish styling for what the renderer leaves to the host (buttons, inputs).
const PAGE_CSS = `
  *, *::before, *::after { animation: none !important; transition: none !important; caret-color: transparent !important; }
  html, body { margin: 0; padding: 0; background: #ffffff; }
  body { font-family: ${FONT}; font-size: 12px; color: #242424; -webkit-font-smoothing: antialiased; }
  #host { width: ${WIDTH}px; padding: 0; background: #ffffff; }
  #host .ac-adaptiveCard { width: ${WIDTH}px; box-sizing: border-box; border: 1px solid #e0e0e0; border-radius: 4px; }
  .ac-pushButton {
    font-family: ${FONT}; font-size: 12px; font-weight: 600; color: #242424; background: #ffffff;
    border: 1px solid #d1d1d1; border-radius: 4px; padding: 5px 12px; min-height: 28px;
    overflow: hidden; text-overflow: ellipsis; white-space: nowrap; cursor: default;
  }
  .ac-pushButton.style-positive { background: #5b5fc7; border-color: #5b5fc7; color: #ffffff; }
  .ac-pushButton.style-destructive { color: #c4314b; border-color: #c4314b; }
  .ac-input, .ac-input input, .ac-input textarea, .ac-input select, input.ac-input, select.ac-input, textarea.ac-input {
    font-family: ${FONT}; font-size: 12px; color: #242424;
  }
  .ac-textInput, .ac-dateInput, .ac-multichoiceInput.ac-choiceSetInput-compact, select.ac-input {
    box-sizing: border-box; width: 100%; min-height: 28px; padding: 4px 8px; background: #ffffff;
    border: 1px solid #d1d1d1; border-bottom-color: #616161; border-radius: 4px;
  }
  textarea.ac-textInput { min-height: 56px; resize: none; }
  .ac-textInput::placeholder { color: #707070; }
  label, .ac-input label { font-family: ${FONT}; }
  .ac-toggleInput input, .ac-choiceSetInput-expanded input { accent-color: #5b5fc7; }
`;

const PAGE_HTML = `<!doctype html><html lang="en"><head><meta charset="utf-8">
<style>${PAGE_CSS}</style></head><body><div id="host"></div></body></html>`;

const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/;

/** Whether a request may leave the page: only data:/about:/blob: and loopback URLs. */
function allowed(url) {
  let u;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (['data:', 'about:', 'blob:'].includes(u.protocol)) return true;
  return ['http:', 'https:', 'ws:', 'wss:'].includes(u.protocol) && LOOPBACK.test(u.hostname);
}

/** Writes the sample cards into a new temp dir and returns it. */
function writeSamples() {
  const dir = mkdtempSync(join(tmpdir(), 'tapbot-cards-png-'));
  try {
    execFileSync('go', ['test', './cards', '-run', '^TestWriteSamples$', '-count=1'], {
      cwd: repoRoot,
      env: { ...process.env, CARDS_OUT: dir },
      stdio: ['ignore', 'inherit', 'inherit'],
      timeout: 300_000,
    });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`go test ./cards -run TestWriteSamples failed (${err.status ?? err.signal ?? err.code}); no image written`);
  }
  return dir;
}

/** In the page: renders one card into #host; returns problems found (empty when fine). */
function renderInPage({ json, hostConfig }) {
  const AC = globalThis.AdaptiveCards;
  if (!AC) return ['adaptivecards.js did not load'];
  // As in validate/cards.mjs: TextBlocks render as plain text (no markdown processor).
  AC.AdaptiveCard.onProcessMarkdown = (_text, result) => {
    result.didProcess = false;
  };
  const host = document.getElementById('host');
  host.replaceChildren();
  const card = new AC.AdaptiveCard();
  card.hostConfig = new AC.HostConfig(hostConfig);
  card.maxVersion = AC.Versions.v1_5;
  const context = new AC.SerializationContext(AC.Versions.v1_5);
  card.parse(json, context);
  const problems = [];
  for (let i = 0; i < context.eventCount; i++) problems.push(`parse: ${context.getEventAt(i).message}`);
  const el = card.render();
  if (!el) return [...problems, 'render produced nothing'];
  host.appendChild(el);
  const text = el.innerText;
  if (/\{\{(DATE|TIME)\(/.test(text)) problems.push('a {{DATE()}}/{{TIME()}} function was not formatted');
  // TextRuns (the TAP among them) must show exactly as sent.
  const runs = [];
  const walk = (n) => {
    if (Array.isArray(n)) n.forEach(walk);
    else if (n && typeof n === 'object') {
      if (n.type === 'TextRun' && typeof n.text === 'string' && !n.text.includes('{{')) runs.push(n.text);
      for (const [k, v] of Object.entries(n)) if (k !== 'data' && k !== 'msteams') walk(v);
    }
  };
  walk(json);
  // (innerText: the renderer turns "\n" into <br>; compare with whitespace collapsed.)
  const flat = (t) => t.replace(/\s+/g, ' ').trim();
  const shown = flat(el.innerText);
  for (const r of runs) if (!shown.includes(flat(r))) problems.push(`${JSON.stringify(r)} is not shown verbatim`);
  return problems;
}

async function main(argv) {
  const wanted = argv.length > 0 ? argv : CARDS;
  if (!existsSync(executablePath)) {
    console.error(`no browser at ${executablePath}: apt-get install chromium (or set CHROMIUM)`);
    return 2;
  }
  let samples;
  try {
    samples = process.env.CARDS_JSON_DIR || writeSamples();
  } catch (err) {
    console.error(err.message);
    return 1;
  }
  const userDataDir = mkdtempSync(join(tmpdir(), 'tapbot-chromium-'));
  let context;
  const written = [];
  let bad = 0;
  const deadline = setTimeout(() => {
    console.error(`screenshots: gave up after ${OVERALL_TIMEOUT_MS / 1000} s`);
    context?.close().catch(() => {});
    process.exit(1);
  }, OVERALL_TIMEOUT_MS);
  deadline.unref();
  try {
    mkdirSync(outDir, { recursive: true });
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath,
      headless: true,
      timeout: 60_000,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
        '--font-render-hinting=none', '--hide-scrollbars', '--lang=en-US'],
      viewport: { width: WIDTH + 40, height: 2400 },
      deviceScaleFactor: 1,
      locale: 'en-US',
      timezoneId: 'UTC',
      colorScheme: 'light',
      reducedMotion: 'reduce',
      serviceWorkers: 'block',
      offline: false,
    });
    context.setDefaultTimeout(STEP_TIMEOUT_MS);
    await context.route('**/*', (route) => (allowed(route.request().url()) ? route.continue() : route.abort('blockedbyclient')));
    const page = context.pages()[0] ?? (await context.newPage());
    await page.setContent(PAGE_HTML, { waitUntil: 'load' });
    await page.addScriptTag({ path: acScript });

    for (const name of wanted) {
      const file = join(samples, `${name}.json`);
      if (!existsSync(file)) {
        console.warn(`${name}: no such sample card, skipped`);
        continue;
      }
      const json = JSON.parse(readFileSync(file, 'utf8'));
      const problems = await page.evaluate(renderInPage, { json, hostConfig: HOST_CONFIG });
      await page.evaluate(() => document.fonts.ready);
      const out = join(outDir, `${name}.png`);
      await page.locator('#host > .ac-adaptiveCard').screenshot({ path: out, animations: 'disabled', caret: 'hide', scale: 'css' });
      for (const p of problems) console.error(`${name}: ${p}`);
      if (problems.length > 0) bad++;
      written.push(out);
      console.log(`${relative(process.cwd(), out)}${problems.length ? ' (with problems)' : ''}`);
    }
  } finally {
    clearTimeout(deadline);
    await context?.close().catch(() => {});
    rmSync(userDataDir, { recursive: true, force: true });
    if (!process.env.CARDS_JSON_DIR) rmSync(samples, { recursive: true, force: true });
  }
  if (written.length === 0) {
    console.error('no card rendered');
    return 1;
  }
  return bad > 0 ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}

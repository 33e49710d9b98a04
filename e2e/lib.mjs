// Small client for the Microsoft 365 Agents Playground (the Teams emulator,
// npm @microsoft/m365agentsplayground) driven through the same page API its
// browser UI uses. No browser, no dependencies beyond the playground itself.
//
// See README.md in this directory for the API shapes this relies on.

import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const E2E_DIR = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(E2E_DIR, '..');
export const DEFAULT_CONFIG_PATH = path.join(REPO_ROOT, '.m365agentsplayground.yml');
export const ADAPTIVE_CARD = 'application/vnd.microsoft.card.adaptive';

const require = createRequire(import.meta.url);

/**
 * Polls fn() every intervalMs until it returns something truthy (resolved with it) or the deadline
 * passes (throws). Errors thrown by fn count as "not yet", unless they carry `fatal: true`.
 */
export async function pollUntil(fn, { timeoutMs, intervalMs = 100, what = 'condition' }) {
  const deadline = Date.now() + timeoutMs;
  let lastErr;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      if (e && e.fatal) throw e; // give up at once (e.g. the process we wait for has exited)
      lastErr = e;
    }
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? `: ${lastErr.message}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Keeps the last `max` bytes of a child's output for diagnostics, and tees it to a file. */
export class OutputTail {
  constructor(file, max = 64 * 1024) {
    this.file = file;
    this.max = max;
    this.buf = '';
    this.fd = file ? fs.openSync(file, 'a') : null;
    this.listeners = new Set();
  }
  push(chunk) {
    const s = chunk.toString();
    if (this.fd !== null) fs.writeSync(this.fd, s);
    this.buf = (this.buf + s).slice(-this.max);
    for (const l of this.listeners) l(this.buf);
  }
  text(maxChars = 8000) {
    return this.buf.slice(-maxChars);
  }
  close() {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}

/** Environment for local children: everything here talks to 127.0.0.1, so never through a proxy. */
export function localEnv(extra = {}) {
  const env = { ...process.env, ...extra };
  for (const k of ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy', 'ALL_PROXY', 'all_proxy']) delete env[k];
  env.NO_PROXY = env.no_proxy = '127.0.0.1,localhost,::1';
  return env;
}

/** Kills a detached child's whole process group (SIGTERM, then SIGKILL after graceMs). */
export async function killGroup(child, graceMs = 3000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  const signal = (sig) => {
    try {
      process.kill(-child.pid, sig);
    } catch {
      try {
        child.kill(sig);
      } catch {
        /* already gone */
      }
    }
  };
  // Resolves 'timeout' after ms unless the child exits first; never leaves a timer behind
  // (a pending timer would keep the test process alive).
  const exitedWithin = (ms) => {
    let t;
    return Promise.race([exited, new Promise((r) => (t = setTimeout(r, ms, 'timeout')))]).finally(() => clearTimeout(t));
  };
  signal('SIGTERM');
  if ((await exitedWithin(graceMs)) === 'timeout') {
    signal('SIGKILL');
    await exitedWithin(graceMs);
  }
}

// Children still alive when this process exits (e.g. a crash) are killed too.
const liveChildren = new Set();
process.once('exit', () => {
  for (const c of liveChildren) {
    try {
      process.kill(-c.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
});
/** Spawns a command in its own process group, tracked for cleanup. */
export function spawnGroup(cmd, args, opts) {
  const child = spawn(cmd, args, { ...opts, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
  return child;
}

// ---------------------------------------------------------------------------
// WebSocket: Node >= 22 (or 20 with --experimental-websocket) has a global
// WebSocket; plain Node 20 does not, so fall back to a minimal RFC 6455 client
// (text frames, fragmentation, ping/pong, close) that is enough for the
// playground's local JSON stream.

function openWebSocket(url, onText) {
  if (typeof globalThis.WebSocket === 'function' && process.env.E2E_WS_IMPL !== 'builtin') {
    return new Promise((resolve, reject) => {
      const ws = new globalThis.WebSocket(url);
      let opened = false;
      const closed = new Promise((r) => ws.addEventListener('close', () => r()));
      ws.addEventListener('open', () => {
        opened = true;
        resolve({ close: () => ws.close(), closed, impl: 'global' });
      });
      ws.addEventListener('error', (e) => {
        if (!opened) reject(new Error(`websocket ${url}: ${e.message || 'connection failed'}`));
      });
      ws.addEventListener('message', (e) => onText(String(e.data)));
    });
  }
  return openMiniWebSocket(url, onText);
}

function encodeFrame(opcode, payload = Buffer.alloc(0)) {
  // Client-to-server frames must be masked.
  const mask = crypto.randomBytes(4);
  const len = payload.length;
  const head = len < 126 ? Buffer.alloc(2) : len < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
  head[0] = 0x80 | opcode;
  if (len < 126) head[1] = 0x80 | len;
  else if (len < 65536) {
    head[1] = 0x80 | 126;
    head.writeUInt16BE(len, 2);
  } else {
    head[1] = 0x80 | 127;
    head.writeBigUInt64BE(BigInt(len), 2);
  }
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i] ^= mask[i & 3];
  return Buffer.concat([head, mask, body]);
}

function openMiniWebSocket(url, onText) {
  const u = new URL(url);
  const key = crypto.randomBytes(16).toString('base64');
  const expectAccept = crypto.createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: u.hostname,
      port: u.port,
      path: u.pathname + u.search,
      headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Key': key, 'Sec-WebSocket-Version': '13' },
    });
    req.once('error', (e) => reject(new Error(`websocket ${url}: ${e.message}`)));
    req.once('response', (res) => {
      res.resume();
      reject(new Error(`websocket ${url}: HTTP ${res.statusCode} instead of an upgrade`));
    });
    req.once('upgrade', (res, socket, head) => {
      if (res.headers['sec-websocket-accept'] !== expectAccept) {
        socket.destroy();
        reject(new Error(`websocket ${url}: bad Sec-WebSocket-Accept`));
        return;
      }
      socket.setNoDelay(true);
      let buf = Buffer.alloc(0);
      let fragments = [];
      let fragOpcode = 0;
      let closing = false;
      const closed = new Promise((r) => socket.once('close', r));
      socket.on('error', () => {});
      const parse = () => {
        for (;;) {
          if (buf.length < 2) return;
          const fin = (buf[0] & 0x80) !== 0;
          const opcode = buf[0] & 0x0f;
          const masked = (buf[1] & 0x80) !== 0;
          let len = buf[1] & 0x7f;
          let off = 2;
          if (len === 126) {
            if (buf.length < 4) return;
            len = buf.readUInt16BE(2);
            off = 4;
          } else if (len === 127) {
            if (buf.length < 10) return;
            len = Number(buf.readBigUInt64BE(2));
            off = 10;
          }
          const maskKey = masked ? buf.subarray(off, off + 4) : null;
          if (masked) off += 4;
          if (buf.length < off + len) return;
          let payload = Buffer.from(buf.subarray(off, off + len));
          buf = buf.subarray(off + len);
          if (maskKey) for (let i = 0; i < payload.length; i++) payload[i] ^= maskKey[i & 3];
          if (opcode === 0x8) {
            if (!closing) {
              closing = true;
              socket.end(encodeFrame(0x8, payload.subarray(0, 2)));
            }
            return;
          }
          if (opcode === 0x9) {
            socket.write(encodeFrame(0xa, payload));
            continue;
          }
          if (opcode === 0xa) continue;
          if (opcode === 0x1 || opcode === 0x2) {
            fragments = [payload];
            fragOpcode = opcode;
          } else if (opcode === 0x0) {
            fragments.push(payload);
          } else {
            continue; // unknown opcode: ignore
          }
          if (fin) {
            const data = Buffer.concat(fragments);
            fragments = [];
            if (fragOpcode === 0x1) onText(data.toString('utf8'));
          }
        }
      };
      socket.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        parse();
      });
      if (head && head.length) {
        buf = Buffer.concat([buf, head]);
        parse();
      }
      resolve({
        impl: 'builtin',
        closed,
        close: () => {
          if (closing) return;
          closing = true;
          const code = Buffer.alloc(2);
          code.writeUInt16BE(1000);
          socket.write(encodeFrame(0x8, code));
          setTimeout(() => socket.destroy(), 1000).unref();
        },
      });
    });
    req.end();
  });
}

// ---------------------------------------------------------------------------

/** A bot-sent message as seen by the playground UI (a WebSocket frame). */
export function cardJson(frameOrMessage) {
  const m = frameOrMessage.message ?? frameOrMessage;
  return (m.attachments ?? []).filter((a) => a.contentType === ADAPTIVE_CARD).map((a) => JSON.stringify(a.content));
}

export class Playground {
  constructor({ child, port, tmpDir, out, logFile }) {
    this.child = child;
    this.port = port;
    this.baseUrl = `http://127.0.0.1:${port}`;
    this.tmpDir = tmpDir;
    this.out = out;
    this.logFile = logFile;
    this.config = null;
    /** Every frame received on the conversation WebSocket, in arrival order, with a sequence number. */
    this.frames = [];
    this.waiters = new Set();
    this.ws = null;
    /** Entries of the playground's log panel (/_ws/log/stream): every activity exchanged, with status. */
    this.logs = [];
    this.logWs = null;
  }

  /** Starts the playground and connects to it. See startPlayground() for options. */
  static async start(opts = {}) {
    return startPlayground(opts);
  }

  get botId() {
    return this.config.bot.id;
  }
  get me() {
    return this.config.currentUser;
  }
  /** A user of the mock tenant (currentUser or one of the 5 users) by id, display name or email. */
  user(nameOrId) {
    const all = [this.config.currentUser, ...this.config.users];
    const u = all.find((x) => x.id === nameOrId || x.name === nameOrId || x.email === nameOrId);
    if (!u) throw new Error(`no user ${nameOrId} in the playground config`);
    return u;
  }

  /**
   * Conversation id for a kind:
   *  personal  – the 1:1 chat of currentUser with the bot
   *  groupChat – the group chat (currentUser + the 5 users + bot)
   *  channel   – the team's non-General channel (e.g. "Onboarding")
   *  general   – the team's General channel (id == team id)
   * Any other string is taken as a literal conversation id (e.g. a channel post's id).
   */
  conversationId(kind) {
    const c = this.config;
    switch (kind) {
      case 'personal':
        return c.personalChat.id;
      case 'groupChat':
      case 'group':
        return c.groupChats[0].id;
      case 'channel': {
        const ch = c.teams[0].channels.find((x) => x.id !== c.teams[0].id);
        if (!ch) throw new Error('playground config has no non-General channel');
        return ch.id;
      }
      case 'general':
        return c.teams[0].id;
      default:
        return kind;
    }
  }

  async request(method, p, body) {
    const res = await fetch(this.baseUrl + p, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!res.ok) throw new Error(`${method} ${p} -> HTTP ${res.status}: ${text}`);
    return json ?? text;
  }

  async connect() {
    this.config = (await this.request('GET', '/_internal/v1/testConfig')).config;
    this.ws = await openWebSocket(`ws://127.0.0.1:${this.port}/_ws_conversation/v1/conversations/stream`, (text) => {
      let frame;
      try {
        frame = JSON.parse(text);
      } catch {
        return;
      }
      frame.seq = this.frames.length;
      frame.receivedAt = Date.now();
      this.frames.push(frame);
      for (const w of this.waiters) w(frame);
    });
    this.logWs = await openWebSocket(`ws://127.0.0.1:${this.port}/_ws/log/stream`, (text) => {
      try {
        const f = JSON.parse(text);
        this.logs.push(f.log ?? f);
      } catch {
        /* ignore */
      }
    });
  }

  /**
   * One line per entry of the playground's log panel: activities it sent to the bot and the
   * bot's calls to its connector (with HTTP status and body), plus its warnings. For diagnostics.
   */
  logSummary({ last = 30, maxChars = 1500 } = {}) {
    return this.logs
      .slice(-last)
      .map((l) => {
        if (l.request || l.response) {
          const st = l.response?.statusCode;
          const req = JSON.stringify(l.request?.body ?? l.request ?? null);
          const res = JSON.stringify(l.response?.body ?? null);
          return `[${l.from ?? '?'} -> ${l.to ?? '?'}] ${l.activityName ?? ''} conv=${l.conversationId ?? ''} status=${st} request=${req} response=${res}`.slice(0, maxChars);
        }
        return `[${l.level ?? 'info'}] ${l.displayText ?? JSON.stringify(l)}`.slice(0, maxChars);
      })
      .join('\n');
  }

  /** Current position in the frame stream: pass as `since` to only look at later frames. */
  mark() {
    return this.frames.length;
  }

  /**
   * Sends a user message the way the UI does.
   *   kind: 'personal' | 'groupChat' | 'channel' | 'general' | a conversation id
   *   opts.mention: true  -> prefix "<at>BOT</at> " and attach a mention entity for the bot
   *                         (group chats and channels only deliver to the bot when it is mentioned)
   *   opts.from:    user id / name / email (default: currentUser; personal chat only allows currentUser)
   *   opts.mentions: extra [{id, name}] accounts to mention (their "<at>name</at>" must be in text)
   * Posting to a channel (not a post id) starts a new post (thread); the bot's reply lands in the
   * post's conversation "<channelId>;messageid=<messageId>".
   * Returns { messageId, conversationId (where replies are expected), postConversationId?, since }.
   */
  async send(kind, text, opts = {}) {
    const convId = this.conversationId(kind);
    const from = opts.from ? this.user(opts.from) : this.me;
    const mentions = [];
    let fullText = text;
    if (opts.mention) {
      const tag = `<at>${this.config.bot.name}</at>`;
      if (!fullText.includes(tag)) fullText = `${tag} ${fullText}`;
      mentions.push({ mentioned: { id: this.botId, name: this.config.bot.name }, text: tag });
    }
    for (const m of opts.mentions ?? []) {
      const acct = m.id === this.botId ? this.config.bot : this.user(m.id ?? m.name);
      mentions.push({ mentioned: { id: acct.id, name: acct.name }, text: `<at>${acct.name}</at>` });
    }
    const body = { from: { id: from.id }, text: fullText, textFormat: opts.textFormat ?? 'plain' };
    if (mentions.length) body.mentions = mentions;
    const since = this.mark();
    const res = await this.request('POST', `/_conversation/v1/conversations/${encodeURIComponent(convId)}/messages`, body);
    return {
      messageId: res.messageId,
      postConversationId: res.postConversationId,
      conversationId: res.postConversationId ?? convId,
      parentConversationId: convId,
      since,
    };
  }

  /** Action.Submit on a card the bot sent: the bot gets a message activity with `value` and `replyToId`. */
  async submit({ conversationId, replyToId, value, from }) {
    const f = from ? this.user(from) : this.me;
    const since = this.mark();
    await this.request('POST', '/_conversation/v1/submit', {
      conversation: { id: this.conversationId(conversationId) },
      replyToId,
      value: value ?? {},
      from: { id: f.id },
    });
    return { conversationId: this.conversationId(conversationId), since };
  }

  /**
   * Action.Execute on a card the bot sent: the bot gets an invoke "adaptiveCard/action".
   * Resolves with the playground's answer, i.e. the bot's invoke response { type, value }
   * (type "application/vnd.microsoft.card.adaptive" replaces the card, ".../activity.message" shows text).
   */
  async invoke({ conversationId, replyToId, verb, data, title, from }) {
    const f = from ? this.user(from) : this.me;
    return this.request('POST', '/_conversation/v1/invoke', {
      name: 'adaptiveCard/action',
      value: { action: { type: 'Action.Execute', title: title ?? verb, verb, data: data ?? {} } },
      conversation: { id: this.conversationId(conversationId) },
      replyToId,
      from: { id: f.id },
    });
  }

  /**
   * Resolves with the first frame (received at or after index `since`) matching predicate,
   * or rejects after timeoutMs with a summary of what was received.
   */
  waitFor(predicate, timeoutMs = 15000, { since = 0, what = 'a matching frame' } = {}) {
    for (let i = since; i < this.frames.length; i++) if (predicate(this.frames[i])) return Promise.resolve(this.frames[i]);
    return new Promise((resolve, reject) => {
      const waiter = (frame) => {
        if (frame.seq < since) return;
        let ok = false;
        try {
          ok = predicate(frame);
        } catch {
          ok = false;
        }
        if (ok) {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve(frame);
        }
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        const got = this.frames.slice(since).map((f) => JSON.stringify(f));
        reject(
          new Error(
            `timed out after ${timeoutMs} ms waiting for ${what}; the playground received ${got.length} frame(s) since:\n` +
              (got.join('\n') || '(none)'),
          ),
        );
      }, timeoutMs);
      waiter.cancel = () => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
        reject(new Error(`playground stopped while waiting for ${what}`));
      };
      this.waiters.add(waiter);
    });
  }

  /** Bot messages (create or update) in the conversation of `sent` (as returned by send()). */
  waitForBotMessage(sent, predicate = () => true, timeoutMs = 15000, what = 'a bot message') {
    // A reply in a channel thread arrives under the post's id; a new channel post by the bot arrives
    // under the channel's id (with message.postConversationId set).
    const convs = new Set([sent.conversationId, sent.parentConversationId].filter(Boolean));
    return this.waitFor(
      (f) =>
        (f.action === 'createMessage' || f.action === 'updateMessage') &&
        f.message?.from?.id === this.botId &&
        (convs.has(f.actionConversationId) || convs.has(f.message?.postConversationId)) &&
        predicate(f.message, f),
      timeoutMs,
      { since: sent.since ?? 0, what: `${what} in ${[...convs].join(' / ')}` },
    );
  }

  /** Bot frames seen so far (optionally in one conversation) – for diagnostics. */
  botFrames(conversationId) {
    return this.frames.filter(
      (f) =>
        f.message?.from?.id === this.botId &&
        (!conversationId || f.actionConversationId === conversationId || f.message?.postConversationId === conversationId),
    );
  }

  async stop() {
    for (const w of [...this.waiters]) w.cancel();
    for (const w of [this.ws, this.logWs]) {
      try {
        w?.close();
      } catch {
        /* ignore */
      }
    }
    await killGroup(this.child);
    this.out.close();
    try {
      fs.writeFileSync(path.join(this.tmpDir, 'playground-log-stream.jsonl'), this.logs.map((l) => JSON.stringify(l)).join('\n') + '\n');
      fs.writeFileSync(path.join(this.tmpDir, 'playground-frames.jsonl'), this.frames.map((f) => JSON.stringify(f)).join('\n') + '\n');
    } catch {
      /* diagnostics only */
    }
    if (this.ownTmp && !process.env.E2E_KEEP_TMP) fs.rmSync(this.tmpDir, { recursive: true, force: true });
  }
}

/**
 * Starts the playground as a child process in its own process group.
 *   botEndpoint: the bot's messaging endpoint (default http://127.0.0.1:3978/api/messages)
 *   port:        preferred port (default $PLAYGROUND_PORT or 56150; if taken the playground picks
 *                another and we read it from its "Listening on N" line)
 *   configPath:  the .m365agentsplayground.yml (default: the repo root's)
 *   tmpDir:      working dir for the playground and its log (default: a fresh mkdtemp)
 */
export async function startPlayground({
  botEndpoint = 'http://127.0.0.1:3978/api/messages',
  port = Number(process.env.PLAYGROUND_PORT || 56150),
  configPath = DEFAULT_CONFIG_PATH,
  tmpDir,
  startTimeoutMs = 30000,
} = {}) {
  // A temp dir we make ourselves is removed again by stop() (unless E2E_KEEP_TMP is set).
  const ownTmp = !tmpDir;
  tmpDir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'tapbot-e2e-'));
  if (!fs.existsSync(configPath)) throw new Error(`playground config not found: ${configPath}`);
  const cli = require.resolve('@microsoft/m365agentsplayground/cli.js');
  const logFile = path.join(tmpDir, 'm365agentsplayground.log');
  const out = new OutputTail(path.join(tmpDir, 'playground.stdout.log'));
  const child = spawnGroup(
    process.execPath,
    [cli, '-e', botEndpoint, '-c', 'msteams', '-p', String(port), '--disable-telemetry'],
    {
      cwd: tmpDir, // it writes ./devTools/ etc. relative to cwd: keep that out of the repo
      env: localEnv({
        TEAMSAPPTESTER_BROWSER: 'none',
        M365_AGENTS_PLAYGROUND_CONFIG_PATH: configPath,
        M365_AGENTS_PLAYGROUND_LOGFILE: logFile,
      }),
    },
  );
  child.stdout.on('data', (d) => out.push(d));
  child.stderr.on('data', (d) => out.push(d));

  const logTail = () => {
    try {
      return fs.readFileSync(logFile, 'utf8').slice(-4000);
    } catch {
      return '(no log file)';
    }
  };
  const actualPort = await new Promise((resolve, reject) => {
    const check = (buf) => {
      const m = /Listening on (\d+)/.exec(buf);
      if (m) done(null, Number(m[1]));
    };
    const onExit = (code, sig) =>
      done(new Error(`playground exited (${code ?? sig}) before listening.\nstdout/stderr:\n${out.text()}\nlog:\n${logTail()}`));
    const timer = setTimeout(
      () => done(new Error(`playground did not print "Listening on N" within ${startTimeoutMs} ms.\n${out.text()}\nlog:\n${logTail()}`)),
      startTimeoutMs,
    );
    function done(err, p) {
      clearTimeout(timer);
      out.listeners.delete(check);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve(p);
    }
    out.listeners.add(check);
    child.once('exit', onExit);
    check(out.buf);
  }).catch(async (e) => {
    await killGroup(child);
    out.close();
    throw new Error(`${e.message}\n(playground logs in ${tmpDir})`);
  });

  const pg = new Playground({ child, port: actualPort, tmpDir, out, logFile });
  pg.ownTmp = ownTmp;
  try {
    await pollUntil(
      async () => (await fetch(`${pg.baseUrl}/_debug/ping`)).ok,
      { timeoutMs: startTimeoutMs, what: `playground http on ${pg.baseUrl}` },
    );
    await pg.connect();
  } catch (e) {
    await pg.stop();
    throw e;
  }
  return pg;
}

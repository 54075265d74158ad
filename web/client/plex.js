// plex.js: the browser client of plex, a plain ES module (no build step).
//
//   import { Client } from './plex.js';
//   const c = new Client({ token: 'alice' });
//   c.on('message', (m) => console.log(m.uri, m.body));
//   c.connect();
//
// It speaks docs/protocol.md over WebSocket (§19): one JSON message per
// text message, or one protobuf message per binary message (codec
// 'protobuf'), auth first, heartbeat and background mode (§11.1), reconnect
// with the backoff of §13.6 (stopping on 4xxx codes), acks and resume for
// persistent pushes, upstream sends, request/reply and messages to a user
// or a room (/message; resent after a draining node's /disconnect, §13.4),
// discovery (GET /plex/v1/host, §15), and Web Push subscriptions for
// notifications while no tab is open (subscribeWebPush). docs/web.md documents the API.

export const PROTOCOL_VERSION = '1';
export const WS_PATH = '/plex/v1/ws';

/** The code table of docs/protocol.md §13.2. */
export const Code = Object.freeze({
  SHUTDOWN: 3000,
  HEARTBEAT_TIMEOUT: 3001,
  SLOW_CONSUMER: 3002,
  AUTH_TIMEOUT: 3003,
  TOO_MANY_CONNECTIONS: 3004,
  INTERNAL: 3005,
  FRAME_TOO_LARGE: 3006,
  BAD_FRAME: 3007,
  OUTCOME_UNKNOWN: 3008,
  AUTH_FAILED: 4001,
  REPLACED: 4002,
  FORBIDDEN: 4003,
  BAD_REQUEST: 4004,
  UNSUPPORTED_VERSION: 4005,
  NOT_FOUND: 4006,
  RATE_LIMITED: 4029,
  REFUSED: 4030,
});

/**
 * Whether a code ends the client for good (§13.3): 4000 and up on
 * /disconnect, /auth/failed or as a WebSocket close status.
 */
export function isTerminal(code) {
  return code >= 4000 && code < 5000;
}

export const URI = Object.freeze({
  AUTH: '/auth/server',
  AUTH_SUCCESS: '/auth/success',
  AUTH_FAILED: '/auth/failed',
  HEARTBEAT: '/heartbeat',
  ACK: '/ack',
  ERROR: '/error',
  DISCONNECT: '/disconnect',
  REPLY: '/reply',
});

/**
 * A refused request (/error) or the reason a connection ended.
 * outcomeUnknown is true when a request may have been executed although
 * it failed: the node answered 3008 (its store could not confirm the
 * write, §13.5), or the request was written and its reply never came
 * (timeout, connection closed). Do not blindly retry those; a 3005 means
 * nothing was executed and is safe to retry.
 */
export class PlexError extends Error {
  constructor(code, reason, outcomeUnknown = code === Code.OUTCOME_UNKNOWN) {
    super(`plex ${code}: ${reason}`);
    this.name = 'PlexError';
    this.code = code;
    this.reason = reason;
    this.outcomeUnknown = outcomeUnknown;
  }
}

// The backoff rule of docs/protocol.md §13.6, the same in every plex client.
export const BACKOFF = Object.freeze({ MIN_MS: 500, MAX_MS: 30000, FLOOR_MS: 100, RESET_AFTER_MS: 10000 });

/**
 * The delay before retry attempt (0 for the first): uniform in
 * [floor, cap], cap = min(maxMs, initialMs·2^attempt), floor =
 * min(100 ms, initialMs); random() is uniform in [0, 1).
 */
export function backoffDelay(attempt, { initialMs = BACKOFF.MIN_MS, maxMs = BACKOFF.MAX_MS } = {}, random = Math.random) {
  maxMs = Math.max(maxMs, initialMs);
  const cap = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 60));
  const floor = Math.min(BACKOFF.FLOOR_MS, initialMs);
  return floor + Math.floor(random() * (cap - floor + 1));
}

// Defaults of docs/protocol.md §10.3, used until /auth/success says better.
const DEFAULT_HEARTBEAT_MS = 30000;
const DEFAULT_TIMEOUT_MS = 75000;

// discoveryURL completes "http(s)://host:port" with /plex/v1/host.
function discoveryURL(raw) {
  const u = new URL(raw);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`plex: discovery url ${raw}: not http(s)`);
  if (u.pathname === '' || u.pathname === '/') u.pathname = '/plex/v1/host';
  return u.toString();
}

function defaultURL() {
  const loc = globalThis.location;
  if (!loc) throw new Error('plex: no url given and no page location');
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}${WS_PATH}`;
}

/** Where the node gives its VAPID public key (docs/web.md, Web Push). */
export const WEBPUSH_KEY_PATH = '/plex/v1/webpush/key';

// base64urlBytes decodes base64url (padded or not) into bytes.
function base64urlBytes(s) {
  const b64 = String(s).replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
  let bin;
  try {
    bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  } catch {
    return new Uint8Array(0);
  }
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

function sameBytes(a, b) {
  if (!a) return false;
  const x = new Uint8Array(a);
  return x.length === b.length && x.every((v, i) => v === b[i]);
}

// webPushRegistration returns sw when it is a registration, else registers
// the worker script sw, and waits until the registration's worker is
// active: PushManager.subscribe refuses a registration without one.
async function webPushRegistration(nav, sw, opts) {
  let reg = sw;
  if (typeof sw === 'string' || sw instanceof URL) {
    try {
      reg = await nav.serviceWorker.register(sw, opts.scope ? { scope: opts.scope } : undefined);
    } catch (err) {
      const e = new PlexError(0, `web push: service worker ${sw} not registered: ${err?.message ?? err}`, false);
      e.cause = err;
      throw e;
    }
  }
  if (!reg?.pushManager) throw new PlexError(0, 'web push: not a ServiceWorkerRegistration', false);
  const w = reg.installing ?? reg.waiting;
  if (!reg.active && w) {
    await new Promise((resolve, reject) => {
      const check = () => {
        if (w.state === 'activated') resolve();
        else if (w.state === 'redundant') reject(new PlexError(0, 'web push: the service worker failed to install', false));
      };
      w.addEventListener('statechange', check);
      check();
    });
  }
  return reg;
}

// --- Protobuf codec (docs/protocol.md §7): plex.v1.Message in binary
// WebSocket messages (§19.2). Hand-written, no dependency: the schema is four
// fields and frozen.

const utf8Enc = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });
const utf8Lossy = new TextDecoder('utf-8');

/** A protobuf body that is not a valid Message (error names of §16). */
export class CodecError extends Error {
  constructor(name, detail) {
    super(`plex: ${name}: ${detail}`);
    this.name = 'CodecError';
    this.code = name; // 'bad_protobuf' | 'invalid_utf8'
  }
}

function bytesOf(v) {
  if (v instanceof Uint8Array) return v;
  return utf8Enc.encode(String(v ?? ''));
}

function pushVarint(out, v) {
  // v: a BigInt in [0, 2^64)
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
}

function pushBytes(out, tag, b) {
  out.push(tag);
  pushVarint(out, BigInt(b.length));
  for (const x of b) out.push(x);
}

/**
 * Encodes m in the canonical protobuf form of §7.2: fields in number order,
 * zero values omitted, meta sorted by the keys' UTF-8 bytes. m.body may be
 * a string (sent as UTF-8) or a Uint8Array; m.seq a Number or a BigInt.
 */
export function encodeProtobuf(m) {
  const out = [];
  if (m.seq) {
    out.push(0x08);
    pushVarint(out, BigInt.asUintN(64, BigInt(m.seq)));
  }
  if (m.uri) pushBytes(out, 0x12, utf8Enc.encode(m.uri));
  const body = bytesOf(m.body);
  if (body.length > 0) pushBytes(out, 0x1a, body);
  const entries = Object.entries(m.meta ?? {}).map(([k, v]) => [utf8Enc.encode(k), utf8Enc.encode(String(v))]);
  entries.sort(([a], [b]) => {
    for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
    return a.length - b.length;
  });
  for (const [k, v] of entries) {
    const e = [];
    pushBytes(e, 0x0a, k);
    pushBytes(e, 0x12, v);
    pushBytes(out, 0x22, e);
  }
  return Uint8Array.from(out);
}

class PbReader {
  constructor(b, start = 0, end = b.length) {
    this.b = b;
    this.i = start;
    this.end = end;
  }
  varint() {
    let v = 0n;
    for (let n = 0; n < 10; n++) {
      if (this.i >= this.end) throw new CodecError('bad_protobuf', 'truncated varint');
      const x = this.b[this.i++];
      v |= BigInt(x & 0x7f) << BigInt(7 * n);
      if (x < 0x80) return BigInt.asUintN(64, v);
    }
    throw new CodecError('bad_protobuf', 'varint over 10 bytes');
  }
  bytes() {
    const n = this.varint();
    if (n > BigInt(this.end - this.i)) throw new CodecError('bad_protobuf', 'length past the end');
    const s = this.i;
    this.i += Number(n);
    return this.b.subarray(s, this.i);
  }
  tag() {
    const t = this.varint();
    const field = t >> 3n;
    const wire = Number(t & 7n);
    if (field === 0n || field > 0x1fffffffn) throw new CodecError('bad_protobuf', `field number ${field}`);
    if (wire === 6 || wire === 7) throw new CodecError('bad_protobuf', `wire type ${wire}`);
    return [Number(field), wire];
  }
  // skip skips a field of this wire type (a group up to its end).
  skip(field, wire) {
    switch (wire) {
      case 0:
        this.varint();
        return;
      case 1:
        return this.fixed(8);
      case 2:
        this.bytes();
        return;
      case 5:
        return this.fixed(4);
      case 3:
        for (;;) {
          if (this.i >= this.end) throw new CodecError('bad_protobuf', 'unterminated group');
          const [f, w] = this.tag();
          if (w === 4) {
            if (f !== field) throw new CodecError('bad_protobuf', 'unmatched end group');
            return;
          }
          this.skip(f, w);
        }
      case 4:
        throw new CodecError('bad_protobuf', 'unmatched end group');
    }
  }
  fixed(n) {
    if (this.end - this.i < n) throw new CodecError('bad_protobuf', 'truncated fixed field');
    this.i += n;
  }
}

function strictText(b, what) {
  try {
    return utf8Strict.decode(b);
  } catch {
    throw new CodecError('invalid_utf8', `${what} is not UTF-8`);
  }
}

/**
 * Decodes a protobuf body (§7.3) into {seq, seqBig, uri, body, bodyBytes,
 * meta}: body is the body as text (invalid UTF-8 replaced), bodyBytes the
 * exact bytes; seq is a Number (exact up to 2^53, as every seq a node
 * issues), seqBig the exact int64. Throws CodecError.
 */
export function decodeProtobuf(data) {
  const b = data instanceof Uint8Array ? data : new Uint8Array(data);
  const r = new PbReader(b);
  let seq = 0n;
  let uri = '';
  let body = new Uint8Array(0);
  const meta = {};
  while (r.i < r.end) {
    const [field, wire] = r.tag();
    if (field === 1 && wire === 0) seq = r.varint();
    else if (field === 2 && wire === 2) uri = strictText(r.bytes(), 'uri');
    else if (field === 3 && wire === 2) body = r.bytes().slice();
    else if (field === 4 && wire === 2) {
      const e = r.bytes();
      const er = new PbReader(e);
      let k = '';
      let v = '';
      while (er.i < er.end) {
        const [f, w] = er.tag();
        if (f === 1 && w === 2) k = strictText(er.bytes(), 'meta key');
        else if (f === 2 && w === 2) v = strictText(er.bytes(), 'meta value');
        else er.skip(f, w);
      }
      meta[k] = v;
    } else r.skip(field, wire);
  }
  const exact = BigInt.asIntN(64, seq);
  return { seq: Number(exact), seqBig: exact, uri, body: utf8Lossy.decode(body), bodyBytes: body, meta };
}

/** Encodes a message in the JSON codec (§6): zero fields are omitted. */
export function encode(m) {
  const o = {};
  if (m.seq) o.seq = m.seq;
  if (m.uri) o.uri = m.uri;
  if (m.body) o.body = m.body;
  if (m.meta && Object.keys(m.meta).length > 0) o.meta = m.meta;
  return JSON.stringify(o);
}

/** Decodes a JSON-codec message; absent fields get their zero value. */
export function decode(text) {
  const o = JSON.parse(text);
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new Error('plex: not a message');
  return { seq: Number(o.seq ?? 0), uri: o.uri ?? '', body: o.body ?? '', meta: o.meta ?? {} };
}

// The longest heartbeat interval or timeout taken from /auth/success: a
// day, far above any real one (as the C++ SDK).
const MAX_INTERVAL_MS = 24 * 60 * 60 * 1000;

/**
 * A heartbeat_ms or timeout_ms of the node's, as used: a positive number of
 * at most MAX_INTERVAL_MS, else fallback. JSON.parse turns 1e400 into
 * Infinity, which disabled the timeout, and a string was compared and
 * divided by coercion.
 */
function intervalMs(v, fallback) {
  if (typeof v !== 'number' || !(v > 0)) return fallback; // NaN too
  return Math.min(v, MAX_INTERVAL_MS);
}

/**
 * A connection to a plex node that stays up: it authenticates, keeps the
 * heartbeat, reconnects with jittered exponential backoff and resumes
 * persistent pushes, until close() or a terminal code.
 *
 * Events (on(name, fn) returns a function that removes the listener):
 *   state      (state, detail)  idle → connecting → online; reconnecting
 *                                (waiting out the backoff) → connecting; closed
 *                                (close(), or a 4xxx code: detail.code says)
 *   online     (info)           the /auth/success facts
 *   message    (msg)            a push {seq, uri, body, meta}; persistent
 *                                ones (seq > 0) once each, in order
 *   disconnect (d)              a connection ended: {code, reason, terminal, retryInMs}
 *   error      (err)            a PlexError (/error without a pending request)
 */
export class Client {
  /**
   * @param {object} opts
   * @param {string} [opts.url]    ws(s)://host/plex/v1/ws; default: this page's origin
   * @param {string|function(): (string|Promise<string>)} opts.token  the app token, or a provider called per connection
   * @param {string} [opts.device] stable device id (meta device)
   * @param {boolean} [opts.acks=true] ack persistent pushes and resume after reconnects
   * @param {number} [opts.lastSeq=0] the highest persistent seq the app already holds (persist it to resume across page loads)
   * @param {{initialMs?:number, maxMs?:number, resetAfterMs?:number}} [opts.backoff] §13.6's rule; defaults 500, 30000, 10000
   * @param {'json'|'protobuf'} [opts.codec='json'] protobuf: binary messages (§7, §19.2)
   * @param {string} [opts.discoveryUrl] http(s)://node:port[/plex/v1/host]: asked before each attempt which node to dial (§15)
   * @param {function(): number} [opts.random=Math.random] the backoff's random source (tests)
   * @param {number} [opts.ackDelayMs=100] acks are cumulative and batched over this long
   * @param {number} [opts.requestTimeoutMs=10000] a request's bound, from the call (the wait for online included)
   * @param {number} [opts.maxWaitingRequests=1024] requests that may wait for online at once (§13.6)
   * @param {Object<string,string>} [opts.meta] extra meta on /auth/server (e.g. app)
   */
  constructor(opts = {}) {
    if (opts.token === undefined) throw new Error('plex: token required');
    this.discoveryUrl = opts.discoveryUrl ? discoveryURL(opts.discoveryUrl) : null;
    this.url = opts.url ?? (this.discoveryUrl ? null : defaultURL());
    this.codec = opts.codec ?? 'json';
    if (this.codec !== 'json' && this.codec !== 'protobuf') throw new Error(`plex: unknown codec ${this.codec}`);
    this._random = opts.random ?? Math.random;
    this._fetch = opts.fetch ?? globalThis.fetch;
    this._background = false;
    this._sentBackground = false;
    // Requests not written on the current connection, sent once online in
    // the order made: made while connecting or reconnecting (§13.6), or
    // not executed by a draining node (§13.4). Entries {seq, p, msg}.
    this._unsent = [];
    this.token = opts.token;
    this.device = opts.device ?? '';
    this.acks = opts.acks ?? true;
    this.lastSeq = opts.lastSeq ?? 0;
    this.backoff = { initialMs: BACKOFF.MIN_MS, maxMs: BACKOFF.MAX_MS, resetAfterMs: BACKOFF.RESET_AFTER_MS, ...opts.backoff };
    this.ackDelayMs = opts.ackDelayMs ?? 100;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 10000;
    this.maxWaitingRequests = opts.maxWaitingRequests ?? 1024;
    this.authMeta = opts.meta ?? {};
    this._WebSocket = opts.WebSocket ?? globalThis.WebSocket;
    this._listeners = new Map();
    this._state = 'idle';
    this._ws = null;
    this._info = null;
    this._attempt = 0;
    this._stopped = false;
    this._retryTimer = null;
    this._resetTimer = null;
    this._tick = null;
    this._ackTimer = null;
    this._acked = this.lastSeq;
    this._resumeSent = 0; // resume on the current connection's /auth/server (0: none)
    this._nextId = 0;
    this._pending = new Map();
    this._lastClose = null;
  }

  /** The current state (see the class comment). */
  get state() {
    return this._state;
  }

  /** The /auth/success facts of the current connection, or null. */
  get info() {
    return this._info;
  }

  on(event, fn) {
    if (!this._listeners.has(event)) this._listeners.set(event, new Set());
    this._listeners.get(event).add(fn);
    return () => this.off(event, fn);
  }

  off(event, fn) {
    this._listeners.get(event)?.delete(fn);
  }

  _emit(event, ...args) {
    for (const fn of [...(this._listeners.get(event) ?? [])]) {
      try {
        fn(...args);
      } catch (err) {
        // a listener's bug must not break the connection
        setTimeout(() => {
          throw err;
        });
      }
    }
  }

  _setState(s, detail) {
    if (this._state === s) return;
    this._state = s;
    this._emit('state', s, detail);
  }

  /** Starts connecting (again after close()). */
  connect() {
    this._stopped = false;
    if (this._ws || this._retryTimer) return;
    this._attempt = 0;
    this._open();
  }

  /** Closes the connection and stops reconnecting. */
  close() {
    this._stopped = true;
    clearTimeout(this._retryTimer);
    this._retryTimer = null;
    this._flushAck();
    if (this._ws) {
      this._ws.close(1000, 'client closed');
    } else {
      this._dropUnsent('client closed');
      this._setState('closed', { code: 0, reason: 'closed' });
    }
  }

  /**
   * Background mode (§11.1): on asks the node for its slower background
   * heartbeat (a node that offers it announces background_heartbeat_ms);
   * the client keeps the normal pace until the node confirms, and asks
   * again on every new connection. off returns to the normal pace at once.
   * Pushes arrive as usual either way. A node without it changes nothing.
   */
  setBackground(on) {
    this._background = !!on;
    this._sendMode();
  }

  /** Whether background mode is wanted (see setBackground). */
  get background() {
    return this._background;
  }

  _bgPace() {
    const hb = this._info?.background_heartbeat_ms;
    const to = this._info?.background_timeout_ms;
    if (typeof hb !== 'number' || typeof to !== 'number' || !(hb > 0) || !(to > hb)) return null;
    return { heartbeatMs: intervalMs(hb, hb), timeoutMs: intervalMs(to, to) };
  }

  // Sends the mode request when the wanted mode differs from the one last
  // asked for on this connection; leaving background applies the normal
  // pace at once.
  _sendMode() {
    if (this._state !== 'online' || !this._bgPace() || this._background === this._sentBackground) return;
    this._sentBackground = this._background;
    this._write({ uri: URI.HEARTBEAT, meta: { mode: this._background ? 'background' : 'foreground' } });
    if (!this._background) {
      this._heartbeatMs = this._fgHeartbeatMs;
      this._timeoutMs = this._fgTimeoutMs;
      this._lastRecv = Date.now();
      this._startTick();
    }
  }

  /**
   * Sends a message upstream (any URI the node does not reserve, §8).
   * Returns false when not online: nothing is queued.
   */
  send(uri, body = '', meta) {
    if (this._state !== 'online') return false;
    this._write({ uri, body, meta });
    return true;
  }

  /**
   * Sends a request (e.g. /room/join) and resolves with its /reply
   * message, or rejects with a PlexError (/error, or the connection ended;
   * err.outcomeUnknown says the request may have been executed). Made
   * while connecting or reconnecting, it waits and is written once online,
   * in the order made (§13.6); within requestTimeoutMs of the call, else it
   * rejects with 'request timed out': not executed when it was not
   * written, outcomeUnknown when written. At most maxWaitingRequests wait;
   * beyond, and while idle or closed, it rejects at once (not executed).
   */
  request(uri, body = '', meta) {
    const waits = (this._state === 'connecting' || this._state === 'reconnecting') && !this._stopped;
    if (this._state !== 'online' && !waits) return Promise.reject(new PlexError(0, 'not connected'));
    if (waits && this._unsent.length >= this.maxWaitingRequests) {
      return Promise.reject(new PlexError(0, `too many requests waiting for online (${this.maxWaitingRequests})`, false));
    }
    const seq = ++this._nextId;
    return new Promise((resolve, reject) => {
      const msg = { seq, uri, body, meta };
      const p = { resolve, reject, msg, written: false, resent: false };
      p.timer = setTimeout(() => {
        const waiting = this._unsent.findIndex((r) => r.seq === seq);
        if (waiting >= 0) {
          // not written, or not since a draining node's promise (§13.4): never executed
          this._unsent.splice(waiting, 1);
          reject(new PlexError(0, 'request timed out', false));
          return;
        }
        this._pending.delete(seq);
        reject(new PlexError(0, 'request timed out', true)); // written: it may have run
      }, this.requestTimeoutMs);
      if (waits) {
        this._unsent.push({ seq, p, msg });
        return;
      }
      p.written = true;
      this._pending.set(seq, p);
      this._write(msg);
    });
  }

  /**
   * Sends a message to one user of the app ({to}) or to the members of a
   * room ({room}) (/message, docs/protocol.md §8.1) and resolves with the
   * node's reply: {id, seq, delivered}, and for a room also stored (the
   * copies stored, one per member; seq is then the sender's own copy, 0
   * when not a member). The recipients get a push with uri '/message' and
   * meta from (set by the node), id, ts, conversation, and room for a room.
   * Rejects with a PlexError: the node's code (4003 not allowed, 4004
   * malformed, 4006 empty room, 4029 over a quota, 3005 not stored, 3008
   * may have been stored), or a lost reply (outcomeUnknown). Like
   * request(), it waits for online while connecting or reconnecting
   * (§13.6), is sent again once after a draining node's /disconnect
   * (§13.4), and rejects at once while idle or closed.
   * @param {{to?: string, room?: string, body?: string, conversation?: string}} m
   */
  async message({ to, room, body = '', conversation } = {}) {
    if (!to === !room) throw new PlexError(Code.BAD_REQUEST, 'message: set exactly one of to and room', false);
    const req = to ? { to, body: String(body) } : { room, body: String(body) };
    if (conversation) req.conversation = conversation;
    const rep = await this.request('/message', JSON.stringify(req));
    let r;
    try {
      r = JSON.parse(rep.body);
    } catch {
      r = null;
    }
    if (r === null || typeof r !== 'object') throw new PlexError(Code.OUTCOME_UNKNOWN, `message: unreadable reply ${rep.body}`, true);
    const res = { id: String(r.id ?? ''), seq: Number(r.seq ?? 0), delivered: Number(r.delivered ?? 0) };
    if (room) res.stored = Number(r.stored ?? 0);
    return res;
  }

  async _open() {
    this._lastClose = null;
    this._info = null;
    this._sentBackground = false;
    this._setState('connecting');
    let token;
    let url = this.url;
    try {
      token = typeof this.token === 'function' ? await this.token() : this.token;
      if (this.discoveryUrl) url = await this._discover();
    } catch (err) {
      if (this._stopped) {
        this._dropUnsent('client closed');
        this._setState('closed', { code: 0, reason: 'closed' });
        return;
      }
      this._retry({ code: 0, reason: err.message, terminal: false });
      return;
    }
    if (this._stopped) {
      this._dropUnsent('client closed');
      this._setState('closed', { code: 0, reason: 'closed' });
      return;
    }
    const ws = new this._WebSocket(url);
    if (this.codec === 'protobuf') ws.binaryType = 'arraybuffer';
    this._ws = ws;
    const now = Date.now();
    this._lastSent = now;
    this._lastRecv = now;
    this._heartbeatMs = DEFAULT_HEARTBEAT_MS;
    this._timeoutMs = DEFAULT_TIMEOUT_MS;
    ws.onopen = () => {
      if (ws !== this._ws) return;
      const meta = { ...this.authMeta, v: PROTOCOL_VERSION };
      if (this.device) meta.device = this.device;
      this._resumeSent = 0;
      if (this.acks) {
        meta.acks = '1';
        if (this.lastSeq > 0) {
          meta.resume = String(this.lastSeq);
          this._resumeSent = this.lastSeq;
        }
      }
      this._write({ uri: URI.AUTH, body: String(token), meta });
      this._startTick();
    };
    ws.onmessage = (ev) => {
      if (ws !== this._ws) return;
      this._lastRecv = Date.now();
      let m;
      try {
        // the codec is the client's (§4): a node answers in the codec it detected
        m = typeof ev.data === 'string' ? decode(ev.data) : decodeProtobuf(ev.data);
      } catch {
        ws.close(1002, 'undecodable message');
        return;
      }
      this._handle(m);
    };
    ws.onclose = (ev) => {
      if (ws !== this._ws) return;
      this._ended(ev);
    };
  }

  _handle(m) {
    switch (m.uri) {
      case URI.AUTH_SUCCESS: {
        let info = {};
        try {
          info = JSON.parse(m.body);
        } catch {
          // the facts are optional; keep the defaults
        }
        if (info === null || typeof info !== 'object') info = {}; // "null" parsed, and threw below
        this._info = info;
        this._rewind(info.resume);
        this._heartbeatMs = intervalMs(info.heartbeat_ms, this._heartbeatMs);
        this._timeoutMs = intervalMs(info.timeout_ms, this._timeoutMs);
        this._fgHeartbeatMs = this._heartbeatMs;
        this._fgTimeoutMs = this._timeoutMs;
        this._drain = info.drain === true;
        this._startTick();
        clearTimeout(this._resetTimer);
        this._resetTimer = setTimeout(() => {
          this._attempt = 0; // stayed up long enough: the next drop retries fast (§13.6)
        }, this.backoff.resetAfterMs);
        this._setState('online', info);
        this._emit('online', info);
        if (this._state !== 'online') return; // a listener closed the client
        this._sendMode();
        // in the order made (§13.6); a request written before goes out a
        // second time, once (§13.4); one written now keeps that resend
        const again = this._unsent.sort((a, b) => a.seq - b.seq);
        this._unsent = [];
        for (const r of again) {
          if (r.p.written) r.p.resent = true;
          r.p.written = true;
          this._pending.set(r.seq, r.p);
          this._write(r.msg);
        }
        return;
      }
      case URI.AUTH_FAILED:
      case URI.DISCONNECT: {
        // the last frame: remember why; the node closes next (§13.1)
        const code = Number(m.meta.code ?? (m.uri === URI.AUTH_FAILED ? Code.AUTH_FAILED : 0));
        this._lastClose = { code, reason: m.meta.reason ?? m.body };
        return;
      }
      case URI.HEARTBEAT: {
        // §11.1: the background pace applies once the node confirmed it
        const bg = this._bgPace();
        if (bg && m.meta.mode === 'background' && this._background && this._sentBackground) {
          this._heartbeatMs = bg.heartbeatMs;
          this._timeoutMs = bg.timeoutMs;
          this._startTick();
        }
        return;
      }
      case URI.REPLY:
      case URI.ERROR: {
        this._attempt = 0; // the node answered: healthy (§13.6)
        const p = this._pending.get(m.seq);
        if (p) {
          this._pending.delete(m.seq);
          clearTimeout(p.timer);
          if (m.uri === URI.REPLY) p.resolve(m);
          else p.reject(new PlexError(Number(m.meta.code ?? 0), m.meta.reason ?? m.body));
        } else if (m.uri === URI.ERROR) {
          this._emit('error', new PlexError(Number(m.meta.code ?? 0), m.meta.reason ?? m.body));
        }
        return;
      }
    }
    if (this._lastClose) return; // stop feeding after /disconnect (§13.3)
    this._attempt = 0; // a message arrived: the connection was healthy (§13.6)
    if (m.seq > 0) {
      // persistent: deliver each seq once, then ack cumulatively (§12)
      if (m.seq <= this.lastSeq) return;
      this.lastSeq = m.seq;
      this._emit('message', m);
      if (this.acks) this._scheduleAck();
      return;
    }
    this._emit('message', m);
  }

  // A resume point below the one sent means the node's store never issued
  // the seqs this app holds (they came from a store that no longer exists,
  // §12): numbering restarts after it, so dedup and acks restart there too,
  // or every new push would be dropped as a duplicate. Messages are
  // delivered synchronously, so none of the old connection is still queued.
  _rewind(resume) {
    if (!Number.isSafeInteger(resume) || resume < 0 || resume >= this._resumeSent) return;
    this.lastSeq = resume;
    this._acked = resume;
  }

  _scheduleAck() {
    if (this._ackTimer) return;
    this._ackTimer = setTimeout(() => {
      this._ackTimer = null;
      this._flushAck();
    }, this.ackDelayMs);
  }

  _flushAck() {
    clearTimeout(this._ackTimer);
    this._ackTimer = null;
    if (this.lastSeq > this._acked && this._ws?.readyState === 1 && this._state === 'online') {
      this._write({ seq: this.lastSeq, uri: URI.ACK });
      this._acked = this.lastSeq;
    }
  }

  _write(m) {
    this._ws.send(this.codec === 'protobuf' ? encodeProtobuf(m) : encode(m));
    this._lastSent = Date.now();
  }

  // GET /plex/v1/host (§15) from another origin (the node answers with
  // Access-Control-Allow-Origin: *). The answer's "ws" member, when a node
  // sends one, is the WebSocket URL; otherwise the node's host with the
  // discovery URL's port (nodes serve HTTP and WebSocket on one listener).
  async _discover() {
    const res = await this._fetch(this.discoveryUrl, { mode: 'cors', cache: 'no-store' });
    if (!res.ok) throw new Error(`discovery: ${this.discoveryUrl} answered ${res.status}`);
    const v = await res.json();
    if (typeof v?.ws === 'string' && /^wss?:\/\//.test(v.ws)) return v.ws;
    if (typeof v?.host !== 'string' || v.host === '') throw new Error(`discovery: ${this.discoveryUrl} named no host`);
    const d = new URL(this.discoveryUrl);
    const host = v.host.startsWith('[') ? v.host.slice(0, v.host.lastIndexOf(']') + 1) : v.host.split(':')[0];
    return `${d.protocol === 'https:' ? 'wss' : 'ws'}://${host}${d.port ? `:${d.port}` : ''}${WS_PATH}`;
  }

  // --- Web Push (docs/web.md): notifications while no tab is open.

  /**
   * The origin of the node's HTTP API: the discovery URL's, else the
   * WebSocket URL's (ws → http, wss → https), else this page's.
   */
  _httpBase() {
    if (this.discoveryUrl) return new URL(this.discoveryUrl).origin;
    if (this.url) {
      const u = new URL(this.url);
      u.protocol = u.protocol === 'wss:' ? 'https:' : 'http:';
      return u.origin;
    }
    return globalThis.location.origin;
  }

  /**
   * The node's VAPID public key (GET /plex/v1/webpush/key) as the
   * applicationServerKey PushManager.subscribe takes: 65 bytes. Rejects
   * with a PlexError 4006 when the node has no Web Push.
   */
  async webPushKey() {
    const url = this._httpBase() + WEBPUSH_KEY_PATH;
    const fetchFn = this._fetch; // called unbound: fetch refuses another \`this\`
    const res = await fetchFn(url, { mode: 'cors', cache: 'no-store' });
    if (res.status === 404) throw new PlexError(Code.NOT_FOUND, `web push: not enabled on the node (${url}: 404; plexd -webpush-subject)`, false);
    if (!res.ok) throw new PlexError(0, `web push: ${url} answered ${res.status}`, false);
    const key = base64urlBytes((await res.json())?.public_key ?? '');
    if (key.length !== 65 || key[0] !== 4) throw new PlexError(0, `web push: ${url} gave no P-256 public key`, false);
    return key;
  }

  /**
   * Subscribes this browser to Web Push and registers the subscription with
   * the node (/device/register, platform "webpush"), so that pushes to this
   * user while no tab is connected arrive as notifications, shown by the
   * service worker (web/client/plex-sw.js is a sample). Call it when
   * online. sw is a ServiceWorkerRegistration, or the worker script's URL
   * to register (opts.scope: its scope). Asks for the notification
   * permission when it was not decided. A subscription made for another
   * key (the node's key changed) is replaced. Resolves with the
   * PushSubscription; rejects with a PlexError that says which step failed.
   * @param {ServiceWorkerRegistration|string|URL} sw
   * @param {{scope?: string}} [opts]
   */
  async subscribeWebPush(sw, opts = {}) {
    const nav = globalThis.navigator;
    if (!nav?.serviceWorker || !globalThis.PushManager) {
      throw new PlexError(0, 'web push: this browser has no service worker or Push API here (an insecure http page?)', false);
    }
    if (this._state !== 'online') throw new PlexError(0, 'web push: not connected (subscribe once online)', false);
    const reg = await webPushRegistration(nav, sw, opts);
    const key = await this.webPushKey();
    if (globalThis.Notification?.permission === 'default') await globalThis.Notification.requestPermission();
    if (globalThis.Notification?.permission === 'denied') {
      throw new PlexError(0, 'web push: the user denied notifications for this site', false);
    }
    let sub = await reg.pushManager.getSubscription();
    if (sub && !sameBytes(sub.options?.applicationServerKey, key)) {
      await sub.unsubscribe(); // made for another key: the push service would refuse ours (403)
      sub = null;
    }
    if (!sub) {
      try {
        sub = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
      } catch (err) {
        const e = new PlexError(0, `web push: PushManager.subscribe failed: ${err?.name ?? 'Error'}: ${err?.message ?? err}`, false);
        e.cause = err;
        throw e;
      }
    }
    const body = JSON.stringify({ platform: 'webpush', token: JSON.stringify(sub.toJSON()) });
    await this.request('/device/register', body);
    this._webPushReg = reg;
    return sub;
  }

  /**
   * Ends this browser's subscription: unregisters it from the node when
   * online (/device/unregister) and unsubscribes it from the push service.
   * sw is the registration (default: the one subscribeWebPush used).
   * Resolves with whether there was a subscription.
   * @param {ServiceWorkerRegistration} [sw]
   */
  async unsubscribeWebPush(sw) {
    const reg = sw ?? this._webPushReg ?? (await globalThis.navigator?.serviceWorker?.getRegistration());
    const sub = await reg?.pushManager?.getSubscription();
    if (!sub) return false;
    if (this._state === 'online') {
      await this.request('/device/unregister', JSON.stringify({ platform: 'webpush', token: JSON.stringify(sub.toJSON()) }));
    }
    await sub.unsubscribe();
    return true;
  }

  // Rejects the requests waiting for online: they were never executed.
  _dropUnsent(reason) {
    for (const r of this._unsent) {
      clearTimeout(r.p.timer);
      r.p.reject(new PlexError(0, reason, false));
    }
    this._unsent = [];
  }

  // One timer per connection: send /heartbeat after heartbeat_ms of
  // silence, drop the connection after timeout_ms without input (§11).
  _startTick() {
    clearInterval(this._tick);
    const every = Math.max(10, Math.min(1000, this._heartbeatMs / 4));
    this._tick = setInterval(() => {
      const ws = this._ws;
      if (!ws || ws.readyState !== 1) return;
      const now = Date.now();
      if (now - this._lastRecv >= this._timeoutMs) {
        this._lastClose = { code: 0, reason: 'nothing received within the timeout' };
        ws.close(4000, 'timeout'); // 4000: a client-side status; onclose follows
        return;
      }
      if (this._state === 'online' && now - this._lastSent >= this._heartbeatMs) {
        this._write({ uri: URI.HEARTBEAT });
      }
    }, every);
  }

  _ended(ev) {
    clearInterval(this._tick);
    clearTimeout(this._resetTimer);
    clearTimeout(this._ackTimer);
    this._ackTimer = null;
    this._tick = null;
    this._ws = null;
    this._info = null;
    this._acked = Math.min(this._acked, this.lastSeq);
    // The code: the final frame's, else the close status the node gave
    // (it mirrors the code), else none (the connection just ended).
    let code = this._lastClose?.code ?? 0;
    let reason = this._lastClose?.reason ?? ev.reason ?? '';
    if (!this._lastClose && ev.code >= 3000 && ev.code < 5000) code = ev.code;
    if (!this._lastClose && ev.code === 1009) code = Code.FRAME_TOO_LARGE;
    // §13.4: a draining node answered everything it executed before its
    // /disconnect, so what is unanswered was not executed: it goes out
    // again, once, on the next connection. Otherwise its outcome is unknown.
    const drained = this._drain && this._lastClose != null && this._lastClose.code !== Code.OUTCOME_UNKNOWN;
    for (const [seq, p] of this._pending) {
      if (drained && !p.resent) {
        this._unsent.push({ seq, p, msg: p.msg });
        continue;
      }
      clearTimeout(p.timer);
      if (drained) p.reject(new PlexError(code, 'not executed by a draining node, twice', false));
      else p.reject(new PlexError(code, 'connection closed', true)); // written, reply lost
    }
    this._pending.clear();
    this._drain = false;
    if (this._stopped) {
      this._dropUnsent('client closed');
      this._emit('disconnect', { code, reason, terminal: true, retryInMs: -1 });
      this._setState('closed', { code: 0, reason: 'closed' });
      return;
    }
    if (isTerminal(code)) {
      this._stopped = true;
      this._dropUnsent(`stopped by ${code}`);
      this._emit('disconnect', { code, reason, terminal: true, retryInMs: -1 });
      this._setState('closed', { code, reason });
      return;
    }
    this._retry({ code, reason, terminal: false });
  }

  _retry(d) {
    // §13.6: uniform in [floor, cap], never below the floor
    const delay = backoffDelay(this._attempt, this.backoff, this._random);
    this._attempt = Math.min(this._attempt + 1, 60);
    this._emit('disconnect', { ...d, retryInMs: delay });
    this._setState('reconnecting', { ...d, retryInMs: delay });
    this._retryTimer = setTimeout(() => {
      this._retryTimer = null;
      if (!this._stopped) this._open();
    }, delay);
  }
}

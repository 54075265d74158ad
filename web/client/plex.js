// plex.js: the browser client of plex, a plain ES module (no build step).
//
//   import { Client } from './plex.js';
//   const c = new Client({ token: 'alice' });
//   c.on('message', (m) => console.log(m.uri, m.body));
//   c.connect();
//
// It speaks docs/protocol.md over WebSocket (§19): one JSON message per
// text message, auth first, heartbeat, reconnect with jittered backoff
// (stopping on 4xxx codes), acks and resume for persistent pushes,
// upstream sends and request/reply. docs/web.md documents the API.

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

// Defaults of docs/protocol.md §10.3, used until /auth/success says better.
const DEFAULT_HEARTBEAT_MS = 30000;
const DEFAULT_TIMEOUT_MS = 75000;

function defaultURL() {
  const loc = globalThis.location;
  if (!loc) throw new Error('plex: no url given and no page location');
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}${WS_PATH}`;
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
 *   state      (state, detail)  idle → connecting → authenticating → online;
 *                                reconnecting between attempts; stopped
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
   * @param {{initialMs?:number, maxMs?:number, resetAfterMs?:number}} [opts.backoff]
   * @param {number} [opts.ackDelayMs=100] acks are cumulative and batched over this long
   * @param {number} [opts.requestTimeoutMs=10000]
   * @param {Object<string,string>} [opts.meta] extra meta on /auth/server (e.g. app)
   */
  constructor(opts = {}) {
    if (opts.token === undefined) throw new Error('plex: token required');
    this.url = opts.url ?? defaultURL();
    this.token = opts.token;
    this.device = opts.device ?? '';
    this.acks = opts.acks ?? true;
    this.lastSeq = opts.lastSeq ?? 0;
    this.backoff = { initialMs: 500, maxMs: 30000, resetAfterMs: 10000, ...opts.backoff };
    this.ackDelayMs = opts.ackDelayMs ?? 100;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 10000;
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
      this._setState('stopped', { code: 0, reason: 'closed' });
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
   * err.outcomeUnknown says the request may have been executed).
   */
  request(uri, body = '', meta) {
    if (this._state !== 'online') return Promise.reject(new PlexError(0, 'not connected'));
    const seq = ++this._nextId;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this._pending.delete(seq);
        reject(new PlexError(0, 'request timed out', true)); // written: it may have run
      }, this.requestTimeoutMs);
      this._pending.set(seq, { resolve, reject, timer });
      this._write({ seq, uri, body, meta });
    });
  }

  async _open() {
    this._lastClose = null;
    this._info = null;
    this._setState('connecting');
    let token;
    try {
      token = typeof this.token === 'function' ? await this.token() : this.token;
    } catch (err) {
      this._retry({ code: 0, reason: `token: ${err.message}`, terminal: false });
      return;
    }
    if (this._stopped) {
      this._setState('stopped', { code: 0, reason: 'closed' });
      return;
    }
    const ws = new this._WebSocket(this.url);
    this._ws = ws;
    const now = Date.now();
    this._lastSent = now;
    this._lastRecv = now;
    this._heartbeatMs = DEFAULT_HEARTBEAT_MS;
    this._timeoutMs = DEFAULT_TIMEOUT_MS;
    ws.onopen = () => {
      if (ws !== this._ws) return;
      this._setState('authenticating');
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
      if (typeof ev.data !== 'string') return; // protobuf is not spoken here
      let m;
      try {
        m = decode(ev.data);
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
        this._startTick();
        clearTimeout(this._resetTimer);
        this._resetTimer = setTimeout(() => {
          this._attempt = 0; // stayed up long enough: the next drop retries fast
        }, this.backoff.resetAfterMs);
        this._setState('online', info);
        this._emit('online', info);
        return;
      }
      case URI.AUTH_FAILED:
      case URI.DISCONNECT: {
        // the last frame: remember why; the node closes next (§13.1)
        const code = Number(m.meta.code ?? (m.uri === URI.AUTH_FAILED ? Code.AUTH_FAILED : 0));
        this._lastClose = { code, reason: m.meta.reason ?? m.body };
        return;
      }
      case URI.HEARTBEAT:
        return;
      case URI.REPLY:
      case URI.ERROR: {
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
    this._ws.send(encode(m));
    this._lastSent = Date.now();
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
    for (const [, p] of this._pending) {
      clearTimeout(p.timer);
      p.reject(new PlexError(code, 'connection closed', true)); // written, reply lost
    }
    this._pending.clear();
    if (this._stopped) {
      this._emit('disconnect', { code, reason, terminal: true, retryInMs: -1 });
      this._setState('stopped', { code: 0, reason: 'closed' });
      return;
    }
    if (isTerminal(code)) {
      this._stopped = true;
      this._emit('disconnect', { code, reason, terminal: true, retryInMs: -1 });
      this._setState('stopped', { code, reason });
      return;
    }
    this._retry({ code, reason, terminal: false });
  }

  _retry(d) {
    // exponential backoff with full jitter (§13.3)
    const cap = Math.min(this.backoff.maxMs, this.backoff.initialMs * 2 ** this._attempt);
    this._attempt = Math.min(this._attempt + 1, 30);
    const delay = Math.round(Math.random() * cap);
    this._emit('disconnect', { ...d, retryInMs: delay });
    this._setState('reconnecting', { ...d, retryInMs: delay });
    this._retryTimer = setTimeout(() => {
      this._retryTimer = null;
      if (!this._stopped) this._open();
    }, delay);
  }
}

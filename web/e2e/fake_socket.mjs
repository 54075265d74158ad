// Helpers for the browser client's unit tests (limits.test.mjs,
// resume.test.mjs): plex.js loaded in node, a fake WebSocket, and a login.
// No browser and no node process.

import { readFileSync } from 'node:fs';

// plex.js is an ES module outside any package.json saying so: load its
// source as one (it imports nothing).
const src = readFileSync(new URL('../client/plex.js', import.meta.url));
export const plex = await import(`data:text/javascript;base64,${src.toString('base64')}`);
export const { Client } = plex;

export class FakeWebSocket {
  static last = null;
  constructor(url) {
    this.url = url;
    this.readyState = 0;
    this.sent = [];
    this.closed = null;
    FakeWebSocket.last = this;
  }
  send(data) {
    // protobuf clients send binary messages (Uint8Array), JSON ones text
    this.sent.push(typeof data === 'string' ? JSON.parse(data) : { ...plex.decodeProtobuf(data), binary: true });
  }
  close(code, reason) {
    this.closed = { code, reason };
    this.readyState = 3;
  }
  // receive delivers m (an object) as the node would.
  receive(m) {
    if (this.binaryType === 'arraybuffer') {
      const b = plex.encodeProtobuf(m);
      this.onmessage({ data: b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) });
      return;
    }
    this.onmessage({ data: JSON.stringify(m) });
  }
  // end closes the connection from the node's side (after its final message).
  end(code = 1006, reason = '') {
    this.readyState = 3;
    this.onclose({ code, reason });
  }
}

// login opens c's next connection and answers its auth with the facts body.
export async function login(c, body) {
  await Promise.resolve(); // _open awaits the token
  const ws = FakeWebSocket.last;
  ws.readyState = 1;
  ws.onopen();
  ws.receive({ uri: '/auth/success', body });
  return ws;
}

// online connects a new client (extra options opts) and logs it in.
export async function online(body, opts = {}) {
  const c = new Client({ url: 'ws://node.invalid/plex/v1/ws', token: 'alice', WebSocket: FakeWebSocket, ...opts });
  c.connect();
  const ws = await login(c, body);
  return { c, ws };
}

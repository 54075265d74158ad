// Unit tests of the browser client's shared behaviour (docs/clients.md,
// docs/protocol.md §13.6): states, backoff, background mode, drain, messages,
// protobuf (golden vectors) and discovery, through the WebSocket injection
// seam (FakeWebSocket). No browser, no node; timers are node's mock timers.
// conformance: states backoff background drain message protobuf discovery vectors

import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import { plex, Client, FakeWebSocket, login, online } from './fake_socket.mjs';

const facts = (extra = {}) => JSON.stringify({ uid: 'alice', heartbeat_ms: 30000, timeout_ms: 75000, ...extra });

test('backoff: uniform in [floor, min(max, min·2^n)], never below 100 ms', () => {
  const lowest = () => 0;
  const highest = () => 0.9999999999;
  const cases = [
    [0, {}, 100, 500],
    [1, {}, 100, 1000],
    [6, {}, 100, 30000],
    [1000, {}, 100, 30000],
    [0, { initialMs: 40, maxMs: 1000 }, 40, 40], // min below the floor lowers it
    [2, { initialMs: 200, maxMs: 1000 }, 100, 800],
    [3, { initialMs: 200, maxMs: 1000 }, 100, 1000],
  ];
  for (const [n, b, lo, hi] of cases) {
    assert.equal(plex.backoffDelay(n, b, lowest), lo, `attempt ${n} ${JSON.stringify(b)}: lowest`);
    assert.equal(plex.backoffDelay(n, b, highest), hi, `attempt ${n} ${JSON.stringify(b)}: highest`);
    for (let i = 0; i < 100; i++) {
      const d = plex.backoffDelay(n, b);
      assert.ok(d >= lo && d <= hi, `attempt ${n}: ${d} outside [${lo}, ${hi}]`);
    }
  }
});

test('states: connecting → online → reconnecting → connecting → online → closed; 4xxx closes', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'] });
  const { c, ws } = await online(facts(), { random: () => 0 });
  const states = [];
  c.on('state', (s, d) => states.push([s, d?.code ?? null]));
  const retries = [];
  c.on('disconnect', (d) => retries.push(d.retryInMs));
  ws.end(1006);
  assert.deepEqual(states, [['reconnecting', 0]]);
  assert.equal(retries[0], 100, 'the floor with the lowest draw: not 0 ms');
  t.mock.timers.tick(100);
  assert.deepEqual(states.at(-1), ['connecting', null]);
  const ws2 = await login(c, facts());
  assert.notEqual(ws2, ws);
  assert.deepEqual(states.at(-1)[0], 'online');
  // the second drop without a message in between: attempt 1, still [floor, 1000]
  ws2.end(1006);
  assert.equal(retries[1], 100);
  t.mock.timers.tick(100);
  const ws3 = await login(c, facts());
  ws3.receive({ uri: '/disconnect', meta: { code: '4002', reason: 'replaced' } });
  ws3.end(4002);
  assert.deepEqual(states.at(-1), ['closed', 4002]);
  assert.equal(c.state, 'closed');
  t.mock.timers.tick(60000);
  assert.equal(FakeWebSocket.last, ws3, 'no reconnect after a 4xxx code');
});

test('backoff: attempts grow while connections fail; a message resets them', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'] });
  const { c, ws } = await online(facts(), { random: () => 0.9999999999 });
  const retries = [];
  c.on('disconnect', (d) => retries.push(d.retryInMs));
  ws.end(1006);
  t.mock.timers.tick(retries.at(-1));
  await Promise.resolve();
  FakeWebSocket.last.end(1006); // failed before auth
  t.mock.timers.tick(retries.at(-1));
  await Promise.resolve();
  FakeWebSocket.last.end(1006);
  assert.deepEqual(retries, [500, 1000, 2000]);
  t.mock.timers.tick(retries.at(-1));
  const ws4 = await login(c, facts());
  ws4.receive({ uri: '/chat', body: 'hi' });
  ws4.end(1006);
  assert.equal(retries.at(-1), 500, 'a connection that delivered a message resets the attempts');
  t.mock.timers.tick(500);
  const ws5 = await login(c, facts());
  t.mock.timers.tick(10000); // online for 10 s: reset too
  ws5.end(1006);
  assert.equal(retries.at(-1), 500);
  c.close();
});

test('ack and resume: acks after delivery, resume on reconnect, duplicates dropped', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'] });
  const { c, ws } = await online(facts({ acks: true }), { random: () => 0 });
  const got = [];
  c.on('message', (m) => got.push(m.seq));
  ws.receive({ seq: 1, uri: '/p', body: 'a', meta: { persist: '1' } });
  ws.receive({ seq: 2, uri: '/p', body: 'b', meta: { persist: '1' } });
  t.mock.timers.tick(100);
  assert.deepEqual(ws.sent.at(-1), { seq: 2, uri: '/ack' });
  ws.end(1006);
  t.mock.timers.tick(100);
  const ws2 = await login(c, facts({ acks: true, resume: 2 }));
  assert.equal(ws2.sent[0].meta.resume, '2');
  ws2.receive({ seq: 2, uri: '/p', body: 'b', meta: { persist: '1' } });
  ws2.receive({ seq: 3, uri: '/p', body: 'c', meta: { persist: '1' } });
  assert.deepEqual(got, [1, 2, 3]);
  c.close();
});

test('background: asks after online, slows down only once confirmed, asks again after a reconnect', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'] });
  const f = facts({ heartbeat_ms: 1000, timeout_ms: 2500, background_heartbeat_ms: 60000, background_timeout_ms: 150000 });
  const { c, ws } = await online(f, { random: () => 0 });
  c.setBackground(true);
  assert.equal(ws.sent.at(-1).meta.mode, 'background');
  const heartbeats = () => ws.sent.filter((m) => m.uri === '/heartbeat' && !m.meta).length;
  t.mock.timers.tick(1000);
  assert.equal(heartbeats(), 1, 'the normal pace until the node confirms');
  ws.receive({ uri: '/heartbeat', meta: { mode: 'background' } });
  const before = heartbeats();
  for (let i = 0; i < 50; i++) t.mock.timers.tick(1000); // 50 s: within the background timeout
  assert.equal(heartbeats(), before, 'no heartbeat in background before its interval');
  assert.equal(c.state, 'online', 'the normal timeout does not apply in background');
  c.setBackground(false);
  assert.equal(ws.sent.at(-1).meta.mode, 'foreground');
  t.mock.timers.tick(1000);
  assert.equal(heartbeats(), before + 1, 'the normal pace at once in the foreground');

  c.setBackground(true);
  ws.end(1006);
  t.mock.timers.tick(100);
  const ws2 = await login(c, f);
  assert.equal(ws2.sent.at(-1).meta?.mode, 'background', 'asked again on the new connection');
  c.close();
});

test('background: a node without it gets no mode request', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'] });
  const { c, ws } = await online(facts());
  c.setBackground(true);
  assert.equal(ws.sent.filter((m) => m.uri === '/heartbeat').length, 0);
  c.close();
});

test('drain: a request unanswered at a draining node\'s /disconnect 3000 is sent again, once', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'] });
  const { c, ws } = await online(facts({ drain: true }), { random: () => 0 });
  const answered = c.request('/room/join', 'r1');
  const req = ws.sent.at(-1);
  assert.equal(req.uri, '/room/join');
  ws.receive({ uri: '/disconnect', meta: { code: '3000', reason: 'shutting down' } });
  ws.end(3000);
  t.mock.timers.tick(100);
  const ws2 = await login(c, facts({ drain: true }));
  const again = ws2.sent.filter((m) => m.uri === '/room/join');
  assert.equal(again.length, 1);
  assert.equal(again[0].seq, req.seq);
  ws2.receive({ seq: req.seq, uri: '/reply', body: 'ok' });
  assert.equal((await answered).body, 'ok');
  c.close();
});

test('drain: a request a draining node leaves unanswered twice is rejected as not executed, not sent a third time', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'] });
  const { c, ws } = await online(facts({ drain: true }), { random: () => 0 });
  const p = c.request('/room/join', 'r1');
  const req = ws.sent.at(-1);
  ws.receive({ uri: '/disconnect', meta: { code: '3000', reason: 'shutting down' } });
  ws.end(3000);
  t.mock.timers.tick(100);
  const ws2 = await login(c, facts({ drain: true }));
  assert.equal(ws2.sent.filter((m) => m.uri === '/room/join').length, 1, 'sent again, once');
  ws2.receive({ uri: '/disconnect', meta: { code: '3000', reason: 'shutting down' } });
  ws2.end(3000);
  await assert.rejects(p, (err) => err.outcomeUnknown === false && err.code === 3000);
  t.mock.timers.tick(100);
  const ws3 = await login(c, facts({ drain: true }));
  assert.equal(ws3.sent.filter((m) => m.seq === req.seq).length, 0, 'not sent a third time');
  c.close();
});

test('drain: any /disconnect of a draining node (3001, 3007) leaves the request for resending', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'] });
  for (const code of ['3001', '3007']) {
    const { c, ws } = await online(facts({ drain: true }), { random: () => 0 });
    const p = c.request('/room/join', 'r1');
    ws.receive({ uri: '/disconnect', meta: { code, reason: 'x' } });
    ws.end(Number(code));
    c.close();
    await assert.rejects(p, (err) => err.outcomeUnknown === false);
  }
});

test('drain: without drain, or without /disconnect, the outcome is unknown', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'] });
  for (const [extra, disconnect] of [[{}, true], [{ drain: true }, false]]) {
    const { c, ws } = await online(facts(extra), { random: () => 0 });
    const p = c.request('/room/join', 'r1');
    if (disconnect) ws.receive({ uri: '/disconnect', meta: { code: '3000', reason: 'x' } });
    ws.end(disconnect ? 3000 : 1006);
    await assert.rejects(p, (err) => err.outcomeUnknown === true);
    c.close();
  }
});

test('drain: a request kept for resending is rejected as not executed on close', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'] });
  const { c, ws } = await online(facts({ drain: true }), { random: () => 0 });
  const p = c.request('/room/join', 'r1');
  ws.receive({ uri: '/disconnect', meta: { code: '3000', reason: 'shutting down' } });
  ws.end(3000);
  c.close();
  await assert.rejects(p, (err) => err.outcomeUnknown === false);
});

test('message: to a user and to a room, the reply resolves with its counts, /error rejects with its code', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'] });
  const { c, ws } = await online(facts());
  const toBob = c.message({ to: 'bob', body: 'hi bob', conversation: 'c1' });
  const req = ws.sent.at(-1);
  assert.equal(req.uri, '/message');
  assert.ok(req.seq > 0, 'a request id in seq');
  assert.deepEqual(JSON.parse(req.body), { to: 'bob', body: 'hi bob', conversation: 'c1' });
  ws.receive({ seq: req.seq, uri: '/reply', body: '{"id":"n1-1","seq":12,"delivered":1}' });
  assert.deepEqual(await toBob, { id: 'n1-1', seq: 12, delivered: 1 });

  const toRoom = c.message({ room: 'team-7', body: 'lunch?' });
  const rreq = ws.sent.at(-1);
  assert.notEqual(rreq.seq, req.seq);
  assert.deepEqual(JSON.parse(rreq.body), { room: 'team-7', body: 'lunch?' });
  ws.receive({ seq: rreq.seq, uri: '/reply', body: '{"id":"n1-2","seq":5,"stored":3,"delivered":4}' });
  assert.deepEqual(await toRoom, { id: 'n1-2', seq: 5, delivered: 4, stored: 3 });

  for (const [code, unknown] of [['4003', false], ['4006', false], ['3005', false], ['3008', true]]) {
    const refused = c.message({ room: 'team-7', body: 'x' });
    ws.receive({ seq: ws.sent.at(-1).seq, uri: '/error', body: 'no', meta: { code, reason: 'no' } });
    await assert.rejects(refused, (err) => err.code === Number(code) && err.outcomeUnknown === unknown, `code ${code}`);
  }
  const before = ws.sent.length;
  await assert.rejects(c.message({ to: 'bob', room: 'team-7', body: 'x' }), (err) => err.code === 4004);
  await assert.rejects(c.message({ body: 'x' }), (err) => err.code === 4004);
  assert.equal(ws.sent.length, before, 'nothing sent for a malformed message');
  c.close();
  ws.end(1000);
  await assert.rejects(c.message({ to: 'bob', body: 'x' }), (err) => err.outcomeUnknown === false, 'not online');
});

test('drain: a /message unanswered at a draining node\'s /disconnect is sent again once, with its seq; without drain its outcome is unknown', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'] });
  const { c, ws } = await online(facts({ drain: true }), { random: () => 0 });
  const sent = c.message({ room: 'team-7', body: 'lunch?' });
  const req = ws.sent.at(-1);
  ws.receive({ uri: '/disconnect', meta: { code: '3000', reason: 'shutting down' } });
  ws.end(3000);
  t.mock.timers.tick(100);
  const ws2 = await login(c, facts({ drain: true }));
  const again = ws2.sent.filter((m) => m.uri === '/message');
  assert.deepEqual(again, [req], 'the same frame, once');
  ws2.receive({ seq: req.seq, uri: '/reply', body: '{"id":"n2-1","seq":6,"stored":2,"delivered":1}' });
  assert.deepEqual(await sent, { id: 'n2-1', seq: 6, delivered: 1, stored: 2 });
  c.close();

  const plain = await online(facts(), { random: () => 0 });
  const lost = plain.c.message({ to: 'bob', body: 'x' });
  plain.ws.receive({ uri: '/disconnect', meta: { code: '3000', reason: 'shutting down' } });
  plain.ws.end(3000);
  await assert.rejects(lost, (err) => err.outcomeUnknown === true);
  plain.c.close();
});

// settled reports whether p has settled (after the pending microtasks ran).
async function settled(p) {
  let done = false;
  p.then(() => (done = true), () => (done = true));
  for (let i = 0; i < 5; i++) await Promise.resolve();
  return done;
}

test('requests while not online: made while reconnecting or connecting, they wait and are written once online, in order, with their seqs', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'] });
  const { c, ws } = await online(facts(), { random: () => 0 });
  ws.end(1006);
  assert.equal(c.state, 'reconnecting');
  const before = ws.sent.length;
  const joined = c.request('/room/join', 'r1');
  t.mock.timers.tick(100);
  assert.equal(c.state, 'connecting');
  const sent = c.message({ to: 'bob', body: 'hi' });
  assert.equal(await settled(joined), false, 'it waits');
  assert.equal(ws.sent.length, before, 'nothing written on the old connection');
  const ws2 = await login(c, facts());
  const reqs = ws2.sent.filter((m) => m.uri !== '/auth/server');
  assert.deepEqual(reqs.map((m) => m.uri), ['/room/join', '/message'], 'in the order made');
  assert.ok(reqs[0].seq > 0 && reqs[1].seq > reqs[0].seq, 'each with its seq');
  ws2.receive({ seq: reqs[1].seq, uri: '/reply', body: '{"id":"n1-1","seq":3,"delivered":1}' });
  ws2.receive({ seq: reqs[0].seq, uri: '/reply', body: 'ok' });
  assert.equal((await joined).body, 'ok');
  assert.deepEqual(await sent, { id: 'n1-1', seq: 3, delivered: 1 });
  assert.equal(ws2.sent.filter((m) => m.uri === '/room/join').length, 1, 'written once');
  c.close();
});

test('requests while not online: one not written within requestTimeoutMs is rejected as not executed and never written', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'] });
  const opts = { random: () => 0.9999999999, backoff: { initialMs: 60000, maxMs: 60000 }, requestTimeoutMs: 5000 };
  const { c, ws } = await online(facts(), opts);
  ws.end(1006);
  const p = c.request('/room/join', 'r1');
  t.mock.timers.tick(4999);
  assert.equal(await settled(p), false);
  t.mock.timers.tick(1);
  await assert.rejects(p, (err) => err.reason === 'request timed out' && err.outcomeUnknown === false);
  t.mock.timers.tick(55000);
  const ws2 = await login(c, facts());
  assert.deepEqual(ws2.sent.map((m) => m.uri), ['/auth/server'], 'never written');
  c.close();
});

test('requests while not online: one written once online and unanswered at its timeout has an unknown outcome', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'] });
  const { c, ws } = await online(facts(), { random: () => 0, requestTimeoutMs: 2500 });
  ws.end(1006);
  const p = c.message({ to: 'bob', body: 'hi' });
  t.mock.timers.tick(100);
  const ws2 = await login(c, facts());
  assert.equal(ws2.sent.filter((m) => m.uri === '/message').length, 1);
  t.mock.timers.tick(2400); // 2500 ms after the call
  await assert.rejects(p, (err) => err.reason === 'request timed out' && err.outcomeUnknown === true);
  c.close();
});

test('requests while not online: close rejects the waiting ones as not executed; idle and closed reject at once', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'] });
  const idle = new Client({ url: 'ws://node.invalid/plex/v1/ws', token: 'alice', WebSocket: FakeWebSocket });
  await assert.rejects(idle.request('/room/join', 'r1'), (err) => err.reason === 'not connected' && err.outcomeUnknown === false);

  const { c, ws } = await online(facts(), { random: () => 0 });
  ws.end(1006);
  const p = c.message({ to: 'bob', body: 'hi' });
  assert.equal(await settled(p), false, 'it waits');
  c.close();
  await assert.rejects(p, (err) => err.reason === 'client closed' && err.outcomeUnknown === false);
  assert.equal(c.state, 'closed');
  await assert.rejects(c.request('/room/join', 'r1'), (err) => err.reason === 'not connected');
  t.mock.timers.tick(60000);
  assert.equal(FakeWebSocket.last, ws, 'no reconnect, nothing written');
});

test('requests while not online: at most maxWaitingRequests (1024) wait; beyond, rejected at once', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'] });
  const { c, ws } = await online(facts(), { random: () => 0 });
  assert.equal(c.maxWaitingRequests, 1024);
  ws.end(1006);
  const waiting = [];
  for (let i = 0; i < 1024; i++) waiting.push(c.request('/room/join', `r${i}`));
  await assert.rejects(c.request('/room/join', 'over'), (err) => /too many requests waiting/.test(err.reason) && err.outcomeUnknown === false);
  assert.equal(await settled(waiting[1023]), false);
  t.mock.timers.tick(100);
  const ws2 = await login(c, facts());
  assert.equal(ws2.sent.filter((m) => m.uri === '/room/join').length, 1024);
  c.close();
  ws2.end(1000);
  for (const r of await Promise.allSettled(waiting)) assert.equal(r.status, 'rejected');
});

test('requests while not online: one first written after a reconnect keeps its one resend after a drain', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'] });
  const { c, ws } = await online(facts({ drain: true }), { random: () => 0 });
  ws.end(1006);
  const p = c.request('/room/join', 'r1');
  t.mock.timers.tick(100);
  const ws2 = await login(c, facts({ drain: true }));
  const req = ws2.sent.find((m) => m.uri === '/room/join');
  ws2.receive({ uri: '/disconnect', meta: { code: '3000', reason: 'shutting down' } });
  ws2.end(3000);
  t.mock.timers.tick(100);
  const ws3 = await login(c, facts({ drain: true }));
  assert.deepEqual(ws3.sent.filter((m) => m.uri === '/room/join'), [req], 'its one resend, same seq');
  ws3.receive({ uri: '/disconnect', meta: { code: '3000', reason: 'shutting down' } });
  ws3.end(3000);
  await assert.rejects(p, (err) => err.outcomeUnknown === false, 'not executed, not sent a third time');
  t.mock.timers.tick(100);
  const ws4 = await login(c, facts({ drain: true }));
  assert.equal(ws4.sent.filter((m) => m.uri === '/room/join').length, 0);
  c.close();
});

test('protobuf: a protobuf client speaks binary messages end to end', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'] });
  const c = new Client({ url: 'ws://node.invalid/plex/v1/ws', token: 'alice', codec: 'protobuf', WebSocket: FakeWebSocket });
  const got = [];
  c.on('message', (m) => got.push(m));
  c.connect();
  const ws = await login(c, facts());
  assert.equal(ws.binaryType, 'arraybuffer');
  assert.equal(ws.sent[0].binary, true);
  assert.equal(ws.sent[0].uri, '/auth/server');
  assert.equal(c.state, 'online');
  ws.receive({ seq: 7, uri: '/p', body: 'hé', meta: { persist: '1' } });
  assert.equal(got[0].body, 'hé');
  assert.equal(got[0].seq, 7);
  t.mock.timers.tick(100);
  assert.deepEqual({ seq: ws.sent.at(-1).seq, uri: ws.sent.at(-1).uri, binary: ws.sent.at(-1).binary }, { seq: 7, uri: '/ack', binary: true });
  c.close();
});

const hex = (s) => Uint8Array.from(s.match(/../g) ?? [], (x) => parseInt(x, 16));
const toHex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

test('protobuf: golden vectors (protocol §16)', () => {
  // seqs are int64: read them as text, compared as BigInt
  const text = readFileSync(new URL('../../pack/testdata/vectors.json', import.meta.url), 'utf8');
  const v = JSON.parse(text.replace(/"seq": ?(-?\d+)/g, '"seq": "$1"'));
  assert.equal(v.version, 1);
  let n = 0;
  for (const c of [...v.valid, ...v.decode_only]) {
    if (c.codec !== 'protobuf') continue;
    const body = hex(c.frame_hex).subarray(4); // WebSocket carries the body only (§19.2)
    const m = plex.decodeProtobuf(body);
    assert.equal(m.seqBig, BigInt(c.message.seq), `${c.name}: seq`);
    assert.equal(m.uri, c.message.uri, `${c.name}: uri`);
    assert.equal(toHex(m.bodyBytes), c.message.body_hex, `${c.name}: body`);
    assert.deepEqual({ ...m.meta }, c.message.meta, `${c.name}: meta`);
    if (v.valid.includes(c)) {
      const enc = plex.encodeProtobuf({ ...c.message, seq: BigInt(c.message.seq), body: hex(c.message.body_hex) });
      assert.equal(toHex(enc), toHex(body), `${c.name}: encoding`);
    }
    n++;
  }
  for (const c of v.invalid) {
    if (c.codec !== 'protobuf' || c.error === 'frame_too_large' || c.error === 'truncated') continue; // framing: not on WebSocket
    const b = hex(c.frame_hex);
    const len = c.order === 'big' ? new DataView(b.buffer).getUint32(0) : new DataView(b.buffer).getUint32(0, true);
    const bodies = [];
    for (let i = 0; i + 4 <= b.length; ) {
      const l = c.order === 'big' ? new DataView(b.buffer, i).getUint32(0) : new DataView(b.buffer, i).getUint32(0, true);
      bodies.push(b.subarray(i + 4, i + 4 + l));
      i += 4 + l;
    }
    assert.ok(len >= 0);
    let err = null;
    for (const body of bodies) {
      try {
        plex.decodeProtobuf(body);
      } catch (e) {
        err = e;
        break;
      }
    }
    assert.ok(err, `${c.name}: decoded`);
    assert.equal(err.code, c.error, `${c.name}: error`);
    n++;
  }
  assert.ok(n >= 50, `only ${n} protobuf vectors checked`);
});

test('discovery: asks GET /plex/v1/host before each attempt and dials the node it names', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'] });
  const asked = [];
  const answers = [{ host: '10.0.0.7:9578' }, { host: '10.0.0.8:9578', ws: 'wss://n8.example/plex/v1/ws' }];
  const fetch = async (url, init) => {
    asked.push([url, init.mode]);
    const a = answers.shift();
    return { ok: true, status: 200, json: async () => a };
  };
  const c = new Client({ discoveryUrl: 'http://lb.example:9579', token: 'alice', WebSocket: FakeWebSocket, fetch, random: () => 0 });
  c.connect();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(asked, [['http://lb.example:9579/plex/v1/host', 'cors']]);
  assert.equal(FakeWebSocket.last.url, 'ws://10.0.0.7:9579/plex/v1/ws', 'the named host on the discovery port');
  const ws = FakeWebSocket.last;
  ws.readyState = 1;
  ws.onopen();
  ws.receive({ uri: '/auth/success', body: facts() });
  ws.end(1006);
  t.mock.timers.tick(100);
  await new Promise((r) => setImmediate(r));
  assert.equal(asked.length, 2);
  assert.equal(FakeWebSocket.last.url, 'wss://n8.example/plex/v1/ws', 'a ws member wins');
  c.close();
});

test('discovery: a failed discovery is retried with backoff', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'] });
  const fetch = async () => ({ ok: false, status: 503, json: async () => ({}) });
  const c = new Client({ discoveryUrl: 'http://lb.example:9579', token: 'alice', WebSocket: FakeWebSocket, fetch, random: () => 0 });
  const ds = [];
  c.on('disconnect', (d) => ds.push(d));
  c.connect();
  await new Promise((r) => setImmediate(r));
  assert.equal(c.state, 'reconnecting');
  assert.match(ds[0].reason, /503/);
  c.close();
  assert.equal(c.state, 'closed');
});

test('app: meta app (and device) on /auth/server', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'] });
  const { c, ws } = await online(facts(), { meta: { app: 'talk' }, device: 'tab-1' });
  assert.equal(ws.sent[0].uri, '/auth/server');
  assert.equal(ws.sent[0].meta.app, 'talk');
  assert.equal(ws.sent[0].meta.device, 'tab-1');
  c.close();
});

// The browser client and the node's resume point (docs/protocol.md §12,
// §10.3): run with `node --test resume.test.mjs`, no browser and no node
// process (fake_socket.mjs).

import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { FakeWebSocket, login, online } from './fake_socket.mjs';

const persistent = (seq) => ({ seq, uri: '/chat', body: `m${seq}`, meta: { persist: '1', id: `m${seq}` } });
const acks = (ws) => ws.sent.filter((m) => m.uri === '/ack').map((m) => m.seq);
const facts = (resume) => JSON.stringify({ uid: 'alice', acks: true, resume });

function record(c) {
  const got = [];
  c.on('message', (m) => got.push(m.seq));
  return got;
}

test('a resume point below the one sent restarts dedup and acks there', async (t) => {
  mock.timers.enable({ apis: ['setInterval', 'setTimeout', 'Date'] });
  t.after(() => mock.timers.reset());
  const { c, ws } = await online(facts(0), { lastSeq: 1000 });
  assert.equal(ws.sent[0].meta.resume, '1000');
  assert.equal(c.state, 'online');
  assert.equal(c.lastSeq, 0, 'the node never issued seqs up to 1000');
  const got = record(c);
  ws.receive(persistent(5));
  ws.receive(persistent(5));
  assert.deepEqual(got, [5], 'seq 5 of the new store is delivered once');
  mock.timers.tick(100); // ackDelayMs
  assert.deepEqual(acks(ws), [5]);
  c.close();
});

test('a resume point as sent changes nothing', async (t) => {
  mock.timers.enable({ apis: ['setInterval', 'setTimeout', 'Date'] });
  t.after(() => mock.timers.reset());
  const { c, ws } = await online(facts(1000), { lastSeq: 1000 });
  assert.equal(c.lastSeq, 1000);
  const got = record(c);
  ws.receive(persistent(5));
  ws.receive(persistent(1000));
  assert.deepEqual(got, [], 'seq <= 1000 is still a duplicate');
  ws.receive(persistent(1001));
  mock.timers.tick(100);
  assert.deepEqual(got, [1001]);
  assert.deepEqual(acks(ws), [1001]);
  c.close();
});

test('a reconnect answered below the resume point acks the new seqs', async (t) => {
  mock.timers.enable({ apis: ['setInterval', 'setTimeout', 'Date'] });
  t.after(() => mock.timers.reset());
  const { c, ws } = await online('{"uid":"alice","acks":true}');
  const got = record(c);
  ws.receive(persistent(1001));
  ws.receive(persistent(1002));
  mock.timers.tick(100);
  assert.deepEqual(acks(ws), [1002]);
  ws.onclose({ code: 1006, reason: '' }); // the node restarts without its store
  mock.timers.tick(1000); // the first retry is within backoff.initialMs
  assert.notEqual(FakeWebSocket.last, ws, 'reconnected');
  const ws2 = await login(c, facts(0));
  assert.equal(ws2.sent[0].meta.resume, '1002');
  assert.equal(c.lastSeq, 0);
  ws2.receive(persistent(5));
  mock.timers.tick(100);
  assert.deepEqual(got, [1001, 1002, 5]);
  assert.deepEqual(acks(ws2), [5], 'acked although below what the old connection acked');
  c.close();
});

test('a resume point that is not a seq is ignored', async (t) => {
  mock.timers.enable({ apis: ['setInterval', 'setTimeout', 'Date'] });
  t.after(() => mock.timers.reset());
  for (const resume of ['"3"', '-1', '1.5', '9223372036854775807', 'null']) {
    const { c } = await online(`{"acks":true,"resume":${resume}}`, { lastSeq: 1000 });
    assert.equal(c.lastSeq, 1000, `resume ${resume}`);
    c.close();
  }
  const { c } = await online(facts(0)); // nothing sent: nothing to rewind
  assert.equal(c.lastSeq, 0);
  c.close();
});

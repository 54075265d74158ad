// The browser client's handling of numbers the node sends (issue 12): run
// with `node --test limits.test.mjs`, no browser and no node process. A
// fake WebSocket stands in for the socket and node's mock timers for time.

import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { online } from './fake_socket.mjs';

const DAY = 24 * 60 * 60 * 1000;

test('a huge or infinite timeout_ms is capped at a day', async (t) => {
  mock.timers.enable({ apis: ['setInterval', 'setTimeout', 'Date'] });
  t.after(() => mock.timers.reset());
  // JSON.parse reads 1e400 as Infinity: the timeout never fired
  for (const body of ['{"heartbeat_ms":1e400,"timeout_ms":1e400}', '{"heartbeat_ms":9223372036854775807,"timeout_ms":9223372036854775807}']) {
    const { c, ws } = await online(body);
    assert.equal(c.state, 'online');
    mock.timers.tick(DAY - 1000);
    assert.equal(ws.closed, null, `${body}: closed before a day`);
    mock.timers.tick(2000);
    assert.deepEqual(ws.closed, { code: 4000, reason: 'timeout' }, `${body}: a day without input is a timeout`);
    c.close();
  }
});

test('facts that are not numbers keep the defaults', async (t) => {
  mock.timers.enable({ apis: ['setInterval', 'setTimeout', 'Date'] });
  t.after(() => mock.timers.reset());
  // "null" parsed to null and threw; strings were used by coercion
  for (const body of ['null', '{"heartbeat_ms":"5","timeout_ms":"10"}', '{"heartbeat_ms":-1,"timeout_ms":0}', '[]']) {
    const { c, ws } = await online(body);
    assert.equal(c.state, 'online', body);
    mock.timers.tick(30000); // the default heartbeat interval
    assert.equal(ws.closed, null, `${body}: closed at once`);
    assert.ok(ws.sent.some((m) => m.uri === '/heartbeat'), `${body}: heartbeat at the default interval`);
    mock.timers.tick(45000); // 75 s: the default timeout
    assert.equal(ws.closed?.code, 4000, `${body}: the default timeout`);
    c.close();
  }
});

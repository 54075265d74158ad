// End-to-end tests of the browser client (web/client/plex.js) and the
// operator console (web/console) in headless Chromium against a real
// plexd. Run by ci.sh, which builds the binaries and sets:
//   PLEXD, PUSHER   the plexd (read by plexd.mjs) and pusher (Go PlexClient) binaries
//   CHROMIUM        the browser (default /usr/bin/chromium)
//   ARTIFACTS       where screenshots go (on failure, and the console's)

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Plexd, launchChromium, sleep, waitFor } from './plexd.mjs';

const PUSHER = process.env.PUSHER ?? '../../_build/e2e/pusher';
const ARTIFACTS = process.env.ARTIFACTS ?? '../../_build/e2e-artifacts';
const SECRET = 'e2e-inner-secret';
const TALK = { app: 'talk', secret: 'e2e-talk-secret' }; // the app with messages on
const run = promisify(execFile);

mkdirSync(ARTIFACTS, { recursive: true });

// push sends through the Go PlexClient and returns its Result.
async function push(node, args) {
  const { stdout } = await run(PUSHER, ['-addr', node.addr, '-secret', SECRET, ...args]);
  return JSON.parse(stdout);
}

let node;
let browser;
const pages = new Set();

before(async () => {
  node = new Plexd(['-inner-secret', SECRET, '-upstream', 'echo', '-node', 'e2e-node', '-heartbeat', '5s']);
  // a second app with user-to-user and room messages on (docs/apps.md)
  const config = join(node.dir, 'config.json');
  writeFileSync(config, JSON.stringify({ apps: [{ id: TALK.app, auth: 'none', 'inner-secret': TALK.secret, messages: true }] }));
  node.flags.push('-config', config);
  await node.start();
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await node?.stop();
});

async function newPage(name, viewport = { width: 1280, height: 800 }) {
  const ctx = await browser.newContext({ viewport });
  const page = await ctx.newPage();
  page.plexName = name;
  page.errors = [];
  page.on('pageerror', (err) => page.errors.push(err.message));
  page.on('console', (msg) => msg.type() === 'error' && page.errors.push(msg.text()));
  pages.add(page);
  return page;
}

// e2e wraps a test: on failure every open page is saved as a screenshot
// under ARTIFACTS before the error goes on.
function e2e(name, fn) {
  test(name, async () => {
    try {
      await fn();
    } catch (err) {
      const slug = name.replace(/[^a-z0-9]+/gi, '-').toLowerCase();
      for (const p of pages) {
        if (p.isClosed()) continue;
        await p.screenshot({ path: join(ARTIFACTS, `${slug}-${p.plexName}.png`), fullPage: true }).catch(() => {});
      }
      err.message += `\nplexd log:\n${node.log}`;
      throw err;
    } finally {
      for (const p of pages) await p.context().close().catch(() => {});
      pages.clear();
    }
  });
}

// chat opens the demo chat connected as uid (optionally with the secret,
// which joins the room) and waits until it is online.
async function chat(uid, { secret = '', room = 'lobby' } = {}) {
  const page = await newPage(`chat-${uid}`);
  await page.goto(`${node.url}/web/console/chat.html`);
  await page.fill('#uid', uid);
  await page.fill('#room', room);
  await page.fill('#secret', secret);
  await page.click('#connect');
  await page.waitForFunction(() => window.plexChat?.client.state === 'online');
  if (secret) await page.locator('#log .msg', { hasText: `joined ${room}` }).waitFor();
  return page;
}

const logHas = (page, text) => page.locator('#log .msg', { hasText: text }).first().waitFor({ timeout: 10000 });

e2e('a page receives a push sent through the Go PlexClient', async () => {
  const page = await chat('alice');
  const res = await push(node, ['-uid', 'alice', '-uri', '/e2e/hello', '-body', 'from the Go PlexClient']);
  assert.equal(res.delivered, 1);
  await logHas(page, 'from the Go PlexClient');
  const info = await page.evaluate(() => window.plexChat.client.info);
  assert.equal(info.uid, 'alice');
  assert.equal(info.node, 'e2e-node');
  assert.deepEqual(page.errors, []);
});

e2e('a page sends upstream and gets the echo', async () => {
  const page = await chat('carol');
  await page.fill('#text', 'up the stream');
  await page.click('#upstream');
  await logHas(page, 'up the stream');
  const uri = await page.locator('#log .msg', { hasText: 'up the stream' }).locator('.uri').textContent();
  assert.equal(uri, '/chat/say');
});

e2e('persistent pushes are acked and resumed after a reconnect, without duplicates', async () => {
  const page = await chat('dave');
  for (const body of ['p1', 'p2']) await push(node, ['-uid', 'dave', '-uri', '/e2e/p', '-body', body, '-persist']);
  await logHas(page, 'p2');
  const seq = await page.evaluate(() => window.plexChat.client.lastSeq);
  assert.ok(seq >= 2, `lastSeq ${seq}`);
  // offline: the node stores; back online with resume=lastSeq: it replays
  await page.evaluate(() => window.plexChat.client.close());
  await page.waitForFunction(() => window.plexChat.client.state === 'closed');
  await waitFor(async () => !(await onlineOf('dave')), 'dave offline');
  for (const body of ['p3', 'p4']) {
    const r = await push(node, ['-uid', 'dave', '-uri', '/e2e/p', '-body', body, '-persist']);
    assert.equal(r.stored, 1);
    assert.equal(r.delivered, 0);
  }
  await page.evaluate(() => window.plexChat.client.connect());
  await logHas(page, 'p4');
  const bodies = await page.locator('#log .msg.persistent').allTextContents();
  assert.deepEqual(bodies.map((t) => t.replace(/^.*#\d+/, '')), ['p1', 'p2', 'p3', 'p4']);
  assert.equal(await page.evaluate(() => window.plexChat.client.lastSeq), seq + 2);
});

e2e('a page survives a node restart and resumes', async () => {
  const page = await chat('erin');
  await push(node, ['-uid', 'erin', '-uri', '/e2e/r', '-body', 'before restart', '-persist']);
  await logHas(page, 'before restart');
  const seq = await page.evaluate(() => window.plexChat.client.lastSeq);
  await page.evaluate(() => {
    window.states = [];
    window.plexChat.client.on('disconnect', (d) => window.states.push(d.code));
  });
  await node.restart();
  await page.waitForFunction(() => window.states.length > 0);
  assert.equal(await page.evaluate(() => window.states[0]), 3000, 'told to reconnect (shutdown)');
  await page.waitForFunction(() => window.plexChat.client.state === 'online', null, { timeout: 15000 });
  // the node learnt the resume point: the next persistent push comes after it
  const r = await push(node, ['-uid', 'erin', '-uri', '/e2e/r', '-body', 'after restart', '-persist']);
  assert.equal(r.delivered, 1);
  assert.ok(r.seq > seq, `seq ${r.seq} after resume ${seq}`);
  await logHas(page, 'after restart');
  assert.equal(await page.evaluate(() => window.plexChat.client.lastSeq), r.seq);
  const t = await push(node, ['-uid', 'erin', '-uri', '/e2e/t', '-body', 'transient after restart']);
  assert.equal(t.delivered, 1);
  await logHas(page, 'transient after restart');
});

e2e('a terminal code stops the client', async () => {
  const page = await newPage('chat-bad');
  await page.goto(`${node.url}/web/console/chat.html`);
  await page.fill('#uid', 'not a valid uid!');
  await page.click('#connect');
  await page.waitForFunction(() => window.plexChat?.client.state === 'closed');
  await logHas(page, 'stopped: 4001');
  await sleep(700); // no reconnect attempt follows
  assert.equal(await page.evaluate(() => window.plexChat.client.state), 'closed');
});

e2e('message: users of an app message each other and a room through plexd', async () => {
  const page = await newPage('message');
  await page.goto(`${node.url}/web/console/chat.html`);
  for (const uid of ['amy', 'ben']) {
    const res = await fetch(`${node.url}/plex/v1/rooms/crew/join`, {
      method: 'POST', headers: { Authorization: `Bearer ${TALK.secret}` }, body: JSON.stringify({ uid }),
    });
    assert.equal(res.status, 200, `${uid} joins crew`);
  }
  const out = await page.evaluate(async (app) => {
    const { Client } = await import('/web/client/plex.js');
    const url = `ws://${location.host}/plex/v1/ws`;
    const open = (token) => new Promise((resolve) => {
      const c = new Client({ url, token, meta: { app } });
      c.got = [];
      c.on('message', (m) => c.got.push(m));
      c.on('online', () => resolve(c));
      c.connect();
    });
    const [amy, ben] = [await open('amy'), await open('ben')];
    const until = async (f) => { while (!f()) await new Promise((r) => setTimeout(r, 20)); };
    const toBen = await amy.message({ to: 'ben', body: 'hi ben', conversation: 'c1' });
    await until(() => ben.got.length >= 1);
    const toCrew = await amy.message({ room: 'crew', body: 'lunch?' });
    await until(() => ben.got.length >= 2);
    const refusals = [];
    for (const m of [{ to: 'amy', body: 'to myself' }, { room: 'strangers', body: 'hello?' }]) {
      refusals.push(await amy.message(m).then(() => 0, (err) => err.code));
    }
    const amyGot = amy.got.length;
    amy.close();
    ben.close();
    const pick = (m) => ({ seq: m.seq, uri: m.uri, body: m.body, from: m.meta.from, id: m.meta.id, room: m.meta.room, conversation: m.meta.conversation });
    return { toBen, toCrew, refusals, amyGot, benGot: ben.got.map(pick) };
  }, TALK.app);
  assert.equal(out.toBen.delivered, 1);
  assert.ok(out.toBen.seq > 0 && out.toBen.id, JSON.stringify(out.toBen));
  assert.deepEqual(out.benGot[0], { seq: out.toBen.seq, uri: '/message', body: 'hi ben', from: 'amy', id: out.toBen.id, room: undefined, conversation: 'c1' });
  assert.equal(out.toCrew.stored, 2, 'a copy per member, amy included');
  assert.equal(out.toCrew.delivered, 1, 'ben; the sending connection not counted');
  assert.ok(out.toCrew.seq > 0, 'amy is a member: her own copy');
  assert.ok(out.benGot[1].seq > out.toBen.seq, 'ben\'s copy is persistent, after the first message');
  assert.deepEqual(out.benGot[1], { seq: out.benGot[1].seq, uri: '/message', body: 'lunch?', from: 'amy', id: out.toCrew.id, room: 'crew', conversation: undefined });
  assert.equal(out.amyGot, 0, 'the sending connection does not get its copy');
  assert.deepEqual(out.refusals, [4003, 4003], 'to oneself (the app policy), to a room one is not in');
  assert.deepEqual(page.errors, []);
});

async function onlineOf(uid) {
  const res = await fetch(`${node.url}/plex/v1/online?uid=${uid}`, { headers: { Authorization: `Bearer ${SECRET}` } });
  return (await res.json()).online[uid];
}

e2e('the console shows the connection and sends a push that another page receives', async () => {
  const alice = await chat('frank', { secret: SECRET, room: 'e2e-room' });
  const con = await newPage('console');
  await con.goto(`${node.url}/console`);
  assert.match(con.url(), /\/web\/console\/$/);
  await con.fill('#secret', SECRET);
  await con.click('#secret-form button');
  const row = con.locator('#node-rows tr[data-node="e2e-node"]');
  await row.waitFor();
  await waitFor(async () => Number(await row.locator('td.conns').textContent()) >= 1, 'a connection in the node table');
  assert.ok(Number(await row.locator('td.users').textContent()) >= 1);

  await con.fill('#presence-uids', 'frank, nobody');
  await con.click('#presence-form button');
  await con.locator('#presence-result li[data-uid="frank"] .badge.ok').waitFor();
  assert.equal(await con.locator('#presence-result li[data-uid="nobody"] .badge').textContent(), 'offline');

  // a push to the user, then one to the room
  await con.selectOption('#push-kind', 'uid');
  await con.fill('#push-target', 'frank');
  await con.fill('#push-uri', '/console/test');
  await con.fill('#push-body', 'hello from the console');
  await con.click('#push-send');
  await con.locator('#push-result', { hasText: 'delivered 1' }).waitFor();
  await logHas(alice, 'hello from the console');

  await con.selectOption('#push-kind', 'room');
  await con.fill('#push-target', 'e2e-room');
  await con.fill('#push-body', 'to the room');
  await con.click('#push-send');
  await con.locator('#push-result', { hasText: 'delivered 1' }).waitFor();
  await logHas(alice, 'to the room');

  // the frame counters move on the graph
  await waitFor(async () => Number(await con.locator('#total-out').textContent()) > 0, 'frames out counted');
  assert.deepEqual(con.errors, []);
});

e2e('the console renders at 1280x800', async () => {
  await chat('grace');
  const con = await newPage('console-1280');
  await con.goto(`${node.url}/web/console/`);
  await con.fill('#secret', SECRET);
  await con.click('#secret-form button');
  await con.locator('#node-rows tr[data-node="e2e-node"]').waitFor();
  await sleep(2500); // a few graph points
  const vp = { width: 1280, height: 800 };
  for (const sel of ['header h1', '#nodes', '#traffic canvas', '#presence', '#push', '#push-send', '#secret']) {
    const box = await con.locator(sel).boundingBox();
    assert.ok(box && box.width > 0 && box.height > 0, `${sel} is visible`);
    assert.ok(box.x >= 0 && box.y >= 0 && box.x + box.width <= vp.width && box.y + box.height <= vp.height,
      `${sel} fits in 1280x800: ${JSON.stringify(box)}`);
  }
  // nothing overflows sideways, the node table fits its card
  assert.equal(await con.evaluate(() => document.documentElement.scrollWidth), vp.width);
  assert.ok(await con.evaluate(() => {
    const card = document.getElementById('nodes');
    return card.scrollWidth <= card.clientWidth;
  }), 'the node table fits');
  const png = await con.screenshot({ path: join(ARTIFACTS, 'console-1280x800.png') });
  // not blank: count colours and ink in the screenshot (decoded by the browser)
  const probe = await newPage('probe');
  const stats = await probe.evaluate(async (b64) => {
    const img = new Image();
    img.src = `data:image/png;base64,${b64}`;
    await img.decode();
    const c = document.createElement('canvas');
    c.width = img.width;
    c.height = img.height;
    const g = c.getContext('2d');
    g.drawImage(img, 0, 0);
    const d = g.getImageData(0, 0, c.width, c.height).data;
    const colours = new Set();
    let dark = 0;
    for (let i = 0; i < d.length; i += 4) {
      colours.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
      if (d[i] + d[i + 1] + d[i + 2] < 200) dark++;
    }
    return { w: c.width, h: c.height, colours: colours.size, dark: dark / (d.length / 4) };
  }, png.toString('base64'));
  assert.equal(stats.w, 1280);
  assert.equal(stats.h, 800);
  assert.ok(stats.colours > 50, `only ${stats.colours} colours`);
  assert.ok(stats.dark > 0.01 && stats.dark < 0.5, `dark share ${stats.dark}`);
  // the graph canvas has been drawn on
  const inked = await con.evaluate(() => {
    const c = document.getElementById('graph');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
    return n;
  });
  assert.ok(inked > 100, `graph pixels ${inked}`);
  assert.deepEqual(con.errors, []);
});

e2e('the console asks for the inner secret once', async () => {
  const con = await newPage('console-no-secret');
  const polled = () => con.waitForResponse((r) => new URL(r.url()).pathname === '/metrics');
  const twice = Promise.all([polled(), polled().then(polled)]);
  await con.goto(`${node.url}/web/console/`);
  await twice; // two polls answered: whatever a poll writes is on the page
  await sleep(100);
  const text = await con.evaluate(() => document.body.innerText);
  assert.equal(text.split('enter the inner secret').length - 1, 1, text);
  // a secret, then none again: the table asks again, once
  await con.fill('#secret', SECRET);
  await con.click('#secret-form button');
  await con.locator('#node-rows tr[data-node="e2e-node"]').waitFor();
  await con.fill('#secret', '');
  await con.click('#secret-form button');
  await con.locator('#node-rows td.status', { hasText: 'enter the inner secret' }).waitFor();
  await polled();
  await sleep(100);
  const again = await con.evaluate(() => document.body.innerText);
  assert.equal(again.split('enter the inner secret').length - 1, 1, again);
  assert.deepEqual(con.errors, []);
});

// The demo chat's layout at three widths: the Connect card spans 2 of the
// grid's 6 columns and Messages the other 4 (style.css .span2, .span4),
// and no element of a card reaches outside it (chat.html once used a
// class style.css lacked: Messages shrank to one column and its send row
// spilled out). A screenshot per width goes to ARTIFACTS.
e2e('the demo chat lays out at 900, 1280 and 1600 px', async () => {
  for (const width of [900, 1280, 1600]) {
    const page = await newPage(`chat-layout-${width}`, { width, height: 800 });
    await page.goto(`${node.url}/web/console/chat.html`);
    await page.fill('#uid', `layout${width}`);
    await page.click('#connect');
    await page.waitForFunction(() => window.plexChat?.client.state === 'online');
    await page.waitForFunction(() => !document.getElementById('text').disabled);
    const l = await page.evaluate(() => {
      const box = (el) => el.getBoundingClientRect();
      const main = document.querySelector('main');
      const ms = getComputedStyle(main);
      const inner = { left: box(main).left + parseFloat(ms.paddingLeft), right: box(main).right - parseFloat(ms.paddingRight) };
      const gap = parseFloat(ms.columnGap);
      const cards = [...main.querySelectorAll(':scope > .card')].map((c) => ({ id: c.querySelector('h2').textContent, b: box(c) }));
      const spills = [];
      for (const card of main.querySelectorAll(':scope > .card')) {
        const c = box(card);
        for (const el of card.querySelectorAll('*')) {
          const b = box(el);
          if (b.width === 0 && b.height === 0) continue;
          if (b.left < c.left - 0.5 || b.right > c.right + 0.5 || b.top < c.top - 0.5 || b.bottom > c.bottom + 0.5) {
            spills.push(`${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''} [${Math.round(b.left)}, ${Math.round(b.right)}] `
              + `outside its card [${Math.round(c.left)}, ${Math.round(c.right)}]`);
          }
        }
      }
      return {
        inner, gap, spills,
        cards: cards.map(({ id, b }) => ({ id, left: b.left, right: b.right, top: b.top, width: b.width })),
        text: box(document.getElementById('text')).width,
        scrollWidth: document.documentElement.scrollWidth,
      };
    });
    const at = `at ${width}px: ${JSON.stringify(l)}`;
    assert.deepEqual(l.spills, [], at);
    assert.equal(l.scrollWidth, width, `nothing overflows sideways ${at}`);
    const [connect, messages] = l.cards;
    assert.deepEqual([connect.id, messages.id], ['Connect', 'Messages'], at);
    const col = (l.inner.right - l.inner.left - 5 * l.gap) / 6;
    const near = (a, b) => Math.abs(a - b) < 2;
    assert.ok(near(connect.left, l.inner.left) && near(connect.width, 2 * col + l.gap), `Connect spans 2 columns ${at}`);
    assert.ok(near(messages.top, connect.top), `Messages sits beside Connect ${at}`);
    assert.ok(near(messages.width, 4 * col + 3 * l.gap) && near(messages.right, l.inner.right), `Messages spans 4 columns ${at}`);
    assert.ok(l.text > 120, `the message box is usable ${at}`);
    await page.screenshot({ path: join(ARTIFACTS, `chat-${width}x800.png`) });
    assert.deepEqual(page.errors, []);
  }
});

// End-to-end tests of Web Push in the browser client (subscribeWebPush,
// web/client/plex.js) and the sample service worker (web/client/plex-sw.js)
// in headless Chromium against real plexd processes, one with Web Push
// (-webpush-subject) and one without. Run by ci.sh (PLEXD, CHROMIUM).
//
// Headless Chromium here has no push service to reach (no network beyond
// loopback), so PushManager.subscribe fails: the test checks every step up
// to that call and that the failure is reported clearly, and delivers a
// push to the service worker through the DevTools protocol
// (ServiceWorker.deliverPushMessage) to check what the worker shows.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Plexd, launchChromium, waitFor } from './plexd.mjs';

const SUBJECT = 'mailto:e2e@example.com';

let wp; // plexd with Web Push
let plain; // plexd without
let browser;

before(async () => {
  wp = new Plexd(['-inner-secret', 'e2e', '-webpush-subject', SUBJECT], 'plex-e2e-wp-');
  plain = new Plexd(['-inner-secret', 'e2e'], 'plex-e2e-wp-');
  await wp.start();
  await plain.start();
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await wp?.stop();
  await plain?.stop();
});

// page opens a page of node's origin (a secure context: loopback) that
// imports the client, with the notification permission granted.
async function page(node) {
  const ctx = await browser.newContext();
  await ctx.grantPermissions(['notifications'], { origin: node.url });
  const pg = await ctx.newPage();
  pg.errors = [];
  pg.on('pageerror', (err) => pg.errors.push(err.message));
  await pg.goto(`${node.url}/healthz`);
  return pg;
}

// online connects a Client in the page as uid (window.c).
async function online(pg, uid) {
  await pg.evaluate(async (uid) => {
    const { Client } = await import('/web/client/plex.js');
    const c = new Client({ token: uid });
    window.c = c;
    await new Promise((resolve) => {
      c.on('online', resolve);
      c.connect();
    });
  }, uid);
}

function b64url(s) {
  return [...Buffer.from(s, 'base64url')];
}

test('subscribeWebPush: the key, the service worker, then PushManager.subscribe (or a clear error)', async (t) => {
  const res = await fetch(`${wp.url}/plex/v1/webpush/key`);
  assert.equal(res.status, 200);
  const { public_key: key } = await res.json();
  const pg = await page(wp);
  try {
    await online(pg, 'wp-alice');
    const out = await pg.evaluate(async () => {
      const key = Array.from(await window.c.webPushKey());
      let sub = null;
      let err = null;
      try {
        sub = (await window.c.subscribeWebPush('/web/client/plex-sw.js')).toJSON();
      } catch (e) {
        err = { name: e.name, code: e.code, message: e.message, outcomeUnknown: e.outcomeUnknown };
      }
      const reg = await navigator.serviceWorker.getRegistration('/web/client/');
      return { key, sub, err, active: reg?.active?.state, scope: reg?.scope };
    });
    assert.deepEqual(out.key, b64url(key), 'webPushKey() is the node key');
    assert.equal(out.active, 'activated', 'the sample worker is registered and active');
    assert.equal(out.scope, `${wp.url}/web/client/`);
    if (out.sub) {
      // A browser with a reachable push service: the subscription is registered.
      assert.match(out.sub.endpoint, /^https:\/\//);
      assert.ok(out.sub.keys.p256dh && out.sub.keys.auth);
      t.diagnostic('PushManager.subscribe succeeded in this browser');
      assert.equal(await pg.evaluate(() => window.c.unsubscribeWebPush()), true);
    } else {
      // Headless without a push service: the error names the step and the cause.
      assert.equal(out.err.name, 'PlexError');
      assert.equal(out.err.outcomeUnknown, false);
      assert.match(out.err.message, /^plex 0: web push: PushManager\.subscribe failed: \w+: /);
      t.diagnostic(`headless Chromium refused the subscription: ${out.err.message}`);
      assert.equal(await pg.evaluate(() => window.c.unsubscribeWebPush()), false, 'nothing to unsubscribe');
    }
    assert.deepEqual(pg.errors, []);
  } finally {
    await pg.context().close();
  }
});

test('subscribeWebPush reports a node without Web Push, and a client that is not online', async () => {
  const res = await fetch(`${plain.url}/plex/v1/webpush/key`);
  assert.equal(res.status, 404);
  const pg = await page(plain);
  try {
    const offline = await pg.evaluate(async () => {
      const { Client } = await import('/web/client/plex.js');
      const c = new Client({ token: 'x' });
      return c.subscribeWebPush('/web/client/plex-sw.js').catch((e) => e.message);
    });
    assert.equal(offline, 'plex 0: web push: not connected (subscribe once online)');
    await online(pg, 'wp-bob');
    const err = await pg.evaluate(() =>
      window.c.subscribeWebPush('/web/client/plex-sw.js').then(
        () => null,
        (e) => ({ code: e.code, message: e.message }),
      ),
    );
    assert.equal(err.code, 4006);
    assert.match(err.message, /web push: not enabled on the node .*404; plexd -webpush-subject/);
  } finally {
    await pg.context().close();
  }
});

test('the sample service worker shows the notification of a push', async (t) => {
  const pg = await page(wp);
  try {
    const cdp = await pg.context().newCDPSession(pg);
    const regs = new Map();
    cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations }) => {
      for (const r of registrations) regs.set(r.scopeURL, r.registrationId);
    });
    await cdp.send('ServiceWorker.enable');
    await pg.evaluate(async () => {
      const reg = await navigator.serviceWorker.register('/web/client/plex-sw.js');
      const w = reg.installing ?? reg.waiting ?? reg.active;
      if (w.state !== 'activated') {
        await new Promise((r) => w.addEventListener('statechange', () => w.state === 'activated' && r()));
      }
    });
    const scope = `${wp.url}/web/client/`;
    const id = await waitFor(() => regs.get(scope), 'the worker registration over CDP');
    // What vendorpush/webpush sends for meta title/alert/collapse.
    const msg = { title: 'Bob', body: 'hi there', tag: 'chat-42', data: { uri: '/chat', body: 'hi there', seq: '7' } };
    await cdp.send('ServiceWorker.deliverPushMessage', { origin: wp.url, registrationId: id, data: JSON.stringify(msg) });
    const shown = await waitFor(
      () =>
        pg.evaluate(async () => {
          const reg = await navigator.serviceWorker.getRegistration('/web/client/');
          const ns = await reg.getNotifications();
          return ns.length ? ns.map((n) => ({ title: n.title, body: n.body, tag: n.tag, data: n.data })) : null;
        }),
      'the notification',
    );
    assert.deepEqual(shown, [{ title: 'Bob', body: 'hi there', tag: 'chat-42', data: msg.data }]);

    // No title or body (a background push): a focused tab of the site is
    // told instead (it reads the push over its own connection); with none,
    // the default title. Which one depends on whether headless focuses the page.
    await pg.evaluate(() => {
      window.swMessages = [];
      navigator.serviceWorker.addEventListener('message', (e) => window.swMessages.push(e.data));
      navigator.serviceWorker.startMessages();
    });
    const focused = await pg.evaluate(() => document.hasFocus());
    t.diagnostic(`page focused: ${focused}`);
    await cdp.send('ServiceWorker.deliverPushMessage', {
      origin: wp.url, registrationId: id, data: JSON.stringify({ data: { uri: '/sync' } }),
    });
    if (focused) {
      const got = await waitFor(() => pg.evaluate(() => (window.swMessages.length ? window.swMessages : null)), 'the message to the tab');
      assert.deepEqual(got, [{ plexPush: { data: { uri: '/sync' } } }]);
    } else {
      const titles = await waitFor(
        () =>
          pg.evaluate(async () => {
            const reg = await navigator.serviceWorker.getRegistration('/web/client/');
            const ns = await reg.getNotifications();
            return ns.length === 2 ? ns.map((n) => n.title).sort() : null;
          }),
        'the second notification',
      );
      assert.deepEqual(titles, ['Bob', 'New messages']);
    }
  } finally {
    await pg.context().close();
  }
});

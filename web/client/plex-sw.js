// plex-sw.js: a sample service worker for plex Web Push (docs/web.md).
// Copy it next to your pages (a service worker controls the pages under
// its own path) and register it with client.subscribeWebPush(url).
//
// A push that reached no open tab arrives here as the JSON of
// vendorpush/webpush.Message, mapped from the push's meta
// (docs/vendor-push.md §2):
//
//   {"title": meta "title", "body": meta "alert", "tag": meta "collapse",
//    "badge": meta "badge", "data": {"uri", "body", "seq", "persist", ...}}
//
// Browsers require every push to show a notification (userVisibleOnly):
// a push without title and body shows DEFAULT_TITLE, unless a tab of this
// site is focused, which is told instead (it reads the push over its own
// connection anyway).

const DEFAULT_TITLE = 'New messages';

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('push', (event) => {
  let m = {};
  try {
    m = event.data ? event.data.json() : {};
  } catch {
    m = { body: event.data ? event.data.text() : '' };
  }
  event.waitUntil(show(m));
});

async function show(m) {
  const data = m.data ?? {};
  if (!m.title && !m.body) {
    const tabs = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
    const focused = tabs.find((t) => t.focused);
    if (focused) {
      focused.postMessage({ plexPush: m });
      return;
    }
  }
  if (typeof m.badge === 'number' && self.navigator.setAppBadge) {
    self.navigator.setAppBadge(m.badge).catch(() => {});
  }
  await self.registration.showNotification(m.title || DEFAULT_TITLE, {
    body: m.body ?? '',
    tag: m.tag || undefined,
    renotify: Boolean(m.tag), // a newer message with the same tag alerts again
    data,
  });
}

// A click focuses a tab of this site, or opens the worker's scope.
self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  event.waitUntil(
    (async () => {
      const tabs = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
      const tab = tabs[0];
      if (tab) {
        tab.postMessage({ plexNotificationClick: event.notification.data });
        return tab.focus();
      }
      return self.clients.openWindow(self.registration.scope);
    })(),
  );
});

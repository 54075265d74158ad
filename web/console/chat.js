// chat.js: a demo chat on the browser client. Messages come in over the
// WebSocket; the page posts to the room through the HTTP push API (with the
// inner secret it holds in memory) or sends upstream.

import { Client } from '../client/plex.js';
import { postJSON } from './api.js';

const $ = (id) => document.getElementById(id);
let client = null;
let secret = '';

function log(text, cls = '', uri = '') {
  const div = document.createElement('div');
  div.className = `msg ${cls}`;
  if (uri) {
    const u = document.createElement('span');
    u.className = 'uri';
    u.textContent = uri;
    div.append(u);
  }
  div.append(document.createTextNode(text));
  $('log').append(div);
  $('log').scrollTop = $('log').scrollHeight;
}

function setConnected(on) {
  for (const id of ['text', 'post', 'upstream', 'disconnect']) $(id).disabled = !on;
  $('connect').disabled = on;
  $('post').disabled = !on || !secret;
}

$('connect-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const uid = $('uid').value.trim();
  const room = $('room').value.trim();
  secret = $('secret').value;
  const params = new URLSearchParams(location.search);
  client = new Client({
    token: uid,
    device: `chat-${Math.random().toString(36).slice(2, 10)}`,
    // quick retries for a demo (and the e2e tests): 0.2 s doubling to 2 s
    backoff: { initialMs: Number(params.get('backoff') ?? 200), maxMs: 2000 },
  });
  window.plexChat = { client };
  client.on('state', (s, d) => {
    $('state').textContent = s;
    $('state-badge').textContent = s;
    $('state-badge').className = `badge ${s === 'online' ? 'ok' : s === 'closed' ? 'bad' : ''}`;
    if (s === 'reconnecting') log(`reconnecting in ${d.retryInMs} ms (${d.code || 'connection lost'})`, 'system');
    if (s === 'closed' && d?.code) log(`stopped: ${d.code} ${d.reason}`, 'system');
  });
  client.on('online', async (info) => {
    $('info-node').textContent = `${info.node} / conn ${info.conn}`;
    log(`online as ${info.uid}`, 'system');
    setConnected(true);
    if (secret && room) {
      try {
        await postJSON(`/plex/v1/rooms/${encodeURIComponent(room)}/join`, secret, { uid });
        log(`joined ${room}`, 'system');
      } catch (err) {
        log(`join ${room}: ${err.message}`, 'system');
      }
    }
  });
  client.on('message', (m) => {
    $('last-seq').textContent = String(client.lastSeq);
    let text = m.body;
    if (m.uri === '/chat') {
      try {
        const c = JSON.parse(m.body);
        text = `${c.from}: ${c.text}`;
      } catch {
        // not one of ours: show it raw
      }
    }
    log(text, m.seq > 0 ? 'persistent' : '', m.seq > 0 ? `${m.uri} #${m.seq}` : m.uri);
  });
  client.on('disconnect', () => setConnected(false));
  client.on('error', (err) => log(`error ${err.code}: ${err.reason}`, 'system'));
  client.connect();
});

$('disconnect').addEventListener('click', () => {
  client?.close();
  setConnected(false);
  $('connect').disabled = false;
});

$('send-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const text = $('text').value;
  if (!text) return;
  const room = $('room').value.trim();
  try {
    await postJSON('/plex/v1/push', secret, {
      room,
      uri: '/chat',
      body: JSON.stringify({ from: $('uid').value.trim(), text }),
    });
    $('text').value = '';
  } catch (err) {
    log(`post: ${err.message}`, 'system');
  }
});

$('upstream').addEventListener('click', () => {
  const text = $('text').value;
  if (!text) return;
  if (client?.send('/chat/say', text)) $('text').value = '';
});

// console.js: the operator console. It polls the node it is served by:
// GET /plex/v1/stats with the inner secret (a node of a cluster lists the
// cluster's nodes there, "nodes"), GET /metrics for the frame
// counters and the process load; it looks up presence and sends test
// pushes. The secret lives in this module's memory only.

import { getJSON, postJSON, metrics, metricSum } from './api.js';
import { Graph } from './graph.js';
import { WS_PATH } from '../client/plex.js';

const $ = (id) => document.getElementById(id);
const POLL_MS = 1000;

let secret = '';
let prev = null; // the previous metrics sample, for rates
let self = ''; // this node's id, once the stats told it
const graph = new Graph($('graph'), {
  points: 60,
  series: [
    { name: 'in', color: '#2f6feb' },
    { name: 'out', color: '#e8590c' },
  ],
});

$('ws-url').textContent = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${WS_PATH}`;

// The node table's placeholder row (index.html) asks for the secret; it
// comes back when the secret is cleared.
const noSecretRows = $('node-rows').innerHTML;

$('secret-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  secret = $('secret').value;
  if (!secret) {
    $('node-rows').innerHTML = noSecretRows;
    status($('poll-status'), '');
  }
  poll();
});

function status(el, text, kind = '') {
  el.textContent = text;
  el.className = `status ${kind}`;
}

function cell(text, cls) {
  const td = document.createElement('td');
  td.textContent = text;
  if (cls) td.className = cls;
  return td;
}

function bytes(n) {
  if (n == null) return '—';
  const u = ['B', 'KiB', 'MiB', 'GiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i ? 1 : 0)} ${u[i]}`;
}

function renderNodes(list, self, load) {
  const rows = $('node-rows');
  rows.replaceChildren();
  for (const n of list) {
    const tr = document.createElement('tr');
    const id = n.id ?? n.node;
    tr.dataset.node = id;
    const mine = id === self;
    tr.append(
      cell(mine ? `${id} (this node)` : id),
      cell(n.addr ?? ''),
      cell(String(n.connections ?? 0), 'num conns'),
      cell(String(n.users ?? 0), 'num users'),
      cell(mine && load.cpu != null ? `${(load.cpu * 100).toFixed(1)} %` : '—', 'num'),
      cell(mine ? bytes(load.rss) : '—', 'num'),
    );
    const state = document.createElement('td');
    const badge = document.createElement('span');
    const ok = n.ok ?? true;
    badge.className = `badge ${ok ? 'ok' : 'bad'}`;
    badge.textContent = ok ? 'live' : n.error || 'not ready';
    state.append(badge);
    tr.append(state);
    rows.append(tr);
  }
}

async function poll() {
  let samples = null;
  try {
    samples = await metrics();
  } catch (err) {
    status($('poll-status'), `metrics: ${err.message}`, 'bad');
  }
  if (secret) {
    try {
      const st = await getJSON('/plex/v1/stats', secret);
      $('node-id').textContent = st.version ? `${st.node} · ${st.version}` : st.node;
      self = st.node;
      // A cluster lists its nodes in the stats ("nodes"); a single node is its own list.
      const list = Array.isArray(st.nodes) && st.nodes.length > 0
        ? st.nodes
        : [{ id: st.node, addr: st.addr, connections: st.connections, users: st.users, ok: true }];
      // this node's own row always shows its live numbers
      for (const n of list) {
        if ((n.id ?? n.node) === st.node) Object.assign(n, { connections: st.connections, users: st.users });
      }
      renderNodes(list, st.node, loadOf(samples));
      status($('poll-status'), `updated ${new Date().toLocaleTimeString()}`, 'ok');
    } catch (err) {
      status($('poll-status'), err.status === 401 ? 'wrong inner secret' : `stats: ${err.message}`, 'bad');
    }
  }
  if (samples) traffic(samples);
}

// loadOf reads the process load from /metrics (the Go and process
// collectors of the node's own registry).
function loadOf(samples) {
  if (!samples) return {};
  const now = performance.now();
  const cpuTotal = metricSum(samples, 'process_cpu_seconds_total');
  const load = { rss: metricSum(samples, 'process_resident_memory_bytes') };
  if (prev?.cpu != null && cpuTotal != null) load.cpu = (cpuTotal - prev.cpu) / ((now - prev.at) / 1000);
  return load;
}

function traffic(samples) {
  const now = performance.now();
  const mine = self ? { node: self } : {};
  const fin = metricSum(samples, 'plex_frames_in_total', mine) ?? 0;
  const fout = metricSum(samples, 'plex_frames_out_total', mine) ?? 0;
  const cpu = metricSum(samples, 'process_cpu_seconds_total');
  if (prev) {
    const dt = (now - prev.at) / 1000;
    const rin = Math.max(0, (fin - prev.in) / dt);
    const rout = Math.max(0, (fout - prev.out) / dt);
    graph.push(rin, rout);
    $('rate-in').textContent = rin.toFixed(1);
    $('rate-out').textContent = rout.toFixed(1);
  } else {
    graph.draw();
  }
  $('total-in').textContent = String(fin);
  $('total-out').textContent = String(fout);
  prev = { at: now, in: fin, out: fout, cpu };
}

$('presence-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const uids = $('presence-uids')
    .value.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const list = $('presence-result');
  list.replaceChildren();
  try {
    const q = uids.map((u) => `uid=${encodeURIComponent(u)}`).join('&');
    const r = await getJSON(`/plex/v1/online?${q}`, secret);
    for (const uid of uids) {
      const li = document.createElement('li');
      li.dataset.uid = uid;
      const name = document.createElement('span');
      name.textContent = uid;
      const badge = document.createElement('span');
      const on = r.online?.[uid] === true;
      badge.className = `badge ${on ? 'ok' : ''}`;
      badge.textContent = on ? 'online' : 'offline';
      li.append(name, badge);
      list.append(li);
    }
    status($('presence-status'), '');
  } catch (err) {
    status($('presence-status'), err.message, 'bad');
  }
});

$('push-kind').addEventListener('change', () => {
  $('push-target').disabled = $('push-kind').value === 'all';
});

$('push-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const kind = $('push-kind').value;
  const req = { uri: $('push-uri').value, body: $('push-body').value };
  if (kind === 'all') req.all = true;
  else req[kind] = $('push-target').value.trim();
  if ($('push-persist').checked) req.persist = true;
  const out = $('push-result');
  try {
    const r = await postJSON('/plex/v1/push', secret, req);
    out.textContent = `delivered ${r.delivered}, stored ${r.stored}, offline ${r.offline}${r.seq ? `, seq ${r.seq}` : ''}`;
    out.dataset.ok = 'true';
  } catch (err) {
    out.textContent = err.message;
    out.dataset.ok = 'false';
  }
});

getJSON('/plex/v1/host')
  .then((h) => ($('host').textContent = h.host))
  .catch(() => {});
addEventListener('resize', () => graph.draw());
poll();
setInterval(poll, POLL_MS);

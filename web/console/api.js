// api.js: the node's HTTP API as the console and the chat use it. The
// inner secret is passed in by the caller on every call and kept nowhere.

export class HTTPError extends Error {
  constructor(status, body) {
    super(body?.error ? `${status}: ${body.error}` : `HTTP ${status}`);
    this.status = status;
    this.code = body?.code ?? 0;
  }
}

async function call(method, path, secret, body) {
  const headers = {};
  if (secret) headers.Authorization = `Bearer ${secret}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: 'no-store',
  });
  let data = null;
  try {
    data = await res.json();
  } catch {
    // not JSON: only the status matters
  }
  if (!res.ok) throw new HTTPError(res.status, data);
  return data;
}

export const getJSON = (path, secret) => call('GET', path, secret);
export const postJSON = (path, secret, body) => call('POST', path, secret, body);

/** GET /metrics parsed into [{name, labels, value}] (Prometheus text format). */
export async function metrics() {
  const res = await fetch('/metrics', { cache: 'no-store' });
  if (!res.ok) throw new HTTPError(res.status, null);
  return parseMetrics(await res.text());
}

export function parseMetrics(text) {
  const out = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels = {};
    for (const l of (m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    out.push({ name: m[1], labels, value: Number(m[4]) });
  }
  return out;
}

/** The sum of a metric's samples whose labels include want. */
export function metricSum(samples, name, want = {}) {
  let sum = 0;
  let found = false;
  for (const s of samples) {
    if (s.name !== name) continue;
    if (Object.entries(want).some(([k, v]) => s.labels[k] !== v)) continue;
    sum += s.value;
    found = true;
  }
  return found ? sum : null;
}

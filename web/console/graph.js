// graph.js: a small live line chart on a canvas (no library).

export class Graph {
  constructor(canvas, { points = 60, series = [] } = {}) {
    this.canvas = canvas;
    this.points = points;
    this.series = series.map((s) => ({ ...s, data: [] }));
  }

  push(...values) {
    values.forEach((v, i) => {
      const d = this.series[i].data;
      d.push(v);
      if (d.length > this.points) d.shift();
    });
    this.draw();
  }

  draw() {
    const c = this.canvas;
    const dpr = globalThis.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(c.clientWidth * dpr));
    const h = Math.max(1, Math.round(c.clientHeight * dpr));
    if (c.width !== w || c.height !== h) {
      c.width = w;
      c.height = h;
    }
    const g = c.getContext('2d');
    g.clearRect(0, 0, w, h);
    const pad = { l: 44 * dpr, r: 8 * dpr, t: 8 * dpr, b: 18 * dpr };
    const max = niceMax(Math.max(1, ...this.series.flatMap((s) => s.data)));
    const x = (i) => pad.l + (i * (w - pad.l - pad.r)) / (this.points - 1);
    const y = (v) => h - pad.b - (v / max) * (h - pad.t - pad.b);
    g.font = `${11 * dpr}px system-ui, sans-serif`;
    g.fillStyle = '#667085';
    g.strokeStyle = '#e3e6ea';
    g.lineWidth = dpr;
    for (let k = 0; k <= 4; k++) {
      const v = (max * k) / 4;
      g.beginPath();
      g.moveTo(pad.l, y(v));
      g.lineTo(w - pad.r, y(v));
      g.stroke();
      g.fillText(format(v), 4 * dpr, y(v) + 4 * dpr);
    }
    g.fillText(`${this.points} s`, pad.l, h - 4 * dpr);
    g.fillText('now', w - pad.r - 24 * dpr, h - 4 * dpr);
    for (const s of this.series) {
      if (s.data.length === 0) continue;
      const off = this.points - s.data.length;
      g.strokeStyle = s.color;
      g.lineWidth = 2 * dpr;
      g.beginPath();
      s.data.forEach((v, i) => (i === 0 ? g.moveTo(x(off + i), y(v)) : g.lineTo(x(off + i), y(v))));
      g.stroke();
    }
  }
}

function niceMax(v) {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function format(v) {
  if (v >= 1e6) return `${+(v / 1e6).toFixed(1)}M`;
  if (v >= 1e3) return `${+(v / 1e3).toFixed(1)}k`;
  return `${+v.toFixed(2)}`;
}

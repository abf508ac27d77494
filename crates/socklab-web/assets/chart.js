// socklab web: a small line chart on a <canvas>, no dependencies. Used for ping latency,
// meant for throughput too: several series, an automatic y scale with labelled ticks, and
// colours from the page's CSS variables, so it follows the light or dark theme.
//
//   drawSeries(canvas, [{ name: 'latency', color: '--accent', points: [[1, 0.12], [2, null], ...] }],
//              { yUnit: 'ms', xLabel: 'try', markers: [{ x: 2, color: '--err' }] })
//
// A point with y = null is a gap in its line (a lost try). Pure helpers (niceTicks,
// extent) are exported for tests; nothing runs at import.

/** Round tick values covering [min, max]: steps of 1, 2 or 5 times a power of ten. */
export function niceTicks(min, max, count = 5) {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
  if (max < min) [min, max] = [max, min];
  if (max === min) { max = min === 0 ? 1 : min + Math.abs(min) * 0.5; }
  const raw = (max - min) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const lo = Math.floor(min / step) * step;
  const hi = Math.ceil(max / step) * step;
  const ticks = [];
  for (let v = lo; v <= hi + step / 2; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/** The x and y ranges over every finite point of every series. */
export function extent(series) {
  let xMin = Infinity, xMax = -Infinity, yMin = Infinity, yMax = -Infinity;
  for (const s of series) {
    for (const [x, y] of s.points) {
      if (Number.isFinite(x)) { xMin = Math.min(xMin, x); xMax = Math.max(xMax, x); }
      if (Number.isFinite(y)) { yMin = Math.min(yMin, y); yMax = Math.max(yMax, y); }
    }
  }
  return { xMin, xMax, yMin, yMax };
}

/** A tick label: short, no trailing zeros. */
export function tickLabel(v) {
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 1000) return `${+(v / 1000).toFixed(1)}k`;
  if (a >= 10) return String(+v.toFixed(0));
  if (a >= 1) return String(+v.toFixed(1));
  return String(+v.toPrecision(2));
}

function cssColor(el, value, fallback) {
  if (!value) return fallback;
  if (!value.startsWith('--')) return value;
  return getComputedStyle(el).getPropertyValue(value).trim() || fallback;
}

/**
 * Draws the series into the canvas at its CSS size (sharp on high-DPI screens).
 * opts: yUnit (shown with the top tick), xLabel, yMin (default 0: latency and throughput
 * start at zero), xMin/xMax (fixed x range, e.g. 1..count while a ping runs), markers
 * ([{x, color}]: small crosses on the x axis, e.g. failed tries), empty (text when there
 * is nothing to draw).
 */
export function drawSeries(canvas, series, opts = {}) {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || 600;
  const hgt = canvas.clientHeight || 200;
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(hgt * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(hgt * dpr);
  }
  const ctx = canvas.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, hgt);
  const fg = cssColor(canvas, '--muted', '#667085');
  const grid = cssColor(canvas, '--line', '#d9dde5');
  const font = `11px ${getComputedStyle(canvas).fontFamily || 'sans-serif'}`;
  ctx.font = font;

  const e = extent(series);
  const markers = opts.markers || [];
  for (const m of markers) { e.xMin = Math.min(e.xMin, m.x); e.xMax = Math.max(e.xMax, m.x); }
  const xMin = opts.xMin ?? e.xMin;
  const xMax = opts.xMax ?? e.xMax;
  if (!Number.isFinite(xMin) || !Number.isFinite(xMax)) {
    ctx.fillStyle = fg;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    ctx.fillText(opts.empty || '', w / 2, hgt / 2);
    return;
  }
  const ticks = niceTicks(opts.yMin ?? Math.min(0, e.yMin), Number.isFinite(e.yMax) ? e.yMax : 1, 4);
  const yLo = ticks[0];
  const yHi = ticks[ticks.length - 1];
  const labels = ticks.map(tickLabel);
  const padL = Math.max(...labels.map((l) => ctx.measureText(l).width)) + 10;
  const pad = { l: padL, r: 12, t: 16, b: 22 };
  const pw = Math.max(1, w - pad.l - pad.r);
  const ph = Math.max(1, hgt - pad.t - pad.b);
  const X = (x) => pad.l + (xMax === xMin ? pw / 2 : ((x - xMin) / (xMax - xMin)) * pw);
  const Y = (y) => pad.t + ph - ((y - yLo) / (yHi - yLo)) * ph;

  // Grid and y labels; the unit sits above the axis.
  ctx.lineWidth = 1;
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  ticks.forEach((v, i) => {
    const y = Math.round(Y(v)) + 0.5;
    ctx.strokeStyle = grid;
    ctx.beginPath(); ctx.moveTo(pad.l, y); ctx.lineTo(w - pad.r, y); ctx.stroke();
    ctx.fillStyle = fg;
    ctx.fillText(labels[i], pad.l - 5, y);
  });
  if (opts.yUnit) { ctx.textAlign = 'left'; ctx.textBaseline = 'top'; ctx.fillText(opts.yUnit, 2, 0); }
  // x labels: the ends, and the label of the axis in the middle.
  ctx.textBaseline = 'top';
  ctx.textAlign = 'left'; ctx.fillText(tickLabel(xMin), pad.l, hgt - pad.b + 5);
  ctx.textAlign = 'right'; ctx.fillText(tickLabel(xMax), w - pad.r, hgt - pad.b + 5);
  if (opts.xLabel) { ctx.textAlign = 'center'; ctx.fillText(opts.xLabel, pad.l + pw / 2, hgt - pad.b + 5); }

  for (const s of series) {
    const color = cssColor(canvas, s.color, '#2563eb');
    ctx.strokeStyle = color;
    ctx.fillStyle = color;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    let open = false;
    for (const [x, y] of s.points) {
      if (!Number.isFinite(y)) { open = false; continue; }
      if (open) ctx.lineTo(X(x), Y(y)); else ctx.moveTo(X(x), Y(y));
      open = true;
    }
    ctx.stroke();
    // Dots while they can be told apart.
    if (s.points.length <= pw / 4) {
      for (const [x, y] of s.points) {
        if (!Number.isFinite(y)) continue;
        ctx.beginPath(); ctx.arc(X(x), Y(y), 2, 0, 2 * Math.PI); ctx.fill();
      }
    }
  }
  for (const m of markers) {
    const x = X(m.x);
    const y = pad.t + ph;
    ctx.strokeStyle = cssColor(canvas, m.color, '#c0262d');
    ctx.lineWidth = 1.5;
    ctx.beginPath(); ctx.moveTo(x - 3, y - 3); ctx.lineTo(x + 3, y + 3); ctx.moveTo(x + 3, y - 3); ctx.lineTo(x - 3, y + 3); ctx.stroke();
  }
}

/**
 * A sparkline: no axes, the newest sample at the right edge, room for `opts.slots` samples,
 * `opts.max` at the top and `opts.label` written there. For a chart a few lines tall (a
 * session's throughput), where drawSeries' axes would not fit.
 */
export function drawSparkline(canvas, lines, samples, opts) {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth;
  const hgt = canvas.clientHeight;
  if (canvas.width !== w * dpr) { canvas.width = w * dpr; canvas.height = hgt * dpr; }
  const g = canvas.getContext('2d');
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, w, hgt);
  g.fillStyle = cssColor(canvas, '--muted', '#667085');
  g.font = '11px system-ui, sans-serif';
  g.fillText(opts.label, 4, 11);
  const x = (i) => w - (samples.length - 1 - i) * (w / (opts.slots - 1));
  for (const { key, color } of lines) {
    g.strokeStyle = cssColor(canvas, color, '#2563eb');
    g.lineWidth = 1.5;
    g.beginPath();
    samples.forEach((s, i) => { const y = hgt - 2 - (s[key] / opts.max) * (hgt - 16); if (i) g.lineTo(x(i), y); else g.moveTo(x(i), y); });
    g.stroke();
  }
  canvas.dataset.points = String(samples.length);
}

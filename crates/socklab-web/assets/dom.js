// socklab web: small helpers shared by the page's modules. No side effects at import, so a
// unit test (node) can import the pure functions without a document.

/** An element with attributes (`class`, `on<event>` handlers, the rest as attributes). */
export function h(tag, attrs = {}, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const k of kids.flat()) if (k != null && k !== false) el.append(k);
  return el;
}

export const $ = (sel, root = document) => root.querySelector(sel);

/** Milliseconds as ping prints them: about three significant digits (0.045, 1.23, 12.3, 123). */
export function fmtMs(ms) {
  if (ms == null || !Number.isFinite(ms)) return '–';
  if (ms >= 10000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 1) return `${ms.toFixed(3)} ms`;
  if (ms < 10) return `${ms.toFixed(2)} ms`;
  if (ms < 100) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(0)} ms`;
}

/** A byte count in B, KiB or MiB, with the exact number in B below 1 KiB. */
export function fmtBytes(n) {
  if (n == null) return '–';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

/** A whole number with thin grouping (16777214 → 16 777 214), as both languages read it. */
export function fmtInt(n) {
  if (n == null) return '–';
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, '\u202f');
}

/** A percentage: whole when it is whole, else one decimal. */
export function fmtPercent(p) {
  if (p == null || !Number.isFinite(p)) return '–';
  return Number.isInteger(p) ? `${p}%` : `${p.toFixed(1)}%`;
}

// The receive log of one session: a ring of entries, drawn as fixed-height display lines of
// which only the visible ones exist in the DOM, so 100,000 lines scroll as smoothly as 10.
// The functions above the class are pure (no DOM) and unit-tested with node.

/// Height of one display line in pixels; .vrow in style.css has the same.
export const LINE_H = 20;
/// Entries kept per session, and the bytes of payload they may hold together: whichever
/// limit comes first drops the oldest entries (and the page says how many).
export const KEEP = 100000;
export const KEEP_BYTES = 32 << 20;
/// Characters of text on one display line before it wraps; bytes on one hex line.
export const WRAP = 160;
export const HEX_WIDTH = 16;

// Control characters are shown, not obeyed; a line feed ends a display line instead.
export function visibleText(text) {
  return text.replace(/[\x00-\x09\x0b-\x1f\x7f]/g, (c) => ({ '\r': '\\r', '\t': '\\t' }[c]
    ?? '\\x' + c.charCodeAt(0).toString(16).padStart(2, '0')));
}

/// Text as display lines: split at line feeds (a final one ends the last line, it does not
/// start an empty one), and long lines wrapped at WRAP characters.
export function textLines(text) {
  const parts = text.split('\n');
  if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  const out = [];
  for (const p of parts) {
    const v = visibleText(p);
    if (v.length <= WRAP) { out.push(v); continue; }
    const chars = [...v];
    for (let i = 0; i < chars.length; i += WRAP) out.push(chars.slice(i, i + WRAP).join(''));
  }
  return out;
}

/// Hex as hexdump-style lines: offset, 16 bytes, and the printable ASCII of them.
export function hexLines(hex) {
  const out = [];
  const n = hex.length / 2;
  for (let off = 0; off < n; off += HEX_WIDTH) {
    const end = Math.min(n, off + HEX_WIDTH);
    let bytes = '';
    let ascii = '';
    for (let i = off; i < end; i++) {
      const b = parseInt(hex.substr(2 * i, 2), 16);
      bytes += hex.substr(2 * i, 2) + (i - off === 7 ? '  ' : ' ');
      ascii += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
    }
    out.push(`${off.toString(16).padStart(8, '0')}  ${bytes.padEnd(HEX_WIDTH * 3 + 1)} |${ascii}|`);
  }
  return out;
}

export function spacedHex(hex) { return hex.replace(/(..)(?!$)/g, '$1 '); }

/// The display lines of one entry in a view: [{text, sub}], sub 'text', 'hex' or 'info'.
/// An info line with a catalogue key is said in the language `tr` speaks now.
export function entryLines(e, view, tr) {
  if (e.kind !== 'in' && e.kind !== 'out') return [{ text: e.i18n && tr ? tr(...e.i18n) : e.text, sub: 'info' }];
  const out = [];
  if (view !== 'hex') for (const t of textLines(e.text)) out.push({ text: t, sub: 'text' });
  if (view !== 'text') for (const t of hexLines(e.hex)) out.push({ text: t, sub: 'hex' });
  if (out.length === 0) out.push({ text: '', sub: view === 'hex' ? 'hex' : 'text' });
  // A read too big for one frame came cut: say how much of it is not here.
  if (e.truncated > e.len) {
    const n = e.truncated - e.len;
    out.push({ text: tr ? tr('log.cut', { n }) : `… ${n} more bytes not shown`, sub: 'info' });
  }
  return out;
}

/// The entry as one line of a text download: time, direction, peer, then the text.
export function entryAsText(e) {
  const dir = { in: '<-', out: '->' }[e.kind];
  return dir ? `${e.time} ${dir} #${e.peer} ${e.addr ?? ''}\n${e.text}${e.text.endsWith('\n') ? '' : '\n'}` : `${e.time} ${e.text}\n`;
}
export function entryAsHex(e) {
  const dir = { in: '<-', out: '->' }[e.kind];
  return dir ? `${e.time} ${dir} #${e.peer} ${e.addr ?? ''} ${e.len} bytes\n${hexLines(e.hex).join('\n')}\n` : `${e.time} ${e.text}\n`;
}
export function entryAsJson(e) {
  const o = e.kind === 'in' || e.kind === 'out'
    ? { time: e.time, event: e.kind === 'in' ? 'received' : 'sent', peer: e.peer, addr: e.addr, len: e.len, hex: e.hex, text: e.text }
    : { time: e.time, event: e.kind, text: e.text };
  return JSON.stringify(o) + '\n';
}

/// Where `needle` occurs in `hay`, case-insensitive: [start, end) pairs.
export function matches(hay, needle) {
  const out = [];
  if (!needle) return out;
  const h = hay.toLowerCase();
  const n = needle.toLowerCase();
  for (let i = h.indexOf(n); i >= 0 && out.length < 100; i = h.indexOf(n, i + n.length)) out.push([i, i + n.length]);
  return out;
}

export class LogView {
  /// `el` is the scroll container; `clock(time)` formats a timestamp; `tr(key, vars)` says
  /// an info line in the page's language.
  constructor(el, clock, tr) {
    this.el = el;
    this.clock = clock;
    this.tr = tr;
    this.space = document.createElement('div');
    this.space.className = 'vspace';
    this.rows = document.createElement('div');
    this.rows.className = 'vrows';
    el.append(this.space, this.rows);
    this.entries = [];
    this.bytes = 0;
    this.seq = 0;
    this.lines = [];
    this.view = 'text';
    this.peer = 'all';
    this.search = '';
    this.hits = [];
    this.hit = -1;
    this.timestamps = true;
    this.following = true;
    this.paused = false;
    this.trimmed = 0;
    this.pending = false;
    this.empty = '';
    // Following stops only when the reader moves up from where the log put itself: the
    // box growing or shrinking (a progress bar appearing, the window resized) between a
    // render and its scroll event must not read as "the reader scrolled away".
    this.autoTop = 0;
    el.addEventListener('scroll', () => {
      if (el.scrollTop + el.clientHeight >= el.scrollHeight - LINE_H) this.following = true;
      else if (el.scrollTop < this.autoTop - 1) this.following = false;
      this.autoTop = el.scrollTop;
      this.schedule();
    });
    new ResizeObserver(() => this.schedule()).observe(el);
  }

  shows(e) { return this.peer === 'all' || e.peer === undefined || String(e.peer) === this.peer; }

  add(e) {
    e.seq = this.seq++;
    this.entries.push(e);
    this.bytes += e.hex ? e.hex.length / 2 : 0;
    let cut = 0;
    while (this.entries.length - cut > KEEP || (this.bytes > KEEP_BYTES && this.entries.length - cut > 1)) {
      const old = this.entries[cut++];
      this.bytes -= old.hex ? old.hex.length / 2 : 0;
    }
    if (cut) {
      this.entries.splice(0, cut);
      this.trimmed += cut;
      const first = this.entries[0].seq;
      let i = 0;
      while (i < this.lines.length && this.lines[i].e.seq < first) i++;
      if (i) {
        this.lines.splice(0, i);
        this.hits = this.hits.map((h) => h - i).filter((h) => h >= 0);
      }
    }
    if (this.paused || !this.shows(e)) return;
    this.push(e);
    this.schedule();
  }

  push(e) {
    const ls = entryLines(e, this.view, this.tr);
    ls.forEach((l, k) => {
      const line = { e, first: k === 0, text: l.text, sub: l.sub };
      if (this.search && matches(l.text, this.search).length) this.hits.push(this.lines.length);
      this.lines.push(line);
    });
  }

  /// Draw everything again: after a change of view, filter, search or a resume.
  rebuild() {
    this.lines = [];
    this.hits = [];
    for (const e of this.entries) if (this.shows(e)) this.push(e);
    this.hit = Math.min(this.hit, this.hits.length - 1);
    this.schedule();
  }

  clear() { this.entries = []; this.bytes = 0; this.trimmed = 0; this.rebuild(); }

  find(dir) {
    if (!this.hits.length) return;
    this.hit = (this.hit + dir + this.hits.length) % this.hits.length;
    this.following = false;
    this.space.style.height = `${this.lines.length * LINE_H}px`;
    this.el.scrollTop = Math.max(0, this.hits[this.hit] * LINE_H - this.el.clientHeight / 2);
    this.schedule();
  }

  schedule() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => { this.pending = false; this.render(); });
  }

  render() {
    const el = this.el;
    this.space.style.height = `${this.lines.length * LINE_H}px`;
    if (this.following) { el.scrollTop = el.scrollHeight; this.autoTop = el.scrollTop; }
    const first = Math.max(0, Math.floor(el.scrollTop / LINE_H) - 10);
    const last = Math.min(this.lines.length, Math.ceil((el.scrollTop + el.clientHeight) / LINE_H) + 10);
    this.rows.style.transform = `translateY(${first * LINE_H}px)`;
    const frag = document.createDocumentFragment();
    const current = this.hits[this.hit];
    for (let i = first; i < last; i++) frag.append(this.row(this.lines[i], i === current));
    if (!this.lines.length && this.empty) {
      const d = document.createElement('div');
      d.className = 'vrow empty';
      d.textContent = this.empty;
      frag.append(d);
    }
    this.rows.replaceChildren(frag);
  }

  row(l, current) {
    const e = l.e;
    const d = document.createElement('div');
    const data = e.kind === 'in' || e.kind === 'out';
    d.className = `vrow ${e.kind} ${l.sub}${l.first ? ' first' : ''}${data ? ' p' + (e.peer % 6) : ''}`;
    const meta = document.createElement('span');
    meta.className = 'meta';
    if (l.first) {
      const parts = [];
      if (this.timestamps) parts.push(this.clock(e.time));
      if (data) parts.push(`${e.kind === 'in' ? '←' : '→'} #${e.peer}`);
      meta.textContent = parts.join(' ');
    }
    const body = document.createElement('span');
    body.className = 'data';
    // An info line can be longer than the pane (a fingerprint to pin): hover shows it whole.
    if (!data) body.title = l.text;
    const hs = matches(l.text, this.search);
    let at = 0;
    for (const [s, t] of hs) {
      body.append(l.text.slice(at, s));
      const m = document.createElement('mark');
      if (current) m.className = 'current';
      m.textContent = l.text.slice(s, t);
      body.append(m);
      at = t;
    }
    body.append(l.text.slice(at));
    d.append(meta, body);
    return d;
  }

  /// The kept entries, as the chosen format, for a download.
  dump(format) {
    const f = { text: entryAsText, hex: entryAsHex, json: entryAsJson }[format];
    return this.entries.filter((e) => this.shows(e)).map(f).join('');
  }
}

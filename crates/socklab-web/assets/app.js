// socklab web: the page. One WebSocket to the server; sessions live on the server, so the
// page can reload or reconnect and rebuild its tabs from the server's snapshot.
import { setupToolbox, onToolMessage } from './tools.js';

const MODES = ['tcp-client', 'tcp-server', 'udp-client', 'udp-server', 'tls-client', 'tls-server', 'unix-client', 'unix-server'];
const ENCODINGS = ['utf-8', 'gbk', 'gb18030', 'big5', 'shift_jis', 'euc-kr', 'windows-1252', 'utf-16le', 'utf-16be', 'auto'];
// The log keeps this many entries per session; the DOM shows at most RENDERED of them.
const KEEP = 100000;
const RENDERED = 2000;

let catalogue = { en: {}, zh: {} };
let lang = 'en';

// ---------- strings ----------
export function t(key, vars = {}) {
  const s = (catalogue[lang] && catalogue[lang][key]) ?? catalogue.en[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (_, k) => (k in vars ? String(vars[k]) : `{${k}}`));
}

function pickLang(serverLang) {
  const saved = localStorage.getItem('socklab.lang');
  if (saved === 'en' || saved === 'zh') return saved;
  if (serverLang === 'en' || serverLang === 'zh') return serverLang;
  return (navigator.language || '').toLowerCase().startsWith('zh') ? 'zh' : 'en';
}

function translate(root = document) {
  root.querySelectorAll('[data-i18n]').forEach((el) => { el.textContent = t(el.dataset.i18n); });
  root.querySelectorAll('[data-i18n-title]').forEach((el) => { el.title = t(el.dataset.i18nTitle); });
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  document.title = t('title');
}

function setLang(l, remember) {
  lang = l;
  if (remember) localStorage.setItem('socklab.lang', l);
  $('#lang').value = l;
  translate();
  for (const s of sessions.values()) s.relabel();
}

// ---------- hex input, by the rules of socklab-core's parse_hex ----------
// Groups are separated by whitespace , ; : - and may start with 0x; each needs an even,
// non-zero number of digits. Returns the index of the first bad character, or -1.
export function badHexAt(s) {
  const sep = (c) => /[\s,;:-]/.test(c);
  let i = 0;
  while (i < s.length) {
    if (sep(s[i])) { i++; continue; }
    const start = i;
    if (s[i] === '0' && (s[i + 1] === 'x' || s[i + 1] === 'X')) i += 2;
    let digits = 0;
    let last = start;
    while (i < s.length && !sep(s[i])) {
      if (!/[0-9a-fA-F]/.test(s[i])) return i;
      digits++; last = i; i++;
    }
    if (digits === 0) return start;
    if (digits % 2 === 1) return last;
  }
  return -1;
}

// ---------- rendering a byte run ----------
function hexToBytes(hex) {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(2 * i, 2), 16);
  return out;
}
export function spacedHex(hex) { return hex.replace(/(..)(?!$)/g, '$1 '); }
// Control characters are shown, not obeyed: \r \n \t as escapes, others as \xHH.
export function visibleText(text) {
  return text.replace(/[\x00-\x1f\x7f]/g, (c) => ({ '\r': '\\r', '\n': '\\n', '\t': '\\t' }[c]
    ?? '\\x' + c.charCodeAt(0).toString(16).padStart(2, '0')));
}
function fmtBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
function clock(time) { const m = /T(\d\d:\d\d:\d\d\.\d+)/.exec(time || ''); return m ? m[1] : ''; }
function h(tag, attrs = {}, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') el.className = v; else if (k.startsWith('on')) el.addEventListener(k.slice(2), v); else el.setAttribute(k, v);
  }
  for (const k of kids) if (k != null) el.append(k);
  return el;
}
const $ = (sel, root = document) => root.querySelector(sel);

// ---------- the socket ----------
let ws = null;
let backoff = 500;

function connect() {
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
  ws = new WebSocket(url);
  ws.onopen = () => { backoff = 500; setConn(true); };
  ws.onclose = () => {
    setConn(false);
    setTimeout(connect, backoff);
    backoff = Math.min(backoff * 2, 5000);
  };
  ws.onmessage = (m) => { try { onMessage(JSON.parse(m.data)); } catch (e) { console.warn('bad message', e); } };
}
function setConn(on) {
  const c = $('#conn');
  c.className = 'conn ' + (on ? 'on' : 'off');
  c.dataset.i18n = on ? 'conn.online' : 'conn.offline';
  c.textContent = t(c.dataset.i18n);
}
function request(msg) {
  if (ws && ws.readyState === WebSocket.OPEN) { ws.send(JSON.stringify(msg)); return true; }
  return false;
}

function onMessage(m) {
  if (m.sync) {
    if (!localStorage.getItem('socklab.lang') && m.sync.lang) setLang(pickLang(m.sync.lang), false);
    const alive = new Set();
    for (const snap of m.sync.sessions) { alive.add(snap.sid); sessionFor(snap.sid).restore(snap); }
    for (const s of sessions.values()) if (!alive.has(s.sid) && s.state !== 'idle') s.setState('closed');
    if (sessions.size === 0) addSession();
    if (!active || !document.querySelector(`main > section[data-id="${active}"]`)) activate(sessions.keys().next().value);
    return;
  }
  if (m.dropped) { for (const s of sessions.values()) s.dropped(m.dropped); return; }
  if (m.rid != null) { onToolMessage(m); return; }
  if (m.sid == null) { if (m.error) console.warn(m.error); return; }
  const s = sessionFor(m.sid);
  if (m.session) s.restore(m.session);
  else if (m.event) s.onEvent(m.event);
  else if (m.state) s.setState(m.state);
  else if (m.removed) s.removed();
  else if (m.error) s.line({ kind: 'error', text: m.error, time: new Date().toISOString() });
}

// ---------- sessions ----------
const sessions = new Map();
let active = null;

function sessionFor(sid) { return sessions.get(sid) ?? new SessionTab(sid); }
function addSession() {
  let n = 1;
  while (sessions.has('s' + n)) n++;
  const s = new SessionTab('s' + n);
  activate(s.sid);
  return s;
}
function activate(id) {
  active = id;
  document.querySelectorAll('main > section').forEach((el) => el.classList.toggle('active', el.dataset.id === id));
  document.querySelectorAll('#tabs button').forEach((el) => el.classList.toggle('active', el.dataset.id === id));
}

class SessionTab {
  constructor(sid) {
    this.sid = sid;
    this.mode = 'tcp-server';
    this.state = 'idle';
    this.entries = [];
    this.view = 'text';
    this.paused = false;
    this.trimmed = 0;
    this.droppedCount = 0;
    this.counts = { bytes_in: 0, bytes_out: 0, served: 0 };
    this.peers = new Map();
    sessions.set(sid, this);
    const view = $('#session-view').content.firstElementChild.cloneNode(true);
    view.dataset.id = sid;
    this.el = view;
    this.tab = h('button', { 'data-id': sid, onclick: () => activate(sid) }, h('span', { class: 'dot' }), sid);
    $('#tabs').append(this.tab);
    $('#views').append(view);
    const mode = $('.mode', view);
    for (const m of MODES) mode.append(h('option', { value: m, 'data-i18n': 'mode.' + m }));
    mode.value = this.mode;
    mode.onchange = () => { this.mode = mode.value; this.relabel(); };
    const enc = $('.encoding', view);
    for (const e of ENCODINGS) enc.append(h('option', { value: e }, e));
    $('.address', view).value = '127.0.0.1:7788';
    $('.openclose', view).onclick = () => this.toggle();
    view.querySelectorAll('.view button').forEach((b) => { b.onclick = () => { this.view = b.dataset.view; this.rerender(); }; });
    $('.ts', view).onchange = () => this.rerender();
    $('.pause', view).onclick = () => { this.paused = !this.paused; this.relabel(); if (!this.paused) this.rerender(); };
    $('.clear', view).onclick = () => { this.entries = []; this.trimmed = 0; this.droppedCount = 0; this.rerender(); };
    const data = $('.sendbox .data', view);
    data.oninput = () => this.validate();
    data.onkeydown = (e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); this.send(); } };
    $('.sendbox .hex', view).onchange = () => this.validate();
    $('.send', view).onclick = () => this.send();
    translate(view);
    this.relabel();
    this.rerender();
  }

  relabel() {
    const v = this.el;
    const open = this.state === 'connecting' || this.state === 'connected' || this.state === 'listening';
    const ocb = $('.openclose', v);
    ocb.dataset.i18n = open ? 'close' : 'open';
    ocb.textContent = t(ocb.dataset.i18n);
    $('.state', v).textContent = t('state.' + this.state);
    $('.dot', this.tab).className = 'dot ' + this.state;
    for (const sel of ['.mode', '.address', '.encoding']) $(sel, v).disabled = open;
    $('.mode', v).value = this.mode;
    $('.address', v).placeholder = t(this.mode.endsWith('server') ? 'address.hint.server' : 'address.hint.client');
    const server = this.mode.endsWith('server');
    $('.clients', v).style.display = server ? '' : 'none';
    $('.tosel', v).style.display = server ? '' : 'none';
    v.querySelectorAll('.view button').forEach((b) => b.classList.toggle('on', b.dataset.view === this.view));
    const p = $('.pause', v);
    p.classList.toggle('on', this.paused);
    p.dataset.i18n = this.paused ? 'log.follow' : 'log.pause';
    p.textContent = t(p.dataset.i18n);
    $('.sendbox .data', v).placeholder = t($('.sendbox .hex', v).checked ? 'send.placeholder.hex' : 'send.placeholder');
    this.drawCounters();
    this.drawPeers();
    this.validate();
    const notes = [];
    if (this.droppedCount) notes.push(t('log.dropped', { n: this.droppedCount }));
    if (this.trimmed) notes.push(t('log.trimmed', { n: this.entries.length }));
    $('.notice', v).textContent = notes.join(' · ');
  }

  toggle() {
    if (this.state === 'idle' || this.state === 'closed') {
      const v = this.el;
      request({ op: 'open', sid: this.sid, mode: $('.mode', v).value, address: $('.address', v).value, encoding: $('.encoding', v).value });
    } else {
      request({ op: 'close', sid: this.sid });
    }
  }

  setState(state) { this.state = state; this.relabel(); }

  restore(snap) {
    this.mode = snap.mode;
    const v = this.el;
    $('.address', v).value = snap.address;
    $('.encoding', v).value = (snap.encoding || 'utf-8').toLowerCase();
    this.counts = { bytes_in: snap.bytes_in, bytes_out: snap.bytes_out, served: snap.served };
    this.peers = new Map(snap.peers.map((p) => [p.peer, { ...p }]));
    this.state = snap.state;
    this.relabel();
  }

  removed() {
    this.state = 'idle';
    this.peers.clear();
    this.line({ kind: 'info', text: t('info.removed'), time: new Date().toISOString() });
    this.relabel();
  }

  dropped(n) { this.droppedCount += n; this.relabel(); }

  onEvent(ev) {
    switch (ev.event) {
      case 'received':
      case 'sent': {
        const dir = ev.event === 'received' ? 'in' : 'out';
        const key = dir === 'in' ? 'bytes_in' : 'bytes_out';
        this.counts[key] += ev.len;
        const p = this.peers.get(ev.peer);
        if (p) p[key] += ev.len;
        this.line({ kind: dir, peer: ev.peer, addr: ev.addr, time: ev.time, hex: ev.hex, text: ev.text, len: ev.len });
        this.drawCounters(); this.drawPeers();
        return;
      }
      case 'listening':
        this.line({ kind: 'info', time: ev.time, text: t('info.listening', { addr: ev.addr }) });
        return this.setState('listening');
      case 'connected':
        this.counts.served += 1;
        this.peers.set(ev.peer, { peer: ev.peer, addr: ev.addr, since: ev.time, bytes_in: 0, bytes_out: 0 });
        this.line({ kind: 'info', time: ev.time, text: t('info.connected', { peer: ev.peer, addr: ev.addr }) });
        if (!this.mode.endsWith('server')) this.state = 'connected';
        return this.relabel();
      case 'closed':
        this.peers.delete(ev.peer);
        this.line({ kind: 'info', time: ev.time, text: t('info.closed', { peer: ev.peer, addr: ev.addr, reason: ev.reason?.error ?? ev.reason }) });
        return this.relabel();
      case 'error':
        return this.line({ kind: 'error', time: ev.time, text: ev.message });
      default: {
        const { time, event, ...rest } = ev;
        return this.line({ kind: 'info', time, text: `${event} ${JSON.stringify(rest)}` });
      }
    }
  }

  line(entry) {
    this.entries.push(entry);
    if (this.entries.length > KEEP) { this.entries.splice(0, this.entries.length - KEEP); this.trimmed++; }
    if (this.paused) return;
    const log = $('.log', this.el);
    $('.empty', log)?.remove();
    log.append(this.row(entry));
    while (log.childElementCount > RENDERED) log.firstElementChild.remove();
    log.scrollTop = log.scrollHeight;
  }

  row(e) {
    const ts = $('.ts', this.el).checked;
    const meta = [];
    if (ts) meta.push(clock(e.time));
    if (e.kind === 'in' || e.kind === 'out') {
      meta.push(h('span', { class: 'dir' }, e.kind === 'in' ? '←' : '→'), ` #${e.peer}`);
      const body = h('span', { class: 'data' });
      if (this.view !== 'hex') body.append(visibleText(e.text));
      if (this.view !== 'text') {
        if (this.view === 'both') body.append('\n');
        body.append(h('span', { class: 'hex' }, spacedHex(e.hex)));
      }
      return h('div', { class: 'row ' + e.kind }, h('span', { class: 'meta' }, ...meta.map((m) => (typeof m === 'string' ? m + ' ' : m))), body);
    }
    return h('div', { class: 'row ' + e.kind }, h('span', { class: 'meta' }, meta.join(' ')), h('span', {}, e.text));
  }

  rerender() {
    const log = $('.log', this.el);
    log.textContent = '';
    const from = Math.max(0, this.entries.length - RENDERED);
    const frag = document.createDocumentFragment();
    for (let i = from; i < this.entries.length; i++) frag.append(this.row(this.entries[i]));
    if (this.entries.length === 0) frag.append(h('div', { class: 'empty' }, t('log.empty')));
    log.append(frag);
    log.scrollTop = log.scrollHeight;
    this.relabel();
  }

  drawCounters() {
    const c = this.counts;
    const parts = [`${t('counters.in')} ${fmtBytes(c.bytes_in)} (${c.bytes_in} ${t('bytes')})`, `${t('counters.out')} ${fmtBytes(c.bytes_out)} (${c.bytes_out} ${t('bytes')})`];
    if (this.mode.endsWith('server')) parts.push(`${t('counters.served')} ${c.served}`);
    $('.counters', this.el).textContent = parts.join('  ·  ');
  }

  drawPeers() {
    const v = this.el;
    const body = $('.clients tbody', v);
    body.textContent = '';
    for (const p of this.peers.values()) {
      body.append(h('tr', { title: `${t('clients.since')} ${p.since}` }, h('td', {}, `#${p.peer}`), h('td', {}, String(p.addr)),
        h('td', {}, fmtBytes(p.bytes_in)), h('td', {}, fmtBytes(p.bytes_out)),
        h('td', {}, h('button', { onclick: () => request({ op: 'kick', sid: this.sid, peer: p.peer }) }, t('clients.kick')))));
    }
    $('.clients .none', v).style.display = this.peers.size ? 'none' : '';
    const to = $('.to', v);
    const keep = to.value;
    to.textContent = '';
    to.append(h('option', { value: 'all' }, t('send.all')));
    for (const p of this.peers.values()) to.append(h('option', { value: String(p.peer) }, `#${p.peer} ${p.addr}`));
    to.value = [...to.options].some((o) => o.value === keep) ? keep : 'all';
  }

  // Hex is checked as it is typed: the first bad character is marked and Send is off.
  validate() {
    const v = this.el;
    const data = $('.sendbox .data', v);
    const err = $('.hexerr', v);
    err.textContent = '';
    let ok = true;
    if ($('.sendbox .hex', v).checked) {
      const at = badHexAt(data.value);
      if (at >= 0) {
        ok = false;
        const s = data.value;
        err.append(t('send.badhex', { n: at + 1 }), '\n', s.slice(Math.max(0, at - 20), at), h('mark', {}, s[at] ?? ' '), s.slice(at + 1, at + 20));
      }
    }
    data.classList.toggle('bad', !ok);
    const open = this.state === 'connected' || this.state === 'listening' || this.state === 'connecting';
    $('.send', v).disabled = !ok || !open;
  }

  send() {
    const v = this.el;
    if ($('.send', v).disabled) return;
    const hex = $('.sendbox .hex', v).checked;
    const to = $('.to', v).value;
    request({ op: 'send', sid: this.sid, data: $('.sendbox .data', v).value, hex, eol: $('.eol', v).value, to: to === 'all' ? 'all' : Number(to) });
  }
}

// ---------- start ----------
async function main() {
  try {
    const r = await fetch('i18n.json', { credentials: 'same-origin' });
    catalogue = await r.json();
  } catch (e) { console.warn('no string catalogue', e); }
  lang = pickLang(null);
  $('#lang').value = lang;
  $('#lang').onchange = (e) => setLang(e.target.value, true);
  $('#add-tab').onclick = () => addSession();
  setupToolbox({ t, request, activate, encodings: ENCODINGS });
  translate();
  document.addEventListener('keydown', (e) => {
    const s = sessions.get(active);
    if (!s || !(e.ctrlKey || e.altKey)) return;
    if (e.key === 'l' && e.ctrlKey) { e.preventDefault(); $('.clear', s.el).click(); }
    if (e.key === 'h' && e.altKey) { e.preventDefault(); s.view = { text: 'hex', hex: 'both', both: 'text' }[s.view]; s.rerender(); }
  });
  connect();
}
// Not run when the module is imported outside a page (a unit test of its pure functions).
if (typeof document !== "undefined") main();

// socklab web: the page. One WebSocket to the server; sessions live on the server, so the
// page can reload or reconnect and rebuild its tabs from the server's snapshot.
import { LogView } from './log.js';
import { h, $, fmtBytes } from './dom.js';
import { drawSparkline } from './chart.js';
import { setupToolbox, onToolMessage } from './tools.js';

const MODES = ['tcp-client', 'tcp-server', 'udp-client', 'udp-server', 'tls-client', 'tls-server', 'unix-client', 'unix-server'];
const ENCODINGS = ['utf-8', 'gbk', 'gb18030', 'big5', 'shift_jis', 'euc-kr', 'windows-1252', 'utf-16le', 'utf-16be', 'auto'];
/// A file is sent in pieces of this many bytes, each acknowledged before the next.
const PIECE = 64 << 10;
/// Throughput samples kept per session: one a second, five minutes.
const SAMPLES = 300;

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
  root.querySelectorAll('[data-i18n-placeholder]').forEach((el) => { el.placeholder = t(el.dataset.i18nPlaceholder); });
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  document.title = t('title');
}

function setLang(l, remember) {
  lang = l;
  if (remember) localStorage.setItem('socklab.lang', l);
  $('#lang').value = l;
  translate();
  for (const s of sessions.values()) { s.relabel(); s.log.rebuild(); }
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

/// The open request's `tls` for the trust chosen in the settings row.
export function trustOf(kind, value) {
  if (kind === 'pin') return { pin: value };
  if (kind === 'ca') return { ca: value };
  if (kind === 'insecure') return { insecure: true };
  return {};
}

// ---------- formatting ----------
function clock(time) { const m = /T(\d\d:\d\d:\d\d\.\d+)/.exec(time || ''); return m ? m[1] : ''; }

// ---------- the socket ----------
let ws = null;
let backoff = 500;
// Sends waiting for their answer (a file piece, a loop round), by rid.
const pending = new Map();
let nextRid = 1;
// The socket dropped since the last sync: the next sync says so in each open session.
let offline = false;

function connect() {
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
  ws = new WebSocket(url);
  ws.onopen = () => { backoff = 500; setConn(true); };
  ws.onclose = () => {
    offline = true;
    setConn(false);
    // Sends waiting for an answer get none from a socket that is gone: they fail now (a
    // file stops with "failed"), rather than wait for ever.
    for (const [rid, resolve] of pending) { pending.delete(rid); resolve({ error: t('conn.offline') }); }
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
    for (const snap of m.sync.sessions) {
      alive.add(snap.sid);
      const s = sessionFor(snap.sid);
      s.restore(snap);
      if (offline) s.info('info.resynced');
    }
    offline = false;
    for (const s of sessions.values()) if (!alive.has(s.sid) && s.state !== 'idle') s.setState('closed');
    if (sessions.size === 0) addSession();
    if (!active || !document.querySelector(`main > section[data-id="${active}"]`)) activate(sessions.keys().next().value);
    return;
  }
  if (m.dropped) { for (const s of sessions.values()) s.dropped(m.dropped); return; }
  if (m.rid != null) {
    // Sends that wait for an answer have rids of their own ("send N"); the rest are tools'.
    const p = pending.get(m.rid);
    if (p) { pending.delete(m.rid); p(m); } else onToolMessage(m);
    return;
  }
  if (m.sid == null) { if (m.error) console.warn(m.error); return; }
  const s = sessionFor(m.sid);
  if (m.session) s.restore(m.session);
  else if (m.events) s.onFrame(m);
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
    this.local = null;
    this.reachable = [];
    this.droppedCount = 0;
    this.skipped = { events: 0, bytes: 0 };
    this.counts = { bytes_in: 0, bytes_out: 0, served: 0 };
    this.peers = new Map();
    this.samples = [];
    this.loop = null;
    this.upload = null;
    sessions.set(sid, this);
    const view = $('#session-view').content.firstElementChild.cloneNode(true);
    view.dataset.id = sid;
    this.el = view;
    this.tab = h('button', { 'data-id': sid, onclick: () => activate(sid) }, h('span', { class: 'dot' }), sid);
    $('#tabs').append(this.tab);
    $('#views').append(view);
    this.log = new LogView($('.log', view), clock, t);
    const mode = $('.mode', view);
    for (const m of MODES) mode.append(h('option', { value: m, 'data-i18n': 'mode.' + m }));
    mode.value = this.mode;
    mode.onchange = () => { this.mode = mode.value; this.relabel(); };
    $('.trust', view).onchange = () => this.relabel();
    const enc = $('.encoding', view);
    for (const e of ENCODINGS) enc.append(h('option', { value: e }, e));
    $('.address', view).value = '127.0.0.1:7788';
    $('.openclose', view).onclick = () => this.toggle();
    view.querySelectorAll('.view button').forEach((b) => { b.onclick = () => this.setView(b.dataset.view); });
    $('.ts', view).onchange = (e) => { this.log.timestamps = e.target.checked; this.log.schedule(); };
    $('.pause', view).onclick = () => { this.log.paused = !this.log.paused; if (!this.log.paused) this.log.rebuild(); this.relabel(); };
    $('.clear', view).onclick = () => this.clear();
    $('.peerfilter', view).onchange = (e) => { this.log.peer = e.target.value; this.log.rebuild(); };
    const search = $('.search', view);
    // Typing a search shows its first match at once; clearing it follows the log again.
    search.oninput = () => {
      const l = this.log;
      l.search = search.value;
      l.hit = -1;
      l.rebuild();
      if (l.search) l.find(1); else l.following = true;
      this.drawHits();
    };
    search.onkeydown = (e) => { if (e.key === 'Enter') { e.preventDefault(); this.log.find(e.shiftKey ? -1 : 1); this.drawHits(); } };
    $('.next', view).onclick = () => { this.log.find(1); this.drawHits(); };
    $('.prev', view).onclick = () => { this.log.find(-1); this.drawHits(); };
    $('.dlformat', view).onchange = (e) => { if (e.target.value) this.download(e.target.value); e.target.value = ''; };
    const data = $('.sendbox .data', view);
    data.oninput = () => this.validate();
    data.onkeydown = (e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); this.send(); } };
    $('.sendbox .hex', view).onchange = () => { this.relabel(); };
    $('.send', view).onclick = () => this.send();
    $('.loopbtn', view).onclick = () => (this.loop ? this.stopLoop() : this.startLoop());
    $('.filebtn', view).onclick = () => (this.upload ? this.upload.cancel() : $('.file', view).click());
    $('.file', view).onchange = (e) => { const f = e.target.files[0]; e.target.value = ''; if (f) this.sendFile(f); };
    $('.snippets', view).onchange = (e) => this.useSnippet(e.target.value);
    $('.snipsave', view).onclick = () => this.saveSnippet();
    $('.snipdel', view).onclick = () => this.deleteSnippet();
    translate(view);
    this.relabel();
    this.drawSnippets();
    this.log.rebuild();
  }

  relabel() {
    const v = this.el;
    const open = this.isOpen();
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
    $('.peerfilter', v).style.display = server ? '' : 'none';
    // A TLS client says how it trusts the server: a device's self-signed certificate is
    // pinned by its fingerprint (shown by socklab's own TLS server, or openssl x509).
    const trust = $('.trust', v).value;
    $('.trustbox', v).hidden = this.mode !== 'tls-client';
    $('.trustval', v).hidden = trust !== 'pin' && trust !== 'ca';
    $('.trustval', v).placeholder = t(trust === 'ca' ? 'tls.ca.hint' : 'tls.pin.hint');
    for (const sel of ['.trust', '.trustval']) $(sel, v).disabled = open;
    // A client over a connection can come back by itself when the device reboots.
    $('.reconnectbox', v).hidden = !['tcp-client', 'tls-client', 'unix-client'].includes(this.mode);
    $('.reconnect', v).disabled = open;
    v.querySelectorAll('.view button').forEach((b) => b.classList.toggle('on', b.dataset.view === this.log.view));
    const p = $('.pause', v);
    p.classList.toggle('on', this.log.paused);
    p.dataset.i18n = this.log.paused ? 'log.follow' : 'log.pause';
    p.textContent = t(p.dataset.i18n);
    $('.sendbox .data', v).placeholder = t($('.sendbox .hex', v).checked ? 'send.placeholder.hex' : 'send.placeholder');
    this.log.empty = t('log.empty');
    this.drawSnippets();
    this.drawReach();
    this.drawCounters();
    this.drawPeers();
    this.drawNotice();
    this.drawLoop();
    this.validate();
  }

  isOpen() { return this.state === 'connecting' || this.state === 'connected' || this.state === 'listening'; }

  setView(view) { this.log.view = view; this.log.rebuild(); this.relabel(); }

  clear() {
    this.log.clear();
    this.droppedCount = 0;
    this.skipped = { events: 0, bytes: 0 };
    this.relabel();
  }

  toggle() {
    if (this.state === 'idle' || this.state === 'closed') {
      const v = this.el;
      this.reachable = [];
      const msg = { op: 'open', sid: this.sid, mode: $('.mode', v).value, address: $('.address', v).value, encoding: $('.encoding', v).value };
      if (msg.mode === 'tls-client') msg.tls = trustOf($('.trust', v).value, $('.trustval', v).value.trim());
      if (!$('.reconnectbox', v).hidden && $('.reconnect', v).checked) msg.reconnect = true;
      request(msg);
    } else {
      request({ op: 'close', sid: this.sid });
    }
  }

  setState(state) {
    this.state = state;
    if (!this.isOpen()) { this.stopLoop(); this.upload?.cancel(); }
    this.relabel();
  }

  restore(snap) {
    this.mode = snap.mode;
    const v = this.el;
    $('.address', v).value = snap.address;
    $('.encoding', v).value = (snap.encoding || 'utf-8').toLowerCase();
    if (snap.tls) {
      const tr = snap.tls;
      $('.trust', v).value = tr.pin ? 'pin' : tr.ca ? 'ca' : tr.insecure ? 'insecure' : 'system';
      $('.trustval', v).value = tr.pin || tr.ca || '';
    }
    $('.reconnect', v).checked = !!snap.reconnect;
    this.local = snap.local;
    this.reachable = snap.reachable || [];
    this.stats(snap);
    this.state = snap.state;
    this.relabel();
  }

  removed() {
    this.state = 'idle';
    this.peers.clear();
    this.info('info.removed');
    this.relabel();
  }

  // An info line keeps its key and values, so it follows a change of language.
  info(key, vars = {}, time = new Date().toISOString()) { this.log.add({ kind: 'info', i18n: [key, vars], text: t(key, vars), time }); }
  line(entry) { this.log.add(entry); }

  dropped(n) { this.droppedCount += n; this.drawNotice(); }

  // The server's exact counters, carried by every frame: a page that skipped events or
  // missed messages still shows the right numbers.
  stats(st) {
    this.counts = { bytes_in: st.bytes_in, bytes_out: st.bytes_out, served: st.served };
    this.peers = new Map((st.peers || []).map((p) => [p.peer, { ...p }]));
  }

  onFrame(m) {
    for (const ev of m.events) this.onEvent(ev);
    if (m.skipped) {
      this.skipped.events += m.skipped.events;
      this.skipped.bytes += m.skipped.bytes;
    }
    if (m.stats) this.stats(m.stats);
    this.drawReach();
    this.drawCounters();
    this.drawPeers();
    this.drawNotice();
  }

  onEvent(ev) {
    switch (ev.event) {
      case 'received':
      case 'sent':
        // A file's pieces show as the progress bar and one line at each end, as in
        // NetAssist, not a row each; the counters still count them.
        if (ev.file) return;
        return this.line({ kind: ev.event === 'received' ? 'in' : 'out', peer: ev.peer, addr: ev.addr, time: ev.time, hex: ev.hex, text: ev.text, len: ev.len, truncated: ev.truncated });
      case 'listening':
        this.local = ev.addr;
        return this.info('info.listening', { addr: ev.addr }, ev.time);
      case 'reachable':
        this.reachable = ev.addrs;
        return this.drawReach();
      case 'connected':
        return this.info('info.connected', { peer: ev.peer, addr: ev.addr }, ev.time);
      case 'closed':
        // A failure comes as its message; the other reasons are words of the page's language.
        return this.info('info.closed', { peer: ev.peer, addr: ev.addr, reason: ev.reason?.error ?? t('reason.' + ev.reason) }, ev.time);
      case 'resolving':
        return this.info('info.resolving', { host: ev.host }, ev.time);
      case 'resolved':
        return this.info('info.resolved', { host: ev.host, addrs: ev.addrs.join(', ') }, ev.time);
      case 'connecting':
        return this.info('info.connecting', { addr: ev.addr }, ev.time);
      case 'connect_failed':
        return this.log.add({ kind: 'error', time: ev.time, text: t('info.connect_failed', { addr: ev.addr, reason: ev.reason }) });
      case 'error':
        return this.log.add({ kind: 'error', time: ev.time, text: ev.message });
      case 'secured':
        this.info('info.secured', { peer: ev.peer, protocol: ev.protocol, cipher: ev.cipher }, ev.time);
        // A client is shown the server's certificate: the fingerprint to pin next time.
        if (ev.peer_cert) this.info('info.cert', { subject: ev.peer_cert.subject, sha256: ev.peer_cert.sha256 }, ev.time);
        return;
      case 'certificate':
        // What a client pins (the TLS client's trust row): say it whole, on its own line.
        return this.info(ev.generated ? 'info.cert.generated' : 'info.cert', { subject: ev.subject, sha256: ev.sha256 }, ev.time);
      case 'reconnecting':
        return this.info('info.reconnecting', { reason: ev.reason, secs: ev.delay_ms / 1000, attempt: ev.attempt }, ev.time);
      default: {
        const { time, event, ...rest } = ev;
        return this.log.add({ kind: 'info', text: `${event} ${JSON.stringify(rest)}`, time });
      }
    }
  }

  // Where clients can reach this server: what to tell the device.
  drawReach() {
    const el = $('.reach', this.el);
    const server = this.mode.endsWith('server') && this.state === 'listening';
    const addrs = this.reachable.length ? this.reachable : (this.local ? [this.local] : []);
    el.textContent = server && addrs.length ? `${t('reach')} ${addrs.join('  ')}` : '';
  }

  drawCounters() {
    const c = this.counts;
    const parts = [`${t('counters.in')} ${fmtBytes(c.bytes_in)} (${c.bytes_in} ${t('bytes')})`, `${t('counters.out')} ${fmtBytes(c.bytes_out)} (${c.bytes_out} ${t('bytes')})`];
    if (this.mode.endsWith('server')) parts.push(`${t('counters.served')} ${c.served}`);
    const last = this.samples[this.samples.length - 1];
    if (last) parts.push(`${t('rate.in')} ${fmtBytes(last.in)}/s`, `${t('rate.out')} ${fmtBytes(last.out)}/s`);
    $('.counters', this.el).textContent = parts.join('  ·  ');
  }

  // One throughput sample a second, from the exact counters.
  sample() {
    const c = this.counts;
    const prev = this.prevCounts ?? c;
    this.samples.push({ in: Math.max(0, c.bytes_in - prev.bytes_in), out: Math.max(0, c.bytes_out - prev.bytes_out) });
    if (this.samples.length > SAMPLES) this.samples.shift();
    this.prevCounts = { ...c };
    this.drawCounters();
    this.drawChart();
  }

  drawChart() {
    const canvas = $('.chart', this.el);
    if (!canvas || !canvas.offsetParent) return;
    // Bytes/s in and out, one point a second, the last five minutes, scaled to the peak.
    const max = Math.max(1024, ...this.samples.map((p) => Math.max(p.in, p.out)));
    drawSparkline(canvas, [{ key: 'in', color: '--in' }, { key: 'out', color: '--out' }], this.samples, {
      max, slots: SAMPLES, label: `${fmtBytes(max)}/s`,
    });
  }

  drawNotice() {
    const notes = [];
    if (this.skipped.events) notes.push(t('log.skipped', { n: this.skipped.events, bytes: fmtBytes(this.skipped.bytes) }));
    if (this.droppedCount) notes.push(t('log.dropped', { n: this.droppedCount }));
    if (this.log.trimmed) notes.push(t('log.trimmed', { n: this.log.entries.length }));
    $('.notice', this.el).textContent = notes.join(' · ');
  }

  drawHits() {
    const l = this.log;
    $('.hits', this.el).textContent = l.search ? t('search.hits', { i: l.hit + 1, n: l.hits.length }) : '';
  }

  drawPeers() {
    const v = this.el;
    const body = $('.clients tbody', v);
    body.textContent = '';
    const now = Date.now();
    for (const p of this.peers.values()) {
      const secs = Math.max(0, Math.round((now - Date.parse(p.since)) / 1000));
      body.append(h('tr', { title: `${t('clients.since')} ${p.since}` }, h('td', {}, `#${p.peer}`), h('td', {}, String(p.addr)),
        h('td', {}, duration(secs)), h('td', {}, fmtBytes(p.bytes_in)), h('td', {}, fmtBytes(p.bytes_out)),
        h('td', {}, h('button', { class: 'kick', onclick: () => request({ op: 'kick', sid: this.sid, peer: p.peer }) }, t('clients.kick')))));
    }
    $('.clients .none', v).style.display = this.peers.size ? 'none' : '';
    // Send to: all, or any set of clients (ctrl/shift-click picks several).
    const to = $('.to', v);
    const keep = new Set([...to.selectedOptions].map((o) => o.value));
    const want = ['all', ...[...this.peers.keys()].map(String)];
    const have = [...to.options].map((o) => o.value);
    if (want.join() !== have.join() || to.options[0].textContent !== t('send.all')) {
      to.textContent = '';
      to.append(h('option', { value: 'all' }, t('send.all')));
      for (const p of this.peers.values()) to.append(h('option', { value: String(p.peer) }, `#${p.peer} ${p.addr}`));
      for (const o of to.options) o.selected = keep.has(o.value);
      if (!to.selectedOptions.length) to.options[0].selected = true;
    }
    const pf = $('.peerfilter', v);
    const pkeep = pf.value || 'all';
    const pwant = ['all', ...this.peersSeen()];
    if (pwant.join() !== [...pf.options].map((o) => o.value).join() || pf.options[0].textContent !== t('filter.all')) {
      pf.textContent = '';
      pf.append(h('option', { value: 'all' }, t('filter.all')));
      for (const id of this.peersSeen()) pf.append(h('option', { value: id }, `#${id}`));
      pf.value = pwant.includes(pkeep) ? pkeep : 'all';
    }
  }

  // Peers the log holds lines of, gone or not: a filter for a client that left still works.
  peersSeen() {
    const ids = new Set(this.peers.keys());
    for (const e of this.log.entries) if (e.peer !== undefined) ids.add(e.peer);
    return [...ids].sort((a, b) => a - b).map(String);
  }

  target() {
    const chosen = [...$('.to', this.el).selectedOptions].map((o) => o.value);
    if (!chosen.length || chosen.includes('all')) return 'all';
    return chosen.length === 1 ? Number(chosen[0]) : chosen.map(Number);
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
    const open = this.isOpen();
    $('.send', v).disabled = !ok || !open;
    $('.loopbtn', v).disabled = !this.loop && (!ok || !open);
    $('.filebtn', v).disabled = !this.upload && !open;
    return ok && open;
  }

  sendBox() {
    const v = this.el;
    return { op: 'send', sid: this.sid, data: $('.sendbox .data', v).value, hex: $('.sendbox .hex', v).checked, eol: $('.eol', v).value, to: this.target() };
  }

  send() {
    if (!this.validate()) return;
    request(this.sendBox());
  }

  // Loop send: the box as it was when the loop started, every N ms, M times (0 = until
  // stopped); it stops by itself when the session closes or a send fails.
  startLoop() {
    if (!this.validate()) return;
    const v = this.el;
    const every = Math.max(10, Number($('.interval', v).value) || 1000);
    const times = Math.max(0, Math.floor(Number($('.times', v).value) || 0));
    const msg = this.sendBox();
    const loop = { sent: 0, times, timer: null };
    const tick = async () => {
      if (this.loop !== loop) return;
      const r = await sendWaiting(msg);
      if (this.loop !== loop) return;
      if (r.error) { this.log.add({ kind: 'error', time: new Date().toISOString(), text: r.error }); this.stopLoop(); return; }
      loop.sent++;
      this.drawLoop();
      if (times && loop.sent >= times) { this.stopLoop(); return; }
      loop.timer = setTimeout(tick, every);
    };
    this.loop = loop;
    tick();
    this.relabel();
  }

  stopLoop() {
    if (!this.loop) return;
    clearTimeout(this.loop.timer);
    this.loop = null;
    this.relabel();
  }

  drawLoop() {
    const b = $('.loopbtn', this.el);
    b.classList.toggle('on', !!this.loop);
    b.textContent = this.loop ? t('loop.stop', { n: this.loop.sent }) : t('loop.start');
  }

  // A file goes in pieces, each sent when the server says the previous one is queued: the
  // file moves at the speed the peer takes it, and the bar shows how far it got.
  async sendFile(file) {
    const v = this.el;
    const bar = $('.progress', v);
    const label = $('.progresslabel', v);
    const up = { cancelled: false, cancel: () => { up.cancelled = true; } };
    this.upload = up;
    this.relabel();
    $('.filebtn', v).textContent = t('file.cancel');
    bar.max = file.size || 1;
    bar.value = 0;
    bar.hidden = false;
    const to = this.target();
    let done = 0;
    let error = null;
    this.log.add({ kind: 'info', time: new Date().toISOString(), text: t('file.sending', { name: file.name, n: file.size }) });
    try {
      while (done < file.size && !up.cancelled) {
        const piece = new Uint8Array(await file.slice(done, done + PIECE).arrayBuffer());
        const r = await sendWaiting({ op: 'send', sid: this.sid, data: bytesToHex(piece), hex: true, to, file: true });
        if (r.error) { error = r.error; break; }
        done += piece.length;
        bar.value = done;
        label.textContent = t('file.progress', { name: file.name, done: fmtBytes(done), total: fmtBytes(file.size) });
      }
    } catch (e) { error = String(e); }
    const text = error ? t('file.failed', { name: file.name, done, error })
      : up.cancelled ? t('file.cancelled', { name: file.name, done }) : t('file.sent', { name: file.name, n: done });
    this.log.add({ kind: error ? 'error' : 'info', time: new Date().toISOString(), text });
    label.textContent = text;
    bar.hidden = true;
    this.upload = null;
    $('.filebtn', v).textContent = t('file.send');
    this.relabel();
  }

  // Snippets: named send-box contents kept in this browser, per session tab.
  snippetList() {
    try { return JSON.parse(localStorage.getItem('socklab.snippets.' + this.sid) || '[]'); } catch { return []; }
  }

  drawSnippets() {
    const sel = $('.snippets', this.el);
    if (sel.options.length && sel.options[0].textContent === t('snippets') && sel.options.length === this.snippetList().length + 1) return;
    sel.textContent = '';
    sel.append(h('option', { value: '' }, t('snippets')));
    this.snippetList().forEach((s, i) => sel.append(h('option', { value: String(i) }, s.name)));
  }

  saveSnippet() {
    const v = this.el;
    const data = $('.sendbox .data', v).value;
    if (!data) return;
    const name = (data.length > 24 ? data.slice(0, 24) + '…' : data).replace(/\s+/g, ' ');
    const list = this.snippetList().filter((s) => s.name !== name);
    list.push({ name, data, hex: $('.sendbox .hex', v).checked });
    localStorage.setItem('socklab.snippets.' + this.sid, JSON.stringify(list));
    this.drawSnippets();
  }

  useSnippet(i) {
    const s = this.snippetList()[Number(i)];
    if (!s || i === '') return;
    const v = this.el;
    $('.sendbox .data', v).value = s.data;
    $('.sendbox .hex', v).checked = s.hex;
    this.relabel();
  }

  deleteSnippet() {
    const i = $('.snippets', this.el).value;
    if (i === '') return;
    const list = this.snippetList();
    list.splice(Number(i), 1);
    localStorage.setItem('socklab.snippets.' + this.sid, JSON.stringify(list));
    this.drawSnippets();
  }

  download(format) {
    const body = this.log.dump(format);
    const type = format === 'json' ? 'application/x-ndjson' : 'text/plain';
    const a = h('a', { href: URL.createObjectURL(new Blob([body], { type })), download: `socklab-${this.sid}.${format === 'json' ? 'jsonl' : format === 'hex' ? 'hex.txt' : 'txt'}` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  }
}

function sendWaiting(msg) {
  const rid = `send ${nextRid++}`;
  return new Promise((resolve) => {
    pending.set(rid, resolve);
    if (!request({ ...msg, rid })) { pending.delete(rid); resolve({ error: t('conn.offline') }); }
  });
}

function bytesToHex(bytes) {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

function duration(secs) {
  if (secs < 60) return `${secs}s`;
  if (secs < 3600) return `${Math.floor(secs / 60)}m${String(secs % 60).padStart(2, '0')}s`;
  return `${Math.floor(secs / 3600)}h${String(Math.floor(secs / 60) % 60).padStart(2, '0')}m`;
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
    if (e.key === 'h' && e.altKey) { e.preventDefault(); s.setView({ text: 'hex', hex: 'both', both: 'text' }[s.log.view]); }
    if (e.key === 'f' && e.altKey) { e.preventDefault(); $('.search', s.el).focus(); }
  });
  setInterval(() => { for (const s of sessions.values()) s.sample(); }, 1000);
  connect();
}
// Not run when the module is imported outside a page (a unit test of its pure functions).
if (typeof document !== "undefined") main();

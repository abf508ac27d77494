// socklab web: the toolbox. One page per tool (ping, port check, web request trace, DNS,
// subnet, interfaces, well-known ports, text and bytes); each form asks the server over
// the page's WebSocket ({"op":"tool",...}), which runs the same socklab-net code as the
// CLI and answers with the CLI's --json report. A ping also streams its tries
// ({"rid","progress"}) before the result. The reports are drawn here, labelled from the
// string catalogue. Pure helpers (waterfall, tryRows, ...) are exported for tests; nothing
// runs at import.

import { h, $, fmtMs, fmtBytes, fmtInt, fmtPercent } from './dom.js';
import { drawSeries } from './chart.js';

// Set by setupToolbox: the page's translation and its socket.
let t = (key) => key;
let send = () => false;

const pending = new Map();
let nextRid = 1;

/** A message with a rid, from app.js's socket handler. */
export function onToolMessage(m) {
  const p = pending.get(m.rid);
  if (!p) return;
  if (m.progress !== undefined) { p.progress?.(m.progress); return; }
  pending.delete(m.rid);
  p.resolve(m);
}

/** Runs a tool; `progress` gets each progress message. Resolves to {result} or {error}. */
function call(name, args, progress) {
  const rid = nextRid++;
  const done = new Promise((resolve) => {
    pending.set(rid, { resolve, progress });
    if (!send({ ...args, op: 'tool', rid, tool: name })) {
      pending.delete(rid);
      resolve({ error: t('conn.offline') });
    }
  });
  return { rid, done };
}

/** The translation of `key`, or `fallback` when the catalogue has none (values that the
 * server may grow, such as interface kinds). */
function tOr(key, fallback) {
  const s = t(key);
  return s === key ? fallback : s;
}

// ---------- pure helpers ----------

/** The phases of a trace hop, in order, as bars: start and width as fractions of `scale`
 * (the hop's total unless given, so several hops can share one scale). A phase that did
 * not happen (null) is left out. */
export function waterfall(phases, scale) {
  const order = [['dns', 'dns_ms'], ['connect', 'connect_ms'], ['tls', 'tls_ms'], ['request', 'request_ms'],
    ['ttfb', 'ttfb_ms'], ['transfer', 'transfer_ms']];
  const total = scale ?? phases.total_ms ?? 0;
  const bars = [];
  let at = 0;
  for (const [key, field] of order) {
    const ms = phases[field];
    if (ms == null) continue;
    bars.push({ key, ms, start: total > 0 ? at / total : 0, width: total > 0 ? ms / total : 0 });
    at += ms;
  }
  return bars;
}

/** Ping tries as chart points and failure markers. */
export function tryPoints(tries) {
  return {
    points: tries.map((x) => [x.seq, x.ok ? x.time_ms : null]),
    failed: tries.filter((x) => !x.ok).map((x) => x.seq),
  };
}

/** A running summary of tries, in the shape of socklab-net's ping Summary (the server
 * sends the exact one at the end). */
export function summarize(tries) {
  const times = tries.filter((x) => x.ok && x.time_ms != null).map((x) => x.time_ms);
  const sent = tries.length;
  const received = times.length;
  const avg = received ? times.reduce((a, b) => a + b, 0) / received : null;
  return {
    sent,
    received,
    loss_percent: sent ? (100 * (sent - received)) / sent : 0,
    min_ms: received ? Math.min(...times) : null,
    avg_ms: avg,
    max_ms: received ? Math.max(...times) : null,
    stddev_ms: received ? Math.sqrt(times.reduce((a, b) => a + (b - avg) ** 2, 0) / received) : null,
  };
}

// ---------- small views ----------

function errorBox(msg) { return h('div', { class: 'error' }, `${t('error')}: ${msg}`); }

/** A two-column table of labelled values; rows whose value is null are left out. */
function kv(rows) {
  return h('table', { class: 'kv' }, rows.filter(([, v]) => v != null && v !== '').map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', {}, v))));
}

function grid(head, rows, cls = 'grid') {
  return h('table', { class: cls }, h('thead', {}, h('tr', {}, head.map((c) => h('th', {}, c)))),
    h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c) => h('td', {}, c ?? ''))))));
}

function stat(label, value, cls) { return h('div', { class: 'stat ' + (cls || '') }, h('span', {}, label), h('b', {}, value)); }

function badge(text, cls = '') { return h('span', { class: 'badge ' + cls }, text); }

// ---------- one view per tool ----------

const VIEWS = {
  subnet(r) {
    const rows = [
      [t('subnet.cidr'), r.cidr],
      [t('subnet.address'), r.address],
      [t('subnet.network'), r.network],
      [t('subnet.netmask'), `${r.netmask} (/${r.prefix})`],
      [t('subnet.wildcard'), r.wildcard],
      [t('subnet.broadcast'), r.broadcast],
      [t('subnet.first_host'), r.first_host],
      [t('subnet.last_host'), r.last_host],
      [t('subnet.hosts'), fmtInt(r.hosts)],
      [t('subnet.addresses'), fmtInt(r.addresses)],
      [t('subnet.version'), r.version === 'ipv6' ? 'IPv6' : 'IPv4'],
      [t('subnet.class'), r.class],
      [t('subnet.kinds'), r.kinds?.length ? r.kinds.map((k) => tOr('kind.' + k, k)).join(', ') : null],
    ];
    const out = [kv(rows)];
    if (r.checks?.length) {
      out.push(h('h4', {}, t('subnet.checks')), grid([t('subnet.address'), t('subnet.same_network'), t('subnet.note')],
        r.checks.map((c) => [c.address, c.same_network ? badge(t('yes'), 'ok') : badge(t('no'), 'bad'), c.note])));
    }
    return out;
  },

  convert(r) {
    return kv([
      [t('convert.encoding'), r.encoding],
      [t('convert.bytes'), fmtInt(r.bytes)],
      [t('convert.hex'), h('code', {}, r.hex)],
      [t('convert.output') + ` (${t('form.' + r.to)})`, h('code', {}, r.output)],
    ]);
  },

  ports(list) {
    if (!list.length) return h('p', { class: 'muted' }, t('ports.none'));
    return grid([t('ports.port'), t('ports.protocol'), t('ports.name'), t('ports.description')],
      list.map((p) => [String(p.port), p.protocol, [p.name, ...(p.aliases || [])].join(', '), p.description]));
  },

  dns(r) {
    const head = h('p', { class: 'summary' }, t('dns.answered', {
      server: r.server, protocol: r.protocol.toUpperCase(), status: r.status, ms: fmtMs(r.elapsed_ms),
    }));
    const out = [head];
    if (r.reverse_of) out.push(h('p', { class: 'muted' }, t('dns.reverse', { ip: r.reverse_of, name: r.name })));
    const table = (list) => grid([t('dns.name'), t('dns.type'), t('dns.ttl'), t('dns.data')],
      list.map((a) => [a.name, a.type, fmtTtl(a.ttl), h('code', {}, a.data)]));
    out.push(r.answers.length ? table(r.answers) : h('p', { class: 'muted' }, t('dns.noanswer', { types: r.types.join(' ') })));
    if (r.authority?.length) out.push(h('h4', {}, t('dns.authority')), table(r.authority));
    if (r.queries?.length > 1 || r.queries?.some((q) => q.failed?.length || q.truncated_udp)) {
      out.push(h('h4', {}, t('dns.queries')), grid([t('dns.type'), t('dns.status'), t('dns.server'), t('dns.time'), t('dns.notes')],
        r.queries.map((q) => [q.type, q.status, `${q.server} ${q.protocol}`, fmtMs(q.elapsed_ms),
          [q.authoritative ? t('dns.aa') : null, q.truncated_udp ? t('dns.tc') : null, ...(q.failed || [])].filter(Boolean).join('; ')])));
    }
    return out;
  },

  ifaces(r) {
    const cards = r.interfaces.map((i) => h('div', { class: 'card' },
      h('div', { class: 'cardhead' }, h('b', {}, i.name), badge(tOr('iface.state.' + i.state, i.state), i.state === 'up' || i.flags.includes('running') ? 'ok' : ''),
        badge(tOr('iface.kind.' + i.kind.toLowerCase(), i.kind)), i.default ? badge(t('iface.default'), 'accent') : null),
      kv([
        [t('iface.ipv4'), i.ipv4.length ? i.ipv4.map((a) => h('div', {}, h('code', {}, `${a.address}/${a.prefix}`), a.broadcast ? ` ${t('iface.broadcast')} ${a.broadcast}` : '')) : null],
        [t('iface.ipv6'), i.ipv6.length ? i.ipv6.map((a) => h('div', {}, h('code', {}, `${a.address}/${a.prefix}`), ` ${tOr('iface.scope.' + a.scope, a.scope)}`)) : null],
        [t('iface.mac'), i.mac ? h('code', {}, i.mac) : null],
        [t('iface.mtu'), i.mtu != null ? String(i.mtu) : null],
        [t('iface.index'), String(i.index)],
        [t('iface.flags'), i.flags.join(' ')],
      ])));
    const out = [h('div', { class: 'cards' }, cards)];
    if (r.gateways?.length) {
      out.push(h('h4', {}, t('iface.gateways')), grid([t('iface.interface'), t('iface.gateway'), t('iface.family'), t('iface.mac')],
        r.gateways.map((g) => [g.interface, g.address, g.family, g.mac])));
    }
    return out;
  },

  scan(r) {
    const out = [h('p', { class: 'summary' }, t('scan.summary', {
      n: fmtInt(r.ports_scanned), address: r.address, ms: fmtMs(r.elapsed_ms), open: r.open.length, closed: r.closed, filtered: r.filtered,
    }))];
    out.push(h('div', { class: 'stats' }, stat(t('scan.open'), String(r.open.length), 'ok'), stat(t('scan.closed'), String(r.closed)),
      stat(t('scan.filtered'), String(r.filtered), r.filtered ? 'warn' : '')));
    out.push(r.open.length
      ? grid([t('scan.port'), t('scan.state'), t('scan.service')], r.open.map((o) => [`${o.port}/tcp`, badge(t('scan.open'), 'ok'), o.service ?? '']))
      : h('p', { class: 'muted' }, t('scan.noneopen')));
    return out;
  },

  trace(r) {
    const out = [];
    const scale = Math.max(...r.hops.map((x) => x.phases.total_ms), 0);
    r.hops.forEach((hop, i) => out.push(traceHop(hop, i, r.hops.length, scale)));
    if (r.error) out.push(errorBox(`${tOr('trace.phase.' + r.error.phase, r.error.phase)}: ${r.error.message}`));
    out.push(h('p', { class: 'summary' }, t('trace.total', { ms: fmtMs(r.total_ms), n: r.redirects })));
    return out;
  },
};

function fmtTtl(s) {
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${s} s (${Math.round(s / 60)} min)`;
  if (s < 172800) return `${s} s (${+(s / 3600).toFixed(1)} h)`;
  return `${s} s (${+(s / 86400).toFixed(1)} d)`;
}

function traceHop(hop, i, n, scale) {
  const res = hop.response;
  const req = hop.request;
  const status = res ? h('span', { class: 'status s' + String(res.status)[0] }, `${res.status} ${res.reason}`) : null;
  const title = h('div', { class: 'hophead' }, n > 1 ? badge(t('trace.hop', { n: i + 1 })) : null,
    h('b', {}, req?.method ?? ''), ' ', h('code', {}, hop.url), ' ', status);
  const rows = [
    [t('trace.addresses'), hop.addresses.length ? hop.addresses.join(', ') : null],
    [t('trace.connected'), hop.address],
    [t('trace.failed_connects'), hop.failed_connects.length ? hop.failed_connects.map((c) => `${c.address}: ${c.error}`).join('; ') : null],
    [t('trace.tls'), hop.tls ? `${hop.tls.version} · ${hop.tls.cipher}${hop.tls.alpn ? ' · ALPN ' + hop.tls.alpn : ''}` : null],
    [t('trace.certificate'), hop.tls?.certificate ? `${hop.tls.certificate.subject} (${t('trace.issuer')}: ${hop.tls.certificate.issuer}; ${hop.tls.certificate.not_before} – ${hop.tls.certificate.not_after})` : null],
    [t('trace.location'), hop.location],
    [t('trace.body'), res ? fmtBytes(hop.body_bytes) : null],
    [t('trace.wire'), t('trace.wire.value', { sent: fmtBytes(hop.bytes_sent), received: fmtBytes(hop.bytes_received) })],
  ];
  const heads = h('div', { class: 'heads' },
    req ? h('div', {}, h('h4', {}, t('trace.request')), headBlock('> ', `${req.method} ${req.target} ${req.version}`, req.headers)) : null,
    res ? h('div', {}, h('h4', {}, t('trace.response')), headBlock('< ', `${res.version} ${res.status} ${res.reason}`, res.headers)) : null);
  return h('div', { class: 'hop' }, title, waterfallView(hop.phases, scale), kv(rows), heads);
}

function headBlock(mark, first, headers) {
  return h('pre', { class: 'headblock' }, [first, ...headers.map(([k, v]) => `${k}: ${v}`)].map((l) => mark + l).join('\n'));
}

function waterfallView(phases, scale) {
  const bars = waterfall(phases, scale || phases.total_ms);
  const rows = bars.map((b) => {
    // Set through the CSSOM: the page's CSP (default-src 'self') blocks style attributes.
    const bar = h('span', { class: 'wfbar ' + b.key });
    bar.style.left = `${(b.start * 100).toFixed(2)}%`;
    bar.style.width = `max(2px, ${(b.width * 100).toFixed(2)}%)`;
    return h('div', { class: 'wfrow' }, h('span', { class: 'wflabel' }, t('trace.phase.' + b.key)),
      h('span', { class: 'wftrack' }, bar), h('span', { class: 'wfms' }, fmtMs(b.ms)));
  });
  rows.push(h('div', { class: 'wfrow total' }, h('span', { class: 'wflabel' }, t('trace.phase.total')), h('span', { class: 'wftrack' }),
    h('span', { class: 'wfms' }, fmtMs(phases.total_ms))));
  return h('div', { class: 'waterfall' }, rows);
}

// ---------- ping: progress, chart, summary ----------

function pingView(state) {
  const s = state.summary ?? summarize(state.tries);
  const out = [];
  if (state.report) {
    out.push(h('p', { class: 'summary' }, t(state.report.mode === 'icmp' ? 'ping.to.icmp' : 'ping.to.tcp', {
      address: state.report.port != null ? (state.report.address.includes(':') ? `[${state.report.address}]:${state.report.port}` : `${state.report.address}:${state.report.port}`) : state.report.address,
    })));
  } else if (state.tries.length < state.count) {
    out.push(h('p', { class: 'summary' }, t('ping.running', { n: state.tries.length, count: state.count })));
  }
  out.push(h('div', { class: 'stats' },
    stat(t('ping.sent'), String(s.sent)), stat(t('ping.received'), String(s.received), s.received ? 'ok' : ''),
    stat(t('ping.loss'), fmtPercent(s.loss_percent), s.loss_percent > 0 ? 'bad' : 'ok'),
    stat(t('ping.min'), fmtMs(s.min_ms)), stat(t('ping.avg'), fmtMs(s.avg_ms)), stat(t('ping.max'), fmtMs(s.max_ms)),
    stat(t('ping.stddev'), fmtMs(s.stddev_ms))));
  const canvas = h('canvas', { class: 'chart' });
  out.push(canvas);
  const last = state.tries.slice(-200).reverse();
  out.push(h('div', { class: 'tries' }, grid([t('ping.seq'), t('ping.time')], last.map((x) => [String(x.seq),
    x.ok ? fmtMs(x.time_ms) : h('span', { class: 'err' }, x.error)]))));
  state.canvas = canvas;
  return out;
}

function drawPing(state) {
  if (!state.canvas || !state.canvas.isConnected) return;
  const { points, failed } = tryPoints(state.tries);
  drawSeries(state.canvas, [{ name: t('ping.time'), color: '--accent', points }], {
    yUnit: 'ms', xLabel: t('ping.seq'), xMin: 1, xMax: Math.max(state.count, 2),
    markers: failed.map((x) => ({ x, color: '--err' })), empty: t('ping.waiting'),
  });
}

// ---------- forms ----------

/** The request of each form: its fields, typed. Empty numbers are left to the server's
 * defaults. */
function argsOf(form) {
  const args = {};
  for (const el of form.querySelectorAll('[name]')) {
    if (el.type === 'checkbox') args[el.name] = el.checked;
    else if (el.type === 'number') { if (el.value !== '') args[el.name] = Number(el.value); } else args[el.name] = el.value;
  }
  if (form.dataset.tool === 'dns') args.types = (args.types || '').split(/[\s,]+/).filter(Boolean);
  return args;
}

// What each result area shows, to draw it again when the language changes.
const shown = new Map();

function show(form, what) {
  shown.set(form, what);
  const out = $('.result', form);
  out.textContent = '';
  if (what.error) out.append(errorBox(what.error));
  if (what.ping) { out.append(...pingView(what.ping)); drawPing(what.ping); return; }
  if (what.result !== undefined) {
    const v = VIEWS[form.dataset.tool](what.result);
    out.append(...(Array.isArray(v) ? v : [v]));
  }
}

function busy(form, on, rid) {
  form.classList.toggle('busy', on);
  const run = $('button.run', form);
  if (run) run.disabled = on;
  const stop = $('button.stop', form);
  if (stop) { stop.disabled = !on; stop.onclick = on ? () => send({ op: 'stop', rid }) : null; }
}

async function submit(form) {
  const name = form.dataset.tool;
  const args = argsOf(form);
  if (name === 'ping') {
    const state = { tries: [], count: args.count || 4, summary: null, report: null };
    let frame = 0;
    const { rid, done } = call(name, args, (tr) => {
      state.tries.push(tr);
      // Redraw at most once a frame, however fast the tries come.
      if (!frame) frame = requestAnimationFrame(() => { frame = 0; show(form, { ping: state }); });
    });
    busy(form, true, rid);
    show(form, { ping: state });
    const r = await done;
    busy(form, false);
    if (frame) cancelAnimationFrame(frame);
    if (r.error) { show(form, state.tries.length ? { ping: state, error: r.error } : { error: r.error }); return; }
    // The report is the truth: every try, the exact summary.
    state.report = r.result;
    state.tries = r.result.tries;
    state.summary = r.result.summary;
    state.count = Math.max(state.count, state.tries.length);
    show(form, { ping: state });
    return;
  }
  const { rid, done } = call(name, args);
  busy(form, true, rid);
  $('.result', form).textContent = t('tool.running');
  const r = await done;
  busy(form, false);
  show(form, r.error ? { error: r.error } : { result: r.result });
}

/**
 * Builds the toolbox page into #views and its tab into the header.
 * ctx: { t, request (sends one message; false when offline), activate (shows a page),
 *        encodings (the encoding names of the convert form) }.
 */
export function setupToolbox(ctx) {
  t = ctx.t;
  send = ctx.request;
  const view = $('#toolbox-view').content.firstElementChild.cloneNode(true);
  view.dataset.id = 'toolbox';
  $('#views').append(view);
  for (const enc of view.querySelectorAll('select.encoding')) for (const e of ctx.encodings) enc.append(h('option', { value: e }, e));
  const nav = $('.toolnav', view);
  const forms = [...view.querySelectorAll('form.tool')];
  const pick = (name) => {
    for (const f of forms) f.classList.toggle('active', f.dataset.tool === name);
    for (const b of nav.children) b.classList.toggle('active', b.dataset.tool === name);
    localStorage.setItem('socklab.tool', name);
    // A chart drawn while hidden had no size.
    const s = shown.get(forms.find((f) => f.dataset.tool === name));
    if (s?.ping) drawPing(s.ping);
  };
  for (const form of forms) {
    const key = $('h3', form).dataset.i18n;
    nav.append(h('button', { type: 'button', 'data-tool': form.dataset.tool, 'data-i18n': key, onclick: () => pick(form.dataset.tool) }, t(key)));
    form.onsubmit = (e) => { e.preventDefault(); if (!form.classList.contains('busy')) submit(form); };
  }
  const saved = localStorage.getItem('socklab.tool');
  pick(forms.some((f) => f.dataset.tool === saved) ? saved : forms[0].dataset.tool);
  const tab = h('button', { 'data-id': 'toolbox', 'data-i18n': 'tab.toolbox', onclick: () => { ctx.activate('toolbox'); pick(localStorage.getItem('socklab.tool') || forms[0].dataset.tool); } });
  $('header').insertBefore(tab, $('.spacer'));
  // app.js translates the static labels and sets <html lang>; the results are drawn again
  // in the new language when it changes.
  const placeholders = () => view.querySelectorAll('[data-i18n-placeholder]').forEach((el) => { el.placeholder = t(el.dataset.i18nPlaceholder); });
  placeholders();
  new MutationObserver(() => { placeholders(); for (const [form, what] of shown) show(form, what); })
    .observe(document.documentElement, { attributes: true, attributeFilter: ['lang'] });
  window.addEventListener('resize', () => { for (const what of shown.values()) if (what.ping) drawPing(what.ping); });
}

// Benchmark of `socklab web` under a fast stream, on loopback only: a peer (socat) sends
// SIZE_MB MiB of text lines to a TCP server session of the web UI, as fast as it can,
//   1. with no page open (the session runs on its own, as it does after a page closes),
//   2. with the page open in headless Chromium, showing the session's log,
// and, for scale, to `nc -l` writing to /dev/null. It prints the transfer time and rate of
// each, the ratio page-open / no-page, the frames the page got per second, the page's peak
// JS heap, the web server's peak RSS, and checks that the page's counter ends exact.
//
// Usage: [SOCKLAB=target/release/socklab] [SIZE_MB=1024] node scripts/bench-web.mjs
// Needs socat, nc (OpenBSD), /usr/bin/chromium and playwright-core (scripts/test installs
// them; run from the repository root). Every wait is bounded by TIMEOUT seconds (600).
import { createRequire } from 'node:module';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';

const require = createRequire(new URL('../crates/socklab/tests/browser/package.json', import.meta.url));
const { chromium } = require('playwright-core');
const SOCKLAB = process.env.SOCKLAB || 'target/release/socklab';
const SIZE_MB = Number(process.env.SIZE_MB || 1024);
const TIMEOUT = Number(process.env.TIMEOUT || 600) * 1000;
if (!existsSync(SOCKLAB)) { console.error(`bench-web: no ${SOCKLAB}; cargo build --release -p socklab`); process.exit(1); }

const dir = mkdtempSync(existsSync('/dev/shm') ? '/dev/shm/socklab-bench-web-' : `${tmpdir()}/socklab-bench-web-`);
const data = `${dir}/stream.txt`;
{
  const line = Buffer.from('0123456789 abcdefghijklmnopqrstuvwxyz 网络调试助手 ABCDEFGHIJKLMNOPQRSTUVWXYZ\n');
  const block = Buffer.alloc(1 << 20);
  for (let i = 0; i < block.length; i++) block[i] = line[i % line.length];
  const all = Buffer.alloc(SIZE_MB << 20);
  for (let i = 0; i < SIZE_MB; i++) block.copy(all, i << 20);
  writeFileSync(data, all);
}
const SIZE = SIZE_MB << 20;

function bounded(p, what) {
  return Promise.race([p, new Promise((_, rej) => setTimeout(() => rej(new Error(`bench-web: ${what} took over ${TIMEOUT / 1000} s`)), TIMEOUT))]);
}
function exited(child) { return new Promise((res) => child.on('exit', (code) => res(code))); }
async function send(port) {
  const t0 = process.hrtime.bigint();
  const peer = spawn('socat', ['-u', `FILE:${data}`, `TCP:127.0.0.1:${port}`], { stdio: 'ignore' });
  const code = await bounded(exited(peer), 'the stream');
  if (code !== 0) throw new Error(`socat exited ${code}`);
  return Number(process.hrtime.bigint() - t0) / 1e9;
}
function peakRss(pid) {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}
const rate = (s) => `${(SIZE / s / 1e6).toFixed(0)} MB/s`;

// nc, for scale: the same stream into /dev/null.
async function ncBaseline() {
  const port = await new Promise((res) => { const s = net.createServer(); s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); }); });
  // -k: nc keeps listening after the readiness probe below hangs up.
  const nc = spawn('nc', ['-lk', '127.0.0.1', String(port)], { stdio: ['ignore', 'ignore', 'ignore'] });
  // nc prints nothing when ready: try until the port answers, bounded.
  for (let i = 0; ; i++) {
    const ok = await new Promise((res) => { const c = net.connect(port, '127.0.0.1'); c.on('connect', () => { c.destroy(); res(true); }); c.on('error', () => res(false)); });
    if (ok) break;
    if (i > 200) throw new Error('nc did not listen');
    await new Promise((r) => setTimeout(r, 10));
  }
  const s = await send(port);
  nc.kill();
  return s;
}

const web = spawn(SOCKLAB, ['web'], { stdio: ['ignore', 'pipe', 'inherit'] });
const url = await bounded(new Promise((res) => { let b = ''; web.stdout.on('data', (d) => { b += d; const m = /(http:\/\/\S+)/.exec(b); if (m) res(m[1]); }); }), 'socklab web to start');
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  page.setDefaultTimeout(TIMEOUT);
  await page.goto(url);
  await page.locator('#conn.on').waitFor();
  const openSession = async () => {
    const s = page.locator('main > section.session.active');
    await s.locator('select.mode').selectOption('tcp-server');
    await s.locator('input.address').fill('127.0.0.1:0');
    await s.locator('button.openclose').click();
    const reach = await s.locator('.reach').filter({ hasText: '127.0.0.1:' }).textContent();
    return Number(/127\.0\.0\.1:(\d+)/.exec(reach)[1]);
  };

  // 1. No page: open the session, then leave the page (the session goes on without it).
  const port1 = await openSession();
  await page.goto('about:blank');
  const alone = await send(port1);

  // 2. The page open, counting the frames it gets, with a new session in a tab of its own.
  // Messages the page's socket got, and how many the server dropped for it ({"dropped":N}:
  // the page read too slowly for the broadcast backlog).
  let frames = 0;
  let dropped = 0;
  page.on('websocket', (ws) => ws.on('framereceived', (f) => {
    frames++;
    const text = String(f.payload);
    if (text.startsWith('{"dropped"')) dropped += Number(JSON.parse(text).dropped) || 0;
  }));
  await page.goto(url);
  await page.locator('#conn.on').waitFor();
  await page.locator('#add-tab').click();
  const port2 = await openSession();
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  let heap = 0;
  const sampler = setInterval(async () => {
    try {
      const { metrics } = await cdp.send('Performance.getMetrics');
      heap = Math.max(heap, metrics.find((m) => m.name === 'JSHeapUsedSize').value);
    } catch { /* the page is busy; the next sample counts */ }
  }, 500);
  const f0 = frames;
  const t0 = performance.now();
  const open = await send(port2);
  const framesDuring = frames - f0;
  // The counter the page shows must end exact, whatever it skipped.
  await page.locator('main > section.session.active .counters').filter({ hasText: `(${SIZE} bytes)` }).waitFor();
  const exactAfter = (performance.now() - t0) / 1000;
  const framesUntilExact = frames - f0;
  clearInterval(sampler);
  const notice = await page.locator('main > section.session.active .notice').textContent();
  const rss = peakRss(web.pid);

  const nc = await ncBaseline();
  console.log(`stream: ${SIZE_MB} MiB of text lines from socat, over 127.0.0.1`);
  console.log(`nc -l > /dev/null          ${nc.toFixed(2)} s  ${rate(nc)}`);
  console.log(`socklab web, no page       ${alone.toFixed(2)} s  ${rate(alone)}  (${(nc / alone).toFixed(2)}x nc)`);
  console.log(`socklab web, page open     ${open.toFixed(2)} s  ${rate(open)}  (${(alone / open).toFixed(2)}x no page)`);
  console.log(`frames to the page         ${framesDuring} in ${open.toFixed(2)} s = ${(framesDuring / open).toFixed(1)}/s; ${framesUntilExact} until its counter was exact, ${exactAfter.toFixed(2)} s after the start`);
  console.log(`messages dropped for it    ${dropped}`);
  console.log(`page JS heap, peak         ${(heap / 1048576).toFixed(0)} MiB`);
  console.log(`socklab web RSS, peak      ${rss.toFixed(0)} MiB`);
  console.log(`page says                  ${notice}`);
  console.log(`page counter exact         yes (${SIZE} bytes)`);
  console.log(`socklab ${execFileSync(SOCKLAB, ['--version']).toString().trim()}, ${new Date().toISOString()}`);
} finally {
  web.kill();
  // Chromium does not always answer close() (a 1 GiB run hung here until `timeout` killed
  // it): give it five seconds, then go on.
  await Promise.race([browser.close(), new Promise((done) => setTimeout(done, 5000))]);
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);

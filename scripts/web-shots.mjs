// Screenshots of `socklab web` in headless Chromium, as a person would see it: the page at
// 1280x720, a TCP server session on 127.0.0.1:17788 with a client (this script) sending text
// and bytes, a reply sent from the page, the both view and a bad hex input; then each page
// of the toolbox against peers this script opens on loopback (a TCP listener for ping and
// the port check, an HTTP server with a redirect for the trace), and a bad input.
// Not part of CI. Needs `apt-get install chromium fonts-wqy-microhei` and
// `npm install playwright-core` (run it from where node_modules is, or set NODE_PATH).
// Usage: [SOCKLAB=target/debug/socklab] [SHOTS=/tmp] node scripts/web-shots.mjs [en|zh]
import { chromium } from 'playwright-core';
import { spawn } from 'child_process';
import net from 'net';
import http from 'http';
const lang = process.argv[2] || 'en';
const bin = process.env.SOCKLAB || 'target/debug/socklab';
const dir = process.env.SHOTS || '/tmp';
const web = spawn(bin, ['web', '--lang', lang], { stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise((res, rej) => {
  let buf = '';
  web.stdout.on('data', d => { buf += d; const m = buf.match(/(http:\/\/\S+)/); if (m) res(m[1]); });
  setTimeout(() => rej(new Error('no url')), 20000);
});
console.log('url', url);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--no-first-run', '--disable-component-update', '--disable-sync'] });
const problems = [];
const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
page.on('console', m => { console.log('console:', m.type(), m.text()); if (m.type() === 'error') problems.push(m.text()); });
page.on('pageerror', e => { console.log('pageerror:', e.message); problems.push(e.message); });
await page.goto(url);
await page.waitForTimeout(1500);
await page.screenshot({ path: `${dir}/web-1-start.png` });
// Open a TCP server on a free port
const modeSel = page.locator('select.mode').first();
const opts = await modeSel.locator('option').allTextContents();
console.log('modes', opts);
await modeSel.selectOption('tcp-server').catch(e => console.log('select', e.message));
await page.locator('input.address').first().fill('127.0.0.1:17788');
await page.locator('button.openclose').first().click();
await page.waitForTimeout(1000);
const s = net.connect(17788, '127.0.0.1');
await new Promise(r => s.on('connect', r));
s.write('hello from a device\n');
s.write(Buffer.from([0x01, 0x03, 0x00, 0x10, 0xff]));
await page.waitForTimeout(800);
await page.locator('textarea.data').first().fill('reply 你好');
await page.locator('button.send').first().click();
await page.waitForTimeout(800);
await page.screenshot({ path: `${dir}/web-2-session.png` });
await page.locator('button[data-view="both"]').first().click();
await page.locator('input.hex').first().check();
await page.locator('textarea.data').first().fill('01 0g');
await page.waitForTimeout(500);
await page.screenshot({ path: `${dir}/web-3-both-badhex.png` });
s.destroy();

// ---------- the toolbox ----------
const listen = (srv) => new Promise(r => srv.listen(0, '127.0.0.1', () => r(srv.address().port)));
const tcp = net.createServer(c => c.end());
const tcpPort = await listen(tcp);
const web2 = http.createServer((req, res) => {
  if (req.url === '/old') { res.writeHead(302, { Location: '/page' }); res.end('moved'); return; }
  // A little think time, so the waterfall has a visible first-byte bar.
  setTimeout(() => { res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }); res.end('<h1>hello</h1>'.repeat(200)); }, 25);
});
const httpPort = await listen(web2);
await page.locator('header button[data-id="toolbox"]').click();
async function runTool(name, fields, shot) {
  await page.locator(`.toolnav button[data-tool="${name}"]`).click();
  const form = page.locator(`form[data-tool="${name}"]`);
  for (const [sel, value] of Object.entries(fields)) {
    const el = form.locator(`[name="${sel}"]`);
    if (typeof value === 'boolean') await el.setChecked(value); else await el.fill(String(value));
  }
  await form.locator('button.run').click();
  await page.waitForFunction((n) => {
    const f = document.querySelector(`form[data-tool="${n}"]`);
    return !f.classList.contains('busy') && f.querySelector('.result').childElementCount > 0;
  }, name, { timeout: 30000 });
  await page.waitForTimeout(200);
  const path = `${dir}/web-tool-${shot || name}-${lang}.png`;
  await page.screenshot({ path });
  console.log('shot', path);
}
await runTool('ping', { target: `127.0.0.1:${tcpPort}`, count: 20, interval_ms: 50 });
await runTool('scan', { host: '127.0.0.1', ports: `1-1024,${tcpPort},${httpPort}`, timeout_ms: 500 });
await runTool('trace', { url: `http://localhost:${httpPort}/old`, follow: true });
await runTool('dns', { name: 'localhost' });
await runTool('subnet', {});
await runTool('ifaces', {});
await runTool('ports', { query: 'database' });
await runTool('convert', {});
await runTool('ping', { target: '127.0.0.1:99999' }, 'ping-bad');
tcp.close(); web2.close();
await browser.close();
web.kill();
console.log(problems.length ? `console errors: ${problems.length}` : 'console errors: none');
process.exit(problems.length ? 1 : 0);

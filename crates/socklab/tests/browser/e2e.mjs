// socklab web in a real browser: headless Chromium driven by playwright-core, against the
// real binary and real peers on loopback. Run by tests/web.rs (web::in_a_real_browser),
// which starts dnsmasq and passes:
//   SOCKLAB  the binary     SHOTS  where screenshots go     DNS  dnsmasq's 127.0.0.1:PORT
// Every wait is for something on the page or from a peer, with a deadline; never a sleep.
import { chromium } from 'playwright-core';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';

const bin = process.env.SOCKLAB;
const shots = process.env.SHOTS;
const dns = process.env.DNS;
assert.ok(bin && shots && dns, 'SOCKLAB, SHOTS and DNS must be set (tests/web.rs does)');
mkdirSync(shots, { recursive: true });
// Generous: Chromium on a busy 2-core machine can take seconds for a step.
const WAIT = 45000;

function step(what) { console.log(`-- ${what}`); }

// Lines a child prints, to wait for.
function lines(child, name) {
  const seen = [];
  const waiters = [];
  let buf = '';
  child.stdout.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      seen.push(line);
      for (const w of [...waiters]) if (w.pred(line)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(line); }
    }
  });
  child.stderr.on('data', (d) => process.stderr.write(`[${name}] ${d}`));
  return {
    seen,
    wait(what, pred) {
      const found = seen.find(pred);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const w = { pred, resolve };
        waiters.push(w);
        setTimeout(() => reject(new Error(`${name}: no ${what} in ${WAIT} ms; saw ${JSON.stringify(seen)}`)), WAIT);
      });
    },
  };
}

// The device: python's socket module, speaking GBK. It prints what it receives as hex, one
// line per recv, and sends what it reads on stdin (hex lines).
const DEVICE = `
import hashlib, socket, sys, threading
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
print("connected", s.getsockname()[1], flush=True)
got = bytearray()
lock = threading.Lock()
def pump():
    for line in sys.stdin:
        line = line.strip()
        if line == "mark":
            with lock:
                got.clear()
            print("marked", flush=True)
        elif line == "digest":
            with lock:
                print("digest", len(got), hashlib.sha256(got).hexdigest(), flush=True)
        else:
            data = bytes.fromhex(line)
            s.sendall(data)
            print("sent", len(data), flush=True)
threading.Thread(target=pump, daemon=True).start()
while True:
    try:
        b = s.recv(65536)
    except ConnectionResetError:
        print("reset", flush=True); break
    if not b:
        print("eof", flush=True); break
    with lock:
        got.extend(b)
        n = len(got)
    if len(b) <= 64:
        print("got", b.hex(), flush=True)
    print("total", n, flush=True)
`;

const errors = [];
const web = spawn(bin, ['web', '--lang', 'en'], { stdio: ['ignore', 'pipe', 'pipe'] });
const webOut = lines(web, 'socklab web');
let browser;
let page;
try {
  const url = (await webOut.wait('URL', (l) => /http:\/\/127\.0\.0\.1:\d+\/\?token=/.test(l))).match(/http:\/\/\S+/)[0];
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  page.setDefaultTimeout(WAIT);
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') errors.push(`console ${m.type()}: ${m.text()}`); });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));

  // The page's WebSocket goes through a route the test can cut, as a network drop would.
  const wsRoutes = [];
  await page.routeWebSocket(/\/ws$/, (ws) => { wsRoutes.push({ page: ws, server: ws.connectToServer() }); });

  step('the page loads with the token, which leaves the address bar');
  await page.goto(url);
  await page.locator('#conn.on').waitFor();
  assert.ok(!page.url().includes('token'), page.url());
  await page.screenshot({ path: `${shots}/1-start.png` });

  step('a TCP server session in GBK on a free port');
  const s = page.locator('main > section.session.active');
  await s.locator('select.mode').selectOption('tcp-server');
  await s.locator('select.encoding').selectOption('gbk');
  await s.locator('input.address').fill('127.0.0.1:0');
  await s.locator('button.openclose').click();
  const reach = await s.locator('.reach').filter({ hasText: '127.0.0.1:' }).textContent();
  const port = Number(reach.match(/127\.0\.0\.1:(\d+)/)[1]);

  step('a device connects and sends GBK text and binary bytes');
  const device = spawn('python3', ['-c', DEVICE, String(port)], { stdio: ['pipe', 'pipe', 'pipe'] });
  const dev = lines(device, 'device');
  await dev.wait('connection', (l) => l.startsWith('connected'));
  await s.locator('.clients tbody tr').waitFor();
  device.stdin.write('c4e3bac3a3acb7fecef1c6f70a\n'); // 你好，服务器\n in GBK
  await s.locator('.log .vrow.in').filter({ hasText: '你好，服务器' }).waitFor();
  device.stdin.write('010300ff\n');
  await s.locator('.log .vrow.in').filter({ hasText: '\\x01\\x03\\x00' }).waitFor();

  step('the hex view shows the bytes; the both view shows text and hex');
  await s.locator('button[data-view="hex"]').click();
  await s.locator('.log .vrow.hex').filter({ hasText: '01 03 00 ff' }).waitFor();
  await s.locator('.log .vrow.hex').filter({ hasText: 'c4 e3 ba c3' }).waitFor();
  await s.locator('button[data-view="both"]').click();
  await s.locator('.log .vrow.text').filter({ hasText: '你好，服务器' }).waitFor();

  step('a reply in GBK text reaches the device byte for byte');
  await s.locator('select.eol').selectOption('lf');
  await s.locator('textarea.data').fill('收到');
  await s.locator('button.send').click();
  await dev.wait('the GBK reply', (l) => l === 'got cad5b5bd0a');
  await s.locator('.log .vrow.out').filter({ hasText: '收到' }).waitFor();

  step('bad hex is marked, Send is off, and nothing is sent');
  await s.locator('input.hex').check();
  await s.locator('textarea.data').fill('de ad 0g');
  await s.locator('.hexerr mark').waitFor();
  assert.equal(await s.locator('.hexerr mark').textContent(), 'g');
  assert.ok(await s.locator('button.send').isDisabled());
  await s.locator('textarea.data').press('Control+Enter');
  await page.screenshot({ path: `${shots}/2-session-both-badhex.png` });
  await s.locator('textarea.data').fill('de ad be ef');
  assert.ok(await s.locator('button.send').isEnabled());
  await s.locator('textarea.data').press('Control+Enter');
  // The next bytes the device gets are these: the bad line sent nothing.
  const next = await dev.wait('the hex send', (l) => l.startsWith('got') && l !== 'got cad5b5bd0a');
  assert.equal(next, 'got deadbeef');

  step('loop send: three times, every 50 ms, then it stops by itself');
  device.stdin.write('mark\n');
  await dev.wait('the mark', (l) => l === 'marked');
  await s.locator('input.hex').uncheck();
  await s.locator('select.eol').selectOption('none');
  await s.locator('textarea.data').fill('ping');
  await s.locator('input.interval').fill('50');
  await s.locator('input.times').fill('3');
  await s.locator('button.loopbtn').click();
  await s.locator('button.loopbtn').filter({ hasText: /^Loop$/ }).waitFor();
  await dev.wait('three pings', (l) => l === 'total 12');
  device.stdin.write('digest\n');
  const loopDigest = await dev.wait('the digest', (l) => l.startsWith('digest'));
  assert.equal(loopDigest, `digest 12 ${createHash('sha256').update('pingpingping').digest('hex')}`);

  step('send a file of 5 pieces and a bit: the device gets every byte');
  const file = randomBytes((320 << 10) + 7);
  writeFileSync(`${shots}/upload.bin`, file);
  device.stdin.write('mark\n');
  await dev.wait('the second mark', (l) => l === 'marked' && dev.seen.filter((x) => x === 'marked').length === 2);
  await s.locator('input.file').setInputFiles(`${shots}/upload.bin`);
  await dev.wait('the whole file', (l) => l === `total ${file.length}`);
  // The label under the send box says it is done. (The log's line for it can sit above the
  // last pieces' rows: the last answer can reach the page before the frame with the data.)
  await s.locator('.progresslabel').filter({ hasText: `sent upload.bin: ${file.length} bytes` }).waitFor();
  device.stdin.write('digest\n');
  const fileDigest = await dev.wait('the file digest', (l) => l.startsWith(`digest ${file.length}`));
  assert.equal(fileDigest, `digest ${file.length} ${createHash('sha256').update(file).digest('hex')}`);

  step('the WebSocket drops; the device goes on; the page comes back with exact counters');
  const routed = wsRoutes.length;
  const cut = wsRoutes[routed - 1];
  await cut.server.close();
  await cut.page.close();
  await page.locator('#conn.off').waitFor();
  device.stdin.write(`${'41'.repeat(1000)}\n`);
  await dev.wait('the bytes sent while the page was away', (l) => l === 'sent 1000');
  await page.locator('#conn.on').waitFor();
  assert.equal(wsRoutes.length, routed + 1, 'one new WebSocket');
  await s.locator('.log .vrow.info').filter({ hasText: 'the page was offline and is back' }).waitFor();
  // In: the GBK line, the binary bytes and the thousand; out: the reply, deadbeef, the pings, the file.
  const bytesIn = 13 + 4 + 1000;
  const bytesOut = 5 + 4 + 12 + file.length;
  await s.locator('.counters').filter({ hasText: `(${bytesIn} bytes)` }).filter({ hasText: `(${bytesOut} bytes)` }).waitFor();
  await s.locator('.clients tbody tr').filter({ hasText: `${bytesIn} B` }).waitFor();

  step('search finds the text, the filter and the download work');
  await s.locator('button[data-view="text"]').click();
  await s.locator('input.search').fill('服务器');
  await s.locator('.log mark').first().waitFor();
  assert.match(await s.locator('.hits').textContent(), /1/);
  await s.locator('input.search').fill('');
  const [download] = await Promise.all([page.waitForEvent('download'), s.locator('select.dlformat').selectOption('text')]);
  const saved = `${shots}/log.txt`;
  await download.saveAs(saved);
  const logText = readFileSync(saved, 'utf8');
  assert.match(logText, /你好，服务器/);
  // The file is two lines, not a row per piece: the sent rows are the reply, deadbeef and
  // the three pings.
  assert.match(logText, new RegExp(`sending upload.bin: ${file.length} bytes`));
  assert.match(logText, new RegExp(`sent upload.bin: ${file.length} bytes`));
  const sentRows = logText.split('\n').filter((l) => / -> #/.test(l));
  assert.equal(sentRows.length, 5, sentRows.join('\n'));

  step('the throughput chart draws points');
  await page.waitForFunction(() => Number(document.querySelector('main > section.active canvas.chart')?.dataset.points) >= 2);
  await page.screenshot({ path: `${shots}/3-session-text.png` });

  step('kick the device: it sees the connection end, the list empties');
  await s.locator('.clients button.kick').click();
  await dev.wait('the end of the connection', (l) => l === 'eof' || l === 'reset');
  await s.locator('.clients tbody tr').waitFor({ state: 'detached' });
  await s.locator('.log .vrow.info').filter({ hasText: 'kicked' }).waitFor();

  step('the toolbox: a DNS lookup against the test dnsmasq');
  await page.locator('header button[data-id="toolbox"]').click();
  await page.locator('.toolnav button[data-tool="dns"]').click();
  const form = page.locator('form[data-tool="dns"]');
  await form.locator('input[name="name"]').fill('a.test');
  await form.locator('input[name="server"]').fill(dns);
  await form.locator('button.run').click();
  await form.locator('.result').filter({ hasText: '192.0.2.10' }).waitFor();
  await page.screenshot({ path: `${shots}/4-toolbox-dns.png`, fullPage: true });

  step("the toolbox: a TCP ping of the session's own port, on its latency chart");
  await page.locator('.toolnav button[data-tool="ping"]').click();
  const ping = page.locator('form[data-tool="ping"]');
  await ping.locator('input[name="target"]').fill(`127.0.0.1:${port}`);
  await ping.locator('input[name="count"]').fill('3');
  await ping.locator('button.run').click();
  await ping.locator('.result').filter({ hasText: '0%' }).waitFor();
  await page.waitForFunction(() => { const c = document.querySelector('form[data-tool="ping"] canvas'); return c && c.width > 0; });
  await page.screenshot({ path: `${shots}/5-toolbox-ping.png`, fullPage: true });

  step('a TLS server tab, and a TLS client tab that pins its certificate');
  await page.locator('#add-tab').click();
  await s.locator('select.mode').selectOption('tls-server');
  await s.locator('input.address').fill('127.0.0.1:0');
  await s.locator('button.openclose').click();
  const tlsReach = await s.locator('.reach').filter({ hasText: '127.0.0.1:' }).textContent();
  const tlsPort = Number(tlsReach.match(/127\.0\.0\.1:(\d+)/)[1]);
  const certLine = await s.locator('.log .vrow.info').filter({ hasText: 'clients can pin SHA-256' }).textContent();
  const fp = certLine.match(/SHA-256 ((?:[0-9A-F]{2}:){31}[0-9A-F]{2})/)[1];
  await page.locator('#add-tab').click();
  await s.locator('select.mode').selectOption('tls-client');
  await s.locator('select.trust').selectOption('pin');
  await s.locator('input.trustval').fill(fp);
  await s.locator('input.address').fill(`127.0.0.1:${tlsPort}`);
  await s.locator('button.openclose').click();
  await s.locator('.state').filter({ hasText: 'connected' }).waitFor();
  await s.locator('.log .vrow.info').filter({ hasText: 'secured: TLSv1.3' }).waitFor();
  await s.locator('.log .vrow.info').filter({ hasText: `SHA-256 ${fp}` }).waitFor();
  await s.locator('input.hex').uncheck();
  await s.locator('textarea.data').fill('over tls, pinned');
  await s.locator('button.send').click();
  await page.locator('#tabs button').nth(1).click();
  await s.locator('.log .vrow.in').filter({ hasText: 'over tls, pinned' }).waitFor();
  await page.screenshot({ path: `${shots}/7-tls-server.png` });

  step('a TCP client tab with Reconnect: the device drops it and it comes back, the same session');
  const dropper = spawn('python3', [fileURLToPath(new URL('../reconnect_peer.py', import.meta.url))], { stdio: ['ignore', 'pipe', 'pipe'] });
  const drop = lines(dropper, 'reconnect_peer.py');
  const dropPort = Number((await drop.wait('its port', (l) => l.startsWith('listening on'))).match(/:(\d+)$/)[1]);
  await page.locator('#add-tab').click();
  await s.locator('select.mode').selectOption('tcp-server');
  assert.equal(await s.locator('.reconnectbox').isHidden(), true, 'no Reconnect for a server');
  await s.locator('select.mode').selectOption('tcp-client');
  await s.locator('input.reconnect').check();
  await s.locator('input.address').fill(`127.0.0.1:${dropPort}`);
  await s.locator('button.openclose').click();
  await s.locator('.state').filter({ hasText: /^connected$/ }).waitFor();
  await s.locator('input.hex').uncheck();
  await s.locator('select.eol').selectOption('lf');
  await s.locator('textarea.data').fill('one');
  await s.locator('button.send').click();
  await drop.wait('the first line', (l) => l === 'first got one');
  await s.locator('.log .vrow.info').filter({ hasText: 'reconnecting in 1s (attempt 1)' }).waitFor();
  await s.locator('.log .vrow.info').filter({ hasText: 'connected #1' }).nth(1).waitFor();
  await s.locator('textarea.data').fill('two');
  await s.locator('button.send').click();
  await drop.wait('the second line', (l) => l === 'second got two');
  await s.locator('.log .vrow.in').filter({ hasText: 'echo: two' }).waitFor();
  await page.screenshot({ path: `${shots}/8-reconnect.png` });
  await s.locator('button.openclose').click();
  await drop.wait('the end', (l) => l === 'done');

  step('the page in Chinese');
  await page.locator('#lang').selectOption('zh');
  await page.locator('header button[data-id="toolbox"]').filter({ hasText: '工具' }).waitFor();
  await page.locator('#tabs button').first().click();
  await s.locator('button.openclose').filter({ hasText: '关闭' }).waitFor();
  await page.screenshot({ path: `${shots}/6-session-zh.png` });

  device.kill();
  assert.deepEqual(errors, [], 'the browser console has errors');
  console.log('ok: every step passed; screenshots in', shots);
} catch (e) {
  // What the page looked like when it failed, for whoever reads the failure.
  await page?.screenshot({ path: `${shots}/failed.png`, fullPage: true }).catch(() => {});
  console.log(`the page at the failure: ${shots}/failed.png`);
  // The active log's geometry and last rows: a row that exists but is out of view shows here.
  const log = await page?.evaluate(() => {
    const el = document.querySelector('main > section.session.active .log');
    if (!el) return null;
    const rows = [...el.querySelectorAll('.vrow')].slice(-5).map((r) => r.textContent);
    return { scrollTop: el.scrollTop, clientHeight: el.clientHeight, scrollHeight: el.scrollHeight, rows };
  }).catch(() => null);
  if (log) console.log('the active log:', JSON.stringify(log));
  throw e;
} finally {
  await browser?.close();
  web.kill();
}

// Screenshots of `socklab web` in headless Chromium, as a person would see it: the page at
// 1280x720, a TCP server session on 127.0.0.1:17788 with a client (this script) sending text
// and bytes, a reply sent from the page, the both view and a bad hex input.
// Not part of CI. Needs `apt-get install chromium fonts-wqy-microhei` and
// `npm install playwright-core` (run it from where node_modules is, or set NODE_PATH).
// Usage: [SOCKLAB=target/debug/socklab] [SHOTS=/tmp] node scripts/web-shots.mjs [en|zh]
import { chromium } from 'playwright-core';
import { spawn } from 'child_process';
import net from 'net';
const bin = process.env.SOCKLAB || 'target/debug/socklab';
const dir = process.env.SHOTS || '/tmp';
const web = spawn(bin, ['web', '--lang', process.argv[2] || 'en'], { stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise((res, rej) => {
  let buf = '';
  web.stdout.on('data', d => { buf += d; const m = buf.match(/(http:\/\/\S+)/); if (m) res(m[1]); });
  setTimeout(() => rej(new Error('no url')), 20000);
});
console.log('url', url);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
page.on('console', m => console.log('console:', m.type(), m.text()));
page.on('pageerror', e => console.log('pageerror:', e.message));
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
await browser.close();
web.kill();

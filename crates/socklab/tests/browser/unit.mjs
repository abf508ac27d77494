// The page's pure functions, under node's own test runner (run by tests/web.rs,
// web::front_end_units): hex validation and how a byte run becomes display lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { badHexAt, trustOf } from '../../../socklab-web/assets/app.js';
import { textLines, hexLines, entryLines, visibleText, matches, entryAsJson, WRAP } from '../../../socklab-web/assets/log.js';

test('hex is validated by the rules of socklab-core parse_hex', () => {
  for (const ok of ['', '48 65 6c', '48656c', '0x48,0x65', '48:65-6c;00', ' de ad\nbe ef ']) assert.equal(badHexAt(ok), -1, ok);
  assert.equal(badHexAt('de ad 0g'), 7); // the g
  assert.equal(badHexAt('abc'), 2); // odd digits: the last one is marked
  assert.equal(badHexAt('0x'), 0); // a group with no digits
  assert.equal(badHexAt('12 zz'), 3);
});

test('text lines: split at line feeds, controls shown, long lines wrapped', () => {
  assert.deepEqual(textLines('a\nb\n'), ['a', 'b']);
  assert.deepEqual(textLines('a\r\n'), ['a\\r']);
  assert.deepEqual(textLines(''), ['']);
  assert.deepEqual(textLines('\n\n'), ['', '']);
  assert.equal(visibleText('\x00\x1b\t'), '\\x00\\x1b\\t');
  const long = '好'.repeat(WRAP * 2 + 1);
  const ls = textLines(long);
  assert.equal(ls.length, 3);
  assert.equal(ls.join(''), long);
});

test('hex lines: offset, 16 bytes, ASCII', () => {
  const hex = Buffer.from('Hello, world!\x00\x01\x02\x03\xff', 'latin1').toString('hex');
  const ls = hexLines(hex);
  assert.equal(ls.length, 2);
  assert.equal(ls[0], '00000000  48 65 6c 6c 6f 2c 20 77  6f 72 6c 64 21 00 01 02  |Hello, world!...|');
  assert.ok(ls[1].startsWith('00000010  03 ff '), ls[1]);
  assert.ok(ls[1].endsWith('|..|'), ls[1]);
  assert.deepEqual(hexLines(''), []);
});

test('an entry in each view', () => {
  const e = { kind: 'in', peer: 1, time: 't', hex: '610a62', text: 'a\nb', len: 3 };
  assert.deepEqual(entryLines(e, 'text').map((l) => l.text), ['a', 'b']);
  assert.deepEqual(entryLines(e, 'hex').map((l) => l.sub), ['hex']);
  assert.deepEqual(entryLines(e, 'both').map((l) => l.sub), ['text', 'text', 'hex']);
  assert.deepEqual(entryLines({ kind: 'info', text: 'x' }, 'hex'), [{ text: 'x', sub: 'info' }]);
  assert.deepEqual(JSON.parse(entryAsJson(e)), { time: 't', event: 'received', peer: 1, len: 3, hex: '610a62', text: 'a\nb' });
});

test('search matches are case-insensitive and bounded', () => {
  assert.deepEqual(matches('Abc abc', 'ABC'), [[0, 3], [4, 7]]);
  assert.deepEqual(matches('abc', ''), []);
  assert.equal(matches('a'.repeat(1000), 'a').length, 100);
});

test('a TLS client\'s trust becomes the open request\'s tls', () => {
  assert.deepEqual(trustOf('system', 'ignored'), {});
  assert.deepEqual(trustOf('pin', 'AB:CD'), { pin: 'AB:CD' });
  assert.deepEqual(trustOf('ca', '/etc/ca.pem'), { ca: '/etc/ca.pem' });
  assert.deepEqual(trustOf('insecure', ''), { insecure: true });
});

test('a read cut to fit a frame says how much is not shown', () => {
  const e = { kind: 'in', text: 'ab', hex: '6162', len: 2, truncated: 10 };
  const ls = entryLines(e, 'text', null);
  assert.equal(ls.length, 2);
  assert.equal(ls[1].sub, 'info');
  assert.match(ls[1].text, /8 more bytes/);
  assert.equal(entryLines({ ...e, truncated: undefined }, 'text', null).length, 1);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NFO_DEFAULT_MAX_BYTES, cp437Char, decodeNfo } from './nfo.js';

const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);
const ascii = (s: string): number[] => Array.from(s, (c) => c.charCodeAt(0));

test('known CP437 bytes map to the right characters', () => {
  const expected: Array<[number, string]> = [
    [0xc9, '╔'], [0xcd, '═'], [0xbb, '╗'], [0xba, '║'], [0xc8, '╚'], [0xbc, '╝'],
    [0xb0, '░'], [0xb1, '▒'], [0xb2, '▓'], [0xdb, '█'], [0xdc, '▄'], [0xdf, '▀'], [0xdd, '▌'], [0xde, '▐'],
    [0xc4, '─'], [0xb3, '│'], [0xda, '┌'], [0xbf, '┐'], [0xc0, '└'], [0xd9, '┘'], [0xc5, '┼'],
    [0x80, 'Ç'], [0x81, 'ü'], [0x82, 'é'], [0x85, 'à'], [0x87, 'ç'], [0x8a, 'è'], [0x88, 'ê'], [0x90, 'É'],
    [0x9c, '£'], [0x9e, '₧'], [0xe1, 'ß'], [0xe3, 'π'], [0xe6, 'µ'], [0xf8, '°'], [0xfa, '·'], [0xfb, '√'], [0xfd, '²'],
    [0xfe, '■'], [0xff, '\u00a0'],
    [0x01, '☺'], [0x02, '☻'], [0x03, '♥'], [0x04, '♦'], [0x05, '♣'], [0x06, '♠'], [0x07, '•'], [0x0e, '♫'],
    [0x10, '►'], [0x11, '◄'], [0x18, '↑'], [0x19, '↓'], [0x1a, '→'], [0x1b, '←'], [0x1e, '▲'], [0x1f, '▼'], [0x7f, '⌂'],
    [0x41, 'A'], [0x7e, '~'], [0x20, ' '],
  ];
  for (const [b, ch] of expected) {
    assert.equal(cp437Char(b), ch, `byte 0x${b.toString(16)}`);
    assert.equal(decodeNfo(bytes(0x41, b, 0x41)), `A${ch}A`, `decoding byte 0x${b.toString(16)}`);
  }
});

test('the table maps each byte to one character, all distinct but 0x00 and 0x20 (both blank)', () => {
  const seen = new Set<string>();
  for (let b = 0; b < 256; b++) {
    const c = cp437Char(b);
    assert.equal(Array.from(c).length, 1, `byte ${b} is one character`);
    seen.add(c);
  }
  assert.equal(seen.size, 255);
  assert.equal(cp437Char(0x00), ' ');
});

test('TAB, LF and CR stay whitespace; CRLF and CR become LF; NUL is blank', () => {
  assert.equal(decodeNfo(bytes(0x61, 0x09, 0x62, 0x0d, 0x0a, 0x63, 0x0d, 0x64, 0x0a, 0x65)), 'a\tb\nc\nd\ne');
  assert.equal(decodeNfo(bytes(0x61, 0x00, 0x62)), 'a b');
});

test('a box drawn in CP437 decodes line by line', () => {
  const art = [0xc9, 0xcd, 0xcd, 0xbb, 0x0d, 0x0a, 0xba, ...ascii('hi'), 0xba, 0x0d, 0x0a, 0xc8, 0xcd, 0xcd, 0xbc, 0x0d, 0x0a];
  assert.equal(decodeNfo(Uint8Array.from(art)), '╔══╗\n║hi║\n╚══╝\n');
});

test('a trailing 0x1A end-of-file marker is stripped, an inner one is a glyph', () => {
  assert.equal(decodeNfo(bytes(0x61, 0x1a)), 'a');
  assert.equal(decodeNfo(bytes(0x61, 0x1a, 0x1a)), 'a');
  assert.equal(decodeNfo(bytes(0x61, 0x1a, 0x62)), 'a→b');
});

test('a SAUCE record is removed with its EOF marker', () => {
  const sauce = new Uint8Array(128);
  sauce.set(ascii('SAUCE00'), 0);
  sauce.set(ascii('Title'), 7);
  const file = Uint8Array.from([...ascii('art'), 0x1a, ...sauce]);
  assert.equal(decodeNfo(file), 'art');
  // With a comment block.
  const withComment = new Uint8Array(128);
  withComment.set(sauce);
  withComment[104] = 1;
  const comnt = new Uint8Array(5 + 64);
  comnt.set(ascii('COMNT'), 0);
  comnt.set(ascii('a comment'), 5);
  assert.equal(decodeNfo(Uint8Array.from([...ascii('art'), 0x1a, ...comnt, ...withComment])), 'art');
});

test('UTF-8 with a BOM is decoded as UTF-8; without a BOM it is CP437', () => {
  const utf8 = new TextEncoder().encode('Café ╔═╗\r\n');
  assert.equal(decodeNfo(Uint8Array.from([0xef, 0xbb, 0xbf, ...utf8])), 'Café ╔═╗\n');
  // The same bytes without BOM are read as CP437.
  assert.equal(decodeNfo(new TextEncoder().encode('é')), '├⌐');
  // A BOM followed by invalid UTF-8 falls back to CP437 (BOM bytes included).
  assert.equal(decodeNfo(bytes(0xef, 0xbb, 0xbf, 0x82)), '∩╗┐é');
});

test(`input is capped at ${NFO_DEFAULT_MAX_BYTES} bytes by default, and at maxBytes`, () => {
  const big = new Uint8Array(NFO_DEFAULT_MAX_BYTES + 1000).fill(0xdb);
  assert.equal(decodeNfo(big).length, NFO_DEFAULT_MAX_BYTES);
  assert.equal(decodeNfo(bytes(0x61, 0x62, 0x63, 0x64), { maxBytes: 2 }), 'ab');
  assert.throws(() => decodeNfo(bytes(1), { maxBytes: -1 }), RangeError);
});

test('a UTF-8 character cut by the cap is dropped, not mangled', () => {
  const body = new TextEncoder().encode('aé'); // 61 C3 A9
  const file = Uint8Array.from([0xef, 0xbb, 0xbf, ...body]);
  assert.equal(decodeNfo(file, { maxBytes: 5 }), 'a');
  assert.equal(decodeNfo(file, { maxBytes: 6 }), 'aé');
});

test('every byte value decodes without throwing and without control characters other than tab and newline', () => {
  const all = Uint8Array.from({ length: 256 }, (_v, i) => i);
  const text = decodeNfo(all);
  // eslint-disable-next-line no-control-regex
  assert.ok(!/[\u0000-\u0008\u000b-\u001f\u007f]/.test(text), 'no control characters');
  // One character per byte: the lone CR (0x0D is followed by 0x0E) becomes LF, nothing is dropped.
  assert.equal(Array.from(text).length, 256);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { bdecode, bencode, findDictValueSpan, type BValue } from './bencode.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

function decodeOk(input: string | Buffer, strict = false): BValue {
  const r = bdecode(typeof input === 'string' ? b(input) : input, { strict });
  if (!r.ok) assert.fail(`expected ok, got ${r.error}`);
  return r.value;
}

function decodeErr(input: string | Buffer, strict = false): string {
  const r = bdecode(typeof input === 'string' ? b(input) : input, { strict });
  if (r.ok) assert.fail('expected an error');
  return r.error;
}

void test('bencode: scalars, lists and dicts with sorted keys', () => {
  assert.equal(bencode(0).toString(), 'i0e');
  assert.equal(bencode(-42).toString(), 'i-42e');
  assert.equal(bencode(-0).toString(), 'i0e');
  assert.equal(bencode(2n ** 70n).toString(), `i${2n ** 70n}e`);
  assert.equal(bencode(2 ** 60).toString(), `i${2n ** 60n}e`);
  assert.equal(bencode('spam').toString(), '4:spam');
  assert.equal(bencode('é').toString('latin1'), '2:\xc3\xa9');
  assert.equal(bencode(new Uint8Array([0, 255])).toString('latin1'), '2:\x00\xff');
  assert.equal(bencode(['a', 1, []]).toString(), 'l1:ai1elee');
  assert.equal(bencode({ zz: 1, a: 'x', b: undefined, ab: [] }).toString(), 'd1:a1:x2:able2:zzi1ee');
  // Keys sort as bytes, not as UTF-16 code units: U+FF5E (ef bd 9e) sorts before U+1F600 (f0 ...).
  assert.equal(bencode({ '\u{1F600}': 1, '\uFF5E': 2 }).toString('latin1'), 'd3:\xef\xbd\x9ei2e4:\xf0\x9f\x98\x80i1ee');
  // Map keys are byte strings: latin1 strings or Uint8Arrays.
  const m = new Map<string | Uint8Array, number>([
    ['b', 1],
    [new Uint8Array([0x61]), 2],
    ['\xff', 3],
  ]);
  assert.equal(bencode(m).toString('latin1'), 'd1:ai2e1:bi1e1:\xffi3ee');
});

void test('bencode: rejects unencodable values', () => {
  assert.throws(() => bencode(1.5), TypeError);
  assert.throws(() => bencode(Number.NaN), TypeError);
  assert.throws(() => bencode(true as unknown as number), TypeError);
  assert.throws(() => bencode(null as unknown as number), TypeError);
  assert.throws(() => bencode([undefined] as unknown as number[]), TypeError);
  assert.throws(() => bencode(new Map([['\u0100', 1]])), /latin1/);
  assert.throws(
    () =>
      bencode(
        new Map<string | Uint8Array, number>([
          ['a', 1],
          [b('a'), 2],
        ]),
      ),
    /duplicate/,
  );
  const cyclic: unknown[] = [];
  cyclic.push(cyclic);
  assert.throws(() => bencode(cyclic as never), /too deep/);
  assert.throws(() => bencode(new Int16Array(2) as never), TypeError);
});

void test('bdecode: values and representation', () => {
  assert.equal(decodeOk('i42e'), 42);
  assert.equal(decodeOk('i-42e'), -42);
  assert.equal(decodeOk('i9007199254740991e'), Number.MAX_SAFE_INTEGER);
  assert.equal(decodeOk('i-9007199254740991e'), -Number.MAX_SAFE_INTEGER);
  assert.equal(decodeOk('i9007199254740992e'), 9007199254740992n);
  assert.equal(decodeOk('i-99999999999999999999e'), -99999999999999999999n);
  assert.equal(decodeOk('i0000000000000000000000000000001e'), 1);
  assert.deepEqual(decodeOk('4:spam'), b('spam'));
  assert.deepEqual(decodeOk('0:'), b(''));
  assert.deepEqual(decodeOk('l4:spami7ee'), [b('spam'), 7]);
  const d = decodeOk('d3:cow3:moo4:spaml1:aee') as Map<string, BValue>;
  assert.ok(d instanceof Map);
  assert.deepEqual([...d.keys()], ['cow', 'spam']);
  assert.deepEqual(d.get('spam'), [b('a')]);
  // Binary keys come back as latin1 strings.
  const bin = decodeOk(b('d2:\xc3\xa9i1ee')) as Map<string, BValue>;
  assert.equal(bin.get('\xc3\xa9'), 1);
  // __proto__ is an ordinary key.
  const proto = decodeOk('d9:__proto__i1ee') as Map<string, BValue>;
  assert.equal(proto.get('__proto__'), 1);
  // Strings are views into the input.
  const input = b('3:abc');
  const s = decodeOk(input) as Buffer;
  assert.equal(s.buffer, input.buffer);
  // A Uint8Array input works too, and strings still come back as Buffers.
  const u8 = bdecode(new Uint8Array([0x31, 0x3a, 0x78]));
  assert.ok(u8.ok && Buffer.isBuffer(u8.value) && u8.value.toString() === 'x');
});

void test('bdecode: malformed input gives an error naming the defect and offset', () => {
  assert.equal(decodeErr(''), 'unexpected end of input at offset 0');
  assert.equal(decodeErr('i12'), 'unexpected end of input at offset 3');
  assert.equal(decodeErr('ie'), 'invalid integer at offset 0');
  assert.equal(decodeErr('i-e'), 'invalid integer at offset 0');
  assert.equal(decodeErr('i1-2e'), 'invalid integer at offset 0');
  assert.equal(decodeErr('i+1e'), 'invalid integer at offset 0');
  assert.equal(decodeErr('5:abc'), 'string length exceeds input at offset 0');
  assert.equal(decodeErr('3abc'), 'invalid string length at offset 0');
  assert.equal(decodeErr('9999999999999999:'), 'string length too large at offset 0');
  assert.equal(decodeErr('l'), 'unexpected end of input at offset 1');
  assert.equal(decodeErr('li1e'), 'unexpected end of input at offset 4');
  assert.equal(decodeErr('di1ei2ee'), 'dict key is not a string at offset 1');
  assert.equal(decodeErr('d1:ae'), 'unexpected byte 0x65 at offset 4');
  assert.equal(decodeErr('x'), 'unexpected byte 0x78 at offset 0');
  assert.equal(decodeErr(`i${'1'.repeat(129)}e`), 'integer too long at offset 0');
  const r = bdecode(b('l'.repeat(5) + 'e'.repeat(5)), { maxDepth: 4 });
  assert.deepEqual(r, { ok: false, error: 'nesting too deep at offset 4', offset: 4 });
  assert.ok(bdecode(b('l'.repeat(4) + 'e'.repeat(4)), { maxDepth: 4 }).ok);
  // Deep input is bounded by the default depth limit, not by the JS stack.
  assert.match(decodeErr('l'.repeat(100_000)), /nesting too deep at offset 128/);
});

void test('bdecode: lenient mode accepts non-canonical input', () => {
  assert.equal(decodeOk('i-0e'), 0);
  assert.ok(Object.is(decodeOk('i-0e'), 0));
  assert.equal(decodeOk('i007e'), 7);
  assert.deepEqual(decodeOk('03:abc'), b('abc'));
  const d = decodeOk('d1:bi1e1:ai2e1:bi3ee') as Map<string, BValue>;
  assert.equal(d.get('b'), 1, 'first duplicate wins');
  assert.equal(d.get('a'), 2);
  const r = bdecode(b('i1etrailing'));
  assert.deepEqual(r, { ok: true, value: 1, end: 3 });
});

void test('bdecode strict: rejects each non-canonical form', () => {
  assert.equal(decodeErr('i-0e', true), 'negative zero at offset 0');
  assert.equal(decodeErr('i007e', true), 'integer with leading zero at offset 0');
  assert.equal(decodeErr('i00e', true), 'integer with leading zero at offset 0');
  assert.equal(decodeErr('03:abc', true), 'string length with leading zero at offset 0');
  assert.equal(decodeErr('d1:bi1e1:ai2ee', true), 'unsorted dict key at offset 7');
  assert.equal(decodeErr('d1:ai1e1:ai2ee', true), 'duplicate dict key at offset 7');
  assert.equal(decodeErr('d1:ai1e2:abi2e1:ai3ee', true), 'unsorted dict key at offset 14');
  assert.equal(decodeErr('li1eei1e', true), 'trailing data at offset 5');
  assert.equal(decodeErr('ld1:bi1e1:ai2eee', true), 'unsorted dict key at offset 8');
  // Canonical forms are fine.
  assert.equal(decodeOk('i0e', true), 0);
  assert.equal(decodeOk('i-10e', true), -10);
  assert.deepEqual(decodeOk('0:', true), b(''));
  assert.ok((decodeOk('d1:ai1e2:abi2e1:bi3ee', true) as Map<string, BValue>).size === 3);
  // Keys compare as bytes: 0xff sorts after 'z'.
  assert.ok(bdecode(b('d1:zi1e1:\xffi2ee'), { strict: true }).ok);
  assert.ok(!bdecode(b('d1:\xffi2e1:zi1ee'), { strict: true }).ok);
});

void test('findDictValueSpan: exact bytes of a top-level value', () => {
  const info = bencode({ length: 1, name: 'x', 'piece length': 16384, pieces: Buffer.alloc(20, 7) });
  const torrent = Buffer.concat([b('d8:announce3:url4:info'), info, b('3:zzzi1ee')]);
  const span = findDictValueSpan(torrent, 'info');
  assert.ok(span);
  assert.deepEqual(torrent.subarray(span.start, span.end), info);
  assert.equal(
    createHash('sha1').update(torrent.subarray(span.start, span.end)).digest('hex'),
    createHash('sha1').update(info).digest('hex'),
  );
  assert.deepEqual(findDictValueSpan(torrent, b('zzz')), { start: torrent.length - 4, end: torrent.length - 1 });
  assert.equal(findDictValueSpan(torrent, 'missing'), null);
  assert.equal(findDictValueSpan(b('l4:infoe'), 'info'), null);
  assert.equal(findDictValueSpan(b(''), 'info'), null);
  assert.equal(findDictValueSpan(b('d4:infoi1'), 'info'), null, 'truncated value');
  assert.equal(findDictValueSpan(b('d1:xi1'), 'info'), null, 'malformed before the key');
  // A key inside a nested dict is not a top-level key.
  assert.equal(findDictValueSpan(b('d1:ad4:infoi1eee'), 'info'), null);
  // Duplicates: first wins, as in bdecode; strict rejects.
  assert.deepEqual(findDictValueSpan(b('d4:infoi1e4:infoi2ee'), 'info'), { start: 7, end: 10 });
  // The walk stops at the first match, so strict mode only checks the bytes before its end.
  assert.deepEqual(findDictValueSpan(b('d4:infoi1e4:infoi2ee'), 'info', { strict: true }), { start: 7, end: 10 });
  assert.equal(findDictValueSpan(b('d4:infoi01ee'), 'info', { strict: true }), null);
  assert.equal(findDictValueSpan(b('d1:bi1e1:ai2e4:infoi3ee'), 'info', { strict: true }), null);
});

// Arbitrary decoded-form values: what bdecode produces.
const bvalue: fc.Arbitrary<BValue> = fc.letrec<{ v: BValue }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.maxSafeInteger(),
    fc
      .bigInt({ min: -(2n ** 256n), max: 2n ** 256n })
      .filter((n) => n > BigInt(Number.MAX_SAFE_INTEGER) || n < BigInt(Number.MIN_SAFE_INTEGER)),
    fc.uint8Array({ maxLength: 40 }).map((u) => Buffer.from(u)),
    fc.array(tie('v'), { maxLength: 5 }),
    fc
      .array(fc.tuple(fc.uint8Array({ maxLength: 8 }), tie('v')), { maxLength: 5 })
      .map((entries) => new Map(entries.map(([k, v]) => [Buffer.from(k).toString('latin1'), v]))),
  ),
})).v;

function normalise(v: BValue): unknown {
  if (Buffer.isBuffer(v)) return { bytes: v.toString('hex') };
  if (Array.isArray(v)) return v.map(normalise);
  if (v instanceof Map) return [...v.entries()].sort(([a], [c]) => (a < c ? -1 : a > c ? 1 : 0)).map(([k, x]) => [k, normalise(x)]);
  return v;
}

void test('property: encode -> decode round trip, and the encoding is canonical', () => {
  fc.assert(
    fc.property(bvalue, (v) => {
      const enc = bencode(v);
      const r = bdecode(enc, { strict: true });
      assert.ok(r.ok, r.ok ? '' : r.error);
      assert.deepEqual(normalise(r.value), normalise(v));
      assert.equal(r.end, enc.length);
      assert.deepEqual(bencode(r.value), enc);
    }),
    { numRuns: 500 },
  );
});

void test('property: arbitrary bytes never throw, in both modes', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (bytes, strict) => {
      const r = bdecode(bytes, { strict });
      if (r.ok) assert.ok(r.end <= bytes.length);
      else assert.match(r.error, / at offset \d+$/);
      findDictValueSpan(bytes, 'info', { strict });
    }),
    { numRuns: 2000 },
  );
});

void test('property: mutated valid encodings never throw; strict success implies canonical bytes', () => {
  fc.assert(
    fc.property(bvalue, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), (v, muts) => {
      const enc = Buffer.from(bencode(v));
      for (const [i, byte] of muts) if (enc.length > 0) enc[i % enc.length] = byte;
      const r = bdecode(enc, { strict: true });
      if (r.ok) assert.deepEqual(bencode(r.value), enc);
      bdecode(enc);
    }),
    { numRuns: 1000 },
  );
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { bdecode, bencode, type BDict, type BEncodable, type BValue } from '../protocol/bencode.js';
import {
  DEFAULT_TORRENT_LIMITS,
  TORRENT_ERROR_CODES,
  parseTorrentFile,
  type ParseResult,
  type TorrentLimits,
} from './torrent-file.js';
import { formatTorrentError } from './messages.js';
import { personaliseTorrent, prepareForSite } from './site-torrent.js';
import { buildTorrent, sampleTorrent, type FileSpec, type Kind } from '../../test/fixtures/metainfo/builders.js';

/** Parses without letting an exception escape unnoticed, then checks the result's invariants. */
function parseAndCheck(input: Buffer, partial?: Partial<TorrentLimits>): ParseResult {
  let r: ParseResult;
  try {
    r = parseTorrentFile(input, partial);
  } catch (e) {
    assert.fail(`parseTorrentFile threw: ${String(e)}`);
  }
  const limits = { ...DEFAULT_TORRENT_LIMITS, ...partial };
  if (!r.ok) {
    assert.ok((TORRENT_ERROR_CODES as readonly string[]).includes(r.error.code), `known code ${r.error.code}`);
    assert.notEqual(r.error.code, 'internal_error', r.error.message);
    assert.equal(r.error.message, formatTorrentError(r.error, 'en'));
    assert.ok(r.error.message.length > 0, 'a message');
    return r;
  }
  const t = r.torrent;
  const sum = t.files.reduce((s, f) => s + f.size, 0);
  assert.equal(t.totalSize, sum, 'totalSize is the sum of the file sizes');
  assert.ok(t.totalSize > 0 && t.totalSize <= limits.maxTotalSize, `total ${t.totalSize} within limits`);
  assert.ok(t.files.length >= 1 && t.files.length <= limits.maxFiles, `file count ${t.files.length}`);
  for (const f of t.files) {
    assert.ok(Number.isSafeInteger(f.size) && f.size >= 0 && f.size <= limits.maxFileSize, `file size ${f.size}`);
    // A single-file torrent's path is [name], which the depth limit does not count.
    assert.ok(f.path.length >= 1 && f.path.length <= Math.max(1, limits.maxPathDepth), `path depth ${f.path.length}`);
    for (const c of f.path) {
      const unsafe = [...c].some((ch) => ch === '/' || ch === '\\' || ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f);
      assert.ok(c !== '' && c !== '.' && c !== '..' && !unsafe, `safe component ${JSON.stringify(c)}`);
    }
  }
  assert.equal(new Set(t.files.map((f) => f.path.join('/'))).size, t.files.length, 'no duplicate paths');
  assert.ok(t.pieceLength >= 16384 && Number.isInteger(Math.log2(t.pieceLength)), `piece length ${t.pieceLength}`);
  assert.ok(input.includes(t.infoBytes), 'infoBytes come from the input');
  const v1 = createHash('sha1').update(t.infoBytes).digest('hex');
  const v2 = createHash('sha256').update(t.infoBytes).digest('hex');
  assert.equal(t.infoHashV1, t.version === 'v2' ? null : v1);
  assert.equal(t.infoHashV2, t.version === 'v1' ? null : v2);
  return r;
}

/* ----------------------------------------------------------------------------------------------
 * Arbitraries
 * -------------------------------------------------------------------------------------------- */

const KEYS = [
  'info', 'name', 'name.utf-8', 'length', 'files', 'path', 'path.utf-8', 'piece length', 'pieces', 'private',
  'source', 'meta version', 'file tree', '', 'pieces root', 'piece layers', 'attr', 'announce', 'comment',
  'created by', 'creation date',
];

const bytesArb = fc.oneof(
  fc.constantFrom('a', 'b.txt', '..', '.', 'CON', 'x/y', '', 'é', 'p').map((s) => Buffer.from(s)),
  fc.uint8Array({ maxLength: 40 }).map((u) => Buffer.from(u)),
  fc.constantFrom(20, 32, 40).chain((n) => fc.uint8Array({ minLength: n, maxLength: n }).map((u) => Buffer.from(u))),
);

const intArb = fc.oneof(
  fc.integer({ min: -5, max: 70000 }),
  fc.constantFrom(0, 1, 2, 16384, 32768, 2 ** 50, 2 ** 53 - 1),
  fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }),
);

const { value: valueArb } = fc.letrec<{ value: BEncodable; dict: BEncodable }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    intArb,
    bytesArb,
    fc.array(tie('value'), { maxLength: 4 }),
    tie('dict'),
  ),
  dict: fc
    .array(fc.tuple(fc.oneof(fc.constantFrom(...KEYS), fc.string({ maxLength: 6 })), tie('value')), { maxLength: 6 })
    .map((entries) => {
      const m = new Map<string, BEncodable>();
      for (const [k, v] of entries) m.set(Buffer.from(k, 'utf8').toString('latin1'), v);
      return m;
    }),
}));

function samples(): Buffer[] {
  const single = buildTorrent('v1', { name: 'one.bin', single: true, files: [{ path: ['one.bin'], size: 20000 }] });
  const hybridSingle = buildTorrent('hybrid', { name: 'h.bin', single: true, files: [{ path: ['h.bin'], size: 40000 }] });
  const out = [single, hybridSingle, sampleTorrent('v1'), sampleTorrent('v2'), sampleTorrent('hybrid')].map((b) => {
    b.top.announce = 'http://t.example/a';
    b.top.comment = 'c';
    return bencode(b.top);
  });
  for (const b of out) assert.ok(parseTorrentFile(b).ok, 'samples are valid');
  return out;
}

const SAMPLES = samples();

type Mutation =
  | { kind: 'flip'; pos: number; bit: number }
  | { kind: 'set'; pos: number; byte: number }
  | { kind: 'insert'; pos: number; bytes: Uint8Array }
  | { kind: 'delete'; pos: number; len: number }
  | { kind: 'truncate'; pos: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), pos: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), pos: fc.nat(), byte: fc.constantFrom(0x30, 0x31, 0x39, 0x65, 0x69, 0x64, 0x6c, 0x2e, 0x2f, 0x00, 0xff) }),
  fc.record({ kind: fc.constant('insert' as const), pos: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('delete' as const), pos: fc.nat(), len: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ kind: fc.constant('truncate' as const), pos: fc.nat() }),
);

function mutate(input: Buffer, m: Mutation): Buffer {
  const pos = input.length === 0 ? 0 : m.pos % input.length;
  switch (m.kind) {
    case 'flip': {
      const out = Buffer.from(input);
      if (out.length > 0) out[pos]! ^= 1 << m.bit;
      return out;
    }
    case 'set': {
      const out = Buffer.from(input);
      if (out.length > 0) out[pos] = m.byte;
      return out;
    }
    case 'insert':
      return Buffer.concat([input.subarray(0, pos), m.bytes, input.subarray(pos)]);
    case 'delete':
      return Buffer.concat([input.subarray(0, pos), input.subarray(pos + m.len)]);
    case 'truncate':
      return input.subarray(0, pos);
  }
}

/** Every (container, key) slot of a decoded value, for structural mutations. */
function slots(v: BValue, out: Array<{ set: (x: BEncodable) => void }> = []): Array<{ set: (x: BEncodable) => void }> {
  if (v instanceof Map) {
    for (const [k, child] of v) {
      out.push({ set: (x) => (v as Map<string, BEncodable>).set(k, x) });
      out.push({ set: () => v.delete(k) });
      slots(child, out);
    }
  } else if (Array.isArray(v)) {
    v.forEach((child, i) => {
      out.push({ set: (x) => ((v as BEncodable[])[i] = x) });
      slots(child, out);
    });
  }
  return out;
}

/* ----------------------------------------------------------------------------------------------
 * Properties
 * -------------------------------------------------------------------------------------------- */

test('never throws on arbitrary bytes', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 2048 }), (u) => {
      parseAndCheck(Buffer.from(u));
    }),
    { numRuns: 5000 },
  );
});

test('never throws on arbitrary bencoded values with torrent-like keys', () => {
  fc.assert(
    fc.property(valueArb, fc.boolean(), (v, wrap) => {
      const value = wrap ? new Map<string, BEncodable>([['info', v]]) : v;
      parseAndCheck(bencode(value));
    }),
    { numRuns: 1500 },
  );
});

test('never throws on byte-level mutations of valid torrents; accepted ones stay consistent', () => {
  fc.assert(
    fc.property(fc.nat({ max: SAMPLES.length - 1 }), fc.array(mutationArb, { minLength: 1, maxLength: 4 }), (i, ms) => {
      let b = SAMPLES[i]!;
      for (const m of ms) b = mutate(b, m);
      parseAndCheck(b);
    }),
    { numRuns: 5000 },
  );
});

test('never throws on structural mutations of valid torrents; accepted ones stay consistent', () => {
  fc.assert(
    fc.property(fc.nat({ max: SAMPLES.length - 1 }), fc.nat(), valueArb, (i, slot, replacement) => {
      const decoded = bdecode(SAMPLES[i]!);
      assert.ok(decoded.ok, 'sample decodes');
      const all = slots(decoded.value);
      all[slot % all.length]!.set(replacement);
      parseAndCheck(bencode(decoded.value as BDict));
    }),
    { numRuns: 1500 },
  );
});

test('never throws under tight limits', () => {
  const limitsArb = fc.record(
    {
      maxTorrentBytes: fc.integer({ min: 0, max: 4000 }),
      maxFiles: fc.integer({ min: 0, max: 5 }),
      maxFileSize: fc.integer({ min: 0, max: 80000 }),
      maxTotalSize: fc.integer({ min: 0, max: 200000 }),
      maxPathDepth: fc.integer({ min: 0, max: 3 }),
    },
    { requiredKeys: [] },
  );
  fc.assert(
    fc.property(fc.nat({ max: SAMPLES.length - 1 }), limitsArb, (i, limits) => {
      parseAndCheck(SAMPLES[i]!, limits);
    }),
    { numRuns: 500 },
  );
});

const componentArb = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('a', 'b', 'c.txt', 'dir', 'été', '日本', 'CONSOLE', '.hidden') },
  { weight: 1, arbitrary: fc.constantFrom('', '.', '..', 'a/b', 'a\\b', 'CON', 'nul.txt', 'a.', 'b ', 'a\u0001', 'x'.repeat(256)) },
);
const specArb = fc.array(
  fc.record({ path: fc.array(componentArb, { minLength: 1, maxLength: 3 }), size: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 70000 })) }),
  { minLength: 1, maxLength: 5 },
);

test('generated torrents: accepted ones list exactly their files and survive prepareForSite and personaliseTorrent', () => {
  fc.assert(
    fc.property(fc.constantFrom<Kind>('v1', 'v2', 'hybrid'), specArb, fc.constantFrom(16384, 32768), (kind, specs, pieceLength) => {
      // v2 file trees are sorted by path; give v1 the same order so hybrids agree.
      const sorted: FileSpec[] = [...specs].sort((x, y) => Buffer.compare(Buffer.from(x.path.join('\0')), Buffer.from(y.path.join('\0'))));
      let built;
      try {
        built = buildTorrent(kind, { name: 'gen', files: sorted, pieceLength });
      } catch {
        return; // a path both a file and a directory cannot be put in a v2 tree by the builder
      }
      const input = bencode(built.top);
      const r = parseAndCheck(input);
      if (!r.ok) return;
      if (kind !== 'v2') assert.deepEqual(r.torrent.files, sorted.map((s) => ({ path: s.path, size: s.size })));
      const site = prepareForSite(r.torrent, { source: 'essaim' });
      const again = parseAndCheck(site.metainfo);
      assert.ok(again.ok, `prepared torrent parses: ${again.ok ? '' : again.error.message}`);
      assert.equal(again.torrent.isPrivate, true);
      assert.equal(again.torrent.infoHashV1, site.infoHashV1);
      assert.equal(again.torrent.infoHashV2, site.infoHashV2);
      const out = personaliseTorrent(site.metainfo, { announce: 'http://t/a', announceList: [['http://t/a']], comment: 'c' });
      const p = parseAndCheck(out);
      assert.ok(p.ok, 'personalised torrent parses');
      assert.equal(p.torrent.infoHashV1, site.infoHashV1);
      assert.equal(p.torrent.infoHashV2, site.infoHashV2);
    }),
    { numRuns: 300 },
  );
});

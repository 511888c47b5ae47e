import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { bencode } from '../protocol/bencode.js';
import {
  DEFAULT_TORRENT_LIMITS,
  TORRENT_ERROR_CODES,
  parseTorrentFile,
  type TorrentError,
  type TorrentErrorCode,
  type TorrentLimits,
} from './torrent-file.js';
import { formatTorrentError } from './messages.js';
import { buildTorrent, sampleTorrent, type Built, type Kind } from '../../test/fixtures/metainfo/builders.js';

/* ----------------------------------------------------------------------------------------------
 * Helpers
 * -------------------------------------------------------------------------------------------- */

const seen = new Set<TorrentErrorCode>();

function bytesOf(input: Uint8Array | Built): Buffer {
  return Buffer.isBuffer(input) ? input : input instanceof Uint8Array ? Buffer.from(input) : bencode(input.top);
}

/** Parses, expects the given error code and a message mentioning every string of `mentions`. */
function expectError(
  input: Uint8Array | Built,
  code: TorrentErrorCode,
  mentions: string[],
  limits?: Partial<TorrentLimits>,
): TorrentError {
  const r = parseTorrentFile(bytesOf(input), limits);
  if (r.ok) assert.fail(`expected ${code}, but the torrent was accepted`);
  assert.equal(r.error.code, code, `expected ${code}, got ${r.error.code}: ${r.error.message}`);
  for (const m of mentions) {
    assert.ok(r.error.message.includes(m), `message ${JSON.stringify(r.error.message)} should mention ${JSON.stringify(m)}`);
  }
  assert.equal(r.error.message, formatTorrentError(r.error, 'en'), 'message is the English template filled in');
  assert.ok(!/\{\w+\}/.test(r.error.message), `every placeholder is filled: ${r.error.message}`);
  assert.ok(!/\{\w+\}/.test(formatTorrentError(r.error, 'fr')), `every French placeholder is filled: ${formatTorrentError(r.error, 'fr')}`);
  seen.add(code);
  return r.error;
}

function expectOk(input: Uint8Array | Built, limits?: Partial<TorrentLimits>) {
  const r = parseTorrentFile(bytesOf(input), limits);
  if (!r.ok) assert.fail(`expected success, got ${r.error.code}: ${r.error.message}`);
  return r.torrent;
}

type Obj = Record<string, unknown>;

function files(b: Built): Obj[] {
  return b.info.files as unknown as Obj[];
}

/** A multi-file v1 torrent with the given paths (100 bytes each). */
function v1WithPaths(...paths: Array<Array<string | Buffer>>): Built {
  const b = buildTorrent('v1', { name: 't', files: paths.map((_, i) => ({ path: [`f${i}`], size: 100 })) });
  paths.forEach((p, i) => (files(b)[i]!.path = p));
  return b;
}

function singleV1(): Built {
  return buildTorrent('v1', { name: 'a.bin', single: true, files: [{ path: ['a.bin'], size: 5 }] });
}

/** Replaces the first occurrence of `from` in the latin1 view of the bytes. */
function patch(bytes: Buffer, from: string, to: string): { bytes: Buffer; at: number } {
  const s = bytes.toString('latin1');
  const at = s.indexOf(from);
  assert.ok(at >= 0, `patch: ${from} not found`);
  return { bytes: Buffer.from(s.slice(0, at) + to + s.slice(at + from.length), 'latin1'), at };
}

/* ----------------------------------------------------------------------------------------------
 * Accepted torrents
 * -------------------------------------------------------------------------------------------- */

test('a single-file v1 torrent: fields, hash over the exact info bytes', () => {
  const b = singleV1();
  b.top.comment = 'hello';
  b.top.announce = 'http://tracker.example/announce';
  b.info.private = 1;
  b.info.source = 'SRC';
  const bytes = bencode(b.top);
  const t = expectOk(bytes);
  const info = bencode(b.info);
  assert.deepEqual(t.infoBytes, info);
  assert.ok(bytes.includes(t.infoBytes), 'infoBytes is a slice of the input');
  assert.equal(t.infoHashV1, createHash('sha1').update(info).digest('hex'));
  assert.equal(t.infoHashV2, null);
  assert.equal(t.version, 'v1');
  assert.equal(t.name, 'a.bin');
  assert.deepEqual(t.files, [{ path: ['a.bin'], size: 5 }]);
  assert.equal(t.totalSize, 5);
  assert.equal(t.pieceLength, 16384);
  assert.equal(t.isPrivate, true);
  assert.equal(t.source, 'SRC');
  assert.equal(t.comment, 'hello');
  assert.equal(t.createdBy, 'essaim test builder');
  assert.equal(t.creationDate, 1700000000);
  assert.equal(t.pieceLayers, null);
});

for (const kind of ['v1', 'v2', 'hybrid'] as Kind[]) {
  test(`a multi-file ${kind} torrent`, () => {
    const b = sampleTorrent(kind);
    const t = expectOk(b);
    assert.equal(t.version, kind);
    assert.deepEqual(t.files, [
      { path: ['a.bin'], size: 70000 },
      { path: ['empty'], size: 0 },
      { path: ['sub', 'b.txt'], size: 100 },
      { path: ['sub', 'c.dat'], size: 40000 },
    ]);
    assert.equal(t.totalSize, 110100);
    assert.equal(t.isPrivate, false);
    const info = bencode(b.info);
    assert.equal(t.infoHashV1, kind === 'v2' ? null : createHash('sha1').update(info).digest('hex'));
    assert.equal(t.infoHashV2, kind === 'v1' ? null : createHash('sha256').update(info).digest('hex'));
    assert.equal(t.pieceLayers === null, kind === 'v1', 'piece layers kept for v2 and hybrid');
  });
}

test('single-file v2 and hybrid torrents', () => {
  for (const kind of ['v2', 'hybrid'] as Kind[]) {
    const b = buildTorrent(kind, { name: 'big.iso', single: true, files: [{ path: ['big.iso'], size: 100000 }] });
    const t = expectOk(b);
    assert.deepEqual(t.files, [{ path: ['big.iso'], size: 100000 }]);
    assert.equal(t.version, kind);
  }
});

test('name.utf-8 and path.utf-8 are preferred, and excuse invalid UTF-8 in name and path', () => {
  const b = v1WithPaths([Buffer.from([0xe9, 0x74, 0xe9])]);
  b.info.name = Buffer.from([0x63, 0x61, 0x66, 0xe9]); // "café" in latin1
  b.info['name.utf-8'] = 'café';
  files(b)[0]!['path.utf-8'] = ['été'];
  const t = expectOk(b);
  assert.equal(t.name, 'café');
  assert.deepEqual(t.files[0]!.path, ['été']);
});

test('legal names that look like illegal ones are accepted', () => {
  const ok = ['CONSOLE', 'COM10', 'LPT0', 'nul_', 'aux-1.txt', '.hidden', '...a', 'a..b', 'x'.repeat(255), 'é'.repeat(127)];
  const t = expectOk(v1WithPaths(...ok.map((n) => [n])));
  assert.equal(t.files.length, ok.length);
});

test('libtorrent-style tail padding after the last file is accepted and not listed', () => {
  const b = sampleTorrent('hybrid');
  const list = files(b);
  const last = list[list.length - 1]!;
  const total = list.reduce((s, f) => s + (f.length as number), 0);
  const pad = 16384 - (total % 16384);
  list.push({ attr: 'p', length: pad, path: ['.pad', String(pad)] });
  assert.equal(last.length, 40000);
  const t = expectOk(b);
  assert.equal(t.files.length, 4);
  assert.equal(t.totalSize, 110100);
});

test('identical v2 files share one piece layer', () => {
  const b = buildTorrent('v2', {
    name: 'twins',
    files: [
      { path: ['a'], size: 50000 },
      { path: ['b'], size: 50000 },
    ],
  });
  // Same content for both: reuse a's entry for b.
  const tree = b.tree as Record<string, Record<string, unknown>>;
  tree.b = tree.a!;
  b.layers!.delete(b.roots[1]!.toString('latin1'));
  const t = expectOk(b);
  assert.equal(t.files.length, 2);
});

test('limits are honoured when within them', () => {
  const b = sampleTorrent('v1');
  expectOk(b, { maxFiles: 4, maxFileSize: 70000, maxTotalSize: 110100, maxPathDepth: 2, maxTorrentBytes: bencode(b.top).length });
  assert.equal(DEFAULT_TORRENT_LIMITS.maxTorrentBytes, 10 * 1024 * 1024);
  assert.equal(DEFAULT_TORRENT_LIMITS.maxFiles, 100000);
  assert.equal(DEFAULT_TORRENT_LIMITS.maxFileSize, 2 ** 50);
  assert.equal(DEFAULT_TORRENT_LIMITS.maxTotalSize, 2 ** 52);
  assert.equal(DEFAULT_TORRENT_LIMITS.maxPathDepth, 64);
});

/* ----------------------------------------------------------------------------------------------
 * Rejections, one or more per code
 * -------------------------------------------------------------------------------------------- */

test('too_large', () => {
  const bytes = bencode(singleV1().top);
  expectError(bytes, 'too_large', [`${bytes.length} bytes`, 'limit is 100 bytes'], { maxTorrentBytes: 100 });
});

test('not_bencoded', () => {
  expectError(Buffer.from('<html>hello</html>'), 'not_bencoded', ['not valid bencoding', 'offset 0']);
  expectError(Buffer.alloc(0), 'not_bencoded', ['unexpected end of input']);
  const bytes = bencode(singleV1().top);
  expectError(bytes.subarray(0, bytes.length - 3), 'not_bencoded', ['not valid bencoding', 'exceeds input at offset']);
});

test('trailing_data', () => {
  const bytes = bencode(singleV1().top);
  expectError(Buffer.concat([bytes, Buffer.from('junk')]), 'trailing_data', ['4 bytes', `byte ${bytes.length}`]);
});

test('unsorted_keys names the dictionary, the key and the byte', () => {
  const bytes = bencode(singleV1().top);
  // In info: move "name" before "length".
  const info = bencode(singleV1().info).toString('latin1');
  const swapped = info.replace('6:lengthi5e4:name5:a.bin', '4:name5:a.bin6:lengthi5e');
  const { bytes: b1, at } = patch(bytes, info, swapped);
  const keyAt = at + swapped.indexOf('6:length');
  expectError(b1, 'unsorted_keys', ["the info dictionary's keys are not sorted", "key 'length'", `byte ${keyAt}`]);
  // At the top level.
  const top = Buffer.from(`d4:info${info}8:announce3:urle`, 'latin1');
  const e = expectError(top, 'unsorted_keys', ["the top-level dictionary's keys", "key 'announce'"]);
  assert.match(formatTorrentError(e, 'fr'), /dictionnaire racine/);
  // Deep inside: a file entry of a multi-file torrent.
  const multi = bencode(v1WithPaths(['x']).top);
  const { bytes: b3 } = patch(multi, '6:lengthi100e4:pathl1:xee', '4:pathl1:xe6:lengthi100ee');
  expectError(b3, 'unsorted_keys', ["the info.files[0] dictionary's keys", "key 'length'"]);
  // In a v2 file tree, named the way other file tree errors are.
  const { bytes: b4 } = patch(bencode(sampleTorrent('v2').top), '5:b.txt', '5:z.txt');
  expectError(b4, 'unsorted_keys', ['the info.file tree["sub"] dictionary\'s keys', "key 'c.dat'"]);
});

test('duplicate_key', () => {
  const info = bencode(singleV1().info).toString('latin1');
  const dup = info.replace('4:name5:a.bin', '4:name5:a.bin4:name5:b.bin');
  const bytes = Buffer.from(`d4:info${dup}e`, 'latin1');
  expectError(bytes, 'duplicate_key', ['the info dictionary', "key 'name' twice", `byte ${7 + dup.lastIndexOf('4:name')}`]);
});

test('non_canonical_integer', () => {
  const bytes = bencode(singleV1().top);
  const { bytes: b1, at } = patch(bytes, 'i16384e', 'i016384e');
  expectError(b1, 'non_canonical_integer', ['info.piece length', `byte ${at}`]);
  const { bytes: b2 } = patch(bytes, 'i5e', 'i-0e');
  expectError(b2, 'non_canonical_integer', ['info.length']);
});

test('non_canonical_string_length', () => {
  const bytes = bencode(singleV1().top);
  const { bytes: b1, at } = patch(bytes, '5:a.bin', '05:a.bin');
  expectError(b1, 'non_canonical_string_length', ['info.name', `byte ${at}`]);
  const { bytes: b2 } = patch(bytes, '4:name', '04:name');
  expectError(b2, 'non_canonical_string_length', ["info key 'name'"]);
});

test('not_a_dictionary', () => {
  const e = expectError(bencode([1, 2]), 'not_a_dictionary', ['a list', 'not a .torrent file']);
  assert.match(formatTorrentError(e, 'fr'), /une liste/);
  expectError(bencode(42), 'not_a_dictionary', ['an integer']);
});

test('missing_info', () => {
  expectError(bencode({ announce: 'http://x/a' }), 'missing_info', ["no 'info' dictionary"]);
});

test('missing_field', () => {
  for (const key of ['name', 'piece length', 'pieces']) {
    const b = singleV1();
    delete b.info[key];
    expectError(b, 'missing_field', [`info.${key}`]);
  }
  const b = singleV1();
  delete b.info.length;
  expectError(b, 'missing_field', ['info.files']);
  const m = v1WithPaths(['a'], ['b']);
  delete files(m)[1]!.path;
  expectError(m, 'missing_field', ['info.files[1].path']);
  const m2 = v1WithPaths(['a'], ['b']);
  delete files(m2)[1]!.length;
  expectError(m2, 'missing_field', ['info.files[1].length']);
  const v2 = sampleTorrent('v2');
  delete v2.info['file tree'];
  expectError(v2, 'missing_field', ['info.file tree']);
  const v2b = sampleTorrent('v2');
  delete v2b.top['piece layers'];
  expectError(v2b, 'missing_field', ['piece layers']);
  const v2c = sampleTorrent('v2');
  delete ((v2c.tree!['a.bin'] as Obj)[''] as Obj)['pieces root'];
  expectError(v2c, 'missing_field', ['info.file tree["a.bin"][""].pieces root']);
  const h = sampleTorrent('hybrid');
  delete h.info.pieces;
  expectError(h, 'missing_field', ['info.pieces']);
});

test('wrong_type', () => {
  const b = singleV1();
  b.info.name = 5;
  const e = expectError(b, 'wrong_type', ['info.name must be a byte string']);
  assert.equal(formatTorrentError(e, 'fr'), 'info.name doit être une chaîne d’octets');
  const b2 = singleV1();
  b2.top.info = 'info';
  expectError(b2, 'wrong_type', ['info must be a dictionary']);
  const m = v1WithPaths(['a']);
  files(m)[0]!.path = 'a';
  expectError(m, 'wrong_type', ['info.files[0].path must be a list']);
  const m2 = v1WithPaths(['a', 'b']);
  files(m2)[0]!.path = ['a', 7];
  expectError(m2, 'wrong_type', ['info.files[0].path[1] must be a byte string']);
  const m3 = v1WithPaths(['a']);
  m3.info.files = [7];
  expectError(m3, 'wrong_type', ['info.files[0] must be a dictionary']);
  const c = singleV1();
  c.top['creation date'] = 'yesterday';
  expectError(c, 'wrong_type', ['creation date must be an integer']);
  const p = singleV1();
  p.info.private = 'yes';
  expectError(p, 'wrong_type', ['info.private must be an integer']);
  const v2 = sampleTorrent('v2');
  v2.tree!['x'] = 5;
  expectError(v2, 'wrong_type', ['info.file tree["x"] must be a dictionary']);
});

test('conflicting_fields', () => {
  const m = v1WithPaths(['a']);
  m.info.length = 100;
  expectError(m, 'conflicting_fields', ['info.length and info.files']);
});

test('unsupported_meta_version', () => {
  const b = sampleTorrent('v2');
  b.info['meta version'] = 3;
  expectError(b, 'unsupported_meta_version', ['meta version is 3']);
});

test('bad_piece_length', () => {
  for (const pl of [0, -16384, 8192, 16385, 3 * 16384, 2 ** 70]) {
    const b = singleV1();
    b.info['piece length'] = typeof pl === 'number' && !Number.isSafeInteger(pl) ? BigInt(pl) : pl;
    expectError(b, 'bad_piece_length', [`piece length ${BigInt(pl)}`]);
  }
  const big = buildTorrent('v1', { name: 'a', single: true, pieceLength: 2 ** 32, files: [{ path: ['a'], size: 5 }] });
  expectOk(big);
});

test('bad_pieces_length', () => {
  const b = singleV1();
  b.info.pieces = Buffer.alloc(21);
  expectError(b, 'bad_pieces_length', ['(21 bytes)', 'multiple of 20']);
});

test('pieces_count_mismatch', () => {
  const b = singleV1();
  b.info.pieces = Buffer.alloc(40);
  expectError(b, 'pieces_count_mismatch', ['2 piece hashes', '5 bytes in pieces of 16384 bytes need 1']);
  const m = sampleTorrent('v1');
  files(m)[0]!.length = 70001 + 16384;
  expectError(m, 'pieces_count_mismatch', []);
});

test('no_files', () => {
  const m = v1WithPaths(['a']);
  m.info.files = [];
  expectError(m, 'no_files', ['info.files lists no files']);
  const v2 = sampleTorrent('v2');
  v2.info['file tree'] = {};
  delete v2.top['piece layers'];
  expectError(v2, 'no_files', ['info.file tree']);
});

test('empty_torrent', () => {
  const m = buildTorrent('v1', { name: 'e', files: [{ path: ['a'], size: 0 }, { path: ['b'], size: 0 }] });
  expectError(m, 'empty_torrent', ['no data']);
  const v2 = buildTorrent('v2', { name: 'e', files: [{ path: ['a'], size: 0 }] });
  expectError(v2, 'empty_torrent', ['no data']);
});

test('too_many_files', () => {
  expectError(sampleTorrent('v1'), 'too_many_files', ['more than 3 files'], { maxFiles: 3 });
  expectError(sampleTorrent('v2'), 'too_many_files', ['more than 3 files'], { maxFiles: 3 });
  // Padding files do not count.
  expectOk(sampleTorrent('hybrid'), { maxFiles: 4 });
});

test('negative_size', () => {
  const b = singleV1();
  b.info.length = -5;
  expectError(b, 'negative_size', ['info.length', '(-5)']);
  const v2 = sampleTorrent('v2');
  ((v2.tree!['empty'] as Obj)[''] as Obj).length = -1;
  expectError(v2, 'negative_size', ['info.file tree["empty"].length']);
});

test('file_too_large', () => {
  expectError(sampleTorrent('v1'), 'file_too_large', ['info.files[0].length is 70000 bytes', 'limit per file is 50000'], {
    maxFileSize: 50000,
  });
  const b = singleV1();
  b.info.length = 2n ** 70n;
  expectError(b, 'file_too_large', [`${2n ** 70n} bytes`]);
});

test('total_too_large', () => {
  expectError(sampleTorrent('hybrid'), 'total_too_large', ['more than 100000 bytes'], { maxTotalSize: 100000 });
});

test('bad_padding', () => {
  const h = sampleTorrent('hybrid');
  files(h)[1]!.length = 1000;
  expectError(h, 'bad_padding', ['info.files[1] is a padding file', '1000 bytes', 'ends at byte 71000']);
  const v1 = v1WithPaths(['a'], ['b']);
  files(v1)[0]!.attr = 'p';
  expectError(v1, 'bad_padding', ['info.files[0]']);
});

test('path_empty', () => {
  const m = v1WithPaths([]);
  expectError(m, 'path_empty', ['info.files[0].path is an empty path']);
  const v2 = sampleTorrent('v2');
  v2.info['file tree'] = { '': { length: 5, 'pieces root': Buffer.alloc(32) } };
  delete v2.top['piece layers'];
  expectError(v2, 'path_empty', ['info.file tree']);
});

test('path_too_deep', () => {
  expectError(v1WithPaths(['a', 'b', 'c']), 'path_too_deep', ['info.files[0].path has 3 path components', 'limit is 2'], {
    maxPathDepth: 2,
  });
  expectError(sampleTorrent('v2'), 'path_too_deep', ['info.file tree["sub"]', 'limit is 1'], { maxPathDepth: 1 });
});

test('path_component_empty', () => {
  expectError(v1WithPaths(['a', '']), 'path_component_empty', ['info.files[0].path[1] is an empty path component']);
  const b = singleV1();
  b.info.name = '';
  expectError(b, 'path_component_empty', ['info.name']);
});

test('path_component_dot', () => {
  const paths = [['a'], ['b'], ['c'], ['x', '..', 'y']];
  expectError(v1WithPaths(...paths), 'path_component_dot', ["info.files[3].path[1]: path component '..' is not allowed"]);
  expectError(v1WithPaths(['.']), 'path_component_dot', ["'.'"]);
  const b = singleV1();
  b.info.name = '..';
  expectError(b, 'path_component_dot', ["info.name: path component '..'"]);
  const v2 = sampleTorrent('v2');
  v2.tree!['..'] = v2.tree!['empty']!;
  expectError(v2, 'path_component_dot', ['info.file tree[".."]']);
});

test('path_component_separator', () => {
  for (const c of ['a/b', '/etc', 'a\\b', 'C:\\x']) {
    expectError(v1WithPaths([c]), 'path_component_separator', ['info.files[0].path[0]', `'${c}'`]);
  }
  const v2 = sampleTorrent('v2');
  v2.tree!['x/y'] = v2.tree!['empty']!;
  expectError(v2, 'path_component_separator', ['info.file tree["x/y"]']);
});

test('path_component_control_char', () => {
  expectError(v1WithPaths(['a\u0001b']), 'path_component_control_char', ["'a\\x01b'", '0x01']);
  expectError(v1WithPaths(['a\u007f']), 'path_component_control_char', ['0x7f']);
  expectError(v1WithPaths(['a\nb']), 'path_component_control_char', ['0x0a']);
  expectError(v1WithPaths(['a\u0085b']), 'path_component_control_char', ['U+0085']);
});

test('path_component_invalid_utf8', () => {
  expectError(v1WithPaths([Buffer.from([0x61, 0xff, 0xfe])]), 'path_component_invalid_utf8', [
    "info.files[0].path[0]: path component 'a\\xff\\xfe' is not valid UTF-8",
  ]);
  const b = singleV1();
  b.info.name = Buffer.from([0xc3, 0x28]);
  expectError(b, 'path_component_invalid_utf8', ['info.name']);
  // path.utf-8 itself must be valid.
  const m = v1WithPaths(['a']);
  files(m)[0]!['path.utf-8'] = [Buffer.from([0xed, 0xa0, 0x80])]; // an encoded surrogate
  expectError(m, 'path_component_invalid_utf8', ['info.files[0].path.utf-8[0]']);
});

test('path_component_reserved_name', () => {
  for (const c of ['CON', 'con', 'PRN.txt', 'aux.tar.gz', 'NUL', 'com1', 'COM9.log', 'LPT1', 'lpt9.x', 'Con .txt']) {
    expectError(v1WithPaths(['dir', c]), 'path_component_reserved_name', [`'${c}'`, 'reserved device name']);
  }
});

test('path_component_trailing_dot_space', () => {
  expectError(v1WithPaths(['a.']), 'path_component_trailing_dot_space', ["'a.'", 'ends with a dot or a space']);
  expectError(v1WithPaths(['dir ', 'x']), 'path_component_trailing_dot_space', ["info.files[0].path[0]: path component 'dir '"]);
});

test('path_component_too_long', () => {
  expectError(v1WithPaths(['x'.repeat(256)]), 'path_component_too_long', ['256 bytes long', 'limit is 255']);
  expectError(v1WithPaths(['é'.repeat(128)]), 'path_component_too_long', ['256 bytes long']);
});

test('duplicate_path', () => {
  expectError(v1WithPaths(['a', 'b'], ['c'], ['a', 'b']), 'duplicate_path', [
    "info.files[2]: the path 'a/b' is already used by info.files[0]",
  ]);
  const m = v1WithPaths(['a'], ['b']);
  files(m)[1]!['path.utf-8'] = ['a'];
  expectError(m, 'duplicate_path', ["'a'"]);
});

test('path_conflict', () => {
  expectError(v1WithPaths(['a'], ['a', 'b']), 'path_conflict', ["info.files[1]: 'a' is both a file and a directory", 'info.files[0]']);
  expectError(v1WithPaths(['a', 'b'], ['a']), 'path_conflict', ["info.files[1]: 'a' is both"]);
});

test('file_tree_mixed_node', () => {
  const v2 = sampleTorrent('v2');
  (v2.tree!['a.bin'] as Obj)['extra'] = { '': { length: 0 } };
  expectError(v2, 'file_tree_mixed_node', ['info.file tree["a.bin"] mixes a file entry']);
});

test('file_tree_empty_directory', () => {
  const v2 = sampleTorrent('v2');
  v2.tree!['nothing'] = {};
  expectError(v2, 'file_tree_empty_directory', ['info.file tree["nothing"] is an empty directory']);
});

test('bad_pieces_root', () => {
  const v2 = sampleTorrent('v2');
  ((v2.tree!['sub'] as Obj)['b.txt'] as Obj)[''] = { length: 100, 'pieces root': Buffer.alloc(31) };
  expectError(v2, 'bad_pieces_root', ['info.file tree["sub"]["b.txt"].pieces root is 31 bytes']);
});

test('missing_piece_layer', () => {
  const v2 = sampleTorrent('v2');
  const root = v2.roots[0]!;
  v2.layers!.delete(root.toString('latin1'));
  expectError(v2, 'missing_piece_layer', ['info.file tree["a.bin"]', root.toString('hex')]);
});

test('bad_piece_layer_length', () => {
  const v2 = sampleTorrent('v2');
  const key = v2.roots[0]!.toString('latin1');
  v2.layers!.set(key, v2.layers!.get(key)!.subarray(32));
  expectError(v2, 'bad_piece_layer_length', ['info.file tree["a.bin"]', '128 bytes long', 'must be 160']);
});

test('piece_layer_mismatch', () => {
  const v2 = sampleTorrent('hybrid');
  const key = v2.roots[3]!.toString('latin1');
  const layer = Buffer.from(v2.layers!.get(key)!);
  layer[40]! ^= 1;
  v2.layers!.set(key, layer);
  expectError(v2, 'piece_layer_mismatch', ['info.file tree["sub"]["c.dat"]', v2.roots[3]!.toString('hex')]);
});

test('piece_layer_unused', () => {
  const v2 = sampleTorrent('v2');
  v2.layers!.set(Buffer.alloc(32, 7).toString('latin1'), Buffer.alloc(64));
  expectError(v2, 'piece_layer_unused', ['07'.repeat(32)]);
});

test('hybrid_file_count_mismatch', () => {
  const h = sampleTorrent('hybrid');
  h.tree!['zzz'] = { '': { length: 0 } };
  expectError(h, 'hybrid_file_count_mismatch', ['lists 4 files in info.files but 5 in info.file tree']);
});

test('hybrid_file_mismatch', () => {
  const h = sampleTorrent('hybrid');
  h.tree!['a.bim'] = h.tree!['a.bin']!;
  delete h.tree!['a.bin'];
  expectError(h, 'hybrid_file_mismatch', ["file 0 is 'a.bin' (70000 bytes) in info.files but 'a.bim' (70000 bytes)"]);
  const s = buildTorrent('hybrid', { name: 'x', single: true, files: [{ path: ['x'], size: 10 }] });
  s.info.name = 'y';
  expectError(s, 'hybrid_file_mismatch', ["'y'", "'x'"]);
});

test('internal_error: even a bogus argument gives a result, not an exception', () => {
  const r = parseTorrentFile(null as unknown as Uint8Array);
  assert.equal(r.ok, false);
  assert.ok(!r.ok && r.error.code === 'internal_error', 'internal_error code');
  seen.add('internal_error');
});

test('every error code has been produced by the tests above', () => {
  const missing = TORRENT_ERROR_CODES.filter((c) => !seen.has(c));
  assert.deepEqual(missing, []);
});

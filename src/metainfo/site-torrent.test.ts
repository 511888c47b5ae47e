import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { bdecode, bencode, findDictValueSpan, type BDict } from '../protocol/bencode.js';
import { parseTorrentFile, type ParsedTorrent } from './torrent-file.js';
import { personaliseTorrent, prepareForSite } from './site-torrent.js';
import { sampleTorrent, type Built, type Kind } from '../../test/fixtures/metainfo/builders.js';

function parsed(b: Built | Buffer): ParsedTorrent {
  const r = parseTorrentFile(Buffer.isBuffer(b) ? b : bencode(b.top));
  if (!r.ok) assert.fail(`${r.error.code}: ${r.error.message}`);
  return r.torrent;
}

function decodeDict(b: Uint8Array): BDict {
  const r = bdecode(b, { strict: true });
  assert.ok(r.ok, 'canonical bencoding');
  assert.ok(r.value instanceof Map, 'a dictionary');
  return r.value;
}

function infoSpan(b: Uint8Array, strict = true): Buffer {
  const span = findDictValueSpan(b, 'info', { strict });
  assert.ok(span !== null, 'has an info dictionary');
  return Buffer.from(b.subarray(span.start, span.end));
}

function withUploaderExtras(kind: Kind): Built {
  const b = sampleTorrent(kind);
  b.top.announce = 'http://other.example/announce?passkey=secret';
  b.top['announce-list'] = [['http://other.example/announce?passkey=secret'], ['udp://x.example:80']];
  b.top['url-list'] = ['http://mirror.example/'];
  b.top.comment = 'uploaded elsewhere';
  b.top.nodes = [['router.example', 6881]];
  b.info.source = 'OTHER';
  b.info.private = 0;
  b.info['x-extra'] = { kept: 1 };
  return b;
}

for (const kind of ['v1', 'v2', 'hybrid'] as Kind[]) {
  test(`prepareForSite (${kind}): private, source, stripped top level, recomputed hashes`, () => {
    const b = withUploaderExtras(kind);
    const before = parsed(b);
    const site = prepareForSite(before, { source: 'essaim.example' });
    const top = decodeDict(site.metainfo);
    const expectedKeys = ['created by', 'creation date', 'info', ...(kind === 'v1' ? [] : ['piece layers'])];
    assert.deepEqual([...top.keys()], expectedKeys);

    const info = infoSpan(site.metainfo);
    assert.equal(site.infoHashV1, kind === 'v2' ? null : createHash('sha1').update(info).digest('hex'));
    assert.equal(site.infoHashV2, kind === 'v1' ? null : createHash('sha256').update(info).digest('hex'));
    assert.notEqual(site.infoHashV1 ?? site.infoHashV2, before.infoHashV1 ?? before.infoHashV2, 'a new swarm');

    // Every info key but private and source keeps its exact value bytes.
    const oldInfo = decodeDict(before.infoBytes);
    const newInfo = decodeDict(info);
    assert.deepEqual([...newInfo.keys()].sort(), [...oldInfo.keys()].sort());
    for (const k of oldInfo.keys()) {
      if (k === 'private' || k === 'source') continue;
      const a = findDictValueSpan(before.infoBytes, k)!;
      const c = findDictValueSpan(info, k)!;
      assert.deepEqual(info.subarray(c.start, c.end), before.infoBytes.subarray(a.start, a.end), `info.${k} unchanged`);
    }

    const after = parsed(site.metainfo);
    assert.equal(after.isPrivate, true);
    assert.equal(after.source, 'essaim.example');
    assert.equal(after.comment, null);
    assert.equal(after.infoHashV1, site.infoHashV1);
    assert.equal(after.infoHashV2, site.infoHashV2);
    assert.deepEqual(after.files, before.files);
    assert.deepEqual(after.pieceLayers, before.pieceLayers);
  });
}

test('prepareForSite drops piece layers from a v1 torrent and sets the source of one that had none', () => {
  const b = sampleTorrent('v1');
  b.top['piece layers'] = { junk: 'x' };
  const site = prepareForSite(parsed(b), { source: 'S' });
  assert.deepEqual([...decodeDict(site.metainfo).keys()], ['created by', 'creation date', 'info']);
  assert.equal(parsed(site.metainfo).source, 'S');
});

for (const kind of ['v1', 'v2', 'hybrid'] as Kind[]) {
  test(`personaliseTorrent (${kind}): the info bytes are copied, announce set, keys sorted`, () => {
    const stored = prepareForSite(parsed(withUploaderExtras(kind)), { source: 'essaim' }).metainfo;
    const out = personaliseTorrent(stored, {
      announce: 'https://essaim.example/announce/KEY',
      announceList: [['https://essaim.example/announce/KEY'], [], ['udp://essaim.example:6969/KEY']],
      comment: 'https://essaim.example/t/42',
      createdBy: 'Essaim',
    });
    assert.deepEqual(infoSpan(out), infoSpan(stored), 'info copied byte for byte');
    const top = decodeDict(out);
    assert.deepEqual(
      [...top.keys()],
      ['announce', 'announce-list', 'comment', 'created by', 'creation date', 'info', ...(kind === 'v1' ? [] : ['piece layers'])],
    );
    assert.deepEqual(top.get('announce'), Buffer.from('https://essaim.example/announce/KEY'));
    assert.deepEqual(
      (top.get('announce-list') as Buffer[][]).map((t) => t.map((u) => u.toString())),
      [['https://essaim.example/announce/KEY'], ['udp://essaim.example:6969/KEY']],
      'empty tiers dropped',
    );
    const a = parsed(stored);
    const p = parsed(out);
    assert.equal(p.infoHashV1, a.infoHashV1);
    assert.equal(p.infoHashV2, a.infoHashV2);
    assert.equal(p.comment, 'https://essaim.example/t/42');
    assert.equal(p.createdBy, 'Essaim');
  });
}

test('personaliseTorrent keeps the stored creator unless told otherwise, and drops a stale announce-list', () => {
  const stored = bencode({
    announce: 'http://old/a',
    'announce-list': [['http://old/a']],
    'created by': 'stored creator',
    info: sampleTorrent('v1').info,
  });
  const out = personaliseTorrent(stored, { announce: 'http://new/a' });
  const top = decodeDict(out);
  assert.deepEqual([...top.keys()], ['announce', 'created by', 'info']);
  assert.equal(String(top.get('created by')), 'stored creator');
  assert.equal(String(top.get('announce')), 'http://new/a');
});

test('personaliseTorrent copies a non-canonical stored info verbatim', () => {
  // An info dict with unsorted keys: re-encoding it would change the hash.
  const info = Buffer.from('d4:name1:a6:lengthi5e12:piece lengthi16384e6:pieces20:aaaaaaaaaaaaaaaaaaaae', 'latin1');
  const stored = Buffer.concat([Buffer.from('d4:info'), info, Buffer.from('e')]);
  const out = personaliseTorrent(stored, { announce: 'http://t/a' });
  assert.deepEqual(infoSpan(out, false), info);
});

test('personaliseTorrent refuses what is not a stored torrent', () => {
  assert.throws(() => personaliseTorrent(Buffer.from('garbage'), { announce: 'x' }), TypeError);
  assert.throws(() => personaliseTorrent(bencode({ announce: 'x' }), { announce: 'x' }), TypeError);
});

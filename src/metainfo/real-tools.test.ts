/**
 * Cross-checks with torrents made by real tools, generated at test time in a temp directory:
 * mktorrent (v1) and python3-libtorrent 2.0 (v1, v2-only and hybrid). The info hashes we compute
 * must equal libtorrent's own `torrent_info(...).info_hashes()`, and libtorrent must load what
 * prepareForSite and personaliseTorrent produce. Tests are skipped, with the reason, when a tool is
 * missing.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseTorrentFile, type ParsedTorrent } from './torrent-file.js';
import { personaliseTorrent, prepareForSite } from './site-torrent.js';
import { content } from '../../test/fixtures/metainfo/builders.js';

const PYTHON = '/usr/bin/python3';
const LT_TOOL = fileURLToPath(new URL('../../test/fixtures/metainfo/lt-tool.py', import.meta.url));

function libtorrentMissing(): string | false {
  const r = spawnSync(PYTHON, ['-c', 'import libtorrent'], { encoding: 'utf8' });
  return r.status === 0 ? false : `python3-libtorrent is not available to ${PYTHON} (apt-get install -y python3-libtorrent)`;
}

function mktorrentMissing(): string | false {
  const r = spawnSync('mktorrent', ['-h'], { encoding: 'utf8' });
  return r.error === undefined ? false : 'mktorrent is not installed (apt-get install -y mktorrent)';
}

const NO_LT = libtorrentMissing();
const NO_MK = mktorrentMissing();

interface LtInfo {
  v1: string | null;
  v2: string | null;
  name: string;
  private: boolean;
  comment: string;
  creator: string;
  trackers: Array<[number, string]>;
  files: Array<{ path: string; size: number; pad: boolean }>;
  total_size: number;
}

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} failed: ${r.stderr}${r.error?.message ?? ''}`);
}

/** What libtorrent sees in a .torrent file; fails the test if libtorrent refuses it. */
function ltInfo(file: string): LtInfo {
  const r = spawnSync(PYTHON, [LT_TOOL, 'info', file], { encoding: 'utf8' });
  assert.equal(r.status, 0, `libtorrent refused ${file}: ${r.stderr}`);
  return JSON.parse(r.stdout) as LtInfo;
}

let dir = '';
const MULTI_FILES: Array<[string[], number]> = [
  [['a.bin'], 70000],
  [['empty'], 0],
  [['sub', 'b.txt'], 100],
  [['sub', 'deeper', 'c.dat'], 40000],
  [['été ünïcode.txt'], 5000],
];

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'essaim-metainfo-'));
  MULTI_FILES.forEach(([path, size], i) => {
    mkdirSync(join(dir, 'multi', ...path.slice(0, -1)), { recursive: true });
    writeFileSync(join(dir, 'multi', ...path), content(i, size));
  });
  writeFileSync(join(dir, 'single.bin'), content(99, 100000));
});

after(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

function parseFile(file: string): ParsedTorrent {
  const r = parseTorrentFile(readFileSync(file));
  if (!r.ok) assert.fail(`${file}: ${r.error.code}: ${r.error.message}`);
  return r.torrent;
}

/** Our file list and totals against libtorrent's view (padding files left out). */
function assertSameFiles(t: ParsedTorrent, lt: LtInfo, multi: boolean): void {
  const real = lt.files.filter((f) => !f.pad);
  const prefix = multi ? `${lt.name}/` : '';
  assert.deepEqual(
    t.files.map((f) => ({ path: f.path.join('/'), size: f.size })),
    real.map((f) => ({ path: f.path.startsWith(prefix) ? f.path.slice(prefix.length) : f.path, size: f.size })),
  );
  assert.equal(t.totalSize, real.reduce((s, f) => s + f.size, 0));
  assert.equal(t.name, lt.name);
}

function assertSameHashes(t: { infoHashV1: string | null; infoHashV2: string | null }, lt: LtInfo): void {
  assert.equal(t.infoHashV1, lt.v1, 'v1 info hash as libtorrent computes it');
  assert.equal(t.infoHashV2, lt.v2, 'v2 info hash as libtorrent computes it');
}

/** prepareForSite then personaliseTorrent, each output loaded by libtorrent. */
function checkSiteRoundTrip(t: ParsedTorrent, base: string, multi: boolean): void {
  const site = prepareForSite(t, { source: 'essaim.test' });
  const prepared = join(dir, `${base}.site.torrent`);
  writeFileSync(prepared, site.metainfo);
  const lt1 = ltInfo(prepared);
  assertSameHashes(site, lt1);
  assert.equal(lt1.private, true, 'libtorrent sees the prepared torrent as private');
  assert.deepEqual(lt1.trackers, [], 'no trackers left in the stored torrent');
  assert.equal(lt1.comment, '');
  assertSameFiles(t, lt1, multi);

  const personal = personaliseTorrent(site.metainfo, {
    announce: 'https://essaim.test/announce/PASSKEY',
    announceList: [['https://essaim.test/announce/PASSKEY'], ['udp://essaim.test:6969/PASSKEY']],
    comment: 'https://essaim.test/t/1',
    createdBy: 'Essaim',
  });
  const personalFile = join(dir, `${base}.personal.torrent`);
  writeFileSync(personalFile, personal);
  const lt2 = ltInfo(personalFile);
  assertSameHashes(site, lt2);
  assert.deepEqual(lt2.trackers, [
    [0, 'https://essaim.test/announce/PASSKEY'],
    [1, 'udp://essaim.test:6969/PASSKEY'],
  ]);
  assert.equal(lt2.comment, 'https://essaim.test/t/1');
  assert.equal(lt2.creator, 'Essaim');
  assert.equal(lt2.private, true);
  const again = parseFile(personalFile);
  assert.deepEqual(again.infoBytes, parseFile(prepared).infoBytes, 'personalised info bytes are the stored ones');
}

test('mktorrent v1 torrents (multi-file and single-file) parse, hash as libtorrent says, and round-trip', { skip: NO_MK || NO_LT }, () => {
  for (const [target, multi] of [
    ['multi', true],
    ['single.bin', false],
  ] as const) {
    const out = join(dir, `mk-${target}.torrent`);
    run('mktorrent', [
      '-a', 'http://tracker.example/announce',
      '-a', 'udp://backup.example:80',
      '-c', 'made by mktorrent',
      '-p',
      '-s', 'SRC',
      '-l', '15',
      '-o', out,
      join(dir, target),
    ]);
    const t = parseFile(out);
    const lt = ltInfo(out);
    assert.equal(t.version, 'v1');
    assertSameHashes(t, lt);
    assertSameFiles(t, lt, multi);
    assert.equal(t.pieceLength, 32768);
    assert.equal(t.isPrivate, true);
    assert.equal(t.source, 'SRC');
    assert.equal(t.comment, 'made by mktorrent');
    assert.match(t.createdBy ?? '', /^mktorrent/);
    assert.equal(typeof t.creationDate, 'number');
    checkSiteRoundTrip(t, `mk-${target}`, multi);
  }
});

for (const kind of ['v1', 'v2', 'hybrid'] as const) {
  test(`libtorrent ${kind} torrents (multi-file and single-file) parse, hash as libtorrent says, and round-trip`, { skip: NO_LT }, () => {
    for (const [target, multi] of [
      ['multi', true],
      ['single.bin', false],
    ] as const) {
      for (const pieceSize of [16384, 65536]) {
        const base = `lt-${kind}-${target}-${pieceSize}`;
        const out = join(dir, `${base}.torrent`);
        run(PYTHON, [LT_TOOL, 'create', kind, join(dir, target), out, String(pieceSize)]);
        const t = parseFile(out);
        const lt = ltInfo(out);
        assert.equal(t.version, kind);
        assert.equal(t.pieceLength, pieceSize);
        assertSameHashes(t, lt);
        assertSameFiles(t, lt, multi);
        assert.equal(t.createdBy, 'libtorrent test helper');
        assert.equal(t.pieceLayers !== null, kind !== 'v1' && t.files.some((f) => f.size > pieceSize), 'piece layers');
        checkSiteRoundTrip(t, base, multi);
      }
    }
  });
}

test('the skip reasons are explicit when a tool is missing', () => {
  for (const reason of [NO_LT, NO_MK]) {
    assert.ok(reason === false || /apt-get install/.test(reason), `reason names the fix: ${String(reason)}`);
  }
});

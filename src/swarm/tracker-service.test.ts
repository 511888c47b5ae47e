import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AnnounceRequest } from '../protocol/types.js';
import { ManualClock } from '../shared/clock.js';
import type { InfoHash } from '../shared/types.js';
import { AccessCache } from './access-cache.js';
import { unpackBaselines, unpackEntries } from '../shared/ledger-batch.js';
import { Ledger } from './ledger.js';
import { MemoryPeerStore } from './memory-peer-store.js';
import { TrackerService, type TrackerRules } from './tracker-service.js';

const H1 = 'a'.repeat(40) as InfoHash;
const H2 = 'b'.repeat(40) as InfoHash; // the second swarm (v2) of the same torrent
const PK1 = '1'.repeat(32);
const PK2 = '2'.repeat(32);
const IP = new Uint8Array([10, 0, 0, 1]);

const rules: TrackerRules = {
  mode: 'private',
  interval: 1800,
  intervalJitter: 0.1,
  minInterval: 300,
  numwantDefault: 50,
  numwantMax: 200,
  peerTimeout: 2700,
  maxPeersPerUser: 2,
  fullScrape: false,
  unregisteredReasonTtl: 86400,
};

function setup(over: Partial<TrackerRules> = {}) {
  const clock = new ManualClock(1_800_000_000_000);
  const access = new AccessCache();
  access.replaceAll({
    users: [
      { passkey: PK1, id: 1, enabled: true, disabledReason: null },
      { passkey: PK2, id: 2, enabled: true, disabledReason: null },
    ],
    torrents: [
      { infoHash: H1, torrentId: 7, status: 'active', deletedReason: null, deletedAt: null, uploadFactor: 1, downloadFactor: 1 },
      { infoHash: H2, torrentId: 7, status: 'active', deletedReason: null, deletedAt: null, uploadFactor: 1, downloadFactor: 1 },
    ],
    rules: [],
  });
  const store = new MemoryPeerStore({ maxPeersPerUser: over.maxPeersPerUser ?? rules.maxPeersPerUser });
  const ledger = new Ledger('test');
  const service = new TrackerService({ ...rules, ...over }, access, store, ledger, clock, () => 0.5);
  return { clock, access, store, ledger, service };
}

function req(p: Partial<AnnounceRequest> = {}): AnnounceRequest {
  return {
    kind: 'announce',
    infoHash: H1,
    peerId: Buffer.from('-TR3000-000000000001'),
    port: 6881,
    uploaded: 0,
    downloaded: 0,
    left: 100,
    event: 'none',
    compact: true,
    noPeerId: false,
    numwant: null,
    key: null,
    trackerId: null,
    ip: null,
    ...p,
  };
}

function sync<T>(v: T | Promise<T>): T {
  assert.ok(!(v instanceof Promise), 'the memory store answers synchronously');
  return v as T;
}

function totals(ledger: Ledger) {
  const taken = ledger.take();
  // A batch views the ledger's arrays until done(): read it first.
  const b = taken && { ...taken, entryIds: taken.entryIds.slice(), entryValues: taken.entryValues.slice(), baselineIds: taken.baselineIds.slice(), baselinePeerIds: taken.baselinePeerIds.slice(), baselineValues: taken.baselineValues.slice(), baselineRemoved: taken.baselineRemoved.slice() };
  if (taken) ledger.done(taken);
  const byUser = new Map<number, { up: number; down: number; rawUp: number; rawDown: number; seed: number; leech: number; completions: number }>();
  for (const e of b ? unpackEntries(b) : []) {
    const t = byUser.get(e.userId) ?? { up: 0, down: 0, rawUp: 0, rawDown: 0, seed: 0, leech: 0, completions: 0 };
    t.up += e.uploaded;
    t.down += e.downloaded;
    t.rawUp += e.rawUploaded;
    t.rawDown += e.rawDownloaded;
    t.seed += e.seedTime;
    t.leech += e.leechTime;
    t.completions += e.completions;
    byUser.set(e.userId, t);
  }
  return { byUser, batch: b };
}

test('credits the deltas of cumulative counters, never a negative', () => {
  const { service, ledger, clock } = setup();
  sync(service.announce(req({ event: 'started', uploaded: 0, downloaded: 0 }), PK1, IP));
  clock.advance(60_000);
  sync(service.announce(req({ uploaded: 1000, downloaded: 5000 }), PK1, IP));
  clock.advance(60_000);
  sync(service.announce(req({ uploaded: 1500, downloaded: 9000 }), PK1, IP));
  // the client restarted its counters: the baseline resets, nothing is credited
  clock.advance(60_000);
  sync(service.announce(req({ uploaded: 100, downloaded: 200 }), PK1, IP));
  clock.advance(60_000);
  sync(service.announce(req({ uploaded: 400, downloaded: 200 }), PK1, IP));
  const t = totals(ledger).byUser.get(1)!;
  assert.equal(t.rawUp, 1500 + 300);
  assert.equal(t.rawDown, 9000);
  assert.equal(t.up, 1800);
  assert.equal(t.leech, 240, 'four intervals of 60 s leeching');
  assert.equal(t.seed, 0);
});

test('applies the torrent factors and keeps raw figures', () => {
  const { service, ledger, access } = setup();
  access.setTorrent(H1, { torrentId: 7, status: 'active', deletedReason: null, deletedAt: null, uploadFactor: 2, downloadFactor: 0 });
  sync(service.announce(req({ event: 'started' }), PK1, IP));
  sync(service.announce(req({ uploaded: 300, downloaded: 700 }), PK1, IP));
  const t = totals(ledger).byUser.get(1)!;
  assert.deepEqual([t.up, t.down, t.rawUp, t.rawDown], [600, 0, 300, 700]);
});

test('a new peer without "started" and without a stored baseline credits nothing at first', () => {
  const { service, ledger } = setup();
  sync(service.announce(req({ uploaded: 10_000, downloaded: 10_000 }), PK1, IP));
  sync(service.announce(req({ uploaded: 10_500, downloaded: 10_000 }), PK1, IP));
  const t = totals(ledger).byUser.get(1)!;
  assert.equal(t.rawUp, 500);
  assert.equal(t.rawDown, 0);
});

test('after a restart, restored baselines make the next announce credit exactly the rest', () => {
  const { service, ledger } = setup();
  const peer = Buffer.from('-TR3000-000000000001');
  service.restoreBaselines([{ userId: 1, torrentId: 7, peerId: peer.toString('hex'), uploaded: 4000, downloaded: 100 }]);
  sync(service.announce(req({ uploaded: 4500, downloaded: 130 }), PK1, IP));
  const { byUser, batch } = totals(ledger);
  assert.equal(byUser.get(1)!.rawUp, 500);
  assert.equal(byUser.get(1)!.rawDown, 30);
  assert.deepEqual(
    unpackBaselines(batch!).map((b) => [b.peerId, b.uploaded, b.downloaded, b.removed]),
    [[peer.toString('hex'), 4500, 130, false]],
  );
  // the restored baseline is used once only
  sync(service.announce(req({ uploaded: 4600, downloaded: 130 }), PK1, IP));
  assert.equal(totals(ledger).byUser.get(1)!.rawUp, 100);
});

test('seeding time, snatches, and stop removes the baseline', () => {
  const { service, ledger, clock } = setup();
  sync(service.announce(req({ event: 'started', left: 0 }), PK1, IP));
  clock.advance(100_000);
  sync(service.announce(req({ left: 0, uploaded: 10 }), PK1, IP));
  clock.advance(10_000_000); // far beyond the peer timeout: time is capped
  sync(service.announce(req({ left: 0, uploaded: 20, event: 'stopped' }), PK1, IP));
  const { byUser, batch } = totals(ledger);
  assert.equal(byUser.get(1)!.seed, 100 + rules.peerTimeout);
  assert.equal(unpackBaselines(batch!)[0]!.removed, true);
  const s = setup();
  sync(s.service.announce(req({ event: 'started' }), PK1, IP));
  sync(s.service.announce(req({ event: 'completed', left: 0, downloaded: 100 }), PK1, IP));
  assert.equal(totals(s.ledger).byUser.get(1)!.completions, 1);
});

test('hybrid torrents: both swarms credit the same torrent', () => {
  const { service, ledger } = setup();
  sync(service.announce(req({ event: 'started', infoHash: H1 }), PK1, IP));
  sync(service.announce(req({ event: 'started', infoHash: H2, peerId: Buffer.from('-TR3000-000000000002') }), PK1, IP));
  sync(service.announce(req({ infoHash: H1, uploaded: 10 }), PK1, IP));
  sync(service.announce(req({ infoHash: H2, peerId: Buffer.from('-TR3000-000000000002'), uploaded: 20 }), PK1, IP));
  const { batch } = totals(ledger);
  const entries = unpackEntries(batch!);
  assert.equal(entries.length, 1);
  assert.equal(entries[0]!.torrentId, 7);
  assert.equal(entries[0]!.rawUploaded, 30);
});

test('the info hash as bytes (as the parsers give it) or as hex: one swarm, one torrent, one blocklist', () => {
  const { service, access, ledger } = setup();
  const bytes = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));
  const a = sync(service.announce(req({ event: 'started', infoHash: bytes(H1) }), PK1, IP));
  assert.ok(a.ok && a.outcome.isNew, 'registered torrent found by its bytes');
  const b = sync(service.announce(req({ infoHash: H1, uploaded: 40 }), PK1, IP));
  assert.ok(b.ok && !b.outcome.isNew, 'the same peer of the same swarm, found by the hex form');
  const c = sync(service.announce(req({ infoHash: bytes(H1), uploaded: 100 }), PK1, IP));
  assert.ok(c.ok && c.outcome.prevUploaded === 40, 'and by the bytes again');
  assert.equal(unpackEntries(totals(ledger).batch!)[0]!.rawUploaded, 100);
  const reason = (r: ReturnType<typeof service.announce>) => {
    const v = sync(r);
    return v.ok ? 'ok' : v.reason;
  };
  assert.equal(reason(service.announce(req({ infoHash: bytes('c'.repeat(40)) }), PK1, IP)), 'Unregistered torrent');
  access.setBlocked(H2, 'notice 12');
  assert.equal(reason(service.announce(req({ infoHash: bytes(H2) }), PK1, IP)), 'Torrent blocked: notice 12');
  access.setBlocked(H2, null);
  assert.equal(reason(service.announce(req({ infoHash: bytes(H2) }), PK1, IP)), 'ok');
});

test('an answer from an async store uses copies of the request arrays, which the caller may reuse at once', async () => {
  const clock = new ManualClock(1_800_000_000_000);
  const access = new AccessCache();
  access.replaceAll({
    users: [{ passkey: PK1, id: 1, enabled: true, disabledReason: null }],
    torrents: [{ infoHash: H1, torrentId: 7, status: 'active', deletedReason: null, deletedAt: null, uploadFactor: 1, downloadFactor: 1 }],
    rules: [],
  });
  const inner = new MemoryPeerStore({ maxPeersPerUser: 2 });
  // An async store that does not credit by itself: the service accounts after the await.
  const store = Object.assign(Object.create(inner) as MemoryPeerStore, { announce: (a: Parameters<MemoryPeerStore['announce']>[0]) => Promise.resolve(inner.announce(a)) });
  const ledger = new Ledger('test');
  const service = new TrackerService(rules, access, store, ledger, clock, () => 0.5);
  const peerId = new Uint8Array(Buffer.from('-TR3000-00000000000a'));
  const infoHash = new Uint8Array(Buffer.from(H1, 'hex'));
  const pending = service.announce(req({ event: 'started', infoHash, peerId, uploaded: 10 }), PK1, IP);
  assert.ok(pending instanceof Promise, 'the async store answers later');
  // What a UDP socket does with its scratch arrays as soon as the call returns.
  peerId.fill(0xff);
  infoHash.fill(0xee);
  const a = await pending;
  assert.ok(a.ok, 'answered');
  const baselines = unpackBaselines(totals(ledger).batch!);
  assert.deepEqual(
    baselines.map((b) => b.peerId),
    [Buffer.from('-TR3000-00000000000a').toString('hex')],
    'the baseline is written for the peer id the client sent',
  );
});

test('refusals name the problem', () => {
  const { service, access, clock } = setup();
  const reason = (r: ReturnType<typeof service.announce>) => {
    const v = sync(r);
    return v.ok ? 'ok' : v.reason;
  };
  assert.match(reason(service.announce(req(), null, IP)), /^Passkey required/);
  assert.match(reason(service.announce(req(), 'f'.repeat(32), IP)), /^Unknown passkey/);
  access.setUser('3'.repeat(32), { id: 3, enabled: false, disabledReason: 'ratio too low' });
  assert.equal(reason(service.announce(req(), '3'.repeat(32), IP)), 'Account disabled: ratio too low');
  assert.equal(reason(service.announce(req({ infoHash: 'c'.repeat(40) as InfoHash }), PK1, IP)), 'Unregistered torrent');
  const now = clock.nowMs() / 1000;
  access.setTorrent(H1, { torrentId: 7, status: 'deleted', deletedReason: 'copyright notice', deletedAt: now - 3600, uploadFactor: 1, downloadFactor: 1 });
  assert.equal(reason(service.announce(req(), PK1, IP)), 'Unregistered torrent: copyright notice');
  access.setTorrent(H1, { torrentId: 7, status: 'deleted', deletedReason: 'copyright notice', deletedAt: now - 2 * 86400, uploadFactor: 1, downloadFactor: 1 });
  assert.equal(reason(service.announce(req(), PK1, IP)), 'Unregistered torrent');
  access.setTorrent(H1, { torrentId: 7, status: 'pending', deletedReason: null, deletedAt: null, uploadFactor: 1, downloadFactor: 1 });
  assert.match(reason(service.announce(req(), PK1, IP)), /pending/);
  access.setTorrent(H1, { torrentId: 7, status: 'active', deletedReason: null, deletedAt: null, uploadFactor: 1, downloadFactor: 1 });
  access.setRules([{ prefix: '-TR', action: 'deny' }]);
  assert.equal(reason(service.announce(req(), PK1, IP)), 'Client not allowed (-TR)');
  access.setRules([{ prefix: '-qB', action: 'allow' }]);
  assert.match(reason(service.announce(req(), PK1, IP)), /not on the list/);
  assert.equal(reason(service.announce(req({ peerId: Buffer.from('-qB4650-000000000001') }), PK1, IP)), 'ok');
});

test('per-member peer cap, and other members are not affected', () => {
  const { service } = setup({ maxPeersPerUser: 2 });
  const pid = (n: number) => Buffer.from(`-TR3000-00000000000${n}`);
  for (const n of [1, 2]) assert.ok(sync(service.announce(req({ peerId: pid(n) }), PK1, IP)).ok, 'sync(service.announce(req({ peerId: pid(n) }), PK1, IP)).ok');
  const third = sync(service.announce(req({ peerId: pid(3) }), PK1, IP));
  assert.ok(!third.ok && third.code === 'peer_limit', '!third.ok && third.code === \'peer_limit\'');
  assert.ok(sync(service.announce(req({ peerId: pid(3) }), PK2, IP)).ok, 'sync(service.announce(req({ peerId: pid(3) }), PK2, IP)).ok');
});

test('numwant is clamped and the interval varies within the jitter', () => {
  const { service } = setup({ numwantMax: 3, maxPeersPerUser: 100 });
  for (let i = 0; i < 10; i++) sync(service.announce(req({ peerId: Buffer.from(`-TR3000-0000000000${String(i).padStart(2, '0')}`) }), PK1, IP));
  const a = sync(service.announce(req({ numwant: 1000, peerId: Buffer.from('-TR3000-999999999999') }), PK2, IP));
  assert.ok(a.ok, 'a.ok');
  assert.equal(a.outcome.peers4.length, 3 * 6);
  assert.equal(a.interval, 1800); // random() = 0.5: the middle of [0.9, 1.1] x interval
  assert.equal(a.minInterval, 300);
});

test('public mode: any info hash, no accounting; scrape rules', () => {
  const { service, ledger } = setup({ mode: 'public' });
  const a = sync(service.announce(req({ infoHash: 'd'.repeat(40) as InfoHash, uploaded: 5 }), null, IP));
  assert.ok(a.ok, 'a.ok');
  assert.equal(ledger.take(), null);
  const s = sync(service.scrape({ kind: 'scrape', infoHashes: ['d'.repeat(40) as InfoHash] }, null));
  assert.ok(s.ok && s.files[0]!.counts.incomplete === 1, 's.ok && s.files[0]!.counts.incomplete === 1');
  const full = sync(service.scrape({ kind: 'scrape', infoHashes: [] }, null));
  assert.ok(!full.ok && full.code === 'full_scrape_disabled', '!full.ok && full.code === \'full_scrape_disabled\'');
  const p = setup();
  const ps = sync(p.service.scrape({ kind: 'scrape', infoHashes: [H1, 'e'.repeat(40) as InfoHash] }, PK1));
  assert.ok(ps.ok, 'ps.ok');
  assert.deepEqual(ps.files.map((f) => f.infoHash), [H1], 'unregistered hashes are left out in private mode');
});

test('unchanged counters write no new baseline, except once per refresh window', () => {
  const { service, ledger, clock } = setup({ baselineRefresh: 3600 });
  const baselines = () => {
    const { batch } = totals(ledger);
    return batch ? unpackBaselines(batch).map((b) => [b.uploaded, b.updatedAt, b.removed]) : [];
  };
  clock.set(3600 * 500_000 * 1000); // the start of a refresh window
  const t0 = clock.nowMs() / 1000;
  sync(service.announce(req({ event: 'started', uploaded: 10 }), PK1, IP));
  assert.deepEqual(baselines(), [[10, t0, false]], 'a new peer always writes its baseline');
  clock.advance(600_000);
  sync(service.announce(req({ uploaded: 10 }), PK1, IP));
  assert.deepEqual(baselines(), [], 'same counters, same window: nothing to write');
  const b = totals(ledger).batch;
  assert.equal(b, null, 'and no entry left over either');
  clock.advance(600_000);
  sync(service.announce(req({ uploaded: 10, downloaded: 1 }), PK1, IP));
  assert.deepEqual(baselines(), [[10, t0 + 1200, false]], 'a counter moved');
  clock.advance(2400_000); // t0 + 3600: a new window
  sync(service.announce(req({ uploaded: 10, downloaded: 1 }), PK1, IP));
  assert.deepEqual(baselines(), [[10, t0 + 3600, false]], 'first announce of a new window refreshes the stored baseline');
  clock.advance(1_000);
  sync(service.announce(req({ uploaded: 10, downloaded: 1 }), PK1, IP));
  assert.deepEqual(baselines(), []);
  clock.advance(1_000);
  sync(service.announce(req({ uploaded: 10, downloaded: 1, event: 'stopped' }), PK1, IP));
  assert.deepEqual(baselines(), [[10, t0 + 3602, true]], 'a stop always removes the baseline');
});

test('the entry is still credited (announces, time) when the baseline is skipped', () => {
  const { service, ledger, clock } = setup();
  sync(service.announce(req({ event: 'started', left: 0 }), PK1, IP));
  totals(ledger);
  clock.advance(60_000);
  sync(service.announce(req({ left: 0 }), PK1, IP));
  const { byUser, batch } = totals(ledger);
  assert.equal(byUser.get(1)?.seed, 60);
  assert.equal(batch?.baselineCount, 0);
  assert.equal(unpackEntries(batch!)[0]!.announces, 1);
});

test('restored baselines: kept compactly, malformed peer ids skipped, each used once, cleared', () => {
  const { service, ledger } = setup();
  const p1 = Buffer.from('-TR3000-000000000001');
  const p2 = Buffer.from('-TR3000-000000000002');
  const n = service.restoreBaselines([
    { userId: 1, torrentId: 7, peerId: p1.toString('hex'), uploaded: 100, downloaded: 0 },
    { userId: 1, torrentId: 7, peerId: 'zz'.repeat(20), uploaded: 1, downloaded: 1 },
    { userId: 1, torrentId: 7, peerId: 'ab', uploaded: 1, downloaded: 1 },
  ]);
  assert.equal(n, 1, 'the malformed rows are skipped');
  assert.equal(service.restoreBaselines([{ userId: 1, torrentId: 7, peerId: p2.toString('hex').toUpperCase(), uploaded: 50, downloaded: 0 }]), 1);
  assert.equal(service.restoredBaselineCount(), 2);
  sync(service.announce(req({ peerId: p1, uploaded: 150 }), PK1, IP));
  assert.equal(service.restoredBaselineCount(), 1);
  // Another member announcing the same peer id does not use member 1's baseline.
  sync(service.announce(req({ peerId: p2, uploaded: 80 }), PK2, IP));
  assert.equal(service.restoredBaselineCount(), 1);
  assert.equal(totals(ledger).byUser.get(1)?.rawUp, 50);
  service.clearRestoredBaselines();
  assert.equal(service.restoredBaselineCount(), 0);
  sync(service.announce(req({ peerId: p2, uploaded: 80 }), PK1, IP));
  assert.equal(totals(ledger).byUser.get(1)?.rawUp, 0, 'cleared: an unknown peer without started credits nothing');
});

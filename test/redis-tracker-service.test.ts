/**
 * TrackerService over the Redis peer store (ESSAIM_TEST_REDIS_URL; skipped without it): in private
 * mode a seeder and a leecher, each announcing through its own tracker node (two services, two
 * connections, one key prefix), see each other; the deltas of their cumulative counters are
 * credited from the baselines kept in Redis; the per-user cap and a stop go through the same path.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import type { AnnounceRequest } from '../src/protocol/types.js';
import { ManualClock } from '../src/shared/clock.js';
import { unpackEntries } from '../src/shared/ledger-batch.js';
import type { InfoHash } from '../src/shared/types.js';
import { AccessCache } from '../src/swarm/access-cache.js';
import { Ledger } from '../src/swarm/ledger.js';
import { createRedisPeerStore } from '../src/swarm/redis-peer-store.js';
import { REDIS_SKIP, deleteKeys, randomPrefix, testRedisUrl } from '../src/swarm/redis-testing.js';
import { TrackerService, type AnnounceAnswer, type Refusal, type TrackerRules } from '../src/swarm/tracker-service.js';

const H = 'c'.repeat(40) as InfoHash;
const PK_SEED = '1'.repeat(32);
const PK_LEECH = '2'.repeat(32);
const SEED_PID = Buffer.from('-TR3000-seeder000001');
const LEECH_PID = Buffer.from('-qB4000-leecher00001');

const rules: TrackerRules = {
  mode: 'private',
  interval: 1800,
  intervalJitter: 0,
  minInterval: 300,
  numwantDefault: 50,
  numwantMax: 200,
  peerTimeout: 2700,
  maxPeersPerUser: 1,
  fullScrape: true,
  unregisteredReasonTtl: 86400,
};

function req(p: Partial<AnnounceRequest>): AnnounceRequest {
  return {
    kind: 'announce',
    infoHash: H,
    peerId: SEED_PID,
    port: 6881,
    uploaded: 0,
    downloaded: 0,
    left: 0,
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

function ok(r: AnnounceAnswer | Refusal): AnnounceAnswer {
  assert.ok(r.ok, `announce accepted (${r.ok ? '' : r.reason})`);
  return r;
}

const url = testRedisUrl();

describe('TrackerService with the Redis peer store', () => {
  if (url === null) {
    it('needs Redis', { skip: REDIS_SKIP }, () => {});
    return;
  }
  const prefix = randomPrefix();
  const clients = [new Redis(url), new Redis(url)];
  after(async () => {
    await deleteKeys(clients[0]!, prefix);
    for (const c of clients) await c.quit();
  });

  function node(i: number, clock: ManualClock) {
    const access = new AccessCache();
    access.replaceAll({
      users: [
        { passkey: PK_SEED, id: 1, enabled: true, disabledReason: null },
        { passkey: PK_LEECH, id: 2, enabled: true, disabledReason: null },
      ],
      torrents: [{ infoHash: H, torrentId: 9, status: 'active', deletedReason: null, deletedAt: null, uploadFactor: 1, downloadFactor: 1 }],
      rules: [],
    });
    const store = createRedisPeerStore(clients[i]!, { maxPeersPerUser: rules.maxPeersPerUser, keyPrefix: prefix });
    const ledger = new Ledger(`node${i}`);
    const service = new TrackerService(rules, access, store, ledger, clock, () => 0.5);
    return { store, ledger, service };
  }

  it('a seeder and a leecher on two nodes see each other and are credited their deltas', async () => {
    const clock = new ManualClock(1_800_000_000_000);
    const a = node(0, clock);
    const b = node(1, clock);
    const seedIp = Uint8Array.of(10, 0, 0, 1);
    const leechIp = Uint8Array.of(10, 0, 0, 2);

    ok(await a.service.announce(req({ event: 'started' }), PK_SEED, seedIp));
    const first = ok(await b.service.announce(req({ event: 'started', peerId: LEECH_PID, left: 1000, port: 51413 }), PK_LEECH, leechIp));
    assert.deepEqual([...first.outcome.peers4], [10, 0, 0, 1, 6881 >> 8, 6881 & 255], 'the leecher gets the seeder');
    assert.deepEqual([first.outcome.complete, first.outcome.incomplete], [1, 1]);

    clock.advance(600_000);
    const seed = ok(await a.service.announce(req({ uploaded: 700 }), PK_SEED, seedIp));
    assert.deepEqual([...seed.outcome.peers4], [10, 0, 0, 2, 51413 >> 8, 51413 & 255], 'the seeder gets the leecher');
    ok(await b.service.announce(req({ peerId: LEECH_PID, left: 300, downloaded: 700, port: 51413 }), PK_LEECH, leechIp));
    clock.advance(60_000);
    ok(await b.service.announce(req({ peerId: LEECH_PID, left: 0, downloaded: 1000, event: 'completed', port: 51413 }), PK_LEECH, leechIp));

    // A second peer of a capped user is refused, through either node.
    const refused = await a.service.announce(req({ peerId: Buffer.from('-TR3000-seeder000002') }), PK_SEED, seedIp);
    assert.equal(refused.ok, false);
    assert.equal((refused as Refusal).code, 'peer_limit');

    const credited = (l: Ledger) => {
      const batch = l.take();
      assert.ok(batch !== null, 'a batch');
      const e = unpackEntries(batch).map((x) => ({ user: x.userId, torrent: x.torrentId, up: x.rawUploaded, down: x.rawDownloaded, seed: x.seedTime, leech: x.leechTime, done: x.completions }));
      l.done(batch);
      return e;
    };
    assert.deepEqual(credited(a.ledger), [{ user: 1, torrent: 9, up: 700, down: 0, seed: 600, leech: 0, done: 0 }]);
    assert.deepEqual(credited(b.ledger), [{ user: 2, torrent: 9, up: 0, down: 1000, seed: 0, leech: 660, done: 1 }]);

    // Full scrape through the other node, then a stop.
    const full = await a.service.scrape({ kind: 'scrape', infoHashes: [] }, PK_SEED);
    assert.ok(full.ok, 'full scrape allowed');
    assert.deepEqual(full.files, [{ infoHash: H, counts: { complete: 2, incomplete: 0, downloaded: 1 } }]);
    ok(await b.service.announce(req({ peerId: LEECH_PID, left: 0, downloaded: 1000, uploaded: 50, event: 'stopped', port: 51413 }), PK_LEECH, leechIp));
    const sc = await a.service.scrape({ kind: 'scrape', infoHashes: [H] }, PK_SEED);
    assert.ok(sc.ok, 'scrape allowed');
    assert.deepEqual(sc.files[0]!.counts, { complete: 1, incomplete: 0, downloaded: 1 });
    assert.deepEqual(credited(b.ledger), [{ user: 2, torrent: 9, up: 50, down: 0, seed: 0, leech: 0, done: 0 }]);
    assert.deepEqual(await a.store.stats(), { peers: 1, seeders: 1, leechers: 0, torrents: 1, ipv4: 1, ipv6: 0 });
  });
});

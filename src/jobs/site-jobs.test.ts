import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { forEachDialect } from '../db/test-databases.js';
import { registerTorrent } from '../db/torrent.repository.js';
import { toInfoHash, type InfoHash } from '../shared/types.js';
import { AccessCache } from '../swarm/access-cache.js';
import { MemoryPeerStore } from '../swarm/memory-peer-store.js';
import { SwarmCountSync } from './site-jobs.js';

forEachDialect((name, open) => {
  describe(`swarm count sync (${name})`, () => {
    it('copies live seeders and leechers per torrent (hybrid swarms summed), only when they change', async () => {
      const t = await open();
      try {
        const db = t.db;
        const hA = 'a1'.repeat(20);
        const hV1 = 'b2'.repeat(20);
        const hV2 = 'c3'.repeat(32);
        const a = await registerTorrent(db, { name: 'a', infoHashV1: hA, now: 1 });
        const hy = await registerTorrent(db, { name: 'hybrid', infoHashV1: hV1, infoHashV2: hV2, now: 1 });
        const access = new AccessCache();
        const entry = (torrentId: number) => ({ torrentId, status: 'active' as const, deletedReason: null, deletedAt: null, uploadFactor: 1, downloadFactor: 1, factorsUntil: null });
        access.setTorrent(hA, entry(a.id));
        access.setTorrent(hV1, entry(hy.id));
        access.setTorrent(hV2.slice(0, 40), entry(hy.id));
        const store = new MemoryPeerStore({ maxPeersPerUser: 10 });
        let n = 0;
        const announce = (hash: string, left: number, event: 'started' | 'stopped' = 'started') => {
          n++;
          const peerId = Buffer.alloc(20, n);
          store.announce({ infoHash: toInfoHash(hash) as InfoHash, userId: n, peerId, ip: Buffer.from([127, 0, 0, 1]), port: 6000 + n, uploaded: 0, downloaded: 0, left, event, numwant: 0, wantPeerIds: false, now: 100 });
          return peerId;
        };
        announce(hA, 0);
        announce(hA, 10);
        announce(hA, 10);
        announce(hV1, 0);
        announce(hV2.slice(0, 40), 0);
        announce(hV2.slice(0, 40), 5);
        const sync = new SwarmCountSync(db, store, access);
        assert.equal(await sync.run(), 2, 'two torrents written');
        const row = async (id: number) => db.selectFrom('torrent').select(['seeders', 'leechers']).where('id', '=', id).executeTakeFirstOrThrow();
        assert.deepEqual(await row(a.id), { seeders: 1, leechers: 2 });
        assert.deepEqual(await row(hy.id), { seeders: 2, leechers: 1 }, 'both swarms of the hybrid torrent');
        assert.equal(await sync.run(), 0, 'nothing changed, nothing written');
        await store.sweep(1_000);
        assert.equal(await sync.run(), 2, 'emptied swarms are written as zero');
        assert.deepEqual(await row(a.id), { seeders: 0, leechers: 0 });
      } finally {
        await t.close();
      }
    });
  });
});

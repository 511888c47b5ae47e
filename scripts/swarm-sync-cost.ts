/**
 * The cost of the website's swarm-count copy on the tracker's thread (docs/tracker.md): N torrents
 * whose counts all changed, one SwarmCountSync pass. Usage: npx tsx scripts/swarm-sync-cost.ts [N]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openDatabase } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { SwarmCountSync } from '../src/jobs/site-jobs.js';
import { toInfoHash, type InfoHash } from '../src/shared/types.js';
import { AccessCache } from '../src/swarm/access-cache.js';
import { MemoryPeerStore } from '../src/swarm/memory-peer-store.js';

const n = Number(process.argv[2] ?? 50_000);
const dir = mkdtempSync(join(tmpdir(), 'essaim-sync-'));
const d = await openDatabase('', { dataDir: dir, poolSize: 1 });
try {
  await migrateToLatest(d.db);
  const access = new AccessCache();
  const store = new MemoryPeerStore({ maxPeersPerUser: 10 });
  for (let i = 0; i < n; i += 1000) {
    const rows = [];
    for (let j = i; j < Math.min(n, i + 1000); j++) rows.push({ name: `t${j}`, info_hash_v1: j.toString(16).padStart(40, '0'), size: 1, status: 'active' as const, deleted_reason: null, deleted_at: null, uploader_id: null, created_at: 1 });
    const ids = await d.db.insertInto('torrent').values(rows).returning('id').execute();
    ids.forEach((r, k) => {
      const hash = (i + k).toString(16).padStart(40, '0');
      access.setTorrent(hash, { torrentId: r.id, status: 'active', deletedReason: null, deletedAt: null, uploadFactor: 1, downloadFactor: 1, factorsUntil: null });
      store.announce({ infoHash: toInfoHash(hash) as InfoHash, userId: 1, peerId: Buffer.alloc(20, 1), ip: Buffer.from([127, 0, 0, 1]), port: 6881, uploaded: 0, downloaded: 0, left: 0, event: 'started', numwant: 0, wantPeerIds: false, now: 1 });
    });
  }
  const sync = new SwarmCountSync(d.db, store, access);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const written = await sync.run();
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  process.stdout.write(`${written} torrents changed: ${ms.toFixed(0)} ms wall, ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms CPU (${((ms * 1000) / written).toFixed(1)} µs per row)\n`);
} finally {
  await d.close();
  rmSync(dir, { recursive: true, force: true });
}

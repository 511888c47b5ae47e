import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { LedgerWriter } from '../db/ledger-writer.js';
import { applyLedgerBatch, listUserTrafficHours, loadPeerBaselines } from '../db/ledger.repository.js';
import { forEachDialect, type TestDatabase } from '../db/test-databases.js';
import { registerTorrent } from '../db/torrent.repository.js';
import { createUser } from '../db/user.repository.js';
import { ManualClock } from '../shared/clock.js';
import type { LedgerBatch } from '../shared/ledger-batch.js';
import { silentLogger } from '../shared/log.js';
import { Ledger } from '../swarm/ledger.js';
import { flushLedger, pruneLedgerTables } from './tracker-jobs.js';

describe('flushLedger', () => {
  it('retries the same batch after a failure, then writes what came meanwhile', async () => {
    const ledger = new Ledger('jobs');
    const seen: string[] = [];
    let fail = true;
    const writer: LedgerWriter = {
      write: async (b: LedgerBatch) => {
        seen.push(`${b.id}:${b.entryCount}`);
        if (fail) throw new Error('database unavailable');
        return { applied: true };
      },
      close: async () => undefined,
    };
    ledger.credit(1, 1, 1, 0, 1, 0, 0, 0, false, 10);
    assert.equal(await flushLedger(writer, ledger, silentLogger()), false);
    assert.equal(ledger.depth(), 1, 'the failed batch is kept');
    ledger.credit(2, 1, 1, 0, 1, 0, 0, 0, false, 11);
    ledger.credit(3, 1, 1, 0, 1, 0, 0, 0, false, 11);
    fail = false;
    assert.equal(await flushLedger(writer, ledger, silentLogger()), true);
    assert.equal(seen.length, 3);
    assert.equal(seen[1], seen[0], 'the same batch id, with the same single entry');
    assert.match(seen[2]!, /:2$/, 'then the newer entries, in a batch of their own');
    assert.notEqual(seen[2]!.split(':')[0], seen[0]!.split(':')[0]);
    assert.equal(ledger.depth(), 0);
    assert.equal(await flushLedger(writer, ledger, silentLogger()), true, 'nothing to write is a success');
    assert.equal(seen.length, 3);
  });
});

forEachDialect((name, open) => {
  describe(`pruneLedgerTables (${name})`, () => {
    let t: TestDatabase;
    before(async () => {
      t = await open();
    });
    after(async () => {
      await t.close();
    });

    it('prunes baselines by their retention and hourly traffic by days, keeping the boundary hour', async () => {
      const u = (await createUser(t.db, { username: 'prune', now: 1 })).id;
      const tor = (await registerTorrent(t.db, { name: 'p', infoHashV1: 'f'.repeat(40), now: 1 })).id;
      const now = 3600 * 500_000 + 1800; // half past some hour
      const entry = (hour: number) => ({
        id: `prune-${hour}`,
        hour,
        entries: [{ userId: u, torrentId: tor, uploaded: 1, downloaded: 2, rawUploaded: 1, rawDownloaded: 2, seedTime: 0, leechTime: 0, announces: 1, completions: 0, completedAt: null, firstSeenAt: 1, lastSeenAt: 1 }],
        baselines: [],
      });
      const h = Math.floor(now / 3600);
      // Retention 2 days: the hour containing now - 2 days is kept, the one before it is not.
      for (const hour of [h - 48 - 1, h - 48, h - 1, h]) await applyLedgerBatch(t.db, entry(hour));
      await applyLedgerBatch(t.db, {
        id: 'prune-baselines',
        entries: [],
        baselines: [
          { userId: u, torrentId: tor, peerId: 'a'.repeat(40), uploaded: 1, downloaded: 1, updatedAt: now - 101, removed: false },
          { userId: u, torrentId: tor, peerId: 'b'.repeat(40), uploaded: 1, downloaded: 1, updatedAt: now - 100, removed: false },
        ],
      });
      const clock = new ManualClock(now * 1000);
      const batchesBefore = (await t.db.selectFrom('ledger_batch').select('id').execute()).length;
      const r = await pruneLedgerTables(t.db, clock, { baselineRetention: 100, trafficRetentionDays: 2 });
      // The batches were applied at the real time, long before this test clock's "now".
      assert.deepEqual(r, { baselines: 1, trafficHours: 1, batches: batchesBefore });
      assert.equal((await t.db.selectFrom('ledger_batch').select('id').execute()).length, 0, 'old batch ids pruned');
      assert.deepEqual((await listUserTrafficHours(t.db, u, 0, h)).map((x) => x.hour), [h - 48, h - 1, h]);
      assert.deepEqual((await loadPeerBaselines(t.db, 0)).map((b) => b.peerId), ['b'.repeat(40)]);
    });
  });
});

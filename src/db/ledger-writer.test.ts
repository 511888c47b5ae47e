import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packLedgerBatch, unpackEntries, type LedgerBatch } from '../shared/ledger-batch.js';
import { Ledger } from '../swarm/ledger.js';
import { openDatabase, openSqliteConnection, type OpenedDatabase } from './database.js';
import { keyOrder, openLedgerWriterConnection } from './ledger.sqlite.js';
import { sqliteWorkerLedgerWriter, type LedgerWriter } from './ledger-writer.js';
import { migrateToLatest } from './migrate.js';
import { registerTorrent } from './torrent.repository.js';
import { createUser, getUserTraffic } from './user.repository.js';
import { listUserTrafficHours } from './ledger.repository.js';

function batch(id: string, userId: number, torrentId: number, up: number): LedgerBatch {
  return packLedgerBatch({
    id,
    entries: [
      { userId, torrentId, uploaded: up, downloaded: 0, rawUploaded: up, rawDownloaded: 0, seedTime: 5, leechTime: 0, announces: 1, completions: 0, completedAt: null, firstSeenAt: 100, lastSeenAt: 100 },
    ],
    baselines: [{ userId, torrentId, peerId: 'ab'.repeat(20), uploaded: up, downloaded: 0, updatedAt: 100, removed: false }],
  });
}

describe('SQLite ledger writer thread', () => {
  let dir: string;
  let d: OpenedDatabase;
  let writer: LedgerWriter;
  let user: number;
  let torrent: number;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'essaim-writer-'));
    d = await openDatabase('', { dataDir: dir, poolSize: 1 });
    await migrateToLatest(d.db);
    user = (await createUser(d.db, { username: 'w', now: 1 })).id;
    torrent = (await registerTorrent(d.db, { name: 't', infoHashV1: 'e'.repeat(40), now: 1 })).id;
    writer = sqliteWorkerLedgerWriter(d.sqlitePath!);
  });
  after(async () => {
    await writer.close();
    await d.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes a batch in its own connection, visible to the main one', async () => {
    assert.deepEqual(await writer.write(batch('w-1', user, torrent, 1000)), { applied: true });
    const t = await getUserTraffic(d.db, user);
    assert.equal(t.uploaded, 1000);
    assert.equal(t.seedTime, 5);
    const b = await d.db.selectFrom('peer_baseline').selectAll().execute();
    assert.equal(b.length, 1);
    assert.equal(Number(b[0]!.uploaded), 1000);
  });

  it('skips a batch id it has already applied', async () => {
    assert.deepEqual(await writer.write(batch('w-1', user, torrent, 1000)), { applied: false });
    assert.equal((await getUserTraffic(d.db, user)).uploaded, 1000);
  });

  it('reports a failing batch and keeps working', async () => {
    await assert.rejects(writer.write(batch('w-bad', 999_999, torrent, 5)), /FOREIGN KEY/i);
    assert.deepEqual(await writer.write(batch('w-2', user, torrent, 1)), { applied: true });
    assert.equal((await getUserTraffic(d.db, user)).uploaded, 1001);
  });

  it("writes the ledger's own batches (shared memory): the tracker's view stays intact for a retry", async () => {
    const ledger = new Ledger('writer-test');
    const at = 3600 * 490_000 + 5;
    ledger.credit(user, torrent, 40, 2, 80, 2, 0, 7, false, at);
    ledger.baseline(user, torrent, Buffer.from('-TR3000-123456789012'), 40, 2, false, at);
    const b = ledger.take()!;
    assert.ok(b.entryIds.buffer instanceof SharedArrayBuffer, 'a shared batch');
    const before = (await getUserTraffic(d.db, user)).uploaded;
    assert.deepEqual(await writer.write(b), { applied: true });
    assert.equal(unpackEntries(b)[0]!.uploaded, 80, 'still readable after the thread wrote it');
    assert.deepEqual(await writer.write(b), { applied: false }, 'a retry of a committed batch is skipped');
    ledger.done(b);
    assert.equal((await getUserTraffic(d.db, user)).uploaded, before + 80);
    assert.deepEqual(await listUserTrafficHours(d.db, user, 490_000, 490_000), [{ hour: 490_000, uploaded: 80, downloaded: 2 }]);
    const row = await d.db.selectFrom('peer_baseline').selectAll().where('peer_id', '=', Buffer.from('-TR3000-123456789012').toString('hex')).executeTakeFirst();
    assert.equal(Number(row?.uploaded), 40);
  });

  it('starts a new thread after close', async () => {
    await writer.close();
    const before = (await getUserTraffic(d.db, user)).uploaded;
    assert.deepEqual(await writer.write(batch('w-3', user, torrent, 1)), { applied: true });
    assert.equal((await getUserTraffic(d.db, user)).uploaded, before + 1);
  });
});

describe('ledger writer connection settings', () => {
  it('match those of openSqliteConnection', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'essaim-writer-conn-'));
    try {
      const path = join(dir, 'x.sqlite');
      const a = openSqliteConnection(path);
      const b = openLedgerWriterConnection(path, 2048);
      for (const p of ['journal_mode', 'foreign_keys', 'busy_timeout', 'synchronous']) {
        assert.equal(b.pragma(p, { simple: true }), a.pragma(p, { simple: true }), p);
      }
      assert.equal(b.pragma('cache_size', { simple: true }), -2048);
      a.close();
      b.close();
      assert.throws(() => openLedgerWriterConnection(join(dir, 'missing', 'x.sqlite')), /directory|open/i);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('keyOrder', () => {
  it('orders rows by member then torrent, ties in row order, for any member id', () => {
    const rows = [[5, 2], [1, 9], [5, 1], [1, 9], [0x200000, 1], [3, 0xffffffff], [1, 2]];
    const ids = Uint32Array.from(rows.flat());
    assert.deepEqual([...keyOrder(ids, rows.length)], [6, 1, 3, 5, 2, 0, 4]);
    assert.deepEqual([...keyOrder(ids, 3)], [1, 2, 0], 'only the first n rows');
    assert.deepEqual([...keyOrder(new Uint32Array(0), 0)], []);
    const small = Uint32Array.from([2, 1, 2, 0, 1, 5]);
    assert.deepEqual([...keyOrder(small, 3)], [2, 1, 0], 'packed keys (member ids below 2^21)');
  });
});

/** Torrent queries of the pages, on every dialect; visibility, live counts and health rules. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { bencode } from '../../protocol/bencode.js';
import { forEachDialect, type TestDatabase } from '../../db/test-databases.js';
import { createUser } from '../../db/user.repository.js';
import { buildTorrent } from '../../../test/fixtures/metainfo/builders.js';
import {
  countUploads,
  getStoredMetainfo,
  getTorrentDetails,
  healthOf,
  listBookmarkedTorrents,
  listCategoryTorrents,
  listTopActive,
  listTorrentFiles,
  listTorrentsByIds,
  listUploads,
  liveCounts,
  showUploader,
  swarmKeys,
  torrentVisibility,
} from './read.js';
import { insertCategories, insertTermType, insertTorrent, type InsertedTorrent } from './read.testing.js';

let serial = 0;
function raw(kind: 'v1' | 'v2' | 'hybrid' = 'v1'): Buffer {
  const n = serial++;
  return bencode(
    buildTorrent(kind, {
      name: `t${n}`,
      files: [
        { path: ['big.bin'], size: 1000 + n },
        { path: ['dir', 'a.txt'], size: 10 },
      ],
    }).top,
  );
}

forEachDialect((name, open) => {
  describe(`torrent page queries (${name})`, () => {
    let t: TestDatabase;
    let uploader: number;
    let reader: number;
    let hybrid: InsertedTorrent;
    let anon: InsertedTorrent;
    let pending: InsertedTorrent;
    let deleted: InsertedTorrent;
    let other: InsertedTorrent;

    before(async () => {
      t = await open();
      const db = t.db;
      uploader = (await createUser(db, { username: 'up', now: 1 })).id;
      reader = (await createUser(db, { username: 'reader', now: 1 })).id;
      await insertCategories(db, [
        { id: 80301, name_en: 'Parent', name_fr: 'Parent FR' },
        { id: 80302, parent_id: 80301, name_en: 'Child', name_fr: 'Enfant' },
        { id: 80303, parent_id: 80301, name_en: 'Other child' },
        { id: 80304, name_en: 'Elsewhere' },
      ]);
      // Type 80320 comes first by position although inserted second.
      await insertTermType(db, { id: 80310, name_en: 'B type', categories: [80302], terms: [{ id: 80311, name_en: 'b2' }, { id: 80312, name_en: 'b1' }] });
      await insertTermType(db, { id: 80320, name_en: 'A type', categories: [80302], terms: [{ id: 80321, name_en: 'a1' }] });
      await db.updateTable('term_type').set({ position: 5 }).where('id', '=', 80310).execute();
      hybrid = await insertTorrent(db, { raw: raw('hybrid'), categoryId: 80302, uploaderId: uploader, termIds: [80312, 80311, 80321], createdAt: 100, seeders: 1, leechers: 50 });
      anon = await insertTorrent(db, { raw: raw(), categoryId: 80303, uploaderId: uploader, anonymous: 1, createdAt: 200, seeders: 9, leechers: 0 });
      pending = await insertTorrent(db, { raw: raw(), categoryId: 80302, uploaderId: uploader, status: 'pending', createdAt: 300 });
      deleted = await insertTorrent(db, { raw: raw(), categoryId: 80302, uploaderId: uploader, status: 'deleted', deletedReason: 'gone', createdAt: 400 });
      other = await insertTorrent(db, { raw: raw(), categoryId: 80304, uploaderId: reader, createdAt: 500, seeders: 3, leechers: 3 });
    });
    after(() => t.close());

    it('reads a torrent with its category, parent, uploader and terms in type and term order', async () => {
      const d = await getTorrentDetails(t.db, hybrid.id);
      assert.ok(d, 'found');
      assert.equal(d.torrent.id, hybrid.id);
      assert.equal(d.category?.name_fr, 'Enfant');
      assert.equal(d.parent?.id, 80301);
      assert.deepEqual(d.uploader, { id: uploader, username: 'up' });
      assert.deepEqual(d.terms.map((x) => [x.typeId, x.id]), [[80320, 80321], [80310, 80311], [80310, 80312]]);
      assert.equal(d.terms[1]!.typeName_en, 'B type');
      const top = await getTorrentDetails(t.db, other.id);
      assert.equal(top?.parent, null);
      assert.equal(top?.category?.id, 80304);
      assert.equal(await getTorrentDetails(t.db, 999999), undefined);
      assert.equal(await getTorrentDetails(t.db, -1), undefined);
      assert.equal(await getTorrentDetails(t.db, 1.5), undefined);
    });

    it('reads the files in order and the stored metainfo', async () => {
      assert.deepEqual(
        (await listTorrentFiles(t.db, hybrid.id)).map((f) => f.path),
        ['big.bin', 'dir/a.txt'],
      );
      const m = await getStoredMetainfo(t.db, hybrid.id);
      assert.ok(m && Buffer.isBuffer(m) && m.equals(hybrid.metainfo), 'stored bytes');
      assert.equal(await getStoredMetainfo(t.db, 999999), undefined);
    });

    it('lists uploads with or without anonymous and pending ones, never deleted ones', async () => {
      const ids = async (o: { includeAnonymous: boolean; includePending: boolean }) => (await listUploads(t.db, uploader, { ...o, limit: 10 })).map((r) => r.id);
      assert.deepEqual(await ids({ includeAnonymous: false, includePending: false }), [hybrid.id]);
      assert.deepEqual(await ids({ includeAnonymous: true, includePending: false }), [anon.id, hybrid.id]);
      assert.deepEqual(await ids({ includeAnonymous: true, includePending: true }), [pending.id, anon.id, hybrid.id]);
      assert.equal(await countUploads(t.db, uploader, { includeAnonymous: true, includePending: true }), 3);
      assert.equal(await countUploads(t.db, uploader, { includeAnonymous: false, includePending: false }), 1);
      const page2 = await listUploads(t.db, uploader, { includeAnonymous: true, includePending: true, limit: 2, offset: 2 });
      assert.deepEqual(page2.map((r) => r.id), [hybrid.id]);
      const row = page2[0]!;
      assert.equal(row.uploader_name, 'up');
      assert.equal(row.category_name_en, 'Child');
      assert.equal(row.info_hash_v2, hybrid.infoHashV2);
    });

    it('lists a parent category with its subcategories, a subcategory alone, active torrents only', async () => {
      assert.deepEqual((await listCategoryTorrents(t.db, 80301, { limit: 10 })).map((r) => r.id), [anon.id, hybrid.id]);
      assert.deepEqual((await listCategoryTorrents(t.db, 80303, { limit: 10 })).map((r) => r.id), [anon.id]);
      assert.deepEqual((await listCategoryTorrents(t.db, 80304, { limit: 10 })).map((r) => r.id), [other.id]);
      assert.deepEqual(await listCategoryTorrents(t.db, 123, { limit: 10 }), []);
    });

    it('lists the most active torrents first', async () => {
      assert.deepEqual((await listTopActive(t.db, { limit: 10 })).map((r) => r.id), [hybrid.id, anon.id, other.id]);
      assert.deepEqual((await listTopActive(t.db, { limit: 1, offset: 1 })).map((r) => r.id), [anon.id]);
    });

    it('lists torrents by id in the given order', async () => {
      assert.deepEqual((await listTorrentsByIds(t.db, [other.id, 424242, hybrid.id])).map((r) => r.id), [other.id, hybrid.id]);
      assert.deepEqual(await listTorrentsByIds(t.db, []), []);
    });

    it('lists bookmarks, newest first, with pending ones only for who may see them', async () => {
      for (const [tid, at] of [[hybrid.id, 10], [pending.id, 20], [deleted.id, 30], [other.id, 5]] as const) {
        await t.db.insertInto('bookmark').values({ user_id: reader, torrent_id: tid, created_at: at }).execute();
      }
      const ids = async (viewer: { id: number; role: 'member' | 'admin' }) => (await listBookmarkedTorrents(t.db, reader, { viewer, limit: 10 })).map((r) => r.id);
      assert.deepEqual(await ids({ id: reader, role: 'member' }), [hybrid.id, other.id]);
      assert.deepEqual(await ids({ id: reader, role: 'admin' }), [pending.id, hybrid.id, other.id]);
      const rows = await listBookmarkedTorrents(t.db, reader, { viewer: { id: reader, role: 'member' }, limit: 1 });
      assert.equal(rows[0]!.bookmarked_at, 10);
    });
  });
});

describe('torrent visibility', () => {
  const member = { id: 2, role: 'member' as const };
  const owner = { id: 1, role: 'member' as const };
  it('hides pending torrents from all but the uploader and the staff, and deleted ones from all', () => {
    assert.equal(torrentVisibility({ status: 'active', uploader_id: 1 }, null), 'visible');
    assert.equal(torrentVisibility({ status: 'pending', uploader_id: 1 }, null), 'hidden');
    assert.equal(torrentVisibility({ status: 'pending', uploader_id: 1 }, member), 'hidden');
    assert.equal(torrentVisibility({ status: 'pending', uploader_id: 1 }, owner), 'visible');
    for (const role of ['moderator', 'supermod', 'admin'] as const) assert.equal(torrentVisibility({ status: 'pending', uploader_id: 1 }, { id: 9, role }), 'visible');
    assert.equal(torrentVisibility({ status: 'pending', uploader_id: 1 }, { id: 9, role: 'uploader' }), 'hidden');
    assert.equal(torrentVisibility({ status: 'deleted', uploader_id: 1 }, { id: 9, role: 'admin' }), 'deleted');
  });
  it('shows an anonymous uploader only to themself and the staff', () => {
    assert.equal(showUploader({ anonymous: 0, uploader_id: 1 }, null), true);
    assert.equal(showUploader({ anonymous: 1, uploader_id: 1 }, null), false);
    assert.equal(showUploader({ anonymous: 1, uploader_id: 1 }, member), false);
    assert.equal(showUploader({ anonymous: 1, uploader_id: 1 }, owner), true);
    assert.equal(showUploader({ anonymous: 1, uploader_id: 1 }, { id: 9, role: 'moderator' }), true);
  });
});

describe('live counts', () => {
  const v1 = 'a'.repeat(40);
  const v2 = 'b'.repeat(64);
  const rows = [
    { info_hash_v1: v1, info_hash_v2: null, seeders: 7, leechers: 7 },
    { info_hash_v1: v1.replace(/a/g, 'c'), info_hash_v2: v2, seeders: 7, leechers: 7 },
    { info_hash_v1: null, info_hash_v2: v2.replace(/b/g, 'd'), seeders: 7, leechers: 7 },
  ];
  it('sums a hybrid torrent\'s two swarms, the v2 one under its truncated hash', () => {
    let asked: readonly string[] = [];
    const counts = liveCounts(
      {
        swarmCounts: (h) => {
          asked = h;
          return h.map((x) => ({ complete: x.startsWith('b') ? 2 : 1, incomplete: x.startsWith('c') ? 4 : 0 }));
        },
      },
      rows,
    );
    assert.deepEqual(asked, [v1, 'c'.repeat(40), 'b'.repeat(40), 'd'.repeat(40)]);
    assert.deepEqual(counts, [
      { seeders: 1, leechers: 0 },
      { seeders: 3, leechers: 4 },
      { seeders: 1, leechers: 0 },
    ]);
  });
  it('falls back to the database copy without a tracker in this process', () => {
    assert.deepEqual(liveCounts({ swarmCounts: () => null }, rows), rows.map(() => ({ seeders: 7, leechers: 7 })));
    assert.deepEqual(liveCounts({ swarmCounts: () => [] }, rows.slice(0, 1)), [{ seeders: 7, leechers: 7 }]);
    assert.deepEqual(liveCounts({ swarmCounts: () => assert.fail('not called without rows') }, []), []);
  });
  it('names the swarm keys', () => {
    assert.deepEqual(swarmKeys({ info_hash_v1: null, info_hash_v2: v2 }), ['b'.repeat(40)]);
  });
});

describe('health', () => {
  it('grades swarms by seeders, one step down when seeders are scarce for the demand', () => {
    assert.equal(healthOf(0, 0), 'dead');
    assert.equal(healthOf(0, 100), 'dead');
    assert.equal(healthOf(1, 0), 'poor');
    assert.equal(healthOf(2, 30), 'poor');
    assert.equal(healthOf(3, 0), 'fair');
    assert.equal(healthOf(3, 31), 'poor');
    assert.equal(healthOf(9, 90), 'fair');
    assert.equal(healthOf(10, 0), 'good');
    assert.equal(healthOf(375, 6), 'good');
    assert.equal(healthOf(10, 101), 'fair');
  });
});

/** Members: privacy rules, traffic totals and days, current activity, bookmarks; on every dialect. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { bencode } from '../../protocol/bencode.js';
import { forEachDialect, type TestDatabase } from '../../db/test-databases.js';
import { createUser } from '../../db/user.repository.js';
import { buildTorrent } from '../../../test/fixtures/metainfo/builders.js';
import { insertTorrent } from '../torrents/read.testing.js';
import { isBookmarked, removeBookmark, toggleBookmark } from './bookmarks.js';
import { currentActivity, dailyTraffic, hourOf, profileAccess, trafficLast24Hours } from './profile.js';

let serial = 0;
const raw = () => bencode(buildTorrent('v1', { name: `m${serial}`, files: [{ path: ['f'], size: 5000 + serial++ }] }).top);

describe('profile access', () => {
  const other = { id: 2, role: 'member' as const };
  it('follows the privacy level for other members', () => {
    assert.deepEqual(profileAccess({ id: 1, privacy: 'low' }, other), { full: false, stats: true, activity: true, uploads: true });
    assert.deepEqual(profileAccess({ id: 1, privacy: 'normal' }, other), { full: false, stats: true, activity: false, uploads: true });
    assert.deepEqual(profileAccess({ id: 1, privacy: 'strong' }, other), { full: false, stats: false, activity: false, uploads: false });
    assert.deepEqual(profileAccess({ id: 1, privacy: 'strong' }, { id: 2, role: 'uploader' }).stats, false);
  });
  it('shows everything to the member and the staff', () => {
    const all = { full: true, stats: true, activity: true, uploads: true };
    assert.deepEqual(profileAccess({ id: 1, privacy: 'strong' }, { id: 1, role: 'member' }), all);
    for (const role of ['moderator', 'supermod', 'admin'] as const) assert.deepEqual(profileAccess({ id: 1, privacy: 'strong' }, { id: 5, role }), all);
  });
});

forEachDialect((name, open) => {
  describe(`members' data (${name})`, () => {
    let t: TestDatabase;
    let uid: number;
    let otherId: number;
    // A fixed "now": 2024-01-10 12:34:56 UTC.
    const now = Date.UTC(2024, 0, 10, 12, 34, 56) / 1000;
    const h = hourOf(now);

    before(async () => {
      t = await open();
      uid = (await createUser(t.db, { username: 'm', now: 1 })).id;
      otherId = (await createUser(t.db, { username: 'o', now: 1 })).id;
      await t.db
        .insertInto('user_traffic_hour')
        .values([
          { user_id: uid, hour: h, uploaded: 5, downloaded: 1 },
          { user_id: uid, hour: h - 23, uploaded: 7, downloaded: 2 },
          { user_id: uid, hour: h - 24, uploaded: 1000, downloaded: 1000 },
          { user_id: uid, hour: h + 1, uploaded: 1000, downloaded: 1000 },
          { user_id: otherId, hour: h, uploaded: 999, downloaded: 999 },
          // 2024-01-01 (9 days before), two hours; 2023-12-11 (30 days before: outside the chart).
          { user_id: uid, hour: (h - (h % 24)) - 9 * 24, uploaded: 3_000_000_000, downloaded: 10 },
          { user_id: uid, hour: (h - (h % 24)) - 9 * 24 + 23, uploaded: 2_000_000_000, downloaded: 20 },
          { user_id: uid, hour: (h - (h % 24)) - 30 * 24, uploaded: 77, downloaded: 77 },
        ])
        .execute();
    });
    after(() => t.close());

    it('sums the last 24 hours (this hour and the 23 before)', async () => {
      assert.deepEqual(await trafficLast24Hours(t.db, uid, now), { uploaded: 12, downloaded: 3 });
      assert.deepEqual(await trafficLast24Hours(t.db, 424242, now), { uploaded: 0, downloaded: 0 });
    });

    it('sums traffic per UTC day over the last 30 days, zeros included', async () => {
      const days = await dailyTraffic(t.db, uid, now, 30);
      assert.equal(days.length, 30);
      const today = Math.floor(now / 86400);
      assert.equal(days[29]!.day, today);
      assert.equal(days[0]!.day, today - 29);
      assert.deepEqual(days[29], { day: today, uploaded: 5, downloaded: 1 }, 'the current hour counts, a later one does not');
      // Yesterday holds hour h-23 and h-24 (both fall on 2024-01-09).
      assert.deepEqual(days[28], { day: today - 1, uploaded: 1007, downloaded: 1002 });
      assert.deepEqual(days[20], { day: today - 9, uploaded: 5_000_000_000, downloaded: 30 });
      assert.equal(days.reduce((a, d) => a + d.uploaded, 0), 5 + 1007 + 5_000_000_000);
    });

    it('lists current seeding and leeching from recent announces', async () => {
      const db = t.db;
      const seed = await insertTorrent(db, { raw: raw(), uploaderId: otherId });
      const leech = await insertTorrent(db, { raw: raw(), uploaderId: otherId });
      const old = await insertTorrent(db, { raw: raw(), uploaderId: otherId });
      const pend = await insertTorrent(db, { raw: raw(), uploaderId: otherId, status: 'pending' });
      const del = await insertTorrent(db, { raw: raw(), uploaderId: otherId, status: 'deleted' });
      const row = (torrent_id: number, completed_at: number | null, last_seen_at: number) => ({ user_id: uid, torrent_id, completed_at, first_seen_at: now - 9000, last_seen_at, uploaded: 11, downloaded: 22 });
      await db
        .insertInto('user_torrent')
        .values([row(seed.id, now - 500, now - 10), row(leech.id, null, now - 20), row(old.id, now - 9000, now - 5000), row(pend.id, null, now - 5), row(del.id, now - 1, now - 1)])
        .execute();
      const a = await currentActivity(db, uid, { now, peerTimeout: 2700, includePending: false, limit: 10 });
      assert.deepEqual(a.seeding.map((r) => r.id), [seed.id]);
      assert.deepEqual(a.leeching.map((r) => r.id), [leech.id]);
      assert.equal(a.seeding[0]!.member_uploaded, 11);
      assert.equal(a.seeding[0]!.member_downloaded, 22);
      const full = await currentActivity(db, uid, { now, peerTimeout: 2700, includePending: true, limit: 10 });
      assert.deepEqual(full.leeching.map((r) => r.id), [pend.id, leech.id]);
      const wide = await currentActivity(db, uid, { now, peerTimeout: 6000, includePending: false, limit: 10 });
      assert.deepEqual(wide.seeding.map((r) => r.id), [seed.id, old.id]);
      const none = await currentActivity(db, otherId, { now, peerTimeout: 2700, includePending: true, limit: 10 });
      assert.deepEqual(none, { seeding: [], leeching: [] });
      // An uploader seeding from the start never completes: seed time without leech time is seeding;
      // leech time without completion is leeching.
      const own = await insertTorrent(db, { raw: raw(), uploaderId: otherId });
      const partial = await insertTorrent(db, { raw: raw(), uploaderId: uid });
      await db
        .insertInto('user_torrent')
        .values([
          { user_id: otherId, torrent_id: own.id, completed_at: null, first_seen_at: now - 900, last_seen_at: now - 10, seed_time: 600, leech_time: 0 },
          { user_id: otherId, torrent_id: partial.id, completed_at: null, first_seen_at: now - 900, last_seen_at: now - 10, seed_time: 0, leech_time: 600 },
        ])
        .execute();
      const uploader = await currentActivity(db, otherId, { now, peerTimeout: 2700, includePending: false, limit: 10 });
      assert.deepEqual(uploader.seeding.map((r) => r.id), [own.id]);
      assert.deepEqual(uploader.leeching.map((r) => r.id), [partial.id]);
    });

    it('toggles bookmarks', async () => {
      const tor = await insertTorrent(t.db, { raw: raw() });
      assert.equal(await isBookmarked(t.db, uid, tor.id), false);
      assert.equal(await toggleBookmark(t.db, uid, tor.id, 10), 'added');
      assert.equal(await isBookmarked(t.db, uid, tor.id), true);
      assert.equal(await isBookmarked(t.db, otherId, tor.id), false);
      assert.equal(await toggleBookmark(t.db, uid, tor.id, 11), 'removed');
      assert.equal(await isBookmarked(t.db, uid, tor.id), false);
      await toggleBookmark(t.db, uid, tor.id, 12);
      assert.equal(await removeBookmark(t.db, uid, tor.id), true);
      assert.equal(await removeBookmark(t.db, uid, tor.id), false);
      // Concurrent toggles never fail on the unique key.
      const results = await Promise.all([toggleBookmark(t.db, otherId, tor.id, 1), toggleBookmark(t.db, otherId, tor.id, 1)]);
      assert.ok(results.every((r) => r === 'added' || r === 'removed'), 'each toggle answers');
    });
  });
});

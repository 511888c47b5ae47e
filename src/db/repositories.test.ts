/**
 * The repository suite, run against every dialect of test-databases.ts: SQLite (file and memory)
 * always, PostgreSQL when ESSAIM_TEST_PG_URL is set.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { packLedgerBatch, type LedgerBatchInit, type LedgerEntry, type BaselineEntry } from '../shared/ledger-batch.js';
import { Ledger } from '../swarm/ledger.js';
import { addClientRule, listClientRules, removeClientRule } from './client-rule.repository.js';
import { DuplicateInfoHashError, DuplicateUserError, NotFoundError } from './errors.js';
import {
  applyLedgerBatch,
  forEachPeerBaselinePage,
  listUserTrafficHours,
  loadPeerBaselines,
  prunePeerBaselines,
  pruneLedgerBatches,
  pruneUserTrafficHours,
  trafficHour,
} from './ledger.repository.js';
import { migrateToLatest, migrationStatus } from './migrate.js';
import {
  deleteTorrent,
  findTorrentById,
  findTorrentByInfoHash,
  getUserTorrent,
  listTrackerTorrents,
  registerTorrent,
  setTorrentFactors,
} from './torrent.repository.js';
import type { Database } from './schema.js';
import { forEachDialect, type TestDatabase } from './test-databases.js';
import {
  countAdmins,
  createUser,
  findUserById,
  findUserByPasskey,
  findUserByUsername,
  getUserTraffic,
  listTrackerUsers,
  rotatePasskey,
  rotateRssKey,
  setUserEnabled,
} from './user.repository.js';

const TABLES = ['user', 'torrent', 'torrent_swarm', 'user_torrent', 'peer_baseline', 'client_rule', 'ledger_batch'] as const;

/** Every column of every table of schema.ts; the compiler checks this list is exact. */
const COLUMNS: { [T in keyof Database]: Record<keyof Database[T], true> } = {
  user: {
    id: true, username: true, email: true, password_hash: true, passkey: true, rss_key: true, role: true, enabled: true,
    disabled_reason: true, uploaded: true, downloaded: true, raw_uploaded: true, raw_downloaded: true, seed_time: true,
    leech_time: true, created_at: true, updated_at: true, privacy: true, locale: true, title: true, totp_secret: true,
    totp_enabled: true, email_verified: true, last_login_at: true, last_seen_at: true, class: true, invited_by: true,
    invites_left: true, freeleech_tokens: true, ratio_watch_since: true, download_refused: true, download_refused_reason: true,
    deleted_at: true, profile_text: true, totp_last_step: true,
  },
  torrent: {
    id: true, name: true, info_hash_v1: true, info_hash_v2: true, size: true, status: true, deleted_reason: true,
    deleted_at: true, upload_factor: true, download_factor: true, uploader_id: true, times_completed: true, created_at: true,
    slug: true, category_id: true, description: true, description_format: true, nfo: true, anonymous: true, verified: true,
    file_count: true, comment_count: true, seeders: true, leechers: true, updated_at: true, factors_until: true,
    moderated_by: true, moderated_at: true, moderation_note: true, merged_into: true, thanks_count: true, rating_sum: true,
    rating_count: true,
  },
  torrent_swarm: { info_hash: true, torrent_id: true, version: true },
  user_torrent: {
    user_id: true, torrent_id: true, uploaded: true, downloaded: true, raw_uploaded: true, raw_downloaded: true,
    seed_time: true, leech_time: true, announces: true, completed_at: true, first_seen_at: true, last_seen_at: true,
  },
  peer_baseline: { user_id: true, torrent_id: true, peer_id: true, uploaded: true, downloaded: true, updated_at: true },
  client_rule: { id: true, prefix: true, action: true, note: true, created_at: true },
  ledger_batch: { id: true, applied_at: true },
  category: { id: true, parent_id: true, slug: true, icon: true, name_en: true, name_fr: true, position: true, adult: true },
  term_type: { id: true, name_en: true, name_fr: true, mode: true, position: true, deprecated: true },
  category_term_type: { category_id: true, term_type_id: true, position: true },
  term: { id: true, term_type_id: true, name_en: true, name_fr: true, position: true, deprecated: true },
  torrent_metainfo: { torrent_id: true, data: true },
  torrent_file: { torrent_id: true, idx: true, path: true, size: true },
  torrent_term: { torrent_id: true, term_id: true, term_type_id: true },
  session: { id: true, user_id: true, persistent: true, created_at: true, last_seen_at: true, expires_at: true, ip: true, user_agent: true },
  api_token: { id: true, user_id: true, kind: true, name: true, token_hash: true, hint: true, scopes: true, created_at: true, last_used_at: true, expires_at: true, revoked_at: true },
  newznab_category: { category_id: true, newznab_id: true },
  job_lease: { name: true, holder: true, expires_at: true },
  auth_token: { token_hash: true, purpose: true, user_id: true, data: true, created_at: true, expires_at: true, used_at: true },
  recovery_code: { user_id: true, code_hash: true, used_at: true },
  bookmark: { id: true, user_id: true, torrent_id: true, created_at: true },
  saved_search: { id: true, user_id: true, name: true, query: true, created_at: true },
  search_history: { id: true, user_id: true, query: true, created_at: true },
  user_traffic_hour: { user_id: true, hour: true, uploaded: true, downloaded: true },
  site_setting: { key: true, value: true, updated_at: true },
  member_class: { id: true, name_en: true, name_fr: true, position: true, min_uploaded: true, min_ratio: true, min_age_days: true, invites_per_month: true, hnr_immune: true },
  role_permission: { role: true, permission: true },
  user_permission: { user_id: true, permission: true, granted: true },
  invite: { id: true, inviter_id: true, code_hash: true, email: true, created_at: true, expires_at: true, used_by: true, used_at: true, revoked_at: true },
  application: { id: true, username: true, email: true, password_hash: true, answers: true, status: true, reviewer_id: true, review_note: true, ip: true, created_at: true, decided_at: true },
  refused_email_domain: { domain: true, created_at: true },
  login_ip: { user_id: true, ip: true, first_at: true, last_at: true, signup: true },
  ip_ban: { id: true, cidr: true, reason: true, created_by: true, created_at: true, expires_at: true },
  user_warning: { id: true, user_id: true, kind: true, reason: true, created_by: true, created_at: true, expires_at: true, revoked_at: true, revoked_by: true },
  freeleech_window: { id: true, starts_at: true, ends_at: true, upload_factor: true, download_factor: true, reason: true, created_by: true, created_at: true },
  freeleech_token_use: { user_id: true, torrent_id: true, created_at: true, expires_at: true },
  hnr: { user_id: true, torrent_id: true, completed_at: true, deadline: true, status: true, updated_at: true },
  report: { id: true, target_type: true, target_id: true, reporter_id: true, reason: true, status: true, claimed_by: true, resolution: true, created_at: true, updated_at: true },
  report_note: { id: true, report_id: true, author_id: true, body: true, created_at: true },
  audit_log: { id: true, created_at: true, actor_id: true, actor_name: true, action: true, target_type: true, target_id: true, reason: true, before: true, after: true, prev_hash: true, hash: true },
  notification: { id: true, user_id: true, kind: true, data: true, created_at: true, read_at: true },
  infohash_block: { info_hash: true, reason: true, notice_id: true, created_by: true, created_at: true },
  notice: { id: true, claimant: true, contact: true, works: true, statement: true, status: true, source: true, reviewer_id: true, decision_note: true, created_at: true, decided_at: true },
  notice_item: { notice_id: true, idx: true, given: true, torrent_id: true, info_hash: true, uploader_id: true },
  counter_notice: { id: true, notice_id: true, user_id: true, statement: true, status: true, created_at: true, decided_at: true },
  comment: { id: true, torrent_id: true, user_id: true, body: true, format: true, created_at: true, edited_at: true, deleted_at: true, deleted_by: true },
  thanks: { torrent_id: true, user_id: true, created_at: true },
  rating: { torrent_id: true, user_id: true, score: true, created_at: true },
  request: { id: true, user_id: true, title: true, description: true, category_id: true, status: true, bounty: true, filled_torrent_id: true, filled_by: true, filled_at: true, confirmed_at: true, created_at: true },
  request_bounty: { id: true, request_id: true, user_id: true, amount: true, created_at: true },
  message: { id: true, sender_id: true, recipient_id: true, subject: true, body: true, reply_to: true, created_at: true, read_at: true, recipient_archived: true, recipient_deleted: true, sender_deleted: true },
  friend: { user_id: true, friend_id: true, created_at: true },
  news: { id: true, author_id: true, title: true, body: true, locale: true, created_at: true, updated_at: true },
  contact_message: { id: true, user_id: true, email: true, subject: true, body: true, status: true, created_at: true },
};
const MIGRATIONS = ['0001_initial', '0002_site', '0003_completed_index', '0004_community', '0005_api'];

let seq = 0;
/** A distinct 40-hex string per call (info hashes, peer ids). */
function hex40(): string {
  return (++seq).toString(16).padStart(8, '0').repeat(5);
}
function hex64(): string {
  return (++seq).toString(16).padStart(8, '0').repeat(8);
}

function entry(userId: number, torrentId: number, over: Partial<LedgerEntry> = {}): LedgerEntry {
  return {
    userId,
    torrentId,
    uploaded: 100,
    downloaded: 50,
    rawUploaded: 200,
    rawDownloaded: 60,
    seedTime: 30,
    leechTime: 10,
    announces: 2,
    completions: 0,
    completedAt: null,
    firstSeenAt: 1000,
    lastSeenAt: 1100,
    ...over,
  };
}

function baseline(userId: number, torrentId: number, peerId: string, over: Partial<BaselineEntry> = {}): BaselineEntry {
  return { userId, torrentId, peerId, uploaded: 10, downloaded: 20, updatedAt: 1000, removed: false, ...over };
}

let batchSeq = 0;
function batch(entries: LedgerEntry[], baselines: BaselineEntry[] = [], id = `batch-${++batchSeq}`): LedgerBatchInit {
  return { id, entries, baselines };
}

forEachDialect((name, open) => {
  describe(`migrations (${name})`, () => {
    it('migrate an empty database, and a second run does nothing', async () => {
      const t = await open({ migrate: false });
      try {
        assert.deepEqual(await migrateToLatest(t.db), MIGRATIONS);
        assert.deepEqual(await migrateToLatest(t.db), []);
        const status = await migrationStatus(t.db);
        assert.deepEqual(
          status.map((s) => s.name),
          MIGRATIONS,
        );
        assert.ok(status.every((s) => s.executedAt instanceof Date));
        for (const table of TABLES) {
          assert.deepEqual(await t.db.selectFrom(table).selectAll().execute(), [], table);
        }
      } finally {
        await t.close();
      }
    });

    it('build the tables and columns that schema.ts declares', async () => {
      const t = await open();
      try {
        let tables: Array<{ name: string; columns: string[] }>;
        if (t.dialect === 'postgres') {
          // This schema's tables only, from the catalogue: Kysely's introspector reads every schema
          // and fails when another test drops one meanwhile (see migrate.ts).
          const r = await sql<{ t: string; c: string }>`
            select c.relname as t, a.attname as c
            from pg_catalog.pg_attribute a
            join pg_catalog.pg_class c on c.oid = a.attrelid
            join pg_catalog.pg_namespace n on n.oid = c.relnamespace
            where n.nspname = current_schema() and c.relkind in ('r', 'p') and a.attnum > 0 and not a.attisdropped
              and c.relname not like 'kysely_migration%'`.execute(t.db);
          const by = new Map<string, string[]>();
          for (const row of r.rows) by.set(row.t, [...(by.get(row.t) ?? []), row.c]);
          tables = [...by].map(([name, columns]) => ({ name, columns }));
        } else {
          tables = (await t.db.introspection.getTables()).map((x) => ({ name: x.name, columns: x.columns.map((c) => c.name) }));
        }
        // The full-text index is dialect-specific (an FTS5 virtual table with its shadow tables on
        // SQLite, a tsvector table on PostgreSQL) and reached through raw SQL only.
        tables = tables.filter((x) => !x.name.startsWith('torrent_search'));
        const actual = Object.fromEntries(tables.map((x) => [x.name, [...x.columns].sort()]));
        const expected = Object.fromEntries(Object.entries(COLUMNS).map(([name, cols]) => [name, Object.keys(cols).sort()]));
        assert.deepEqual(actual, expected);
      } finally {
        await t.close();
      }
    });
  });

  describe(`repositories (${name})`, () => {
    let t: TestDatabase;
    before(async () => {
      t = await open();
    });
    after(async () => {
      await t.close();
    });

    async function newUser(prefix = 'u'): Promise<number> {
      return (await createUser(t.db, { username: `${prefix}${++seq}`, now: 1000 })).id;
    }
    async function newTorrent(): Promise<number> {
      return (await registerTorrent(t.db, { name: `t${++seq}`, infoHashV1: hex40(), now: 1000 })).id;
    }

    describe('users', () => {
      it('creates a member with fresh keys and finds them', async () => {
        const { id, passkey, rssKey } = await createUser(t.db, {
          username: 'Alice',
          email: 'alice@example.org',
          passwordHash: 'hash',
          now: 1234,
        });
        assert.match(passkey, /^[0-9a-f]{32}$/);
        assert.match(rssKey, /^[0-9a-f]{32}$/);
        assert.notEqual(passkey, rssKey);
        const u = await findUserByUsername(t.db, 'Alice');
        assert.ok(u);
        assert.equal(u.id, id);
        assert.equal(u.email, 'alice@example.org');
        assert.equal(u.password_hash, 'hash');
        assert.equal(u.role, 'member');
        assert.equal(u.enabled, 1);
        assert.equal(u.created_at, 1234);
        assert.equal(u.updated_at, 1234);
        assert.equal(u.uploaded, 0);
        assert.equal((await findUserByUsername(t.db, 'alice'))?.id, id, 'usernames are found regardless of case');
        assert.equal((await findUserById(t.db, id))?.username, 'Alice');
        assert.equal((await findUserByPasskey(t.db, passkey))?.id, id);
        assert.equal(await findUserByUsername(t.db, 'nobody'), undefined);
        assert.equal(await findUserById(t.db, 999_999), undefined);
      });

      it('refuses a taken username (any case) or email', async () => {
        await createUser(t.db, { username: 'bob', email: 'bob@example.org', now: 1 });
        for (const username of ['bob', 'BOB']) {
          await assert.rejects(createUser(t.db, { username, now: 1 }), (err: unknown) => {
            assert.ok(err instanceof DuplicateUserError);
            assert.equal(err.field, 'username');
            return true;
          });
        }
        await assert.rejects(createUser(t.db, { username: 'bob2', email: 'bob@example.org', now: 1 }), (err: unknown) => {
          assert.ok(err instanceof DuplicateUserError);
          assert.equal(err.field, 'email');
          return true;
        });
        // Several members without email are fine.
        await createUser(t.db, { username: 'noemail1', now: 1 });
        await createUser(t.db, { username: 'noemail2', now: 1 });
      });

      it('rotates the passkey', async () => {
        const { id, passkey } = await createUser(t.db, { username: 'carol', now: 1 });
        const fresh = await rotatePasskey(t.db, id, 2000);
        assert.match(fresh, /^[0-9a-f]{32}$/);
        assert.notEqual(fresh, passkey);
        assert.equal(await findUserByPasskey(t.db, passkey), undefined);
        const u = await findUserById(t.db, id);
        assert.equal(u?.passkey, fresh);
        assert.equal(u?.updated_at, 2000);
        await assert.rejects(rotatePasskey(t.db, 999_999, 2000), NotFoundError);
        const rss = await rotateRssKey(t.db, id, 2001);
        assert.match(rss, /^[0-9a-f]{32}$/);
        assert.equal((await findUserById(t.db, id))?.rss_key, rss);
      });

      it('disables and enables members, as the tracker sees them', async () => {
        const { id, passkey } = await createUser(t.db, { username: 'dave', now: 1 });
        assert.equal(await setUserEnabled(t.db, id, false, 'ratio too low', 3000), true);
        let mine = (await listTrackerUsers(t.db)).find((u) => u.id === id);
        assert.deepEqual(mine, { id, passkey, enabled: false, disabledReason: 'ratio too low', downloadRefused: null });
        assert.equal((await findUserById(t.db, id))?.updated_at, 3000);
        await setUserEnabled(t.db, id, true, 'ignored', 3001);
        mine = (await listTrackerUsers(t.db)).find((u) => u.id === id);
        assert.deepEqual(mine, { id, passkey, enabled: true, disabledReason: null, downloadRefused: null });
        assert.equal(await setUserEnabled(t.db, 999_999, true, null, 1), false);
      });

      it('counts admins', async () => {
        const before = await countAdmins(t.db);
        const { id } = await createUser(t.db, { username: 'root1', role: 'admin', now: 1 });
        await createUser(t.db, { username: 'root2', role: 'admin', now: 1 });
        await createUser(t.db, { username: 'mod1', role: 'moderator', now: 1 });
        assert.equal(await countAdmins(t.db), before + 2);
        await setUserEnabled(t.db, id, false, 'left', 2);
        assert.equal(await countAdmins(t.db), before + 2);
        assert.equal(await countAdmins(t.db, { enabledOnly: true }), before + 1);
      });

      it('refuses an unknown role', async () => {
        await assert.rejects(createUser(t.db, { username: 'eve', role: 'god' as never, now: 1 }));
      });

      it('reports traffic totals', async () => {
        const id = await newUser();
        assert.deepEqual(await getUserTraffic(t.db, id), {
          uploaded: 0,
          downloaded: 0,
          rawUploaded: 0,
          rawDownloaded: 0,
          seedTime: 0,
          leechTime: 0,
        });
        await assert.rejects(getUserTraffic(t.db, 999_999), NotFoundError);
      });
    });

    describe('torrents', () => {
      it('registers a v1 torrent with one swarm', async () => {
        const h = hex40();
        const uploader = await newUser();
        const { id } = await registerTorrent(t.db, { name: 'v1', infoHashV1: h.toUpperCase(), size: 1234, uploaderId: uploader, now: 5 });
        const tor = await findTorrentByInfoHash(t.db, h);
        assert.ok(tor);
        assert.equal(tor.id, id);
        assert.equal(tor.info_hash_v1, h, 'stored lowercase');
        assert.equal(tor.info_hash_v2, null);
        assert.equal(tor.size, 1234);
        assert.equal(tor.status, 'active');
        assert.equal(tor.upload_factor, 1);
        assert.equal(tor.download_factor, 1);
        assert.equal(tor.uploader_id, uploader);
        assert.equal(tor.times_completed, 0);
        assert.equal(tor.created_at, 5);
        assert.equal((await findTorrentByInfoHash(t.db, h.toUpperCase()))?.id, id);
        const swarms = await t.db.selectFrom('torrent_swarm').selectAll().where('torrent_id', '=', id).execute();
        assert.deepEqual(swarms, [{ info_hash: h, torrent_id: id, version: 1 }]);
      });

      it('registers a v2-only torrent under its truncated hash', async () => {
        const v2 = hex64();
        const { id } = await registerTorrent(t.db, { name: 'v2', infoHashV2: v2, now: 5 });
        const swarms = await t.db.selectFrom('torrent_swarm').selectAll().where('torrent_id', '=', id).execute();
        assert.deepEqual(swarms, [{ info_hash: v2.slice(0, 40), torrent_id: id, version: 2 }]);
        assert.equal((await findTorrentByInfoHash(t.db, v2.slice(0, 40)))?.info_hash_v2, v2);
      });

      it('registers a hybrid torrent with two swarms', async () => {
        const v1 = hex40();
        const v2 = hex64();
        const { id } = await registerTorrent(t.db, { name: 'hybrid', infoHashV1: v1, infoHashV2: v2, now: 5 });
        const swarms = await t.db
          .selectFrom('torrent_swarm')
          .selectAll()
          .where('torrent_id', '=', id)
          .orderBy('version')
          .execute();
        assert.deepEqual(swarms, [
          { info_hash: v1, torrent_id: id, version: 1 },
          { info_hash: v2.slice(0, 40), torrent_id: id, version: 2 },
        ]);
        assert.equal((await findTorrentByInfoHash(t.db, v1))?.id, id);
        assert.equal((await findTorrentByInfoHash(t.db, v2.slice(0, 40)))?.id, id);
        const listed = (await listTrackerTorrents(t.db, { deletedSince: 0 })).filter((r) => r.torrentId === id);
        assert.equal(listed.length, 2);
      });

      it('refuses a duplicate info hash, naming the existing torrent', async () => {
        const v1 = hex40();
        const v2 = hex64();
        const { id } = await registerTorrent(t.db, { name: 'orig', infoHashV1: v1, infoHashV2: v2, now: 5 });
        const count = async () => Number((await t.db.selectFrom('torrent').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
        const n = await count();
        for (const input of [{ infoHashV1: v1 }, { infoHashV2: v2 }, { infoHashV1: hex40(), infoHashV2: v2 }, { infoHashV1: v2.slice(0, 40) }]) {
          await assert.rejects(registerTorrent(t.db, { name: 'dup', ...input, now: 6 }), (err: unknown) => {
            assert.ok(err instanceof DuplicateInfoHashError);
            assert.equal(err.torrentId, id);
            return true;
          });
        }
        assert.equal(await count(), n, 'nothing was inserted');
      });

      it('refuses malformed info hashes', async () => {
        await assert.rejects(registerTorrent(t.db, { name: 'x', now: 1 }), TypeError);
        await assert.rejects(registerTorrent(t.db, { name: 'x', infoHashV1: 'abc', now: 1 }), TypeError);
        await assert.rejects(registerTorrent(t.db, { name: 'x', infoHashV2: hex40(), now: 1 }), TypeError);
        await assert.rejects(registerTorrent(t.db, { name: 'x', infoHashV1: 'g'.repeat(40), now: 1 }), TypeError);
      });

      it('deletes torrents; the tracker keeps seeing them until deletedSince passes', async () => {
        const h1 = hex40();
        const h2 = hex40();
        const h3 = hex40();
        const active = (await registerTorrent(t.db, { name: 'a', infoHashV1: h1, now: 5 })).id;
        const pending = (await registerTorrent(t.db, { name: 'p', infoHashV1: h2, status: 'pending', now: 5 })).id;
        const gone = (await registerTorrent(t.db, { name: 'd', infoHashV1: h3, now: 5 })).id;
        assert.equal(await deleteTorrent(t.db, gone, 'dupe of #1', 50_000), true);
        assert.equal(await deleteTorrent(t.db, gone, 'other reason', 60_000), false, 'already deleted');
        const d = await findTorrentById(t.db, gone);
        assert.equal(d?.status, 'deleted');
        assert.equal(d?.deleted_reason, 'dupe of #1');
        assert.equal(d?.deleted_at, 50_000);
        assert.equal((await findTorrentByInfoHash(t.db, h3))?.id, gone, 'still found by hash');

        const mine = (rows: Awaited<ReturnType<typeof listTrackerTorrents>>) =>
          rows.filter((r) => [active, pending, gone].includes(r.torrentId)).sort((a, b) => a.torrentId - b.torrentId);
        assert.deepEqual(mine(await listTrackerTorrents(t.db, { deletedSince: 50_000 })), [
          { torrentId: active, infoHash: h1, status: 'active', deletedReason: null, deletedAt: null, uploadFactor: 1, downloadFactor: 1, factorsUntil: null },
          { torrentId: pending, infoHash: h2, status: 'pending', deletedReason: null, deletedAt: null, uploadFactor: 1, downloadFactor: 1, factorsUntil: null },
          { torrentId: gone, infoHash: h3, status: 'deleted', deletedReason: 'dupe of #1', deletedAt: 50_000, uploadFactor: 1, downloadFactor: 1, factorsUntil: null },
        ]);
        assert.deepEqual(
          mine(await listTrackerTorrents(t.db, { deletedSince: 50_001 })).map((r) => r.torrentId),
          [active, pending],
        );
        assert.equal(await deleteTorrent(t.db, 999_999, 'x', 1), false);
      });

      it('sets factors', async () => {
        const h = hex40();
        const { id } = await registerTorrent(t.db, { name: 'f', infoHashV1: h, now: 5 });
        assert.equal(await setTorrentFactors(t.db, id, 2, 0.5), true);
        const row = (await listTrackerTorrents(t.db, { deletedSince: 0 })).find((r) => r.infoHash === h);
        assert.equal(row?.uploadFactor, 2);
        assert.equal(row?.downloadFactor, 0.5);
        await setTorrentFactors(t.db, id, 1.1, 0);
        const again = await findTorrentById(t.db, id);
        assert.equal(again?.upload_factor, 1.1, 'double precision on both dialects');
        assert.equal(again?.download_factor, 0);
        assert.equal(await setTorrentFactors(t.db, 999_999, 1, 1), false);
        await assert.rejects(setTorrentFactors(t.db, id, -1, 1), TypeError);
      });
    });

    describe('ledger', () => {
      it('adds each batch to the member and the (member, torrent) row', async () => {
        const u = await newUser();
        const tor = await newTorrent();
        assert.equal(await getUserTorrent(t.db, u, tor), undefined);
        assert.deepEqual(await applyLedgerBatch(t.db, batch([entry(u, tor)]), 1100), { applied: true });
        assert.deepEqual(await getUserTorrent(t.db, u, tor), {
          user_id: u,
          torrent_id: tor,
          uploaded: 100,
          downloaded: 50,
          raw_uploaded: 200,
          raw_downloaded: 60,
          seed_time: 30,
          leech_time: 10,
          announces: 2,
          completed_at: null,
          first_seen_at: 1000,
          last_seen_at: 1100,
        });
        const second = entry(u, tor, { uploaded: 1, downloaded: 2, rawUploaded: 3, rawDownloaded: 4, seedTime: 5, leechTime: 6, announces: 1, firstSeenAt: 1200, lastSeenAt: 1300 });
        assert.deepEqual(await applyLedgerBatch(t.db, batch([second])), { applied: true });
        assert.deepEqual(await getUserTorrent(t.db, u, tor), {
          user_id: u,
          torrent_id: tor,
          uploaded: 101,
          downloaded: 52,
          raw_uploaded: 203,
          raw_downloaded: 64,
          seed_time: 35,
          leech_time: 16,
          announces: 3,
          completed_at: null,
          first_seen_at: 1000,
          last_seen_at: 1300,
        });
        assert.deepEqual(await getUserTraffic(t.db, u), {
          uploaded: 101,
          downloaded: 52,
          rawUploaded: 203,
          rawDownloaded: 64,
          seedTime: 35,
          leechTime: 16,
        });
      });

      it('keeps the later last_seen_at and the first first_seen_at', async () => {
        const u = await newUser();
        const tor = await newTorrent();
        await applyLedgerBatch(t.db, batch([entry(u, tor, { firstSeenAt: 500, lastSeenAt: 900 })]));
        await applyLedgerBatch(t.db, batch([entry(u, tor, { firstSeenAt: 100, lastSeenAt: 800 })]));
        const row = await getUserTorrent(t.db, u, tor);
        assert.equal(row?.first_seen_at, 500);
        assert.equal(row?.last_seen_at, 900);
      });

      it('sums the member totals over several torrents', async () => {
        const u = await newUser();
        const [a, b] = [await newTorrent(), await newTorrent()];
        await applyLedgerBatch(t.db, batch([entry(u, a), entry(u, b, { uploaded: 7 })]));
        assert.equal((await getUserTraffic(t.db, u))?.uploaded, 107);
        assert.equal((await getUserTraffic(t.db, u))?.seedTime, 60);
      });

      it('merges entries of the same member and torrent within a batch', async () => {
        const u = await newUser();
        const tor = await newTorrent();
        await applyLedgerBatch(
          t.db,
          batch([
            entry(u, tor, { firstSeenAt: 900, lastSeenAt: 950, completions: 1, completedAt: 940 }),
            entry(u, tor, { firstSeenAt: 1000, lastSeenAt: 1100, completions: 1, completedAt: 1050 }),
          ]),
        );
        const row = await getUserTorrent(t.db, u, tor);
        assert.equal(row?.uploaded, 200);
        assert.equal(row?.announces, 4);
        assert.equal(row?.first_seen_at, 900);
        assert.equal(row?.last_seen_at, 1100);
        assert.equal(row?.completed_at, 940);
        assert.equal((await findTorrentById(t.db, tor))?.times_completed, 1);
      });

      it('skips a batch whose id was already applied', async () => {
        const u = await newUser();
        const tor = await newTorrent();
        const b = batch([entry(u, tor, { completions: 1, completedAt: 1050 })], [baseline(u, tor, hex40())]);
        assert.deepEqual(await applyLedgerBatch(t.db, b), { applied: true });
        const snapshot = async () => ({
          ut: await getUserTorrent(t.db, u, tor),
          traffic: await getUserTraffic(t.db, u),
          torrent: await findTorrentById(t.db, tor),
        });
        const first = await snapshot();
        assert.deepEqual(await applyLedgerBatch(t.db, b), { applied: false });
        assert.deepEqual(await applyLedgerBatch(t.db, { ...b, entries: [entry(u, tor, { uploaded: 1e6 })] }), { applied: false });
        assert.deepEqual(await snapshot(), first);
      });

      it('counts a snatch once per member', async () => {
        const [alice, bob] = [await newUser(), await newUser()];
        const tor = await newTorrent();
        const times = async () => (await findTorrentById(t.db, tor))?.times_completed;
        await applyLedgerBatch(t.db, batch([entry(alice, tor)]));
        assert.equal(await times(), 0);
        await applyLedgerBatch(t.db, batch([entry(alice, tor, { completions: 1, completedAt: 2000 })]));
        assert.equal(await times(), 1);
        assert.equal((await getUserTorrent(t.db, alice, tor))?.completed_at, 2000);
        // Alice completes again (re-download): neither the count nor her date change.
        await applyLedgerBatch(t.db, batch([entry(alice, tor, { completions: 2, completedAt: 3000 })]));
        assert.equal(await times(), 1);
        assert.equal((await getUserTorrent(t.db, alice, tor))?.completed_at, 2000);
        // Bob's first announce is his completion; and Alice's again in the same batch.
        await applyLedgerBatch(
          t.db,
          batch([entry(bob, tor, { completions: 1, completedAt: 4000 }), entry(alice, tor, { completions: 1, completedAt: 4000 })]),
        );
        assert.equal(await times(), 2);
        assert.equal((await getUserTorrent(t.db, bob, tor))?.completed_at, 4000);
      });

      it('a completion without a date takes the last-seen time', async () => {
        const u = await newUser();
        const tor = await newTorrent();
        await applyLedgerBatch(t.db, batch([entry(u, tor, { completions: 1, completedAt: null, lastSeenAt: 7777 })]));
        assert.equal((await getUserTorrent(t.db, u, tor))?.completed_at, 7777);
        assert.equal((await findTorrentById(t.db, tor))?.times_completed, 1);
      });

      it('sets, replaces and removes peer baselines', async () => {
        const u = await newUser();
        const tor = await newTorrent();
        const [p1, p2] = [hex40(), hex40()];
        await applyLedgerBatch(t.db, batch([], [baseline(u, tor, p1, { uploaded: 5, downloaded: 6, updatedAt: 10_000 }), baseline(u, tor, p2, { updatedAt: 10_000 })]));
        const mine = async (since = 0) => (await loadPeerBaselines(t.db, since)).filter((b) => b.userId === u);
        assert.deepEqual(await mine(), [
          { userId: u, torrentId: tor, peerId: p1, uploaded: 5, downloaded: 6, updatedAt: 10_000 },
          { userId: u, torrentId: tor, peerId: p2, uploaded: 10, downloaded: 20, updatedAt: 10_000 },
        ].sort((a, b) => a.peerId.localeCompare(b.peerId)));
        // Set, not added; p2 stopped.
        await applyLedgerBatch(
          t.db,
          batch([], [baseline(u, tor, p1, { uploaded: 50, downloaded: 60, updatedAt: 11_000 }), baseline(u, tor, p2, { removed: true })]),
        );
        assert.deepEqual(await mine(), [{ userId: u, torrentId: tor, peerId: p1, uploaded: 50, downloaded: 60, updatedAt: 11_000 }]);
        assert.deepEqual(await mine(11_001), []);
        // Within one batch, the last word on a peer wins.
        await applyLedgerBatch(t.db, batch([], [baseline(u, tor, p1, { removed: true }), baseline(u, tor, p1, { uploaded: 70, updatedAt: 12_000 })]));
        assert.equal((await mine())[0]?.uploaded, 70);
        await applyLedgerBatch(t.db, batch([], [baseline(u, tor, p1, { uploaded: 80, updatedAt: 13_000 }), baseline(u, tor, p1, { removed: true })]));
        assert.deepEqual(await mine(), []);
        // Removing a baseline that does not exist is fine.
        await applyLedgerBatch(t.db, batch([], [baseline(u, tor, hex40(), { removed: true })]));
      });

      it('prunes old baselines and batch ids', async () => {
        const u = await newUser();
        const tor = await newTorrent();
        const [old, recent] = [hex40(), hex40()];
        await applyLedgerBatch(t.db, batch([], [baseline(u, tor, old, { updatedAt: 100 }), baseline(u, tor, recent, { updatedAt: 1_000_000_000 })]), 100);
        assert.ok((await prunePeerBaselines(t.db, 1_000_000_000)) >= 1);
        const left = (await loadPeerBaselines(t.db, 0)).filter((b) => b.userId === u).map((b) => b.peerId);
        assert.deepEqual(left, [recent]);
        const id = `prune-${++batchSeq}`;
        await applyLedgerBatch(t.db, batch([], [], id), 50);
        assert.ok((await pruneLedgerBatches(t.db, 51)) >= 1);
        assert.deepEqual(await applyLedgerBatch(t.db, batch([], [], id), 60), { applied: true }, 'a pruned id is forgotten');
      });

      it('writes nothing when any part of a batch fails', async () => {
        const u = await newUser();
        const tor = await newTorrent();
        const b = batch([entry(u, tor), entry(u, 999_999)], [baseline(u, tor, hex40())]);
        await assert.rejects(applyLedgerBatch(t.db, b));
        assert.equal(await getUserTorrent(t.db, u, tor), undefined);
        assert.equal((await getUserTraffic(t.db, u))?.uploaded, 0);
        assert.deepEqual((await loadPeerBaselines(t.db, 0)).filter((x) => x.userId === u), []);
        const claimed = await t.db.selectFrom('ledger_batch').select('id').where('id', '=', b.id).executeTakeFirst();
        assert.equal(claimed, undefined, 'the batch id is not recorded, so a retry can apply it');
      });

      it("joins the caller's transaction", async () => {
        const u = await newUser();
        const tor = await newTorrent();
        await assert.rejects(
          t.db.transaction().execute(async (trx) => {
            assert.deepEqual(await applyLedgerBatch(trx, batch([entry(u, tor)])), { applied: true });
            throw new Error('roll back');
          }),
          /roll back/,
        );
        assert.equal(await getUserTorrent(t.db, u, tor), undefined);
        await t.db.transaction().execute(async (trx) => {
          await applyLedgerBatch(trx, batch([entry(u, tor)]));
        });
        assert.equal((await getUserTorrent(t.db, u, tor))?.uploaded, 100);
      });

      it('returns numbers above 2^32 exactly', async () => {
        const big = 2 ** 40 + 12_345;
        const u = await newUser();
        const { id: tor } = await registerTorrent(t.db, { name: 'big', infoHashV1: hex40(), size: 2 ** 45 + 3, now: 2 ** 33 });
        const peer = hex40();
        const e = entry(u, tor, { uploaded: big, downloaded: big + 1, rawUploaded: big * 2, rawDownloaded: 5e12, seedTime: 2 ** 33, firstSeenAt: 2 ** 33, lastSeenAt: 2 ** 33 + 1 });
        await applyLedgerBatch(t.db, batch([e], [baseline(u, tor, peer, { uploaded: 2 ** 50 + 1, downloaded: 2 ** 35, updatedAt: 2 ** 33 })]));
        await applyLedgerBatch(t.db, batch([e]));
        const row = await getUserTorrent(t.db, u, tor);
        assert.equal(row?.uploaded, 2 * big);
        assert.equal(row?.downloaded, 2 * (big + 1));
        assert.equal(row?.raw_uploaded, 4 * big);
        assert.equal(row?.raw_downloaded, 1e13);
        assert.equal(row?.seed_time, 2 ** 34);
        assert.equal(row?.first_seen_at, 2 ** 33);
        assert.equal(row?.last_seen_at, 2 ** 33 + 1);
        assert.equal(typeof row?.uploaded, 'number');
        assert.deepEqual(await getUserTraffic(t.db, u), {
          uploaded: 2 * big,
          downloaded: 2 * (big + 1),
          rawUploaded: 4 * big,
          rawDownloaded: 1e13,
          seedTime: 2 ** 34,
          leechTime: 20,
        });
        const torrent = await findTorrentById(t.db, tor);
        assert.equal(torrent?.size, 2 ** 45 + 3);
        assert.equal(torrent?.created_at, 2 ** 33);
        const [b] = (await loadPeerBaselines(t.db, 2 ** 33)).filter((x) => x.peerId === peer);
        assert.deepEqual(b, { userId: u, torrentId: tor, peerId: peer, uploaded: 2 ** 50 + 1, downloaded: 2 ** 35, updatedAt: 2 ** 33 });
        const counted = await t.db.selectFrom('user').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
        assert.equal(typeof counted.n, 'number', 'count(*) is a number too');
      });

      it('applies batches larger than one statement can bind', async () => {
        const users: number[] = [];
        for (let i = 0; i < 60; i++) users.push(await newUser('bulk'));
        const torrents: number[] = [];
        for (let i = 0; i < 50; i++) torrents.push(await newTorrent());
        const entries: LedgerEntry[] = [];
        const baselines: BaselineEntry[] = [];
        for (const u of users) {
          for (const tor of torrents) {
            entries.push(entry(u, tor, { uploaded: u, completions: 1, completedAt: 5000 }));
            baselines.push(baseline(u, tor, hex40()));
          }
        }
        assert.equal(entries.length, 3000);
        assert.deepEqual(await applyLedgerBatch(t.db, batch(entries, baselines)), { applied: true });
        for (const u of [users[0]!, users[59]!]) {
          assert.equal((await getUserTraffic(t.db, u))?.uploaded, 50 * u);
        }
        for (const tor of [torrents[0]!, torrents[49]!]) {
          assert.equal((await findTorrentById(t.db, tor))?.times_completed, 60);
        }
        const n = await t.db
          .selectFrom('peer_baseline')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('user_id', 'in', users)
          .executeTakeFirstOrThrow();
        assert.equal(Number(n.n), 3000);
        await applyLedgerBatch(t.db, batch([], baselines.map((b) => ({ ...b, removed: true }))));
        const left = await t.db
          .selectFrom('peer_baseline')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('user_id', 'in', users)
          .executeTakeFirstOrThrow();
        assert.equal(Number(left.n), 0);
      });
    });

    describe('hourly traffic', () => {
      const H = 480_000; // an hour number (2024-10)
      it("adds each member's credited traffic of a batch to the row of its hour, one row per member", async () => {
        const [u, v] = [await newUser(), await newUser()];
        const [a, b] = [await newTorrent(), await newTorrent()];
        const at = H * 3600 + 10;
        await applyLedgerBatch(
          t.db,
          batch([
            entry(u, a, { uploaded: 100, downloaded: 1, lastSeenAt: at }),
            entry(u, b, { uploaded: 20, downloaded: 2, lastSeenAt: at + 5 }),
            entry(v, a, { uploaded: 7, downloaded: 0, lastSeenAt: at }),
          ]),
        );
        assert.deepEqual(await listUserTrafficHours(t.db, u, H - 5, H + 5), [{ hour: H, uploaded: 120, downloaded: 3 }], 'credited, not raw');
        assert.deepEqual(await listUserTrafficHours(t.db, v, H, H), [{ hour: H, uploaded: 7, downloaded: 0 }]);
        // A second batch of the same hour adds up; one of the next hour gets its own row.
        await applyLedgerBatch(t.db, batch([entry(u, a, { uploaded: 1, downloaded: 1, lastSeenAt: at + 100 })]));
        await applyLedgerBatch(t.db, batch([entry(u, a, { uploaded: 5, downloaded: 6, lastSeenAt: (H + 1) * 3600 })]));
        assert.deepEqual(await listUserTrafficHours(t.db, u, H, H + 1), [
          { hour: H, uploaded: 121, downloaded: 4 },
          { hour: H + 1, uploaded: 5, downloaded: 6 },
        ]);
        assert.deepEqual(await listUserTrafficHours(t.db, u, H + 1, H + 1), [{ hour: H + 1, uploaded: 5, downloaded: 6 }], 'bounds are inclusive');
        assert.deepEqual(await listUserTrafficHours(t.db, u, H + 2, H + 9), []);
      });

      it("uses the batch's own hour when it has one, and writes no row for a member without traffic", async () => {
        const u = await newUser();
        const tor = await newTorrent();
        await applyLedgerBatch(t.db, { ...batch([entry(u, tor, { uploaded: 3, downloaded: 4, lastSeenAt: 5 })]), hour: H + 7 });
        await applyLedgerBatch(t.db, { ...batch([entry(u, tor, { uploaded: 0, downloaded: 0 })]), hour: H + 8 });
        assert.deepEqual(await listUserTrafficHours(t.db, u, 0, H + 100), [{ hour: H + 7, uploaded: 3, downloaded: 4 }]);
      });

      it('a retried batch (same id) does not count twice; a failed one counts nothing', async () => {
        const u = await newUser();
        const tor = await newTorrent();
        const b = { ...batch([entry(u, tor, { uploaded: 10, downloaded: 10 })]), hour: H };
        assert.deepEqual(await applyLedgerBatch(t.db, b), { applied: true });
        assert.deepEqual(await applyLedgerBatch(t.db, { ...b, hour: H + 1 }), { applied: false });
        const bad = { ...batch([entry(u, tor, { uploaded: 99, downloaded: 99 }), entry(u, 999_999)]), hour: H };
        await assert.rejects(applyLedgerBatch(t.db, bad));
        assert.deepEqual(await listUserTrafficHours(t.db, u, 0, H + 100), [{ hour: H, uploaded: 10, downloaded: 10 }]);
      });

      it('a packed batch and the same batch as objects write the same', async () => {
        const u = await newUser();
        const tor = await newTorrent();
        const e = entry(u, tor, { uploaded: 2 ** 40, downloaded: 3, completions: 1, completedAt: null, lastSeenAt: H * 3600 });
        const peer = hex40();
        await applyLedgerBatch(t.db, packLedgerBatch(batch([e], [baseline(u, tor, peer, { uploaded: 77 })])));
        const u2 = await newUser();
        await applyLedgerBatch(t.db, batch([{ ...e, userId: u2 }], [baseline(u2, tor, peer, { uploaded: 77 })]));
        const strip = (r: object | undefined) => ({ ...r, user_id: 0 });
        assert.deepEqual(strip(await getUserTorrent(t.db, u, tor)), strip(await getUserTorrent(t.db, u2, tor)));
        assert.deepEqual(await getUserTraffic(t.db, u), await getUserTraffic(t.db, u2));
        assert.deepEqual(await listUserTrafficHours(t.db, u, H, H), await listUserTrafficHours(t.db, u2, H, H));
        assert.equal((await getUserTorrent(t.db, u, tor))?.completed_at, H * 3600, 'a completion without a date takes the last-seen time');
        const bl = (await loadPeerBaselines(t.db, 0)).filter((x) => x.userId === u || x.userId === u2).map((x) => [x.peerId, x.uploaded]);
        assert.deepEqual(bl, [[peer, 77], [peer, 77]]);
      });

      it("applies the ledger's own batches (views of its shared tables), retried or not", async () => {
        const u = await newUser();
        const tor = await newTorrent();
        const ledger = new Ledger('repo-test');
        const peer = Buffer.from('-TR3000-ledgerbatch1');
        ledger.credit(u, tor, 10, 20, 15, 20, 30, 0, true, H * 3600 + 60);
        ledger.credit(u, tor, 1, 0, 1, 0, 5, 0, false, H * 3600 + 90);
        ledger.baseline(u, tor, peer, 11, 20, false, H * 3600 + 90);
        const b = ledger.take()!;
        assert.ok(b.entryIds.buffer instanceof SharedArrayBuffer, 'a shared batch');
        assert.deepEqual(await applyLedgerBatch(t.db, b, H * 3600 + 100), { applied: true });
        assert.deepEqual(await applyLedgerBatch(t.db, b, H * 3600 + 200), { applied: false }, 'a retry is skipped');
        ledger.done(b);
        const row = await getUserTorrent(t.db, u, tor);
        assert.deepEqual(
          [row?.uploaded, row?.raw_uploaded, row?.seed_time, row?.announces, row?.completed_at, row?.first_seen_at, row?.last_seen_at],
          [16, 11, 35, 2, H * 3600 + 60, H * 3600 + 60, H * 3600 + 90],
        );
        assert.equal((await findTorrentById(t.db, tor))?.times_completed, 1);
        assert.deepEqual(await listUserTrafficHours(t.db, u, H, H), [{ hour: H, uploaded: 16, downloaded: 20 }]);
        const bl = (await loadPeerBaselines(t.db, 0)).filter((x) => x.userId === u);
        assert.deepEqual(bl.map((x) => [x.peerId, x.uploaded, x.downloaded, x.updatedAt]), [[peer.toString('hex'), 11, 20, H * 3600 + 90]]);
      });

      it('refuses malformed batches before writing anything', async () => {
        const u = await newUser();
        const tor = await newTorrent();
        await assert.rejects(applyLedgerBatch(t.db, batch([entry(u, tor, { uploaded: Number.NaN })])), /finite/);
        await assert.rejects(applyLedgerBatch(t.db, batch([], [baseline(u, tor, 'not hex')])), /40 hex/);
        await assert.rejects(applyLedgerBatch(t.db, batch([entry(-1, tor)])), /integer id/);
        await assert.rejects(applyLedgerBatch(t.db, { ...batch([entry(u, tor)]), hour: 1.5 }), /hour/);
        assert.equal(await getUserTorrent(t.db, u, tor), undefined);
        assert.deepEqual(await listUserTrafficHours(t.db, u, 0, 2 ** 31 - 1), []);
      });

      it('prunes hours before a given hour, for every member', async () => {
        const [u, v] = [await newUser(), await newUser()];
        const tor = await newTorrent();
        for (const [who, hour] of [[u, 10], [u, 11], [v, 10], [u, 12]] as const) {
          await applyLedgerBatch(t.db, { ...batch([entry(who, tor, { uploaded: 1, downloaded: 0 })]), hour });
        }
        assert.ok((await pruneUserTrafficHours(t.db, 12)) >= 3, 'the rows of hours 10 and 11 are gone');
        assert.deepEqual(await listUserTrafficHours(t.db, u, 0, 100), [{ hour: 12, uploaded: 1, downloaded: 0 }]);
        assert.deepEqual(await listUserTrafficHours(t.db, v, 0, 100), []);
        assert.equal(trafficHour(3600 * 12 + 3599), 12);
        assert.equal(trafficHour(3600 * 12), 12);
      });
    });

    describe('baseline pages', () => {
      it('reads every baseline once, page by page, in key order, from `since` on', async () => {
        const [u, v] = [await newUser(), await newUser()];
        const [a, b] = [await newTorrent(), await newTorrent()];
        const peers = [hex40(), hex40(), hex40()].sort();
        const rows: BaselineEntry[] = [];
        for (const who of [u, v]) for (const tor of [a, b]) for (const p of peers) rows.push(baseline(who, tor, p, { updatedAt: 50_000 }));
        await applyLedgerBatch(t.db, batch([], [...rows, baseline(u, a, hex40(), { updatedAt: 10 })])); // the last one is too old
        const expected = rows.map((r) => `${r.userId}:${r.torrentId}:${r.peerId}`);
        const mine = new Set([u, v]);
        for (const size of [1, 5, 12, 1000]) {
          const pages: number[] = [];
          const seen: string[] = [];
          const total = await forEachPeerBaselinePage(
            t.db,
            50_000,
            (page) => {
              pages.push(page.length);
              for (const r of page) if (mine.has(r.userId)) seen.push(`${r.userId}:${r.torrentId}:${r.peerId}`);
            },
            size,
          );
          assert.ok(pages.every((n) => n <= size && n > 0), `pages of 1 to ${size} rows`);
          assert.equal(total, pages.reduce((x, y) => x + y, 0));
          assert.deepEqual(seen, expected, `page size ${size}`);
        }
        await assert.rejects(forEachPeerBaselinePage(t.db, 0, () => undefined, 0), /pageSize/);
      });
    });

    describe('client rules', () => {
      it('adds, lists and removes rules', async () => {
        const a = await addClientRule(t.db, { prefix: '-TR3', action: 'allow', now: 10 });
        const d = await addClientRule(t.db, { prefix: '-XL0', action: 'deny', note: 'leaks', now: 11 });
        assert.deepEqual(await listClientRules(t.db), [
          { id: a.id, prefix: '-TR3', action: 'allow', note: null, created_at: 10 },
          { id: d.id, prefix: '-XL0', action: 'deny', note: 'leaks', created_at: 11 },
        ]);
        assert.equal(await removeClientRule(t.db, a.id), true);
        assert.equal(await removeClientRule(t.db, a.id), false);
        assert.deepEqual(
          (await listClientRules(t.db)).map((r) => r.id),
          [d.id],
        );
        await assert.rejects(addClientRule(t.db, { prefix: '', action: 'deny', now: 1 }), TypeError);
        await assert.rejects(addClientRule(t.db, { prefix: '-X', action: 'maybe' as never, now: 1 }), TypeError);
      });
    });
  });
});

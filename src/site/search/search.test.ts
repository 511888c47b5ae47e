/**
 * searchTorrents, suggestions, top lists, recent and saved searches, and the indexer, on every
 * dialect. Fixture rows are written directly (ids from 90000, clear of the default taxonomy).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import type { Kysely } from 'kysely';
import type { Database, NewTorrent } from '../../db/schema.js';
import { forEachDialect, type TestDatabase } from '../../db/test-databases.js';
import {
  clearSearchHistory,
  deleteSavedSearch,
  findSavedSearch,
  listSavedSearches,
  MAX_SAVED_SEARCHES,
  recentSearches,
  recordSearch,
  RECENT_SEARCHES,
  saveSearch,
} from './history.js';
import { indexTorrent, indexTorrents, rebuildSearchIndex, unindexTorrent } from './indexer.js';
import { effectiveFactors } from '../rules/freeleech.js';
import { searchTorrents, SORT_KEYS, suggestNames, type FactorBand, type SearchBranch, type SearchInput, type SortKey } from './search.js';
import { clearTopCache, topTorrents } from './top.js';

const NOW = 1_800_000_000;

interface Fixture {
  id: number;
  name: string;
  category: number | null;
  terms?: number[];
  uploader: string;
  anonymous?: boolean;
  status?: 'active' | 'pending' | 'deleted';
  description?: string;
  files?: string[];
  size: number;
  seeders: number;
  leechers: number;
  completed: number;
  comments: number;
  age: number;
  verified?: boolean;
}

const T: Fixture[] = [
  { id: 90001, name: 'Série Vikings S01E01 FRENCH 720p', category: 90002, terms: [90101, 90201], uploader: 'alice', description: 'Une [i]série[/i] sur les Vikings', files: ['Vikings/S01E01.mkv'], size: 700, seeders: 5, leechers: 1, completed: 30, comments: 2, age: 500, verified: true },
  { id: 90002, name: 'Empire 2015 S01E04 FRENCH 1080p', category: 90002, terms: [90102, 90201, 90202], uploader: 'bob', anonymous: true, files: ['Empire/e04.mkv', 'Empire/sample.nfo'], size: 1500, seeders: 0, leechers: 7, completed: 10, comments: 0, age: 100 },
  { id: 90003, name: 'Documentaire été indien', category: 90003, uploader: 'alice', description: '[b]Forêt[/b] boréale et océans', size: 300, seeders: 12, leechers: 0, completed: 50, comments: 5, age: 900, verified: true },
  { id: 90004, name: 'Office US version', category: 90002, terms: [90101, 90202], uploader: 'carol', size: 900, seeders: 2, leechers: 3, completed: 5, comments: 1, age: 300 },
  { id: 90005, name: 'Adult thing', category: 90011, uploader: 'carol', size: 100, seeders: 1, leechers: 2, completed: 1, comments: 3, age: 50 },
  { id: 90006, name: 'Pending serie', category: 90002, uploader: 'alice', status: 'pending', size: 1, seeders: 0, leechers: 0, completed: 0, comments: 0, age: 10 },
  { id: 90007, name: 'Deleted serie', category: 90002, uploader: 'alice', status: 'deleted', size: 2, seeders: 0, leechers: 0, completed: 0, comments: 0, age: 20 },
  { id: 90008, name: 'Zorro', category: null, uploader: 'bob', size: 50, seeders: 0, leechers: 4, completed: 7, comments: 4, age: 700 },
];

async function setup(db: Kysely<Database>): Promise<Map<string, number>> {
  await db.insertInto('category').values([
    { id: 90001, parent_id: null, slug: 'fx-video', icon: 'video', name_en: 'Video', name_fr: 'Vidéo', adult: 0 },
    { id: 90010, parent_id: null, slug: 'fx-adult', icon: 'xxx', name_en: 'Adult', name_fr: 'Adulte', adult: 1 },
  ]).execute();
  await db.insertInto('category').values([
    { id: 90002, parent_id: 90001, slug: 'fx-series', icon: 'tv', name_en: 'Series', name_fr: 'Séries' },
    { id: 90003, parent_id: 90001, slug: 'fx-docs', icon: 'doc', name_en: 'Documentaries', name_fr: 'Documentaires' },
    { id: 90011, parent_id: 90010, slug: 'fx-adult-video', icon: 'xxx', name_en: 'Adult video', name_fr: 'Vidéo adulte' },
  ]).execute();
  await db.insertInto('term_type').values([
    { id: 90100, name_en: 'Quality', name_fr: 'Qualité', mode: 'single' },
    { id: 90200, name_en: 'Language', name_fr: 'Langue', mode: 'multi' },
  ]).execute();
  await db.insertInto('term').values([
    { id: 90101, term_type_id: 90100, name_en: '720p', name_fr: '720p' },
    { id: 90102, term_type_id: 90100, name_en: '1080p', name_fr: '1080p' },
    { id: 90201, term_type_id: 90200, name_en: 'French', name_fr: 'Français' },
    { id: 90202, term_type_id: 90200, name_en: 'English', name_fr: 'Anglais' },
  ]).execute();
  const users = new Map<string, number>();
  for (const [i, name] of ['alice', 'bob', 'carol'].entries()) {
    const r = await db
      .insertInto('user')
      .values({ username: name, email: `${name}@x.test`, passkey: String(i + 1).repeat(32), rss_key: String(i + 4).repeat(32), created_at: 0, updated_at: 0 })
      .returning('id')
      .executeTakeFirstOrThrow();
    users.set(name, r.id);
  }
  for (const f of T) {
    const row: NewTorrent = {
      id: f.id,
      name: f.name,
      info_hash_v1: f.id.toString(16).padStart(40, 'a'),
      info_hash_v2: f.id === 90001 ? 'b'.repeat(64) : null,
      deleted_reason: null,
      deleted_at: null,
      uploader_id: users.get(f.uploader)!,
      created_at: NOW - f.age,
      slug: null,
      category_id: f.category,
      nfo: null,
      updated_at: null,
      description: f.description ?? '',
      anonymous: f.anonymous ? 1 : 0,
      status: f.status ?? 'active',
      size: f.size,
      seeders: f.seeders,
      leechers: f.leechers,
      times_completed: f.completed,
      comment_count: f.comments,
      verified: f.verified ? 1 : 0,
      file_count: f.files?.length ?? 0,
    };
    await db.insertInto('torrent').values(row).execute();
    for (const [idx, path] of (f.files ?? []).entries()) await db.insertInto('torrent_file').values({ torrent_id: f.id, idx, path, size: 1 }).execute();
    for (const term of f.terms ?? []) {
      await db.insertInto('torrent_term').values({ torrent_id: f.id, term_id: term, term_type_id: term < 90200 ? 90100 : 90200 }).execute();
    }
  }
  assert.equal(await indexTorrents(db, T.map((f) => f.id)), T.length);
  return users;
}

const ids = async (db: Kysely<Database>, input: SearchInput) => (await searchTorrents(db, { limit: 100, ...input })).rows.map((r) => r.id).sort((a, b) => a - b);

/** The active, non-adult fixtures (what most searches can return). */
const visible = T.filter((f) => (f.status ?? 'active') === 'active');

const SORT_VALUE: Record<SortKey, (f: Fixture) => number | string> = {
  category: (f) => f.category ?? -1,
  name: (f) => f.name,
  comments: (f) => f.comments,
  age: (f) => f.age,
  size: (f) => f.size,
  completed: (f) => f.completed,
  seeders: (f) => f.seeders,
  leechers: (f) => f.leechers,
};

forEachDialect((dialect, open) => {
  describe(`searchTorrents (${dialect})`, () => {
    let t: TestDatabase;
    let db: Kysely<Database>;
    let users: Map<string, number>;
    before(async () => {
      t = await open();
      db = t.db;
      users = await setup(db);
    });
    after(() => t.close());

    it('lists active torrents only, newest first by default, with totals', async () => {
      const r = await searchTorrents(db);
      assert.deepEqual(r.rows.map((x) => x.id), [...visible].sort((a, b) => a.age - b.age).map((f) => f.id));
      assert.equal(r.total, visible.length);
      assert.equal(r.totalCapped, false);
    });

    it('ignores accents and case', async () => {
      assert.deepEqual(await ids(db, { text: 'serie' }), [90001]);
      assert.deepEqual(await ids(db, { text: 'SÉRIE' }), [90001]);
      assert.deepEqual(await ids(db, { text: 'ete INDIEN' }), [90003]);
      assert.deepEqual(await ids(db, { text: 'foret oceans' }), [90003], 'description words, BBCode removed');
    });

    it('searches the fields named by scopes', async () => {
      assert.deepEqual(await ids(db, { text: '@name vikings' }), [90001]);
      assert.deepEqual(await ids(db, { text: '@description vikings' }), [90001]);
      assert.deepEqual(await ids(db, { text: '@description empire' }), []);
      assert.deepEqual(await ids(db, { text: '@file sample' }), [90002]);
      assert.deepEqual(await ids(db, { text: '@file e04 @name empire' }), [90002]);
      assert.deepEqual(await ids(db, { text: '@name sample' }), []);
      assert.deepEqual(await ids(db, { text: '@user alice' }), [90001, 90003]);
    });

    it('never finds an anonymous upload by its uploader', async () => {
      assert.deepEqual(await ids(db, { text: '@user bob' }), [90008]);
      assert.deepEqual(await ids(db, { text: 'bob' }), [90008]);
      assert.deepEqual(await ids(db, { text: 'bob empire' }), []);
      const r = await searchTorrents(db, { text: 'empire' });
      assert.equal(r.rows[0]!.uploader_name, null, 'no uploader name in the row');
      assert.equal(r.rows[0]!.uploader_id, null, 'no uploader id in the row');
    });

    it('combines with OR, NOT, parentheses, phrases and prefixes', async () => {
      assert.deepEqual(await ids(db, { text: 'vikings | office' }), [90001, 90004]);
      assert.deepEqual(await ids(db, { text: 'french -1080p' }), [90001]);
      assert.deepEqual(await ids(db, { text: '-french' }), [90003, 90004, 90005, 90008]);
      assert.deepEqual(await ids(db, { text: '-french', hideAdult: true }), [90003, 90004, 90008]);
      assert.deepEqual(await ids(db, { text: '(vikings | empire) & 1080p' }), [90002]);
      assert.deepEqual(await ids(db, { text: 'vik*' }), [90001]);
      assert.deepEqual(await ids(db, { text: '@name off* | zor*' }), [90004, 90008]);
      assert.deepEqual(await ids(db, { text: '"office us"' }), [90004]);
      assert.deepEqual(await ids(db, { text: '"us office"' }), []);
      assert.deepEqual(await ids(db, { text: 's01e*' }), [90001, 90002]);
      assert.equal((await searchTorrents(db, { text: '!!! ((' })).total, visible.length, 'nothing to search: everything');
    });

    it('filters by terms: AND across types, OR within one', async () => {
      assert.deepEqual(await ids(db, { terms: [90101] }), [90001, 90004]);
      assert.deepEqual(await ids(db, { terms: [90101, 90102] }), [90001, 90002, 90004]);
      assert.deepEqual(await ids(db, { terms: [90101, 90201] }), [90001]);
      assert.deepEqual(await ids(db, { terms: [90201, 90202] }), [90001, 90002, 90004]);
      assert.deepEqual(await ids(db, { terms: [90102, 90202] }), [90002]);
      assert.deepEqual(await ids(db, { terms: [90102, 90101, 90202] }), [90002, 90004]);
      assert.deepEqual(await ids(db, { terms: [90101, 99999] }), [90001, 90004], 'unknown terms are ignored');
      assert.deepEqual(await ids(db, { terms: [90201], text: 'empire | vikings', categoryId: 90002 }), [90001, 90002]);
    });

    it('filters by parent category, subcategory, adult visibility, status flags, uploader and bookmarks', async () => {
      assert.deepEqual(await ids(db, { categoryId: 90001 }), [90001, 90002, 90003, 90004]);
      assert.deepEqual(await ids(db, { categoryId: 90003 }), [90003]);
      assert.deepEqual(await ids(db, { categoryId: 424242 }), []);
      assert.deepEqual(await ids(db, { categoryId: 90010 }), [90005]);
      assert.deepEqual(await ids(db, { categoryId: 90010, hideAdult: true }), []);
      assert.deepEqual(await ids(db, { categoryId: 90011, hideAdult: true }), []);
      assert.deepEqual(await ids(db, { hideAdult: true }), [90001, 90002, 90003, 90004, 90008]);
      assert.deepEqual(await ids(db, { verifiedOnly: true }), [90001, 90003]);
      assert.deepEqual(await ids(db, { noSeeders: true }), [90002, 90008]);
      assert.deepEqual(await ids(db, { uploaderId: users.get('alice')! }), [90001, 90003]);
      assert.deepEqual(await ids(db, { uploaderId: users.get('bob')! }), [90008], 'anonymous uploads left out');
      assert.deepEqual(await ids(db, { uploaderId: users.get('bob')!, includeAnonymous: true }), [90002, 90008]);
      await db.insertInto('bookmark').values([
        { user_id: users.get('carol')!, torrent_id: 90003, created_at: NOW },
        { user_id: users.get('carol')!, torrent_id: 90007, created_at: NOW },
      ]).execute();
      assert.deepEqual(await ids(db, { bookmarkedBy: users.get('carol')! }), [90003]);
    });

    it('filters by several categories (union with categoryId), each with its subcategories, adult ones hidden when asked', async () => {
      assert.deepEqual(await ids(db, { categoryIds: [90003, 90011] }), [90003, 90005]);
      assert.deepEqual(await ids(db, { categoryIds: [90003, 90011], hideAdult: true }), [90003]);
      assert.deepEqual(await ids(db, { categoryId: 90003, categoryIds: [90011] }), [90003, 90005], 'union with categoryId');
      assert.deepEqual(await ids(db, { categoryIds: [90001] }), [90001, 90002, 90003, 90004], 'a parent takes its subcategories');
      assert.deepEqual(await ids(db, { categoryIds: [90001, 90002, 90002] }), [90001, 90002, 90003, 90004], 'overlaps counted once');
      assert.deepEqual(await ids(db, { categoryIds: [424242, 90003] }), [90003], 'unknown ids are left out');
      assert.deepEqual(await ids(db, { categoryIds: [424242] }), [], 'only unknown ids: nothing');
      assert.deepEqual(await ids(db, { categoryIds: [] }), [], 'an empty list: nothing');
      assert.deepEqual(await ids(db, { categoryIds: [], categoryId: 90003 }), [90003]);
      assert.deepEqual(await ids(db, { categoryIds: [90010], hideAdult: true }), []);
      const page = await searchTorrents(db, { categoryIds: [90003, 90002], limit: 2, offset: 2 });
      assert.deepEqual(page.rows.map((r) => r.id), [90001, 90003], 'newest first across categories');
      assert.equal(page.total, 4);
    });

    it('bounds seeders and completions', async () => {
      assert.deepEqual(await ids(db, { minSeeders: 2 }), [90001, 90003, 90004]);
      assert.deepEqual(await ids(db, { minSeeders: 1.5 }), [90001, 90003, 90004], 'a fraction rounds up');
      assert.deepEqual(await ids(db, { maxSeeders: 1 }), [90002, 90005, 90008]);
      assert.deepEqual(await ids(db, { minSeeders: 1, maxSeeders: 1 }), [90005]);
      assert.deepEqual(await ids(db, { minCompleted: 10 }), [90001, 90002, 90003]);
      assert.deepEqual(await ids(db, { minSeeders: 1, minCompleted: 3, categoryId: 90002 }), [90001, 90004]);
      assert.deepEqual(await ids(db, { maxSeeders: -1 }), [], 'below zero: nothing');
      assert.deepEqual(await ids(db, { minSeeders: 1e12 }), [], 'beyond any count: nothing');
      assert.equal((await ids(db, { minSeeders: Number.NaN, maxSeeders: 1e12, minCompleted: 0 })).length, visible.length, 'no bound');
      const r = await searchTorrents(db, { minSeeders: 1, limit: 1, offset: 1 });
      assert.equal(r.total, 4, 'counted with the bound');
    });

    it("bounds the torrent's own factors at a given time (expired: 1; a token's torrent: free)", async () => {
      const set = (id: number, v: { download_factor?: number; upload_factor?: number; factors_until?: number | null }) => db.updateTable('torrent').set(v).where('id', '=', id).execute();
      await set(90001, { download_factor: 0, factors_until: NOW + 100 });
      await set(90002, { download_factor: 0, factors_until: NOW - 100 });
      await set(90003, { download_factor: 0.5, upload_factor: 2 });
      await set(90004, { upload_factor: 2, factors_until: NOW });
      try {
        assert.deepEqual(await ids(db, { downloadFactorAtMost: 0, now: NOW }), [90001]);
        assert.deepEqual(await ids(db, { downloadFactorAtMost: 0, now: NOW + 200 }), [], 'both expired');
        assert.deepEqual(await ids(db, { downloadFactorAtMost: 0, now: NOW - 200 }), [90001, 90002]);
        assert.deepEqual(await ids(db, { downloadFactorAtMost: 0.5, now: NOW }), [90001, 90003]);
        assert.deepEqual(await ids(db, { uploadFactorAtLeast: 2, now: NOW }), [90003], 'until NOW: over at NOW');
        assert.deepEqual(await ids(db, { uploadFactorAtLeast: 2, now: NOW - 1 }), [90003, 90004]);
        assert.deepEqual(await ids(db, { uploadFactorAtLeast: 1, now: NOW }), visible.map((f) => f.id).sort((a, b) => a - b));
        assert.deepEqual(await ids(db, { downloadFactorAtMost: 0, freeTorrentIds: [90008, 90006], now: NOW }), [90001, 90008], 'a token makes it free (a pending one stays out)');
        assert.deepEqual(await ids(db, { downloadFactorBands: [{ atMost: 0 }, { above: 0.25, atMost: 0.5 }], now: NOW }), [90001, 90003]);
        assert.deepEqual(await ids(db, { downloadFactorBands: [{ above: 0.75 }], freeTorrentIds: [90005], now: NOW }), [90002, 90004, 90008]);
        assert.deepEqual(await ids(db, { downloadFactorBands: [{}], now: NOW }), visible.map((f) => f.id).sort((a, b) => a - b), 'an open band');
        assert.deepEqual(await ids(db, { downloadFactorBands: [], now: NOW }), [], 'no band: nothing');
        assert.deepEqual(await ids(db, { downloadFactorAtMost: 0.5, uploadFactorAtLeast: 2, now: NOW }), [90003]);
        assert.equal((await ids(db, { downloadFactorAtMost: Number.NaN, uploadFactorAtLeast: Number.POSITIVE_INFINITY })).length, visible.length, 'non-finite: no bound');
        for (const plan of ['set', 'walk'] as const) {
          assert.deepEqual(await ids(db, { text: 'french | indien', downloadFactorAtMost: 0.5, now: NOW, plan }), [90001, 90003], `plan ${plan}`);
        }
        const r = await searchTorrents(db, { downloadFactorAtMost: 0.5, now: NOW - 200, limit: 1, offset: 1, sort: 'size', order: 'desc' });
        assert.deepEqual([r.rows.map((x) => x.id), r.total], [[90001], 3]);
      } finally {
        await db.updateTable('torrent').set({ download_factor: 1, upload_factor: 1, factors_until: null }).where('id', 'in', [90001, 90002, 90003, 90004]).execute();
      }
    });

    it('matches any of several alternatives (categories, text, terms), with the other conditions', async () => {
      assert.deepEqual(await ids(db, { anyOf: [{ categoryIds: [90003] }, { text: 'empire' }] }), [90002, 90003]);
      assert.deepEqual(await ids(db, { anyOf: [{ categoryIds: [90002], terms: [90102] }, { categoryIds: [90003] }] }), [90002, 90003]);
      assert.deepEqual(await ids(db, { text: 'french', anyOf: [{ terms: [90101] }, { categoryIds: [90003] }] }), [90001]);
      assert.deepEqual(await ids(db, { anyOf: [{ text: '-french' }, { categoryIds: [90003] }] }), [90003, 90004, 90005, 90008], 'an alternative without an id set');
      assert.deepEqual(await ids(db, { anyOf: [{ categoryIds: [90011] }, { text: 'zorro' }], hideAdult: true }), [90008]);
      assert.deepEqual(await ids(db, { anyOf: [{ categoryIds: [90011] }, { categoryIds: [424242] }], hideAdult: true }), [], 'every alternative empty');
      assert.deepEqual(await ids(db, { anyOf: [] }), [], 'no alternative: nothing');
      assert.deepEqual(await ids(db, { anyOf: [{}, { categoryIds: [90003] }] }), visible.map((f) => f.id).sort((a, b) => a - b), 'an empty alternative: no condition');
      assert.deepEqual(await ids(db, { categoryId: 90001, anyOf: [{ text: 'office' }, { text: 'zorro' }] }), [90004]);
      const r = await searchTorrents(db, { anyOf: [{ categoryIds: [90002], text: 'french' }, { categoryIds: [90003] }], limit: 1, offset: 2 });
      assert.deepEqual([r.rows.map((x) => x.id), r.total], [[90003], 3]);
    });

    it('sorts by every column, both ways', async () => {
      for (const sort of SORT_KEYS) {
        for (const order of ['asc', 'desc'] as const) {
          const r = await searchTorrents(db, { sort, order, hideAdult: true });
          const rows = visible.filter((f) => f.category !== 90011);
          const key = SORT_VALUE[sort];
          const expected = [...rows]
            .sort((a, b) => {
              const ka = key(a);
              const kb = key(b);
              const c = typeof ka === 'number' ? ka - (kb as number) : ka < kb ? -1 : ka > kb ? 1 : 0;
              return (c !== 0 ? c : sort === 'category' ? b.age - a.age : sort === 'age' ? 0 : a.id - b.id) * (order === 'asc' ? 1 : -1);
            })
            .map((f) => f.id);
          assert.deepEqual(r.rows.map((x) => x.id), expected, `${sort} ${order}`);
        }
      }
    });

    it('answers the same whatever the SQLite plan', async () => {
      const inputs: SearchInput[] = [
        { text: 'french', sort: 'seeders', order: 'desc' },
        { text: 's01e*', terms: [90201], sort: 'name' },
        { terms: [90101, 90201, 90202], sort: 'size', order: 'asc' },
        { categoryId: 90001, sort: 'seeders', order: 'desc', hideAdult: true },
        { categoryId: 90002, sort: 'age' },
        { categoryId: 90002, text: '-empire', sort: 'completed' },
        { text: 'french', verifiedOnly: true },
        { text: '-french', noSeeders: true, hideAdult: true },
        { uploaderId: users.get('alice')!, sort: 'comments' },
        { text: 'serie | empire | zorro | office', sort: 'leechers', order: 'asc', offset: 1, limit: 2 },
        { categoryIds: [90003, 90011], sort: 'seeders' },
        { categoryIds: [90002, 90003], minSeeders: 1, sort: 'age', offset: 1, limit: 2 },
        { anyOf: [{ categoryIds: [90002], text: 'french' }, { categoryIds: [90003] }], sort: 'size' },
        { anyOf: [{ text: '-french' }, { categoryIds: [90003] }], maxSeeders: 2, sort: 'name' },
        { text: 'french | office | zorro', minCompleted: 6, downloadFactorAtMost: 1, now: NOW, sort: 'completed' },
      ];
      for (const input of inputs) {
        const auto = await searchTorrents(db, input);
        for (const plan of ['set', 'walk'] as const) {
          const other = await searchTorrents(db, { ...input, plan });
          assert.deepEqual(other.rows.map((r) => r.id), auto.rows.map((r) => r.id), `${JSON.stringify(input)}: rows, plan ${plan}`);
          assert.equal(other.total, auto.total, `${JSON.stringify(input)}: total, plan ${plan}`);
        }
      }
    });

    it('pages through results, with a total capped when asked', async () => {
      for (const input of [{ sort: 'size', order: 'desc' }, { text: 'french | vikings | office | zorro | indien', sort: 'size', order: 'desc' }] as const) {
        for (const plan of ['auto', 'set', 'walk'] as const) {
          const all = (await searchTorrents(db, { ...input, plan })).rows.map((r) => r.id);
          assert.ok(all.length >= 5, 'enough rows to page');
          const pages: number[] = [];
          for (let offset = 0; offset < all.length + 2; offset += 2) {
            const r = await searchTorrents(db, { ...input, plan, offset, limit: 2 });
            assert.equal(r.total, all.length, `total on the page at ${offset}, plan ${plan}`);
            pages.push(...r.rows.map((x) => x.id));
          }
          assert.deepEqual(pages, all, `pages, plan ${plan}`);
        }
      }
      const capped = await searchTorrents(db, { limit: 2, countCap: 3 });
      assert.equal(capped.total, 3);
      assert.equal(capped.totalCapped, true);
      const beyond = await searchTorrents(db, { offset: 50 });
      assert.deepEqual(beyond.rows, []);
      assert.equal(beyond.total, visible.length);
      const noCount = await searchTorrents(db, { limit: 2, countCap: 0 });
      assert.equal(noCount.rows.length, 2);
      // Nonsense paging values are clamped, not errors.
      const odd = await searchTorrents(db, { limit: -5, offset: Number.NaN, sort: 'bogus' as SortKey, order: 'sideways' as 'asc' });
      assert.equal(odd.rows.length, 1);
    });

    it('returns rows with info hashes, category and uploader', async () => {
      const [row] = (await searchTorrents(db, { text: 'vikings' })).rows;
      assert.ok(row, 'found');
      assert.equal(row.info_hash_v1, (90001).toString(16).padStart(40, 'a'));
      assert.equal(row.info_hash_v2, 'b'.repeat(64));
      assert.equal(row.category_name_en, 'Series');
      assert.equal(row.category_name_fr, 'Séries');
      assert.equal(row.category_parent_id, 90001);
      assert.equal(row.uploader_name, 'alice');
      assert.equal(row.size, 700);
      assert.equal(row.times_completed, 30);
    });

    it('reindexes changed torrents and forgets removed ones', async () => {
      await db.updateTable('torrent').set({ name: 'Office UK édition' }).where('id', '=', 90004).execute();
      assert.deepEqual(await ids(db, { text: 'edition' }), [], 'not reindexed yet');
      await indexTorrent(db, 90004);
      assert.deepEqual(await ids(db, { text: 'edition' }), [90004]);
      assert.deepEqual(await ids(db, { text: '@name us' }), []);
      await db.updateTable('torrent').set({ anonymous: 1 }).where('id', '=', 90004).execute();
      await indexTorrent(db, 90004);
      assert.deepEqual(await ids(db, { text: '@user carol' }), [90005]);
      await unindexTorrent(db, 90004);
      assert.deepEqual(await ids(db, { text: 'office' }), []);
      assert.equal(await rebuildSearchIndex(db), T.length);
      assert.deepEqual(await ids(db, { text: 'office' }), [90004]);
      await db.updateTable('torrent').set({ name: 'Office US version', anonymous: 0 }).where('id', '=', 90004).execute();
      await indexTorrent(db, 90004);
      await indexTorrent(db, 123456789);
      assert.deepEqual(await ids(db, { text: '@user carol' }), [90004, 90005]);
    });

    it('suggests names by prefix, hiding adult ones from visitors', async () => {
      assert.deepEqual(await suggestNames(db, 'vik'), ['Série Vikings S01E01 FRENCH 720p']);
      assert.deepEqual((await suggestNames(db, 'S01')).sort(), ['Empire 2015 S01E04 FRENCH 1080p', 'Série Vikings S01E01 FRENCH 720p']);
      assert.deepEqual(await suggestNames(db, 'serie vik'), ['Série Vikings S01E01 FRENCH 720p']);
      assert.deepEqual(await suggestNames(db, 'adu'), ['Adult thing']);
      assert.deepEqual(await suggestNames(db, 'adu', { hideAdult: true }), []);
      assert.deepEqual(await suggestNames(db, 'pending'), [], 'pending torrents are not suggested');
      assert.deepEqual(await suggestNames(db, '!!'), []);
      assert.deepEqual(await suggestNames(db, 'vikings', { limit: 0 }), ['Série Vikings S01E01 FRENCH 720p'], 'limit clamped to 1');
    });

    it('computes top lists: most active, most completed in a window', async () => {
      clearTopCache(db);
      const active = await topTorrents(db, 'active', { now: NOW, hideAdult: true });
      // seeders + leechers: 90003 12, 90002 7, 90001 6, 90004 5, 90008 4.
      assert.deepEqual(active.map((r) => r.id), [90003, 90002, 90001, 90004, 90008]);
      assert.deepEqual(active.map((r) => r.score), [12, 7, 6, 5, 4]);
      const withAdult = await topTorrents(db, 'active', { now: NOW, limit: 100 });
      assert.ok(withAdult.some((r) => r.id === 90005), 'members see adult torrents');
      const add = async (user: string, torrent: number, ago: number | null) =>
        db.insertInto('user_torrent').values({ user_id: users.get(user)!, torrent_id: torrent, completed_at: ago === null ? null : NOW - ago, first_seen_at: NOW - 10 * 86400, last_seen_at: NOW }).execute();
      await add('alice', 90004, 3600);
      await add('bob', 90004, 7200);
      await add('carol', 90001, 600);
      await add('alice', 90001, 3 * 86400);
      await add('bob', 90001, 20 * 86400);
      await add('carol', 90003, null);
      await add('carol', 90005, 60);
      await add('alice', 90007, 60);
      const today = await topTorrents(db, 'today', { now: NOW, hideAdult: true });
      assert.deepEqual(today.map((r) => [r.id, r.score]), [[90004, 2], [90001, 1]]);
      const week = await topTorrents(db, 'week', { now: NOW, hideAdult: true });
      assert.deepEqual(week.map((r) => [r.id, r.score]), [[90004, 2], [90001, 2]].sort((a, b) => b[1]! - a[1]! || b[0]! - a[0]!));
      const month = await topTorrents(db, 'month', { now: NOW, hideAdult: false });
      assert.deepEqual(month.map((r) => [r.id, r.score]), [[90001, 3], [90004, 2], [90005, 1]]);
      // Cached for a minute: a new completion shows after that.
      await add('carol', 90002, 60);
      const t0 = Date.now();
      assert.deepEqual((await topTorrents(db, 'today', { now: NOW, hideAdult: true, nowMs: t0 })).map((r) => r.id), [90004, 90001]);
      assert.deepEqual((await topTorrents(db, 'today', { now: NOW, hideAdult: true, nowMs: t0 + 61_000 })).map((r) => r.id), [90004, 90002, 90001]);
    });
  });

  describe(`recent and saved searches (${dialect})`, () => {
    let t: TestDatabase;
    let db: Kysely<Database>;
    let alice: number;
    let bob: number;
    before(async () => {
      t = await open();
      db = t.db;
      const users = await setup(db);
      alice = users.get('alice')!;
      bob = users.get('bob')!;
    });
    after(() => t.close());

    it('keeps the last searches, newest first, without duplicates', async () => {
      for (let i = 0; i < RECENT_SEARCHES + 3; i++) await recordSearch(db, alice, `q=s${i}`, NOW + i);
      await recordSearch(db, alice, 'q=s5', NOW + 100);
      await recordSearch(db, alice, '', NOW + 101);
      await recordSearch(db, bob, 'q=bob', NOW);
      const recent = await recentSearches(db, alice);
      assert.equal(recent.length, RECENT_SEARCHES);
      assert.deepEqual(recent.slice(0, 3).map((r) => r.query), ['q=s5', 'q=s12', 'q=s11']);
      assert.equal(recent.filter((r) => r.query === 'q=s5').length, 1);
      assert.ok(!recent.some((r) => r.query === 'q=s0'), 'the oldest are forgotten');
      assert.equal(await clearSearchHistory(db, alice), RECENT_SEARCHES);
      assert.deepEqual(await recentSearches(db, alice), []);
      assert.equal((await recentSearches(db, bob)).length, 1, "others' history stays");
    });

    it('saves, lists and deletes named searches, refusing bad names and duplicates', async () => {
      const a = await saveSearch(db, alice, '  Vikings  ', 'q=vikings', NOW);
      assert.ok(a.ok, 'saved');
      assert.deepEqual(await saveSearch(db, alice, 'Vikings', 'q=other', NOW), { ok: false, error: 'duplicate' });
      assert.deepEqual(await saveSearch(db, alice, '   ', 'q=x', NOW), { ok: false, error: 'name_required' });
      assert.deepEqual(await saveSearch(db, alice, 'x'.repeat(101), 'q=x', NOW), { ok: false, error: 'name_too_long' });
      assert.deepEqual(await saveSearch(db, alice, 'long', `q=${'x'.repeat(5000)}`, NOW), { ok: false, error: 'query_too_long' });
      assert.ok((await saveSearch(db, bob, 'Vikings', 'q=vikings', NOW)).ok, 'names are per member');
      const list = await listSavedSearches(db, alice);
      assert.deepEqual(list.map((s) => [s.name, s.query]), [['Vikings', 'q=vikings']]);
      assert.equal((await findSavedSearch(db, list[0]!.id))?.user_id, alice);
      assert.equal(await deleteSavedSearch(db, bob, list[0]!.id), false, "not bob's");
      assert.equal(await deleteSavedSearch(db, alice, list[0]!.id), true);
      assert.equal(await deleteSavedSearch(db, alice, list[0]!.id), false, 'already gone');
      for (let i = 0; i < MAX_SAVED_SEARCHES; i++) assert.ok((await saveSearch(db, alice, `s${i}`, 'q=x', NOW)).ok, `save ${i}`);
      assert.deepEqual(await saveSearch(db, alice, 'one more', 'q=x', NOW), { ok: false, error: 'too_many' });
    });
  });
});

// --- conditions against a direct evaluation -------------------------------------------------

/** A small catalogue: two parents with two subcategories each, the second adult. */
const PCATS = [
  { id: 91000, parent: null, adult: 0 },
  { id: 91001, parent: 91000, adult: 0 },
  { id: 91002, parent: 91000, adult: 0 },
  { id: 91100, parent: null, adult: 1 },
  { id: 91101, parent: 91100, adult: 0 },
  { id: 91102, parent: 91100, adult: 0 },
] as const;
const PWORDS = ['alpha', 'beta', 'gamma', 'delta'] as const;
const PTERMS = [91201, 91202, 91301, 91302];
const PNOW = 1_900_000_000;

interface PTorrent {
  id: number;
  words: string[];
  category: number | null;
  status: 'active' | 'pending' | 'deleted';
  verified: boolean;
  seeders: number;
  completed: number;
  up: number;
  down: number;
  until: number | null;
  terms: number[];
  age: number;
}

const pTorrentArb = fc.record({
  words: fc.uniqueArray(fc.constantFrom(...PWORDS), { minLength: 1, maxLength: 3 }),
  category: fc.constantFrom<number | null>(null, ...PCATS.map((c) => c.id)),
  status: fc.constantFrom<PTorrent['status']>('active', 'active', 'active', 'active', 'pending', 'deleted'),
  verified: fc.boolean(),
  seeders: fc.integer({ min: 0, max: 3 }),
  completed: fc.integer({ min: 0, max: 5 }),
  up: fc.constantFrom(0.5, 1, 1.5, 2),
  down: fc.constantFrom(0, 0.25, 0.3, 0.5, 0.75, 1, 2),
  until: fc.constantFrom<number | null>(null, null, PNOW - 100, PNOW, PNOW + 100),
  terms: fc.subarray(PTERMS),
  age: fc.integer({ min: 0, max: 50 }),
});

const catIdArb = fc.constantFrom(...PCATS.map((c) => c.id), 424242);
const textArb = fc.constantFrom('', 'alpha', '-alpha', 'beta | gamma', 'alpha delta', '-beta -gamma');
const branchArb: fc.Arbitrary<SearchBranch> = fc.record(
  { categoryIds: fc.array(catIdArb, { maxLength: 2 }), text: textArb, terms: fc.subarray(PTERMS, { maxLength: 2 }) },
  { requiredKeys: [] },
);
const bandArb: fc.Arbitrary<FactorBand> = fc.record({ above: fc.constantFrom(0, 0.25, 0.5, 0.75), atMost: fc.constantFrom(0, 0.25, 0.5, 0.75, 1) }, { requiredKeys: [] });
/** Present one time in five: most inputs combine a few conditions. */
const sometimes = <T>(arb: fc.Arbitrary<T>) => fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });
const inputArb: fc.Arbitrary<SearchInput> = fc.record({
  text: sometimes(textArb),
  categoryId: sometimes(catIdArb),
  categoryIds: sometimes(fc.array(catIdArb, { maxLength: 3 })),
  anyOf: sometimes(fc.array(branchArb, { maxLength: 3 })),
  terms: sometimes(fc.subarray(PTERMS, { maxLength: 3 })),
  hideAdult: sometimes(fc.boolean()),
  verifiedOnly: sometimes(fc.boolean()),
  noSeeders: sometimes(fc.boolean()),
  minSeeders: sometimes(fc.integer({ min: 0, max: 3 })),
  maxSeeders: sometimes(fc.integer({ min: 0, max: 3 })),
  minCompleted: sometimes(fc.integer({ min: 0, max: 5 })),
  downloadFactorAtMost: sometimes(fc.constantFrom(0, 0.25, 0.3, 0.5, 1)),
  downloadFactorBands: sometimes(fc.array(bandArb, { maxLength: 3 })),
  uploadFactorAtLeast: sometimes(fc.constantFrom(1, 1.5, 2)),
  freeTorrentIds: sometimes(fc.array(fc.integer({ min: 91400, max: 91400 + 80 }), { maxLength: 6 })),
  now: fc.constantFrom(PNOW - 200, PNOW, PNOW + 200),
});

const PCAT = new Map<number, (typeof PCATS)[number]>(PCATS.map((c) => [c.id, c]));
const isAdultCat = (id: number | null) => {
  const c = id === null ? undefined : PCAT.get(id);
  return !!c && (c.adult === 1 || (c.parent !== null && PCAT.get(c.parent)?.adult === 1));
};
function expandCats(ids: readonly number[], hideAdult: boolean): Set<number> {
  const out = new Set<number>();
  for (const id of ids) {
    if (!PCAT.has(id)) continue;
    out.add(id);
    for (const c of PCATS) if (c.parent === id) out.add(c.id);
  }
  for (const id of out) if (hideAdult && isAdultCat(id)) out.delete(id);
  return out;
}
function textAdmits(text: string | null | undefined, words: string[]): boolean {
  switch (text ?? '') {
    case '':
      return true;
    case 'alpha':
      return words.includes('alpha');
    case '-alpha':
      return !words.includes('alpha');
    case 'beta | gamma':
      return words.includes('beta') || words.includes('gamma');
    case 'alpha delta':
      return words.includes('alpha') && words.includes('delta');
    case '-beta -gamma':
      return !words.includes('beta') && !words.includes('gamma');
    default:
      throw new Error(`no evaluation for ${text}`);
  }
}
const termsAdmit = (terms: readonly number[] | undefined, has: number[]) => {
  const byType = new Map<number, number[]>();
  for (const t of terms ?? []) byType.set(Math.floor(t / 100), [...(byType.get(Math.floor(t / 100)) ?? []), t]);
  return [...byType.values()].every((g) => g.some((t) => has.includes(t)));
};

/** What searchTorrents must find, evaluated on the fixtures directly. */
function admits(f: PTorrent, i: SearchInput): boolean {
  if (f.status !== 'active' || !textAdmits(i.text, f.words) || !termsAdmit(i.terms, f.terms)) return false;
  if (i.categoryId != null || i.categoryIds != null) {
    if (f.category === null || !expandCats([...(i.categoryId != null ? [i.categoryId] : []), ...(i.categoryIds ?? [])], !!i.hideAdult).has(f.category)) return false;
  } else if (i.hideAdult && isAdultCat(f.category)) return false;
  if (i.anyOf != null) {
    const ok = i.anyOf.some(
      (b) =>
        (b.categoryIds == null || (f.category !== null && expandCats(b.categoryIds, !!i.hideAdult).has(f.category))) &&
        textAdmits(b.text, f.words) &&
        termsAdmit(b.terms, f.terms),
    );
    if (!ok) return false;
  }
  if (i.verifiedOnly && !f.verified) return false;
  if (i.noSeeders && f.seeders !== 0) return false;
  if (i.minSeeders != null && f.seeders < i.minSeeders) return false;
  if (i.maxSeeders != null && f.seeders > i.maxSeeders) return false;
  if (i.minCompleted != null && f.completed < i.minCompleted) return false;
  const factors = effectiveFactors({ upload_factor: f.up, download_factor: f.down, factors_until: f.until }, [], (i.freeTorrentIds ?? []).includes(f.id), i.now!);
  if (i.downloadFactorAtMost != null && !(factors.download <= i.downloadFactorAtMost)) return false;
  if (i.downloadFactorBands != null && !i.downloadFactorBands.some((b) => (b.above == null || factors.download > b.above) && (b.atMost == null || factors.download <= b.atMost))) return false;
  if (i.uploadFactorAtLeast != null && !(factors.upload >= i.uploadFactorAtLeast)) return false;
  return true;
}

forEachDialect((dialect, open) => {
  describe(`search conditions against a direct evaluation (${dialect})`, () => {
    let t: TestDatabase;
    const fixtures: PTorrent[] = [];
    before(async () => {
      t = await open();
      const db = t.db;
      await db.insertInto('category').values(PCATS.filter((c) => c.parent === null).map((c) => ({ id: c.id, parent_id: null, slug: `p${c.id}`, icon: 'x', name_en: `C${c.id}`, name_fr: `C${c.id}`, adult: c.adult }))).execute();
      await db.insertInto('category').values(PCATS.filter((c) => c.parent !== null).map((c) => ({ id: c.id, parent_id: c.parent, slug: `p${c.id}`, icon: 'x', name_en: `C${c.id}`, name_fr: `C${c.id}`, adult: c.adult }))).execute();
      await db.insertInto('term_type').values([
        { id: 91200, name_en: 'A', name_fr: 'A', mode: 'multi' },
        { id: 91300, name_en: 'B', name_fr: 'B', mode: 'multi' },
      ]).execute();
      await db.insertInto('term').values(PTERMS.map((id) => ({ id, term_type_id: Math.floor(id / 100) * 100, name_en: `T${id}`, name_fr: `T${id}` }))).execute();
      const u = await db.insertInto('user').values({ username: 'p', email: 'p@x.test', passkey: 'p'.repeat(32), rss_key: 'q'.repeat(32), created_at: 0, updated_at: 0 }).returning('id').executeTakeFirstOrThrow();
      let id = 91400;
      for (const f of fc.sample(pTorrentArb, { numRuns: 80, seed: 5115 })) {
        const row: PTorrent = { ...f, id: ++id };
        fixtures.push(row);
        await db
          .insertInto('torrent')
          .values({
            id: row.id,
            name: row.words.join(' '),
            info_hash_v1: row.id.toString(16).padStart(40, 'c'),
            info_hash_v2: null,
            deleted_reason: null,
            deleted_at: null,
            uploader_id: u.id,
            created_at: PNOW - row.age,
            slug: null,
            category_id: row.category,
            nfo: null,
            updated_at: null,
            description: '',
            anonymous: 0,
            status: row.status,
            verified: row.verified ? 1 : 0,
            seeders: row.seeders,
            times_completed: row.completed,
            upload_factor: row.up,
            download_factor: row.down,
            factors_until: row.until,
          })
          .execute();
        for (const term of row.terms) await db.insertInto('torrent_term').values({ torrent_id: row.id, term_id: term, term_type_id: Math.floor(term / 100) * 100 }).execute();
      }
      await indexTorrents(db, fixtures.map((f) => f.id));
    });
    after(() => t.close());

    it('finds exactly the torrents the conditions admit, on every plan, with exact totals and pages', async () => {
      let selective = 0;
      let runs = 0;
      await fc.assert(
        fc.asyncProperty(inputArb, fc.constantFrom(...SORT_KEYS), fc.integer({ min: 0, max: 12 }), fc.integer({ min: 1, max: 7 }), async (input, sort, offset, limit) => {
          const want = fixtures.filter((f) => admits(f, input)).map((f) => f.id);
          const plans = dialect === 'postgres' ? (['auto'] as const) : (['auto', 'set', 'walk'] as const);
          let order: number[] | null = null;
          for (const plan of plans) {
            const all = await searchTorrents(t.db, { ...input, sort, plan, limit: 200 });
            const got = all.rows.map((r) => r.id);
            assert.deepEqual([...got].sort((a, b) => a - b), want, `${JSON.stringify(input)}, plan ${plan}`);
            assert.equal(all.total, want.length, `total, plan ${plan}`);
            if (order) assert.deepEqual(got, order, `the same order on plan ${plan}`);
            order = got;
            const page = await searchTorrents(t.db, { ...input, sort, plan, offset, limit });
            assert.deepEqual(page.rows.map((r) => r.id), got.slice(offset, offset + limit), `page ${offset}+${limit}, plan ${plan}`);
            assert.equal(page.total, want.length, `page total, plan ${plan}`);
          }
          runs++;
          if (want.length > 0) selective++;
        }),
        { numRuns: dialect === 'postgres' ? 120 : 200, seed: 4242 },
      );
      // Not vacuous: many inputs find something.
      assert.ok(selective > runs / 3, `inputs finding something: ${selective} of ${runs}`);
    });
  });
});

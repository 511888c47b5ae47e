/**
 * UNIT3D's torrents API on a whole site (web + tracker, SQLite): the answer shapes that Prowlarr's
 * UNIT3D definitions and upload assistants read (every field they read present, with its JSON
 * type), the filter (name, categories, terms, ids in descriptions, seeders, freeleech), Laravel's
 * pagination, show, download links authenticated by the RSS key, upload through the site's upload
 * service, and the refusals (no token, wrong scope, unknown ids, bad parameters, broken files).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { sql } from 'kysely';
import { createApiToken } from '../../src/api/tokens.js';
import { openDatabase } from '../../src/db/database.js';
import { testPostgresUrl } from '../../src/db/test-databases.js';
import { bdecode, bencode, type BDict } from '../../src/protocol/bencode.js';
import { freeleechPercent } from '../../src/api/unit3d/resource.js';
import { updateModerationSettings } from '../../src/site/moderation/settings.js';
import { insertTorrent } from '../../src/site/torrents/read.testing.js';
import { buildTorrent } from '../fixtures/metainfo/builders.js';
import { startSite, type TestSite } from '../helpers/site.js';

let serial = 0;
/** A fresh v1 torrent (unique name, so unique info hash). */
function torrentFile(name: string, files = [{ path: ['video.mkv'], size: 40_000 }, { path: ['sample', 'sample.mkv'], size: 5_000 }]): Buffer {
  return bencode(buildTorrent('v1', { name: `${name}-${++serial}`, files }).top);
}

interface Answer {
  status: number;
  type: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
  headers: Headers;
}

/** The announce URL of a .torrent. */
function announceOf(bytes: ArrayBuffer): string {
  const r = bdecode(new Uint8Array(bytes));
  assert.ok(r.ok, 'the answer is bencoded');
  const value = (r.value as BDict).get('announce');
  assert.ok(value instanceof Uint8Array, 'it has an announce URL');
  return Buffer.from(value).toString();
}

const DATE_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000000Z$/;

/** Every attribute Prowlarr's UNIT3D definitions and upload assistants read, with its JSON type. */
function assertResourceShape(item: Record<string, unknown>): void {
  assert.equal(item.type, 'torrent');
  assert.equal(typeof item.id, 'string');
  const a = item.attributes as Record<string, unknown>;
  assert.ok(a && typeof a === 'object', 'attributes is an object');
  for (const k of ['name', 'info_hash', 'freeleech', 'created_at', 'download_link', 'details_link', 'uploader', 'description']) {
    assert.equal(typeof a[k], 'string', `${k} is a string`);
  }
  for (const k of ['size', 'num_file', 'seeders', 'leechers', 'times_completed', 'tmdb_id', 'imdb_id', 'tvdb_id', 'mal_id', 'igdb_id']) {
    assert.equal(typeof a[k], 'number', `${k} is a number`);
  }
  for (const k of ['double_upload', 'featured', 'internal', 'refundable', 'personal_release']) assert.equal(typeof a[k], 'boolean', `${k} is a boolean`);
  for (const k of ['category_id', 'type_id', 'resolution_id']) assert.ok(a[k] === null || typeof a[k] === 'number', `${k} is a number or null`);
  for (const k of ['category', 'type', 'resolution']) assert.ok(a[k] === null || typeof a[k] === 'string', `${k} is a string or null`);
  assert.ok('release_year' in a && 'media_info' in a && 'bd_info' in a, 'UNIT3D fields without Essaim data are present');
  const meta = a.meta as Record<string, unknown>;
  assert.equal(typeof meta.poster, 'string');
  assert.equal(typeof meta.genres, 'string');
  assert.match(a.freeleech as string, /^(0|25|50|75|100)%$/);
  assert.match(a.created_at as string, DATE_RE);
  assert.match(a.info_hash as string, /^[0-9a-f]{40}$/);
  assert.ok(Array.isArray(a.files), 'files is a list');
  for (const f of a.files as Array<Record<string, unknown>>) {
    assert.equal(typeof f.index, 'number');
    assert.equal(typeof f.name, 'string');
    assert.equal(typeof f.size, 'number');
  }
  assert.equal((a.files as unknown[]).length <= (a.num_file as number), true, 'no more files than num_file');
}

/** The databases to run on: SQLite always, PostgreSQL when ESSAIM_TEST_PG_URL is set (a schema of its own). */
const DATABASES: Array<{ name: string; pg: string | null }> = [{ name: 'sqlite', pg: null }];
if (testPostgresUrl()) DATABASES.push({ name: 'postgres', pg: testPostgresUrl()! });

for (const database of DATABASES) describe(`UNIT3D torrents API (${database.name})`, () => {
  let dropSchema: (() => Promise<void>) | null = null;
  let s: TestSite;
  let alice: { id: number; passkey: string; rssKey: string };
  let bob: { id: number; passkey: string; rssKey: string };
  let readToken = '';
  let uploadToken = '';
  let bobToken = '';
  const ids = { bunny: 0, sintel: 0, show: 0, album: 0, pending: 0 };
  const now = Math.floor(Date.now() / 1000);

  async function call(path: string, o: { token?: string | null; query?: boolean; method?: string; body?: FormData | string; headers?: Record<string, string> } = {}): Promise<Answer> {
    const token = o.token === undefined ? readToken : o.token;
    let url = `${s.base}${path}`;
    const headers: Record<string, string> = { accept: 'application/json', ...(o.headers ?? {}) };
    if (token !== null) {
      if (o.query) url += `${url.includes('?') ? '&' : '?'}api_token=${token}`;
      else headers.authorization = `Bearer ${token}`;
    }
    const res = await fetch(url, { method: o.method ?? 'GET', headers, body: o.body });
    const type = res.headers.get('content-type') ?? '';
    const text = await res.text();
    return { status: res.status, type, json: type.includes('json') ? JSON.parse(text) : text, headers: res.headers };
  }

  before(async () => {
    const overrides: Record<string, Record<string, unknown>> = { site: { source_tag: 'ESSAIM-TEST' } };
    if (database.pg) {
      const schema = `essaim_unit3d_${randomBytes(6).toString('hex')}`;
      const admin = await openDatabase(database.pg, { dataDir: tmpdir(), poolSize: 1 });
      await sql`create schema ${sql.id(schema)}`.execute(admin.db);
      dropSchema = async () => {
        await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(admin.db);
        await admin.close();
      };
      const sep = database.pg.includes('?') ? '&' : '?';
      overrides.database = { url: `${database.pg}${sep}options=${encodeURIComponent(`-c search_path=${schema}`)}` };
    }
    s = await startSite(null, overrides);
    const db = s.app.db();
    alice = await s.member('alice', { role: 'uploader' });
    bob = await s.member('bob');
    readToken = (await createApiToken(db, { userId: alice.id, kind: 'personal', name: 'prowlarr', scopes: ['read'], now })).token;
    uploadToken = (await createApiToken(db, { userId: alice.id, kind: 'personal', name: 'assistant', scopes: ['read', 'upload'], now })).token;
    bobToken = (await createApiToken(db, { userId: bob.id, kind: 'personal', name: 'bob', scopes: ['read', 'upload'], now })).token;

    // Default taxonomy: 631 Movies, 433 TV series, 623 Music; 1174 "WEB-DL 1080p", 1175 "WEB-DL
    // 720p" (Video - Quality), 25 Action (Video - Genre), 529 "FLAC (16-bit)" (Audio - Format).
    ids.bunny = (
      await insertTorrent(db, {
        raw: torrentFile('bunny'),
        name: 'Big Buck Bunny 2008 1080p WEB-DL',
        categoryId: 631,
        termIds: [1174, 25],
        uploaderId: alice.id,
        description: 'A rabbit. https://www.themoviedb.org/movie/10378 and https://www.imdb.com/title/tt1254207/',
        seeders: 5,
        timesCompleted: 12,
        createdAt: now - 400,
      })
    ).id;
    ids.sintel = (
      await insertTorrent(db, {
        raw: torrentFile('sintel'),
        name: 'Sintel 2010 720p WEB-DL',
        categoryId: 631,
        termIds: [1175],
        uploaderId: alice.id,
        anonymous: 1,
        seeders: 0,
        createdAt: now - 300,
      })
    ).id;
    ids.show = (
      await insertTorrent(db, {
        raw: torrentFile('show'),
        name: 'Some Show S01E02 1080p WEB-DL',
        categoryId: 433,
        termIds: [1174],
        uploaderId: bob.id,
        description: 'https://thetvdb.com/dereferrer/series/81189',
        seeders: 1,
        timesCompleted: 4,
        createdAt: now - 200,
      })
    ).id;
    ids.album = (
      await insertTorrent(db, {
        raw: torrentFile('album', [{ path: ['01 - Intro.flac'], size: 30_000 }]),
        name: 'Some Album 2019 FLAC',
        categoryId: 623,
        termIds: [529],
        uploaderId: bob.id,
        seeders: 2,
        createdAt: now - 100,
      })
    ).id;
    ids.pending = (
      await insertTorrent(db, { raw: torrentFile('pending'), name: 'Waiting For Moderation', categoryId: 631, uploaderId: bob.id, status: 'pending', createdAt: now - 50 })
    ).id;
  });
  after(async () => {
    await s.stop();
    await dropSchema?.();
  });

  describe('authentication', () => {
    it('answers 401 Unauthenticated without a token, on every route', async () => {
      for (const path of ['/api/torrents', '/api/torrents/filter?name=bunny', '/api/torrents/1']) {
        const r = await call(path, { token: null });
        assert.equal(r.status, 401, path);
        assert.match(r.type, /application\/json/);
        assert.equal(r.json.message, 'Unauthenticated.');
      }
      const form = new FormData();
      form.append('torrent', new Blob([new Uint8Array(torrentFile('anon'))]), 'x.torrent');
      const up = await call('/api/torrents/upload', { token: null, method: 'POST', body: form });
      assert.equal(up.status, 401);
      assert.equal(up.json.message, 'Unauthenticated.');
    });

    it('refuses an unknown token and accepts both UNIT3D token styles', async () => {
      const bad = await call('/api/torrents', { token: 'es_' + '0'.repeat(40) });
      assert.equal(bad.status, 401);
      const bearer = await call('/api/torrents');
      assert.equal(bearer.status, 200);
      const query = await call('/api/torrents', { query: true });
      assert.equal(query.status, 200);
      assert.deepEqual(
        query.json.data.map((d: { id: string }) => d.id),
        bearer.json.data.map((d: { id: string }) => d.id),
      );
    });
  });

  describe('listings', () => {
    it('lists the latest active torrents with the fields Prowlarr and upload assistants read', async () => {
      const r = await call('/api/torrents');
      assert.equal(r.status, 200);
      assert.match(r.type, /^application\/json/);
      assert.equal(r.headers.get('cache-control'), 'private, no-store');
      const got = r.json.data.map((d: { id: string }) => Number(d.id));
      assert.deepEqual(got, [ids.album, ids.show, ids.sintel, ids.bunny], 'newest first, the pending torrent left out');
      for (const item of r.json.data) assertResourceShape(item);
      assert.equal(r.json.meta.total, 4);
      assert.equal(r.json.meta.current_page, 1);
      assert.equal(r.json.meta.per_page, 25);
      assert.equal(r.json.links.next, null);
      assert.equal(r.json.links.prev, null);
    });

    it('maps Essaim data onto UNIT3D attributes', async () => {
      const r = await call(`/api/torrents/filter?name=bunny`);
      assert.equal(r.json.data.length, 1);
      const a = r.json.data[0].attributes;
      assert.equal(a.name, 'Big Buck Bunny 2008 1080p WEB-DL');
      assert.equal(a.category_id, 631);
      assert.equal(a.category, 'Movies');
      assert.equal(a.type_id, 1174);
      assert.equal(a.type, 'WEB-DL 1080p');
      assert.equal(a.resolution, '1080p');
      assert.equal(a.resolution_id, 1174);
      assert.equal(a.meta.genres, 'Action');
      assert.equal(a.tmdb_id, 10378);
      assert.equal(a.imdb_id, 1254207);
      assert.equal(a.tvdb_id, 0);
      assert.equal(a.uploader, 'alice');
      assert.equal(a.times_completed, 12);
      assert.equal(a.num_file, 2);
      assert.deepEqual(
        a.files.map((f: { index: number; name: string; size: number }) => [f.index, f.name, f.size]),
        [
          [1, 'video.mkv', 40000],
          [2, 'sample/sample.mkv', 5000],
        ],
      );
      assert.equal(a.size, 45000);
      assert.equal(a.freeleech, '0%');
      assert.equal(a.double_upload, false);
      assert.equal(a.details_link, `${s.base}/t/${ids.bunny}`);
      assert.equal(a.download_link, `${s.base}/api/torrents/download/${ids.bunny}.torrent?rsskey=${alice.rssKey}`);
      assert.match(a.download_link, /\/(\d+)\./, "upload assistants read the id from '/<id>.'");
      const sintel = await call('/api/torrents/filter?name=sintel');
      assert.equal(sintel.json.data[0].attributes.uploader, 'Anonymous', 'anonymous uploads stay anonymous');
      assert.equal(sintel.json.data[0].attributes.resolution, '720p');
      const album = await call('/api/torrents/filter?name=album');
      assert.equal(album.json.data[0].attributes.type, 'FLAC (16-bit)', 'an audio format term is the type');
      assert.equal(album.json.data[0].attributes.resolution, null);
      assert.equal(album.json.data[0].attributes.resolution_id, null);
    });

    it('filters by name words, the last one a prefix', async () => {
      const r = await call('/api/torrents/filter?name=buck%20bun');
      assert.deepEqual(r.json.data.map((d: { id: string }) => Number(d.id)), [ids.bunny]);
      const none = await call('/api/torrents/filter?name=nothing-like-this');
      assert.equal(none.status, 200);
      assert.deepEqual(none.json.data, []);
      assert.equal(none.json.meta.total, 0);
      const pending = await call('/api/torrents/filter?name=waiting');
      assert.deepEqual(pending.json.data, [], 'pending torrents are not listed');
    });

    it('filters by categories (several, one search, newest first), terms and uploader', async () => {
      const two = await call('/api/torrents/filter?categories[]=631&categories[]=623');
      assert.deepEqual(two.json.data.map((d: { id: string }) => Number(d.id)), [ids.album, ids.sintel, ids.bunny]);
      assert.equal(two.json.meta.total, 3);
      const parent = await call('/api/torrents/filter?categories[]=210');
      assert.deepEqual(parent.json.data.map((d: { id: string }) => Number(d.id)), [ids.show, ids.sintel, ids.bunny], 'a parent takes its subcategories');
      const unknown = await call('/api/torrents/filter?categories[]=999999');
      assert.deepEqual(unknown.json.data, [], 'an unknown category selects nothing');
      const types = await call('/api/torrents/filter?types[]=1174');
      assert.deepEqual(types.json.data.map((d: { id: string }) => Number(d.id)), [ids.show, ids.bunny]);
      const genres = await call('/api/torrents/filter?genres[]=25&categories[]=631');
      assert.deepEqual(genres.json.data.map((d: { id: string }) => Number(d.id)), [ids.bunny]);
      const bogus = await call('/api/torrents/filter?types[]=999999');
      assert.deepEqual(bogus.json.data, [], 'an unknown term selects nothing');
      const byBob = await call('/api/torrents/filter?uploader=BOB');
      assert.deepEqual(byBob.json.data.map((d: { id: string }) => Number(d.id)), [ids.album, ids.show]);
      const anonymous = await call('/api/torrents/filter?uploader=alice', { token: bobToken });
      assert.deepEqual(anonymous.json.data.map((d: { id: string }) => Number(d.id)), [ids.bunny], "others do not see alice's anonymous upload");
      const own = await call('/api/torrents/filter?uploader=alice');
      assert.deepEqual(own.json.data.map((d: { id: string }) => Number(d.id)), [ids.sintel, ids.bunny], 'the uploader sees their own');
    });

    it('matches TMDB, IMDb and TheTVDB ids in descriptions, and seasons in names', async () => {
      const tmdb = await call('/api/torrents/filter?tmdbId=10378');
      assert.deepEqual(tmdb.json.data.map((d: { id: string }) => Number(d.id)), [ids.bunny]);
      const imdb = await call('/api/torrents/filter?imdbId=1254207');
      assert.deepEqual(imdb.json.data.map((d: { id: string }) => Number(d.id)), [ids.bunny]);
      const imdbTt = await call('/api/torrents/filter?imdbId=tt1254207');
      assert.deepEqual(imdbTt.json.data.map((d: { id: string }) => Number(d.id)), [ids.bunny]);
      const other = await call('/api/torrents/filter?tmdbId=10379');
      assert.deepEqual(other.json.data, []);
      const tvdb = await call('/api/torrents/filter?tvdbId=81189');
      assert.deepEqual(tvdb.json.data.map((d: { id: string }) => Number(d.id)), [ids.show]);
      assert.equal(tvdb.json.data[0].attributes.tvdb_id, 81189);
      const season = await call('/api/torrents/filter?name=some%20show&seasonNumber=1');
      assert.deepEqual(season.json.data.map((d: { id: string }) => Number(d.id)), [ids.show]);
      const episode = await call('/api/torrents/filter?seasonNumber=1&episodeNumber=2');
      assert.deepEqual(episode.json.data.map((d: { id: string }) => Number(d.id)), [ids.show]);
      const wrong = await call('/api/torrents/filter?seasonNumber=1&episodeNumber=3');
      assert.deepEqual(wrong.json.data, []);
    });

    it('filters on seeders: dead, alive, dying', async () => {
      const dead = await call('/api/torrents/filter?dead=1');
      assert.deepEqual(dead.json.data.map((d: { id: string }) => Number(d.id)), [ids.sintel]);
      const alive = await call('/api/torrents/filter?alive=1');
      assert.deepEqual(alive.json.data.map((d: { id: string }) => Number(d.id)), [ids.album, ids.show, ids.bunny]);
      assert.equal(alive.json.meta.total, 3, 'the total is counted with the seeder bound');
      const dying = await call('/api/torrents/filter?dying=1');
      assert.deepEqual(dying.json.data.map((d: { id: string }) => Number(d.id)), [ids.show]);
      const featured = await call('/api/torrents/filter?featured=1');
      assert.deepEqual(featured.json.data, [], 'no Essaim torrent is featured');
      const ignored = await call('/api/torrents/filter?alive=0');
      assert.equal(ignored.json.data.length, 4, 'a false flag filters nothing');
    });

    it('paginates as Laravel does, without the token in the links', async () => {
      const p1 = await call('/api/torrents/filter?perPage=2&sortField=created_at&sortDirection=asc', { query: true });
      assert.deepEqual(p1.json.data.map((d: { id: string }) => Number(d.id)), [ids.bunny, ids.sintel]);
      assert.equal(p1.json.meta.total, 4);
      assert.equal(p1.json.meta.last_page, 2);
      assert.equal(p1.json.meta.per_page, 2);
      assert.equal(p1.json.meta.from, 1);
      assert.equal(p1.json.meta.to, 2);
      assert.equal(p1.json.meta.path, `${s.base}/api/torrents/filter`);
      assert.equal(p1.json.links.prev, null);
      assert.ok(p1.json.links.next, 'a next page link');
      for (const l of Object.values(p1.json.links)) if (typeof l === 'string') assert.ok(!l.includes('api_token'), `no token in ${l}`);
      const next = new URL(p1.json.links.next);
      assert.equal(next.searchParams.get('page'), '2');
      const p2 = await call(`${next.pathname}${next.search}`, { query: true });
      assert.deepEqual(p2.json.data.map((d: { id: string }) => Number(d.id)), [ids.show, ids.album]);
      assert.equal(p2.json.links.next, null);
      assert.ok(p2.json.links.prev, 'a previous page link');
      assert.equal(p2.json.meta.from, 3);
      const beyond = await call('/api/torrents/filter?perPage=2&page=9');
      assert.deepEqual(beyond.json.data, []);
      assert.equal(beyond.json.meta.from, null);
      const merged = await call('/api/torrents/filter?categories[]=631&categories[]=623&perPage=1&page=2');
      assert.deepEqual(merged.json.data.map((d: { id: string }) => Number(d.id)), [ids.sintel], 'several categories page exactly');
      assert.equal(merged.json.meta.total, 3);
      const capped = await call('/api/torrents/filter?perPage=500');
      assert.equal(capped.json.meta.per_page, 100);
    });

    it('sorts by the fields UNIT3D accepts and refuses others with a 422', async () => {
      const bySeeders = await call('/api/torrents/filter?sortField=seeders&sortDirection=desc');
      assert.deepEqual(bySeeders.json.data.map((d: { id: string }) => Number(d.id)), [ids.bunny, ids.album, ids.show, ids.sintel]);
      const byName = await call('/api/torrents/filter?sortField=name&sortDirection=asc');
      assert.deepEqual(byName.json.data.map((d: { attributes: { name: string } }) => d.attributes.name[0]), ['B', 'S', 'S', 'S']);
      const bad = await call('/api/torrents/filter?sortField=password');
      assert.equal(bad.status, 422);
      assert.equal(bad.json.message, 'The selected sort field is invalid.');
      assert.deepEqual(bad.json.errors, { sortField: ['The selected sort field is invalid.'] });
      const badIds = await call('/api/torrents/filter?categories[]=movies&tmdbId=abc');
      assert.equal(badIds.status, 422);
      assert.ok(badIds.json.errors.categories && badIds.json.errors.tmdbId, 'each bad parameter is named');
    });
  });

  describe('Prowlarr definition', () => {
    it('generates a definition whose request the API answers and whose fields the resource has', async (t) => {
      const none = await call('/api/torrents/prowlarr.yml', { token: null });
      assert.equal(none.status, 401);
      const r = await call('/api/torrents/prowlarr.yml');
      assert.equal(r.status, 200);
      assert.match(r.type, /^text\/yaml/);
      const parsed = spawnSync('python3', ['-c', 'import sys, json, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)'], { input: r.json, encoding: 'utf8' });
      if (parsed.status !== 0) {
        t.skip(`python3 with PyYAML is needed to read the YAML (${parsed.stderr.trim().split('\n').pop()})`);
        return;
      }
      const def = JSON.parse(parsed.stdout);
      assert.deepEqual(def.links, [`${s.base}/`]);
      const mappings = new Map(def.caps.categorymappings.map((m: { id: number; cat: string }) => [m.id, m.cat]));
      assert.equal(mappings.get(631), 'Movies');
      assert.equal(mappings.get(433), 'TV');
      assert.equal(mappings.get(623), 'Audio');
      assert.equal(def.search.paths[0].path, 'api/torrents/filter');
      assert.equal(def.search.fields.minimumseedtime.text, 259200, 'the hit-and-run seeding time');
      // Every attribute the definition reads is in the resource.
      const sample = (await call('/api/torrents/filter?name=bunny')).json.data[0];
      for (const [field, spec] of Object.entries(def.search.fields as Record<string, { selector?: string }>)) {
        if (spec.selector) assert.ok(spec.selector in sample.attributes, `${field} reads ${spec.selector}, which the resource has`);
      }
      for (const v of ['0%', '25%', '50%', '75%', '100%']) assert.ok(v in def.search.fields.downloadvolumefactor.case, `freeleech ${v} is mapped`);
      // The request Prowlarr builds from the inputs (empty values included) is answered.
      const inputs = def.search.inputs as Record<string, string | number>;
      assert.deepEqual(Object.keys(inputs).sort(), ['$raw', 'episodeNumber', 'free[]', 'name', 'perPage', 'seasonNumber', 'sortDirection', 'sortField']);
      const query = `categories[]=631&categories[]=433&name=Big%20Buck&seasonNumber=&episodeNumber=&free%5B%5D=&sortField=${def.settings.find((x: { name: string }) => x.name === 'sort').default}&sortDirection=desc&perPage=${inputs.perPage}`;
      const found = await call(`/${def.search.paths[0].path}?${query}`);
      assert.equal(found.status, 200);
      assert.deepEqual(found.json.data.map((d: { id: string }) => Number(d.id)), [ids.bunny]);
    });
  });

  describe('site rules', () => {
    it('lists only verified torrents when the staff set it, as the website does', async () => {
      const db = s.app.db();
      const admin = await s.member('admin', { role: 'admin' });
      await db.updateTable('torrent').set({ verified: 1 }).where('id', '=', ids.bunny).execute();
      await updateModerationSettings(db, { id: admin.id, username: 'admin' }, { verifiedOnly: true }, now);
      try {
        const r = await call('/api/torrents/filter');
        assert.deepEqual(r.json.data.map((d: { id: string }) => Number(d.id)), [ids.bunny]);
        const merged = await call('/api/torrents/filter?categories[]=631&categories[]=623&alive=1');
        assert.deepEqual(merged.json.data.map((d: { id: string }) => Number(d.id)), [ids.bunny], 'on every path of the filter');
      } finally {
        await updateModerationSettings(db, { id: admin.id, username: 'admin' }, { verifiedOnly: false }, now);
        await db.updateTable('torrent').set({ verified: 0 }).where('id', '=', ids.bunny).execute();
      }
      assert.equal((await call('/api/torrents/filter')).json.data.length, 4);
    });

    it('answers 429 when the token is over its rate limit', async () => {
      const limited = await startSite(null, { api: { rate_limit: 2 } });
      try {
        const m = await limited.member('busy');
        const token = (await createApiToken(limited.app.db(), { userId: m.id, kind: 'personal', name: 'busy', scopes: ['read'], now })).token;
        const statuses: number[] = [];
        let last: Response | null = null;
        for (let i = 0; i < 3; i++) {
          last = await fetch(`${limited.base}/api/torrents?api_token=${token}`);
          statuses.push(last.status);
        }
        assert.deepEqual(statuses, [200, 200, 429]);
        assert.deepEqual(await last!.json(), { message: 'Too Many Attempts.' });
        assert.ok(last!.headers.get('retry-after'), 'Retry-After is set');
      } finally {
        await limited.stop();
      }
    });
  });

  describe('freeleech', () => {
    it('shows the factors the member gets, and filters on them', async () => {
      const db = s.app.db();
      await db.updateTable('torrent').set({ download_factor: 0 }).where('id', '=', ids.bunny).execute();
      await db.updateTable('torrent').set({ upload_factor: 2, download_factor: 0.5 }).where('id', '=', ids.sintel).execute();
      try {
        const r = await call('/api/torrents');
        const byId = new Map(r.json.data.map((d: { id: string; attributes: unknown }) => [Number(d.id), d.attributes]));
        assert.equal((byId.get(ids.bunny) as { freeleech: string }).freeleech, '100%');
        assert.equal((byId.get(ids.sintel) as { freeleech: string }).freeleech, '50%');
        assert.equal((byId.get(ids.sintel) as { double_upload: boolean }).double_upload, true);
        assert.equal((byId.get(ids.show) as { freeleech: string }).freeleech, '0%');
        const free = await call('/api/torrents/filter?free[]=100');
        assert.deepEqual(free.json.data.map((d: { id: string }) => Number(d.id)), [ids.bunny]);
        const partly = await call('/api/torrents/filter?free[]=50&free[]=100');
        assert.deepEqual(partly.json.data.map((d: { id: string }) => Number(d.id)), [ids.sintel, ids.bunny]);
        const empty = await call('/api/torrents/filter?free[]=');
        assert.equal(empty.json.data.length, 4, 'an empty free[] (as Prowlarr sends it) filters nothing');
        const double = await call('/api/torrents/filter?doubleup=1');
        assert.deepEqual(double.json.data.map((d: { id: string }) => Number(d.id)), [ids.sintel]);
        // A freeleech token spent by the member makes the torrent free for them only.
        await db.insertInto('freeleech_token_use').values({ user_id: bob.id, torrent_id: ids.show, created_at: now, expires_at: now + 3600 }).execute();
        const forBob = await call('/api/torrents/filter?name=some%20show', { token: bobToken });
        assert.equal(forBob.json.data[0].attributes.freeleech, '100%');
        const forAlice = await call('/api/torrents/filter?name=some%20show');
        assert.equal(forAlice.json.data[0].attributes.freeleech, '0%');
      } finally {
        await db.updateTable('torrent').set({ download_factor: 1, upload_factor: 1 }).where('id', 'in', [ids.bunny, ids.sintel]).execute();
        await db.deleteFrom('freeleech_token_use').execute();
      }
    });
  });

  describe('show and download', () => {
    it('shows one torrent as the bare resource, with every file', async () => {
      const r = await call(`/api/torrents/${ids.show}`);
      assert.equal(r.status, 200);
      assertResourceShape(r.json);
      assert.equal(r.json.id, String(ids.show));
      assert.equal(r.json.data, undefined, 'no data wrapper');
      assert.equal(r.json.attributes.category, 'TV series');
    });

    it('answers 404 for unknown ids and for pending torrents of others', async () => {
      for (const path of ['/api/torrents/999999', '/api/torrents/abc', `/api/torrents/${ids.pending}`, '/api/torrents/no/such/route']) {
        const r = await call(path);
        assert.equal(r.status, 404, path);
        assert.equal(typeof r.json.message, 'string');
      }
      const own = await call(`/api/torrents/${ids.pending}`, { token: bobToken });
      assert.equal(own.status, 200, 'the uploader sees their pending torrent');
    });

    it('downloads the personalised .torrent from the download link, by RSS key or token', async () => {
      const r = await call(`/api/torrents/${ids.bunny}`);
      const link = new URL(r.json.attributes.download_link);
      const res = await fetch(`${s.base}${link.pathname}${link.search}`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'application/x-bittorrent');
      assert.ok(announceOf(await res.arrayBuffer()).includes(alice.passkey), "the announce URL carries the member's passkey");
      const byToken = await call(`/api/torrents/download/${ids.bunny}.torrent`);
      assert.equal(byToken.status, 200);
      const wrongKey = await fetch(`${s.base}/api/torrents/download/${ids.bunny}.torrent?rsskey=${'0'.repeat(32)}`);
      assert.equal(wrongKey.status, 401);
      const none = await fetch(`${s.base}/api/torrents/download/${ids.bunny}.torrent`);
      assert.equal(none.status, 401);
      const hidden = await fetch(`${s.base}/api/torrents/download/${ids.pending}.torrent?rsskey=${alice.rssKey}`);
      assert.equal(hidden.status, 404, 'a pending torrent of someone else');
    });
  });

  describe('upload', () => {
    function form(f: Record<string, string | string[]>, torrent: Buffer | null = torrentFile('upload'), nfo?: Buffer): FormData {
      const fd = new FormData();
      for (const [k, v] of Object.entries(f)) for (const x of Array.isArray(v) ? v : [v]) fd.append(k, x);
      if (torrent) fd.append('torrent', new Blob([new Uint8Array(torrent)], { type: 'application/x-bittorrent' }), 'torrent.torrent');
      if (nfo) fd.append('nfo', new Blob([new Uint8Array(nfo)], { type: 'text/plain' }), 'nfo_file.nfo');
      return fd;
    }

    it('refuses a token without the upload scope (403)', async () => {
      const r = await call('/api/torrents/upload', { method: 'POST', body: form({ name: 'x', category_id: '631' }) });
      assert.equal(r.status, 403);
      assert.match(r.json.message, /upload/);
    });

    it('uploads as an upload assistant does and answers with the download link', async () => {
      const body = form(
        {
          name: 'Elephants Dream 2006 1080p WEB-DL',
          description: '[b]Open movie[/b]',
          mediainfo: 'General\nFormat : Matroska',
          category_id: '631',
          type_id: '1174',
          resolution_id: '1174',
          imdb: '0807840',
          tmdb: '9761',
          tvdb: '0',
          mal: '0',
          igdb: '0',
          anonymous: '0',
          stream: '0',
          sd: '0',
          personal_release: '0',
          internal: '0',
          featured: '0',
          free: '0',
          doubleup: '0',
          sticky: '0',
        },
        torrentFile('elephants'),
        Buffer.from('Elephants Dream NFO\r\n'),
      );
      const r = await call('/api/torrents/upload', { token: uploadToken, method: 'POST', body });
      assert.equal(r.status, 200, JSON.stringify(r.json));
      assert.equal(r.json.success, true);
      assert.equal(r.json.message, 'Torrent uploaded successfully.');
      const m = /\/download\/(\d+)\./.exec(r.json.data);
      assert.ok(m, `the id can be read from the link (${r.json.data})`);
      const id = Number(m[1]);
      const row = await s.app.db().selectFrom('torrent').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      assert.equal(row.name, 'Elephants Dream 2006 1080p WEB-DL');
      assert.equal(row.category_id, 631);
      assert.equal(row.status, 'active', 'an uploader skips the moderation queue, as on the site');
      assert.equal(row.nfo, 'Elephants Dream NFO\n');
      assert.match(row.description, /^\[b\]Open movie\[\/b\]/);
      assert.match(row.description, /\[url\]https:\/\/www\.imdb\.com\/title\/tt0807840\/\[\/url\]/);
      assert.match(row.description, /\[spoiler=MediaInfo\]\[code\]General\nFormat : Matroska\[\/code\]\[\/spoiler\]/);
      const terms = await s.app.db().selectFrom('torrent_term').select('term_id').where('torrent_id', '=', id).execute();
      assert.deepEqual(terms.map((t) => t.term_id), [1174]);
      // The filter finds it again by the ids given at upload, and the link downloads it.
      const found = await call('/api/torrents/filter?imdbId=807840&tmdbId=9761');
      assert.deepEqual(found.json.data.map((d: { id: string }) => Number(d.id)), [id]);
      assert.equal(found.json.data[0].attributes.imdb_id, 807840);
      const link = new URL(r.json.data);
      const dl = await fetch(`${s.base}${link.pathname}${link.search}`, { headers: { authorization: `Bearer ${uploadToken}` } });
      assert.equal(dl.status, 200);
      assert.ok(announceOf(await dl.arrayBuffer()).includes(alice.passkey), 'personalised');
    });

    it('takes the token from the form, queues uploads of plain members, maps seasons to terms', async () => {
      const body = form({ api_token: bobToken, name: 'Another Show S01E02', category_id: '433', type_id: '1174', season_number: '1', episode_number: '2', anonymous: '1' });
      const r = await call('/api/torrents/upload', { token: null, method: 'POST', body });
      assert.equal(r.status, 200, JSON.stringify(r.json));
      const id = Number(/\/download\/(\d+)\./.exec(r.json.data)![1]);
      const row = await s.app.db().selectFrom('torrent').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      assert.equal(row.status, 'pending');
      assert.equal(row.anonymous, 1);
      assert.equal(row.uploader_id, bob.id);
      const terms = await s.app.db().selectFrom('torrent_term').select('term_id').where('torrent_id', '=', id).orderBy('term_id').execute();
      assert.deepEqual(terms.map((t) => t.term_id), [938, 968, 1174], 'quality, Season 01, Episode 02');
      assert.equal((await call(`/api/torrents/${id}`)).status, 404, 'pending: hidden from others');
      assert.equal((await call(`/api/torrents/${id}`, { token: bobToken })).status, 200);
    });

    it('names every problem in a 422: broken .torrent, unknown category, foreign term', async () => {
      const broken = await call('/api/torrents/upload', { token: uploadToken, method: 'POST', body: form({ name: 'x', category_id: '631' }, Buffer.from('d4:infod4:name')) });
      assert.equal(broken.status, 422);
      assert.equal(broken.json.success, false);
      assert.equal(broken.json.message, 'Validation Error.');
      assert.ok(Array.isArray(broken.json.data.torrent), 'the torrent field is named');
      assert.match(broken.json.data.torrent[0], /refused/);

      const several = await call('/api/torrents/upload', {
        token: uploadToken,
        method: 'POST',
        body: form({ category_id: '999999', type_id: '529' }, null),
      });
      assert.equal(several.status, 422);
      assert.deepEqual(Object.keys(several.json.data).sort(), ['category_id', 'torrent']);
      assert.match(several.json.data.category_id[0], /does not exist/);
      assert.match(several.json.data.torrent[0], /torrent/i);

      const foreign = await call('/api/torrents/upload', { token: uploadToken, method: 'POST', body: form({ category_id: '631', type_id: '529' }) });
      assert.equal(foreign.status, 422);
      assert.match(foreign.json.data.type_id[0], /does not apply/);

      const notInt = await call('/api/torrents/upload', { token: uploadToken, method: 'POST', body: form({ category_id: '631', resolution_id: '1080p' }) });
      assert.equal(notInt.status, 422);
      assert.ok(notInt.json.data.resolution_id, 'resolution_id is named');

      const raw = await s.app.db().selectFrom('torrent').select('id').where('name', 'like', 'upload-%').execute();
      assert.deepEqual(raw, [], 'nothing was stored');
    });

    it('reports a duplicate and a request that is not multipart', async () => {
      const bytes = torrentFile('twice');
      const first = await call('/api/torrents/upload', { token: uploadToken, method: 'POST', body: form({ category_id: '631' }, bytes) });
      assert.equal(first.status, 200, JSON.stringify(first.json));
      const again = await call('/api/torrents/upload', { token: uploadToken, method: 'POST', body: form({ category_id: '631' }, bytes) });
      assert.equal(again.status, 422);
      assert.match(again.json.data.torrent[0], /already on the site/);
      const tooMany = form({ category_id: '631' }, torrentFile('many'), Buffer.from('nfo'));
      tooMany.append('screenshot', new Blob([new Uint8Array(8)]), 'shot.png');
      const unreadable = await call('/api/torrents/upload', { token: uploadToken, method: 'POST', body: tooMany });
      assert.equal(unreadable.status, 422, 'more files than the form takes');
      assert.match(unreadable.json.data.torrent[0], /could not be read/);
      const json = await call('/api/torrents/upload', { token: uploadToken, method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
      assert.equal(json.status, 422);
      assert.ok(json.json.data.torrent, 'the torrent field is named');
    });
  });

  describe('one search per request', () => {
    it('pages several categories with seeder and factor filters across page boundaries, with exact totals', async () => {
      const db = s.app.db();
      interface Made {
        id: number;
        at: number;
        cat: number;
        seeders: number;
        completed: number;
        down: number;
        up: number;
        until: number | null;
      }
      const made: Made[] = [];
      const factors = [
        { down: 1, up: 1, until: null },
        { down: 0, up: 1, until: null },
        { down: 0.5, up: 2, until: null },
        { down: 0, up: 2, until: now - 10 },
        { down: 0.25, up: 1, until: now + 3600 },
        { down: 0.75, up: 1.5, until: null },
      ];
      // 27 torrents in Movies, TV series and Music, and decoys in Documentaries; ages interleaved.
      for (let i = 0; i < 30; i++) {
        const cat = i < 27 ? [631, 433, 623][i % 3]! : 634;
        const f = factors[i % factors.length]!;
        const m: Made = { id: 0, at: now - 1000 - 11 * i + (i % 4) * 7, cat, seeders: (i * 7) % 4, completed: i % 5, ...f };
        m.id = (await insertTorrent(db, { raw: torrentFile(`walk-${i}`), name: `Pagewalk ${i}`, categoryId: cat, uploaderId: bob.id, seeders: m.seeders, timesCompleted: m.completed, createdAt: m.at })).id;
        await db.updateTable('torrent').set({ download_factor: m.down, upload_factor: m.up, factors_until: m.until }).where('id', '=', m.id).execute();
        made.push(m);
      }
      const newest = (a: Made, b: Made) => b.at - a.at || b.id - a.id;
      const own = (m: Made) => (m.until !== null && m.until <= now ? { down: 1, up: 1 } : { down: m.down, up: m.up });
      const pages = async (query: string, perPage: number, token?: string) => {
        const got: number[] = [];
        let total = -1;
        for (let page = 1; page < 50; page++) {
          const r = await call(`/api/torrents/filter?name=pagewalk&${query}&perPage=${perPage}&page=${page}`, { token });
          assert.equal(r.status, 200, JSON.stringify(r.json));
          if (page === 1) total = r.json.meta.total;
          assert.equal(r.json.meta.total, total, `${query}: the same total on page ${page}`);
          assert.equal(r.json.meta.last_page, Math.max(1, Math.ceil(total / perPage)), `${query}: last page`);
          got.push(...r.json.data.map((d: { id: string }) => Number(d.id)));
          if (r.json.links.next === null) {
            assert.equal(page, Math.max(1, Math.ceil(total / perPage)), `${query}: no next link on the last page only`);
            break;
          }
          assert.equal(r.json.data.length, perPage, `${query}: a full page ${page} before the last`);
        }
        return { got, total };
      };
      const expect = async (query: string, want: (m: Made) => boolean, perPage = 4, token?: string, order = newest) => {
        const ids = made.filter(want).sort(order).map((m) => m.id);
        const r = await pages(query, perPage, token);
        assert.deepEqual(r.got, ids, `${query}: every page in order`);
        assert.equal(r.total, ids.length, `${query}: the exact total`);
        return ids.length;
      };
      const movieOrTv = (m: Made) => m.cat === 631 || m.cat === 433;
      const shown = (m: Made) => freeleechPercent(own(m).down);
      try {
        assert.equal(await expect('categories[]=631&categories[]=433', movieOrTv), 18);
        assert.equal(await expect('categories[]=631&categories[]=433&categories[]=623', (m) => m.cat !== 634, 7), 27);
        assert.equal(await expect('categories[]=210&categories[]=623', () => true, 10), 30, 'a parent (Video: Movies, TV series, Documentaries) and a subcategory');
        assert.ok((await expect('categories[]=631&categories[]=433&alive=1', (m) => movieOrTv(m) && m.seeders >= 1, 3)) > 3, 'alive spans pages');
        await expect('categories[]=631&categories[]=623&dead=1', (m) => (m.cat === 631 || m.cat === 623) && m.seeders === 0, 2);
        await expect('categories[]=631&categories[]=433&categories[]=623&dying=1', (m) => m.cat !== 634 && m.seeders === 1 && m.completed >= 3, 1);
        assert.ok((await expect('categories[]=631&categories[]=433&free[]=100', (m) => movieOrTv(m) && shown(m) === 100, 2)) > 2, 'free spans pages');
        await expect('categories[]=631&categories[]=433&free[]=50&free[]=100', (m) => movieOrTv(m) && [50, 100].includes(shown(m)), 3);
        await expect('categories[]=631&categories[]=433&free[]=0&free[]=25', (m) => movieOrTv(m) && [0, 25].includes(shown(m)), 3);
        await expect('categories[]=433&categories[]=623&doubleup=1', (m) => (m.cat === 433 || m.cat === 623) && own(m).up >= 2, 2);
        await expect('categories[]=631&categories[]=433&alive=1&free[]=100&doubleup=1', (m) => movieOrTv(m) && m.seeders >= 1 && shown(m) === 100 && own(m).up >= 2, 1);
        const bySeeders = (a: Made, b: Made) => b.seeders - a.seeders || b.id - a.id;
        await expect('categories[]=631&categories[]=623&sortField=seeders&sortDirection=desc', (m) => m.cat === 631 || m.cat === 623, 5, undefined, bySeeders);

        // A member's token: free for them only, counted in their totals.
        const zero = made.find((m) => movieOrTv(m) && shown(m) === 0)!;
        await db.insertInto('freeleech_token_use').values({ user_id: bob.id, torrent_id: zero.id, created_at: now, expires_at: now + 3600 }).execute();
        const bobFree = await expect('categories[]=631&categories[]=433&free[]=100', (m) => movieOrTv(m) && (shown(m) === 100 || m.id === zero.id), 2, bobToken);
        const aliceFree = await expect('categories[]=631&categories[]=433&free[]=100', (m) => movieOrTv(m) && shown(m) === 100, 2);
        assert.equal(bobFree, aliceFree + 1, 'the token adds one torrent for its member');
        await expect('categories[]=631&categories[]=433&free[]=0', (m) => movieOrTv(m) && shown(m) === 0 && m.id !== zero.id, 2, bobToken);

        // A site-wide window of 50% and double upload: decided for the whole query.
        await db.insertInto('freeleech_window').values({ starts_at: now - 60, ends_at: now + 3600, upload_factor: 2, download_factor: 0.5, reason: 'test', created_by: null, created_at: now }).execute();
        await expect('categories[]=631&categories[]=433&free[]=50', (m) => movieOrTv(m) && shown(m) <= 50, 3);
        await expect('categories[]=631&categories[]=433&free[]=0&free[]=25', () => false);
        await expect('categories[]=631&categories[]=433&doubleup=1', movieOrTv, 5);
        const listed = await call('/api/torrents/filter?name=pagewalk&categories[]=631&categories[]=433&free[]=50&perPage=100');
        for (const d of listed.json.data as Array<{ attributes: { freeleech: string } }>) assert.equal(d.attributes.freeleech, '50%', 'what the filter selects is what the resource shows');
      } finally {
        await db.deleteFrom('freeleech_window').execute();
        await db.deleteFrom('freeleech_token_use').execute();
        await db.updateTable('torrent').set({ status: 'deleted' }).where('id', 'in', made.map((m) => m.id)).execute();
      }
    });
  });
});

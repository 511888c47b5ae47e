/**
 * Contract tests of T411's API (src/api/t411/): every answer's shape (keys and value types) is
 * compared with T411's recorded answers (copies in test/fixtures/t411/: the two JSON files, and the
 * JSON samples of the reference notes), on a whole site (web + tracker, SQLite) with the
 * default taxonomy, which keeps T411's ids.
 *
 * Covered: /auth (form and JSON, the same token again, each error code, rate limit, two-factor
 * accounts with a personal token as the password), token errors (missing, unknown, expired,
 * revoked, disabled account, a personal token), CORS and preflights, POST wherever GET, the
 * trees against the recorded files, search (filters, terms, order, pagination, default limit,
 * query-less form), anonymous uploads never leaking, pending torrents hidden from others,
 * details, the personalised download, top lists, bookmarks, profiles and privacy, the base path
 * and host forms, unknown calls.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { createApiToken, revokeApiToken } from '../../src/api/tokens.js';
import { renderDescription } from '../../src/markup/render.js';
import { addIpBan } from '../../src/site/discipline/ip-bans.js';
import { bencode } from '../../src/protocol/bencode.js';
import { hashToken } from '../../src/site/sessions.js';
import { insertTorrent, type InsertedTorrent } from '../../src/site/torrents/read.testing.js';
import { clearTopCache } from '../../src/site/search/top.js';
import { buildTorrent } from '../fixtures/metainfo/builders.js';
import { httpAnnounce } from '../helpers/announce.js';
import { bdecodeDict, dictString, infoHashOf } from '../helpers/bencode.js';
import { startSite, type TestSite } from '../helpers/site.js';

// --- the recorded answers -------------------------------------------------------------------------

// Copies of T411's recorded answers kept in the repository (test/fixtures/t411/): the two recorded
// trees, and the two samples of the team's reference notes (../shared/reference/t411/README.md).
const REF = new URL('../fixtures/t411/', import.meta.url);
const refText = (name: string) => readFileSync(new URL(name, REF), 'utf8');
const haveReference = existsSync(new URL('recorded-samples.json', REF));

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

/** The reference notes' two JSON samples: [Torrent sample, details sample]. */
function readmeSamples(): Obj[] {
  const s = JSON.parse(refText('recorded-samples.json')) as { torrent: Obj; details: Obj };
  return [s.torrent, s.details];
}

/** The JSON type of a value as a word (array, object, string, integer, number, ...). */
function typeOf(v: Json | undefined): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/** Asserts that `actual` has exactly the keys of `sample`, each with the sample's value type. */
function assertSameShape(actual: Json | undefined, sample: Obj, what: string, opts: { skip?: string[] } = {}): void {
  assert.equal(typeOf(actual), 'object', `${what} is an object`);
  const a = actual as Obj;
  assert.deepEqual(Object.keys(a).sort(), Object.keys(sample).sort(), `${what}: the recorded keys`);
  for (const k of Object.keys(sample)) {
    if (opts.skip?.includes(k)) continue;
    assert.equal(typeOf(a[k]), typeOf(sample[k]), `${what}.${k}: ${typeOf(sample[k])} as recorded`);
  }
}

// --- HTTP ---------------------------------------------------------------------------------------

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text: string;
  json: Json;
}

/** One request with full control of the headers (Host included). */
function call(
  base: string,
  method: string,
  path: string,
  o: { token?: string; form?: Record<string, string | string[]>; json?: unknown; host?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const url = new URL(path, base);
  const headers: Record<string, string> = { ...(o.headers ?? {}) };
  let body: Buffer | undefined;
  if (o.form) {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(o.form)) for (const x of Array.isArray(v) ? v : [v]) p.append(k, x);
    body = Buffer.from(p.toString());
    headers['content-type'] = 'application/x-www-form-urlencoded';
  } else if (o.json !== undefined) {
    body = Buffer.from(JSON.stringify(o.json));
    headers['content-type'] = 'application/json';
  }
  if (body) headers['content-length'] = String(body.length);
  if (o.token !== undefined) headers.authorization = o.token;
  if (o.host) headers.host = o.host;
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const buf = Buffer.concat(chunks);
        const text = buf.toString('utf8');
        let json: Json;
        try {
          json = JSON.parse(text) as Json;
        } catch {
          json = null;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: buf, text, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Asserts a T411 error answer: HTTP status (200 unless said), `{error, code}`. */
function assertError(r: Answer, code: number, status = 200): void {
  assert.equal(r.status, status, `HTTP ${status} (${r.text.slice(0, 200)})`);
  assert.match(String(r.headers['content-type']), /^application\/json; charset=utf-8/);
  const j = r.json as Obj;
  assert.deepEqual(Object.keys(j ?? {}).sort(), ['code', 'error'], 'an error has exactly error and code');
  assert.equal(typeof j.error, 'string');
  assert.ok((j.error as string).length > 0, 'the error says something');
  assert.equal(j.code, code, `code ${code}: ${String(j.error)}`);
}

// --- fixtures -----------------------------------------------------------------------------------

let seq = 0;
function rawTorrent(name: string, size = 1000 + seq++): Buffer {
  const b = buildTorrent('v1', { name, files: [{ path: [`${name}.mkv`], size }] });
  b.top.announce = 'http://uploader.example/announce';
  return bencode(b.top);
}

type Member = Awaited<ReturnType<TestSite['member']>>;
const now = () => Math.floor(Date.now() / 1000);
const TOKEN_SHAPE = /^(\d+):(\d+):([0-9a-f]{32})$/;

async function login(s: TestSite, m: Member & { name: string }): Promise<string> {
  const r = await call(s.base, 'POST', '/t411api/auth', { form: { username: m.name, password: m.password } });
  assert.equal(r.status, 200, r.text);
  const token = (r.json as Obj).token;
  assert.equal(typeof token, 'string', r.text);
  return token as string;
}

describe('T411 API', { skip: haveReference ? false : 'the T411 reference files are not present' }, () => {
  let s: TestSite;
  let alice: Member & { name: string };
  let bob: Member & { name: string };
  let carol: Member & { name: string };
  let aliceToken: string;
  let bobToken: string;
  let episode: InsertedTorrent;
  let movie: InsertedTorrent;
  let anon: InsertedTorrent;
  let pending: InsertedTorrent;
  let deleted: InsertedTorrent;
  const fillers: InsertedTorrent[] = [];
  const T0 = 1_448_401_448; // 2015-11-24 21:44:08 UTC
  let torrentSample: Obj;
  let detailsSample: Obj;

  before(async () => {
    [torrentSample, detailsSample] = readmeSamples() as [Obj, Obj];
    s = await startSite();
    const db = s.app.db();
    alice = { ...(await s.member('alice')), name: 'alice' };
    bob = { ...(await s.member('bob')), name: 'bob' };
    carol = { ...(await s.member('carol')), name: 'carol' };
    await db.updateTable('user').set({ uploaded: 5_000_000, downloaded: 1_000_000 }).execute();
    // TV series 433: quality 12, series language 1216 (VOSTFR), season 968, episode 937, genres 25 + 31 (multi).
    episode = await insertTorrent(db, {
      raw: rawTorrent('Vikings.S01E01.HDTV.x264.2HD.VOSTFR', 123_456_789),
      categoryId: 433,
      uploaderId: alice.id,
      termIds: [12, 1216, 968, 937, 25, 31],
      description: '[b]Saison 1[/b], épisode 1 <script>alert(1)</script>',
      createdAt: T0,
      seeders: 7,
      leechers: 2,
      timesCompleted: 11,
    });
    movie = await insertTorrent(db, { raw: rawTorrent('Le Film Etrange 2015', 999_999), categoryId: 631, uploaderId: bob.id, createdAt: T0 + 60, seeders: 3 });
    anon = await insertTorrent(db, { raw: rawTorrent('Secret Vikings Documentary'), categoryId: 634, uploaderId: carol.id, anonymous: 1, createdAt: T0 + 120 });
    pending = await insertTorrent(db, { raw: rawTorrent('Pending Vikings Upload'), categoryId: 433, uploaderId: bob.id, status: 'pending', createdAt: T0 + 180 });
    deleted = await insertTorrent(db, { raw: rawTorrent('Deleted Vikings Upload'), categoryId: 433, uploaderId: bob.id, status: 'deleted', createdAt: T0 + 200 });
    for (let i = 0; i < 11; i++) fillers.push(await insertTorrent(db, { raw: rawTorrent(`Filler Ubuntu ${i}`, 2000 + i), categoryId: 234, uploaderId: bob.id, createdAt: T0 + 1000 + i }));
    await db.updateTable('torrent').set({ verified: 1 }).where('id', '=', episode.id).execute();
    for (const t of [episode, movie, anon, pending, deleted, ...fillers]) await s.app.site().tracker.torrentChanged(t.id);
    // Live swarm of the episode: one seeder, one leecher (the stored copy says 7 and 2).
    for (const [m, left] of [[bob, 0], [carol, 1000]] as const) {
      const a = await httpAnnounce(`${s.listening.httpTracker!}/${m.passkey}/announce`, {
        infoHash: Buffer.from(episode.infoHashV1!, 'hex'),
        peerId: randomBytes(20),
        port: 6881 + left,
        uploaded: 0,
        downloaded: 0,
        left,
        event: 'started',
      });
      assert.equal(a.failure, null, `announce accepted: ${a.failure}`);
    }
    await db.updateTable('user').set({ privacy: 'strong' }).where('id', '=', alice.id).execute();
    aliceToken = await login(s, alice);
    bobToken = await login(s, bob);
  });
  after(() => s?.stop());

  describe('POST /auth', () => {
    it('answers {uid, token} to form fields and to JSON, the same token again', async () => {
      const form = await call(s.base, 'POST', '/t411api/auth', { form: { username: 'alice', password: alice.password } });
      assert.equal(form.status, 200);
      assert.match(String(form.headers['content-type']), /^application\/json; charset=utf-8/);
      assert.equal(form.headers['cache-control'], 'private, no-store', 'a token is never kept by a shared cache');
      const j = form.json as Obj;
      assert.deepEqual(Object.keys(j).sort(), ['token', 'uid']);
      assert.equal(j.uid, String(alice.id), 'uid is a string');
      const m = TOKEN_SHAPE.exec(j.token as string);
      assert.ok(m, `token shape <uid>:<n>:<hex>: ${String(j.token)}`);
      assert.equal(m[1], String(alice.id), 'the token starts with the uid');
      assert.equal(j.token, aliceToken, 'a live token is given again rather than a new one');
      const json = await call(s.base, 'POST', '/t411api/auth', { json: { username: 'alice', password: alice.password } });
      assert.deepEqual(json.json, j, 'JSON bodies work too');
      const fd = new FormData();
      fd.append('username', 'alice');
      fd.append('password', alice.password);
      const multipart = await fetch(`${s.base}/t411api/auth`, { method: 'POST', body: fd });
      assert.deepEqual(await multipart.json(), j, 'multipart forms too');
      fd.append('file', new Blob(['x']), 'x.txt');
      const withFile = await fetch(`${s.base}/t411api/auth`, { method: 'POST', body: fd });
      assert.equal(withFile.status, 413, 'a file is refused');
      assert.equal(((await withFile.json()) as Obj).code, 904);
      // Stored hashed only, kind t411, read scope, valid t411_token_ttl (90 days).
      const rows = await s.app.db().selectFrom('api_token').selectAll().where('user_id', '=', alice.id).execute();
      assert.equal(rows.length, 1, 'one token row for repeated logins');
      const row = rows[0]!;
      assert.equal(row.kind, 't411');
      assert.equal(row.scopes, 'read');
      assert.equal(row.token_hash, hashToken(aliceToken));
      assert.ok(!JSON.stringify(row).includes(m[3]!), 'the token is not stored in clear');
      assert.equal(row.expires_at! - row.created_at, 90 * 86400, 'valid 90 days');
    });

    it('makes a new token once the live one has less than half its life left', async () => {
      const dave = { ...(await s.member('dave')), name: 'dave' };
      const first = await login(s, dave);
      await s.app.db().updateTable('api_token').set({ expires_at: now() + 10 * 86400 }).where('user_id', '=', dave.id).execute();
      const second = await login(s, dave);
      assert.notEqual(second, first, 'a new token');
      const r = await call(s.base, 'GET', '/t411api/categories/tree', { token: first });
      assert.equal(r.status, 200);
      assert.equal(typeOf(r.json), 'object', 'the older token stays valid until it expires');
      assert.equal(await login(s, dave), second, 'then the newer one is given again');
    });

    it('answers T411 error codes: 101 unknown or deleted user, 107 wrong password, 103 disabled', async () => {
      assertError(await call(s.base, 'POST', '/t411api/auth', { form: { username: 'nobody-here', password: 'whatever' } }), 101);
      assertError(await call(s.base, 'POST', '/t411api/auth', { form: { username: '', password: 'whatever' } }), 101);
      assertError(await call(s.base, 'POST', '/t411api/auth', { form: { username: 'alice', password: 'wrong password' } }), 107);
      assertError(await call(s.base, 'POST', '/t411api/auth', { form: { username: 'alice' } }), 107);
      const erin = await s.member('erin');
      await s.app.db().updateTable('user').set({ enabled: 0 }).where('id', '=', erin.id).execute();
      assertError(await call(s.base, 'POST', '/t411api/auth', { form: { username: 'erin', password: erin.password } }), 103);
      const fred = await s.member('fred');
      await s.app.db().updateTable('user').set({ deleted_at: now() }).where('id', '=', fred.id).execute();
      assertError(await call(s.base, 'POST', '/t411api/auth', { form: { username: 'fred', password: fred.password } }), 101);
      // Only POST: a GET /auth is not a call (passwords stay out of URLs).
      assertError(await call(s.base, 'GET', `/t411api/auth?username=alice&password=${encodeURIComponent(alice.password)}`), 905, 404);
    });

    it('refuses the password of a two-factor account (108) and accepts a personal token as the password', async () => {
      const gina = await s.member('gina');
      const db = s.app.db();
      await db.updateTable('user').set({ totp_enabled: 1, totp_secret: 'JBSWY3DPEHPK3PXP' }).where('id', '=', gina.id).execute();
      assertError(await call(s.base, 'POST', '/t411api/auth', { form: { username: 'gina', password: gina.password } }), 108);
      const personal = await createApiToken(db, { userId: gina.id, kind: 'personal', name: 'client', scopes: ['read'], now: now() });
      const r = await call(s.base, 'POST', '/t411api/auth', { form: { username: 'gina', password: personal.token } });
      assert.equal(r.status, 200, r.text);
      assert.equal((r.json as Obj).uid, String(gina.id));
      // Somebody else's token is no password.
      const other = await createApiToken(db, { userId: bob.id, kind: 'personal', name: 'bob', scopes: ['read'], now: now() });
      assertError(await call(s.base, 'POST', '/t411api/auth', { form: { username: 'gina', password: other.token } }), 107);
      // A token without the read scope neither.
      const uploadOnly = await createApiToken(db, { userId: gina.id, kind: 'personal', name: 'up', scopes: ['upload'], now: now() });
      assertError(await call(s.base, 'POST', '/t411api/auth', { form: { username: 'gina', password: uploadOnly.token } }), 107);
    });
  });

  describe('tokens', () => {
    it('answers 202 without a token, with an unknown, malformed, revoked or personal token', async () => {
      assertError(await call(s.base, 'GET', '/t411api/categories/tree'), 202);
      assertError(await call(s.base, 'GET', '/t411api/categories/tree', { token: `${alice.id}:1:${'0'.repeat(32)}` }), 202);
      assertError(await call(s.base, 'GET', '/t411api/categories/tree', { token: 'x'.repeat(500) }), 202);
      const personal = await createApiToken(s.app.db(), { userId: alice.id, kind: 'personal', name: 'p', scopes: ['read'], now: now() });
      assertError(await call(s.base, 'GET', '/t411api/categories/tree', { token: personal.token }), 202);
      const t = await createApiToken(s.app.db(), { userId: carol.id, kind: 't411', name: 'T411 API', scopes: ['read'], now: now(), expiresAt: now() + 3600, token: `${carol.id}:5:${'ab'.repeat(16)}` });
      assert.equal((await call(s.base, 'GET', '/t411api/terms/tree', { token: t.token })).status, 200);
      assert.ok(await revokeApiToken(s.app.db(), carol.id, t.id, now()), 'revoked');
      assertError(await call(s.base, 'GET', '/t411api/terms/tree', { token: t.token }), 202);
    });

    it('answers 201 for an expired token and 103 for a disabled account', async () => {
      const past = now() - 10;
      const expired = await createApiToken(s.app.db(), { userId: bob.id, kind: 't411', name: 'T411 API', scopes: ['read'], now: past - 100, expiresAt: past, token: `${bob.id}:7:${'cd'.repeat(16)}` });
      assertError(await call(s.base, 'GET', '/t411api/bookmarks', { token: expired.token }), 201);
      const hank = { ...(await s.member('hank')), name: 'hank' };
      const token = await login(s, hank);
      await s.app.db().updateTable('user').set({ enabled: 0 }).where('id', '=', hank.id).execute();
      assertError(await call(s.base, 'GET', '/t411api/bookmarks', { token }), 103);
    });
  });

  describe('HTTP conventions', () => {
    it('enables CORS and answers preflights', async () => {
      const pre = await call(s.base, 'OPTIONS', '/t411api/torrents/search/vikings', {
        headers: { origin: 'https://client.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
      });
      assert.equal(pre.status, 204);
      assert.equal(pre.headers['access-control-allow-origin'], '*');
      assert.match(String(pre.headers['access-control-allow-headers']), /authorization/i);
      assert.match(String(pre.headers['access-control-allow-methods']), /POST/);
      const r = await call(s.base, 'GET', '/t411api/categories/tree', { token: aliceToken, headers: { origin: 'https://client.example' } });
      assert.equal(r.headers['access-control-allow-origin'], '*', 'on answers');
      const e = await call(s.base, 'GET', '/t411api/categories/tree', { headers: { origin: 'https://client.example' } });
      assert.equal(e.headers['access-control-allow-origin'], '*', 'on errors too');
      assert.equal(e.headers['set-cookie'], undefined, 'no cookie');
    });

    it('accepts POST wherever GET is, parameters in the body', async () => {
      const get = await call(s.base, 'GET', '/t411api/categories/tree', { token: aliceToken });
      const post = await call(s.base, 'POST', '/t411api/categories/tree', { token: aliceToken });
      assert.equal(post.status, 200);
      assert.deepEqual(post.json, get.json);
      const viaBody = await call(s.base, 'POST', '/t411api/torrents/search/ubuntu', { token: aliceToken, form: { limit: '3', offset: '1' } });
      const viaQuery = await call(s.base, 'GET', '/t411api/torrents/search/ubuntu?limit=3&offset=1', { token: aliceToken });
      assert.equal((viaBody.json as Obj).limit, 3);
      assert.deepEqual(viaBody.json, viaQuery.json);
    });

    it('answers unknown calls with a JSON 905 (HTTP 404), and malformed bodies with 904', async () => {
      assertError(await call(s.base, 'GET', '/t411api/nothing/here', { token: aliceToken }), 905, 404);
      assertError(await call(s.base, 'GET', '/t411api', { token: aliceToken }), 905, 404);
      assertError(await call(s.base, 'GET', '/t411api/torrents/top/year', { token: aliceToken }), 905, 404);
      const bad = await call(s.base, 'POST', '/t411api/auth', { headers: { 'content-type': 'application/json' }, json: undefined, form: undefined });
      assert.notEqual(bad.status, 500, 'no crash on an empty body');
      const r = await new Promise<Answer>((resolve, reject) => {
        const req = request(new URL('/t411api/auth', s.base), { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString();
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), text, json: JSON.parse(text) as Json });
          });
        });
        req.on('error', reject);
        req.end('{"username": ');
      });
      assertError(r, 904, 400);
    });
  });

  describe('trees', () => {
    it('/categories/tree has the recorded shape, ids and names', async () => {
      const recorded = JSON.parse(refText('recorded-categories-tree.json')) as Record<string, Obj>;
      const r = await call(s.base, 'GET', '/t411api/categories/tree/', { token: aliceToken });
      assert.equal(r.status, 200, 'trailing slash accepted');
      const ours = r.json as Record<string, Obj>;
      const sampleParent = recorded['210']!;
      const sampleSub = (sampleParent.cats as Record<string, Obj>)['631']!;
      for (const [id, p] of Object.entries(ours)) {
        assertSameShape(p, sampleParent, `parent ${id}`, { skip: ['cats'] });
        assert.equal(p.id, id, 'keyed by id');
        assert.equal(p.pid, '0');
        for (const [cid, c] of Object.entries(p.cats as Record<string, Obj>)) {
          assertSameShape(c, sampleSub, `subcategory ${cid}`);
          assert.equal(c.id, cid);
          assert.equal(c.pid, id);
        }
      }
      // The default taxonomy keeps T411's tree, less its adult section (456) and its unnamed
      // leftover parent (382).
      for (const [id, p] of Object.entries(recorded)) {
        if (id === '456' || id === '382') {
          assert.equal(ours[id], undefined, `${id} is not shipped`);
          continue;
        }
        assert.ok(ours[id], `parent ${id} (${String(p.name)}) is there`);
        assert.equal(ours[id]!.name, p.name, `parent ${id} keeps T411's name`);
        assert.deepEqual(ours[id]!.cats, p.cats, `the subcategories of ${id}, with T411's ids and names`);
      }
      assert.deepEqual(Object.keys(ours).sort(), Object.keys(recorded).filter((k) => k !== '456' && k !== '382').sort());
    });

    it('/terms/tree has the recorded shape, and the recorded ids, names and modes', async () => {
      const recorded = JSON.parse(refText('recorded-terms-tree.json')) as Record<string, Record<string, Obj>>;
      const r = await call(s.base, 'GET', '/t411api/terms/tree', { token: aliceToken });
      assert.equal(r.status, 200);
      const ours = r.json as Record<string, Record<string, Obj>>;
      const sampleType = recorded['433']!['7']!;
      for (const [sub, types] of Object.entries(ours)) {
        for (const [tid, type] of Object.entries(types)) {
          assertSameShape(type, sampleType, `terms ${sub}/${tid}`);
          assert.ok(type.mode === 'single' || type.mode === 'multi', 'mode single or multi');
          for (const [termId, label] of Object.entries(type.terms as Obj)) {
            assert.match(termId, /^\d+$/);
            assert.equal(typeof label, 'string', `term ${termId} label is a string`);
          }
        }
      }
      // Subcategories: the recorded ones less the adult section; Essaim binds GPS maps (393) too.
      const adult = ['461', '462', '632', '641'];
      assert.deepEqual(
        Object.keys(ours).filter((k) => k !== '393').sort(),
        Object.keys(recorded).filter((k) => !adult.includes(k)).sort(),
      );
      let recordedTerms = 0;
      let sameId = 0;
      let sameLabel = 0;
      for (const [sub, types] of Object.entries(recorded)) {
        if (adult.includes(sub)) continue;
        assert.deepEqual(Object.keys(ours[sub]!).sort(), Object.keys(types).sort(), `the term types of ${sub}`);
        for (const [tid, type] of Object.entries(types)) {
          const mine = ours[sub]![tid]!;
          assert.equal(mine.type, type.type, `type ${tid} keeps T411's name`);
          assert.equal(mine.mode, type.mode, `type ${tid} keeps T411's mode`);
          for (const [termId, label] of Object.entries(type.terms as Obj)) {
            recordedTerms++;
            const m = (mine.terms as Obj)[termId];
            if (m !== undefined) sameId++;
            if (m === label || (typeof label === 'string' && m === label.trim())) sameLabel++;
          }
        }
      }
      // A few terms are left out on purpose (bypassing software protection), a few relabelled
      // (accents, T411's doubled console names).
      assert.ok(sameId / recordedTerms > 0.98, `recorded term ids kept: ${sameId}/${recordedTerms}`);
      assert.ok(sameLabel / recordedTerms > 0.9, `recorded labels kept: ${sameLabel}/${recordedTerms}`);
      assert.equal((ours['433']!['7']!.terms as Obj)['12'], 'TVripHD 720 [Rip HD depuis Source HD]', "the README's quality term");
    });
  });

  describe('search', () => {
    const search = async (path: string, token = aliceToken) => {
      const r = await call(s.base, 'GET', `/t411api/torrents/search/${path}`, { token });
      assert.equal(r.status, 200, r.text.slice(0, 300));
      const j = r.json as Obj;
      assert.deepEqual(Object.keys(j).sort(), ['limit', 'offset', 'query', 'torrents', 'total'], 'the recorded keys');
      assert.equal(typeof j.query, 'string');
      assert.equal(typeOf(j.offset), 'integer', 'offset is an integer');
      assert.equal(typeOf(j.limit), 'integer', 'limit is an integer');
      assert.equal(typeof j.total, 'string', 'total is a string');
      assert.ok(Array.isArray(j.torrents), 'torrents is an array');
      for (const t of j.torrents as Json[]) assertSameShape(t, torrentSample, 'a search result');
      return j as { query: string; offset: number; limit: number; total: string; torrents: Obj[] };
    };
    const ids = (j: { torrents: Obj[] }) => j.torrents.map((t) => Number(t.id));

    it('gives T411 Torrents with every recorded field, as strings, live swarm counts', async () => {
      const j = await search('vikings');
      assert.equal(j.query, 'vikings');
      assert.equal(j.offset, 0);
      assert.equal(j.limit, 10, 'default limit 10');
      const t = j.torrents.find((x) => Number(x.id) === episode.id);
      assert.ok(t, 'the episode is found');
      assert.deepEqual(t, {
        id: String(episode.id),
        name: 'Vikings.S01E01.HDTV.x264.2HD.VOSTFR',
        category: '433',
        rewritename: 'vikings-s01e01-hdtv-x264-2hd-vostfr',
        seeders: '1',
        leechers: '1',
        comments: '0',
        isVerified: '1',
        added: '2015-11-24 21:44:08',
        size: '123456789',
        times_completed: '11',
        owner: String(alice.id),
        categoryname: 'Série TV',
        categoryimage: 'video-tv-series',
        username: 'alice',
        privacy: 'strong',
      });
      assert.deepEqual(Object.keys(t), Object.keys(torrentSample), "T411's key order");
      const m = j.torrents.find((x) => Number(x.id) === movie.id);
      assert.equal(m, undefined, 'the movie does not match "vikings"');
    });

    it('never shows an anonymous uploader, hides pending and deleted torrents from others', async () => {
      const j = await search('vikings');
      const a = j.torrents.find((x) => Number(x.id) === anon.id);
      assert.ok(a, 'the anonymous upload is listed');
      assert.equal(a.owner, '0');
      assert.equal(a.username, 'Anonyme');
      assert.equal(a.privacy, 'strong');
      const text = JSON.stringify(j);
      assert.ok(!text.includes('carol'), 'the uploader name appears nowhere');
      assert.ok(j.torrents.every((t) => t.owner !== String(carol.id)), 'nor their id');
      assert.ok(!ids(j).includes(pending.id), 'pending hidden');
      assert.ok(!ids(j).includes(deleted.id), 'deleted hidden');
      // Even its uploader sees no anonymous uploader in the API (staff neither).
      const own = await search('documentary', await login(s, carol));
      assert.equal(own.torrents[0]?.owner, '0');
    });

    it('filters by subcategory (cid, subcat), parent (cat) and terms', async () => {
      assert.deepEqual(ids(await search('vikings?cid=433')), [episode.id]);
      assert.deepEqual(ids(await search('vikings?subcat=634')), [anon.id]);
      assert.deepEqual(ids(await search('vikings?cat=210&order=added&type=asc')), [episode.id, anon.id]);
      assert.deepEqual(ids(await search('vikings?cat=0&order=added&type=asc')), [episode.id, anon.id], 'cat=0: every category');
      assert.deepEqual(ids(await search('vikings?term[46][]=937&term[45][]=968')), [episode.id], 'terms of two types');
      assert.deepEqual(ids(await search('vikings?term[46][]=938')), [], 'another episode');
      assert.deepEqual(ids(await search('vikings?term[46][]=938&term[46][]=937')), [episode.id], 'OR within a type');
      assert.deepEqual(ids(await search(`?${encodeURI('term[2][]=31')}`)), [episode.id], 'encoded brackets, query-less');
    });

    it('orders by T411 names with type asc|desc, pages with offset and limit', async () => {
      const newest = await search('ubuntu?limit=20');
      assert.equal(newest.total, '11');
      assert.deepEqual(ids(newest), [...fillers].reverse().map((f) => f.id), 'newest first by default');
      assert.deepEqual(ids(await search('ubuntu?limit=20&order=added&type=desc')), ids(newest), 'added desc: newest first');
      assert.deepEqual(ids(await search('ubuntu?limit=20&order=added&type=asc')), fillers.map((f) => f.id));
      assert.deepEqual(ids(await search('ubuntu?limit=20&order=size&type=asc')), fillers.map((f) => f.id), 'smallest first');
      assert.deepEqual(ids(await search('ubuntu?limit=20&order=size')), [...fillers].reverse().map((f) => f.id), 'desc by default');
      const page = await search('ubuntu?offset=4&limit=3&order=added&type=asc');
      assert.equal(page.offset, 4);
      assert.equal(page.limit, 3);
      assert.equal(page.total, '11');
      assert.deepEqual(ids(page), fillers.slice(4, 7).map((f) => f.id));
      assert.equal((await search('ubuntu')).torrents.length, 10, 'default limit 10');
      assert.equal((await search('ubuntu?limit=5000')).limit, 200, 'the limit is capped');
      assert.equal((await search('ubuntu?limit=abc')).limit, 10, 'a bad limit is the default');
      assert.deepEqual(ids(await search('ubuntu?order=nonsense&limit=20')), ids(newest), 'an unknown order is the default');
    });

    it('reads the query from the path (spaces as %20 or +, the site query language), and has a query-less form', async () => {
      assert.deepEqual(ids(await search('filler%20ubuntu%203')), [fillers[3]!.id]);
      assert.deepEqual(ids(await search('filler+ubuntu+3')), [fillers[3]!.id]);
      assert.deepEqual(ids(await search('%40name%20etrange')), [movie.id], '@name scope');
      assert.deepEqual(ids(await search('vikings%20-secret')), [episode.id], 'exclusion');
      const all = await search('?cid=631');
      assert.equal(all.query, '');
      assert.deepEqual(ids(all), [movie.id]);
      const bare = await call(s.base, 'GET', '/t411api/torrents/search?cid=631', { token: aliceToken });
      assert.deepEqual(bare.json, all as unknown as Json, 'without the trailing slash too');
    });
  });

  describe('details and download', () => {
    it('gives the recorded details fields, terms keyed by type name', async () => {
      const r = await call(s.base, 'GET', `/t411api/torrents/details/${episode.id}`, { token: bobToken });
      assert.equal(r.status, 200);
      assertSameShape(r.json, detailsSample, 'details');
      const d = r.json as Obj;
      assert.deepEqual(Object.keys(d), Object.keys(detailsSample), "T411's key order");
      assert.equal(d.id, String(episode.id));
      assert.equal(d.category, '433');
      assert.equal(d.categoryname, 'Série TV');
      assert.equal(d.categoryimage, 'video-tv-series');
      assert.equal(d.rewritename, 'vikings-s01e01-hdtv-x264-2hd-vostfr');
      assert.equal(d.owner, String(alice.id));
      assert.equal(d.username, 'alice');
      assert.equal(d.privacy, 'strong');
      const tor = await s.app.db().selectFrom('torrent').selectAll().where('id', '=', episode.id).executeTakeFirstOrThrow();
      assert.equal(d.description, renderDescription(tor.description, tor.description_format, {}), 'the description as the site renders it');
      assert.ok(!(d.description as string).includes('<script'), 'no script');
      assert.ok(!(d.description as string).includes('[b]'), 'BBCode rendered');
      assert.deepEqual(d.terms, {
        'Vidéo - Qualité': 'TVripHD 720 [Rip HD depuis Source HD]',
        'Vidéo - Langue': 'VOSTFR',
        'SérieTV - Saison': 'Saison 01',
        'SérieTV - Episode': 'Épisode 01',
        'Vidéo - Genre': ['Action', 'Comédie'],
      });
      // The README's sample terms: the same keys as ours for the single-valued types.
      for (const k of Object.keys(detailsSample.terms as Obj)) assert.equal(typeof (d.terms as Obj)[k], 'string', `term type ${k}`);
    });

    it('masks anonymous uploaders and answers 301 for unknown, pending (to others) and deleted torrents', async () => {
      const a = (await call(s.base, 'GET', `/t411api/torrents/details/${anon.id}`, { token: aliceToken })).json as Obj;
      assert.equal(a.owner, '0');
      assert.equal(a.username, 'Anonyme');
      assert.deepEqual(a.terms, {}, 'no terms: an empty object');
      for (const id of [999999, pending.id, deleted.id]) assertError(await call(s.base, 'GET', `/t411api/torrents/details/${id}`, { token: aliceToken }), 301);
      assertError(await call(s.base, 'GET', '/t411api/torrents/details/abc', { token: aliceToken }), 301);
      const own = await call(s.base, 'GET', `/t411api/torrents/details/${pending.id}`, { token: bobToken });
      assert.equal((own.json as Obj).id, String(pending.id), 'the uploader sees their pending torrent');
    });

    it('downloads the .torrent personalised with the caller passkey', async () => {
      const r = await call(s.base, 'GET', `/t411api/torrents/download/${episode.id}`, { token: bobToken });
      assert.equal(r.status, 200);
      assert.equal(r.headers['content-type'], 'application/x-bittorrent');
      assert.match(String(r.headers['content-disposition']), /attachment; filename="vikings-s01e01-hdtv-x264-2hd-vostfr\.torrent"/);
      const d = bdecodeDict(r.body);
      assert.ok(dictString(d, 'announce')?.includes(bob.passkey), 'the announce URL carries the caller passkey');
      assert.ok(!r.body.toString('latin1').includes(alice.passkey), "not the uploader's");
      assert.equal(infoHashOf(r.body), episode.infoHashV1, 'the info dictionary is untouched');
      const post = await call(s.base, 'POST', `/t411api/torrents/download/${episode.id}`, { token: aliceToken });
      assert.ok(dictString(bdecodeDict(post.body), 'announce')?.includes(alice.passkey), 'POST works, with the passkey of that caller');
      for (const id of ['999999', String(pending.id), String(deleted.id), 'x']) assertError(await call(s.base, 'GET', `/t411api/torrents/download/${id}`, { token: aliceToken }), 301);
      // A member who must verify their email first is refused (903).
      const ivan = { ...(await s.member('ivan')), name: 'ivan' };
      await s.app.db().updateTable('user').set({ email_verified: 0 }).where('id', '=', ivan.id).execute();
      assertError(await call(s.base, 'GET', `/t411api/torrents/download/${episode.id}`, { token: await login(s, ivan) }), 903);
    });
  });

  describe('top lists', () => {
    it('answers bare arrays of Torrents', async () => {
      clearTopCache(s.app.db());
      const db = s.app.db();
      await db.insertInto('user_torrent').values({ user_id: bob.id, torrent_id: movie.id, completed_at: now() - 3600, first_seen_at: now() - 7200, last_seen_at: now() - 3600 }).execute();
      const top = await call(s.base, 'GET', '/t411api/torrents/top/100', { token: aliceToken });
      assert.equal(top.status, 200);
      assert.ok(Array.isArray(top.json), 'an array');
      const list = top.json as Obj[];
      for (const t of list) assertSameShape(t, torrentSample, 'a top torrent');
      assert.deepEqual(list.map((t) => Number(t.id)).slice(0, 2), [episode.id, movie.id], 'most active first (stored counts 7+2, then 3)');
      assert.equal(list[0]!.seeders, '1', 'shown with the live counts');
      for (const period of ['today', 'week', 'month']) {
        const r = await call(s.base, 'POST', `/t411api/torrents/top/${period}`, { token: aliceToken });
        assert.ok(Array.isArray(r.json), `${period}: an array`);
        assert.deepEqual((r.json as Obj[]).map((t) => Number(t.id)), [movie.id], `${period}: the torrent completed an hour ago`);
      }
    });
  });

  describe('bookmarks', () => {
    it('saves, lists and deletes bookmarks with T411 codes', async () => {
      const b = (p: string, method = 'GET') => call(s.base, method, `/t411api/bookmarks${p}`, { token: bobToken });
      assert.deepEqual((await b('')).json, [], 'none yet');
      const saved = await b(`/save/${episode.id}`);
      assert.equal(saved.status, 200);
      assert.equal(saved.json, String(episode.id), 'the bookmark id: the torrent id');
      assertError(await b(`/save/${episode.id}`), 402);
      assert.equal((await b(`/save/${anon.id}`, 'POST')).json, String(anon.id));
      assert.equal((await b(`/save/${pending.id}`)).json, String(pending.id), 'the uploader may bookmark their pending torrent');
      assertError(await call(s.base, 'GET', `/t411api/bookmarks/save/${pending.id}`, { token: aliceToken }), 301);
      assertError(await b('/save/999999'), 301);
      assertError(await b(`/save/${deleted.id}`), 301);
      const list = (await b('')).json as Obj[];
      assert.deepEqual(list.map((t) => Number(t.id)).sort((x, y) => x - y), [episode.id, anon.id, pending.id].sort((x, y) => x - y));
      for (const t of list) assertSameShape(t, torrentSample, 'a bookmark');
      assert.ok(!JSON.stringify(list).includes('carol'), 'no anonymous uploader in bookmarks');
      const del = await b(`/delete/${episode.id},999999,abc`);
      assert.equal(del.json, 1, 'the number deleted');
      assertError(await b(`/delete/${episode.id}`), 401);
      assertError(await b('/delete/abc'), 401);
      assert.equal((await b(`/delete/${anon.id},${pending.id}`, 'DELETE')).json, 2, 'DELETE works too');
      assert.deepEqual((await b('')).json, []);
      // Bookmarks are the member's own.
      assert.equal((await call(s.base, 'GET', `/t411api/bookmarks/save/${movie.id}`, { token: aliceToken })).json, String(movie.id));
      assertError(await b(`/delete/${movie.id}`), 401);
      assert.equal(((await call(s.base, 'GET', '/t411api/bookmarks', { token: aliceToken })).json as Obj[]).length, 1);
    });
  });

  describe('profiles', () => {
    it('gives the recorded profile keys as strings, traffic as the privacy level allows', async () => {
      const keys = ['age', 'avatar', 'downloaded', 'gender', 'uploaded', 'username'];
      const own = (await call(s.base, 'GET', `/t411api/users/profile/${alice.id}`, { token: aliceToken })).json as Obj;
      assert.deepEqual(Object.keys(own).sort(), keys);
      for (const k of keys) assert.equal(typeof own[k], 'string', `${k} is a string`);
      assert.equal(own.username, 'alice');
      assert.equal(own.uploaded, '5000000', 'the member sees their own traffic');
      assert.equal(own.downloaded, '1000000');
      const hidden = (await call(s.base, 'POST', `/t411api/users/profile/${alice.id}`, { token: bobToken })).json as Obj;
      assert.deepEqual(Object.keys(hidden).sort(), keys);
      assert.equal(hidden.username, 'alice');
      assert.equal(hidden.uploaded, '', 'strong privacy: traffic hidden');
      assert.equal(hidden.downloaded, '');
      const normal = (await call(s.base, 'GET', `/t411api/users/profile/${bob.id}`, { token: aliceToken })).json as Obj;
      assert.equal(normal.uploaded, '5000000', 'normal privacy: traffic shown');
      assertError(await call(s.base, 'GET', '/t411api/users/profile/999999', { token: aliceToken }), 101);
      assertError(await call(s.base, 'GET', '/t411api/users/profile/abc', { token: aliceToken }), 101);
    });
  });
});

describe('T411 API: base path, host, limits', () => {
  let s: TestSite;
  let m: Member & { name: string };
  before(async () => {
    s = await startSite(null, { api: { t411_base_path: '/legacy/t411', t411_host: 'api.t411.test', rate_limit: 6 }, web: { login_attempts: 3 } });
    m = { ...(await s.member('jack')), name: 'jack' };
  });
  after(() => s?.stop());

  it('serves the configured base path, and the root path on the configured host', async () => {
    const auth = await call(s.base, 'POST', '/legacy/t411/auth', { form: { username: 'jack', password: m.password } });
    const token = (auth.json as Obj).token as string;
    assert.match(token, TOKEN_SHAPE);
    const viaBase = await call(s.base, 'GET', '/legacy/t411/categories/tree', { token });
    assert.equal(viaBase.status, 200);
    assert.equal(typeOf(viaBase.json), 'object');
    assert.equal((await call(s.base, 'GET', '/t411api/categories/tree', { token })).status, 404, 'not at the default path any more');
    const viaHost = await call(s.base, 'GET', '/categories/tree', { token, host: 'api.t411.test' });
    assert.equal(viaHost.status, 200);
    assert.deepEqual(viaHost.json, viaBase.json);
    const withPort = await call(s.base, 'GET', '/categories/tree', { token, host: 'API.T411.test:8443' });
    assert.deepEqual(withPort.json, viaBase.json, 'any case, any port');
    const hostAuth = await call(s.base, 'POST', '/auth', { host: 'api.t411.test', form: { username: 'jack', password: m.password } });
    assert.equal((hostAuth.json as Obj).token, token);
    assertError(await call(s.base, 'GET', '/no/such/call', { token, host: 'api.t411.test' }), 905, 404);
    const pre = await call(s.base, 'OPTIONS', '/torrents/search/x', { host: 'api.t411.test' });
    assert.equal(pre.status, 204);
    // Other hosts keep the website at those paths.
    const site = await call(s.base, 'GET', '/categories/tree', { token });
    assert.notEqual(site.headers['access-control-allow-origin'], '*', 'the website answers other hosts');
    const page = await call(s.base, 'GET', '/torrents/search/x', { token, host: 'www.example.test' });
    assert.equal(page.json, null, 'not the API');
  });

  it('limits requests per token (901, HTTP 429) and failed logins (901) without checking the password', async () => {
    const token = (await call(s.base, 'POST', '/legacy/t411/auth', { form: { username: 'jack', password: m.password } })).json as Obj;
    let limited: Answer | null = null;
    for (let i = 0; i < 10 && !limited; i++) {
      const r = await call(s.base, 'GET', '/legacy/t411/terms/tree', { token: token.token as string });
      if (r.status === 429) limited = r;
    }
    assert.ok(limited, 'the per-token limit answers 429');
    assertError(limited, 901, 429);
    assert.ok(Number(limited.headers['retry-after']) > 0, 'Retry-After');
    for (let i = 0; i < 3; i++) assertError(await call(s.base, 'POST', '/legacy/t411/auth', { form: { username: 'jack', password: 'wrong' } }), 107);
    const blocked = await call(s.base, 'POST', '/legacy/t411/auth', { form: { username: 'jack', password: m.password } });
    assertError(blocked, 901, 429);
  });

  it('refuses banned addresses (902, HTTP 403), still with CORS', async () => {
    await addIpBan(s.app.db(), { id: m.id, username: 'jack' }, { cidr: '127.0.0.1/32', reason: 'test', expiresAt: null }, now());
    const r = await call(s.base, 'GET', '/legacy/t411/categories/tree', { token: 'whatever' });
    assertError(r, 902, 403);
    assert.equal(r.headers['access-control-allow-origin'], '*');
  });
});

/**
 * Essaim's JSON API /api/v1 end to end (a whole site on SQLite, real HTTP): tokens and scopes,
 * rate limits, listing and search, visibility of pending and deleted torrents, the personalised
 * download, upload and its refusals, bookmarks, the member's stats without secrets, JSON errors,
 * and the OpenAPI document: every route is in it, and every answer these tests receive conforms
 * to the schema it declares for that status. The reference page lists every operation.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createApiToken } from '../../src/api/tokens.js';
import { checkSchema } from '../../src/api/v1/schema-check.testing.js';
import type { OpenApiDocument } from '../../src/api/openapi.js';
import { invalidateCatalogue } from '../../src/site/catalogue/catalogue.js';
import { insertCategories, insertTermType, insertTorrent, type InsertedTorrent } from '../../src/site/torrents/read.testing.js';
import { bdecode, bencode } from '../../src/protocol/bencode.js';
import { parseTorrentFile } from '../../src/metainfo/torrent-file.js';
import { buildTorrent } from '../fixtures/metainfo/builders.js';
import { startSite, type TestSite } from '../helpers/site.js';
import { chromiumUnavailable, launchChromium, seriousA11yViolations } from '../helpers/chromium.js';

type Member = Awaited<ReturnType<TestSite['member']>>;

interface Answer {
  status: number;
  headers: Headers;
  body: Buffer;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

let serial = 0;
/** The announce URL and the info hash of a .torrent. */
function readTorrent(body: Buffer): { announce: string; infoHashV1: string | null } {
  const d = bdecode(body);
  assert.ok(d.ok && d.value instanceof Map, 'the .torrent decodes');
  const announce = d.value.get('announce');
  assert.ok(Buffer.isBuffer(announce), 'it has an announce URL');
  const parsed = parseTorrentFile(body);
  assert.ok(parsed.ok, 'it parses');
  return { announce: announce.toString('utf8'), infoHashV1: parsed.torrent.infoHashV1 };
}

function rawTorrent(name: string): Buffer {
  const b = buildTorrent('v1', { name, files: [{ path: ['video.bin'], size: 30000 + serial++ }, { path: ['sub', 'notes.txt'], size: 100 }] });
  return Buffer.from(bencode(b.top));
}

const EXPECTED_ROUTES = [
  'get /api/v1/torrents',
  'post /api/v1/torrents',
  'get /api/v1/torrents/{id}',
  'get /api/v1/torrents/{id}/download',
  'get /api/v1/categories',
  'get /api/v1/me',
  'get /api/v1/bookmarks',
  'put /api/v1/bookmarks/{id}',
  'delete /api/v1/bookmarks/{id}',
];

describe('JSON API /api/v1', () => {
  let s: TestSite;
  let doc: OpenApiDocument;
  let alice: Member; // uploader role: publishes directly
  let bob: Member; // plain member: uploads wait for moderation
  let aliceRead = '';
  let aliceAll = '';
  let bobAll = '';
  const t: Record<string, InsertedTorrent> = {};
  /** Answers checked against the document: "<method> <template> <status>". */
  const checked = new Set<string>();

  /** Finds the operation of a concrete path in the document. */
  function operationOf(method: string, path: string) {
    for (const [template, ops] of Object.entries(doc.paths)) {
      const re = new RegExp('^' + template.replace(/\{[^}]+\}/g, '[^/]+') + '$');
      if (re.test(path) && ops[method]) return { template, op: ops[method]! };
    }
    return null;
  }

  /** Calls the API; a JSON answer of a documented route must match the schema declared for its status. */
  async function api(method: string, path: string, o: { token?: string | null; headers?: Record<string, string>; body?: RequestInit['body'] } = {}): Promise<Answer> {
    const headers: Record<string, string> = { ...(o.headers ?? {}) };
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    const res = await fetch(new URL(path, s.base), { method, headers, body: o.body ?? null });
    const body = Buffer.from(await res.arrayBuffer());
    const type = res.headers.get('content-type') ?? '';
    const json = type.startsWith('application/json') ? JSON.parse(body.toString('utf8')) : null;
    const pathname = new URL(path, s.base).pathname;
    if (doc && pathname.startsWith('/api/v1/')) {
      const found = operationOf(method.toLowerCase(), pathname);
      if (found) {
        const declared = found.op.responses[String(res.status)];
        assert.ok(declared, `${method} ${found.template} answered ${res.status}, which the document does not declare`);
        const media = declared.content ? Object.keys(declared.content)[0] : undefined;
        if (media === 'application/json') {
          assert.ok(json !== null, `${method} ${pathname} ${res.status}: JSON declared, got ${type}`);
          const problems = checkSchema(json, declared.content!['application/json']!.schema, doc);
          assert.deepEqual(problems, [], `${method} ${pathname} ${res.status} does not match its schema: ${JSON.stringify(json).slice(0, 400)}`);
        } else if (media) {
          assert.ok(type.startsWith(media), `${method} ${pathname} ${res.status}: ${media} declared, got ${type}`);
        } else {
          assert.equal(body.length, 0, `${method} ${pathname} ${res.status}: no content declared`);
        }
        checked.add(`${method.toLowerCase()} ${found.template} ${res.status}`);
      } else {
        // Unknown routes answer the JSON error shape.
        assert.deepEqual(checkSchema(json, doc.components.schemas.Error!, doc), [], `unknown route ${pathname}: error shape`);
      }
    }
    return { status: res.status, headers: res.headers, body, json };
  }

  before(async () => {
    s = await startSite(null, { api: { rate_limit: 100000, rate_limit_ip: 100000 } });
    const db = s.app.db();
    await insertCategories(db, [
      { id: 80101, name_en: 'Video', name_fr: 'Vidéo' },
      { id: 80102, parent_id: 80101, name_en: 'Series', name_fr: 'Séries' },
      { id: 80103, parent_id: 80101, name_en: 'Films' },
    ]);
    await insertTermType(db, {
      id: 80201,
      name_en: 'Quality',
      name_fr: 'Qualité',
      mode: 'single',
      categories: [80102, 80103],
      terms: [
        { id: 80301, name_en: '1080p' },
        { id: 80302, name_en: '720p' },
      ],
    });
    await insertTermType(db, { id: 80202, name_en: 'Language', mode: 'multi', categories: [80103], terms: [{ id: 80311, name_en: 'French' }] });
    invalidateCatalogue(db);
    alice = await s.member('alice', { role: 'uploader' });
    bob = await s.member('bob');
    const now = Math.floor(Date.now() / 1000);
    aliceRead = (await createApiToken(db, { userId: alice.id, kind: 'personal', name: 'read', scopes: ['read'], now })).token;
    aliceAll = (await createApiToken(db, { userId: alice.id, kind: 'personal', name: 'all', scopes: ['read', 'upload'], now })).token;
    bobAll = (await createApiToken(db, { userId: bob.id, kind: 'personal', name: 'all', scopes: ['read', 'upload'], now })).token;
    const mk = (key: string, name: string, extra: Partial<Parameters<typeof insertTorrent>[1]> = {}) =>
      insertTorrent(db, { raw: rawTorrent(name), name, categoryId: 80102, uploaderId: alice.id, ...extra }).then((x) => (t[key] = x));
    await mk('v1080', 'Vikings S01 1080p', { termIds: [80301], createdAt: now - 300, description: '[b]Bold[/b] <script>x</script>', nfo: 'NFO TEXT' });
    await mk('v720', 'Vikings S02 720p', { termIds: [80302], createdAt: now - 200 });
    await mk('empire', 'Empire HDTV', { categoryId: 80103, createdAt: now - 100, anonymous: 1 });
    await mk('pending', 'Vikings Pending Cut', { uploaderId: bob.id, status: 'pending' });
    await mk('deleted', 'Vikings Deleted', { status: 'deleted', deletedReason: 'dupe' });
    await db.updateTable('torrent').set({ verified: 1 }).where('id', '=', t.v1080!.id).execute();
    const r = await fetch(new URL('/api/openapi.json', s.base));
    assert.equal(r.status, 200, 'the document is served without a token');
    doc = (await r.json()) as OpenApiDocument;
  });
  after(async () => {
    await s.stop();
  });

  describe('the OpenAPI document', () => {
    it('lists every /api/v1 route with its responses, security and shared schemas', () => {
      assert.equal(doc.openapi, '3.1.0');
      assert.match(doc.info.version, /^\d+\.\d+\.\d+/);
      assert.equal(doc.servers[0]!.url, s.app.site().publicUrl);
      const routes = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m} ${p}`));
      assert.deepEqual([...routes].sort(), [...EXPECTED_ROUTES].sort());
      for (const [p, ops] of Object.entries(doc.paths)) {
        for (const [m, op] of Object.entries(ops)) {
          const ok = Object.keys(op.responses).filter((x) => x.startsWith('2'));
          assert.ok(ok.length > 0, `${m} ${p} declares a success answer`);
          for (const e of ['401', '403', '429', '500']) assert.ok(op.responses[e], `${m} ${p} declares ${e}`);
          assert.deepEqual(op.responses['401']!.content!['application/json']!.schema, { $ref: '#/components/schemas/Error' }, 'errors use the shared schema');
          assert.ok(op.security.length === 3 && op.security.every((sec) => Object.values(sec)[0]!.length === 1), `${m} ${p} names its scope`);
          assert.ok(op['x-codeSamples'][0]!.source.startsWith('curl'), 'a curl example');
        }
      }
      assert.deepEqual(doc.paths['/api/v1/torrents']!.post!.security[0], { bearerAuth: ['upload'] });
      assert.deepEqual(doc.paths['/api/v1/torrents']!.get!.security[0], { bearerAuth: ['read'] });
      assert.ok(doc.paths['/api/v1/torrents']!.post!.requestBody!.content['multipart/form-data'], 'the upload is multipart');
      assert.ok(doc.paths['/api/v1/torrents/{id}/download']!.get!.responses['200']!.content!['application/x-bittorrent'], 'the download is a .torrent');
      for (const name of ['Torrent', 'TorrentDetails', 'TorrentList', 'Error', 'Member', 'CategoryTree', 'BookmarkList', 'UploadResult']) {
        assert.ok(doc.components.schemas[name], `component ${name}`);
      }
      assert.deepEqual(Object.keys(doc.components.securitySchemes).sort(), ['apiKeyHeader', 'apiKeyQuery', 'bearerAuth']);
      const opIds = Object.values(doc.paths).flatMap((ops) => Object.values(ops).map((op) => op.operationId));
      assert.equal(new Set(opIds).size, opIds.length, 'operationIds are unique');
      for (const [p, ops] of Object.entries(doc.paths)) {
        const inPath = [...p.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort();
        for (const op of Object.values(ops)) {
          assert.deepEqual((op.parameters ?? []).filter((x) => x.in === 'path').map((x) => x.name).sort(), inPath, `${op.operationId}: path parameters`);
        }
      }
      const listParams = doc.paths['/api/v1/torrents']!.get!.parameters!.map((p) => p.name);
      for (const p of ['q', 'category', 'terms', 'sort', 'order', 'offset', 'limit', 'verified', 'lang']) assert.ok(listParams.includes(p), `list parameter ${p}`);
      const fieldNames = (x: unknown): string[] =>
        x && typeof x === 'object'
          ? Object.entries(x).flatMap(([k, v]) => (k === 'properties' && v && typeof v === 'object' ? [...Object.keys(v), ...fieldNames(v)] : fieldNames(v)))
          : [];
      const memberFields = fieldNames(doc.components.schemas.Member);
      assert.ok(memberFields.includes('username') && memberFields.includes('ratio'), 'the Member fields are found');
      for (const f of memberFields) assert.ok(!/passkey|rss|email$|password|token_hash/.test(f), `the Member schema has no secret field (${f})`);
    });

    it('the reference page lists every operation, styled by the site, without inline script or style', async () => {
      const r = await fetch(new URL('/api/docs', s.base));
      assert.equal(r.status, 200);
      assert.match(r.headers.get('content-type') ?? '', /^text\/html/);
      assert.match(r.headers.get('content-security-policy') ?? '', /script-src 'self'/, 'the site CSP');
      const page = await r.text();
      for (const ops of Object.values(doc.paths)) {
        for (const [m, op] of Object.entries(ops)) {
          assert.ok(page.includes(`id="op-${op.operationId}"`), `section of ${op.operationId}`);
          assert.ok(page.includes(`${m.toUpperCase()} `), `method ${m}`);
        }
      }
      for (const route of EXPECTED_ROUTES) {
        const [m, p] = route.split(' ');
        assert.ok(page.includes(`<code>${m!.toUpperCase()} ${p}</code>`), `the page shows ${route}`);
      }
      assert.ok(page.includes('href="/static/site.css"'), 'the site stylesheet');
      assert.ok(page.includes('curl'), 'curl examples');
      assert.ok(page.includes('Authorization: Bearer $ESSAIM_TOKEN'), 'token in the Bearer header');
      assert.ok(!/<script|<style|\sstyle=|\son[a-z]+=/i.test(page), 'no inline script or style');
      assert.ok(!/https?:\/\/(?!127\.0\.0\.1)[^"'\s<]*\.(js|css)/.test(page), 'no CDN asset');
    });

    describe('in Chromium', { skip: chromiumUnavailable() ?? false }, () => {
      it('the reference page has no serious accessibility violation', async () => {
        const browser = await launchChromium();
        try {
          const page = await browser.newPage();
          await page.goto(new URL('/api/docs', s.base).toString());
          const violations = await seriousA11yViolations(page);
          assert.deepEqual(violations, [], JSON.stringify(violations, null, 1));
        } finally {
          await browser.close();
        }
      });
    });
  });

  describe('authentication and errors', () => {
    it('401 without a token, with an unknown one, and with a revoked one', async () => {
      const none = await api('GET', '/api/v1/me');
      assert.equal(none.status, 401);
      assert.equal(none.json.error.code, 'unauthorized');
      const bad = await api('GET', '/api/v1/me', { token: 'es_' + '0'.repeat(40) });
      assert.equal(bad.status, 401);
      assert.equal(bad.json.error.code, 'unauthorized');
      const db = s.app.db();
      const now = Math.floor(Date.now() / 1000);
      const gone = await createApiToken(db, { userId: bob.id, kind: 'personal', name: 'gone', scopes: ['read'], now });
      await db.updateTable('api_token').set({ revoked_at: now }).where('id', '=', gone.id).execute();
      assert.equal((await api('GET', '/api/v1/me', { token: gone.token })).status, 401);
      const expired = await createApiToken(db, { userId: bob.id, kind: 'personal', name: 'old', scopes: ['read'], now, expiresAt: now - 1 });
      const e = await api('GET', '/api/v1/torrents', { token: expired.token });
      assert.equal(e.status, 401);
      assert.equal(e.json.error.code, 'token_expired');
      const carol = await s.member('carol');
      const carolToken = (await createApiToken(db, { userId: carol.id, kind: 'personal', name: 'x', scopes: ['read'], now })).token;
      assert.equal((await api('GET', '/api/v1/me', { token: carolToken })).status, 200);
      await db.updateTable('user').set({ enabled: 0 }).where('id', '=', carol.id).execute();
      const disabled = await api('GET', '/api/v1/me', { token: carolToken });
      assert.equal(disabled.status, 401);
      assert.equal(disabled.json.error.code, 'account_disabled');
    });

    it('accepts the token as Bearer, X-Api-Key or the apikey parameter', async () => {
      assert.equal((await api('GET', '/api/v1/me', { token: aliceRead })).status, 200);
      assert.equal((await api('GET', '/api/v1/me', { headers: { 'x-api-key': aliceRead } })).status, 200);
      assert.equal((await api('GET', `/api/v1/me?apikey=${aliceRead}`)).status, 200);
      assert.equal((await api('GET', `/api/v1/torrents?apikey=${aliceRead}&limit=1`)).status, 200);
    });

    it('403 insufficient_scope for an upload with a read-only token', async () => {
      const form = new FormData();
      form.append('category', '80102');
      form.append('torrent', new Blob([new Uint8Array(rawTorrent('scope test'))]), 'x.torrent');
      const r = await api('POST', '/api/v1/torrents', { token: aliceRead, body: form });
      assert.equal(r.status, 403);
      assert.equal(r.json.error.code, 'insufficient_scope');
      const listed = await api('GET', '/api/v1/torrents?q=%22scope%20test%22', { token: aliceRead });
      assert.equal(listed.json.total, 0, 'nothing was stored');
    });

    it('400 bad_request naming the parameter', async () => {
      const big = await api('GET', '/api/v1/torrents?limit=500', { token: aliceRead });
      assert.equal(big.status, 400);
      assert.equal(big.json.error.code, 'bad_request');
      assert.match(big.json.error.message, /"limit"/);
      const sort = await api('GET', '/api/v1/torrents?sort=bogus', { token: aliceRead });
      assert.equal(sort.status, 400);
      assert.match(sort.json.error.message, /"sort".*one of/);
      const terms = await api('GET', '/api/v1/torrents?terms=1,x', { token: aliceRead });
      assert.equal(terms.status, 400);
      assert.match(terms.json.error.message, /"terms"/);
      const id = await api('GET', '/api/v1/torrents/abc', { token: aliceRead });
      assert.equal(id.status, 400);
      assert.match(id.json.error.message, /path parameter "id"/);
      const zero = await api('GET', '/api/v1/torrents/0', { token: aliceRead });
      assert.equal(zero.status, 400);
    });

    it('unknown routes answer 404 in JSON', async () => {
      for (const path of ['/api/v1/nope', '/api/v1', '/api/v1/torrents/1/nope']) {
        const r = await api('GET', path, { token: aliceRead });
        assert.equal(r.status, 404, path);
        assert.equal(r.json.error.code, 'not_found', path);
      }
      const wrongMethod = await api('PATCH', '/api/v1/torrents', { token: aliceRead });
      assert.equal(wrongMethod.status, 404);
      assert.equal(wrongMethod.json.error.code, 'not_found');
    });

    it('429 rate_limited over api.rate_limit, per token', async (tc) => {
      const small = await startSite(tc, { api: { rate_limit: 3, rate_limit_ip: 100000, rate_window: 600 } });
      const m = await small.member('limited');
      const now = Math.floor(Date.now() / 1000);
      const tok = (await createApiToken(small.app.db(), { userId: m.id, kind: 'personal', name: 'x', scopes: ['read'], now })).token;
      const other = (await createApiToken(small.app.db(), { userId: m.id, kind: 'personal', name: 'y', scopes: ['read'], now })).token;
      const call = (token: string) => fetch(new URL('/api/v1/me', small.base), { headers: { authorization: `Bearer ${token}` } });
      for (let i = 0; i < 3; i++) assert.equal((await call(tok)).status, 200, `call ${i + 1} within the limit`);
      const over = await call(tok);
      assert.equal(over.status, 429);
      assert.equal(over.headers.get('retry-after'), '600');
      const body = (await over.json()) as { error: { code: string } };
      assert.equal(body.error.code, 'rate_limited');
      assert.deepEqual(checkSchema(body, doc.paths['/api/v1/me']!.get!.responses['429']!.content!['application/json']!.schema, doc), []);
      assert.equal((await call(other)).status, 200, 'another token has its own count');
    });
  });

  describe('torrents', () => {
    it('lists active torrents, newest first, with live counts and absolute links', async () => {
      const r = await api('GET', '/api/v1/torrents', { token: aliceRead });
      assert.equal(r.status, 200);
      const ids = r.json.torrents.map((x: { id: number }) => x.id);
      assert.deepEqual(ids, [t.empire!.id, t.v720!.id, t.v1080!.id], 'pending and deleted torrents are not listed');
      assert.equal(r.json.total, 3);
      assert.equal(r.json.total_capped, false);
      const first = r.json.torrents.find((x: { id: number }) => x.id === t.v1080!.id);
      assert.equal(first.url, `${s.app.site().publicUrl}/torrents/${t.v1080!.id}/${t.v1080!.slug}`);
      assert.equal(first.download_url, `${s.app.site().publicUrl}/api/v1/torrents/${t.v1080!.id}/download`);
      assert.deepEqual(first.category, { id: 80102, name: 'Series', parent: { id: 80101, name: 'Video' } });
      assert.deepEqual(first.uploader, { id: alice.id, username: 'alice' });
      assert.equal(first.info_hash_v1, t.v1080!.infoHashV1);
      assert.equal(first.verified, true);
      assert.equal(first.status, 'active');
      assert.match(first.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      const anon = r.json.torrents.find((x: { id: number }) => x.id === t.empire!.id);
      assert.equal(anon.uploader, null, 'an anonymous upload does not name its uploader');
    });

    it('searches with the query language, terms, category, sort, paging, verified and language', async () => {
      const ids = async (qs: string) => {
        const r = await api('GET', `/api/v1/torrents?${qs}`, { token: aliceRead });
        assert.equal(r.status, 200, qs);
        return r.json.torrents.map((x: { id: number }) => x.id).sort((a: number, b: number) => a - b);
      };
      const sorted = (...xs: InsertedTorrent[]) => xs.map((x) => x.id).sort((a, b) => a - b);
      assert.deepEqual(await ids('q=vikings'), sorted(t.v1080!, t.v720!));
      assert.deepEqual(await ids('q=vikings%20-1080p'), sorted(t.v720!));
      assert.deepEqual(await ids('q=vikings%20%7C%20empire'), sorted(t.v1080!, t.v720!, t.empire!));
      assert.deepEqual(await ids('q=%40name%20vik*'), sorted(t.v1080!, t.v720!));
      assert.deepEqual(await ids('terms=80301'), sorted(t.v1080!));
      assert.deepEqual(await ids('terms=80301,80302'), sorted(t.v1080!, t.v720!), 'OR within a term type');
      assert.deepEqual(await ids('terms=80301&terms=80302'), sorted(t.v1080!, t.v720!), 'repeated');
      assert.deepEqual(await ids('category=80103'), sorted(t.empire!));
      assert.deepEqual(await ids('category=80101'), sorted(t.v1080!, t.v720!, t.empire!), 'a parent includes its subcategories');
      assert.deepEqual(await ids('verified=true'), sorted(t.v1080!));
      // freeleech: the torrent's own factor, the member's token, a site-wide window.
      const db = s.app.db();
      const now = Math.floor(Date.now() / 1000);
      await db.updateTable('torrent').set({ download_factor: 0 }).where('id', '=', t.v720!.id).execute();
      assert.deepEqual(await ids('freeleech=true'), sorted(t.v720!), 'own factor 0');
      await db.insertInto('freeleech_token_use').values({ user_id: alice.id, torrent_id: t.empire!.id, created_at: now, expires_at: now + 3600 }).execute();
      assert.deepEqual(await ids('freeleech=true'), sorted(t.v720!, t.empire!), 'and the member’s token');
      await db.updateTable('torrent').set({ download_factor: 0, factors_until: now - 10 }).where('id', '=', t.v1080!.id).execute();
      assert.deepEqual(await ids('freeleech=true'), sorted(t.v720!, t.empire!), 'an expired factor does not count');
      await db.updateTable('torrent').set({ download_factor: 1, factors_until: null }).where('id', 'in', [t.v720!.id, t.v1080!.id]).execute();
      await db.deleteFrom('freeleech_token_use').where('user_id', '=', alice.id).execute();
      assert.deepEqual(await ids('freeleech=true'), [], 'nothing free any more');
      const w = await db.insertInto('freeleech_window').values({ starts_at: now - 60, ends_at: now + 3600, download_factor: 0, upload_factor: 1, reason: 'test', created_by: null, created_at: now }).returning('id').executeTakeFirstOrThrow();
      assert.deepEqual(await ids('freeleech=true'), await ids(''), 'a site-wide window frees everything');
      await db.deleteFrom('freeleech_window').where('id', '=', w.id).execute();
      const byName = await api('GET', '/api/v1/torrents?sort=name&order=asc&limit=2&offset=1', { token: aliceRead });
      assert.deepEqual(
        byName.json.torrents.map((x: { name: string }) => x.name),
        ['Vikings S01 1080p', 'Vikings S02 720p'],
      );
      assert.equal(byName.json.total, 3);
      assert.equal(byName.json.limit, 2);
      assert.equal(byName.json.offset, 1);
      const fr = await api('GET', `/api/v1/torrents?lang=fr&terms=80301`, { token: aliceRead });
      assert.deepEqual(fr.json.torrents[0].category, { id: 80102, name: 'Séries', parent: { id: 80101, name: 'Vidéo' } });
    });

    it('details: files, terms, the sanitised description, the NFO', async () => {
      const r = await api('GET', `/api/v1/torrents/${t.v1080!.id}`, { token: aliceRead });
      assert.equal(r.status, 200);
      assert.equal(r.json.name, 'Vikings S01 1080p');
      assert.deepEqual(r.json.files, [
        { path: 'video.bin', size: r.json.files[0].size },
        { path: 'sub/notes.txt', size: 100 },
      ]);
      assert.deepEqual(r.json.terms, [{ type_id: 80201, type_name: 'Quality', term_id: 80301, term_name: '1080p' }]);
      assert.match(r.json.description, /<strong>Bold<\/strong>/);
      assert.ok(!r.json.description.includes('<script'), 'the description is sanitised');
      assert.equal(r.json.description_source, '[b]Bold[/b] <script>x</script>');
      assert.equal(r.json.description_format, 'bbcode');
      assert.equal(r.json.nfo, 'NFO TEXT');
      assert.equal(r.json.bookmarked, false);
    });

    it('an anonymous upload names its uploader to the uploader only', async () => {
      const own = await api('GET', `/api/v1/torrents/${t.empire!.id}`, { token: aliceRead });
      assert.deepEqual(own.json.uploader, { id: alice.id, username: 'alice' });
      const other = await api('GET', `/api/v1/torrents/${t.empire!.id}`, { token: bobAll });
      assert.equal(other.json.uploader, null);
    });

    it('pending torrents: only their uploader sees them; deleted and unknown ones are 404', async () => {
      const theirs = await api('GET', `/api/v1/torrents/${t.pending!.id}`, { token: bobAll });
      assert.equal(theirs.status, 200);
      assert.equal(theirs.json.status, 'pending');
      const others = await api('GET', `/api/v1/torrents/${t.pending!.id}`, { token: aliceRead });
      assert.equal(others.status, 404);
      assert.equal(others.json.error.code, 'not_found');
      assert.equal((await api('GET', `/api/v1/torrents/${t.pending!.id}/download`, { token: aliceRead })).status, 404);
      assert.equal((await api('GET', `/api/v1/torrents/${t.deleted!.id}`, { token: aliceRead })).status, 404);
      assert.equal((await api('GET', `/api/v1/torrents/${t.deleted!.id}/download`, { token: aliceRead })).status, 404);
      assert.equal((await api('GET', '/api/v1/torrents/99999999', { token: aliceRead })).status, 404);
      const listed = await api('GET', '/api/v1/torrents?q=pending', { token: bobAll });
      assert.equal(listed.json.total, 0, 'pending torrents are not listed, even to their uploader');
    });

    it('download: the member\'s personalised .torrent, info hash unchanged', async () => {
      const r = await api('GET', `/api/v1/torrents/${t.v1080!.id}/download`, { token: aliceRead });
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('content-type'), 'application/x-bittorrent');
      assert.match(r.headers.get('content-disposition') ?? '', /attachment; filename="vikings-s01-1080p\.torrent"/);
      assert.match(r.headers.get('cache-control') ?? '', /no-store/);
      const got = readTorrent(r.body);
      assert.ok(got.announce.includes(alice.passkey), `the announce URL carries alice's passkey: ${got.announce}`);
      assert.equal(got.infoHashV1, t.v1080!.infoHashV1, 'the info hash is the stored one');
      const bobs = await api('GET', `/api/v1/torrents/${t.v1080!.id}/download`, { token: bobAll });
      const bobAnnounce = readTorrent(bobs.body).announce;
      assert.ok(bobAnnounce.includes(bob.passkey) && !bobAnnounce.includes(alice.passkey), 'each member gets their own passkey');
    });

    it('download: 403 email_unverified until the member verifies their address, as on the site', async () => {
      const db = s.app.db();
      const dave = await s.member('dave');
      await db.updateTable('user').set({ email_verified: 0 }).where('id', '=', dave.id).execute();
      const token = (await createApiToken(db, { userId: dave.id, kind: 'personal', name: 'x', scopes: ['read'], now: Math.floor(Date.now() / 1000) })).token;
      const r = await api('GET', `/api/v1/torrents/${t.v1080!.id}/download`, { token });
      assert.equal(r.status, 403);
      assert.equal(r.json.error.code, 'email_unverified');
      assert.ok(!r.body.toString('latin1').includes(dave.passkey), 'no passkey in the refusal');
      assert.equal((await api('GET', `/api/v1/torrents/${t.v1080!.id}`, { token })).status, 200, 'details stay readable');
    });
  });

  describe('upload', () => {
    function form(f: { torrent?: Buffer; category?: string; terms?: string[]; title?: string; description?: string; format?: string; nfo?: Buffer; anonymous?: string }): FormData {
      const fd = new FormData();
      if (f.category !== undefined) fd.append('category', f.category);
      for (const x of f.terms ?? []) fd.append('terms', x);
      if (f.title !== undefined) fd.append('title', f.title);
      if (f.description !== undefined) fd.append('description', f.description);
      if (f.format !== undefined) fd.append('format', f.format);
      if (f.anonymous !== undefined) fd.append('anonymous', f.anonymous);
      if (f.torrent) fd.append('torrent', new Blob([new Uint8Array(f.torrent)], { type: 'application/x-bittorrent' }), 'up.torrent');
      if (f.nfo) fd.append('nfo', new Blob([new Uint8Array(f.nfo)]), 'info.nfo');
      return fd;
    }

    it('201: stored, published at once for an uploader, findable, and downloadable with the same info hash', async () => {
      const raw = rawTorrent('API Upload One');
      const r = await api('POST', '/api/v1/torrents', {
        token: aliceAll,
        body: form({ torrent: raw, category: '80103', terms: ['80301,80311'], title: 'Api Upload One', description: '# Title', format: 'markdown', nfo: Buffer.from('hello nfo') }),
      });
      assert.equal(r.status, 201, JSON.stringify(r.json));
      assert.equal(r.json.status, 'active');
      assert.equal(r.json.url, `${s.app.site().publicUrl}/torrents/${r.json.id}/api-upload-one`);
      const d = await api('GET', `/api/v1/torrents/${r.json.id}`, { token: aliceRead });
      assert.equal(d.json.name, 'Api Upload One');
      assert.deepEqual(
        d.json.terms.map((x: { term_id: number }) => x.term_id),
        [80301, 80311],
      );
      assert.equal(d.json.description_format, 'markdown');
      assert.match(d.json.description, /<h\d>Title<\/h\d>/);
      assert.equal(d.json.nfo, 'hello nfo');
      const found = await api('GET', '/api/v1/torrents?q=%22api%20upload%20one%22', { token: aliceRead });
      assert.deepEqual(
        found.json.torrents.map((x: { id: number }) => x.id),
        [r.json.id],
      );
      const dl = await api('GET', `/api/v1/torrents/${r.json.id}/download`, { token: aliceRead });
      assert.equal(readTorrent(dl.body).infoHashV1, d.json.info_hash_v1, 'the downloaded copy has the listed info hash');
    });

    it('a plain member\'s upload waits for moderation: pending, seen by them only', async () => {
      const r = await api('POST', '/api/v1/torrents', { token: bobAll, body: form({ torrent: rawTorrent('Bob Upload'), category: '80102', anonymous: 'true' }) });
      assert.equal(r.status, 201, JSON.stringify(r.json));
      assert.equal(r.json.status, 'pending');
      assert.equal((await api('GET', `/api/v1/torrents/${r.json.id}`, { token: bobAll })).status, 200);
      assert.equal((await api('GET', `/api/v1/torrents/${r.json.id}`, { token: aliceRead })).status, 404);
    });

    it('422 validation_failed naming each problem: a broken .torrent, a missing category, a wrong term', async () => {
      const broken = await api('POST', '/api/v1/torrents', { token: aliceAll, body: form({ torrent: Buffer.from('d4:infoi1ee'), category: '80102' }) });
      assert.equal(broken.status, 422);
      assert.equal(broken.json.error.code, 'validation_failed');
      const p = broken.json.error.details.find((x: { field: string }) => x.field === 'torrent');
      assert.equal(p.code, 'torrent_invalid');
      assert.match(p.message, /This \.torrent file was refused: .*info/);
      const several = await api('POST', '/api/v1/torrents', { token: aliceAll, body: form({ torrent: Buffer.from('garbage'), terms: ['80311'] }) });
      assert.equal(several.status, 422);
      const fields = several.json.error.details.map((x: { field: string; code: string }) => `${x.field}:${x.code}`).sort();
      assert.deepEqual(fields, ['category:category_required', 'torrent:torrent_invalid']);
      const term = await api('POST', '/api/v1/torrents', { token: aliceAll, body: form({ torrent: rawTorrent('term test'), category: '80102', terms: ['80311', '80301,80302'] }) });
      assert.equal(term.status, 422);
      const codes = term.json.error.details.map((x: { code: string }) => x.code).sort();
      assert.deepEqual(codes, ['term_not_allowed', 'term_several']);
      assert.match(term.json.error.details.find((x: { code: string }) => x.code === 'term_not_allowed').message, /French/);
      const notNumber = await api('POST', '/api/v1/torrents', { token: aliceAll, body: form({ torrent: rawTorrent('term nan'), category: '80102', terms: ['abc'] }) });
      assert.equal(notNumber.status, 422);
      assert.equal(notNumber.json.error.details[0].code, 'term_invalid');
      const parent = await api('POST', '/api/v1/torrents', { token: aliceAll, body: form({ torrent: rawTorrent('parent cat'), category: '80101' }) });
      assert.equal(parent.json.error.details[0].code, 'category_not_sub');
      const none = await api('GET', '/api/v1/torrents?q=%22term%20test%22%20%7C%20%22term%20nan%22%20%7C%20%22parent%20cat%22', { token: aliceRead });
      assert.equal(none.json.total, 0, 'nothing refused was stored');
    });

    it('409 conflict for a torrent already on the site, naming it', async () => {
      const raw = rawTorrent('Dupe Me');
      const first = await api('POST', '/api/v1/torrents', { token: aliceAll, body: form({ torrent: raw, category: '80102' }) });
      assert.equal(first.status, 201);
      const again = await api('POST', '/api/v1/torrents', { token: aliceAll, body: form({ torrent: raw, category: '80102' }) });
      assert.equal(again.status, 409);
      assert.equal(again.json.error.code, 'conflict');
      assert.equal(again.json.error.details[0].code, 'duplicate');
      assert.equal(again.json.error.details[0].torrent_id, first.json.id);
    });

    it('413 payload_too_large beyond the multipart limits; 422 torrent_too_large for an oversized .torrent', async () => {
      const fd = form({ torrent: rawTorrent('too many files'), category: '80102', nfo: Buffer.from('a') });
      fd.append('extra', new Blob([new Uint8Array([1, 2, 3])]), 'third.bin');
      const r = await api('POST', '/api/v1/torrents', { token: aliceAll, body: fd });
      assert.equal(r.status, 413);
      assert.equal(r.json.error.code, 'payload_too_large');
      const max = s.app.site().config.site.max_torrent_bytes;
      const big = await api('POST', '/api/v1/torrents', { token: aliceAll, body: form({ torrent: Buffer.alloc(max + 10, 0x61), category: '80102' }) });
      assert.equal(big.status, 422);
      assert.equal(big.json.error.details[0].code, 'torrent_too_large');
      assert.match(big.json.error.details[0].message, /larger than the limit/);
    });

    it('400 when the body is not multipart', async () => {
      const r = await api('POST', '/api/v1/torrents', { token: aliceAll, headers: { 'content-type': 'application/json' }, body: '{"category":1}' });
      assert.equal(r.status, 400);
      assert.equal(r.json.error.code, 'bad_request');
      assert.match(r.json.error.message, /multipart/);
    });
  });

  describe('categories', () => {
    it('the tree with each subcategory\'s term types and terms', async () => {
      const r = await api('GET', '/api/v1/categories', { token: aliceRead });
      assert.equal(r.status, 200);
      const video = r.json.categories.find((c: { id: number }) => c.id === 80101);
      assert.ok(video, 'the fixture category');
      const films = video.subcategories.find((c: { id: number }) => c.id === 80103);
      assert.deepEqual(
        films.term_types.map((tt: { id: number; mode: string; terms: Array<{ id: number }> }) => [tt.id, tt.mode, tt.terms.map((x) => x.id)]),
        [
          [80201, 'single', [80301, 80302]],
          [80202, 'multi', [80311]],
        ],
      );
      assert.equal((await api('GET', '/api/v1/categories')).status, 401);
      const fr = await api('GET', '/api/v1/categories?lang=fr', { token: aliceRead });
      assert.equal(fr.json.categories.find((c: { id: number }) => c.id === 80101).name, 'Vidéo');
    });
  });

  describe('the member', () => {
    it('/me: stats and rules state, never a secret', async () => {
      const db = s.app.db();
      const r = await api('GET', '/api/v1/me', { token: aliceRead });
      assert.equal(r.status, 200);
      assert.equal(r.json.username, 'alice');
      assert.equal(r.json.role, 'uploader');
      assert.equal(r.json.ratio, null, 'no ratio before any download');
      assert.equal(r.json.ratio_watch, null);
      assert.equal(r.json.download_refused, false);
      const text = r.body.toString('utf8');
      const row = await db.selectFrom('user').selectAll().where('id', '=', alice.id).executeTakeFirstOrThrow();
      for (const secret of [alice.passkey, alice.rssKey, row.email!, row.password_hash!, aliceRead]) assert.ok(!text.includes(secret), 'no secret in /me');
      for (const key of ['passkey', 'rss_key', 'email', 'password_hash']) assert.ok(!(key in r.json), `no ${key} field`);
      const since = Math.floor(Date.now() / 1000) - 3600;
      await db
        .updateTable('user')
        .set({ uploaded: 1000, downloaded: 4000, ratio_watch_since: since, download_refused: 1, download_refused_reason: 'ratio too low' })
        .where('id', '=', alice.id)
        .execute();
      const after2 = await api('GET', '/api/v1/me', { token: aliceRead });
      assert.equal(after2.json.ratio, 0.25);
      assert.equal(after2.json.ratio_watch.since, new Date(since * 1000).toISOString().replace('.000Z', 'Z'));
      assert.equal(after2.json.download_refused, true);
      assert.equal(after2.json.download_refused_reason, 'ratio too low');
      await db.updateTable('user').set({ uploaded: 0, downloaded: 0, ratio_watch_since: null, download_refused: 0, download_refused_reason: null }).where('id', '=', alice.id).execute();
    });

    it('bookmarks: add (201, then 200), list, remove (204, then 404)', async () => {
      const add = await api('PUT', `/api/v1/bookmarks/${t.v720!.id}`, { token: aliceRead });
      assert.equal(add.status, 201);
      assert.equal(add.json.torrent_id, t.v720!.id);
      assert.equal((await api('PUT', `/api/v1/bookmarks/${t.v720!.id}`, { token: aliceRead })).status, 200, 'already there');
      assert.equal((await api('PUT', `/api/v1/bookmarks/${t.empire!.id}`, { token: aliceRead })).status, 201);
      assert.equal((await api('PUT', `/api/v1/bookmarks/${t.deleted!.id}`, { token: aliceRead })).status, 404, 'a deleted torrent');
      assert.equal((await api('PUT', `/api/v1/bookmarks/${t.pending!.id}`, { token: aliceRead })).status, 404, 'someone else\'s pending torrent');
      const list = await api('GET', '/api/v1/bookmarks?limit=1', { token: aliceRead });
      assert.equal(list.status, 200);
      assert.equal(list.json.bookmarks.length, 1);
      assert.equal(list.json.next_offset, 1);
      const all = await api('GET', '/api/v1/bookmarks', { token: aliceRead });
      assert.deepEqual(all.json.bookmarks.map((b: { torrent: { id: number } }) => b.torrent.id).sort(), [t.v720!.id, t.empire!.id].sort());
      assert.equal(all.json.next_offset, null);
      const badPage = await api('GET', '/api/v1/bookmarks?limit=0', { token: aliceRead });
      assert.equal(badPage.status, 400);
      assert.match(badPage.json.error.message, /"limit"/);
      assert.equal((await api('GET', `/api/v1/torrents/${t.v720!.id}`, { token: aliceRead })).json.bookmarked, true);
      assert.equal((await api('GET', '/api/v1/bookmarks', { token: bobAll })).json.bookmarks.length, 0, 'bookmarks are per member');
      const del = await api('DELETE', `/api/v1/bookmarks/${t.v720!.id}`, { token: aliceRead });
      assert.equal(del.status, 204);
      const again = await api('DELETE', `/api/v1/bookmarks/${t.v720!.id}`, { token: aliceRead });
      assert.equal(again.status, 404);
      assert.equal(again.json.error.code, 'not_found');
      const left = await api('GET', '/api/v1/bookmarks', { token: aliceRead });
      assert.deepEqual(
        left.json.bookmarks.map((b: { torrent: { id: number } }) => b.torrent.id),
        [t.empire!.id],
      );
    });
  });

  it('every answer received was checked against the document, for each route', () => {
    for (const route of EXPECTED_ROUTES) {
      assert.ok([...checked].some((c) => c.startsWith(`${route} 2`)), `a success answer of ${route} was checked`);
      assert.ok([...checked].some((c) => c.startsWith(`${route} 4`)), `an error answer of ${route} was checked`);
    }
    const json = (JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? []).map((x) => x.slice(8, -1));
    for (const ref of json) assert.ok(doc.components.schemas[ref.replace('#/components/schemas/', '')], `${ref} resolves`);
  });
});

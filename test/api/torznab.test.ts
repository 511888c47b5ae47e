/**
 * Torznab: every answer parsed with a real XML parser (fast-xml-parser) and checked against the
 * Torznab/Newznab specification: the caps document, RSS items with their required elements and
 * torznab:attr extensions, the category filter (standard, parent, custom ids, several at once),
 * TV season/episode (terms and name markers), IMDb ids, paging, the personalised download link,
 * every Newznab error path, XML escaping, freeleech factors, and the administrators' category
 * mapping page (which changes caps and items, and refuses a plain member).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { createApiToken } from '../../src/api/tokens.js';
import { TORZNAB_NS } from '../../src/api/torznab/routes.js';
import { bencode } from '../../src/protocol/bencode.js';
import { createWindow } from '../../src/site/rules/freeleech.js';
import { createSession } from '../../src/site/sessions.js';
import { insertTorrent, type InsertedTorrent } from '../../src/site/torrents/read.testing.js';
import { SESSION_COOKIE } from '../../src/web/context.js';
import { buildTorrent } from '../fixtures/metainfo/builders.js';
import { bdecodeDict, dictString, infoHashOf } from '../helpers/bencode.js';
import { startSite, type Browser, type TestSite } from '../helpers/site.js';

type Node = Record<string, unknown>;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  parseTagValue: false,
  parseAttributeValue: false,
  // Elements that may repeat are always arrays.
  isArray: (name) => ['item', 'category', 'subcat', 'torznab:attr'].includes(name),
});

function parse(xml: string): Node {
  const valid = XMLValidator.validate(xml);
  assert.equal(valid, true, `well-formed XML: ${JSON.stringify(valid)}\n${xml.slice(0, 300)}`);
  return parser.parse(xml) as Node;
}

let serial = 0;
function raw(kind: 'v1' | 'v2' = 'v1'): Buffer {
  return bencode(buildTorrent(kind, { name: `file-${serial}`, files: [{ path: ['a.bin'], size: 20000 + serial++ }, { path: ['b.nfo'], size: 100 }] }).top);
}

/** The items of a search answer, each with its attrs gathered by name. */
interface Item {
  node: Node;
  title: string;
  attrs: Map<string, string[]>;
}

function itemsOf(doc: Node): Item[] {
  const rss = doc.rss as Node;
  const channel = rss.channel as Node;
  return ((channel.item as Node[] | undefined) ?? []).map((node) => {
    const attrs = new Map<string, string[]>();
    for (const a of (node['torznab:attr'] as Node[] | undefined) ?? []) {
      const name = a['@name'] as string;
      attrs.set(name, [...(attrs.get(name) ?? []), a['@value'] as string]);
    }
    return { node, title: node.title as string, attrs };
  });
}

const one = (i: Item, name: string) => {
  const v = i.attrs.get(name);
  assert.ok(v && v.length === 1, `exactly one ${name} attr on ${i.title}: ${JSON.stringify(v)}`);
  return v![0]!;
};

describe('Torznab', () => {
  let s: TestSite;
  let key: string;
  let member: { id: number; passkey: string };
  let matrix: InsertedTorrent;
  let book: InsertedTorrent;
  let v2only: InsertedTorrent;
  let pending: InsertedTorrent;
  const path = (url: string) => {
    const u = new URL(url);
    return u.pathname + u.search;
  };

  const get = async (query: string, k: string | null = key) => {
    const b = s.browser();
    return b.get(`/api/torznab?${query}${k === null ? '' : `&apikey=${encodeURIComponent(k)}`}`, false);
  };
  const search = async (query: string) => {
    const r = await get(query);
    assert.equal(r.status, 200, r.text.slice(0, 300));
    assert.match(r.headers.get('content-type') ?? '', /^application\/rss\+xml/);
    const d = parse(r.text);
    assert.ok(d.rss, `an rss document: ${r.text.slice(0, 200)}`);
    return { r, doc: d, items: itemsOf(d) };
  };
  const errorOf = async (res: Promise<{ status: number; text: string; headers: Headers }>) => {
    const r = await res;
    const d = parse(r.text);
    const e = d.error as Node | undefined;
    assert.ok(e, `an error document: ${r.text.slice(0, 200)}`);
    return { status: r.status, code: Number(e['@code']), description: e['@description'] as string, headers: r.headers };
  };

  async function session(userId: number): Promise<Browser> {
    const b = s.browser();
    b.cookies.set(SESSION_COOKIE, await createSession(s.app.db(), userId, { persistent: false, ttl: 3600, ip: null, userAgent: null, now: Math.floor(Date.now() / 1000) }));
    return b;
  }

  before(async () => {
    s = await startSite();
    const db = s.app.db();
    const now = Math.floor(Date.now() / 1000);
    member = await s.member('grabber');
    key = (await createApiToken(db, { userId: member.id, kind: 'personal', name: 'prowlarr', scopes: ['read'], now })).token;
    // The default taxonomy: 631 Movies, 433 TV series (Season 45 / Episode 46 types), 634 Documentaries, 408 Books.
    matrix = await insertTorrent(db, { raw: raw(), name: 'The Matrix 1999 1080p BluRay', categoryId: 631, description: 'IMDb: https://www.imdb.com/title/tt0133093/', uploaderId: member.id, timesCompleted: 7, createdAt: now - 700 });
    await insertTorrent(db, { raw: raw(), name: 'A & B <x> "q"', categoryId: 631, createdAt: now - 600 });
    await insertTorrent(db, { raw: raw(), name: 'Show Name S01E02 720p', categoryId: 433, termIds: [968, 938], createdAt: now - 500 });
    await insertTorrent(db, { raw: raw(), name: 'Show Name Saison 2 complete', categoryId: 433, termIds: [969, 936], createdAt: now - 400 });
    await insertTorrent(db, { raw: raw(), name: 'Nature Doc S01E02 HDTV', categoryId: 634, createdAt: now - 300 });
    book = await insertTorrent(db, { raw: raw(), name: 'Some Novel EPUB', categoryId: 408, createdAt: now - 200 });
    v2only = await insertTorrent(db, { raw: raw('v2'), name: 'Linux Distro v2', categoryId: 234, createdAt: now - 100 });
    pending = await insertTorrent(db, { raw: raw(), name: 'Pending Matrix', categoryId: 631, status: 'pending', createdAt: now - 50 });
  });
  after(() => s.stop());

  it('serves caps without a key (and with one): server, limits, searching, the category tree and custom ids', async () => {
    for (const p of ['/api/torznab?t=caps', `/api/torznab?t=caps&apikey=${key}`, '/api/torznab/api?t=caps', '/api/torznab?t=caps&apikey=not-a-key']) {
      const r = await s.browser().get(p, false);
      assert.equal(r.status, 200, p);
      assert.match(r.headers.get('content-type') ?? '', /xml/);
      const caps = parse(r.text).caps as Node;
      assert.ok(caps, `caps root for ${p}`);
      assert.equal((caps.server as Node)['@title'], s.app.site().config.site.name);
      assert.deepEqual([(caps.limits as Node)['@max'], (caps.limits as Node)['@default']], ['100', '100']);
      const searching = caps.searching as Node;
      const expected: Record<string, string[]> = {
        search: ['q'],
        'tv-search': ['q', 'season', 'ep'],
        'movie-search': ['q', 'imdbid'],
        'music-search': ['q'],
        'audio-search': ['q'],
        'book-search': ['q'],
      };
      for (const [name, params] of Object.entries(expected)) {
        const e = searching[name] as Node;
        assert.ok(e, `searching/${name}`);
        assert.equal(e['@available'], 'yes', name);
        assert.deepEqual((e['@supportedParams'] as string).split(','), params, name);
      }
    }
    const caps = parse((await s.browser().get('/api/torznab?t=caps', false)).text).caps as Node;
    const cats = ((caps.categories as Node).category as Node[]).map((c) => ({ id: Number(c['@id']), name: c['@name'] as string, subs: ((c.subcat as Node[] | undefined) ?? []).map((x) => Number(x['@id'])) }));
    const byId = new Map(cats.map((c) => [c.id, c]));
    assert.equal(byId.get(2000)?.name, 'Movies');
    assert.deepEqual(byId.get(2000)?.subs, [2020], 'Movies with the subcategory in use (stage shows)');
    assert.deepEqual(byId.get(5000)?.subs, [5050, 5060, 5070, 5080], 'TV and its subcategories in use');
    assert.deepEqual(byId.get(7000)?.subs, [7010, 7020, 7030], 'Books');
    assert.ok(byId.has(1000) && byId.has(3000) && byId.has(4000) && byId.has(8000), 'every family in use');
    assert.ok(!byId.has(6000), 'no XXX: the default taxonomy has no adult category');
    // Custom: the site's parents (100000 + id) with their subcategories.
    assert.equal(byId.get(100210)?.name, 'Video');
    assert.ok(byId.get(100210)?.subs.includes(100631) && byId.get(100210)?.subs.includes(100433), 'Video holds Movies and TV series');
    for (const c of cats) for (const sub of c.subs) assert.ok(c.id >= 100000 ? sub >= 100000 : sub - (sub % 1000) === c.id, `subcat ${sub} belongs to ${c.id}`);
  });

  it('answers an empty search with the latest torrents, every item complete per the spec', async () => {
    const { r, doc: d, items } = await search('t=search');
    assert.match(r.text, /^<\?xml version="1.0" encoding="UTF-8"\?>/);
    const rss = d.rss as Node;
    assert.equal(rss['@version'], '2.0');
    assert.equal(rss['@xmlns:torznab'], TORZNAB_NS, 'torznab namespace declared');
    assert.equal(r.headers.get('cache-control'), 'private, no-store');
    const titles = items.map((i) => i.title);
    assert.deepEqual(titles, ['Linux Distro v2', 'Some Novel EPUB', 'Nature Doc S01E02 HDTV', 'Show Name Saison 2 complete', 'Show Name S01E02 720p', 'A & B <x> "q"', 'The Matrix 1999 1080p BluRay'], 'newest first, no pending torrent');
    const base = s.app.site().publicUrl;
    const db = s.app.db();
    for (const i of items) {
      const n = i.node;
      const row = await db.selectFrom('torrent').selectAll().where('name', '=', i.title).executeTakeFirstOrThrow();
      const guid = n.guid as Node;
      assert.equal(guid['#text'], `${base}/t/${row.id}`);
      assert.equal(guid['@isPermaLink'], 'true');
      assert.equal(n.link, `${base}/api/torznab/download/${row.id}?apikey=${key}`);
      assert.match(n.comments as string, new RegExp(`^${base}/torrents/${row.id}/[a-z0-9-]+#comments$`));
      assert.ok(!Number.isNaN(Date.parse(n.pubDate as string)) && /GMT$/.test(n.pubDate as string), `RFC 822 pubDate: ${n.pubDate}`);
      assert.equal(Math.floor(Date.parse(n.pubDate as string) / 1000), Number(row.created_at));
      const enc = n.enclosure as Node;
      assert.equal(enc['@url'], n.link);
      assert.equal(enc['@type'], 'application/x-bittorrent');
      assert.equal(Number(enc['@length']), Number(row.size));
      assert.equal(one(i, 'size'), String(row.size));
      assert.equal(one(i, 'files'), '2');
      assert.equal(one(i, 'grabs'), String(row.times_completed));
      assert.equal(Number(one(i, 'peers')), Number(one(i, 'seeders')) + Number(one(i, 'leechers')));
      assert.match(one(i, 'infohash'), /^[0-9a-f]{40}$/);
      assert.equal(one(i, 'downloadvolumefactor'), '1');
      assert.equal(one(i, 'uploadvolumefactor'), '1');
      const rules = s.app.site().config.rules;
      assert.equal(one(i, 'minimumratio'), String(rules.hnr_ratio));
      assert.equal(one(i, 'minimumseedtime'), String(rules.hnr_seed_time));
      const cats = i.attrs.get('category') ?? [];
      assert.ok(cats.length >= 2, `Newznab and custom categories on ${i.title}`);
      assert.ok(cats.includes(String(100000 + row.category_id!)), `custom category on ${i.title}`);
      assert.deepEqual((n.category as string[]).map(String), cats, 'the category elements repeat the ids');
    }
    const byTitle = new Map(items.map((i) => [i.title, i]));
    assert.deepEqual(byTitle.get('The Matrix 1999 1080p BluRay')!.attrs.get('category'), ['2000', '100631']);
    assert.deepEqual(byTitle.get('Nature Doc S01E02 HDTV')!.attrs.get('category'), ['5000', '5080', '100634']);
    assert.equal(one(byTitle.get('The Matrix 1999 1080p BluRay')!, 'infohash'), matrix.infoHashV1);
    assert.equal(one(byTitle.get('The Matrix 1999 1080p BluRay')!, 'grabs'), '7');
    assert.equal(one(byTitle.get('Linux Distro v2')!, 'infohash'), v2only.infoHashV2!.slice(0, 40), 'a v2-only torrent: its v2 hash truncated');
    const resp = (rss.channel as Node)['newznab:response'] as Node;
    assert.deepEqual([resp['@offset'], resp['@total']], ['0', '7']);
  });

  it('escapes XML special characters in names', async () => {
    const { r, items } = await search('t=search&q=B');
    assert.deepEqual(items.map((i) => i.title), ['A & B <x> "q"']);
    assert.ok(r.text.includes('<title>A &amp; B &lt;x&gt; &quot;q&quot;</title>'), 'escaped in the document');
  });

  it('searches words as words in names (operators typed are not operators)', async () => {
    assert.deepEqual((await search('t=search&q=matrix%201999')).items.map((i) => i.title), ['The Matrix 1999 1080p BluRay']);
    assert.deepEqual((await search('t=search&q=matrix%20-1999')).items.map((i) => i.title), ['The Matrix 1999 1080p BluRay'], 'a dash is not a negation (it would exclude the film)');
    assert.deepEqual((await search('t=search&q=%40description%20imdb')).items.map((i) => i.title), [], 'no scope injection: words are searched in names');
    assert.deepEqual((await search('t=search&q=%22show%22%20%7C%20novel')).items.map((i) => i.title), [], 'quotes and bars are plain characters');
  });

  it('filters by categories: standard, parent, child of a mapped parent, custom, several, unknown', async () => {
    const titles = async (q: string) => (await search(q)).items.map((i) => i.title);
    assert.deepEqual(await titles('t=search&cat=2000'), ['A & B <x> "q"', 'The Matrix 1999 1080p BluRay']);
    assert.deepEqual(await titles('t=search&cat=5000'), ['Nature Doc S01E02 HDTV', 'Show Name Saison 2 complete', 'Show Name S01E02 720p'], 'TV and its subcategories');
    assert.deepEqual(await titles('t=search&cat=5080'), ['Nature Doc S01E02 HDTV'], 'mapped exactly: not the series mapped to all of TV');
    assert.deepEqual(await titles('t=search&cat=100634'), ['Nature Doc S01E02 HDTV'], 'documentaries alone by their custom id');
    assert.deepEqual(await titles('t=search&cat=5030,5040'), ['Show Name Saison 2 complete', 'Show Name S01E02 720p'], 'TV/SD, TV/HD reach the subcategory mapped to all of TV');
    assert.deepEqual(await titles('t=search&cat=100433'), ['Show Name Saison 2 complete', 'Show Name S01E02 720p'], 'custom subcategory id');
    assert.deepEqual(await titles('t=search&cat=100404'), ['Some Novel EPUB'], 'custom parent id');
    assert.deepEqual(await titles('t=search&cat=7020,2000'), ['Some Novel EPUB', 'A & B <x> "q"', 'The Matrix 1999 1080p BluRay'], 'several categories merged newest first');
    assert.deepEqual(await titles('t=search&cat=9999,123456789'), [], 'unknown categories select nothing');
    assert.deepEqual(await titles('t=search&cat=6000'), [], 'no adult category');
    const e = await errorOf(get('t=search&cat=20x0'));
    assert.deepEqual([e.status, e.code], [200, 201]);
  });

  it('pages with offset and limit, also across several categories', async () => {
    const all = (await search('t=search')).items.map((i) => i.title);
    assert.deepEqual((await search('t=search&limit=2')).items.map((i) => i.title), all.slice(0, 2));
    assert.deepEqual((await search('t=search&offset=2&limit=3')).items.map((i) => i.title), all.slice(2, 5));
    assert.deepEqual((await search('t=search&offset=50')).items, []);
    assert.equal((await search('t=search&limit=1000')).items.length, 7, 'limit above the maximum is capped, not refused');
    const merged = (await search('t=search&cat=2000,7000,5000')).items.map((i) => i.title);
    assert.equal(merged.length, 6);
    for (const [offset, limit] of [[0, 2], [1, 2], [2, 3], [4, 10], [5, 1]] as const) {
      const page = (await search(`t=search&cat=2000,7000,5000&offset=${offset}&limit=${limit}`)).items.map((i) => i.title);
      assert.deepEqual(page, merged.slice(offset, offset + limit), `merged page ${offset}+${limit}`);
    }
    for (const bad of ['limit=-1', 'limit=abc', 'offset=-5', 'offset=1.5']) {
      const e = await errorOf(get(`t=search&${bad}`));
      assert.deepEqual([e.status, e.code], [200, 201], bad);
      assert.match(e.description, /^Incorrect parameter/);
    }
  });

  it('searches TV by season and episode: terms where the subcategory has them, release-name markers elsewhere', async () => {
    const titles = async (q: string) => (await search(q)).items.map((i) => i.title);
    assert.deepEqual(await titles('t=tvsearch&q=show%20name&season=1&ep=2'), ['Show Name S01E02 720p'], 'by the Season 01 / Episode 02 terms');
    assert.deepEqual(await titles('t=tvsearch&q=show%20name&season=2'), ['Show Name Saison 2 complete'], 'by the Season 02 term (its name has no S02 marker)');
    assert.deepEqual(await titles('t=tvsearch&q=show%20name&season=1&ep=3'), []);
    assert.deepEqual(await titles('t=tvsearch&q=nature&season=1&ep=2'), ['Nature Doc S01E02 HDTV'], 'documentaries have no season terms: the S01E02 marker');
    assert.deepEqual(await titles('t=tvsearch&q=nature&season=1'), ['Nature Doc S01E02 HDTV'], 'season only: names with a word starting with S01');
    assert.deepEqual(await titles('t=tvsearch&q=nature&season=2'), []);
    assert.deepEqual(await titles('t=tvsearch'), ['Nature Doc S01E02 HDTV', 'Show Name Saison 2 complete', 'Show Name S01E02 720p'], 'tvsearch without cat: TV only');
    assert.deepEqual(await titles('t=tvsearch&season=1&ep=2'), ['Nature Doc S01E02 HDTV', 'Show Name S01E02 720p'], 'season and episode without q');
    for (const bad of ['season=x', 'season=1&ep=two', 'season=2024&ep=13/40']) {
      const e = await errorOf(get(`t=tvsearch&q=show&${bad}`));
      assert.equal(e.code, 201, bad);
    }
  });

  it('searches movies by IMDb id in descriptions (tt prefix or digits), music and books in their families', async () => {
    const titles = async (q: string) => (await search(q)).items.map((i) => i.title);
    assert.deepEqual(await titles('t=movie&imdbid=tt0133093'), ['The Matrix 1999 1080p BluRay']);
    assert.deepEqual(await titles('t=movie&imdbid=0133093'), ['The Matrix 1999 1080p BluRay']);
    assert.deepEqual(await titles('t=movie&imdbid=133093'), ['The Matrix 1999 1080p BluRay'], 'padded to 7 digits');
    assert.deepEqual(await titles('t=movie&imdbid=tt7654321'), []);
    assert.deepEqual(await titles('t=movie&imdbid=tt7654321&q=A%20B'), ['A & B <x> "q"'], 'with q: the id or the words');
    assert.deepEqual(await titles('t=movie'), ['A & B <x> "q"', 'The Matrix 1999 1080p BluRay'], 'movie without cat: movies only');
    assert.deepEqual(await titles('t=book'), ['Some Novel EPUB']);
    assert.deepEqual(await titles('t=music'), []);
    assert.equal((await errorOf(get('t=movie&imdbid=nm123'))).code, 201);
  });

  it('serves the personalised .torrent behind the item link, and refuses without a valid key', async () => {
    const item = (await search('t=search&q=matrix')).items[0]!;
    const link = item.node.link as string;
    const dl = await s.browser().get(path(link), false);
    assert.equal(dl.status, 200);
    assert.equal(dl.headers.get('content-type'), 'application/x-bittorrent');
    assert.equal(dl.headers.get('cache-control'), 'private, no-store');
    assert.equal(dictString(bdecodeDict(dl.body), 'announce'), s.app.site().announceUrls(member.passkey).http, 'the key owner\'s passkey');
    assert.equal(infoHashOf(dl.body), matrix.infoHashV1);
    assert.ok(!dl.body.includes(Buffer.from(key)), 'the API key is not in the torrent');

    const noKey = await errorOf(s.browser().get(`/api/torznab/download/${matrix.id}`, false));
    assert.deepEqual([noKey.status, noKey.code], [401, 100]);
    const badKey = await errorOf(s.browser().get(`/api/torznab/download/${matrix.id}?apikey=es_${'0'.repeat(40)}`, false));
    assert.deepEqual([badKey.status, badKey.code], [401, 100]);
    const unknown = await errorOf(s.browser().get(`/api/torznab/download/999999?apikey=${key}`, false));
    assert.deepEqual([unknown.status, unknown.code], [404, 300]);
    const notId = await errorOf(s.browser().get(`/api/torznab/download/abc?apikey=${key}`, false));
    assert.deepEqual([notId.status, notId.code], [404, 300]);
    const hidden = await errorOf(s.browser().get(`/api/torznab/download/${pending.id}?apikey=${key}`, false));
    assert.deepEqual([hidden.status, hidden.code], [404, 300], 'someone else\'s pending torrent');
  });

  it('accepts POST forms and the /api suffix', async () => {
    const b = s.browser();
    const r = await b.request('POST', '/api/torznab/api', { body: new URLSearchParams({ t: 'search', q: 'novel', apikey: key }), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(r.status, 200);
    assert.deepEqual(itemsOf(parse(r.text)).map((i) => i.title), ['Some Novel EPUB']);
    const h = await b.request('GET', '/api/torznab?t=search&q=novel', { headers: { 'x-api-key': key } });
    assert.deepEqual(itemsOf(parse(h.text)).map((i) => i.title), ['Some Novel EPUB'], 'the key in X-Api-Key');
  });

  it('answers every error with a Newznab error document and HTTP 200', async () => {
    const db = s.app.db();
    const now = Math.floor(Date.now() / 1000);
    const cases: Array<[string, string | null, number, RegExp]> = [
      ['q=x', key, 200, /^Missing parameter/],
      ['t=unknownfn', key, 202, /^No such function/],
      ['t=details&id=1', key, 203, /^Function not available/],
      ['t=search', null, 100, /^Incorrect user credentials$/],
      ['t=search', 'wrong-key', 100, /^Incorrect user credentials$/],
      ['t=tvsearch', `es_${'f'.repeat(40)}`, 100, /^Incorrect user credentials$/],
    ];
    for (const [q, k, code, description] of cases) {
      const e = await errorOf(get(q, k));
      assert.equal(e.status, 200, q);
      assert.equal(e.code, code, `${q} with ${k}`);
      assert.match(e.description, description, q);
    }
    // A key without the read scope.
    const upOnly = (await createApiToken(db, { userId: member.id, kind: 'personal', name: 'upload only', scopes: ['upload'], now })).token;
    assert.equal((await errorOf(get('t=search', upOnly))).code, 102);
    // A revoked key and an expired key.
    const revoked = await createApiToken(db, { userId: member.id, kind: 'personal', name: 'old', scopes: ['read'], now });
    await db.updateTable('api_token').set({ revoked_at: now }).where('id', '=', revoked.id).execute();
    assert.equal((await errorOf(get('t=search', revoked.token))).code, 100);
    const expired = await createApiToken(db, { userId: member.id, kind: 'personal', name: 'expired', scopes: ['read'], now, expiresAt: now - 1 });
    assert.equal((await errorOf(get('t=search', expired.token))).code, 100);
    // A T411 token is not a Torznab key.
    const t411 = await createApiToken(db, { userId: member.id, kind: 't411', name: 't411', scopes: ['read'], now, token: `${member.id}:1:${'a'.repeat(32)}` });
    assert.equal((await errorOf(get('t=search', t411.token))).code, 100);
    // A disabled account.
    const gone = await s.member('gone');
    const goneKey = (await createApiToken(db, { userId: gone.id, kind: 'personal', name: 'k', scopes: ['read'], now })).token;
    await db.updateTable('user').set({ enabled: 0, disabled_reason: 'test' }).where('id', '=', gone.id).execute();
    const disabled = await errorOf(get('t=search', goneKey));
    assert.deepEqual([disabled.status, disabled.code], [200, 101]);
    const disabledDl = await errorOf(s.browser().get(`/api/torznab/download/${matrix.id}?apikey=${goneKey}`, false));
    assert.deepEqual([disabledDl.status, disabledDl.code], [403, 101]);
  });

  it('maps the site-wide freeleech and the torrent\'s own factors into the volume factors', async () => {
    const db = s.app.db();
    await db.updateTable('torrent').set({ download_factor: 0.5, upload_factor: 2, factors_until: null }).where('id', '=', book.id).execute();
    let items = (await search('t=search&cat=2000,7000')).items;
    const byTitle = new Map(items.map((i) => [i.title, i]));
    assert.equal(one(byTitle.get('Some Novel EPUB')!, 'downloadvolumefactor'), '0.5');
    assert.equal(one(byTitle.get('Some Novel EPUB')!, 'uploadvolumefactor'), '2');
    assert.equal(one(byTitle.get('The Matrix 1999 1080p BluRay')!, 'downloadvolumefactor'), '1');
    const now = Math.floor(Date.now() / 1000);
    await createWindow(s.app.site(), { id: member.id, username: 'grabber' }, { startsAt: now - 10, endsAt: now + 3600, uploadFactor: 1, downloadFactor: 0, reason: 'test freeleech' }, now);
    items = (await search('t=search&cat=2000,7000')).items;
    for (const i of items) assert.equal(one(i, 'downloadvolumefactor'), '0', `freeleech on ${i.title}`);
    assert.equal(one(items.find((i) => i.title === 'Some Novel EPUB')!, 'uploadvolumefactor'), '2', 'the larger upload factor');
    await db.deleteFrom('freeleech_window').execute();
  });

  describe('the category mapping page', () => {
    it('refuses visitors and plain members', async () => {
      assert.equal((await s.browser().get('/admin/torznab', false)).status, 303, 'visitors go to the login page');
      const plain = await session((await s.member('plainmember')).id);
      assert.equal((await plain.get('/admin/torznab')).status, 403);
      await plain.get('/');
      assert.equal((await plain.post('/admin/torznab', { cat_631: '2040' })).status, 403);
      assert.equal((await plain.post('/admin/torznab/reset', {})).status, 403);
      assert.equal(await s.app.db().selectFrom('newznab_category').select('category_id').executeTakeFirst(), undefined, 'nothing stored');
    });

    it('changes caps and item categories, audits the change, and resets to the defaults', async () => {
      const admin = await session((await s.member('boss', { role: 'admin' })).id);
      const page = await admin.get('/admin/torznab');
      assert.equal(page.status, 200);
      assert.match(page.text, /<select id="nz-631" name="cat_631"/);
      assert.match(page.text, /<option value="2000" selected>2000 — Movies<\/option>/);
      assert.ok(page.text.includes(`${s.app.site().publicUrl}/api/torznab`), 'the endpoint shown');

      const bad = await admin.post('/admin/torznab', { cat_631: '1234' });
      assert.equal(bad.status, 400);
      assert.match(bad.text, /Choose a Newznab category from the list/);
      const worse = await admin.post('/admin/torznab', { cat_631: 'movies' });
      assert.equal(worse.status, 400);

      const saved = await admin.post('/admin/torznab', { cat_631: '2040', cat_433: '5000', cat_408: '7020' });
      assert.equal(saved.status, 303);
      assert.equal(saved.location, '/admin/torznab');
      const rows = await s.app.db().selectFrom('newznab_category').selectAll().execute();
      assert.deepEqual(rows.map((r) => [r.category_id, r.newznab_id]), [[631, 2040]], 'only the change from the default is stored');
      const auditRow = await s.app.db().selectFrom('audit_log').selectAll().where('action', '=', 'torznab.mapping').executeTakeFirstOrThrow();
      assert.deepEqual(JSON.parse(auditRow.after!), { 631: 2040 });
      assert.deepEqual(JSON.parse(auditRow.before!), { 631: 2000 });
      assert.match((await admin.get('/admin/torznab')).text, /<option value="2040" selected>/);

      const caps = parse((await s.browser().get('/api/torznab?t=caps', false)).text).caps as Node;
      const movies = ((caps.categories as Node).category as Node[]).find((c) => c['@id'] === '2000')!;
      assert.deepEqual(((movies.subcat as Node[]) ?? []).map((x) => x['@id']), ['2020', '2040']);
      const { items } = await search('t=search&q=matrix');
      assert.deepEqual(items[0]!.attrs.get('category'), ['2000', '2040', '100631']);
      assert.deepEqual((await search('t=search&cat=2040')).items.map((i) => i.title), ['A & B <x> "q"', 'The Matrix 1999 1080p BluRay']);
      assert.deepEqual((await search('t=search&cat=2030')).items.map((i) => i.title), [], 'a sibling subcategory does not match (the fallback, Animation, is empty)');

      const reset = await admin.post('/admin/torznab/reset', {});
      assert.equal(reset.status, 303);
      assert.equal(await s.app.db().selectFrom('newznab_category').select('category_id').executeTakeFirst(), undefined);
      assert.ok(await s.app.db().selectFrom('audit_log').select('id').where('action', '=', 'torznab.mapping_reset').executeTakeFirst(), 'reset audited');
      assert.deepEqual((await search('t=search&q=matrix')).items[0]!.attrs.get('category'), ['2000', '100631']);
    });
  });
});

describe('Torznab rate limit', () => {
  it('answers 500 "Request limit reached" over the per-token limit', async (t) => {
    const s = await startSite(t, { api: { rate_limit: 2 } });
    const m = await s.member('busy');
    const key = (await createApiToken(s.app.db(), { userId: m.id, kind: 'personal', name: 'k', scopes: ['read'], now: Math.floor(Date.now() / 1000) })).token;
    for (let i = 0; i < 2; i++) assert.equal((await s.browser().get(`/api/torznab?t=search&apikey=${key}`, false)).status, 200);
    const r = await s.browser().get(`/api/torznab?t=search&apikey=${key}`, false);
    assert.equal(r.status, 200);
    const e = parse(r.text).error as Node;
    assert.equal(e['@code'], '500');
    assert.equal(e['@description'], 'Request limit reached', 'the exact description clients compare');
    assert.ok(r.headers.get('retry-after'), 'Retry-After header');
  });
});

/**
 * RSS: the feeds page, feeds per category, top 100, bookmarks and saved search, authenticated by
 * the RSS key; parsed with a feed-parser library; enclosures that download a .torrent personalised
 * for the key's owner without any cookie.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Parser from 'rss-parser';
import { invalidateCatalogue } from '../../src/site/catalogue/catalogue.js';
import { bencode } from '../../src/protocol/bencode.js';
import { createSession } from '../../src/site/sessions.js';
import { insertCategories, insertTorrent, type InsertedTorrent } from '../../src/site/torrents/read.testing.js';
import { SESSION_COOKIE } from '../../src/web/context.js';
import { buildTorrent } from '../fixtures/metainfo/builders.js';
import { bdecodeDict, dictString, infoHashOf } from '../helpers/bencode.js';
import { startSite, type Browser, type TestSite } from '../helpers/site.js';
import { chromiumUnavailable, launchChromium, seriousA11yViolations } from '../helpers/chromium.js';

type Member = Awaited<ReturnType<TestSite['member']>>;

async function loggedIn(s: TestSite, m: { id: number }): Promise<Browser> {
  const b = s.browser();
  const token = await createSession(s.app.db(), m.id, { persistent: false, ttl: 3600, ip: null, userAgent: null, now: Math.floor(Date.now() / 1000) });
  b.cookies.set(SESSION_COOKIE, token);
  return b;
}

let serial = 0;
function raw(): Buffer {
  return bencode(buildTorrent('v1', { name: `file-${serial}`, files: [{ path: ['a.bin'], size: 30000 + serial++ }] }).top);
}

const parser = new Parser();

describe('RSS feeds', () => {
  let s: TestSite;
  let reader: Member;
  let other: Member;
  let gone: Member;
  let jerry: InsertedTorrent;
  let docu: InsertedTorrent;
  let pending: InsertedTorrent;
  let deleted: InsertedTorrent;
  let searchId: number;
  let otherSearchId: number;
  const pathOf = (url: string) => {
    const u = new URL(url);
    return u.pathname + u.search;
  };

  before(async () => {
    s = await startSite();
    const db = s.app.db();
    reader = await s.member('reader');
    other = await s.member('other');
    gone = await s.member('gone');
    await db.updateTable('user').set({ enabled: 0, disabled_reason: 'test' }).where('id', '=', gone.id).execute();
    await insertCategories(db, [
      { id: 80201, name_en: 'Video' },
      { id: 80202, parent_id: 80201, name_en: 'Cartoons' },
      { id: 80203, parent_id: 80201, name_en: 'Documentaries' },
    ]);
    invalidateCatalogue(db);
    const now = Math.floor(Date.now() / 1000);
    jerry = await insertTorrent(db, { raw: raw(), name: 'Tom & Jerry <3> "quotes" l\'été', categoryId: 80202, uploaderId: other.id, seeders: 2, leechers: 1, createdAt: now - 100 });
    docu = await insertTorrent(db, { raw: raw(), name: 'Deep Sea Documentary', categoryId: 80203, uploaderId: other.id, seeders: 20, leechers: 5, createdAt: now - 50 });
    pending = await insertTorrent(db, { raw: raw(), name: 'Pending Cartoon', categoryId: 80202, uploaderId: other.id, status: 'pending' });
    deleted = await insertTorrent(db, { raw: raw(), name: 'Deleted Cartoon', categoryId: 80202, uploaderId: other.id, status: 'deleted', deletedReason: 'fake' });
    searchId = (await db.insertInto('saved_search').values({ user_id: reader.id, name: 'Jerry cartoons', query: 'q=jerry+ete&category=80201&sort=name&order=desc', created_at: now }).returning('id').executeTakeFirstOrThrow()).id;
    otherSearchId = (await db.insertInto('saved_search').values({ user_id: other.id, name: 'Theirs', query: 'q=sea', created_at: now }).returning('id').executeTakeFirstOrThrow()).id;
  });
  after(() => s.stop());

  const feed = async (path: string) => {
    const r = await s.browser().get(path);
    assert.equal(r.status, 200, `${path}: ${r.text.slice(0, 200)}`);
    assert.equal(r.headers.get('content-type'), 'application/rss+xml; charset=utf-8');
    return { r, parsed: await parser.parseString(r.text) };
  };

  it('lists the member\'s feed addresses with the RSS key, never the passkey', async () => {
    assert.equal((await s.browser().get('/rss', false)).status, 303);
    const r = await (await loggedIn(s, reader)).get('/rss');
    assert.equal(r.status, 200);
    const base = s.app.site().publicUrl;
    for (const url of [`/rss/top?key=${reader.rssKey}`, `/rss/bookmarks?key=${reader.rssKey}`, `/rss/category/80201?key=${reader.rssKey}`, `/rss/category/80203?key=${reader.rssKey}`, `/rss/search/${searchId}?key=${reader.rssKey}`]) {
      assert.ok(r.text.includes(`href="${base}${url}"`), `feed link ${url}`);
    }
    assert.ok(r.text.includes('>Jerry cartoons</a>'), 'saved search named');
    assert.ok(!r.text.includes(`/rss/search/${otherSearchId}?`), 'not another member\'s saved search');
    assert.ok(!r.text.includes(reader.passkey), 'no passkey on the page');
    assert.equal(r.headers.get('cache-control'), 'private, no-store');
    assert.match(r.text, /<link rel="alternate" type="application\/rss\+xml"/);
  });

  it('serves a parent category\'s feed with its subcategories, escaped, with working enclosures', async () => {
    const { r, parsed } = await feed(`/rss/category/80201?key=${reader.rssKey}`);
    assert.match(r.text, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<rss version="2.0">/);
    assert.equal(parsed.title, 'Essaim · Video');
    assert.equal(parsed.link, `${s.app.site().publicUrl}/browse?category=80201`);
    assert.equal(parsed.description, 'The newest torrents in Video.');
    assert.deepEqual(parsed.items.map((i) => i.title), ['Deep Sea Documentary', 'Tom & Jerry <3> "quotes" l\'été']);
    const item = parsed.items[1]!;
    const base = s.app.site().publicUrl;
    assert.equal(item.link, `${base}/torrents/${jerry.id}/${jerry.slug}`);
    assert.equal(item.guid, `${base}/t/${jerry.id}`);
    assert.ok(item.pubDate && /GMT$/.test(item.pubDate), 'RFC 822 date in GMT');
    assert.ok(!Number.isNaN(Date.parse(item.pubDate!)), 'parseable date');
    assert.deepEqual(item.categories, ['Cartoons']);
    // Counts are the tracker's live ones (it runs in this process, with no peer yet), not the copy.
    assert.match(item.content ?? '', /Size: 29\.3 KiB · Category: Cartoons · Seeders: 0 · Leechers: 0/);
    assert.equal(item.enclosure?.url, `${base}/rss/download/${jerry.id}?key=${reader.rssKey}`);
    assert.equal(item.enclosure?.type, 'application/x-bittorrent');
    const size = (await s.app.db().selectFrom('torrent').select('size').where('id', '=', jerry.id).executeTakeFirstOrThrow()).size;
    assert.equal(Number(item.enclosure?.length), size);

    // The enclosure works without cookies and carries the key owner's passkey.
    const dl = await s.browser().get(pathOf(item.enclosure!.url));
    assert.equal(dl.status, 200);
    assert.equal(dl.headers.get('content-type'), 'application/x-bittorrent');
    assert.equal(dl.headers.get('cache-control'), 'private, no-store');
    const d = bdecodeDict(dl.body);
    assert.equal(dictString(d, 'announce'), s.app.site().announceUrls(reader.passkey).http);
    assert.equal(infoHashOf(dl.body), jerry.infoHashV1);
    assert.ok(!dl.body.includes(Buffer.from(reader.rssKey)), 'the RSS key is not in the torrent');
  });

  it('serves a subcategory\'s feed', async () => {
    const { parsed } = await feed(`/rss/category/80203?key=${reader.rssKey}`);
    assert.equal(parsed.title, 'Essaim · Video › Documentaries');
    assert.deepEqual(parsed.items.map((i) => i.title), ['Deep Sea Documentary']);
    assert.equal((await s.browser().get(`/rss/category/99999?key=${reader.rssKey}`)).status, 404);
  });

  it('serves the top 100, most active first, without pending or deleted torrents', async () => {
    const { parsed } = await feed(`/rss/top?key=${reader.rssKey}`);
    assert.equal(parsed.items[0]?.title, 'Deep Sea Documentary');
    const titles = parsed.items.map((i) => i.title);
    assert.ok(titles.includes('Tom & Jerry <3> "quotes" l\'été'), 'listed');
    assert.ok(!titles.includes('Pending Cartoon') && !titles.includes('Deleted Cartoon'), 'no pending or deleted');
  });

  it('serves the member\'s bookmarks', async () => {
    await s.app.db().insertInto('bookmark').values({ user_id: reader.id, torrent_id: docu.id, created_at: 1 }).execute();
    const { parsed } = await feed(`/rss/bookmarks?key=${reader.rssKey}`);
    assert.equal(parsed.title, 'Essaim · My bookmarks');
    assert.deepEqual(parsed.items.map((i) => i.title), ['Deep Sea Documentary']);
    const theirs = await feed(`/rss/bookmarks?key=${other.rssKey}`);
    assert.equal(theirs.parsed.items.length, 0);
  });

  it('serves a saved search of the key\'s owner only', async () => {
    const { parsed } = await feed(`/rss/search/${searchId}?key=${reader.rssKey}`);
    assert.equal(parsed.title, 'Essaim · Search: Jerry cartoons');
    assert.deepEqual(parsed.items.map((i) => i.title), ['Tom & Jerry <3> "quotes" l\'été']);
    assert.equal(parsed.link, `${s.app.site().publicUrl}/browse?q=jerry+ete&category=80201&sort=name&order=desc`);
    // The listing's search language runs: accent-free words, field scopes, OR.
    const db = s.app.db();
    const run = async (query: string) => {
      const id = (await db.insertInto('saved_search').values({ user_id: reader.id, name: `q ${query}`, query, created_at: 1 }).returning('id').executeTakeFirstOrThrow()).id;
      return (await feed(`/rss/search/${id}?key=${reader.rssKey}`)).parsed.items.map((i) => i.title);
    };
    assert.deepEqual(await run('q=sea+%7C+jerry'), ['Deep Sea Documentary', 'Tom & Jerry <3> "quotes" l\'été']);
    assert.deepEqual(await run('q=%40name+documentary'), ['Deep Sea Documentary']);
    assert.deepEqual(await run('q=jerry&category=80203'), []);
    assert.deepEqual(await run('q=cartoon'), [], 'pending and deleted torrents are not listed');
    const r = await s.browser().get(`/rss/search/${otherSearchId}?key=${reader.rssKey}`);
    assert.equal(r.status, 404);
  });

  it('refuses a missing or wrong key, the passkey, and disabled members with 403', async () => {
    for (const path of [
      '/rss/top',
      '/rss/top?key=',
      `/rss/top?key=${'0'.repeat(32)}`,
      `/rss/top?key=${reader.passkey}`,
      `/rss/top?key=${reader.rssKey}x`,
      `/rss/download/${jerry.id}?key=${reader.passkey}`,
      `/rss/category/80201?key=nope`,
      `/rss/bookmarks?key=${gone.rssKey}`,
      `/rss/download/${jerry.id}?key=${gone.rssKey}`,
    ]) {
      const r = await s.browser().get(path);
      assert.equal(r.status, 403, path);
      assert.match(r.headers.get('content-type') ?? '', /^text\/plain/);
      assert.ok(!r.text.includes('<'), 'plain text');
    }
    const disabled = await s.browser().get(`/rss/top?key=${gone.rssKey}`);
    assert.match(disabled.text, /disabled/);
  });

  it('does not download pending or deleted torrents through a feed key', async () => {
    assert.equal((await s.browser().get(`/rss/download/${pending.id}?key=${reader.rssKey}`)).status, 404);
    assert.equal((await s.browser().get(`/rss/download/${deleted.id}?key=${reader.rssKey}`)).status, 404);
    // The uploader may fetch their own pending torrent.
    assert.equal((await s.browser().get(`/rss/download/${pending.id}?key=${other.rssKey}`)).status, 200);
  });

  it('writes feeds in the member\'s language', async () => {
    await s.app.db().updateTable('user').set({ locale: 'fr' }).where('id', '=', other.id).execute();
    const { parsed } = await feed(`/rss/top?key=${other.rssKey}`);
    assert.equal(parsed.description, 'Les 100 torrents les plus actifs.');
    assert.match(parsed.items[0]?.content ?? '', /^Taille : 29,3 Kio · Catégorie : Documentaries \(fr\) · Sources : 0 · Clients : 0$/);
  });
  describe('in Chromium', { skip: chromiumUnavailable() ?? false }, () => {
    it('has no serious or critical accessibility violation', async () => {
      const browser = await launchChromium();
      try {
        const context = await browser.newContext();
        const token = await createSession(s.app.db(), reader.id, { persistent: false, ttl: 3600, ip: null, userAgent: null, now: Math.floor(Date.now() / 1000) });
        await context.addCookies([{ name: SESSION_COOKIE, value: token, url: s.base }]);
        const tab = await context.newPage();
        for (const path of ['/rss']) {
          const res = await tab.goto(s.base + path);
          assert.equal(res?.status(), 200, path);
          if (path.endsWith('.svg')) continue;
          const v = await seriousA11yViolations(tab);
          assert.deepEqual(v, [], `${path}: ${JSON.stringify(v)}`);
        }
      } finally {
        await browser.close();
      }
    });
  });
});

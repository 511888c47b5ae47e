/**
 * Browse and search pages through the Browser: home, the listing (sort links both ways, filters,
 * terms, pagination, live counts), autocomplete JSON, the OpenSearch description, saved searches
 * (create and delete with CSRF, errors kept next to the field), recent searches, top lists and
 * "needs seed". Fixture rows are written directly (ids from 90000).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { invalidateCatalogue } from '../../src/site/catalogue/catalogue.js';
import { registerTorrent } from '../../src/db/torrent.repository.js';
import { indexTorrents } from '../../src/site/search/indexer.js';
import { clearTopCache } from '../../src/site/search/top.js';
import { catalogs } from '../../src/web/messages.js';
import { httpAnnounce } from '../helpers/announce.js';
import { startSite, type Browser, type TestSite } from '../helpers/site.js';

const en = catalogs.en;

interface Made {
  id: number;
  v1: string;
}

describe('browse and search pages', () => {
  let s: TestSite;
  let alice: Awaited<ReturnType<TestSite['member']>>;
  let bob: Awaited<ReturnType<TestSite['member']>>;
  let vikings: Made;
  let empire: Made;
  let adult: Made;
  let now: number;

  const loggedIn = async (m: { password: string }, name: string): Promise<Browser> => {
    const b = s.browser();
    const r = await b.login(name, m.password);
    assert.equal(r.status, 200, `logged in as ${name}`);
    return b;
  };

  before(async () => {
    s = await startSite();
    const db = s.app.db();
    now = s.app.site().now();
    alice = await s.member('alice');
    bob = await s.member('bob');
    await db.insertInto('category').values([
      { id: 90001, parent_id: null, slug: 'fx-video', icon: 'video', name_en: 'Fixture video', name_fr: 'Vidéo fixture', adult: 0 },
      { id: 90010, parent_id: null, slug: 'fx-adult', icon: 'xxx', name_en: 'Fixture adult', name_fr: 'Adulte fixture', adult: 1 },
    ]).execute();
    await db.insertInto('category').values([
      { id: 90002, parent_id: 90001, slug: 'fx-series', icon: 'tv', name_en: 'Fixture series', name_fr: 'Séries fixture', adult: 0 },
      { id: 90003, parent_id: 90001, slug: 'fx-filler', icon: 'tv', name_en: 'Fixture filler', name_fr: 'Remplissage', adult: 0 },
      { id: 90011, parent_id: 90010, slug: 'fx-adult-video', icon: 'xxx', name_en: 'Fixture adult video', name_fr: 'Vidéo adulte fixture', adult: 0 },
    ]).execute();
    await db.insertInto('term_type').values([
      { id: 90100, name_en: 'Fixture quality', name_fr: 'Qualité fixture', mode: 'single' },
      { id: 90200, name_en: 'Fixture language', name_fr: 'Langue fixture', mode: 'multi' },
    ]).execute();
    await db.insertInto('category_term_type').values([
      { category_id: 90002, term_type_id: 90100, position: 0 },
      { category_id: 90002, term_type_id: 90200, position: 1 },
    ]).execute();
    await db.insertInto('term').values([
      { id: 90101, term_type_id: 90100, name_en: 'Q720', name_fr: 'Q720', position: 0 },
      { id: 90102, term_type_id: 90100, name_en: 'Q1080', name_fr: 'Q1080', position: 1 },
      { id: 90201, term_type_id: 90200, name_en: 'Frenchish', name_fr: 'Françaisish', position: 0 },
      { id: 90202, term_type_id: 90200, name_en: 'Englishish', name_fr: 'Anglaisish', position: 1 },
    ]).execute();

    let seq = 0;
    const make = async (o: { name: string; category: number; terms?: number[]; uploader: number; anonymous?: boolean; age: number; seeders?: number; leechers?: number; size?: number; completed?: number; comments?: number }): Promise<Made> => {
      seq++;
      const v1 = randomBytes(20).toString('hex');
      const { id } = await registerTorrent(db, { name: o.name, infoHashV1: v1, size: o.size ?? 1000 + seq, uploaderId: o.uploader, now: now - o.age });
      await db
        .updateTable('torrent')
        .set({
          category_id: o.category,
          anonymous: o.anonymous ? 1 : 0,
          seeders: o.seeders ?? 0,
          leechers: o.leechers ?? 0,
          times_completed: o.completed ?? seq,
          comment_count: o.comments ?? seq % 7,
          description: `Description of ${o.name}`,
        })
        .where('id', '=', id)
        .execute();
      for (const term of o.terms ?? []) await db.insertInto('torrent_term').values({ torrent_id: id, term_id: term, term_type_id: term < 90200 ? 90100 : 90200 }).execute();
      await s.app.site().tracker.torrentChanged(id);
      return { id, v1 };
    };
    vikings = await make({ name: 'Série Vikings S01E01 FRENCH', category: 90002, terms: [90101, 90201], uploader: alice.id, age: 100, seeders: 3, leechers: 1 });
    empire = await make({ name: 'Empire S01E04 MULTi', category: 90002, terms: [90102, 90201, 90202], uploader: bob.id, anonymous: true, age: 200, seeders: 0, leechers: 5 });
    adult = await make({ name: 'Adultish secret film', category: 90011, uploader: bob.id, age: 300, seeders: 2 });
    const fillers: number[] = [];
    for (let i = 0; i < 55; i++) fillers.push((await make({ name: `Filler item ${String(i).padStart(2, '0')}`, category: 90003, uploader: alice.id, age: 1000 + i, seeders: 1 })).id);
    await indexTorrents(db, [vikings.id, empire.id, adult.id, ...fillers]);
    invalidateCatalogue(db);
    clearTopCache(db);
  });
  after(() => s.stop());

  it('shows the home page with a search box and the latest torrents, no adult ones for visitors', async () => {
    const r = await s.browser().get('/');
    assert.equal(r.status, 200);
    assert.ok(r.text.includes('<form class="home-search" method="get" action="/browse" role="search" aria-label="Search torrents">'), 'search form');
    assert.ok(r.text.includes('<label for="home-q">'), 'labelled search box');
    assert.ok(r.text.includes('Série Vikings S01E01 FRENCH'), 'latest torrents');
    assert.ok(!r.text.includes('Adultish'), 'no adult torrent for visitors');
    assert.ok(r.text.includes(en['browse.home.top_today']), "today's top");
    const member = await loggedIn(alice, 'alice');
    assert.ok((await member.get('/')).text.includes('Adultish'), 'members see adult torrents');
  });

  it('lists torrents with every column header sorting both ways', async () => {
    const r = await s.browser().get('/browse');
    assert.equal(r.status, 200);
    assert.ok(r.text.includes(en['browse.title']), 'title');
    assert.ok(!r.text.includes('Adultish'), 'adult hidden from visitors');
    // Default: age ascending (newest first); the Age header carries aria-sort and flips the order.
    assert.match(r.text, /<th scope="col" class="num" aria-sort="ascending"><a href="\/browse\?sort=age&amp;order=desc" rel="nofollow">Age/);
    for (const [col, label, first] of [
      ['category', 'Category', 'asc'],
      ['name', 'Name', 'asc'],
      ['comments', 'Comments', 'desc'],
      ['size', 'Size', 'desc'],
      ['completed', 'Completed', 'desc'],
      ['seeders', 'Seeders', 'desc'],
      ['leechers', 'Leechers', 'desc'],
    ] as const) {
      const href = `/browse?sort=${col}&amp;order=${first}`;
      assert.ok(r.text.includes(`<a href="${href}" rel="nofollow">${label}`), `${col} header link`);
      const sorted = await s.browser().get(href.replace('&amp;', '&'));
      assert.equal(sorted.status, 200);
      assert.ok(sorted.text.includes(`aria-sort="${first === 'asc' ? 'ascending' : 'descending'}"><a href="/browse?sort=${col}&amp;order=${first === 'asc' ? 'desc' : 'asc'}"`), `${col}: the header now sorts the other way`);
    }
    const byName = await s.browser().get('/browse?sort=name&order=asc');
    const names = [...byName.text.matchAll(/<th scope="row" class="name"><a href="[^"]+">([^<]+)<\/a>/g)].map((m) => m[1]!);
    assert.deepEqual(names, [...names].sort(), 'names ascending');
    const byNameDesc = await s.browser().get('/browse?sort=name&order=desc');
    const namesDesc = [...byNameDesc.text.matchAll(/<th scope="row" class="name"><a href="[^"]+">([^<]+)<\/a>/g)].map((m) => m[1]!);
    assert.equal(namesDesc[0], 'Série Vikings S01E01 FRENCH', 'descending starts at the end of the alphabet');
    const byLeechers = await s.browser().get('/browse?sort=leechers&order=desc');
    assert.ok(byLeechers.text.indexOf('Empire S01E04') < byLeechers.text.indexOf('Série Vikings'), 'most leechers first');
  });

  it('pages through results', async () => {
    const r = await s.browser().get('/browse?q=filler');
    assert.match(r.text, /55 torrents/);
    assert.equal([...r.text.matchAll(/<th scope="row" class="name">/g)].length, 50);
    assert.ok(r.text.includes('<a href="/browse?q=filler&amp;page=2" rel="next">Next</a>'), 'next page link');
    assert.ok(r.text.includes('aria-current="page"'), 'current page marked');
    const p2 = await s.browser().get('/browse?q=filler&page=2');
    assert.equal([...p2.text.matchAll(/<th scope="row" class="name">/g)].length, 5);
    assert.ok(p2.text.includes('<a href="/browse?q=filler" rel="prev">Previous</a>'), 'previous page link');
    assert.ok(!p2.text.includes('rel="next"'), 'no next page on the last one');
  });

  it('searches without accents and filters by category and terms', async () => {
    const r = await s.browser().get('/browse?q=serie+vikings');
    assert.ok(r.text.includes('Série Vikings S01E01 FRENCH'), 'accent-free search finds the accented name');
    assert.match(r.text, /1 torrent</);
    assert.ok(r.text.includes('<title>Search: serie vikings'), 'page title names the search');
    assert.ok(r.text.includes('id="header-q" type="search" name="q" value="serie vikings"'), 'header search box prefilled');
    const parent = await s.browser().get('/browse?category=90001');
    assert.match(parent.text, /57 torrents/);
    assert.ok(parent.text.includes('<option value="90001" selected>All of Fixture video</option>'), 'parent selected');
    assert.ok(parent.text.includes(en['browse.terms.hint']), 'terms need a subcategory');
    const sub = await s.browser().get('/browse?category=90002');
    assert.match(sub.text, /2 torrents/);
    assert.ok(sub.text.includes('<label for="browse-term-90100">Fixture quality</label>'), 'single type as a labelled select');
    assert.ok(sub.text.includes('<option value="90102">Q1080</option>'), 'terms as options');
    assert.ok(sub.text.includes('<legend>Fixture language</legend>'), 'multi type as a fieldset');
    assert.ok(sub.text.includes('<input type="checkbox" name="term" value="90202"> Englishish'), 'multi terms as checkboxes');
    const q1080 = await s.browser().get('/browse?category=90002&term=90102');
    assert.match(q1080.text, /1 torrent</);
    assert.ok(q1080.text.includes('Empire S01E04'), 'filtered by a single term');
    assert.ok(q1080.text.includes('<option value="90102" selected>Q1080</option>'), 'selection kept');
    const lang = await s.browser().get('/browse?category=90002&term=90201&term=90202');
    assert.match(lang.text, /2 torrents/, 'OR within a type');
    assert.ok(lang.text.includes('value="90202" checked'), 'checkbox kept');
    const both = await s.browser().get('/browse?category=90002&term=90101&term=90202');
    assert.match(both.text, /No torrent matches/, 'AND across types');
    const t411 = await s.browser().get('/browse?subcat=90002&term%5B90100%5D%5B%5D=90102');
    assert.match(t411.text, /1 torrent</, "T411's parameter names are understood");
    // A term without its subcategory: applied, listed, removable.
    const loose = await s.browser().get('/browse?term=90102');
    assert.match(loose.text, /1 torrent</);
    assert.ok(loose.text.includes('<input type="hidden" name="term" value="90102">'), 'kept in the form');
    assert.ok(loose.text.includes('<a href="/browse">remove “Q1080”</a>'), 'removable');
    // Adult categories: not offered to visitors, and not listed even when asked for.
    const adultAsked = await s.browser().get('/browse?category=90010');
    assert.ok(!adultAsked.text.includes('Adultish'), 'adult torrents hidden from visitors');
    assert.ok(!adultAsked.text.includes('Fixture adult'), 'adult categories not offered to visitors');
    const member = await loggedIn(bob, 'bob');
    const adultMember = await member.get('/browse?category=90010');
    assert.ok(adultMember.text.includes('Adultish secret film'), 'members see them');
  });

  it('shows seeders and leechers from the live swarms', async () => {
    // The tracker runs in this process: its (empty) swarm wins over the database copy (5 leechers).
    const r0 = await s.browser().get('/browse?q=empire');
    assert.match(r0.text, /<td class="num seeders">0<\/td>\s*<td class="num leechers">0<\/td>/, 'live counts before any announce');
    const tracker = s.listening.httpTracker!;
    const seed = await httpAnnounce(`${tracker}/${bob.passkey}/announce`, { infoHash: Buffer.from(empire.v1, 'hex'), peerId: randomBytes(20), port: 6881, uploaded: 0, downloaded: 0, left: 0, event: 'started' });
    assert.equal(seed.failure, null, `announce accepted: ${seed.failure}`);
    const r = await s.browser().get('/browse?q=empire');
    assert.match(r.text, /<td class="num seeders">1<\/td>\s*<td class="num leechers">0<\/td>/, 'live counts');
  });

  it('answers autocomplete suggestions as JSON', async () => {
    const r = await s.browser().get('/search/suggest?q=vik');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /application\/json/);
    assert.deepEqual(JSON.parse(r.text), ['Série Vikings S01E01 FRENCH']);
    const many = JSON.parse((await s.browser().get('/search/suggest?q=filler')).text) as string[];
    assert.equal(many.length, 10, 'at most ten');
    assert.deepEqual(JSON.parse((await s.browser().get('/search/suggest?q=v')).text), [], 'two characters at least');
    assert.deepEqual(JSON.parse((await s.browser().get('/search/suggest')).text), []);
    assert.deepEqual(JSON.parse((await s.browser().get('/search/suggest?q=adultish')).text), [], 'no adult names for visitors');
    const os = await s.browser().get('/search/suggest?q=vik&format=opensearch');
    assert.match(os.headers.get('content-type') ?? '', /application\/x-suggestions\+json/);
    assert.deepEqual(JSON.parse(os.text), ['vik', ['Série Vikings S01E01 FRENCH']]);
  });

  it('publishes an OpenSearch description', async () => {
    const r = await s.browser().get('/opensearch.xml');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /application\/opensearchdescription\+xml/);
    assert.equal(XMLValidator.validate(r.text), true);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@' }).parse(r.text) as {
      OpenSearchDescription: { '@xmlns': string; ShortName: string; Description: string; InputEncoding: string; Url: Array<{ '@type': string; '@template': string }> };
    };
    const osd = doc.OpenSearchDescription;
    assert.equal(osd['@xmlns'], 'http://a9.com/-/spec/opensearch/1.1/');
    assert.ok(osd.ShortName.length > 0 && osd.ShortName.length <= 16, 'short name of 16 characters at most');
    assert.equal(osd.InputEncoding, 'UTF-8');
    const base = s.app.site().publicUrl;
    const html = osd.Url.find((u) => u['@type'] === 'text/html');
    assert.equal(html?.['@template'], `${base}/browse?q={searchTerms}&page={startPage?}`);
    const suggest = osd.Url.find((u) => u['@type'] === 'application/x-suggestions+json');
    assert.equal(suggest?.['@template'], `${base}/search/suggest?format=opensearch&q={searchTerms}`);
    assert.ok((await s.browser().get('/')).text.includes('<link rel="search" type="application/opensearchdescription+xml" href="/opensearch.xml"'), 'linked from pages');
  });

  it('saves a search, lists it with its RSS link, and deletes it, with CSRF checks', async () => {
    const b = await loggedIn(alice, 'alice');
    const page = await b.get('/browse?q=vikings&category=90002&sort=seeders&order=desc');
    assert.ok(page.text.includes(en['browse.save.heading']), 'save form offered');
    const query = /name="query" value="([^"]+)"/.exec(page.text)?.[1]?.replaceAll('&amp;', '&');
    assert.equal(query, 'q=vikings&category=90002&sort=seeders&order=desc');
    // No CSRF token: refused.
    const forged = await b.post('/searches', { name: 'Mine', query: query! }, { csrf: false });
    assert.equal(forged.status, 403);
    // Empty name: the form again, with the message next to the field and the search kept.
    const empty = await b.post('/searches', { name: '  ', query: query! });
    assert.equal(empty.status, 400);
    assert.ok(empty.text.includes(`<p id="save-name-error" class="field-error">${en['browse.save.error.name_required']}</p>`), 'error next to the field');
    assert.ok(empty.text.includes('Série Vikings S01E01 FRENCH'), 'the results are shown again');
    const saved = await b.post('/searches', { name: 'My <vikings>', query: query! });
    assert.equal(saved.status, 303);
    assert.equal(saved.location, '/searches');
    const list = await b.get('/searches');
    assert.ok(list.text.includes(en['browse.save.done']), 'flash');
    assert.ok(list.text.includes('<th scope="row">My &lt;vikings&gt;</th>'), 'name escaped');
    assert.ok(list.text.includes('href="/browse?q=vikings&amp;category=90002&amp;sort=seeders&amp;order=desc"'), 'run link');
    const id = Number(/\/rss\/search\/(\d+)\?key=/.exec(list.text)?.[1]);
    assert.ok(list.text.includes(`href="/rss/search/${id}?key=${alice.rssKey}"`), 'RSS link with the RSS key');
    assert.ok(!list.text.includes(alice.passkey), 'never the passkey');
    // The same name again: 409, typed name kept.
    await b.get('/browse?q=vikings');
    const dup = await b.post('/searches', { name: 'My <vikings>', query: 'q=vikings' });
    assert.equal(dup.status, 409);
    assert.ok(dup.text.includes(en['browse.save.error.duplicate']), 'duplicate refused');
    assert.ok(dup.text.includes('value="My &lt;vikings&gt;"'), 'typed name kept');
    // Someone else cannot delete it.
    const other = await loggedIn(bob, 'bob');
    await other.get('/searches');
    assert.equal((await other.post(`/searches/${id}/delete`, {})).status, 404);
    await b.get('/searches');
    assert.equal((await b.post(`/searches/${id}/delete`, {}, { csrf: false })).status, 403);
    const del = await b.post(`/searches/${id}/delete`, {});
    assert.equal(del.status, 303);
    const after = await b.get('/searches');
    assert.ok(after.text.includes(en['browse.searches.deleted']), 'deleted flash');
    assert.ok(after.text.includes(en['browse.searches.empty']), 'empty list');
    assert.equal((await b.post('/searches/abc/delete', {})).status, 404);
  });

  it('keeps saved and recent searches for members only', async () => {
    const v = s.browser();
    const r = await v.get('/searches', false);
    assert.equal(r.status, 303);
    assert.match(r.location ?? '', /^\/login\?next=/);
    const page = await v.get('/browse?q=vikings');
    assert.ok(!page.text.includes(en['browse.save.heading']), 'no save form for visitors');
    assert.ok(!page.text.includes(en['browse.recent.heading']), 'no history for visitors');
    await v.get('/login');
    const post = await v.post('/searches', { name: 'x', query: 'q=x' });
    assert.equal(post.status, 303);
    assert.match(post.location ?? '', /^\/login/);
  });

  it("records a member's recent searches and clears them", async () => {
    const carol = await s.member('carol');
    const b = await loggedIn(carol, 'carol');
    await b.get('/browse?q=vikings');
    await b.get('/browse?q=empire&category=90002');
    await b.get('/browse?q=empire&category=90002&page=1');
    const r = await b.get('/browse');
    assert.ok(r.text.includes(en['browse.recent.heading']), 'history shown');
    const items = [...r.text.matchAll(/<li><a href="(\/browse\?[^"]+)">([^<]+)<\/a><\/li>/g)].map((m) => [m[1], m[2]]);
    assert.deepEqual(items, [
      ['/browse?q=empire&amp;category=90002', '“empire” · Fixture video › Fixture series'],
      ['/browse?q=vikings', '“vikings”'],
    ]);
    const cleared = await b.post('/searches/history/clear', {});
    assert.equal(cleared.status, 303);
    const again = await b.get('/browse');
    assert.ok(again.text.includes(en['browse.recent.cleared']), 'flash');
    assert.ok(!again.text.includes(en['browse.recent.heading']), 'history gone');
  });

  it('shows the top lists and the torrents that need seeding', async () => {
    const db = s.app.db();
    await db.insertInto('user_torrent').values([
      { user_id: alice.id, torrent_id: vikings.id, completed_at: now - 3600, first_seen_at: now - 7200, last_seen_at: now },
      { user_id: bob.id, torrent_id: vikings.id, completed_at: now - 5 * 86400, first_seen_at: now - 7 * 86400, last_seen_at: now },
    ]).execute();
    clearTopCache(db);
    const top = await s.browser().get('/top');
    assert.equal(top.status, 200);
    assert.ok(top.text.includes(en['browse.top.heading.active']), 'top 100 heading');
    assert.ok(top.text.includes('<a href="/top" aria-current="page">'), 'current tab');
    assert.ok(top.text.indexOf('Empire S01E04') < top.text.indexOf('Série Vikings'), 'most active first');
    const today = await s.browser().get('/top/today');
    assert.ok(today.text.includes('Série Vikings'), 'completed today');
    assert.ok(today.text.includes(en['browse.col.period_completed']), 'completions column');
    assert.ok(!today.text.includes('Empire S01E04'), 'not completed today');
    const week = await s.browser().get('/top/week');
    assert.match(week.text, /Série Vikings[\s\S]*?<td class="num">2<\/td>\s*<\/tr>/, 'two completions this week');
    const month = await s.browser().get('/top/month');
    assert.equal(month.status, 200);
    const seed = await s.browser().get('/needs-seed');
    assert.equal(seed.status, 200);
    assert.ok(seed.text.includes('Empire S01E04'), 'no seeder in the database copy');
    assert.ok(!seed.text.includes('Série Vikings'), 'seeded torrents are left out');
    assert.match(seed.text, /aria-sort="descending"><a href="\/needs-seed\?sort=leechers&amp;order=asc"/, 'most leechers first, sortable');
  });

  it('speaks French', async () => {
    const b = s.browser();
    b.acceptLanguage = 'fr';
    const r = await b.get('/browse?category=90002');
    assert.ok(r.text.includes(catalogs.fr['browse.title']), 'French title');
    assert.ok(r.text.includes('Qualité fixture'), 'French term type');
    assert.ok(r.text.includes('Anglaisish'), 'French term');
    assert.ok(r.text.includes('>Taille'), 'French column');
  });
});

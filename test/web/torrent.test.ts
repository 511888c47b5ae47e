/**
 * The torrent page, its short link and slug redirects, the personalised download, and bookmarks.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { bencode } from '../../src/protocol/bencode.js';
import { findDictValueSpan } from '../../src/protocol/bencode.js';
import { createSession } from '../../src/site/sessions.js';
import { SESSION_COOKIE } from '../../src/web/context.js';
import { insertCategories, insertTermType, insertTorrent, type InsertedTorrent } from '../../src/site/torrents/read.testing.js';
import { buildTorrent } from '../fixtures/metainfo/builders.js';
import { httpAnnounce } from '../helpers/announce.js';
import { bdecodeDict, dictString, infoHashOf, isDict, type BValue } from '../helpers/bencode.js';
import { startSite, type Browser, type TestSite } from '../helpers/site.js';
import { chromiumUnavailable, launchChromium, seriousA11yViolations } from '../helpers/chromium.js';

type Member = Awaited<ReturnType<TestSite['member']>>;

/** A browser logged in as the member (a session made directly, as the login form would). */
export async function loggedIn(s: TestSite, m: { id: number }): Promise<Browser> {
  const b = s.browser();
  const token = await createSession(s.app.db(), m.id, { persistent: false, ttl: 3600, ip: null, userAgent: null, now: Math.floor(Date.now() / 1000) });
  b.cookies.set(SESSION_COOKIE, token);
  return b;
}

function rawTorrent(kind: 'v1' | 'v2' | 'hybrid', name: string, files = [
  { path: ['Movie.mkv'], size: 70000 },
  { path: ['extras', 'making-of.mkv'], size: 40000 },
  { path: ['extras', 'subs', 'fr.srt'], size: 1000 },
  { path: ['readme.txt'], size: 100 },
]): Buffer {
  const b = buildTorrent(kind, { name, files });
  b.top.announce = 'http://uploader.example/announce';
  return bencode(b.top);
}

function str(v: BValue | undefined): string | undefined {
  return Buffer.isBuffer(v) ? v.toString('utf8') : undefined;
}

describe('torrent page', () => {
  let s: TestSite;
  let alice: Member;
  let bob: Member;
  let mod: Member;
  let main: InsertedTorrent;
  let anon: InsertedTorrent;
  let pending: InsertedTorrent;
  let deleted: InsertedTorrent;
  let adult: InsertedTorrent;

  before(async () => {
    s = await startSite();
    const db = s.app.db();
    alice = await s.member('alice');
    bob = await s.member('bob');
    mod = await s.member('mia', { role: 'moderator' });
    await insertCategories(db, [
      { id: 80001, name_en: 'Video', name_fr: 'Vidéo' },
      { id: 80002, parent_id: 80001, name_en: 'Films', name_fr: 'Films FR' },
      { id: 80003, name_en: 'Grown-ups', adult: 1 },
      { id: 80004, parent_id: 80003, name_en: 'Grown-up films', adult: 1 },
    ]);
    await insertTermType(db, { id: 80010, name_en: 'Quality', name_fr: 'Qualité', categories: [80002], terms: [{ id: 80011, name_en: '1080p' }, { id: 80012, name_en: '720p' }] });
    await insertTermType(db, {
      id: 80020,
      name_en: 'Language',
      name_fr: 'Langue',
      mode: 'multi',
      categories: [80002],
      terms: [{ id: 80021, name_en: 'French', name_fr: 'Français' }, { id: 80022, name_en: 'English', name_fr: 'Anglais' }],
    });
    main = await insertTorrent(db, {
      raw: rawTorrent('hybrid', 'Le Film Étrange 2024'),
      categoryId: 80002,
      uploaderId: alice.id,
      termIds: [80011, 80021, 80022],
      description: '[b]Bold words[/b] and <script>alert(1)</script>',
      nfo: '▓▒░ NFO ART ░▒▓',
      timesCompleted: 7,
    });
    anon = await insertTorrent(db, { raw: rawTorrent('v1', 'Anonymous Thing'), categoryId: 80002, uploaderId: alice.id, anonymous: 1 });
    pending = await insertTorrent(db, { raw: rawTorrent('v1', 'Pending Thing'), categoryId: 80002, uploaderId: alice.id, status: 'pending' });
    deleted = await insertTorrent(db, { raw: rawTorrent('v1', 'Deleted Thing'), categoryId: 80002, uploaderId: alice.id, status: 'deleted', deletedReason: 'Duplicate of a better release' });
    adult = await insertTorrent(db, { raw: rawTorrent('v2', 'Adult Thing'), categoryId: 80004, uploaderId: alice.id });
    for (const t of [main, anon, pending, deleted, adult]) await s.app.site().tracker.torrentChanged(t.id);
  });
  after(() => s.stop());

  const page = (t: InsertedTorrent) => `/torrents/${t.id}/${t.slug}`;

  it('shows title, category and term links, uploader, hashes, file tree, counts, description and NFO', async () => {
    const r = await s.browser().get(page(main));
    assert.equal(r.status, 200);
    assert.match(r.text, /<h1>Le Film Étrange 2024<\/h1>/);
    assert.ok(r.text.includes('href="/browse?category=80001">Video</a>'), 'parent category link');
    assert.ok(r.text.includes('href="/browse?category=80002">Films</a>'), 'subcategory link');
    assert.ok(r.text.includes('href="/browse?category=80002&amp;term=80011">1080p</a>'), 'term link with subcategory');
    assert.ok(r.text.includes('href="/browse?category=80002&amp;term=80022">English</a>'), 'multi term link');
    assert.match(r.text, /<dt>Quality<\/dt>/);
    assert.match(r.text, /<dt>Language<\/dt>/);
    assert.ok(r.text.includes(`<a href="/u/${alice.id}">alice</a>`), 'uploader link');
    assert.ok(main.infoHashV1 && r.text.includes(main.infoHashV1), 'v1 hash shown');
    assert.ok(main.infoHashV2 && r.text.includes(main.infoHashV2), 'v2 hash shown');
    // File tree: nested lists, directory totals (40000 + 1000 = 41000 B = 40 KiB).
    assert.match(r.text, /<li class="dir"><span class="name">extras\/<\/span> <span class="size">40 KiB · 2 files<\/span><ul>/);
    assert.match(r.text, /<li class="dir"><span class="name">subs\/<\/span> <span class="size">1000 B · 1 file<\/span><ul><li class="file"><span class="name">fr.srt<\/span>/);
    assert.match(r.text, /<span class="name">readme.txt<\/span> <span class="size">100 B<\/span>/);
    assert.match(r.text, /4 files/);
    assert.match(r.text, /class="health health-dead">dead: 0 seeders and 0 leechers</);
    assert.match(r.text, /<dt>Completed<\/dt><dd>7<\/dd>/);
    assert.ok(r.text.includes('<strong>Bold words</strong>'), 'BBCode rendered');
    assert.ok(!r.text.includes('<script>alert(1)'), 'description HTML escaped');
    assert.ok(r.text.includes('<pre class="nfo">▓▒░ NFO ART ░▒▓</pre>'), 'NFO block');
    assert.ok(r.text.includes(`<link rel="canonical" href="${s.app.site().publicUrl}${page(main)}">`), 'canonical link');
    // Logged out: no download button, a login link instead.
    assert.ok(!r.text.includes(`/torrents/${main.id}/download`), 'no download link for visitors');
    assert.match(r.text, /Log in to download/);
  });

  it('shows the page in French', async () => {
    const b = s.browser();
    b.acceptLanguage = 'fr';
    const r = await b.get(page(main));
    assert.ok(r.text.includes('>Vidéo</a>'), 'French category name');
    assert.ok(r.text.includes('>Français</a>'), 'French term name');
    assert.match(r.text, /mort : 0 source et 0 client/);
  });

  it('takes seeders and leechers from the live swarms, summing a hybrid torrent\'s two', async () => {
    const tracker = s.listening.httpTracker!;
    const seed = await httpAnnounce(`${tracker}/${bob.passkey}/announce`, {
      infoHash: Buffer.from(main.infoHashV1!, 'hex'),
      peerId: randomBytes(20),
      port: 6881,
      uploaded: 0,
      downloaded: 0,
      left: 0,
      event: 'started',
    });
    assert.equal(seed.failure, null, `announce accepted: ${seed.failure}`);
    const leech = await httpAnnounce(`${tracker}/${alice.passkey}/announce`, {
      infoHash: Buffer.from(main.infoHashV2!.slice(0, 40), 'hex'),
      peerId: randomBytes(20),
      port: 6882,
      uploaded: 0,
      downloaded: 0,
      left: 1000,
      event: 'started',
    });
    assert.equal(leech.failure, null, `announce accepted: ${leech.failure}`);
    const r = await s.browser().get(page(main));
    assert.match(r.text, /class="health health-poor">poor: 1 seeder and 1 leecher</);
    assert.match(r.text, /<dt>Seeders<\/dt><dd class="seeders">1<\/dd>/);
    assert.match(r.text, /<dt>Leechers<\/dt><dd class="leechers">1<\/dd>/);
  });

  it('hides the uploader of an anonymous torrent, except from the uploader and the staff', async () => {
    const dd = (text: string) => /<dt>Uploader<\/dt><dd>(.*?)<\/dd>/s.exec(text)?.[1] ?? '';
    const asBob = await (await loggedIn(s, bob)).get(page(anon));
    assert.equal(asBob.status, 200);
    assert.equal(dd(asBob.text), 'Anonymous');
    assert.ok(!asBob.text.includes(`/u/${alice.id}"`), 'no link to the uploader');
    const visitor = await s.browser().get(page(anon));
    assert.equal(dd(visitor.text), 'Anonymous');
    const asAlice = await (await loggedIn(s, alice)).get(page(anon));
    assert.equal(dd(asAlice.text), `Anonymous (<a href="/u/${alice.id}">alice</a>)`);
    const asMod = await (await loggedIn(s, mod)).get(page(anon));
    assert.match(dd(asMod.text), /alice/);
  });

  it('shows pending torrents only to their uploader and the staff', async () => {
    assert.equal((await s.browser().get(page(pending))).status, 404);
    const asBob = await (await loggedIn(s, bob)).get(page(pending));
    assert.equal(asBob.status, 404);
    assert.ok(!asBob.text.includes('Pending Thing'), 'the name does not leak');
    assert.equal((await (await loggedIn(s, bob)).get(`/t/${pending.id}`, false)).status, 404);
    const asAlice = await (await loggedIn(s, alice)).get(page(pending));
    assert.equal(asAlice.status, 200);
    assert.match(asAlice.text, /waiting for approval/);
    assert.equal((await (await loggedIn(s, mod)).get(page(pending))).status, 200);
  });

  it('answers 404 with the reason for a deleted torrent', async () => {
    const r = await (await loggedIn(s, alice)).get(page(deleted));
    assert.equal(r.status, 404);
    assert.match(r.text, /Torrent deleted/);
    assert.match(r.text, /Duplicate of a better release/);
    const dl = await (await loggedIn(s, bob)).get(`/torrents/${deleted.id}/download`);
    assert.equal(dl.status, 404);
  });

  it('redirects the short link and wrong slugs to the canonical URL', async () => {
    const b = s.browser();
    let r = await b.get(`/t/${main.id}`, false);
    assert.equal(r.status, 301);
    assert.equal(r.location, page(main));
    r = await b.get(`/torrents/${main.id}/some-old-name`, false);
    assert.equal(r.status, 301);
    assert.equal(r.location, page(main));
    r = await b.get(`/torrents/${main.id}`, false);
    assert.equal(r.status, 301);
    assert.equal(r.location, page(main));
    assert.equal((await b.get('/t/999999', false)).status, 404);
    assert.equal((await b.get('/t/abc', false)).status, 404);
    assert.equal((await b.get('/torrents/0/x', false)).status, 404);
  });

  it('asks visitors to log in for a torrent of an adult category', async () => {
    const r = await s.browser().get(page(adult), false);
    assert.equal(r.status, 303);
    assert.match(r.location ?? '', /^\/login\?next=/);
    assert.equal((await (await loggedIn(s, bob)).get(page(adult))).status, 200);
  });

  describe('download', () => {
    it('needs a login', async () => {
      const r = await s.browser().get(`/torrents/${main.id}/download`, false);
      assert.equal(r.status, 303);
      assert.equal(r.location, `/login?next=${encodeURIComponent(`/torrents/${main.id}/download`)}`);
    });

    it('personalises the .torrent for the member and keeps the info dictionary byte for byte', async () => {
      const site = s.app.site();
      const r = await (await loggedIn(s, bob)).get(`/torrents/${main.id}/download`);
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('content-type'), 'application/x-bittorrent');
      assert.equal(r.headers.get('cache-control'), 'private, no-store');
      assert.equal(r.headers.get('content-disposition'), `attachment; filename="${main.slug}.torrent"; filename*=UTF-8''${main.slug}.torrent`);
      const d = bdecodeDict(r.body);
      const urls = site.announceUrls(bob.passkey);
      assert.equal(dictString(d, 'announce'), urls.http);
      assert.ok(urls.http.includes(bob.passkey), 'the HTTP announce URL holds the passkey');
      assert.ok(urls.udp, 'UDP is enabled in this test site');
      const list = d['announce-list'];
      assert.ok(Array.isArray(list), 'announce-list present');
      assert.deepEqual(list.map((tier) => (Array.isArray(tier) ? tier.map(str) : null)), [[urls.http], [urls.udp]]);
      assert.equal(dictString(d, 'comment'), `${site.publicUrl}/t/${main.id}`);
      assert.equal(dictString(d, 'created by'), `${site.publicUrl}/u/${alice.id}`);
      assert.equal(infoHashOf(r.body), main.infoHashV1);
      const span = (b: Buffer) => {
        const x = findDictValueSpan(b, Buffer.from('info'));
        assert.ok(x, 'info span');
        return b.subarray(x.start, x.end);
      };
      assert.ok(span(r.body).equals(span(main.metainfo)), 'info bytes identical to the stored ones');
      assert.ok(isDict(d.info) && d.info.private === 1, 'private flag kept');
      assert.ok(!r.body.includes(Buffer.from(alice.passkey)), 'no other member\'s passkey');
    });

    it('comes back to the download after logging in through the login form', async () => {
      const b = s.browser();
      const r = await b.get(`/torrents/${main.id}/download`, false);
      assert.equal(r.status, 303);
      await b.get(r.location!);
      const done = await b.post('/login', { username: 'bob', password: bob.password, next: `/torrents/${main.id}/download` }, { follow: true });
      assert.equal(done.status, 200, done.text.slice(0, 300));
      assert.equal(done.headers.get('content-type'), 'application/x-bittorrent');
      assert.equal(dictString(bdecodeDict(done.body), 'announce'), s.app.site().announceUrls(bob.passkey).http);
    });

    it('names the site, not the uploader, as creator of an anonymous torrent', async () => {
      const r = await (await loggedIn(s, alice)).get(`/torrents/${anon.id}/download`);
      assert.equal(r.status, 200);
      const d = bdecodeDict(r.body);
      assert.equal(dictString(d, 'created by'), s.app.site().config.site.name);
      assert.equal(dictString(d, 'announce'), s.app.site().announceUrls(alice.passkey).http);
    });

    it('refuses a pending torrent to others than its uploader and the staff', async () => {
      assert.equal((await (await loggedIn(s, bob)).get(`/torrents/${pending.id}/download`)).status, 404);
      assert.equal((await (await loggedIn(s, alice)).get(`/torrents/${pending.id}/download`)).status, 200);
      assert.equal((await (await loggedIn(s, mod)).get(`/torrents/${pending.id}/download`)).status, 200);
    });

    it('shows the download button to members', async () => {
      const r = await (await loggedIn(s, bob)).get(page(main));
      assert.ok(r.text.includes(`href="/torrents/${main.id}/download"`), 'download link');
    });
  });

  describe('bookmarks', () => {
    it('toggles a bookmark with a CSRF-checked POST and lists it', async () => {
      const b = await loggedIn(s, bob);
      await b.get(page(main));
      const forged = await b.post(`/torrents/${main.id}/bookmark`, { _csrf: 'nope' });
      assert.equal(forged.status, 403);
      assert.equal((await b.get('/bookmarks')).text.includes(page(main)), false);

      await b.get(page(main));
      let r = await b.post(`/torrents/${main.id}/bookmark`, {});
      assert.equal(r.status, 303);
      assert.equal(r.location, page(main));
      r = await b.get(page(main));
      assert.match(r.text, /Bookmark added\./);
      assert.match(r.text, /aria-pressed="true">Remove bookmark</);

      const list = await b.get('/bookmarks');
      assert.equal(list.status, 200);
      assert.ok(list.text.includes(`<a href="${page(main)}">Le Film Étrange 2024</a>`), 'bookmark listed');
      assert.match(list.text, /<th scope="col">Name<\/th>/);

      // Removing from the bookmarks page comes back to it.
      r = await b.post(`/torrents/${main.id}/bookmark`, { back: '/bookmarks' });
      assert.equal(r.status, 303);
      assert.equal(r.location, '/bookmarks');
      const after = await b.get('/bookmarks');
      assert.match(after.text, /Bookmark removed\./);
      assert.match(after.text, /You have no bookmarks yet\./);
    });

    it('needs a login, and a visible torrent', async () => {
      const visitor = s.browser();
      assert.equal((await visitor.get('/bookmarks', false)).status, 303);
      await visitor.get(page(main));
      // Visitors' pages carry no form token: the POST is refused before anything else.
      const r = await visitor.post(`/torrents/${main.id}/bookmark`, {});
      assert.equal(r.status, 403);
      const n = await s.app.db().selectFrom('bookmark').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      assert.equal(Number(n.n), 0);
      const b = await loggedIn(s, bob);
      await b.get(page(main));
      assert.equal((await b.post(`/torrents/${pending.id}/bookmark`, {})).status, 404);
      assert.equal((await b.post('/torrents/424242/bookmark', {})).status, 404);
    });
  });
  describe('in Chromium', { skip: chromiumUnavailable() ?? false }, () => {
    it('has no serious or critical accessibility violation on the torrent page and the bookmarks', async () => {
      const browser = await launchChromium();
      try {
        const context = await browser.newContext();
        const token = await createSession(s.app.db(), bob.id, { persistent: false, ttl: 3600, ip: null, userAgent: null, now: Math.floor(Date.now() / 1000) });
        await context.addCookies([{ name: SESSION_COOKIE, value: token, url: s.base }]);
        await s.app.db().insertInto('bookmark').values({ user_id: bob.id, torrent_id: anon.id, created_at: 1 }).onConflict((oc) => oc.doNothing()).execute();
        const tab = await context.newPage();
        for (const path of [page(main), '/bookmarks']) {
          const res = await tab.goto(s.base + path);
          assert.equal(res?.status(), 200, path);
          const v = await seriousA11yViolations(tab);
          assert.deepEqual(v, [], `${path}: ${JSON.stringify(v)}`);
        }
        // The bookmark button works without JavaScript.
        await tab.goto(s.base + page(main));
        await tab.click('form[action$="/bookmark"] button');
        assert.ok((await tab.textContent('main'))?.includes('Bookmark added.'), 'flash after the POST');
      } finally {
        await browser.close();
      }
    });
  });
});

/**
 * A member's whole journey in a real browser (Debian's Chromium through playwright-core), against
 * the site started in-process on 127.0.0.1:
 *
 *   register -> log out -> log in -> upload a torrent made by mktorrent through the wizard
 *   (subcategory, terms, accented title) -> the torrent page -> a moderator approves it in the
 *   staff queue (a member's upload waits there) -> an accent-free search from the
 *   header's search box -> the result opened -> the .torrent downloaded (a real download) and
 *   checked (the member's passkey announce URL, the stored info hash) -> a real client (aria2)
 *   seeds the real files with that .torrent, a second member's announce gets it as a peer, and a
 *   second aria2 downloads the files from it, byte for byte.
 *
 * axe-core runs on every main page visited (home, browse with results, torrent page, upload
 * steps, login, register, account, profile) in English, and on several of them in French; any
 * serious or critical violation fails the test (all of them are listed at the end).
 *
 * Steps are subtests: when one fails (e.g. a page that is not written yet), the following ones
 * still run where they can, so one run shows everything that is wrong.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { Browser as PlaywrightBrowser, Page } from 'playwright-core';
import { chromiumUnavailable, launchChromium, seriousA11yViolations, type AxeViolation } from '../helpers/chromium.js';
import { Aria2, tempDir } from '../helpers/clients.js';
import { httpAnnounce } from '../helpers/announce.js';
import { bdecodeDict, dictString, infoHashOf, isDict, type BDict } from '../helpers/bencode.js';
import { missingBinaries, run } from '../helpers/process.js';
import { startSite, type TestSite } from '../helpers/site.js';

const TITLE = "Série Découverte d'été";
const SEARCH = 'serie decouverte';
const USERNAME = 'journey_member';
const EMAIL = 'journey@example.test';
const PASSWORD = 'correct horse battery staple';
/** Subcategory chosen in the wizard (English label) and the season term picked. */
const SUBCATEGORY = 'TV series';
const SEASON = 'Season 01';
/** Files of the upload: small, several, one in a subdirectory. */
const FILES: Array<[string, number]> = [
  ['episode-01.bin', 96 * 1024 + 17],
  ['episode-02.bin', 64 * 1024],
  ['extras/notes.txt', 3_000],
];

const skipReason = chromiumUnavailable() ?? (missingBinaries('mktorrent', 'aria2c').length > 0 ? `missing binaries: ${missingBinaries('mktorrent', 'aria2c').join(', ')} (apt-get install mktorrent aria2)` : null);

interface Checked {
  label: string;
  violations: AxeViolation[];
}

/** Peers of a compact (BEP 23) or dictionary peer list, as "ip:port". */
function peersOf(d: BDict): string[] {
  const p = d.peers;
  if (Buffer.isBuffer(p)) {
    const out: string[] = [];
    for (let i = 0; i + 6 <= p.length; i += 6) out.push(`${p[i]}.${p[i + 1]}.${p[i + 2]}.${p[i + 3]}:${p.readUInt16BE(i + 4)}`);
    return out;
  }
  if (Array.isArray(p)) return p.filter(isDict).map((x) => `${dictString(x, 'ip') ?? '?'}:${String(x.port)}`);
  return [];
}

test('a member registers, uploads, finds, downloads and seeds a torrent in Chromium; no serious accessibility violation', { skip: skipReason ?? false, timeout: 120_000 }, async (t) => {
  const started = Date.now();
  const s: TestSite = await startSite(t);
  const root = await tempDir(t, 'essaim-journey-');

  // The content and its torrent (announce URL a placeholder: the site drops it and personalises).
  const contentDir = join(root, 'seed', 'Serie-Decouverte-ete');
  for (const [name, size] of FILES) {
    mkdirSync(join(contentDir, name, '..'), { recursive: true });
    writeFileSync(join(contentDir, name), randomBytes(size));
  }
  const madeTorrent = join(root, 'made.torrent');
  const mk = await run('mktorrent', ['-a', 'http://placeholder/announce', '-p', '-l', '15', '-o', madeTorrent, contentDir], { timeoutMs: 20_000 });
  assert.equal(mk.code, 0, `mktorrent failed: ${mk.stderr}${mk.stdout}`);

  const browser: PlaywrightBrowser = await launchChromium();
  t.after(() => browser.close());
  const context = await browser.newContext({ locale: 'en-GB', acceptDownloads: true, viewport: { width: 1280, height: 800 } });
  context.setDefaultTimeout(10_000);
  context.setDefaultNavigationTimeout(15_000);
  const page: Page = await context.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));

  const path = () => {
    const u = new URL(page.url());
    return u.pathname + u.search;
  };
  const checked: Checked[] = [];
  /** Runs axe-core on the current page and keeps its serious and critical violations. */
  const a11y = async (label: string) => {
    const lang = await page.getAttribute('html', 'lang');
    const violations = await seriousA11yViolations(page);
    checked.push({ label: `${label} [${lang ?? '?'}] ${path()}`, violations });
  };
  const mainText = async () => (await page.textContent('main')) ?? '';

  let torrentId: number | null = null;
  let torrentPath: string | null = null;
  let downloaded: Buffer | null = null;
  let memberId: number | null = null;

  await t.test('home page', async () => {
    const res = await page.goto(s.base + '/');
    await a11y('home');
    assert.equal(res?.status(), 200, `GET / answered ${res?.status()}: the home page is missing (browse feature, src/web/features/browse/routes.ts)`);
  });

  await t.test('register', async () => {
    await page.click('header .member a[href="/register"]');
    assert.equal(path(), '/register', 'the header links to the sign-up page');
    await a11y('register');
    // A first try with mismatched passwords: the form comes back with the typed values kept.
    await page.fill('#f-username', USERNAME);
    await page.fill('#f-email', EMAIL);
    await page.fill('#f-password', PASSWORD);
    await page.fill('#f-password_confirm', PASSWORD + 'x');
    await page.click('main form[action="/register"] button[type="submit"]');
    assert.equal(await page.inputValue('#f-username'), USERNAME, 'username kept after an error');
    assert.equal(await page.inputValue('#f-password'), '', 'password not echoed');
    assert.ok((await page.locator('.field-error').count()) > 0, 'an error is shown next to a field');
    await a11y('register with errors');
    await page.fill('#f-password', PASSWORD);
    await page.fill('#f-password_confirm', PASSWORD);
    await page.click('main form[action="/register"] button[type="submit"]');
    assert.equal(path(), '/account', `after signing up the member lands on the account page (at ${path()})`);
    assert.equal(await page.textContent('header .member-name'), USERNAME, 'the header shows the new member');
    await a11y('account');
    const row = await s.app.db().selectFrom('user').select(['id', 'passkey']).where('username', '=', USERNAME).executeTakeFirst();
    assert.ok(row, 'the member is in the database');
    memberId = row.id;
    assert.ok((await mainText()).includes(row.passkey), 'the account page shows the passkey');
    // New accounts verify their address before downloading (#4): follow the mailed link.
    const outbox = join(s.dataDir, 'outbox');
    const mail = readdirSync(outbox).map((f) => readFileSync(join(outbox, f), 'utf8')).find((m) => m.includes(`To: ${EMAIL}\r\n`));
    const link = /https?:\/\/\S+\/verify-email\/[0-9a-f]{32}/.exec(mail ?? '');
    assert.ok(link, 'a verification link was mailed at sign-up');
    await page.goto(link[0]);
    assert.equal(path(), '/account', 'the link leads back to the account page');
    assert.equal(await page.locator('#h-verify').count(), 0, 'no verification notice any more');
  });

  await t.test('log out and log in', async () => {
    await page.click('header form[action="/logout"] button');
    assert.equal(await page.locator('header .member-name').count(), 0, 'logged out: no member in the header');
    await page.click('header .member a[href^="/login"]');
    assert.match(path(), /^\/login/, 'the header links to the login page');
    await a11y('login');
    await page.fill('#f-username', USERNAME);
    await page.fill('#f-password', 'wrong password!');
    await page.click('main form[action="/login"] button[type="submit"]');
    assert.ok((await page.locator('.form-errors').count()) > 0, 'a wrong password is refused with a message');
    assert.equal(await page.inputValue('#f-username'), USERNAME, 'login kept after a failure');
    await a11y('login refused');
    await page.fill('#f-password', PASSWORD);
    await page.check('#f-remember');
    await page.click('main form[action="/login"] button[type="submit"]');
    assert.equal(await page.textContent('header .member-name'), USERNAME, `logged in again (at ${path()})`);
  });

  await t.test('upload through the wizard', async () => {
    await page.click('header nav a[href="/upload"]');
    assert.equal(path(), '/upload', 'the header links to the upload page');
    await a11y('upload step 1');
    await page.selectOption('#upload-category', { label: SUBCATEGORY });
    await page.click('main form.upload-choose button[type="submit"]');
    assert.match(path(), /^\/upload\?category=\d+$/, `step 2 of the wizard (at ${path()})`);
    await a11y('upload step 2');

    await page.setInputFiles('#upload-torrent', madeTorrent);
    // Terms: the season by name; the first term of every other single-choice type; the first
    // box of every multiple-choice type.
    const selects = page.locator('.upload-terms select[name="term"]');
    let seasonPicked = false;
    for (let i = 0; i < (await selects.count()); i++) {
      const sel = selects.nth(i);
      const labels = await sel.locator('option').allTextContents();
      if (labels.includes(SEASON)) {
        await sel.selectOption({ label: SEASON });
        seasonPicked = true;
      } else if (labels.length > 1) await sel.selectOption({ index: 1 });
    }
    assert.ok(seasonPicked, `a "${SEASON}" term is offered for ${SUBCATEGORY}`);
    const multis = page.locator('.upload-term-multi');
    for (let i = 0; i < (await multis.count()); i++) await multis.nth(i).locator('input[type="checkbox"]').first().check();
    await page.fill('#upload-title', TITLE);
    await page.fill('#upload-description', `[b]${TITLE}[/b]\n\nTrois fichiers pour l'essai : deux [i]épisodes[/i] et des notes.`);
    await page.click('main form.upload-form button[value="upload"]');

    const m = /^\/torrents\/(\d+)\/([a-z0-9-]+)$/.exec(new URL(page.url()).pathname);
    if (!m) {
      const errors = (await page.locator('.form-errors, .field-error').allTextContents()).join(' | ');
      assert.fail(`after the upload the member should land on the torrent page (at ${path()}; errors: ${errors})`);
    }
    torrentId = Number(m[1]);
    torrentPath = new URL(page.url()).pathname;
    assert.equal((await page.textContent('main h1'))?.trim(), TITLE, 'the page shows the accented title');
    assert.ok((await mainText()).includes(SEASON), 'the page shows the chosen season term');
    await a11y('torrent page');
  });

  await t.test('a moderator approves the upload in the staff queue', async () => {
    assert.ok(torrentId !== null, 'needs the uploaded torrent');
    // A member's upload waits in the moderation queue (#4): the tracker refuses it until approved.
    const staff = await s.member('journey_moderator', { role: 'moderator' });
    const modContext = await browser.newContext({ locale: 'en-GB', viewport: { width: 1280, height: 800 } });
    try {
      const mp = await modContext.newPage();
      await mp.goto(s.base + '/login');
      await mp.fill('#f-username', 'journey_moderator');
      await mp.fill('#f-password', staff.password);
      await mp.click('main form[action="/login"] button[type="submit"]');
      await mp.goto(s.base + '/staff/queue');
      checked.push({ label: 'staff queue [en] /staff/queue', violations: await seriousA11yViolations(mp) });
      await mp.click(`main a[href="/staff/queue/${torrentId}"]`);
      assert.equal(new URL(mp.url()).pathname, `/staff/queue/${torrentId}`, 'the queue links the review page');
      checked.push({ label: `review [en] /staff/queue/${torrentId}`, violations: await seriousA11yViolations(mp) });
      await mp.click(`main form[action="/staff/queue/${torrentId}/approve"] button[type="submit"]`);
      assert.equal(new URL(mp.url()).pathname, '/staff/queue', 'back to the queue after approving');
      assert.ok(((await mp.textContent('main')) ?? '').includes('Torrent approved.'), 'the approval is confirmed');
    } finally {
      await modContext.close();
    }
    const row = await s.app.db().selectFrom('torrent').select(['status', 'verified']).where('id', '=', torrentId).executeTakeFirstOrThrow();
    assert.deepEqual(row, { status: 'active', verified: 1 }, 'approved and verified');
  });

  await t.test('accent-free search from the header', async () => {
    assert.ok(torrentId !== null && torrentPath !== null, 'needs the uploaded torrent');
    await page.fill('#header-q', SEARCH);
    await page.press('#header-q', 'Enter');
    await page.waitForLoadState('load');
    const u = new URL(page.url());
    assert.equal(u.pathname, '/browse', 'the header search goes to /browse');
    assert.equal(u.searchParams.get('q'), SEARCH, 'with the words typed');
    await a11y('browse with results');
    const status = await page.title();
    const link = page.locator(`main a[href="${torrentPath}"], main a[href="/t/${torrentId}"]`).first();
    assert.ok((await link.count()) > 0, `"${SEARCH}" finds "${TITLE}" in the results (page title "${status}"; the browse/search page in src/web/features/browse/routes.ts)`);
    await link.click();
    assert.equal(new URL(page.url()).pathname, torrentPath, 'the result opens the torrent page');
  });

  await t.test('download the .torrent', async () => {
    assert.ok(torrentId !== null && torrentPath !== null, 'needs the uploaded torrent');
    if (new URL(page.url()).pathname !== torrentPath) await page.goto(`${s.base}/t/${torrentId}`); // the search step failed
    assert.equal(new URL(page.url()).pathname, torrentPath, '/t/<id> leads to the torrent page');
    const [dl] = await Promise.all([page.waitForEvent('download'), page.click('main a.download')]);
    assert.match(dl.suggestedFilename(), /\.torrent$/, `file name ${dl.suggestedFilename()}`);
    const file = join(root, 'downloaded.torrent');
    await dl.saveAs(file);
    downloaded = readFileSync(file);
    const d = bdecodeDict(downloaded);
    const member = await s.app.db().selectFrom('user').select(['passkey']).where('username', '=', USERNAME).executeTakeFirstOrThrow();
    const urls = s.app.site().announceUrls(member.passkey);
    assert.equal(dictString(d, 'announce'), urls.http, "announce is the member's private HTTP announce URL");
    assert.ok(urls.http.startsWith('http://127.0.0.1:') && urls.http.includes(`/${member.passkey}/announce`), `announce URL on loopback with the passkey: ${urls.http}`);
    assert.equal(dictString(d, 'comment'), `${s.app.site().publicUrl}/t/${torrentId}`, 'comment is the short link');
    const info = d.info;
    assert.ok(isDict(info), 'an info dictionary');
    assert.equal(info.private, 1, 'private torrent');
    const stored = await s.app.db().selectFrom('torrent').select(['info_hash_v1']).where('id', '=', torrentId).executeTakeFirstOrThrow();
    assert.equal(infoHashOf(downloaded), stored.info_hash_v1, 'the info hash is the stored one');
  });

  await t.test('profile', async () => {
    await page.click('header .member-name');
    assert.equal(new URL(page.url()).pathname, `/u/${memberId}`, 'the header links to the profile');
    assert.ok((await mainText()).includes(USERNAME), 'the profile names the member');
    await a11y('profile');
  });

  await t.test('secondary pages', async () => {
    const series = await s.app.db().selectFrom('category').select(['id']).where('slug', '=', 'video-tv-series').executeTakeFirstOrThrow();
    const pages = [
      `/browse?category=${series.id}`,
      '/top',
      '/top/today',
      '/needs-seed',
      '/searches',
      '/rss',
      '/bookmarks',
      '/my/torrents',
      '/account/password',
      '/account/email',
      '/account/sessions',
      '/account/2fa',
    ];
    const notOk: string[] = [];
    for (const p of pages) {
      const res = await page.goto(s.base + p);
      if (res?.status() !== 200) notOk.push(`${p} answered ${res?.status()}`);
      await a11y('secondary');
    }
    assert.deepEqual(notOk, [], 'every secondary page answers 200');
  });

  await t.test('pages in French', async () => {
    await page.goto(`${s.base}/u/${memberId}`);
    await page.click('header .lang a[hreflang="fr"]');
    assert.equal(await page.getAttribute('html', 'lang'), 'fr', 'the switch turns the page French');
    assert.equal(new URL(page.url()).pathname, `/u/${memberId}`, 'the switch comes back to the same page');
    await a11y('profile');
    const pages: Array<[string, string | null]> = [
      ['home', '/'],
      ['browse with results', `/browse?q=${encodeURIComponent(SEARCH)}`],
      ['torrent page', torrentPath],
      ['upload step 1', '/upload'],
      ['account', '/account'],
    ];
    const missing: string[] = [];
    for (const [label, p] of pages) {
      if (p === null) continue;
      const res = await page.goto(s.base + p);
      if (res?.status() !== 200) missing.push(`${p} answered ${res?.status()}`);
      assert.equal(await page.getAttribute('html', 'lang'), 'fr', `${p} in French`);
      await a11y(label);
    }
    // Visitors' pages, in a fresh French context.
    const visitor = await browser.newContext({ locale: 'fr-FR' });
    try {
      const v = await visitor.newPage();
      for (const p of ['/register', '/login']) {
        await v.goto(s.base + p);
        assert.equal(await v.getAttribute('html', 'lang'), 'fr', `${p} in French from Accept-Language`);
        const violations = await seriousA11yViolations(v);
        checked.push({ label: `${p} [fr] (visitor)`, violations });
      }
    } finally {
      await visitor.close();
    }
    assert.deepEqual(missing, [], 'every French page answers 200');
    await page.click('header .lang a[hreflang="en"]');
  });

  await t.test('a real client seeds the downloaded torrent and another gets the files', { timeout: 60_000 }, async (st: TestContext) => {
    assert.ok(downloaded !== null && torrentId !== null, 'needs the downloaded .torrent');
    const ih = infoHashOf(downloaded);
    const seeder = await Aria2.start({ name: 'journey-seeder', torrent: join(root, 'downloaded.torrent'), dir: join(root, 'seed'), seed: true });
    st.after(() => seeder.kill());
    await seeder.waitComplete(15_000);

    // Another member announces as a leecher and must be given the seeder.
    const other = await s.member('journey_leecher');
    const tracker = s.app.site().announceUrls(other.passkey).http;
    const peerId = Buffer.concat([Buffer.from('-JT0001-'), randomBytes(12)]);
    let peers: string[] = [];
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      const r = await httpAnnounce(tracker, { infoHash: Buffer.from(ih, 'hex'), peerId, port: 1, uploaded: 0, downloaded: 0, left: 1000, event: peers.length === 0 ? 'started' : undefined, numwant: 50 });
      assert.equal(r.failure, null, `the tracker accepts the second member's announce: ${r.failure}`);
      peers = peersOf(r.dict!);
      if (peers.includes(`127.0.0.1:${seeder.listenPort}`)) break;
      await new Promise((res) => setTimeout(res, 300));
    }
    assert.ok(peers.includes(`127.0.0.1:${seeder.listenPort}`), `the seeder (aria2 on port ${seeder.listenPort}) is returned as a peer; got ${JSON.stringify(peers)}\n${seeder.proc.describe()}`);
    await httpAnnounce(tracker, { infoHash: Buffer.from(ih, 'hex'), peerId, port: 1, uploaded: 0, downloaded: 0, left: 1000, event: 'stopped' });

    // A full transfer: the second member's own .torrent, downloaded as a member would.
    const b = s.browser();
    await b.get('/login');
    const login = await b.post('/login', { username: 'journey_leecher', password: other.password });
    assert.equal(login.status, 303, `the second member logs in (${login.status})`);
    const mine = await b.get(`/torrents/${torrentId}/download`);
    assert.equal(mine.status, 200, 'the second member downloads the .torrent');
    assert.equal(infoHashOf(mine.body), ih, 'same info hash for every member');
    const leechTorrent = join(root, 'leecher.torrent');
    writeFileSync(leechTorrent, mine.body);
    const leechDir = join(root, 'leech');
    const leecher = await Aria2.start({ name: 'journey-leecher', torrent: leechTorrent, dir: leechDir, seed: false });
    st.after(() => leecher.kill());
    const done = await leecher.waitComplete(30_000).catch((e: Error) => {
      throw new Error(`${e.message}\n${leecher.proc.describe()}\n${seeder.proc.describe()}`, { cause: e });
    });
    assert.equal(done.totalLength, FILES.reduce((n, [, size]) => n + size, 0), 'the whole content');
    for (const [name] of FILES) {
      assert.ok(readFileSync(join(leechDir, 'Serie-Decouverte-ete', name)).equals(readFileSync(join(contentDir, name))), `${name} is byte-identical`);
    }
    await Promise.all([leecher.kill(), seeder.kill()]);
  });

  await t.test('no serious or critical accessibility violation', () => {
    const bad = checked.filter((c) => c.violations.length > 0);
    const report = bad
      .map((c) => `${c.label}:\n${c.violations.map((v) => `  [${v.impact}] ${v.id}: ${v.help}\n    ${v.nodes.slice(0, 5).join('\n    ')}`).join('\n')}`)
      .join('\n');
    t.diagnostic(`axe-core ran on ${checked.length} pages: ${checked.map((c) => c.label).join('; ')}`);
    assert.ok(checked.length >= 25, `axe-core ran on ${checked.length} pages only`);
    assert.equal(bad.length, 0, `serious or critical accessibility violations:\n${report}`);
  });

  await t.test('no script error on any page, within the time budget', () => {
    assert.deepEqual(pageErrors, [], 'uncaught errors in the pages');
    const seconds = (Date.now() - started) / 1000;
    t.diagnostic(`journey took ${seconds.toFixed(1)} s`);
    assert.ok(seconds < 90, `the journey took ${seconds.toFixed(1)} s (budget 90 s)`);
  });
});

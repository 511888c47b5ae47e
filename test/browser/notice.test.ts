/**
 * A copyright notice in a real browser (Debian's Chromium through playwright-core), from the
 * public form to the staff takedown:
 *
 *   an uploader's torrent is online -> a rights holder fills /legal/notice (a first try with an
 *   error keeps what was typed) and gets the receipt -> a supermoderator logs in, finds the notice
 *   in /staff/notices, opens it (torrent and uploader resolved) and upholds it with a note -> the
 *   torrent page gives the reason, an announcing client gets `Unregistered torrent: <reason>`,
 *   the uploader's notifications link to the counter-notice form, and the transparency page
 *   counts the notice. The uploader's data pages (export, deletion form) are checked on the way.
 *
 * axe-core runs on each page (English, and the form and the transparency page in French); a
 * serious or critical violation fails the test.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import type { Browser as PlaywrightBrowser, Page } from 'playwright-core';
import { chromiumUnavailable, launchChromium, seriousA11yViolations, type AxeViolation } from '../helpers/chromium.js';
import { httpAnnounce } from '../helpers/announce.js';
import { startSite, type TestSite } from '../helpers/site.js';
import { buildTorrent } from '../fixtures/metainfo/builders.js';
import { bencode } from '../../src/protocol/bencode.js';

const TITLE = 'Film protégé de démonstration';

test('a copyright notice from the public form to the staff takedown in Chromium; no serious accessibility violation', { skip: chromiumUnavailable() ?? false, timeout: 90_000 }, async (t) => {
  const s: TestSite = await startSite(t);
  const uploader = await s.member('film_uploader', { role: 'uploader' });
  const staffMember = await s.member('notice_reviewer', { role: 'supermod' });

  // The uploader's torrent, through the upload form (plain HTTP client: the upload has its own browser test).
  const up = s.browser();
  await up.login('film_uploader', uploader.password);
  await up.get('/upload?category=631');
  const form = new FormData();
  form.append('category', '631');
  form.append('title', TITLE);
  form.append('format', 'bbcode');
  form.append('description', '');
  const bytes = bencode(buildTorrent('v1', { name: 'protected-film', files: [{ path: ['film.bin'], size: 48_000 }] }).top);
  form.append('torrent', new Blob([new Uint8Array(bytes)], { type: 'application/x-bittorrent' }), 'film.torrent');
  const posted = await up.postMultipart('/upload', form);
  assert.equal(posted.status, 303, `uploaded (${posted.status})`);
  const torrentId = Number(/^\/t\/(\d+)$/.exec(posted.location ?? '')?.[1]);
  assert.ok(torrentId > 0, 'torrent id');
  const infoHash = (await s.app.db().selectFrom('torrent').select('info_hash_v1').where('id', '=', torrentId).executeTakeFirstOrThrow()).info_hash_v1!;
  const announce = () =>
    httpAnnounce(`${s.listening.httpTracker}/${uploader.passkey}/announce`, {
      infoHash: Buffer.from(infoHash, 'hex'),
      peerId: randomBytes(20),
      port: 6881,
      uploaded: 0,
      downloaded: 0,
      left: 0,
      event: 'started',
    });
  assert.equal((await announce()).failure, null, 'online before the notice');

  const browser: PlaywrightBrowser = await launchChromium();
  t.after(() => browser.close());
  const checked: Array<{ label: string; violations: AxeViolation[] }> = [];
  const pageErrors: string[] = [];
  const open = async (locale: string): Promise<Page> => {
    const context = await browser.newContext({ locale, viewport: { width: 1280, height: 800 } });
    context.setDefaultTimeout(10_000);
    context.setDefaultNavigationTimeout(15_000);
    const page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    return page;
  };
  const a11y = async (page: Page, label: string) => {
    const u = new URL(page.url());
    checked.push({ label: `${label} [${(await page.getAttribute('html', 'lang')) ?? '?'}] ${u.pathname}`, violations: await seriousA11yViolations(page) });
  };
  const path = (page: Page) => new URL(page.url()).pathname;

  let noticeId = 0;

  await t.test('the rights holder sends the public form', async () => {
    const page = await open('en-GB');
    const res = await page.goto(`${s.base}/legal`);
    assert.equal(res?.status(), 200);
    await a11y(page, 'legal index');
    await page.click('main a[href="/legal/notice"]');
    assert.equal(path(page), '/legal/notice');
    await a11y(page, 'notice form');
    await page.getByLabel('Rights holder or agent').fill('Studio Films SA');
    await page.getByLabel('Contact details').fill('legal@studio.example\n12 rue des Studios, Paris');
    await page.getByLabel('Works concerned').fill('“Film protégé”, 2024');
    await page.getByLabel('Torrents on this site').fill(`${s.base}/torrents/${torrentId}/film-protege-de-demonstration\nthis is not a link`);
    await page.getByLabel(/I have a good-faith belief/).check();
    await page.click('main form[action="/legal/notice"] button[type="submit"]');
    // The bad line is named; what was typed stays.
    assert.equal(path(page), '/legal/notice');
    assert.match((await page.textContent('#f-items-error')) ?? '', /Line 2 is neither/);
    assert.equal(await page.inputValue('#f-claimant'), 'Studio Films SA', 'kept after an error');
    assert.ok(await page.isChecked('#f-good_faith'), 'the statement stays ticked');
    await a11y(page, 'notice form with errors');
    await page.getByLabel('Torrents on this site').fill(`${s.base}/torrents/${torrentId}/film-protege-de-demonstration`);
    await page.click('main form[action="/legal/notice"] button[type="submit"]');
    const m = /^\/legal\/notice\/received\/(\d+)$/.exec(path(page));
    assert.ok(m, `the receipt page (at ${path(page)})`);
    noticeId = Number(m[1]);
    assert.match((await page.textContent('main [role="status"]')) ?? '', new RegExp(`number ${noticeId}`));
    await a11y(page, 'notice receipt');
    await page.context().close();

    const fr = await open('fr-FR');
    await fr.goto(`${s.base}/legal/notice`);
    assert.equal(await fr.getAttribute('html', 'lang'), 'fr');
    assert.ok(((await fr.textContent('main h1')) ?? '').includes('Notification'), 'in French');
    await a11y(fr, 'notice form');
    await fr.context().close();
  });

  await t.test('a supermoderator upholds it from the staff queue', async () => {
    assert.ok(noticeId > 0, 'needs the notice');
    const page = await open('en-GB');
    await page.goto(`${s.base}/staff/notices`);
    assert.match(path(page), /^\/login/, 'staff pages ask visitors to log in');
    await page.fill('#f-username', 'notice_reviewer');
    await page.fill('#f-password', staffMember.password);
    await page.click('main form[action="/login"] button[type="submit"]');
    assert.equal(path(page), '/staff/notices', `back to the queue after logging in (at ${path(page)})`);
    await a11y(page, 'staff notice queue');
    await page.click(`main a[href="/staff/notices/${noticeId}"]`);
    assert.equal(path(page), `/staff/notices/${noticeId}`);
    const main = (await page.textContent('main')) ?? '';
    assert.ok(main.includes(TITLE) && main.includes('film_uploader') && main.includes('Studio Films SA'), 'the torrent, its uploader and the claimant');
    await a11y(page, 'staff notice');
    await page.getByLabel('Note').fill('Checked with the studio');
    await page.getByRole('button', { name: 'Uphold: take down' }).click();
    assert.equal(path(page), `/staff/notices/${noticeId}`);
    assert.equal((await page.textContent('main dd.notice-status'))?.trim(), 'Upheld');
    assert.match((await page.textContent('.flash')) ?? '', /taken down/);
    assert.equal(await page.getByRole('button', { name: 'Uphold: take down' }).count(), 0, 'no second decision');
    await a11y(page, 'staff notice upheld');

    await page.goto(`${s.base}/staff/notices?status=upheld`);
    assert.ok(((await page.textContent('main table')) ?? '').includes(`#${noticeId}`), 'listed among the upheld');
    await page.goto(`${s.base}/staff/blocklist`);
    assert.ok(((await page.textContent('main table')) ?? '').includes(infoHash), 'its info hash is blocked');
    await a11y(page, 'blocklist');
    await page.context().close();
  });

  await t.test('the torrent is gone: its page gives the reason, the tracker refuses it, the uploader may answer', async () => {
    const reason = `Removed after a copyright notice (#${noticeId})`;
    assert.equal((await announce()).failure, `Unregistered torrent: ${reason}`);
    const page = await open('en-GB');
    const res = await page.goto(`${s.base}/t/${torrentId}`);
    assert.equal(res?.status(), 404);
    assert.ok(((await page.textContent('main')) ?? '').includes(reason), 'the page gives the reason');
    await page.goto(`${s.base}/login`);
    await page.fill('#f-username', 'film_uploader');
    await page.fill('#f-password', uploader.password);
    await page.click('main form[action="/login"] button[type="submit"]');
    await page.goto(`${s.base}/notifications`);
    await page.click(`main a[href="/legal/counter/${noticeId}"]`);
    assert.equal(path(page), `/legal/counter/${noticeId}`);
    assert.ok(((await page.textContent('main')) ?? '').includes(TITLE), 'the counter-notice form names the torrent');
    await a11y(page, 'counter-notice form');
    // The member's data pages (export and deletion), reached from the account page.
    await page.goto(`${s.base}/account`);
    await page.click('main nav.account-nav a[href="/account/privacy"]');
    assert.equal(path(page), '/account/privacy');
    await a11y(page, 'my data');
    await page.click('main a[href="/account/delete"]');
    await page.getByRole('button', { name: 'Delete my account' }).click();
    assert.equal(path(page), '/account/delete', 'refused without the password and the confirmation');
    assert.ok((await page.locator('.field-error').count()) >= 2, 'errors next to the fields');
    await a11y(page, 'account deletion with errors');
    await page.context().close();

    const fr = await open('fr-FR');
    await fr.goto(`${s.base}/legal/transparency`);
    await a11y(fr, 'transparency');
    const en = await open('en-GB');
    await en.goto(`${s.base}/legal/transparency`);
    const month = new Date().toISOString().slice(0, 7);
    const cells = await en.locator(`tbody tr:has(time[datetime="${month}"]) td`).allTextContents();
    assert.deepEqual(cells, ['1', '1', '0', '0', '0'], 'received 1, upheld 1 this month');
    await a11y(en, 'transparency');
    await fr.context().close();
    await en.context().close();
  });

  await t.test('no serious or critical accessibility violation, no script error', () => {
    const bad = checked.filter((c) => c.violations.length > 0);
    const report = bad.map((c) => `${c.label}:\n${c.violations.map((v) => `  [${v.impact}] ${v.id}: ${v.help}\n    ${v.nodes.slice(0, 5).join('\n    ')}`).join('\n')}`).join('\n');
    t.diagnostic(`axe-core ran on ${checked.length} pages: ${checked.map((c) => c.label).join('; ')}`);
    assert.ok(checked.length >= 10, `axe-core ran on ${checked.length} pages only`);
    assert.equal(bad.length, 0, `serious or critical accessibility violations:\n${report}`);
    assert.deepEqual(pageErrors, [], 'uncaught errors in the pages');
  });
});

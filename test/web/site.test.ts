/**
 * The website's cross-cutting behaviour: security headers, languages, CSRF refusal, static
 * assets, error pages, health endpoints.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startSite, type TestSite } from '../helpers/site.js';
import { catalogs } from '../../src/web/messages.js';
import { invalidateSiteFactors } from '../../src/site/rules/freeleech.js';

describe('website basics', () => {
  let s: TestSite;
  before(async () => {
    s = await startSite();
  });
  after(() => s.stop());

  it('serves pages with a strict Content-Security-Policy and security headers', async () => {
    const r = await s.browser().get('/nope-not-here');
    assert.equal(r.status, 404);
    const csp = r.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /script-src 'self'(;|$)/, 'no unsafe-inline scripts');
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(r.headers.get('referrer-policy'), 'same-origin');
    assert.ok(!/<script>/.test(r.text), 'no inline script element in pages');
  });

  it('picks the language from Accept-Language, and the switch overrides it', async () => {
    const b = s.browser();
    b.acceptLanguage = 'fr-FR,fr;q=0.9,en;q=0.5';
    let r = await b.get('/nope');
    assert.match(r.text, /<html lang="fr">/);
    assert.ok(r.text.includes(catalogs.fr['common.error.not_found'].replace("'", '&#39;')), 'French 404 message');
    r = await b.get('/nope?lang=en', false);
    assert.equal(r.status, 303);
    assert.equal(r.location, '/nope');
    r = await b.get('/nope');
    assert.match(r.text, /<html lang="en">/, 'the lang cookie wins over Accept-Language');
  });

  it('refuses a state-changing request without a valid CSRF token', async () => {
    const b = s.browser();
    await b.get('/nope');
    const r = await b.post('/logout', { x: '1' }, { csrf: false });
    assert.equal(r.status, 403);
    const forged = await b.post('/logout', { _csrf: 'forged-token' });
    assert.equal(forged.status, 403);
    // A token from another browser is refused too (it is bound to the browser's cookie).
    const other = s.browser();
    await other.get('/nope');
    const stolen = await b.post('/logout', { _csrf: other.csrf });
    assert.equal(stolen.status, 403);
  });

  it('serves static assets with an ETag', async () => {
    const b = s.browser();
    const r = await b.get('/static/site.css');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /text\/css/);
    const etag = r.headers.get('etag');
    assert.ok(etag, 'an ETag is sent');
    const again = await b.request('GET', '/static/site.css', { headers: { 'if-none-match': etag } });
    assert.equal(again.status, 304);
    assert.equal((await b.get('/static/../../package.json')).status, 404);
  });

  it('shows a banner while a site-wide freeleech window is in force', async () => {
    const db = s.app.db();
    const b = s.browser();
    assert.ok(!(await b.get('/nope')).text.includes('site-factors'), 'no banner without a window');
    const now = Math.floor(Date.now() / 1000);
    await db.insertInto('freeleech_window').values({ starts_at: now - 60, ends_at: now + 3600, upload_factor: 2, download_factor: 0, reason: 'test', created_by: null, created_at: now }).execute();
    invalidateSiteFactors(db);
    const page = await b.get('/nope');
    assert.ok(page.text.includes('class="banner site-factors"'), 'the banner is shown');
    assert.ok(page.text.includes(catalogs.en['common.banner.freeleech']) && page.text.includes('Uploads count ×2.'), 'freeleech and double upload announced');
    await db.deleteFrom('freeleech_window').execute();
    invalidateSiteFactors(db);
    assert.ok(!(await b.get('/nope')).text.includes('site-factors'), 'gone with the window');
  });

  it('answers the health endpoints', async () => {
    const b = s.browser();
    assert.equal((await b.get('/healthz')).status, 200);
    const ready = await b.get('/readyz');
    assert.equal(ready.status, 200);
    assert.deepEqual(JSON.parse(ready.text), { status: 'ready' });
  });
});

describe('message catalogs', () => {
  it('have the same keys and placeholders in English and French, none empty', () => {
    const en = catalogs.en as Record<string, string>;
    const fr = catalogs.fr as Record<string, string>;
    assert.deepEqual(Object.keys(fr).sort(), Object.keys(en).sort());
    const ph = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const k of Object.keys(en)) {
      assert.ok(en[k]!.trim().length > 0 && fr[k]!.trim().length > 0, `message ${k} is empty`);
      assert.deepEqual(ph(fr[k]!), ph(en[k]!), `placeholders of ${k}`);
    }
  });
});

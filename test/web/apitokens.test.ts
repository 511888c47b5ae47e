/**
 * The API tokens page (/account/api): create (shown once, listed afterwards by its last four
 * characters only), form errors keep what was typed, the per-member cap, revocation, CSRF, and the
 * token works against the API's own check until revoked.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { checkApiToken } from '../../src/api/tokens.js';
import { startSite, type Browser, type TestSite } from '../helpers/site.js';

const TOKEN_RE = /value="(es_[0-9a-f]{40})"/;

describe('API tokens page', () => {
  let s: TestSite;
  let b: Browser;
  let uid: number;
  before(async () => {
    s = await startSite(null, { api: { max_tokens_per_user: 2 } });
    const m = await s.member('tokens', { password: 'correct horse battery' });
    uid = m.id;
    b = s.browser();
    await b.login('tokens', 'correct horse battery');
  });
  after(() => s.stop());

  it('asks visitors to log in', async () => {
    const p = await s.browser().get('/account/api', false);
    assert.equal(p.status, 303);
    assert.match(p.location ?? '', /^\/login\?next=/);
  });

  it('creates a token, shows it once, then lists only its hint', async () => {
    const p = await b.post('/account/api', { name: 'Sonarr at home', scope: ['read', 'upload'], expiry: '30' });
    assert.equal(p.status, 200, p.text.slice(0, 500));
    const m = TOKEN_RE.exec(p.text);
    assert.ok(m, 'the new token is shown');
    const token = m[1]!;
    assert.equal(p.headers.get('cache-control'), 'no-store');
    const r = await checkApiToken(s.app.db(), token, Math.floor(Date.now() / 1000));
    assert.ok(r.ok, 'the token authenticates');
    assert.equal(r.principal.user.id, uid);
    assert.deepEqual([...r.principal.scopes].sort(), ['read', 'upload']);
    const row = await s.app.db().selectFrom('api_token').selectAll().where('user_id', '=', uid).executeTakeFirstOrThrow();
    assert.ok(row.expires_at !== null && row.expires_at - row.created_at === 30 * 86400, 'expires in 30 days');
    const list = await b.get('/account/api');
    assert.equal(list.status, 200);
    assert.ok(!list.text.includes(token), 'the token is never shown again');
    assert.ok(list.text.includes(`…${token.slice(-4)}`), 'the hint is listed');
    assert.ok(list.text.includes('Sonarr at home'), 'the name is listed');
  });

  it('keeps what was typed when the form has errors', async () => {
    const p = await b.post('/account/api', { name: 'Radarr <b>', expiry: '7' });
    assert.equal(p.status, 400);
    assert.ok(p.text.includes('value="Radarr &lt;b&gt;"'), 'the name is kept, escaped');
    assert.ok(p.text.includes('Choose at least one scope.'), 'scope error');
    assert.ok(p.text.includes('Choose an expiry from the list.'), 'expiry error');
    assert.ok(!TOKEN_RE.test(p.text), 'no token made');
    const empty = await b.post('/account/api', { name: '   ', scope: 'read', expiry: '0' });
    assert.equal(empty.status, 400);
    assert.ok(empty.text.includes('Give the token a name'), 'name error');
  });

  it('refuses a form without the CSRF token', async () => {
    const p = await b.post('/account/api', { name: 'x', scope: 'read', expiry: '0' }, { csrf: false });
    assert.equal(p.status, 403);
  });

  it('caps the number of tokens, then revokes one', async () => {
    const second = await b.post('/account/api', { name: 'second', scope: 'read', expiry: '0' });
    const token = TOKEN_RE.exec(second.text)?.[1];
    assert.ok(token, 'second token made');
    const third = await b.post('/account/api', { name: 'third', scope: 'read', expiry: '0' });
    assert.equal(third.status, 409);
    assert.ok(third.text.includes('value="third"'), 'the name is kept');
    const id = (await s.app.db().selectFrom('api_token').select('id').where('name', '=', 'second').executeTakeFirstOrThrow()).id;
    // Another member cannot revoke it.
    const other = await s.member('other-tok', { password: 'another long password' });
    const ob = s.browser();
    await ob.login('other-tok', 'another long password');
    await ob.post(`/account/api/${id}/revoke`, {});
    assert.ok((await checkApiToken(s.app.db(), token, Math.floor(Date.now() / 1000))).ok, `still valid after ${other.id} tried`);
    const r = await b.post(`/account/api/${id}/revoke`, {});
    assert.equal(r.status, 303);
    assert.deepEqual(await checkApiToken(s.app.db(), token, Math.floor(Date.now() / 1000)), { ok: false, reason: 'unknown' });
    const list = await b.get('/account/api');
    assert.ok(!list.text.includes('>second<') && !list.text.includes('second</td>'), 'revoked token no longer listed');
    assert.ok(list.text.includes('revoked'), 'flash message');
  });
});

describe('API tokens and the password', () => {
  it('a password change ends T411 logins but keeps personal tokens', async (t) => {
    const s = await startSite(t);
    const m = await s.member('pw-tokens', { password: 'first long password' });
    const { createApiToken } = await import('../../src/api/tokens.js');
    const now = Math.floor(Date.now() / 1000);
    const personal = await createApiToken(s.app.db(), { userId: m.id, kind: 'personal', name: 'p', scopes: ['read'], now });
    const t411 = await createApiToken(s.app.db(), { userId: m.id, kind: 't411', name: 'T411', scopes: ['read'], now, token: `${m.id}:1:${'cd'.repeat(16)}` });
    const b = s.browser();
    await b.login('pw-tokens', 'first long password');
    const p = await b.post('/account/password', { current_password: 'first long password', password: 'second long password', password_confirm: 'second long password' });
    assert.equal(p.status, 303, p.text.slice(0, 300));
    assert.ok((await checkApiToken(s.app.db(), personal.token, now)).ok, 'personal token kept');
    assert.deepEqual(await checkApiToken(s.app.db(), t411.token, now), { ok: false, reason: 'unknown' });
    const data = await b.get('/account/data');
    assert.equal(data.status, 200);
    const json = JSON.parse(data.text) as { api_tokens?: Array<{ name: string }> };
    assert.deepEqual(json.api_tokens?.map((x) => x.name), ['p', 'T411']);
    assert.ok(!data.text.includes(personal.token.slice(3, 20)), 'no token in the export');
  });
});

/**
 * The accounts pages, driven as a browser without JavaScript would: sign-up, login (remember-me,
 * `next`, rehash, rate limits, two-factor step), logout and "log out everywhere", the account page
 * (passkey rotation checked against the real tracker, RSS key, preferences, password and email
 * changes, sessions), TOTP enrolment and recovery codes, password reset through the mail outbox,
 * and the first-run setup link.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { randomBytes } from 'node:crypto';
import { startSite, type Browser, type Page, type TestSite } from '../helpers/site.js';
import { httpAnnounce } from '../helpers/announce.js';
import { registerTorrent } from '../../src/db/torrent.repository.js';
import { findUserById, findUserByUsername } from '../../src/db/user.repository.js';
import { hashToken } from '../../src/site/sessions.js';
import { replayGuardFor, totpAtStep, totpStep } from '../../src/site/accounts/totp.js';
import { firstRunSetupLink } from '../../src/site/accounts/setup.js';
import { catalogs } from '../../src/web/messages.js';

const en = catalogs.en;
const fr = catalogs.fr;
/** A message as it appears in HTML (escaped), without its placeholders. */
const inHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/'/g, '&#39;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const before_ = (s: string) => inHtml(s.split('{')[0]!);

function sessionCookie(r: Page): string | undefined {
  return r.headers.getSetCookie().find((c) => c.startsWith('essaim_session='));
}

// --- mail outbox --------------------------------------------------------------------------------

function outboxFiles(s: TestSite): string[] {
  const dir = join(s.dataDir, 'outbox');
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

/** Waits for a new .eml to `to` (not among `seen`), and returns its text. */
async function nextMail(s: TestSite, to: string, seen: Set<string>, timeoutMs = 4000): Promise<string> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    for (const f of outboxFiles(s)) {
      if (seen.has(f)) continue;
      const text = readFileSync(join(s.dataDir, 'outbox', f), 'utf8');
      if (text.includes(`To: ${to}\r\n`)) {
        seen.add(f);
        return text;
      }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no mail to ${to} within ${timeoutMs} ms`);
}

async function mailsTo(s: TestSite, to: string, waitMs = 400): Promise<number> {
  await new Promise((r) => setTimeout(r, waitMs));
  return outboxFiles(s).filter((f) => readFileSync(join(s.dataDir, 'outbox', f), 'utf8').includes(`To: ${to}\r\n`)).length;
}

function linkPath(mail: string, re: RegExp): string {
  const m = re.exec(mail);
  assert.ok(m, `a link in the mail:\n${mail}`);
  return new URL(m[0]).pathname;
}

// --- helpers ------------------------------------------------------------------------------------

async function register(b: Browser, username: string, password = 'correct horse battery', email = `${username.toLowerCase()}@example.test`): Promise<Page> {
  await b.get('/register');
  return b.post('/register', { username, email, password, password_confirm: password });
}

async function loginForm(b: Browser, username: string, password: string, extra: Record<string, string> = {}): Promise<Page> {
  await b.get('/login');
  return b.post('/login', { username, password, ...extra });
}

/** A code the site has not seen yet for this member (one step newer than the last used, within ±1). */
function freshCode(s: TestSite, userId: number, secret: string): string {
  const now = totpStep(Math.floor(Date.now() / 1000));
  const last = replayGuardFor(s.app.site()).lastStep(userId);
  const step = Math.max(now - 1, last === undefined ? now - 1 : last + 1);
  assert.ok(step <= now + 1, 'a usable time step is left for this member');
  return totpAtStep(secret, step);
}

function pendingField(r: Page): string {
  const m = /name="pending" value="([^"]+)"/.exec(r.text);
  assert.ok(m, 'the two-factor step carries the pending login');
  return m[1]!;
}

describe('accounts', () => {
  let s: TestSite;
  const seen = new Set<string>();
  before(async () => {
    s = await startSite();
  });
  after(() => s.stop());

  describe('sign-up', () => {
    it('registers, logs in with a browser-session cookie, and shows the passkey on /account', async () => {
      const b = s.browser();
      const r = await register(b, 'Newcomer');
      assert.equal(r.status, 303);
      assert.equal(r.location, '/account');
      const cookie = sessionCookie(r);
      assert.ok(cookie, 'a session cookie');
      assert.doesNotMatch(cookie, /Max-Age/i, 'no remember-me at sign-up');
      assert.match(cookie, /HttpOnly/i);
      const u = await findUserByUsername(s.app.db(), 'Newcomer');
      assert.ok(u, 'the member exists');
      assert.equal(u.email, 'newcomer@example.test');
      assert.equal(u.role, 'member');
      assert.match(u.password_hash ?? '', /^scrypt\$/);
      const acct = await b.get('/account');
      assert.equal(acct.status, 200);
      assert.ok(acct.text.includes(u.passkey), 'the passkey is shown');
      assert.ok(acct.text.includes(`/${u.passkey}/announce`), 'with the private announce URL');
      assert.ok(acct.text.includes(u.rss_key), 'the RSS key is shown');
      assert.ok(acct.text.includes(inHtml(en['accounts.register.welcome'])), 'welcome flash');
    });

    it('keeps what was typed on errors, shows them by the fields, and never echoes the password', async () => {
      const b = s.browser();
      await b.get('/register');
      const secret = 'short-pw9';
      let r = await b.post('/register', { username: 'ab', email: 'not-an-email', password: secret, password_confirm: secret });
      assert.equal(r.status, 400);
      assert.match(r.text, /name="username" type="text" value="ab"/);
      assert.match(r.text, /name="email" type="email" value="not-an-email"/);
      assert.ok(!r.text.includes(secret), 'the password is not in the page');
      assert.ok(r.text.includes(inHtml(en['accounts.username.invalid'])), 'username error');
      assert.ok(r.text.includes(inHtml(en['accounts.email.invalid'])), 'email error');
      assert.ok(r.text.includes(inHtml(en['accounts.password.too_short'])), 'password error');
      assert.match(r.text, /aria-invalid="true" aria-describedby="f-username-hint f-username-error"/);

      const long = 'a long enough passphrase';
      r = await b.post('/register', { username: 'Newcomer2', email: 'n2@example.test', password: long, password_confirm: long + 'x' });
      assert.equal(r.status, 400);
      assert.ok(r.text.includes(inHtml(en['accounts.password.mismatch'])), 'mismatch');
      assert.ok(!r.text.includes(long), 'neither password is echoed');

      r = await b.post('/register', { username: 'NEWCOMER', email: 'NewComer@Example.test', password: long, password_confirm: long });
      assert.equal(r.status, 400);
      assert.ok(r.text.includes(inHtml(en['accounts.username.taken'])), 'duplicate username (any case)');
      assert.ok(r.text.includes(inHtml(en['accounts.email.taken'])), 'duplicate email (any case)');
      assert.equal(sessionCookie(r), undefined, 'not logged in');
    });

    it('refuses a form without its CSRF token', async () => {
      const b = s.browser();
      await b.get('/register');
      const r = await b.post('/register', { username: 'Csrf', email: 'csrf@example.test', password: 'x'.repeat(12), password_confirm: 'x'.repeat(12) }, { csrf: false });
      assert.equal(r.status, 403);
      assert.equal(await findUserByUsername(s.app.db(), 'Csrf'), undefined);
      const l = await b.post('/login', { username: 'Newcomer', password: 'correct horse battery' }, { csrf: false });
      assert.equal(l.status, 403);
      assert.equal(sessionCookie(l), undefined);
    });

    it('is in French too', async () => {
      const b = s.browser();
      b.acceptLanguage = 'fr';
      const r = await b.get('/register');
      assert.match(r.text, /<html lang="fr">/);
      assert.ok(r.text.includes(inHtml(fr['accounts.register.title'])), 'French title');
      assert.ok(r.text.includes(inHtml(fr['accounts.field.username'])), 'French labels');
    });
  });

  describe('login', () => {
    it('plain login sets a browser-session cookie; remember-me a persistent one (Max-Age = remember_ttl)', async () => {
      const m = await s.member('plainlogin');
      const b = s.browser();
      let r = await loginForm(b, 'plainlogin', m.password);
      assert.equal(r.status, 303);
      let c = sessionCookie(r);
      assert.ok(c, 'session cookie');
      assert.doesNotMatch(c, /Max-Age|Expires/i);
      const rows = await s.app.db().selectFrom('session').selectAll().where('user_id', '=', m.id).execute();
      assert.equal(rows.length, 1);
      assert.equal(rows[0]!.persistent, 0);
      assert.equal(rows[0]!.expires_at - rows[0]!.created_at, s.app.config.web.session_ttl, 'server-side expiry: session_ttl');

      const b2 = s.browser();
      r = await loginForm(b2, 'plainlogin', m.password, { remember: '1' });
      c = sessionCookie(r);
      assert.ok(c, 'session cookie');
      assert.match(c, new RegExp(`Max-Age=${s.app.config.web.remember_ttl}(;|$)`));
      const persistent = await s.app.db().selectFrom('session').selectAll().where('user_id', '=', m.id).where('persistent', '=', 1).execute();
      assert.equal(persistent.length, 1);
      assert.equal(persistent[0]!.expires_at - persistent[0]!.created_at, s.app.config.web.remember_ttl);
    });

    it('accepts the email address, follows a same-site `next`, ignores another site, records the login and rehashes', async () => {
      const m = await s.member('nextlogin');
      const before = await findUserById(s.app.db(), m.id);
      assert.match(before!.password_hash!, /^scrypt\$10\$/, 'test members have a cheap hash');
      const b = s.browser();
      let r = await b.get('/login?next=%2Faccount%2Fsessions');
      assert.match(r.text, /name="next" value="\/account\/sessions"/);
      r = await b.post('/login', { username: 'NextLogin@Example.test', password: m.password, next: '/account/sessions' });
      assert.equal(r.status, 303);
      assert.equal(r.location, '/account/sessions');
      const u = await findUserById(s.app.db(), m.id);
      assert.ok(u!.last_login_at && u!.last_login_at >= before!.created_at, 'last_login_at set');
      assert.match(u!.password_hash!, /^scrypt\$15\$/, 'rehashed at the current cost');

      for (const evil of ['//evil.example/x', 'https://evil.example/', '/\\evil.example', 'account']) {
        const b2 = s.browser();
        await b2.get('/login');
        const r2 = await b2.post('/login', { username: 'nextlogin', password: m.password, next: evil });
        assert.equal(r2.status, 303);
        assert.equal(r2.location, '/', `next=${evil} is ignored`);
      }
      // Already logged in: /login goes on to next.
      const again = await b.get('/login?next=/account', false);
      assert.equal(again.status, 303);
      assert.equal(again.location, '/account');
    });

    it('a wrong password: 401, the login kept, the password not echoed, no session', async () => {
      await s.member('wrongpw');
      const b = s.browser();
      const r = await loginForm(b, 'wrongpw', 'not-the-password-123');
      assert.equal(r.status, 401);
      assert.ok(r.text.includes(inHtml(en['accounts.login.failed'])), 'message');
      assert.match(r.text, /name="username" type="text" value="wrongpw"/);
      assert.ok(!r.text.includes('not-the-password-123'), 'password not echoed');
      assert.equal(sessionCookie(r), undefined);
      const empty = await b.post('/login', { username: '', password: '' });
      assert.equal(empty.status, 400);
      assert.ok(empty.text.includes(inHtml(en['common.form.required'])), 'required fields');
    });

    it('refuses a disabled member, even with the right password', async () => {
      const m = await s.member('disabledone');
      await s.app.db().updateTable('user').set({ enabled: 0 }).where('id', '=', m.id).execute();
      const r = await loginForm(s.browser(), 'disabledone', m.password);
      assert.equal(r.status, 403);
      assert.equal(sessionCookie(r), undefined);
    });
  });

  describe('pages', () => {
    it('every accounts page answers in English and French, with no untranslated key', async () => {
      const m = await s.member('pagewalker');
      for (const lang of ['en', 'fr'] as const) {
        const anon = s.browser();
        anon.acceptLanguage = lang;
        const b = s.browser();
        b.acceptLanguage = lang;
        await loginForm(b, 'pagewalker', m.password);
        const pages: Array<[Browser, string]> = [
          [anon, '/login'],
          [anon, '/register'],
          [anon, '/password/forgot'],
          [b, '/account'],
          [b, '/account/passkey'],
          [b, '/account/password'],
          [b, '/account/email'],
          [b, '/account/sessions'],
          [b, '/account/2fa'],
        ];
        for (const [who, path] of pages) {
          const r = await who.get(path);
          assert.equal(r.status, 200, `${lang} ${path}`);
          assert.match(r.text, new RegExp(`<html lang="${lang}">`), `${lang} ${path}`);
          assert.doesNotMatch(r.text, /accounts\.[a-z0-9_]+\.[a-z0-9_.]+/, `${lang} ${path}: a message key shows`);
          assert.match(r.text, /<h1>[^<]+<\/h1>/, `${lang} ${path}: one heading`);
        }
      }
    });

    it('sends the visitor to the login page from account pages, and back afterwards', async () => {
      const r = await s.browser().get('/account/sessions', false);
      assert.equal(r.status, 303);
      assert.equal(r.location, '/login?next=%2Faccount%2Fsessions');
      const again = await s.browser().post('/account/rss-key', {}, { csrf: false });
      assert.equal(again.status, 403, 'CSRF is checked before anything else');
    });
  });

  describe('logout and sessions', () => {
    it('logs out (POST /logout ends the session server-side)', async () => {
      const m = await s.member('logoutone');
      const b = s.browser();
      await loginForm(b, 'logoutone', m.password);
      const token = b.cookies.get('essaim_session')!;
      assert.equal((await b.get('/account')).status, 200);
      const r = await b.post('/logout', {});
      assert.equal(r.status, 303);
      const row = await s.app.db().selectFrom('session').select('id').where('id', '=', hashToken(token)).executeTakeFirst();
      assert.equal(row, undefined, 'the session row is gone');
      const acct = await b.get('/account', false);
      assert.equal(acct.status, 303);
      assert.match(acct.location ?? '', /^\/login\?next=%2Faccount/);
    });

    it('lists sessions, ends one, and "log out everywhere" ends every one (this one included)', async () => {
      const m = await s.member('everywhere');
      const a = s.browser();
      const b = s.browser();
      const c = s.browser();
      await loginForm(a, 'everywhere', m.password);
      await loginForm(b, 'everywhere', m.password);
      await loginForm(c, 'everywhere', m.password);
      const list = await a.get('/account/sessions');
      assert.equal(list.status, 200);
      assert.equal((list.text.match(/name="session" value="[0-9a-f]{64}"/g) ?? []).length, 3, 'three sessions listed');
      assert.match(list.text, /<th scope="col">/);
      // End c's session from a.
      const cId = hashToken(c.cookies.get('essaim_session')!);
      let r = await a.post('/account/sessions/revoke', { session: cId });
      assert.equal(r.status, 303);
      assert.equal((await c.get('/account', false)).status, 303, 'c is logged out');
      assert.equal((await a.get('/account')).status, 200, 'a is still in');
      // Another member's session cannot be ended.
      const other = await s.member('bystander');
      const o = s.browser();
      await loginForm(o, 'bystander', other.password);
      await a.get('/account/sessions');
      await a.post('/account/sessions/revoke', { session: hashToken(o.cookies.get('essaim_session')!) });
      assert.equal((await o.get('/account')).status, 200, "the other member's session survives");

      await a.get('/account/sessions');
      r = await a.post('/account/sessions/revoke-all', {});
      assert.equal(r.status, 303);
      assert.equal((await b.get('/account', false)).status, 303, 'another browser is logged out');
      assert.equal((await a.get('/account', false)).status, 303, 'this browser too');
      const left = await s.app.db().selectFrom('session').select('id').where('user_id', '=', m.id).execute();
      assert.equal(left.length, 0);
    });
  });

  describe('account page', () => {
    it('rotating the passkey (after confirmation) makes the tracker refuse the old one at once and accept the new one', async () => {
      const m = await s.member('rotator');
      const infoHash = randomBytes(20);
      const { id } = await registerTorrent(s.app.db(), { name: 'rotation test', infoHashV1: infoHash.toString('hex'), now: Math.floor(Date.now() / 1000) });
      await s.app.site().tracker.torrentChanged(id);
      const announce = (passkey: string, port: number) =>
        httpAnnounce(`${s.listening.httpTracker}/${passkey}/announce`, { infoHash, peerId: randomBytes(20), port, uploaded: 0, downloaded: 0, left: 100, event: 'started' });
      assert.equal((await announce(m.passkey, 6881)).failure, null, 'the first passkey works');

      const b = s.browser();
      await loginForm(b, 'rotator', m.password);
      const confirm = await b.get('/account/passkey');
      assert.equal(confirm.status, 200);
      assert.ok(confirm.text.includes(inHtml(en['accounts.passkey.confirm.text'])), 'a confirmation step');
      const unconfirmed = await b.post('/account/passkey', {});
      assert.equal(unconfirmed.status, 400);
      assert.equal((await findUserById(s.app.db(), m.id))!.passkey, m.passkey, 'nothing rotated without confirmation');

      const r = await b.post('/account/passkey', { confirm: 'yes' });
      assert.equal(r.status, 303);
      const fresh = (await findUserById(s.app.db(), m.id))!.passkey;
      assert.notEqual(fresh, m.passkey);
      assert.match((await announce(m.passkey, 6882)).failure ?? '', /passkey/i, 'the old passkey is refused');
      assert.equal((await announce(fresh, 6883)).failure, null, 'the new one is accepted');
      const page = await b.get('/account');
      assert.ok(page.text.includes(fresh) && !page.text.includes(m.passkey), 'the page shows the new passkey');
    });

    it('rotates the RSS key', async () => {
      const m = await s.member('rssrotator');
      const b = s.browser();
      await loginForm(b, 'rssrotator', m.password);
      await b.get('/account');
      const r = await b.post('/account/rss-key', {});
      assert.equal(r.status, 303);
      const u = await findUserById(s.app.db(), m.id);
      assert.notEqual(u!.rss_key, m.rssKey);
      assert.match(u!.rss_key, /^[0-9a-f]{32}$/);
    });

    it('saves the language (then the pages follow it) and the privacy level', async () => {
      const m = await s.member('prefs');
      const b = s.browser();
      await loginForm(b, 'prefs', m.password);
      await b.get('/account');
      let r = await b.post('/account/preferences', { locale: 'fr', privacy: 'strong' });
      assert.equal(r.status, 303);
      let u = await findUserById(s.app.db(), m.id);
      assert.equal(u!.locale, 'fr');
      assert.equal(u!.privacy, 'strong');
      const page = await b.get('/account');
      assert.match(page.text, /<html lang="fr">/, 'the member’s language wins over Accept-Language: en');
      assert.match(page.text, /value="strong" checked/);
      r = await b.post('/account/preferences', { locale: '', privacy: 'bogus' });
      assert.equal(r.status, 303);
      u = await findUserById(s.app.db(), m.id);
      assert.equal(u!.locale, null, 'back to the browser’s language');
      assert.equal(u!.privacy, 'strong', 'an unknown level changes nothing');
    });

    it('changes the password with the current one, ending the other sessions', async () => {
      const m = await s.member('pwchanger');
      const a = s.browser();
      const other = s.browser();
      await loginForm(a, 'pwchanger', m.password);
      await loginForm(other, 'pwchanger', m.password);
      await a.get('/account/password');
      const next = 'a brand new passphrase';
      let r = await a.post('/account/password', { current_password: 'wrong current pw', password: next, password_confirm: next });
      assert.equal(r.status, 400);
      assert.ok(r.text.includes(inHtml(en['accounts.password.current_wrong'])), 'wrong current password');
      assert.ok(!r.text.includes(next) && !r.text.includes('wrong current pw'), 'no password echoed');
      r = await a.post('/account/password', { current_password: m.password, password: 'pwchanger', password_confirm: 'pwchanger' });
      assert.equal(r.status, 400);
      assert.ok(r.text.includes(inHtml(en['accounts.password.too_short'])), 'the password rules apply');
      r = await a.post('/account/password', { current_password: m.password, password: next, password_confirm: next });
      assert.equal(r.status, 303);
      assert.equal((await a.get('/account')).status, 200, 'this session stays');
      assert.equal((await other.get('/account', false)).status, 303, 'the other one ended');
      assert.equal((await loginForm(s.browser(), 'pwchanger', m.password)).status, 401, 'the old password no longer works');
      assert.equal((await loginForm(s.browser(), 'pwchanger', next)).status, 303, 'the new one does');
    });

    it('changes the email through a link sent to the new address (single use)', async () => {
      const m = await s.member('mailchanger');
      const b = s.browser();
      await loginForm(b, 'mailchanger', m.password);
      await b.get('/account/email');
      let r = await b.post('/account/email', { email: 'newcomer@example.test', current_password: m.password });
      assert.equal(r.status, 400);
      assert.ok(r.text.includes(inHtml(en['accounts.email.taken'])), 'taken address');
      r = await b.post('/account/email', { email: 'Fresh.Address@Example.test', current_password: 'nope nope nope' });
      assert.equal(r.status, 400);
      assert.match(r.text, /value="fresh\.address@example\.test"/, 'the address is kept');
      r = await b.post('/account/email', { email: 'fresh.address@example.test', current_password: m.password });
      assert.equal(r.status, 200);
      assert.equal((await findUserById(s.app.db(), m.id))!.email, 'mailchanger@example.test', 'nothing changes before the link');
      const mail = await nextMail(s, 'fresh.address@example.test', seen);
      const notice = await nextMail(s, 'mailchanger@example.test', seen);
      assert.match(notice, /requested|demand/, 'the old address is told');
      const path = linkPath(mail, /https?:\/\/\S+\/account\/email\/confirm\/[0-9a-f]{32}/);
      r = await b.get(path);
      assert.equal(r.status, 200);
      const u = await findUserById(s.app.db(), m.id);
      assert.equal(u!.email, 'fresh.address@example.test');
      assert.equal(u!.email_verified, 1);
      assert.equal((await s.browser().get(path)).status, 400, 'the link works once');
    });
  });

  describe('password reset', () => {
    it('answers the same for a known and an unknown address, and mails only the known one', async () => {
      await s.member('forgetful');
      const b = s.browser();
      await b.get('/password/forgot');
      const known = await b.post('/password/forgot', { email: 'Forgetful@example.test' });
      const unknown = await b.post('/password/forgot', { email: 'nobody-here@example.test' });
      assert.equal(known.status, 200);
      assert.equal(unknown.status, 200);
      const strip = (p: Page) => /<main id="main">([\s\S]*)<\/main>/.exec(p.text)![1]!.replace(/forgetful@example\.test|nobody-here@example\.test/g, 'X');
      assert.equal(strip(known), strip(unknown), 'same answer');
      await nextMail(s, 'forgetful@example.test', seen);
      assert.equal(await mailsTo(s, 'nobody-here@example.test'), 0);
      const bad = await b.post('/password/forgot', { email: 'not an address' });
      assert.equal(bad.status, 400);
    });

    it('the link sets a new password once, ends every session, logs in; an expired link is refused', async () => {
      const m = await s.member('resetter');
      const old = s.browser();
      await loginForm(old, 'resetter', m.password);
      const b = s.browser();
      await b.get('/password/forgot');
      await b.post('/password/forgot', { email: 'resetter@example.test' });
      const mail = await nextMail(s, 'resetter@example.test', seen);
      const path = linkPath(mail, /https?:\/\/\S+\/password\/reset\/[0-9a-f]{32}/);
      const token = path.split('/').pop()!;
      const row = await s.app.db().selectFrom('auth_token').selectAll().where('token_hash', '=', hashToken(token)).executeTakeFirst();
      assert.ok(row, 'the token is stored hashed');
      assert.equal(row.purpose, 'password_reset');
      assert.equal(row.expires_at - row.created_at, s.app.config.mail.reset_ttl);
      let r = await b.get(path);
      assert.equal(r.status, 200);
      r = await b.post(path, { password: 'new reset passphrase', password_confirm: 'different' });
      assert.equal(r.status, 400);
      assert.ok(!r.text.includes('new reset passphrase'), 'no echo');
      r = await b.post(path, { password: 'new reset passphrase', password_confirm: 'new reset passphrase' });
      assert.equal(r.status, 303);
      assert.equal(r.location, '/account');
      assert.ok(sessionCookie(r), 'logged in');
      assert.equal((await b.get('/account')).status, 200);
      assert.equal((await old.get('/account', false)).status, 303, 'the old session ended');
      assert.equal((await b.get(path)).status, 400, 'single use');
      assert.equal((await b.post(path, { password: 'another passphrase!', password_confirm: 'another passphrase!' })).status, 400);
      assert.equal((await loginForm(s.browser(), 'resetter', 'new reset passphrase')).status, 303);

      // A second link, expired by editing its row.
      await b.get('/password/forgot');
      await b.post('/password/forgot', { email: 'resetter@example.test' });
      const mail2 = await nextMail(s, 'resetter@example.test', seen);
      const path2 = linkPath(mail2, /https?:\/\/\S+\/password\/reset\/[0-9a-f]{32}/);
      await s.app.db().updateTable('auth_token').set({ expires_at: Math.floor(Date.now() / 1000) - 1 }).where('token_hash', '=', hashToken(path2.split('/').pop()!)).execute();
      assert.equal((await b.get(path2)).status, 400, 'expired');
      assert.equal((await b.post(path2, { password: 'yet another phrase', password_confirm: 'yet another phrase' })).status, 400);
      assert.equal((await s.browser().get('/password/reset/0123456789abcdef0123456789abcdef')).status, 400, 'unknown token');
    });
  });

  describe('two-factor authentication', () => {
    it('enrols with a QR code, switches on only after a valid code, and shows ten recovery codes once', async () => {
      const m = await s.member('totpuser');
      const b = s.browser();
      await loginForm(b, 'totpuser', m.password);
      let r = await b.get('/account/2fa');
      assert.ok(r.text.includes(inHtml(en['accounts.2fa.status.off'])), 'off at first');
      r = await b.post('/account/2fa/setup', {});
      assert.equal(r.status, 303);
      r = await b.get('/account/2fa/setup');
      assert.equal(r.status, 200);
      assert.match(r.text, /<img src="data:image\/png;base64,[A-Za-z0-9+/=]+" alt="[^"]+">/, 'a QR code with alt text');
      const u = await findUserById(s.app.db(), m.id);
      const secret = u!.totp_secret!;
      assert.match(secret, /^[A-Z2-7]{32}$/);
      assert.equal(u!.totp_enabled, 0, 'not on before confirmation');
      assert.ok(r.text.includes(secret.replace(/(.{4})(?=.)/g, '$1 ')), 'the secret as text');
      assert.match(r.text, /otpauth:\/\/totp\/[^<]*secret=[A-Z2-7]{32}/, 'the otpauth URI');

      r = await b.post('/account/2fa/confirm', { code: '000000' === freshCode(s, m.id, secret) ? '111111' : '000000' });
      assert.equal(r.status, 400);
      assert.equal((await findUserById(s.app.db(), m.id))!.totp_enabled, 0, 'a wrong code does not switch it on');
      r = await b.post('/account/2fa/confirm', { code: freshCode(s, m.id, secret) });
      assert.equal(r.status, 200);
      assert.equal((await findUserById(s.app.db(), m.id))!.totp_enabled, 1);
      const codes = [...r.text.matchAll(/<li><code>([0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4})<\/code><\/li>/g)].map((x) => x[1]!);
      assert.equal(codes.length, 10, 'ten recovery codes');
      assert.equal(r.headers.get('cache-control'), 'no-store');
      const stored = await s.app.db().selectFrom('recovery_code').select('code_hash').where('user_id', '=', m.id).execute();
      assert.equal(stored.length, 10);
      assert.ok(stored.every((x) => !codes.includes(x.code_hash)), 'stored hashed');
      const status = await b.get('/account/2fa');
      assert.ok(!codes.some((c) => status.text.includes(c)), 'not shown again');

      // Login now asks for a code; no session before it.
      await b.post('/logout', {});
      const l = s.browser();
      r = await loginForm(l, 'totpuser', m.password, { remember: '1' });
      assert.equal(r.status, 200);
      assert.equal(sessionCookie(r), undefined, 'no session after the password alone');
      assert.ok(r.text.includes(inHtml(en['accounts.2fa.step.intro'])), 'the second step');
      const pending = pendingField(r);
      assert.ok(!pending.includes(m.password), 'the pending token holds no password');
      r = await l.post('/login/2fa', { pending, code: '12345x' });
      assert.equal(r.status, 401);
      assert.equal(sessionCookie(r), undefined);
      // A tampered token (another member id) is refused.
      const forged = pending.replace(/^\d+/, String(m.id + 1000));
      r = await l.post('/login/2fa', { pending: forged, code: freshCode(s, m.id, secret) });
      assert.equal(r.status, 400);
      // The token is bound to this browser.
      const thief = s.browser();
      await thief.get('/login');
      r = await thief.post('/login/2fa', { pending, code: freshCode(s, m.id, secret) });
      assert.equal(r.status, 400, 'not usable from another browser');
      const code = freshCode(s, m.id, secret);
      r = await l.post('/login/2fa', { pending, code });
      assert.equal(r.status, 303);
      const c = sessionCookie(r);
      assert.ok(c, 'logged in after the code');
      assert.match(c, /Max-Age=/, 'remember-me carried through the second step');

      // The same code cannot be used twice.
      const l2 = s.browser();
      r = await loginForm(l2, 'totpuser', m.password);
      r = await l2.post('/login/2fa', { pending: pendingField(r), code });
      assert.equal(r.status, 401, 'a replayed code is refused');

      // A recovery code works once.
      const l3 = s.browser();
      r = await loginForm(l3, 'totpuser', m.password);
      const p3 = pendingField(r);
      r = await l3.post('/login/2fa', { pending: p3, code: codes[0]!.toUpperCase() });
      assert.equal(r.status, 303, 'recovery code accepted');
      const l4 = s.browser();
      r = await loginForm(l4, 'totpuser', m.password);
      r = await l4.post('/login/2fa', { pending: pendingField(r), code: codes[0]! });
      assert.equal(r.status, 401, 'recovery code used up');
      const st = await l3.get('/account/2fa');
      assert.ok(st.text.includes(inHtml(en['accounts.2fa.codes.left'].replace('{n}', '9'))), 'nine left');

      // Regenerate (needs a code): old codes stop working.
      r = await l3.post('/account/2fa/recovery-codes', { code: '' });
      assert.equal(r.status, 400);
      r = await l3.post('/account/2fa/recovery-codes', { code: freshCode(s, m.id, secret) });
      assert.equal(r.status, 200);
      const fresh = [...r.text.matchAll(/<li><code>([0-9a-z-]{14})<\/code><\/li>/g)].map((x) => x[1]!);
      assert.equal(fresh.length, 10);
      const l5 = s.browser();
      r = await loginForm(l5, 'totpuser', m.password);
      r = await l5.post('/login/2fa', { pending: pendingField(r), code: codes[1]! });
      assert.equal(r.status, 401, 'old recovery codes are void');
      r = await l5.post('/login/2fa', { pending: pendingField(r), code: fresh[0]! });
      assert.equal(r.status, 303, 'new ones work');

      // Disabling needs the password and a code.
      await l5.get('/account/2fa/disable');
      r = await l5.post('/account/2fa/disable', { current_password: 'wrong password here', code: fresh[1]! });
      assert.equal(r.status, 400);
      assert.equal(await s.app.db().selectFrom('recovery_code').select('code_hash').where('user_id', '=', m.id).where('used_at', 'is not', null).execute().then((x) => x.length), 1, 'a wrong password burns no recovery code');
      r = await l5.post('/account/2fa/disable', { current_password: m.password, code: '' });
      assert.equal(r.status, 400);
      assert.equal((await findUserById(s.app.db(), m.id))!.totp_enabled, 1, 'still on');
      r = await l5.post('/account/2fa/disable', { current_password: m.password, code: fresh[1]! });
      assert.equal(r.status, 303);
      const off = await findUserById(s.app.db(), m.id);
      assert.equal(off!.totp_enabled, 0);
      assert.equal(off!.totp_secret, null);
      assert.equal((await s.app.db().selectFrom('recovery_code').select('code_hash').where('user_id', '=', m.id).execute()).length, 0);
      assert.equal((await loginForm(s.browser(), 'totpuser', m.password)).status, 303, 'password alone logs in again');
    });

    it('password reset of a member with TOTP still asks for the code', async () => {
      const m = await s.member('totpreset');
      const b = s.browser();
      await loginForm(b, 'totpreset', m.password);
      await b.post('/account/2fa/setup', {});
      await b.get('/account/2fa/setup');
      const secret = (await findUserById(s.app.db(), m.id))!.totp_secret!;
      assert.equal((await b.post('/account/2fa/confirm', { code: freshCode(s, m.id, secret) })).status, 200);
      const x = s.browser();
      await x.get('/password/forgot');
      await x.post('/password/forgot', { email: 'totpreset@example.test' });
      const path = linkPath(await nextMail(s, 'totpreset@example.test', seen), /https?:\/\/\S+\/password\/reset\/[0-9a-f]{32}/);
      await x.get(path);
      let r = await x.post(path, { password: 'reset with totp on', password_confirm: 'reset with totp on' });
      assert.equal(r.status, 200);
      assert.equal(sessionCookie(r), undefined, 'no session before the code');
      r = await x.post('/login/2fa', { pending: pendingField(r), code: freshCode(s, m.id, secret), next: '/account' });
      assert.equal(r.status, 303);
      assert.ok(sessionCookie(r), 'logged in after the code');
    });
  });
});

describe('accounts: rate limits', () => {
  let s: TestSite;
  before(async () => {
    s = await startSite(null, { web: { login_attempts: 3, login_window: 600 } });
  });
  after(() => s.stop());

  it('after N failures the account is refused, even with the right password, without checking it', async () => {
    const m = await s.member('limited');
    const b = s.browser();
    for (let i = 0; i < 3; i++) assert.equal((await loginForm(b, 'limited', `wrong password ${i}`)).status, 401, `failure ${i + 1}`);
    const r = await loginForm(b, 'limited', m.password);
    assert.equal(r.status, 429);
    assert.ok(r.text.includes(before_(en['accounts.login.rate_limited'])), 'a clear message');
    assert.equal(sessionCookie(r), undefined, 'no session');
    // Logging in by email is the same account.
    assert.equal((await loginForm(s.browser(), 'limited@example.test', m.password)).status, 429);
    // The IP is over the limit too: another account from the same address is refused.
    const n = await s.member('neighbour');
    assert.equal((await loginForm(s.browser(), 'neighbour', n.password)).status, 429, 'per-IP limit');
    // Once the window is over (simulated by clearing the counters), the right password works.
    s.app.site().limiter.reset('login:ip:127.0.0.1');
    s.app.site().limiter.reset(`login:user:${m.id}`);
    assert.equal((await loginForm(s.browser(), 'limited', m.password)).status, 303);
  });

  it('limits password-reset requests per IP (refused) and per address (no more mail)', async () => {
    await s.member('resetlimit');
    const b = s.browser();
    await b.get('/password/forgot');
    s.app.site().limiter.reset('reset:ip:127.0.0.1');
    for (let i = 0; i < 3; i++) assert.equal((await b.post('/password/forgot', { email: 'resetlimit@example.test' })).status, 200);
    const same = await b.post('/password/forgot', { email: 'resetlimit@example.test' });
    assert.equal(same.status, 429, 'the IP limit (3 here) is reached');
    assert.equal(await mailsTo(s, 'resetlimit@example.test', 800), 3, 'three mails were sent, no more');
    s.app.site().limiter.reset('reset:ip:127.0.0.1');
    const again = await b.post('/password/forgot', { email: 'resetlimit@example.test' });
    assert.equal(again.status, 200, 'the usual answer');
    assert.equal(await mailsTo(s, 'resetlimit@example.test', 800), 3, 'but the address limit holds: no fourth mail');
  });

  it('counts wrong two-factor codes against the limit', async () => {
    s.app.site().limiter.reset('login:ip:127.0.0.1');
    const m = await s.member('totplimited');
    const secret = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
    await s.app.db().updateTable('user').set({ totp_secret: secret, totp_enabled: 1 }).where('id', '=', m.id).execute();
    const b = s.browser();
    let r = await loginForm(b, 'totplimited', m.password);
    const pending = pendingField(r);
    for (let i = 0; i < 3; i++) assert.equal((await b.post('/login/2fa', { pending, code: 'zzzz-zzzz-zzzz' })).status, 401);
    r = await b.post('/login/2fa', { pending, code: freshCode(s, m.id, secret) });
    assert.equal(r.status, 429, 'refused even with the right code');
    assert.equal(sessionCookie(r), undefined);
  });
});

describe('accounts: first-run setup', () => {
  let s: TestSite;
  before(async () => {
    s = await startSite();
  });
  after(() => s.stop());

  it('creates the first administrator through the one-time link, then refuses it', async () => {
    const link = await firstRunSetupLink(s.app.site());
    assert.ok(link, 'a link while no administrator exists');
    const path = new URL(link).pathname;
    assert.match(path, /^\/setup\/[0-9a-f]{32}$/);
    const b = s.browser();
    let r = await b.get(path);
    assert.equal(r.status, 200);
    assert.ok(r.text.includes(inHtml(en['accounts.setup.intro'])), 'the setup form');
    r = await b.post(path, { username: 'Root Admin', email: 'admin@example.test', password: 'admin passphrase', password_confirm: 'admin passphrase' });
    assert.equal(r.status, 400, 'invalid username');
    assert.match(r.text, /value="Root Admin"/);
    assert.match(r.text, /value="admin@example\.test"/);
    assert.ok(!r.text.includes('admin passphrase'), 'no password echo');
    r = await b.post(path, { username: 'rootadmin', email: 'admin@example.test', password: 'admin passphrase', password_confirm: 'admin passphrase' });
    assert.equal(r.status, 303);
    assert.equal(r.location, '/account');
    assert.ok(sessionCookie(r), 'logged in');
    const u = await findUserByUsername(s.app.db(), 'rootadmin');
    assert.equal(u?.role, 'admin');
    assert.equal((await b.get('/account')).status, 200);

    assert.equal((await s.browser().get(path)).status, 404, 'the link works once');
    assert.equal((await firstRunSetupLink(s.app.site())), null, 'no new link once an administrator exists');
    assert.equal((await s.browser().get('/setup/0123456789abcdef0123456789abcdef')).status, 404, 'unknown token');
    assert.equal((await s.browser().get('/setup/nonsense')).status, 404, 'malformed token');
  });

  it('an unused link is refused once an administrator exists', async () => {
    // A token made while no administrator existed (e.g. at start), opened after one was created.
    await s.app.db().updateTable('user').set({ enabled: 0 }).where('role', '=', 'admin').execute();
    const link = await firstRunSetupLink(s.app.site());
    assert.ok(link, 'a link');
    await s.app.db().updateTable('user').set({ enabled: 1 }).where('role', '=', 'admin').execute();
    const b = s.browser();
    const r = await b.get(new URL(link).pathname);
    assert.equal(r.status, 409);
    assert.ok(r.text.includes(inHtml(en['accounts.setup.not_needed'])), 'explains why');
  });
});

/**
 * The joining rules through the website, as a browser without JavaScript drives them: each
 * registration mode (open, invitation, application, closed) set on the staff page, an open window
 * opening and closing under a manual clock, the cap of accounts per IP address, email verification
 * (downloads refused until the mailed link is followed), the login captcha after repeated
 * failures, refused email domains, invitations (use, expiry, revocation, the tree), and the class
 * ladder job seen on profiles.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createEssaim, type Essaim } from '../../src/compose.js';
import { loadConfig } from '../../src/config/index.js';
import { bencode } from '../../src/protocol/bencode.js';
import { createUser, findUserById, findUserByUsername, UNVERIFIED_EMAIL_REFUSAL } from '../../src/db/user.repository.js';
import { httpAnnounce } from '../helpers/announce.js';
import { runJoiningJobs } from '../../src/site/joining/jobs.js';
import { saveJoiningSettings } from '../../src/site/joining/settings.js';
import { listNotifications } from '../../src/site/notifications.js';
import { hashPassword } from '../../src/site/passwords.js';
import { insertTorrent } from '../../src/site/torrents/read.testing.js';
import { ManualClock } from '../../src/shared/clock.js';
import { catalogs } from '../../src/web/messages.js';
import { buildTorrent } from '../fixtures/metainfo/builders.js';
import { Browser, startSite, type Page, type TestSite } from '../helpers/site.js';

const en = catalogs.en;
const fr = catalogs.fr;
const inHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/'/g, '&#39;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
/** The part of a message before its first placeholder, as it appears in HTML. */
const lead = (s: string) => inHtml(s.split('{')[0]!);
const GiB = 1024 ** 3;
const PASSWORD = 'a long enough passphrase';

// --- mail outbox --------------------------------------------------------------------------------

function mailsTo(dataDir: string, to: string): string[] {
  const dir = join(dataDir, 'outbox');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .sort()
    .map((f) => readFileSync(join(dir, f), 'utf8'))
    .filter((m) => m.includes(`To: ${to}\r\n`));
}

function linkIn(mail: string | undefined, re: RegExp): string {
  const m = re.exec(mail ?? '');
  assert.ok(m, `a link in the mail:\n${mail}`);
  return new URL(m[0]).pathname;
}

// --- helpers ------------------------------------------------------------------------------------

async function register(b: Browser, username: string, email = `${username.toLowerCase()}@example.test`, extra: Record<string, string> = {}, path = '/register'): Promise<Page> {
  // A refused page has no form: the CSRF token then comes from the login page.
  if (!(await b.get(path)).text.includes('name="_csrf"')) await b.get('/login');
  return b.post('/register', { username, email, password: PASSWORD, password_confirm: PASSWORD, ...extra });
}

async function loginAs(s: { browser(): Browser }, username: string, password: string): Promise<Browser> {
  const b = s.browser();
  const r = await b.login(username, password);
  assert.equal(r.status, 200, `${username} logged in`);
  return b;
}

function sessionCookie(r: Page): string | undefined {
  return r.headers.getSetCookie().find((c) => c.startsWith('essaim_session='));
}

/** Saves the joining settings through the staff form. */
async function setMode(admin: Browser, mode: string, questions = ''): Promise<Page> {
  await admin.get('/staff/joining');
  const r = await admin.post('/staff/joining', { mode, questions });
  assert.equal(r.status, 303, `mode ${mode} saved`);
  return r;
}

describe('joining (web)', () => {
  let s: TestSite;
  let admin: Browser;
  let adminId: number;
  before(async () => {
    s = await startSite(null, { joining: { captcha_after: 3 } });
    const a = await s.member('joinadmin', { role: 'admin' });
    adminId = a.id;
    admin = await loginAs(s, 'joinadmin', a.password);
  });
  after(() => s.stop());

  describe('open mode and email verification', () => {
    it('signs up in the entry class, records the IP, mails a link; downloads wait for the verification', async () => {
      const db = s.app.db();
      const b = s.browser();
      const r = await register(b, 'Fresh');
      assert.equal(r.status, 303, 'open by default');
      const u = await findUserByUsername(db, 'Fresh');
      assert.ok(u, 'the member exists');
      assert.equal(u.class, 'new', 'in the entry class');
      assert.equal(u.email_verified, 0);
      const ip = await db.selectFrom('login_ip').selectAll().where('user_id', '=', u.id).executeTakeFirstOrThrow();
      assert.equal(ip.ip, '127.0.0.1');
      assert.equal(ip.signup, 1, 'recorded at sign-up');
      // The account page says so, and offers a new link.
      const acct = await b.get('/account');
      assert.ok(acct.text.includes(inHtml(en['joining.verify.notice.title'])), 'verification notice');
      assert.ok(acct.text.includes('action="/verify-email/resend"'), 'resend button');
      // A torrent to download.
      const t = await insertTorrent(db, { raw: bencode(buildTorrent('v1', { name: 'Verification Test', files: [{ path: ['a.bin'], size: 40000 }] }).top), uploaderId: adminId });
      const refused = await b.get(`/torrents/${t.id}/download`);
      assert.equal(refused.status, 403, 'download refused before verification');
      assert.ok(refused.text.includes(inHtml(en['joining.verify.download_refused'])), 'with a clear message');
      const rss = await b.get(`/rss/download/${t.id}?key=${u.rss_key}`);
      assert.equal(rss.status, 403, 'the RSS enclosure too');
      // The tracker too: a passkey copied from /account may seed but not download.
      await s.app.site().tracker.torrentChanged(t.id);
      await s.app.refresh();
      const announceUrl = `${s.listening.httpTracker}/${u.passkey}/announce`;
      const announce = (left: number, n: number) =>
        httpAnnounce(announceUrl, { infoHash: Buffer.from(t.infoHashV1!, 'hex'), peerId: Buffer.from(`-AR1360-verify${String(n).padStart(6, '0')}`), port: 7000 + n, uploaded: 0, downloaded: 0, left, event: 'started' });
      const leech = await announce(100, 1);
      assert.equal(leech.failure, UNVERIFIED_EMAIL_REFUSAL, 'the tracker refuses a download announce before verification');
      assert.equal((await announce(0, 2)).failure, null, 'seeding is allowed');
      // A new link replaces the first one.
      const first = mailsTo(s.dataDir, 'fresh@example.test');
      assert.equal(first.length, 1, 'one mail at sign-up');
      const firstLink = linkIn(first[0], /https?:\/\/\S+\/verify-email\/[0-9a-f]{32}/);
      assert.equal((await b.post('/verify-email/resend', {})).status, 303);
      const all = mailsTo(s.dataDir, 'fresh@example.test');
      assert.equal(all.length, 2, 'a second mail');
      const secondLink = linkIn(all[1], /https?:\/\/\S+\/verify-email\/[0-9a-f]{32}/);
      assert.equal((await s.browser().get(firstLink)).status, 400, 'the first link no longer works');
      const ok = await b.get(secondLink, false);
      assert.equal(ok.status, 303, 'verified');
      assert.equal(ok.location, '/account');
      assert.equal((await findUserById(db, u.id))!.email_verified, 1);
      assert.equal((await s.browser().get(secondLink)).status, 400, 'a link works once');
      const dl = await b.get(`/torrents/${t.id}/download`);
      assert.equal(dl.status, 200, 'downloads allowed once verified');
      assert.equal((await announce(100, 3)).failure, null, 'the tracker accepts download announces at once');
      assert.equal(dl.headers.get('content-type'), 'application/x-bittorrent');
      assert.ok(!(await b.get('/account')).text.includes(inHtml(en['joining.verify.notice.title'])), 'no more notice');
    });

    it('records the IP address at login too', async () => {
      const m = await s.member('iplogger');
      await loginAs(s, 'iplogger', m.password);
      const rows = await s.app.db().selectFrom('login_ip').selectAll().where('user_id', '=', m.id).execute();
      assert.equal(rows.length, 1);
      assert.equal(rows[0]!.signup, 0);
    });
  });

  describe('the staff settings page', () => {
    it('is for settings.manage only', async () => {
      const mod = await s.member('joinmod', { role: 'supermod' });
      const b = await loginAs(s, 'joinmod', mod.password);
      assert.equal((await b.get('/staff/joining')).status, 403, 'a super-moderator cannot');
      assert.equal((await b.post('/staff/joining', { mode: 'closed' })).status, 403);
      const visitor = await s.browser().get('/staff/joining', false);
      assert.equal(visitor.status, 303, 'a visitor is sent to the login page');
      assert.match(visitor.location ?? '', /^\/login/);
    });

    it('keeps what was typed on errors, saves valid settings, and audits them', async () => {
      await admin.get('/staff/joining');
      const bad = await admin.post('/staff/joining', { mode: 'open', window_0_day: '6', window_0_start: '18:00', window_0_end: '20:00', window_0_zone: 'Mars/Olympus', window_0_cap: '500', questions: 'Why?' });
      assert.equal(bad.status, 400);
      assert.ok(bad.text.includes(inHtml(en['joining.staff.error.window_zone'])), 'the zone error');
      assert.match(bad.text, /name="window_0_zone" type="text" list="joining-zones" value="Mars\/Olympus"/, 'the typed zone kept');
      const noQuestions = await admin.post('/staff/joining', { mode: 'application', questions: '' });
      assert.equal(noQuestions.status, 400, 'applications need questions');
      const ok = await admin.post('/staff/joining', { mode: 'open', window_0_day: '6', window_0_start: '18:00', window_0_end: '20:00', window_0_zone: 'Europe/Paris', window_0_cap: '500', questions: 'Why?\nHow?' });
      assert.equal(ok.status, 303);
      const page = await admin.get('/staff/joining');
      assert.match(page.text, /name="window_0_zone" type="text" list="joining-zones" value="Europe\/Paris"/);
      assert.ok(page.text.includes('Why?\nHow?'), 'the questions');
      const row = await s.app.db().selectFrom('audit_log').selectAll().where('action', '=', 'joining.settings').orderBy('id', 'desc').executeTakeFirstOrThrow();
      assert.equal(row.actor_id, adminId);
      assert.match(row.after ?? '', /Europe\/Paris/);
      // Remove the window again.
      await admin.post('/staff/joining', { mode: 'open', window_0_day: '6', window_0_start: '18:00', window_0_end: '20:00', window_0_zone: 'Europe/Paris', window_0_cap: '500', window_0_remove: '1', questions: '' });
      assert.doesNotMatch((await admin.get('/staff/joining')).text, /value="Europe\/Paris"><\/datalist>|name="window_1_zone"/, 'one (empty) row left');
    });
  });

  describe('invitation mode and invitations', () => {
    let inviter: { id: number; password: string };
    let ib: Browser;
    before(async () => {
      await setMode(admin, 'invite');
      inviter = await s.member('inviter');
      ib = await loginAs(s, 'inviter', inviter.password);
    });
    after(async () => {
      await setMode(admin, 'open');
    });

    it('refuses sign-up without an invitation', async () => {
      const b = s.browser();
      const r = await b.get('/register');
      assert.equal(r.status, 403);
      assert.ok(r.text.includes(inHtml(en['joining.refused.invite_required'])), 'says an invitation is needed');
      assert.ok(!r.text.includes('action="/register"'), 'no form');
      const p = await b.post('/register', { username: 'Sneaky', email: 'sneaky@example.test', password: PASSWORD, password_confirm: PASSWORD });
      assert.equal(p.status, 403);
      assert.equal(await findUserByUsername(s.app.db(), 'Sneaky'), undefined);
    });

    it('spends the quota, mails the link, and lets the invitee in once', async () => {
      const db = s.app.db();
      const page = await ib.get('/invites');
      assert.ok(page.text.includes(inHtml(en['joining.invites.none_left'])), 'no invitations at first');
      assert.equal((await ib.post('/invites', { email: '' })).status, 409);
      await db.updateTable('user').set({ invites_left: 3 }).where('id', '=', inviter.id).execute();
      assert.ok((await ib.get('/invites')).text.includes(inHtml(en['joining.invites.left'].replace('{n}', '3'))), 'three now');
      const created = await ib.post('/invites', { email: 'Friend@Example.test' });
      assert.equal(created.status, 201);
      const shown = /\/register\/invite\/([0-9a-f]{32})/.exec(created.text);
      assert.ok(shown, 'the link is shown once');
      assert.equal((await findUserById(db, inviter.id))!.invites_left, 2);
      const mail = mailsTo(s.dataDir, 'friend@example.test');
      assert.equal(mail.length, 1, 'mailed to the address given');
      const path = linkIn(mail[0], /https?:\/\/\S+\/register\/invite\/[0-9a-f]{32}/);
      assert.equal(path, `/register/invite/${shown[1]}`);
      // The invitee.
      const b = s.browser();
      const form = await b.get(path);
      assert.equal(form.status, 200);
      assert.match(form.text, /name="invite" value="[0-9a-f]{32}"/);
      assert.match(form.text, /name="email" type="email" value="friend@example.test"/, 'the address prefilled');
      const r = await b.post('/register', { username: 'Invitee', email: 'friend@example.test', password: PASSWORD, password_confirm: PASSWORD, invite: shown[1]! });
      assert.equal(r.status, 303);
      const invitee = await findUserByUsername(db, 'Invitee');
      assert.equal(invitee?.invited_by, inviter.id, 'invited_by recorded');
      // Used up.
      const again = await register(s.browser(), 'Invitee2', 'invitee2@example.test', { invite: shown[1]! }, path);
      assert.equal(again.status, 403);
      assert.ok(again.text.includes(inHtml(en['joining.refused.invite_invalid'])), 'a used link is refused');
      const list = await ib.get('/invites');
      assert.ok(list.text.includes(`<a href="/u/${invitee!.id}">Invitee</a>`), 'the inviter sees who used it');
    });

    it('revokes an unused invitation (given back) and refuses expired ones', async () => {
      const db = s.app.db();
      const before = (await findUserById(db, inviter.id))!.invites_left;
      const a = await ib.post('/invites', { email: '' });
      const b = await ib.post('/invites', { email: '' });
      const codeA = /\/register\/invite\/([0-9a-f]{32})/.exec(a.text)![1]!;
      const codeB = /\/register\/invite\/([0-9a-f]{32})/.exec(b.text)![1]!;
      const ids = await db.selectFrom('invite').select('id').where('inviter_id', '=', inviter.id).where('used_at', 'is', null).orderBy('id').execute();
      const [idA, idB] = ids.slice(-2).map((x) => x.id);
      // Someone else cannot revoke it.
      const other = await s.member('notinviter');
      const ob = await loginAs(s, 'notinviter', other.password);
      await ob.get('/invites');
      await ob.post(`/invites/${idA}/revoke`, {});
      assert.equal((await s.browser().get(`/register/invite/${codeA}`)).status, 200, 'still valid');
      await ib.get('/invites');
      const rv = await ib.post(`/invites/${idA}/revoke`, {}, { follow: true });
      assert.ok(rv.text.includes(inHtml(en['joining.invite.revoked'])), 'revoked');
      assert.equal((await findUserById(db, inviter.id))!.invites_left, before - 1, 'one given back');
      const revoked = await s.browser().get(`/register/invite/${codeA}`);
      assert.equal(revoked.status, 403, 'a revoked link is refused');
      await db.updateTable('invite').set({ expires_at: Math.floor(Date.now() / 1000) - 1 }).where('id', '=', idB!).execute();
      const expired = await s.browser().get(`/register/invite/${codeB}`);
      assert.equal(expired.status, 403, 'an expired link is refused');
      assert.ok(expired.text.includes(inHtml(en['joining.refused.invite_invalid'])));
      assert.equal((await register(s.browser(), 'Late', 'late@example.test', { invite: codeB })).status, 403);
    });

    it('shows the invite tree to invite.manage staff only, with revocation and grants', async () => {
      const db = s.app.db();
      const invitee = (await findUserByUsername(db, 'Invitee'))!;
      // The invitee invites someone too: a second level.
      await db.updateTable('user').set({ invites_left: 1 }).where('id', '=', invitee.id).execute();
      const vb = await loginAs(s, 'Invitee', PASSWORD);
      await vb.get('/invites');
      const code = /\/register\/invite\/([0-9a-f]{32})/.exec((await vb.post('/invites', { email: '' })).text)![1]!;
      assert.equal((await register(s.browser(), 'Grandchild', 'grandchild@example.test', { invite: code }, `/register/invite/${code}`)).status, 303);
      const mod = await s.member('treemod', { role: 'moderator' });
      const mb = await loginAs(s, 'treemod', mod.password);
      assert.equal((await mb.get('/staff/invites')).status, 403, 'a moderator has no invite.manage by default');
      const sm = await s.member('treesmod', { role: 'supermod' });
      const sb = await loginAs(s, 'treesmod', sm.password);
      const tree = await sb.get('/staff/invites');
      assert.equal(tree.status, 200);
      const grand = (await findUserByUsername(db, 'Grandchild'))!;
      const nested = new RegExp(`<a href="/u/${inviter.id}">inviter</a>[\\s\\S]*?<ul><li><a href="/u/${invitee.id}">Invitee</a>[\\s\\S]*?<ul><li><a href="/u/${grand.id}">Grandchild</a>`);
      assert.match(tree.text, nested, 'inviter > Invitee > Grandchild');
      // The staff view of the invitee names the inviter.
      const view = await sb.get(`/staff/users/${invitee.id}`);
      assert.equal(view.status, 200);
      assert.ok(view.text.includes(`<a href="/staff/users/${inviter.id}">inviter</a>`), 'the inviter on the staff view');
      const sub = await sb.get(`/staff/invites?root=${invitee.id}`);
      assert.ok(!sub.text.includes(`<a href="/u/${inviter.id}">inviter</a>`), 'a branch only');
      // Staff revoke someone's pending invitation, audited.
      await ib.get('/invites');
      await ib.post('/invites', { email: '' });
      const pending = await db.selectFrom('invite').select('id').where('inviter_id', '=', inviter.id).where('used_at', 'is', null).where('revoked_at', 'is', null).where('expires_at', '>', Math.floor(Date.now() / 1000)).executeTakeFirstOrThrow();
      await sb.get('/staff/invites');
      assert.equal((await sb.post(`/staff/invites/${pending.id}/revoke`, {})).status, 303);
      assert.notEqual((await db.selectFrom('invite').select('revoked_at').where('id', '=', pending.id).executeTakeFirstOrThrow()).revoked_at, null);
      // Grants: to a member yes, to an administrator no (rank rule).
      const left = (await findUserById(db, invitee.id))!.invites_left;
      await sb.get('/staff/invites');
      assert.equal((await sb.post('/staff/invites/grant', { username: 'Invitee', count: '2' })).status, 303);
      assert.equal((await findUserById(db, invitee.id))!.invites_left, left + 2);
      const refused = await sb.post('/staff/invites/grant', { username: 'joinadmin', count: '2' });
      assert.equal(refused.status, 400);
      assert.ok(refused.text.includes(inHtml(en['joining.staff.grant.rank'])));
      const actions = (await db.selectFrom('audit_log').select('action').where('actor_id', '=', sm.id).execute()).map((r) => r.action);
      assert.deepEqual(actions.sort(), ['invite.grant', 'invite.revoke']);
    });
  });

  describe('application mode', () => {
    before(async () => {
      await setMode(admin, 'application', 'What do you like to share?\nHow did you hear of us?');
    });
    after(async () => {
      await setMode(admin, 'open');
    });

    it('sends visitors to the application form, which asks the questions', async () => {
      const b = s.browser();
      const r = await b.get('/register');
      assert.equal(r.status, 403);
      assert.ok(r.text.includes('<a href="/apply">'), 'a link to apply');
      const form = await b.get('/apply');
      assert.equal(form.status, 200);
      assert.ok(form.text.includes('What do you like to share?') && form.text.includes('How did you hear of us?'), 'the questions');
      const missing = await b.post('/apply', { username: 'Applicant', email: 'applicant@example.test', password: PASSWORD, password_confirm: PASSWORD, answer_0: 'Films', answer_1: '' });
      assert.equal(missing.status, 400, 'every question needs an answer');
      assert.match(missing.text, /<textarea id="f-answer_0" name="answer_0"[^>]*>Films<\/textarea>/, 'answers kept');
      assert.ok(!missing.text.includes(PASSWORD), 'the password is not echoed');
      const sent = await b.post('/apply', { username: 'Applicant', email: 'applicant@example.test', password: PASSWORD, password_confirm: PASSWORD, answer_0: 'Films', answer_1: 'A friend' });
      assert.equal(sent.status, 201);
      const dup = await s.browser().post('/apply', { username: 'Other', email: 'applicant@example.test', password: PASSWORD, password_confirm: PASSWORD, answer_0: 'x', answer_1: 'y' }, { csrf: false });
      assert.equal(dup.status, 403, 'CSRF checked');
      const b2 = s.browser();
      await b2.get('/apply');
      const dup2 = await b2.post('/apply', { username: 'Other', email: 'applicant@example.test', password: PASSWORD, password_confirm: PASSWORD, answer_0: 'x', answer_1: 'y' });
      assert.equal(dup2.status, 400);
      assert.ok(dup2.text.includes(inHtml(en['joining.apply.email_pending'])), 'one pending application per address');
      const reg = await register(s.browser(), 'Applicant', 'another@example.test');
      assert.equal(reg.status, 403, 'no sign-up around the application');
    });

    it('staff accept (the account is created, the applicant mailed) or reject with a note', async () => {
      const db = s.app.db();
      const member = await s.member('noreviewer');
      const nb = await loginAs(s, 'noreviewer', member.password);
      assert.equal((await nb.get('/staff/applications')).status, 403, 'members cannot review');
      const mod = await s.member('reviewer', { role: 'moderator' });
      const mb = await loginAs(s, 'reviewer', mod.password);
      const list = await mb.get('/staff/applications');
      assert.equal(list.status, 200);
      const app = await db.selectFrom('application').selectAll().where('username', '=', 'Applicant').executeTakeFirstOrThrow();
      assert.ok(list.text.includes(`<a href="/staff/applications/${app.id}">Applicant</a>`), 'listed');
      const detail = await mb.get(`/staff/applications/${app.id}`);
      assert.ok(detail.text.includes('A friend'), 'the answers');
      const ok = await mb.post(`/staff/applications/${app.id}`, { decision: 'accept', note: 'Welcome aboard' });
      assert.equal(ok.status, 303);
      const u = await findUserByUsername(db, 'Applicant');
      assert.ok(u, 'the account exists');
      assert.equal(u.class, 'new');
      const mail = mailsTo(s.dataDir, 'applicant@example.test');
      assert.equal(mail.length, 1);
      assert.match(mail[0]!, /accepted/);
      assert.match(mail[0]!, /Welcome aboard/);
      assert.match(mail[0]!, /\/verify-email\/[0-9a-f]{32}/, 'with a verification link');
      assert.equal((await loginAs(s, 'Applicant', PASSWORD)) instanceof Browser, true, 'logs in with the password chosen when applying');
      assert.equal((await mb.post(`/staff/applications/${app.id}`, { decision: 'reject', note: '' })).status, 303, 'decided once');
      assert.equal((await db.selectFrom('application').select('status').where('id', '=', app.id).executeTakeFirstOrThrow()).status, 'accepted');
      // A rejection.
      const b = s.browser();
      await b.get('/apply');
      assert.equal((await b.post('/apply', { username: 'Rejected', email: 'rejected@example.test', password: PASSWORD, password_confirm: PASSWORD, answer_0: 'x', answer_1: 'y' })).status, 201);
      const app2 = await db.selectFrom('application').selectAll().where('username', '=', 'Rejected').executeTakeFirstOrThrow();
      await mb.get(`/staff/applications/${app2.id}`);
      assert.equal((await mb.post(`/staff/applications/${app2.id}`, { decision: 'reject', note: 'Not this time' })).status, 303);
      assert.equal(await findUserByUsername(db, 'Rejected'), undefined, 'no account');
      const mail2 = mailsTo(s.dataDir, 'rejected@example.test');
      assert.equal(mail2.length, 1);
      assert.match(mail2[0]!, /Not this time/);
      const actions = (await db.selectFrom('audit_log').select('action').where('target_type', '=', 'application').execute()).map((r) => r.action);
      assert.deepEqual(actions.sort(), ['application.accept', 'application.reject']);
    });
  });

  describe('closed mode', () => {
    before(async () => {
      await setMode(admin, 'closed');
    });
    after(async () => {
      await setMode(admin, 'open');
    });

    it('refuses sign-ups, invitations and applications', async () => {
      const b = s.browser();
      const r = await b.get('/register');
      assert.equal(r.status, 403);
      assert.ok(r.text.includes(inHtml(en['joining.refused.closed'])), 'says it is closed');
      assert.equal((await b.post('/register', { username: 'Closed', email: 'closed@example.test', password: PASSWORD, password_confirm: PASSWORD })).status, 403);
      const m = await s.member('closedinviter', { role: 'supermod' });
      const mb = await loginAs(s, 'closedinviter', m.password);
      await mb.get('/invites');
      const code = /\/register\/invite\/([0-9a-f]{32})/.exec((await mb.post('/invites', { email: '' })).text)![1]!;
      assert.equal((await s.browser().get(`/register/invite/${code}`)).status, 403, 'an invitation does not open a closed site');
      assert.equal((await s.browser().get('/apply')).status, 403);
      assert.equal(await findUserByUsername(s.app.db(), 'Closed'), undefined);
    });
  });

  describe('refused email domains', () => {
    it('are edited by administrators and refused at sign-up, invitation and email change', async () => {
      await admin.get('/staff/joining');
      const bad = await admin.post('/staff/joining/domains', { domain: 'not a domain' });
      assert.equal(bad.status, 400);
      assert.equal((await admin.post('/staff/joining/domains', { domain: '@Throwaway.Example' })).status, 303);
      assert.ok((await admin.get('/staff/joining')).text.includes('<span>throwaway.example</span>'), 'listed');
      const r = await register(s.browser(), 'Throwaway', 'someone@mail.throwaway.example');
      assert.equal(r.status, 400);
      assert.ok(r.text.includes(inHtml(en['joining.email.refused_domain'])), 'refused at sign-up, subdomains too');
      assert.match(r.text, /name="email" type="email" value="someone@mail.throwaway.example"/, 'kept');
      const m = await s.member('domainchanger');
      const b = await loginAs(s, 'domainchanger', m.password);
      await b.get('/account/email');
      const change = await b.post('/account/email', { email: 'me@throwaway.example', current_password: m.password });
      assert.equal(change.status, 400);
      assert.ok(change.text.includes(inHtml(en['joining.email.refused_domain'])), 'refused at email change');
      await s.app.db().updateTable('user').set({ invites_left: 1 }).where('id', '=', m.id).execute();
      await b.get('/invites');
      const inv = await b.post('/invites', { email: 'friend@throwaway.example' });
      assert.equal(inv.status, 400, 'refused for invitations');
      await admin.get('/staff/joining');
      assert.equal((await admin.post('/staff/joining/domains/delete', { domain: 'throwaway.example' })).status, 303);
      assert.equal((await register(s.browser(), 'Throwaway', 'someone@mail.throwaway.example')).status, 303, 'allowed again');
      const actions = (await s.app.db().selectFrom('audit_log').select('action').where('target_type', '=', 'email_domain').execute()).map((x) => x.action);
      assert.deepEqual(actions, ['joining.domain.refuse', 'joining.domain.allow']);
    });
  });

  describe('member classes', () => {
    it('the job promotes and demotes; profiles show the class', async () => {
      const db = s.app.db();
      const now = Math.floor(Date.now() / 1000);
      const up = await s.member('climber');
      const down = await s.member('faller');
      await db.updateTable('user').set({ created_at: now - 60 * 86400, uploaded: 40 * GiB, downloaded: 10 * GiB, class: 'member' }).where('id', '=', up.id).execute();
      await db.updateTable('user').set({ created_at: now - 60 * 86400, uploaded: 30 * GiB, downloaded: 60 * GiB, class: 'power' }).where('id', '=', down.id).execute();
      const r = await runJoiningJobs(s.app.site());
      assert.ok(r.changes.some((c) => c.userId === up.id && c.to === 'power' && c.promoted), 'promoted');
      assert.ok(r.changes.some((c) => c.userId === down.id && c.to === 'member' && !c.promoted), 'demoted');
      const b = await loginAs(s, 'faller', down.password);
      const profile = await b.get(`/u/${up.id}`);
      assert.match(profile.text, /<dt>Class<\/dt><dd>Power member<\/dd>/, 'the class on the profile');
      const own = await b.get(`/u/${down.id}`);
      assert.match(own.text, /<dt>Class<\/dt><dd>Member<\/dd>/);
      const adminProfile = await b.get(`/u/${adminId}`);
      assert.ok(adminProfile.text.includes('<span class="badge role">Administrator</span>') || adminProfile.text.includes('class="badge role"'), 'staff roles shown beside the class');
      assert.equal((await listNotifications(db, up.id))[0]?.kind, 'joining.class_promoted');
      const cb = await loginAs(s, 'climber', up.password);
      const notes = await cb.get('/notifications');
      assert.ok(notes.text.includes(inHtml('Congratulations: you were promoted from Member to Power member.')), 'the notification reads well');
      assert.equal((await listNotifications(db, down.id))[0]?.kind, 'joining.class_demoted');
      assert.equal((await findUserById(db, adminId))!.role, 'admin', 'roles untouched');
    });
  });

  describe('login captcha', () => {
    after(() => {
      for (const k of ['captcha:ip:127.0.0.1', 'login:ip:127.0.0.1']) s.app.site().limiter.reset(k);
    });

    it('appears after K failures, refuses a wrong or reused answer, and accepts the right one', async () => {
      const m = await s.member('captchauser');
      const b = s.browser();
      await b.get('/login');
      assert.ok(!(await b.get('/login')).text.includes('name="captcha"'), 'no captcha at first');
      for (let i = 0; i < 3; i++) {
        const r = await b.post('/login', { username: 'captchauser', password: `wrong ${i}` });
        assert.equal(r.status, 401, `failure ${i + 1}`);
      }
      const page = await b.get('/login');
      assert.ok(page.text.includes('name="captcha"'), 'the captcha after 3 failures');
      assert.ok(page.text.includes(inHtml(en['joining.captcha.legend'])), 'labelled');
      // The right password without an answer: refused, nothing checked.
      const none = await b.post('/login', { username: 'captchauser', password: m.password });
      assert.equal(none.status, 400);
      assert.equal(sessionCookie(none), undefined);
      assert.ok(none.text.includes(inHtml(en['joining.captcha.required'])));
      // A wrong answer.
      const q = (p: Page) => {
        const mq = /How much is (\d+) (plus|minus|times) (\d+)\?/.exec(p.text);
        const mt = /name="captcha_token" value="([^"]+)"/.exec(p.text);
        assert.ok(mq && mt, 'a question and its token');
        const [a, op, c] = [Number(mq[1]), mq[2], Number(mq[3])];
        return { token: mt[1]!, answer: String(op === 'plus' ? a + c : op === 'minus' ? a - c : a * c) };
      };
      const c1 = q(none);
      const wrong = await b.post('/login', { username: 'captchauser', password: m.password, captcha_token: c1.token, captcha: String(Number(c1.answer) + 1) });
      assert.equal(wrong.status, 400);
      assert.equal(sessionCookie(wrong), undefined, 'no session with a wrong answer');
      assert.ok(wrong.text.includes(inHtml(en['joining.captcha.wrong'])));
      // The old token cannot be replayed, even with its right answer.
      const replay = await b.post('/login', { username: 'captchauser', password: m.password, captcha_token: c1.token, captcha: c1.answer });
      assert.equal(replay.status, 400, 'single use');
      assert.equal(sessionCookie(replay), undefined);
      // A fresh question answered right, with the right password.
      const c2 = q(replay);
      const ok = await b.post('/login', { username: 'captchauser', password: m.password, captcha_token: c2.token, captcha: c2.answer });
      assert.equal(ok.status, 303, 'logged in');
      assert.ok(sessionCookie(ok), 'a session');
      // French.
      const frb = s.browser();
      frb.acceptLanguage = 'fr';
      const frPage = await frb.get('/login');
      assert.ok(frPage.text.includes(inHtml(fr['joining.captcha.legend'])), 'in French too, for this IP address');
    });
  });
});

describe('joining: accounts per IP address (web)', () => {
  let s: TestSite;
  before(async () => {
    s = await startSite(null, { joining: { ip_cap_exempt: [], accounts_per_ip: 2 } });
  });
  after(() => s.stop());

  it('refuses a third account from one address', async () => {
    assert.equal((await register(s.browser(), 'First')).status, 303);
    assert.equal((await register(s.browser(), 'Second')).status, 303);
    const third = await register(s.browser(), 'Third');
    assert.equal(third.status, 403);
    assert.ok(third.text.includes(inHtml(en['joining.refused.ip_cap'])), 'says why');
    assert.equal(await findUserByUsername(s.app.db(), 'Third'), undefined);
    assert.equal((await s.browser().get('/register')).status, 403, 'the form is not offered');
  });
});

describe('joining: an open window under a manual clock (web)', () => {
  const clock = new ManualClock(Date.parse('2025-07-05T12:00:00Z'));
  let app: Essaim;
  let base: string;
  let dataDir: string;
  const browser = () => new Browser(base);

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'essaim-joining-'));
    const config = loadConfig({
      env: {},
      overrides: {
        server: { data_dir: dataDir },
        web: { port: 0 },
        metrics: { enabled: false },
        tracker: { http_port: 0, udp_port: 0, udp_host6: '' },
        ledger: { flush_interval: 3600 },
        log: { level: 'warn' },
      } as never,
    });
    app = createEssaim(config, { clock });
    base = (await app.start()).web!;
    // Closed, except Saturdays 18:00 to 20:00 in Paris, two sign-ups at most.
    await saveJoiningSettings(app.db(), { mode: 'closed', windows: [{ day: 6, start: '18:00', end: '20:00', zone: 'Europe/Paris', cap: 2 }], questions: [] }, app.site().now());
    const hash = await hashPassword('window admin password', 10);
    await createUser(app.db(), { username: 'windowadmin', email: 'windowadmin@example.test', passwordHash: hash, role: 'admin', now: app.site().now() });
  });
  after(async () => {
    await app.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('announces the opening, opens at 18:00 Paris time, fills up, and closes at 20:00', async () => {
    // Saturday 14:00 in Paris.
    let login = await browser().get('/login');
    assert.ok(login.text.includes(inHtml('Registration opens Saturday 5 July at 18:00 (Europe/Paris time).')), 'the login page announces the opening');
    const frb = browser();
    frb.acceptLanguage = 'fr';
    assert.ok((await frb.get('/login')).text.includes(inHtml('Les inscriptions ouvrent le samedi 5 juillet à 18:00 (heure de Europe/Paris).')), 'in French');
    let reg = await browser().get('/register');
    assert.equal(reg.status, 403, 'closed before the window');
    assert.ok(reg.text.includes(inHtml('Registration opens Saturday 5 July at 18:00')), 'the register page announces it too');

    // 18:30 in Paris (16:30 UTC, summer time).
    clock.set(Date.parse('2025-07-05T16:30:00Z'));
    reg = await browser().get('/register');
    assert.equal(reg.status, 200, 'open during the window');
    assert.ok(reg.text.includes(inHtml('Registration is open until 20:00 (Europe/Paris time).')), 'until when');
    assert.ok(reg.text.includes(`${lead(en['joining.window.places_left'])}2.`), 'places left');
    assert.equal((await register(browser(), 'Early1')).status, 303);
    assert.equal((await register(browser(), 'Early2')).status, 303);
    const full = await register(browser(), 'Early3');
    assert.equal(full.status, 403, 'the cap of the window');
    assert.ok(full.text.includes(inHtml(en['joining.refused.window_full'])));

    // 20:00 in Paris: closed, the next opening a week later.
    clock.set(Date.parse('2025-07-05T18:00:00Z'));
    reg = await browser().get('/register');
    assert.equal(reg.status, 403, 'closed after the window');
    assert.ok(reg.text.includes(inHtml(en['joining.refused.closed'])));
    login = await browser().get('/login');
    assert.ok(login.text.includes(inHtml('Registration opens Saturday 12 July at 18:00 (Europe/Paris time).')), 'next Saturday');
    assert.equal(await findUserByUsername(app.db(), 'Early3'), undefined);
  });
});

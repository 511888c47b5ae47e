/**
 * Discipline and staff administration through the website: bans (the tracker refuses the passkey
 * at once, login refused, lifted at expiry), warnings (shown to staff and on /account, expiry),
 * IP bans (every request from the address refused, behind a trusted proxy), upload credit, the
 * permission grid, the audit log viewer and its chain verification, the /admin hub.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { bencode } from '../../src/protocol/bencode.js';
import { liftExpiredBans } from '../../src/site/discipline/warnings.js';
import { invalidateIpBans } from '../../src/site/discipline/ip-bans.js';
import { createSession } from '../../src/site/sessions.js';
import { insertTorrent, type InsertedTorrent } from '../../src/site/torrents/read.testing.js';
import { SESSION_COOKIE } from '../../src/web/context.js';
import { buildTorrent } from '../fixtures/metainfo/builders.js';
import { httpAnnounce } from '../helpers/announce.js';
import { chromiumUnavailable, launchChromium, seriousA11yViolations } from '../helpers/chromium.js';
import { startSite, type Browser, type TestSite } from '../helpers/site.js';

type Member = Awaited<ReturnType<TestSite['member']>>;

async function loggedIn(s: TestSite, m: { id: number }): Promise<Browser> {
  const b = s.browser();
  const token = await createSession(s.app.db(), m.id, { persistent: false, ttl: 3600, ip: null, userAgent: null, now: Math.floor(Date.now() / 1000) });
  b.cookies.set(SESSION_COOKIE, token);
  return b;
}

/** Loads a page (for its CSRF token) and posts a form to `action`. */
async function submit(b: Browser, pagePath: string, action: string, fields: Record<string, string | string[]>) {
  const p = await b.get(pagePath);
  assert.equal(p.status, 200, `${pagePath} answered ${p.status}`);
  return b.post(action, fields);
}

function announce(s: TestSite, passkey: string, t: InsertedTorrent) {
  return httpAnnounce(`${s.listening.httpTracker!}/${passkey}/announce`, {
    infoHash: Buffer.from(t.infoHashV1!, 'hex'),
    peerId: randomBytes(20),
    port: 6881,
    uploaded: 0,
    downloaded: 0,
    left: 100,
    event: 'started',
  });
}

const user = (s: TestSite, id: number) => s.app.db().selectFrom('user').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
const lastAudit = (s: TestSite) => s.app.db().selectFrom('audit_log').selectAll().orderBy('id', 'desc').limit(1).executeTakeFirstOrThrow();

describe('discipline', () => {
  let s: TestSite;
  let admin: Member;
  let smod: Member;
  let mod: Member;
  let torrent: InsertedTorrent;

  before(async () => {
    s = await startSite(null, { web: { trust_proxy: ['127.0.0.1'] } });
    admin = await s.member('root', { role: 'admin' });
    smod = await s.member('sam', { role: 'supermod' });
    mod = await s.member('mo', { role: 'moderator' });
    const b = buildTorrent('v1', { name: 'Discipline fixture', files: [{ path: ['a.bin'], size: 5000 }] });
    b.top.announce = 'http://uploader.example/announce';
    torrent = await insertTorrent(s.app.db(), { raw: bencode(b.top), uploaderId: admin.id });
    await s.app.site().tracker.torrentChanged(torrent.id);
  });
  after(() => s.stop());

  it('bans a member: the tracker refuses the passkey at once, login is refused, the ban is lifted at expiry', async () => {
    const m = await s.member('bandit');
    const ok = await announce(s, m.passkey, torrent);
    assert.equal(ok.failure, null, `announce accepted before the ban: ${ok.failure}`);
    const memberBrowser = s.browser();
    assert.equal((await memberBrowser.login('bandit', m.password)).status, 200);

    const staff = await loggedIn(s, smod);
    const r = await submit(staff, `/staff/users/${m.id}`, `/staff/users/${m.id}/ban`, { reason: 'Cheating the ratio', days: '3' });
    assert.equal(r.status, 303, 'redirected after the ban');
    assert.equal(r.location, `/staff/users/${m.id}#bans`);
    const u = await user(s, m.id);
    assert.equal(u.enabled, 0);
    assert.equal(u.disabled_reason, 'Cheating the ratio');

    const refused = await announce(s, m.passkey, torrent);
    assert.equal(refused.failure, 'Account disabled: Cheating the ratio', 'the tracker refuses the passkey at once');
    const home = await memberBrowser.get('/account', false);
    assert.equal(home.status, 303, 'the session ended');
    assert.match(home.location ?? '', /^\/login/);
    const login = await s.browser().login('bandit', m.password);
    assert.equal(login.status, 403, 'login refused');

    const view = await staff.get(`/staff/users/${m.id}`);
    assert.match(view.text, /Banned until .*: Cheating the ratio/);
    const audit = await lastAudit(s);
    assert.equal(audit.action, 'user.ban');
    assert.equal(audit.actor_id, smod.id);
    assert.equal(audit.target_id, m.id);

    // Not yet at expiry; then three days later the job lifts it.
    const now = s.app.site().now();
    assert.equal(await liftExpiredBans(s.app.site(), now + 3600), 0);
    assert.equal(await liftExpiredBans(s.app.site(), now + 3 * 86400 + 60), 1);
    assert.equal((await user(s, m.id)).enabled, 1);
    const back = await announce(s, m.passkey, torrent);
    assert.equal(back.failure, null, `the tracker accepts the passkey again: ${back.failure}`);
    assert.equal((await s.browser().login('bandit', m.password)).status, 200, 'login works again');
    const n = await s.app.db().selectFrom('notification').select('kind').where('user_id', '=', m.id).execute();
    assert.ok(n.some((x) => x.kind === 'discipline.ban_lifted'), 'the member is told');
  });

  it('lets staff lift a ban, and refuses banning a member of equal or higher rank', async () => {
    const m = await s.member('lifted');
    const staff = await loggedIn(s, smod);
    await submit(staff, `/staff/users/${m.id}`, `/staff/users/${m.id}/ban`, { reason: 'Spam', days: '0' });
    assert.match((await staff.get(`/staff/users/${m.id}`)).text, /Banned permanently: Spam/);
    const r = await staff.post(`/staff/users/${m.id}/unban`, { reason: 'Appeal accepted' });
    assert.equal(r.status, 303);
    assert.equal((await user(s, m.id)).enabled, 1);
    assert.equal((await announce(s, m.passkey, torrent)).failure, null, 'tracker accepts again');
    assert.equal((await lastAudit(s)).action, 'user.unban');

    const up = await staff.post(`/staff/users/${admin.id}/ban`, { reason: 'mutiny', days: '1' });
    assert.equal(up.status, 403, 'a supermod cannot ban an administrator');
    const self = await staff.post(`/staff/users/${smod.id}/ban`, { reason: 'oops', days: '1' });
    assert.equal(self.status, 403, 'nor themself');
    const modBrowser = await loggedIn(s, mod);
    await modBrowser.get(`/staff/users/${m.id}`);
    assert.equal((await modBrowser.post(`/staff/users/${m.id}/ban`, { reason: 'x', days: '1' })).status, 403, 'moderators may not ban by default');
    assert.equal((await user(s, admin.id)).enabled, 1);
  });

  it('warns a member: listed on the staff view and on their account, with errors kept in the form, and expires', async () => {
    const m = await s.member('warned');
    const staff = await loggedIn(s, mod);
    const bad = await submit(staff, `/staff/users/${m.id}`, `/staff/users/${m.id}/warn`, { reason: '', days: '14' });
    assert.equal(bad.status, 400, 'a warning needs a reason');
    assert.match(bad.text, /id="warn-reason-error"/);
    assert.match(bad.text, /<option value="14" selected>/, 'the chosen duration is kept');
    const odd = await staff.post(`/staff/users/${m.id}/warn`, { reason: 'Keep this text', days: '5' });
    assert.equal(odd.status, 400, 'a duration not offered');
    assert.match(odd.text, />Keep this text<\/textarea>/, 'the typed reason is kept');

    const ok = await staff.post(`/staff/users/${m.id}/warn`, { reason: 'Rude in the comments', days: '7' });
    assert.equal(ok.status, 303);
    const view = await staff.get(`/staff/users/${m.id}`);
    assert.match(view.text, /Warnings \(1 active\)/);
    assert.match(view.text, /Rude in the comments/);

    const own = await loggedIn(s, m);
    const notes = await own.get('/notifications');
    assert.match(notes.text, /<a href="\/account#warnings">You received a warning from the staff: Rude in the comments<\/a>/, 'notified, with a link');
    let account = await own.get('/account');
    assert.match(account.text, /You have 1 active warnings\./);
    assert.match(account.text, /Rude in the comments/);
    // A week later (the expiry moved into the past), it no longer counts.
    await s.app.db().updateTable('user_warning').set({ expires_at: s.app.site().now() - 1 }).where('user_id', '=', m.id).execute();
    account = await own.get('/account');
    assert.match(account.text, /You have no active warning\./);
    assert.match(account.text, /class="badge state-expired">expired</);
    assert.match((await staff.get(`/staff/users/${m.id}`)).text, /Warnings \(0 active\)/);

    // Revoking.
    await staff.post(`/staff/users/${m.id}/warn`, { reason: 'Second one', days: '0' });
    const w = await s.app.db().selectFrom('user_warning').select('id').where('user_id', '=', m.id).where('reason', '=', 'Second one').executeTakeFirstOrThrow();
    await staff.get(`/staff/users/${m.id}`);
    assert.equal((await staff.post(`/staff/users/${m.id}/warnings/${w.id}/revoke`, {})).status, 303);
    assert.match((await own.get('/account')).text, /class="badge state-revoked">revoked</);
    // A member sees no staff view.
    assert.equal((await own.get(`/staff/users/${m.id}`)).status, 403);
  });

  it('grants upload credit: bytes added and an audit row written', async () => {
    const m = await s.member('helper');
    await s.app.db().updateTable('user').set({ uploaded: 1000 }).where('id', '=', m.id).execute();
    const staff = await loggedIn(s, smod);
    const bad = await submit(staff, `/staff/users/${m.id}`, `/staff/users/${m.id}/credit`, { amount: '-3', unit: 'GiB', reason: 'x' });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /id="credit-amount-error"/);
    const r = await staff.post(`/staff/users/${m.id}/credit`, { amount: '1,5', unit: 'GiB', reason: 'Go bonus: subtitles' });
    assert.equal(r.status, 303);
    assert.equal(Number((await user(s, m.id)).uploaded), 1000 + 1.5 * 2 ** 30);
    const a = await lastAudit(s);
    assert.equal(a.action, 'user.grant_credit');
    assert.equal(a.reason, 'Go bonus: subtitles');
    assert.deepEqual(JSON.parse(a.before!), { uploaded: 1000 });
    assert.equal(JSON.parse(a.after!).uploaded, 1000 + 1.5 * 2 ** 30);
    assert.match((await staff.get(`/staff/users/${m.id}`)).text, /Go bonus: subtitles/);
    assert.match((await (await loggedIn(s, m)).get('/notifications')).text, /The staff credited 1\.5 GiB to your upload: Go bonus: subtitles/);
    const modBrowser = await loggedIn(s, mod);
    await modBrowser.get(`/staff/users/${m.id}`);
    assert.equal((await modBrowser.post(`/staff/users/${m.id}/credit`, { amount: '1', unit: 'TiB', reason: 'me' })).status, 403, 'moderators may not grant credit');
  });

  it('edits a member’s title, invitations and freeleech tokens (user.edit), with errors kept and an audit row', async () => {
    const m = await s.member('edited');
    const staff = await loggedIn(s, smod);
    const page = await staff.get(`/staff/users/${m.id}`);
    assert.match(page.text, /action="\/staff\/users\/\d+\/account"/);
    const bad = await submit(staff, `/staff/users/${m.id}`, `/staff/users/${m.id}/account`, { title: 'Seeder of the month', invites: '5000', tokens: 'x' });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /id="account-invites-error"/);
    assert.match(bad.text, /value="Seeder of the month"/, 'the typed title is kept');
    const r = await staff.post(`/staff/users/${m.id}/account`, { title: 'Seeder of the month', invites: '3', tokens: '2', reason: 'Contest winner' });
    assert.equal(r.status, 303);
    const u = await user(s, m.id);
    assert.deepEqual([u.title, u.invites_left, u.freeleech_tokens], ['Seeder of the month', 3, 2]);
    const a = await lastAudit(s);
    assert.equal(a.action, 'user.edit');
    assert.equal(a.reason, 'Contest winner');
    assert.deepEqual(JSON.parse(a.before!), { title: null, invites_left: 0, freeleech_tokens: 0 });
    assert.deepEqual(JSON.parse(a.after!), { title: 'Seeder of the month', invites_left: 3, freeleech_tokens: 2 });
    const modBrowser = await loggedIn(s, mod);
    const seen = await modBrowser.get(`/staff/users/${m.id}`);
    assert.ok(!seen.text.includes(`/staff/users/${m.id}/account`), 'no form for moderators');
    assert.equal((await modBrowser.post(`/staff/users/${m.id}/account`, { title: '', invites: '0', tokens: '0' })).status, 403, 'moderators may not edit accounts');
  });

  it('refuses every request from a banned address or range, login included', async () => {
    const staff = await loggedIn(s, smod);
    const from = (ip: string) => ({ 'x-forwarded-for': ip });
    const bad = await submit(staff, '/staff/ip-bans', '/staff/ip-bans', { cidr: '203.0.113.0/33', reason: 'x', days: '30' });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /This is not an IP address or a CIDR range\./);
    assert.match(bad.text, /value="203\.0\.113\.0\/33"/, 'typed value kept');
    const r = await staff.post('/staff/ip-bans', { cidr: '203.0.113.77/24', reason: 'Spam network', days: '30' });
    assert.equal(r.status, 303);
    await staff.post('/staff/ip-bans', { cidr: '2001:db8::/32', reason: 'v6', days: '0' });
    assert.match((await staff.get('/staff/ip-bans')).text, /<code>203\.0\.113\.0\/24<\/code>/, 'stored canonical');

    const visitor = s.browser();
    const blocked = await visitor.request('GET', '/', { headers: from('203.0.113.9') });
    assert.equal(blocked.status, 403);
    assert.match(blocked.text, /Access from your network address is refused\./);
    assert.equal((await visitor.request('GET', '/login', { headers: from('203.0.113.200') })).status, 403, 'login page');
    const m = await s.member('traveller');
    const login = await visitor.request('POST', '/login', { headers: { ...from('203.0.113.5'), 'content-type': 'application/x-www-form-urlencoded' }, body: `username=traveller&password=${encodeURIComponent(m.password)}` });
    assert.equal(login.status, 403, 'login refused');
    assert.equal((await visitor.request('POST', '/register', { headers: { ...from('203.0.113.5'), 'content-type': 'application/x-www-form-urlencoded' }, body: 'username=x' })).status, 403, 'registration refused');
    assert.equal((await visitor.request('GET', '/', { headers: from('2001:db8:5::1') })).status, 403, 'IPv6 range');
    assert.equal((await visitor.request('GET', '/', { headers: from('198.51.100.1') })).status, 200, 'another address passes');
    assert.equal((await visitor.request('GET', '/static/site.css', { headers: from('203.0.113.9') })).status, 200, 'assets of the refusal page stay reachable');

    // Staff cannot ban their own address.
    const own = await staff.request('POST', '/staff/ip-bans', { headers: { ...from('192.0.2.44'), 'content-type': 'application/x-www-form-urlencoded' }, body: `_csrf=${encodeURIComponent(staff.csrf)}&cidr=192.0.2.0/24&reason=oops&days=1` });
    assert.equal(own.status, 400);
    assert.match(own.text, /This would ban your own address\./);

    // Expiry and removal.
    const ban = await s.app.db().selectFrom('ip_ban').select('id').where('cidr', '=', '203.0.113.0/24').executeTakeFirstOrThrow();
    await s.app.db().updateTable('ip_ban').set({ expires_at: s.app.site().now() - 1 }).where('id', '=', ban.id).execute();
    invalidateIpBans(s.app.db());
    assert.equal((await visitor.request('GET', '/', { headers: from('203.0.113.9') })).status, 200, 'an expired ban no longer applies');
    const v6 = await s.app.db().selectFrom('ip_ban').select('id').where('cidr', '=', '2001:db8::/32').executeTakeFirstOrThrow();
    await staff.get('/staff/ip-bans');
    assert.equal((await staff.post(`/staff/ip-bans/${v6.id}/delete`, {})).status, 303);
    assert.equal((await visitor.request('GET', '/', { headers: from('2001:db8:5::1') })).status, 200, 'removed at once');
    assert.equal((await lastAudit(s)).action, 'ip.unban');
    // A moderator has no access to IP bans.
    assert.equal((await (await loggedIn(s, mod)).get('/staff/ip-bans')).status, 403);
  });

  it('edits the permission grid, effective at once, and per-member overrides', async () => {
    const modBrowser = await loggedIn(s, mod);
    assert.equal((await modBrowser.get('/staff/ip-bans')).status, 403);
    const b = await loggedIn(s, admin);
    const grid = await b.get('/staff/permissions');
    assert.equal(grid.status, 200);
    // Every checked box, plus moderator:ip.ban.
    const checked = [...grid.text.matchAll(/name="grant" value="([^"]+)" checked>/g)].map((x) => x[1]!);
    assert.ok(checked.includes('moderator:user.warn'), 'current grants are checked');
    const r = await b.post('/staff/permissions', { grid: '1', grant: [...checked, 'moderator:ip.ban'] });
    assert.equal(r.status, 303);
    assert.equal((await modBrowser.get('/staff/ip-bans')).status, 200, 'the moderator may now ban IPs');
    assert.equal((await lastAudit(s)).action, 'permission.grid');
    // Without the marker nothing is cleared.
    assert.equal((await b.post('/staff/permissions', {})).status, 400);
    assert.equal((await modBrowser.get('/staff/ip-bans')).status, 200);
    // Back as it was.
    await b.get('/staff/permissions');
    await b.post('/staff/permissions', { grid: '1', grant: checked });
    assert.equal((await modBrowser.get('/staff/ip-bans')).status, 403);

    // A per-member override: revoke user.warn from this moderator only.
    const m = await s.member('someone');
    const page = await b.get(`/staff/permissions/users/${mod.id}`);
    assert.equal(page.status, 200);
    assert.equal((await b.post(`/staff/permissions/users/${mod.id}`, { 'p.user.warn': 'revoke' })).status, 303);
    await modBrowser.get(`/staff/users/${m.id}`);
    assert.equal((await modBrowser.post(`/staff/users/${m.id}/warn`, { reason: 'x', days: '7' })).status, 403, 'revoked for this moderator');
    assert.match((await b.get(`/staff/users/${mod.id}`)).text, /<code>user\.warn<\/code> revoked/);
    await b.get(`/staff/permissions/users/${mod.id}`);
    await b.post(`/staff/permissions/users/${mod.id}`, { 'p.user.warn': 'inherit' });
    assert.equal((await modBrowser.post(`/staff/users/${m.id}/warn`, { reason: 'x', days: '7' })).status, 303, 'back to the role');
    // Only those holding permission.manage.
    assert.equal((await (await loggedIn(s, smod)).get('/staff/permissions')).status, 403);
  });

  it('searches members and shows the staff view with inviter, invitees, login addresses and notes', async () => {
    const inviter = await s.member('godparent');
    const m = await s.member('godchild');
    await s.app.db().updateTable('user').set({ invited_by: inviter.id }).where('id', '=', m.id).execute();
    await s.app.db().insertInto('login_ip').values({ user_id: m.id, ip: '192.0.2.77', first_at: 1_700_000_000, last_at: 1_700_000_100, signup: 1 }).onConflict((oc) => oc.doNothing()).execute();
    const staff = await loggedIn(s, mod);
    const found = await staff.get('/staff/users?q=godc');
    assert.match(found.text, new RegExp(`<a href="/staff/users/${m.id}">godchild</a>`));
    assert.match((await staff.get('/staff/users?q=192.0.2.77')).text, /godchild/, 'by login address');
    assert.match((await staff.get('/staff/users?q=nobody-like-this')).text, /No member matches/);
    const view = await staff.get(`/staff/users/${m.id}`);
    assert.match(view.text, new RegExp(`<dt>Invited by</dt><dd><a href="/staff/users/${inviter.id}">godparent</a></dd>`));
    assert.match(view.text, /<code>192\.0\.2\.77<\/code>/);
    assert.match((await staff.get(`/staff/users/${inviter.id}`)).text, /<dt>Members they invited<\/dt><dd>1<\/dd>/);
    await staff.get(`/staff/users/${m.id}`);
    assert.equal((await staff.post(`/staff/users/${m.id}/note`, { text: '' })).status, 400);
    assert.equal((await staff.post(`/staff/users/${m.id}/note`, { text: 'Asked about <seeding>' })).status, 303);
    assert.match((await staff.get(`/staff/users/${m.id}`)).text, /Asked about &lt;seeding&gt;/, 'notes escaped');
    assert.equal((await staff.get('/staff/users/999999')).status, 404);
    // The profile links staff to the staff view.
    assert.match((await staff.get(`/u/${m.id}`)).text, new RegExp(`href="/staff/users/${m.id}"`));
    assert.doesNotMatch((await (await loggedIn(s, inviter)).get(`/u/${m.id}`)).text, /href="\/staff\/users\//);
  });

  it('searches the audit log and reports a tampered row', async () => {
    const b = await loggedIn(s, admin);
    const all = await b.get('/staff/audit');
    assert.equal(all.status, 200);
    assert.match(all.text, /<code>user\.ban<\/code>/);
    const bySam = await b.get('/staff/audit?actor=sa&action=user.');
    assert.ok(!bySam.text.includes('<code>permission.grid</code>'), 'filtered by action prefix');
    assert.match(bySam.text, /<code>user\.grant_credit<\/code>/);
    const byTarget = await b.get(`/staff/audit?target_type=user&target_id=${smod.id}`);
    assert.match(byTarget.text, /0 entries\./, 'nothing targeted the supermod');
    const badDate = await b.get('/staff/audit?from=2024-13-45');
    assert.match(badDate.text, /Enter a date as YYYY-MM-DD\./);
    const future = await b.get('/staff/audit?from=2999-01-01');
    assert.match(future.text, /0 entries\./);
    const today = new Date().toISOString().slice(0, 10);
    assert.doesNotMatch((await b.get(`/staff/audit?from=${today}&to=${today}`)).text, /<p>0 entries\.<\/p>/, 'today holds entries');

    await b.get('/staff/audit');
    let v = await b.post('/staff/audit/verify', {});
    assert.equal(v.status, 200);
    assert.match(v.text, /The chain is intact: \d+ entries checked\./);
    const row = await s.app.db().selectFrom('audit_log').select('id').where('action', '=', 'user.grant_credit').orderBy('id').limit(1).executeTakeFirstOrThrow();
    await sql`update audit_log set reason = ${'nothing happened'} where id = ${row.id}`.execute(s.app.db());
    v = await b.post('/staff/audit/verify', {});
    assert.match(v.text, new RegExp(`The chain is broken: entry #${row.id} was changed after it was written\\.`));
    assert.equal((await (await loggedIn(s, mod)).get('/staff/audit')).status, 403, 'moderators do not read the audit log');
    const visitor = await s.browser().get('/staff/audit', false);
    assert.equal(visitor.status, 303);
    assert.match(visitor.location ?? '', /^\/login\?next=%2Fstaff%2Faudit/);
  });

  it('shows /admin with the sections each role may use', async () => {
    const asAdmin = (await (await loggedIn(s, admin)).get('/admin')).text;
    for (const p of ['/staff/users', '/staff/ip-bans', '/staff/permissions', '/staff/audit', '/admin/categories']) assert.ok(asAdmin.includes(`href="${p}"`), `admin sees ${p}`);
    const asMod = (await (await loggedIn(s, mod)).get('/admin')).text;
    assert.ok(asMod.includes('href="/staff/users"'), 'moderator sees members');
    for (const p of ['/staff/ip-bans', '/staff/permissions', '/staff/audit', '/admin/categories']) assert.ok(!asMod.includes(`href="${p}"`), `moderator does not see ${p}`);
    const member = await s.member('plain');
    assert.equal((await (await loggedIn(s, member)).get('/admin')).status, 403);
    const visitor = await s.browser().get('/admin', false);
    assert.equal(visitor.status, 303);
  });

  it('renders the staff pages in French', async () => {
    const b = await loggedIn(s, admin);
    b.acceptLanguage = 'fr';
    await s.app.db().updateTable('user').set({ locale: 'fr' }).where('id', '=', admin.id).execute();
    assert.match((await b.get('/staff/audit')).text, /Journal d’audit/);
    assert.match((await b.get('/staff/ip-bans')).text, /Bannissements d’IP/);
    assert.match((await b.get(`/staff/users/${smod.id}`)).text, /vue de l’équipe/);
    await s.app.db().updateTable('user').set({ locale: null }).where('id', '=', admin.id).execute();
  });

  describe('in Chromium', { skip: chromiumUnavailable() ?? false }, () => {
    it('has no serious or critical accessibility violation on the staff pages, and their forms work without JavaScript', async () => {
      const m = await s.member('axed');
      await s.app.db().insertInto('login_ip').values({ user_id: m.id, ip: '192.0.2.99', first_at: 1_700_000_000, last_at: 1_700_000_000, signup: 1 }).onConflict((oc) => oc.doNothing()).execute();
      const browser = await launchChromium();
      try {
        const context = await browser.newContext();
        const token = await createSession(s.app.db(), admin.id, { persistent: false, ttl: 3600, ip: null, userAgent: null, now: Math.floor(Date.now() / 1000) });
        await context.addCookies([{ name: SESSION_COOKIE, value: token, url: s.base }]);
        const tab = await context.newPage();
        // The warn form, submitted by a click (no JavaScript needed).
        await tab.goto(`${s.base}/staff/users/${m.id}`);
        await tab.fill('#warn-reason', 'Checked by a browser');
        await tab.click('form[action$="/warn"] button');
        assert.ok((await tab.textContent('main'))?.includes('The member was warned.'), 'flash after the warning');
        for (const path of ['/admin', '/staff/users?q=a', `/staff/users/${m.id}`, '/staff/ip-bans?all=1', '/staff/permissions', `/staff/permissions/users/${m.id}`, '/staff/audit', `/staff/audit?actor=root&action=user.`]) {
          const res = await tab.goto(s.base + path);
          assert.equal(res?.status(), 200, path);
          const v = await seriousA11yViolations(tab);
          assert.deepEqual(v, [], `${path}: ${JSON.stringify(v)}`);
        }
        await tab.click('form[action="/staff/audit/verify"] button');
        assert.ok((await tab.textContent('main'))?.includes('The chain is'), 'verification result shown');
        assert.deepEqual(await seriousA11yViolations(tab), [], 'after verification');
        // The member's own /account with a warning.
        const own = await browser.newContext();
        const t2 = await createSession(s.app.db(), m.id, { persistent: false, ttl: 3600, ip: null, userAgent: null, now: Math.floor(Date.now() / 1000) });
        await own.addCookies([{ name: SESSION_COOKIE, value: t2, url: s.base }]);
        const mine = await own.newPage();
        await mine.goto(`${s.base}/account`);
        assert.ok((await mine.textContent('main'))?.includes('Checked by a browser'), 'own warning shown');
        assert.deepEqual(await seriousA11yViolations(mine), [], '/account');
      } finally {
        await browser.close();
      }
    });
  });
});

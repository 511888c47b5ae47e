/**
 * The joining rules against every database dialect: modes and windows, the cap of accounts per
 * IP, refused domains, invitations (use, expiry, revocation, tree, monthly quotas), applications,
 * email verification, the class ladder job, and the captcha's tokens.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Kysely } from 'kysely';
import { loadConfig } from '../../config/index.js';
import type { Database } from '../../db/schema.js';
import { forEachDialect, type TestDatabase } from '../../db/test-databases.js';
import { createUser, DuplicateUserError, findUserById } from '../../db/user.repository.js';
import { ManualClock } from '../../shared/clock.js';
import { createAuthToken } from '../accounts/tokens.js';
import { listNotifications } from '../notifications.js';
import { MemoryRateLimiter } from '../rate-limit.js';
import type { Site } from '../site.js';
import { verifyAuditChain } from '../staff/audit.js';
import { decideApplication, pendingApplicationClaims, submitApplication } from './applications.js';
import { captchaFailure, captchaRequired, checkChallenge, newChallenge, answerOf } from './captcha.js';
import { classFor, DEFAULT_CLASSES, installDefaultClasses, listClasses, runClassLadder } from './classes.js';
import { addRefusedDomain, normaliseDomain, refusedDomainOf, removeRefusedDomain } from './domains.js';
import { consumeInvite, createInvite, findInviteByCode, inviteTree, refillMonthlyInvites, revokeInvite } from './invites.js';
import { accountsFromIp, ipCapReached, pruneLoginIps, recordLoginIp } from './ips.js';
import { runJoiningJobs } from './jobs.js';
import { createJoinedMember, InviteTakenError, registrationRefusal, registrationStatus } from './rules.js';
import { loadJoiningSettings, saveJoiningSettings } from './settings.js';
import { mustVerifyEmail, verificationLink, verifyEmailToken } from './verify.js';

const DAY = 86400;
const GiB = 1024 ** 3;

function fakeSite(db: Kysely<Database>, clock: ManualClock, joining: Record<string, unknown> = {}): Site {
  const config = loadConfig({ env: {}, overrides: { joining: { ip_cap_exempt: [], ...joining } } as never });
  return {
    db,
    config,
    clock,
    log: undefined as never,
    mailer: { send: async () => {} },
    tracker: { torrentChanged: async () => {}, userChanged: async () => {}, swarmCounts: () => null },
    limiter: new MemoryRateLimiter(),
    secret: Buffer.alloc(32, 7),
    publicUrl: 'https://essaim.test',
    announceUrls: () => ({ http: '', udp: null }),
    now: () => Math.floor(clock.nowMs() / 1000),
  };
}

describe('joining: captcha tokens', () => {
  const clock = new ManualClock(Date.parse('2025-07-05T12:00:00Z'));
  const site = fakeSite(undefined as never, clock, { captcha_after: 3 });

  it('accepts the right answer once, refuses a wrong one, a reused, an expired or a forged token', () => {
    const now = site.now();
    const c = newChallenge(site.secret, now, 600);
    assert.ok(!c.token.includes(String(answerOf(c.a, c.op, c.b)) + '.'), 'the answer is not in the token');
    assert.equal(checkChallenge(site, c.token, String(answerOf(c.a, c.op, c.b)), now), 'ok');
    assert.equal(checkChallenge(site, c.token, String(answerOf(c.a, c.op, c.b)), now), 'used', 'single use');
    const d = newChallenge(site.secret, now, 600);
    assert.equal(checkChallenge(site, d.token, String(answerOf(d.a, d.op, d.b) + 1), now), 'wrong');
    assert.equal(checkChallenge(site, d.token, String(answerOf(d.a, d.op, d.b)), now), 'used', 'a wrong try uses the token up');
    const e = newChallenge(site.secret, now, 600);
    assert.equal(checkChallenge(site, e.token, String(answerOf(e.a, e.op, e.b)), now + 601), 'expired');
    const f = newChallenge(Buffer.alloc(32, 9), now, 600);
    assert.equal(checkChallenge(site, f.token, String(answerOf(f.a, f.op, f.b)), now), 'wrong', 'signed with another secret');
    assert.equal(checkChallenge(site, 'garbage', '1', now), 'invalid');
    const g = newChallenge(site.secret, now, 600);
    assert.equal(checkChallenge(site, g.token, 'twelve', now), 'wrong');
  });

  it('is required after K failures of an IP or an account', () => {
    const keys = ['captcha:ip:192.0.2.1', 'captcha:user:1'];
    assert.equal(captchaRequired(site, keys), false);
    captchaFailure(site, keys);
    captchaFailure(site, keys);
    assert.equal(captchaRequired(site, keys), false, 'two failures');
    captchaFailure(site, ['captcha:ip:192.0.2.1']);
    assert.equal(captchaRequired(site, ['captcha:ip:192.0.2.1']), true, 'three from this IP');
    assert.equal(captchaRequired(site, ['captcha:ip:192.0.2.2', 'captcha:user:1']), false, 'the account has two');
  });
});

forEachDialect((name, open) => {
  describe(`joining rules (${name})`, () => {
    let t: TestDatabase;
    let db: Kysely<Database>;
    const clock = new ManualClock(Date.parse('2025-07-05T12:00:00Z'));
    let site: Site;
    let seq = 0;
    before(async () => {
      t = await open();
      db = t.db;
      site = fakeSite(db, clock);
      await installDefaultClasses(db);
    });
    after(() => t.close());

    const now = () => site.now();
    const mk = async (o: { role?: 'member' | 'moderator' | 'admin'; created?: number } = {}) => {
      const username = `u${++seq}`;
      const u = await createUser(db, { username, email: `${username}@example.test`, role: o.role ?? 'member', now: o.created ?? now() });
      return (await findUserById(db, u.id))!;
    };

    it('seeds the class ladder once', async () => {
      assert.equal(await installDefaultClasses(db), false, 'already there');
      const ladder = await listClasses(db);
      assert.deepEqual(ladder.map((c) => c.id), ['new', 'member', 'power', 'elite']);
      assert.equal(ladder[3]!.hnr_immune, 1);
    });

    it('refuses or accepts sign-ups according to the mode', async () => {
      const ip = '198.51.100.1';
      assert.equal((await loadJoiningSettings(db)).mode, 'open', 'open by default');
      assert.equal(await registrationRefusal(site, { ip, now: now() }), null);
      await saveJoiningSettings(db, { mode: 'invite', windows: [], questions: [] }, now());
      assert.equal(await registrationRefusal(site, { ip, now: now() }), 'invite_required');
      assert.equal(await registrationRefusal(site, { ip, now: now(), invite: 'invalid' }), 'invite_invalid');
      const inviter = await mk();
      const inv = await createInvite(db, { inviterId: inviter.id, email: null, ttl: DAY, now: now(), unlimited: true });
      const row = await findInviteByCode(db, inv!.code, now());
      assert.ok(row, 'the invitation is found by its code');
      assert.equal(await registrationRefusal(site, { ip, now: now(), invite: row }), null, 'an invitation opens the door');
      await saveJoiningSettings(db, { mode: 'application', windows: [], questions: ['Why?'] }, now());
      assert.equal(await registrationRefusal(site, { ip, now: now() }), 'application');
      assert.equal((await registrationStatus(db, now())).acceptsApplications, true);
      await saveJoiningSettings(db, { mode: 'closed', windows: [], questions: [] }, now());
      assert.equal(await registrationRefusal(site, { ip, now: now() }), 'closed');
      assert.equal(await registrationRefusal(site, { ip, now: now(), invite: row }), 'closed', 'closed means closed');
      await saveJoiningSettings(db, { mode: 'open', windows: [], questions: [] }, now());
    });

    it('opens for everyone during a window, up to its cap, and says when the next one starts', async () => {
      const ip = '198.51.100.2';
      // Saturday 5 July 2025, 12:00 UTC (14:00 in Paris); the window is 18:00 to 20:00 Paris time.
      clock.set(Date.parse('2025-07-05T12:00:00Z'));
      await saveJoiningSettings(db, { mode: 'closed', windows: [{ day: 6, start: '18:00', end: '20:00', zone: 'Europe/Paris', cap: 2 }], questions: [] }, now());
      let s = await registrationStatus(db, now());
      assert.equal(s.openToAll, false);
      assert.equal(s.next?.start, Date.parse('2025-07-05T16:00:00Z') / 1000, 'opens at 18:00 Paris time');
      assert.equal(await registrationRefusal(site, { ip, now: now() }), 'closed');
      clock.set(Date.parse('2025-07-05T16:00:00Z'));
      s = await registrationStatus(db, now());
      assert.equal(s.openToAll, true, 'open at 18:00');
      assert.equal(s.windowLeft, 2);
      assert.equal(await registrationRefusal(site, { ip, now: now() }), null);
      await mk();
      await mk();
      s = await registrationStatus(db, now());
      assert.equal(s.windowLeft, 0, 'two sign-ups used the window');
      assert.equal(await registrationRefusal(site, { ip, now: now() }), 'window_full');
      clock.set(Date.parse('2025-07-05T18:00:00Z'));
      assert.equal(await registrationRefusal(site, { ip, now: now() }), 'closed', 'closed again at 20:00');
      assert.equal((await registrationStatus(db, now())).next?.start, Date.parse('2025-07-12T16:00:00Z') / 1000, 'next Saturday');
      await saveJoiningSettings(db, { mode: 'open', windows: [], questions: [] }, now());
    });

    it('caps accounts per IP address, and forgets addresses after the retention', async () => {
      const ip = '203.0.113.9';
      assert.equal(await ipCapReached(site, ip), false);
      const a = await mk();
      const b = await mk();
      await recordLoginIp(db, a.id, ip, now(), true);
      assert.equal(await ipCapReached(site, ip), false, 'one account');
      await recordLoginIp(db, b.id, `::ffff:${ip}`, now());
      await recordLoginIp(db, b.id, ip, now() + 10);
      assert.equal(await accountsFromIp(db, ip), 2, 'the mapped form is the same address; one row per account');
      assert.equal(await ipCapReached(site, ip), true, 'two accounts: the cap (2) is reached');
      assert.equal(await registrationRefusal(site, { ip, now: now() }), 'ip_cap');
      const row = await db.selectFrom('login_ip').selectAll().where('user_id', '=', a.id).executeTakeFirstOrThrow();
      assert.equal(row.signup, 1);
      const exempt = fakeSite(db, clock, { ip_cap_exempt: [ip] });
      assert.equal(await ipCapReached(exempt, ip), false, 'an exempt address');
      const uncapped = fakeSite(db, clock, { accounts_per_ip: 0 });
      assert.equal(await ipCapReached(uncapped, ip), false, '0: no cap');
      // A pending application from a third address counts too.
      const ip2 = '203.0.113.10';
      await recordLoginIp(db, a.id, ip2, now());
      await submitApplication(db, { username: 'applicantip', email: 'applicantip@example.test', passwordHash: 'x', answers: [], ip: ip2, now: now() });
      assert.equal(await ipCapReached(site, ip2), true, 'an account and a pending application');
      await db.deleteFrom('application').where('username', '=', 'applicantip').execute();
      // Retention: rows not used for `days` days go.
      const rows = (await db.selectFrom('login_ip').select('user_id').execute()).length;
      assert.equal(await pruneLoginIps(db, now() + 29 * DAY, 30), 0, 'kept within the retention');
      assert.equal(await pruneLoginIps(db, now() + 31 * DAY, 30), rows, 'all older than 30 days');
      assert.equal(await accountsFromIp(db, ip), 0);
    });

    it('refuses email domains, subdomains included', async () => {
      assert.equal(normaliseDomain(' @Spam.Example '), 'spam.example');
      assert.equal(normaliseDomain('*.spam.example.'), 'spam.example');
      assert.equal(normaliseDomain('not a domain'), null);
      assert.equal(normaliseDomain('bücher.example'), 'xn--bcher-kva.example');
      assert.equal(await addRefusedDomain(db, 'spam.example', now()), true);
      assert.equal(await addRefusedDomain(db, 'spam.example', now()), false, 'once');
      assert.equal(await refusedDomainOf(db, 'someone@spam.example'), 'spam.example');
      assert.equal(await refusedDomainOf(db, 'someone@MAIL.Spam.example'), 'spam.example');
      assert.equal(await refusedDomainOf(db, 'someone@notspam.example'), null);
      assert.equal(await removeRefusedDomain(db, 'spam.example'), true);
      assert.equal(await refusedDomainOf(db, 'someone@spam.example'), null);
    });

    it('invitations: quota, use, expiry, revocation with refund, tree', async () => {
      const inviter = await mk();
      assert.equal(await createInvite(db, { inviterId: inviter.id, email: null, ttl: DAY, now: now() }), null, 'no invitations left');
      await db.updateTable('user').set({ invites_left: 2 }).where('id', '=', inviter.id).execute();
      const a = await createInvite(db, { inviterId: inviter.id, email: 'friend@example.test', ttl: DAY, now: now() });
      const b = await createInvite(db, { inviterId: inviter.id, email: null, ttl: DAY, now: now() });
      assert.ok(a && b, 'two invitations');
      assert.equal((await findUserById(db, inviter.id))!.invites_left, 0);
      const stored = await db.selectFrom('invite').selectAll().where('id', '=', a.id).executeTakeFirstOrThrow();
      assert.notEqual(stored.code_hash, a.code, 'stored hashed');
      // Use.
      const inv = await findInviteByCode(db, a.code, now());
      assert.ok(inv, 'usable');
      const id = await createJoinedMember(site, { username: `inv${++seq}`, email: `inv${seq}@example.test`, passwordHash: 'h', ip: '192.0.2.50', invite: inv, now: now() });
      const invitee = (await findUserById(db, id))!;
      assert.equal(invitee.invited_by, inviter.id);
      assert.equal(invitee.class, 'new', 'the entry class');
      assert.equal(invitee.email_verified, 0, 'to be verified');
      assert.equal(await findInviteByCode(db, a.code, now()), null, 'used up');
      await assert.rejects(
        createJoinedMember(site, { username: `inv${++seq}`, email: `inv${seq}@example.test`, passwordHash: 'h', ip: null, invite: inv, now: now() }),
        (e: unknown) => e instanceof InviteTakenError,
      );
      assert.equal(await db.selectFrom('user').select('id').where('username', '=', `inv${seq}`).executeTakeFirst(), undefined, 'nothing created with a used invitation');
      // Expiry.
      assert.equal(await findInviteByCode(db, b.code, now() + DAY), null, 'expired');
      assert.equal(await consumeInvite(db, b.id, id, now() + DAY), false);
      // Revocation gives the invitation back; a used one cannot be revoked; another member's neither.
      assert.equal(await revokeInvite(db, b.id, { inviterId: invitee.id, now: now() }), null, 'not theirs');
      assert.ok(await revokeInvite(db, b.id, { inviterId: inviter.id, now: now() }), 'revoked');
      assert.equal(await findInviteByCode(db, b.code, now()), null, 'no longer usable');
      assert.equal((await findUserById(db, inviter.id))!.invites_left, 1, 'given back');
      assert.equal(await revokeInvite(db, a.id, { inviterId: inviter.id, now: now() }), null, 'a used invitation stays used');
      // The tree: inviter -> invitee -> grandchild.
      const c = await createInvite(db, { inviterId: invitee.id, email: null, ttl: DAY, now: now(), unlimited: true });
      const grand = await createJoinedMember(site, { username: `inv${++seq}`, email: `inv${seq}@example.test`, passwordHash: 'h', ip: null, invite: await findInviteByCode(db, c!.code, now()), now: now() });
      const tree = await inviteTree(db);
      const root = tree.roots.find((r) => r.id === inviter.id);
      assert.ok(root, 'the inviter is a root');
      assert.deepEqual(root.children.map((x) => x.id), [invitee.id]);
      assert.deepEqual(root.children[0]!.children.map((x) => x.id), [grand]);
      const sub = await inviteTree(db, { rootId: invitee.id });
      assert.deepEqual(sub.roots.map((r) => r.id), [invitee.id], 'a subtree');
    });

    it('refills invitations to the class quota once a month', async () => {
      const m = await mk();
      await db.updateTable('user').set({ class: 'elite', invites_left: 0 }).where('id', '=', m.id).execute();
      clock.set(Date.parse('2025-08-01T00:10:00Z'));
      assert.equal(await refillMonthlyInvites(db, now()), true);
      assert.equal((await findUserById(db, m.id))!.invites_left, 3, 'elite: 3 a month');
      await db.updateTable('user').set({ invites_left: 1 }).where('id', '=', m.id).execute();
      assert.equal(await refillMonthlyInvites(db, now() + DAY), false, 'once a month');
      assert.equal((await findUserById(db, m.id))!.invites_left, 1);
      clock.set(Date.parse('2025-07-05T12:00:00Z'));
    });

    it('applications: pending claims, accept creates the account, reject keeps the note, both audited', async () => {
      const reviewer = await mk({ role: 'moderator' });
      const id = await submitApplication(db, { username: 'Applicant', email: 'applicant@example.test', passwordHash: 'scrypt$x', answers: [{ question: 'Why?', answer: 'Because.' }], ip: '192.0.2.77', now: now() });
      assert.deepEqual(await pendingApplicationClaims(db, 'APPLICANT', 'other@example.test'), { username: true, email: false });
      const ok = await decideApplication(site, id, { reviewer, accept: true, note: 'welcome' });
      assert.ok(ok.ok && ok.userId, 'accepted');
      const u = (await findUserById(db, ok.userId))!;
      assert.equal(u.username, 'Applicant');
      assert.equal(u.password_hash, 'scrypt$x', 'the password chosen when applying');
      assert.equal(u.class, 'new');
      assert.equal(await accountsFromIp(db, '192.0.2.77'), 1, 'the application IP is recorded');
      assert.deepEqual(await decideApplication(site, id, { reviewer, accept: false, note: null }), { ok: false, reason: 'not_pending' }, 'decided once');
      const id2 = await submitApplication(db, { username: 'Applicant2', email: 'applicant2@example.test', passwordHash: 'h', answers: [], ip: null, now: now() });
      const no = await decideApplication(site, id2, { reviewer, accept: false, note: 'not now' });
      assert.ok(no.ok && no.userId === null, 'rejected');
      const row = await db.selectFrom('application').selectAll().where('id', '=', id2).executeTakeFirstOrThrow();
      assert.equal(row.status, 'rejected');
      assert.equal(row.review_note, 'not now');
      assert.equal(row.reviewer_id, reviewer.id);
      // A username taken since the application: nothing changes.
      const id3 = await submitApplication(db, { username: 'Applicant', email: 'applicant3@example.test', passwordHash: 'h', answers: [], ip: null, now: now() });
      await assert.rejects(decideApplication(site, id3, { reviewer, accept: true, note: null }), (e: unknown) => e instanceof DuplicateUserError);
      assert.equal((await db.selectFrom('application').select('status').where('id', '=', id3).executeTakeFirstOrThrow()).status, 'pending', 'rolled back');
      const actions = await db.selectFrom('audit_log').select('action').where('target_type', '=', 'application').orderBy('id').execute();
      assert.deepEqual(actions.map((a) => a.action), ['application.accept', 'application.reject']);
      assert.equal(await verifyAuditChain(db), null);
    });

    it('email verification: the link verifies the current address once; operators create verified accounts', async () => {
      const op = await mk();
      assert.equal(op.email_verified, 1, 'made by an operator: verified');
      assert.equal(mustVerifyEmail(site, op), false);
      const id = await createJoinedMember(site, { username: `ver${++seq}`, email: `ver${seq}@example.test`, passwordHash: 'h', ip: null, now: now() });
      const u = (await findUserById(db, id))!;
      assert.equal(mustVerifyEmail(site, u), true, 'a sign-up must verify');
      const link = await verificationLink(site, u);
      assert.match(link ?? '', /^https:\/\/essaim\.test\/verify-email\/[0-9a-f]{32}$/);
      const token = link!.split('/').pop()!;
      assert.deepEqual(await verifyEmailToken(db, token, now()), { ok: true, userId: id });
      assert.equal((await findUserById(db, id))!.email_verified, 1);
      assert.deepEqual(await verifyEmailToken(db, token, now()), { ok: false }, 'once');
      // A token for an address the member no longer has does nothing.
      const id2 = await createJoinedMember(site, { username: `ver${++seq}`, email: `ver${seq}@example.test`, passwordHash: 'h', ip: null, now: now() });
      const stale = await createAuthToken(db, { purpose: 'email_verify', userId: id2, data: 'old@example.test', ttl: 3600, now: now() });
      assert.deepEqual(await verifyEmailToken(db, stale, now()), { ok: false });
      assert.equal((await findUserById(db, id2))!.email_verified, 0);
      // Expired.
      const u2 = (await findUserById(db, id2))!;
      const late = (await verificationLink(site, u2))!.split('/').pop()!;
      assert.deepEqual(await verifyEmailToken(db, late, now() + site.config.joining.verify_ttl), { ok: false }, 'expired');
      // Verification off: nobody must verify.
      assert.equal(mustVerifyEmail(fakeSite(db, clock, { verify_email: false }), u2), false);
    });

    it('the class job promotes and demotes members, notifies them, and leaves staff alone', async () => {
      const ladder = await listClasses(db);
      const t0 = now();
      assert.equal(classFor(ladder, { uploaded: 0, downloaded: 0, created_at: t0 }, t0)!.id, 'new');
      assert.equal(classFor(ladder, { uploaded: 0, downloaded: 0, created_at: t0 - 8 * DAY }, t0)!.id, 'member');
      assert.equal(classFor(ladder, { uploaded: 30 * GiB, downloaded: 10 * GiB, created_at: t0 - 30 * DAY }, t0)!.id, 'power');
      assert.equal(classFor(ladder, { uploaded: 30 * GiB, downloaded: 29 * GiB, created_at: t0 - 30 * DAY }, t0)!.id, 'member', 'ratio under 1.05');
      // Start from a clean slate: every existing member in their class already.
      await runClassLadder(db, t0);
      const rising = await mk({ created: t0 - 40 * DAY });
      await db.updateTable('user').set({ class: 'member', uploaded: 40 * GiB, downloaded: 10 * GiB }).where('id', '=', rising.id).execute();
      const falling = await mk({ created: t0 - 40 * DAY });
      await db.updateTable('user').set({ class: 'power', uploaded: 30 * GiB, downloaded: 40 * GiB }).where('id', '=', falling.id).execute();
      const staff = await mk({ role: 'moderator', created: t0 });
      await db.updateTable('user').set({ class: 'elite' }).where('id', '=', staff.id).execute();
      const fresh = await mk({ created: t0 });
      const r = await runJoiningJobs({ ...site, config: { ...site.config, site: { ...site.config.site, default_locale: 'fr' } } });
      const byUser = new Map(r.changes.map((c) => [c.userId, c]));
      assert.deepEqual(byUser.get(rising.id), { userId: rising.id, from: 'member', to: 'power', promoted: true });
      assert.deepEqual(byUser.get(falling.id), { userId: falling.id, from: 'power', to: 'member', promoted: false });
      assert.equal(byUser.has(staff.id), false, 'staff untouched');
      assert.equal(byUser.get(fresh.id)?.to, 'new', 'a brand-new member moves to the entry class');
      assert.equal((await findUserById(db, staff.id))!.class, 'elite');
      assert.equal((await findUserById(db, staff.id))!.role, 'moderator');
      assert.equal((await findUserById(db, rising.id))!.role, 'member', 'roles never change');
      const n = await listNotifications(db, rising.id);
      assert.equal(n[0]?.kind, 'joining.class_promoted');
      assert.equal(n[0]?.data.to, DEFAULT_CLASSES[2]!.name_fr, 'named in the default language');
      assert.equal((await listNotifications(db, falling.id))[0]?.kind, 'joining.class_demoted');
      // A second run changes nothing.
      assert.deepEqual((await runJoiningJobs(site)).changes, []);
    });
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { forEachDialect, type TestDatabase } from '../../db/test-databases.js';
import { createUser } from '../../db/user.repository.js';
import type { User, UserRole } from '../../db/schema.js';
import { verifyAuditChain } from '../staff/audit.js';
import { can, installDefaultGrants } from '../staff/policy.js';
import { searchAudit } from './audit-search.js';
import { CreditError, grantCredit, listCredits } from './credit.js';
import { addIpBan, checkCidr, invalidateIpBans, isIpBanned, listIpBans, removeIpBan } from './ip-bans.js';
import { addNote, searchMembers, staffView } from './members.js';
import { readGrid, readOverrides, saveGrid, saveOverrides } from './permissions.js';
import { activeBan, activeWarningCount, banMember, liftBan, liftExpiredBans, listWarnings, revokeWarning, warnMember, warningState } from './warnings.js';

const T0 = 1_700_000_000;
const DAY = 86400;

forEachDialect((name, open) => {
  describe(`discipline (${name})`, () => {
    let t: TestDatabase;
    let changed: number[];
    const deps = () => ({ db: t.db, tracker: { userChanged: async (id: number) => void changed.push(id) } });
    const mk = async (username: string, role: UserRole = 'member'): Promise<User> => {
      const u = await createUser(t.db, { username, email: `${username}@example.test`, role, now: T0 });
      return t.db.selectFrom('user').selectAll().where('id', '=', u.id).executeTakeFirstOrThrow();
    };
    const reload = (id: number) => t.db.selectFrom('user').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    let admin: User;
    let smod: User;

    before(async () => {
      t = await open();
      await installDefaultGrants(t.db);
      admin = await mk('root', 'admin');
      smod = await mk('smod', 'supermod');
    });
    after(() => t.close());

    it('warns, lists, expires and revokes warnings', async () => {
      const m = await mk('warned');
      const w1 = await warnMember(t.db, smod, m, { reason: 'rude in comments', expiresAt: T0 + 7 * DAY }, T0);
      const w2 = await warnMember(t.db, smod, m, { reason: 'second time', expiresAt: null }, T0 + 1);
      assert.equal(await activeWarningCount(t.db, m.id, T0 + 2), 2);
      assert.equal(await activeWarningCount(t.db, m.id, T0 + 7 * DAY), 1, 'the first expired');
      const list = await listWarnings(t.db, m.id);
      assert.deepEqual(list.map((w) => w.id), [w2, w1], 'newest first');
      assert.equal(warningState(list[1]!, T0 + 7 * DAY), 'expired');
      assert.equal(await revokeWarning(t.db, smod, w2, T0 + 10), true);
      assert.equal(await revokeWarning(t.db, smod, w2, T0 + 11), false, 'already revoked');
      assert.equal(await activeWarningCount(t.db, m.id, T0 + 12), 1);
      const notes = await t.db.selectFrom('notification').select('kind').where('user_id', '=', m.id).orderBy('id').execute();
      assert.deepEqual(notes.map((n) => n.kind), ['discipline.warned', 'discipline.warned', 'discipline.warning_revoked']);
      const actions = await t.db.selectFrom('audit_log').select('action').where('target_id', '=', m.id).where('target_type', '=', 'user').orderBy('id').execute();
      assert.deepEqual(actions.map((a) => a.action), ['user.warn', 'user.warn', 'user.warning_revoke']);
    });

    it('bans (account disabled, sessions ended, tracker told) and lifts at expiry', async () => {
      changed = [];
      const m = await mk('banned');
      await t.db.insertInto('session').values({ id: 'x'.repeat(64), user_id: m.id, persistent: 0, created_at: T0, last_seen_at: T0, expires_at: T0 + DAY, ip: null, user_agent: null }).execute();
      const ban = await banMember(deps(), smod, m, { reason: 'cheating', expiresAt: T0 + 3 * DAY }, T0);
      let u = await reload(m.id);
      assert.equal(u.enabled, 0);
      assert.equal(u.disabled_reason, 'cheating');
      assert.deepEqual(changed, [m.id], 'the tracker was told');
      const sessions = await t.db.selectFrom('session').select('id').where('user_id', '=', m.id).execute();
      assert.equal(sessions.length, 0, 'sessions ended');
      assert.equal((await activeBan(t.db, m.id, T0 + 1))?.id, ban);

      assert.equal(await liftExpiredBans(deps(), T0 + 3 * DAY - 1), 0, 'not yet');
      assert.equal((await reload(m.id)).enabled, 0);
      assert.equal(await liftExpiredBans(deps(), T0 + 3 * DAY + 5), 1);
      u = await reload(m.id);
      assert.equal(u.enabled, 1, 'enabled again at expiry');
      assert.equal(u.disabled_reason, null);
      const row = await t.db.selectFrom('user_warning').selectAll().where('id', '=', ban).executeTakeFirstOrThrow();
      assert.equal(row.revoked_at, T0 + 3 * DAY, 'recorded as ending at its expiry');
      assert.equal(row.revoked_by, null);
      assert.equal(await liftExpiredBans(deps(), T0 + 4 * DAY), 0, 'lifted once');
      const last = await t.db.selectFrom('audit_log').selectAll().where('target_id', '=', m.id).orderBy('id', 'desc').limit(1).executeTakeFirstOrThrow();
      assert.equal(last.action, 'user.ban_expired');
      assert.equal(last.actor_name, 'system');
    });

    it('keeps an account disabled while another ban holds, or when it was disabled for something else', async () => {
      changed = [];
      const m = await mk('twice');
      const short = await banMember(deps(), smod, m, { reason: 'first', expiresAt: T0 + DAY }, T0);
      const long = await banMember(deps(), admin, m, { reason: 'second', expiresAt: T0 + 10 * DAY }, T0 + 5);
      await liftExpiredBans(deps(), T0 + 2 * DAY);
      assert.equal((await reload(m.id)).enabled, 0, 'the longer ban still holds');
      assert.equal(await liftBan(deps(), admin, long, T0 + 3 * DAY, 'appeal accepted'), true);
      assert.equal((await reload(m.id)).enabled, 1, 'lifted by staff');
      assert.equal(await liftBan(deps(), admin, short, T0 + 3 * DAY), false, 'the short one had ended');

      const other = await mk('otherwise');
      await t.db.updateTable('user').set({ enabled: 0, disabled_reason: 'repeat infringer' }).where('id', '=', other.id).execute();
      await banMember(deps(), smod, other, { reason: 'also banned', expiresAt: T0 + DAY }, T0);
      assert.equal((await reload(other.id)).disabled_reason, 'repeat infringer', 'the other reason is kept');
      await liftExpiredBans(deps(), T0 + 2 * DAY);
      assert.equal((await reload(other.id)).enabled, 0, 'still disabled for the other reason');
    });

    it('grants upload credit with an audit row in the same transaction', async () => {
      const m = await mk('credited');
      await t.db.updateTable('user').set({ uploaded: 1000 }).where('id', '=', m.id).execute();
      const r = await grantCredit(t.db, smod, m, 5 * 2 ** 30, 'Go bonus for the subtitles', T0);
      assert.equal(r.uploaded, 1000 + 5 * 2 ** 30);
      assert.equal(Number((await reload(m.id)).uploaded), 1000 + 5 * 2 ** 30);
      const credits = await listCredits(t.db, m.id);
      assert.equal(credits.length, 1);
      assert.equal(credits[0]!.bytes, 5 * 2 ** 30);
      assert.equal(credits[0]!.reason, 'Go bonus for the subtitles');
      await assert.rejects(grantCredit(t.db, smod, m, -5, 'x', T0), CreditError);
      await assert.rejects(grantCredit(t.db, smod, m, 0.5, 'x', T0), CreditError);
      // A failing audit write rolls the credit back: same transaction.
      await assert.rejects(
        t.db.transaction().execute(async (trx) => {
          await grantCredit(trx, smod, m, 100, 'rolled back', T0);
          throw new Error('abort');
        }),
        /abort/,
      );
      assert.equal(Number((await reload(m.id)).uploaded), 1000 + 5 * 2 ** 30, 'nothing added by the rolled back grant');
      assert.equal((await listCredits(t.db, m.id)).length, 1);
    });

    it('bans IP addresses and ranges, with expiry, from a cached list', async () => {
      invalidateIpBans(t.db);
      assert.equal(await isIpBanned(t.db, '203.0.113.9', T0), false);
      assert.deepEqual(checkCidr('10.0.0.0/4'), { problem: 'too_wide' });
      assert.deepEqual(checkCidr('nonsense'), { problem: 'invalid' });
      const range = await addIpBan(t.db, smod, { cidr: '203.0.113.77/24', reason: 'spam network', expiresAt: null }, T0);
      await addIpBan(t.db, smod, { cidr: '2001:db8::/32', reason: 'v6 range', expiresAt: T0 + DAY }, T0);
      await addIpBan(t.db, smod, { cidr: '198.51.100.4', reason: 'one host', expiresAt: null }, T0);
      const bans = await listIpBans(t.db, T0);
      assert.ok(bans.some((b) => b.cidr === '203.0.113.0/24'), 'stored in canonical form');
      assert.equal(await isIpBanned(t.db, '203.0.113.200', T0), true);
      assert.equal(await isIpBanned(t.db, '::ffff:203.0.113.1', T0), true, 'mapped form');
      assert.equal(await isIpBanned(t.db, '203.0.114.1', T0), false);
      assert.equal(await isIpBanned(t.db, '198.51.100.4', T0), true);
      assert.equal(await isIpBanned(t.db, '198.51.100.5', T0), false);
      assert.equal(await isIpBanned(t.db, '2001:db8:1::5', T0), true);
      assert.equal(await isIpBanned(t.db, '2001:db8:1::5', T0 + DAY), false, 'expired (reloaded at the expiry)');
      assert.equal(await isIpBanned(t.db, 'garbage', T0), false);
      assert.equal(await removeIpBan(t.db, smod, range, T0), true);
      assert.equal(await isIpBanned(t.db, '203.0.113.200', T0), false, 'removal takes effect at once');
      assert.equal(await removeIpBan(t.db, smod, range, T0), false);
    });

    it('edits the role grid and member overrides within what the editor holds', async () => {
      const mod = await mk('moddy', 'moderator');
      const before = await readGrid(t.db);
      assert.equal(before.get('moderator')!.has('user.ban'), false);
      assert.equal(await can(t.db, mod, 'user.ban'), false);
      const checked = new Set<string>();
      for (const [role, perms] of before) for (const p of perms) checked.add(`${role}:${p}`);
      checked.add('moderator:user.ban');
      checked.delete('moderator:contact.read');
      const r = await saveGrid(t.db, admin, checked, T0);
      assert.deepEqual(r, { added: ['moderator:user.ban'], removed: ['moderator:contact.read'] });
      assert.equal(await can(t.db, mod, 'user.ban'), true, 'takes effect at once');
      assert.equal(await can(t.db, mod, 'contact.read'), false);

      // A supermod given permission.manage cannot touch supermod cells nor grant what they lack.
      await t.db.insertInto('user_permission').values({ user_id: smod.id, permission: 'permission.manage', granted: 1 }).execute();
      const c2 = new Set(checked);
      c2.add('supermod:settings.manage');
      c2.add('moderator:settings.manage');
      c2.add('moderator:audit.read');
      const r2 = await saveGrid(t.db, smod, c2, T0);
      assert.deepEqual(r2, { added: ['moderator:audit.read'], removed: [] });

      const m = await mk('overridden');
      const changedPerms = await saveOverrides(t.db, admin, m, new Map([['news.manage', 'grant'], ['torrent.upload_unmoderated', 'revoke']] as const), T0);
      assert.deepEqual(changedPerms.sort(), ['news.manage', 'torrent.upload_unmoderated']);
      assert.equal(await can(t.db, m, 'news.manage'), true);
      assert.equal((await readOverrides(t.db, m.id)).get('torrent.upload_unmoderated'), 'revoke');
      await saveOverrides(t.db, admin, m, new Map([['news.manage', 'inherit']] as const), T0);
      assert.equal(await can(t.db, m, 'news.manage'), false);
      const audits = await t.db.selectFrom('audit_log').select('action').where('action', 'like', 'permission.%').execute();
      assert.equal(audits.length, 4);
    });

    it('searches members by name, email, id and login address; shows the staff view', async () => {
      const inviter = await mk('inviter');
      const m = await mk('Findable_one');
      await t.db.updateTable('user').set({ invited_by: inviter.id }).where('id', '=', m.id).execute();
      await t.db.insertInto('login_ip').values([
        { user_id: m.id, ip: '192.0.2.10', first_at: T0, last_at: T0 + 5, signup: 1 },
        { user_id: inviter.id, ip: '192.0.2.10', first_at: T0, last_at: T0, signup: 0 },
        { user_id: m.id, ip: '2001:db8::7', first_at: T0, last_at: T0 + 9, signup: 0 },
      ]).execute();
      assert.deepEqual((await searchMembers(t.db, { q: 'findable', limit: 10, offset: 0 })).rows.map((r) => r.id), [m.id], 'case-insensitive prefix');
      assert.deepEqual((await searchMembers(t.db, { q: 'findable_one@', limit: 10, offset: 0 })).rows.map((r) => r.id), [m.id], 'email prefix');
      assert.equal((await searchMembers(t.db, { q: 'findable%', limit: 10, offset: 0 })).total, 0, 'wildcards are literal');
      assert.deepEqual((await searchMembers(t.db, { q: `#${m.id}`, limit: 10, offset: 0 })).rows.map((r) => r.id), [m.id]);
      const byIp = await searchMembers(t.db, { q: '192.0.2.10', limit: 10, offset: 0 });
      assert.deepEqual(byIp.rows.map((r) => r.id).sort((a, b) => a - b), [inviter.id, m.id].sort((a, b) => a - b));
      assert.equal((await searchMembers(t.db, { q: '192.0.2.0/24', limit: 10, offset: 0 })).total, 2, 'a /24 range');
      assert.equal((await searchMembers(t.db, { q: '2001:db8::7', limit: 10, offset: 0 })).total, 1);

      await addNote(t.db, smod, m, 'asked about seeding rules', T0);
      await warnMember(t.db, smod, m, { reason: 'w', expiresAt: null }, T0);
      const v = await staffView(t.db, m.id);
      assert.ok(v, 'found');
      assert.equal(v.inviter?.id, inviter.id);
      assert.equal((await staffView(t.db, inviter.id))!.invitees, 1);
      assert.equal(v.loginIps.length, 2);
      assert.equal(v.loginIps.find((i) => i.ip === '192.0.2.10')!.others, 1, 'another account used the address');
      assert.deepEqual(v.notes.map((n) => n.text), ['asked about seeding rules']);
      assert.equal(v.warnings.length, 1);
      assert.equal(await staffView(t.db, 999_999), null);
    });

    it('searches the audit log and keeps its chain intact', async () => {
      const all = await searchAudit(t.db, { limit: 1000, offset: 0 });
      assert.ok(all.total > 10, 'the earlier tests audited their acts');
      const bySmod = await searchAudit(t.db, { actor: 'SMO', limit: 1000, offset: 0 });
      assert.ok(bySmod.rows.length > 0 && bySmod.rows.every((r) => r.actor_name === 'smod'), 'actor prefix, case-insensitive');
      const bans = await searchAudit(t.db, { action: 'user.ban', limit: 1000, offset: 0 });
      assert.ok(bans.rows.every((r) => r.action === 'user.ban'), 'exact action');
      const userActs = await searchAudit(t.db, { action: 'user.', limit: 1000, offset: 0 });
      assert.ok(userActs.total > bans.total && userActs.rows.every((r) => r.action.startsWith('user.')), 'action prefix');
      const ipActs = await searchAudit(t.db, { targetType: 'ip_ban', limit: 1000, offset: 0 });
      assert.ok(ipActs.total >= 4, 'ip bans and removals');
      const page2 = await searchAudit(t.db, { limit: 2, offset: 2 });
      assert.deepEqual(page2.rows.map((r) => r.id), all.rows.slice(2, 4).map((r) => r.id), 'pagination');
      const range = await searchAudit(t.db, { from: T0 + DAY, to: T0 + 4 * DAY, limit: 1000, offset: 0 });
      assert.ok(range.rows.length > 0 && range.rows.every((r) => r.created_at >= T0 + DAY && r.created_at < T0 + 4 * DAY), 'date range');
      assert.equal(await verifyAuditChain(t.db), null);
    });
  });
});

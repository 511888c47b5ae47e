import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sql } from 'kysely';
import { forEachDialect } from '../../db/test-databases.js';
import { createUser } from '../../db/user.repository.js';
import { audit, verifyAuditChain } from './audit.js';
import { can, DEFAULT_GRANTS, installDefaultGrants, invalidateGrants, PERMISSIONS, permissionsOf } from './policy.js';

forEachDialect((name, open) => {
  describe(`staff policy and audit log (${name})`, () => {
    it('grants by role, overrides per member, ranks targets, refuses disabled members', async () => {
      const t = await open();
      try {
        const db = t.db;
        assert.equal(await installDefaultGrants(db), true);
        assert.equal(await installDefaultGrants(db), false, 'installed once');
        const mk = async (username: string, role: 'member' | 'uploader' | 'moderator' | 'supermod' | 'admin') => {
          const u = await createUser(db, { username, role, now: 1 });
          return (await db.selectFrom('user').selectAll().where('id', '=', u.id).executeTakeFirstOrThrow());
        };
        const member = await mk('m', 'member');
        const mod = await mk('mod', 'moderator');
        const smod = await mk('smod', 'supermod');
        const admin = await mk('adm', 'admin');
        assert.equal(await can(db, member, 'torrent.moderate'), false);
        assert.equal(await can(db, mod, 'torrent.moderate'), true);
        assert.equal(await can(db, mod, 'user.ban'), false, 'moderators cannot ban by default');
        assert.equal(await can(db, smod, 'user.ban', member), true);
        assert.equal(await can(db, smod, 'user.ban', admin), false, 'no action on a higher role');
        assert.equal(await can(db, smod, 'user.ban', smod), false, 'no staff action on oneself');
        assert.equal(await can(db, admin, 'permission.manage'), true);
        assert.equal(await can(db, null, 'audit.read'), false);
        // A per-member grant and a per-member revocation.
        await db.insertInto('user_permission').values([{ user_id: member.id, permission: 'news.manage', granted: 1 }, { user_id: mod.id, permission: 'torrent.moderate', granted: 0 }]).execute();
        assert.equal(await can(db, member, 'news.manage'), true);
        assert.equal(await can(db, mod, 'torrent.moderate'), false);
        // Disabled members lose everything.
        assert.equal((await permissionsOf(db, { ...admin, enabled: 0 })).has('audit.read'), false);
        // Default grants only name known permissions; admin holds all.
        for (const perms of Object.values(DEFAULT_GRANTS)) for (const p of perms) assert.ok(PERMISSIONS.includes(p), `${p} is a known permission`);
        invalidateGrants(db);
      } finally {
        await t.close();
      }
    });

    it('chains audit rows by hash, redacts secrets, and detects tampering', async () => {
      const t = await open();
      try {
        const db = t.db;
        assert.equal(await verifyAuditChain(db), null, 'an empty log is intact');
        const a = await audit(db, { actorId: null, actorName: 'system', action: 'user.ban', targetType: 'user', targetId: 7, reason: 'spam', before: { enabled: 1, passkey: 'abcd' }, after: { enabled: 0 }, now: 100 });
        await audit(db, { actorId: null, actorName: 'system', action: 'torrent.delete', targetType: 'torrent', targetId: 3, reason: 'dupe', now: 101 });
        await audit(db, { actorId: null, actorName: 'system', action: 'user.warn', now: 102 });
        assert.equal(await verifyAuditChain(db), null, 'intact after three appends');
        const row = await db.selectFrom('audit_log').selectAll().where('id', '=', a.id).executeTakeFirstOrThrow();
        assert.ok(row.before?.includes('[redacted]') && !row.before.includes('abcd'), 'the passkey is redacted');
        await sql`update audit_log set reason = 'nothing to see' where id = ${a.id}`.execute(db);
        assert.deepEqual(await verifyAuditChain(db), { id: a.id, problem: 'hash mismatch' });
        await sql`update audit_log set reason = 'spam' where id = ${a.id}`.execute(db);
        assert.equal(await verifyAuditChain(db), null);
        await sql`delete from audit_log where id = ${a.id + 1}`.execute(db);
        assert.deepEqual(await verifyAuditChain(db), { id: a.id + 2, problem: 'broken link' }, 'a deleted row breaks the chain');
      } finally {
        await t.close();
      }
    });
  });
});

/**
 * Database-level account code on every dialect: one-time link tokens, recovery codes, the
 * first-run setup link, and the member updates added to the user repository for the accounts pages.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { forEachDialect, type TestDatabase } from '../../db/test-databases.js';
import {
  createUser,
  DuplicateUserError,
  findUserByEmail,
  findUserById,
  findUserByLogin,
  recordLogin,
  setPasswordHash,
  setUserEmail,
  setUserPreferences,
  setUserTotp,
} from '../../db/user.repository.js';
import type { Site } from '../site.js';
import { hashToken } from '../sessions.js';
import { consumeAuthToken, createAuthToken, findAuthToken, isLinkToken, revokeAuthTokens } from './tokens.js';
import {
  countRecoveryCodes,
  deleteRecoveryCodes,
  hashRecoveryCode,
  newRecoveryCodes,
  normaliseRecoveryCode,
  replaceRecoveryCodes,
  useRecoveryCode,
} from './recovery-codes.js';
import { firstRunSetupLink, needsSetup } from './setup.js';

forEachDialect((name, open) => {
  describe(`account storage (${name})`, () => {
    let t: TestDatabase;
    let seq = 0;
    before(async () => {
      t = await open();
    });
    after(() => t.close());

    const newUser = async (o: { email?: string; role?: 'admin' | 'member' } = {}) =>
      (await createUser(t.db, { username: `user${++seq}`, email: o.email ?? null, role: o.role ?? 'member', now: 1000 })).id;

    describe('user repository additions', () => {
      it('finds members by email regardless of case, and by username or email', async () => {
        const id = await newUser({ email: 'Mixed.Case@Example.test' });
        assert.equal((await findUserByEmail(t.db, 'mixed.case@example.test'))?.id, id);
        assert.equal((await findUserByEmail(t.db, 'nobody@example.test')), undefined);
        const u = await findUserById(t.db, id);
        assert.equal((await findUserByLogin(t.db, u!.username.toUpperCase()))?.id, id, 'username, any case');
        assert.equal((await findUserByLogin(t.db, 'MIXED.case@example.test'))?.id, id, 'email');
        assert.equal(await findUserByLogin(t.db, 'nobody'), undefined);
      });

      it('changes password hash, preferences, TOTP state and last login', async () => {
        const id = await newUser();
        assert.equal(await setPasswordHash(t.db, id, 'scrypt$new', 2000), true);
        assert.equal(await setPasswordHash(t.db, 999_999, 'x', 2000), false, 'unknown member');
        assert.equal(await setUserPreferences(t.db, id, { locale: 'fr', privacy: 'strong' }, 2001), true);
        assert.equal(await setUserTotp(t.db, id, 'JBSWY3DPEHPK3PXP', true, 2002), true);
        await recordLogin(t.db, id, 2003);
        let u = (await findUserById(t.db, id))!;
        assert.equal(u.password_hash, 'scrypt$new');
        assert.equal(u.locale, 'fr');
        assert.equal(u.privacy, 'strong');
        assert.equal(u.totp_secret, 'JBSWY3DPEHPK3PXP');
        assert.equal(u.totp_enabled, 1);
        assert.equal(u.last_login_at, 2003);
        await setUserPreferences(t.db, id, { locale: null, privacy: 'low' }, 2004);
        await setUserTotp(t.db, id, null, false, 2005);
        u = (await findUserById(t.db, id))!;
        assert.equal(u.locale, null);
        assert.equal(u.totp_secret, null);
        assert.equal(u.totp_enabled, 0);
      });

      it('changes the email, refusing one another member has', async () => {
        const a = await newUser({ email: 'first@example.test' });
        const b = await newUser({ email: 'second@example.test' });
        assert.equal(await setUserEmail(t.db, a, 'third@example.test', true, 3000), true);
        const u = (await findUserById(t.db, a))!;
        assert.equal(u.email, 'third@example.test');
        assert.equal(u.email_verified, 1);
        await assert.rejects(setUserEmail(t.db, b, 'THIRD@example.test', true, 3001), (e: unknown) => e instanceof DuplicateUserError && e.field === 'email');
        assert.equal(await setUserEmail(t.db, a, 'third@example.test', true, 3002), true, 'keeping the own address is fine');
      });
    });

    describe('link tokens', () => {
      it('stores only the hash and works once, for its purpose, before its expiry', async () => {
        const uid = await newUser();
        const token = await createAuthToken(t.db, { purpose: 'password_reset', userId: uid, ttl: 600, now: 10_000 });
        assert.ok(isLinkToken(token), 'a 32-hex token');
        const stored = await t.db.selectFrom('auth_token').selectAll().where('token_hash', '=', hashToken(token)).executeTakeFirst();
        assert.ok(stored, 'stored by hash');
        assert.equal((await t.db.selectFrom('auth_token').select('token_hash').where('token_hash', '=', token).executeTakeFirst()), undefined, 'never in clear');
        assert.equal((await findAuthToken(t.db, token, 'password_reset', 10_100))?.user_id, uid);
        assert.equal(await findAuthToken(t.db, token, 'setup', 10_100), null, 'other purpose');
        assert.equal(await findAuthToken(t.db, token, 'password_reset', 10_600), null, 'expired');
        assert.equal(await consumeAuthToken(t.db, token, 'email_change', 10_100), null, 'other purpose cannot use it');
        const used = await consumeAuthToken(t.db, token, 'password_reset', 10_100);
        assert.equal(used?.user_id, uid);
        assert.equal(used?.used_at, 10_100);
        assert.equal(await consumeAuthToken(t.db, token, 'password_reset', 10_101), null, 'single use');
        assert.equal(await findAuthToken(t.db, token, 'password_reset', 10_101), null);
      });

      it('refuses expired and malformed tokens, keeps data, and revokes a member’s tokens', async () => {
        const uid = await newUser();
        const expired = await createAuthToken(t.db, { purpose: 'password_reset', userId: uid, ttl: 60, now: 20_000 });
        assert.equal(await consumeAuthToken(t.db, expired, 'password_reset', 20_060), null);
        assert.equal(await consumeAuthToken(t.db, 'not-a-token', 'password_reset', 20_000), null);
        const change = await createAuthToken(t.db, { purpose: 'email_change', userId: uid, data: 'new@example.test', ttl: 600, now: 20_000 });
        assert.equal((await findAuthToken(t.db, change, 'email_change', 20_001))?.data, 'new@example.test');
        const r1 = await createAuthToken(t.db, { purpose: 'password_reset', userId: uid, ttl: 600, now: 20_000 });
        assert.equal(await revokeAuthTokens(t.db, uid, 'password_reset', 20_100), 1, 'only the live reset token (the expired one is left alone)');
        assert.equal(await consumeAuthToken(t.db, r1, 'password_reset', 20_101), null);
        assert.notEqual(await consumeAuthToken(t.db, change, 'email_change', 20_101), null, 'other purposes untouched');
      });
    });

    describe('recovery codes', () => {
      it('makes ten distinct readable codes', () => {
        const codes = newRecoveryCodes();
        assert.equal(codes.length, 10);
        assert.equal(new Set(codes).size, 10);
        for (const c of codes) assert.match(c, /^[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}$/);
      });

      it('reads typed codes forgivingly', () => {
        assert.equal(normaliseRecoveryCode(' ABCD-EFGH-JK01 '), 'abcdefghjk01');
        assert.equal(normaliseRecoveryCode('abcd efgh jkoi'), 'abcdefghjk01', 'o for 0, i for 1');
        assert.equal(normaliseRecoveryCode('abcd-efgh-jku1'), null, 'u is not in the alphabet');
        assert.equal(normaliseRecoveryCode('123456'), null);
        assert.notEqual(hashRecoveryCode(1, 'abcd-efgh-jk01'), hashRecoveryCode(2, 'abcd-efgh-jk01'), 'bound to the member');
      });

      it('stores hashes, uses each code once, and replaces or deletes them', async () => {
        const uid = await newUser();
        const other = await newUser();
        const codes = newRecoveryCodes();
        await replaceRecoveryCodes(t.db, uid, codes);
        const rows = await t.db.selectFrom('recovery_code').selectAll().where('user_id', '=', uid).execute();
        assert.equal(rows.length, 10);
        assert.ok(rows.every((r) => !codes.includes(r.code_hash) && /^[0-9a-f]{64}$/.test(r.code_hash)), 'hashed');
        assert.equal(await countRecoveryCodes(t.db, uid), 10);
        assert.equal(await useRecoveryCode(t.db, other, codes[0]!, 5), false, 'another member cannot use it');
        assert.equal(await useRecoveryCode(t.db, uid, codes[0]!.toUpperCase(), 5), true);
        assert.equal(await useRecoveryCode(t.db, uid, codes[0]!, 6), false, 'single use');
        assert.equal(await useRecoveryCode(t.db, uid, 'garbage', 6), false);
        assert.equal(await countRecoveryCodes(t.db, uid), 9);
        const fresh = newRecoveryCodes();
        await replaceRecoveryCodes(t.db, uid, fresh);
        assert.equal(await useRecoveryCode(t.db, uid, codes[1]!, 7), false, 'old codes are gone');
        assert.equal(await countRecoveryCodes(t.db, uid), 10);
        await deleteRecoveryCodes(t.db, uid);
        assert.equal(await countRecoveryCodes(t.db, uid), 0);
      });
    });

    describe('first-run setup link', () => {
      it('creates a 24-hour setup token while no enabled administrator exists, then stops', async () => {
        const site = { db: t.db, publicUrl: 'https://essaim.example', now: () => 50_000 } as unknown as Site;
        // Earlier tests made members only: no administrator yet.
        assert.equal(await needsSetup(site), true);
        const link = await firstRunSetupLink(site);
        assert.ok(link, 'a link');
        const m = /^https:\/\/essaim\.example\/setup\/([0-9a-f]{32})$/.exec(link);
        assert.ok(m, `link shape: ${link}`);
        const row = await findAuthToken(t.db, m[1]!, 'setup', 50_000 + 24 * 3600 - 1);
        assert.ok(row, 'valid for 24 hours');
        assert.equal(await findAuthToken(t.db, m[1]!, 'setup', 50_000 + 24 * 3600), null, 'not longer');
        const admin = await newUser({ role: 'admin' });
        assert.equal(await firstRunSetupLink(site), null, 'an administrator exists');
        await t.db.updateTable('user').set({ enabled: 0 }).where('id', '=', admin).execute();
        assert.ok(await firstRunSetupLink(site), 'a disabled administrator does not count');
      });
    });
  });
});

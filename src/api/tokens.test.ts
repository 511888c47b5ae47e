/** API tokens on every dialect: shown once and stored hashed, scopes, expiry, revocation, disabled accounts. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { forEachDialect, type TestDatabase } from '../db/test-databases.js';
import { createUser } from '../db/user.repository.js';
import { hashToken } from '../site/sessions.js';
import { checkApiToken, countLiveTokens, createApiToken, isPersonalToken, listApiTokens, revokeAllApiTokens, revokeApiToken } from './tokens.js';

const NOW = 1_800_000_000;

forEachDialect((name, open) => {
  describe(`API tokens (${name})`, () => {
    let t: TestDatabase;
    let uid: number;
    let other: number;
    before(async () => {
      t = await open();
      uid = (await createUser(t.db, { username: 'tok', now: 1 })).id;
      other = (await createUser(t.db, { username: 'other', now: 1 })).id;
    });
    after(() => t.close());

    it('stores only the hash and a hint, and finds the member by the token', async () => {
      const { id, token } = await createApiToken(t.db, { userId: uid, kind: 'personal', name: 'sonarr', scopes: ['read'], now: NOW });
      assert.ok(isPersonalToken(token), `token shape: ${token}`);
      const row = await t.db.selectFrom('api_token').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      assert.equal(row.token_hash, hashToken(token));
      assert.equal(row.hint, token.slice(-4));
      assert.ok(!JSON.stringify(row).includes(token), 'the clear token is not stored');
      const r = await checkApiToken(t.db, token, NOW + 5);
      assert.ok(r.ok, 'valid token');
      assert.equal(r.principal.user.id, uid);
      assert.deepEqual([...r.principal.scopes], ['read']);
      const listed = await listApiTokens(t.db, uid, NOW);
      assert.deepEqual(listed.map((x) => [x.id, x.name, x.hint]), [[id, 'sonarr', token.slice(-4)]]);
      assert.ok(!JSON.stringify(listed).includes(token_hash_of(row)), 'the list carries no hash');
    });

    it('refuses unknown, malformed, revoked and expired tokens, and other kinds when asked', async () => {
      assert.deepEqual(await checkApiToken(t.db, 'es_' + '0'.repeat(40), NOW), { ok: false, reason: 'unknown' });
      assert.deepEqual(await checkApiToken(t.db, '', NOW), { ok: false, reason: 'unknown' });
      assert.deepEqual(await checkApiToken(t.db, 'x'.repeat(5000), NOW), { ok: false, reason: 'unknown' });
      const a = await createApiToken(t.db, { userId: uid, kind: 'personal', name: 'a', scopes: ['read', 'upload'], now: NOW, expiresAt: NOW + 10 });
      assert.ok((await checkApiToken(t.db, a.token, NOW + 9)).ok, 'before expiry');
      assert.deepEqual(await checkApiToken(t.db, a.token, NOW + 10), { ok: false, reason: 'expired' });
      const b = await createApiToken(t.db, { userId: uid, kind: 'personal', name: 'b', scopes: ['read'], now: NOW });
      assert.equal(await revokeApiToken(t.db, other, b.id, NOW), false, 'not theirs');
      assert.equal(await revokeApiToken(t.db, uid, b.id, NOW), true);
      assert.equal(await revokeApiToken(t.db, uid, b.id, NOW), false, 'already revoked');
      assert.deepEqual(await checkApiToken(t.db, b.token, NOW), { ok: false, reason: 'unknown' });
      const c = await createApiToken(t.db, { userId: uid, kind: 't411', name: 't411', scopes: ['read'], now: NOW, token: `${uid}:1:${'ab'.repeat(16)}` });
      assert.ok((await checkApiToken(t.db, c.token, NOW, 't411')).ok, 'right kind');
      assert.deepEqual(await checkApiToken(t.db, c.token, NOW, 'personal'), { ok: false, reason: 'unknown' });
    });

    it('refuses every token of a disabled account, and revokes them all at once', async () => {
      const d = (await createUser(t.db, { username: 'dis', now: 1 })).id;
      const x = await createApiToken(t.db, { userId: d, kind: 'personal', name: 'x', scopes: ['read'], now: NOW });
      const y = await createApiToken(t.db, { userId: d, kind: 'personal', name: 'y', scopes: ['read'], now: NOW });
      assert.equal(await countLiveTokens(t.db, d, 'personal', NOW), 2);
      await t.db.updateTable('user').set({ enabled: 0 }).where('id', '=', d).execute();
      assert.deepEqual(await checkApiToken(t.db, x.token, NOW), { ok: false, reason: 'disabled' });
      await t.db.updateTable('user').set({ enabled: 1 }).where('id', '=', d).execute();
      assert.equal(await revokeAllApiTokens(t.db, d, NOW), 2);
      assert.deepEqual(await checkApiToken(t.db, y.token, NOW), { ok: false, reason: 'unknown' });
      assert.equal(await countLiveTokens(t.db, d, 'personal', NOW), 0);
    });

    it('writes last_used_at at most once a minute', async () => {
      const { id, token } = await createApiToken(t.db, { userId: uid, kind: 'personal', name: 'u', scopes: ['read'], now: NOW });
      const used = async () => (await t.db.selectFrom('api_token').select('last_used_at').where('id', '=', id).executeTakeFirstOrThrow()).last_used_at;
      await checkApiToken(t.db, token, NOW + 100);
      assert.equal(await used(), NOW + 100);
      await checkApiToken(t.db, token, NOW + 130);
      assert.equal(await used(), NOW + 100);
      await checkApiToken(t.db, token, NOW + 160);
      assert.equal(await used(), NOW + 160);
    });
  });
});

function token_hash_of(row: { token_hash: string }): string {
  return row.token_hash;
}

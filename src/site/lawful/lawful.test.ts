/**
 * The lawful services on every dialect: parsing notice targets, a notice from submission to
 * takedown (deletion with the reason, blocklist, notifications, audit), counter-notices restoring
 * torrents, the repeat-infringer policy, the transparency counts, the blocklist, and the member's
 * data (export without secrets, deletion under a pseudonym).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Kysely } from 'kysely';
import { loadConfig } from '../../config/index.js';
import type { Database, UserRole } from '../../db/schema.js';
import { forEachDialect, type TestDatabase } from '../../db/test-databases.js';
import { registerTorrent } from '../../db/torrent.repository.js';
import { createUser } from '../../db/user.repository.js';
import { silentLogger } from '../../shared/log.js';
import type { MailMessage } from '../mail.js';
import { listNotifications } from '../notifications.js';
import { verifyAuditChain } from '../staff/audit.js';
import { addBlock, blockedSwarmHashes, findBlock, listBlockedHashes, normaliseInfoHash, removeBlock } from './blocklist.js';
import {
  applyRepeatInfringerPolicy,
  counterEligibility,
  decideCounterNotice,
  getNotice,
  listNotices,
  parseTarget,
  POLICY_ACTOR,
  rejectNotice,
  submitCounterNotice,
  submitNotice,
  takedownReason,
  transparencyReport,
  upheldNoticeCount,
  upholdNotice,
  type NoticeInput,
} from './notices.js';
import { deleteAccount, exportUserData } from './privacy.js';
import type { LawfulSite } from './site.js';

const JAN = Date.UTC(2025, 0, 15) / 1000;
const FEB = Date.UTC(2025, 1, 10) / 1000;
const MAR = Date.UTC(2025, 2, 5) / 1000;

function hex(n: number, len: number): string {
  return n.toString(16).padStart(len, '0');
}

describe('parseTarget', () => {
  const h40 = 'AB'.repeat(20);
  const h64 = 'cd'.repeat(32);
  it('reads torrent links (any host, page or download), bare paths, hashes and magnet links', () => {
    assert.deepEqual(parseTarget('https://essaim.example/torrents/42/some-title'), { torrentId: 42 });
    assert.deepEqual(parseTarget('http://127.0.0.1:8080/t/7'), { torrentId: 7 });
    assert.deepEqual(parseTarget('https://x.example/torrents/9/download'), { torrentId: 9 });
    assert.deepEqual(parseTarget('/torrents/5?x=1'), { torrentId: 5 });
    assert.deepEqual(parseTarget(`  ${h40}  `), { infoHash: h40.toLowerCase() });
    assert.deepEqual(parseTarget(h64), { infoHash: h64 });
    assert.deepEqual(parseTarget(`magnet:?xt=urn:btih:${h40}&dn=x`), { infoHash: h40.toLowerCase() });
    assert.deepEqual(parseTarget(`magnet:?dn=x&xt=urn:btmh:1220${h64}`), { infoHash: h64 });
    // Base32 btih: 20 bytes 0xab... encoded.
    const b32 = 'VOV2XK5LVOV2XK5LVOV2XK5LVOV2XK5L';
    assert.deepEqual(parseTarget(`magnet:?xt=urn:btih:${b32}`), { infoHash: 'ab'.repeat(20) });
  });
  it('refuses what names nothing', () => {
    for (const s of ['', 'hello', 'https://x.example/browse?q=a', '/u/3', 'abc123', 'magnet:?dn=nothing', 'ftp://x/torrents/1', `${'a'.repeat(41)}`]) {
      assert.equal(parseTarget(s), null, `${JSON.stringify(s)} is not a target`);
    }
  });
  it('normalises info hashes', () => {
    assert.equal(normaliseInfoHash(' ' + 'F'.repeat(40) + '\n'), 'f'.repeat(40));
    assert.equal(normaliseInfoHash('f'.repeat(39)), null);
    assert.equal(normaliseInfoHash('g'.repeat(40)), null);
  });
});

forEachDialect((name, open) => {
  describe(`lawful services (${name})`, () => {
    let t: TestDatabase;
    let db: Kysely<Database>;
    let now = JAN;
    const changedTorrents: number[] = [];
    const changedUsers: Array<[number, string | undefined]> = [];
    const mails: MailMessage[] = [];
    let site: LawfulSite;
    let serial = 0;

    const mkUser = async (username: string, role: UserRole = 'member') => {
      const u = await createUser(db, { username, email: `${username}@example.test`, passwordHash: 'scrypt$secret-hash-value', role, now: 1 });
      return { id: u.id, username, passkey: u.passkey };
    };
    const mkTorrent = async (uploaderId: number, o: { v2?: boolean } = {}) => {
      const n = ++serial;
      const { id } = await registerTorrent(db, {
        name: `Work ${n}`,
        infoHashV1: hex(0x5000 + n, 40),
        infoHashV2: o.v2 ? hex(0x9000 + n, 64) : null,
        size: 1000,
        uploaderId,
        now: now - 100,
      });
      return db.selectFrom('torrent').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    };
    const notice = (items: string | string[], over: Partial<NoticeInput> = {}): NoticeInput => ({
      claimant: 'Rights Holder Ltd',
      contact: 'legal@rights.example\n1 Main Street',
      works: 'The Film (2024)',
      items,
      goodFaith: true,
      statement: 'I affirm.',
      source: 'form',
      ...over,
    });
    const submit = async (input: NoticeInput) => {
      const r = await submitNotice(site, input);
      assert.ok(r.ok, `notice accepted: ${JSON.stringify(r)}`);
      return r;
    };

    before(async () => {
      t = await open();
      db = t.db;
      site = {
        db,
        config: loadConfig({ env: {}, overrides: { lawful: { repeat_infringer_notices: 2 } } as never }),
        log: silentLogger(),
        now: () => now,
        publicUrl: 'https://essaim.example',
        mailer: { send: async (m) => void mails.push(m) },
        tracker: {
          torrentChanged: async (id) => void changedTorrents.push(id),
          userChanged: async (id, prev) => void changedUsers.push([id, prev]),
          swarmCounts: () => null,
        },
      };
    });
    after(() => t.close());

    it('refuses incomplete notices, field by field, naming bad lines', async () => {
      const r = await submitNotice(site, notice('https://x.example/torrents/1\nnot a link\n\nstill not', { claimant: ' ', works: '', goodFaith: false }));
      assert.ok(!r.ok, 'refused');
      const codes = r.problems.map((p) => `${p.field}:${p.code}${p.line ? '@' + p.line : ''}`).sort();
      assert.deepEqual(codes, ['claimant:required', 'good_faith:good_faith_required', 'items:item_invalid@2', 'items:item_invalid@3', 'works:required']);
      const many = await submitNotice(site, notice(Array.from({ length: 101 }, (_, i) => hex(i + 1, 40))));
      assert.ok(!many.ok && many.problems.some((p) => p.code === 'too_many_items' && p.max === 100), 'at most 100 targets');
      const none = await submitNotice(site, notice(''));
      assert.ok(!none.ok && none.problems.some((p) => p.field === 'items' && p.code === 'required'), 'targets required');
      assert.equal((await listNotices(db)).total, 0, 'nothing stored');
    });

    it('takes down from submission to uphold: deleted with the reason, blocked, uploader notified, audited', async () => {
      now = JAN;
      const alice = await mkUser('alice');
      const bob = await mkUser('bob');
      const mod = await mkUser('mod', 'supermod');
      const t1 = await mkTorrent(alice.id);
      const t2 = await mkTorrent(alice.id, { v2: true });
      const t3 = await mkTorrent(bob.id);
      const unknown = 'e'.repeat(40);
      const r = await submit(notice([`https://essaim.example/torrents/${t1.id}/work`, t2.info_hash_v2!, `/t/${t1.id}`, unknown, `magnet:?xt=urn:btih:${t2.info_hash_v1}`]));
      assert.equal(r.items.length, 3, 'duplicates (same torrent twice) dropped');
      assert.deepEqual(
        r.items.map((i) => [i.torrentId, i.infoHash, i.uploaderId]),
        [
          [t1.id, t1.info_hash_v1, alice.id],
          [t2.id, t2.info_hash_v2, alice.id],
          [null, unknown, null],
        ],
      );
      const n = await getNotice(db, r.id);
      assert.equal(n?.status, 'received');
      assert.equal(n?.items[0]?.uploader?.username, 'alice');

      const up = await upholdNotice(site, mod, r.id, 'Clear infringement');
      assert.ok(up.ok, `upheld: ${JSON.stringify(up)}`);
      assert.deepEqual(up.torrents.sort(), [t1.id, t2.id].sort());
      assert.deepEqual(up.blocked.sort(), [t1.info_hash_v1, t2.info_hash_v1, t2.info_hash_v2, unknown].sort());
      for (const id of [t1.id, t2.id]) {
        const row = await db.selectFrom('torrent').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
        assert.equal(row.status, 'deleted');
        assert.equal(row.deleted_reason, `Removed after a copyright notice (#${r.id})`);
        assert.equal(row.deleted_reason, takedownReason(r.id));
        assert.ok(changedTorrents.includes(id), `tracker told about torrent ${id}`);
      }
      assert.equal((await db.selectFrom('torrent').select('status').where('id', '=', t3.id).executeTakeFirstOrThrow()).status, 'active', 'others untouched');
      const notes = await listNotifications(db, alice.id);
      assert.equal(notes.filter((x) => x.kind === 'takedown').length, 2, 'one notification per torrent');
      assert.equal(notes[0]?.data.link, `/legal/counter/${r.id}`);
      assert.ok(mails.some((m) => m.to === 'alice@example.test' && m.text.includes(`https://essaim.example/legal/counter/${r.id}`)), 'mailed with the counter-notice link');
      const audits = await db.selectFrom('audit_log').selectAll().where('actor_id', '=', mod.id).orderBy('id').execute();
      assert.deepEqual(audits.map((a) => a.action), ['torrent.takedown', 'torrent.takedown', 'notice.uphold']);
      assert.equal(audits[2]?.reason, 'Clear infringement');
      assert.equal(await verifyAuditChain(db), null, 'audit chain intact');
      const again = await upholdNotice(site, mod, r.id);
      assert.deepEqual(again, { ok: false, error: 'already_decided' });
      assert.deepEqual(await rejectNotice(site, mod, r.id), { ok: false, error: 'already_decided' });
      assert.deepEqual(await upholdNotice(site, mod, 999999), { ok: false, error: 'not_found' });

      // The blocklist: exact hashes, the v2 hash's truncation (what the tracker sees), v1 prefix of a 64-hex entry.
      assert.equal((await findBlock(db, { v1: t1.info_hash_v1 }))?.notice_id, r.id);
      assert.equal((await findBlock(db, { v2: t2.info_hash_v2 }))?.notice_id, r.id);
      assert.ok(await findBlock(db, { v1: t2.info_hash_v2!.slice(0, 40) }), 'a v2 swarm hash is blocked through its 64-hex entry');
      assert.equal(await findBlock(db, { v1: t3.info_hash_v1 }), null);
      const swarms = await blockedSwarmHashes(db);
      assert.equal(swarms.get(t2.info_hash_v2!.slice(0, 40)), takedownReason(r.id));
      assert.ok((await listBlockedHashes(db)).every((b) => b.swarmHash.length === 40), 'swarm forms are 40 hex');

      assert.equal(await upheldNoticeCount(db, alice.id), 1);
      assert.equal(await upheldNoticeCount(db, bob.id), 0);

      // Counter-notice: only alice, only once, only for an upheld notice.
      assert.deepEqual(await counterEligibility(db, bob, r.id), { ok: false, reason: 'not_uploader' });
      const bad = await submitCounterNotice(site, alice, r.id, { statement: '  ', goodFaith: false });
      assert.ok(!bad.ok && bad.reason === 'invalid' && bad.problems.length === 2, 'statement and good faith required');
      now = FEB;
      const c = await submitCounterNotice(site, alice, r.id, { statement: 'I own the rights to this film.', goodFaith: true });
      assert.ok(c.ok, 'counter-notice stored');
      assert.deepEqual(await submitCounterNotice(site, alice, r.id, { statement: 'again', goodFaith: true }), { ok: false, reason: 'already_sent' });
      now = MAR;
      const d = await decideCounterNotice(site, mod, c.id, true, 'Licence shown');
      assert.ok(d.ok, 'accepted');
      assert.deepEqual(d.restored.sort(), [t1.id, t2.id].sort());
      for (const id of [t1.id, t2.id]) {
        const row = await db.selectFrom('torrent').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
        assert.equal(row.status, 'active', 'restored');
        assert.equal(row.deleted_reason, null);
      }
      assert.equal(await findBlock(db, { v1: t1.info_hash_v1 }), null, 'block lifted');
      assert.equal(await findBlock(db, { v2: t2.info_hash_v2 }), null, 'block lifted');
      assert.ok(await findBlock(db, { v1: unknown }), 'the hash not on the site stays blocked');
      assert.equal((await getNotice(db, r.id))?.status, 'restored');
      assert.equal(await upheldNoticeCount(db, alice.id), 0, 'a notice answered successfully does not count');
      assert.deepEqual(await decideCounterNotice(site, mod, c.id, false), { ok: false, error: 'already_decided' });
      assert.ok((await listNotifications(db, alice.id)).some((x) => x.kind === 'counter_accepted'), 'uploader told');
      assert.equal(await verifyAuditChain(db), null);
    });

    it('rejects notices, counts per month, applies the repeat-infringer policy (admins exempt)', async () => {
      const carol = await mkUser('carol');
      const boss = await mkUser('boss', 'admin');
      const mod = (await db.selectFrom('user').select(['id', 'username']).where('username', '=', 'mod').executeTakeFirstOrThrow());
      now = FEB;
      const rejected = await submit(notice(`/torrents/${(await mkTorrent(carol.id)).id}`));
      assert.ok((await rejectNotice(site, mod, rejected.id, 'Fair use')).ok, 'rejected');
      assert.equal((await getNotice(db, rejected.id))?.decisionNote, 'Fair use');
      const first = await submit(notice(`/torrents/${(await mkTorrent(carol.id)).id}`, { source: 'api' }));
      const up1 = await upholdNotice(site, mod, first.id);
      assert.ok(up1.ok && up1.disabled.length === 0, 'one upheld notice: still enabled');
      now = MAR;
      const second = await submit(notice([`/torrents/${(await mkTorrent(carol.id)).id}`, `/torrents/${(await mkTorrent(boss.id)).id}`]));
      const up2 = await upholdNotice(site, mod, second.id);
      assert.ok(up2.ok, 'upheld');
      assert.deepEqual(up2.disabled, [carol.id], 'carol disabled at the second upheld notice; the administrator is exempt');
      const c = await db.selectFrom('user').selectAll().where('id', '=', carol.id).executeTakeFirstOrThrow();
      assert.equal(c.enabled, 0);
      assert.match(c.disabled_reason ?? '', /Repeat infringer: 2 upheld/);
      const row = await db.selectFrom('audit_log').selectAll().where('action', '=', 'user.disable').where('target_id', '=', carol.id).executeTakeFirstOrThrow();
      assert.equal(row.actor_name, POLICY_ACTOR);
      assert.ok(changedUsers.some(([id]) => id === carol.id), 'tracker told');
      assert.equal(await applyRepeatInfringerPolicy(site, carol.id), false, 'already disabled');
      assert.equal((await db.selectFrom('user').select('enabled').where('id', '=', boss.id).executeTakeFirstOrThrow()).enabled, 1);
      // Outside the period, old notices no longer count.
      assert.equal(await upheldNoticeCount(db, carol.id, MAR), 1);

      const months = await transparencyReport(db);
      assert.deepEqual(
        months.map((m) => [m.month, m.received, m.upheld, m.rejected, m.counterNotices, m.restored]),
        [
          ['2025-03', 1, 1, 0, 0, 1],
          ['2025-02', 2, 1, 1, 1, 0],
          ['2025-01', 1, 1, 0, 0, 0],
        ],
      );
      const list = await listNotices(db, { status: 'upheld' });
      assert.equal(list.total, 2);
      assert.equal((await listNotices(db)).total, 4);
    });

    it('manages the blocklist by hand, audited, telling the tracker when a torrent has the hash', async () => {
      const mod = { id: 1, username: 'alice' };
      const tor = await mkTorrent(1);
      const bad = await addBlock(site, mod, { infoHash: 'xyz', reason: '' });
      assert.deepEqual(bad, { ok: false, errors: { info_hash: 'hash_invalid', reason: 'reason_required' } });
      changedTorrents.length = 0;
      const ok = await addBlock(site, mod, { infoHash: tor.info_hash_v1!.toUpperCase(), reason: 'Malware' });
      assert.deepEqual(ok, { ok: true, infoHash: tor.info_hash_v1 });
      assert.deepEqual(changedTorrents, [tor.id]);
      const dup = await addBlock(site, mod, { infoHash: tor.info_hash_v1!, reason: 'again' });
      assert.deepEqual(dup, { ok: false, errors: { info_hash: 'already_blocked' } });
      assert.equal((await findBlock(db, { v1: tor.info_hash_v1 }))?.reason, 'Malware');
      assert.equal(await removeBlock(site, mod, tor.info_hash_v1!), true);
      assert.equal(await removeBlock(site, mod, tor.info_hash_v1!), false, 'already removed');
      const actions = (await db.selectFrom('audit_log').select('action').where('target_type', '=', 'infohash').orderBy('id').execute()).map((a) => a.action);
      assert.deepEqual(actions, ['blocklist.add', 'blocklist.remove']);
    });

    it('exports the member data without secrets, deletes the account under a pseudonym', async () => {
      now = MAR;
      const dave = await mkUser('dave');
      const erin = await mkUser('erin');
      const tor = await mkTorrent(dave.id);
      await db.updateTable('user').set({ totp_secret: 'JBSWY3DPEHPK3PXP', totp_enabled: 1, profile_text: 'Hi, I am Dave' }).where('id', '=', dave.id).execute();
      await db.insertInto('bookmark').values({ user_id: dave.id, torrent_id: tor.id, created_at: now }).execute();
      await db.insertInto('login_ip').values({ user_id: dave.id, ip: '198.51.100.7', first_at: now - 10, last_at: now - 5, signup: 1 }).execute();
      await db.insertInto('session').values({ id: 'f'.repeat(64), user_id: dave.id, created_at: now, last_seen_at: now, expires_at: now + 3600, ip: '198.51.100.7', user_agent: 'Test' }).execute();
      await db.insertInto('message').values([
        { sender_id: dave.id, recipient_id: erin.id, subject: 'Hello Erin', body: 'sent body', created_at: now },
        { sender_id: erin.id, recipient_id: dave.id, subject: 'Hello Dave', body: 'received body', created_at: now },
      ]).execute();
      await db.insertInto('comment').values({ torrent_id: tor.id, user_id: dave.id, body: 'my comment', created_at: now }).execute();
      await db.insertInto('invite').values({ inviter_id: dave.id, code_hash: 'c'.repeat(64), email: 'friend@example.test', created_at: now, expires_at: now + 86400 }).execute();

      const data = await exportUserData(db, dave.id, now);
      assert.ok(data, 'exported');
      const text = JSON.stringify(data);
      const p = data.profile as Record<string, unknown>;
      assert.equal(p.username, 'dave');
      assert.equal(p.passkey, dave.passkey, 'the passkey is the member’s own');
      assert.ok(!text.includes('secret-hash-value') && !text.includes('password_hash'), 'no password hash');
      assert.ok(!text.includes('JBSWY3DPEHPK3PXP') && !text.includes('totp_secret'), 'no TOTP secret');
      assert.ok(!text.includes('f'.repeat(64)), 'no session token hash');
      assert.equal((data.torrents_uploaded as unknown[]).length, 1);
      assert.equal((data.bookmarks as unknown[]).length, 1);
      assert.equal((data.comments as Array<{ body: string }>)[0]?.body, 'my comment');
      assert.equal((data.messages_sent as Array<{ subject: string }>)[0]?.subject, 'Hello Erin');
      assert.equal((data.messages_received as Array<{ subject: string }>)[0]?.subject, 'Hello Dave');
      assert.equal((data.invites as Array<{ email: string }>)[0]?.email, 'friend@example.test');
      assert.equal((data.login_ips as Array<{ ip: string }>)[0]?.ip, '198.51.100.7');
      assert.equal((data.sessions as Array<{ user_agent: string }>)[0]?.user_agent, 'Test');

      const auditBefore = await db.selectFrom('audit_log').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      changedUsers.length = 0;
      const del = await deleteAccount(site, dave.id);
      assert.deepEqual(del, { ok: true, pseudonym: `deleted-${dave.id}` });
      const u = await db.selectFrom('user').selectAll().where('id', '=', dave.id).executeTakeFirstOrThrow();
      assert.equal(u.username, `deleted-${dave.id}`);
      assert.equal(u.email, null);
      assert.equal(u.password_hash, null);
      assert.equal(u.totp_secret, null);
      assert.equal(u.profile_text, null);
      assert.equal(u.enabled, 0);
      assert.equal(u.deleted_at, now);
      assert.notEqual(u.passkey, dave.passkey, 'passkey replaced');
      assert.deepEqual(changedUsers, [[dave.id, dave.passkey]], 'the tracker forgets the old passkey');
      for (const table of ['session', 'bookmark', 'login_ip'] as const) {
        const n = await db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).where('user_id', '=', dave.id).executeTakeFirstOrThrow();
        assert.equal(Number(n.n), 0, `${table} erased`);
      }
      assert.equal((await db.selectFrom('message').select('id').where('recipient_id', '=', dave.id).execute()).length, 0, 'messages received erased');
      assert.equal((await db.selectFrom('message').select('sender_deleted').where('sender_id', '=', dave.id).executeTakeFirstOrThrow()).sender_deleted, 1, 'sent message kept for its recipient');
      assert.equal((await db.selectFrom('invite').select('revoked_at').where('inviter_id', '=', dave.id).executeTakeFirstOrThrow()).revoked_at, now, 'unused invites revoked');
      assert.equal((await db.selectFrom('torrent').select(['anonymous', 'status']).where('id', '=', tor.id).executeTakeFirstOrThrow()).anonymous, 1, 'torrent kept, anonymous');
      assert.equal((await db.selectFrom('comment').select('user_id').where('torrent_id', '=', tor.id).executeTakeFirstOrThrow()).user_id, dave.id, 'comment kept');
      const auditAfter = await db.selectFrom('audit_log').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      assert.equal(Number(auditAfter.n), Number(auditBefore.n) + 1, 'audit rows kept, the deletion added');
      const last = await db.selectFrom('audit_log').selectAll().orderBy('id', 'desc').limit(1).executeTakeFirstOrThrow();
      assert.equal(last.action, 'user.delete_account');
      assert.equal(last.actor_name, `deleted-${dave.id}`);
      assert.ok(!(last.after ?? '').includes('dave@'), 'no personal data in the audit row');
      assert.equal(await verifyAuditChain(db), null);
      assert.deepEqual(await deleteAccount(site, dave.id), { ok: false, error: 'already_deleted' });

      // A member who took the pseudonym's name does not block it.
      const taken = await mkUser(`deleted-${erin.id}`);
      assert.ok(taken.id > 0, 'created');
      assert.deepEqual(await deleteAccount(site, erin.id), { ok: true, pseudonym: `deleted-${erin.id}-1` });
    });

    it('refuses to delete the last administrator', async () => {
      const admins = await db.selectFrom('user').select('id').where('role', '=', 'admin').where('enabled', '=', 1).execute();
      assert.equal(admins.length, 1, 'one administrator (boss)');
      assert.deepEqual(await deleteAccount(site, admins[0]!.id), { ok: false, error: 'last_admin' });
      assert.equal((await db.selectFrom('user').select('deleted_at').where('id', '=', admins[0]!.id).executeTakeFirstOrThrow()).deleted_at, null);
    });
  });
});

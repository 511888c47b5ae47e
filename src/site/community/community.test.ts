/**
 * The community services on every dialect: comment counts and permissions, thanks and ratings,
 * the requests board's credit moves, private messages, friends and members, contact, news.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Kysely } from 'kysely';
import type { Database, User, UserRole } from '../../db/schema.js';
import { forEachDialect, type TestDatabase } from '../../db/test-databases.js';
import { createUser } from '../../db/user.repository.js';
import { verifyAuditChain } from '../staff/audit.js';
import { installDefaultGrants } from '../staff/policy.js';
import { addComment, commentAccess, countComments, deleteComment, editComment, getComment, listComments, pageOfComment } from './comments.js';
import { createContactMessage, listContactMessages, setContactStatus } from './contact.js';
import { createNews, deleteNews, latestNews, updateNews } from './news.js';
import { addFriend, escapeLike, isOnline, listFriends, listOnline, listStaffTeam, ONLINE_WINDOW, removeFriend, searchMembers } from './people.js';
import {
  deleteMessageFor,
  getMessageFor,
  listBox,
  markRead,
  quoteForReply,
  replySubject,
  sendMessage,
  setArchived,
  unreadMessageCount,
} from './private-messages.js';
import { averageRating, hasThanked, myRating, parseScore, rateTorrent, thankTorrent } from './reactions.js';
import { addBounty, closeRequest, confirmFill, createRequest, fillRequest, getRequest, listBounties, listRequests, parseTorrentRef, rejectFill } from './requests.js';

const NOW = 1_700_000_000;
const GiB = 1024 ** 3;

async function mkUser(db: Kysely<Database>, username: string, role: UserRole = 'member', uploaded = 0): Promise<User> {
  const u = await createUser(db, { username, role, now: NOW });
  await db.updateTable('user').set({ uploaded }).where('id', '=', u.id).execute();
  return db.selectFrom('user').selectAll().where('id', '=', u.id).executeTakeFirstOrThrow();
}

let hashSeq = 0;
async function mkTorrent(db: Kysely<Database>, uploaderId: number | null, status: 'active' | 'pending' | 'deleted' = 'active') {
  const hash = (++hashSeq).toString(16).padStart(40, '0');
  const r = await db
    .insertInto('torrent')
    .values({ name: `Torrent ${hashSeq}`, info_hash_v1: hash, info_hash_v2: null, uploader_id: uploaderId, status, created_at: NOW })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { id: r.id, uploader_id: uploaderId };
}

async function uploadedOf(db: Kysely<Database>, id: number): Promise<number> {
  return Number((await db.selectFrom('user').select('uploaded').where('id', '=', id).executeTakeFirstOrThrow()).uploaded);
}

async function torrentRow(db: Kysely<Database>, id: number) {
  return db.selectFrom('torrent').select(['comment_count', 'thanks_count', 'rating_sum', 'rating_count']).where('id', '=', id).executeTakeFirstOrThrow();
}

forEachDialect((name, open) => {
  describe(`community services (${name})`, () => {
    let t: TestDatabase;
    let db: Kysely<Database>;
    let alice: User, bob: User, carol: User, mod: User, admin: User;

    before(async () => {
      t = await open();
      db = t.db;
      await installDefaultGrants(db);
      alice = await mkUser(db, 'alice', 'member', 10 * GiB);
      bob = await mkUser(db, 'bob', 'member', 2 * GiB);
      carol = await mkUser(db, 'carol', 'member', 0);
      mod = await mkUser(db, 'mod', 'moderator');
      admin = await mkUser(db, 'root', 'admin');
    });
    after(() => t.close());

    it('keeps comment_count in step with comments added and deleted, pages oldest first', async () => {
      const tor = await mkTorrent(db, alice.id);
      const ids: number[] = [];
      for (let i = 0; i < 5; i++) {
        const r = await addComment(db, { torrentId: tor.id, userId: i % 2 ? bob.id : carol.id, body: `  comment ${i}  `, now: NOW + i });
        assert.ok(r.ok, 'comment added');
        ids.push(r.id);
      }
      assert.deepEqual(await addComment(db, { torrentId: tor.id, userId: bob.id, body: '   ', now: NOW }), { ok: false, error: 'empty' });
      assert.deepEqual(await addComment(db, { torrentId: tor.id, userId: bob.id, body: 'x'.repeat(10_001), now: NOW }), { ok: false, error: 'too_long' });
      assert.equal((await torrentRow(db, tor.id)).comment_count, 5);
      const page2 = await listComments(db, tor.id, 2, 2);
      assert.deepEqual(page2.map((c) => c.body), ['comment 2', 'comment 3']);
      assert.equal(page2[1]!.author?.username, 'bob');
      assert.equal(page2[1]!.author?.uploaded, 2 * GiB, 'the author comes with their traffic (ratio)');
      const c4 = (await getComment(db, ids[4]!))!;
      assert.equal(await pageOfComment(db, c4, 2), 3);
      const c1 = (await getComment(db, ids[1]!))!;
      assert.equal(await deleteComment(db, { comment: c1, actor: bob, as: 'own', now: NOW + 10 }), true);
      assert.equal(await deleteComment(db, { comment: c1, actor: bob, as: 'own', now: NOW + 11 }), false, 'a second deletion changes nothing');
      assert.equal((await torrentRow(db, tor.id)).comment_count, 4);
      assert.equal(await countComments(db, tor.id), 4);
      assert.equal((await listComments(db, tor.id, 1, 10)).length, 4, 'deleted comments are not listed');
    });

    it('lets authors and outranking moderators change comments, and audits the staff', async () => {
      const tor = await mkTorrent(db, alice.id);
      const r = await addComment(db, { torrentId: tor.id, userId: bob.id, body: 'hello', now: NOW });
      assert.ok(r.ok, 'added');
      const c = (await getComment(db, r.id))!;
      assert.equal(await commentAccess(db, bob, c), 'own');
      assert.equal(await commentAccess(db, carol, c), null, 'another member cannot');
      assert.equal(await commentAccess(db, mod, c), 'staff');
      assert.equal(await commentAccess(db, null, c), null);
      const rm = await addComment(db, { torrentId: tor.id, userId: admin.id, body: 'admin words', now: NOW });
      assert.ok(rm.ok, 'added');
      assert.equal(await commentAccess(db, mod, (await getComment(db, rm.id))!), null, 'a moderator cannot touch an administrator’s comment');
      const auditBefore = await db.selectFrom('audit_log').select('id').execute();
      assert.deepEqual(await editComment(db, { comment: c, actor: mod, as: 'staff', body: 'hello (edited)', reason: 'tone', now: NOW + 1 }), { ok: true });
      const edited = (await getComment(db, c.id))!;
      assert.equal(edited.body, 'hello (edited)');
      assert.equal(edited.edited_at, NOW + 1);
      assert.equal(await deleteComment(db, { comment: edited, actor: mod, as: 'staff', reason: 'spam', now: NOW + 2 }), true);
      const rows = await db.selectFrom('audit_log').selectAll().where('id', 'not in', auditBefore.length ? auditBefore.map((a) => a.id) : [0]).orderBy('id').execute();
      assert.deepEqual(rows.map((a) => [a.action, a.target_id, a.actor_id, a.reason]), [['comment.edit', c.id, mod.id, 'tone'], ['comment.delete', c.id, mod.id, 'spam']]);
      assert.equal(await verifyAuditChain(db), null, 'the chain holds');
      assert.equal(await commentAccess(db, bob, (await getComment(db, c.id))!), null, 'a deleted comment cannot be changed');
      assert.deepEqual(await editComment(db, { comment: c, actor: bob, as: 'own', body: 'again', now: NOW + 3 }), { ok: false, error: 'gone' });
    });

    it('counts a thank-you once per member and refuses the uploader', async () => {
      const tor = await mkTorrent(db, alice.id);
      assert.deepEqual(await thankTorrent(db, tor, bob.id, NOW), { ok: true, thanked: true });
      assert.deepEqual(await thankTorrent(db, tor, bob.id, NOW), { ok: true, thanked: false });
      assert.deepEqual(await thankTorrent(db, tor, carol.id, NOW), { ok: true, thanked: true });
      assert.deepEqual(await thankTorrent(db, tor, alice.id, NOW), { ok: false, error: 'own' });
      assert.deepEqual(await thankTorrent(db, { id: 999_999, uploader_id: null }, bob.id, NOW), { ok: false, error: 'not_found' });
      assert.equal((await torrentRow(db, tor.id)).thanks_count, 2);
      assert.equal(await hasThanked(db, tor.id, bob.id), true);
      assert.equal(await hasThanked(db, tor.id, mod.id), false);
    });

    it('keeps one changeable score per member within 1..10, and the average', async () => {
      const tor = await mkTorrent(db, alice.id);
      for (const bad of [0, 11, -3, 2.5, Number.NaN]) assert.deepEqual(await rateTorrent(db, tor, bob.id, bad, NOW), { ok: false, error: 'out_of_range' }, `${bad} is refused`);
      assert.deepEqual(await rateTorrent(db, tor, alice.id, 10, NOW), { ok: false, error: 'own' });
      assert.deepEqual(await rateTorrent(db, tor, bob.id, 8, NOW), { ok: true, vote: 'new' });
      assert.deepEqual(await rateTorrent(db, tor, carol.id, 5, NOW), { ok: true, vote: 'new' });
      assert.deepEqual(await rateTorrent(db, tor, bob.id, 8, NOW), { ok: true, vote: 'same' });
      assert.deepEqual(await rateTorrent(db, tor, bob.id, 10, NOW), { ok: true, vote: 'changed' });
      const row = await torrentRow(db, tor.id);
      assert.deepEqual([row.rating_sum, row.rating_count], [15, 2]);
      assert.equal(averageRating(row.rating_sum, row.rating_count), 7.5);
      assert.equal(averageRating(0, 0), null);
      assert.equal(await myRating(db, tor.id, bob.id), 10);
      assert.equal(await myRating(db, tor.id, mod.id), null);
      assert.deepEqual(['1', '10', ' 7 ', '0', '11', 'x', '5.5', ''].map(parseScore), [1, 10, 7, null, null, null, null, null]);
      // Concurrent first votes of many members all count.
      const voters = await Promise.all(Array.from({ length: 6 }, (_, i) => mkUser(db, `voter${i}`)));
      await Promise.all(voters.map((v, i) => rateTorrent(db, tor, v.id, i + 1, NOW)));
      const after = await torrentRow(db, tor.id);
      assert.deepEqual([after.rating_sum, after.rating_count], [15 + 21, 8]);
    });

    it('moves a request bounty exactly once and refuses overspending', async () => {
      const giver = await mkUser(db, 'giver', 'member', 3 * GiB);
      const requester = await mkUser(db, 'asker', 'member', 1 * GiB);
      const filler = await mkUser(db, 'filler', 'member', 0);
      const cat = await db.selectFrom('category').select('id').limit(1).executeTakeFirst();
      const bad = await createRequest(db, { userId: requester.id, title: '  ', description: '', categoryId: 987_654, now: NOW });
      assert.deepEqual(bad, { ok: false, errors: ['title_empty', 'category_unknown'] });
      const created = await createRequest(db, { userId: requester.id, title: 'An old film', description: 'In French', categoryId: cat?.id ?? null, now: NOW });
      assert.ok(created.ok, 'created');
      const id = created.id;
      assert.deepEqual(await addBounty(db, { requestId: id, userId: giver.id, amount: 4 * GiB, now: NOW }), { ok: false, error: 'insufficient' });
      assert.deepEqual(await addBounty(db, { requestId: id, userId: giver.id, amount: 0, now: NOW }), { ok: false, error: 'invalid_amount' });
      assert.equal(await uploadedOf(db, giver.id), 3 * GiB, 'a refused bounty takes nothing');
      assert.equal((await getRequest(db, id))!.bounty, 0, 'nor adds anything');
      assert.deepEqual(await addBounty(db, { requestId: id, userId: giver.id, amount: 2 * GiB, now: NOW }), { ok: true, bounty: 2 * GiB });
      // Two bounties racing for the last GiB: exactly one passes, nobody goes below zero.
      const race = await Promise.all([
        addBounty(db, { requestId: id, userId: giver.id, amount: GiB, now: NOW }),
        addBounty(db, { requestId: id, userId: giver.id, amount: GiB, now: NOW }),
      ]);
      assert.equal(race.filter((r) => r.ok).length, 1, 'one of two racing bounties passes');
      assert.equal(await uploadedOf(db, giver.id), 0);
      assert.deepEqual(await addBounty(db, { requestId: id, userId: requester.id, amount: GiB / 2, now: NOW }), { ok: true, bounty: 3.5 * GiB });
      assert.equal(await uploadedOf(db, requester.id), GiB / 2);
      assert.equal((await listBounties(db, id)).length, 3);

      const tor = await mkTorrent(db, filler.id);
      const pending = await mkTorrent(db, filler.id, 'pending');
      assert.deepEqual(await fillRequest(db, { requestId: id, userId: requester.id, torrentId: tor.id, now: NOW }), { ok: false, error: 'own_request' });
      assert.deepEqual(await fillRequest(db, { requestId: id, userId: filler.id, torrentId: pending.id, now: NOW }), { ok: false, error: 'torrent_not_found' });
      assert.deepEqual(await confirmFill(db, { requestId: id, userId: requester.id, now: NOW }), { ok: false, error: 'not_filled' });
      assert.deepEqual(await fillRequest(db, { requestId: id, userId: filler.id, torrentId: tor.id, now: NOW + 1 }), { ok: true });
      assert.deepEqual(await fillRequest(db, { requestId: id, userId: bob.id, torrentId: tor.id, now: NOW + 1 }), { ok: false, error: 'not_open' });
      assert.deepEqual(await addBounty(db, { requestId: id, userId: alice.id, amount: GiB, now: NOW }), { ok: false, error: 'not_open' }, 'no bounty once filled');
      const note = await db.selectFrom('notification').selectAll().where('user_id', '=', requester.id).execute();
      assert.deepEqual(note.map((n) => n.kind), ['request_filled']);
      // Rejected, then filled again, then confirmed twice at once: the credit moves once.
      assert.deepEqual(await rejectFill(db, { requestId: id, userId: filler.id, now: NOW }), { ok: false, error: 'not_requester' });
      assert.deepEqual(await rejectFill(db, { requestId: id, userId: requester.id, now: NOW + 2 }), { ok: true });
      assert.equal((await getRequest(db, id))!.status, 'open');
      assert.equal((await getRequest(db, id))!.filler_id, null);
      assert.deepEqual(await fillRequest(db, { requestId: id, userId: filler.id, torrentId: tor.id, now: NOW + 3 }), { ok: true });
      assert.deepEqual(await confirmFill(db, { requestId: id, userId: filler.id, now: NOW + 4 }), { ok: false, error: 'not_requester' });
      const confirms = await Promise.all([confirmFill(db, { requestId: id, userId: requester.id, now: NOW + 4 }), confirmFill(db, { requestId: id, userId: requester.id, now: NOW + 4 })]);
      assert.equal(confirms.filter((r) => r.ok).length, 1, 'one of two racing confirmations passes');
      assert.equal(await uploadedOf(db, filler.id), 3.5 * GiB, 'the filler got the whole bounty once');
      const done = (await getRequest(db, id))!;
      assert.equal(done.status, 'confirmed');
      assert.equal(done.torrent_id, tor.id);
      assert.deepEqual(await closeRequest(db, { requestId: id, actor: requester, as: 'own', now: NOW + 5 }), { ok: false, error: 'not_closable' });
      assert.equal(await uploadedOf(db, filler.id), 3.5 * GiB, 'a confirmed request cannot be closed for a refund');
      assert.deepEqual((await listRequests(db, { status: 'confirmed', page: 1 })).rows.map((r) => r.id), [id]);
    });

    it('refunds every giver when a request is closed, and audits a staff closure', async () => {
      const g1 = await mkUser(db, 'g1', 'member', GiB);
      const g2 = await mkUser(db, 'g2', 'member', GiB);
      const asker = await mkUser(db, 'asker2', 'member', 0);
      const r1 = await createRequest(db, { userId: asker.id, title: 'One', description: '', categoryId: null, now: NOW });
      const r2 = await createRequest(db, { userId: asker.id, title: 'Two', description: '', categoryId: null, now: NOW });
      assert.ok(r1.ok && r2.ok, 'created');
      for (const g of [g1, g2]) assert.ok((await addBounty(db, { requestId: r1.id, userId: g.id, amount: GiB / 4, now: NOW })).ok, 'bounty');
      assert.ok((await addBounty(db, { requestId: r1.id, userId: g1.id, amount: GiB / 4, now: NOW })).ok, 'bounty');
      assert.ok((await addBounty(db, { requestId: r2.id, userId: g2.id, amount: GiB / 2, now: NOW })).ok, 'bounty');
      assert.deepEqual(await closeRequest(db, { requestId: r1.id, actor: g1, as: 'own', now: NOW }), { ok: false, error: 'not_requester' });
      assert.deepEqual(await closeRequest(db, { requestId: r1.id, actor: asker, as: 'own', now: NOW }), { ok: true, refunded: 3 * (GiB / 4) });
      assert.equal(await uploadedOf(db, g1.id), GiB);
      assert.equal(await uploadedOf(db, g2.id), GiB / 2);
      assert.deepEqual(await closeRequest(db, { requestId: r1.id, actor: asker, as: 'own', now: NOW }), { ok: false, error: 'not_closable' }, 'refunded once');
      assert.deepEqual(await closeRequest(db, { requestId: r2.id, actor: mod, as: 'staff', reason: 'duplicate', now: NOW }), { ok: true, refunded: GiB / 2 });
      assert.equal(await uploadedOf(db, g2.id), GiB);
      const a = await db.selectFrom('audit_log').selectAll().where('action', '=', 'request.close').executeTakeFirstOrThrow();
      assert.equal(a.target_id, r2.id);
      assert.equal(a.reason, 'duplicate');
    });

    it('reads torrent references as members paste them', () => {
      assert.deepEqual(
        ['42', '#42', '/t/42', 'https://x.test/t/42', 'http://x.test/torrents/42/some-slug', '/torrents/42', ' 42 ', 'abc', '/u/42', '0', '', 'https://x.test/t/42x'].map(parseTorrentRef),
        [42, 42, 42, 42, 42, 42, 42, null, null, null, null, null],
      );
    });

    it('sends, lists, reads, archives and deletes private messages per side', async () => {
      const sender = await mkUser(db, 'pmfrom');
      const to = await mkUser(db, 'PmTo');
      const bad = await sendMessage(db, { senderId: sender.id, to: 'nobody', subject: '', body: ' ', replyTo: null, now: NOW });
      assert.ok(!bad.ok, 'refused');
      assert.deepEqual(bad.errors, { to: 'recipient_unknown', subject: 'subject_empty', body: 'body_empty' });
      assert.equal(bad.draft.to, 'nobody', 'the draft comes back');
      const self = await sendMessage(db, { senderId: sender.id, to: 'pmfrom', subject: 's', body: 'b', replyTo: null, now: NOW });
      assert.ok(!self.ok && self.errors.to === 'recipient_self', 'no message to oneself');
      const m1 = await sendMessage(db, { senderId: sender.id, to: 'pmto', subject: 'Hello', body: 'First [b]one[/b]', replyTo: null, now: NOW });
      const m2 = await sendMessage(db, { senderId: sender.id, to: 'PMTO', subject: 'Again', body: 'Second', replyTo: null, now: NOW + 1 });
      assert.ok(m1.ok && m2.ok, 'sent (username case does not matter)');
      assert.equal(await unreadMessageCount(db, to.id), 2);
      assert.deepEqual((await listBox(db, to.id, 'inbox', 1)).rows.map((r) => r.subject), ['Again', 'Hello']);
      assert.deepEqual((await listBox(db, sender.id, 'sent', 1)).rows.map((r) => [r.subject, r.other_name]), [['Again', 'PmTo'], ['Hello', 'PmTo']]);
      assert.equal(await getMessageFor(db, m1.id, carol.id), undefined, 'a third member sees nothing');
      assert.equal((await getMessageFor(db, m1.id, to.id))?.side, 'recipient');
      assert.equal(await markRead(db, m1.id, sender.id, NOW), false, 'the sender cannot mark it read');
      assert.equal(await markRead(db, m1.id, to.id, NOW + 5), true);
      assert.equal(await markRead(db, m1.id, to.id, NOW + 6), false, 'read once');
      assert.equal(await unreadMessageCount(db, to.id), 1);
      assert.equal(await setArchived(db, m1.id, sender.id, true), false, 'only the recipient archives');
      assert.equal(await setArchived(db, m1.id, to.id, true), true);
      assert.deepEqual((await listBox(db, to.id, 'inbox', 1)).rows.map((r) => r.id), [m2.id]);
      assert.deepEqual((await listBox(db, to.id, 'archive', 1)).rows.map((r) => r.id), [m1.id]);
      // A reply links to the original and quotes it.
      const orig = (await getMessageFor(db, m1.id, to.id))!;
      const reply = await sendMessage(db, { senderId: to.id, to: 'pmfrom', subject: replySubject(orig.subject), body: quoteForReply(orig.body, orig.sender_name) + 'Thanks', replyTo: m1.id, now: NOW + 7 });
      assert.ok(reply.ok, 'replied');
      const got = (await getMessageFor(db, reply.id, sender.id))!;
      assert.equal(got.subject, 'Re: Hello');
      assert.equal(replySubject('RE: x'), 'RE: x');
      assert.equal(got.reply_to, m1.id);
      assert.ok(got.body.startsWith('[quote=pmfrom]First [b]one[/b][/quote]'), 'quoted');
      // Deleting is per side.
      assert.equal(await deleteMessageFor(db, m2.id, to.id), true);
      assert.equal(await getMessageFor(db, m2.id, to.id), undefined);
      assert.equal((await getMessageFor(db, m2.id, sender.id))?.side, 'sender', 'still in the sent box');
      assert.equal(await unreadMessageCount(db, to.id), 0, 'a deleted unread message no longer counts');
      assert.equal(await deleteMessageFor(db, m2.id, carol.id), false);
      assert.equal(await deleteMessageFor(db, m2.id, sender.id), true);
      assert.equal((await listBox(db, sender.id, 'sent', 1)).total, 1);
    });

    it('keeps friends, online status, member search and the staff team', async () => {
      const f1 = await mkUser(db, 'friend_one');
      const f2 = await mkUser(db, 'friend%two');
      const gone = await mkUser(db, 'friend_gone');
      await db.updateTable('user').set({ deleted_at: NOW }).where('id', '=', gone.id).execute();
      await db.updateTable('user').set({ last_seen_at: NOW - 60 }).where('id', '=', f1.id).execute();
      await db.updateTable('user').set({ last_seen_at: NOW - ONLINE_WINDOW - 1, privacy: 'strong' }).where('id', '=', f2.id).execute();
      assert.deepEqual(await addFriend(db, { userId: alice.id, userName: 'alice', friendId: f1.id, now: NOW }), { ok: true, added: true });
      assert.deepEqual(await addFriend(db, { userId: alice.id, userName: 'alice', friendId: f1.id, now: NOW }), { ok: true, added: false });
      assert.deepEqual(await addFriend(db, { userId: alice.id, userName: 'alice', friendId: f2.id, now: NOW }), { ok: true, added: true });
      assert.deepEqual(await addFriend(db, { userId: alice.id, userName: 'alice', friendId: alice.id, now: NOW }), { ok: false, error: 'self' });
      assert.deepEqual(await addFriend(db, { userId: alice.id, userName: 'alice', friendId: gone.id, now: NOW }), { ok: false, error: 'not_found' });
      assert.deepEqual(await addFriend(db, { userId: f1.id, userName: 'friend_one', friendId: alice.id, now: NOW }), { ok: true, added: true });
      const friends = await listFriends(db, alice.id);
      assert.deepEqual(friends.map((f) => [f.username, f.mutual, f.status_visible, isOnline(f.last_seen_at, NOW)]), [
        ['friend%two', false, false, false],
        ['friend_one', true, true, true],
      ]);
      const notes = await db.selectFrom('notification').select('kind').where('user_id', '=', f1.id).execute();
      assert.deepEqual(notes.map((n) => n.kind), ['friend_added'], 'told once');
      assert.equal(await removeFriend(db, alice.id, f2.id), true);
      assert.equal(await removeFriend(db, alice.id, f2.id), false);
      // Online: within the window, strong privacy only for staff.
      await db.updateTable('user').set({ last_seen_at: NOW - 10 }).where('id', '=', f2.id).execute();
      assert.deepEqual((await listOnline(db, NOW, alice)).map((u) => u.username), ['friend_one']);
      assert.deepEqual((await listOnline(db, NOW, mod)).map((u) => u.username), ['friend%two', 'friend_one']);
      // Search: prefix, case-insensitive, LIKE characters taken literally, deleted accounts left out.
      assert.deepEqual((await searchMembers(db, 'FRIEND')).map((u) => u.username), ['friend%two', 'friend_one']);
      assert.deepEqual((await searchMembers(db, 'friend%')).map((u) => u.username), ['friend%two']);
      assert.deepEqual((await searchMembers(db, 'friend_')).map((u) => u.username), ['friend_one']);
      assert.deepEqual(await searchMembers(db, '  '), []);
      assert.equal(escapeLike('a%b_c\\'), 'a\\%b\\_c\\\\');
      const team = await listStaffTeam(db);
      assert.deepEqual(team.map((g) => [g.role, g.members.map((m) => m.username)]), [['admin', ['root']], ['supermod', []], ['moderator', ['mod']], ['uploader', []]]);
    });

    it('records contact messages and lets staff change their status (audited)', async () => {
      const bad = await createContactMessage(db, { userId: null, email: 'nope', subject: '', body: '', now: NOW });
      assert.ok(!bad.ok, 'refused');
      assert.deepEqual(bad.errors, { email: 'email_invalid', subject: 'subject_empty', body: 'body_empty' });
      const ok1 = await createContactMessage(db, { userId: null, email: 'visitor@example.test', subject: 'Hi', body: 'A question', now: NOW });
      const ok2 = await createContactMessage(db, { userId: bob.id, email: '', subject: 'Member', body: 'Another', now: NOW + 1 });
      assert.ok(ok1.ok && ok2.ok, 'recorded');
      const list = await listContactMessages(db, { status: 'open', page: 1 });
      assert.deepEqual(list.rows.map((r) => [r.subject, r.username, r.email]), [['Member', 'bob', null], ['Hi', null, 'visitor@example.test']]);
      assert.equal(await setContactStatus(db, { id: ok1.id, status: 'answered', actor: mod, now: NOW }), true);
      assert.equal(await setContactStatus(db, { id: 999_999, status: 'closed', actor: mod, now: NOW }), false);
      assert.equal((await listContactMessages(db, { status: 'open', page: 1 })).total, 1);
      const a = await db.selectFrom('audit_log').selectAll().where('action', '=', 'contact.status').executeTakeFirstOrThrow();
      assert.equal(a.after, JSON.stringify({ status: 'answered' }));
    });

    it('shows news in their language or in both, and audits news changes', async () => {
      const bad = await createNews(db, { actor: admin, title: '', body: '', locale: null, now: NOW });
      assert.ok(!bad.ok && 'errors' in bad, 'refused');
      const both = await createNews(db, { actor: admin, title: 'For all', body: 'x', locale: null, now: NOW });
      const fr = await createNews(db, { actor: admin, title: 'Pour vous', body: 'y', locale: 'fr', now: NOW + 1 });
      const en = await createNews(db, { actor: admin, title: 'For you', body: 'z', locale: 'en', now: NOW + 2 });
      assert.ok(both.ok && fr.ok && en.ok, 'created');
      assert.deepEqual((await latestNews(db, 'fr')).map((n) => n.title), ['Pour vous', 'For all']);
      assert.deepEqual((await latestNews(db, 'en')).map((n) => n.title), ['For you', 'For all']);
      const up = await updateNews(db, { id: fr.id, actor: admin, title: 'Pour tous', body: 'y', locale: null, now: NOW + 3 });
      assert.ok(up.ok, 'updated');
      assert.deepEqual((await latestNews(db, 'en')).map((n) => n.title), ['For you', 'Pour tous', 'For all']);
      assert.deepEqual(await updateNews(db, { id: 999_999, actor: admin, title: 'a', body: 'b', locale: null, now: NOW }), { ok: false, gone: true });
      assert.equal(await deleteNews(db, { id: en.id, actor: admin, now: NOW + 4 }), true);
      assert.equal(await deleteNews(db, { id: en.id, actor: admin, now: NOW + 4 }), false);
      const actions = await db.selectFrom('audit_log').select('action').where('target_type', '=', 'news').orderBy('id').execute();
      assert.deepEqual(actions.map((a) => a.action), ['news.create', 'news.create', 'news.create', 'news.edit', 'news.delete']);
      assert.equal(await verifyAuditChain(db), null);
    });
  });
});

/**
 * The community pages through HTTP: comments (escaped markup, ratio, edit and delete rights),
 * thanks and ratings, the requests board's credit moves, private messages and the header's
 * unread count, friends and members online, member search, the staff team, the contact form and
 * its staff list, news on the home page, and the permission refusals.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { bencode } from '../../src/protocol/bencode.js';
import { createSession } from '../../src/site/sessions.js';
import { insertTorrent, type InsertedTorrent } from '../../src/site/torrents/read.testing.js';
import { SESSION_COOKIE } from '../../src/web/context.js';
import { buildTorrent } from '../fixtures/metainfo/builders.js';
import { chromiumUnavailable, launchChromium, seriousA11yViolations } from '../helpers/chromium.js';
import { startSite, type Browser, type TestSite } from '../helpers/site.js';

type Member = Awaited<ReturnType<TestSite['member']>>;
const GiB = 1024 ** 3;

async function loggedIn(s: TestSite, m: { id: number }): Promise<Browser> {
  const b = s.browser();
  const token = await createSession(s.app.db(), m.id, { persistent: false, ttl: 3600, ip: null, userAgent: null, now: Math.floor(Date.now() / 1000) });
  b.cookies.set(SESSION_COOKIE, token);
  return b;
}

function rawTorrent(name: string): Buffer {
  const b = buildTorrent('v1', { name, files: [{ path: ['file.bin'], size: 5000 }] });
  b.top.announce = 'http://uploader.example/announce';
  return bencode(b.top);
}

/** The comments section of a torrent page. */
function commentsOf(text: string): string {
  const i = text.indexOf('id="comments"');
  assert.ok(i >= 0, 'the page has a comments section');
  return text.slice(i);
}

describe('community pages', () => {
  let s: TestSite;
  let alice: Member, bob: Member, carol: Member, mia: Member, root: Member, sam: Member;
  let tor: InsertedTorrent;
  let tor2: InsertedTorrent;
  const path = (t: InsertedTorrent) => `/torrents/${t.id}/${t.slug}`;
  const uploaded = async (id: number) => Number((await s.app.db().selectFrom('user').select('uploaded').where('id', '=', id).executeTakeFirstOrThrow()).uploaded);

  before(async () => {
    s = await startSite();
    alice = await s.member('alice');
    bob = await s.member('bob');
    carol = await s.member('carol');
    mia = await s.member('mia', { role: 'moderator' });
    root = await s.member('root', { role: 'admin' });
    sam = await s.member('sam', { role: 'supermod' });
    const db = s.app.db();
    // bob: ratio 2.00; carol: hides her stats.
    await db.updateTable('user').set({ uploaded: 4 * GiB, downloaded: 2 * GiB }).where('id', '=', bob.id).execute();
    await db.updateTable('user').set({ privacy: 'strong', uploaded: 3 * GiB, downloaded: GiB }).where('id', '=', carol.id).execute();
    tor = await insertTorrent(db, { raw: rawTorrent('Community Film'), uploaderId: alice.id });
    tor2 = await insertTorrent(db, { raw: rawTorrent('Filled Request Film'), uploaderId: carol.id });
    for (const t of [tor, tor2]) await s.app.site().tracker.torrentChanged(t.id);
  });
  after(() => s.stop());

  it('posts comments with escaped markup and the author’s ratio, and keeps the count', async () => {
    const b = await loggedIn(s, bob);
    await b.get(path(tor));
    const r = await b.post(`/torrents/${tor.id}/comments`, { body: 'Great [b]copy[/b] <script>alert("x")</script> <img src=x onerror=alert(1)>' });
    assert.equal(r.status, 303);
    assert.match(r.location ?? '', new RegExp(`^${path(tor)}\\?comments=1#c\\d+$`));
    const page = await b.get(r.location!);
    const c = commentsOf(page.text);
    assert.ok(c.includes('<strong>copy</strong>'), 'BBCode rendered');
    assert.ok(!/<script>alert/.test(page.text), 'no script tag survives');
    assert.ok(!/<img[^>]*onerror/.test(page.text), 'no event attribute survives');
    assert.ok(c.includes('&lt;script&gt;'), 'the tag is shown as text');
    assert.match(c, new RegExp(`<a href="/u/${bob.id}">bob</a>[\\s\\S]*?Ratio <span class="ratio-value">2.00</span>`), 'the commenter’s ratio');
    assert.match(page.text, /Your comment is posted/);
    // Strong privacy hides the ratio from other members but not from staff.
    const cb = await loggedIn(s, carol);
    await cb.get(path(tor));
    assert.equal((await cb.post(`/torrents/${tor.id}/comments`, { body: 'Thanks!' })).status, 303);
    assert.match(commentsOf((await b.get(path(tor))).text), /<a href="\/u\/\d+">carol<\/a>[\s\S]*?<span class="ratio-value">hidden<\/span>/);
    assert.match(commentsOf((await (await loggedIn(s, mia)).get(path(tor))).text), /carol<\/a>[\s\S]*?<span class="ratio-value">3.00<\/span>/);
    const row = await s.app.db().selectFrom('torrent').select('comment_count').where('id', '=', tor.id).executeTakeFirstOrThrow();
    assert.equal(row.comment_count, 2);
    // Another member may report a comment (not their own), and the staff queue gets it.
    const bobsId = Number(/id="c(\d+)"[\s\S]*?>bob<\/a>/.exec(commentsOf((await cb.get(path(tor))).text))?.[1]);
    const asCarol = commentsOf((await cb.get(path(tor))).text);
    assert.ok(asCarol.includes(`href="/report/comment/${bobsId}"`), 'a report link on someone else’s comment');
    assert.ok(!commentsOf((await b.get(path(tor))).text).includes(`href="/report/comment/${bobsId}"`), 'no report link on one’s own comment');
    assert.equal((await cb.get(`/report/comment/${bobsId}`)).status, 200);
    assert.equal((await cb.post(`/report/comment/${bobsId}`, { reason: 'Spam in the comments' })).status, 303);
    const rep = await s.app.db().selectFrom('report').select(['target_type', 'target_id']).where('reason', '=', 'Spam in the comments').executeTakeFirstOrThrow();
    assert.deepEqual(rep, { target_type: 'comment', target_id: bobsId });
    // An empty comment re-renders the form with the error; visitors are sent to log in.
    const empty = await b.post(`/torrents/${tor.id}/comments`, { body: '   ' });
    assert.equal(empty.status, 400);
    assert.match(empty.text, /This field is required/);
    const visitor = s.browser();
    assert.match((await visitor.get(path(tor))).text, /Log in to comment/);
    await visitor.get('/contact');
    const anon = await visitor.post(`/torrents/${tor.id}/comments`, { body: 'hi' });
    assert.equal(anon.status, 303);
    assert.match(anon.location ?? '', /^\/login/);
  });

  it('lets the author and outranking staff edit and delete, refuses others, audits staff', async () => {
    const db = s.app.db();
    const b = await loggedIn(s, bob);
    await b.get(path(tor));
    const posted = await b.post(`/torrents/${tor.id}/comments`, { body: 'To be edited' });
    const id = Number(/#c(\d+)$/.exec(posted.location!)![1]);
    const ab = await loggedIn(s, alice);
    assert.equal((await ab.get(`/comments/${id}/edit`)).status, 403, 'another member may not edit');
    assert.equal((await ab.post(`/comments/${id}/delete`, {})).status, 403, 'nor delete');
    assert.equal((await ab.post(`/comments/${id}/edit`, { body: 'hacked' })).status, 403);
    const edit = await b.get(`/comments/${id}/edit`);
    assert.equal(edit.status, 200);
    assert.ok(edit.text.includes('>To be edited</textarea>'), 'the form holds the text');
    assert.ok(!edit.text.includes('name="reason"'), 'no staff reason for the author');
    const bad = await b.post(`/comments/${id}/edit`, { body: 'x'.repeat(10_001) });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /at most 10,000 characters/);
    assert.equal((await b.post(`/comments/${id}/edit`, { body: 'Edited by me' })).status, 303);
    assert.match(commentsOf((await b.get(path(tor))).text), /Edited by me[\s\S]*?/);
    const mb = await loggedIn(s, mia);
    const staffEdit = await mb.get(`/comments/${id}/edit`);
    assert.ok(staffEdit.text.includes('name="reason"'), 'staff give a reason');
    assert.equal((await mb.post(`/comments/${id}/edit`, { body: 'Edited by staff', reason: 'rude words' })).status, 303);
    // A moderator cannot touch an administrator's comment.
    const rb = await loggedIn(s, root);
    await rb.get(path(tor));
    const adminPost = await rb.post(`/torrents/${tor.id}/comments`, { body: 'Admin says' });
    const adminId = Number(/#c(\d+)$/.exec(adminPost.location!)![1]);
    assert.equal((await mb.get(`/comments/${adminId}/edit`)).status, 403);
    assert.equal((await mb.post(`/comments/${adminId}/delete`, {})).status, 403);
    const before = (await db.selectFrom('torrent').select('comment_count').where('id', '=', tor.id).executeTakeFirstOrThrow()).comment_count;
    await mb.get(`/comments/${id}/edit`);
    const del = await mb.post(`/comments/${id}/delete`, { reason: 'off topic' });
    assert.equal(del.status, 303);
    const gone = await db.selectFrom('comment').select(['deleted_at', 'deleted_by']).where('id', '=', id).executeTakeFirstOrThrow();
    assert.ok(gone.deleted_at !== null && gone.deleted_by === mia.id, 'soft-deleted by the moderator');
    assert.equal((await db.selectFrom('torrent').select('comment_count').where('id', '=', tor.id).executeTakeFirstOrThrow()).comment_count, before - 1);
    assert.ok(!(await b.get(path(tor))).text.includes('Edited by staff'), 'no longer listed');
    assert.equal((await b.get(`/comments/${id}/edit`)).status, 404, 'a deleted comment cannot be edited');
    const audits = await db.selectFrom('audit_log').select(['action', 'reason', 'actor_id']).where('target_type', '=', 'comment').where('target_id', '=', id).orderBy('id').execute();
    assert.deepEqual(audits, [{ action: 'comment.edit', reason: 'rude words', actor_id: mia.id }, { action: 'comment.delete', reason: 'off topic', actor_id: mia.id }]);
    // The author deletes their own (not audited).
    await rb.get(path(tor));
    assert.equal((await rb.post(`/comments/${adminId}/delete`, {})).status, 303);
    assert.equal((await db.selectFrom('audit_log').select('id').where('target_type', '=', 'comment').where('target_id', '=', adminId).execute()).length, 0);
  });

  it('pages the comments', async () => {
    const db = s.app.db();
    const t3 = await insertTorrent(db, { raw: rawTorrent('Busy Torrent'), uploaderId: alice.id });
    const now = Math.floor(Date.now() / 1000);
    await db.insertInto('comment').values(Array.from({ length: 25 }, (_, i) => ({ torrent_id: t3.id, user_id: bob.id, body: `note number ${i + 1}.`, created_at: now - 100 + i }))).execute();
    await db.updateTable('torrent').set({ comment_count: 25 }).where('id', '=', t3.id).execute();
    const b = await loggedIn(s, carol);
    const p1 = commentsOf((await b.get(path(t3))).text);
    assert.ok(p1.includes('note number 1.') && p1.includes('note number 20.') && !p1.includes('note number 21.'), 'the first 20 on page 1');
    assert.ok(p1.includes(`href="${path(t3)}?comments=2#comments"`), 'a link to page 2');
    const p2 = commentsOf((await b.get(`${path(t3)}?comments=2`)).text);
    assert.ok(p2.includes('note number 21.') && p2.includes('note number 25.') && !p2.includes('note number 20.'), 'the rest on page 2');
    assert.match(p2, /Comments \(25\)/);
  });

  it('counts a thank-you once and keeps ratings within 1 to 10 with their average', async () => {
    const db = s.app.db();
    const b = await loggedIn(s, bob);
    await b.get(path(tor));
    assert.equal((await b.post(`/torrents/${tor.id}/thanks`, {})).status, 303);
    const again = await b.post(`/torrents/${tor.id}/thanks`, {}, { follow: true });
    assert.match(again.text, /You had already said thank you/);
    assert.match(again.text, /1 member said thank you/);
    assert.match(again.text, /You said thank you/);
    const ab = await loggedIn(s, alice);
    await ab.get(path(tor));
    assert.equal((await ab.post(`/torrents/${tor.id}/thanks`, {})).status, 403, 'not one’s own upload');
    assert.ok(!(await ab.get(path(tor))).text.includes(`action="/torrents/${tor.id}/rate"`), 'no rating form for the uploader');
    assert.equal((await db.selectFrom('torrent').select('thanks_count').where('id', '=', tor.id).executeTakeFirstOrThrow()).thanks_count, 1);

    for (const bad of ['0', '11', '5.5', 'ten', '']) {
      assert.equal((await b.post(`/torrents/${tor.id}/rate`, { score: bad })).status, 400, `score ${JSON.stringify(bad)} refused`);
    }
    assert.equal((await ab.post(`/torrents/${tor.id}/rate`, { score: '10' })).status, 403);
    assert.equal((await b.post(`/torrents/${tor.id}/rate`, { score: '9' })).status, 303);
    const cb = await loggedIn(s, carol);
    await cb.get(path(tor));
    assert.equal((await cb.post(`/torrents/${tor.id}/rate`, { score: '4' })).status, 303);
    assert.equal((await b.post(`/torrents/${tor.id}/rate`, { score: '8' })).status, 303, 'a member changes their vote');
    const page = await b.get(path(tor));
    assert.match(page.text, /Rated 6.0\/10/);
    assert.match(page.text, /\(2 votes\)/);
    assert.match(page.text, /<option value="8" selected>8\/10<\/option>/);
    const row = await db.selectFrom('torrent').select(['rating_sum', 'rating_count']).where('id', '=', tor.id).executeTakeFirstOrThrow();
    assert.deepEqual(row, { rating_sum: 12, rating_count: 2 });
    const fr = await loggedIn(s, bob);
    fr.acceptLanguage = 'fr';
    await db.updateTable('user').set({ locale: 'fr' }).where('id', '=', bob.id).execute();
    assert.match((await fr.get(path(tor))).text, /Noté 6,0\/10/);
    await db.updateTable('user').set({ locale: null }).where('id', '=', bob.id).execute();
  });

  it('runs a request from bounty to confirmation, moving the credit once and refusing overspending', async () => {
    const db = s.app.db();
    await db.updateTable('user').set({ uploaded: 2 * GiB }).where('id', '=', alice.id).execute();
    await db.updateTable('user').set({ uploaded: 0 }).where('id', '=', carol.id).execute();
    const ab = await loggedIn(s, alice);
    await ab.get('/requests/new');
    const bad = await ab.post('/requests', { title: ' ', description: 'Kept text', category: '' });
    assert.equal(bad.status, 400);
    assert.ok(bad.text.includes('>Kept text</textarea>'), 'the form keeps what was typed');
    const created = await ab.post('/requests', { title: 'The 1962 film, French dub', description: '[i]Any[/i] quality', category: '' });
    assert.equal(created.status, 303);
    const reqPath = created.location!;
    const id = Number(/^\/requests\/(\d+)$/.exec(reqPath)![1]);
    const page = await ab.get(reqPath);
    assert.match(page.text, /<h1>The 1962 film, French dub<\/h1>/);
    assert.ok(page.text.includes('<em>Any</em>'), 'the description is rendered');
    // Overspending is refused with the amount kept; nothing moves.
    const over = await ab.post(`/requests/${id}/bounty`, { amount: '3', unit: 'GiB' });
    assert.equal(over.status, 400);
    assert.match(over.text, /smaller than this amount/);
    assert.ok(over.text.includes('id="bounty-amount" name="amount" inputmode="decimal" value="3"'), 'the amount is kept');
    assert.equal((await ab.post(`/requests/${id}/bounty`, { amount: '-1', unit: 'GiB' })).status, 400);
    assert.equal((await ab.post(`/requests/${id}/bounty`, { amount: '1', unit: 'PB' })).status, 400);
    assert.equal(await uploaded(alice.id), 2 * GiB);
    assert.equal((await ab.post(`/requests/${id}/bounty`, { amount: '1,5', unit: 'GiB' })).status, 303);
    assert.equal(await uploaded(alice.id), 0.5 * GiB, 'taken at once');
    const bb = await loggedIn(s, bob);
    await bb.get(reqPath);
    assert.equal((await bb.post(`/requests/${id}/bounty`, { amount: '512', unit: 'MiB' })).status, 303);
    const board = await bb.get('/requests');
    assert.ok(board.text.includes(`<a href="/requests/${id}">The 1962 film, French dub</a>`), 'listed on the board');
    assert.match(board.text, /2 GiB/);
    // The requester cannot fill their own request; a bad reference is refused.
    await ab.get(reqPath);
    assert.ok(!(await ab.get(reqPath)).text.includes(`action="/requests/${id}/fill"`), 'no fill form for the requester');
    assert.equal((await ab.post(`/requests/${id}/fill`, { torrent: `/t/${tor2.id}` })).status, 400);
    const cb = await loggedIn(s, carol);
    await cb.get(reqPath);
    const wrong = await cb.post(`/requests/${id}/fill`, { torrent: '/t/99999999' });
    assert.equal(wrong.status, 400);
    assert.match(wrong.text, /No available torrent/);
    assert.equal((await cb.post(`/requests/${id}/fill`, { torrent: `${s.app.site().publicUrl}/t/${tor2.id}` })).status, 303);
    const note = await db.selectFrom('notification').select(['kind', 'data']).where('user_id', '=', alice.id).where('kind', '=', 'request_filled').executeTakeFirst();
    assert.ok(note && JSON.parse(note.data).link === reqPath, 'the requester is notified with a link');
    // Only the requester confirms; bob cannot.
    await bb.get(reqPath);
    assert.equal((await bb.post(`/requests/${id}/confirm`, {})).status, 403);
    const filled = await ab.get(reqPath);
    assert.match(filled.text, /Filled, awaiting confirmation/);
    assert.ok(filled.text.includes(`>Filled Request Film</a>`), 'the torrent is linked');
    assert.equal((await ab.post(`/requests/${id}/confirm`, {})).status, 303);
    assert.equal(await uploaded(carol.id), 2 * GiB, 'the filler received the whole bounty');
    const twice = await ab.post(`/requests/${id}/confirm`, {});
    assert.equal(twice.status, 409, 'a second confirmation is refused');
    assert.equal(await uploaded(carol.id), 2 * GiB, 'and moves nothing');
    assert.equal((await ab.post(`/requests/${id}/close`, {})).status, 409, 'a confirmed request cannot be closed');
    assert.equal(await uploaded(alice.id), 0.5 * GiB);
  });

  it('rejects a fill, and refunds bounties when a request is closed by its requester or the staff', async () => {
    const db = s.app.db();
    await db.updateTable('user').set({ uploaded: GiB }).where('id', '=', bob.id).execute();
    const bb = await loggedIn(s, bob);
    await bb.get('/requests/new');
    const id = Number(/(\d+)$/.exec((await bb.post('/requests', { title: 'Rare album', description: '', category: '' })).location!)![1]);
    await bb.get(`/requests/${id}`);
    await bb.post(`/requests/${id}/bounty`, { amount: '256', unit: 'MiB' });
    const cb = await loggedIn(s, carol);
    await cb.get(`/requests/${id}`);
    await cb.post(`/requests/${id}/fill`, { torrent: String(tor2.id) });
    await bb.get(`/requests/${id}`);
    assert.equal((await bb.post(`/requests/${id}/reject`, {})).status, 303);
    assert.match((await bb.get(`/requests/${id}`)).text, /badge status-open/);
    assert.equal((await cb.post(`/requests/${id}/close`, {})).status, 403, 'a member cannot close another’s request');
    assert.equal((await bb.post(`/requests/${id}/close`, {})).status, 303);
    assert.equal(await uploaded(bob.id), GiB, 'refunded');
    // Staff close with a reason, audited.
    const id2 = Number(/(\d+)$/.exec((await bb.post('/requests', { title: 'Another', description: '', category: '' })).location!)![1]);
    await bb.get(`/requests/${id2}`);
    await bb.post(`/requests/${id2}/bounty`, { amount: '100', unit: 'MiB' });
    const mb = await loggedIn(s, mia);
    const seen = await mb.get(`/requests/${id2}`);
    assert.ok(seen.text.includes('id="close-reason"'), 'staff see the close form with a reason');
    assert.equal((await mb.post(`/requests/${id2}/close`, { reason: 'duplicate request' })).status, 303);
    assert.equal(await uploaded(bob.id), GiB);
    const a = await db.selectFrom('audit_log').select(['actor_id', 'reason']).where('action', '=', 'request.close').where('target_id', '=', id2).executeTakeFirstOrThrow();
    assert.deepEqual(a, { actor_id: mia.id, reason: 'duplicate request' });
  });

  it('sends private messages, shows the unread count, quotes replies, archives and deletes per side', async () => {
    const ab = await loggedIn(s, alice);
    const bb = await loggedIn(s, bob);
    assert.ok(!/class="member-messages">Messages <span class="badge unread">/.test((await bb.get('/')).text), 'no unread badge yet');
    await ab.get('/messages/new?to=bob');
    const bad = await ab.post('/messages', { to: 'nobody-here', subject: 'Hi', body: 'Kept <b>body</b>' });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /No member has this username/);
    assert.ok(bad.text.includes('>Kept &lt;b&gt;body&lt;/b&gt;</textarea>'), 'the body is kept (escaped)');
    assert.equal((await ab.post('/messages', { to: 'alice', subject: 'Me', body: 'x' })).status, 400, 'not to oneself');
    const sent = await ab.post('/messages', { to: 'BOB', subject: 'About the film', body: 'Do you have [b]part two[/b]? <script>alert(1)</script>' });
    assert.equal(sent.status, 303);
    assert.equal(sent.location, '/messages/sent');
    const home = await bb.get('/');
    assert.match(home.text, /class="member-messages">Messages <span class="badge unread">1<span class="visually-hidden"> unread<\/span><\/span><\/a>/);
    const inbox = await bb.get('/messages');
    const m = /<a href="\/messages\/(\d+)">About the film<\/a> <span class="badge unread">unread<\/span>/.exec(inbox.text);
    assert.ok(m, 'listed as unread in the inbox');
    const id = Number(m[1]);
    const read = await bb.get(`/messages/${id}`);
    assert.ok(read.text.includes('<strong>part two</strong>'), 'markup rendered');
    assert.ok(!read.text.includes('<script>alert(1)'), 'escaped');
    assert.ok(read.text.includes('class="member-messages">Messages</a>'), 'the header no longer counts it once read');
    assert.equal((await s.browser().get(`/messages/${id}`, false)).status, 303, 'visitors go to log in');
    assert.equal((await (await loggedIn(s, carol)).get(`/messages/${id}`)).status, 404, 'a third member cannot read it');
    // Reply with a quote.
    const compose = await bb.get(`/messages/new?reply=${id}`);
    assert.ok(compose.text.includes('value="alice"'), 'the recipient is filled in');
    assert.ok(compose.text.includes('value="Re: About the film"'), 'the subject too');
    assert.ok(compose.text.includes('[quote=alice]Do you have [b]part two[/b]? &lt;script&gt;alert(1)&lt;/script&gt;[/quote]'), 'the original is quoted');
    assert.ok(compose.text.includes(`name="reply_to" value="${id}"`), 'linked to the original');
    const replied = await bb.post('/messages', { to: 'alice', subject: 'Re: About the film', body: '[quote=alice]Do you have part two?[/quote]\n\nYes!', reply_to: String(id) });
    assert.equal(replied.status, 303);
    const aInbox = await ab.get('/messages');
    const rid = Number(/<a href="\/messages\/(\d+)">Re: About the film<\/a>/.exec(aInbox.text)![1]);
    const replyPage = await ab.get(`/messages/${rid}`);
    assert.ok(replyPage.text.includes('<blockquote>'), 'the quote is rendered');
    assert.ok(replyPage.text.includes(`href="/messages/${id}"`), 'a link to the original');
    // Archive, back, delete for one side only.
    await bb.get(`/messages/${id}`);
    assert.equal((await bb.post(`/messages/${id}/archive`, { archive: '1' })).status, 303);
    assert.ok(!(await bb.get('/messages')).text.includes(`/messages/${id}"`), 'out of the inbox');
    assert.ok((await bb.get('/messages/archive')).text.includes(`/messages/${id}"`), 'in the archive');
    assert.equal((await ab.post(`/messages/${id}/archive`, { archive: '1' })).status, 404, 'the sender cannot archive');
    assert.equal((await bb.post(`/messages/${id}/delete`, {})).status, 303);
    assert.equal((await bb.get(`/messages/${id}`)).status, 404, 'gone for the recipient');
    assert.equal((await ab.get(`/messages/${id}`)).status, 200, 'still in the sender’s sent box');
    // Mark all read.
    await ab.get('/messages');
    assert.equal((await ab.post('/messages/read-all', {})).status, 303);
    const after = await ab.get('/messages');
    assert.ok(after.text.includes('class="member-messages">Messages</a>'), 'nothing unread in the header');
    assert.ok(!after.text.includes('<span class="badge unread">unread</span>'), 'nor in the inbox');
  });

  it('limits how many private messages a member sends in a row', async () => {
    const cb = await loggedIn(s, carol);
    await cb.get('/messages/new');
    const codes: number[] = [];
    for (let i = 0; i < 11; i++) codes.push((await cb.post('/messages', { to: 'bob', subject: `Flood ${i}`, body: 'spam' })).status);
    assert.deepEqual(codes, [...Array(10).fill(303), 429]);
    const last = await cb.post('/messages', { to: 'bob', subject: 'One more', body: 'kept text' });
    assert.equal(last.status, 429);
    assert.match(last.text, /too many/);
    assert.ok(last.text.includes('>kept text</textarea>'), 'the text is kept');
  });

  it('keeps friends with their online status, lists members online and finds members by prefix', async () => {
    const db = s.app.db();
    const now = Math.floor(Date.now() / 1000);
    await db.updateTable('user').set({ last_seen_at: now - 3600 }).where('id', '=', carol.id).execute();
    await db.updateTable('user').set({ privacy: 'low' }).where('id', '=', carol.id).execute();
    const ab = await loggedIn(s, alice);
    await ab.get('/friends');
    const bad = await ab.post('/friends', { username: 'no-such-member' });
    assert.equal(bad.status, 400);
    assert.ok(bad.text.includes('value="no-such-member"'), 'the username is kept');
    assert.equal((await ab.post('/friends', { username: 'alice' })).status, 400);
    assert.equal((await ab.post('/friends', { username: 'Bob' })).status, 303);
    assert.equal((await ab.post('/friends', { username: 'carol' })).status, 303);
    // bob was active a minute ago, carol an hour ago.
    await db.updateTable('user').set({ last_seen_at: now - 60 }).where('id', '=', bob.id).execute();
    await db.updateTable('user').set({ last_seen_at: now - 30 }).where('id', '=', alice.id).execute();
    const friends = await ab.get('/friends');
    assert.match(friends.text, /<a href="\/u\/\d+">bob<\/a>[\s\S]*?<span class="online">Online<\/span>/);
    assert.match(friends.text, /<a href="\/u\/\d+">carol<\/a>[\s\S]*?<span class="offline">Offline<\/span>/);
    const online = await ab.get('/online');
    assert.ok(online.text.includes('>bob</a>') && online.text.includes('>alice</a>'), 'active members listed');
    assert.ok(!online.text.includes('>carol</a>'), 'not someone seen an hour ago');
    const profile = await ab.get(`/u/${bob.id}`);
    assert.ok(profile.text.includes(`action="/friends/${bob.id}/remove"`), 'the profile offers to remove the friend');
    assert.ok(profile.text.includes('href="/messages/new?to=bob"'), 'and to write');
    assert.equal((await ab.post(`/friends/${bob.id}/remove`, { back: `/u/${bob.id}` })).location, `/u/${bob.id}`);
    assert.ok(!(await ab.get('/friends')).text.includes('>bob</a>'), 'removed');
    const bobNotes = await db.selectFrom('notification').select('kind').where('user_id', '=', bob.id).where('kind', '=', 'friend_added').execute();
    assert.equal(bobNotes.length, 1, 'bob was told once');
    // Member search by prefix, deleted accounts left out.
    const gone = await s.member('bobby_gone');
    await db.updateTable('user').set({ deleted_at: now }).where('id', '=', gone.id).execute();
    await s.member('bobcat');
    const found = await ab.get('/members?q=BOB');
    assert.ok(found.text.includes('>bob</a>') && found.text.includes('>bobcat</a>'), 'prefix matches');
    assert.ok(!found.text.includes('bobby_gone'), 'deleted accounts are not found');
    assert.match((await ab.get('/members?q=zzz')).text, /No member’s username starts with “zzz”/);
    assert.equal((await s.browser().get('/online', false)).status, 303, 'members only');
  });

  it('lists the staff by role', async () => {
    const r = await (await loggedIn(s, bob)).get('/staff-team');
    assert.equal(r.status, 200);
    assert.match(r.text, /<h2 id="team-admin">Administrators<\/h2>[\s\S]*?>root<\/a>/);
    assert.match(r.text, /<h2 id="team-supermod">Super-moderators<\/h2>[\s\S]*?>sam<\/a>/);
    assert.match(r.text, /<h2 id="team-moderator">Moderators<\/h2>[\s\S]*?>mia<\/a>/);
    assert.ok(!/team-moderator[\s\S]*>bob<\/a>/.test(r.text.replace(/<header[\s\S]*?<\/header>/, '')), 'members are not staff');
  });

  it('takes contact messages to the staff list, for those with contact.read only', async () => {
    const visitor = s.browser();
    await visitor.get('/contact');
    const bad = await visitor.post('/contact', { email: 'not-an-address', subject: 'Account', body: 'I cannot log in' });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /valid email address/);
    assert.ok(bad.text.includes('>I cannot log in</textarea>'), 'the text is kept');
    assert.equal((await visitor.post('/contact', { email: 'visitor@example.test', subject: 'Account help', body: 'I cannot <b>log in</b>' })).status, 303);
    const bb = await loggedIn(s, bob);
    await bb.get('/contact');
    assert.equal((await bb.post('/contact', { subject: 'From a member', body: 'Hello staff' })).status, 303);
    assert.equal((await bb.get('/staff/contact')).status, 403, 'members cannot read them');
    assert.equal((await s.browser().get('/staff/contact', false)).status, 303, 'visitors go to log in');
    const mb = await loggedIn(s, mia);
    const list = await mb.get('/staff/contact');
    assert.equal(list.status, 200);
    assert.ok(list.text.includes('Account help') && list.text.includes('visitor@example.test'), 'the visitor’s message');
    assert.ok(list.text.includes('I cannot &lt;b&gt;log in&lt;/b&gt;'), 'shown as text');
    assert.ok(list.text.includes('From a member') && list.text.includes(`href="/u/${bob.id}">bob</a>`), 'the member’s message');
    const id = Number(/action="\/staff\/contact\/(\d+)\/status"/.exec(list.text)![1]);
    assert.equal((await bb.post(`/staff/contact/${id}/status`, { status: 'closed' })).status, 403);
    assert.equal((await mb.post(`/staff/contact/${id}/status`, { status: 'answered' })).status, 303);
    const row = await s.app.db().selectFrom('contact_message').select('status').where('id', '=', id).executeTakeFirstOrThrow();
    assert.equal(row.status, 'answered');
  });

  it('publishes news on the home page per language, for news.manage only', async () => {
    const mb = await loggedIn(s, mia);
    assert.equal((await mb.get('/staff/news')).status, 403, 'moderators do not manage news by default');
    const bb = await loggedIn(s, bob);
    await bb.get('/');
    assert.equal((await bb.post('/staff/news', { title: 'x', body: 'y', locale: '' })).status, 403);
    assert.equal((await s.browser().get('/staff/news/new', false)).status, 303);
    const sb = await loggedIn(s, sam);
    await sb.get('/staff/news/new');
    const bad = await sb.post('/staff/news', { title: '', body: 'Body kept', locale: 'en' });
    assert.equal(bad.status, 400);
    assert.ok(bad.text.includes('>Body kept</textarea>'), 'kept');
    assert.equal((await sb.post('/staff/news', { title: 'Tracker upgrade tonight', body: 'Expect [b]ten minutes[/b] <script>x()</script>', locale: '' })).status, 303);
    assert.equal((await sb.post('/staff/news', { title: 'Seulement en français', body: 'Bonjour', locale: 'fr' })).status, 303);
    const home = await s.browser().get('/');
    assert.match(home.text, /<h2 id="home-news">News<\/h2>/);
    assert.ok(home.text.includes('Tracker upgrade tonight') && home.text.includes('<strong>ten minutes</strong>'), 'the post for both languages');
    assert.ok(!home.text.includes('<script>x()'), 'escaped');
    assert.ok(!home.text.includes('Seulement en français'), 'not the French-only post');
    const fr = s.browser();
    fr.acceptLanguage = 'fr';
    const homeFr = await fr.get('/');
    assert.ok(homeFr.text.includes('Seulement en français') && homeFr.text.includes('Tracker upgrade tonight'), 'French readers see both');
    // Edit and delete, audited.
    const list = await sb.get('/staff/news');
    const id = Number(/href="\/staff\/news\/(\d+)\/edit">Edit<span class="visually-hidden"> Tracker upgrade tonight/.exec(list.text)![1]);
    assert.equal((await sb.post(`/staff/news/${id}/edit`, { title: 'Tracker upgrade done', body: 'Done.', locale: '' })).status, 303);
    assert.ok((await s.browser().get('/')).text.includes('Tracker upgrade done'), 'edited');
    await sb.get('/staff/news');
    assert.equal((await sb.post(`/staff/news/${id}/delete`, {})).status, 303);
    assert.ok(!(await s.browser().get('/')).text.includes('Tracker upgrade done'), 'deleted');
    const actions = await s.app.db().selectFrom('audit_log').select('action').where('target_type', '=', 'news').where('target_id', '=', id).orderBy('id').execute();
    assert.deepEqual(actions.map((a) => a.action), ['news.create', 'news.edit', 'news.delete']);
  });

  it('keeps community pages for members, and refuses forged requests', async () => {
    const visitor = s.browser();
    for (const p of ['/requests', '/requests/new', '/messages', '/messages/new', '/friends', '/members', '/staff-team']) {
      const r = await visitor.get(p, false);
      assert.equal(r.status, 303, `${p} needs a login`);
      assert.match(r.location ?? '', /^\/login\?next=/);
    }
    assert.equal((await visitor.get('/contact')).status, 200, 'the contact form is open to visitors');
    assert.equal((await visitor.get('/news')).status, 200, 'news are public');
    const bb = await loggedIn(s, bob);
    await bb.get('/');
    assert.equal((await bb.post(`/torrents/${tor.id}/thanks`, { _csrf: 'forged' })).status, 403, 'CSRF checked');
    assert.equal((await bb.get('/requests/99999999')).status, 404);
    assert.equal((await bb.get('/messages/99999999')).status, 404);
  });

  it('shows the pages in French', async () => {
    const b = await loggedIn(s, bob);
    b.acceptLanguage = 'fr';
    assert.match((await b.get('/requests')).text, /<h1>Requêtes<\/h1>/);
    assert.match((await b.get('/messages')).text, /Boîte de réception/);
    assert.match((await b.get('/friends')).text, /<h1>Amis<\/h1>/);
    assert.match((await b.get(path(tor))).text, /Commentaires \(\d+\)/);
  });

  describe('in Chromium', { skip: chromiumUnavailable() ?? false }, () => {
    it('has no serious or critical accessibility violation on the community pages', async () => {
      const db = s.app.db();
      // Something in every list: a message to the moderator, a request, a friend, a news post, a contact message.
      const now = Math.floor(Date.now() / 1000);
      const msg = await db.insertInto('message').values({ sender_id: bob.id, recipient_id: mia.id, subject: 'Hello staff', body: '[quote=bob]earlier[/quote]Question', reply_to: null, created_at: now, read_at: null }).returning('id').executeTakeFirstOrThrow();
      const req = await db.insertInto('request').values({ user_id: bob.id, title: 'Some request', description: 'Details', category_id: null, created_at: now }).returning('id').executeTakeFirstOrThrow();
      await db.insertInto('friend').values({ user_id: mia.id, friend_id: bob.id, created_at: now }).onConflict((oc) => oc.doNothing()).execute();
      await db.insertInto('news').values({ author_id: sam.id, title: 'Accessible news', body: 'Text', locale: null, created_at: now }).execute();
      await db.insertInto('contact_message').values({ user_id: bob.id, email: null, subject: 'A question', body: 'Body', created_at: now }).execute();
      const comment = await db.insertInto('comment').values({ torrent_id: tor.id, user_id: bob.id, body: 'A [b]comment[/b]', created_at: now }).returning('id').executeTakeFirstOrThrow();
      const browser = await launchChromium();
      try {
        const pages: Array<[Member, string[]]> = [
          [mia, [path(tor), `/comments/${comment.id}/edit`, '/requests', `/requests/${req.id}`, '/requests/new', '/messages', `/messages/${msg.id}`, '/messages/sent', `/messages/new?reply=${msg.id}`, '/friends', '/online', '/members?q=b', '/staff-team', '/contact', '/staff/contact']],
          [sam, ['/', '/news', '/staff/news', '/staff/news/new']],
        ];
        for (const [who, paths] of pages) {
          const context = await browser.newContext();
          const token = await createSession(db, who.id, { persistent: false, ttl: 3600, ip: null, userAgent: null, now });
          await context.addCookies([{ name: SESSION_COOKIE, value: token, url: s.base }]);
          const tab = await context.newPage();
          for (const p of paths) {
            const res = await tab.goto(s.base + p);
            assert.equal(res?.status(), 200, p);
            const v = await seriousA11yViolations(tab);
            assert.deepEqual(v, [], `${p}: ${JSON.stringify(v)}`);
          }
          await context.close();
        }
        // A visitor's contact form, and a comment posted without JavaScript.
        const context = await browser.newContext();
        const tab = await context.newPage();
        await tab.goto(s.base + '/contact');
        assert.deepEqual(await seriousA11yViolations(tab), [], '/contact (visitor)');
        await context.close();
        const member = await browser.newContext();
        const token = await createSession(db, carol.id, { persistent: false, ttl: 3600, ip: null, userAgent: null, now });
        await member.addCookies([{ name: SESSION_COOKIE, value: token, url: s.base }]);
        const t2 = await member.newPage();
        await t2.goto(s.base + path(tor));
        await t2.fill('#comment-body', 'Posted from [i]Chromium[/i]');
        await t2.click('.comment-form button[type="submit"]');
        assert.ok((await t2.textContent('main'))?.includes('Your comment is posted.'), 'flash after the POST');
        assert.ok((await t2.innerHTML('#comments')).includes('<em>Chromium</em>'), 'the comment is shown');
      } finally {
        await browser.close();
      }
    });
  });
});

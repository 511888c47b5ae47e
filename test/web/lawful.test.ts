/**
 * Lawful operation through the website and the tracker: a copyright notice from the public form
 * to the staff takedown (the torrent leaves listings and search, an announcing client gets
 * `Unregistered torrent: <reason>`, the same torrent cannot be uploaded again), a counter-notice
 * that restores it, the JSON API with its rate limit, the repeat-infringer policy disabling an
 * account at the tracker, the transparency counts, the blocklist page, the permissions of every
 * staff page, and the member's data: the JSON export (no password hash) and the account deletion
 * (pseudonym, audit rows kept, the tracker forgetting the passkey).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { httpAnnounce, type HttpReply } from '../helpers/announce.js';
import { startSite, type Browser, type TestSite } from '../helpers/site.js';
import { buildTorrent } from '../fixtures/metainfo/builders.js';
import { bencode } from '../../src/protocol/bencode.js';
import { findBlock } from '../../src/site/lawful/blocklist.js';
import { POLICY_ACTOR, takedownReason } from '../../src/site/lawful/notices.js';
import { audit, verifyAuditChain } from '../../src/site/staff/audit.js';
import { escapeHtml } from '../../src/web/html.js';

const CATEGORY = 631;
let serial = 0;

/** A fresh valid .torrent (unique name and content size, so unique info hashes). */
function torrentBytes(label: string): Buffer {
  const n = ++serial;
  return bencode(buildTorrent('v1', { name: `${label}-${n}`, files: [{ path: ['video.bin'], size: 20_000 + n }] }).top);
}

function rowOf(text: string, month: string): number[] | null {
  const m = new RegExp(`<time datetime="${month}">[^<]*</time></th>\\s*((?:<td class="num">[^<]*</td>)+)`).exec(text);
  if (!m) return null;
  return [...m[1]!.matchAll(/<td class="num">([^<]*)<\/td>/g)].map((x) => Number(x[1]!.replace(/\D/g, '')));
}

describe('lawful operation', () => {
  let s: TestSite;
  let up1: { id: number; passkey: string; password: string };
  let up2: { id: number; passkey: string; password: string };
  let mod: { id: number; passkey: string; password: string };
  let uploader: Browser;
  let staff: Browser;
  /** What this file did, for the transparency counts of the current month. */
  const counts = { received: 0, upheld: 0, rejected: 0, counter: 0, restored: 0 };

  const resetNoticeLimit = () => {
    for (const ip of ['127.0.0.1', '::1', '::ffff:127.0.0.1']) s.app.site().limiter.reset(`notice:ip:${ip}`);
  };

  async function upload(b: Browser, bytes: Buffer, title: string): Promise<{ status: number; id: number | null; text: string }> {
    await b.get(`/upload?category=${CATEGORY}`);
    const form = new FormData();
    form.append('category', String(CATEGORY));
    form.append('title', title);
    form.append('format', 'bbcode');
    form.append('description', '');
    form.append('torrent', new Blob([new Uint8Array(bytes)], { type: 'application/x-bittorrent' }), 'x.torrent');
    const r = await b.postMultipart('/upload', form);
    const m = /^\/t\/(\d+)$/.exec(r.location ?? '');
    return { status: r.status, id: m ? Number(m[1]) : null, text: r.text };
  }

  async function announce(passkey: string, torrentId: number): Promise<HttpReply> {
    const t = await s.app.db().selectFrom('torrent').select('info_hash_v1').where('id', '=', torrentId).executeTakeFirstOrThrow();
    return httpAnnounce(`${s.listening.httpTracker}/${passkey}/announce`, {
      infoHash: Buffer.from(t.info_hash_v1!, 'hex'),
      peerId: randomBytes(20),
      port: 6881,
      uploaded: 0,
      downloaded: 0,
      left: 1000,
      event: 'started',
    });
  }

  async function sendNoticeForm(items: string): Promise<number> {
    resetNoticeLimit();
    const v = s.browser();
    await v.get('/legal/notice');
    const r = await v.post('/legal/notice', { claimant: 'Studio Films SA', contact: 'legal@studio.example', works: 'Our film', items, good_faith: '1' });
    assert.equal(r.status, 303, `notice accepted (${r.status})`);
    const m = /^\/legal\/notice\/received\/(\d+)$/.exec(r.location ?? '');
    assert.ok(m, `redirected to the receipt (got ${r.location})`);
    counts.received++;
    return Number(m[1]);
  }

  async function decide(noticeId: number, decision: 'uphold' | 'reject', note = ''): Promise<void> {
    await staff.get(`/staff/notices/${noticeId}`);
    const r = await staff.post(`/staff/notices/${noticeId}/decide`, { decision, note });
    assert.equal(r.status, 303, `decision ${decision} accepted (${r.status})`);
    if (decision === 'uphold') counts.upheld++;
    else counts.rejected++;
  }

  before(async () => {
    s = await startSite(null, { lawful: { repeat_infringer_notices: 2, notice_limit: 3 } });
    up1 = await s.member('uploader_one', { role: 'uploader' });
    up2 = await s.member('uploader_two', { role: 'uploader' });
    mod = await s.member('supermod_one', { role: 'supermod' });
    uploader = s.browser();
    await uploader.login('uploader_one', up1.password);
    staff = s.browser();
    await staff.login('supermod_one', mod.password);
    assert.ok(uploader.cookies.has('essaim_session') && staff.cookies.has('essaim_session'), 'logged in');
  });
  after(() => s.stop());

  let takenDown = 0;
  let noticeId = 0;

  it('takes a torrent down from the public form to the staff decision', async () => {
    const bytes = torrentBytes('takedown');
    const up = await upload(uploader, bytes, 'Zanzibarfilm takedown sample');
    assert.equal(up.status, 303, `uploaded (${up.status})`);
    takenDown = up.id!;
    const listed = await s.browser().get('/browse?q=zanzibarfilm');
    assert.ok(listed.text.includes(`/torrents/${takenDown}/`), 'listed and found before');
    assert.equal((await announce(up1.passkey, takenDown)).failure, null, 'the tracker accepts it before');

    // The public form: CSRF, errors kept next to the fields, then a valid notice.
    const v = s.browser();
    const form = await v.get('/legal/notice');
    assert.equal(form.status, 200);
    assert.ok(form.text.includes('name="_csrf"') && form.text.includes('<label for="f-items">'), 'a labelled form with a CSRF token');
    assert.equal((await v.post('/legal/notice', { claimant: 'X', contact: 'y', works: 'z', items: 'ab'.repeat(20), good_faith: '1' }, { csrf: false })).status, 403, 'CSRF checked');
    resetNoticeLimit();
    const bad = await v.post('/legal/notice', { claimant: 'Studio Films SA', contact: '', works: 'Our film', items: 'not a link\nhttps://elsewhere.example/page', good_faith: '' });
    assert.equal(bad.status, 400);
    assert.ok(bad.text.includes('value="Studio Films SA"'), 'what was typed is kept');
    assert.ok(bad.text.includes('Lines 1, 2 are neither links'), 'the bad lines are named');
    assert.ok(bad.text.includes('Please confirm the statement.'), 'good faith required');
    assert.ok(bad.text.includes('id="f-contact-error"'), 'error next to the contact field');

    noticeId = await sendNoticeForm(`${s.base}/torrents/${takenDown}/zanzibarfilm-takedown-sample`);
    const receipt = await s.browser().get(`/legal/notice/received/${noticeId}`);
    assert.ok(receipt.text.includes(`number ${noticeId}`), 'the receipt gives the number');

    // The staff queue (notice.review).
    const queue = await staff.get('/staff/notices');
    assert.equal(queue.status, 200);
    assert.ok(queue.text.includes(`href="/staff/notices/${noticeId}"`), 'the new notice is in the queue');
    const page = await staff.get(`/staff/notices/${noticeId}`);
    assert.ok(page.text.includes('Zanzibarfilm takedown sample') && page.text.includes('uploader_one'), 'resolved to the torrent and its uploader');
    assert.equal((await staff.post(`/staff/notices/${noticeId}/decide`, { decision: 'maybe' })).status, 400, 'a decision is required');
    await decide(noticeId, 'uphold', 'Verified with the studio');
    const decided = await staff.get(`/staff/notices/${noticeId}`);
    assert.ok(decided.text.includes('<dd class="notice-status">Upheld</dd>'), 'upheld');
    assert.equal((await staff.post(`/staff/notices/${noticeId}/decide`, { decision: 'reject' })).status, 409, 'decided once');

    // Hidden from listings and search; the torrent page says why.
    const after = await s.browser().get('/browse?q=zanzibarfilm');
    assert.ok(!after.text.includes(`/torrents/${takenDown}/`), 'gone from search');
    const home = await s.browser().get('/browse');
    assert.ok(!home.text.includes(`/torrents/${takenDown}/`), 'gone from the listing');
    const tp = await s.browser().get(`/t/${takenDown}`);
    assert.equal(tp.status, 404);
    assert.ok(tp.text.includes(escapeHtml(takedownReason(noticeId))), 'the torrent page gives the reason');

    // A client announcing it is told why.
    const a = await announce(up1.passkey, takenDown);
    assert.equal(a.failure, `Unregistered torrent: Removed after a copyright notice (#${noticeId})`);

    // The same torrent cannot come back.
    const again = await upload(uploader, bytes, 'Zanzibarfilm again');
    assert.equal(again.status, 409);
    assert.ok(again.text.includes('cannot be uploaded: its info hash') && again.text.includes(escapeHtml(takedownReason(noticeId))), 'refused by the blocklist, naming the block');

    // The uploader was notified with a counter-notice link; the staff acts were audited.
    const notes = await s.app.db().selectFrom('notification').selectAll().where('user_id', '=', up1.id).execute();
    assert.ok(notes.some((n) => n.kind === 'takedown' && n.data.includes(`/legal/counter/${noticeId}`)), 'notified');
    const shown = await uploader.get('/notifications');
    assert.ok(shown.text.includes(`<a href="/legal/counter/${noticeId}">Your torrent “Zanzibarfilm takedown sample” was removed after a copyright notice (#${noticeId}).`), 'the notification links to the counter-notice form');
    const actions = (await s.app.db().selectFrom('audit_log').select('action').where('actor_id', '=', mod.id).execute()).map((r) => r.action);
    assert.ok(actions.includes('notice.uphold') && actions.includes('torrent.takedown'), `audited (${actions.join(', ')})`);
    assert.equal(await verifyAuditChain(s.app.db()), null);
  });

  it('restores the torrent when the staff accept the uploader’s counter-notice', async () => {
    const other = s.browser();
    const m = await s.member('curious_member');
    await other.login('curious_member', m.password);
    assert.equal((await other.get(`/legal/counter/${noticeId}`)).status, 403, 'only the uploader may answer');
    assert.equal((await s.browser().get(`/legal/counter/${noticeId}`, false)).status, 303, 'visitors are sent to log in');

    const form = await uploader.get(`/legal/counter/${noticeId}`);
    assert.equal(form.status, 200);
    assert.ok(form.text.includes('Zanzibarfilm takedown sample'), 'names the torrent concerned');
    const bad = await uploader.post(`/legal/counter/${noticeId}`, { statement: '', good_faith: '1' });
    assert.equal(bad.status, 400);
    const ok = await uploader.post(`/legal/counter/${noticeId}`, { statement: 'I made this film myself.', good_faith: '1' });
    assert.equal(ok.status, 303);
    counts.counter++;
    const status = await uploader.get(`/legal/counter/${noticeId}`);
    assert.ok(status.text.includes('You sent a counter-notice') && status.text.includes('awaiting review'), 'the uploader sees its status');

    const queue = await staff.get('/staff/notices');
    assert.ok(queue.text.includes('Counter-notices to review: 1'), 'pending counter-notices listed');
    const page = await staff.get(`/staff/notices/${noticeId}`);
    const cid = /action="\/staff\/counter-notices\/(\d+)\/decide"/.exec(page.text)?.[1];
    assert.ok(cid, 'a decision form for the counter-notice');
    const r = await staff.post(`/staff/counter-notices/${cid}/decide`, { decision: 'accept', note: 'Proof of authorship' });
    assert.equal(r.status, 303);
    counts.restored++;

    assert.equal((await announce(up1.passkey, takenDown)).failure, null, 'the tracker accepts it again');
    const listed = await s.browser().get('/browse?q=zanzibarfilm');
    assert.ok(listed.text.includes(`/torrents/${takenDown}/`), 'back in search');
    const t = await s.app.db().selectFrom('torrent').select(['info_hash_v1', 'status']).where('id', '=', takenDown).executeTakeFirstOrThrow();
    assert.equal(t.status, 'active');
    assert.equal(await findBlock(s.app.db(), { v1: t.info_hash_v1 }), null, 'the block is lifted');
    assert.ok((await staff.get(`/staff/notices/${noticeId}`)).text.includes('<dd class="notice-status">Restored</dd>'), 'the notice is restored');
  });

  it('accepts notices as JSON, with the same checks and a rate limit per address', async () => {
    resetNoticeLimit();
    const post = (body: unknown) => fetch(`${s.base}/api/notices`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const bad = await post({ claimant: 'Label', contact: 'a@b.example', works: 'Album', items: ['nope'], good_faith: false });
    assert.equal(bad.status, 400);
    const err = (await bad.json()) as { errors: Record<string, string> };
    assert.ok(err.errors.items && err.errors.good_faith, `field errors (${JSON.stringify(err)})`);
    const hash = randomBytes(20).toString('hex');
    const ok = await post({ claimant: 'Label', contact: 'a@b.example', works: 'Album', items: [hash, `/torrents/${takenDown}`], good_faith: true });
    assert.equal(ok.status, 201);
    const body = (await ok.json()) as { id: number; items: Array<{ torrent_id: number | null; info_hash: string }> };
    assert.deepEqual(body.items.map((i) => i.torrent_id), [null, takenDown]);
    counts.received++;
    const row = await s.app.db().selectFrom('notice').select(['source', 'status']).where('id', '=', body.id).executeTakeFirstOrThrow();
    assert.deepEqual(row, { source: 'api', status: 'received' });
    await decide(body.id, 'reject', 'Not specific enough');
    for (let i = 0; i < 2; i++) {
      assert.equal((await post({ claimant: 'Label', contact: 'a@b.example', works: 'Album', items: [hash], good_faith: true })).status, 201, `notice ${i + 2} of 3`);
      counts.received++;
    }
    const limited = await post({ claimant: 'Label', contact: 'a@b.example', works: 'Album', items: [hash], good_faith: true });
    assert.equal(limited.status, 429, 'the fourth notice within the window is refused');
    // The form shares the limit.
    const v = s.browser();
    await v.get('/legal/notice');
    const form = await v.post('/legal/notice', { claimant: 'Studio', contact: 'c', works: 'w', items: hash, good_faith: '1' });
    assert.equal(form.status, 429);
    assert.ok(form.text.includes('Too many notices'), 'says why');
    resetNoticeLimit();
  });

  it('disables a repeat infringer (audited) and the tracker refuses them at once', async () => {
    const b = s.browser();
    await b.login('uploader_two', up2.password);
    const ids: number[] = [];
    for (const label of ['repeat-a', 'repeat-b']) {
      const r = await upload(b, torrentBytes(label), `Repeat ${label}`);
      assert.equal(r.status, 303);
      ids.push(r.id!);
    }
    assert.equal((await announce(up2.passkey, ids[0]!)).failure, null);
    const first = await sendNoticeForm(`/torrents/${ids[0]}`);
    await decide(first, 'uphold');
    let u = await s.app.db().selectFrom('user').select(['enabled']).where('id', '=', up2.id).executeTakeFirstOrThrow();
    assert.equal(u.enabled, 1, 'one upheld notice: still enabled');
    const second = await sendNoticeForm(`/torrents/${ids[1]}`);
    const page = await staff.get(`/staff/notices/${second}`);
    assert.match(page.text, /uploader_two<\/a><\/td>\s*<td class="num">1<\/td>/, 'the staff see the uploader’s upheld count');
    await decide(second, 'uphold');
    u = await s.app.db().selectFrom('user').select(['enabled']).where('id', '=', up2.id).executeTakeFirstOrThrow();
    assert.equal(u.enabled, 0, 'disabled at the second upheld notice');
    const a = await s.app.db().selectFrom('audit_log').selectAll().where('action', '=', 'user.disable').where('target_id', '=', up2.id).executeTakeFirstOrThrow();
    assert.equal(a.actor_name, POLICY_ACTOR);
    const other = await s.app.db().selectFrom('torrent').select('id').where('uploader_id', '=', up1.id).where('status', '=', 'active').executeTakeFirstOrThrow();
    const refused = await announce(up2.passkey, other.id);
    assert.match(refused.failure ?? '', /^Account disabled: Repeat infringer: 2 upheld copyright notices/);
  });

  it('publishes the counts of the month on the transparency page', async () => {
    const r = await s.browser().get('/legal/transparency');
    assert.equal(r.status, 200);
    const month = new Date().toISOString().slice(0, 7);
    assert.deepEqual(rowOf(r.text, month), [counts.received, counts.upheld, counts.rejected, counts.counter, counts.restored]);
    assert.ok(r.text.includes('<th scope="col">Counter-notices</th>'), 'a table with headers');
    const fr = s.browser();
    fr.acceptLanguage = 'fr';
    assert.ok((await fr.get('/legal/transparency')).text.includes('Rapport de transparence'), 'in French too');
  });

  it('lets blocklist managers add and remove hashes; other members may not', async () => {
    const page = await staff.get('/staff/blocklist');
    assert.equal(page.status, 200);
    const bad = await staff.post('/staff/blocklist', { info_hash: 'xyz', reason: 'Malware' });
    assert.equal(bad.status, 400);
    assert.ok(bad.text.includes('40 or 64 hexadecimal') && bad.text.includes('value="Malware"'), 'error shown, reason kept');
    const hash = randomBytes(32).toString('hex');
    assert.equal((await staff.post('/staff/blocklist', { info_hash: hash.toUpperCase(), reason: 'Malware' })).status, 303);
    assert.ok((await staff.get('/staff/blocklist')).text.includes(hash), 'listed');
    assert.equal((await staff.post('/staff/blocklist/remove', { info_hash: hash })).status, 303);
    assert.ok(!(await staff.get('/staff/blocklist')).text.includes(hash), 'removed');
    const actions = (await s.app.db().selectFrom('audit_log').select('action').where('target_type', '=', 'infohash').execute()).map((r) => r.action);
    assert.deepEqual(actions, ['blocklist.add', 'blocklist.remove']);

    // Permissions: every staff page refuses members and sends visitors to log in.
    const member = s.browser();
    const m = await s.member('plain_member');
    await member.login('plain_member', m.password);
    const visitor = s.browser();
    await visitor.get('/legal/notice');
    for (const [method, path] of [
      ['GET', '/staff/notices'],
      ['GET', `/staff/notices/${noticeId}`],
      ['POST', `/staff/notices/${noticeId}/decide`],
      ['POST', '/staff/counter-notices/1/decide'],
      ['GET', '/staff/blocklist'],
      ['POST', '/staff/blocklist'],
      ['POST', '/staff/blocklist/remove'],
    ] as const) {
      await member.get('/legal/notice');
      const r = method === 'GET' ? await member.get(path) : await member.post(path, { decision: 'uphold', info_hash: hash, reason: 'x' });
      assert.equal(r.status, 403, `${method} ${path}: members are refused`);
      const v = method === 'GET' ? await visitor.get(path, false) : await visitor.post(path, { decision: 'uphold' });
      assert.equal(v.status, 303, `${method} ${path}: visitors go to the login page`);
      assert.match(v.location ?? '', /^\/login/);
    }
    // A moderator reviews reports but not notices (by default).
    const moderator = s.browser();
    const mm = await s.member('moderator_one', { role: 'moderator' });
    await moderator.login('moderator_one', mm.password);
    assert.equal((await moderator.get('/staff/notices')).status, 403);
    assert.equal((await moderator.get('/staff/blocklist')).status, 403);
  });

  it('exports the member’s data as JSON, without the password hash', async () => {
    const m = await s.member('data_owner');
    const b = s.browser();
    await b.login('data_owner', m.password);
    await b.get(`/t/${takenDown}`);
    assert.equal((await b.post(`/torrents/${takenDown}/bookmark`, {})).status, 303, 'bookmarked');
    const account = await b.get('/account');
    assert.ok(account.text.includes('href="/account/data"') && account.text.includes('href="/account/privacy"'), 'reachable from /account');
    const privacy = await b.get('/account/privacy');
    assert.ok(privacy.text.includes('tracker\'s memory only') || privacy.text.includes('tracker&#39;s memory only'), 'says where peer IPs live');
    const r = await b.get('/account/data');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
    assert.match(r.headers.get('content-disposition') ?? '', /^attachment; filename=".*\.json"$/);
    const data = JSON.parse(r.text) as { profile: { username: string; passkey: string; email: string }; bookmarks: Array<{ torrent_id: number }>; sessions: unknown[] };
    assert.equal(data.profile.username, 'data_owner');
    assert.equal(data.profile.passkey, m.passkey);
    assert.equal(data.profile.email, 'data_owner@example.test');
    assert.deepEqual(data.bookmarks.map((x) => x.torrent_id), [takenDown]);
    assert.ok(data.sessions.length >= 1, 'sessions listed');
    const hash = (await s.app.db().selectFrom('user').select('password_hash').where('id', '=', m.id).executeTakeFirstOrThrow()).password_hash!;
    assert.ok(!r.text.includes(hash) && !r.text.includes('password_hash'), 'no password hash');
    assert.equal((await s.browser().get('/account/data', false)).status, 303, 'visitors are sent to log in');
  });

  it('deletes an account: pseudonym, personal data erased, audit rows kept, the passkey forgotten', async () => {
    const m = await s.member('leaving_member', { role: 'uploader' });
    const b = s.browser();
    await b.login('leaving_member', m.password);
    const up = await upload(b, torrentBytes('leaving'), 'Leavingfilm keeps its torrent');
    assert.equal(up.status, 303);
    assert.equal((await announce(m.passkey, up.id!)).failure, null);
    const db = s.app.db();
    await audit(db, { actorId: m.id, actorName: 'leaving_member', action: 'test.action', targetType: 'torrent', targetId: up.id, now: Math.floor(Date.now() / 1000) });

    const form = await b.get('/account/delete');
    assert.equal(form.status, 200);
    assert.ok(form.text.includes('<label for="f-current_password">'), 'asks for the password');
    const wrong = await b.post('/account/delete', { current_password: 'wrong password!', confirm: '1' });
    assert.equal(wrong.status, 400);
    const unconfirmed = await b.post('/account/delete', { current_password: m.password });
    assert.equal(unconfirmed.status, 400);
    assert.ok(unconfirmed.text.includes('Please tick this box'), 'confirmation required');
    const ok = await b.post('/account/delete', { current_password: m.password, confirm: '1' });
    assert.equal(ok.status, 303);
    assert.equal(ok.location, '/');
    assert.ok(!b.cookies.has('essaim_session'), 'logged out');

    const u = await db.selectFrom('user').selectAll().where('id', '=', m.id).executeTakeFirstOrThrow();
    assert.equal(u.username, `deleted-${m.id}`);
    assert.equal(u.email, null);
    assert.equal(u.password_hash, null);
    assert.equal(u.enabled, 0);
    assert.ok(u.deleted_at, 'deleted_at set');
    assert.equal((await db.selectFrom('session').select('id').where('user_id', '=', m.id).execute()).length, 0, 'sessions ended');
    const rows = await db.selectFrom('audit_log').selectAll().where('actor_id', '=', m.id).orderBy('id').execute();
    assert.deepEqual(rows.map((r) => r.action), ['test.action', 'user.delete_account'], 'audit rows kept');
    assert.equal(rows[1]?.actor_name, `deleted-${m.id}`, 'the deletion is recorded under the pseudonym');
    assert.equal(await verifyAuditChain(db), null, 'the chain is intact');
    const tor = await db.selectFrom('torrent').select(['status', 'anonymous']).where('id', '=', up.id!).executeTakeFirstOrThrow();
    assert.deepEqual(tor, { status: 'active', anonymous: 1 }, 'the torrent stays, anonymous');
    const page = await s.browser().get(`/t/${up.id}`);
    assert.ok(!page.text.includes('leaving_member') && !page.text.includes(`deleted-${m.id}`), 'no uploader name on the torrent page');
    assert.match((await announce(m.passkey, up.id!)).failure ?? '', /^Unknown passkey/, 'the tracker forgot the passkey');
    const login = await s.browser().login('leaving_member', m.password);
    assert.ok(!login.text.includes('href="/account"'), 'cannot log in any more');
  });
});

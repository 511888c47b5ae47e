/**
 * Moderation through the website and the tracker: the upload queue (a member's upload refused by
 * the tracker until a moderator approves it, then accepted without a restart; the uploader role
 * skips the queue), rejection and edit requests with their notifications and the uploader's
 * resubmission, the staff's edit, delete (the reason reaches a client), merge and factors (pushed
 * to the tracker), reports from open to resolved, the verified-only listings, the audit rows, and
 * every staff route refusing members (403) and visitors (login redirect).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { bencode } from '../../src/protocol/bencode.js';
import { clearTopCache } from '../../src/site/search/top.js';
import { verifyAuditChain } from '../../src/site/staff/audit.js';
import { uploadTorrent } from '../../src/site/torrents/upload.js';
import { buildTorrent } from '../fixtures/metainfo/builders.js';
import { httpAnnounce } from '../helpers/announce.js';
import { startSite, type Browser, type TestSite } from '../helpers/site.js';

type Member = { id: number; passkey: string; rssKey: string; password: string };

let serial = 0;
function torrentFile(label: string): { bytes: Buffer; name: string } {
  const name = `${label}-${++serial}-${randomBytes(4).toString('hex')}`;
  const b = buildTorrent('v1', { name, files: [{ path: ['video.mkv'], size: 40_000 }, { path: ['notes.txt'], size: 300 }] });
  b.top.announce = 'http://elsewhere.example/announce';
  return { bytes: bencode(b.top), name };
}

describe('moderation', () => {
  let s: TestSite;
  let alice: Member;
  let bob: Member;
  let upl: Member;
  let mod: Member;
  let smod: Member;
  let admin: Member;
  const browsers: Record<string, Browser> = {};

  const db = () => s.app.db();
  const torrent = (id: number) => db().selectFrom('torrent').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const announce = (m: Member, infoHash: string) =>
    httpAnnounce(`${s.listening.httpTracker}/${m.passkey}/announce`, {
      infoHash: Buffer.from(infoHash, 'hex'),
      peerId: randomBytes(20),
      port: 6881,
      uploaded: 0,
      downloaded: 0,
      left: 1000,
      event: 'started',
    });
  const auditRows = (action: string, targetId: number) =>
    db().selectFrom('audit_log').selectAll().where('action', '=', action).where('target_id', '=', targetId).orderBy('id').execute();

  /** Uploads through the browser's form; returns the new torrent's id and info hash. */
  async function uploadAs(b: Browser, label: string): Promise<{ id: number; hash: string; name: string }> {
    const f = torrentFile(label);
    await b.get('/upload?category=631');
    const form = new FormData();
    form.append('category', '631');
    form.append('title', f.name);
    form.append('format', 'bbcode');
    form.append('description', `About ${f.name}`);
    form.append('torrent', new Blob([new Uint8Array(f.bytes)], { type: 'application/x-bittorrent' }), 'up.torrent');
    const r = await b.postMultipart('/upload', form);
    assert.equal(r.status, 303, `upload accepted (got ${r.status})`);
    const id = Number(/^\/t\/(\d+)$/.exec(r.location ?? '')?.[1]);
    assert.ok(id > 0, `redirected to the short link (got ${r.location})`);
    const row = await torrent(id);
    return { id, hash: row.info_hash_v1!, name: f.name };
  }

  /** Uploads through the service (quicker), as `uploaderId` with `role`. */
  async function uploadDirect(uploaderId: number, role: 'member' | 'uploader', label: string): Promise<{ id: number; hash: string; name: string }> {
    const f = torrentFile(label);
    const r = await uploadTorrent(s.app.site(), { uploader: { id: uploaderId, role }, categoryId: 631, termIds: [], title: f.name, description: `Text of ${f.name}`, torrent: f.bytes });
    assert.ok(r.ok, 'uploaded');
    return { id: r.torrentId, hash: r.infoHashV1!, name: f.name };
  }

  before(async () => {
    s = await startSite(null);
    alice = await s.member('alice');
    bob = await s.member('bob');
    upl = await s.member('upl', { role: 'uploader' });
    mod = await s.member('mod', { role: 'moderator' });
    smod = await s.member('smod', { role: 'supermod' });
    admin = await s.member('admin', { role: 'admin' });
    for (const [name, m] of Object.entries({ alice, bob, upl, mod, smod, admin })) {
      const b = s.browser();
      const r = await b.login(name, m.password);
      assert.ok(b.cookies.has('essaim_session'), `${name} logged in (${r.status} ${r.url})`);
      browsers[name] = b;
    }
  });
  after(() => s.stop());

  it("refuses a member's upload at the tracker until a moderator approves it, then accepts it without a restart; the uploader is notified", async () => {
    const a = browsers.alice!;
    const t = await uploadAs(a, 'queued');
    assert.equal((await torrent(t.id)).status, 'pending');
    const refused = await announce(alice, t.hash);
    assert.equal(refused.failure, 'Torrent pending approval by the staff');

    const browse = await s.browser().get(`/browse?q=${encodeURIComponent(t.name)}`);
    assert.ok(!browse.text.includes(`href="/torrents/${t.id}/`), 'not listed while pending');
    const own = await a.get(`/t/${t.id}`);
    assert.equal(own.status, 200, 'the uploader sees the page');
    assert.ok(own.text.includes('waits for the staff’s approval'), 'with the waiting notice');
    assert.equal((await browsers.bob!.get(`/t/${t.id}`)).status, 404, 'nobody else does');

    const m = browsers.mod!;
    const queue = await m.get('/staff/queue');
    assert.equal(queue.status, 200);
    assert.ok(queue.text.includes(t.name) && queue.text.includes(`/staff/queue/${t.id}`), 'listed in the queue with a review link');
    const review = await m.get(`/staff/queue/${t.id}`);
    assert.equal(review.status, 200);
    assert.ok(review.text.includes(`About ${t.name}`), 'the review shows the description');
    const ok = await m.post(`/staff/queue/${t.id}/approve`, {});
    assert.equal(ok.status, 303);
    assert.equal(ok.location, '/staff/queue');

    const row = await torrent(t.id);
    assert.equal(row.status, 'active');
    assert.equal(row.verified, 1);
    assert.equal(row.moderated_by, mod.id);
    const accepted = await announce(alice, t.hash);
    assert.equal(accepted.failure, null, 'accepted at once, no restart');
    assert.equal(accepted.status, 200);

    const home = await a.get('/');
    assert.match(home.text, /href="\/notifications" class="member-notifications">Notifications <span class="badge unread">1/, 'the header counts one unread notification');
    const notes = await a.get('/notifications');
    assert.ok(notes.text.includes(`Your torrent “${t.name}” was approved`), 'the approval is shown');
    assert.ok(notes.text.includes(`href="/t/${t.id}"`), 'linked to the torrent');
    const again = await a.get('/');
    assert.ok(!/member-notifications">Notifications <span class="badge unread">/.test(again.text), 'read once seen');
    const [audit] = await auditRows('torrent.approve', t.id);
    assert.ok(audit, 'approval audited');
    assert.equal(JSON.parse(audit.before!).status, 'pending');
    assert.equal(JSON.parse(audit.after!).status, 'active');
  });

  it('lets the uploader role skip the queue: active, verified, accepted by the tracker at once', async () => {
    const t = await uploadAs(browsers.upl!, 'trusted');
    const row = await torrent(t.id);
    assert.equal(row.status, 'active');
    assert.equal(row.verified, 1);
    const r = await announce(upl, t.hash);
    assert.equal(r.failure, null, 'accepted at once');
  });

  it('rejects with a reason that reaches clients and the uploader; a missing reason re-renders the review', async () => {
    const t = await uploadDirect(alice.id, 'member', 'rejected');
    const m = browsers.mod!;
    await m.get(`/staff/queue/${t.id}`);
    const empty = await m.post(`/staff/queue/${t.id}/reject`, { reason: '  ' });
    assert.equal(empty.status, 400);
    assert.ok(empty.text.includes('id="review-reason-error"') && empty.text.includes('This field is required.'), 'the error next to the field');
    assert.equal((await torrent(t.id)).status, 'pending');
    const r = await m.post(`/staff/queue/${t.id}/reject`, { reason: 'Fake release' });
    assert.equal(r.status, 303);
    const row = await torrent(t.id);
    assert.equal(row.status, 'deleted');
    assert.equal(row.deleted_reason, 'Fake release');
    assert.equal((await announce(alice, t.hash)).failure, 'Unregistered torrent: Fake release');
    const notes = await browsers.alice!.get('/notifications');
    assert.ok(notes.text.includes(`Your torrent “${t.name}” was rejected by the staff: Fake release`), 'uploader notified with the reason');
    const page = await browsers.alice!.get(`/t/${t.id}`);
    assert.equal(page.status, 404);
    assert.ok(page.text.includes('Fake release'), 'the page says why');
    assert.equal((await auditRows('torrent.reject', t.id))[0]?.reason, 'Fake release');
  });

  it('asks for an edit; the uploader is notified, edits and resubmits; the torrent is reviewed again', async () => {
    const t = await uploadDirect(alice.id, 'member', 'needs-edit');
    const m = browsers.mod!;
    await m.get(`/staff/queue/${t.id}`);
    const empty = await m.post(`/staff/queue/${t.id}/request-edit`, { note: '' });
    assert.equal(empty.status, 400);
    const r = await m.post(`/staff/queue/${t.id}/request-edit`, { note: 'Add the video quality & language, please.' });
    assert.equal(r.status, 303);
    assert.equal((await torrent(t.id)).status, 'pending', 'still pending');
    assert.equal((await announce(alice, t.hash)).failure, 'Torrent pending approval by the staff', 'still refused');
    const queue = await m.get('/staff/queue');
    assert.ok(queue.text.includes('Add the video quality &amp; language, please.'), 'the queue shows the request, escaped');

    const a = browsers.alice!;
    const notes = await a.get('/notifications');
    assert.ok(notes.text.includes(`href="/torrents/${t.id}/resubmit"`), 'the notification leads to the edit form');
    assert.ok(notes.text.includes('Add the video quality &amp; language, please.'), 'and says what to change');
    const page = await a.get(`/t/${t.id}`);
    assert.ok(page.text.includes('The staff asks you to edit your torrent'), 'the torrent page shows the request');
    const form = await a.get(`/torrents/${t.id}/resubmit`);
    assert.equal(form.status, 200);
    assert.ok(form.text.includes('Add the video quality &amp; language, please.'), 'the form shows the request');
    assert.ok(!form.text.includes('name="category"'), 'no subcategory change for the uploader');

    assert.equal((await browsers.bob!.get(`/torrents/${t.id}/resubmit`)).status, 404, 'not for another member');
    const bad = await a.post(`/torrents/${t.id}/resubmit`, { title: '', description: 'typed text', format: 'bbcode', term: ['13', '14'] });
    assert.equal(bad.status, 400);
    assert.ok(bad.text.includes('typed text'), 'what was typed is kept');
    assert.ok(bad.text.includes('Give a title.') && bad.text.includes('Choose only one'), 'each problem is named');
    const good = await a.post(`/torrents/${t.id}/resubmit`, { title: 'Holiday film 1080p', description: 'Quality: 1080p, French', format: 'bbcode', term: ['541'] });
    assert.equal(good.status, 303);
    const row = await torrent(t.id);
    assert.equal(row.name, 'Holiday film 1080p');
    assert.equal(row.moderation_note, null);
    assert.equal(row.status, 'pending');
    const q2 = await m.get('/staff/queue');
    assert.ok(/To review[\s\S]*Holiday film 1080p[\s\S]*Waiting for the uploader/.test(q2.text), 'back among the torrents to review');
    const audit = await auditRows('torrent.request_edit', t.id);
    assert.equal(audit.length, 1);
    assert.equal(JSON.parse(audit[0]!.after!).moderation_note, 'Add the video quality & language, please.');
  });

  it('lets the staff edit any torrent; the search index follows; before/after audited', async () => {
    const t = await uploadDirect(upl.id, 'uploader', 'to-edit');
    const m = browsers.mod!;
    const form = await m.get(`/staff/torrents/${t.id}/edit`);
    assert.equal(form.status, 200);
    assert.ok(form.text.includes(`value="${t.name}"`), 'prefilled');
    const bad = await m.post(`/staff/torrents/${t.id}/edit`, { title: 'Zanzibarian documentary', description: 'x', format: 'bbcode', category: '433', term: ['13', '541'] });
    assert.equal(bad.status, 400, 'a term of the old subcategory is refused after a change');
    assert.ok(bad.text.includes('does not apply to this subcategory'), 'named');
    assert.ok(bad.text.includes('value="Zanzibarian documentary"'), 'typed title kept');
    assert.ok(bad.text.includes('Season 01'), "the new subcategory's terms are offered");
    const r = await m.post(`/staff/torrents/${t.id}/edit`, { title: 'Zanzibarian documentary', description: 'new text', format: 'markdown', category: '433', term: ['13', '968'], anonymous: '1' });
    assert.equal(r.status, 303);
    const row = await torrent(t.id);
    assert.deepEqual([row.name, row.category_id, row.description_format, row.anonymous], ['Zanzibarian documentary', 433, 'markdown', 1]);
    const found = await s.browser().get('/browse?q=zanzibarian');
    assert.ok(found.text.includes('Zanzibarian documentary'), 're-indexed for search');
    const [audit] = await auditRows('torrent.edit', t.id);
    assert.ok(audit, 'audited');
    assert.equal(JSON.parse(audit.before!).name, t.name);
    assert.equal(JSON.parse(audit.after!).name, 'Zanzibarian documentary');
    assert.deepEqual(JSON.parse(audit.after!).terms, [13, 968]);
  });

  it('deletes with a reason that a client receives; moderators without the permission are refused', async () => {
    const t = await uploadDirect(upl.id, 'uploader', 'to-delete');
    assert.equal((await announce(upl, t.hash)).failure, null);
    assert.equal((await browsers.mod!.get(`/staff/torrents/${t.id}/delete`)).status, 403, 'moderators cannot delete by default');
    const b = browsers.smod!;
    const page = await b.get(`/t/${t.id}`);
    assert.ok(page.text.includes(`/staff/torrents/${t.id}/delete`), 'the torrent page links the staff action');
    await b.get(`/staff/torrents/${t.id}/delete`);
    const empty = await b.post(`/staff/torrents/${t.id}/delete`, { reason: '' });
    assert.equal(empty.status, 400);
    const r = await b.post(`/staff/torrents/${t.id}/delete`, { reason: 'Copyright claim upheld' });
    assert.equal(r.status, 303);
    const refused = await announce(upl, t.hash);
    assert.equal(refused.failure, 'Unregistered torrent: Copyright claim upheld');
    const [audit] = await auditRows('torrent.delete', t.id);
    assert.equal(JSON.parse(audit!.before!).status, 'active');
    assert.equal(JSON.parse(audit!.after!).deleted_reason, 'Copyright claim upheld');
    assert.ok((await browsers.upl!.get('/notifications')).text.includes('was deleted by the staff: Copyright claim upheld'), 'uploader told');
  });

  it('merges a duplicate: its page leads to the torrent kept, bookmarks move, clients are told', async () => {
    const kept = await uploadDirect(upl.id, 'uploader', 'kept');
    const dup = await uploadDirect(upl.id, 'uploader', 'dup');
    const bb = browsers.bob!;
    await bb.get(`/t/${dup.id}`);
    assert.equal((await bb.post(`/torrents/${dup.id}/bookmark`, {})).status, 303, 'bookmarked the duplicate');
    const b = browsers.smod!;
    await b.get(`/staff/torrents/${dup.id}/merge`);
    const bad = await b.post(`/staff/torrents/${dup.id}/merge`, { target: 'nonsense' });
    assert.equal(bad.status, 400);
    assert.ok(bad.text.includes('No such torrent.'), 'unknown target named');
    const self = await b.post(`/staff/torrents/${dup.id}/merge`, { target: `/t/${dup.id}` });
    assert.equal(self.status, 400);
    const r = await b.post(`/staff/torrents/${dup.id}/merge`, { target: `${s.base}/torrents/${kept.id}/some-slug` });
    assert.equal(r.status, 303);
    assert.equal(r.location, `/t/${kept.id}`);
    const d = await torrent(dup.id);
    assert.equal(d.merged_into, kept.id);
    assert.equal(d.deleted_reason, `Merged into /t/${kept.id}`);
    const redirect = await bb.get(`/t/${dup.id}`, false);
    assert.equal(redirect.status, 301);
    assert.equal(redirect.location, `/t/${kept.id}`);
    const marks = await db().selectFrom('bookmark').select('torrent_id').where('user_id', '=', bob.id).execute();
    assert.ok(marks.some((x) => x.torrent_id === kept.id) && !marks.some((x) => x.torrent_id === dup.id), 'the bookmark moved');
    assert.equal((await announce(upl, dup.hash)).failure, `Unregistered torrent: Merged into /t/${kept.id}`);
    assert.equal((await auditRows('torrent.merge', dup.id)).length, 1);
  });

  it('pushes per-torrent factors to the tracker at once, with their end', async () => {
    const t = await uploadDirect(upl.id, 'uploader', 'factors');
    assert.equal(s.app.access.torrent(t.hash)?.downloadFactor, 1);
    const b = browsers.smod!;
    const form = await b.get(`/staff/torrents/${t.id}/factors`);
    assert.equal(form.status, 200);
    const before = s.app.site().now();
    const r = await b.post(`/staff/torrents/${t.id}/factors`, { preset: 'free', duration: '86400' });
    assert.equal(r.status, 303);
    const row = await torrent(t.id);
    assert.deepEqual([row.upload_factor, row.download_factor], [1, 0]);
    assert.ok(row.factors_until !== null && row.factors_until >= before + 86_400 && row.factors_until <= before + 86_400 + 5, `ends a day later (${row.factors_until})`);
    const cached = s.app.access.torrent(t.hash);
    assert.equal(cached?.downloadFactor, 0, 'the tracker has the new download factor');
    assert.equal(cached?.uploadFactor, 1);
    await b.post(`/staff/torrents/${t.id}/factors`, { preset: 'double', duration: '0' });
    assert.equal(s.app.access.torrent(t.hash)?.uploadFactor, 2, 'double upload pushed');
    assert.equal((await torrent(t.id)).factors_until, null);
    assert.equal((await b.post(`/staff/torrents/${t.id}/factors`, { preset: 'triple', duration: '0' })).status, 400, 'unknown preset refused');
    const audit = await auditRows('torrent.set_factors', t.id);
    assert.equal(audit.length, 2);
    assert.equal(JSON.parse(audit[0]!.after!).download_factor, 0);
    assert.equal((await browsers.mod!.get(`/staff/torrents/${t.id}/factors`)).status, 403, 'moderators cannot by default');
  });

  it('takes reports on torrents and members through open, claimed and resolved, with notes', async () => {
    const t = await uploadDirect(upl.id, 'uploader', 'reported');
    const a = browsers.alice!;
    const page = await a.get(`/t/${t.id}`);
    assert.ok(page.text.includes(`href="/report/torrent/${t.id}"`), 'report link on the torrent page');
    const profile = await a.get(`/u/${bob.id}`);
    assert.ok(profile.text.includes(`href="/report/user/${bob.id}"`), 'report link on a profile');
    assert.ok(!(await a.get(`/u/${alice.id}`)).text.includes(`/report/user/${alice.id}`), 'not on your own');
    const form = await a.get(`/report/torrent/${t.id}`);
    assert.equal(form.status, 200);
    assert.ok(form.text.includes(t.name), 'the form names what is reported');
    const empty = await a.post(`/report/torrent/${t.id}`, { reason: '' });
    assert.equal(empty.status, 400);
    const sent = await a.post(`/report/torrent/${t.id}`, { reason: 'The files are not what the title says.' });
    assert.equal(sent.status, 303);
    const dupe = await a.post(`/report/torrent/${t.id}`, { reason: 'again' });
    assert.equal(dupe.status, 409);
    assert.ok(dupe.text.includes('again'), 'typed text kept');
    await a.get(`/report/user/${bob.id}`);
    assert.equal((await a.post(`/report/user/${bob.id}`, { reason: 'Insults in comments' })).status, 303);
    assert.equal((await a.get('/report/torrent/999999')).status, 404);
    assert.equal((await s.browser().get(`/report/torrent/${t.id}`, false)).status, 303, 'visitors log in first');

    const report = await db().selectFrom('report').selectAll().where('target_type', '=', 'torrent').where('target_id', '=', t.id).executeTakeFirstOrThrow();
    const m = browsers.mod!;
    const open = await m.get('/staff/reports');
    assert.ok(open.text.includes(`/staff/reports/${report.id}`) && open.text.includes('The files are not what the title says.'), 'listed as open');
    assert.ok(open.text.includes('Insults in comments'), 'the member report too');
    const detail = await m.get(`/staff/reports/${report.id}`);
    assert.ok(detail.text.includes(`href="/t/${t.id}"`), 'links the torrent');
    assert.equal((await m.post(`/staff/reports/${report.id}/claim`, {})).status, 303);
    let d = await m.get(`/staff/reports/${report.id}`);
    assert.match(d.text, /class="report-status">Claimed</);
    assert.match(d.text, /class="report-claimer">mod</);
    assert.equal((await m.post(`/staff/reports/${report.id}/note`, { body: 'Downloaded it: a different film.' })).status, 303);
    const noBody = await m.post(`/staff/reports/${report.id}/resolve`, { resolution: '' });
    assert.equal(noBody.status, 400);
    assert.ok(noBody.text.includes('id="report-resolution-error"'), 'the error next to the field');
    assert.equal((await m.post(`/staff/reports/${report.id}/resolve`, { resolution: 'Torrent retitled.' })).status, 303);
    d = await m.get(`/staff/reports/${report.id}`);
    assert.match(d.text, /class="report-status">Resolved</);
    assert.ok(d.text.includes('Downloaded it: a different film.') && d.text.includes('Torrent retitled.'), 'note and resolution shown');
    assert.ok(!(await m.get('/staff/reports?status=open')).text.includes(`/staff/reports/${report.id}"`), 'no longer open');
    assert.ok((await m.get('/staff/reports?status=resolved')).text.includes(`/staff/reports/${report.id}"`), 'filtered as resolved');
    for (const action of ['report.claim', 'report.note', 'report.resolve']) assert.equal((await auditRows(action, report.id)).length, 1, `${action} audited`);
  });

  it('limits listings, top lists and feeds to verified torrents when the administrators say so', async () => {
    const verified = await uploadDirect(upl.id, 'uploader', 'verified-one');
    const unverified = await uploadDirect(upl.id, 'uploader', 'unverified-one');
    await db().updateTable('torrent').set({ verified: 0 }).where('id', '=', unverified.id).execute();
    await db().updateTable('torrent').set({ seeders: 50, leechers: 5 }).where('id', 'in', [verified.id, unverified.id]).execute();
    const visitor = s.browser();
    const feed = `/rss/category/631?key=${alice.rssKey}`;
    const sees = async (path: string, b: Browser = visitor) => (await b.get(path)).text;
    clearTopCache(db());
    let top = await sees('/top');
    assert.ok(top.includes(verified.name) && top.includes(unverified.name), 'both in the top list by default');
    assert.ok((await sees(feed)).includes(unverified.name), 'and in feeds');

    assert.equal((await browsers.smod!.get('/staff/settings')).status, 403, 'only administrators change settings');
    const b = browsers.admin!;
    const form = await b.get('/staff/settings');
    assert.equal(form.status, 200);
    assert.equal((await b.post('/staff/settings', { verified_only: '1' })).status, 303);
    assert.match((await b.get('/staff/settings')).text, /id="settings-verified-only" name="verified_only" value="1" checked/);
    clearTopCache(db());
    const browse = await sees('/browse?category=631');
    assert.ok(browse.includes(verified.name) && !browse.includes(unverified.name), 'browse lists only the verified torrent');
    const home = await sees('/');
    assert.ok(home.includes(verified.name) && !home.includes(unverified.name), 'home too');
    top = await sees('/top');
    assert.ok(top.includes(verified.name) && !top.includes(unverified.name), 'top list too');
    const rss = await sees(feed);
    assert.ok(rss.includes(verified.name) && !rss.includes(unverified.name), 'feeds too');
    assert.equal((await sees(`/t/${unverified.id}`)).includes(unverified.name), true, 'the page itself stays reachable');
    const audit = await db().selectFrom('audit_log').selectAll().where('action', '=', 'settings.update').execute();
    assert.equal(audit.length, 1);
    assert.deepEqual(JSON.parse(audit[0]!.after!), { verifiedOnly: true });
    await b.post('/staff/settings', {});
    clearTopCache(db());
    assert.ok((await sees('/browse?category=631')).includes(unverified.name), 'back to every torrent');
  });

  it('refuses every staff route to members (403) and visitors (login redirect)', async () => {
    const t = await uploadDirect(alice.id, 'member', 'authz');
    const report = await db()
      .insertInto('report')
      .values({ target_type: 'torrent', target_id: t.id, reporter_id: bob.id, reason: 'r', status: 'open', claimed_by: null, resolution: null, created_at: 1, updated_at: 1 })
      .returning('id')
      .executeTakeFirstOrThrow();
    const gets = ['/staff/queue', `/staff/queue/${t.id}`, `/staff/torrents/${t.id}/edit`, `/staff/torrents/${t.id}/delete`, `/staff/torrents/${t.id}/merge`, `/staff/torrents/${t.id}/factors`, '/staff/reports', `/staff/reports/${report.id}`, '/staff/settings'];
    const posts: Array<[string, Record<string, string>]> = [
      [`/staff/queue/${t.id}/approve`, {}],
      [`/staff/queue/${t.id}/reject`, { reason: 'x' }],
      [`/staff/queue/${t.id}/request-edit`, { note: 'x' }],
      [`/staff/torrents/${t.id}/edit`, { title: 'hijacked', description: '' }],
      [`/staff/torrents/${t.id}/delete`, { reason: 'x' }],
      [`/staff/torrents/${t.id}/merge`, { target: '1' }],
      [`/staff/torrents/${t.id}/factors`, { preset: 'free', duration: '0' }],
      [`/staff/reports/${report.id}/claim`, {}],
      [`/staff/reports/${report.id}/resolve`, { resolution: 'x' }],
      [`/staff/reports/${report.id}/note`, { body: 'x' }],
      ['/staff/settings', { verified_only: '1' }],
    ];
    const member = browsers.bob!;
    const visitor = s.browser();
    await visitor.get('/login'); // a CSRF token, so that the refusal is the login redirect
    for (const path of gets) {
      assert.equal((await member.get(path, false)).status, 403, `member GET ${path}`);
      const v = await visitor.get(path, false);
      assert.equal(v.status, 303, `visitor GET ${path}`);
      assert.ok(v.location?.startsWith('/login?next='), `visitor GET ${path} goes to the login page`);
    }
    for (const [path, fields] of posts) {
      await member.get('/');
      assert.equal((await member.post(path, fields)).status, 403, `member POST ${path}`);
      const v = await visitor.post(path, fields);
      assert.equal(v.status, 303, `visitor POST ${path}`);
      assert.ok(v.location?.startsWith('/login?next='), `visitor POST ${path} goes to the login page`);
    }
    const row = await torrent(t.id);
    assert.equal(row.status, 'pending', 'nothing changed');
    assert.equal(row.name, t.name);
    assert.equal((await db().selectFrom('report').select('status').where('id', '=', report.id).executeTakeFirstOrThrow()).status, 'open');
    // The notifications page is for members only.
    assert.equal((await visitor.get('/notifications', false)).status, 303);
  });

  it('keeps the audit chain intact after all these actions', async () => {
    assert.equal(await verifyAuditChain(db()), null);
  });
});

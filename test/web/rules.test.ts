/**
 * The sharing rules through the real tracker: the ratio rule (watch, refusal of download announces
 * while seeding stays allowed, recovery), freeleech and multipliers (per-torrent factors and their
 * expiry, site-wide windows, tokens for one member only), the info-hash blocklist at announce (also
 * in public mode), and the hit-and-run job under a chosen clock (prewarning, warning, satisfaction
 * by seeding, restriction after N warnings, immunity).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { bencode } from '../../src/protocol/bencode.js';
import { runRules } from '../../src/site/rules/enforce.js';
import { createWindow, deleteWindow, spendToken } from '../../src/site/rules/freeleech.js';
import { insertTorrent, type InsertedTorrent } from '../../src/site/torrents/read.testing.js';
import { buildTorrent } from '../fixtures/metainfo/builders.js';
import { httpAnnounce, type HttpReply } from '../helpers/announce.js';
import { startSite, type TestSite } from '../helpers/site.js';

type Member = Awaited<ReturnType<TestSite['member']>>;
const GiB = 1024 ** 3;
const nowS = () => Math.floor(Date.now() / 1000);

let fixtureSeq = 0;
async function torrentOf(s: TestSite, uploaderId: number | null = null): Promise<InsertedTorrent> {
  const b = buildTorrent('v1', { name: `Rules fixture ${++fixtureSeq}`, files: [{ path: [`f${fixtureSeq}.bin`], size: 50_000 + fixtureSeq }] });
  b.top.announce = 'http://uploader.example/announce';
  const t = await insertTorrent(s.app.db(), { raw: bencode(b.top), uploaderId });
  await s.app.site().tracker.torrentChanged(t.id);
  return t;
}

function announce(s: TestSite, passkey: string | null, t: InsertedTorrent | string, p: { peerId?: Buffer; up?: number; down?: number; left?: number; event?: 'started' | 'completed' | 'stopped' } = {}): Promise<HttpReply> {
  const url = passkey === null ? `${s.listening.httpTracker!}/announce` : `${s.listening.httpTracker!}/${passkey}/announce`;
  return httpAnnounce(url, {
    infoHash: Buffer.from(typeof t === 'string' ? t : t.infoHashV1!, 'hex'),
    peerId: p.peerId ?? randomBytes(20),
    port: 6881,
    uploaded: p.up ?? 0,
    downloaded: p.down ?? 0,
    left: p.left ?? 100,
    event: p.event,
  });
}

/** A client session: `started` at zero, then one announce with the given counters. */
async function session(s: TestSite, m: Member, t: InsertedTorrent, up: number, down: number): Promise<void> {
  const peerId = randomBytes(20);
  const a = await announce(s, m.passkey, t, { peerId, event: 'started' });
  assert.equal(a.failure, null, `started accepted: ${a.failure}`);
  const b = await announce(s, m.passkey, t, { peerId, up, down });
  assert.equal(b.failure, null, `second announce accepted: ${b.failure}`);
}

const userTorrent = (s: TestSite, userId: number, torrentId: number) =>
  s.app.db().selectFrom('user_torrent').selectAll().where('user_id', '=', userId).where('torrent_id', '=', torrentId).executeTakeFirstOrThrow();
const user = (s: TestSite, id: number) => s.app.db().selectFrom('user').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
const notifications = async (s: TestSite, id: number) =>
  (await s.app.db().selectFrom('notification').select('kind').where('user_id', '=', id).orderBy('id').execute()).map((n) => n.kind);

describe('sharing rules at the tracker (private mode)', () => {
  let s: TestSite;
  let admin: Member;

  before(async () => {
    s = await startSite(null);
    admin = await s.member('root', { role: 'admin' });
  });
  after(() => s.stop());

  it('refuses the download announces of a member kept below the minimum ratio, serves their seeding, lifts it on recovery', async () => {
    const m = await s.member('leecher');
    const t = await torrentOf(s, admin.id);
    const db = s.app.db();
    await db.updateTable('user').set({ uploaded: 4 * GiB, downloaded: 10 * GiB }).where('id', '=', m.id).execute();
    const t0 = nowS();
    await runRules(s.app.site(), t0);
    let u = await user(s, m.id);
    assert.equal(u.ratio_watch_since, t0, 'below the minimum: the ratio watch starts');
    assert.equal(u.download_refused, 0, 'not refused during the watch');
    assert.ok((await notifications(s, m.id)).includes('members.ratio_watch'), 'the member is told of the watch');
    assert.equal((await announce(s, m.passkey, t)).failure, null, 'downloading allowed during the watch');
    const mb = s.browser();
    assert.equal((await mb.login('leecher', m.password)).status, 200, 'logged in');
    const profile = await mb.get(`/u/${m.id}`);
    assert.match(profile.text, /Ratio watch: the ratio is 0\.40, below the minimum of 1\.00/, 'the watch is shown on the profile with its deadline');
    const other = s.browser();
    const om = await s.member('onlooker');
    assert.equal((await other.login('onlooker', om.password)).status, 200, 'logged in');
    assert.doesNotMatch((await other.get(`/u/${m.id}`)).text, /Ratio watch/, 'other members do not see it');

    const cfg = s.app.config.rules;
    await runRules(s.app.site(), t0 + cfg.ratio_watch + 1);
    u = await user(s, m.id);
    assert.equal(u.download_refused, 1, 'refused once the watch ends below the minimum');
    const refused = await announce(s, m.passkey, t, { left: 100 });
    assert.equal(refused.failure, 'Your ratio 0.40 is below 1.00: downloading is suspended until it recovers; seeding is allowed');
    const seed = await announce(s, m.passkey, t, { left: 0, event: 'started' });
    assert.equal(seed.failure, null, 'a seed announce is served');
    const stop = await announce(s, m.passkey, t, { left: 100, event: 'stopped' });
    assert.equal(stop.failure, null, 'a stopped announce is served');

    // Staff and immune classes are not under the rule.
    const staff = await s.member('modo', { role: 'moderator' });
    await db.updateTable('user').set({ uploaded: 0, downloaded: 10 * GiB }).where('id', '=', staff.id).execute();
    await runRules(s.app.site(), t0 + 10);
    assert.equal((await user(s, staff.id)).ratio_watch_since, null, 'staff are immune to the ratio rule');

    await db.updateTable('user').set({ uploaded: 11 * GiB }).where('id', '=', m.id).execute();
    await runRules(s.app.site(), t0 + cfg.ratio_watch + 2);
    u = await user(s, m.id);
    assert.equal(u.download_refused, 0, 'recovered: the refusal is lifted');
    assert.equal(u.ratio_watch_since, null, 'recovered: the watch ends');
    assert.equal((await announce(s, m.passkey, t)).failure, null, 'downloading allowed again at once');
    const kinds = await notifications(s, m.id);
    assert.ok(kinds.includes('members.download_refused') && kinds.includes('members.download_restored'), `notified: ${kinds.join(',')}`);
  });

  it('freeleech torrents credit no download, double upload doubles, factors end at factors_until', async () => {
    const m = await s.member('freeloader');
    const t = await torrentOf(s, admin.id);
    const db = s.app.db();
    await db.updateTable('torrent').set({ download_factor: 0, upload_factor: 2 }).where('id', '=', t.id).execute();
    await s.app.site().tracker.torrentChanged(t.id);
    await session(s, m, t, 1000, 5000);
    await s.app.flush();
    let ut = await userTorrent(s, m.id, t.id);
    assert.equal(ut.downloaded, 0, 'freeleech: no download credited');
    assert.equal(ut.raw_downloaded, 5000, 'the raw download is kept');
    assert.equal(ut.uploaded, 2000, 'double upload');
    assert.equal((await user(s, m.id)).downloaded, 0, 'the member total has no download');

    await db.updateTable('torrent').set({ factors_until: nowS() - 1 }).where('id', '=', t.id).execute();
    await s.app.site().tracker.torrentChanged(t.id);
    await session(s, m, t, 1000, 5000);
    await s.app.flush();
    ut = await userTorrent(s, m.id, t.id);
    assert.equal(ut.downloaded, 5000, 'after factors_until the download counts');
    assert.equal(ut.uploaded, 3000, 'after factors_until the upload counts once');

    // The periodic refresh honours factors_until too.
    await db.updateTable('torrent').set({ factors_until: nowS() + 3600 }).where('id', '=', t.id).execute();
    await s.app.refresh();
    await session(s, m, t, 0, 7000);
    await s.app.flush();
    assert.equal((await userTorrent(s, m.id, t.id)).downloaded, 5000, 'factors in force again until factors_until');
  });

  it('a freeleech window makes every torrent free while it lasts; a double-upload window doubles', async () => {
    const m = await s.member('windowed');
    const t = await torrentOf(s, admin.id);
    const site = s.app.site();
    const now = nowS();
    const id = await createWindow(site, { id: admin.id, username: 'root' }, { startsAt: now - 60, endsAt: now + 3600, uploadFactor: 2, downloadFactor: 0, reason: 'Anniversary' }, now);
    await session(s, m, t, 300, 4000);
    await s.app.flush();
    let ut = await userTorrent(s, m.id, t.id);
    assert.equal(ut.downloaded, 0, 'no download credited during the window');
    assert.equal(ut.uploaded, 600, 'upload doubled during the window');
    const audit = await s.app.db().selectFrom('audit_log').select('action').orderBy('id', 'desc').executeTakeFirstOrThrow();
    assert.equal(audit.action, 'freeleech.window_create', 'the window is audited');

    assert.equal(await deleteWindow(site, { id: admin.id, username: 'root' }, id, now), true, 'deleted');
    await session(s, m, t, 300, 4000);
    await s.app.flush();
    ut = await userTorrent(s, m.id, t.id);
    assert.equal(ut.downloaded, 4000, 'the window removed: download counts');
    assert.equal(ut.uploaded, 900, 'the window removed: upload counts once');

    // A window scheduled later does not apply yet.
    await createWindow(site, { id: admin.id, username: 'root' }, { startsAt: now + 3600, endsAt: now + 7200, uploadFactor: 1, downloadFactor: 0, reason: 'Later' }, now);
    await session(s, m, t, 0, 1000);
    await s.app.flush();
    assert.equal((await userTorrent(s, m.id, t.id)).downloaded, 5000, 'a future window does not apply');
    await s.app.db().deleteFrom('freeleech_window').execute();
    await s.app.refresh();
  });

  it('a freeleech token makes one torrent free for the member who spent it only', async () => {
    const a = await s.member('tokenholder');
    const b = await s.member('other');
    const t = await torrentOf(s, admin.id);
    const site = s.app.site();
    const now = nowS();
    assert.deepEqual(await spendToken(site, a.id, t.id, 3600, now), { ok: false, error: 'no_tokens' }, 'no token to spend');
    await s.app.db().updateTable('user').set({ freeleech_tokens: 2 }).where('id', '=', a.id).execute();
    const r = await spendToken(site, a.id, t.id, 3600, now);
    assert.ok(r.ok, 'token spent');
    assert.deepEqual(await spendToken(site, a.id, t.id, 3600, now), { ok: false, error: 'already_active' }, 'one active token per torrent');
    assert.equal((await user(s, a.id)).freeleech_tokens, 1, 'one token left');
    await session(s, a, t, 0, 8000);
    await session(s, b, t, 0, 8000);
    await s.app.flush();
    assert.equal((await userTorrent(s, a.id, t.id)).downloaded, 0, 'free for the token holder');
    assert.equal((await userTorrent(s, b.id, t.id)).downloaded, 8000, 'counted for the others');
    // Expired tokens no longer apply after a refresh.
    await s.app.db().updateTable('freeleech_token_use').set({ expires_at: now - 1 }).execute();
    await s.app.refresh();
    await session(s, a, t, 0, 1000);
    await s.app.flush();
    assert.equal((await userTorrent(s, a.id, t.id)).downloaded, 1000, 'an expired token no longer applies');
  });

  it('shows freeleech badges and spends a token from the torrent page', async () => {
    const m = await s.member('clicker');
    const t = await torrentOf(s, admin.id);
    const db = s.app.db();
    await db.updateTable('user').set({ freeleech_tokens: 2 }).where('id', '=', m.id).execute();
    const b = s.browser();
    assert.equal((await b.login('clicker', m.password)).status, 200, 'logged in');
    let page = await b.get(`/torrents/${t.id}`);
    assert.equal(page.status, 200, 'torrent page');
    assert.match(page.text, /Spend a freeleech token \(2 left\)/, 'the token button');
    const r = await b.post(`/torrents/${t.id}/freeleech-token`, {});
    assert.equal(r.status, 303, 'redirected after spending');
    page = await b.get(`/torrents/${t.id}`);
    assert.match(page.text, /Token active: free for you/, 'the token badge');
    assert.doesNotMatch(page.text, /Spend a freeleech token/, 'no second token on the same torrent');
    assert.equal((await user(s, m.id)).freeleech_tokens, 1, 'one token spent');
    const missing = await b.post(`/torrents/${t.id}/freeleech-token`, {}, { csrf: false });
    assert.equal(missing.status, 403, 'CSRF checked');

    await db.updateTable('torrent').set({ download_factor: 0, upload_factor: 2, factors_until: nowS() + 86400 }).where('id', '=', t.id).execute();
    const other = await s.member('viewer');
    const ob = s.browser();
    assert.equal((await ob.login('viewer', other.password)).status, 200, 'logged in');
    const p2 = await ob.get(`/torrents/${t.id}`);
    assert.match(p2.text, /Freeleech/, 'the free badge');
    assert.match(p2.text, /Double upload/, 'the double upload badge');
    assert.doesNotMatch(p2.text, /Spend a freeleech token/, 'no token button on a free torrent nor without tokens');
  });

  it('staff schedule and delete freeleech windows at /staff/freeleech (freeleech.manage, audited)', async () => {
    const m = await s.member('nosy');
    const mb = s.browser();
    assert.equal((await mb.login('nosy', m.password)).status, 200, 'logged in');
    assert.equal((await mb.get('/staff/freeleech')).status, 403, 'members may not');
    const b = s.browser();
    assert.equal((await b.login('root', admin.password)).status, 200, 'admin logged in');
    const page = await b.get('/staff/freeleech');
    assert.equal(page.status, 200, 'the staff page');
    const bad = await b.post('/staff/freeleech', { starts: '2030-01-02T00:00', ends: '2030-01-01T00:00', upload: '1', download: '0', reason: 'Backwards' });
    assert.equal(bad.status, 400, 'refused');
    assert.match(bad.text, /Give a start and a later end/, 'the error next to the field');
    assert.match(bad.text, /value="Backwards"/, 'what was typed is kept');
    const ok = await b.post('/staff/freeleech', { starts: '2030-01-01T00:00', ends: '2030-01-02T00:00', upload: '2', download: '0', reason: 'New year' });
    assert.equal(ok.status, 303, 'created');
    const row = await s.app.db().selectFrom('freeleech_window').selectAll().where('reason', '=', 'New year').executeTakeFirstOrThrow();
    assert.equal(row.starts_at, Date.UTC(2030, 0, 1) / 1000, 'UTC start');
    assert.equal(row.upload_factor, 2, 'upload factor');
    await b.get('/staff/freeleech');
    const del = await b.post(`/staff/freeleech/${row.id}/delete`, {});
    assert.equal(del.status, 303, 'deleted');
    const actions = (await s.app.db().selectFrom('audit_log').select('action').where('target_type', '=', 'freeleech_window').where('target_id', '=', row.id).execute()).map((a) => a.action);
    assert.deepEqual(actions, ['freeleech.window_create', 'freeleech.window_delete'], 'audited');
  });

  it('refuses a blocked info hash at announce, at once through blocklistChanged', async () => {
    const m = await s.member('blocked-fan');
    const t = await torrentOf(s, admin.id);
    assert.equal((await announce(s, m.passkey, t)).failure, null, 'accepted before the block');
    await s.app.db().insertInto('infohash_block').values({ info_hash: t.infoHashV1!, reason: 'Copyright notice #12', notice_id: null, created_by: admin.id, created_at: nowS() }).execute();
    await s.app.site().tracker.blocklistChanged!();
    assert.equal((await announce(s, m.passkey, t)).failure, 'Torrent blocked: Copyright notice #12');
    await s.app.db().deleteFrom('infohash_block').execute();
    await s.app.site().tracker.torrentChanged(t.id);
    assert.equal((await announce(s, m.passkey, t)).failure, null, 'unblocked through torrentChanged');
  });

  it('watches hit-and-runs: prewarning, warning, satisfaction by seeding, restriction after N warnings, immunity', async () => {
    const db = s.app.db();
    const site = s.app.site();
    const cfg = s.app.config.rules;
    const m = await s.member('runner');
    const t1 = await torrentOf(s, admin.id);
    const t2 = await torrentOf(s, admin.id);
    const extra = [await torrentOf(s, admin.id), await torrentOf(s, admin.id), await torrentOf(s, admin.id)];
    const t0 = nowS();
    // Complete t1, t2 and the extra ones (event=completed).
    for (const t of [t1, t2, ...extra]) {
      const peerId = randomBytes(20);
      await announce(s, m.passkey, t, { peerId, event: 'started' });
      const c = await announce(s, m.passkey, t, { peerId, down: 60_000, left: 0, event: 'completed' });
      assert.equal(c.failure, null, 'completed accepted');
    }
    await s.app.flush();
    await runRules(site, t0);
    const rows = await db.selectFrom('hnr').selectAll().where('user_id', '=', m.id).execute();
    assert.equal(rows.length, 5, 'each completion watched');
    assert.ok(
      rows.every((r) => r.status === 'watching'),
      'watching',
    );

    // Before the deadline: the prewarning.
    const deadline = rows[0]!.deadline;
    await runRules(site, deadline - cfg.hnr_prewarn + 1);
    const pre = await db.selectFrom('hnr').select('status').where('user_id', '=', m.id).execute();
    assert.ok(
      pre.every((r) => r.status === 'prewarned'),
      'prewarned',
    );
    assert.ok((await notifications(s, m.id)).includes('members.hnr_prewarn'), 'prewarning notified');

    // Seeding t1 long enough satisfies it.
    await db.updateTable('user_torrent').set({ seed_time: cfg.hnr_seed_time }).where('user_id', '=', m.id).where('torrent_id', '=', t1.id).execute();
    await runRules(site, deadline - 10);
    const s1 = await db.selectFrom('hnr').select('status').where('user_id', '=', m.id).where('torrent_id', '=', t1.id).executeTakeFirstOrThrow();
    assert.equal(s1.status, 'satisfied', 'satisfied by seeding');

    // At the deadline the others are warned: 4 warnings ≥ 3 → downloads refused.
    await runRules(site, deadline + 1);
    const warned = await db.selectFrom('hnr').select('status').where('user_id', '=', m.id).where('status', '=', 'warned').execute();
    assert.equal(warned.length, 4, 'four hit-and-runs warned');
    const warnings = await db.selectFrom('user_warning').selectAll().where('user_id', '=', m.id).where('kind', '=', 'hnr').execute();
    assert.equal(warnings.length, 4, 'a warning each');
    assert.ok(
      warnings.every((w) => w.expires_at === deadline + 1 + cfg.hnr_warning_ttl),
      'warnings expire',
    );
    assert.equal((await user(s, m.id)).download_refused, 1, 'restricted after N warnings');
    const refused = await announce(s, m.passkey, t2, { left: 100 });
    assert.equal(refused.failure, '4 active hit-and-run warnings (limit 3): downloading is suspended until one expires; seeding is allowed');
    assert.equal((await announce(s, m.passkey, t2, { left: 0 })).failure, null, 'seeding allowed');
    const rb = s.browser();
    assert.equal((await rb.login('runner', m.password)).status, 200, 'logged in');
    const page = await rb.get(`/u/${m.id}`);
    assert.match(page.text, /Downloading is suspended: 4 active hit-and-run warnings/, 'the refusal is shown');
    assert.equal((page.text.match(/<tr class="hnr-warned">/g) ?? []).length, 4, 'the H&R list shows the warned torrents');
    assert.match(page.text, /<tr class="hnr-satisfied">/, 'and the satisfied one');

    // Warnings expire: the restriction is lifted.
    await runRules(site, deadline + 2 + cfg.hnr_warning_ttl);
    assert.equal((await user(s, m.id)).download_refused, 0, 'lifted once the warnings expire');
    assert.equal((await announce(s, m.passkey, t2, { left: 100 })).failure, null, 'downloading allowed again');

    // Immunity: a member of an hnr_immune class is exempt.
    const v = await s.member('vip');
    await db.updateTable('user').set({ class: 'elite' }).where('id', '=', v.id).execute();
    const peerId = randomBytes(20);
    await announce(s, v.passkey, t2, { peerId, event: 'started' });
    await announce(s, v.passkey, t2, { peerId, down: 60_000, left: 0, event: 'completed' });
    await s.app.flush();
    const tv = nowS();
    await runRules(site, tv);
    await runRules(site, tv + cfg.hnr_window + 1);
    const vr = await db.selectFrom('hnr').select('status').where('user_id', '=', v.id).executeTakeFirstOrThrow();
    assert.equal(vr.status, 'exempt', 'an immune class is exempt');
    const vw = await db.selectFrom('user_warning').select('id').where('user_id', '=', v.id).execute();
    assert.equal(vw.length, 0, 'no warning for an immune member');
  });
});

describe('blocklist in public mode', () => {
  let s: TestSite;
  before(async () => {
    s = await startSite(null, { tracker: { mode: 'public' } });
  });
  after(() => s.stop());

  it('refuses a blocked info hash even when anyone may announce any hash', async () => {
    const hash = randomBytes(20).toString('hex');
    assert.equal((await announce(s, null, hash)).failure, null, 'an unknown hash is served in public mode');
    await s.app.db().insertInto('infohash_block').values({ info_hash: hash, reason: 'Court order', notice_id: null, created_by: null, created_at: nowS() }).execute();
    await s.app.refresh();
    assert.equal((await announce(s, null, hash)).failure, 'Torrent blocked: Court order');
    const other = randomBytes(20).toString('hex');
    assert.equal((await announce(s, null, other)).failure, null, 'other hashes still served');
  });
});

/**
 * The moderation services on every dialect: the queue (initial status by permission, approve,
 * reject, edit request and resubmission), staff edit, delete, merge and factors, reports, the
 * verified-only setting; each staff action audited with before/after, the tracker told.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Kysely } from 'kysely';
import type { Database, UserRole } from '../../db/schema.js';
import { forEachDialect, type TestDatabase } from '../../db/test-databases.js';
import { registerTorrent } from '../../db/torrent.repository.js';
import { createUser } from '../../db/user.repository.js';
import { silentLogger } from '../../shared/log.js';
import { installDefaultTaxonomy } from '../catalogue/taxonomy.js';
import { listNotifications } from '../notifications.js';
import { verifyAuditChain } from '../staff/audit.js';
import { installDefaultGrants, invalidateGrants } from '../staff/policy.js';
import { initialStatus } from '../torrents/upload.js';
import type { ModerationSite } from './common.js';
import { approveTorrent, canResubmit, countPendingTorrents, listPendingTorrents, rejectTorrent, requestTorrentEdit, resubmitTorrent } from './queue.js';
import { addReportNote, claimReport, countReports, createReport, getReport, listReports, resolveReport } from './reports.js';
import { listingsVerifiedOnly, updateModerationSettings } from './settings.js';
import { deleteTorrentAsStaff, editTorrentAsStaff, mergeTorrents, mergedReason, presetOf, setTorrentFactorsAsStaff } from './torrents.js';

const NOW = 1_700_000_000;
let serial = 0;

function hex(n: number, len: number): string {
  return n.toString(16).padStart(len, '0');
}

forEachDialect((name, open) => {
  describe(`moderation services (${name})`, () => {
    let t: TestDatabase;
    let db: Kysely<Database>;
    const changed: number[] = [];
    let site: ModerationSite;
    const users: Record<string, { id: number; username: string; role: UserRole }> = {};

    const mkUser = async (username: string, role: UserRole) => {
      const u = await createUser(db, { username, email: `${username}@example.test`, role, now: 1 });
      users[username] = { id: u.id, username, role };
      return users[username]!;
    };
    const mkTorrent = async (o: { status?: 'active' | 'pending'; uploader?: number; category?: number } = {}) => {
      const n = ++serial;
      const { id } = await registerTorrent(db, {
        name: `Torrent ${n}`,
        infoHashV1: hex(0xabc000 + n, 40),
        size: 1000,
        uploaderId: o.uploader ?? users.alice!.id,
        status: o.status ?? 'pending',
        now: NOW - 100,
        categoryId: o.category ?? 631,
        description: 'first description',
      });
      return id;
    };
    const torrent = (id: number) => db.selectFrom('torrent').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    const auditRows = (action: string, targetId?: number) => {
      let q = db.selectFrom('audit_log').selectAll().where('action', '=', action);
      if (targetId !== undefined) q = q.where('target_id', '=', targetId);
      return q.orderBy('id').execute();
    };

    before(async () => {
      t = await open();
      db = t.db;
      await installDefaultTaxonomy(db);
      await installDefaultGrants(db);
      site = {
        db,
        log: silentLogger(),
        now: () => NOW,
        tracker: {
          torrentChanged: async (id) => {
            changed.push(id);
          },
          userChanged: async () => {},
          swarmCounts: () => null,
        },
      };
      await mkUser('alice', 'member');
      await mkUser('bob', 'member');
      await mkUser('upl', 'uploader');
      await mkUser('mod', 'moderator');
    });
    after(async () => {
      invalidateGrants(db);
      await t.close();
    });

    it('sends members to the queue; the uploader role, staff and a per-member grant skip it; a revocation sends a moderator back', async () => {
      assert.equal(await initialStatus(db, users.alice!), 'pending');
      assert.equal(await initialStatus(db, users.upl!), 'active');
      assert.equal(await initialStatus(db, users.mod!), 'active');
      await db.insertInto('user_permission').values({ user_id: users.bob!.id, permission: 'torrent.upload_unmoderated', granted: 1 }).execute();
      assert.equal(await initialStatus(db, users.bob!), 'active', 'granted to one member');
      assert.equal(await initialStatus(db, { ...users.upl!, enabled: 0 }), 'pending', 'a disabled account holds no permission');
      await db.deleteFrom('user_permission').where('user_id', '=', users.bob!.id).execute();
    });

    it('approves: active, verified, moderated_by/at, audited, uploader notified, tracker told', async () => {
      const id = await mkTorrent();
      assert.ok((await listPendingTorrents(db)).toReview.some((p) => p.id === id), 'listed in the queue');
      assert.ok((await countPendingTorrents(db)) >= 1, 'counted');
      changed.length = 0;
      assert.deepEqual(await approveTorrent(site, users.mod!, id), { ok: true });
      const row = await torrent(id);
      assert.equal(row.status, 'active');
      assert.equal(row.verified, 1);
      assert.equal(row.moderated_by, users.mod!.id);
      assert.equal(row.moderated_at, NOW);
      assert.deepEqual(changed, [id], 'the tracker is told');
      const [a] = await auditRows('torrent.approve', id);
      assert.ok(a, 'audited');
      assert.equal(a.actor_id, users.mod!.id);
      assert.deepEqual(JSON.parse(a.before!), { status: 'pending', verified: 0, moderation_note: null });
      assert.deepEqual(JSON.parse(a.after!), { status: 'active', verified: 1, moderation_note: null });
      const notes = await listNotifications(db, users.alice!.id);
      assert.ok(notes.some((n) => n.kind === 'moderation_approved' && n.data.torrentId === id && n.data.link === `/t/${id}`), 'uploader notified');
      assert.deepEqual(await approveTorrent(site, users.mod!, id), { ok: false, error: 'not_pending' }, 'only pending torrents');
      assert.deepEqual(await approveTorrent(site, users.mod!, 999_999), { ok: false, error: 'not_found' });
    });

    it('rejects with a required reason: deleted with that reason, audited, uploader notified', async () => {
      const id = await mkTorrent();
      assert.deepEqual(await rejectTorrent(site, users.mod!, id, '   '), { ok: false, error: 'reason_required' });
      assert.deepEqual(await rejectTorrent(site, users.mod!, id, 'x'.repeat(201)), { ok: false, error: 'reason_too_long' });
      assert.equal((await torrent(id)).status, 'pending', 'nothing changed on a refusal');
      changed.length = 0;
      assert.deepEqual(await rejectTorrent(site, users.mod!, id, ' Fake \n release '), { ok: true });
      const row = await torrent(id);
      assert.equal(row.status, 'deleted');
      assert.equal(row.deleted_reason, 'Fake release', 'one line');
      assert.equal(row.deleted_at, NOW);
      assert.deepEqual(changed, [id]);
      assert.equal((await auditRows('torrent.reject', id))[0]?.reason, 'Fake release');
      const n = (await listNotifications(db, users.alice!.id)).find((x) => x.kind === 'moderation_rejected' && x.data.torrentId === id);
      assert.equal(n?.data.reason, 'Fake release');
    });

    it('asks for an edit; the uploader resubmits; the note is cleared and the torrent reviewed again', async () => {
      const id = await mkTorrent();
      assert.deepEqual(await requestTorrentEdit(site, users.mod!, id, ''), { ok: false, error: 'reason_required' });
      assert.deepEqual(await requestTorrentEdit(site, users.mod!, id, 'Please add the quality and a real description.'), { ok: true });
      let row = await torrent(id);
      assert.equal(row.status, 'pending', 'still pending');
      assert.equal(row.moderation_note, 'Please add the quality and a real description.');
      let queue = await listPendingTorrents(db);
      assert.ok(queue.awaitingEdit.some((p) => p.id === id) && !queue.toReview.some((p) => p.id === id), 'waits for the uploader');
      const n = (await listNotifications(db, users.alice!.id)).find((x) => x.kind === 'moderation_edit_requested' && x.data.torrentId === id);
      assert.equal(n?.data.link, `/torrents/${id}/resubmit`);
      assert.equal((await auditRows('torrent.request_edit', id)).length, 1);

      assert.equal(canResubmit(row, users.alice!.id), true);
      assert.equal(canResubmit(row, users.bob!.id), false);
      const input = { title: 'Better title', description: 'A [b]real[/b] description', termIds: [13, 541] };
      assert.deepEqual(await resubmitTorrent(site, users.bob!, id, input), { ok: false, error: 'not_uploader' });
      const bad = await resubmitTorrent(site, users.alice!, id, { title: '', description: 'x', termIds: [13, 14, 968, 987654] });
      assert.equal(bad.ok, false);
      assert.ok(!bad.ok && bad.error === 'invalid', 'invalid edit refused');
      if (!bad.ok && bad.error === 'invalid') {
        assert.deepEqual(
          bad.problems.map((p) => `${p.field}:${p.code}`).sort(),
          ['terms:term_not_allowed', 'terms:term_several', 'terms:term_unknown', 'title:title_required'],
        );
      }
      assert.deepEqual(await resubmitTorrent(site, users.alice!, id, input), { ok: true });
      row = await torrent(id);
      assert.equal(row.name, 'Better title');
      assert.equal(row.slug, 'better-title');
      assert.equal(row.description, 'A [b]real[/b] description');
      assert.equal(row.moderation_note, null, 'note cleared');
      assert.equal(row.status, 'pending', 'still waits for approval');
      const terms = await db.selectFrom('torrent_term').select('term_id').where('torrent_id', '=', id).orderBy('term_id').execute();
      assert.deepEqual(terms.map((x) => x.term_id), [13, 541]);
      queue = await listPendingTorrents(db);
      assert.ok(queue.toReview.some((p) => p.id === id), 'back in the queue');
      await approveTorrent(site, users.mod!, id);
      assert.deepEqual(await resubmitTorrent(site, users.alice!, id, input), { ok: false, error: 'not_pending' }, 'no member edit once approved');
    });

    it('lets the staff edit any torrent (subcategory, terms, anonymous) with before/after in the audit log', async () => {
      const id = await mkTorrent({ status: 'active' });
      await db.insertInto('torrent_term').values({ torrent_id: id, term_id: 13, term_type_id: 7 }).execute();
      const moved = await editTorrentAsStaff(site, users.mod!, id, { title: 'Series now', description: 'edited', categoryId: 433, termIds: [13, 968], anonymous: true });
      assert.deepEqual(moved, { ok: true });
      const row = await torrent(id);
      assert.equal(row.category_id, 433);
      assert.equal(row.anonymous, 1);
      assert.equal(row.name, 'Series now');
      const [a] = await auditRows('torrent.edit', id);
      assert.ok(a, 'audited');
      const b = JSON.parse(a.before!) as Record<string, unknown>;
      const af = JSON.parse(a.after!) as Record<string, unknown>;
      assert.equal(b.name, `Torrent ${serial}`);
      assert.deepEqual(b.terms, [13]);
      assert.equal(b.category_id, 631);
      assert.deepEqual(af.terms, [13, 968]);
      assert.equal(af.category_id, 433);
      const refused = await editTorrentAsStaff(site, users.mod!, id, { title: 'x', description: '', categoryId: 631, termIds: [968] });
      assert.ok(!refused.ok && refused.error === 'invalid' && refused.problems[0]?.code === 'term_not_allowed', 'a term of the old subcategory is refused');
      const parent = await editTorrentAsStaff(site, users.mod!, id, { title: 'x', description: '', categoryId: 210, termIds: [] });
      assert.ok(!parent.ok && parent.error === 'invalid' && parent.problems.some((p) => p.code === 'category_not_sub'), 'a parent category is refused');
    });

    it('deletes with a reason; the tracker is told; a deleted torrent cannot be deleted again', async () => {
      const id = await mkTorrent({ status: 'active' });
      assert.deepEqual(await deleteTorrentAsStaff(site, users.mod!, id, ''), { ok: false, error: 'reason_required' });
      changed.length = 0;
      assert.deepEqual(await deleteTorrentAsStaff(site, users.mod!, id, 'Dupe of a better release'), { ok: true });
      const row = await torrent(id);
      assert.equal(row.status, 'deleted');
      assert.equal(row.deleted_reason, 'Dupe of a better release');
      assert.deepEqual(changed, [id]);
      const [a] = await auditRows('torrent.delete', id);
      assert.equal(JSON.parse(a!.after!).deleted_reason, 'Dupe of a better release');
      assert.deepEqual(await deleteTorrentAsStaff(site, users.mod!, id, 'again'), { ok: false, error: 'deleted' });
      assert.ok((await listNotifications(db, users.alice!.id)).some((n) => n.kind === 'moderation_deleted' && n.data.torrentId === id), 'uploader told');
    });

    it('merges a duplicate: bookmarks, comments, thanks and ratings move; counters recomputed; the duplicate deleted with merged_into', async () => {
      const kept = await mkTorrent({ status: 'active' });
      const dup = await mkTorrent({ status: 'active' });
      const a = users.alice!.id;
      const b = users.bob!.id;
      await db.insertInto('bookmark').values([{ user_id: a, torrent_id: dup, created_at: 1 }, { user_id: b, torrent_id: dup, created_at: 1 }, { user_id: a, torrent_id: kept, created_at: 1 }]).execute();
      await db.insertInto('thanks').values([{ user_id: a, torrent_id: dup, created_at: 1 }, { user_id: b, torrent_id: kept, created_at: 1 }]).execute();
      await db.insertInto('rating').values([{ user_id: a, torrent_id: dup, score: 8, created_at: 1 }, { user_id: b, torrent_id: dup, score: 4, created_at: 1 }, { user_id: b, torrent_id: kept, score: 6, created_at: 1 }]).execute();
      await db.insertInto('comment').values([{ torrent_id: dup, user_id: a, body: 'one', created_at: 1 }, { torrent_id: dup, user_id: b, body: 'two', created_at: 2 }]).execute();
      assert.deepEqual(await mergeTorrents(site, users.mod!, dup, dup), { ok: false, error: 'same' });
      assert.deepEqual(await mergeTorrents(site, users.mod!, dup, 999_999), { ok: false, error: 'target_not_found' });
      changed.length = 0;
      const r = await mergeTorrents(site, users.mod!, dup, kept);
      assert.deepEqual(r, { ok: true, moved: { bookmarks: 1, comments: 2, thanks: 1, ratings: 1 } });
      const d = await torrent(dup);
      assert.equal(d.status, 'deleted');
      assert.equal(d.merged_into, kept);
      assert.equal(d.deleted_reason, mergedReason(kept));
      assert.equal(mergedReason(kept), `Merged into /t/${kept}`);
      const k = await torrent(kept);
      assert.equal(k.comment_count, 2);
      assert.equal(k.thanks_count, 2);
      assert.equal(k.rating_count, 2, "bob's own rating of the kept torrent stays, alice's moves");
      assert.equal(k.rating_sum, 14);
      const bookmarks = await db.selectFrom('bookmark').select(['user_id', 'torrent_id']).where('torrent_id', 'in', [dup, kept]).orderBy('user_id').execute();
      assert.deepEqual(bookmarks, [{ user_id: a, torrent_id: kept }, { user_id: b, torrent_id: kept }], 'one bookmark each, on the kept torrent');
      assert.deepEqual(new Set(changed), new Set([dup, kept]));
      assert.equal((await auditRows('torrent.merge', dup)).length, 1);
      assert.deepEqual(await mergeTorrents(site, users.mod!, dup, kept), { ok: false, error: 'deleted' });
      const other = await mkTorrent({ status: 'active' });
      assert.deepEqual(await mergeTorrents(site, users.mod!, other, dup), { ok: false, error: 'target_deleted' });
    });

    it('sets factors by preset with an optional end; normal clears the end', async () => {
      const id = await mkTorrent({ status: 'active' });
      assert.deepEqual(await setTorrentFactorsAsStaff(site, users.mod!, id, 'free', NOW - 1), { ok: false, error: 'until_past' });
      changed.length = 0;
      assert.deepEqual(await setTorrentFactorsAsStaff(site, users.mod!, id, 'free', NOW + 86_400), { ok: true });
      let row = await torrent(id);
      assert.equal(row.upload_factor, 1);
      assert.equal(row.download_factor, 0);
      assert.equal(row.factors_until, NOW + 86_400);
      assert.equal(presetOf(row), 'free');
      assert.deepEqual(changed, [id]);
      await setTorrentFactorsAsStaff(site, users.mod!, id, 'double', null);
      row = await torrent(id);
      assert.deepEqual([row.upload_factor, row.download_factor, row.factors_until], [2, 1, null]);
      await setTorrentFactorsAsStaff(site, users.mod!, id, 'half', NOW + 10);
      assert.equal(presetOf(await torrent(id)), 'half');
      await setTorrentFactorsAsStaff(site, users.mod!, id, 'neutral', NOW + 10);
      assert.deepEqual([(await torrent(id)).upload_factor, (await torrent(id)).download_factor], [0, 0]);
      await setTorrentFactorsAsStaff(site, users.mod!, id, 'normal', NOW + 10);
      row = await torrent(id);
      assert.deepEqual([row.upload_factor, row.download_factor, row.factors_until], [1, 1, null]);
      const rows = await auditRows('torrent.set_factors', id);
      assert.equal(rows.length, 5);
      assert.deepEqual(JSON.parse(rows[0]!.before!), { upload_factor: 1, download_factor: 1, factors_until: null });
    });

    it('works reports through open, claimed and resolved, with notes, all audited', async () => {
      const tid = await mkTorrent({ status: 'active' });
      const reporter = users.bob!;
      assert.deepEqual(await createReport(db, reporter, { targetType: 'torrent', targetId: tid, reason: '' }, NOW), { ok: false, error: 'reason_required' });
      assert.deepEqual(await createReport(db, reporter, { targetType: 'torrent', targetId: 999_999, reason: 'x' }, NOW), { ok: false, error: 'target_not_found' });
      assert.deepEqual(await createReport(db, reporter, { targetType: 'user', targetId: reporter.id, reason: 'me' }, NOW), { ok: false, error: 'self' });
      const r = await createReport(db, reporter, { targetType: 'torrent', targetId: tid, reason: 'Fake files' }, NOW);
      assert.ok(r.ok, 'created');
      assert.deepEqual(await createReport(db, reporter, { targetType: 'torrent', targetId: tid, reason: 'again' }, NOW), { ok: false, error: 'duplicate' });
      const u = await createReport(db, reporter, { targetType: 'user', targetId: users.alice!.id, reason: 'Rude' }, NOW);
      assert.ok(u.ok, 'a member can be reported');
      const rid = r.ok ? r.id : 0;
      assert.ok((await listReports(db, { status: 'open', limit: 50 })).some((x) => x.id === rid && x.reporter_name === 'bob'), 'listed as open');

      assert.deepEqual(await claimReport(db, users.mod!, rid, NOW + 1), { ok: true });
      assert.deepEqual(await claimReport(db, users.mod!, rid, NOW + 1), { ok: false, error: 'not_open' });
      let got = await getReport(db, rid);
      assert.equal(got?.report.status, 'claimed');
      assert.equal(got?.report.claimer_name, 'mod');
      assert.equal(got?.target.href, `/t/${tid}`);
      assert.deepEqual(await addReportNote(db, users.mod!, rid, '', NOW + 2), { ok: false, error: 'text_required' });
      assert.deepEqual(await addReportNote(db, users.mod!, rid, 'Checked the files: fake.', NOW + 2), { ok: true });
      assert.deepEqual(await resolveReport(db, users.mod!, rid, '  ', NOW + 3), { ok: false, error: 'text_required' });
      assert.deepEqual(await resolveReport(db, users.mod!, rid, 'Torrent deleted.', NOW + 3), { ok: true });
      assert.deepEqual(await resolveReport(db, users.mod!, rid, 'Twice', NOW + 3), { ok: false, error: 'resolved' });
      got = await getReport(db, rid);
      assert.equal(got?.report.status, 'resolved');
      assert.equal(got?.report.resolution, 'Torrent deleted.');
      assert.deepEqual(got?.notes.map((n) => [n.author_name, n.body]), [['mod', 'Checked the files: fake.']]);
      assert.ok((await listReports(db, { status: 'resolved', limit: 50 })).some((x) => x.id === rid), 'filtered as resolved');
      assert.ok(!(await listReports(db, { status: 'open', limit: 50 })).some((x) => x.id === rid), 'not open any more');
      const counts = await countReports(db);
      assert.ok(counts.resolved >= 1 && counts.open >= 1, `counts ${JSON.stringify(counts)}`);
      for (const action of ['report.claim', 'report.note', 'report.resolve']) assert.equal((await auditRows(action, rid)).length, 1, `${action} audited`);
      assert.ok((await createReport(db, reporter, { targetType: 'torrent', targetId: tid, reason: 'New problem' }, NOW + 4)).ok, 'a new report once the last one is resolved');
    });

    it('stores the verified-only setting, audited', async () => {
      assert.equal(await listingsVerifiedOnly(db), false);
      await updateModerationSettings(db, users.mod!, { verifiedOnly: true }, NOW);
      assert.equal(await listingsVerifiedOnly(db), true);
      const [a] = await auditRows('settings.update');
      assert.deepEqual(JSON.parse(a!.before!), { verifiedOnly: false });
      assert.deepEqual(JSON.parse(a!.after!), { verifiedOnly: true });
      await updateModerationSettings(db, users.mod!, { verifiedOnly: false }, NOW);
      assert.equal(await listingsVerifiedOnly(db), false);
    });

    it('keeps the audit chain intact', async () => {
      assert.equal(await verifyAuditChain(db), null);
    });
  });
});

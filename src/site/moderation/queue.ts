/**
 * The upload queue. Uploads of members without 'torrent.upload_unmoderated' wait as *pending*
 * (the tracker refuses them: "Torrent pending approval by the staff"); the staff then
 *
 * - approve: active, verified, moderated_by/at set; the tracker accepts it at once;
 * - reject: deleted with the reason (clients are told "Unregistered torrent: <reason>");
 * - ask for an edit: stays pending with a moderation_note shown to the uploader, who edits the
 *   title, description and terms and resubmits (the note is cleared; the torrent is back at the
 *   top of the queue's "to review" list).
 *
 * The uploader is notified of each decision (notification kinds moderation_approved,
 * moderation_rejected, moderation_edit_requested). Every staff decision is audited in the same
 * transaction as the change; the tracker is told after the commit.
 */
import type { Kysely } from 'kysely';
import type { Database, Torrent } from '../../db/schema.js';
import { inTransaction } from '../../db/util.js';
import { notify } from '../notifications.js';
import { indexTorrent } from '../search/indexer.js';
import { audit } from '../staff/audit.js';
import { REASON_MAX, checkText, oneLine, multiLine, pushTorrent, type Actor, type ModerationSite, type TextProblem } from './common.js';
import { applyTorrentEdit, checkTorrentEdit, type EditProblem, type TorrentEditInput } from './edit.js';

export interface PendingTorrent {
  id: number;
  name: string;
  slug: string | null;
  size: number;
  created_at: number;
  updated_at: number | null;
  uploader_id: number | null;
  uploader_name: string | null;
  category_id: number | null;
  category_name_en: string | null;
  category_name_fr: string | null;
  /** Set while the staff waits for the uploader's edit. */
  moderation_note: string | null;
  moderated_at: number | null;
}

/**
 * Pending torrents, oldest first: those to review (no note: new or resubmitted) and those waiting
 * for their uploader's edit.
 */
export async function listPendingTorrents(db: Kysely<Database>, o: { limit?: number } = {}): Promise<{ toReview: PendingTorrent[]; awaitingEdit: PendingTorrent[] }> {
  const rows = (await db
    .selectFrom('torrent')
    .leftJoin('user', 'user.id', 'torrent.uploader_id')
    .leftJoin('category', 'category.id', 'torrent.category_id')
    .select([
      'torrent.id as id',
      'torrent.name as name',
      'torrent.slug as slug',
      'torrent.size as size',
      'torrent.created_at as created_at',
      'torrent.updated_at as updated_at',
      'torrent.uploader_id as uploader_id',
      'user.username as uploader_name',
      'torrent.category_id as category_id',
      'category.name_en as category_name_en',
      'category.name_fr as category_name_fr',
      'torrent.moderation_note as moderation_note',
      'torrent.moderated_at as moderated_at',
    ])
    .where('torrent.status', '=', 'pending')
    .orderBy('torrent.created_at')
    .orderBy('torrent.id')
    .limit(o.limit ?? 500)
    .execute()) as PendingTorrent[];
  return { toReview: rows.filter((r) => r.moderation_note === null), awaitingEdit: rows.filter((r) => r.moderation_note !== null) };
}

export async function countPendingTorrents(db: Kysely<Database>): Promise<number> {
  const r = await db.selectFrom('torrent').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'pending').where('moderation_note', 'is', null).executeTakeFirstOrThrow();
  return Number(r.n);
}

export type DecisionError = 'not_found' | 'not_pending' | `reason_${TextProblem}`;
export type DecisionResult = { ok: true } | { ok: false; error: DecisionError };

async function pendingTorrent(db: Kysely<Database>, torrentId: number): Promise<Torrent | DecisionError> {
  const t = await db.selectFrom('torrent').selectAll().where('id', '=', torrentId).executeTakeFirst();
  if (!t) return 'not_found';
  if (t.status !== 'pending') return 'not_pending';
  return t;
}

const link = (id: number) => `/t/${id}`;

/** Approves a pending torrent: active and verified; the tracker accepts it at once. */
export async function approveTorrent(site: ModerationSite, actor: Actor, torrentId: number): Promise<DecisionResult> {
  const now = site.now();
  const r = await inTransaction(site.db, async (trx): Promise<DecisionResult> => {
    const t = await pendingTorrent(trx, torrentId);
    if (typeof t === 'string') return { ok: false, error: t };
    const u = await trx
      .updateTable('torrent')
      .set({ status: 'active', verified: 1, moderated_by: actor.id, moderated_at: now, moderation_note: null, updated_at: now })
      .where('id', '=', t.id)
      .where('status', '=', 'pending')
      .executeTakeFirst();
    if (Number(u.numUpdatedRows) === 0) return { ok: false, error: 'not_pending' };
    await audit(trx, {
      actorId: actor.id,
      actorName: actor.username,
      action: 'torrent.approve',
      targetType: 'torrent',
      targetId: t.id,
      before: { status: t.status, verified: t.verified, moderation_note: t.moderation_note },
      after: { status: 'active', verified: 1, moderation_note: null },
      now,
    });
    if (t.uploader_id !== null) await notify(trx, t.uploader_id, 'moderation_approved', { torrentId: t.id, title: t.name, link: link(t.id) }, now);
    return { ok: true };
  });
  if (r.ok) await pushTorrent(site, torrentId);
  return r;
}

/** Rejects a pending torrent: deleted with the reason, which the tracker tells clients. */
export async function rejectTorrent(site: ModerationSite, actor: Actor, torrentId: number, reasonRaw: string): Promise<DecisionResult> {
  const reason = oneLine(reasonRaw);
  const problem = checkText(reason, REASON_MAX);
  if (problem) return { ok: false, error: `reason_${problem}` };
  const now = site.now();
  const r = await inTransaction(site.db, async (trx): Promise<DecisionResult> => {
    const t = await pendingTorrent(trx, torrentId);
    if (typeof t === 'string') return { ok: false, error: t };
    const u = await trx
      .updateTable('torrent')
      .set({ status: 'deleted', deleted_reason: reason, deleted_at: now, moderated_by: actor.id, moderated_at: now, moderation_note: null })
      .where('id', '=', t.id)
      .where('status', '=', 'pending')
      .executeTakeFirst();
    if (Number(u.numUpdatedRows) === 0) return { ok: false, error: 'not_pending' };
    await audit(trx, {
      actorId: actor.id,
      actorName: actor.username,
      action: 'torrent.reject',
      targetType: 'torrent',
      targetId: t.id,
      reason,
      before: { status: t.status, deleted_reason: t.deleted_reason },
      after: { status: 'deleted', deleted_reason: reason },
      now,
    });
    if (t.uploader_id !== null) await notify(trx, t.uploader_id, 'moderation_rejected', { torrentId: t.id, title: t.name, reason }, now);
    return { ok: true };
  });
  if (r.ok) await pushTorrent(site, torrentId);
  return r;
}

/** Asks the uploader to edit a pending torrent; it stays pending with the note. */
export async function requestTorrentEdit(site: ModerationSite, actor: Actor, torrentId: number, noteRaw: string): Promise<DecisionResult> {
  const note = multiLine(noteRaw);
  const problem = checkText(note, REASON_MAX * 5);
  if (problem) return { ok: false, error: `reason_${problem}` };
  const now = site.now();
  return inTransaction(site.db, async (trx): Promise<DecisionResult> => {
    const t = await pendingTorrent(trx, torrentId);
    if (typeof t === 'string') return { ok: false, error: t };
    await trx.updateTable('torrent').set({ moderation_note: note, moderated_by: actor.id, moderated_at: now }).where('id', '=', t.id).execute();
    await audit(trx, {
      actorId: actor.id,
      actorName: actor.username,
      action: 'torrent.request_edit',
      targetType: 'torrent',
      targetId: t.id,
      reason: note,
      before: { moderation_note: t.moderation_note },
      after: { moderation_note: note },
      now,
    });
    if (t.uploader_id !== null) {
      await notify(trx, t.uploader_id, 'moderation_edit_requested', { torrentId: t.id, title: t.name, note, link: `/torrents/${t.id}/resubmit` }, now);
    }
    return { ok: true };
  });
}

export type ResubmitResult = { ok: true } | { ok: false; error: 'not_found' | 'not_pending' | 'not_uploader' } | { ok: false; error: 'invalid'; problems: EditProblem[] };

/** May this member resubmit this torrent (its uploader, while it is pending)? */
export function canResubmit(t: Pick<Torrent, 'status' | 'uploader_id'>, userId: number): boolean {
  return t.status === 'pending' && t.uploader_id === userId;
}

/**
 * The uploader's edit of a pending torrent (title, description and its format, terms; the
 * subcategory and the anonymous flag are left to the staff). Clears the moderation note, so that
 * the torrent is reviewed again.
 */
export async function resubmitTorrent(site: ModerationSite, uploader: Actor, torrentId: number, input: Omit<TorrentEditInput, 'categoryId' | 'anonymous'>): Promise<ResubmitResult> {
  const now = site.now();
  const r = await inTransaction(site.db, async (trx): Promise<ResubmitResult> => {
    const t = await trx.selectFrom('torrent').selectAll().where('id', '=', torrentId).executeTakeFirst();
    if (!t) return { ok: false, error: 'not_found' };
    if (t.uploader_id !== uploader.id) return { ok: false, error: 'not_uploader' };
    if (t.status !== 'pending') return { ok: false, error: 'not_pending' };
    const checked = await checkTorrentEdit(trx, t, { title: input.title, description: input.description, descriptionFormat: input.descriptionFormat, termIds: input.termIds });
    if (!checked.ok) return { ok: false, error: 'invalid', problems: checked.problems };
    await applyTorrentEdit(trx, t, checked.edit, now);
    await trx.updateTable('torrent').set({ moderation_note: null }).where('id', '=', t.id).execute();
    return { ok: true };
  });
  if (r.ok) {
    try {
      await indexTorrent(site.db, torrentId);
    } catch (err) {
      site.log.error({ err, torrentId }, 'indexing a resubmitted torrent failed');
    }
  }
  return r;
}

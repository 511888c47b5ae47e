/**
 * Staff actions on any torrent:
 *
 * - edit (title, description, subcategory, terms, anonymous), re-indexed for search;
 * - delete with a reason (status deleted, deleted_reason, deleted_at): the tracker answers its
 *   clients "Unregistered torrent: <reason>"; the uploader is notified (moderation_deleted);
 * - merge a duplicate into the torrent kept: the duplicate is deleted with the reason
 *   "Merged into /t/<kept>" and merged_into set (its page redirects there); its bookmarks,
 *   comments, thanks and ratings move to the kept torrent (a member who had both keeps one);
 * - factors (freeleech and multipliers): free, half, neutral, double upload, or normal, with an
 *   optional end (factors_until); the tracker is told at once.
 *
 * Each action is audited (before/after) in the transaction that makes it; the tracker is told
 * after the commit.
 */
import { sql, type Kysely } from 'kysely';
import type { Database, Torrent } from '../../db/schema.js';
import { inTransaction } from '../../db/util.js';
import { notify } from '../notifications.js';
import { indexTorrent } from '../search/indexer.js';
import { audit } from '../staff/audit.js';
import { REASON_MAX, checkText, oneLine, pushTorrent, type Actor, type ModerationSite, type TextProblem } from './common.js';
import { applyTorrentEdit, checkTorrentEdit, type EditProblem, type TorrentEditInput } from './edit.js';

export type StaffEditResult = { ok: true } | { ok: false; error: 'not_found' | 'deleted' } | { ok: false; error: 'invalid'; problems: EditProblem[] };

export async function editTorrentAsStaff(site: ModerationSite, actor: Actor, torrentId: number, input: TorrentEditInput): Promise<StaffEditResult> {
  const now = site.now();
  const r = await inTransaction(site.db, async (trx): Promise<StaffEditResult> => {
    const t = await trx.selectFrom('torrent').selectAll().where('id', '=', torrentId).executeTakeFirst();
    if (!t) return { ok: false, error: 'not_found' };
    if (t.status === 'deleted') return { ok: false, error: 'deleted' };
    const checked = await checkTorrentEdit(trx, t, input);
    if (!checked.ok) return { ok: false, error: 'invalid', problems: checked.problems };
    const { before, after } = await applyTorrentEdit(trx, t, checked.edit, now);
    await audit(trx, { actorId: actor.id, actorName: actor.username, action: 'torrent.edit', targetType: 'torrent', targetId: t.id, before, after, now });
    return { ok: true };
  });
  if (r.ok) {
    try {
      await indexTorrent(site.db, torrentId);
    } catch (err) {
      site.log.error({ err, torrentId }, 'indexing an edited torrent failed');
    }
  }
  return r;
}

export type DeleteError = 'not_found' | 'deleted' | `reason_${TextProblem}`;
export type DeleteResult = { ok: true } | { ok: false; error: DeleteError };

/** Deletes a torrent with a reason that its clients are told. */
export async function deleteTorrentAsStaff(site: ModerationSite, actor: Actor, torrentId: number, reasonRaw: string): Promise<DeleteResult> {
  const reason = oneLine(reasonRaw);
  const problem = checkText(reason, REASON_MAX);
  if (problem) return { ok: false, error: `reason_${problem}` };
  const now = site.now();
  const r = await inTransaction(site.db, async (trx): Promise<DeleteResult> => {
    const t = await trx.selectFrom('torrent').selectAll().where('id', '=', torrentId).executeTakeFirst();
    if (!t) return { ok: false, error: 'not_found' };
    if (t.status === 'deleted') return { ok: false, error: 'deleted' };
    await trx.updateTable('torrent').set({ status: 'deleted', deleted_reason: reason, deleted_at: now }).where('id', '=', t.id).execute();
    await audit(trx, {
      actorId: actor.id,
      actorName: actor.username,
      action: 'torrent.delete',
      targetType: 'torrent',
      targetId: t.id,
      reason,
      before: { status: t.status, deleted_reason: t.deleted_reason, deleted_at: t.deleted_at },
      after: { status: 'deleted', deleted_reason: reason, deleted_at: now },
      now,
    });
    if (t.uploader_id !== null && t.uploader_id !== actor.id) await notify(trx, t.uploader_id, 'moderation_deleted', { torrentId: t.id, title: t.name, reason }, now);
    return { ok: true };
  });
  if (r.ok) await pushTorrent(site, torrentId);
  return r;
}

export type MergeError = 'not_found' | 'target_not_found' | 'same' | 'deleted' | 'target_deleted';
export type MergeResult = { ok: true; moved: { bookmarks: number; comments: number; thanks: number; ratings: number } } | { ok: false; error: MergeError };

export function mergedReason(keptId: number): string {
  return `Merged into /t/${keptId}`;
}

/** Moves rows keyed by (torrent, user) to the kept torrent, except where the member already has one there. */
async function moveUserRows(trx: Kysely<Database>, table: 'bookmark' | 'thanks' | 'rating', dupId: number, keptId: number): Promise<number> {
  const moved = await sql`update ${sql.table(table)} set torrent_id = ${keptId}
    where torrent_id = ${dupId} and user_id not in (select k.user_id from ${sql.table(table)} k where k.torrent_id = ${keptId})`.execute(trx);
  await sql`delete from ${sql.table(table)} where torrent_id = ${dupId}`.execute(trx);
  return Number(moved.numAffectedRows ?? 0);
}

/** Merges the duplicate `dupId` into `keptId`. */
export async function mergeTorrents(site: ModerationSite, actor: Actor, dupId: number, keptId: number): Promise<MergeResult> {
  if (dupId === keptId) return { ok: false, error: 'same' };
  const now = site.now();
  const reason = mergedReason(keptId);
  const r = await inTransaction(site.db, async (trx): Promise<MergeResult> => {
    const dup = await trx.selectFrom('torrent').selectAll().where('id', '=', dupId).executeTakeFirst();
    if (!dup) return { ok: false, error: 'not_found' };
    if (dup.status === 'deleted') return { ok: false, error: 'deleted' };
    const kept = await trx.selectFrom('torrent').selectAll().where('id', '=', keptId).executeTakeFirst();
    if (!kept) return { ok: false, error: 'target_not_found' };
    if (kept.status === 'deleted') return { ok: false, error: 'target_deleted' };

    const bookmarks = await moveUserRows(trx, 'bookmark', dup.id, kept.id);
    const thanks = await moveUserRows(trx, 'thanks', dup.id, kept.id);
    const ratings = await moveUserRows(trx, 'rating', dup.id, kept.id);
    const c = await trx.updateTable('comment').set({ torrent_id: kept.id }).where('torrent_id', '=', dup.id).executeTakeFirst();
    const comments = Number(c.numUpdatedRows);
    await recount(trx, kept.id);
    await trx
      .updateTable('torrent')
      .set({ status: 'deleted', deleted_reason: reason, deleted_at: now, merged_into: kept.id, comment_count: 0, thanks_count: 0, rating_sum: 0, rating_count: 0 })
      .where('id', '=', dup.id)
      .execute();
    await audit(trx, {
      actorId: actor.id,
      actorName: actor.username,
      action: 'torrent.merge',
      targetType: 'torrent',
      targetId: dup.id,
      reason,
      before: { status: dup.status, merged_into: dup.merged_into },
      after: { status: 'deleted', merged_into: kept.id, moved: { bookmarks, comments, thanks, ratings } },
      now,
    });
    return { ok: true, moved: { bookmarks, comments, thanks, ratings } };
  });
  if (r.ok) {
    await pushTorrent(site, dupId);
    await pushTorrent(site, keptId);
  }
  return r;
}

/** Recomputes a torrent's comment, thanks and rating counters from their rows. */
async function recount(trx: Kysely<Database>, torrentId: number): Promise<void> {
  const comments = await trx.selectFrom('comment').select((eb) => eb.fn.countAll<number>().as('n')).where('torrent_id', '=', torrentId).where('deleted_at', 'is', null).executeTakeFirstOrThrow();
  const thanks = await trx.selectFrom('thanks').select((eb) => eb.fn.countAll<number>().as('n')).where('torrent_id', '=', torrentId).executeTakeFirstOrThrow();
  const ratings = await trx
    .selectFrom('rating')
    .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.coalesce(eb.fn.sum<number>('score'), sql<number>`0`).as('s')])
    .where('torrent_id', '=', torrentId)
    .executeTakeFirstOrThrow();
  await trx
    .updateTable('torrent')
    .set({ comment_count: Number(comments.n), thanks_count: Number(thanks.n), rating_count: Number(ratings.n), rating_sum: Number(ratings.s) })
    .where('id', '=', torrentId)
    .execute();
}

// --- factors ---------------------------------------------------------------------------------------

export const FACTOR_PRESETS = {
  normal: { up: 1, down: 1 },
  free: { up: 1, down: 0 },
  half: { up: 1, down: 0.5 },
  neutral: { up: 0, down: 0 },
  double: { up: 2, down: 1 },
} as const;
export type FactorPreset = keyof typeof FACTOR_PRESETS;

export function isFactorPreset(s: unknown): s is FactorPreset {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(FACTOR_PRESETS, s);
}

/** The preset a torrent's factors match, or null for other values. */
export function presetOf(t: Pick<Torrent, 'upload_factor' | 'download_factor'>): FactorPreset | null {
  for (const [name, f] of Object.entries(FACTOR_PRESETS)) if (f.up === t.upload_factor && f.down === t.download_factor) return name as FactorPreset;
  return null;
}

export type FactorsResult = { ok: true } | { ok: false; error: 'not_found' | 'deleted' | 'until_past' };

/**
 * Sets a torrent's factors. `until` (epoch seconds) ends them; it must be in the future, and is
 * ignored for 'normal'.
 */
export async function setTorrentFactorsAsStaff(site: ModerationSite, actor: Actor, torrentId: number, preset: FactorPreset, until: number | null): Promise<FactorsResult> {
  const now = site.now();
  const end = preset === 'normal' ? null : until;
  if (end !== null && end <= now) return { ok: false, error: 'until_past' };
  const f = FACTOR_PRESETS[preset];
  const r = await inTransaction(site.db, async (trx): Promise<FactorsResult> => {
    const t = await trx.selectFrom('torrent').selectAll().where('id', '=', torrentId).executeTakeFirst();
    if (!t) return { ok: false, error: 'not_found' };
    if (t.status === 'deleted') return { ok: false, error: 'deleted' };
    await trx.updateTable('torrent').set({ upload_factor: f.up, download_factor: f.down, factors_until: end }).where('id', '=', t.id).execute();
    await audit(trx, {
      actorId: actor.id,
      actorName: actor.username,
      action: 'torrent.set_factors',
      targetType: 'torrent',
      targetId: t.id,
      before: { upload_factor: t.upload_factor, download_factor: t.download_factor, factors_until: t.factors_until },
      after: { preset, upload_factor: f.up, download_factor: f.down, factors_until: end },
      now,
    });
    return { ok: true };
  });
  if (r.ok) await pushTorrent(site, torrentId);
  return r;
}

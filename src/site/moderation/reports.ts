/**
 * Reports: members report a torrent, a comment or a member with a reason; the staff works them
 * through open → claimed (by whom) → resolved (with a resolution), writing notes on the way.
 * A member has at most one unresolved report per target. Every staff step is audited.
 */
import type { Kysely, Selectable } from 'kysely';
import type { Database, ReportStatus, ReportTable, ReportTargetType } from '../../db/schema.js';
import { inTransaction } from '../../db/util.js';
import { audit } from '../staff/audit.js';
import { TEXT_MAX, checkText, multiLine, type Actor, type TextProblem } from './common.js';

/** What members can report from the pages. */
export const REPORTABLE = ['torrent', 'comment', 'user'] as const satisfies readonly ReportTargetType[];
export type Reportable = (typeof REPORTABLE)[number];

export function isReportable(s: unknown): s is Reportable {
  return typeof s === 'string' && (REPORTABLE as readonly string[]).includes(s);
}

export const REPORT_STATUSES: readonly ReportStatus[] = ['open', 'claimed', 'resolved'];

export function isReportStatus(s: unknown): s is ReportStatus {
  return typeof s === 'string' && (REPORT_STATUSES as readonly string[]).includes(s);
}

/** What a report is about, for the pages: a label and a link (null when the target is gone). */
export interface ReportTarget {
  type: ReportTargetType;
  id: number;
  label: string | null;
  href: string | null;
}

/** The target of a report, or undefined when it does not exist (or is not reportable any more). */
export async function findReportTarget(db: Kysely<Database>, type: ReportTargetType, id: number): Promise<ReportTarget | undefined> {
  if (!Number.isSafeInteger(id) || id <= 0) return undefined;
  switch (type) {
    case 'torrent': {
      const t = await db.selectFrom('torrent').select(['id', 'name', 'status']).where('id', '=', id).executeTakeFirst();
      return t ? { type, id, label: t.name, href: `/t/${t.id}` } : undefined;
    }
    case 'comment': {
      const c = await db
        .selectFrom('comment')
        .innerJoin('torrent', 'torrent.id', 'comment.torrent_id')
        .select(['comment.id as id', 'comment.torrent_id as torrent_id', 'torrent.name as name', 'comment.deleted_at as deleted_at'])
        .where('comment.id', '=', id)
        .executeTakeFirst();
      return c ? { type, id, label: c.name, href: `/t/${c.torrent_id}#comment-${c.id}` } : undefined;
    }
    case 'user': {
      const u = await db.selectFrom('user').select(['id', 'username', 'deleted_at']).where('id', '=', id).executeTakeFirst();
      return u && u.deleted_at === null ? { type, id, label: u.username, href: `/u/${u.id}` } : undefined;
    }
    default: {
      return { type, id, label: null, href: null };
    }
  }
}

export type CreateReportError = 'target_not_found' | 'self' | 'duplicate' | `reason_${TextProblem}`;
export type CreateReportResult = { ok: true; id: number } | { ok: false; error: CreateReportError };

export async function createReport(
  db: Kysely<Database>,
  reporter: Pick<Actor, 'id'>,
  o: { targetType: Reportable; targetId: number; reason: string },
  now: number,
): Promise<CreateReportResult> {
  const reason = multiLine(o.reason);
  const problem = checkText(reason, TEXT_MAX);
  if (problem) return { ok: false, error: `reason_${problem}` };
  const target = await findReportTarget(db, o.targetType, o.targetId);
  if (!target) return { ok: false, error: 'target_not_found' };
  if (o.targetType === 'user' && o.targetId === reporter.id) return { ok: false, error: 'self' };
  return inTransaction(db, async (trx): Promise<CreateReportResult> => {
    const existing = await trx
      .selectFrom('report')
      .select('id')
      .where('reporter_id', '=', reporter.id)
      .where('target_type', '=', o.targetType)
      .where('target_id', '=', o.targetId)
      .where('status', '!=', 'resolved')
      .executeTakeFirst();
    if (existing) return { ok: false, error: 'duplicate' };
    const r = await trx
      .insertInto('report')
      .values({ target_type: o.targetType, target_id: o.targetId, reporter_id: reporter.id, reason, status: 'open', claimed_by: null, resolution: null, created_at: now, updated_at: now })
      .returning('id')
      .executeTakeFirstOrThrow();
    return { ok: true, id: r.id };
  });
}

export type Report = Selectable<ReportTable>;

export interface ReportRow extends Report {
  reporter_name: string | null;
  claimer_name: string | null;
}

function reportQuery(db: Kysely<Database>) {
  return db
    .selectFrom('report')
    .leftJoin('user as reporter', 'reporter.id', 'report.reporter_id')
    .leftJoin('user as claimer', 'claimer.id', 'report.claimed_by')
    .selectAll('report')
    .select(['reporter.username as reporter_name', 'claimer.username as claimer_name']);
}

/** Reports, newest first; `status` filters (undefined: every report). */
export async function listReports(db: Kysely<Database>, o: { status?: ReportStatus; limit: number; offset?: number }): Promise<ReportRow[]> {
  let q = reportQuery(db);
  if (o.status) q = q.where('report.status', '=', o.status);
  return (await q.orderBy('report.created_at', 'desc').orderBy('report.id', 'desc').limit(o.limit).offset(o.offset ?? 0).execute()) as ReportRow[];
}

export async function countReports(db: Kysely<Database>): Promise<Record<ReportStatus, number>> {
  const rows = await db.selectFrom('report').select(['status', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('status').execute();
  const out: Record<ReportStatus, number> = { open: 0, claimed: 0, resolved: 0 };
  for (const r of rows) out[r.status] = Number(r.n);
  return out;
}

export interface ReportNoteRow {
  id: number;
  author_id: number | null;
  author_name: string | null;
  body: string;
  created_at: number;
}

export async function getReport(db: Kysely<Database>, id: number): Promise<{ report: ReportRow; target: ReportTarget; notes: ReportNoteRow[] } | undefined> {
  if (!Number.isSafeInteger(id) || id <= 0) return undefined;
  const report = (await reportQuery(db).where('report.id', '=', id).executeTakeFirst()) as ReportRow | undefined;
  if (!report) return undefined;
  const target = (await findReportTarget(db, report.target_type, report.target_id)) ?? { type: report.target_type, id: report.target_id, label: null, href: null };
  const notes = await db
    .selectFrom('report_note')
    .leftJoin('user', 'user.id', 'report_note.author_id')
    .select(['report_note.id as id', 'report_note.author_id as author_id', 'user.username as author_name', 'report_note.body as body', 'report_note.created_at as created_at'])
    .where('report_note.report_id', '=', id)
    .orderBy('report_note.created_at')
    .orderBy('report_note.id')
    .execute();
  return { report, target, notes };
}

export type ReportActionError = 'not_found' | 'not_open' | 'resolved' | `text_${TextProblem}`;
export type ReportActionResult = { ok: true } | { ok: false; error: ReportActionError };

/** Claims an open report for the acting staff member. */
export async function claimReport(db: Kysely<Database>, actor: Actor, id: number, now: number): Promise<ReportActionResult> {
  return inTransaction(db, async (trx): Promise<ReportActionResult> => {
    const r = await trx.selectFrom('report').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r) return { ok: false, error: 'not_found' };
    if (r.status !== 'open') return { ok: false, error: 'not_open' };
    const u = await trx.updateTable('report').set({ status: 'claimed', claimed_by: actor.id, updated_at: now }).where('id', '=', id).where('status', '=', 'open').executeTakeFirst();
    if (Number(u.numUpdatedRows) === 0) return { ok: false, error: 'not_open' };
    await audit(trx, {
      actorId: actor.id,
      actorName: actor.username,
      action: 'report.claim',
      targetType: 'report',
      targetId: id,
      before: { status: r.status, claimed_by: r.claimed_by },
      after: { status: 'claimed', claimed_by: actor.id },
      now,
    });
    return { ok: true };
  });
}

/** Resolves an open or claimed report with a resolution (claimed by the actor when it was open). */
export async function resolveReport(db: Kysely<Database>, actor: Actor, id: number, resolutionRaw: string, now: number): Promise<ReportActionResult> {
  const resolution = multiLine(resolutionRaw);
  const problem = checkText(resolution, TEXT_MAX);
  if (problem) return { ok: false, error: `text_${problem}` };
  return inTransaction(db, async (trx): Promise<ReportActionResult> => {
    const r = await trx.selectFrom('report').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r) return { ok: false, error: 'not_found' };
    if (r.status === 'resolved') return { ok: false, error: 'resolved' };
    const claimedBy = r.claimed_by ?? actor.id;
    await trx.updateTable('report').set({ status: 'resolved', resolution, claimed_by: claimedBy, updated_at: now }).where('id', '=', id).execute();
    await audit(trx, {
      actorId: actor.id,
      actorName: actor.username,
      action: 'report.resolve',
      targetType: 'report',
      targetId: id,
      reason: resolution,
      before: { status: r.status, claimed_by: r.claimed_by, resolution: r.resolution },
      after: { status: 'resolved', claimed_by: claimedBy, resolution },
      now,
    });
    return { ok: true };
  });
}

/** Adds a staff note to a report (any status). */
export async function addReportNote(db: Kysely<Database>, actor: Actor, id: number, bodyRaw: string, now: number): Promise<ReportActionResult> {
  const body = multiLine(bodyRaw);
  const problem = checkText(body, TEXT_MAX);
  if (problem) return { ok: false, error: `text_${problem}` };
  return inTransaction(db, async (trx): Promise<ReportActionResult> => {
    const r = await trx.selectFrom('report').select('id').where('id', '=', id).executeTakeFirst();
    if (!r) return { ok: false, error: 'not_found' };
    const n = await trx.insertInto('report_note').values({ report_id: id, author_id: actor.id, body, created_at: now }).returning('id').executeTakeFirstOrThrow();
    await trx.updateTable('report').set({ updated_at: now }).where('id', '=', id).execute();
    await audit(trx, { actorId: actor.id, actorName: actor.username, action: 'report.note', targetType: 'report', targetId: id, after: { note_id: n.id, body }, now });
    return { ok: true };
  });
}

/**
 * Searching the staff audit log (audit.read): by actor (name, case-insensitive prefix, or #id),
 * action (exact, or a prefix ending with "." such as "user."), target (type and optional id) and
 * a date range; newest first, paginated.
 */
import { sql, type Kysely, type Selectable } from 'kysely';
import type { AuditLogTable, Database } from '../../db/schema.js';

export type AuditRow = Selectable<AuditLogTable>;

export interface AuditQuery {
  actor?: string;
  action?: string;
  targetType?: string;
  targetId?: number;
  /** Epoch seconds, inclusive. */
  from?: number;
  /** Epoch seconds, exclusive. */
  to?: number;
  limit: number;
  offset: number;
}

function likeEscape(s: string): string {
  return s.replace(/[\\%_]/g, (c) => '\\' + c);
}

export async function searchAudit(db: Kysely<Database>, q: AuditQuery): Promise<{ rows: AuditRow[]; total: number }> {
  let base = db.selectFrom('audit_log');
  const actor = q.actor?.trim();
  if (actor) {
    const byId = /^#(\d{1,10})$/.exec(actor);
    if (byId) base = base.where('actor_id', '=', Number(byId[1]));
    else base = base.where(sql<boolean>`lower(actor_name) like ${likeEscape(actor.toLowerCase()) + '%'} escape '\\'`);
  }
  const action = q.action?.trim();
  if (action) {
    if (action.endsWith('.')) base = base.where(sql<boolean>`action like ${likeEscape(action) + '%'} escape '\\'`);
    else base = base.where('action', '=', action);
  }
  if (q.targetType) base = base.where('target_type', '=', q.targetType);
  if (q.targetId !== undefined) base = base.where('target_id', '=', q.targetId);
  if (q.from !== undefined) base = base.where('created_at', '>=', q.from);
  if (q.to !== undefined) base = base.where('created_at', '<', q.to);
  const [rows, total] = await Promise.all([
    base.selectAll().orderBy('id', 'desc').limit(q.limit).offset(q.offset).execute(),
    base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(total.n) };
}

/** The distinct actions and target types in the log, for the search form's choices. */
export async function auditVocabulary(db: Kysely<Database>): Promise<{ actions: string[]; targetTypes: string[] }> {
  const [a, t] = await Promise.all([
    db.selectFrom('audit_log').select('action').distinct().orderBy('action').limit(500).execute(),
    db.selectFrom('audit_log').select('target_type').distinct().where('target_type', 'is not', null).orderBy('target_type').limit(100).execute(),
  ]);
  return { actions: a.map((r) => r.action), targetTypes: t.map((r) => r.target_type!).filter(Boolean) };
}

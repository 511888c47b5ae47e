/**
 * The staff audit log: append-only, one row per staff action (actor, action, target, reason,
 * before/after as JSON with secrets redacted), each row chained to the previous one by a SHA-256
 * hash, so that editing or deleting a row shows (`verifyAuditChain`). Writers serialise through
 * a transaction that reads the last hash; on PostgreSQL the table is locked for the append.
 */
import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { AuditLogTable, Database } from '../../db/schema.js';
import { inTransaction } from '../../db/util.js';
import { isPostgres } from '../search/dialect.js';

export const GENESIS_HASH = '0'.repeat(64);

/** Keys whose values never reach the log. */
const SECRET_KEYS = /pass(word|key)?|token|secret|rss_key|totp|code_hash|hash$/i;
/** Counters whose names look secret but are not (a member's freeleech tokens). */
const NOT_SECRET = new Set(['freeleech_tokens', 'freeleechTokens']);

export function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (value && typeof value === 'object' && !(value instanceof Buffer)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEYS.test(k) && !NOT_SECRET.has(k) ? '[redacted]' : redact(v);
    return out;
  }
  if (value instanceof Buffer) return `[${value.length} bytes]`;
  return value;
}

export interface AuditEntry {
  actorId: number | null;
  actorName: string;
  action: string;
  targetType?: string | null;
  targetId?: number | null;
  reason?: string | null;
  before?: unknown;
  after?: unknown;
  now: number;
}

type Row = Omit<AuditLogTable, 'id' | 'hash' | 'prev_hash'>;

export function auditHash(prevHash: string, r: Row): string {
  const canonical = JSON.stringify([prevHash, r.created_at, r.actor_id, r.actor_name, r.action, r.target_type, r.target_id, r.reason, r.before, r.after]);
  return createHash('sha256').update(canonical).digest('hex');
}

/** Appends one entry; returns its id and hash. Use inside the transaction that makes the change. */
export async function audit(db: Kysely<Database>, e: AuditEntry): Promise<{ id: number; hash: string }> {
  return inTransaction(db, async (trx) => {
    if (isPostgres(trx)) await sql`lock table audit_log in exclusive mode`.execute(trx);
    const last = await trx.selectFrom('audit_log').select('hash').orderBy('id', 'desc').limit(1).executeTakeFirst();
    const prev = last?.hash ?? GENESIS_HASH;
    const row: Row = {
      created_at: e.now,
      actor_id: e.actorId,
      actor_name: e.actorName,
      action: e.action,
      target_type: e.targetType ?? null,
      target_id: e.targetId ?? null,
      reason: e.reason ?? null,
      before: e.before === undefined ? null : JSON.stringify(redact(e.before)),
      after: e.after === undefined ? null : JSON.stringify(redact(e.after)),
    };
    const hash = auditHash(prev, row);
    const r = await trx.insertInto('audit_log').values({ ...row, prev_hash: prev, hash }).returning('id').executeTakeFirstOrThrow();
    return { id: r.id, hash };
  });
}

export interface ChainProblem {
  id: number;
  problem: 'hash mismatch' | 'broken link';
}

/** Walks the chain in id order; returns the first problem found, or null when intact. */
export async function verifyAuditChain(db: Kysely<Database>): Promise<ChainProblem | null> {
  let prev = GENESIS_HASH;
  let after = 0;
  for (;;) {
    const rows = await db.selectFrom('audit_log').selectAll().where('id', '>', after).orderBy('id').limit(1000).execute();
    if (rows.length === 0) return null;
    for (const r of rows) {
      if (r.prev_hash !== prev) return { id: r.id, problem: 'broken link' };
      const { id, hash, prev_hash, ...content } = r;
      void prev_hash;
      if (auditHash(prev, content) !== hash) return { id, problem: 'hash mismatch' };
      prev = hash;
      after = id;
    }
  }
}

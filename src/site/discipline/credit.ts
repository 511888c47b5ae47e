/**
 * Upload credit granted by staff (T411's "Go bonus"): bytes added to the member's credited upload
 * (`user.uploaded`; raw_uploaded, what clients reported, is untouched), with a reason, in the same
 * transaction as the audit row that records it and the notification to the member.
 */
import type { Kysely } from 'kysely';
import type { Database, User } from '../../db/schema.js';
import { inTransaction } from '../../db/util.js';
import { notify } from '../notifications.js';
import { audit } from '../staff/audit.js';
import type { Actor } from './warnings.js';

/** One grant at most: 1 PiB. */
export const MAX_CREDIT_BYTES = 2 ** 50;

export class CreditError extends Error {}

/** "1.5 GiB": a language-neutral size for stored notification parameters. */
export function iecSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${Math.round(v * 100) / 100} ${units[i]}`;
}

export async function grantCredit(
  db: Kysely<Database>,
  actor: Actor,
  target: Pick<User, 'id' | 'username'>,
  bytes: number,
  reason: string,
  now: number,
): Promise<{ uploaded: number }> {
  if (!Number.isSafeInteger(bytes) || bytes <= 0 || bytes > MAX_CREDIT_BYTES) throw new CreditError(`invalid credit: ${bytes}`);
  return inTransaction(db, async (trx) => {
    const before = await trx.selectFrom('user').select('uploaded').where('id', '=', target.id).executeTakeFirstOrThrow();
    await trx
      .updateTable('user')
      .set((eb) => ({ uploaded: eb('uploaded', '+', bytes), updated_at: now }))
      .where('id', '=', target.id)
      .execute();
    const after = await trx.selectFrom('user').select('uploaded').where('id', '=', target.id).executeTakeFirstOrThrow();
    const uploaded = Number(after.uploaded);
    await audit(trx, {
      actorId: actor.id,
      actorName: actor.username,
      action: 'user.grant_credit',
      targetType: 'user',
      targetId: target.id,
      reason,
      before: { uploaded: Number(before.uploaded) },
      after: { uploaded, credit: bytes, username: target.username },
      now,
    });
    await notify(trx, target.id, 'discipline.credit', { bytes, size: iecSize(bytes), reason }, now);
    return { uploaded };
  });
}

/** The grants a member received (from the audit log), newest first. */
export async function listCredits(db: Kysely<Database>, userId: number, limit = 50) {
  const rows = await db
    .selectFrom('audit_log')
    .select(['id', 'created_at', 'actor_id', 'actor_name', 'reason', 'after'])
    .where('target_type', '=', 'user')
    .where('target_id', '=', userId)
    .where('action', '=', 'user.grant_credit')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => {
    let bytes: number;
    try {
      bytes = Number((JSON.parse(r.after ?? '{}') as { credit?: number }).credit ?? 0);
    } catch {
      bytes = 0;
    }
    return { id: r.id, createdAt: r.created_at, actorId: r.actor_id, actorName: r.actor_name, reason: r.reason, bytes };
  });
}

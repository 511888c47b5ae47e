/**
 * Client rules kept in the database: peer_id prefixes allowed or denied, editable without a
 * restart (the tracker reloads them with its access cache). They add to the configuration's
 * tracker.client_allow / tracker.client_deny.
 */
import type { Kysely } from 'kysely';
import type { ClientRuleAction, ClientRuleRow, Database } from './schema.js';

export async function listClientRules(db: Kysely<Database>): Promise<ClientRuleRow[]> {
  return db.selectFrom('client_rule').selectAll().orderBy('id').execute();
}

export interface AddClientRuleInput {
  /** The peer_id prefix as printed, e.g. "-TR3". */
  prefix: string;
  action: ClientRuleAction;
  note?: string | null;
  /** Epoch seconds. */
  now: number;
}

export async function addClientRule(db: Kysely<Database>, input: AddClientRuleInput): Promise<{ id: number }> {
  if (input.prefix === '') throw new TypeError('a client rule needs a non-empty prefix');
  if (input.action !== 'allow' && input.action !== 'deny') throw new TypeError(`client rule action must be allow or deny (got ${String(input.action)})`);
  return db
    .insertInto('client_rule')
    .values({ prefix: input.prefix, action: input.action, note: input.note ?? null, created_at: input.now })
    .returning('id')
    .executeTakeFirstOrThrow();
}

/** Returns false if there was no such rule. */
export async function removeClientRule(db: Kysely<Database>, id: number): Promise<boolean> {
  const r = await db.deleteFrom('client_rule').where('id', '=', id).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

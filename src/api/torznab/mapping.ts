/**
 * Editing the Torznab category mapping (the administrators' page /admin/torznab): each change is
 * written to `newznab_category` and audited in the same transaction. A row is kept only for a
 * category whose choice differs from its default, so that a later change of the defaults reaches
 * every category the administrators did not set.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { inTransaction } from '../../db/util.js';
import { audit } from '../../site/staff/audit.js';
import { readCatalogue } from '../../site/catalogue/catalogue.js';
import { defaultNewznabId, isStandardId, mappingOf, type CategoryMapping } from './categories.js';

export interface MappingActor {
  id: number;
  username: string;
}

/** The mapping read without the catalogue cache (the administration page shows what is stored). */
export async function readMapping(db: Kysely<Database>): Promise<CategoryMapping> {
  const [catalogue, rows] = await Promise.all([readCatalogue(db), db.selectFrom('newznab_category').select(['category_id', 'newznab_id']).execute()]);
  return mappingOf(catalogue, rows);
}

export type MappingError = 'unknown_newznab' | 'unknown_category';

export type SaveResult = { ok: true; changed: number } | { ok: false; errors: Map<number, MappingError> };

/**
 * Sets the Newznab id of subcategories (category id → Newznab id). Every value must be a standard
 * Newznab id and every key a subcategory; otherwise nothing is written and the errors name the
 * offending categories. Unchanged values write nothing; an audit entry lists the changes.
 */
export async function saveMapping(db: Kysely<Database>, actor: MappingActor, wanted: ReadonlyMap<number, number>, now: number): Promise<SaveResult> {
  const current = await readMapping(db);
  const errors = new Map<number, MappingError>();
  for (const [categoryId, newznabId] of wanted) {
    const c = current.catalogue.category(categoryId);
    if (!c || c.isParent) errors.set(categoryId, 'unknown_category');
    else if (!Number.isSafeInteger(newznabId) || !isStandardId(newznabId)) errors.set(categoryId, 'unknown_newznab');
  }
  if (errors.size > 0) return { ok: false, errors };
  const before: Record<string, number> = {};
  const after: Record<string, number> = {};
  const changes: Array<{ categoryId: number; newznabId: number; isDefault: boolean }> = [];
  for (const [categoryId, newznabId] of wanted) {
    const old = current.newznab.get(categoryId)!;
    if (old === newznabId) continue;
    before[categoryId] = old;
    after[categoryId] = newznabId;
    changes.push({ categoryId, newznabId, isDefault: newznabId === defaultNewznabId(current.catalogue.category(categoryId)!) });
  }
  if (changes.length === 0) return { ok: true, changed: 0 };
  await inTransaction(db, async (trx) => {
    for (const ch of changes) {
      await trx.deleteFrom('newznab_category').where('category_id', '=', ch.categoryId).execute();
      if (!ch.isDefault) await trx.insertInto('newznab_category').values({ category_id: ch.categoryId, newznab_id: ch.newznabId }).execute();
    }
    await audit(trx, { actorId: actor.id, actorName: actor.username, action: 'torznab.mapping', targetType: 'newznab_category', before, after, now });
  });
  return { ok: true, changed: changes.length };
}

/** Back to the default mapping for every category (audited); returns how many choices it removed. */
export async function resetMapping(db: Kysely<Database>, actor: MappingActor, now: number): Promise<number> {
  return inTransaction(db, async (trx) => {
    const rows = await trx.selectFrom('newznab_category').select(['category_id', 'newznab_id']).orderBy('category_id').execute();
    if (rows.length === 0) return 0;
    await trx.deleteFrom('newznab_category').execute();
    const before = Object.fromEntries(rows.map((r) => [String(r.category_id), r.newznab_id]));
    await audit(trx, { actorId: actor.id, actorName: actor.username, action: 'torznab.mapping_reset', targetType: 'newznab_category', before, now });
    return rows.length;
  });
}

/**
 * Editing the catalogue (administrators): categories, term types, their bindings to
 * subcategories, and terms. Every function validates its input, writes in one transaction, and
 * invalidates the cached catalogue of this process (other nodes catch up within the cache's TTL).
 *
 * Results are `{ ok: true, id }` or `{ ok: false, errors }` where `errors` maps a field name to a
 * code (see EditErrorCode); the pages translate the codes and show them next to the fields.
 *
 * Ids are chosen by the application (stable ids, one space for parents and subcategories): an
 * explicit id may be given (to mirror another site's ids), otherwise the next free one is used.
 */
import type { Kysely } from 'kysely';
import { isUniqueViolation } from '../../db/errors.js';
import type { Database, TermMode } from '../../db/schema.js';
import { inTransaction } from '../../db/util.js';
import { slugify } from '../../web/format.js';
import { invalidateCatalogue } from './catalogue.js';

export type EditErrorCode =
  | 'required'
  | 'too_long'
  | 'invalid'
  | 'taken'
  | 'not_found'
  /** The parent chosen is itself a subcategory (two levels only). */
  | 'parent_not_top'
  /** A parent with subcategories cannot become a subcategory, nor be deleted. */
  | 'has_children'
  /** Torrents belong to it: it cannot become a parent, nor be deleted. */
  | 'has_torrents'
  /** Term types are bound to subcategories only. */
  | 'not_subcategory';

export type EditResult = { ok: true; id: number } | { ok: false; errors: Partial<Record<string, EditErrorCode>> };

export const NAME_MAX = 100;
export const SLUG_MAX = 60;
export const ICON_MAX = 40;
const SLUG_RE = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const POSITION_MAX = 1_000_000;
const ID_MAX = 2_000_000_000;

export interface CategoryInput {
  /** Only when creating; null or undefined: the next free id. */
  id?: number | null;
  /** null: a top-level category. */
  parentId: number | null;
  /** Empty: derived from the English name. */
  slug?: string;
  icon: string;
  nameEn: string;
  nameFr: string;
  position?: number;
  adult?: boolean;
}

export interface TermTypeInput {
  id?: number | null;
  nameEn: string;
  nameFr: string;
  mode: TermMode;
  position?: number;
  deprecated?: boolean;
}

export interface TermInput {
  id?: number | null;
  nameEn: string;
  nameFr: string;
  /** Undefined when creating: after the last term (0 when the type is alphabetical). */
  position?: number;
  deprecated?: boolean;
}

type Errors = Partial<Record<string, EditErrorCode>>;

function checkName(errors: Errors, field: string, v: string): string {
  const s = v.trim().replace(/\s+/g, ' ');
  if (s === '') errors[field] = 'required';
  else if (s.length > NAME_MAX) errors[field] = 'too_long';
  return s;
}

function checkInt(errors: Errors, field: string, v: number | null | undefined, min: number, max: number): number | undefined {
  if (v === null || v === undefined) return undefined;
  if (!Number.isSafeInteger(v) || v < min || v > max) {
    errors[field] = 'invalid';
    return undefined;
  }
  return v;
}

function failed(errors: Errors): EditResult | null {
  return Object.keys(errors).length > 0 ? { ok: false, errors } : null;
}

async function nextId(db: Kysely<Database>, table: 'category' | 'term_type' | 'term'): Promise<number> {
  const r = await db.selectFrom(table).select((eb) => eb.fn.max('id').as('m')).executeTakeFirst();
  return Number(r?.m ?? 0) + 1;
}

async function uniqueSlug(db: Kysely<Database>, base: string, exceptId: number | null): Promise<string> {
  const stem = base.slice(0, SLUG_MAX - 4).replace(/-+$/, '') || 'category';
  for (let n = 1; ; n++) {
    const candidate = n === 1 ? stem : `${stem}-${n}`;
    let q = db.selectFrom('category').select('id').where('slug', '=', candidate);
    if (exceptId !== null) q = q.where('id', '!=', exceptId);
    if (!(await q.executeTakeFirst())) return candidate;
  }
}

async function torrentCount(db: Kysely<Database>, categoryId: number): Promise<number> {
  const r = await db
    .selectFrom('torrent')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('category_id', '=', categoryId)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

async function childCount(db: Kysely<Database>, categoryId: number): Promise<number> {
  const r = await db
    .selectFrom('category')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('parent_id', '=', categoryId)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** Validates a category's fields; `id` is the edited category (null when creating). */
async function validateCategory(db: Kysely<Database>, input: CategoryInput, id: number | null, errors: Errors) {
  const nameEn = checkName(errors, 'name_en', input.nameEn);
  const nameFr = checkName(errors, 'name_fr', input.nameFr);
  const icon = input.icon.trim();
  if (icon === '') errors.icon = 'required';
  else if (icon.length > ICON_MAX) errors.icon = 'too_long';
  else if (!SLUG_RE.test(icon)) errors.icon = 'invalid';
  let slug = (input.slug ?? '').trim();
  if (slug !== '') {
    if (slug.length > SLUG_MAX) errors.slug = 'too_long';
    else if (!SLUG_RE.test(slug)) errors.slug = 'invalid';
    else {
      let q = db.selectFrom('category').select('id').where('slug', '=', slug);
      if (id !== null) q = q.where('id', '!=', id);
      if (await q.executeTakeFirst()) errors.slug = 'taken';
    }
  }
  const position = checkInt(errors, 'position', input.position, -POSITION_MAX, POSITION_MAX);
  if (input.parentId !== null) {
    const parent = await db.selectFrom('category').select(['id', 'parent_id']).where('id', '=', input.parentId).executeTakeFirst();
    if (!parent) errors.parent = 'not_found';
    else if (parent.parent_id !== null || parent.id === id) errors.parent = 'parent_not_top';
  }
  if (slug === '' && !errors.name_en) slug = await uniqueSlug(db, slugify(nameEn), id);
  return { nameEn, nameFr, icon, slug, position };
}

export async function createCategory(db: Kysely<Database>, input: CategoryInput): Promise<EditResult> {
  const result = await inTransaction(db, async (trx) => {
    const errors: Errors = {};
    const id = checkInt(errors, 'id', input.id, 1, ID_MAX);
    if (id !== undefined && (await trx.selectFrom('category').select('id').where('id', '=', id).executeTakeFirst())) errors.id = 'taken';
    const v = await validateCategory(trx, input, null, errors);
    const bad = failed(errors);
    if (bad) return bad;
    const newId = id ?? (await nextId(trx, 'category'));
    let position = v.position;
    if (position === undefined) {
      let q = trx.selectFrom('category').select((eb) => eb.fn.max('position').as('m'));
      q = input.parentId === null ? q.where('parent_id', 'is', null) : q.where('parent_id', '=', input.parentId);
      position = Number((await q.executeTakeFirst())?.m ?? 0) + 1;
    }
    await trx
      .insertInto('category')
      .values({ id: newId, parent_id: input.parentId, slug: v.slug, icon: v.icon, name_en: v.nameEn, name_fr: v.nameFr, position, adult: input.adult ? 1 : 0 })
      .execute();
    // audit: category created (actor, new id, fields)
    return { ok: true as const, id: newId };
  }).catch(uniqueAsTaken('id'));
  invalidateCatalogue(db);
  return result;
}

export async function updateCategory(db: Kysely<Database>, id: number, input: CategoryInput): Promise<EditResult> {
  const result = await inTransaction(db, async (trx) => {
    const current = await trx.selectFrom('category').selectAll().where('id', '=', id).executeTakeFirst();
    if (!current) return { ok: false as const, errors: { id: 'not_found' as const } };
    const errors: Errors = {};
    const v = await validateCategory(trx, input, id, errors);
    if (!errors.parent) {
      if (input.parentId !== null && current.parent_id === null && (await childCount(trx, id)) > 0) errors.parent = 'has_children';
      if (input.parentId === null && current.parent_id !== null && (await torrentCount(trx, id)) > 0) errors.parent = 'has_torrents';
    }
    const bad = failed(errors);
    if (bad) return bad;
    await trx
      .updateTable('category')
      .set({
        parent_id: input.parentId,
        slug: (input.slug ?? '').trim() === '' ? current.slug : v.slug,
        icon: v.icon,
        name_en: v.nameEn,
        name_fr: v.nameFr,
        position: v.position ?? current.position,
        adult: input.adult ? 1 : 0,
      })
      .where('id', '=', id)
      .execute();
    // A parent carries no term types: bindings go when a subcategory becomes a parent.
    if (input.parentId === null && current.parent_id !== null) await trx.deleteFrom('category_term_type').where('category_id', '=', id).execute();
    // audit: category edited (actor, id, before: current, after: input)
    return { ok: true as const, id };
  }).catch(uniqueAsTaken('slug'));
  invalidateCatalogue(db);
  return result;
}

/** Deletes a category that no torrent uses and that has no subcategories. */
export async function deleteCategory(db: Kysely<Database>, id: number): Promise<EditResult> {
  const result = await inTransaction(db, async (trx): Promise<EditResult> => {
    const current = await trx.selectFrom('category').select('id').where('id', '=', id).executeTakeFirst();
    if (!current) return { ok: false, errors: { id: 'not_found' } };
    if ((await childCount(trx, id)) > 0) return { ok: false, errors: { id: 'has_children' } };
    if ((await torrentCount(trx, id)) > 0) return { ok: false, errors: { id: 'has_torrents' } };
    await trx.deleteFrom('category_term_type').where('category_id', '=', id).execute();
    await trx.deleteFrom('category').where('id', '=', id).execute();
    // audit: category deleted (actor, id, its fields)
    return { ok: true, id };
  });
  invalidateCatalogue(db);
  return result;
}

function validateTermType(input: TermTypeInput, errors: Errors) {
  const nameEn = checkName(errors, 'name_en', input.nameEn);
  const nameFr = checkName(errors, 'name_fr', input.nameFr);
  if (input.mode !== 'single' && input.mode !== 'multi') errors.mode = 'invalid';
  const position = checkInt(errors, 'position', input.position, -POSITION_MAX, POSITION_MAX);
  return { nameEn, nameFr, position };
}

export async function createTermType(db: Kysely<Database>, input: TermTypeInput): Promise<EditResult> {
  const result = await inTransaction(db, async (trx) => {
    const errors: Errors = {};
    const id = checkInt(errors, 'id', input.id, 1, ID_MAX);
    if (id !== undefined && (await trx.selectFrom('term_type').select('id').where('id', '=', id).executeTakeFirst())) errors.id = 'taken';
    const v = validateTermType(input, errors);
    const bad = failed(errors);
    if (bad) return bad;
    const newId = id ?? (await nextId(trx, 'term_type'));
    const position = v.position ?? Number((await trx.selectFrom('term_type').select((eb) => eb.fn.max('position').as('m')).executeTakeFirst())?.m ?? 0) + 1;
    await trx
      .insertInto('term_type')
      .values({ id: newId, name_en: v.nameEn, name_fr: v.nameFr, mode: input.mode, position, deprecated: input.deprecated ? 1 : 0 })
      .execute();
    // audit: term type created (actor, new id, fields)
    return { ok: true as const, id: newId };
  }).catch(uniqueAsTaken('id'));
  invalidateCatalogue(db);
  return result;
}

export async function updateTermType(db: Kysely<Database>, id: number, input: TermTypeInput): Promise<EditResult> {
  const result = await inTransaction(db, async (trx) => {
    const current = await trx.selectFrom('term_type').selectAll().where('id', '=', id).executeTakeFirst();
    if (!current) return { ok: false as const, errors: { id: 'not_found' as const } };
    const errors: Errors = {};
    const v = validateTermType(input, errors);
    const bad = failed(errors);
    if (bad) return bad;
    // Torrents keep the terms they have when a type goes from multi to single: old torrents stay readable.
    await trx
      .updateTable('term_type')
      .set({ name_en: v.nameEn, name_fr: v.nameFr, mode: input.mode, position: v.position ?? current.position, deprecated: input.deprecated ? 1 : 0 })
      .where('id', '=', id)
      .execute();
    // audit: term type edited (actor, id, before: current, after: input)
    return { ok: true as const, id };
  });
  invalidateCatalogue(db);
  return result;
}

/**
 * Binds a term type to exactly these subcategories (bindings to others are removed; a new binding
 * goes after the subcategory's existing ones).
 */
export async function setTermTypeBindings(db: Kysely<Database>, typeId: number, categoryIds: readonly number[]): Promise<EditResult> {
  const wanted = [...new Set(categoryIds)];
  const result = await inTransaction(db, async (trx): Promise<EditResult> => {
    if (!(await trx.selectFrom('term_type').select('id').where('id', '=', typeId).executeTakeFirst())) return { ok: false, errors: { id: 'not_found' } };
    if (wanted.length > 0) {
      const cats = await trx.selectFrom('category').select(['id', 'parent_id']).where('id', 'in', wanted).execute();
      if (cats.length !== wanted.length) return { ok: false, errors: { categories: 'not_found' } };
      if (cats.some((c) => c.parent_id === null)) return { ok: false, errors: { categories: 'not_subcategory' } };
    }
    const current = await trx.selectFrom('category_term_type').select('category_id').where('term_type_id', '=', typeId).execute();
    const have = new Set(current.map((r) => r.category_id));
    const remove = [...have].filter((c) => !wanted.includes(c));
    if (remove.length > 0) await trx.deleteFrom('category_term_type').where('term_type_id', '=', typeId).where('category_id', 'in', remove).execute();
    for (const categoryId of wanted.filter((c) => !have.has(c))) {
      const last = await trx
        .selectFrom('category_term_type')
        .select((eb) => eb.fn.max('position').as('m'))
        .where('category_id', '=', categoryId)
        .executeTakeFirst();
      await trx.insertInto('category_term_type').values({ category_id: categoryId, term_type_id: typeId, position: Number(last?.m ?? 0) + 1 }).execute();
    }
    // audit: term type bindings changed (actor, type id, added, removed)
    return { ok: true, id: typeId };
  });
  invalidateCatalogue(db);
  return result;
}

function validateTerm(input: TermInput, errors: Errors) {
  const nameEn = checkName(errors, 'name_en', input.nameEn);
  const nameFr = checkName(errors, 'name_fr', input.nameFr);
  const position = checkInt(errors, 'position', input.position, -POSITION_MAX, POSITION_MAX);
  return { nameEn, nameFr, position };
}

export async function createTerm(db: Kysely<Database>, typeId: number, input: TermInput): Promise<EditResult> {
  const result = await inTransaction(db, async (trx) => {
    if (!(await trx.selectFrom('term_type').select('id').where('id', '=', typeId).executeTakeFirst())) {
      return { ok: false as const, errors: { type: 'not_found' as const } };
    }
    const errors: Errors = {};
    const id = checkInt(errors, 'id', input.id, 1, ID_MAX);
    if (id !== undefined && (await trx.selectFrom('term').select('id').where('id', '=', id).executeTakeFirst())) errors.id = 'taken';
    const v = validateTerm(input, errors);
    const bad = failed(errors);
    if (bad) return bad;
    const newId = id ?? (await nextId(trx, 'term'));
    let position = v.position;
    if (position === undefined) {
      // Alphabetical types (every position 0) stay alphabetical; ordered ones get the new term last.
      const m = await trx.selectFrom('term').select((eb) => eb.fn.max('position').as('m')).where('term_type_id', '=', typeId).executeTakeFirst();
      const max = Number(m?.m ?? 0);
      position = max > 0 ? max + 1 : 0;
    }
    await trx
      .insertInto('term')
      .values({ id: newId, term_type_id: typeId, name_en: v.nameEn, name_fr: v.nameFr, position, deprecated: input.deprecated ? 1 : 0 })
      .execute();
    // audit: term created (actor, type id, new id, fields)
    return { ok: true as const, id: newId };
  }).catch(uniqueAsTaken('id'));
  invalidateCatalogue(db);
  return result;
}

/** Edits a term (names, position, deprecated). Its type does not change: torrents point at it. */
export async function updateTerm(db: Kysely<Database>, id: number, input: TermInput): Promise<EditResult> {
  const result = await inTransaction(db, async (trx) => {
    const current = await trx.selectFrom('term').selectAll().where('id', '=', id).executeTakeFirst();
    if (!current) return { ok: false as const, errors: { id: 'not_found' as const } };
    const errors: Errors = {};
    const v = validateTerm(input, errors);
    const bad = failed(errors);
    if (bad) return bad;
    await trx
      .updateTable('term')
      .set({ name_en: v.nameEn, name_fr: v.nameFr, position: v.position ?? current.position, deprecated: input.deprecated ? 1 : 0 })
      .where('id', '=', id)
      .execute();
    // audit: term edited (actor, id, before: current, after: input)
    return { ok: true as const, id };
  });
  invalidateCatalogue(db);
  return result;
}

/** A concurrent insert took the id or slug between the check and the write. */
function uniqueAsTaken(field: string) {
  return (err: unknown): EditResult => {
    if (isUniqueViolation(err)) return { ok: false, errors: { [field]: 'taken' } };
    throw err;
  };
}

/**
 * The catalogue as every feature reads it: the category tree and the typed terms, loaded once and
 * cached in the process.
 *
 *   const cat = await loadCatalogue(site.db);
 *   for (const parent of cat.parents) {            // display order
 *     parent.name(ctx.locale);                     // 'Video' / 'Film/Vidéo'
 *     for (const sub of parent.children) {
 *       for (const type of sub.termTypes) {        // the types bound to the subcategory, in order
 *         type.mode;                               // 'single' | 'multi'
 *         for (const term of type.terms) term.name(ctx.locale);
 *       }
 *     }
 *   }
 *   cat.category(631); cat.termType(7); cat.term(12);  // lookups by id (undefined when unknown)
 *   cat.subcategories;                                 // every subcategory, in display order
 *
 * Objects are frozen and shared: never mutate them. Deprecated term types and terms are included
 * (old torrents still show them) and flagged `deprecated`; forms for new content skip them. A
 * subcategory is `adult` when it or its parent is.
 *
 * Caching: one catalogue per database handle, reloaded after `invalidateCatalogue(db)` (called by
 * the administration functions of admin.ts after every edit) and at the latest CATALOGUE_TTL_MS
 * after it was loaded, so that edits made on another web node show up here within seconds.
 */
import type { Kysely } from 'kysely';
import type { Database, Locale, TermMode } from '../../db/schema.js';
import { cacheInvalidated, registerCacheDropper } from '../../shared/cache-events.js';

export const CATALOGUE_TTL_MS = 30_000;

interface Named {
  nameEn: string;
  nameFr: string;
  /** The name in the given language. */
  name(locale: Locale): string;
}

export interface CatalogueTerm extends Named {
  id: number;
  typeId: number;
  position: number;
  deprecated: boolean;
}

export interface CatalogueTermType extends Named {
  id: number;
  mode: TermMode;
  position: number;
  deprecated: boolean;
  /** Ordered by position, then by name in each language (see `termsIn`). */
  terms: readonly CatalogueTerm[];
  /** The terms ordered for a language: positions first, then alphabetical in that language. */
  termsIn(locale: Locale): readonly CatalogueTerm[];
  /** Subcategory ids this type is bound to. */
  categoryIds: readonly number[];
}

export interface CatalogueCategory extends Named {
  id: number;
  /** null for a parent. */
  parentId: number | null;
  parent: CatalogueCategory | null;
  slug: string;
  icon: string;
  position: number;
  /** Hidden from visitors who are not logged in (own flag or the parent's). */
  adult: boolean;
  isParent: boolean;
  /** Parents: their subcategories in display order; subcategories: empty. */
  children: readonly CatalogueCategory[];
  /** Subcategories: the term types bound to them, in binding order; parents: empty. */
  termTypes: readonly CatalogueTermType[];
}

export interface Catalogue {
  /** Top-level categories in display order. */
  parents: readonly CatalogueCategory[];
  /** Every subcategory, parent by parent, in display order. */
  subcategories: readonly CatalogueCategory[];
  /** Every term type, ordered by position then id. */
  termTypes: readonly CatalogueTermType[];
  category(id: number): CatalogueCategory | undefined;
  /** A category by its slug. */
  categoryBySlug(slug: string): CatalogueCategory | undefined;
  termType(id: number): CatalogueTermType | undefined;
  term(id: number): CatalogueTerm | undefined;
  /** When it was read from the database (ms since the epoch). */
  loadedAt: number;
}

interface CacheEntry {
  loadedAt: number;
  promise: Promise<Catalogue>;
}

const cache = new WeakMap<Kysely<Database>, CacheEntry>();

/** The catalogue of this database, from the cache when it is fresh. */
export function loadCatalogue(db: Kysely<Database>, opts: { nowMs?: number } = {}): Promise<Catalogue> {
  const now = opts.nowMs ?? Date.now();
  const hit = cache.get(db);
  if (hit && now - hit.loadedAt < CATALOGUE_TTL_MS) return hit.promise;
  const entry: CacheEntry = { loadedAt: now, promise: readCatalogue(db, now) };
  cache.set(db, entry);
  // A failed load is not cached.
  entry.promise.catch(() => {
    if (cache.get(db) === entry) cache.delete(db);
  });
  return entry.promise;
}

/** Forgets the cached catalogue of this database (after an edit); the next load reads it again. */
export function invalidateCatalogue(db: Kysely<Database>): void {
  cache.delete(db);
  cacheInvalidated('catalogue', db);
}
registerCacheDropper('catalogue', (db) => void cache.delete(db as Kysely<Database>));

function namer(nameEn: string, nameFr: string): (locale: Locale) => string {
  return (locale) => (locale === 'fr' ? nameFr : nameEn);
}

const collators: Record<Locale, Intl.Collator> = {
  en: new Intl.Collator('en', { sensitivity: 'base', numeric: true }),
  fr: new Intl.Collator('fr', { sensitivity: 'base', numeric: true }),
};

/** Reads the whole catalogue from the database (no cache). */
export async function readCatalogue(db: Kysely<Database>, nowMs = Date.now()): Promise<Catalogue> {
  const [categories, types, terms, bindings] = await Promise.all([
    db.selectFrom('category').selectAll().orderBy('position').orderBy('id').execute(),
    db.selectFrom('term_type').selectAll().orderBy('position').orderBy('id').execute(),
    db.selectFrom('term').selectAll().orderBy('position').orderBy('id').execute(),
    db.selectFrom('category_term_type').selectAll().orderBy('position').orderBy('term_type_id').execute(),
  ]);

  const termsByType = new Map<number, CatalogueTerm[]>();
  const termById = new Map<number, CatalogueTerm>();
  for (const r of terms) {
    const t: CatalogueTerm = Object.freeze({
      id: r.id,
      typeId: r.term_type_id,
      nameEn: r.name_en,
      nameFr: r.name_fr,
      name: namer(r.name_en, r.name_fr),
      position: r.position,
      deprecated: r.deprecated === 1,
    });
    termById.set(t.id, t);
    let list = termsByType.get(t.typeId);
    if (!list) termsByType.set(t.typeId, (list = []));
    list.push(t);
  }

  const typeCategories = new Map<number, number[]>();
  for (const b of bindings) {
    let list = typeCategories.get(b.term_type_id);
    if (!list) typeCategories.set(b.term_type_id, (list = []));
    list.push(b.category_id);
  }

  const typeById = new Map<number, CatalogueTermType>();
  for (const r of types) {
    const list = termsByType.get(r.id) ?? [];
    const ordered: Record<Locale, readonly CatalogueTerm[]> = {
      en: Object.freeze(sortTerms(list, 'en')),
      fr: Object.freeze(sortTerms(list, 'fr')),
    };
    const tt: CatalogueTermType = Object.freeze({
      id: r.id,
      nameEn: r.name_en,
      nameFr: r.name_fr,
      name: namer(r.name_en, r.name_fr),
      mode: r.mode,
      position: r.position,
      deprecated: r.deprecated === 1,
      terms: ordered.en,
      termsIn: (locale: Locale) => ordered[locale],
      categoryIds: Object.freeze([...(typeCategories.get(r.id) ?? [])].sort((a, b) => a - b)),
    });
    typeById.set(tt.id, tt);
  }

  const typesByCategory = new Map<number, CatalogueTermType[]>();
  for (const b of bindings) {
    const tt = typeById.get(b.term_type_id);
    if (!tt) continue;
    let list = typesByCategory.get(b.category_id);
    if (!list) typesByCategory.set(b.category_id, (list = []));
    list.push(tt);
  }

  // Build parents first, then their children (which point back to them); freeze at the end.
  type Mutable = { -readonly [K in keyof CatalogueCategory]: CatalogueCategory[K] } & { children: CatalogueCategory[] };
  const byId = new Map<number, Mutable>();
  for (const r of categories) {
    byId.set(r.id, {
      id: r.id,
      parentId: r.parent_id,
      parent: null,
      slug: r.slug,
      icon: r.icon,
      nameEn: r.name_en,
      nameFr: r.name_fr,
      name: namer(r.name_en, r.name_fr),
      position: r.position,
      adult: r.adult === 1,
      isParent: r.parent_id === null,
      children: [],
      termTypes: r.parent_id === null ? [] : Object.freeze(typesByCategory.get(r.id) ?? []),
    });
  }
  const parents: Mutable[] = [];
  for (const c of byId.values()) {
    if (c.parentId === null) {
      parents.push(c);
      continue;
    }
    const p = byId.get(c.parentId);
    if (!p) continue; // not possible with the foreign key; ignore rather than fail every page
    c.parent = p;
    c.adult ||= p.adult;
    p.children.push(c);
  }
  const subcategories: CatalogueCategory[] = [];
  for (const p of parents) subcategories.push(...p.children);
  for (const c of byId.values()) {
    Object.freeze(c.children);
    Object.freeze(c);
  }
  const bySlug = new Map<string, CatalogueCategory>();
  for (const c of byId.values()) bySlug.set(c.slug, c);

  const typeList = [...typeById.values()];
  return Object.freeze({
    parents: Object.freeze(parents as CatalogueCategory[]),
    subcategories: Object.freeze(subcategories),
    termTypes: Object.freeze(typeList),
    category: (id: number) => byId.get(id) as CatalogueCategory | undefined,
    categoryBySlug: (slug: string) => bySlug.get(slug),
    termType: (id: number) => typeById.get(id),
    term: (id: number) => termById.get(id),
    loadedAt: nowMs,
  });
}

function sortTerms(list: readonly CatalogueTerm[], locale: Locale): CatalogueTerm[] {
  const coll = collators[locale];
  return [...list].sort((a, b) => a.position - b.position || coll.compare(a.name(locale), b.name(locale)) || a.id - b.id);
}

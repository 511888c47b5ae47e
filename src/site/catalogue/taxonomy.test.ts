/**
 * The default taxonomy and the cached catalogue, on every dialect: installed once, consistent
 * (ids unique, bindings to subcategories only, every type bound and populated), T411's ids kept,
 * and the catalogue's tree, lookups, ordering and cache invalidation.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { forEachDialect, type TestDatabase } from '../../db/test-databases.js';
import { DEFAULT_CATEGORIES, DEFAULT_TERM_TYPES, installDefaultTaxonomy } from './taxonomy.js';
import { CATALOGUE_TTL_MS, invalidateCatalogue, loadCatalogue, readCatalogue } from './catalogue.js';

describe('default taxonomy data', () => {
  it('has unique ids, unique slugs, names in both languages and bindings to known types', () => {
    const catIds = new Set<number>();
    const slugs = new Set<string>();
    const typeIds = new Set(DEFAULT_TERM_TYPES.map((t) => t.id));
    assert.equal(typeIds.size, DEFAULT_TERM_TYPES.length, 'term type ids are unique');
    const termIds = new Set<number>();
    for (const t of DEFAULT_TERM_TYPES) {
      assert.ok(t.en && t.fr, `type ${t.id} has two names`);
      assert.ok(t.terms.length > 0, `type ${t.id} has terms`);
      for (const [id, en] of t.terms) {
        assert.ok(!termIds.has(id), `term id ${id} is unique`);
        assert.ok(en.trim() === en && en.length > 0, `term ${id} has a trimmed name`);
        termIds.add(id);
      }
    }
    const boundTypes = new Set<number>();
    for (const p of DEFAULT_CATEGORIES) {
      for (const c of [p, ...(p.children ?? [])]) {
        assert.ok(!catIds.has(c.id), `category id ${c.id} is unique`);
        assert.ok(!slugs.has(c.slug), `slug ${c.slug} is unique`);
        assert.match(c.icon, /^[a-z0-9-]+$/, 'icon slug');
        catIds.add(c.id);
        slugs.add(c.slug);
      }
      assert.ok((p.children ?? []).length > 0, `parent ${p.id} has subcategories`);
      for (const c of p.children ?? []) {
        assert.equal(c.children, undefined, 'two levels only');
        for (const tid of c.types ?? []) {
          assert.ok(typeIds.has(tid), `subcategory ${c.id} binds known type ${tid}`);
          boundTypes.add(tid);
        }
        assert.equal(new Set(c.types).size, (c.types ?? []).length, `subcategory ${c.id} binds each type once`);
      }
    }
    for (const t of typeIds) assert.ok(boundTypes.has(t), `type ${t} is bound to some subcategory`);
  });

  it("reuses T411's ids: every recorded category except the adult section, and the recorded terms of the shipped types", () => {
    const dir = fileURLToPath(new URL('../../../../shared/reference/t411/', import.meta.url));
    let cats: Record<string, { id?: string; name?: string; cats: Record<string, { id: string; pid: string }> }>;
    let terms: Record<string, Record<string, { mode: string; terms: Record<string, string> }>>;
    try {
      cats = JSON.parse(readFileSync(dir + 'recorded-categories-tree.json', 'utf8'));
      terms = JSON.parse(readFileSync(dir + 'recorded-terms-tree.json', 'utf8'));
    } catch {
      // The reference files live outside the repository; the check runs where they are.
      return;
    }
    const ours = new Map<number, number | null>();
    for (const p of DEFAULT_CATEGORIES) {
      ours.set(p.id, null);
      for (const c of p.children ?? []) ours.set(c.id, p.id);
    }
    for (const [pid, p] of Object.entries(cats)) {
      if (pid === '456' || !p.name) continue; // adult section; unnamed leftover
      assert.equal(ours.get(Number(pid)), null, `T411 parent ${pid} is a parent`);
      for (const c of Object.values(p.cats)) assert.equal(ours.get(Number(c.id)), Number(pid), `T411 subcategory ${c.id} under ${pid}`);
    }
    const ourTypes = new Map(DEFAULT_TERM_TYPES.map((t) => [t.id, t]));
    const bindings = new Map<number, number[]>();
    for (const p of DEFAULT_CATEGORIES) for (const c of p.children ?? []) bindings.set(c.id, [...(c.types ?? [])]);
    const adult = new Set(Object.keys(cats['456']?.cats ?? {}));
    for (const [sub, types] of Object.entries(terms)) {
      if (adult.has(sub)) continue;
      for (const [tid, tt] of Object.entries(types)) {
        const mine = ourTypes.get(Number(tid));
        if (!mine) continue; // adult types are not shipped
        assert.equal(mine.mode, tt.mode, `type ${tid} keeps its mode`);
        assert.ok(bindings.get(Number(sub))?.includes(Number(tid)), `type ${tid} stays bound to subcategory ${sub}`);
        const ids = new Set(mine.terms.map(([id]) => String(id)));
        const missing = Object.keys(tt.terms).filter((id) => !ids.has(id));
        assert.ok(missing.length <= 2, `type ${tid} keeps T411's terms (missing: ${missing.join(', ')})`);
      }
    }
  });

  it('ships no adult category', () => {
    assert.ok(!DEFAULT_CATEGORIES.some((p) => p.id === 456), 'no T411 adult parent');
  });
});

forEachDialect((name, open) => {
  describe(`default taxonomy and catalogue (${name})`, () => {
    let t: TestDatabase;
    before(async () => {
      t = await open();
    });
    after(() => t.close());

    it('installs once, in full, and not again', async () => {
      assert.equal(await installDefaultTaxonomy(t.db), true, 'first install');
      assert.equal(await installDefaultTaxonomy(t.db), false, 'second call does nothing');
      const count = async (table: 'category' | 'term_type' | 'term' | 'category_term_type') =>
        Number((await t.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
      const expectedCats = DEFAULT_CATEGORIES.reduce((n, p) => n + 1 + (p.children ?? []).length, 0);
      assert.equal(await count('category'), expectedCats);
      assert.equal(await count('term_type'), DEFAULT_TERM_TYPES.length);
      assert.equal(await count('term'), DEFAULT_TERM_TYPES.reduce((n, x) => n + x.terms.length, 0));
      assert.ok((await count('category_term_type')) > 50, 'bindings installed');
      assert.equal(await count('category'), expectedCats, 'still the same after the second call');
    });

    it('binds term types to subcategories only, and parents have no torrent-level bindings', async () => {
      const rows = await t.db
        .selectFrom('category_term_type')
        .innerJoin('category', 'category.id', 'category_term_type.category_id')
        .select(['category.id', 'category.parent_id'])
        .execute();
      assert.ok(rows.every((r) => r.parent_id !== null), 'every binding is on a subcategory');
      const parentOfParent = await t.db
        .selectFrom('category as c')
        .innerJoin('category as p', 'p.id', 'c.parent_id')
        .select('c.id')
        .where('p.parent_id', 'is not', null)
        .execute();
      assert.deepEqual(parentOfParent, [], 'two levels only');
    });

    it('loads a typed tree with lookups, names per locale and ordered terms', async () => {
      const cat = await readCatalogue(t.db);
      assert.deepEqual(cat.parents.map((p) => p.id), DEFAULT_CATEGORIES.map((p) => p.id));
      const films = cat.category(631);
      assert.ok(films, 'films subcategory');
      assert.equal(films.name('en'), 'Movies');
      assert.equal(films.name('fr'), 'Film');
      assert.equal(films.parent?.id, 210);
      assert.equal(films.isParent, false);
      assert.equal(cat.categoryBySlug('video-movie')?.id, 631);
      assert.deepEqual(films.termTypes.map((x) => x.id), [7, 17, 2, 9, 34], 'binding order');
      const quality = cat.termType(7)!;
      assert.equal(quality.mode, 'single');
      assert.equal(quality.terms[0]!.id, 18, 'ordered type keeps its order');
      assert.ok(quality.categoryIds.includes(433), 'quality bound to series');
      const genre = cat.termType(2)!;
      assert.equal(genre.mode, 'multi');
      const frNames = genre.termsIn('fr').map((x) => x.name('fr'));
      assert.deepEqual(frNames, [...frNames].sort((a, b) => a.localeCompare(b, 'fr', { sensitivity: 'base' })), 'alphabetical in French');
      const episodes = cat.termType(46)!.termsIn('en').map((x) => x.name('en'));
      assert.equal(episodes[0], 'Complete season');
      assert.equal(episodes[1], 'Episode 01');
      assert.equal(cat.term(12)?.typeId, 7);
      assert.equal(cat.term(999_999), undefined);
      assert.equal(cat.subcategories.length, DEFAULT_CATEGORIES.reduce((n, p) => n + (p.children ?? []).length, 0));
      assert.ok(Object.isFrozen(films), 'shared objects are frozen');
    });

    it('caches per database, reloads after invalidation and after the TTL', async () => {
      invalidateCatalogue(t.db);
      const a = await loadCatalogue(t.db);
      const b = await loadCatalogue(t.db);
      assert.equal(a, b, 'cached');
      await t.db.updateTable('category').set({ name_en: 'Films' }).where('id', '=', 631).execute();
      assert.equal((await loadCatalogue(t.db)).category(631)?.name('en'), 'Movies', 'still cached');
      const later = await loadCatalogue(t.db, { nowMs: a.loadedAt + CATALOGUE_TTL_MS + 1 });
      assert.equal(later.category(631)?.name('en'), 'Films', 'reloaded after the TTL');
      await t.db.updateTable('category').set({ name_en: 'Movies' }).where('id', '=', 631).execute();
      invalidateCatalogue(t.db);
      assert.equal((await loadCatalogue(t.db)).category(631)?.name('en'), 'Movies', 'reloaded after invalidation');
    });
  });
});

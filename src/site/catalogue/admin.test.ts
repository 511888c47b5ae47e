/**
 * Editing the catalogue, on every dialect: validation codes, the two-level rule, deletion only when
 * unused, bindings to subcategories only, term positions, and the cached catalogue seeing every
 * edit at once.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { forEachDialect, type TestDatabase } from '../../db/test-databases.js';
import { registerTorrent } from '../../db/torrent.repository.js';
import { loadCatalogue } from './catalogue.js';
import {
  createCategory,
  createTerm,
  createTermType,
  deleteCategory,
  setTermTypeBindings,
  updateCategory,
  updateTerm,
  updateTermType,
  type EditResult,
} from './admin.js';
import { installDefaultTaxonomy } from './taxonomy.js';

function okId(r: EditResult): number {
  if (!r.ok) assert.fail(`expected success, got ${JSON.stringify(r.errors)}`);
  return r.id;
}

function errorsOf(r: EditResult): Record<string, string | undefined> {
  assert.equal(r.ok, false, 'expected a refusal');
  return r.ok ? {} : r.errors;
}

forEachDialect((name, open) => {
  describe(`catalogue administration (${name})`, () => {
    let t: TestDatabase;
    before(async () => {
      t = await open();
      await installDefaultTaxonomy(t.db);
    });
    after(() => t.close());

    it('creates a parent and a subcategory (next free id, derived slug, last position) seen at once by the catalogue', async () => {
      await loadCatalogue(t.db); // warm the cache: the edit must invalidate it
      const parent = okId(await createCategory(t.db, { parentId: null, icon: 'misc', nameEn: 'Miscellaneous things', nameFr: 'Divers' }));
      const sub = okId(await createCategory(t.db, { parentId: parent, icon: 'misc-fonts', nameEn: 'Fonts', nameFr: 'Polices', adult: false }));
      assert.equal(sub, parent + 1, 'next id');
      const cat = await loadCatalogue(t.db);
      const p = cat.category(parent)!;
      assert.equal(p.slug, 'miscellaneous-things');
      assert.equal(p.isParent, true);
      assert.equal(cat.parents.at(-1)?.id, parent, 'new parent goes last');
      assert.deepEqual(p.children.map((c) => c.id), [sub]);
      assert.equal(cat.category(sub)!.name('fr'), 'Polices');
    });

    it('refuses bad fields with codes per field', async () => {
      let e = errorsOf(await createCategory(t.db, { parentId: null, icon: 'Bad Icon', nameEn: '  ', nameFr: 'x'.repeat(200), slug: 'video' }));
      assert.deepEqual(e, { icon: 'invalid', name_en: 'required', name_fr: 'too_long', slug: 'taken' });
      e = errorsOf(await createCategory(t.db, { id: 631, parentId: 631, icon: 'x', nameEn: 'X', nameFr: 'X' }));
      assert.equal(e.id, 'taken');
      assert.equal(e.parent, 'parent_not_top', 'a subcategory cannot have children');
      e = errorsOf(await createCategory(t.db, { parentId: 987654, icon: 'x', nameEn: 'X', nameFr: 'X', position: 1.5 }));
      assert.deepEqual(e, { parent: 'not_found', position: 'invalid' });
    });

    it('keeps two levels and torrents in subcategories when moving categories', async () => {
      // A parent with subcategories cannot become a subcategory.
      let e = errorsOf(await updateCategory(t.db, 210, { parentId: 395, icon: 'video', nameEn: 'Video', nameFr: 'Film/Vidéo' }));
      assert.equal(e.parent, 'has_children');
      // A subcategory holding torrents cannot become a parent.
      const { id: torrentId } = await registerTorrent(t.db, { name: 'x', infoHashV1: 'a'.repeat(40), now: 1 });
      await t.db.updateTable('torrent').set({ category_id: 636 }).where('id', '=', torrentId).execute();
      e = errorsOf(await updateCategory(t.db, 636, { parentId: null, icon: 'video-sport', nameEn: 'Sport', nameFr: 'Sport' }));
      assert.equal(e.parent, 'has_torrents');
      // An empty subcategory moves under another parent, keeping its slug when none is given.
      okId(await updateCategory(t.db, 633, { parentId: 395, icon: 'audio-concert', nameEn: 'Concerts', nameFr: 'Concert', position: 9 }));
      const c = (await loadCatalogue(t.db)).category(633)!;
      assert.equal(c.parent?.id, 395);
      assert.equal(c.slug, 'video-concert');
      assert.equal(c.icon, 'audio-concert');
      assert.equal(c.termTypes.length > 0, true, 'bindings kept while it stays a subcategory');
      // Becoming a parent drops its bindings.
      okId(await updateCategory(t.db, 633, { parentId: null, icon: 'concert', nameEn: 'Concerts', nameFr: 'Concert' }));
      const again = (await loadCatalogue(t.db)).category(633)!;
      assert.equal(again.isParent, true);
      assert.deepEqual(again.termTypes, []);
      const rows = await t.db.selectFrom('category_term_type').select('term_type_id').where('category_id', '=', 633).execute();
      assert.deepEqual(rows, []);
    });

    it('deletes only unused categories', async () => {
      assert.equal(errorsOf(await deleteCategory(t.db, 210)).id, 'has_children');
      assert.equal(errorsOf(await deleteCategory(t.db, 636)).id, 'has_torrents');
      assert.equal(errorsOf(await deleteCategory(t.db, 123456)).id, 'not_found');
      okId(await deleteCategory(t.db, 402));
      assert.equal((await loadCatalogue(t.db)).category(402), undefined);
    });

    it('creates and edits term types, binds them to subcategories only, and adds and deprecates terms', async () => {
      const typeId = okId(await createTermType(t.db, { nameEn: 'Video - Frame rate', nameFr: 'Vidéo - Images par seconde', mode: 'single' }));
      assert.equal(errorsOf(await createTermType(t.db, { id: 7, nameEn: 'x', nameFr: 'x', mode: 'single' })).id, 'taken');
      assert.equal(errorsOf(await createTermType(t.db, { nameEn: 'x', nameFr: 'x', mode: 'many' as never })).mode, 'invalid');
      assert.equal(errorsOf(await setTermTypeBindings(t.db, typeId, [631, 210])).categories, 'not_subcategory');
      assert.equal(errorsOf(await setTermTypeBindings(t.db, typeId, [631, 99999])).categories, 'not_found');
      okId(await setTermTypeBindings(t.db, typeId, [631, 433]));
      let cat = await loadCatalogue(t.db);
      assert.equal(cat.category(631)!.termTypes.at(-1)?.id, typeId, 'bound last');
      assert.deepEqual(cat.termType(typeId)!.categoryIds, [433, 631]);
      okId(await setTermTypeBindings(t.db, typeId, [433]));
      cat = await loadCatalogue(t.db);
      assert.ok(!cat.category(631)!.termTypes.some((x) => x.id === typeId), 'unbound from films');

      const a = okId(await createTerm(t.db, typeId, { nameEn: '24 fps', nameFr: '24 i/s' }));
      const b = okId(await createTerm(t.db, typeId, { nameEn: '60 fps', nameFr: '60 i/s', position: 2 }));
      const c = okId(await createTerm(t.db, typeId, { nameEn: '30 fps', nameFr: '30 i/s' }));
      assert.equal(errorsOf(await createTerm(t.db, 424242, { nameEn: 'x', nameFr: 'x' })).type, 'not_found');
      assert.equal(errorsOf(await createTerm(t.db, typeId, { id: 12, nameEn: 'x', nameFr: 'x' })).id, 'taken');
      cat = await loadCatalogue(t.db);
      assert.deepEqual(cat.termType(typeId)!.terms.map((x) => x.id), [a, b, c], 'position 0 first, then 2, then the next after the last');

      okId(await updateTerm(t.db, a, { nameEn: '23.976 fps', nameFr: '23,976 i/s', deprecated: true }));
      okId(await updateTermType(t.db, typeId, { nameEn: 'Video - FPS', nameFr: 'Vidéo - IPS', mode: 'multi', deprecated: false }));
      cat = await loadCatalogue(t.db);
      assert.equal(cat.term(a)!.deprecated, true);
      assert.equal(cat.term(a)!.name('fr'), '23,976 i/s');
      assert.equal(cat.termType(typeId)!.mode, 'multi');
      assert.equal(cat.termType(typeId)!.name('en'), 'Video - FPS');
      assert.equal(errorsOf(await updateTerm(t.db, 777777, { nameEn: 'x', nameFr: 'x' })).id, 'not_found');
    });
  });
});

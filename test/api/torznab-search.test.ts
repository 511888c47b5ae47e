/**
 * Torznab's search plan and category mapping on every dialect (SQLite, and PostgreSQL when
 * ESSAIM_TEST_PG_URL is set): the default mapping of the default taxonomy and of new categories,
 * the administrators' changes (validation, defaults not stored, reset, audit), the legs of a
 * plan, the merge of several legs across the MAX_LIMIT page boundary, and the season/episode
 * search through terms and through release-name markers (FTS5 prefix queries, tsquery prefixes).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createCategory } from '../../src/site/catalogue/admin.js';
import { invalidateCatalogue, loadCatalogue } from '../../src/site/catalogue/catalogue.js';
import { installDefaultTaxonomy } from '../../src/site/catalogue/taxonomy.js';
import { forEachDialect, type TestDatabase } from '../../src/db/test-databases.js';
import { registerTorrent } from '../../src/db/torrent.repository.js';
import { indexTorrent } from '../../src/site/search/indexer.js';
import { DEFAULT_MAPPING, defaultNewznabId, itemCategories, loadMapping, selectSubcategories, STANDARD } from '../../src/api/torznab/categories.js';
import { resetMapping, saveMapping } from '../../src/api/torznab/mapping.js';
import { episodeTerms, parseSearchParams, planSearch, runSearch, searchInputOf, searchText, type SearchFunction } from '../../src/api/torznab/search.js';
import { TorznabError } from '../../src/api/torznab/errors.js';

const actor = { id: 1, username: 'admin' };
const scope = { verifiedOnly: false, hideAdult: false };

async function add(t: TestDatabase, name: string, categoryId: number, createdAt: number, termIds: number[] = []): Promise<number> {
  const { id } = await registerTorrent(t.db, { name, infoHashV1: randomBytes(20).toString('hex'), size: 1000, categoryId, now: createdAt });
  for (const termId of termIds) {
    const term = await t.db.selectFrom('term').select('term_type_id').where('id', '=', termId).executeTakeFirstOrThrow();
    await t.db.insertInto('torrent_term').values({ torrent_id: id, term_id: termId, term_type_id: term.term_type_id }).execute();
  }
  await indexTorrent(t.db, id);
  return id;
}

describe('Torznab parameters', () => {
  const parse = (fn: SearchFunction, p: Record<string, unknown>) => parseSearchParams(fn, p);
  const code = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      assert.ok(e instanceof TorznabError, `a TorznabError: ${String(e)}`);
      return e.code;
    }
    return null;
  };

  it('normalises limit, offset, cat, imdbid, season and ep', () => {
    assert.deepEqual(parse('search', {}), { fn: 'search', q: '', cats: null, season: null, ep: null, imdbid: null, limit: 100, offset: 0 });
    assert.equal(parse('search', { limit: '0' }).limit, 100, 'limit 0: the default');
    assert.equal(parse('search', { limit: '7' }).limit, 7);
    assert.equal(parse('search', { limit: '5000' }).limit, 100, 'capped');
    assert.deepEqual(parse('search', { cat: '2000, 5040,,100631' }).cats, [2000, 5040, 100631]);
    assert.equal(parse('search', { cat: ',' }).cats, null);
    assert.equal(parse('movie', { imdbid: 'TT133093' }).imdbid, 'tt0133093');
    assert.equal(parse('music', { imdbid: 'tt1' }).imdbid, null, 'ignored outside movie/tv/search');
    assert.deepEqual(parse('tvsearch', { season: '3', ep: '12' }), { fn: 'tvsearch', q: '', cats: null, season: 3, ep: { kind: 'number', n: 12 }, imdbid: null, limit: 100, offset: 0 });
    assert.deepEqual(parse('tvsearch', { season: '2024', ep: '1/15' }).ep, { kind: 'date', month: 1, day: 15 });
    assert.equal(parse('tvsearch', { ep: '4' }).ep, null, 'an episode without season is ignored');
    assert.equal(parse('search', { season: '1' }).season, null, 'season only for tvsearch');
    assert.equal(parse('search', { q: ['first', 'second'] }).q, 'first', 'a repeated parameter: the first');
    for (const [fn, p] of [
      ['search', { limit: '-1' }],
      ['search', { offset: 'x' }],
      ['search', { cat: '20a0' }],
      ['movie', { imdbid: 'nm0000206' }],
      ['tvsearch', { season: '10000' }],
      ['tvsearch', { season: '1', ep: 'x1' }],
      ['tvsearch', { season: '1', ep: '0/12' }],
    ] as Array<[SearchFunction, Record<string, unknown>]>) {
      assert.equal(code(() => parse(fn, p)), 201, JSON.stringify(p));
    }
  });

  it('writes the query text with quoted words, scopes, and markers', () => {
    const p = parse('movie', { q: 'The "Matrix" @user -x (a|b)', imdbid: 'tt0133093' });
    assert.equal(searchText(p, null), '((@description "tt0133093") | (@name "The" "Matrix" "@user" "-x" "(a|b)"))');
    assert.equal(searchText(parse('tvsearch', { q: 'show', season: '1' }), '"S01"*'), '(@name "show") (@name "S01"*)');
    assert.equal(searchText(parse('search', {}), null), '');
  });
});

forEachDialect((name, open) => {
  describe(`Torznab search and mapping (${name})`, () => {
    let t: TestDatabase;
    const now = 1_800_000_000;
    before(async () => {
      t = await open();
      await installDefaultTaxonomy(t.db);
      invalidateCatalogue(t.db);
    });
    after(() => t.close());

    it('maps every subcategory of the default taxonomy to a standard id, and new ones by parent, adult and fallback', async () => {
      const cat = await loadCatalogue(t.db);
      const standard = new Set(STANDARD.map((c) => c.id));
      for (const s of cat.subcategories) {
        assert.ok(DEFAULT_MAPPING.has(s.id), `default for ${s.id} ${s.nameEn}`);
        assert.ok(standard.has(DEFAULT_MAPPING.get(s.id)!), `standard id for ${s.id}`);
      }
      const audio = await createCategory(t.db, { parentId: 395, icon: 'audio-x', nameEn: 'Audio drama', nameFr: 'Fiction audio' });
      const video = await createCategory(t.db, { parentId: 210, icon: 'video-x', nameEn: 'Web series', nameFr: 'Web séries' });
      const adultParent = await createCategory(t.db, { parentId: null, icon: 'adult', nameEn: 'Adult', nameFr: 'Adulte', adult: true });
      assert.ok(audio.ok && video.ok && adultParent.ok, 'categories created');
      if (!audio.ok || !video.ok || !adultParent.ok) return;
      const adultSub = await createCategory(t.db, { parentId: adultParent.id, icon: 'adult-x', nameEn: 'Films', nameFr: 'Films' });
      assert.ok(adultSub.ok, 'adult subcategory');
      if (!adultSub.ok) return;
      const m = await loadMapping(t.db);
      assert.equal(m.newznab.get(audio.id), 3000, 'Audio family');
      assert.equal(m.newznab.get(video.id), 8000, 'Video is ambiguous: Other');
      assert.equal(m.newznab.get(adultSub.id), 6000, 'adult (through its parent): XXX');
      assert.equal(defaultNewznabId({ id: 999999, parentId: null, adult: false }), 8000);
      assert.deepEqual(itemCategories(m, 631), [2000, 100631]);
      assert.deepEqual(itemCategories(m, 637), [5000, 5070, 100637]);
      assert.deepEqual(itemCategories(m, null), [8000], 'no category: Other');
      assert.deepEqual(itemCategories(m, 424242), [8000], 'unknown category: Other');
      assert.deepEqual([...selectSubcategories(m, [6000])], [adultSub.id]);
      assert.deepEqual([...selectSubcategories(m, [100000 + adultParent.id])], [adultSub.id]);
      assert.deepEqual([...selectSubcategories(m, [1, 99999, 100000 + 424242])], [], 'unknown ids select nothing');
    });

    it('saves the administrators\' choices (defaults not stored), refuses bad ones, resets', async () => {
      const refused = await saveMapping(t.db, actor, new Map([[631, 2041], [210, 2000], [424242, 2000], [408, Number.NaN]]), now);
      assert.equal(refused.ok, false);
      if (!refused.ok) assert.deepEqual(Object.fromEntries(refused.errors), { 631: 'unknown_newznab', 210: 'unknown_category', 424242: 'unknown_category', 408: 'unknown_newznab' });
      assert.equal((await t.db.selectFrom('newznab_category').selectAll().execute()).length, 0, 'nothing written on a refusal');

      assert.deepEqual(await saveMapping(t.db, actor, new Map([[631, 2040], [408, 7020], [433, 5040]]), now), { ok: true, changed: 2 });
      let m = await loadMapping(t.db);
      assert.equal(m.newznab.get(631), 2040);
      assert.equal(m.newznab.get(433), 5040);
      assert.deepEqual([...m.overridden].sort(), [433, 631]);
      assert.deepEqual([...selectSubcategories(m, [2000])].sort(), [455, 631, 635], 'a parent takes its mapped children');
      assert.deepEqual([...selectSubcategories(m, [5040])], [433]);
      assert.deepEqual([...selectSubcategories(m, [5030])], [], 'a sibling does not match');
      assert.deepEqual([...selectSubcategories(m, [2030])].sort(), [455], 'no subcategory maps to Movies/SD: those mapped to all of Movies');
      assert.deepEqual([...selectSubcategories(m, [5080])], [634], 'Documentaries map to TV/Documentary exactly: TV series (all of TV) not included');
      // Back to the default value: the row goes.
      assert.deepEqual(await saveMapping(t.db, actor, new Map([[433, 5000]]), now), { ok: true, changed: 1 });
      assert.deepEqual((await t.db.selectFrom('newznab_category').select(['category_id', 'newznab_id']).execute()).map((r) => [r.category_id, r.newznab_id]), [[631, 2040]]);
      assert.deepEqual(await saveMapping(t.db, actor, new Map([[631, 2040]]), now), { ok: true, changed: 0 }, 'unchanged');
      const audits = await t.db.selectFrom('audit_log').select(['action', 'before', 'after']).where('action', 'like', 'torznab.%').orderBy('id').execute();
      assert.deepEqual(audits.map((a) => [a.action, JSON.parse(a.before!), JSON.parse(a.after!)]), [
        ['torznab.mapping', { 433: 5000, 631: 2000 }, { 433: 5040, 631: 2040 }],
        ['torznab.mapping', { 433: 5040 }, { 433: 5000 }],
      ]);
      assert.equal(await resetMapping(t.db, actor, now), 1);
      assert.equal(await resetMapping(t.db, actor, now), 0, 'nothing left to reset');
      m = await loadMapping(t.db);
      assert.equal(m.newznab.get(631), 2000);
      assert.equal(m.overridden.size, 0);
    });

    it('plans legs: one without filter, parents where all subcategories are selected, groups for season terms', async () => {
      const m = await loadMapping(t.db);
      const plan = (fn: SearchFunction, p: Record<string, unknown>) => planSearch(m, parseSearchParams(fn, p));
      assert.deepEqual(plan('search', {}), [{ categoryId: null, text: '', terms: [] }]);
      assert.deepEqual(plan('search', { cat: '100404' }), [{ categoryId: 404, text: '', terms: [] }], 'a whole site parent: one leg');
      assert.deepEqual(plan('book', {}).map((l) => l.categoryId), [404], 'Books and audiobooks: every eBook subcategory, one leg');
      assert.deepEqual(plan('search', { cat: '9999' }), [], 'nothing selected: no leg');
      const tv = plan('tvsearch', { q: 'x', season: '1', ep: '2' });
      const withTerms = tv.filter((l) => l.terms.length > 0);
      assert.deepEqual(new Set(withTerms.map((l) => l.categoryId)), new Set([433, 637, 639]), 'series, animated series, TV shows have the season and episode types');
      for (const l of withTerms) assert.deepEqual(l.terms, [968, 938]);
      assert.deepEqual(new Set(tv.filter((l) => l.terms.length === 0).map((l) => l.categoryId)), new Set([634, 636]), 'the others use the name marker');
      for (const l of tv) assert.equal(l.text.includes('S01E02'), l.terms.length === 0, 'marker only without terms');
      const specials = episodeTerms(m.catalogue.category(433)!, 0, null);
      assert.deepEqual(specials, [1068], 'season 0: Specials');
      assert.equal(episodeTerms(m.catalogue.category(433)!, 31, null), null, 'no term for season 31: the marker');
      assert.equal(episodeTerms(m.catalogue.category(433)!, 1, { kind: 'number', n: 61 }), null, 'no term for episode 61');
      assert.equal(episodeTerms(m.catalogue.category(631)!, 1, null), null, 'movies have no season type');
    });

    it('finds episodes by terms and by name markers (prefix for a season)', async () => {
      const m = await loadMapping(t.db);
      const a = await add(t, 'Tele Show S01E02 1080p', 433, now - 10, [968, 938]);
      const b = await add(t, 'Tele Show complete season two', 433, now - 11, [969, 936]);
      const c = await add(t, 'Reef Documentary S01E02 HDTV', 634, now - 12);
      const d = await add(t, 'Reef Documentary S01E03 HDTV', 634, now - 13);
      const e = await add(t, 'Reef Documentary S02E01 HDTV', 634, now - 14);
      const daily = await add(t, 'Late Talk 2024.01.15 WEB', 639, now - 15);
      const run = async (p: Record<string, unknown>) =>
        (await runSearch(t.db, planSearch(m, parseSearchParams('tvsearch', p)), 0, 100, scope)).rows.map((r) => r.id);
      assert.deepEqual(await run({ q: 'tele show', season: '1', ep: '2' }), [a]);
      assert.deepEqual(await run({ q: 'tele show', season: '2' }), [b]);
      assert.deepEqual(await run({ q: 'reef', season: '1', ep: '2' }), [c]);
      assert.deepEqual(await run({ q: 'reef', season: '1' }), [c, d], 'S01 as a prefix');
      assert.deepEqual(await run({ q: 'reef', season: '2' }), [e]);
      assert.deepEqual(await run({ q: 'late talk', season: '2024', ep: '01/15' }), [daily], 'a daily episode by its date');
      assert.deepEqual(await run({ q: 'late talk', season: '2024', ep: '01/16' }), []);
    });

    it('makes one site search of the legs: a category list, or alternatives when conditions differ', async () => {
      const m = await loadMapping(t.db);
      const input = (fn: SearchFunction, p: Record<string, unknown>) => searchInputOf(planSearch(m, parseSearchParams(fn, p)), scope);
      assert.equal(input('search', { cat: '9999' }), null, 'nothing selected: no search');
      const all = input('search', { q: 'x' });
      assert.equal(all?.categoryIds, null, 'every category: no category condition');
      assert.equal(all?.anyOf, undefined);
      const two = input('search', { cat: '100236,100246' });
      assert.deepEqual(two?.categoryIds, [236, 246], 'two site parents: one list');
      assert.equal(two?.anyOf, undefined);
      const tv = input('tvsearch', { q: 'x', season: '1', ep: '2' });
      assert.equal(tv?.categoryIds, undefined);
      assert.equal(tv?.anyOf?.length, 2, 'terms in some subcategories, the marker in the others');
      const byTerms = tv!.anyOf!.find((b) => (b.terms ?? []).length > 0)!;
      assert.deepEqual([...byTerms.categoryIds!].sort((a, b) => a - b), [433, 637, 639]);
      assert.deepEqual(byTerms.terms, [968, 938]);
      const byMarker = tv!.anyOf!.find((b) => (b.terms ?? []).length === 0)!;
      assert.match(byMarker.text ?? '', /S01E02/);
      assert.deepEqual([...byMarker.categoryIds!].sort((a, b) => a - b), [634, 636]);
      for (const i of [all, two, tv]) assert.deepEqual([i?.sort, i?.order, i?.hideAdult, i?.verifiedOnly], ['age', 'asc', false, false], 'newest first, the scope kept');
    });

    it('pages several categories newest first across the page boundary, with exact totals', async () => {
      const m = await loadMapping(t.db);
      // 205 Windows programs and 6 Windows games (two parents), interleaved in time.
      const base = now - 100_000;
      const expected: Array<{ id: number; at: number }> = [];
      for (let i = 0; i < 205; i++) expected.push({ id: await add(t, `Tool ${i}`, 236, base - 2 * i), at: base - 2 * i });
      for (let i = 0; i < 6; i++) expected.push({ id: await add(t, `Game ${i}`, 246, base - 70 * i - 1), at: base - 70 * i - 1 });
      expected.sort((x, y) => y.at - x.at || y.id - x.id);
      const ids = expected.map((x) => x.id);
      const legs = planSearch(m, parseSearchParams('search', { cat: '100236,100246' }));
      assert.deepEqual(legs.map((l) => l.categoryId), [236, 246]);
      for (const [offset, limit] of [[0, 100], [100, 100], [195, 10], [199, 3], [200, 11], [205, 100], [211, 5]] as const) {
        const r = await runSearch(t.db, legs, offset, limit, scope);
        assert.deepEqual(r.rows.map((x) => x.id), ids.slice(offset, offset + limit), `page ${offset}+${limit}`);
        assert.equal(r.total, 211, `the exact total on the page ${offset}+${limit}`);
      }
      const far = await runSearch(t.db, legs, 10_001, 10, scope);
      assert.deepEqual([far.rows, far.total], [[], 211], 'a deep offset: empty, the total still exact');
      const games = planSearch(m, parseSearchParams('search', { cat: '100246' }));
      assert.equal((await runSearch(t.db, games, 0, 2, scope)).total, 6);
    });

    it('pages a season search mixing terms and name markers across the page boundary, with exact totals', async () => {
      const m = await loadMapping(t.db);
      // 203 episodes tagged Season 01 / Episode 02 in TV series, 5 documentaries named S01E02, and
      // decoys: the wrong episode term, the wrong marker, the marker where terms are used.
      const base = now - 300_000;
      const expected: Array<{ id: number; at: number }> = [];
      for (let i = 0; i < 203; i++) expected.push({ id: await add(t, `Paging Show take ${i}`, 433, base - 3 * i, [968, 938]), at: base - 3 * i });
      for (let i = 0; i < 5; i++) expected.push({ id: await add(t, `Paging Doc S01E02 part ${i}`, 634, base - 100 * i - 1), at: base - 100 * i - 1 });
      await add(t, 'Paging Show other episode', 433, base - 5, [968, 936]);
      await add(t, 'Paging Doc S01E03', 634, base - 6);
      await add(t, 'Paging Show S01E02 untagged', 433, base - 7);
      expected.sort((x, y) => y.at - x.at || y.id - x.id);
      const ids = expected.map((x) => x.id);
      const legs = planSearch(m, parseSearchParams('tvsearch', { q: 'paging', season: '1', ep: '2' }));
      for (const [offset, limit] of [[0, 100], [100, 100], [198, 5], [199, 4], [200, 8], [207, 100], [208, 1]] as const) {
        const r = await runSearch(t.db, legs, offset, limit, scope);
        assert.deepEqual(r.rows.map((x) => x.id), ids.slice(offset, offset + limit), `page ${offset}+${limit}`);
        assert.equal(r.total, 208, `the exact total on the page ${offset}+${limit}`);
      }
    });
  });
});

/**
 * The T411 API's own storage on every dialect (SQLite, and PostgreSQL when ESSAIM_TEST_PG_URL is
 * set): token issuance (given again while it has half its life, a new one afterwards, a revoked
 * one replaced even within the same second), bookmark save and delete; and the pure parts: the
 * search parameters, the trees (deprecated types and terms left out), dates, host constraints.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { issueT411Token, isT411Token, t411TokenFor } from '../../src/api/t411/auth.js';
import { deleteBookmarks, parseIdList, saveBookmark } from '../../src/api/t411/bookmarks.js';
import { hostConstraint, searchInputOf, t411BasePath, termParams } from '../../src/api/t411/routes.js';
import { categoriesTree, t411Date, termsTree } from '../../src/api/t411/shapes.js';
import { checkApiToken, revokeApiToken } from '../../src/api/tokens.js';
import { loadConfig } from '../../src/config/index.js';
import { forEachDialect, type TestDatabase } from '../../src/db/test-databases.js';
import { registerTorrent } from '../../src/db/torrent.repository.js';
import { createUser } from '../../src/db/user.repository.js';
import { invalidateCatalogue, readCatalogue } from '../../src/site/catalogue/catalogue.js';
import { installDefaultTaxonomy } from '../../src/site/catalogue/taxonomy.js';

const NOW = 1_800_000_000;
const TTL = 90 * 86400;

forEachDialect((name, open) => {
  describe(`T411 API storage (${name})`, () => {
    let t: TestDatabase;
    let uid: number;
    let other: number;
    let clock = NOW;
    const secret = randomBytes(32);
    const site = () => ({ db: t.db, now: () => clock, secret, config: loadConfig({ env: {} }) });
    before(async () => {
      t = await open();
      uid = (await createUser(t.db, { username: 'tok', now: 1 })).id;
      other = (await createUser(t.db, { username: 'other', now: 1 })).id;
    });
    after(() => t.close());

    it('issues <uid>:<n>:<hex>, gives it again while it has half its life, then a new one', async () => {
      clock = NOW;
      const first = await issueT411Token(site(), uid);
      assert.ok(isT411Token(first), `shape: ${first}`);
      assert.equal(first, t411TokenFor(secret, uid, NOW));
      assert.ok(first.startsWith(`${uid}:${NOW}:`), 'uid and creation time');
      const r = await checkApiToken(t.db, first, NOW + 1, 't411');
      assert.ok(r.ok, 'valid as a t411 token');
      assert.equal(r.principal.user.id, uid);
      assert.deepEqual([...r.principal.scopes], ['read']);
      assert.equal((await checkApiToken(t.db, first, NOW + 1, 'personal')).ok, false, 'not as a personal token');
      clock = NOW + TTL / 2 - 10;
      assert.equal(await issueT411Token(site(), uid), first, 'given again with half its life left');
      clock = NOW + TTL / 2 + 10;
      const second = await issueT411Token(site(), uid);
      assert.notEqual(second, first, 'a new one past half its life');
      assert.ok((await checkApiToken(t.db, first, clock, 't411')).ok, 'the older stays valid');
      assert.equal((await checkApiToken(t.db, first, NOW + TTL, 't411')).ok, false, 'until it expires');
      assert.equal(await issueT411Token(site(), uid), second);
      const rows = await t.db.selectFrom('api_token').select(['kind', 'expires_at', 'created_at']).where('user_id', '=', uid).execute();
      assert.equal(rows.length, 2, 'two rows in all');
      for (const row of rows) assert.equal(row.expires_at! - row.created_at, TTL);
      assert.notEqual(await issueT411Token(site(), other), second, "another member's token");
    });

    it('replaces a revoked token, even within the same second', async () => {
      clock = NOW + 2 * TTL;
      const a = await issueT411Token(site(), other);
      const row = await t.db.selectFrom('api_token').select('id').where('user_id', '=', other).where('created_at', '=', clock).executeTakeFirstOrThrow();
      assert.ok(await revokeApiToken(t.db, other, row.id, clock), 'revoked');
      const b = await issueT411Token(site(), other);
      assert.notEqual(b, a, 'not the revoked one');
      assert.ok(b.startsWith(`${other}:${clock + 1}:`), `the next second taken: ${b}`);
      assert.ok((await checkApiToken(t.db, b, clock, 't411')).ok, 'the new one works');
      assert.equal((await checkApiToken(t.db, a, clock, 't411')).ok, false, 'the revoked one does not');
    });

    it('saves a bookmark once and deletes only the member own', async () => {
      const { id } = await registerTorrent(t.db, { name: 'x', infoHashV1: randomBytes(20).toString('hex'), size: 1, now: NOW });
      const { id: id2 } = await registerTorrent(t.db, { name: 'y', infoHashV1: randomBytes(20).toString('hex'), size: 1, now: NOW });
      assert.equal(await saveBookmark(t.db, uid, id, NOW), 'saved');
      assert.equal(await saveBookmark(t.db, uid, id, NOW), 'exists');
      assert.equal(await saveBookmark(t.db, other, id, NOW), 'saved', 'another member');
      assert.equal(await saveBookmark(t.db, uid, id2, NOW), 'saved');
      assert.equal(await deleteBookmarks(t.db, uid, []), 0);
      assert.equal(await deleteBookmarks(t.db, uid, [id, id2, 987654]), 2);
      assert.equal(await deleteBookmarks(t.db, uid, [id]), 0);
      const left = await t.db.selectFrom('bookmark').select(['user_id', 'torrent_id']).execute();
      assert.deepEqual(left, [{ user_id: other, torrent_id: id }]);
    });

    it('builds the trees from the catalogue, without deprecated types and terms', async () => {
      await installDefaultTaxonomy(t.db);
      await t.db.updateTable('term').set({ deprecated: 1 }).where('id', '=', 12).execute();
      await t.db.updateTable('term_type').set({ deprecated: 1 }).where('id', '=', 34).execute();
      invalidateCatalogue(t.db);
      const cat = await readCatalogue(t.db);
      const terms = termsTree(cat);
      assert.equal(terms['433']!['7']!.type, 'Vidéo - Qualité');
      assert.equal(terms['433']!['7']!.terms['12'], undefined, 'a deprecated term is left out');
      assert.equal(terms['433']!['7']!.terms['15'], 'HDrip 720 [Rip HD depuis Bluray]');
      assert.equal(terms['433']!['34'], undefined, 'a deprecated type is left out');
      assert.equal(terms['394'], undefined, 'a subcategory without types is absent');
      const cats = categoriesTree(cat);
      assert.deepEqual(cats['392'], {
        id: '392',
        pid: '0',
        name: 'GPS',
        cats: { '391': { id: '391', pid: '392', name: 'Applications' }, '393': { id: '393', pid: '392', name: 'Cartes' }, '394': { id: '394', pid: '392', name: 'Divers' } },
      });
    });
  });
});

describe('T411 API parameters', () => {
  it('maps search parameters to the site search', () => {
    assert.deepEqual(searchInputOf({}, 'x'), { text: 'x', categoryId: null, terms: [], sort: 'age', order: 'asc', offset: 0, limit: 10 });
    assert.deepEqual(searchInputOf({ offset: '20', limit: '50', cid: '433', cat: '210', order: 'seeders', type: 'asc' }, ''), {
      text: '',
      categoryId: 433,
      terms: [],
      sort: 'seeders',
      order: 'asc',
      offset: 20,
      limit: 50,
    });
    assert.equal(searchInputOf({ subcat: '631', cat: '210' }, '').categoryId, 631, 'subcat before cat');
    assert.equal(searchInputOf({ cat: '210' }, '').categoryId, 210);
    assert.equal(searchInputOf({ cat: '0' }, '').categoryId, null, 'cat 0: all');
    assert.equal(searchInputOf({ cid: ['433', '631'] }, '').categoryId, 433, 'a repeated parameter: the first');
    assert.equal(searchInputOf({ limit: '0' }, '').limit, 10);
    assert.equal(searchInputOf({ limit: '-5' }, '').limit, 10);
    assert.equal(searchInputOf({ limit: '999' }, '').limit, 200);
    assert.equal(searchInputOf({ offset: 'x' }, '').offset, 0);
    assert.deepEqual([searchInputOf({ order: 'added', type: 'desc' }, '').order, searchInputOf({ order: 'added', type: 'asc' }, '').order], ['asc', 'desc'], 'added is age reversed');
    assert.equal(searchInputOf({ order: 'times_completed' }, '').sort, 'completed');
    assert.equal(searchInputOf({ order: '__proto__' }, '').sort, 'age', 'no prototype keys');
    assert.equal(searchInputOf({ order: 'size', type: 'sideways' }, '').order, 'desc');
  });

  it('reads term[<type>][] parameters in their forms', () => {
    assert.deepEqual(termParams({ 'term[45][]': ['968', '969'], 'term[46][]': '937', 'term[7]': '12', 'term[2][0]': '25', other: '1' }), [968, 969, 937, 12, 25]);
    assert.deepEqual(termParams({ term: { '45': [968, '969'], '46': '937' } }), [968, 969, 937], 'a JSON body');
    assert.deepEqual(termParams({ 'term[45][]': ['x', '-1', '0', '968', '968'] }), [968], 'bad ids dropped, duplicates once');
    assert.deepEqual(termParams({ 'term[abc][]': '968' }), [], 'the type must be a number');
  });

  it('reads comma-separated ids, formats dates, matches hosts', () => {
    assert.deepEqual(parseIdList('5,7, 9,x,,0,-3,5'), [5, 7, 9]);
    assert.deepEqual(parseIdList(''), []);
    assert.equal(parseIdList(Array.from({ length: 2000 }, (_, i) => i + 1).join(',')).length, 1000);
    assert.equal(t411Date(1_448_401_448), '2015-11-24 21:44:08');
    assert.equal(t411Date(0), '1970-01-01 00:00:00');
    const h = hostConstraint('API.example.org');
    assert.ok(h, 'a constraint');
    for (const ok of ['api.example.org', 'API.EXAMPLE.ORG', 'api.example.org:8443', 'api.example.org.']) assert.ok(h.test(ok), ok);
    for (const no of ['apixexample.org', 'evil-api.example.org', 'api.example.org.evil', 'api.example.org:x', '']) assert.ok(!h.test(no), no);
    assert.equal(hostConstraint('  '), null);
    assert.equal(t411BasePath('/t411api/'), '/t411api');
    assert.equal(t411BasePath('t411'), '/t411');
    assert.equal(t411BasePath(''), '');
  });
});

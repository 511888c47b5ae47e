/**
 * Catalogue administration through the browser: only administrators get in (members 403,
 * visitors to the login page), the tree and term types are listed, and categories, term types,
 * bindings and terms added or changed there show up on the upload form at once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startSite, type Browser, type TestSite } from '../helpers/site.js';

describe('catalogue administration', () => {
  let s: TestSite;
  let admin: Browser;

  before(async () => {
    s = await startSite();
    const a = await s.member('chief', { role: 'admin' });
    admin = s.browser();
    await admin.login('chief', a.password);
    assert.ok(admin.cookies.has('essaim_session'), 'admin logged in');
  });
  after(() => s.stop());

  it('refuses members and moderators (403) and sends visitors to the login page', async () => {
    for (const role of ['member', 'moderator'] as const) {
      const m = await s.member(`not-admin-${role}`, { role });
      const b = s.browser();
      await b.login(`not-admin-${role}`, m.password);
      assert.equal((await b.get('/admin/categories')).status, 403, `${role}: overview`);
      assert.equal((await b.get('/admin/categories/631')).status, 403, `${role}: edit page`);
      const post = await b.post('/admin/categories/new', { parent: '210', name_en: 'X', name_fr: 'X', icon: 'x' });
      assert.equal(post.status, 403, `${role}: POST`);
      assert.equal((await b.post('/admin/categories/631/delete', {})).status, 403, `${role}: delete`);
    }
    const v = await s.browser().get('/admin/categories', false);
    assert.equal(v.status, 303);
    assert.match(v.location ?? '', /^\/login\?next=/);
    const count = await s.app.db().selectFrom('category').select('id').where('name_en', '=', 'X').execute();
    assert.deepEqual(count, [], 'nothing created');
  });

  it('lists the tree and the term types to an administrator', async () => {
    const r = await admin.get('/admin/categories');
    assert.equal(r.status, 200);
    assert.match(r.text, /<th scope="row">Video<\/th>/, 'parent row');
    assert.match(r.text, /<td class="catalogue-indent">Movies<\/td>\s*<td>Film<\/td>/, 'subcategory in both languages');
    assert.match(r.text, /<th scope="col"[^>]*>Id<\/th>/, 'column headers with scope');
    assert.match(r.text, /<th scope="row">Video - Quality<\/th>/, 'term types listed');
    assert.ok(r.text.includes('href="/admin/categories/new?parent=210"'), 'add a subcategory link');
  });

  it('adds a category, a term type bound to it and a term, all offered on the upload form at once', async () => {
    await admin.get('/upload'); // warm the catalogue cache: edits must reach it
    await admin.get('/admin/categories/new?parent=210');
    let r = await admin.post('/admin/categories/new', { parent: '210', name_en: 'Home movies', name_fr: 'Films de famille', icon: 'video-home', slug: '', position: '', id: '' });
    assert.equal(r.status, 303, 'category created');
    assert.equal(r.location, '/admin/categories');
    const row = await s.app.db().selectFrom('category').selectAll().where('name_en', '=', 'Home movies').executeTakeFirstOrThrow();
    assert.equal(row.parent_id, 210);
    assert.equal(row.slug, 'home-movies');
    const flash = await admin.get('/admin/categories');
    assert.ok(flash.text.includes('Saved.'), 'flash shown');

    let up = await admin.get('/upload');
    assert.ok(up.text.includes(`<option value="${row.id}">Home movies</option>`), 'new subcategory offered at step 1');
    up = await admin.get(`/upload?category=${row.id}`);
    assert.equal(up.status, 200);
    assert.ok(up.text.includes('No detail to choose for this subcategory.'), 'no term type yet');

    await admin.get('/admin/categories/types/new');
    r = await admin.post('/admin/categories/types/new', { name_en: 'Video - Camera', name_fr: 'Vidéo - Caméra', mode: 'multi', position: '', id: '' });
    assert.equal(r.status, 303, 'type created');
    const typeId = Number(/\/admin\/categories\/types\/(\d+)$/.exec(r.location ?? '')?.[1]);
    assert.ok(typeId > 0, 'redirected to the new type');
    const typePage = await admin.get(`/admin/categories/types/${typeId}`);
    assert.match(typePage.text, new RegExp(`<input type="checkbox" id="bind-${row.id}" name="category" value="${row.id}">`), 'binding checkbox');
    r = await admin.post(`/admin/categories/types/${typeId}/bindings`, { category: [String(row.id), '631'] });
    assert.equal(r.status, 303, 'bound');
    r = await admin.post(`/admin/categories/types/${typeId}/terms`, { name_en: 'Smartphone camera', name_fr: 'Caméra de smartphone', id: '', position: '' });
    assert.equal(r.status, 303, 'term created');
    const term = await s.app.db().selectFrom('term').selectAll().where('term_type_id', '=', typeId).executeTakeFirstOrThrow();

    up = await admin.get(`/upload?category=${row.id}`);
    assert.ok(up.text.includes('<legend>Video - Camera</legend>'), 'new type on the upload form');
    assert.ok(up.text.includes(`value="${term.id}"> <label for="upload-term-${typeId}-${term.id}">Smartphone camera</label>`), 'new term offered as a checkbox');
    up = await admin.get('/upload?category=631');
    assert.ok(up.text.includes('Smartphone camera'), 'also on films');

    // A term added to an existing single type shows in its select.
    await admin.get('/admin/categories/types/7');
    r = await admin.post('/admin/categories/types/7/terms', { name_en: 'VHS capture', name_fr: 'Capture VHS', id: '5100', position: '' });
    assert.equal(r.status, 303);
    up = await admin.get('/upload?category=631');
    assert.ok(up.text.includes('<option value="5100">VHS capture</option>'), 'new quality offered');

    // Deprecating it withdraws it from the form.
    await admin.get('/admin/categories/terms/5100');
    r = await admin.post('/admin/categories/terms/5100', { name_en: 'VHS capture', name_fr: 'Capture VHS', position: '', deprecated: '1' });
    assert.equal(r.status, 303);
    assert.equal(r.location, '/admin/categories/types/7');
    up = await admin.get('/upload?category=631');
    assert.ok(!up.text.includes('VHS capture'), 'deprecated term no longer offered');
    const fr = await admin.get('/admin/categories/types/7');
    assert.ok(fr.text.includes('Deprecated'), 'still listed to the administrator');
  });

  it('re-renders a form with the typed values and named errors', async () => {
    await admin.get('/admin/categories/new');
    const r = await admin.post('/admin/categories/new', { parent: '631', name_en: '', name_fr: 'Gardé <b>', icon: 'Bad Icon', slug: 'video', position: 'x', id: '' });
    assert.equal(r.status, 400);
    assert.ok(r.text.includes('value="Gardé &lt;b&gt;"'), 'typed value kept, escaped');
    assert.ok(r.text.includes('This field is required.'), 'missing name');
    assert.ok(r.text.includes('The parent must be a top-level category (two levels only).'), 'parent rule');
    assert.ok(r.text.includes('This value is already used.'), 'slug taken');
    assert.match(r.text, /id="category-icon"[^>]*aria-invalid="true"/, 'invalid icon flagged');
    const bad = await admin.post('/admin/categories/types/7/bindings', { category: ['210'] });
    assert.equal(bad.status, 400);
    assert.ok(bad.text.includes('Term types can be bound to subcategories only.'), 'binding to a parent refused');
  });

  it('edits a category and deletes only unused ones', async () => {
    await admin.get('/admin/categories/636');
    let r = await admin.post('/admin/categories/636', { parent: '210', name_en: 'Sports', name_fr: 'Sport', icon: 'video-sport', slug: 'video-sport', position: '3', adult: '' });
    assert.equal(r.status, 303);
    const edited = await s.app.db().selectFrom('category').selectAll().where('id', '=', 636).executeTakeFirstOrThrow();
    assert.equal(edited.name_en, 'Sports');
    assert.equal(edited.position, 3);
    const up = await admin.get('/upload');
    assert.ok(up.text.includes('<option value="636">Sports</option>'), 'renamed on the upload form');

    r = await admin.post('/admin/categories/210/delete', {});
    assert.equal(r.status, 409, 'a parent with subcategories stays');
    assert.ok(r.text.includes('This category has subcategories'), 'reason shown');
    await s.app.db().insertInto('torrent').values({ name: 'in use', info_hash_v1: 'b'.repeat(40), category_id: 402, created_at: 1 }).execute();
    r = await admin.post('/admin/categories/402/delete', {});
    assert.equal(r.status, 409, 'a used subcategory stays');
    assert.ok(r.text.includes('Torrents belong to this category.'), 'reason shown');
    r = await admin.post('/admin/categories/394/delete', {});
    assert.equal(r.status, 303, 'an unused one goes');
    assert.equal(await s.app.db().selectFrom('category').select('id').where('id', '=', 394).executeTakeFirst(), undefined);
    assert.ok(!(await admin.get('/upload')).text.includes('value="394"'), 'gone from the upload form');
    assert.equal((await admin.get('/admin/categories/394')).status, 404);
  });

  it('checks the CSRF token', async () => {
    const r = await admin.post('/admin/categories/new', { parent: '', name_en: 'Z', name_fr: 'Z', icon: 'z' }, { csrf: false });
    assert.equal(r.status, 403);
  });
});

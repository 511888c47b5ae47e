/**
 * Catalogue administration, for members holding catalogue.manage (administrators by default;
 * other members get 403, visitors the login page):
 *
 *   GET       /admin/categories                       the tree and the term types
 *   GET|POST  /admin/categories/new[?parent=<id>]     add a category
 *   GET|POST  /admin/categories/<id>                  edit a category (parent, names, slug, icon, position, adult)
 *   POST      /admin/categories/<id>/delete           delete it (only when unused)
 *   GET|POST  /admin/categories/types/new             add a term type
 *   GET|POST  /admin/categories/types/<id>            edit a term type (names, mode, position, deprecated)
 *   POST      /admin/categories/types/<id>/bindings   the subcategories it is bound to
 *   POST      /admin/categories/types/<id>/terms      add a term
 *   GET|POST  /admin/categories/terms/<id>            edit (or deprecate) a term
 *
 * Pages read the catalogue uncached (readCatalogue); every edit goes through src/site/catalogue/
 * admin.ts, which invalidates the cached catalogue that the other pages use.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { User } from '../../../db/schema.js';
import {
  createCategory,
  createTerm,
  createTermType,
  deleteCategory,
  setTermTypeBindings,
  updateCategory,
  updateTerm,
  updateTermType,
  type CategoryInput,
  type EditResult,
} from '../../../site/catalogue/admin.js';
import { readCatalogue } from '../../../site/catalogue/catalogue.js';
import type { Site } from '../../../site/site.js';
import { HttpError, setFlash } from '../../context.js';
import { requirePermission } from '../../staff.js';
import { sendPage } from '../../layout.js';
import { categoryBody, overviewBody, termBody, typeBody, type FormErrors, type FormValues } from './pages.js';

/**
 * A member holding catalogue.manage (administrators by default), or 403 for other members
 * (visitors are sent to the login page).
 */
export function requireAdmin(req: FastifyRequest, _reply?: FastifyReply): Promise<User> {
  return requirePermission(req, 'catalogue.manage');
}

type Body = Record<string, string | string[] | undefined>;

/** The first value of a form field, as a string. */
function str(body: Body, name: string): string {
  const v = body[name];
  return (Array.isArray(v) ? v[0] : v) ?? '';
}

function all(body: Body, name: string): string[] {
  const v = body[name];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** '' → undefined; anything else → a number (NaN for junk, which the service reports as invalid). */
function optionalInt(s: string): number | undefined {
  const v = s.trim();
  if (v === '') return undefined;
  return /^-?\d{1,12}$/.test(v) ? Number(v) : Number.NaN;
}

function pickValues(body: Body, names: readonly string[]): FormValues {
  const out: FormValues = {};
  for (const n of names) out[n] = str(body, n);
  return out;
}

function idParam(raw: string): number {
  if (!/^\d{1,10}$/.test(raw)) throw new HttpError(404, 'common.error.not_found');
  return Number(raw);
}

const CATEGORY_FIELDS = ['id', 'parent', 'name_en', 'name_fr', 'slug', 'icon', 'position', 'adult'] as const;
const TYPE_FIELDS = ['id', 'name_en', 'name_fr', 'mode', 'position', 'deprecated'] as const;
const TERM_FIELDS = ['id', 'name_en', 'name_fr', 'position', 'deprecated'] as const;

function categoryInput(v: FormValues): CategoryInput {
  const parent = optionalInt(v.parent ?? '');
  return {
    id: optionalInt(v.id ?? '') ?? null,
    parentId: parent === undefined ? null : parent,
    slug: v.slug ?? '',
    icon: v.icon ?? '',
    nameEn: v.name_en ?? '',
    nameFr: v.name_fr ?? '',
    position: optionalInt(v.position ?? ''),
    adult: v.adult === '1',
  };
}

function errorsOf(r: EditResult): FormErrors {
  return r.ok ? {} : r.errors;
}

export function routes(app: FastifyInstance, site: Site): void {
  const torrentCounts = async (): Promise<Map<number, number>> => {
    const rows = await site.db
      .selectFrom('torrent')
      .select(['category_id', (eb) => eb.fn.countAll<number>().as('n')])
      .where('category_id', 'is not', null)
      .groupBy('category_id')
      .execute();
    return new Map(rows.map((r) => [r.category_id!, Number(r.n)]));
  };

  /** A category's form values as stored (its own adult flag, not the inherited one). */
  const storedCategoryValues = async (id: number): Promise<FormValues | null> => {
    const c = await site.db.selectFrom('category').selectAll().where('id', '=', id).executeTakeFirst();
    if (!c) return null;
    return {
      parent: c.parent_id === null ? '' : String(c.parent_id),
      name_en: c.name_en,
      name_fr: c.name_fr,
      slug: c.slug,
      icon: c.icon,
      position: String(c.position),
      adult: c.adult === 1 ? '1' : '',
    };
  };

  // The administration's entry point, /admin, is the staff hub (features/discipline/hub.ts).

  app.get('/admin/categories', async (req, reply) => {
    await requireAdmin(req, reply);
    const [catalogue, counts] = await Promise.all([readCatalogue(site.db), torrentCounts()]);
    return sendPage(reply, req.ctx, { title: req.ctx.t('catalogue.title'), body: overviewBody(req.ctx, catalogue, counts) });
  });

  // --- categories ----------------------------------------------------------------------------------
  const showCategory = async (req: FastifyRequest, reply: FastifyReply, id: number | null, values: FormValues, errors: FormErrors, status = 200) => {
    const catalogue = await readCatalogue(site.db);
    const category = id === null ? null : (catalogue.category(id) ?? null);
    if (id !== null && !category) throw new HttpError(404, 'common.error.not_found');
    const torrentCount = id === null ? 0 : ((await torrentCounts()).get(id) ?? 0);
    const title = req.ctx.t('catalogue.title');
    return sendPage(reply, req.ctx, { title, body: categoryBody(req.ctx, catalogue, { category, values, errors, torrentCount }) }, status);
  };

  app.get<{ Querystring: { parent?: string } }>('/admin/categories/new', async (req, reply) => {
    await requireAdmin(req, reply);
    return showCategory(req, reply, null, { parent: req.query.parent ?? '' }, {});
  });

  app.post<{ Body: Body }>('/admin/categories/new', async (req, reply) => {
    await requireAdmin(req, reply);
    const values = pickValues(req.body, CATEGORY_FIELDS);
    const r = await createCategory(site.db, categoryInput(values));
    if (!r.ok) return showCategory(req, reply, null, values, r.errors, 400);
    setFlash(reply, 'catalogue.flash.saved');
    return reply.redirect('/admin/categories', 303);
  });

  app.get<{ Params: { id: string } }>('/admin/categories/:id', async (req, reply) => {
    await requireAdmin(req, reply);
    const id = idParam(req.params.id);
    const values = await storedCategoryValues(id);
    if (!values) throw new HttpError(404, 'common.error.not_found');
    return showCategory(req, reply, id, values, {});
  });

  app.post<{ Params: { id: string }; Body: Body }>('/admin/categories/:id', async (req, reply) => {
    await requireAdmin(req, reply);
    const id = idParam(req.params.id);
    const values = pickValues(req.body, CATEGORY_FIELDS);
    const r = await updateCategory(site.db, id, categoryInput(values));
    if (!r.ok) {
      if (r.errors.id === 'not_found') throw new HttpError(404, 'common.error.not_found');
      return showCategory(req, reply, id, values, r.errors, 400);
    }
    setFlash(reply, 'catalogue.flash.saved');
    return reply.redirect('/admin/categories', 303);
  });

  app.post<{ Params: { id: string } }>('/admin/categories/:id/delete', async (req, reply) => {
    await requireAdmin(req, reply);
    const id = idParam(req.params.id);
    const r = await deleteCategory(site.db, id);
    if (!r.ok) {
      if (r.errors.id === 'not_found') throw new HttpError(404, 'common.error.not_found');
      return showCategory(req, reply, id, (await storedCategoryValues(id)) ?? {}, { delete: r.errors.id }, 409);
    }
    setFlash(reply, 'catalogue.flash.deleted');
    return reply.redirect('/admin/categories', 303);
  });

  // --- term types ----------------------------------------------------------------------------------
  interface TypePageState {
    values?: FormValues;
    errors?: FormErrors;
    termValues?: FormValues;
    termErrors?: FormErrors;
    bindingErrors?: FormErrors;
  }
  const showType = async (req: FastifyRequest, reply: FastifyReply, id: number | null, s: TypePageState, status = 200) => {
    const catalogue = await readCatalogue(site.db);
    const type = id === null ? null : (catalogue.termType(id) ?? null);
    if (id !== null && !type) throw new HttpError(404, 'common.error.not_found');
    const values: FormValues =
      s.values ??
      (type
        ? { name_en: type.nameEn, name_fr: type.nameFr, mode: type.mode, position: String(type.position), deprecated: type.deprecated ? '1' : '' }
        : { mode: 'single' });
    const body = typeBody(req.ctx, catalogue, {
      type,
      values,
      errors: s.errors ?? {},
      termValues: s.termValues ?? {},
      termErrors: s.termErrors ?? {},
      bindingErrors: s.bindingErrors ?? {},
    });
    return sendPage(reply, req.ctx, { title: req.ctx.t('catalogue.title'), body }, status);
  };
  const typeInput = (v: FormValues) => ({
    id: optionalInt(v.id ?? '') ?? null,
    nameEn: v.name_en ?? '',
    nameFr: v.name_fr ?? '',
    mode: v.mode as 'single' | 'multi',
    position: optionalInt(v.position ?? ''),
    deprecated: v.deprecated === '1',
  });

  app.get('/admin/categories/types/new', async (req, reply) => {
    await requireAdmin(req, reply);
    return showType(req, reply, null, {});
  });

  app.post<{ Body: Body }>('/admin/categories/types/new', async (req, reply) => {
    await requireAdmin(req, reply);
    const values = pickValues(req.body, TYPE_FIELDS);
    const r = await createTermType(site.db, typeInput(values));
    if (!r.ok) return showType(req, reply, null, { values, errors: r.errors }, 400);
    setFlash(reply, 'catalogue.flash.saved');
    return reply.redirect(`/admin/categories/types/${r.id}`, 303);
  });

  app.get<{ Params: { id: string } }>('/admin/categories/types/:id', async (req, reply) => {
    await requireAdmin(req, reply);
    return showType(req, reply, idParam(req.params.id), {});
  });

  app.post<{ Params: { id: string }; Body: Body }>('/admin/categories/types/:id', async (req, reply) => {
    await requireAdmin(req, reply);
    const id = idParam(req.params.id);
    const values = pickValues(req.body, TYPE_FIELDS);
    const r = await updateTermType(site.db, id, typeInput(values));
    if (!r.ok) {
      if (r.errors.id === 'not_found') throw new HttpError(404, 'common.error.not_found');
      return showType(req, reply, id, { values, errors: r.errors }, 400);
    }
    setFlash(reply, 'catalogue.flash.saved');
    return reply.redirect(`/admin/categories/types/${id}`, 303);
  });

  app.post<{ Params: { id: string }; Body: Body }>('/admin/categories/types/:id/bindings', async (req, reply) => {
    await requireAdmin(req, reply);
    const id = idParam(req.params.id);
    const ids = all(req.body, 'category').map((s) => optionalInt(s)).filter((n): n is number => n !== undefined && Number.isSafeInteger(n));
    const r = await setTermTypeBindings(site.db, id, ids);
    if (!r.ok) {
      if (r.errors.id === 'not_found') throw new HttpError(404, 'common.error.not_found');
      return showType(req, reply, id, { bindingErrors: errorsOf(r) }, 400);
    }
    setFlash(reply, 'catalogue.flash.saved');
    return reply.redirect(`/admin/categories/types/${id}`, 303);
  });

  app.post<{ Params: { id: string }; Body: Body }>('/admin/categories/types/:id/terms', async (req, reply) => {
    await requireAdmin(req, reply);
    const typeId = idParam(req.params.id);
    const termValues = pickValues(req.body, TERM_FIELDS);
    const r = await createTerm(site.db, typeId, {
      id: optionalInt(termValues.id ?? '') ?? null,
      nameEn: termValues.name_en ?? '',
      nameFr: termValues.name_fr ?? '',
      position: optionalInt(termValues.position ?? ''),
    });
    if (!r.ok) {
      if (r.errors.type === 'not_found') throw new HttpError(404, 'common.error.not_found');
      return showType(req, reply, typeId, { termValues, termErrors: r.errors }, 400);
    }
    setFlash(reply, 'catalogue.flash.saved');
    return reply.redirect(`/admin/categories/types/${typeId}`, 303);
  });

  // --- terms ---------------------------------------------------------------------------------------
  const showTerm = async (req: FastifyRequest, reply: FastifyReply, id: number, values: FormValues | null, errors: FormErrors, status = 200) => {
    const catalogue = await readCatalogue(site.db);
    const term = catalogue.term(id);
    const type = term ? catalogue.termType(term.typeId) : undefined;
    if (!term || !type) throw new HttpError(404, 'common.error.not_found');
    const v = values ?? { name_en: term.nameEn, name_fr: term.nameFr, position: String(term.position), deprecated: term.deprecated ? '1' : '' };
    return sendPage(reply, req.ctx, { title: req.ctx.t('catalogue.title'), body: termBody(req.ctx, type, id, term.name(req.ctx.locale), v, errors) }, status);
  };

  app.get<{ Params: { id: string } }>('/admin/categories/terms/:id', async (req, reply) => {
    await requireAdmin(req, reply);
    return showTerm(req, reply, idParam(req.params.id), null, {});
  });

  app.post<{ Params: { id: string }; Body: Body }>('/admin/categories/terms/:id', async (req, reply) => {
    await requireAdmin(req, reply);
    const id = idParam(req.params.id);
    const values = pickValues(req.body, TERM_FIELDS);
    const r = await updateTerm(site.db, id, { nameEn: values.name_en ?? '', nameFr: values.name_fr ?? '', position: optionalInt(values.position ?? ''), deprecated: values.deprecated === '1' });
    if (!r.ok) {
      if (r.errors.id === 'not_found') throw new HttpError(404, 'common.error.not_found');
      return showTerm(req, reply, id, values, r.errors, 400);
    }
    const typeId = (await readCatalogue(site.db)).term(id)?.typeId;
    setFlash(reply, 'catalogue.flash.saved');
    return reply.redirect(typeId === undefined ? '/admin/categories' : `/admin/categories/types/${typeId}`, 303);
  });
}

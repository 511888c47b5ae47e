/**
 * Upload (members only), a two-step wizard that works without JavaScript:
 *
 *   GET  /upload                 step 1: the subcategory (optgroups per parent)
 *   GET  /upload?category=<id>   step 2: the full form for that subcategory
 *   POST /upload                 multipart: .torrent, terms, title, description, NFO, anonymous;
 *                                303 to /t/<id>, or the form again with the typed fields and the
 *                                errors (files cannot be refilled: the page says so)
 *   POST /upload/preview         the rendered description fragment (live preview, app.js)
 *
 * The work is done by uploadTorrent (src/site/torrents/upload.ts).
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { formatTorrentError } from '../../../metainfo/messages.js';
import { renderDescription } from '../../../markup/render.js';
import { loadCatalogue, type Catalogue } from '../../../site/catalogue/catalogue.js';
import type { Site } from '../../../site/site.js';
import { isDescriptionFormat, uploadTorrent, type UploadField, type UploadProblem } from '../../../site/torrents/upload.js';
import { checkCsrf, HttpError, requireUser, type RequestContext } from '../../context.js';
import { formatSize } from '../../format.js';
import { html, type Html } from '../../html.js';
import { sendPage } from '../../layout.js';
import { chooseCategoryBody, uploadFormBody, type UploadFormState } from './pages.js';
import { readMultipart } from '../../multipart.js';

function positiveInt(v: unknown): number | null {
  if (typeof v !== 'string' || !/^\d{1,10}$/.test(v)) return null;
  const n = Number(v);
  return n > 0 ? n : null;
}


/** The message(s) for one problem, naming terms and types in the reader's language. */
function problemMessage(ctx: RequestContext, catalogue: Catalogue, p: UploadProblem): Html {
  const { t, locale } = ctx;
  const termName = (id: number | undefined) => (id === undefined ? '' : (catalogue.term(id)?.name(locale) ?? `#${id}`));
  switch (p.code) {
    case 'torrent_invalid':
      return html`${t('upload.error.torrent_invalid', { detail: p.torrentError ? formatTorrentError(p.torrentError, locale) : '' })}`;
    case 'duplicate':
      return html`${t('upload.error.duplicate')} <a href="/t/${p.torrentId ?? 0}">${t('upload.error.duplicate_link', { id: p.torrentId ?? 0 })}</a>`;
    case 'blocked':
      return html`${t('lawful.upload.blocked', { hash: p.block?.infoHash ?? '', reason: p.block?.reason ?? '' })}`;
    case 'torrent_too_large':
    case 'nfo_too_large':
      return html`${t(`upload.error.${p.code}`, { max: formatSize(t, locale, p.params?.max ?? 0) })}`;
    case 'term_unknown':
      return html`${t('upload.error.term_unknown', { id: p.params?.termId ?? 0 })}`;
    case 'term_not_allowed':
    case 'term_deprecated':
      return html`${t(`upload.error.${p.code}`, { term: termName(p.params?.termId) })}`;
    case 'term_several':
      return html`${t('upload.error.term_several', { type: catalogue.termType(p.params?.typeId ?? 0)?.name(locale) ?? '' })}`;
    case 'title_too_long':
    case 'description_too_long':
      return html`${t(`upload.error.${p.code}`, { max: p.params?.max ?? 0 })}`;
    default:
      return html`${t(`upload.error.${p.code}`)}`;
  }
}

function emptyState(category: UploadFormState['category']): UploadFormState {
  return { category, termIds: new Set(), title: '', description: '', format: 'bbcode', anonymous: false, errors: {}, preview: null, resubmitted: false };
}

function sendStep1(reply: FastifyReply, ctx: RequestContext, catalogue: Catalogue, selected: number | null, error: string | null) {
  return sendPage(reply, ctx, { title: ctx.t('upload.title'), body: chooseCategoryBody(ctx, catalogue, selected, error) }, error ? 400 : 200);
}

export function routes(app: FastifyInstance, site: Site): void {
  app.get<{ Querystring: { category?: string; change?: string } }>('/upload', async (req, reply) => {
    requireUser(req, reply);
    const ctx = req.ctx;
    const catalogue = await loadCatalogue(site.db);
    if (req.query.category === undefined || req.query.category === '') {
      return sendStep1(reply, ctx, catalogue, positiveInt(req.query.change), null);
    }
    const id = positiveInt(req.query.category);
    const category = id === null ? undefined : catalogue.category(id);
    if (!category) return sendStep1(reply, ctx, catalogue, null, ctx.t('upload.error.category_unknown'));
    if (category.isParent) return sendStep1(reply, ctx, catalogue, null, ctx.t('upload.error.category_not_sub'));
    return sendPage(reply, ctx, { title: ctx.t('upload.title'), body: uploadFormBody(ctx, emptyState(category)) });
  });

  app.post('/upload', { config: { csrf: 'manual' } }, async (req, reply) => {
    const user = requireUser(req, reply);
    const ctx = req.ctx;
    if (!req.isMultipart()) throw new HttpError(400, 'upload.error.not_multipart');
    const form = await readMultipart(req, site);
    if (!checkCsrf(req, form.fields.get('_csrf')?.[0])) throw new HttpError(403, 'common.error.csrf');

    const field = (name: string) => form.fields.get(name)?.[0] ?? '';
    const catalogue = await loadCatalogue(site.db);
    const categoryId = positiveInt(field('category'));
    const category = categoryId === null ? undefined : catalogue.category(categoryId);
    if (!category || category.isParent) {
      const key = categoryId === null ? 'upload.error.category_required' : !category ? 'upload.error.category_unknown' : 'upload.error.category_not_sub';
      return sendStep1(reply, ctx, catalogue, null, ctx.t(key));
    }
    const termIds = (form.fields.get('term') ?? []).map(positiveInt).filter((x): x is number => x !== null);
    const state: UploadFormState = {
      category,
      termIds: new Set(termIds),
      title: field('title'),
      description: field('description'),
      format: field('format') || 'bbcode',
      anonymous: field('anonymous') === '1',
      errors: {},
      preview: null,
      resubmitted: true,
    };
    const previewOf = () => (isDescriptionFormat(state.format) && state.description.trim() !== '' ? renderDescription(state.description, state.format, { externalImages: site.config.web.external_images }) : null);

    if (field('action') === 'preview') {
      state.preview = previewOf();
      return sendPage(reply, ctx, { title: ctx.t('upload.title'), body: uploadFormBody(ctx, state) });
    }

    const torrent = form.files.get('torrent');
    const nfo = form.files.get('nfo');
    const result = await uploadTorrent(site, {
      uploader: user,
      categoryId: category.id,
      termIds,
      title: state.title,
      description: state.description,
      descriptionFormat: state.format,
      torrent: torrent?.data ?? null,
      torrentTruncated: torrent?.truncated ?? false,
      nfo: nfo?.data ?? null,
      nfoTruncated: nfo?.truncated ?? false,
      anonymous: state.anonymous,
    });
    if (result.ok) return reply.redirect(`/t/${result.torrentId}`, 303);

    const errors: Partial<Record<UploadField, Html[]>> = {};
    for (const p of result.problems) (errors[p.field] ??= []).push(problemMessage(ctx, catalogue, p));
    state.errors = errors;
    state.preview = previewOf();
    const status = result.problems.some((p) => p.code === 'duplicate' || p.code === 'blocked') ? 409 : 400;
    return sendPage(reply, ctx, { title: ctx.t('upload.title'), body: uploadFormBody(ctx, state) }, status);
  });

  app.post<{ Body: { text?: unknown; format?: unknown } }>('/upload/preview', async (req, reply) => {
    if (!req.ctx.user) throw new HttpError(403, 'common.error.login_required');
    const body = req.body ?? {};
    const text = typeof body.text === 'string' ? body.text : '';
    const format = isDescriptionFormat(body.format) ? body.format : 'bbcode';
    const fragment = text.trim() === '' ? '' : renderDescription(text, format, { externalImages: site.config.web.external_images });
    return reply.type('text/html; charset=utf-8').header('Cache-Control', 'no-store').send(fragment);
  });
}

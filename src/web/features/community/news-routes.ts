/**
 * News posts:
 *
 *   GET  /news                      every post for the reader's language (?page=)
 *   GET  /staff/news                the posts with edit and delete (news.manage)
 *   GET  /staff/news/new            the form (news.manage)
 *   POST /staff/news                creates a post (news.manage, audited)
 *   GET  /staff/news/<id>/edit      the form (news.manage)
 *   POST /staff/news/<id>/edit      saves it (news.manage, audited)
 *   POST /staff/news/<id>/delete    deletes it (news.manage, audited)
 *
 * `homeNews` renders the latest posts for the home page.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Locale } from '../../../db/schema.js';
import {
  countNews,
  createNews,
  deleteNews,
  getNews,
  latestNews,
  listAllNews,
  NEWS_BODY_MAX,
  NEWS_PER_PAGE,
  NEWS_TITLE_MAX,
  updateNews,
  type NewsDraft,
  type NewsError,
  type NewsField,
  type NewsRow,
} from '../../../site/community/news.js';
import type { Site } from '../../../site/site.js';
import { can } from '../../../site/staff/policy.js';
import { HttpError, setFlash, type RequestContext } from '../../context.js';
import { html, type Html } from '../../html.js';
import { csrfField, sendPage } from '../../layout.js';
import type { MessageKey } from '../../messages.js';
import { requirePermission } from '../../staff.js';
import { parseId } from '../torrent/links.js';
import { bodyOf, formErrors, markup, markupHint, memberLink, pageCount, pageParam, pagination, postButton, selectField, str, textArea, textField, timeEl } from './ui.js';

type IdParams = { Params: { id: string } };

const NEWS_ERRORS: Record<NewsError, MessageKey> = {
  title_empty: 'common.form.required',
  title_too_long: 'community.news.error.title_too_long',
  body_empty: 'common.form.required',
  body_too_long: 'community.news.error.body_too_long',
};

function newsItem(ctx: RequestContext, n: NewsRow, level: 2 | 3): Html {
  const heading = level === 2 ? html`<h2 id="news-${n.id}">${n.title}</h2>` : html`<h3 id="news-${n.id}">${n.title}</h3>`;
  return html`<article class="news-item" aria-labelledby="news-${n.id}">
${heading}
<p class="news-meta">${timeEl(ctx, n.created_at)} · ${memberLink(ctx, n.author_id, n.author_name)}</p>
${markup(ctx, n.body)}
</article>`;
}

/** The latest news for the home page (nothing when there is none). */
export async function homeNews(site: Site, ctx: RequestContext): Promise<Html> {
  const rows = await latestNews(site.db, ctx.locale);
  if (rows.length === 0) return html``;
  return html`<section class="news" aria-labelledby="home-news">
<h2 id="home-news">${ctx.t('community.news.title')}</h2>
${rows.map((n) => newsItem(ctx, n, 3))}
<p><a href="/news">${ctx.t('community.news.all')}</a></p>
</section>`;
}

function localeParam(v: string): Locale | null {
  return v === 'en' || v === 'fr' ? v : null;
}

function newsForm(reply: FastifyReply, ctx: RequestContext, o: { action: string; heading: string; draft: NewsDraft; errors: Partial<Record<NewsField, NewsError>> }, status = 200): FastifyReply {
  const { t } = ctx;
  const err = (f: NewsField) => (o.errors[f] ? NEWS_ERRORS[o.errors[f]] : null);
  const loc = o.draft.locale ?? '';
  return sendPage(
    reply,
    ctx,
    {
      title: o.heading,
      body: html`<h1>${o.heading}</h1>
<p><a href="/staff/news">${t('community.news.back')}</a></p>
${formErrors(ctx, Object.keys(o.errors).length > 0)}
<form method="post" action="${o.action}" class="form">
${csrfField(ctx)}
${textField(ctx, { id: 'news-title', name: 'title', label: t('community.news.title_label'), value: o.draft.title, maxlength: NEWS_TITLE_MAX, required: true, error: err('title') })}
${selectField(ctx, {
  id: 'news-locale',
  name: 'locale',
  label: t('community.news.locale'),
  options: [
    { value: '', label: t('community.news.locale.both'), selected: loc === '' },
    { value: 'en', label: t('common.lang.en'), selected: loc === 'en' },
    { value: 'fr', label: t('common.lang.fr'), selected: loc === 'fr' },
  ],
})}
${textArea(ctx, { id: 'news-body', name: 'body', label: t('community.news.body'), value: o.draft.body, maxlength: NEWS_BODY_MAX, rows: 14, required: true, hint: markupHint(ctx), error: err('body') })}
<p><button type="submit">${t('common.save')}</button></p>
</form>`,
    },
    status,
  );
}

export function newsRoutes(app: FastifyInstance, site: Site): void {
  app.get<{ Querystring: { page?: string } }>('/news', async (req, reply) => {
    const ctx = req.ctx;
    const page = pageParam(req.query.page);
    const [rows, total, manage] = await Promise.all([
      latestNews(site.db, ctx.locale, NEWS_PER_PAGE, (page - 1) * NEWS_PER_PAGE),
      countNews(site.db, ctx.locale),
      ctx.user ? can(site.db, ctx.user, 'news.manage') : Promise.resolve(false),
    ]);
    return sendPage(reply, ctx, {
      title: ctx.t('community.news.title'),
      body: html`<h1>${ctx.t('community.news.title')}</h1>
${manage ? html`<p><a href="/staff/news">${ctx.t('community.news.manage')}</a></p>` : ''}
${rows.length === 0 ? html`<p class="empty">${ctx.t('community.news.empty')}</p>` : rows.map((n) => newsItem(ctx, n, 2))}
${pagination(ctx, (p) => `/news?page=${p}`, page, pageCount(total, NEWS_PER_PAGE))}`,
    });
  });

  app.get<{ Querystring: { page?: string } }>('/staff/news', async (req, reply) => {
    await requirePermission(req, 'news.manage');
    const ctx = req.ctx;
    const { t } = ctx;
    const page = pageParam(req.query.page);
    const [rows, total] = await Promise.all([listAllNews(site.db, page), countNews(site.db, null)]);
    return sendPage(reply, ctx, {
      title: t('community.news.manage'),
      body: html`<h1>${t('community.news.manage')}</h1>
<p><a class="button" href="/staff/news/new">${t('community.news.new')}</a></p>
${rows.length === 0
  ? html`<p class="empty">${t('community.news.empty')}</p>`
  : html`<div class="table-wrap"><table class="news-admin">
<caption class="visually-hidden">${t('community.news.manage')}</caption>
<thead><tr><th scope="col">${t('community.news.title_label')}</th><th scope="col">${t('community.news.locale')}</th><th scope="col">${t('community.date')}</th><th scope="col">${t('community.actions')}</th></tr></thead>
<tbody>${rows.map((n) => html`<tr>
<th scope="row">${n.title}</th>
<td>${n.locale === null ? t('community.news.locale.both') : t(`common.lang.${n.locale}`)}</td>
<td>${timeEl(ctx, n.created_at)}</td>
<td><a href="/staff/news/${n.id}/edit">${t('common.edit')}<span class="visually-hidden"> ${n.title}</span></a>
${postButton(ctx, `/staff/news/${n.id}/delete`, html`${t('common.delete')}<span class="visually-hidden"> ${n.title}</span>`, { cls: 'link' })}</td>
</tr>`)}</tbody>
</table></div>`}
${pagination(ctx, (p) => `/staff/news?page=${p}`, page, pageCount(total, NEWS_PER_PAGE))}`,
    });
  });

  app.get('/staff/news/new', async (req, reply) => {
    await requirePermission(req, 'news.manage');
    return newsForm(reply, req.ctx, { action: '/staff/news', heading: req.ctx.t('community.news.new'), draft: { title: '', body: '', locale: null }, errors: {} });
  });

  app.post('/staff/news', async (req, reply) => {
    const user = await requirePermission(req, 'news.manage');
    const b = bodyOf(req);
    const r = await createNews(site.db, { actor: user, title: str(b, 'title', 1000), body: str(b, 'body'), locale: localeParam(str(b, 'locale', 5)), now: site.now() });
    if (!r.ok) return newsForm(reply, req.ctx, { action: '/staff/news', heading: req.ctx.t('community.news.new'), draft: r.draft, errors: r.errors }, 400);
    setFlash(reply, 'community.news.created');
    return reply.redirect('/staff/news', 303);
  });

  app.get<IdParams>('/staff/news/:id/edit', async (req, reply) => {
    await requirePermission(req, 'news.manage');
    const id = parseId(req.params.id);
    const n = id === null ? undefined : await getNews(site.db, id);
    if (!n) throw new HttpError(404, 'community.news.not_found');
    return newsForm(reply, req.ctx, { action: `/staff/news/${n.id}/edit`, heading: req.ctx.t('community.news.edit'), draft: { title: n.title, body: n.body, locale: n.locale }, errors: {} });
  });

  app.post<IdParams>('/staff/news/:id/edit', async (req, reply) => {
    const user = await requirePermission(req, 'news.manage');
    const id = parseId(req.params.id);
    if (id === null) throw new HttpError(404, 'community.news.not_found');
    const b = bodyOf(req);
    const r = await updateNews(site.db, { id, actor: user, title: str(b, 'title', 1000), body: str(b, 'body'), locale: localeParam(str(b, 'locale', 5)), now: site.now() });
    if (!r.ok) {
      if ('gone' in r) throw new HttpError(404, 'community.news.not_found');
      return newsForm(reply, req.ctx, { action: `/staff/news/${id}/edit`, heading: req.ctx.t('community.news.edit'), draft: r.draft, errors: r.errors }, 400);
    }
    setFlash(reply, 'community.news.saved');
    return reply.redirect('/staff/news', 303);
  });

  app.post<IdParams>('/staff/news/:id/delete', async (req, reply) => {
    const user = await requirePermission(req, 'news.manage');
    const id = parseId(req.params.id);
    if (id === null || !(await deleteNews(site.db, { id, actor: user, now: site.now() }))) throw new HttpError(404, 'community.news.not_found');
    setFlash(reply, 'community.news.deleted');
    return reply.redirect('/staff/news', 303);
  });
}

/**
 * The requests board:
 *
 *   GET  /requests                 the board (?status=open|filled|confirmed|closed|all, ?page=)
 *   GET  /requests/new             the form asking for something
 *   POST /requests                 creates the request
 *   GET  /requests/<id>            a request: description, bounty and its givers, fill state
 *   POST /requests/<id>/bounty     adds upload credit (amount and unit) to the bounty
 *   POST /requests/<id>/fill       fills it with a torrent (its /t/<id> link or id)
 *   POST /requests/<id>/confirm    the requester accepts the fill: the bounty moves to the filler
 *   POST /requests/<id>/reject     the requester refuses the fill: open again
 *   POST /requests/<id>/close      the requester, or staff with request.moderate, closes it
 *
 * Members only. Credit moves are transactions in src/site/community/requests.ts.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { RequestStatus, User } from '../../../db/schema.js';
import { loadCatalogue } from '../../../site/catalogue/catalogue.js';
import {
  addBounty,
  closeRequest,
  confirmFill,
  createRequest,
  fillRequest,
  getRequest,
  isRequestStatus,
  listBounties,
  listRequests,
  parseTorrentRef,
  rejectFill,
  REQUEST_DESCRIPTION_MAX,
  REQUEST_STATUSES,
  REQUEST_TITLE_MAX,
  REQUESTS_PER_PAGE,
  type RequestFormError,
  type RequestView,
} from '../../../site/community/requests.js';
import type { Site } from '../../../site/site.js';
import { can } from '../../../site/staff/policy.js';
import { HttpError, requireUser, setFlash, type RequestContext } from '../../context.js';
import { formatSize } from '../../format.js';
import { attr, html, type Html } from '../../html.js';
import { csrfField, sendPage } from '../../layout.js';
import type { MessageKey } from '../../messages.js';
import { parseId, torrentPath } from '../torrent/links.js';
import {
  AMOUNT_UNITS,
  bodyOf,
  formErrors,
  markup,
  markupHint,
  memberLink,
  pageCount,
  pageParam,
  pagination,
  parseAmount,
  selectField,
  str,
  textArea,
  textField,
  timeEl,
  type Option,
} from './ui.js';

type IdParams = { Params: { id: string } };

const FORM_ERRORS: Record<RequestFormError, [field: 'title' | 'description' | 'category', key: MessageKey]> = {
  title_empty: ['title', 'common.form.required'],
  title_too_long: ['title', 'community.requests.error.title_too_long'],
  description_too_long: ['description', 'community.requests.error.description_too_long'],
  category_unknown: ['category', 'community.requests.error.category_unknown'],
};

function statusLabel(ctx: RequestContext, s: RequestStatus): string {
  return ctx.t(`community.requests.status.${s}`);
}

function categoryName(ctx: RequestContext, r: RequestView): string {
  const n = ctx.locale === 'fr' ? r.category_name_fr : r.category_name_en;
  return n ?? ctx.t('community.requests.no_category');
}

function requestsNav(ctx: RequestContext, current: RequestStatus | 'all'): Html {
  const tabs: Array<RequestStatus | 'all'> = [...REQUEST_STATUSES, 'all'];
  return html`<nav class="tabs" aria-label="${ctx.t('community.requests.filter')}"><ul>
${tabs.map((s) => html`<li><a href="/requests?status=${s}"${current === s ? html` aria-current="page"` : ''}>${s === 'all' ? ctx.t('community.requests.status.all') : statusLabel(ctx, s)}</a></li>`)}
</ul></nav>`;
}

// --- the form --------------------------------------------------------------------------------

interface RequestForm {
  title: string;
  description: string;
  category: string;
  errors: Partial<Record<'title' | 'description' | 'category', MessageKey>>;
}

async function categoryOptions(site: Site, ctx: RequestContext, selected: string): Promise<Array<Option | { group: string; options: Option[] }>> {
  const cat = await loadCatalogue(site.db);
  return [
    { value: '', label: ctx.t('community.requests.any_category'), selected: selected === '' },
    ...cat.parents.map((p) => ({
      group: p.name(ctx.locale),
      options: p.children.map((c) => ({ value: String(c.id), label: c.name(ctx.locale), selected: selected === String(c.id) })),
    })),
  ];
}

async function newRequestPage(site: Site, reply: FastifyReply, ctx: RequestContext, f: RequestForm, status = 200): Promise<FastifyReply> {
  const { t } = ctx;
  const any = Object.keys(f.errors).length > 0;
  return sendPage(
    reply,
    ctx,
    {
      title: t('community.requests.new'),
      body: html`<h1>${t('community.requests.new')}</h1>
<p>${t('community.requests.new_intro')}</p>
${formErrors(ctx, any)}
<form method="post" action="/requests" class="form">
${csrfField(ctx)}
${textField(ctx, { id: 'req-title', name: 'title', label: t('community.requests.title_label'), value: f.title, maxlength: REQUEST_TITLE_MAX, required: true, error: f.errors.title })}
${selectField(ctx, { id: 'req-category', name: 'category', label: t('community.requests.category'), options: await categoryOptions(site, ctx, f.category), error: f.errors.category })}
${textArea(ctx, { id: 'req-description', name: 'description', label: t('community.requests.description'), value: f.description, maxlength: REQUEST_DESCRIPTION_MAX, rows: 8, hint: markupHint(ctx), error: f.errors.description })}
<p><button type="submit">${t('community.requests.create')}</button></p>
</form>`,
    },
    status,
  );
}

// --- one request -----------------------------------------------------------------------------

interface RequestPageForms {
  bounty?: { amount: string; unit: string; error: MessageKey | null };
  fill?: { value: string; error: MessageKey | null };
  general?: MessageKey | null;
}

function amountFields(ctx: RequestContext, f: RequestPageForms['bounty']): Html {
  const { t } = ctx;
  const unit = f?.unit ?? 'GiB';
  const err = f?.error ?? null;
  return html`<div class="field amount-field">
<label for="bounty-amount">${t('community.requests.bounty.amount')}</label>
<input id="bounty-amount" name="amount" inputmode="decimal" value="${f?.amount ?? ''}" required${err ? html` aria-invalid="true" aria-describedby="bounty-amount-error"` : ''}>
<label for="bounty-unit" class="visually-hidden">${t('community.requests.bounty.unit')}</label>
<select id="bounty-unit" name="unit">${Object.keys(AMOUNT_UNITS).map((u) => html`<option value="${u}"${attr('selected', u === unit)}>${t(`common.size.${u as keyof typeof AMOUNT_UNITS}`, { n: '' }).trim()}</option>`)}</select>
${err ? html`<p class="field-error" id="bounty-amount-error">${t(err)}</p>` : ''}
</div>`;
}

async function requestPage(site: Site, reply: FastifyReply, ctx: RequestContext, user: User, r: RequestView, forms: RequestPageForms = {}, status = 200): Promise<FastifyReply> {
  const { t, locale } = ctx;
  const bounties = await listBounties(site.db, r.id);
  const isRequester = r.requester_id === user.id;
  const staffClose = !isRequester && (r.status === 'open' || r.status === 'filled') && (await can(site.db, user, 'request.moderate'));
  const sections: Html[] = [];

  if (r.status === 'open') {
    sections.push(html`<section aria-labelledby="h-bounty-add" class="panel">
<h2 id="h-bounty-add">${t('community.requests.bounty.add')}</h2>
<p class="hint">${t('community.requests.bounty.hint', { uploaded: formatSize(t, locale, user.uploaded) })}</p>
<form method="post" action="/requests/${r.id}/bounty" class="form">
${csrfField(ctx)}
${amountFields(ctx, forms.bounty)}
<p><button type="submit">${t('community.requests.bounty.submit')}</button></p>
</form>
</section>`);
    if (!isRequester) {
      const err = forms.fill?.error ?? null;
      sections.push(html`<section aria-labelledby="h-fill" class="panel">
<h2 id="h-fill">${t('community.requests.fill.heading')}</h2>
<form method="post" action="/requests/${r.id}/fill" class="form">
${csrfField(ctx)}
${textField(ctx, { id: 'fill-torrent', name: 'torrent', label: t('community.requests.fill.torrent'), value: forms.fill?.value ?? '', maxlength: 500, required: true, hint: t('community.requests.fill.hint'), error: err })}
<p><button type="submit">${t('community.requests.fill.submit')}</button></p>
</form>
</section>`);
    }
  }
  if (r.status === 'filled' && isRequester) {
    sections.push(html`<section aria-labelledby="h-confirm" class="panel">
<h2 id="h-confirm">${t('community.requests.confirm.heading')}</h2>
<p>${t('community.requests.confirm.text', { bounty: formatSize(t, locale, r.bounty) })}</p>
<form method="post" action="/requests/${r.id}/confirm" class="inline">${csrfField(ctx)}<button type="submit">${t('community.requests.confirm.submit')}</button></form>
<form method="post" action="/requests/${r.id}/reject" class="inline">${csrfField(ctx)}<button type="submit" class="secondary">${t('community.requests.reject.submit')}</button></form>
</section>`);
  }
  if ((isRequester && (r.status === 'open' || r.status === 'filled')) || staffClose) {
    sections.push(html`<section aria-labelledby="h-close" class="panel">
<h2 id="h-close">${t('community.requests.close.heading')}</h2>
<p>${t('community.requests.close.text')}</p>
<form method="post" action="/requests/${r.id}/close" class="form">
${csrfField(ctx)}
${staffClose ? textField(ctx, { id: 'close-reason', name: 'reason', label: t('community.staff_reason'), value: '', maxlength: 500, hint: t('community.staff_reason_hint') }) : ''}
<p><button type="submit" class="danger">${t('community.requests.close.submit')}</button></p>
</form>
</section>`);
  }

  const filled =
    r.torrent_id !== null
      ? html`<dt>${t('community.requests.filled_with')}</dt><dd>${r.torrent_name !== null && r.torrent_status === 'active'
          ? html`<a href="${torrentPath({ id: r.torrent_id, slug: r.torrent_slug, name: r.torrent_name })}">${r.torrent_name}</a>`
          : t('community.requests.torrent_gone')} ${t('community.requests.by')} ${memberLink(ctx, r.filler_id, r.filler_name)}${r.filled_at !== null ? html`, ${timeEl(ctx, r.filled_at)}` : ''}</dd>`
      : '';

  return sendPage(
    reply,
    ctx,
    {
      title: r.title,
      body: html`<article class="request-page">
<p><a href="/requests">${t('community.requests.back')}</a></p>
<h1>${r.title}</h1>
${formErrors(ctx, false, forms.general)}
<dl class="facts">
<dt>${t('community.requests.status')}</dt><dd><span class="badge status-${r.status}">${statusLabel(ctx, r.status)}</span></dd>
<dt>${t('community.requests.category')}</dt><dd>${categoryName(ctx, r)}</dd>
<dt>${t('community.requests.requester')}</dt><dd>${memberLink(ctx, r.requester_id, r.requester_name)}</dd>
<dt>${t('community.requests.created_label')}</dt><dd>${timeEl(ctx, r.created_at)}</dd>
<dt>${t('community.requests.bounty')}</dt><dd class="bounty">${formatSize(t, locale, r.bounty)}</dd>
${filled}
${r.confirmed_at !== null ? html`<dt>${t('community.requests.confirmed_at')}</dt><dd>${timeEl(ctx, r.confirmed_at)}</dd>` : ''}
</dl>
<section aria-labelledby="h-req-description">
<h2 id="h-req-description">${t('community.requests.description')}</h2>
${r.description ? markup(ctx, r.description) : html`<p class="empty">${t('community.requests.no_description')}</p>`}
</section>
<section aria-labelledby="h-bounties">
<h2 id="h-bounties">${t('community.requests.bounties')}</h2>
${bounties.length === 0
  ? html`<p class="empty">${t('community.requests.no_bounties')}</p>`
  : html`<table class="bounties"><caption class="visually-hidden">${t('community.requests.bounties')}</caption>
<thead><tr><th scope="col">${t('community.requests.giver')}</th><th scope="col" class="num">${t('community.requests.bounty.amount')}</th><th scope="col">${t('community.date')}</th></tr></thead>
<tbody>${bounties.map((b) => html`<tr><td>${memberLink(ctx, b.user_id, b.username)}</td><td class="num">${formatSize(t, locale, b.amount)}</td><td>${timeEl(ctx, b.created_at)}</td></tr>`)}</tbody>
</table>`}
</section>
${sections}
</article>`,
    },
    status,
  );
}

async function requestOr404(site: Site, idParam: string): Promise<RequestView> {
  const id = parseId(idParam);
  const r = id === null ? undefined : await getRequest(site.db, id);
  if (!r) throw new HttpError(404, 'community.requests.not_found');
  return r;
}

const BOUNTY_ERRORS: Record<'invalid_amount' | 'insufficient' | 'not_open', MessageKey> = {
  invalid_amount: 'community.requests.error.amount',
  insufficient: 'community.requests.error.insufficient',
  not_open: 'community.requests.error.not_open',
};

const FILL_ERRORS: Record<'not_open' | 'own_request' | 'torrent_not_found', MessageKey> = {
  not_open: 'community.requests.error.not_open',
  own_request: 'community.requests.error.own_request',
  torrent_not_found: 'community.requests.error.torrent',
};

export function requestRoutes(app: FastifyInstance, site: Site): void {
  app.get<{ Querystring: { status?: string; page?: string } }>('/requests', async (req, reply) => {
    requireUser(req);
    const ctx = req.ctx;
    const { t, locale } = ctx;
    const q = req.query;
    const filter: RequestStatus | 'all' = q.status === 'all' ? 'all' : isRequestStatus(q.status) ? q.status : 'open';
    const page = pageParam(q.page);
    const { rows, total } = await listRequests(site.db, { status: filter === 'all' ? null : filter, page });
    const pages = pageCount(total, REQUESTS_PER_PAGE);
    return sendPage(reply, ctx, {
      title: t('community.requests.title'),
      body: html`<h1>${t('community.requests.title')}</h1>
<p>${t('community.requests.intro')} <a class="button" href="/requests/new">${t('community.requests.new')}</a></p>
${requestsNav(ctx, filter)}
${rows.length === 0
  ? html`<p class="empty">${t('community.requests.empty')}</p>`
  : html`<div class="table-wrap"><table class="requests">
<caption class="visually-hidden">${t('community.requests.title')}</caption>
<thead><tr><th scope="col">${t('community.requests.title_label')}</th><th scope="col">${t('community.requests.category')}</th><th scope="col">${t('community.requests.requester')}</th><th scope="col" class="num">${t('community.requests.bounty')}</th><th scope="col">${t('community.requests.status')}</th><th scope="col">${t('community.date')}</th></tr></thead>
<tbody>${rows.map((r) => html`<tr>
<th scope="row"><a href="/requests/${r.id}">${r.title}</a></th>
<td>${categoryName(ctx, r)}</td>
<td>${memberLink(ctx, r.requester_id, r.requester_name)}</td>
<td class="num">${formatSize(t, locale, r.bounty)}</td>
<td>${statusLabel(ctx, r.status)}</td>
<td>${timeEl(ctx, r.created_at)}</td>
</tr>`)}</tbody>
</table></div>`}
${pagination(ctx, (p) => `/requests?status=${filter}&page=${p}`, page, pages)}`,
    });
  });

  app.get('/requests/new', async (req, reply) => {
    requireUser(req);
    return newRequestPage(site, reply, req.ctx, { title: '', description: '', category: '', errors: {} });
  });

  app.post('/requests', async (req, reply) => {
    const user = requireUser(req);
    const b = bodyOf(req);
    const f: RequestForm = { title: str(b, 'title', 1000), description: str(b, 'description', 100_000), category: str(b, 'category', 20), errors: {} };
    const categoryId = f.category === '' ? null : parseId(f.category);
    if (f.category !== '' && categoryId === null) f.errors.category = 'community.requests.error.category_unknown';
    const r = f.errors.category ? null : await createRequest(site.db, { userId: user.id, title: f.title, description: f.description, categoryId, now: site.now() });
    if (!r || !r.ok) {
      for (const e of r?.errors ?? []) {
        const [field, key] = FORM_ERRORS[e];
        f.errors[field] ??= key;
      }
      return newRequestPage(site, reply, req.ctx, f, 400);
    }
    setFlash(reply, 'community.requests.created');
    return reply.redirect(`/requests/${r.id}`, 303);
  });

  app.get<IdParams>('/requests/:id', async (req, reply) => {
    const user = requireUser(req);
    return requestPage(site, reply, req.ctx, user, await requestOr404(site, req.params.id));
  });

  app.post<IdParams>('/requests/:id/bounty', async (req, reply) => {
    const user = requireUser(req);
    const r = await requestOr404(site, req.params.id);
    const b = bodyOf(req);
    const form = { amount: str(b, 'amount', 50), unit: str(b, 'unit', 10) };
    const amount = parseAmount(form.amount, form.unit);
    const res = amount === null ? ({ ok: false, error: 'invalid_amount' } as const) : await addBounty(site.db, { requestId: r.id, userId: user.id, amount, now: site.now() });
    if (!res.ok) {
      // The header's and the hint's figures come from the member as read before the attempt.
      return requestPage(site, reply, req.ctx, user, r, { bounty: { ...form, error: BOUNTY_ERRORS[res.error] } }, res.error === 'not_open' ? 409 : 400);
    }
    await site.tracker.userChanged(user.id);
    setFlash(reply, 'community.requests.bounty.added');
    return reply.redirect(`/requests/${r.id}`, 303);
  });

  app.post<IdParams>('/requests/:id/fill', async (req, reply) => {
    const user = requireUser(req);
    const r = await requestOr404(site, req.params.id);
    const value = str(bodyOf(req), 'torrent', 500);
    const torrentId = parseTorrentRef(value);
    const res = torrentId === null ? ({ ok: false, error: 'torrent_not_found' } as const) : await fillRequest(site.db, { requestId: r.id, userId: user.id, torrentId, now: site.now() });
    if (!res.ok) return requestPage(site, reply, req.ctx, user, r, { fill: { value, error: FILL_ERRORS[res.error] } }, res.error === 'not_open' ? 409 : 400);
    setFlash(reply, 'community.requests.fill.done');
    return reply.redirect(`/requests/${r.id}`, 303);
  });

  app.post<IdParams>('/requests/:id/confirm', async (req, reply) => {
    const user = requireUser(req);
    const r = await requestOr404(site, req.params.id);
    const res = await confirmFill(site.db, { requestId: r.id, userId: user.id, now: site.now() });
    if (!res.ok) {
      if (res.error === 'not_requester') throw new HttpError(403, 'common.error.forbidden');
      const key: MessageKey = res.error === 'torrent_gone' ? 'community.requests.error.torrent_gone' : 'community.requests.error.not_filled';
      return requestPage(site, reply, req.ctx, user, r, { general: key }, 409);
    }
    if (res.fillerId !== null) await site.tracker.userChanged(res.fillerId);
    setFlash(reply, 'community.requests.confirm.done');
    return reply.redirect(`/requests/${r.id}`, 303);
  });

  app.post<IdParams>('/requests/:id/reject', async (req, reply) => {
    const user = requireUser(req);
    const r = await requestOr404(site, req.params.id);
    const res = await rejectFill(site.db, { requestId: r.id, userId: user.id, now: site.now() });
    if (!res.ok) {
      if (res.error === 'not_requester') throw new HttpError(403, 'common.error.forbidden');
      return requestPage(site, reply, req.ctx, user, r, { general: 'community.requests.error.not_filled' }, 409);
    }
    setFlash(reply, 'community.requests.reject.done');
    return reply.redirect(`/requests/${r.id}`, 303);
  });

  app.post<IdParams>('/requests/:id/close', async (req, reply) => {
    const user = requireUser(req);
    const r = await requestOr404(site, req.params.id);
    const own = r.requester_id === user.id;
    if (!own && !(await can(site.db, user, 'request.moderate'))) throw new HttpError(403, 'common.error.forbidden');
    const reason = str(bodyOf(req), 'reason', 500).trim();
    const res = await closeRequest(site.db, { requestId: r.id, actor: user, as: own ? 'own' : 'staff', reason: reason || null, now: site.now() });
    if (!res.ok) return requestPage(site, reply, req.ctx, user, r, { general: 'community.requests.error.not_closable' }, 409);
    const givers = await listBounties(site.db, r.id);
    for (const id of new Set(givers.map((g) => g.user_id).filter((x): x is number => x !== null))) await site.tracker.userChanged(id);
    setFlash(reply, 'community.requests.close.done');
    return reply.redirect(`/requests/${r.id}`, 303);
  });
}

/**
 * Writing to the staff:
 *
 *   GET  /contact                    the form (members, and visitors with an email address)
 *   POST /contact                    records the message (rate-limited per member or address)
 *   GET  /staff/contact              the messages (contact.read), ?status=open|answered|closed|all
 *   POST /staff/contact/<id>/status  marks one answered, closed or open again (contact.read, audited)
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import {
  CONTACT_BODY_MAX,
  CONTACT_LIMIT,
  CONTACT_PER_PAGE,
  CONTACT_STATUSES,
  CONTACT_SUBJECT_MAX,
  CONTACT_WINDOW,
  createContactMessage,
  isContactState,
  listContactMessages,
  setContactStatus,
  type ContactDraft,
  type ContactError,
  type ContactField,
  type ContactState,
} from '../../../site/community/contact.js';
import type { Site } from '../../../site/site.js';
import { HttpError, setFlash, type RequestContext } from '../../context.js';
import { attr, html } from '../../html.js';
import { csrfField, sendPage } from '../../layout.js';
import type { MessageKey } from '../../messages.js';
import { requirePermission } from '../../staff.js';
import { parseId } from '../torrent/links.js';
import { bodyOf, formErrors, memberLink, pageCount, pageParam, pagination, str, textArea, textField, timeEl } from './ui.js';

const CONTACT_ERRORS: Record<ContactError, MessageKey> = {
  email_invalid: 'community.contact.error.email',
  subject_empty: 'common.form.required',
  subject_too_long: 'community.contact.error.subject_too_long',
  body_empty: 'common.form.required',
  body_too_long: 'community.contact.error.body_too_long',
};

function contactPage(reply: FastifyReply, ctx: RequestContext, d: ContactDraft, errors: Partial<Record<ContactField, ContactError>>, general: MessageKey | null, status = 200): FastifyReply {
  const { t } = ctx;
  const err = (f: ContactField) => (errors[f] ? CONTACT_ERRORS[errors[f]] : null);
  return sendPage(
    reply,
    ctx,
    {
      title: t('community.contact.title'),
      body: html`<h1>${t('community.contact.title')}</h1>
<p>${t('community.contact.intro')}</p>
${formErrors(ctx, Object.keys(errors).length > 0, general)}
<form method="post" action="/contact" class="form">
${csrfField(ctx)}
${ctx.user
  ? html`<p>${t('community.contact.as_member', { name: ctx.user.username })}</p>`
  : textField(ctx, { id: 'contact-email', name: 'email', type: 'email', label: t('community.contact.email'), value: d.email, maxlength: 254, required: true, autocomplete: 'email', hint: t('community.contact.email_hint'), error: err('email') })}
${textField(ctx, { id: 'contact-subject', name: 'subject', label: t('community.contact.subject'), value: d.subject, maxlength: CONTACT_SUBJECT_MAX, required: true, error: err('subject') })}
${textArea(ctx, { id: 'contact-body', name: 'body', label: t('community.contact.body'), value: d.body, maxlength: CONTACT_BODY_MAX, rows: 10, required: true, error: err('body') })}
<p><button type="submit">${t('community.contact.send')}</button></p>
</form>`,
    },
    status,
  );
}

export function contactRoutes(app: FastifyInstance, site: Site): void {
  app.get('/contact', async (req, reply) => contactPage(reply, req.ctx, { email: '', subject: '', body: '' }, {}, null));

  app.post('/contact', async (req, reply) => {
    const ctx = req.ctx;
    const b = bodyOf(req);
    const input = { email: ctx.user ? '' : str(b, 'email', 300), subject: str(b, 'subject', 1000), body: str(b, 'body', 50_000) };
    const now = site.now();
    const key = ctx.user ? `contact:user:${ctx.user.id}` : `contact:ip:${req.ip}`;
    if (site.limiter.blocked(key, CONTACT_LIMIT, now)) return contactPage(reply, ctx, input, {}, 'community.rate_limited', 429);
    const r = await createContactMessage(site.db, { userId: ctx.user?.id ?? null, ...input, now });
    if (!r.ok) return contactPage(reply, ctx, r.draft, r.errors, null, 400);
    site.limiter.hit(key, CONTACT_LIMIT, CONTACT_WINDOW, now);
    setFlash(reply, 'community.contact.sent');
    return reply.redirect(ctx.user ? '/staff-team' : '/', 303);
  });

  app.get<{ Querystring: { status?: string; page?: string } }>('/staff/contact', async (req, reply) => {
    await requirePermission(req, 'contact.read');
    const ctx = req.ctx;
    const { t } = ctx;
    const filter: ContactState | 'all' = req.query.status === 'all' ? 'all' : isContactState(req.query.status) ? req.query.status : 'open';
    const page = pageParam(req.query.page);
    const { rows, total } = await listContactMessages(site.db, { status: filter === 'all' ? null : filter, page });
    const tabs: Array<ContactState | 'all'> = [...CONTACT_STATUSES, 'all'];
    return sendPage(reply, ctx, {
      title: t('community.staff_contact.title'),
      body: html`<h1>${t('community.staff_contact.title')}</h1>
<nav class="tabs" aria-label="${t('community.staff_contact.filter')}"><ul>
${tabs.map((s) => html`<li><a href="/staff/contact?status=${s}"${filter === s ? html` aria-current="page"` : ''}>${t(`community.contact.status.${s}`)}</a></li>`)}
</ul></nav>
${rows.length === 0
  ? html`<p class="empty">${t('community.staff_contact.empty')}</p>`
  : html`<ol class="contact-list">${rows.map(
      (m) => html`<li class="panel contact-message">
<article aria-labelledby="contact-${m.id}">
<h2 id="contact-${m.id}">${m.subject}</h2>
<dl class="facts">
<dt>${t('community.contact.from')}</dt><dd>${m.user_id !== null ? memberLink(ctx, m.user_id, m.username) : t('community.contact.visitor')}${m.email ? html` &lt;<a href="mailto:${m.email}">${m.email}</a>&gt;` : ''}</dd>
<dt>${t('community.date')}</dt><dd>${timeEl(ctx, m.created_at)}</dd>
<dt>${t('community.contact.state')}</dt><dd>${t(`community.contact.status.${m.status}`)}</dd>
</dl>
<div class="plain-text">${m.body}</div>
<form method="post" action="/staff/contact/${m.id}/status" class="form-inline">
${csrfField(ctx)}
<label for="contact-status-${m.id}">${t('community.contact.state')}</label>
<select id="contact-status-${m.id}" name="status">${CONTACT_STATUSES.map((s) => html`<option value="${s}"${attr('selected', s === m.status)}>${t(`community.contact.status.${s}`)}</option>`)}</select>
<button type="submit">${t('common.save')}</button>
</form>
</article>
</li>`,
    )}</ol>`}
${pagination(ctx, (p) => `/staff/contact?status=${filter}&page=${p}`, page, pageCount(total, CONTACT_PER_PAGE))}`,
    });
  });

  app.post<{ Params: { id: string } }>('/staff/contact/:id/status', async (req, reply) => {
    const user = await requirePermission(req, 'contact.read');
    const id = parseId(req.params.id);
    const status = str(bodyOf(req), 'status', 20);
    if (!isContactState(status)) throw new HttpError(400, 'common.error.bad_request');
    if (id === null || !(await setContactStatus(site.db, { id, status, actor: user, now: site.now() }))) throw new HttpError(404, 'community.contact.not_found');
    setFlash(reply, 'community.staff_contact.saved');
    return reply.redirect('/staff/contact', 303);
  });
}

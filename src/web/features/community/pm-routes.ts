/**
 * Private messages:
 *
 *   GET  /messages                 inbox (?page=)
 *   GET  /messages/archive         archived messages
 *   GET  /messages/sent            sent messages
 *   GET  /messages/new             compose (?to=<username>, or ?reply=<id> to answer with a quote)
 *   POST /messages                 sends (rate-limited per member)
 *   GET  /messages/<id>            reads a message (marks it read)
 *   POST /messages/<id>/archive    archive=1 moves it to the archive, archive=0 back to the inbox
 *   POST /messages/<id>/delete     deletes it from the viewer's side
 *   POST /messages/read-all        marks every received message read
 *
 * Members only; a member sees only the messages they sent or received.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import {
  deleteMessageFor,
  getMessageFor,
  listBox,
  markAllRead,
  markRead,
  MESSAGE_BODY_MAX,
  MESSAGES_PER_PAGE,
  quoteForReply,
  replySubject,
  SEND_LIMIT,
  SEND_WINDOW,
  sendMessage,
  setArchived,
  SUBJECT_MAX,
  type Box,
  type Draft,
  type SendError,
  type SendField,
} from '../../../site/community/private-messages.js';
import type { Site } from '../../../site/site.js';
import { HttpError, requireUser, setFlash, type RequestContext } from '../../context.js';
import { html, type Html } from '../../html.js';
import { csrfField, sendPage } from '../../layout.js';
import type { MessageKey } from '../../messages.js';
import { parseId } from '../torrent/links.js';
import { bodyOf, formErrors, markup, markupHint, memberLink, pageCount, pageParam, pagination, postButton, str, textArea, textField, timeEl } from './ui.js';

type IdParams = { Params: { id: string } };

const SEND_ERRORS: Record<SendError, MessageKey> = {
  recipient_unknown: 'community.pm.error.recipient_unknown',
  recipient_self: 'community.pm.error.recipient_self',
  subject_empty: 'common.form.required',
  subject_too_long: 'community.pm.error.subject_too_long',
  body_empty: 'common.form.required',
  body_too_long: 'community.pm.error.body_too_long',
};

const BOX_PATH: Record<Box, string> = { inbox: '/messages', archive: '/messages/archive', sent: '/messages/sent' };

function pmNav(ctx: RequestContext, current: Box | 'new'): Html {
  const items: Array<[Box | 'new', string, MessageKey]> = [
    ['inbox', '/messages', 'community.pm.inbox'],
    ['archive', '/messages/archive', 'community.pm.archive'],
    ['sent', '/messages/sent', 'community.pm.sent'],
    ['new', '/messages/new', 'community.pm.compose'],
  ];
  return html`<nav class="tabs" aria-label="${ctx.t('community.pm.nav')}"><ul>
${items.map(([k, href, key]) => html`<li><a href="${href}"${k === current ? html` aria-current="page"` : ''}>${ctx.t(key)}</a></li>`)}
</ul></nav>`;
}

async function boxPage(site: Site, reply: FastifyReply, ctx: RequestContext, userId: number, box: Box, pageQ: unknown): Promise<FastifyReply> {
  const { t } = ctx;
  const page = pageParam(pageQ);
  const { rows, total } = await listBox(site.db, userId, box, page);
  const pages = pageCount(total, MESSAGES_PER_PAGE);
  const title = t(box === 'inbox' ? 'community.pm.inbox' : box === 'archive' ? 'community.pm.archive' : 'community.pm.sent');
  const unread = box !== 'sent' && rows.some((r) => r.read_at === null);
  return sendPage(reply, ctx, {
    title,
    body: html`<h1>${t('community.pm.title')}</h1>
${pmNav(ctx, box)}
<h2>${title}</h2>
${unread ? html`<p>${postButton(ctx, '/messages/read-all', t('community.pm.read_all'), { cls: 'link' })}</p>` : ''}
${rows.length === 0
  ? html`<p class="empty">${t('community.pm.empty')}</p>`
  : html`<div class="table-wrap"><table class="messages">
<caption class="visually-hidden">${title}</caption>
<thead><tr><th scope="col">${t('community.pm.subject')}</th><th scope="col">${t(box === 'sent' ? 'community.pm.to' : 'community.pm.from')}</th><th scope="col">${t('community.date')}</th></tr></thead>
<tbody>${rows.map((r) => {
  const isUnread = box !== 'sent' && r.read_at === null;
  return html`<tr${isUnread ? html` class="unread"` : ''}>
<th scope="row"><a href="/messages/${r.id}">${r.subject}</a>${isUnread ? html` <span class="badge unread">${t('community.pm.unread')}</span>` : ''}</th>
<td>${memberLink(ctx, r.other_id, r.other_name)}</td>
<td>${timeEl(ctx, r.created_at)}</td>
</tr>`;
})}</tbody>
</table></div>`}
${pagination(ctx, (p) => `${BOX_PATH[box]}?page=${p}`, page, pages)}`,
  });
}

function composePage(reply: FastifyReply, ctx: RequestContext, d: Draft, errors: Partial<Record<SendField, SendError>>, general: MessageKey | null, status = 200): FastifyReply {
  const { t } = ctx;
  const err = (f: SendField) => (errors[f] ? SEND_ERRORS[errors[f]] : null);
  return sendPage(
    reply,
    ctx,
    {
      title: t('community.pm.compose'),
      body: html`<h1>${t('community.pm.title')}</h1>
${pmNav(ctx, 'new')}
<h2>${t('community.pm.compose')}</h2>
${formErrors(ctx, Object.keys(errors).length > 0, general)}
<form method="post" action="/messages" class="form">
${csrfField(ctx)}
${d.replyTo !== null ? html`<input type="hidden" name="reply_to" value="${d.replyTo}">` : ''}
${textField(ctx, { id: 'pm-to', name: 'to', label: t('community.pm.to'), value: d.to, maxlength: 100, required: true, autocomplete: 'off', error: err('to') })}
${textField(ctx, { id: 'pm-subject', name: 'subject', label: t('community.pm.subject'), value: d.subject, maxlength: SUBJECT_MAX, required: true, error: err('subject') })}
${textArea(ctx, { id: 'pm-body', name: 'body', label: t('community.pm.body'), value: d.body, maxlength: MESSAGE_BODY_MAX, rows: 12, required: true, hint: markupHint(ctx), error: err('body') })}
<p><button type="submit">${t('community.pm.send')}</button></p>
</form>`,
    },
    status,
  );
}

export function pmRoutes(app: FastifyInstance, site: Site): void {
  app.get<{ Querystring: { page?: string } }>('/messages', async (req, reply) => boxPage(site, reply, req.ctx, requireUser(req).id, 'inbox', req.query.page));
  app.get<{ Querystring: { page?: string } }>('/messages/archive', async (req, reply) => boxPage(site, reply, req.ctx, requireUser(req).id, 'archive', req.query.page));
  app.get<{ Querystring: { page?: string } }>('/messages/sent', async (req, reply) => boxPage(site, reply, req.ctx, requireUser(req).id, 'sent', req.query.page));

  app.get<{ Querystring: { to?: string; reply?: string } }>('/messages/new', async (req, reply) => {
    const user = requireUser(req);
    const draft: Draft = { to: typeof req.query.to === 'string' ? req.query.to.slice(0, 100) : '', subject: '', body: '', replyTo: null };
    const replyId = parseId(req.query.reply);
    if (replyId !== null) {
      const orig = await getMessageFor(site.db, replyId, user.id);
      if (!orig) throw new HttpError(404, 'community.pm.not_found');
      const other = orig.side === 'recipient' ? orig.sender_name : orig.recipient_name;
      draft.to = other ?? '';
      draft.subject = replySubject(orig.subject);
      draft.body = quoteForReply(orig.body, orig.sender_name);
      draft.replyTo = orig.id;
    }
    return composePage(reply, req.ctx, draft, {}, null);
  });

  app.post('/messages', async (req, reply) => {
    const user = requireUser(req);
    const b = bodyOf(req);
    const input = { to: str(b, 'to', 200), subject: str(b, 'subject', 1000), body: str(b, 'body', 100_000), replyTo: parseId(b.reply_to) };
    const now = site.now();
    if (site.limiter.blocked(`pm:${user.id}`, SEND_LIMIT, now)) {
      return composePage(reply, req.ctx, input, {}, 'community.rate_limited', 429);
    }
    const r = await sendMessage(site.db, { senderId: user.id, ...input, now });
    if (!r.ok) return composePage(reply, req.ctx, { ...r.draft, replyTo: input.replyTo }, r.errors, null, 400);
    site.limiter.hit(`pm:${user.id}`, SEND_LIMIT, SEND_WINDOW, now);
    setFlash(reply, 'community.pm.sent_flash');
    return reply.redirect('/messages/sent', 303);
  });

  app.post('/messages/read-all', async (req, reply) => {
    const user = requireUser(req);
    await markAllRead(site.db, user.id, site.now());
    setFlash(reply, 'community.pm.all_read');
    return reply.redirect('/messages', 303);
  });

  app.get<IdParams>('/messages/:id', async (req, reply) => {
    const user = requireUser(req);
    const ctx = req.ctx;
    const { t } = ctx;
    const id = parseId(req.params.id);
    const m = id === null ? undefined : await getMessageFor(site.db, id, user.id);
    if (!m) throw new HttpError(404, 'community.pm.not_found');
    if (m.side === 'recipient' && (await markRead(site.db, m.id, user.id, site.now())) && ctx.unreadMessages) ctx.unreadMessages--;
    const box: Box = m.side === 'sender' ? 'sent' : m.recipient_archived ? 'archive' : 'inbox';
    const actions: Html[] = [];
    if (m.side === 'recipient') {
      if (m.sender_id !== null) actions.push(html`<a class="button" href="/messages/new?reply=${m.id}">${t('community.pm.reply')}</a>`);
      actions.push(
        postButton(ctx, `/messages/${m.id}/archive`, m.recipient_archived ? t('community.pm.unarchive') : t('community.pm.archive_action'), { fields: { archive: m.recipient_archived ? '0' : '1' } }),
      );
    }
    actions.push(postButton(ctx, `/messages/${m.id}/delete`, t('common.delete'), { cls: 'danger' }));
    return sendPage(reply, ctx, {
      title: m.subject,
      body: html`<h1>${t('community.pm.title')}</h1>
${pmNav(ctx, box)}
<article class="pm" aria-labelledby="pm-subject">
<h2 id="pm-subject">${m.subject}</h2>
<dl class="facts">
<dt>${t('community.pm.from')}</dt><dd>${memberLink(ctx, m.sender_id, m.sender_name)}</dd>
<dt>${t('community.pm.to')}</dt><dd>${memberLink(ctx, m.recipient_id, m.recipient_name)}</dd>
<dt>${t('community.date')}</dt><dd>${timeEl(ctx, m.created_at)}</dd>
${m.reply_to !== null ? html`<dt>${t('community.pm.in_reply_to')}</dt><dd><a href="/messages/${m.reply_to}">${t('community.pm.original')}</a></dd>` : ''}
</dl>
${markup(ctx, m.body)}
<p class="pm-actions">${actions}</p>
</article>`,
    });
  });

  app.post<IdParams>('/messages/:id/archive', async (req, reply) => {
    const user = requireUser(req);
    const id = parseId(req.params.id);
    const archive = str(bodyOf(req), 'archive', 2) !== '0';
    if (id === null || !(await setArchived(site.db, id, user.id, archive))) throw new HttpError(404, 'community.pm.not_found');
    setFlash(reply, archive ? 'community.pm.archived' : 'community.pm.unarchived');
    return reply.redirect(archive ? '/messages' : '/messages/archive', 303);
  });

  app.post<IdParams>('/messages/:id/delete', async (req, reply) => {
    const user = requireUser(req);
    const id = parseId(req.params.id);
    const m = id === null ? undefined : await getMessageFor(site.db, id, user.id);
    if (!m || !(await deleteMessageFor(site.db, m.id, user.id))) throw new HttpError(404, 'community.pm.not_found');
    setFlash(reply, 'community.pm.deleted');
    return reply.redirect(m.side === 'sender' ? '/messages/sent' : m.recipient_archived ? '/messages/archive' : '/messages', 303);
  });
}

/**
 * Comments, thanks and ratings on torrents:
 *
 *   POST /torrents/<id>/comments   adds a comment (back to its page of the torrent)
 *   GET  /comments/<id>/edit       the edit form (author, or staff with comment.moderate)
 *   POST /comments/<id>/edit       saves it (staff edits audited, with an optional reason)
 *   POST /comments/<id>/delete     soft-deletes it (staff deletions audited)
 *   POST /torrents/<id>/thanks     says thank you (once)
 *   POST /torrents/<id>/rate       rates from 1 to 10 (changeable)
 *
 * All need a member who may see the torrent.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Torrent, User } from '../../../db/schema.js';
import {
  addComment,
  commentAccess,
  COMMENT_MAX_LENGTH,
  deleteComment,
  editComment,
  getComment,
  pageOfComment,
  type Comment,
} from '../../../site/community/comments.js';
import { parseScore, rateTorrent, thankTorrent } from '../../../site/community/reactions.js';
import { torrentVisibility } from '../../../site/torrents/read.js';
import type { Site } from '../../../site/site.js';
import { HttpError, requireUser, setFlash, type RequestContext } from '../../context.js';
import { html, type Html } from '../../html.js';
import { csrfField, sendPage } from '../../layout.js';
import type { MessageKey } from '../../messages.js';
import { parseId, torrentPath } from '../torrent/links.js';
import { bodyOf, formErrors, markupHint, str, textArea, textField } from './ui.js';

type IdParams = { Params: { id: string } };

/** Comments per member and window, against floods. */
const COMMENT_LIMIT = 20;
const COMMENT_WINDOW = 600;

/** The torrent if the member may see it, else a 404. */
async function visibleTorrent(site: Site, user: User, idParam: string): Promise<Torrent> {
  const id = parseId(idParam);
  const tor = id === null ? undefined : await site.db.selectFrom('torrent').selectAll().where('id', '=', id).executeTakeFirst();
  if (!tor || torrentVisibility(tor, user) !== 'visible') throw new HttpError(404, 'torrent.not_found');
  return tor;
}

async function commentOf(site: Site, idParam: string): Promise<{ comment: Comment; torrent: Torrent }> {
  const id = parseId(idParam);
  const comment = id === null ? undefined : await getComment(site.db, id);
  if (!comment || comment.deleted_at !== null) throw new HttpError(404, 'community.comment.not_found');
  const torrent = await site.db.selectFrom('torrent').selectAll().where('id', '=', comment.torrent_id).executeTakeFirstOrThrow();
  return { comment, torrent };
}

async function commentUrl(site: Site, torrent: Torrent, c: Comment): Promise<string> {
  const page = await pageOfComment(site.db, c);
  return `${torrentPath(torrent)}?comments=${page}#c${c.id}`;
}

function commentFormPage(
  reply: FastifyReply,
  ctx: RequestContext,
  o: { torrent: Torrent; action: string; heading: string; body: string; error: MessageKey | null; general?: MessageKey | null; staff?: boolean; reason?: string; deleteAction?: string },
  status: number,
): FastifyReply {
  const { t } = ctx;
  const body: Html = html`<h1>${o.heading}</h1>
<p><a href="${torrentPath(o.torrent)}#comments">${t('community.comment.back', { name: o.torrent.name })}</a></p>
${formErrors(ctx, o.error !== null, o.general)}
<form method="post" action="${o.action}" class="form">
${csrfField(ctx)}
${textArea(ctx, { id: 'comment-body', name: 'body', label: t('community.comment.body'), value: o.body, maxlength: COMMENT_MAX_LENGTH, rows: 8, required: true, error: o.error, hint: markupHint(ctx) })}
${o.staff ? textField(ctx, { id: 'comment-reason', name: 'reason', label: t('community.staff_reason'), value: o.reason ?? '', maxlength: 500, hint: t('community.staff_reason_hint') }) : ''}
<p><button type="submit">${t('common.save')}</button></p>
</form>
${o.deleteAction
  ? html`<form method="post" action="${o.deleteAction}" class="form delete-form">
${csrfField(ctx)}
<h2>${t('community.comment.delete_heading')}</h2>
${o.staff ? textField(ctx, { id: 'delete-reason', name: 'reason', label: t('community.staff_reason'), value: '', maxlength: 500, hint: t('community.staff_reason_hint') }) : ''}
<p><button type="submit" class="danger">${t('community.comment.delete')}</button></p>
</form>`
  : ''}`;
  return sendPage(reply, ctx, { title: o.heading, body }, status);
}

const COMMENT_ERRORS: Record<'empty' | 'too_long', MessageKey> = { empty: 'common.form.required', too_long: 'community.comment.too_long' };

async function accessOrForbid(site: Site, req: FastifyRequest, comment: Comment): Promise<{ user: User; as: 'own' | 'staff' }> {
  const user = requireUser(req);
  const as = await commentAccess(site.db, user, comment);
  if (!as) throw new HttpError(403, 'common.error.forbidden');
  return { user, as };
}

export function commentRoutes(app: FastifyInstance, site: Site): void {
  app.post<IdParams>('/torrents/:id/comments', async (req, reply) => {
    const user = requireUser(req);
    const ctx = req.ctx;
    const torrent = await visibleTorrent(site, user, req.params.id);
    const text = str(bodyOf(req), 'body');
    const form = { torrent, action: `/torrents/${torrent.id}/comments`, heading: ctx.t('community.comment.new_heading', { name: torrent.name }), body: text };
    if (!site.limiter.hit(`comment:${user.id}`, COMMENT_LIMIT, COMMENT_WINDOW, site.now())) {
      return commentFormPage(reply, ctx, { ...form, error: null, general: 'community.rate_limited' }, 429);
    }
    const r = await addComment(site.db, { torrentId: torrent.id, userId: user.id, body: text, now: site.now() });
    if (!r.ok) return commentFormPage(reply, ctx, { ...form, error: COMMENT_ERRORS[r.error] }, 400);
    const c = (await getComment(site.db, r.id))!;
    setFlash(reply, 'community.comment.added');
    return reply.redirect(await commentUrl(site, torrent, c), 303);
  });

  app.get<IdParams>('/comments/:id/edit', async (req, reply) => {
    const { comment, torrent } = await commentOf(site, req.params.id);
    const { as } = await accessOrForbid(site, req, comment);
    return commentFormPage(
      reply,
      req.ctx,
      { torrent, action: `/comments/${comment.id}/edit`, heading: req.ctx.t('community.comment.edit_heading', { name: torrent.name }), body: comment.body, error: null, staff: as === 'staff', deleteAction: `/comments/${comment.id}/delete` },
      200,
    );
  });

  app.post<IdParams>('/comments/:id/edit', async (req, reply) => {
    const { comment, torrent } = await commentOf(site, req.params.id);
    const { user, as } = await accessOrForbid(site, req, comment);
    const b = bodyOf(req);
    const text = str(b, 'body');
    const reason = str(b, 'reason', 500).trim();
    const r = await editComment(site.db, { comment, actor: user, as, body: text, reason: reason || null, now: site.now() });
    if (!r.ok) {
      if (r.error === 'gone') throw new HttpError(404, 'community.comment.not_found');
      return commentFormPage(
        reply,
        req.ctx,
        { torrent, action: `/comments/${comment.id}/edit`, heading: req.ctx.t('community.comment.edit_heading', { name: torrent.name }), body: text, error: COMMENT_ERRORS[r.error], staff: as === 'staff', reason, deleteAction: `/comments/${comment.id}/delete` },
        400,
      );
    }
    setFlash(reply, 'community.comment.saved');
    return reply.redirect(await commentUrl(site, torrent, comment), 303);
  });

  app.post<IdParams>('/comments/:id/delete', async (req, reply) => {
    const { comment, torrent } = await commentOf(site, req.params.id);
    const { user, as } = await accessOrForbid(site, req, comment);
    const page = await pageOfComment(site.db, comment);
    const reason = str(bodyOf(req), 'reason', 500).trim();
    await deleteComment(site.db, { comment, actor: user, as, reason: reason || null, now: site.now() });
    setFlash(reply, 'community.comment.deleted');
    return reply.redirect(`${torrentPath(torrent)}?comments=${page}#comments`, 303);
  });

  app.post<IdParams>('/torrents/:id/thanks', async (req, reply) => {
    const user = requireUser(req);
    const torrent = await visibleTorrent(site, user, req.params.id);
    const r = await thankTorrent(site.db, torrent, user.id, site.now());
    if (!r.ok) throw new HttpError(r.error === 'own' ? 403 : 404, r.error === 'own' ? 'community.thanks.own' : 'torrent.not_found');
    setFlash(reply, r.thanked ? 'community.thanks.done' : 'community.thanks.already');
    return reply.redirect(torrentPath(torrent), 303);
  });

  app.post<IdParams>('/torrents/:id/rate', async (req, reply) => {
    const user = requireUser(req);
    const torrent = await visibleTorrent(site, user, req.params.id);
    const score = parseScore(bodyOf(req).score);
    if (score === null) throw new HttpError(400, 'community.rating.invalid');
    const r = await rateTorrent(site.db, torrent, user.id, score, site.now());
    if (!r.ok) {
      if (r.error === 'own') throw new HttpError(403, 'community.rating.own');
      if (r.error === 'not_found') throw new HttpError(404, 'torrent.not_found');
      throw new HttpError(400, 'community.rating.invalid');
    }
    setFlash(reply, 'community.rating.saved');
    return reply.redirect(torrentPath(torrent), 303);
  });
}

/**
 * Moderation:
 *
 *   GET  /notifications                      the member's notifications (marked read once seen)
 *   GET  /staff/queue                        pending torrents (torrent.moderate)
 *   GET  /staff/queue/<id>                   review one: approve, ask for an edit, reject
 *   POST /staff/queue/<id>/approve
 *   POST /staff/queue/<id>/request-edit      note
 *   POST /staff/queue/<id>/reject            reason
 *   GET|POST /torrents/<id>/resubmit         the uploader edits a pending torrent (title, description, terms)
 *   GET|POST /staff/torrents/<id>/edit       torrent.edit_any
 *   GET|POST /staff/torrents/<id>/delete     torrent.delete_any (reason)
 *   GET|POST /staff/torrents/<id>/merge      torrent.merge (the torrent kept: an id or a link)
 *   GET|POST /staff/torrents/<id>/factors    torrent.set_factors (preset, duration)
 *   GET|POST /report/<torrent|comment|user>/<id>   members report something
 *   GET  /staff/reports?status=open|claimed|resolved|all   report.handle
 *   GET  /staff/reports/<id>
 *   POST /staff/reports/<id>/claim | resolve | note
 *   GET|POST /staff/settings                 settings.manage (listings limited to verified torrents)
 *
 * Every staff route asks requirePermission first; every staff action is audited by the services
 * (src/site/moderation/).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { loadCatalogue } from '../../../site/catalogue/catalogue.js';
import { REASON_MAX, TEXT_MAX, type TextProblem } from '../../../site/moderation/common.js';
import { torrentTermIds, type EditField, type EditProblem } from '../../../site/moderation/edit.js';
import { approveTorrent, listPendingTorrents, rejectTorrent, requestTorrentEdit, resubmitTorrent } from '../../../site/moderation/queue.js';
import {
  addReportNote,
  claimReport,
  countReports,
  createReport,
  findReportTarget,
  getReport,
  isReportStatus,
  isReportable,
  listReports,
  resolveReport,
  type ReportActionError,
} from '../../../site/moderation/reports.js';
import { readModerationSettings, updateModerationSettings } from '../../../site/moderation/settings.js';
import { deleteTorrentAsStaff, editTorrentAsStaff, isFactorPreset, mergeTorrents, setTorrentFactorsAsStaff } from '../../../site/moderation/torrents.js';
import type { Site } from '../../../site/site.js';
import { getTorrentDetails, listTorrentFiles, type TorrentDetails } from '../../../site/torrents/read.js';
import { HttpError, requireUser, setFlash, type RequestContext } from '../../context.js';
import { sendPage } from '../../layout.js';
import type { MessageKey } from '../../messages.js';
import { requirePermission } from '../../staff.js';
import { parseId, torrentPath } from '../torrent/links.js';
import { field, ids } from './forms.js';
import { installUnreadCount, notificationsBody } from './notifications.js';
import { deleteBody, editFormBody, factorsBody, FACTOR_DURATIONS, mergeBody, queueBody, reviewBody, settingsBody, type EditFormState, type ReviewForm } from './pages.js';
import { reportBody, reportFormBody, reportsBody, type ReportFilter, type ReportForms } from './report-pages.js';

type IdParams = { Params: { id: string } };

function textError(ctx: RequestContext, p: TextProblem, max: number): string {
  return p === 'required' ? ctx.t('moderation.error.required') : ctx.t('moderation.error.too_long', { max });
}

function editProblemText(ctx: RequestContext, catalogue: Awaited<ReturnType<typeof loadCatalogue>>, p: EditProblem): string {
  const term = p.params?.termId !== undefined ? catalogue.term(p.params.termId)?.name(ctx.locale) ?? `#${p.params.termId}` : '';
  const type = p.params?.typeId !== undefined ? catalogue.termType(p.params.typeId)?.name(ctx.locale) ?? `#${p.params.typeId}` : '';
  return ctx.t(`moderation.edit.error.${p.code}`, { term, type, max: p.params?.max ?? 0, id: p.params?.termId ?? 0 });
}

/** The torrent of a staff route (any status), or a 404. */
async function staffTorrent(site: Site, idParam: string): Promise<TorrentDetails> {
  const id = parseId(idParam);
  const d = id === null ? undefined : await getTorrentDetails(site.db, id);
  if (!d) throw new HttpError(404, 'torrent.not_found');
  return d;
}

/** The torrent id in "123", "/t/123", "https://site/torrents/123/slug"... or null. */
export function torrentIdFrom(s: string): number | null {
  const m = /^\s*(?:(?:https?:\/\/[^/]+)?\/(?:t|torrents)\/)?([1-9][0-9]{0,15})(?:[/?#].*)?\s*$/.exec(s);
  return m ? parseId(m[1]) : null;
}

export function routes(app: FastifyInstance, site: Site): void {
  const db = site.db;
  installUnreadCount(app, site);

  // --- notifications -------------------------------------------------------------------------------
  app.get('/notifications', async (req, reply) => {
    const user = requireUser(req, reply);
    const ctx = req.ctx;
    const body = await notificationsBody(ctx, site, user.id);
    void reply.header('Cache-Control', 'private, no-store');
    return sendPage(reply, ctx, { title: ctx.t('moderation.notifications.title'), body });
  });

  // --- the queue -------------------------------------------------------------------------------------
  app.get('/staff/queue', async (req, reply) => {
    await requirePermission(req, 'torrent.moderate');
    const ctx = req.ctx;
    return sendPage(reply, ctx, { title: ctx.t('moderation.queue.title'), body: queueBody(ctx, await listPendingTorrents(db)) });
  });

  const sendReview = async (req: FastifyRequest, reply: FastifyReply, d: TorrentDetails, form: ReviewForm, status = 200) => {
    const ctx = req.ctx;
    const files = (await listTorrentFiles(db, d.torrent.id)).length;
    return sendPage(reply, ctx, { title: ctx.t('moderation.review.title', { name: d.torrent.name }), body: reviewBody(ctx, d, files, form) }, status);
  };
  const emptyReview: ReviewForm = { reason: '', note: '', reasonError: null, noteError: null };

  /** A pending torrent for the review routes; others go back to the queue with a message. */
  const pendingOrBack = async (req: FastifyRequest<IdParams>, reply: FastifyReply): Promise<TorrentDetails | null> => {
    const d = await staffTorrent(site, req.params.id);
    if (d.torrent.status !== 'pending') {
      setFlash(reply, 'moderation.flash.not_pending');
      void reply.redirect('/staff/queue', 303);
      return null;
    }
    return d;
  };

  app.get<IdParams>('/staff/queue/:id', async (req, reply) => {
    await requirePermission(req, 'torrent.moderate');
    const d = await pendingOrBack(req, reply);
    if (!d) return reply;
    return sendReview(req, reply, d, emptyReview);
  });

  app.post<IdParams>('/staff/queue/:id/approve', async (req, reply) => {
    const actor = await requirePermission(req, 'torrent.moderate');
    const d = await pendingOrBack(req, reply);
    if (!d) return reply;
    const r = await approveTorrent(site, actor, d.torrent.id);
    setFlash(reply, r.ok ? 'moderation.flash.approved' : 'moderation.flash.not_pending');
    return reply.redirect('/staff/queue', 303);
  });

  app.post<IdParams>('/staff/queue/:id/reject', async (req, reply) => {
    const actor = await requirePermission(req, 'torrent.moderate');
    const d = await pendingOrBack(req, reply);
    if (!d) return reply;
    const reason = field(req.body, 'reason', REASON_MAX * 4);
    const r = await rejectTorrent(site, actor, d.torrent.id, reason);
    if (!r.ok && r.error.startsWith('reason_')) {
      return sendReview(req, reply, d, { ...emptyReview, reason, reasonError: textError(req.ctx, r.error.slice(7) as TextProblem, REASON_MAX) }, 400);
    }
    setFlash(reply, r.ok ? 'moderation.flash.rejected' : 'moderation.flash.not_pending');
    return reply.redirect('/staff/queue', 303);
  });

  app.post<IdParams>('/staff/queue/:id/request-edit', async (req, reply) => {
    const actor = await requirePermission(req, 'torrent.moderate');
    const d = await pendingOrBack(req, reply);
    if (!d) return reply;
    const note = field(req.body, 'note', REASON_MAX * 10);
    const r = await requestTorrentEdit(site, actor, d.torrent.id, note);
    if (!r.ok && r.error.startsWith('reason_')) {
      return sendReview(req, reply, d, { ...emptyReview, note, noteError: textError(req.ctx, r.error.slice(7) as TextProblem, REASON_MAX * 5) }, 400);
    }
    setFlash(reply, r.ok ? 'moderation.flash.edit_requested' : 'moderation.flash.not_pending');
    return reply.redirect('/staff/queue', 303);
  });

  // --- edit forms (staff edit, uploader's resubmission) ----------------------------------------------
  const sendEdit = async (req: FastifyRequest, reply: FastifyReply, state: EditFormState, status = 200) => {
    const ctx = req.ctx;
    const catalogue = await loadCatalogue(db);
    const title = state.mode === 'staff' ? ctx.t('moderation.edit.title_staff', { name: state.torrent.name }) : ctx.t('moderation.edit.title_resubmit', { name: state.torrent.name });
    return sendPage(reply, ctx, { title, body: editFormBody(ctx, catalogue, state) }, status);
  };

  const initialEdit = async (mode: EditFormState['mode'], d: TorrentDetails): Promise<EditFormState> => {
    const catalogue = await loadCatalogue(db);
    const tor = d.torrent;
    return {
      mode,
      torrent: tor,
      title: tor.name,
      description: tor.description,
      format: tor.description_format,
      category: tor.category_id === null ? null : (catalogue.category(tor.category_id) ?? null),
      termIds: new Set(await torrentTermIds(db, tor.id)),
      anonymous: tor.anonymous === 1,
      errors: {},
      note: mode === 'resubmit' ? tor.moderation_note : null,
    };
  };

  /** The form as posted, with the problems as messages per field. */
  const postedEdit = async (req: FastifyRequest, base: EditFormState, problems: EditProblem[], categoryId: number | undefined): Promise<EditFormState> => {
    const catalogue = await loadCatalogue(db);
    const errors: Partial<Record<EditField, string[]>> = {};
    for (const p of problems) (errors[p.field] ??= []).push(editProblemText(req.ctx, catalogue, p));
    const chosen = categoryId === undefined ? base.category : (catalogue.category(categoryId) ?? base.category);
    return {
      ...base,
      title: field(req.body, 'title', 1000),
      description: field(req.body, 'description', 200_000),
      format: field(req.body, 'format', 20),
      category: chosen,
      termIds: new Set(ids(req.body, 'term')),
      anonymous: field(req.body, 'anonymous') === '1',
      errors,
    };
  };

  app.get<IdParams>('/staff/torrents/:id/edit', async (req, reply) => {
    await requirePermission(req, 'torrent.edit_any');
    const d = await staffTorrent(site, req.params.id);
    if (d.torrent.status === 'deleted') throw new HttpError(404, 'torrent.not_found');
    return sendEdit(req, reply, await initialEdit('staff', d));
  });

  app.post<IdParams>('/staff/torrents/:id/edit', async (req, reply) => {
    const actor = await requirePermission(req, 'torrent.edit_any');
    const d = await staffTorrent(site, req.params.id);
    const categoryId = ids(req.body, 'category')[0];
    const r = await editTorrentAsStaff(site, actor, d.torrent.id, {
      title: field(req.body, 'title', 1000),
      description: field(req.body, 'description', 200_000),
      descriptionFormat: field(req.body, 'format', 20),
      categoryId: categoryId ?? (field(req.body, 'category') === '' ? undefined : -1),
      termIds: ids(req.body, 'term'),
      anonymous: field(req.body, 'anonymous') === '1',
    });
    if (!r.ok) {
      if (r.error !== 'invalid') throw new HttpError(404, 'torrent.not_found');
      return sendEdit(req, reply, await postedEdit(req, await initialEdit('staff', d), r.problems, categoryId), 400);
    }
    setFlash(reply, 'moderation.flash.edited');
    return reply.redirect(`/t/${d.torrent.id}`, 303);
  });

  /** The uploader's pending torrent, or a 404 for anybody else (its existence does not leak). */
  const ownPending = async (req: FastifyRequest<IdParams>): Promise<TorrentDetails> => {
    const user = requireUser(req);
    const id = parseId(req.params.id);
    const d = id === null ? undefined : await getTorrentDetails(db, id);
    if (!d || d.torrent.uploader_id !== user.id || d.torrent.status === 'deleted') throw new HttpError(404, 'torrent.not_found');
    return d;
  };

  app.get<IdParams>('/torrents/:id/resubmit', async (req, reply) => {
    const d = await ownPending(req);
    if (d.torrent.status !== 'pending') {
      setFlash(reply, 'moderation.flash.already_approved');
      return reply.redirect(torrentPath(d.torrent), 303);
    }
    return sendEdit(req, reply, await initialEdit('resubmit', d));
  });

  app.post<IdParams>('/torrents/:id/resubmit', async (req, reply) => {
    const d = await ownPending(req);
    const user = req.ctx.user!;
    const r = await resubmitTorrent(site, user, d.torrent.id, {
      title: field(req.body, 'title', 1000),
      description: field(req.body, 'description', 200_000),
      descriptionFormat: field(req.body, 'format', 20),
      termIds: ids(req.body, 'term'),
    });
    if (!r.ok) {
      if (r.error === 'invalid') return sendEdit(req, reply, await postedEdit(req, await initialEdit('resubmit', d), r.problems, undefined), 400);
      setFlash(reply, 'moderation.flash.already_approved');
      return reply.redirect(torrentPath(d.torrent), 303);
    }
    setFlash(reply, 'moderation.flash.resubmitted');
    return reply.redirect(`/t/${d.torrent.id}`, 303);
  });

  // --- delete, merge, factors ----------------------------------------------------------------------
  const liveTorrent = async (idParam: string) => {
    const d = await staffTorrent(site, idParam);
    if (d.torrent.status === 'deleted') throw new HttpError(404, 'torrent.not_found');
    return d;
  };

  app.get<IdParams>('/staff/torrents/:id/delete', async (req, reply) => {
    await requirePermission(req, 'torrent.delete_any');
    const d = await liveTorrent(req.params.id);
    return sendPage(reply, req.ctx, { title: req.ctx.t('moderation.delete.title', { name: d.torrent.name }), body: deleteBody(req.ctx, d.torrent, '', null) });
  });

  app.post<IdParams>('/staff/torrents/:id/delete', async (req, reply) => {
    const actor = await requirePermission(req, 'torrent.delete_any');
    const d = await liveTorrent(req.params.id);
    const reason = field(req.body, 'reason', REASON_MAX * 4);
    const r = await deleteTorrentAsStaff(site, actor, d.torrent.id, reason);
    if (!r.ok) {
      if (!r.error.startsWith('reason_')) throw new HttpError(404, 'torrent.not_found');
      const error = textError(req.ctx, r.error.slice(7) as TextProblem, REASON_MAX);
      return sendPage(reply, req.ctx, { title: req.ctx.t('moderation.delete.title', { name: d.torrent.name }), body: deleteBody(req.ctx, d.torrent, reason, error) }, 400);
    }
    setFlash(reply, 'moderation.flash.deleted');
    return reply.redirect(`/t/${d.torrent.id}`, 303);
  });

  const MERGE_ERRORS: Record<string, MessageKey> = {
    same: 'moderation.merge.error.same',
    target_not_found: 'moderation.merge.error.target_not_found',
    target_deleted: 'moderation.merge.error.target_deleted',
  };

  app.get<IdParams>('/staff/torrents/:id/merge', async (req, reply) => {
    await requirePermission(req, 'torrent.merge');
    const d = await liveTorrent(req.params.id);
    return sendPage(reply, req.ctx, { title: req.ctx.t('moderation.merge.title', { name: d.torrent.name }), body: mergeBody(req.ctx, d.torrent, '', null) });
  });

  app.post<IdParams>('/staff/torrents/:id/merge', async (req, reply) => {
    const actor = await requirePermission(req, 'torrent.merge');
    const d = await liveTorrent(req.params.id);
    const target = field(req.body, 'target', 300);
    const keptId = torrentIdFrom(target);
    const r = keptId === null ? ({ ok: false, error: 'target_not_found' } as const) : await mergeTorrents(site, actor, d.torrent.id, keptId);
    if (!r.ok) {
      const key = MERGE_ERRORS[r.error];
      if (!key) throw new HttpError(404, 'torrent.not_found');
      return sendPage(reply, req.ctx, { title: req.ctx.t('moderation.merge.title', { name: d.torrent.name }), body: mergeBody(req.ctx, d.torrent, target, req.ctx.t(key)) }, 400);
    }
    setFlash(reply, 'moderation.flash.merged');
    return reply.redirect(`/t/${keptId}`, 303);
  });

  app.get<IdParams>('/staff/torrents/:id/factors', async (req, reply) => {
    await requirePermission(req, 'torrent.set_factors');
    const d = await liveTorrent(req.params.id);
    return sendPage(reply, req.ctx, { title: req.ctx.t('moderation.factors.title', { name: d.torrent.name }), body: factorsBody(req.ctx, d.torrent, { preset: null, duration: 0, error: null }) });
  });

  app.post<IdParams>('/staff/torrents/:id/factors', async (req, reply) => {
    const actor = await requirePermission(req, 'torrent.set_factors');
    const d = await liveTorrent(req.params.id);
    const preset = field(req.body, 'preset', 20);
    const duration = Number(field(req.body, 'duration', 20) || '0');
    if (!isFactorPreset(preset) || !(FACTOR_DURATIONS as readonly number[]).includes(duration)) throw new HttpError(400, 'common.error.bad_request');
    const r = await setTorrentFactorsAsStaff(site, actor, d.torrent.id, preset, duration === 0 ? null : site.now() + duration);
    if (!r.ok) throw new HttpError(404, 'torrent.not_found');
    setFlash(reply, 'moderation.flash.factors');
    return reply.redirect(`/t/${d.torrent.id}`, 303);
  });

  // --- reports -------------------------------------------------------------------------------------
  type ReportParams = { Params: { type: string; id: string } };

  const reportTarget = async (req: FastifyRequest<ReportParams>) => {
    const type = req.params.type;
    const id = parseId(req.params.id);
    if (!isReportable(type) || id === null) throw new HttpError(404, 'common.error.not_found');
    const target = await findReportTarget(db, type, id);
    if (!target) throw new HttpError(404, 'common.error.not_found');
    return { type, target };
  };

  app.get<ReportParams>('/report/:type/:id', async (req, reply) => {
    requireUser(req);
    const { type, target } = await reportTarget(req);
    return sendPage(reply, req.ctx, { title: req.ctx.t(`moderation.report.title.${type}`), body: reportFormBody(req.ctx, type, target, '', null) });
  });

  app.post<ReportParams>('/report/:type/:id', async (req, reply) => {
    const user = requireUser(req);
    const ctx = req.ctx;
    const { type, target } = await reportTarget(req);
    const reason = field(req.body, 'reason', TEXT_MAX * 2);
    const r = await createReport(db, user, { targetType: type, targetId: target.id, reason }, site.now());
    if (!r.ok) {
      const error =
        r.error === 'reason_required' || r.error === 'reason_too_long'
          ? textError(ctx, r.error.slice(7) as TextProblem, TEXT_MAX)
          : r.error === 'duplicate'
            ? ctx.t('moderation.report.error.duplicate')
            : r.error === 'self'
              ? ctx.t('moderation.report.error.self')
              : ctx.t('common.error.not_found');
      return sendPage(reply, ctx, { title: ctx.t(`moderation.report.title.${type}`), body: reportFormBody(ctx, type, target, reason, error) }, r.error === 'duplicate' ? 409 : 400);
    }
    setFlash(reply, 'moderation.flash.reported');
    return reply.redirect(target.href ?? '/', 303);
  });

  app.get<{ Querystring: { status?: string } }>('/staff/reports', async (req, reply) => {
    await requirePermission(req, 'report.handle');
    const ctx = req.ctx;
    const s = req.query.status;
    const filter: ReportFilter = s === 'all' ? 'all' : isReportStatus(s) ? s : 'open';
    const [counts, list] = await Promise.all([countReports(db), listReports(db, { status: filter === 'all' ? undefined : filter, limit: 200 })]);
    const rows = [];
    for (const report of list) rows.push({ report, target: (await findReportTarget(db, report.target_type, report.target_id)) ?? { type: report.target_type, id: report.target_id, label: null, href: null } });
    return sendPage(reply, ctx, { title: ctx.t('moderation.reports.title'), body: reportsBody(ctx, filter, counts, rows) });
  });

  const emptyReportForms: ReportForms = { resolution: '', note: '', resolutionError: null, noteError: null };
  const sendReport = async (req: FastifyRequest<IdParams>, reply: FastifyReply, forms: ReportForms, status = 200) => {
    const ctx = req.ctx;
    const id = parseId(req.params.id);
    const got = id === null ? undefined : await getReport(db, id);
    if (!got) throw new HttpError(404, 'common.error.not_found');
    return sendPage(reply, ctx, { title: ctx.t('moderation.reports.one', { id: got.report.id }), body: reportBody(ctx, got.report, got.target, got.notes, forms) }, status);
  };

  app.get<IdParams>('/staff/reports/:id', async (req, reply) => {
    await requirePermission(req, 'report.handle');
    return sendReport(req, reply, emptyReportForms);
  });

  const reportAction =
    (run: (actor: { id: number; username: string }, id: number, req: FastifyRequest<IdParams>) => Promise<{ ok: true } | { ok: false; error: ReportActionError }>, done: MessageKey, formField: 'resolution' | 'note' | null) =>
    async (req: FastifyRequest<IdParams>, reply: FastifyReply) => {
      const actor = await requirePermission(req, 'report.handle');
      const id = parseId(req.params.id);
      if (id === null) throw new HttpError(404, 'common.error.not_found');
      const r = await run(actor, id, req);
      if (!r.ok) {
        if (r.error === 'not_found') throw new HttpError(404, 'common.error.not_found');
        if (r.error.startsWith('text_') && formField) {
          const text = field(req.body, formField === 'note' ? 'body' : 'resolution', TEXT_MAX * 2);
          const error = textError(req.ctx, r.error.slice(5) as TextProblem, TEXT_MAX);
          return sendReport(req, reply, formField === 'note' ? { ...emptyReportForms, note: text, noteError: error } : { ...emptyReportForms, resolution: text, resolutionError: error }, 400);
        }
        setFlash(reply, 'moderation.flash.report_changed');
        return reply.redirect(`/staff/reports/${id}`, 303);
      }
      setFlash(reply, done);
      return reply.redirect(`/staff/reports/${id}`, 303);
    };

  app.post<IdParams>('/staff/reports/:id/claim', reportAction((actor, id) => claimReport(db, actor, id, site.now()), 'moderation.flash.claimed', null));
  app.post<IdParams>(
    '/staff/reports/:id/resolve',
    reportAction((actor, id, req) => resolveReport(db, actor, id, field(req.body, 'resolution', TEXT_MAX * 2), site.now()), 'moderation.flash.resolved', 'resolution'),
  );
  app.post<IdParams>('/staff/reports/:id/note', reportAction((actor, id, req) => addReportNote(db, actor, id, field(req.body, 'body', TEXT_MAX * 2), site.now()), 'moderation.flash.noted', 'note'));

  // --- settings --------------------------------------------------------------------------------------
  app.get('/staff/settings', async (req, reply) => {
    await requirePermission(req, 'settings.manage');
    const ctx = req.ctx;
    return sendPage(reply, ctx, { title: ctx.t('moderation.settings.title'), body: settingsBody(ctx, await readModerationSettings(db)) });
  });

  app.post('/staff/settings', async (req, reply) => {
    const actor = await requirePermission(req, 'settings.manage');
    await updateModerationSettings(db, actor, { verifiedOnly: field(req.body, 'verified_only') === '1' }, site.now());
    setFlash(reply, 'moderation.flash.settings');
    return reply.redirect('/staff/settings', 303);
  });
}

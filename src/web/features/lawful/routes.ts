/**
 * Lawful operation:
 *
 *   GET       /legal                              what the site does with notices (and the API)
 *   GET|POST  /legal/notice                       the public notice form (CSRF, rate-limited per IP)
 *   GET       /legal/notice/received/<id>         its receipt
 *   POST      /api/notices                        the same as JSON (no CSRF: no cookie authority; rate-limited per IP)
 *   GET|POST  /legal/counter/<noticeId>           a counter-notice by an uploader named in an upheld notice
 *   GET       /legal/transparency                 counts per month
 *   GET       /staff/notices[?status=&page=]      the review queue (notice.review)
 *   GET       /staff/notices/<id>                 one notice: targets, uploaders' upheld counts, decision, counter-notices
 *   POST      /staff/notices/<id>/decide          uphold (takedown) or reject, with a note
 *   POST      /staff/counter-notices/<id>/decide  accept (restore) or reject a counter-notice
 *   GET|POST  /staff/blocklist                    the info-hash blocklist (blocklist.manage): list, add
 *   POST      /staff/blocklist/remove             remove a hash
 *
 * The services are in src/site/lawful/ (notices.ts, blocklist.ts); every staff route asks
 * `requirePermission` first, and every staff change is audited there.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { NoticeStatus } from '../../../db/schema.js';
import { addBlock, countBlocks, listBlocks, removeBlock, type BlockError } from '../../../site/lawful/blocklist.js';
import {
  counterEligibility,
  decideCounterNotice,
  getNotice,
  listCounterNotices,
  listNotices,
  NOTICE_STATUSES,
  rejectNotice,
  submitCounterNotice,
  submitNotice,
  transparencyReport,
  upheldNoticeCounts,
  upholdNotice,
  type NoticeProblem,
} from '../../../site/lawful/notices.js';
import type { Site } from '../../../site/site.js';
import { HttpError, requireUser, setFlash, translator, type RequestContext, type Translate } from '../../context.js';
import { errorPage, sendPage } from '../../layout.js';
import type { MessageKey } from '../../messages.js';
import { requirePermission } from '../../staff.js';
import { bodyOf, checked, str, type Errors } from './forms.js';
import {
  blocklistBody,
  counterFormBody,
  counterStatusBody,
  legalIndexBody,
  noticeDetailBody,
  noticeFormBody,
  noticeQueueBody,
  noticeReceivedBody,
  transparencyBody,
  type NoticeFormValues,
} from './pages.js';

const PAGE_SIZE = 50;

function idParam(raw: string): number {
  if (!/^\d{1,10}$/.test(raw)) throw new HttpError(404, 'common.error.not_found');
  return Number(raw);
}

function pageParam(raw: unknown): number {
  return typeof raw === 'string' && /^\d{1,6}$/.test(raw) && Number(raw) > 0 ? Number(raw) : 1;
}

/** Translated errors of a notice, by field (several bad lines make one message). */
export function noticeErrors(t: Translate, problems: readonly NoticeProblem[]): Errors {
  const e: Errors = {};
  const badLines: number[] = [];
  for (const p of problems) {
    if (p.code === 'item_invalid') {
      badLines.push(p.line ?? 0);
      continue;
    }
    const msg =
      p.code === 'required'
        ? t('common.form.required')
        : p.code === 'too_long'
          ? t('lawful.error.too_long', { max: p.max ?? 0 })
          : p.code === 'too_many_items'
            ? t('lawful.error.too_many_items', { max: p.max ?? 0 })
            : t('lawful.error.good_faith');
    e[p.field] ??= msg;
  }
  if (badLines.length > 0 && !e.items) e.items = t(badLines.length === 1 ? 'lawful.error.item_invalid' : 'lawful.error.items_invalid', { lines: badLines.join(', ') });
  return e;
}

/** Whether this IP may send a notice now; counts one when `count`. */
function noticeAllowed(site: Site, req: FastifyRequest, count: boolean): boolean {
  const { notice_limit, notice_window } = site.config.lawful;
  const key = `notice:ip:${req.ip}`;
  const now = site.now();
  if (!count) return !site.limiter.blocked(key, notice_limit, now);
  return site.limiter.hit(key, notice_limit, notice_window, now);
}

const BLOCK_ERRORS: Record<BlockError, MessageKey> = {
  hash_invalid: 'lawful.blocklist.error.hash_invalid',
  reason_required: 'common.form.required',
  reason_too_long: 'lawful.blocklist.error.reason_too_long',
  already_blocked: 'lawful.blocklist.error.already_blocked',
};

export function routes(app: FastifyInstance, site: Site): void {
  // --- public ------------------------------------------------------------------------------------
  app.get('/legal', async (req, reply) => sendPage(reply, req.ctx, { title: req.ctx.t('lawful.index.title'), body: legalIndexBody(req.ctx) }));

  const emptyNotice: NoticeFormValues = { claimant: '', contact: '', works: '', items: '', goodFaith: false };
  app.get('/legal/notice', async (req, reply) => sendPage(reply, req.ctx, { title: req.ctx.t('lawful.notice.title'), body: noticeFormBody(req.ctx, emptyNotice, {}) }));

  app.post('/legal/notice', async (req, reply) => {
    const ctx = req.ctx;
    const b = bodyOf(req);
    const values: NoticeFormValues = {
      claimant: str(b, 'claimant', 1000),
      contact: str(b, 'contact', 2000),
      works: str(b, 'works', 20_000),
      items: str(b, 'items', 300_000),
      goodFaith: checked(b, 'good_faith'),
    };
    const title = ctx.t('lawful.notice.title');
    if (!noticeAllowed(site, req, false)) {
      return sendPage(reply, ctx, { title, body: noticeFormBody(ctx, values, {}, ctx.t('lawful.error.rate_limited')) }, 429);
    }
    const r = await submitNotice(site, {
      claimant: values.claimant,
      contact: values.contact,
      works: values.works,
      items: values.items,
      goodFaith: values.goodFaith,
      statement: ctx.t('lawful.notice.good_faith'),
      source: 'form',
    });
    if (!r.ok) return sendPage(reply, ctx, { title, body: noticeFormBody(ctx, values, noticeErrors(ctx.t, r.problems)) }, 400);
    noticeAllowed(site, req, true);
    return reply.redirect(`/legal/notice/received/${r.id}`, 303);
  });

  app.get<{ Params: { id: string } }>('/legal/notice/received/:id', async (req, reply) => {
    const id = idParam(req.params.id);
    return sendPage(reply, req.ctx, { title: req.ctx.t('lawful.notice.received.title'), body: noticeReceivedBody(req.ctx, id) });
  });

  app.post('/api/notices', { config: { csrf: false } }, async (req, reply) => {
    const t = translator(req.ctx.locale);
    const b = bodyOf(req);
    if (!noticeAllowed(site, req, false)) return reply.code(429).send({ error: t('lawful.error.rate_limited') });
    const text = (k: string) => (typeof b[k] === 'string' ? (b[k] as string).slice(0, 300_000) : '');
    const rawItems = b.items;
    const items = Array.isArray(rawItems) ? rawItems.filter((x): x is string => typeof x === 'string').slice(0, 1000) : typeof rawItems === 'string' ? rawItems : '';
    const r = await submitNotice(site, {
      claimant: text('claimant'),
      contact: text('contact'),
      works: text('works'),
      items,
      goodFaith: b.good_faith === true || checked(b, 'good_faith'),
      // The API's statement is the English text it documents.
      statement: translator('en')('lawful.notice.good_faith'),
      source: 'api',
    });
    if (!r.ok) return reply.code(400).send({ errors: noticeErrors(t, r.problems), problems: r.problems });
    noticeAllowed(site, req, true);
    return reply.code(201).send({
      id: r.id,
      status: 'received',
      items: r.items.map((i) => ({ given: i.given, torrent_id: i.torrentId, info_hash: i.infoHash })),
    });
  });

  app.get<{ Params: { id: string } }>('/legal/counter/:id', async (req, reply) => counterPage(req, reply, { statement: '', goodFaith: false }, {}));

  const counterPage = async (req: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply, values: { statement: string; goodFaith: boolean }, errors: Errors, status = 200) => {
    const user = requireUser(req, reply);
    const ctx = req.ctx;
    const id = idParam(req.params.id);
    const notice = await getNotice(site.db, id);
    if (!notice) return errorPage(reply, ctx, 404, ctx.t('common.error.not_found'));
    const title = ctx.t('lawful.counter.title', { id });
    const sent = notice.counters.find((c) => c.user?.id === user.id);
    if (sent) return sendPage(reply, ctx, { title, body: counterStatusBody(ctx, notice, sent) });
    const elig = await counterEligibility(site.db, user, id);
    if (!elig.ok) return errorPage(reply, ctx, elig.reason === 'not_uploader' ? 403 : 409, ctx.t(elig.reason === 'not_uploader' ? 'lawful.counter.not_uploader' : 'lawful.counter.not_upheld'));
    return sendPage(reply, ctx, { title, body: counterFormBody(ctx, notice, elig.torrents, values, errors) }, status);
  };

  app.post<{ Params: { id: string } }>('/legal/counter/:id', async (req, reply) => {
    const user = requireUser(req, reply);
    const ctx = req.ctx;
    const id = idParam(req.params.id);
    const b = bodyOf(req);
    const values = { statement: str(b, 'statement', 20_000), goodFaith: checked(b, 'good_faith') };
    const r = await submitCounterNotice(site, user, id, values);
    if (r.ok) {
      setFlash(reply, 'lawful.counter.thanks');
      return reply.redirect(`/legal/counter/${id}`, 303);
    }
    if (r.reason !== 'invalid') return counterPage(req, reply, values, {});
    const errors: Errors = {};
    for (const p of r.problems) {
      errors[p.field] ??= p.code === 'required' ? ctx.t('common.form.required') : p.code === 'too_long' ? ctx.t('lawful.error.too_long', { max: p.max ?? 0 }) : ctx.t('lawful.error.good_faith');
    }
    return counterPage(req, reply, values, errors, 400);
  });

  app.get('/legal/transparency', async (req, reply) => {
    const [months, blocked] = await Promise.all([transparencyReport(site.db), countBlocks(site.db)]);
    return sendPage(reply, req.ctx, { title: req.ctx.t('lawful.transparency.title'), body: transparencyBody(req.ctx, months, blocked) });
  });

  // --- staff: notices ----------------------------------------------------------------------------
  app.get<{ Querystring: { status?: string; page?: string } }>('/staff/notices', async (req, reply) => {
    await requirePermission(req, 'notice.review');
    const ctx = req.ctx;
    const s = req.query.status;
    const status: NoticeStatus | null = s === 'all' ? null : (NOTICE_STATUSES as readonly string[]).includes(s ?? '') ? (s as NoticeStatus) : 'received';
    const page = pageParam(req.query.page);
    const [{ rows, total }, pendingCounters] = await Promise.all([
      listNotices(site.db, { status, limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE }),
      listCounterNotices(site.db, { status: 'received', limit: 100 }),
    ]);
    return sendPage(reply, ctx, { title: ctx.t('lawful.staff.notices'), body: noticeQueueBody(ctx, { status, rows, total, page, pageSize: PAGE_SIZE, pendingCounters }) });
  });

  const detail = async (ctx: RequestContext, reply: FastifyReply, id: number, note = '', error: string | null = null, status = 200) => {
    const n = await getNotice(site.db, id);
    if (!n) return errorPage(reply, ctx, 404, ctx.t('common.error.not_found'));
    const counts = await upheldNoticeCounts(site.db, n.items.flatMap((i) => (i.uploader ? [i.uploader.id] : [])));
    return sendPage(reply, ctx, { title: ctx.t('lawful.staff.notice_title', { id }), body: noticeDetailBody(ctx, n, counts, note, error) }, status);
  };

  app.get<{ Params: { id: string } }>('/staff/notices/:id', async (req, reply) => {
    await requirePermission(req, 'notice.review');
    return detail(req.ctx, reply, idParam(req.params.id));
  });

  app.post<{ Params: { id: string } }>('/staff/notices/:id/decide', async (req, reply) => {
    const actor = await requirePermission(req, 'notice.review');
    const ctx = req.ctx;
    const id = idParam(req.params.id);
    const b = bodyOf(req);
    const decision = str(b, 'decision', 20);
    const note = str(b, 'note', 10_000);
    if (decision !== 'uphold' && decision !== 'reject') return detail(ctx, reply, id, note, ctx.t('lawful.staff.error.decision'), 400);
    const r = decision === 'uphold' ? await upholdNotice(site, actor, id, note) : await rejectNotice(site, actor, id, note);
    if (!r.ok) {
      if (r.error === 'not_found') return errorPage(reply, ctx, 404, ctx.t('common.error.not_found'));
      if (r.error === 'note_too_long') return detail(ctx, reply, id, note, ctx.t('lawful.error.too_long', { max: 2000 }), 400);
      return detail(ctx, reply, id, note, ctx.t('lawful.staff.error.already_decided'), 409);
    }
    setFlash(reply, decision === 'uphold' ? 'lawful.staff.upheld' : 'lawful.staff.rejected');
    return reply.redirect(`/staff/notices/${id}`, 303);
  });

  app.post<{ Params: { id: string } }>('/staff/counter-notices/:id/decide', async (req, reply) => {
    const actor = await requirePermission(req, 'notice.review');
    const ctx = req.ctx;
    const id = idParam(req.params.id);
    const b = bodyOf(req);
    const decision = str(b, 'decision', 20);
    if (decision !== 'accept' && decision !== 'reject') throw new HttpError(400, 'lawful.staff.error.decision');
    const counter = await site.db.selectFrom('counter_notice').select('notice_id').where('id', '=', id).executeTakeFirst();
    if (!counter) return errorPage(reply, ctx, 404, ctx.t('common.error.not_found'));
    const r = await decideCounterNotice(site, actor, id, decision === 'accept', str(b, 'note', 10_000));
    if (!r.ok) {
      if (r.error === 'not_found') return errorPage(reply, ctx, 404, ctx.t('common.error.not_found'));
      return detail(ctx, reply, counter.notice_id, '', ctx.t(r.error === 'note_too_long' ? 'lawful.error.note_too_long' : 'lawful.staff.error.already_decided'), r.error === 'note_too_long' ? 400 : 409);
    }
    setFlash(reply, decision === 'accept' ? 'lawful.staff.counter_accepted' : 'lawful.staff.counter_rejected');
    return reply.redirect(`/staff/notices/${counter.notice_id}`, 303);
  });

  // --- staff: blocklist --------------------------------------------------------------------------
  const blocklistPage = async (ctx: RequestContext, reply: FastifyReply, page: number, values = { infoHash: '', reason: '' }, errors: Errors = {}, status = 200) => {
    const [rows, total] = await Promise.all([listBlocks(site.db, { limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE }), countBlocks(site.db)]);
    return sendPage(reply, ctx, { title: ctx.t('lawful.blocklist.title'), body: blocklistBody(ctx, { rows, total, page, pageSize: PAGE_SIZE, values, errors }) }, status);
  };

  app.get<{ Querystring: { page?: string } }>('/staff/blocklist', async (req, reply) => {
    await requirePermission(req, 'blocklist.manage');
    return blocklistPage(req.ctx, reply, pageParam(req.query.page));
  });

  app.post('/staff/blocklist', async (req, reply) => {
    const actor = await requirePermission(req, 'blocklist.manage');
    const ctx = req.ctx;
    const b = bodyOf(req);
    const values = { infoHash: str(b, 'info_hash', 200), reason: str(b, 'reason', 2000) };
    const r = await addBlock(site, actor, values);
    if (!r.ok) {
      const errors: Errors = {};
      for (const [k, code] of Object.entries(r.errors)) if (code) errors[k] = ctx.t(BLOCK_ERRORS[code], { max: 500 });
      return blocklistPage(ctx, reply, 1, values, errors, 400);
    }
    setFlash(reply, 'lawful.blocklist.added');
    return reply.redirect('/staff/blocklist', 303);
  });

  app.post('/staff/blocklist/remove', async (req, reply) => {
    const actor = await requirePermission(req, 'blocklist.manage');
    const removed = await removeBlock(site, actor, str(bodyOf(req), 'info_hash', 200));
    if (!removed) return errorPage(reply, req.ctx, 404, req.ctx.t('lawful.blocklist.error.not_blocked'));
    setFlash(reply, 'lawful.blocklist.removed');
    return reply.redirect('/staff/blocklist', 303);
  });
}

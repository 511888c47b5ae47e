/**
 * The bodies of the lawful pages: the public notice form and its receipt, the counter-notice
 * form, the transparency report, and the staff pages (notice queue, one notice with its decision
 * forms and counter-notices, the info-hash blocklist).
 */
import type { NoticeStatus } from '../../../db/schema.js';
import type { BlockRow } from '../../../site/lawful/blocklist.js';
import type { CounterNoticeView, MonthCounts, NoticeItemView, NoticeSummary, NoticeView } from '../../../site/lawful/notices.js';
import { NOTICE_LIMITS } from '../../../site/lawful/notices.js';
import type { RequestContext } from '../../context.js';
import { formatDate, formatNumber } from '../../format.js';
import { html, type Html } from '../../html.js';
import { csrfField } from '../../layout.js';
import type { MessageKey } from '../../messages.js';
import { checkbox, errorBanner, input, textarea, type Errors } from './forms.js';

const STATUS_KEYS: Record<NoticeStatus, MessageKey> = {
  received: 'lawful.status.received',
  reviewing: 'lawful.status.reviewing',
  upheld: 'lawful.status.upheld',
  rejected: 'lawful.status.rejected',
  restored: 'lawful.status.restored',
};
const COUNTER_STATUS_KEYS: Record<CounterNoticeView['status'], MessageKey> = {
  received: 'lawful.counter.status.received',
  accepted: 'lawful.counter.status.accepted',
  rejected: 'lawful.counter.status.rejected',
};
const TORRENT_STATUS_KEYS = {
  active: 'lawful.torrent_status.active',
  pending: 'lawful.torrent_status.pending',
  deleted: 'lawful.torrent_status.deleted',
} as const satisfies Record<string, MessageKey>;

export function statusLabel(ctx: RequestContext, s: NoticeStatus): string {
  return ctx.t(STATUS_KEYS[s]);
}

/** Paragraphs of user text (line breaks kept, everything escaped). */
function paragraphs(s: string): Html {
  return html`${s.split(/\n{2,}/).map((p) => html`<p class="user-text">${p.split('\n').map((line, i) => (i === 0 ? html`${line}` : html`<br>${line}`))}</p>`)}`;
}

// --- public -------------------------------------------------------------------------------------

export function legalIndexBody(ctx: RequestContext): Html {
  const { t } = ctx;
  return html`<h1>${t('lawful.index.title')}</h1>
<p>${t('lawful.index.intro')}</p>
<ul class="lawful-links">
  <li><a href="/legal/notice">${t('lawful.notice.title')}</a> — ${t('lawful.index.notice')}</li>
  <li><a href="/legal/transparency">${t('lawful.transparency.title')}</a> — ${t('lawful.index.transparency')}</li>
</ul>
<h2>${t('lawful.index.api_title')}</h2>
<p>${t('lawful.index.api')}</p>
<pre class="lawful-api"><code>POST /api/notices
Content-Type: application/json

{ "claimant": "…", "contact": "…", "works": "…",
  "items": ["https://…/torrents/123/…", "0123456789abcdef0123456789abcdef01234567"],
  "good_faith": true }</code></pre>
<h2>${t('lawful.index.counter_title')}</h2>
<p>${t('lawful.index.counter')}</p>`;
}

export interface NoticeFormValues {
  claimant: string;
  contact: string;
  works: string;
  items: string;
  goodFaith: boolean;
}

export function noticeFormBody(ctx: RequestContext, v: NoticeFormValues, errors: Errors, general: string | null = null): Html {
  const { t } = ctx;
  return html`<h1>${t('lawful.notice.title')}</h1>
<p>${t('lawful.notice.intro')}</p>
${errorBanner(ctx, errors, general)}
<form method="post" action="/legal/notice" class="form lawful-form" novalidate>
  ${csrfField(ctx)}
  ${input({ name: 'claimant', label: t('lawful.notice.claimant'), hint: t('lawful.notice.claimant_hint'), value: v.claimant, error: errors.claimant, required: true, maxlength: NOTICE_LIMITS.claimant, autocomplete: 'organization' })}
  ${textarea({ name: 'contact', label: t('lawful.notice.contact'), hint: t('lawful.notice.contact_hint'), value: v.contact, error: errors.contact, required: true, maxlength: NOTICE_LIMITS.contact, rows: 3 })}
  ${textarea({ name: 'works', label: t('lawful.notice.works'), hint: t('lawful.notice.works_hint'), value: v.works, error: errors.works, required: true, maxlength: NOTICE_LIMITS.works, rows: 5 })}
  ${textarea({ name: 'items', label: t('lawful.notice.items'), hint: t('lawful.notice.items_hint', { max: NOTICE_LIMITS.items }), value: v.items, error: errors.items, required: true, rows: 6 })}
  ${checkbox({ name: 'good_faith', label: t('lawful.notice.good_faith'), on: v.goodFaith, error: errors.good_faith, required: true })}
  <p><button type="submit">${t('lawful.notice.submit')}</button></p>
</form>`;
}

export function noticeReceivedBody(ctx: RequestContext, id: number): Html {
  const { t } = ctx;
  return html`<h1>${t('lawful.notice.received.title')}</h1>
<p role="status">${t('lawful.notice.received.text', { id })}</p>
<p>${t('lawful.notice.received.next')}</p>
<p><a href="/legal/transparency">${t('lawful.transparency.title')}</a></p>`;
}

function itemList(items: readonly NoticeItemView[]): Html {
  return html`<ul>${items.map((i) => html`<li>${i.torrent ? i.torrent.name : i.given}</li>`)}</ul>`;
}

export interface CounterFormValues {
  statement: string;
  goodFaith: boolean;
}

export function counterFormBody(ctx: RequestContext, notice: NoticeView, mine: readonly NoticeItemView[], v: CounterFormValues, errors: Errors): Html {
  const { t } = ctx;
  return html`<h1>${t('lawful.counter.title', { id: notice.id })}</h1>
<p>${t('lawful.counter.intro')}</p>
<section class="panel" aria-labelledby="h-notice">
  <h2 id="h-notice">${t('lawful.counter.notice')}</h2>
  <dl class="facts">
    <dt>${t('lawful.notice.claimant')}</dt><dd>${notice.claimant}</dd>
    <dt>${t('lawful.staff.received_at')}</dt><dd>${formatDate(ctx.locale, notice.createdAt)}</dd>
  </dl>
  <h3>${t('lawful.notice.works')}</h3>
  ${paragraphs(notice.works)}
  <h3>${t('lawful.counter.your_torrents')}</h3>
  ${itemList(mine)}
</section>
${errorBanner(ctx, errors)}
<form method="post" action="/legal/counter/${notice.id}" class="form lawful-form" novalidate>
  ${csrfField(ctx)}
  ${textarea({ name: 'statement', label: t('lawful.counter.statement'), hint: t('lawful.counter.statement_hint'), value: v.statement, error: errors.statement, required: true, maxlength: NOTICE_LIMITS.counter, rows: 8 })}
  ${checkbox({ name: 'good_faith', label: t('lawful.counter.good_faith'), on: v.goodFaith, error: errors.good_faith, required: true })}
  <p><button type="submit">${t('lawful.counter.submit')}</button></p>
</form>`;
}

export function counterStatusBody(ctx: RequestContext, notice: NoticeView, mine: CounterNoticeView): Html {
  const { t } = ctx;
  return html`<h1>${t('lawful.counter.title', { id: notice.id })}</h1>
<p role="status">${t('lawful.counter.sent', { date: formatDate(ctx.locale, mine.createdAt), status: t(COUNTER_STATUS_KEYS[mine.status]) })}</p>
<h2>${t('lawful.counter.statement')}</h2>
${paragraphs(mine.statement)}`;
}

export function transparencyBody(ctx: RequestContext, months: readonly MonthCounts[], blocked: number): Html {
  const { t, locale } = ctx;
  const n = (x: number) => formatNumber(locale, x);
  const total = months.reduce(
    (a, m) => ({ received: a.received + m.received, upheld: a.upheld + m.upheld, rejected: a.rejected + m.rejected, counterNotices: a.counterNotices + m.counterNotices, restored: a.restored + m.restored }),
    { received: 0, upheld: 0, rejected: 0, counterNotices: 0, restored: 0 },
  );
  const monthName = (m: string) => new Date(`${m}-01T00:00:00Z`).toLocaleDateString(locale === 'fr' ? 'fr-FR' : 'en-GB', { timeZone: 'UTC', year: 'numeric', month: 'long' });
  const row = (label: Html | string, c: Omit<MonthCounts, 'month'>, head = false) => html`<tr${head ? html` class="total"` : ''}>
  <th scope="row">${label}</th>
  <td class="num">${n(c.received)}</td><td class="num">${n(c.upheld)}</td><td class="num">${n(c.rejected)}</td><td class="num">${n(c.counterNotices)}</td><td class="num">${n(c.restored)}</td>
</tr>`;
  return html`<h1>${t('lawful.transparency.title')}</h1>
<p>${t('lawful.transparency.intro')}</p>
${months.length === 0
  ? html`<p>${t('lawful.transparency.none')}</p>`
  : html`<div class="table-wrap"><table class="lawful-table transparency">
  <caption>${t('lawful.transparency.caption')}</caption>
  <thead><tr>
    <th scope="col">${t('lawful.transparency.month')}</th>
    <th scope="col">${t('lawful.transparency.received')}</th>
    <th scope="col">${t('lawful.transparency.upheld')}</th>
    <th scope="col">${t('lawful.transparency.rejected')}</th>
    <th scope="col">${t('lawful.transparency.counter')}</th>
    <th scope="col">${t('lawful.transparency.restored')}</th>
  </tr></thead>
  <tbody>${months.map((m) => row(html`<time datetime="${m.month}">${monthName(m.month)}</time>`, m))}</tbody>
  <tfoot>${row(t('lawful.transparency.total'), total, true)}</tfoot>
</table></div>`}
<p>${t('lawful.transparency.blocked', { n: n(blocked) })}</p>
<p>${t('lawful.transparency.definitions')}</p>`;
}

// --- staff --------------------------------------------------------------------------------------

export function staffNav(ctx: RequestContext, current: 'notices' | 'blocklist'): Html {
  const items: Array<['notices' | 'blocklist', string, MessageKey]> = [
    ['notices', '/staff/notices', 'lawful.staff.notices'],
    ['blocklist', '/staff/blocklist', 'lawful.blocklist.title'],
  ];
  return html`<nav class="lawful-nav" aria-label="${ctx.t('lawful.staff.nav')}">
  <ul>${items.map(([k, href, label]) => html`<li><a href="${href}"${k === current ? html` aria-current="page"` : ''}>${ctx.t(label)}</a></li>`)}</ul>
</nav>`;
}

export function noticeQueueBody(
  ctx: RequestContext,
  o: { status: NoticeStatus | null; rows: readonly NoticeSummary[]; total: number; page: number; pageSize: number; pendingCounters: readonly CounterNoticeView[] },
): Html {
  const { t, locale } = ctx;
  const filters: Array<[NoticeStatus | null, string]> = [
    ['received', t('lawful.status.received')],
    ['upheld', t('lawful.status.upheld')],
    ['rejected', t('lawful.status.rejected')],
    ['restored', t('lawful.status.restored')],
    [null, t('lawful.staff.all')],
  ];
  const href = (s: NoticeStatus | null, page = 1) => `/staff/notices?status=${s ?? 'all'}${page > 1 ? `&page=${page}` : ''}`;
  const pages = Math.max(1, Math.ceil(o.total / o.pageSize));
  return html`<h1>${t('lawful.staff.notices')}</h1>
${staffNav(ctx, 'notices')}
${o.pendingCounters.length > 0
  ? html`<section class="panel" aria-labelledby="h-counters">
  <h2 id="h-counters">${t('lawful.staff.pending_counters', { n: o.pendingCounters.length })}</h2>
  <ul>${o.pendingCounters.map((c) => html`<li><a href="/staff/notices/${c.noticeId}#counter-${c.id}">${t('lawful.staff.counter_for', { id: c.noticeId, user: c.user?.username ?? '–' })}</a> (${formatDate(locale, c.createdAt)})</li>`)}</ul>
</section>`
  : ''}
<nav class="lawful-filters" aria-label="${t('lawful.staff.filter')}">
  <ul>${filters.map(([s, label]) => html`<li><a href="${href(s)}"${s === o.status ? html` aria-current="page"` : ''}>${label}</a></li>`)}</ul>
</nav>
${o.rows.length === 0
  ? html`<p>${t('lawful.staff.empty')}</p>`
  : html`<div class="table-wrap"><table class="lawful-table">
  <caption>${t('lawful.staff.caption', { n: o.total, status: o.status ? t(STATUS_KEYS[o.status]) : t('lawful.staff.all') })}</caption>
  <thead><tr>
    <th scope="col">${t('lawful.staff.number')}</th>
    <th scope="col">${t('lawful.staff.received_at')}</th>
    <th scope="col">${t('lawful.notice.claimant')}</th>
    <th scope="col">${t('lawful.staff.items')}</th>
    <th scope="col">${t('lawful.staff.source')}</th>
    <th scope="col">${t('lawful.staff.status')}</th>
  </tr></thead>
  <tbody>${o.rows.map(
    (r) => html`<tr>
    <th scope="row"><a href="/staff/notices/${r.id}">#${r.id}</a></th>
    <td>${formatDate(locale, r.createdAt)}</td>
    <td>${r.claimant}</td>
    <td class="num">${r.items}</td>
    <td>${r.source === 'api' ? t('lawful.staff.source_api') : t('lawful.staff.source_form')}</td>
    <td>${t(STATUS_KEYS[r.status])}${r.pendingCounters > 0 ? html` <strong>${t('lawful.staff.has_counter')}</strong>` : ''}</td>
  </tr>`,
  )}</tbody>
</table></div>`}
${pages > 1
  ? html`<nav class="pagination" aria-label="${t('common.pagination')}"><ul>
  ${o.page > 1 ? html`<li><a href="${href(o.status, o.page - 1)}" rel="prev">${t('common.previous')}</a></li>` : ''}
  <li>${t('common.page', { n: o.page })}</li>
  ${o.page < pages ? html`<li><a href="${href(o.status, o.page + 1)}" rel="next">${t('common.next')}</a></li>` : ''}
</ul></nav>`
  : ''}`;
}

export function noticeDetailBody(ctx: RequestContext, n: NoticeView, counts: ReadonlyMap<number, number>, note: string, error: string | null): Html {
  const { t, locale } = ctx;
  const open = n.status === 'received' || n.status === 'reviewing';
  return html`<h1>${t('lawful.staff.notice_title', { id: n.id })}</h1>
${staffNav(ctx, 'notices')}
<p><a href="/staff/notices">${t('lawful.staff.back')}</a></p>
<section class="panel" aria-labelledby="h-claim">
  <h2 id="h-claim">${t('lawful.staff.claim')}</h2>
  <dl class="facts">
    <dt>${t('lawful.staff.status')}</dt><dd class="notice-status">${t(STATUS_KEYS[n.status])}</dd>
    <dt>${t('lawful.staff.received_at')}</dt><dd>${formatDate(locale, n.createdAt)}</dd>
    <dt>${t('lawful.staff.source')}</dt><dd>${n.source === 'api' ? t('lawful.staff.source_api') : t('lawful.staff.source_form')}</dd>
    <dt>${t('lawful.notice.claimant')}</dt><dd>${n.claimant}</dd>
    <dt>${t('lawful.notice.contact')}</dt><dd>${paragraphs(n.contact)}</dd>
    <dt>${t('lawful.staff.statement')}</dt><dd>${n.statement}</dd>
    ${n.reviewer ? html`<dt>${t('lawful.staff.reviewer')}</dt><dd>${n.reviewer.username}${n.decidedAt ? html` (${formatDate(locale, n.decidedAt)})` : ''}</dd>` : ''}
    ${n.decisionNote ? html`<dt>${t('lawful.staff.note')}</dt><dd>${n.decisionNote}</dd>` : ''}
  </dl>
  <h3>${t('lawful.notice.works')}</h3>
  ${paragraphs(n.works)}
</section>
<div class="table-wrap"><table class="lawful-table">
  <caption>${t('lawful.staff.targets', { n: n.items.length })}</caption>
  <thead><tr>
    <th scope="col">${t('lawful.staff.given')}</th>
    <th scope="col">${t('lawful.staff.torrent')}</th>
    <th scope="col">${t('lawful.staff.uploader')}</th>
    <th scope="col">${t('lawful.staff.upheld_count')}</th>
  </tr></thead>
  <tbody>${n.items.map(
    (i) => html`<tr>
    <th scope="row"><code class="given">${i.given}</code></th>
    <td>${i.torrent ? html`<a href="/t/${i.torrent.id}">${i.torrent.name}</a> (${t(TORRENT_STATUS_KEYS[i.torrent.status])})` : html`<em>${t('lawful.staff.not_on_site')}</em>`}${i.infoHash ? html`<br><code class="hash">${i.infoHash}</code>` : ''}</td>
    <td>${i.uploader ? html`<a href="/u/${i.uploader.id}">${i.uploader.username}</a>` : '–'}</td>
    <td class="num">${i.uploader ? formatNumber(locale, counts.get(i.uploader.id) ?? 0) : '–'}</td>
  </tr>`,
  )}</tbody>
</table></div>
${open
  ? html`<section class="panel" aria-labelledby="h-decide">
  <h2 id="h-decide">${t('lawful.staff.decide')}</h2>
  <p>${t('lawful.staff.decide_help')}</p>
  ${error ? html`<div class="form-errors" role="alert"><p>${error}</p></div>` : ''}
  <form method="post" action="/staff/notices/${n.id}/decide" class="form">
    ${csrfField(ctx)}
    ${textarea({ name: 'note', label: t('lawful.staff.note'), hint: t('lawful.staff.note_hint'), value: note, maxlength: NOTICE_LIMITS.note, rows: 3 })}
    <p class="actions">
      <button type="submit" name="decision" value="uphold">${t('lawful.staff.uphold')}</button>
      <button type="submit" name="decision" value="reject">${t('lawful.staff.reject')}</button>
    </p>
  </form>
</section>`
  : ''}
<section aria-labelledby="h-counter-list">
  <h2 id="h-counter-list">${t('lawful.staff.counters')}</h2>
  ${n.counters.length === 0 ? html`<p>${t('lawful.staff.no_counters')}</p>` : n.counters.map((c) => counterPanel(ctx, c))}
</section>`;
}

function counterPanel(ctx: RequestContext, c: CounterNoticeView): Html {
  const { t, locale } = ctx;
  return html`<article class="panel counter-notice" id="counter-${c.id}" aria-labelledby="h-counter-${c.id}">
  <h3 id="h-counter-${c.id}">${t('lawful.staff.counter_by', { user: c.user?.username ?? '–', date: formatDate(locale, c.createdAt) })}</h3>
  <p>${t('lawful.staff.status')}: ${t(COUNTER_STATUS_KEYS[c.status])}</p>
  ${paragraphs(c.statement)}
  ${c.status === 'received'
    ? html`<form method="post" action="/staff/counter-notices/${c.id}/decide" class="form">
    ${csrfField(ctx)}
    <div class="field">
      <label for="f-counter-note-${c.id}">${t('lawful.staff.note')}</label>
      <textarea id="f-counter-note-${c.id}" name="note" rows="2" maxlength="${NOTICE_LIMITS.note}"></textarea>
    </div>
    <p class="actions">
      <button type="submit" name="decision" value="accept">${t('lawful.staff.counter_accept')}</button>
      <button type="submit" name="decision" value="reject">${t('lawful.staff.counter_reject')}</button>
    </p>
  </form>`
    : ''}
</article>`;
}

export interface BlockFormValues {
  infoHash: string;
  reason: string;
}

export function blocklistBody(
  ctx: RequestContext,
  o: { rows: ReadonlyArray<BlockRow & { created_by_name: string | null }>; total: number; page: number; pageSize: number; values: BlockFormValues; errors: Errors },
): Html {
  const { t, locale } = ctx;
  const pages = Math.max(1, Math.ceil(o.total / o.pageSize));
  return html`<h1>${t('lawful.blocklist.title')}</h1>
${staffNav(ctx, 'blocklist')}
<p>${t('lawful.blocklist.intro')}</p>
<section class="panel" aria-labelledby="h-block-add">
  <h2 id="h-block-add">${t('lawful.blocklist.add')}</h2>
  ${errorBanner(ctx, o.errors)}
  <form method="post" action="/staff/blocklist" class="form" novalidate>
    ${csrfField(ctx)}
    ${input({ name: 'info_hash', label: t('lawful.blocklist.hash'), hint: t('lawful.blocklist.hash_hint'), value: o.values.infoHash, error: o.errors.info_hash, required: true, maxlength: 64 })}
    ${input({ name: 'reason', label: t('lawful.blocklist.reason'), value: o.values.reason, error: o.errors.reason, required: true, maxlength: 500 })}
    <p><button type="submit">${t('lawful.blocklist.add_submit')}</button></p>
  </form>
</section>
${o.rows.length === 0
  ? html`<p>${t('lawful.blocklist.empty')}</p>`
  : html`<div class="table-wrap"><table class="lawful-table blocklist">
  <caption>${t('lawful.blocklist.caption', { n: o.total })}</caption>
  <thead><tr>
    <th scope="col">${t('lawful.blocklist.hash')}</th>
    <th scope="col">${t('lawful.blocklist.reason')}</th>
    <th scope="col">${t('lawful.blocklist.added_at')}</th>
    <th scope="col">${t('lawful.blocklist.action')}</th>
  </tr></thead>
  <tbody>${o.rows.map(
    (r) => html`<tr>
    <th scope="row"><code class="hash">${r.info_hash}</code></th>
    <td>${r.reason}${r.notice_id !== null ? html` (<a href="/staff/notices/${r.notice_id}">#${r.notice_id}</a>)` : ''}</td>
    <td>${formatDate(locale, r.created_at)}${r.created_by_name ? html` — ${r.created_by_name}` : ''}</td>
    <td><form method="post" action="/staff/blocklist/remove" class="inline">
      ${csrfField(ctx)}
      <input type="hidden" name="info_hash" value="${r.info_hash}">
      <button type="submit" class="link">${t('lawful.blocklist.remove')}<span class="visually-hidden"> ${r.info_hash}</span></button>
    </form></td>
  </tr>`,
  )}</tbody>
</table></div>`}
${pages > 1
  ? html`<nav class="pagination" aria-label="${t('common.pagination')}"><ul>
  ${o.page > 1 ? html`<li><a href="/staff/blocklist?page=${o.page - 1}" rel="prev">${t('common.previous')}</a></li>` : ''}
  <li>${t('common.page', { n: o.page })}</li>
  ${o.page < pages ? html`<li><a href="/staff/blocklist?page=${o.page + 1}" rel="next">${t('common.next')}</a></li>` : ''}
</ul></nav>`
  : ''}`;
}

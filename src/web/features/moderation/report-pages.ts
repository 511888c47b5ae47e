/** The report pages: the members' report form, the staff's list (filtered by status) and one report with its workflow. */
import type { ReportStatus } from '../../../db/schema.js';
import { TEXT_MAX } from '../../../site/moderation/common.js';
import type { ReportNoteRow, ReportRow, ReportTarget, Reportable } from '../../../site/moderation/reports.js';
import type { RequestContext } from '../../context.js';
import { formatDate } from '../../format.js';
import { html, type Html } from '../../html.js';
import { csrfField } from '../../layout.js';
import { errorSummary, textField } from './forms.js';

function time(ctx: RequestContext, at: number): Html {
  return html`<time datetime="${new Date(at * 1000).toISOString()}">${formatDate(ctx.locale, at)}</time>`;
}

export function targetLink(ctx: RequestContext, target: ReportTarget): Html {
  const kind = ctx.t(`moderation.report.type.${target.type}`);
  if (target.href === null || target.label === null) return html`${kind} #${target.id} (${ctx.t('moderation.reports.target_gone')})`;
  return html`${kind} · <a href="${target.href}">${target.label}</a>`;
}

export function reportFormBody(ctx: RequestContext, type: Reportable, target: ReportTarget, reason: string, error: string | null): Html {
  const { t } = ctx;
  return html`<h1>${t(`moderation.report.title.${type}`)}</h1>
${errorSummary(ctx, error ? [{ anchor: 'report-reason', text: error }] : [])}
<p>${t('moderation.report.about')} ${targetLink(ctx, target)}</p>
<form method="post" action="/report/${type}/${target.id}" class="form">
${csrfField(ctx)}
${textField({ id: 'report-reason', name: 'reason', label: t('moderation.report.reason'), value: reason, error, hint: t('moderation.report.reason_hint'), rows: 5, maxlength: TEXT_MAX, required: true })}
<div><button type="submit">${t('moderation.report.submit')}</button></div>
</form>`;
}

export type ReportFilter = ReportStatus | 'all';

export function reportsBody(
  ctx: RequestContext,
  filter: ReportFilter,
  counts: Record<ReportStatus, number>,
  rows: ReadonlyArray<{ report: ReportRow; target: ReportTarget }>,
): Html {
  const { t } = ctx;
  const tabs: ReportFilter[] = ['open', 'claimed', 'resolved', 'all'];
  const count = (f: ReportFilter) => (f === 'all' ? counts.open + counts.claimed + counts.resolved : counts[f]);
  return html`<h1>${t('moderation.reports.title')}</h1>
<nav class="tabs" aria-label="${t('moderation.reports.filter')}"><ul>${tabs.map(
    (f) => html`<li><a href="/staff/reports?status=${f}"${f === filter ? html` aria-current="page"` : ''}>${t(`moderation.reports.status.${f}`)} (${count(f)})</a></li>`,
  )}</ul></nav>
${
  rows.length === 0
    ? html`<p class="empty">${t('moderation.reports.empty')}</p>`
    : html`<div class="table-wrap"><table class="moderation-reports">
<caption>${t('moderation.reports.caption', { status: t(`moderation.reports.status.${filter}`) })}</caption>
<thead><tr>
  <th scope="col">${t('moderation.reports.id')}</th>
  <th scope="col">${t('moderation.reports.target')}</th>
  <th scope="col">${t('moderation.reports.reason')}</th>
  <th scope="col">${t('moderation.reports.reporter')}</th>
  <th scope="col">${t('moderation.reports.status')}</th>
  <th scope="col">${t('moderation.reports.claimed_by')}</th>
  <th scope="col">${t('moderation.reports.created')}</th>
</tr></thead>
<tbody>${rows.map(
        ({ report: r, target }) => html`<tr>
  <th scope="row"><a href="/staff/reports/${r.id}">${t('moderation.reports.number', { id: r.id })}</a></th>
  <td>${targetLink(ctx, target)}</td>
  <td class="moderation-reason">${r.reason.length > 140 ? r.reason.slice(0, 140) + '…' : r.reason}</td>
  <td>${r.reporter_name ?? t('moderation.unknown_member')}</td>
  <td>${t(`moderation.reports.status.${r.status}`)}</td>
  <td>${r.claimer_name ?? '–'}</td>
  <td>${time(ctx, r.created_at)}</td>
</tr>`,
      )}</tbody>
</table></div>`
}`;
}

export interface ReportForms {
  resolution: string;
  note: string;
  resolutionError: string | null;
  noteError: string | null;
}

export function reportBody(ctx: RequestContext, r: ReportRow, target: ReportTarget, notes: ReportNoteRow[], forms: ReportForms): Html {
  const { t } = ctx;
  const errors = [
    forms.resolutionError ? { anchor: 'report-resolution', text: forms.resolutionError } : null,
    forms.noteError ? { anchor: 'report-note', text: forms.noteError } : null,
  ].filter((x): x is { anchor: string; text: string } => x !== null);
  return html`<h1>${t('moderation.reports.one', { id: r.id })}</h1>
<p><a href="/staff/reports?status=${r.status}">${t('moderation.reports.back')}</a></p>
${errorSummary(ctx, errors)}
<dl class="facts">
<dt>${t('moderation.reports.target')}</dt><dd>${targetLink(ctx, target)}</dd>
<dt>${t('moderation.reports.reason')}</dt><dd class="moderation-reason">${r.reason}</dd>
<dt>${t('moderation.reports.reporter')}</dt><dd>${r.reporter_id !== null && r.reporter_name ? html`<a href="/u/${r.reporter_id}">${r.reporter_name}</a>` : t('moderation.unknown_member')}</dd>
<dt>${t('moderation.reports.created')}</dt><dd>${time(ctx, r.created_at)}</dd>
<dt>${t('moderation.reports.status')}</dt><dd class="report-status">${t(`moderation.reports.status.${r.status}`)}</dd>
<dt>${t('moderation.reports.claimed_by')}</dt><dd class="report-claimer">${r.claimer_name ?? '–'}</dd>
${r.resolution !== null ? html`<dt>${t('moderation.reports.resolution')}</dt><dd class="moderation-reason">${r.resolution}</dd>` : ''}
</dl>
${r.status === 'open' ? html`<form method="post" action="/staff/reports/${r.id}/claim" class="form">${csrfField(ctx)}<div><button type="submit">${t('moderation.reports.claim')}</button></div></form>` : ''}
${r.status !== 'resolved' ? html`<form method="post" action="/staff/reports/${r.id}/resolve" class="form">
${csrfField(ctx)}
${textField({ id: 'report-resolution', name: 'resolution', label: t('moderation.reports.resolution'), value: forms.resolution, error: forms.resolutionError, rows: 3, maxlength: TEXT_MAX, required: true })}
<div><button type="submit">${t('moderation.reports.resolve')}</button></div>
</form>` : ''}
<section aria-labelledby="h-report-notes">
<h2 id="h-report-notes">${t('moderation.reports.notes')}</h2>
${notes.length === 0 ? html`<p class="empty">${t('moderation.reports.no_notes')}</p>` : html`<ol class="report-notes">${notes.map((n) => html`<li><p class="report-note-meta">${n.author_name ?? t('moderation.unknown_member')} · ${time(ctx, n.created_at)}</p><p class="moderation-reason">${n.body}</p></li>`)}</ol>`}
<form method="post" action="/staff/reports/${r.id}/note" class="form">
${csrfField(ctx)}
${textField({ id: 'report-note', name: 'body', label: t('moderation.reports.add_note'), value: forms.note, error: forms.noteError, rows: 3, maxlength: TEXT_MAX, required: true })}
<div><button type="submit">${t('moderation.reports.add_note_submit')}</button></div>
</form>
</section>`;
}

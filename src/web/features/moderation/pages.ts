/**
 * The moderation pages for torrents: the staff queue and the review of one pending torrent, the
 * edit form (staff edit and the uploader's resubmission share it), and the delete, merge and
 * factors forms. All work without JavaScript.
 */
import { termInput } from '../upload/pages.js';
import { renderDescription } from '../../../markup/render.js';
import type { Catalogue, CatalogueCategory, CatalogueTermType } from '../../../site/catalogue/catalogue.js';
import { REASON_MAX } from '../../../site/moderation/common.js';
import type { EditField } from '../../../site/moderation/edit.js';
import type { PendingTorrent } from '../../../site/moderation/queue.js';
import { FACTOR_PRESETS, presetOf, type FactorPreset } from '../../../site/moderation/torrents.js';
import type { TorrentDetails } from '../../../site/torrents/read.js';
import type { RequestContext } from '../../context.js';
import { formatDate, formatSize } from '../../format.js';
import { attr, html, raw, type Html } from '../../html.js';
import { csrfField } from '../../layout.js';
import { torrentPath } from '../torrent/links.js';
import { errorSummary, textField } from './forms.js';

function categoryName(ctx: RequestContext, r: { category_name_en: string | null; category_name_fr: string | null }): string {
  return (ctx.locale === 'fr' ? r.category_name_fr : r.category_name_en) ?? ctx.t('moderation.no_category');
}

function time(ctx: RequestContext, at: number): Html {
  return html`<time datetime="${new Date(at * 1000).toISOString()}">${formatDate(ctx.locale, at)}</time>`;
}

// --- the queue -------------------------------------------------------------------------------------

export function queueBody(ctx: RequestContext, q: { toReview: PendingTorrent[]; awaitingEdit: PendingTorrent[] }): Html {
  const { t } = ctx;
  const table = (id: string, rows: PendingTorrent[], withNote: boolean) =>
    rows.length === 0
      ? html`<p class="empty">${t('moderation.queue.empty')}</p>`
      : html`<div class="table-wrap"><table class="moderation-queue" aria-labelledby="${id}">
<thead><tr>
  <th scope="col">${t('moderation.queue.torrent')}</th>
  <th scope="col">${t('moderation.queue.uploader')}</th>
  <th scope="col">${t('moderation.queue.category')}</th>
  <th scope="col" class="num">${t('moderation.queue.size')}</th>
  <th scope="col">${t('moderation.queue.added')}</th>
  ${withNote ? html`<th scope="col">${t('moderation.queue.note')}</th>` : ''}
  <th scope="col">${t('moderation.queue.actions')}</th>
</tr></thead>
<tbody>${rows.map(
          (r) => html`<tr>
  <th scope="row"><a href="/t/${r.id}">${r.name}</a></th>
  <td>${r.uploader_id !== null && r.uploader_name !== null ? html`<a href="/u/${r.uploader_id}">${r.uploader_name}</a>` : t('moderation.unknown_member')}</td>
  <td>${categoryName(ctx, r)}</td>
  <td class="num">${formatSize(t, ctx.locale, r.size)}</td>
  <td>${time(ctx, r.created_at)}</td>
  ${withNote ? html`<td>${r.moderation_note}</td>` : ''}
  <td><a href="/staff/queue/${r.id}">${t('moderation.queue.review')}<span class="visually-hidden"> ${r.name}</span></a></td>
</tr>`,
        )}</tbody>
</table></div>`;
  return html`<h1>${t('moderation.queue.title')}</h1>
<p>${t('moderation.queue.intro')}</p>
<section aria-labelledby="h-queue-review">
<h2 id="h-queue-review">${t('moderation.queue.to_review', { n: q.toReview.length })}</h2>
${table('h-queue-review', q.toReview, false)}
</section>
<section aria-labelledby="h-queue-edit">
<h2 id="h-queue-edit">${t('moderation.queue.awaiting_edit', { n: q.awaitingEdit.length })}</h2>
${table('h-queue-edit', q.awaitingEdit, true)}
</section>`;
}

export interface ReviewForm {
  reason: string;
  note: string;
  reasonError: string | null;
  noteError: string | null;
}

export function reviewBody(ctx: RequestContext, d: TorrentDetails, files: number, form: ReviewForm): Html {
  const { t, locale, site } = ctx;
  const tor = d.torrent;
  const description = tor.description.trim()
    ? raw(renderDescription(tor.description, tor.description_format, { externalImages: site.config.web.external_images }))
    : null;
  const category = d.category ? (d.parent ? `${d.parent[locale === 'fr' ? 'name_fr' : 'name_en']} › ${d.category[locale === 'fr' ? 'name_fr' : 'name_en']}` : d.category[locale === 'fr' ? 'name_fr' : 'name_en']) : t('moderation.no_category');
  const terms = d.terms.map((x) => (locale === 'fr' ? x.name_fr : x.name_en)).join(', ');
  const errors = [
    form.reasonError ? { anchor: 'review-reason', text: form.reasonError } : null,
    form.noteError ? { anchor: 'review-note', text: form.noteError } : null,
  ].filter((x): x is { anchor: string; text: string } => x !== null);
  return html`<h1>${t('moderation.review.title', { name: tor.name })}</h1>
<p><a href="/staff/queue">${t('moderation.review.back')}</a> · <a href="${torrentPath(tor)}">${t('moderation.review.open_page')}</a></p>
${errorSummary(ctx, errors)}
<dl class="facts">
<dt>${t('moderation.queue.uploader')}</dt><dd>${d.uploader ? html`<a href="/u/${d.uploader.id}">${d.uploader.username}</a>` : t('moderation.unknown_member')}${tor.anonymous === 1 ? html` (${t('common.anonymous')})` : ''}</dd>
<dt>${t('moderation.queue.category')}</dt><dd>${category}</dd>
<dt>${t('moderation.review.terms')}</dt><dd>${terms || t('moderation.review.no_terms')}</dd>
<dt>${t('moderation.queue.size')}</dt><dd>${formatSize(t, locale, tor.size)} · ${t('moderation.review.files', { n: files })}</dd>
<dt>${t('moderation.queue.added')}</dt><dd>${time(ctx, tor.created_at)}</dd>
${tor.info_hash_v1 ? html`<dt>${t('moderation.review.info_hash')}</dt><dd><code class="hash">${tor.info_hash_v1}</code></dd>` : ''}
${tor.moderation_note ? html`<dt>${t('moderation.review.note_sent')}</dt><dd>${tor.moderation_note}</dd>` : ''}
</dl>
<section aria-labelledby="h-review-description">
<h2 id="h-review-description">${t('moderation.review.description')}</h2>
${description ? html`<div class="description panel">${description}</div>` : html`<p class="empty">${t('moderation.review.no_description')}</p>`}
</section>
<section aria-labelledby="h-review-decide" class="moderation-decide">
<h2 id="h-review-decide">${t('moderation.review.decide')}</h2>
<form method="post" action="/staff/queue/${tor.id}/approve" class="form">
${csrfField(ctx)}
<p>${t('moderation.review.approve_hint')}</p>
<div><button type="submit">${t('moderation.review.approve')}</button></div>
</form>
<form method="post" action="/staff/queue/${tor.id}/request-edit" class="form">
${csrfField(ctx)}
${textField({ id: 'review-note', name: 'note', label: t('moderation.review.note'), value: form.note, error: form.noteError, hint: t('moderation.review.note_hint'), rows: 4, maxlength: REASON_MAX * 5, required: true })}
<div><button type="submit">${t('moderation.review.request_edit')}</button></div>
</form>
<form method="post" action="/staff/queue/${tor.id}/reject" class="form">
${csrfField(ctx)}
${textField({ id: 'review-reason', name: 'reason', label: t('moderation.review.reason'), value: form.reason, error: form.reasonError, hint: t('moderation.review.reason_hint'), maxlength: REASON_MAX, required: true })}
<div><button type="submit" class="danger">${t('moderation.review.reject')}</button></div>
</form>
</section>`;
}

// --- the edit form -----------------------------------------------------------------------------------

export interface EditFormState {
  mode: 'staff' | 'resubmit';
  torrent: { id: number; name: string; slug: string | null };
  title: string;
  description: string;
  format: string;
  /** The subcategory whose terms are offered (staff: may differ from the torrent's after a change). */
  category: CatalogueCategory | null;
  termIds: ReadonlySet<number>;
  anonymous: boolean;
  errors: Partial<Record<EditField, string[]>>;
  /** The staff's request, shown to the uploader. */
  note: string | null;
}

const EDIT_ANCHOR: Record<EditField, string> = {
  title: 'edit-title',
  description: 'edit-description',
  format: 'edit-format',
  category: 'edit-category',
  terms: 'edit-terms',
};
const EDIT_ORDER: EditField[] = ['category', 'terms', 'title', 'format', 'description'];

function fieldErrors(state: EditFormState, f: EditField): Html {
  const list = state.errors[f];
  if (!list || list.length === 0) return html``;
  return html`<div class="field-error" id="${EDIT_ANCHOR[f]}-error">${list.map((m) => html`<p>${m}</p>`)}</div>`;
}

function invalid(state: EditFormState, f: EditField): Html {
  return state.errors[f]?.length ? html` aria-invalid="true" aria-describedby="${EDIT_ANCHOR[f]}-error"` : html``;
}

function termControl(ctx: RequestContext, state: EditFormState, type: CatalogueTermType): Html {
  // Deprecated terms stay offered when the torrent has them.
  const terms = type.termsIn(ctx.locale).filter((x) => !x.deprecated || state.termIds.has(x.id));
  return termInput(ctx, type, terms, state.termIds, { idPrefix: 'edit-term', unsetLabel: ctx.t('moderation.edit.term_unset') });
}

export function editFormBody(ctx: RequestContext, catalogue: Catalogue, state: EditFormState): Html {
  const { t, locale } = ctx;
  const action = state.mode === 'staff' ? `/staff/torrents/${state.torrent.id}/edit` : `/torrents/${state.torrent.id}/resubmit`;
  const all = EDIT_ORDER.flatMap((f) => (state.errors[f] ?? []).map((m) => ({ anchor: EDIT_ANCHOR[f], text: m })));
  const types = state.category && !state.category.isParent ? state.category.termTypes.filter((tt) => !tt.deprecated || tt.terms.some((x) => state.termIds.has(x.id))) : [];
  const categorySelect =
    state.mode === 'staff'
      ? html`<div>
  <label for="edit-category">${t('moderation.edit.category')}</label>
  <select id="edit-category" name="category"${invalid(state, 'category')}>
    ${catalogue.parents
      .filter((p) => p.children.length > 0)
      .map((p) => html`<optgroup label="${p.name(locale)}">${p.children.map((c) => html`<option value="${c.id}"${attr('selected', c.id === state.category?.id)}>${c.name(locale)}</option>`)}</optgroup>`)}
  </select>
  <p class="hint">${t('moderation.edit.category_hint')}</p>
  ${fieldErrors(state, 'category')}
</div>`
      : '';
  return html`<h1>${state.mode === 'staff' ? t('moderation.edit.title_staff', { name: state.torrent.name }) : t('moderation.edit.title_resubmit', { name: state.torrent.name })}</h1>
<p><a href="${torrentPath(state.torrent)}">${t('moderation.back_to_torrent')}</a></p>
${state.note ? html`<div class="notice pending"><p>${t('moderation.edit.staff_note')}</p><p class="moderation-note">${state.note}</p></div>` : ''}
${errorSummary(ctx, all)}
<form method="post" action="${action}" class="form upload-form moderation-edit">
${csrfField(ctx)}
${categorySelect}
<fieldset id="edit-terms" class="upload-terms">
  <legend>${t('moderation.edit.terms')}</legend>
  ${fieldErrors(state, 'terms')}
  ${types.length > 0 ? types.map((tt) => termControl(ctx, state, tt)) : html`<p class="hint">${t('moderation.edit.no_terms')}</p>`}
</fieldset>
<div>
  <label for="edit-title">${t('moderation.edit.name')}</label>
  <input type="text" id="edit-title" name="title" value="${state.title}" maxlength="255" required${invalid(state, 'title')}>
  ${fieldErrors(state, 'title')}
</div>
<fieldset id="edit-format" class="upload-format">
  <legend>${t('moderation.edit.format')}</legend>
  ${(['bbcode', 'markdown'] as const).map(
    (f) => html`<input type="radio" id="edit-format-${f}" name="format" value="${f}"${attr('checked', state.format === f || (f === 'bbcode' && state.format !== 'markdown'))}> <label for="edit-format-${f}">${t(`moderation.edit.format.${f}`)}</label> `,
  )}
  ${fieldErrors(state, 'format')}
</fieldset>
<div>
  <label for="edit-description">${t('moderation.edit.description')}</label>
  <textarea id="edit-description" name="description" rows="14"${invalid(state, 'description')}>${state.description}</textarea>
  ${fieldErrors(state, 'description')}
</div>
${state.mode === 'staff' ? html`<div>
  <input type="checkbox" id="edit-anonymous" name="anonymous" value="1"${attr('checked', state.anonymous)}>
  <label for="edit-anonymous" class="inline-label">${t('moderation.edit.anonymous')}</label>
</div>` : ''}
<div><button type="submit">${state.mode === 'staff' ? t('moderation.edit.save') : t('moderation.edit.resubmit')}</button></div>
</form>`;
}

// --- delete, merge, factors -------------------------------------------------------------------------

export function deleteBody(ctx: RequestContext, tor: { id: number; name: string; slug: string | null }, reason: string, error: string | null): Html {
  const { t } = ctx;
  return html`<h1>${t('moderation.delete.title', { name: tor.name })}</h1>
<p><a href="${torrentPath(tor)}">${t('moderation.back_to_torrent')}</a></p>
${errorSummary(ctx, error ? [{ anchor: 'delete-reason', text: error }] : [])}
<form method="post" action="/staff/torrents/${tor.id}/delete" class="form">
${csrfField(ctx)}
<p>${t('moderation.delete.intro')}</p>
${textField({ id: 'delete-reason', name: 'reason', label: t('moderation.delete.reason'), value: reason, error, hint: t('moderation.delete.reason_hint'), maxlength: REASON_MAX, required: true })}
<div><button type="submit" class="danger">${t('moderation.delete.submit')}</button></div>
</form>`;
}

export function mergeBody(ctx: RequestContext, tor: { id: number; name: string; slug: string | null }, target: string, error: string | null): Html {
  const { t } = ctx;
  return html`<h1>${t('moderation.merge.title', { name: tor.name })}</h1>
<p><a href="${torrentPath(tor)}">${t('moderation.back_to_torrent')}</a></p>
${errorSummary(ctx, error ? [{ anchor: 'merge-target', text: error }] : [])}
<form method="post" action="/staff/torrents/${tor.id}/merge" class="form">
${csrfField(ctx)}
<p>${t('moderation.merge.intro')}</p>
${textField({ id: 'merge-target', name: 'target', label: t('moderation.merge.target'), value: target, error, hint: t('moderation.merge.target_hint'), maxlength: 300, required: true })}
<div><button type="submit" class="danger">${t('moderation.merge.submit')}</button></div>
</form>`;
}

/** Durations offered for factors (seconds; 0: no end). */
export const FACTOR_DURATIONS = [0, 6 * 3600, 86_400, 2 * 86_400, 3 * 86_400, 7 * 86_400, 14 * 86_400, 30 * 86_400] as const;

function durationLabel(ctx: RequestContext, s: number): string {
  if (s === 0) return ctx.t('moderation.factors.no_end');
  if (s < 86_400) return ctx.t('moderation.factors.hours', { n: s / 3600 });
  return ctx.t('moderation.factors.days', { n: s / 86_400 });
}

export function factorsBody(
  ctx: RequestContext,
  tor: { id: number; name: string; slug: string | null; upload_factor: number; download_factor: number; factors_until: number | null },
  form: { preset: FactorPreset | null; duration: number; error: string | null },
): Html {
  const { t, locale } = ctx;
  const current = presetOf(tor);
  return html`<h1>${t('moderation.factors.title', { name: tor.name })}</h1>
<p><a href="${torrentPath(tor)}">${t('moderation.back_to_torrent')}</a></p>
${errorSummary(ctx, form.error ? [{ anchor: 'factors-duration', text: form.error }] : [])}
<p>${t('moderation.factors.current', { up: tor.upload_factor, down: tor.download_factor })}${current ? html` (${t(`moderation.factors.preset.${current}`)})` : ''}${
    tor.factors_until !== null ? html` · ${t('moderation.factors.until', { date: formatDate(locale, tor.factors_until) })}` : ''
  }</p>
<form method="post" action="/staff/torrents/${tor.id}/factors" class="form">
${csrfField(ctx)}
<fieldset>
  <legend>${t('moderation.factors.preset')}</legend>
  ${(Object.keys(FACTOR_PRESETS) as FactorPreset[]).map(
    (p) => html`<div><input type="radio" id="factors-${p}" name="preset" value="${p}"${attr('checked', (form.preset ?? current ?? 'normal') === p)}> <label for="factors-${p}" class="inline-label">${t(`moderation.factors.preset.${p}`)} — ${t('moderation.factors.values', { up: FACTOR_PRESETS[p].up, down: FACTOR_PRESETS[p].down })}</label></div>`,
  )}
</fieldset>
<div>
  <label for="factors-duration">${t('moderation.factors.duration')}</label>
  <select id="factors-duration" name="duration"${form.error ? html` aria-invalid="true" aria-describedby="factors-duration-error"` : ''}>
    ${FACTOR_DURATIONS.map((s) => html`<option value="${s}"${attr('selected', form.duration === s)}>${durationLabel(ctx, s)}</option>`)}
  </select>
  ${form.error ? html`<p class="field-error" id="factors-duration-error">${form.error}</p>` : ''}
</div>
<div><button type="submit">${t('moderation.factors.submit')}</button></div>
</form>`;
}

// --- settings --------------------------------------------------------------------------------------

export function settingsBody(ctx: RequestContext, s: { verifiedOnly: boolean }): Html {
  const { t } = ctx;
  return html`<h1>${t('moderation.settings.title')}</h1>
<form method="post" action="/staff/settings" class="form">
${csrfField(ctx)}
<div class="field-check">
  <input type="checkbox" id="settings-verified-only" name="verified_only" value="1"${attr('checked', s.verifiedOnly)} aria-describedby="settings-verified-only-hint">
  <label for="settings-verified-only">${t('moderation.settings.verified_only')}</label>
  <p class="hint" id="settings-verified-only-hint">${t('moderation.settings.verified_only_hint')}</p>
</div>
<div><button type="submit">${t('common.save')}</button></div>
</form>`;
}

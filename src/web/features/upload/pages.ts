/**
 * The upload wizard's pages: step 1 chooses the subcategory (a plain GET form, optgroups per
 * parent), step 2 is the multipart form with the terms of that subcategory. Both work without
 * JavaScript; app.js adds the live preview of the description.
 */
import type { Catalogue, CatalogueCategory, CatalogueTermType } from '../../../site/catalogue/catalogue.js';
import type { UploadField } from '../../../site/torrents/upload.js';
import type { RequestContext } from '../../context.js';
import { formatSize } from '../../format.js';
import { attr, html, raw, type Html } from '../../html.js';
import { csrfField } from '../../layout.js';

/** What the step-2 form shows: the member's choices so far, and the errors to show. */
export interface UploadFormState {
  category: CatalogueCategory;
  termIds: ReadonlySet<number>;
  title: string;
  description: string;
  format: string;
  anonymous: boolean;
  /** Messages per field. */
  errors: Partial<Record<UploadField, Html[]>>;
  /** Rendered (sanitised) description for the no-JavaScript preview. */
  preview: string | null;
  /** The form comes back after a POST: files must be chosen again. */
  resubmitted: boolean;
}

const FIELD_ANCHOR: Record<UploadField, string> = {
  torrent: 'upload-torrent',
  category: 'upload-category-current',
  terms: 'upload-terms',
  title: 'upload-title',
  description: 'upload-description',
  format: 'upload-format',
  nfo: 'upload-nfo',
};
const FIELD_ORDER: UploadField[] = ['category', 'torrent', 'terms', 'title', 'format', 'description', 'nfo'];

export function chooseCategoryBody(ctx: RequestContext, catalogue: Catalogue, selected: number | null, error: string | null): Html {
  const { t, locale } = ctx;
  const groups = catalogue.parents
    .filter((p) => p.children.length > 0)
    .map(
      (p) => html`<optgroup label="${p.name(locale)}">${p.children.map(
        (c) => html`<option value="${c.id}"${attr('selected', c.id === selected)}>${c.name(locale)}</option>`,
      )}</optgroup>`,
    );
  return html`<h1>${t('upload.title')}</h1>
<p class="upload-step">${t('upload.step1')}</p>
<form method="get" action="/upload" class="form upload-choose">
  <div>
    <label for="upload-category">${t('upload.category')}</label>
    <select id="upload-category" name="category" required${error ? html` aria-invalid="true" aria-describedby="upload-category-error"` : ''}>
      <option value="">${t('upload.category.choose')}</option>
      ${groups}
    </select>
    ${error ? html`<p class="field-error" id="upload-category-error">${error}</p>` : ''}
  </div>
  <div><button type="submit">${t('upload.next')}</button></div>
</form>`;
}

function fieldErrors(state: UploadFormState, field: UploadField): Html {
  const list = state.errors[field];
  if (!list || list.length === 0) return html``;
  return html`<div class="field-error" id="${FIELD_ANCHOR[field]}-error">${list.map((m) => html`<p>${m}</p>`)}</div>`;
}

function describedBy(state: UploadFormState, field: UploadField, hint: string | null): Html {
  const ids = [hint, state.errors[field]?.length ? `${FIELD_ANCHOR[field]}-error` : null].filter((x): x is string => x !== null);
  const invalid = state.errors[field]?.length ? html` aria-invalid="true"` : '';
  return ids.length > 0 ? html` aria-describedby="${ids.join(' ')}"${invalid}` : html`${invalid}`;
}

function termControl(ctx: RequestContext, state: UploadFormState, type: CatalogueTermType): Html {
  const terms = type.termsIn(ctx.locale).filter((x) => !x.deprecated);
  return termInput(ctx, type, terms, state.termIds, { idPrefix: 'upload-term', unsetLabel: ctx.t('upload.terms.unset') });
}

/**
 * The input of one term type (a select for a single-mode type, checkboxes for a multi-mode one),
 * posted as repeated `term` fields: the upload form and the staff edit form share it.
 */
export function termInput(
  ctx: RequestContext,
  type: CatalogueTermType,
  terms: ReadonlyArray<{ id: number; name(locale: RequestContext['locale']): string }>,
  selected: ReadonlySet<number>,
  o: { idPrefix: string; unsetLabel: string },
): Html {
  const { locale } = ctx;
  if (terms.length === 0) return html``;
  if (type.mode === 'single') {
    const id = `${o.idPrefix}-${type.id}`;
    return html`<div class="upload-term">
      <label for="${id}">${type.name(locale)}</label>
      <select id="${id}" name="term">
        <option value="">${o.unsetLabel}</option>
        ${terms.map((x) => html`<option value="${x.id}"${attr('selected', selected.has(x.id))}>${x.name(locale)}</option>`)}
      </select>
    </div>`;
  }
  return html`<fieldset class="upload-term upload-term-multi">
      <legend>${type.name(locale)}</legend>
      <ul class="upload-checks">${terms.map((x) => {
        const id = `${o.idPrefix}-${type.id}-${x.id}`;
        return html`<li><input type="checkbox" id="${id}" name="term" value="${x.id}"${attr('checked', selected.has(x.id))}> <label for="${id}">${x.name(locale)}</label></li>`;
      })}</ul>
    </fieldset>`;
}

export function uploadFormBody(ctx: RequestContext, state: UploadFormState): Html {
  const { t, locale, site } = ctx;
  const cfg = site.config.site;
  const c = state.category;
  const types = c.termTypes.filter((tt) => !tt.deprecated);
  const allErrors = FIELD_ORDER.flatMap((f) => (state.errors[f] ?? []).map((m) => ({ f, m })));
  const summary =
    allErrors.length > 0
      ? html`<div class="form-errors" role="alert" id="upload-errors">
  <p>${t('common.form.errors')}</p>
  <ul>${allErrors.map(({ f, m }) => html`<li><a href="#${FIELD_ANCHOR[f]}">${m}</a></li>`)}</ul>
</div>`
      : '';
  const categoryLabel = c.parent ? `${c.name(locale)} (${c.parent.name(locale)})` : c.name(locale);
  return html`<h1>${t('upload.title')}</h1>
<p class="upload-step" id="upload-category-current">${t('upload.step2', { category: categoryLabel })} · <a href="/upload?change=${c.id}">${t('upload.change_category')}</a></p>
${fieldErrors(state, 'category')}
${summary}
<form method="post" action="/upload" enctype="multipart/form-data" class="form upload-form">
  ${csrfField(ctx)}
  <input type="hidden" name="category" value="${c.id}">
  <div>
    <label for="upload-torrent">${t('upload.torrent')}</label>
    <input type="file" id="upload-torrent" name="torrent" accept=".torrent,application/x-bittorrent" required${describedBy(state, 'torrent', 'upload-torrent-hint')}>
    <p class="hint" id="upload-torrent-hint">${t('upload.torrent.hint', { max: formatSize(t, locale, cfg.max_torrent_bytes) })}</p>
    ${state.resubmitted ? html`<p class="hint upload-again">${t('upload.files_again')}</p>` : ''}
    ${fieldErrors(state, 'torrent')}
  </div>
  <fieldset id="upload-terms" class="upload-terms">
    <legend>${t('upload.terms')}</legend>
    ${fieldErrors(state, 'terms')}
    ${types.length > 0 ? types.map((tt) => termControl(ctx, state, tt)) : html`<p class="hint">${t('upload.terms.none')}</p>`}
  </fieldset>
  <div>
    <label for="upload-title">${t('upload.name')}</label>
    <input type="text" id="upload-title" name="title" value="${state.title}" maxlength="255"${describedBy(state, 'title', 'upload-title-hint')}>
    <p class="hint" id="upload-title-hint">${t('upload.name.hint')}</p>
    ${fieldErrors(state, 'title')}
  </div>
  <fieldset id="upload-format" class="upload-format">
    <legend>${t('upload.format')}</legend>
    ${(['bbcode', 'markdown'] as const).map(
      (f) => html`<input type="radio" id="upload-format-${f}" name="format" value="${f}"${attr('checked', state.format === f || (f === 'bbcode' && state.format !== 'markdown'))}> <label for="upload-format-${f}">${t(`upload.format.${f}`)}</label> `,
    )}
    ${fieldErrors(state, 'format')}
  </fieldset>
  <div>
    <label for="upload-description">${t('upload.description')}</label>
    <textarea id="upload-description" name="description" rows="14" data-preview="/upload/preview" data-target="upload-preview" data-format-field="format"${describedBy(state, 'description', 'upload-description-hint')}>${state.description}</textarea>
    <p class="hint" id="upload-description-hint">${t('upload.description.hint')}</p>
    ${fieldErrors(state, 'description')}
  </div>
  <section class="upload-preview" aria-labelledby="upload-preview-title">
    <h2 id="upload-preview-title">${t('upload.preview')}</h2>
    <div id="upload-preview" class="description panel" aria-live="polite">${state.preview !== null && state.preview !== '' ? raw(state.preview) : html`<p class="hint">${t('upload.preview.empty')}</p>`}</div>
  </section>
  <div>
    <label for="upload-nfo">${t('upload.nfo')}</label>
    <input type="file" id="upload-nfo" name="nfo" accept=".nfo,.txt,text/plain"${describedBy(state, 'nfo', 'upload-nfo-hint')}>
    <p class="hint" id="upload-nfo-hint">${t('upload.nfo.hint', { max: formatSize(t, locale, cfg.max_nfo_bytes) })}</p>
    ${fieldErrors(state, 'nfo')}
  </div>
  <div>
    <input type="checkbox" id="upload-anonymous" name="anonymous" value="1"${attr('checked', state.anonymous)}>
    <label for="upload-anonymous" class="inline-label">${t('upload.anonymous')}</label>
  </div>
  <div class="upload-actions">
    <button type="submit" name="action" value="upload">${t('upload.submit')}</button>
    <button type="submit" name="action" value="preview" class="secondary" formnovalidate>${t('upload.preview')}</button>
  </div>
</form>`;
}

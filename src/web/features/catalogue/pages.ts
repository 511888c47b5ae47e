/**
 * The catalogue administration pages: the overview (category tree and term types), and the forms
 * for a category, a term type (with its bindings and terms) and a term.
 */
import type { EditErrorCode } from '../../../site/catalogue/admin.js';
import type { Catalogue, CatalogueCategory, CatalogueTermType } from '../../../site/catalogue/catalogue.js';
import type { RequestContext } from '../../context.js';
import { attr, html, type Html } from '../../html.js';
import { csrfField } from '../../layout.js';

export type FormValues = Record<string, string>;
export type FormErrors = Partial<Record<string, EditErrorCode>>;

interface FieldOptions {
  name: string;
  label: string;
  value: string;
  errors: FormErrors;
  hint?: string;
  required?: boolean;
  maxlength?: number;
  inputmode?: 'numeric';
  /** Prefix of element ids, to keep ids unique when a page has several forms. */
  prefix: string;
}

function errorText(ctx: RequestContext, code: EditErrorCode | undefined): string | null {
  return code ? ctx.t(`catalogue.error.${code}`) : null;
}

function field(ctx: RequestContext, o: FieldOptions): Html {
  const id = `${o.prefix}-${o.name}`;
  const err = errorText(ctx, o.errors[o.name]);
  const described = [o.hint ? `${id}-hint` : null, err ? `${id}-error` : null].filter(Boolean).join(' ');
  return html`<div>
  <label for="${id}">${o.label}</label>
  <input type="text" id="${id}" name="${o.name}" value="${o.value}"${o.maxlength ? html` maxlength="${o.maxlength}"` : ''}${o.inputmode ? html` inputmode="${o.inputmode}"` : ''}${attr('required', o.required === true)}${described ? html` aria-describedby="${described}"` : ''}${err ? html` aria-invalid="true"` : ''}>
  ${o.hint ? html`<p class="hint" id="${id}-hint">${o.hint}</p>` : ''}
  ${err ? html`<p class="field-error" id="${id}-error">${err}</p>` : ''}
</div>`;
}

function checkbox(ctx: RequestContext, prefix: string, name: string, label: string, checked: boolean): Html {
  const id = `${prefix}-${name}`;
  return html`<div><input type="checkbox" id="${id}" name="${name}" value="1"${attr('checked', checked)}> <label for="${id}" class="inline-label">${label}</label></div>`;
}

function summary(ctx: RequestContext, errors: FormErrors): Html {
  if (Object.keys(errors).length === 0) return html``;
  return html`<p class="form-errors" role="alert">${ctx.t('common.form.errors')}</p>`;
}

function back(ctx: RequestContext): Html {
  return html`<p><a href="/admin/categories">${ctx.t('catalogue.back')}</a></p>`;
}

export function overviewBody(ctx: RequestContext, catalogue: Catalogue, torrents: ReadonlyMap<number, number>): Html {
  const { t, locale } = ctx;
  const flag = (c: CatalogueCategory) => (c.adult ? t('catalogue.adult') : '');
  const row = (c: CatalogueCategory) => html`<tr class="${c.isParent ? 'catalogue-parent' : 'catalogue-sub'}">
  <td class="num">${c.id}</td>
  ${c.isParent ? html`<th scope="row">${c.nameEn}</th>` : html`<td class="catalogue-indent">${c.nameEn}</td>`}
  <td>${c.nameFr}</td>
  <td><code>${c.slug}</code></td>
  <td><code>${c.icon}</code></td>
  <td class="num">${c.position}</td>
  <td class="num">${torrents.get(c.id) ?? 0}</td>
  <td>${flag(c)}</td>
  <td><a href="/admin/categories/${c.id}">${t('catalogue.edit')}<span class="visually-hidden"> ${c.name(locale)}</span></a>${
    c.isParent ? html` · <a href="/admin/categories/new?parent=${c.id}">${t('catalogue.add_sub', { parent: c.name(locale) })}</a>` : ''
  }</td>
</tr>`;
  const typeRow = (tt: CatalogueTermType) => html`<tr>
  <td class="num">${tt.id}</td>
  <th scope="row">${tt.nameEn}</th>
  <td>${tt.nameFr}</td>
  <td>${t(`catalogue.mode.${tt.mode}`)}</td>
  <td class="num">${tt.terms.length}</td>
  <td>${tt.categoryIds.map((id) => catalogue.category(id)?.name(locale) ?? `#${id}`).join(', ')}</td>
  <td>${tt.deprecated ? t('catalogue.deprecated') : t('catalogue.active')}</td>
  <td><a href="/admin/categories/types/${tt.id}">${t('catalogue.edit')}<span class="visually-hidden"> ${tt.name(locale)}</span></a></td>
</tr>`;
  return html`<h1>${t('catalogue.title')}</h1>
<p>${t('catalogue.intro')}</p>
<section aria-labelledby="catalogue-categories">
  <h2 id="catalogue-categories">${t('catalogue.categories')}</h2>
  <p><a class="button" href="/admin/categories/new">${t('catalogue.add_parent')}</a></p>
  <table class="catalogue-table">
    <caption>${t('catalogue.categories.caption')}</caption>
    <thead><tr>
      <th scope="col" class="num">${t('catalogue.col.id')}</th>
      <th scope="col">${t('catalogue.col.name_en')}</th>
      <th scope="col">${t('catalogue.col.name_fr')}</th>
      <th scope="col">${t('catalogue.col.slug')}</th>
      <th scope="col">${t('catalogue.col.icon')}</th>
      <th scope="col" class="num">${t('catalogue.col.position')}</th>
      <th scope="col" class="num">${t('catalogue.col.torrents')}</th>
      <th scope="col">${t('catalogue.adult')}</th>
      <th scope="col">${t('catalogue.col.actions')}</th>
    </tr></thead>
    <tbody>${catalogue.parents.map((p) => [row(p), p.children.map(row)])}</tbody>
  </table>
</section>
<section aria-labelledby="catalogue-types">
  <h2 id="catalogue-types">${t('catalogue.term_types')}</h2>
  <p><a class="button" href="/admin/categories/types/new">${t('catalogue.add_type')}</a></p>
  <table class="catalogue-table">
    <caption>${t('catalogue.term_types.caption')}</caption>
    <thead><tr>
      <th scope="col" class="num">${t('catalogue.col.id')}</th>
      <th scope="col">${t('catalogue.col.name_en')}</th>
      <th scope="col">${t('catalogue.col.name_fr')}</th>
      <th scope="col">${t('catalogue.col.mode')}</th>
      <th scope="col" class="num">${t('catalogue.col.terms')}</th>
      <th scope="col">${t('catalogue.col.bound')}</th>
      <th scope="col">${t('catalogue.col.status')}</th>
      <th scope="col">${t('catalogue.col.actions')}</th>
    </tr></thead>
    <tbody>${catalogue.termTypes.map(typeRow)}</tbody>
  </table>
</section>`;
}

export interface CategoryFormOptions {
  /** null: a new category. */
  category: CatalogueCategory | null;
  values: FormValues;
  errors: FormErrors;
  /** Edit page: torrents in it. */
  torrentCount: number;
}

export function categoryBody(ctx: RequestContext, catalogue: Catalogue, o: CategoryFormOptions): Html {
  const { t, locale } = ctx;
  const c = o.category;
  const title = c ? t('catalogue.edit_category', { name: c.name(locale) }) : t('catalogue.new_category');
  const action = c ? `/admin/categories/${c.id}` : '/admin/categories/new';
  const p = 'category';
  const parentErr = errorText(ctx, o.errors.parent);
  const parentChoices = catalogue.parents.filter((x) => x.id !== c?.id);
  const deleteErr = c ? errorText(ctx, o.errors.delete) : null;
  return html`<h1>${title}</h1>
${back(ctx)}
${summary(ctx, o.errors)}
<form method="post" action="${action}" class="form">
  ${csrfField(ctx)}
  ${c ? html`<p>${t('catalogue.id_is', { id: c.id })}</p>` : field(ctx, { prefix: p, name: 'id', label: t('catalogue.field.id'), value: o.values.id ?? '', errors: o.errors, hint: t('catalogue.field.id.hint'), maxlength: 10, inputmode: 'numeric' })}
  <div>
    <label for="${p}-parent">${t('catalogue.field.parent')}</label>
    <select id="${p}-parent" name="parent"${parentErr ? html` aria-invalid="true" aria-describedby="${p}-parent-error"` : ''}>
      <option value="">${t('catalogue.field.parent.none')}</option>
      ${parentChoices.map((x) => html`<option value="${x.id}"${attr('selected', o.values.parent === String(x.id))}>${x.name(locale)}</option>`)}
    </select>
    ${parentErr ? html`<p class="field-error" id="${p}-parent-error">${parentErr}</p>` : ''}
  </div>
  ${field(ctx, { prefix: p, name: 'name_en', label: t('catalogue.field.name_en'), value: o.values.name_en ?? '', errors: o.errors, required: true, maxlength: 100 })}
  ${field(ctx, { prefix: p, name: 'name_fr', label: t('catalogue.field.name_fr'), value: o.values.name_fr ?? '', errors: o.errors, required: true, maxlength: 100 })}
  ${field(ctx, { prefix: p, name: 'slug', label: t('catalogue.field.slug'), value: o.values.slug ?? '', errors: o.errors, hint: t('catalogue.field.slug.hint'), maxlength: 60 })}
  ${field(ctx, { prefix: p, name: 'icon', label: t('catalogue.field.icon'), value: o.values.icon ?? '', errors: o.errors, hint: t('catalogue.field.icon.hint'), required: true, maxlength: 40 })}
  ${field(ctx, { prefix: p, name: 'position', label: t('catalogue.field.position'), value: o.values.position ?? '', errors: o.errors, hint: t('catalogue.field.position.hint'), maxlength: 8, inputmode: 'numeric' })}
  ${checkbox(ctx, p, 'adult', t('catalogue.field.adult'), o.values.adult === '1')}
  <div><button type="submit">${t('common.save')}</button></div>
</form>
${
  c && !c.isParent
    ? html`<section aria-labelledby="category-types">
  <h2 id="category-types">${t('catalogue.bound_types')}</h2>
  ${c.termTypes.length > 0 ? html`<ul>${c.termTypes.map((tt) => html`<li><a href="/admin/categories/types/${tt.id}">${tt.name(locale)}</a></li>`)}</ul>` : html`<p>${t('catalogue.bound_types.none')}</p>`}
</section>`
    : ''
}
${
  c
    ? html`<section aria-labelledby="category-delete">
  <h2 id="category-delete">${t('catalogue.delete')}</h2>
  <p class="hint">${t('catalogue.delete.hint')} ${t('catalogue.usage', { n: o.torrentCount, children: c.children.length })}</p>
  ${deleteErr ? html`<p class="field-error" role="alert">${deleteErr}</p>` : ''}
  <form method="post" action="/admin/categories/${c.id}/delete" class="catalogue-delete">
    ${csrfField(ctx)}
    <button type="submit" class="danger">${t('catalogue.delete')}</button>
  </form>
</section>`
    : ''
}`;
}

export interface TypeFormOptions {
  type: CatalogueTermType | null;
  values: FormValues;
  errors: FormErrors;
  /** The "add a term" form (edit page only). */
  termValues: FormValues;
  termErrors: FormErrors;
  bindingErrors: FormErrors;
}

export function typeBody(ctx: RequestContext, catalogue: Catalogue, o: TypeFormOptions): Html {
  const { t, locale } = ctx;
  const tt = o.type;
  const title = tt ? t('catalogue.edit_type', { name: tt.name(locale) }) : t('catalogue.new_type');
  const action = tt ? `/admin/categories/types/${tt.id}` : '/admin/categories/types/new';
  const p = 'type';
  const modeErr = errorText(ctx, o.errors.mode);
  const form = html`<form method="post" action="${action}" class="form">
  ${csrfField(ctx)}
  ${tt ? html`<p>${t('catalogue.id_is', { id: tt.id })}</p>` : field(ctx, { prefix: p, name: 'id', label: t('catalogue.field.id'), value: o.values.id ?? '', errors: o.errors, hint: t('catalogue.field.id.hint'), maxlength: 10, inputmode: 'numeric' })}
  ${field(ctx, { prefix: p, name: 'name_en', label: t('catalogue.field.name_en'), value: o.values.name_en ?? '', errors: o.errors, required: true, maxlength: 100 })}
  ${field(ctx, { prefix: p, name: 'name_fr', label: t('catalogue.field.name_fr'), value: o.values.name_fr ?? '', errors: o.errors, required: true, maxlength: 100 })}
  <fieldset>
    <legend>${t('catalogue.field.mode')}</legend>
    ${(['single', 'multi'] as const).map(
      (m) => html`<div><input type="radio" id="${p}-mode-${m}" name="mode" value="${m}"${attr('checked', (o.values.mode ?? 'single') === m)}> <label for="${p}-mode-${m}" class="inline-label">${t(`catalogue.mode.${m}`)}</label></div>`,
    )}
    ${modeErr ? html`<p class="field-error">${modeErr}</p>` : ''}
  </fieldset>
  ${field(ctx, { prefix: p, name: 'position', label: t('catalogue.field.position'), value: o.values.position ?? '', errors: o.errors, hint: t('catalogue.field.position.hint'), maxlength: 8, inputmode: 'numeric' })}
  ${checkbox(ctx, p, 'deprecated', t('catalogue.field.deprecated'), o.values.deprecated === '1')}
  <div><button type="submit">${t('common.save')}</button></div>
</form>`;
  if (!tt) return html`<h1>${title}</h1>${back(ctx)}${summary(ctx, o.errors)}${form}`;

  const bound = new Set(tt.categoryIds);
  const bindErr = errorText(ctx, o.bindingErrors.categories);
  const bindings = html`<section aria-labelledby="type-bindings">
  <h2 id="type-bindings">${t('catalogue.bindings')}</h2>
  <p class="hint">${t('catalogue.bindings.hint')}</p>
  ${bindErr ? html`<p class="field-error" role="alert">${bindErr}</p>` : ''}
  <form method="post" action="/admin/categories/types/${tt.id}/bindings" class="form catalogue-bindings">
    ${csrfField(ctx)}
    ${catalogue.parents
      .filter((parent) => parent.children.length > 0)
      .map(
        (parent) => html`<fieldset>
      <legend>${parent.name(locale)}</legend>
      <ul class="catalogue-checks">${parent.children.map(
        (c) => html`<li><input type="checkbox" id="bind-${c.id}" name="category" value="${c.id}"${attr('checked', bound.has(c.id))}> <label for="bind-${c.id}" class="inline-label">${c.name(locale)}</label></li>`,
      )}</ul>
    </fieldset>`,
      )}
    <div><button type="submit">${t('catalogue.bindings.save')}</button></div>
  </form>
</section>`;

  const terms = tt.termsIn(locale);
  const termTable =
    terms.length === 0
      ? html`<p>${t('catalogue.terms.none')}</p>`
      : html`<table class="catalogue-table">
    <caption>${t('catalogue.terms')}</caption>
    <thead><tr>
      <th scope="col" class="num">${t('catalogue.col.id')}</th>
      <th scope="col">${t('catalogue.col.name_en')}</th>
      <th scope="col">${t('catalogue.col.name_fr')}</th>
      <th scope="col" class="num">${t('catalogue.col.position')}</th>
      <th scope="col">${t('catalogue.col.status')}</th>
      <th scope="col">${t('catalogue.col.actions')}</th>
    </tr></thead>
    <tbody>${terms.map(
      (x) => html`<tr${x.deprecated ? html` class="catalogue-deprecated"` : ''}>
      <td class="num">${x.id}</td>
      <th scope="row">${x.nameEn}</th>
      <td>${x.nameFr}</td>
      <td class="num">${x.position}</td>
      <td>${x.deprecated ? t('catalogue.deprecated') : t('catalogue.active')}</td>
      <td><a href="/admin/categories/terms/${x.id}">${t('catalogue.edit')}<span class="visually-hidden"> ${x.name(locale)}</span></a></td>
    </tr>`,
    )}</tbody>
  </table>`;
  const q = 'term';
  const addTerm = html`<section aria-labelledby="type-add-term">
  <h2 id="type-add-term">${t('catalogue.add_term')}</h2>
  ${summary(ctx, o.termErrors)}
  <form method="post" action="/admin/categories/types/${tt.id}/terms" class="form">
    ${csrfField(ctx)}
    ${field(ctx, { prefix: q, name: 'id', label: t('catalogue.field.id'), value: o.termValues.id ?? '', errors: o.termErrors, hint: t('catalogue.field.id.hint'), maxlength: 10, inputmode: 'numeric' })}
    ${field(ctx, { prefix: q, name: 'name_en', label: t('catalogue.field.name_en'), value: o.termValues.name_en ?? '', errors: o.termErrors, required: true, maxlength: 100 })}
    ${field(ctx, { prefix: q, name: 'name_fr', label: t('catalogue.field.name_fr'), value: o.termValues.name_fr ?? '', errors: o.termErrors, required: true, maxlength: 100 })}
    ${field(ctx, { prefix: q, name: 'position', label: t('catalogue.field.position'), value: o.termValues.position ?? '', errors: o.termErrors, hint: t('catalogue.field.term_position.hint'), maxlength: 8, inputmode: 'numeric' })}
    <div><button type="submit">${t('catalogue.add_term')}</button></div>
  </form>
</section>`;
  return html`<h1>${title}</h1>
${back(ctx)}
${summary(ctx, o.errors)}
${form}
${bindings}
<section aria-labelledby="type-terms">
  <h2 id="type-terms">${t('catalogue.terms')}</h2>
  ${termTable}
</section>
${addTerm}`;
}

export function termBody(ctx: RequestContext, type: CatalogueTermType, termId: number, termName: string, values: FormValues, errors: FormErrors): Html {
  const { t, locale } = ctx;
  const p = 'term';
  return html`<h1>${t('catalogue.edit_term', { name: termName })}</h1>
<p><a href="/admin/categories/types/${type.id}">${t('catalogue.back_type', { name: type.name(locale) })}</a></p>
${summary(ctx, errors)}
<form method="post" action="/admin/categories/terms/${termId}" class="form">
  ${csrfField(ctx)}
  <p>${t('catalogue.id_is', { id: termId })}</p>
  ${field(ctx, { prefix: p, name: 'name_en', label: t('catalogue.field.name_en'), value: values.name_en ?? '', errors, required: true, maxlength: 100 })}
  ${field(ctx, { prefix: p, name: 'name_fr', label: t('catalogue.field.name_fr'), value: values.name_fr ?? '', errors, required: true, maxlength: 100 })}
  ${field(ctx, { prefix: p, name: 'position', label: t('catalogue.field.position'), value: values.position ?? '', errors, hint: t('catalogue.field.term_position.hint'), maxlength: 8, inputmode: 'numeric' })}
  ${checkbox(ctx, p, 'deprecated', t('catalogue.field.deprecated'), values.deprecated === '1')}
  <div><button type="submit">${t('common.save')}</button></div>
</form>`;
}

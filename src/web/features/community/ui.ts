/**
 * Pieces shared by the community pages: form bodies, labelled fields with their errors, member
 * links, dates, pagination, BBCode bodies rendered through the escaped description renderer,
 * and byte amounts typed with a unit.
 */
import type { FastifyRequest } from 'fastify';
import { renderDescription } from '../../../markup/render.js';
import type { UserPrivacy, UserRole } from '../../../db/schema.js';
import type { RequestContext } from '../../context.js';
import { formatAge, formatDate, formatRatio } from '../../format.js';
import { attr, html, raw, type Html, type HtmlValue } from '../../html.js';
import type { MessageKey } from '../../messages.js';

export type Body = Record<string, unknown>;

/** The parsed urlencoded body (an empty object when there is none). */
export function bodyOf(req: FastifyRequest): Body {
  const b = req.body;
  return b && typeof b === 'object' ? (b as Body) : {};
}

/** A string field ('' when absent or not a single string), cut at `max` characters. */
export function str(body: Body, name: string, max = 100_000): string {
  const v = body[name];
  return typeof v === 'string' ? v.slice(0, max) : '';
}

/** `?page=N` as 1..10000 (1 when absent or malformed). */
export function pageParam(v: unknown): number {
  if (typeof v !== 'string' || !/^[1-9][0-9]{0,4}$/.test(v)) return 1;
  return Math.min(10_000, Number(v));
}

export function pageCount(total: number, perPage: number): number {
  return Math.max(1, Math.ceil(total / perPage));
}

/** Previous / page n of m / next links; nothing for a single page. */
export function pagination(ctx: RequestContext, href: (page: number) => string, page: number, pages: number): Html {
  if (pages <= 1) return html``;
  return html`<nav class="pagination" aria-label="${ctx.t('common.pagination')}">
${page > 1 ? html`<a href="${href(page - 1)}" rel="prev">${ctx.t('common.previous')}</a>` : ''}
<span aria-current="page">${ctx.t('community.page_of', { n: page, pages })}</span>
${page < pages ? html`<a href="${href(page + 1)}" rel="next">${ctx.t('common.next')}</a>` : ''}
</nav>`;
}

/** A member-written BBCode text, escaped and rendered as descriptions are. */
export function markup(ctx: RequestContext, source: string): Html {
  return html`<div class="description">${raw(renderDescription(source, 'bbcode', { externalImages: ctx.site.config.web.external_images }))}</div>`;
}

export function memberLink(ctx: RequestContext, id: number | null, username: string | null): Html {
  if (id === null || username === null) return html`<span class="former-member">${ctx.t('community.former_member')}</span>`;
  return html`<a href="/u/${id}">${username}</a>`;
}

export function timeEl(ctx: RequestContext, epoch: number): Html {
  return html`<time datetime="${new Date(epoch * 1000).toISOString()}">${formatDate(ctx.locale, epoch)}</time>`;
}

export function ageEl(ctx: RequestContext, epoch: number): Html {
  return html`<time datetime="${new Date(epoch * 1000).toISOString()}" title="${formatDate(ctx.locale, epoch)}">${ctx.t('community.ago', { age: formatAge(ctx.t, ctx.site.now() - epoch) })}</time>`;
}

/**
 * A member's ratio as others may see it: hidden for the "strong" privacy level, unless the viewer
 * is the member or staff.
 */
export function visibleRatio(
  ctx: RequestContext,
  m: { id: number; uploaded: number; downloaded: number; privacy: UserPrivacy },
  viewer: { id: number; role: UserRole } | null,
): string {
  const staff = viewer !== null && (viewer.role === 'moderator' || viewer.role === 'supermod' || viewer.role === 'admin');
  if (m.privacy === 'strong' && !staff && viewer?.id !== m.id) return ctx.t('community.ratio_hidden');
  return formatRatio(ctx.locale, m.uploaded, m.downloaded);
}

export function roleName(ctx: RequestContext, role: UserRole): string {
  return ctx.t(`community.role.${role}`);
}

// --- forms ---------------------------------------------------------------------------------------

interface FieldBase {
  id: string;
  name: string;
  label: string;
  error?: MessageKey | null;
  hint?: string | null;
  required?: boolean;
}

function describedBy(o: FieldBase): Html {
  const ids = [o.hint ? `${o.id}-hint` : null, o.error ? `${o.id}-error` : null].filter(Boolean).join(' ');
  return html`${ids ? html` aria-describedby="${ids}"` : ''}${o.error ? html` aria-invalid="true"` : ''}`;
}

function fieldExtras(ctx: RequestContext, o: FieldBase): Html {
  return html`${o.hint ? html`<p class="hint" id="${o.id}-hint">${o.hint}</p>` : ''}${o.error ? html`<p class="field-error" id="${o.id}-error">${ctx.t(o.error)}</p>` : ''}`;
}

export function textField(ctx: RequestContext, o: FieldBase & { value: string; maxlength?: number; type?: 'text' | 'email' | 'search'; autocomplete?: string }): Html {
  return html`<div class="field">
<label for="${o.id}">${o.label}</label>
<input id="${o.id}" name="${o.name}" type="${o.type ?? 'text'}" value="${o.value}"${o.maxlength ? html` maxlength="${o.maxlength}"` : ''}${o.autocomplete ? html` autocomplete="${o.autocomplete}"` : ''}${attr('required', o.required ?? false)}${describedBy(o)}>
${fieldExtras(ctx, o)}
</div>`;
}

export function textArea(ctx: RequestContext, o: FieldBase & { value: string; maxlength?: number; rows?: number }): Html {
  return html`<div class="field">
<label for="${o.id}">${o.label}</label>
<textarea id="${o.id}" name="${o.name}" rows="${o.rows ?? 8}"${o.maxlength ? html` maxlength="${o.maxlength}"` : ''}${attr('required', o.required ?? false)}${describedBy(o)}>${o.value}</textarea>
${fieldExtras(ctx, o)}
</div>`;
}

export interface Option {
  value: string;
  label: string;
  selected?: boolean;
}

export function selectField(ctx: RequestContext, o: FieldBase & { options: ReadonlyArray<Option | { group: string; options: readonly Option[] }> }): Html {
  const opt = (x: Option) => html`<option value="${x.value}"${attr('selected', x.selected ?? false)}>${x.label}</option>`;
  return html`<div class="field">
<label for="${o.id}">${o.label}</label>
<select id="${o.id}" name="${o.name}"${attr('required', o.required ?? false)}${describedBy(o)}>
${o.options.map((x) => ('group' in x ? html`<optgroup label="${x.group}">${x.options.map(opt)}</optgroup>` : opt(x)))}
</select>
${fieldExtras(ctx, o)}
</div>`;
}

/** The banner above a form with errors. */
export function formErrors(ctx: RequestContext, any: boolean, general?: MessageKey | null): Html {
  if (!any && !general) return html``;
  return html`<div class="form-errors" role="alert">${general ? html`<p>${ctx.t(general)}</p>` : ''}${any ? html`<p>${ctx.t('common.form.errors')}</p>` : ''}</div>`;
}

export function markupHint(ctx: RequestContext): string {
  return ctx.t('community.markup_hint');
}

/** A POST button in its own small form (CSRF included). */
export function postButton(ctx: RequestContext, action: string, label: HtmlValue, o: { fields?: Record<string, string>; cls?: string } = {}): Html {
  return html`<form method="post" action="${action}" class="inline">
<input type="hidden" name="_csrf" value="${ctx.csrf}">
${Object.entries(o.fields ?? {}).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}
<button type="submit"${o.cls ? html` class="${o.cls}"` : ''}>${label}</button>
</form>`;
}

// --- byte amounts ----------------------------------------------------------------------------

export const AMOUNT_UNITS = { MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4 } as const;
export type AmountUnit = keyof typeof AMOUNT_UNITS;

export function isAmountUnit(s: unknown): s is AmountUnit {
  return typeof s === 'string' && Object.hasOwn(AMOUNT_UNITS, s);
}

/** "1.5" with "GiB" in bytes (decimal comma accepted); null when not a positive number. */
export function parseAmount(value: string, unit: string): number | null {
  if (!isAmountUnit(unit)) return null;
  const v = value.trim().replace(',', '.');
  if (!/^\d{1,9}(\.\d{1,3})?$/.test(v)) return null;
  const bytes = Math.round(Number(v) * AMOUNT_UNITS[unit]);
  return bytes > 0 && Number.isSafeInteger(bytes) ? bytes : null;
}

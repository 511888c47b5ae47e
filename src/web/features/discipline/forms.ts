/**
 * Form pieces of the staff pages: labelled inputs, text areas and selects with their hint and
 * error (linked by aria-describedby), duration choices, reading urlencoded bodies, ids in paths,
 * and pagination links that keep a search's other parameters.
 */
import type { FastifyRequest } from 'fastify';
import type { RequestContext } from '../../context.js';
import { HttpError } from '../../context.js';
import { attr, html, type Html } from '../../html.js';
import type { MessageKey } from '../../messages.js';

export type Values = Record<string, string>;
export type Errors = Partial<Record<string, MessageKey>>;

export function hasErrors(e: Errors): boolean {
  return Object.values(e).some((v) => v !== undefined);
}

export function bodyOf(req: FastifyRequest): Record<string, unknown> {
  const b = req.body;
  return b && typeof b === 'object' ? (b as Record<string, unknown>) : {};
}

/** A single string field, cut at `max` characters (arrays and anything else read as ''). */
export function str(body: Record<string, unknown>, name: string, max = 2000): string {
  const v = body[name];
  return typeof v === 'string' ? v.slice(0, max) : '';
}

/** Every value of a repeated field (checkboxes). */
export function all(body: Record<string, unknown>, name: string): string[] {
  const v = body[name];
  if (typeof v === 'string') return [v];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** A positive id from a path parameter, or a 404. */
export function idParam(raw: string | undefined): number {
  if (!raw || !/^[1-9]\d{0,9}$/.test(raw)) throw new HttpError(404, 'common.error.not_found');
  return Number(raw);
}

interface Common {
  /** Element id prefix, unique per form on a page. */
  form: string;
  name: string;
  label: string;
  hint?: string;
  error?: MessageKey | undefined;
  required?: boolean;
}

function described(id: string, o: Common): { attrs: Html; after: Html } {
  const ids = [o.hint ? `${id}-hint` : null, o.error ? `${id}-error` : null].filter(Boolean).join(' ');
  return {
    attrs: html`${ids ? html` aria-describedby="${ids}"` : ''}${o.error ? html` aria-invalid="true"` : ''}${attr('required', o.required ?? false)}`,
    after: html`${o.hint ? html`<p class="hint" id="${id}-hint">${o.hint}</p>` : ''}`,
  };
}

function errorLine(ctx: RequestContext, id: string, e: MessageKey | undefined): Html {
  return e ? html`<p class="field-error" id="${id}-error">${ctx.t(e)}</p>` : html``;
}

export function input(ctx: RequestContext, o: Common & { value: string; type?: 'text' | 'search' | 'date' | 'number'; maxlength?: number; inputmode?: 'numeric' | 'decimal' }): Html {
  const id = `${o.form}-${o.name}`;
  const d = described(id, o);
  return html`<div class="field">
  <label for="${id}">${o.label}</label>
  <input id="${id}" name="${o.name}" type="${o.type ?? 'text'}" value="${o.value}"${o.maxlength ? html` maxlength="${o.maxlength}"` : ''}${o.inputmode ? html` inputmode="${o.inputmode}"` : ''}${d.attrs}>
  ${d.after}${errorLine(ctx, id, o.error)}
</div>`;
}

export function textarea(ctx: RequestContext, o: Common & { value: string; maxlength: number; rows?: number }): Html {
  const id = `${o.form}-${o.name}`;
  const d = described(id, o);
  return html`<div class="field">
  <label for="${id}">${o.label}</label>
  <textarea id="${id}" name="${o.name}" rows="${o.rows ?? 3}" maxlength="${o.maxlength}"${d.attrs}>${o.value}</textarea>
  ${d.after}${errorLine(ctx, id, o.error)}
</div>`;
}

export function select(ctx: RequestContext, o: Common & { value: string; options: ReadonlyArray<readonly [string, string]> }): Html {
  const id = `${o.form}-${o.name}`;
  const d = described(id, o);
  return html`<div class="field">
  <label for="${id}">${o.label}</label>
  <select id="${id}" name="${o.name}"${d.attrs}>
    ${o.options.map(([v, label]) => html`<option value="${v}"${attr('selected', v === o.value)}>${label}</option>`)}
  </select>
  ${d.after}${errorLine(ctx, id, o.error)}
</div>`;
}

export function formErrors(ctx: RequestContext, errors: Errors): Html {
  if (!hasErrors(errors)) return html``;
  return html`<div class="form-errors" role="alert"><p>${ctx.t('common.form.errors')}</p></div>`;
}

// --- durations ------------------------------------------------------------------------------------

/** Choices of a duration select: days, 0 for "never expires". */
export const WARNING_DAYS = [7, 14, 28, 56, 0] as const;
export const BAN_DAYS = [1, 3, 7, 14, 30, 90, 365, 0] as const;
export const IP_BAN_DAYS = [1, 7, 30, 90, 365, 0] as const;

export function durationOptions(ctx: RequestContext, days: readonly number[], never: MessageKey): Array<readonly [string, string]> {
  return days.map((d) => [String(d), d === 0 ? ctx.t(never) : ctx.t('discipline.duration.days', { n: d })] as const);
}

/** The expiry for a chosen duration: undefined when the choice is not offered, null for never. */
export function expiryFrom(raw: string, days: readonly number[], now: number): number | null | undefined {
  if (!/^\d{1,4}$/.test(raw)) return undefined;
  const d = Number(raw);
  if (!days.includes(d)) return undefined;
  return d === 0 ? null : now + d * 86400;
}

// --- pagination -----------------------------------------------------------------------------------

/** Previous/next links; `params` are the search's other parameters, kept in the links. */
export function pager(ctx: RequestContext, path: string, params: Record<string, string>, page: number, pages: number): Html {
  if (pages <= 1) return html``;
  const link = (p: number) => {
    const u = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== '') u.set(k, v);
    u.set('page', String(p));
    return `${path}?${u.toString()}`;
  };
  return html`<nav class="pagination" aria-label="${ctx.t('common.pagination')}">
${page > 1 ? html`<a href="${link(page - 1)}" rel="prev">${ctx.t('common.previous')}</a>` : ''}
<span aria-current="page">${ctx.t('discipline.page_of', { n: page, total: pages })}</span>
${page < pages ? html`<a href="${link(page + 1)}" rel="next">${ctx.t('common.next')}</a>` : ''}
</nav>`;
}

export function pageParam(raw: string | undefined): number {
  return raw && /^[1-9]\d{0,5}$/.test(raw) ? Number(raw) : 1;
}

/** Small form helpers of the moderation pages: labelled fields with their error next to them, body parsing. */
import type { RequestContext } from '../../context.js';
import { attr, html, type Html } from '../../html.js';

/** A string field of a urlencoded body ('' when absent or repeated oddly), cut at `max` characters. */
export function field(body: unknown, name: string, max = 20_000): string {
  const b = body && typeof body === 'object' ? (body as Record<string, unknown>) : {};
  const v = b[name];
  const s = Array.isArray(v) ? v[0] : v;
  return typeof s === 'string' ? s.slice(0, max) : '';
}

/** Every value of a repeatable field, as positive integers (others ignored). */
export function ids(body: unknown, name: string): number[] {
  const b = body && typeof body === 'object' ? (body as Record<string, unknown>) : {};
  const v = b[name];
  const list = Array.isArray(v) ? v : v === undefined ? [] : [v];
  const out: number[] = [];
  for (const x of list) if (typeof x === 'string' && /^[1-9][0-9]{0,9}$/.test(x)) out.push(Number(x));
  return out;
}

export interface FieldOptions {
  id: string;
  name: string;
  label: string;
  value: string;
  error?: string | null;
  hint?: string | null;
  required?: boolean;
  maxlength?: number;
  /** A textarea of this many rows instead of a one-line input. */
  rows?: number;
  inputmode?: 'numeric';
}

function described(o: FieldOptions): Html {
  const list = [o.hint ? `${o.id}-hint` : null, o.error ? `${o.id}-error` : null].filter((x): x is string => x !== null);
  return html`${list.length > 0 ? html` aria-describedby="${list.join(' ')}"` : ''}${o.error ? html` aria-invalid="true"` : ''}`;
}

/** A labelled input or textarea with its hint and error. */
export function textField(o: FieldOptions): Html {
  const common = html` id="${o.id}" name="${o.name}"${o.maxlength ? html` maxlength="${o.maxlength}"` : ''}${attr('required', o.required === true)}${described(o)}`;
  const control = o.rows
    ? html`<textarea${common} rows="${o.rows}">${o.value}</textarea>`
    : html`<input type="text"${common} value="${o.value}"${o.inputmode ? html` inputmode="${o.inputmode}"` : ''}>`;
  return html`<div>
  <label for="${o.id}">${o.label}</label>
  ${control}
  ${o.hint ? html`<p class="hint" id="${o.id}-hint">${o.hint}</p>` : ''}
  ${o.error ? html`<p class="field-error" id="${o.id}-error">${o.error}</p>` : ''}
</div>`;
}

/** The summary above a form with errors. */
export function errorSummary(ctx: RequestContext, errors: ReadonlyArray<{ anchor: string; text: string }>): Html {
  if (errors.length === 0) return html``;
  return html`<div class="form-errors" role="alert">
  <p>${ctx.t('common.form.errors')}</p>
  <ul>${errors.map((e) => html`<li><a href="#${e.anchor}">${e.text}</a></li>`)}</ul>
</div>`;
}

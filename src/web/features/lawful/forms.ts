/**
 * Small form pieces of the lawful pages: labelled inputs, text areas and check boxes with their
 * hint and error (linked by aria-describedby), the error banner, and reading urlencoded bodies.
 */
import type { FastifyRequest } from 'fastify';
import type { RequestContext } from '../../context.js';
import { attr, html, type Html } from '../../html.js';

/** Field name → translated error text. */
export type Errors = Partial<Record<string, string>>;

export function hasErrors(e: Errors): boolean {
  return Object.values(e).some((v) => v !== undefined && v !== '');
}

export function bodyOf(req: FastifyRequest): Record<string, unknown> {
  const b = req.body;
  return b && typeof b === 'object' ? (b as Record<string, unknown>) : {};
}

/** A single string field (anything else reads as empty), cut at `max` characters. */
export function str(body: Record<string, unknown>, name: string, max = 20_000): string {
  const v = body[name];
  return typeof v === 'string' ? v.slice(0, max) : '';
}

export function checked(body: Record<string, unknown>, name: string): boolean {
  const v = body[name];
  return v === '1' || v === 'on' || v === 'yes' || v === 'true' || v === true;
}

interface Common {
  name: string;
  label: string;
  hint?: string;
  error?: string | undefined;
  required?: boolean;
  maxlength?: number;
}

function describedBy(id: string, o: Common): { attrs: Html; hint: Html; error: Html } {
  const ids = [o.hint ? `${id}-hint` : null, o.error ? `${id}-error` : null].filter(Boolean).join(' ');
  return {
    attrs: html`${o.error ? html` aria-invalid="true"` : ''}${ids ? html` aria-describedby="${ids}"` : ''}`,
    hint: o.hint ? html`<p class="hint" id="${id}-hint">${o.hint}</p>` : html``,
    error: o.error ? html`<p class="field-error" id="${id}-error">${o.error}</p>` : html``,
  };
}

export function input(o: Common & { value?: string; type?: 'text' | 'email' | 'password'; autocomplete?: string }): Html {
  const id = `f-${o.name}`;
  const d = describedBy(id, o);
  const value = o.type === 'password' ? '' : (o.value ?? '');
  return html`<div class="field">
  <label for="${id}">${o.label}</label>
  <input id="${id}" name="${o.name}" type="${o.type ?? 'text'}"${value !== '' ? html` value="${value}"` : ''}${o.autocomplete ? html` autocomplete="${o.autocomplete}"` : ''}${o.maxlength ? html` maxlength="${o.maxlength}"` : ''}${attr('required', o.required ?? false)}${d.attrs}>
  ${d.hint}${d.error}
</div>`;
}

export function textarea(o: Common & { value?: string; rows?: number }): Html {
  const id = `f-${o.name}`;
  const d = describedBy(id, o);
  return html`<div class="field">
  <label for="${id}">${o.label}</label>
  <textarea id="${id}" name="${o.name}" rows="${o.rows ?? 5}"${o.maxlength ? html` maxlength="${o.maxlength}"` : ''}${attr('required', o.required ?? false)}${d.attrs}>${o.value ?? ''}</textarea>
  ${d.hint}${d.error}
</div>`;
}

export function checkbox(o: Common & { on?: boolean }): Html {
  const id = `f-${o.name}`;
  const d = describedBy(id, o);
  return html`<div class="field-check">
  <input id="${id}" name="${o.name}" type="checkbox" value="1"${attr('checked', o.on ?? false)}${attr('required', o.required ?? false)}${d.attrs}>
  <label for="${id}">${o.label}</label>
  ${d.hint}${d.error}
</div>`;
}

export function errorBanner(ctx: RequestContext, errors: Errors, general?: string | null): Html {
  if (!hasErrors(errors) && !general) return html``;
  return html`<div class="form-errors" role="alert">
  ${general ? html`<p>${general}</p>` : ''}
  ${hasErrors(errors) ? html`<p>${ctx.t('common.form.errors')}</p>` : ''}
</div>`;
}

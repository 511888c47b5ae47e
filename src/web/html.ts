/**
 * HTML templating: a tagged template that escapes every interpolated value unless it is already
 * `Html` (the result of another `html` template, or of `raw()` for markup that a trusted renderer
 * produced, such as a sanitised description). Arrays are joined; null, undefined and false render
 * nothing. Escaping is the default, so forgetting it is not possible by accident.
 *
 * Why not a template engine: pages are plain functions of typed data, checked by the compiler,
 * with no template files to load, and a page renders in a few string concatenations.
 */

export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

export type HtmlValue = Html | string | number | bigint | null | undefined | false | readonly HtmlValue[];

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const ESCAPE_RE = /[&<>"']/g;

/** Escapes text for use in element content and in quoted attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(ESCAPE_RE, (c) => ESCAPES[c]!);
}

function render(v: HtmlValue): string {
  if (v === null || v === undefined || v === false) return '';
  if (v instanceof Html) return v.value;
  if (Array.isArray(v)) {
    let out = '';
    for (const x of v as readonly HtmlValue[]) out += render(x);
    return out;
  }
  return escapeHtml(String(v));
}

export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!;
  return new Html(out);
}

/** Marks trusted markup (already escaped or sanitised) as HTML. */
export function raw(s: string): Html {
  return new Html(s);
}

/** Joins fragments with a separator (escaped unless Html). */
export function join(items: readonly HtmlValue[], sep: HtmlValue = ''): Html {
  const parts: string[] = [];
  for (const it of items) parts.push(render(it));
  return new Html(parts.join(render(sep)));
}

/** `attr('checked', cond)` renders ` checked` when cond holds. */
export function attr(name: string, on: boolean): Html {
  return new Html(on ? ` ${name}` : '');
}

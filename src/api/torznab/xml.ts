/**
 * A tiny XML writer for the Torznab answers: elements with escaped attributes and text (the
 * characters XML cannot carry are dropped, as in the site's RSS feeds). No dependency.
 *
 *   el('caps', {}, [el('server', { title: 'A & B' })])  →  <caps><server title="A &amp; B"/></caps>
 */
import { xmlText } from '../../web/features/rss/feed.js';

export type Attrs = Readonly<Record<string, string | number | null | undefined>>;

/** Escapes text or an attribute value. */
export const esc = xmlText;

function attrs(a: Attrs): string {
  let out = '';
  for (const [k, v] of Object.entries(a)) {
    if (v === null || v === undefined) continue;
    out += ` ${k}="${esc(String(v))}"`;
  }
  return out;
}

/** An element whose children are already serialised (use `text` for character data). */
export function el(name: string, a: Attrs = {}, children: readonly string[] = []): string {
  if (children.length === 0) return `<${name}${attrs(a)}/>`;
  return `<${name}${attrs(a)}>${children.join('')}</${name}>`;
}

/** An element holding text (escaped). */
export function text(name: string, value: string | number, a: Attrs = {}): string {
  return `<${name}${attrs(a)}>${esc(String(value))}</${name}>`;
}

/** A whole document: the declaration, then the root element. */
export function xmlDocument(root: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${root}\n`;
}

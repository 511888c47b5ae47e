/**
 * Markdown to HTML, with markdown-it.
 *
 * Design: "escape first" is markdown-it's `html: false` mode. Every `<` of the
 * source is text to the parser and comes out as `&lt;`; the only tags in the
 * output are the ones markdown-it's renderer builds. (Escaping the source by
 * hand before parsing would not add safety and would break Markdown: `>`
 * starts a quote, and entities are not decoded inside code spans.)
 *
 * - Links (written, autolinked or found by linkify) must pass the shared
 *   {@link safeUrl} check, otherwise they stay text. `www.…` and `//host`
 *   become absolute http(s) URLs.
 * - Images become plain links unless external images are enabled.
 * - Nesting is capped (markdown-it `maxNesting`), so deeply nested quotes or
 *   lists cannot exhaust the stack.
 * - Single newlines are line breaks (`breaks: true`), as members expect from
 *   a plain text box; typographic replacements are off.
 *
 * The result still goes through the sanitize-html allowlist in render.ts,
 * which also turns h1/h2 into lower headings and adds rel to links.
 */
import MarkdownIt from 'markdown-it';
import { escapeHtml, safeUrl } from './policy.js';

/** Nesting depth markdown-it is allowed to reach (its own default is 100). */
export const MAX_MARKDOWN_NESTING = 20;

/** Per-render settings handed to our renderer rules through markdown-it's `env`. */
const EXTERNAL_IMAGES = Symbol('externalImages');

const md = new MarkdownIt({
  html: false,
  linkify: true,
  typographer: false,
  breaks: true,
  maxNesting: MAX_MARKDOWN_NESTING,
});

const normalizeLink = md.normalizeLink.bind(md);
md.normalizeLink = (url: string): string => {
  const normalized = normalizeLink(url);
  return safeUrl(normalized, 'link') ?? normalized;
};
md.validateLink = (url: string): boolean => safeUrl(url, 'link') !== null;

const defaultImage = md.renderer.rules.image;
md.renderer.rules.image = (tokens, idx, options, env, self) => {
  if (env?.[EXTERNAL_IMAGES] === true && defaultImage) return defaultImage(tokens, idx, options, env, self);
  const token = tokens[idx];
  if (!token) return '';
  const alt = self.renderInlineAsText(token.children ?? [], options, env);
  const src = String(token.attrGet('src') ?? '');
  const text = escapeHtml(alt !== '' ? alt : src);
  // Inside a link already? Then the image is just its text.
  let depth = 0;
  for (let k = idx - 1; k >= 0; k--) {
    const type = tokens[k]?.type;
    if (type === 'link_close') depth--;
    else if (type === 'link_open') depth++;
  }
  if (depth > 0 || src === '') return text;
  return `<a href="${escapeHtml(src)}">${text}</a>`;
};

/** Renders Markdown to HTML; the output still needs the allowlist pass. */
export function markdownToHtml(source: string, externalImages: boolean): string {
  return md.render(source, { [EXTERNAL_IMAGES]: externalImages });
}

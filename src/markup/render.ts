/**
 * Safe rendering of member-written torrent descriptions, in BBCode (as T411
 * uploaders wrote them) or Markdown.
 *
 * Design: escape first, then parse, then allowlist.
 *
 * 1. The source is cut to `maxLength` characters (100 000 by default; the
 *    rest is dropped, not rendered), line ends become LF and control
 *    characters other than tab and newline are removed.
 * 2. Escape first: for BBCode every HTML special character is escaped before
 *    bbob sees the text; for Markdown, markdown-it runs with `html: false`,
 *    so raw HTML is only ever text (see bbcode.ts and markdown.ts).
 * 3. Parse with our own handlers, which only build tags, URLs and classes
 *    from fixed lists.
 * 4. Allowlist: sanitize-html with a strict configuration (policy.ts) as
 *    defence in depth — no style, no event handlers, no id/name, only
 *    http/https/mailto or relative URLs, rel="nofollow noopener noreferrer"
 *    on every link, images only when `externalImages` is set (otherwise they
 *    are links, because an external image leaks readers' IP addresses).
 *
 * The output is deterministic: the same input and options always give the
 * same HTML, so it can be cached.
 */
import { bbcodeToHtml } from './bbcode.js';
import { markdownToHtml } from './markdown.js';
import { decodeEntities, escapeHtml, sanitize } from './policy.js';

export type DescriptionFormat = 'bbcode' | 'markdown';

export interface RenderOptions {
  /** Show `<img>` for external images (default false: images become links). */
  externalImages?: boolean;
  /** Longer sources are truncated to this many characters before rendering (default {@link DEFAULT_MAX_LENGTH}). */
  maxLength?: number;
}

/** Default cap on the source length, in UTF-16 code units. */
export const DEFAULT_MAX_LENGTH = 100_000;

export { ALLOWED_TAGS, BB_COLOURS, BB_COLOUR_ALIASES, LINK_REL, MARKUP_CLASSES, safeUrl } from './policy.js';
export { MAX_BBCODE_DEPTH } from './bbcode.js';
export { MAX_MARKDOWN_NESTING } from './markdown.js';

/** Truncates and normalises the source text. */
function prepare(source: string, maxLength: number | undefined): string {
  const max = maxLength === undefined ? DEFAULT_MAX_LENGTH : Math.floor(maxLength);
  if (!(max >= 0)) throw new RangeError('maxLength must be a non-negative number');
  let s = source;
  if (s.length > max) {
    s = s.slice(0, max);
    // Do not leave half of a surrogate pair at the cut.
    const last = s.charCodeAt(s.length - 1);
    if (last >= 0xd800 && last <= 0xdbff) s = s.slice(0, -1);
  }
  // eslint-disable-next-line no-control-regex
  return s.replace(/\r\n?/g, '\n').replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '');
}

/**
 * Renders a description to safe HTML (a fragment, to be placed inside a
 * container element owned by the page).
 */
export function renderDescription(source: string, format: DescriptionFormat, opts: RenderOptions = {}): string {
  const text = prepare(source, opts.maxLength);
  const externalImages = opts.externalImages === true;
  let html: string;
  switch (format) {
    case 'bbcode':
      html = bbcodeToHtml(escapeHtml(text), externalImages);
      break;
    case 'markdown':
      html = markdownToHtml(text, externalImages);
      break;
    default:
      throw new TypeError(`unknown description format: ${String(format)}`);
  }
  return sanitize(html, externalImages).trim();
}

/**
 * What the live preview endpoint shows while a member types: exactly what
 * {@link renderDescription} will show once the description is saved.
 */
export function previewDescription(source: string, format: DescriptionFormat, opts: RenderOptions = {}): string {
  return renderDescription(source, format, opts);
}

/** Tags after which plain text needs a line break. */
const BLOCK_END = /<\/(?:p|div|blockquote|li|tr|h[1-6]|pre|table|ul|ol|details|summary)>|<br\s*\/?>|<hr\s*\/?>/gi;

/**
 * The text of a description without any markup, for the full-text search
 * index: what a reader sees (link texts, image links as their URL, spoiler
 * titles), with line breaks between blocks. Not HTML: escape it before
 * displaying it.
 */
export function descriptionToPlainText(source: string, format: DescriptionFormat, opts: Pick<RenderOptions, 'maxLength'> = {}): string {
  const html = renderDescription(source, format, { maxLength: opts.maxLength, externalImages: false });
  const text = html
    .replace(BLOCK_END, (m) => `${m}\n`)
    .replace(/<\/t[dh]>/gi, ' ')
    .replace(/<[^>]*>/g, '');
  // One line per block is plenty for an index; indentation is noise.
  return decodeEntities(text)
    .replace(/[ \t\u00a0]*\n\s*/g, '\n')
    .trim();
}

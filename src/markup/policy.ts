/**
 * The safety policy shared by the BBCode and Markdown renderers.
 *
 * Design: member-written text goes through three layers, each of which would
 * be enough on its own for the common cases.
 *
 * 1. Escape first. Every HTML special character of the source is escaped (or,
 *    for Markdown, treated as text by the parser) before any markup is
 *    interpreted, so the parsers only ever produce the tags we build ourselves.
 * 2. Parse with our own tag handlers. They build links only from URLs that
 *    pass {@link safeUrl} and classes only from the fixed lists below; nothing
 *    the author writes can become an attribute name.
 * 3. Allowlist. The HTML is then filtered by sanitize-html with the strict
 *    configuration built by {@link sanitizeOptions}: a short list of tags, a
 *    few attributes, fixed class names, http/https/mailto (or relative) URLs,
 *    no `style`, no event handlers, no `id`/`name` (DOM clobbering). Every
 *    link gets `rel="nofollow noopener noreferrer"` and loses any `target`.
 *
 * There is no inline style anywhere: the site's Content-Security-Policy
 * forbids it, so colours, sizes and alignment are classes from fixed lists
 * (see {@link MARKUP_CLASSES}) that the stylesheet defines.
 */
import sanitizeHtml from 'sanitize-html';

// ---------------------------------------------------------------------------
// Escaping

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes the five HTML special characters. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

const NAMED: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: '\u00a0',
};

function fromCodePoint(cp: number): string {
  if (cp === 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return '\ufffd';
  return String.fromCodePoint(cp);
}

/**
 * Decodes the character references this module's own escaping produces
 * (`&amp;`, `&lt;`, `&gt;`, `&quot;`, `&#39;`, `&#91;`, …): numeric references
 * and a handful of named ones. Used to get back from "escaped text" to the
 * characters the author typed, e.g. to read a URL or to make plain text.
 */
export function decodeEntities(s: string): string {
  return s.replace(/&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-zA-Z]{2,4}));/g, (whole, dec?: string, hex?: string, name?: string) => {
    if (dec !== undefined) return fromCodePoint(Number.parseInt(dec, 10));
    if (hex !== undefined) return fromCodePoint(Number.parseInt(hex, 16));
    return (name !== undefined ? NAMED[name] : undefined) ?? whole;
  });
}

// ---------------------------------------------------------------------------
// URLs

/** Where a URL is going to be used. Images are never relative or mailto. */
export type UrlUse = 'link' | 'image';

const LINK_SCHEMES = new Set(['http', 'https', 'mailto']);
const IMAGE_SCHEMES = new Set(['http', 'https']);

/** Characters percent-encoded in URLs we emit (they are never needed raw). */
const URL_UNSAFE = /[\s"'<>`\\^{|}]/g;

/**
 * Returns a URL that is safe to put in an `href` (or `src` for images), or
 * null when the URL must not be used.
 *
 * `raw` is the URL as the author typed it (already un-escaped). Browsers drop
 * ASCII tab/newline anywhere in a URL and control characters/spaces at its
 * ends, so those are removed before the scheme is read; "java\tscript:" is
 * therefore seen as "javascript:" and rejected. Accepted:
 * - http:, https:, and for links mailto: (any letter case);
 * - `//host/…` (becomes https://host/…) and `www.…` (becomes http://www.…);
 * - for links, relative URLs starting with `/`, `?` or `#`.
 * Anything else (javascript:, data:, vbscript:, file:, bare words…) is refused.
 * Spaces, quotes, angle brackets, backslashes and the like are percent-encoded,
 * so `/\evil.example` cannot turn into a protocol-relative URL.
 */
export function safeUrl(raw: string, use: UrlUse = 'link'): string | null {
  // eslint-disable-next-line no-control-regex
  let url = raw.replace(/[\u0000-\u001f\u007f]/g, '').trim();
  if (url === '' || url.length > 2048) return null;
  url = url.replace(URL_UNSAFE, (c) => encodeURIComponent(c));

  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(url);
  if (scheme) {
    const name = (scheme[1] as string).toLowerCase();
    const allowed = use === 'image' ? IMAGE_SCHEMES : LINK_SCHEMES;
    if (!allowed.has(name)) return null;
    if (name !== 'mailto' && !/^[a-zA-Z]+:\/\/[^/?#]/.test(url)) return null; // needs a host
    return url;
  }
  if (url.startsWith('//')) return /^\/\/[^/?#]/.test(url) ? `https:${url}` : null;
  if (/^www\.[^/?#]/i.test(url)) return `http://${url}`;
  // A colon before the first / ? # would make the browser look for a scheme.
  const head = /^[^/?#]*/.exec(url)?.[0] ?? '';
  if (head.includes(':')) return null;
  if (use === 'link' && /^[/?#]/.test(url)) return url;
  return null;
}

// ---------------------------------------------------------------------------
// Classes

/**
 * Named colours BBCode `[color=…]` can produce: `bb-color-<name>`. Hex colours
 * are mapped to the nearest of these; names outside the list are dropped.
 */
export const BB_COLOURS: Readonly<Record<string, readonly [number, number, number]>> = {
  black: [0, 0, 0],
  gray: [128, 128, 128],
  silver: [192, 192, 192],
  white: [255, 255, 255],
  red: [255, 0, 0],
  darkred: [139, 0, 0],
  orange: [255, 165, 0],
  gold: [255, 215, 0],
  yellow: [255, 255, 0],
  olive: [128, 128, 0],
  lime: [0, 255, 0],
  green: [0, 128, 0],
  teal: [0, 128, 128],
  cyan: [0, 255, 255],
  blue: [0, 0, 255],
  navy: [0, 0, 128],
  purple: [128, 0, 128],
  magenta: [255, 0, 255],
  pink: [255, 192, 203],
  brown: [165, 42, 42],
};

/** Other spellings accepted for the colours above. */
export const BB_COLOUR_ALIASES: Readonly<Record<string, string>> = {
  grey: 'gray',
  aqua: 'cyan',
  fuchsia: 'magenta',
  maroon: 'darkred',
  darkgreen: 'green',
  darkblue: 'navy',
  violet: 'purple',
  lightgray: 'silver',
  lightgrey: 'silver',
  darkgray: 'gray',
  darkgrey: 'gray',
};

export const BB_SIZES = [1, 2, 3, 4, 5, 6, 7] as const;

/** Class names on `div` (alignment, quote author). */
export const DIV_CLASSES: readonly string[] = ['bb-center', 'bb-right', 'bb-left', 'bb-quote-author'];
/** Class names on `span` (colours and sizes). */
export const SPAN_CLASSES: readonly string[] = [
  ...Object.keys(BB_COLOURS).map((c) => `bb-color-${c}`),
  ...BB_SIZES.map((n) => `bb-size-${n}`),
];
/** `code` may carry `language-<name>` (from Markdown fences and `[code=lang]`). */
export const CODE_CLASS_RE = /^language-[a-z0-9_+#-]{1,30}$/;

/** Every class the renderers can emit, for the stylesheet author. */
export const MARKUP_CLASSES = { div: DIV_CLASSES, span: SPAN_CLASSES, code: 'language-*' } as const;

// ---------------------------------------------------------------------------
// The allowlist pass

/** Tags that survive sanitising (img only when external images are enabled). */
export const ALLOWED_TAGS: readonly string[] = [
  'p', 'br', 'strong', 'b', 'em', 'i', 'u', 's', 'del', 'blockquote', 'code', 'pre',
  'ul', 'ol', 'li', 'a', 'h3', 'h4', 'h5', 'h6', 'hr',
  'table', 'thead', 'tbody', 'tr', 'th', 'td', 'span', 'div', 'details', 'summary',
];

export const LINK_REL = 'nofollow noopener noreferrer';

/**
 * h1/h2 belong to the page itself, so headings in a description start at h3:
 * h1→h3, h2→h4, h3→h5, h4-h6→h6.
 */
const HEADING_MAP: Record<string, string> = { h1: 'h3', h2: 'h4', h3: 'h5', h4: 'h6', h5: 'h6', h6: 'h6' };

function buildOptions(externalImages: boolean): sanitizeHtml.IOptions {
  const transformTags: Record<string, sanitizeHtml.Transformer> = {
    a: (_tagName, attribs) => {
      const out: sanitizeHtml.Attributes = { rel: LINK_REL };
      if (attribs.href !== undefined) out.href = attribs.href;
      return { tagName: 'a', attribs: out };
    },
  };
  for (const [from, to] of Object.entries(HEADING_MAP)) {
    transformTags[from] = (_tagName, attribs) => ({ tagName: to, attribs });
  }
  return {
    allowedTags: externalImages ? [...ALLOWED_TAGS, 'img'] : [...ALLOWED_TAGS],
    allowedAttributes: {
      a: ['href', 'rel'],
      img: externalImages ? ['src', 'alt'] : [],
      span: ['class'],
      div: ['class'],
      code: ['class'],
    },
    allowedClasses: {
      span: [...SPAN_CLASSES],
      div: [...DIV_CLASSES],
      code: [CODE_CLASS_RE],
    },
    allowedSchemes: ['http', 'https', 'mailto'],
    allowedSchemesByTag: { img: ['http', 'https'] },
    allowedSchemesAppliedToAttributes: ['href', 'src', 'cite'],
    allowProtocolRelative: false,
    allowedIframeHostnames: [],
    allowVulnerableTags: false,
    disallowedTagsMode: 'discard',
    // Content of these is dropped together with the tag, not shown as text.
    nonTextTags: ['script', 'style', 'textarea', 'option', 'noscript', 'title', 'template', 'xmp', 'iframe', 'noembed', 'noframes', 'svg', 'math', 'object'],
    transformTags,
    // An image whose source was refused is nothing worth keeping.
    exclusiveFilter: (frame) => frame.tag === 'img' && !frame.attribs.src,
  };
}

const OPTIONS_NO_IMAGES = buildOptions(false);
const OPTIONS_IMAGES = buildOptions(true);

/** The defence-in-depth allowlist pass over HTML built by the renderers. */
export function sanitize(html: string, externalImages: boolean): string {
  return sanitizeHtml(html, externalImages ? OPTIONS_IMAGES : OPTIONS_NO_IMAGES);
}

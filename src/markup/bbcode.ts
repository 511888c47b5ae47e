/**
 * BBCode (the dialect T411 uploaders used) to HTML.
 *
 * Design, in order:
 *
 * 1. Escape first: the caller hands us text in which every HTML special
 *    character is already escaped (`<` is `&lt;` and so on). Text nodes are
 *    emitted as they are, so nothing the author typed can become HTML.
 * 2. Balance: {@link balanceTags} looks at every `[` of the escaped text and
 *    keeps only the tags we support, correctly nested, at most
 *    {@link MAX_BBCODE_DEPTH} deep, each with an acceptable `=value`. Every
 *    other `[` is replaced by `&#91;`, so unknown, stray, unclosed or
 *    overlapping tags show as literal text and the parser never sees them.
 *    This is also what keeps pathological input (10 000 nested quotes) from
 *    building a deep tree: bbob's walker and renderer are recursive.
 * 3. Parse and convert with bbob: the html5 preset, extended with our own
 *    handlers for every tag (the stock ones emit inline styles). Handlers read
 *    tag values back to the characters the author typed, check URLs with
 *    {@link safeUrl} and map colours/sizes/alignment to fixed class names.
 *    bbob escapes attribute values itself, which is why the handlers give it
 *    un-escaped values: that way `&` in a URL is escaped exactly once.
 * 4. Tidy: newlines become `<br>` (except in code), stray whitespace inside
 *    lists and tables goes, a link inside a link is unwrapped.
 *
 * The result still goes through the sanitize-html allowlist in render.ts.
 */
import { html as bbobHtml } from '@bbob/html';
import presetHTML5 from '@bbob/preset-html5';
import { BB_COLOUR_ALIASES, BB_COLOURS, CODE_CLASS_RE, decodeEntities, escapeHtml, safeUrl } from './policy.js';

type TagMap = Parameters<Parameters<typeof presetHTML5.extend>[0]>[0];
type TagHandler = TagMap[string];
type BbNode = Parameters<TagHandler>[0];
/** One child of a node: a tag node, a string of escaped text, a number or null. */
type Item = Exclude<BbNode['content'], readonly unknown[] | undefined>;
type Plugin = Extract<Parameters<typeof bbobHtml>[1], (...args: never[]) => unknown>;

/** Deepest nesting of BBCode tags that is honoured; deeper tags stay literal text. */
export const MAX_BBCODE_DEPTH = 32;

type ValueRule = 'none' | 'optional' | 'required';

/** Supported tags and whether they take `=value`. */
const TAGS: Readonly<Record<string, ValueRule>> = {
  b: 'none',
  i: 'none',
  u: 'none',
  s: 'none',
  url: 'optional',
  img: 'optional',
  quote: 'optional',
  code: 'optional',
  list: 'optional',
  '*': 'none',
  center: 'none',
  right: 'none',
  left: 'none',
  color: 'required',
  size: 'required',
  font: 'required',
  spoiler: 'optional',
  hr: 'none',
  table: 'none',
  tr: 'none',
  td: 'none',
  th: 'none',
};

/** Tags without content or closing tag. */
const VOID_TAGS = new Set(['hr', '*']);

interface Candidate {
  start: number;
  end: number;
  closing: boolean;
  name: string;
  value: string | undefined;
}

/** Something that looks like a tag in escaped text: `[name]`, `[name=value]` or `[/name]`. */
const TAG_RE = /\[(\/?)([a-zA-Z]{1,10}|\*)(?:=([^[\]\n]{0,2048}))?\]/g;

function cleanValue(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  let v = raw.trim();
  // [url="…"] and [quote='…'] are common; the quotes were escaped with the rest.
  for (const q of ['&quot;', '&#39;']) {
    if (v.length >= 2 * q.length && v.startsWith(q) && v.endsWith(q)) v = v.slice(q.length, -q.length).trim();
  }
  return v === '' ? undefined : v;
}

function findCandidates(escaped: string): Candidate[] {
  const out: Candidate[] = [];
  for (const m of escaped.matchAll(TAG_RE)) {
    const start = m.index;
    out.push({
      start,
      end: start + m[0].length,
      closing: m[1] === '/',
      name: (m[2] as string).toLowerCase(),
      value: cleanValue(m[3]),
    });
  }
  return out;
}

/** Tags whose content is taken literally (no tags inside). */
function isRawTag(c: Candidate): boolean {
  return c.name === 'code' || c.name === 'img' || (c.name === 'url' && c.value === undefined);
}

/** First index in the ascending `list` greater than `after`, or -1. */
function firstAfter(list: readonly number[], after: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((list[mid] as number) <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo < list.length ? (list[lo] as number) : -1;
}

interface OpenEntry {
  index: number;
  name: string;
  live: boolean;
  text: string;
}

/**
 * Rewrites escaped BBCode so that it only contains supported, well-nested tags
 * in canonical lower-case form; every other `[` becomes `&#91;`.
 * Exported for tests.
 */
export function balanceTags(escaped: string, maxDepth = MAX_BBCODE_DEPTH): string {
  const cands = findCandidates(escaped);
  const replacement = new Map<number, string>();
  const closersByName = new Map<string, number[]>();
  cands.forEach((c, i) => {
    if (c.closing && c.value === undefined) {
      const list = closersByName.get(c.name);
      if (list) list.push(i);
      else closersByName.set(c.name, [i]);
    }
  });

  const stack: OpenEntry[] = [];
  const openCount = new Map<string, number>();
  let liveDepth = 0;

  for (let i = 0; i < cands.length; i++) {
    const c = cands[i] as Candidate;
    const rule = TAGS[c.name];
    if (rule === undefined) continue;

    if (c.closing) {
      if (c.value !== undefined) continue;
      if (c.name === '*') {
        replacement.set(i, ''); // [/*] means nothing; drop it
        continue;
      }
      if (VOID_TAGS.has(c.name) || (openCount.get(c.name) ?? 0) === 0) continue;
      // Close the nearest open tag of that name; the ones opened after it were never closed.
      for (;;) {
        const top = stack.pop() as OpenEntry;
        openCount.set(top.name, (openCount.get(top.name) ?? 1) - 1);
        if (top.live) liveDepth--;
        if (top.name === c.name) {
          if (top.live) {
            replacement.set(top.index, top.text);
            replacement.set(i, `[/${c.name}]`);
          }
          break;
        }
      }
      continue;
    }

    if ((rule === 'none' && c.value !== undefined) || (rule === 'required' && c.value === undefined)) continue;
    const text = c.value === undefined ? `[${c.name}]` : `[${c.name}=${c.value}]`;
    if (VOID_TAGS.has(c.name)) {
      replacement.set(i, text);
      continue;
    }
    if (isRawTag(c)) {
      const j = firstAfter(closersByName.get(c.name) ?? [], i);
      if (j >= 0 && liveDepth < maxDepth) {
        replacement.set(i, text);
        replacement.set(j, `[/${c.name}]`);
        i = j; // everything up to the closing tag is literal content
      }
      continue;
    }
    const live = liveDepth < maxDepth;
    stack.push({ index: i, name: c.name, live, text });
    openCount.set(c.name, (openCount.get(c.name) ?? 0) + 1);
    if (live) liveDepth++;
  }

  const neutral = (s: string): string => s.replaceAll('[', '&#91;');
  let out = '';
  let pos = 0;
  cands.forEach((c, i) => {
    const r = replacement.get(i);
    if (r === undefined) return;
    out += neutral(escaped.slice(pos, c.start)) + r;
    pos = c.end;
  });
  return out + neutral(escaped.slice(pos));
}

// ---------------------------------------------------------------------------
// Tag handlers

function el(tag: string, attrs: Record<string, string>, content: Item[] | null): BbNode {
  return { tag, attrs, content };
}

function children(node: BbNode): Item[] {
  const c = node.content;
  if (Array.isArray(c)) return c as Item[];
  if (c === undefined || c === null) return [];
  return [c as Item];
}

/** The `=value` of a tag, still escaped (the parser stores it as name and value at once). */
function tagValue(node: BbNode): string | undefined {
  for (const [k, v] of Object.entries(node.attrs ?? {})) {
    if (typeof v === 'string' && k === v) return v;
  }
  return undefined;
}

/** Concatenated escaped text of a node's children. */
function textOf(items: readonly Item[]): string {
  let s = '';
  for (const it of items) {
    if (typeof it === 'string' || typeof it === 'number') s += String(it);
  }
  return s;
}

function colourClass(value: string): string | null {
  const v = decodeEntities(value).trim().toLowerCase();
  const hex = /^#?([0-9a-f]{3}|[0-9a-f]{6})$/.exec(v);
  if (hex) {
    let h = hex[1] as string;
    if (h.length === 3) h = Array.from(h, (ch) => ch + ch).join('');
    const rgb = [0, 2, 4].map((o) => Number.parseInt(h.slice(o, o + 2), 16));
    let best = '';
    let bestDist = Infinity;
    for (const [name, ref] of Object.entries(BB_COLOURS)) {
      const d = ref.reduce((acc, x, k) => acc + (x - (rgb[k] as number)) ** 2, 0);
      if (d < bestDist) {
        bestDist = d;
        best = name;
      }
    }
    return `bb-color-${best}`;
  }
  const name = BB_COLOUR_ALIASES[v] ?? v;
  return Object.hasOwn(BB_COLOURS, name) ? `bb-color-${name}` : null;
}

/**
 * `[size=…]` to a level 1-7 (3 is normal text). 1-7 are levels; other bare
 * numbers up to 40 and `px`/`pt` values are pixel-like sizes; bigger bare
 * numbers and `%` are percentages (as some forums used); `em` is relative.
 */
function sizeClass(value: string): string | null {
  const m = /^(\d{1,4}(?:\.\d{1,3})?)\s*(px|pt|em|%)?$/i.exec(decodeEntities(value).trim());
  if (!m) return null;
  const n = Number(m[1]);
  const unit = (m[2] ?? '').toLowerCase();
  if (!(n > 0)) return null;
  let level: number;
  if (unit === '' && Number.isInteger(n) && n <= 7) {
    level = n;
  } else {
    let px: number;
    if (unit === 'pt') px = (n * 4) / 3;
    else if (unit === 'em') px = n * 16;
    else if (unit === '%' || (unit === '' && n > 40)) px = (n * 16) / 100;
    else px = n;
    const steps = [10, 13, 16, 20, 26, 32];
    level = steps.findIndex((s) => px <= s) + 1 || 7;
  }
  return `bb-size-${level}`;
}

/** Groups list content into items at each `[*]`. */
function listItems(items: readonly Item[]): Item[] {
  const out: Item[] = [];
  let current: Item[] | null = null;
  for (const it of items) {
    if (it !== null && typeof it === 'object' && it.tag === '*') {
      current = [];
      out.push(el('li', {}, current));
      continue;
    }
    if (current === null) {
      if (typeof it === 'string' && it.trim() === '') continue;
      current = [];
      out.push(el('li', {}, current));
    }
    current.push(it);
  }
  return out;
}

/**
 * Marker tag for the `<code>` inside `[code]`'s `<pre>`: bbob's walker visits
 * the children of what a handler returns, and a child really named `code`
 * would be handed to the `[code]` handler again. Renamed while tidying.
 */
const CODE_MARK = '#code';

function handlers(externalImages: boolean): TagMap {
  const wrap = (tag: string): TagHandler => (node) => el(tag, {}, children(node));
  const plain = (node: BbNode): BbNode => el('span', {}, children(node));
  return {
    b: wrap('strong'),
    i: wrap('em'),
    u: wrap('u'),
    s: wrap('s'),
    url: (node) => {
      const content = children(node);
      const value = tagValue(node);
      const href = safeUrl(decodeEntities(value ?? textOf(content)), 'link');
      if (href === null) return plain(node);
      return el('a', { href }, content.length > 0 ? content : [escapeHtml(href)]);
    },
    img: (node) => {
      const content = children(node);
      const value = tagValue(node);
      let src = textOf(content).trim();
      // [img=WxH]url[/img]: the size is dropped. [img=url][/img] is accepted too.
      if (src === '' && value !== undefined && !/^\d+\s*[x*]\s*\d+$/i.test(value)) src = value;
      const url = safeUrl(decodeEntities(src), 'image');
      if (url === null) return plain(node);
      if (externalImages) return el('img', { src: url, alt: '' }, null);
      return el('a', { href: url }, [escapeHtml(url)]);
    },
    quote: (node) => {
      const value = tagValue(node);
      const author = value === undefined ? [] : [el('div', { class: 'bb-quote-author' }, [value])];
      return el('blockquote', {}, [...author, ...children(node)]);
    },
    code: (node) => {
      const lang = tagValue(node)?.toLowerCase();
      const cls: Record<string, string> = lang !== undefined && CODE_CLASS_RE.test(`language-${lang}`) ? { class: `language-${lang}` } : {};
      return el('pre', {}, [el(CODE_MARK, cls, children(node))]);
    },
    list: (node) => {
      const value = tagValue(node);
      const ordered = value !== undefined && /^(\d+|[aAiI])$/.test(value);
      return el(ordered ? 'ol' : 'ul', {}, listItems(children(node)));
    },
    center: (node) => el('div', { class: 'bb-center' }, children(node)),
    right: (node) => el('div', { class: 'bb-right' }, children(node)),
    left: (node) => el('div', { class: 'bb-left' }, children(node)),
    color: (node) => {
      const cls = colourClass(tagValue(node) ?? '');
      return cls === null ? plain(node) : el('span', { class: cls }, children(node));
    },
    size: (node) => {
      const cls = sizeClass(tagValue(node) ?? '');
      return cls === null ? plain(node) : el('span', { class: cls }, children(node));
    },
    font: plain,
    spoiler: (node) => {
      const title = tagValue(node) ?? 'Spoiler';
      return el('details', {}, [el('summary', {}, [title]), ...children(node)]);
    },
    hr: () => el('hr', {}, null),
    table: wrap('table'),
    tr: wrap('tr'),
    td: wrap('td'),
    th: wrap('th'),
  };
}

// ---------------------------------------------------------------------------
// Tidying

const BLOCK_TAGS = new Set(['blockquote', 'div', 'ul', 'ol', 'li', 'table', 'tr', 'td', 'th', 'pre', 'hr', 'details', 'summary']);
/** Containers in which text between the children is meaningless. */
const NO_TEXT_TAGS = new Set(['ul', 'ol', 'table', 'tr']);

function isTag(it: Item | undefined): it is BbNode {
  return it !== null && typeof it === 'object';
}

const isBr = (it: Item | undefined): boolean => isTag(it) && it.tag === 'br';

interface TidyContext {
  parent: string;
  inPre: boolean;
  inLink: boolean;
}

function tidy(items: readonly Item[], ctx: TidyContext, out: Item[] = []): Item[] {
  const start = out.length;
  for (const it of items) {
    if (it === null) continue;
    if (!isTag(it)) {
      const s = String(it);
      if (ctx.inPre) out.push(s);
      else if (NO_TEXT_TAGS.has(ctx.parent) && s.trim() === '') continue;
      else if (s === '\n') {
        const prev = out.length > start ? out[out.length - 1] : undefined;
        // A newline right after a block element or at the start of a block is not a line break.
        if (prev === undefined ? BLOCK_TAGS.has(ctx.parent) : isTag(prev) && BLOCK_TAGS.has(String(prev.tag))) continue;
        out.push(el('br', {}, null));
      } else out.push(s);
      continue;
    }
    const tag = String(it.tag);
    if (tag === '*') {
      out.push('[*]'); // a list item marker outside a list
      tidy(children(it), ctx, out);
      continue;
    }
    if (tag === 'a' && ctx.inLink) {
      tidy(children(it), ctx, out); // no link inside a link
      continue;
    }
    const name = tag === CODE_MARK ? 'code' : tag;
    const content =
      it.content === null
        ? null
        : tidy(children(it), { parent: name, inPre: ctx.inPre || name === 'pre', inLink: ctx.inLink || name === 'a' });
    out.push(el(name, (it.attrs ?? {}) as Record<string, string>, content));
  }
  if (BLOCK_TAGS.has(ctx.parent)) while (out.length > start && isBr(out[out.length - 1])) out.pop();
  return out;
}

const tidyPlugin: Plugin = (tree) => {
  const items = tidy(Array.from(tree) as Item[], { parent: '', inPre: false, inLink: false });
  tree.length = 0;
  for (const it of items) tree.push(it);
  return tree;
};

const PRESETS = {
  withImages: presetHTML5.extend(() => handlers(true)),
  withoutImages: presetHTML5.extend(() => handlers(false)),
};

/**
 * Renders BBCode to HTML. `escaped` must already be HTML-escaped
 * (see {@link escapeHtml}); the output still needs the allowlist pass.
 */
export function bbcodeToHtml(escaped: string, externalImages: boolean): string {
  const preset = externalImages ? PRESETS.withImages : PRESETS.withoutImages;
  return bbobHtml(balanceTags(escaped), [preset(), tidyPlugin]);
}

/**
 * An independent checker of rendered description HTML, used by the tests
 * (example, corpus and property-based) to assert the safety policy without
 * trusting the code under test.
 *
 * Design: it does not share code with the renderer. It reads the output as a
 * sequence of tags and text (the renderer escapes every `<` and `>` that is
 * not part of a tag, so this split is exact), then checks each tag against
 * the policy written out again here: tag names, attribute names, class
 * values, URL schemes, rel on links.
 */

const TAGS = new Set([
  'p', 'br', 'strong', 'b', 'em', 'i', 'u', 's', 'del', 'blockquote', 'code', 'pre', 'ul', 'ol', 'li', 'a',
  'h3', 'h4', 'h5', 'h6', 'hr', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'span', 'div', 'details', 'summary',
]);

const CLASS_RE: Record<string, RegExp> = {
  span: /^bb-(color-[a-z]+|size-[1-7])$/,
  div: /^bb-(center|right|left|quote-author)$/,
  code: /^language-[a-z0-9_+#-]{1,30}$/,
};

function decode(s: string): string {
  return s
    .replace(/&#(\d+);/g, (_m, d: string) => String.fromCodePoint(Math.min(Number(d), 0x10ffff)))
    .replace(/&#x([0-9a-f]+);/gi, (_m, h: string) => String.fromCodePoint(Math.min(Number.parseInt(h, 16), 0x10ffff)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** Why a URL attribute value would be unsafe, or null. */
function badUrl(value: string, tag: string): string | null {
  // What a browser would look at: entities decoded, whitespace and controls gone.
  // eslint-disable-next-line no-control-regex
  const squeezed = decode(value).replace(/[\u0000-\u0020\u007f]+/g, '');
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(squeezed)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    if (/^[/\\]{2}/.test(squeezed)) return `protocol-relative URL ${value}`;
    if (tag === 'img') return `relative image URL ${value}`;
    if (/^[^/?#]*:/.test(squeezed)) return `ambiguous scheme in ${value}`;
    return null;
  }
  const ok = tag === 'img' ? ['http', 'https'] : ['http', 'https', 'mailto'];
  return ok.includes(scheme) ? null : `scheme ${scheme}: in ${value}`;
}

/**
 * Lists every way `html` breaks the description policy (empty when it is fine).
 * `externalImages` says whether `<img>` is allowed.
 */
export function policyViolations(html: string, externalImages = false): string[] {
  const problems: string[] = [];
  const lower = html.toLowerCase();
  for (const bad of ['<script', '<style', '<iframe', '<svg', '<object', '<embed', '<math', '<link', '<meta', '<base', '<form']) {
    if (lower.includes(bad)) problems.push(`contains ${bad}`);
  }
  const tagRe = /<(\/?)([a-zA-Z][a-zA-Z0-9]*)((?:\s+[^\s=/>]+(?:="[^"]*")?)*)\s*(\/?)>/g;
  let last = 0;
  for (const m of html.matchAll(tagRe)) {
    const text = html.slice(last, m.index);
    if (/[<>]/.test(text)) problems.push(`raw < or > in text: ${text.slice(0, 60)}`);
    last = m.index + m[0].length;
    const closing = m[1] === '/';
    const name = (m[2] as string).toLowerCase();
    const allowed = TAGS.has(name) || (externalImages && name === 'img');
    if (!allowed) problems.push(`tag <${name}>`);
    if (closing) continue;
    const attrs = new Map<string, string>();
    for (const a of (m[3] ?? '').matchAll(/([^\s=/>]+)(?:="([^"]*)")?/g)) {
      const attr = (a[1] as string).toLowerCase();
      const value = a[2] ?? '';
      attrs.set(attr, value);
      if (/^on/.test(attr)) problems.push(`event handler ${attr} on <${name}>`);
      else if (attr === 'style') problems.push(`style on <${name}>`);
      else if (attr === 'href' && name === 'a') {
        const why = badUrl(value, name);
        if (why) problems.push(why);
      } else if ((attr === 'src' || attr === 'alt') && name === 'img') {
        const why = attr === 'src' ? badUrl(value, name) : null;
        if (why) problems.push(why);
      } else if (attr === 'rel' && name === 'a') {
        if (value !== 'nofollow noopener noreferrer') problems.push(`rel="${value}"`);
      } else if (attr === 'class' && CLASS_RE[name] !== undefined) {
        for (const cls of value.split(/\s+/).filter(Boolean)) {
          if (!(CLASS_RE[name] as RegExp).test(cls)) problems.push(`class ${cls} on <${name}>`);
        }
      } else problems.push(`attribute ${attr} on <${name}>`);
    }
    if (name === 'a' && attrs.get('rel') !== 'nofollow noopener noreferrer') problems.push('link without rel');
  }
  const tail = html.slice(last);
  if (/[<>]/.test(tail)) problems.push(`raw < or > in text: ${tail.slice(0, 60)}`);
  return problems;
}

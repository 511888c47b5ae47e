import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { descriptionToPlainText, renderDescription } from './render.js';
import { policyViolations } from './testing.js';

/** Runs per property; raise with MARKUP_FC_RUNS for a longer soak. */
const RUNS = Number(process.env.MARKUP_FC_RUNS ?? 400);
const FORMATS = ['bbcode', 'markdown'] as const;

/** The properties the task asks for, checked on the raw output string. */
function assertSafe(html: string, externalImages: boolean, input: string): void {
  const lower = html.toLowerCase();
  const ctx = `${JSON.stringify(input)} -> ${html}`;
  assert.ok(!lower.includes('<script'), `<script in ${ctx}`);
  assert.ok(!lower.includes('<style'), `<style in ${ctx}`);
  assert.ok(!lower.includes('<iframe'), `<iframe in ${ctx}`);
  // Attribute names, with quoted values blanked (a value may say "onclick=" harmlessly).
  const names = lower.replace(/="[^"]*"/g, '=""');
  assert.ok(!/<[a-z][^>]*\son[a-z]+=/.test(names), `event handler in ${ctx}`);
  assert.ok(!/<[a-z][^>]*\sstyle=/.test(names), `style attribute in ${ctx}`);
  for (const m of lower.matchAll(/<[a-z][^>]*\s(?:href|src)="([^"]*)"/g)) {
    // eslint-disable-next-line no-control-regex
    const url = (m[1] as string).replace(/&#(\d+);/g, (_x, d: string) => String.fromCharCode(Number(d) & 0xffff)).replace(/[\u0000-\u0020]/g, '');
    const scheme = /^([a-z][a-z0-9+.-]*):/.exec(url)?.[1];
    assert.ok(scheme === undefined || ['http', 'https', 'mailto'].includes(scheme), `scheme ${scheme} in ${ctx}`);
  }
  assert.deepEqual(policyViolations(html, externalImages), [], ctx);
}

/** Pieces that markup, URLs and XSS payloads are made of. */
const BB_TOKENS = [
  '[b]', '[/b]', '[i]', '[/i]', '[u]', '[/u]', '[s]', '[/s]', '[url]', '[/url]', '[url=', '[img]', '[/img]', '[img=', '[quote]',
  '[quote=', '[/quote]', '[code]', '[/code]', '[code=', '[list]', '[list=1]', '[/list]', '[*]', '[/*]', '[center]', '[/center]',
  '[right]', '[/right]', '[left]', '[/left]', '[color=', '[/color]', '[size=', '[/size]', '[font=', '[/font]', '[spoiler]',
  '[spoiler=', '[/spoiler]', '[hr]', '[table]', '[/table]', '[tr]', '[/tr]', '[td]', '[/td]', '[th]', '[/th]', '[', ']', '=',
  '/', '"', "'", '<', '>', '&', ' ', '\t', '\n', '\r\n', 'red', '#f00', '7', '100x100', 'javascript:', 'JaVaScRiPt:', 'java\tscript:',
  'data:text/html,', 'vbscript:', 'alert(1)', 'http://a.example/', 'https://b.example/x?y=1&z=2', '//evil.example', '/\\evil.example',
  'mailto:a@b.example', 'www.c.example', '&#106;', '&#x6A;', '&amp;', '&quot;', '&#58;', '&colon;', ' onerror=', ' onclick="x"',
  'style=', '<script>', '</script>', '<img src=x onerror=alert(1)>', '<svg onload=alert(1)>', '<iframe>', '<style>', '\u0000', 'x', 'word',
];
const MD_TOKENS = [
  '[', ']', '(', ')', '!', '<', '>', '`', '```', '*', '**', '_', '~~', '#', '## ', '> ', '- ', '1. ', '|', '---', '\n', '\n\n', ' ', '    ',
  '"', "'", '\\', '&', 'javascript:', 'JAVASCRIPT:', 'java\tscript:', 'data:text/html,', 'data:image/png;base64,AA', 'vbscript:', 'alert(1)',
  'http://a.example/', 'https://b.example/?q=1', '//evil.example', 'mailto:a@b.example', 'www.c.example', '&#106;', '&#x6A;', '&#58;',
  '&colon;', '&quot;', ' onerror=', ' onclick="x"', 'style=', '<script>', '</script>', '<img src=x onerror=alert(1)>', '<svg onload=alert(1)>',
  '<http://a.example>', '<javascript:alert(1)>', '[x]: ', 'title', 'x', 'word', '[b]', '[url=', '[/url]',
];

const soup = (tokens: readonly string[]): fc.Arbitrary<string> =>
  fc.array(fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...tokens) }, { weight: 1, arbitrary: fc.string({ maxLength: 6 }) }), { maxLength: 60 }).map((parts) => parts.join(''));

const anyString = fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 200 }));

test('arbitrary strings render safely in both formats', () => {
  fc.assert(
    fc.property(anyString, fc.constantFrom(...FORMATS), fc.boolean(), (s, format, externalImages) => {
      assertSafe(renderDescription(s, format, { externalImages }), externalImages, s);
    }),
    { numRuns: RUNS },
  );
});

test('BBCode token soups render safely', () => {
  fc.assert(
    fc.property(soup(BB_TOKENS), fc.boolean(), (s, externalImages) => {
      assertSafe(renderDescription(s, 'bbcode', { externalImages }), externalImages, s);
    }),
    { numRuns: RUNS * 2 },
  );
});

test('Markdown token soups render safely', () => {
  fc.assert(
    fc.property(soup(MD_TOKENS), fc.boolean(), (s, externalImages) => {
      assertSafe(renderDescription(s, 'markdown', { externalImages }), externalImages, s);
    }),
    { numRuns: RUNS * 2 },
  );
});

test('token soups of either kind are safe in the other format too', () => {
  fc.assert(
    fc.property(soup([...BB_TOKENS, ...MD_TOKENS]), fc.constantFrom(...FORMATS), (s, format) => {
      assertSafe(renderDescription(s, format, { externalImages: true }), true, s);
    }),
    { numRuns: RUNS },
  );
});

const plainWords = fc.array(fc.stringMatching(/^[a-zA-Z0-9éàçÉ]{1,12}$/), { minLength: 1, maxLength: 20 }).map((w) => w.join(' '));

test('text without markup characters comes out containing the text', () => {
  fc.assert(
    fc.property(plainWords, fc.constantFrom(...FORMATS), (s, format) => {
      const html = renderDescription(s, format);
      assert.ok(html.includes(s), `${JSON.stringify(s)} -> ${html}`);
      assert.equal(descriptionToPlainText(s, format), s);
    }),
    { numRuns: RUNS },
  );
});

test('rendering is deterministic', () => {
  fc.assert(
    fc.property(soup([...BB_TOKENS, ...MD_TOKENS]), fc.constantFrom(...FORMATS), (s, format) => {
      assert.equal(renderDescription(s, format), renderDescription(s, format));
    }),
    { numRuns: RUNS / 4 },
  );
});

test('plain text never contains tags', () => {
  fc.assert(
    fc.property(soup(BB_TOKENS), fc.constantFrom(...FORMATS), (s, format) => {
      const text = descriptionToPlainText(s, format);
      // A "<" in the text can only be one the author typed (directly or as an entity).
      if (!s.includes('<') && !s.includes('&')) assert.ok(!text.includes('<'), `${JSON.stringify(s)} -> ${text}`);
    }),
    { numRuns: RUNS / 2 },
  );
});

test('the checker itself flags unsafe HTML', () => {
  const bad = [
    '<script>x</script>',
    '<a href="javascript:alert(1)" rel="nofollow noopener noreferrer">x</a>',
    '<a href="jav&#x09;ascript:alert(1)" rel="nofollow noopener noreferrer">x</a>',
    '<a href="//evil.example" rel="nofollow noopener noreferrer">x</a>',
    '<a href="http://a.example">no rel</a>',
    '<img src="http://i.example/x.png" />',
    '<span style="color:red">x</span>',
    '<div onclick="x">x</div>',
    '<div id="x">x</div>',
    '<span class="evil">x</span>',
    '<iframe></iframe>',
    'text with a raw < sign',
  ];
  for (const html of bad) {
    assert.notDeepEqual(policyViolations(html), [], html);
    assert.throws(() => assertSafe(html, false, 'checker test'), assert.AssertionError, html);
  }
  assert.deepEqual(policyViolations('<img src="https://i.example/x.png" alt="" />', true), []);
});

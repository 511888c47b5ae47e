import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderDescription, descriptionToPlainText } from './render.js';
import { policyViolations } from './testing.js';

/**
 * Known XSS vectors, in HTML, BBCode and Markdown spellings. Every one is
 * rendered as BBCode and as Markdown, with and without external images, and
 * the output is checked against the policy by an independent checker.
 */
const VECTORS: string[] = [
  // Raw HTML
  '<script>alert(1)</script>',
  '<SCRIPT SRC=//evil.example/x.js></SCRIPT>',
  '<scr<script>ipt>alert(1)</scr</script>ipt>',
  '<img src=x onerror=alert(1)>',
  '<img src="javascript:alert(1)">',
  '<svg onload=alert(1)>',
  '<svg><script>alert(1)</script></svg>',
  '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>',
  '<style>body{display:none}</style>',
  '<iframe src="javascript:alert(1)"></iframe>',
  '<iframe srcdoc="<script>alert(1)</script>">',
  '<object data="data:text/html,<script>alert(1)</script>">',
  '<embed src="javascript:alert(1)">',
  '<a href="javascript:alert(1)">x</a>',
  '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
  '<div style="background:url(javascript:alert(1))">x</div>',
  '<body onload=alert(1)>',
  '<input autofocus onfocus=alert(1)>',
  '<details open ontoggle=alert(1)>',
  '<form id=x><input name=y></form>',
  '<img id="location" name="cookie">',
  '<base href="javascript://">',
  '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
  '<!--<img src="--><img src=x onerror=alert(1)//">',
  '<textarea><script>alert(1)</script></textarea>',
  '"><script>alert(1)</script>',
  "'><img src=x onerror=alert(1)>",
  '&lt;script&gt;alert(1)&lt;/script&gt;',
  '&#60;script&#62;alert(1)&#60;/script&#62;',
  // BBCode
  '[url=javascript:alert(1)]x[/url]',
  '[url]javascript:alert(1)[/url]',
  '[url=JaVaScRiPt:alert(1)]x[/url]',
  '[url=&#106;avascript:alert(1)]x[/url]',
  '[url=&#x6A;&#x61;vascript:alert(1)]x[/url]',
  '[url=java&#09;script:alert(1)]x[/url]',
  '[url=java\tscript:alert(1)]x[/url]',
  '[url= \u0001javascript:alert(1)]x[/url]',
  '[url=vbscript:msgbox(1)]x[/url]',
  '[url=data:text/html,<script>alert(1)</script>]x[/url]',
  '[url=http://a.example" onclick="alert(1)]x[/url]',
  "[url=http://a.example' onmouseover='alert(1)]x[/url]",
  '[url=http://a.example/ onmouseover=alert(1)]x[/url]',
  '[url=//evil.example]x[/url]',
  '[url=/\\evil.example]x[/url]',
  '[img]javascript:alert(1)[/img]',
  '[img]http://i.example/x.png" onerror="alert(1)[/img]',
  '[img=1x1 onerror=alert(1)]http://i.example/x.png[/img]',
  '[img]data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+[/img]',
  '[color=red" onmouseover="alert(1)]x[/color]',
  '[color=red;background:url(javascript:alert(1))]x[/color]',
  '[size=7" style="x]x[/size]',
  '[font=Arial" onmouseover="alert(1)]x[/font]',
  '[quote=<script>alert(1)</script>]x[/quote]',
  '[quote="x" onclick="alert(1)"]x[/quote]',
  '[spoiler=<img src=x onerror=alert(1)>]x[/spoiler]',
  '[code=js" onclick="alert(1)]x[/code]',
  '[code]<script>alert(1)</script>[/code]',
  '[list=1" onclick="alert(1)][*]x[/list]',
  '[url=http://a.example][url=javascript:alert(1)]x[/url][/url]',
  '[b onclick=alert(1)]x[/b]',
  '[style color=red]x[/style]',
  '[iframe]http://evil.example[/iframe]',
  '[script]alert(1)[/script]',
  // Markdown
  '[x](javascript:alert(1))',
  '[x](JAVASCRIPT:alert(1))',
  '[x](javascript&#58;alert(1))',
  '[x](&#106;avascript:alert(1))',
  '[x](java\tscript:alert(1))',
  '[x](<javascript:alert(1)>)',
  '[x](data:text/html,<script>alert(1)</script>)',
  '[x](vbscript:msgbox(1))',
  '[x](http://a.example "title\\" onmouseover=\\"alert(1)")',
  '[x]: javascript:alert(1)\n\n[x]',
  '![x](javascript:alert(1))',
  '![x](data:image/png;base64,iVBORw0KGgo=)',
  '![x" onerror="alert(1)](http://i.example/x.png)',
  '<javascript:alert(1)>',
  '<http://a.example/" onclick="alert(1)>',
  '```js" onclick="alert(1)\nx\n```',
  '[x](//evil.example)',
  'javascript:alert(1)',
  'data:text/html,<script>alert(1)</script>',
];

test(`XSS corpus (${VECTORS.length} vectors) renders safely in every format and mode`, () => {
  for (const v of VECTORS) {
    for (const format of ['bbcode', 'markdown'] as const) {
      for (const externalImages of [false, true]) {
        const html = renderDescription(v, format, { externalImages });
        assert.deepEqual(policyViolations(html, externalImages), [], `${format} ${externalImages}: ${v} -> ${html}`);
        const lower = html.toLowerCase();
        // Text never holds a raw `<`, so `<[a-z][^>]*` only matches real tags.
        assert.ok(!/<[a-z][^>]*\s(href|src)="\s*(javascript|data|vbscript)/.test(lower), `dangerous URL: ${v} -> ${html}`);
        // Attribute names only: quoted values (where `onerror=` may be harmless text) are blanked.
        const names = lower.replace(/="[^"]*"/g, '=""');
        assert.ok(!/<[a-z][^>]*\s(id|name|style|target|on[a-z]+)=/.test(names), `forbidden attribute: ${v} -> ${html}`);
      }
      const text = descriptionToPlainText(v, format);
      assert.ok(typeof text === 'string', 'plain text is a string');
    }
  }
});

test('refused link schemes leave no link at all in BBCode', () => {
  for (const v of VECTORS.filter((x) => x.startsWith('[url=') && /script|data:/i.test(x) && !x.includes('http'))) {
    const html = renderDescription(v, 'bbcode');
    assert.ok(!html.includes('<a '), `${v} -> ${html}`);
  }
});

test('quotes cannot break out of an attribute', () => {
  const html = renderDescription('[url=http://a.example" onclick="alert(1)]x[/url]', 'bbcode');
  assert.equal(html, '<a rel="nofollow noopener noreferrer" href="http://a.example%22%20onclick=%22alert(1)">x</a>');
  const img = renderDescription('[img]http://i.example/x.png" onerror="alert(1)[/img]', 'bbcode', { externalImages: true });
  assert.equal(img, '<img src="http://i.example/x.png%22%20onerror=%22alert(1)" alt="" />');
});

test('markup-looking text inside raw HTML stays text', () => {
  assert.equal(renderDescription('<script>alert(1)</script>', 'bbcode'), '&lt;script&gt;alert(1)&lt;/script&gt;');
  assert.equal(renderDescription('<script>alert(1)</script>', 'markdown'), '<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>');
  assert.equal(renderDescription('[x](javascript:alert(1))', 'markdown'), '<p>[x](javascript:alert(1))</p>');
});

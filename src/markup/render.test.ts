import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_MAX_LENGTH,
  MAX_BBCODE_DEPTH,
  descriptionToPlainText,
  previewDescription,
  renderDescription,
  safeUrl,
} from './render.js';
import { balanceTags } from './bbcode.js';
import { policyViolations } from './testing.js';

const REL = 'rel="nofollow noopener noreferrer"';
const bb = (s: string, externalImages = false): string => {
  const html = renderDescription(s, 'bbcode', { externalImages });
  assert.deepEqual(policyViolations(html, externalImages), [], html);
  return html;
};
const md = (s: string, externalImages = false): string => {
  const html = renderDescription(s, 'markdown', { externalImages });
  assert.deepEqual(policyViolations(html, externalImages), [], html);
  return html;
};
const count = (html: string, needle: string): number => html.split(needle).length - 1;

describe('BBCode tags', () => {
  test('b, i, u, s', () => {
    assert.equal(bb('[b]bold[/b] [i]it[/i] [u]under[/u] [s]strike[/s]'), '<strong>bold</strong> <em>it</em> <u>under</u> <s>strike</s>');
  });

  test('tag names are case-insensitive', () => {
    assert.equal(bb('[B]x[/B] [Url=http://a.example]y[/URL]'), `<strong>x</strong> <a ${REL} href="http://a.example">y</a>`);
  });

  test('[url] and [url=]', () => {
    assert.equal(bb('[url]http://a.example/x[/url]'), `<a ${REL} href="http://a.example/x">http://a.example/x</a>`);
    assert.equal(bb('[url=https://a.example/]site[/url]'), `<a ${REL} href="https://a.example/">site</a>`);
    assert.equal(bb('[url="https://a.example/"]quoted[/url]'), `<a ${REL} href="https://a.example/">quoted</a>`);
    assert.equal(bb('[url=www.a.example]w[/url]'), `<a ${REL} href="http://www.a.example">w</a>`);
    assert.equal(bb('[url=/torrents/12]rel[/url]'), `<a ${REL} href="/torrents/12">rel</a>`);
    assert.equal(bb('[url=mailto:me@a.example]mail[/url]'), `<a ${REL} href="mailto:me@a.example">mail</a>`);
    assert.equal(bb('[url=http://a.example][/url]'), `<a ${REL} href="http://a.example">http://a.example</a>`);
  });

  test('[url] keeps & escaped exactly once (escape first, then parse)', () => {
    assert.equal(bb('[url=http://a.example/?x=1&y=2]q[/url]'), `<a ${REL} href="http://a.example/?x=1&amp;y=2">q</a>`);
    assert.equal(bb('[url]http://a.example/?x=1&y=2[/url]'), `<a ${REL} href="http://a.example/?x=1&amp;y=2">http://a.example/?x=1&amp;y=2</a>`);
    // What the author typed is what the URL is: a typed entity is not decoded a second time.
    assert.equal(bb('[url=http://a.example/?x=1&amp;y=2]q[/url]'), `<a ${REL} href="http://a.example/?x=1&amp;amp;y=2">q</a>`);
  });

  test('[url] with a refused URL keeps its text and drops the link', () => {
    assert.equal(bb('[url=ftp://a.example]f[/url]'), '<span>f</span>');
    assert.equal(bb('[url]not a url[/url]'), '<span>not a url</span>');
  });

  test('[img] becomes a link by default (no request to the image host)', () => {
    assert.equal(bb('[img]http://i.example/a.png[/img]'), `<a ${REL} href="http://i.example/a.png">http://i.example/a.png</a>`);
    assert.equal(bb('[img=640x480]https://i.example/b.jpg[/img]'), `<a ${REL} href="https://i.example/b.jpg">https://i.example/b.jpg</a>`);
  });

  test('[img] with externalImages', () => {
    assert.equal(bb('[img]http://i.example/a.png[/img]', true), '<img src="http://i.example/a.png" alt="" />');
    assert.equal(bb('[img=640x480]https://i.example/b.jpg[/img]', true), '<img src="https://i.example/b.jpg" alt="" />');
    assert.equal(bb('[img=https://i.example/c.gif][/img]', true), '<img src="https://i.example/c.gif" alt="" />');
    assert.equal(bb('[img]/local.png[/img]', true), '<span>/local.png</span>');
    assert.equal(bb('[img]mailto:a@b.example[/img]', true), '<span>mailto:a@b.example</span>');
  });

  test('[img] inside [url] does not nest links', () => {
    assert.equal(bb('[url=http://a.example][img]http://i.example/a.png[/img][/url]'), `<a ${REL} href="http://a.example">http://i.example/a.png</a>`);
    assert.equal(bb('[url=http://a.example][img]http://i.example/a.png[/img][/url]', true), `<a ${REL} href="http://a.example"><img src="http://i.example/a.png" alt="" /></a>`);
  });

  test('[quote] and [quote=name]', () => {
    assert.equal(bb('[quote]hello[/quote]'), '<blockquote>hello</blockquote>');
    assert.equal(bb('[quote=Jean Dupont]hello[/quote]'), '<blockquote><div class="bb-quote-author">Jean Dupont</div>hello</blockquote>');
    assert.equal(bb('[quote="<b>x</b>"]y[/quote]'), '<blockquote><div class="bb-quote-author">&lt;b&gt;x&lt;/b&gt;</div>y</blockquote>');
    assert.equal(bb('[quote][quote]inner[/quote]outer[/quote]'), '<blockquote><blockquote>inner</blockquote>outer</blockquote>');
  });

  test('[code] keeps its content literal, with newlines', () => {
    assert.equal(bb('[code]a < b && [b]c[/b]\n  d[/code]'), '<pre><code>a &lt; b &amp;&amp; [b]c[/b]\n  d</code></pre>');
    assert.equal(bb('[code=Python]x = 1[/code]'), '<pre><code class="language-python">x = 1</code></pre>');
    assert.equal(bb('[code=bad lang!]x[/code]'), '<pre><code>x</code></pre>');
  });

  test('[list], [list=1] and [*]', () => {
    assert.equal(bb('[list]\n[*]one\n[*]two\n[/list]'), '<ul><li>one</li><li>two</li></ul>');
    assert.equal(bb('[list=1][*]a[*]b[/list]'), '<ol><li>a</li><li>b</li></ol>');
    assert.equal(bb('[list=a][*]a[/list]'), '<ol><li>a</li></ol>');
    assert.equal(bb('[list][*]a[list][*]b[/list][/list]'), '<ul><li>a<ul><li>b</li></ul></li></ul>');
    assert.equal(bb('[list][*]a[/*][*]b[/*][/list]'), '<ul><li>a</li><li>b</li></ul>');
    assert.equal(bb('[list]lead[*]a[/list]'), '<ul><li>lead</li><li>a</li></ul>');
    assert.equal(bb('[*] outside'), '[*] outside');
  });

  test('[center], [right], [left]', () => {
    assert.equal(bb('[center]c[/center][right]r[/right][left]l[/left]'), '<div class="bb-center">c</div><div class="bb-right">r</div><div class="bb-left">l</div>');
  });

  test('[color=] maps to fixed classes', () => {
    assert.equal(bb('[color=red]r[/color]'), '<span class="bb-color-red">r</span>');
    assert.equal(bb('[color=Blue]b[/color]'), '<span class="bb-color-blue">b</span>');
    assert.equal(bb('[color=grey]g[/color]'), '<span class="bb-color-gray">g</span>');
    assert.equal(bb('[color=#FF0000]h[/color]'), '<span class="bb-color-red">h</span>');
    assert.equal(bb('[color=#00f]h[/color]'), '<span class="bb-color-blue">h</span>');
    assert.equal(bb('[color=#fe1]h[/color]'), '<span class="bb-color-yellow">h</span>');
    assert.equal(bb('[color=chartreuse-ish]x[/color]'), '<span>x</span>');
    assert.equal(bb('[color]no value[/color]'), '[color]no value[/color]');
  });

  test('[size=] maps to bb-size-1..7', () => {
    assert.equal(bb('[size=1]a[/size][size=7]b[/size]'), '<span class="bb-size-1">a</span><span class="bb-size-7">b</span>');
    assert.equal(bb('[size=18]px[/size]'), '<span class="bb-size-4">px</span>');
    assert.equal(bb('[size=24pt]pt[/size]'), '<span class="bb-size-6">pt</span>');
    assert.equal(bb('[size=200]pc[/size]'), '<span class="bb-size-6">pc</span>');
    assert.equal(bb('[size=50%]pc[/size]'), '<span class="bb-size-1">pc</span>');
    assert.equal(bb('[size=huge]x[/size]'), '<span>x</span>');
  });

  test('[font=] is dropped, its text kept', () => {
    assert.equal(bb('[font=Comic Sans MS]f[/font]'), '<span>f</span>');
  });

  test('[spoiler] is a details element', () => {
    assert.equal(bb('[spoiler]hidden[/spoiler]'), '<details><summary>Spoiler</summary>hidden</details>');
    assert.equal(bb('[spoiler=The end]hidden[/spoiler]'), '<details><summary>The end</summary>hidden</details>');
  });

  test('[hr]', () => {
    assert.equal(bb('a[hr]b'), 'a<hr />b');
    assert.equal(bb('a\n[hr]\nb'), 'a<br /><hr />b');
  });

  test('[table], [tr], [td], [th]', () => {
    assert.equal(
      bb('[table]\n[tr][th]h[/th][/tr]\n[tr]\n[td]a[/td] [td]b[/td]\n[/tr]\n[/table]'),
      '<table><tr><th>h</th></tr><tr><td>a</td><td>b</td></tr></table>',
    );
  });

  test('newlines become <br>, except around blocks', () => {
    assert.equal(bb('a\nb\n\nc'), 'a<br />b<br /><br />c');
    assert.equal(bb('[quote]\nq\n[/quote]\nafter'), '<blockquote>q</blockquote>after');
    assert.equal(bb('a\r\nb\rc'), 'a<br />b<br />c');
  });

  test('unknown, stray, unclosed and overlapping tags stay literal', () => {
    assert.equal(bb('[foo]bar[/foo]'), '[foo]bar[/foo]');
    assert.equal(bb('[b]never closed'), '[b]never closed');
    assert.equal(bb('stray [/i] close'), 'stray [/i] close');
    assert.equal(bb('[b]x [i]y[/b] z[/i]'), '<strong>x [i]y</strong> z[/i]');
    assert.equal(bb('[b=1]v[/b]'), '[b=1]v[/b]');
    assert.equal(bb('[hr=1]'), '[hr=1]');
    assert.equal(bb('a[1] [ b ] [] [[b]]x[/b]]'), 'a[1] [ b ] [] [<strong>]x</strong>]');
    assert.equal(bb('[url=x&amp;y]'), '[url=x&amp;amp;y]');
  });

  test('HTML in BBCode is text', () => {
    assert.equal(bb('<b>x</b> & "q" \'a\''), '&lt;b&gt;x&lt;/b&gt; &amp; "q" \'a\'');
  });

  test(`nesting deeper than ${MAX_BBCODE_DEPTH} stays literal; 10000 nested quotes do not blow the stack`, () => {
    const n = 10_000;
    const src = '[quote]'.repeat(n) + 'deep' + '[/quote]'.repeat(n);
    const html = renderDescription(src, 'bbcode', { maxLength: src.length });
    assert.equal(count(html, '<blockquote>'), MAX_BBCODE_DEPTH);
    assert.equal(count(html, '</blockquote>'), MAX_BBCODE_DEPTH);
    assert.equal(count(html, '[quote]'), n - MAX_BBCODE_DEPTH);
    assert.ok(html.includes('deep'), 'the innermost text is kept');
    assert.deepEqual(policyViolations(html), []);
    // Unclosed, and with a value each time.
    const open = renderDescription('[quote=a]'.repeat(n), 'bbcode', { maxLength: 1e6 });
    assert.equal(count(open, '<blockquote'), 0);
  });

  test('every kind of tag nests', () => {
    const html = bb('[center][size=5][color=red][b][i][u][s][url=http://a.example]x[/url][/s][/u][/i][/b][/color][/size][/center]');
    assert.equal(
      html,
      `<div class="bb-center"><span class="bb-size-5"><span class="bb-color-red"><strong><em><u><s><a ${REL} href="http://a.example">x</a></s></u></em></strong></span></span></div>`,
    );
  });
});

describe('balanceTags', () => {
  test('neutralises every bracket that is not a supported, balanced tag', () => {
    assert.equal(balanceTags('[B]x[/b] [x]y[/x] [b]'), '[b]x[/b] &#91;x]y&#91;/x] &#91;b]');
    assert.equal(balanceTags('[code][b][/code]'), '[code]&#91;b][/code]');
    assert.equal(balanceTags('[quote][quote]a[/quote][/quote]', 1), '[quote]&#91;quote]a&#91;/quote][/quote]');
  });
});

describe('Markdown', () => {
  test('emphasis, strong, strikethrough, inline code', () => {
    assert.equal(md('*a* _b_ **c** ~~d~~ `e<f`'), '<p><em>a</em> <em>b</em> <strong>c</strong> <s>d</s> <code>e&lt;f</code></p>');
  });

  test('headings start at h3 (the page owns h1)', () => {
    assert.equal(md('# one\n## two\n### three\n#### four\n##### five\n###### six'), '<h3>one</h3>\n<h4>two</h4>\n<h5>three</h5>\n<h6>four</h6>\n<h6>five</h6>\n<h6>six</h6>');
  });

  test('paragraphs and line breaks', () => {
    assert.equal(md('a\nb\n\nc'), '<p>a<br />\nb</p>\n<p>c</p>');
  });

  test('links, autolinks, linkify, relative and mailto', () => {
    assert.equal(md('[x](http://a.example/?q=1&r=2)'), `<p><a ${REL} href="http://a.example/?q=1&amp;r=2">x</a></p>`);
    assert.equal(md('<https://a.example>'), `<p><a ${REL} href="https://a.example">https://a.example</a></p>`);
    assert.equal(md('see https://a.example/p now'), `<p>see <a ${REL} href="https://a.example/p">https://a.example/p</a> now</p>`);
    assert.equal(md('[r](/torrents/1)'), `<p><a ${REL} href="/torrents/1">r</a></p>`);
    assert.equal(md('[m](mailto:a@b.example)'), `<p><a ${REL} href="mailto:a@b.example">m</a></p>`);
    assert.equal(md('[t](http://a.example "title")'), `<p><a ${REL} href="http://a.example">t</a></p>`);
  });

  test('images become links by default, <img> with externalImages', () => {
    assert.equal(md('![poster](http://i.example/p.jpg)'), `<p><a ${REL} href="http://i.example/p.jpg">poster</a></p>`);
    assert.equal(md('![](http://i.example/p.jpg)'), `<p><a ${REL} href="http://i.example/p.jpg">http://i.example/p.jpg</a></p>`);
    assert.equal(md('![poster](http://i.example/p.jpg)', true), '<p><img src="http://i.example/p.jpg" alt="poster" /></p>');
    assert.equal(md('[![p](http://i.example/p.jpg)](http://a.example)'), `<p><a ${REL} href="http://a.example">p</a></p>`);
  });

  test('block quotes, lists, rules', () => {
    assert.equal(md('> q'), '<blockquote>\n<p>q</p>\n</blockquote>');
    assert.equal(md('- a\n- b'), '<ul>\n<li>a</li>\n<li>b</li>\n</ul>');
    assert.equal(md('1. a\n2. b'), '<ol>\n<li>a</li>\n<li>b</li>\n</ol>');
    assert.equal(md('3. c'), '<ol>\n<li>c</li>\n</ol>');
    assert.equal(md('a\n\n---\n\nb'), '<p>a</p>\n<hr />\n<p>b</p>');
  });

  test('code blocks keep a language class', () => {
    assert.equal(md('```js\nlet a = 1 < 2;\n```'), '<pre><code class="language-js">let a = 1 &lt; 2;\n</code></pre>');
    assert.equal(md('```x" onmouseover="y\nz\n```'), '<pre><code>z\n</code></pre>');
    assert.equal(md('    indented'), '<pre><code>indented\n</code></pre>');
  });

  test('tables lose their alignment styles', () => {
    const html = md('| a | b |\n|--:|:-:|\n| 1 | 2 |');
    assert.ok(html.startsWith('<table>\n<thead>\n<tr>\n<th>a</th>'), html);
    assert.ok(html.includes('<td>1</td>'), html);
    assert.ok(!html.includes('style'), html);
  });

  test('HTML is text, typographer is off', () => {
    assert.equal(md('<b>x</b> (c) -- "q"'), '<p>&lt;b&gt;x&lt;/b&gt; (c) -- "q"</p>');
  });

  test('deep nesting is capped', () => {
    for (const src of ['>'.repeat(10_000) + ' x', '- '.repeat(5_000) + 'x', '['.repeat(10_000) + ']'.repeat(10_000), '*'.repeat(20_000) + 'x' + '*'.repeat(20_000)]) {
      const html = md(src);
      assert.ok(count(html, '<blockquote>') <= 20, 'blockquotes are capped');
      assert.ok(count(html, '<ul>') <= 20, 'lists are capped');
    }
  });
});

describe('options and helpers', () => {
  test('maxLength truncates the source before rendering', () => {
    assert.equal(renderDescription('[b]bold[/b]', 'bbcode', { maxLength: 7 }), '[b]bold');
    assert.equal(renderDescription('abcdef', 'markdown', { maxLength: 3 }), '<p>abc</p>');
    assert.equal(renderDescription('a😀', 'bbcode', { maxLength: 2 }), 'a');
    const long = 'x'.repeat(DEFAULT_MAX_LENGTH + 50);
    assert.equal(renderDescription(long, 'bbcode').length, DEFAULT_MAX_LENGTH);
    assert.throws(() => renderDescription('a', 'bbcode', { maxLength: -1 }), RangeError);
  });

  test('output is deterministic', () => {
    const src = '[b]x[/b] [color=#123456]c[/color] [url]http://a.example[/url]\n*y*';
    for (const f of ['bbcode', 'markdown'] as const) {
      assert.equal(renderDescription(src, f), renderDescription(src, f));
      assert.equal(previewDescription(src, f), renderDescription(src, f));
    }
  });

  test('unknown format is refused', () => {
    assert.throws(() => renderDescription('x', 'html' as never), TypeError);
  });

  test('control characters are removed', () => {
    assert.equal(bb('a\u0000b\u0007c\td'), 'abc\td');
  });

  test('descriptionToPlainText drops the markup and keeps the text', () => {
    assert.equal(
      descriptionToPlainText('[quote=Bob]hi & <b>bye</b>[/quote]\n[list][*]one[*]two[/list][url=http://a.example]link[/url] [b]x[/b]', 'bbcode'),
      'Bob\nhi & <b>bye</b>\none\ntwo\nlink x',
    );
    assert.equal(descriptionToPlainText('# Title\n\nSome *text* & [a link](http://a.example).\n\n- a\n- b', 'markdown'), 'Title\nSome text & a link.\na\nb');
    assert.equal(descriptionToPlainText('[table][tr][td]a[/td][td]b[/td][/tr][/table]', 'bbcode'), 'a b');
    assert.equal(descriptionToPlainText('[img]http://i.example/a.png[/img]', 'bbcode'), 'http://i.example/a.png');
  });
});

describe('safeUrl', () => {
  test('accepts http, https, mailto and relative links', () => {
    assert.equal(safeUrl('http://a.example'), 'http://a.example');
    assert.equal(safeUrl('HTTPS://a.example/x y'), 'HTTPS://a.example/x%20y');
    assert.equal(safeUrl('mailto:a@b.example'), 'mailto:a@b.example');
    assert.equal(safeUrl('/x?y#z'), '/x?y#z');
    assert.equal(safeUrl('#frag'), '#frag');
    assert.equal(safeUrl('//cdn.example/x'), 'https://cdn.example/x');
    assert.equal(safeUrl('www.a.example'), 'http://www.a.example');
  });

  test('refuses everything else', () => {
    for (const u of [
      'javascript:alert(1)', 'JaVaScRiPt:alert(1)', 'java\tscript:alert(1)', 'java\nscript:x', ' \u0001javascript:x',
      'data:text/html,x', 'vbscript:x', 'file:///etc/passwd', 'ftp://a.example', 'http:', 'http:evil', 'https://',
      'relative/path', 'a:b/c', '', '   ', '///x', 'x'.repeat(3000),
    ]) {
      assert.equal(safeUrl(u), null, u);
    }
    assert.equal(safeUrl('mailto:a@b.example', 'image'), null);
    assert.equal(safeUrl('/local.png', 'image'), null);
  });

  test('backslashes and quotes are encoded', () => {
    assert.equal(safeUrl('/\\evil.example'), '/%5Cevil.example');
    assert.equal(safeUrl('http://a.example/"><x'), 'http://a.example/%22%3E%3Cx');
  });
});

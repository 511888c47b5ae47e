/** RSS documents: well-formed XML whatever the names hold. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { XMLValidator } from 'fast-xml-parser';
import Parser from 'rss-parser';
import type { TorrentListRow } from '../../../site/torrents/read.js';
import { translator } from '../../context.js';
import { renderFeed, rfc822, xmlText } from './feed.js';

const row = (over: Partial<TorrentListRow>): TorrentListRow => ({
  id: 1, name: 'n', slug: 'n', size: 2048, status: 'active', created_at: 1_700_000_000, seeders: 1, leechers: 2, times_completed: 0, comment_count: 0,
  file_count: 1, anonymous: 0, uploader_id: 1, uploader_name: 'u', category_id: null, category_name_en: null, category_name_fr: null, category_icon: null,
  info_hash_v1: null, info_hash_v2: null, ...over,
});

describe('RSS documents', () => {
  it('drops characters XML cannot hold and escapes the rest', () => {
    assert.equal(xmlText('a\u0001b\u0008c\td\ne & <f> "g" \'h\''), 'abc\td\ne &amp; &lt;f&gt; &quot;g&quot; &#39;h&#39;');
    assert.equal(xmlText('x\ud800y'), 'xy');
    assert.equal(xmlText('😀'), '😀');
  });

  it('writes RFC 822 dates in GMT', () => {
    assert.equal(rfc822(0), 'Thu, 01 Jan 1970 00:00:00 GMT');
  });

  it('renders a feed that parses, with hostile names intact', async () => {
    const xml = renderFeed(
      { title: 'T & <T>', link: 'https://example.test/browse?a=1&b=2', description: 'd', locale: 'en', now: 1_700_000_000 },
      [row({ id: 5, name: 'A & B <script>\u0007 ]]> "q"', category_id: 3, category_name_en: 'C&D' })],
      { publicUrl: 'https://example.test', rssKey: 'k'.repeat(32), t: translator('en') },
    );
    assert.equal(XMLValidator.validate(xml), true);
    const feed = await new Parser().parseString(xml);
    assert.equal(feed.title, 'T & <T>');
    assert.equal(feed.link, 'https://example.test/browse?a=1&b=2');
    const item = feed.items[0]!;
    assert.equal(item.title, 'A & B <script> ]]> "q"');
    assert.equal(item.enclosure?.url, `https://example.test/rss/download/5?key=${'k'.repeat(32)}`);
    assert.equal(item.enclosure?.length, '2048');
    assert.deepEqual(item.categories, ['C&D']);
    assert.equal(item.content, 'Size: 2 KiB · Category: C&D · Seeders: 1 · Leechers: 2');
  });
});

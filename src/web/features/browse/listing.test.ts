/** The reusable listing pieces: query parsing and writing, live counts, table and pagination. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Site } from '../../../site/site.js';
import { translator, type RequestContext } from '../../context.js';
import {
  listingHref,
  listingQueryString,
  MAX_PAGE,
  parseListingQuery,
  renderPagination,
  renderTorrentTable,
  toSearchInput,
  withLiveCounts,
  type ListingRow,
} from './listing.js';

describe('parseListingQuery', () => {
  it('reads the listing parameters, with defaults', () => {
    assert.deepEqual(parseListingQuery({}), { q: '', category: null, terms: [], sort: 'age', order: 'asc', page: 1 });
    assert.deepEqual(parseListingQuery({ q: '  serie   vikings ', category: '433', term: ['12', '7', '12'], sort: 'seeders', page: '3' }), {
      q: 'serie vikings',
      category: 433,
      terms: [12, 7],
      sort: 'seeders',
      order: 'desc',
      page: 3,
    });
    assert.equal(parseListingQuery({ sort: 'name' }).order, 'asc', 'each column has its natural first order');
  });

  it("understands T411's parameter names and query strings", () => {
    assert.deepEqual(parseListingQuery('cat=210&subcat=433&term[7][]=12&term[17][]=540'), { q: '', category: 433, terms: [12, 540], sort: 'age', order: 'asc', page: 1 });
    assert.equal(parseListingQuery('?cat=210').category, 210);
    assert.equal(parseListingQuery(new URLSearchParams('cid=631')).category, 631);
  });

  it('ignores malformed values', () => {
    const lq = parseListingQuery({ category: '-3', term: ['x', '0', '99999999999'], sort: 'rank', order: 'up', page: '0', q: ['a', 'b'], extra: { a: 1 } });
    assert.deepEqual(lq, { q: 'b', category: null, terms: [], sort: 'age', order: 'asc', page: 1 });
    assert.equal(parseListingQuery({ page: '999999' }).page, MAX_PAGE, 'deep pages clamped');
    assert.equal(parseListingQuery({ q: 'x'.repeat(900) }).q.length, 500);
    assert.deepEqual(parseListingQuery(null), parseListingQuery({}));
  });

  it('writes a canonical query string that reads back the same', () => {
    assert.equal(listingQueryString(parseListingQuery({})), '');
    assert.equal(listingQueryString(parseListingQuery({ page: '1', sort: 'age', order: 'asc' })), '', 'defaults left out');
    assert.equal(listingQueryString(parseListingQuery('term=5&q=a b&category=9&order=desc&page=2')), 'q=a+b&category=9&term=5&sort=age&order=desc&page=2');
    assert.equal(listingHref(parseListingQuery('q=x'), { page: 3 }, '/needs-seed'), '/needs-seed?q=x&page=3');
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom('q', 'category', 'cat', 'subcat', 'term', 'sort', 'order', 'page', 'term[3][]'), fc.oneof(fc.string(), fc.nat().map(String), fc.constantFrom('name', 'size', 'asc', 'desc'))), (query) => {
        const lq = parseListingQuery(query);
        assert.deepEqual(parseListingQuery(listingQueryString(lq)), lq);
      }),
    );
  });

  it('makes a search input, hiding adult categories from visitors', () => {
    const lq = parseListingQuery('q=x&category=3&term=4&page=3&sort=size');
    assert.deepEqual(toSearchInput(lq, null), { text: 'x', categoryId: 3, terms: [4], sort: 'size', order: 'desc', offset: 100, limit: 50, hideAdult: true });
    assert.equal(toSearchInput(lq, { id: 1 }).hideAdult, false);
  });
});

const row = (o: Partial<ListingRow> = {}): ListingRow => ({
  id: 1,
  name: 'A <b>',
  slug: null,
  size: 2048,
  status: 'active',
  created_at: 1000,
  seeders: 4,
  leechers: 5,
  times_completed: 6,
  comment_count: 7,
  file_count: 1,
  anonymous: 0,
  verified: 0,
  uploader_id: 1,
  uploader_name: 'u',
  category_id: 9,
  category_parent_id: null,
  category_name_en: 'Cat',
  category_name_fr: 'Chat',
  category_icon: null,
  category_slug: null,
  info_hash_v1: 'a'.repeat(40),
  info_hash_v2: null,
  upload_factor: 1,
  download_factor: 1,
  factors_until: null,
  ...o,
});

describe('withLiveCounts', () => {
  const site = (answer: (h: readonly string[]) => Array<{ complete: number; incomplete: number }> | null) =>
    ({ tracker: { swarmCounts: answer } }) as unknown as Site;

  it('keeps the database copy when no tracker runs here', () => {
    assert.deepEqual(withLiveCounts(site(() => null), [row()]).map((r) => [r.seeders, r.leechers]), [[4, 5]]);
  });

  it("sums a hybrid torrent's two swarms, the v2 hash truncated", () => {
    const asked: string[][] = [];
    const rows = [row({ id: 1 }), row({ id: 2, info_hash_v1: 'c'.repeat(40), info_hash_v2: 'd'.repeat(64) }), row({ id: 3, info_hash_v1: null, info_hash_v2: 'e'.repeat(64) })];
    const live = withLiveCounts(
      site((h) => {
        asked.push([...h]);
        return h.map((x) => ({ complete: x.startsWith('d') ? 10 : 1, incomplete: 2 }));
      }),
      rows,
    );
    assert.deepEqual(asked, [['a'.repeat(40), 'c'.repeat(40), 'd'.repeat(40), 'e'.repeat(40)]]);
    assert.deepEqual(live.map((r) => [r.id, r.seeders, r.leechers]), [[1, 1, 2], [2, 11, 4], [3, 1, 2]]);
  });

  it('does not ask the tracker for nothing', () => {
    let called = false;
    assert.deepEqual(withLiveCounts(site(() => ((called = true), [])), []), []);
    assert.equal(called, false);
  });
});

describe('renderTorrentTable and renderPagination', () => {
  const ctx = { t: translator('en'), locale: 'en', site: { now: () => 1000 + 3 * 86400 } } as unknown as RequestContext;

  it('renders escaped rows and sortable headers with aria-sort', () => {
    const h = renderTorrentTable(ctx, [row()], { sort: 'size', order: 'desc', href: (s, o) => `/x?sort=${s}&order=${o}` }).value;
    assert.ok(h.includes('<th scope="col" class="num" aria-sort="descending"><a href="/x?sort=size&amp;order=asc"'), 'active column flips');
    assert.ok(h.includes('<a href="/x?sort=name&amp;order=asc" rel="nofollow">Name'), 'other columns start in their natural order');
    assert.equal((h.match(/aria-sort=/g) ?? []).length, 1, 'one sorted column');
    assert.ok(h.includes('<a href="/torrents/1/a-b">A &lt;b&gt;</a>'), 'escaped name, slug link');
    assert.ok(h.includes('<a href="/browse?category=9">Cat</a>'), 'category link');
    assert.ok(h.includes('<td class="num">3 d</td>'), 'age');
    assert.ok(h.includes('<td class="num">2 KiB</td>'), 'size');
    const plain = renderTorrentTable(ctx, [row()], null).value;
    assert.ok(!plain.includes('<a href="/x'), 'no sort links without a sort state');
    assert.ok(renderTorrentTable(ctx, [], null, { empty: 'Nothing' }).value.includes('<p class="empty">Nothing</p>'), 'empty message');
  });

  it('shows the torrent\'s own freeleech and double-upload badges while they last', () => {
    const now = 1000 + 3 * 86400;
    assert.ok(!renderTorrentTable(ctx, [row()], null).value.includes('badge factor'), 'no badge at factors 1');
    const free = renderTorrentTable(ctx, [row({ download_factor: 0, upload_factor: 2, factors_until: now + 60 })], null).value;
    assert.ok(free.includes('badge factor free') && free.includes('badge factor double'), `free and double upload badges: ${free}`);
    const over = renderTorrentTable(ctx, [row({ download_factor: 0, factors_until: now - 1 })], null).value;
    assert.ok(!over.includes('badge factor'), 'expired factors show no badge');
  });

  it('links pages around the current one', () => {
    const href = (p: number) => `/b?page=${p}`;
    assert.equal(renderPagination(ctx, { page: 1, pageSize: 50, total: 30, capped: false, href }).value, '', 'one page: no links');
    const mid = renderPagination(ctx, { page: 5, pageSize: 10, total: 100, capped: false, href }).value;
    for (const p of [1, 3, 4, 5, 6, 7, 10]) assert.ok(mid.includes(`href="/b?page=${p}"`), `page ${p}`);
    assert.ok(!mid.includes('href="/b?page=2" aria-label'), 'page 2 elided');
    assert.ok(mid.includes('rel="prev"') && mid.includes('rel="next"'), 'previous and next');
    const capped = renderPagination(ctx, { page: 3, pageSize: 10, total: 30, capped: true, href }).value;
    assert.ok(capped.includes('<a href="/b?page=4" rel="next">'), 'a capped total keeps the next link');
  });
});

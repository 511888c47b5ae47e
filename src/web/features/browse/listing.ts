/**
 * Reusable pieces of the torrent listings, for this feature and others (profiles, bookmarks, RSS):
 *
 * - `parseListingQuery(query)`: the listing's query string (`q`, `category`, `term`, `sort`,
 *   `order`, `page`; T411's `cat`, `subcat` and `term[<type>][]` are read too) into a typed
 *   `ListingQuery`, never throwing; `listingQueryString(lq)` writes it back (canonical form, as
 *   saved searches store it); `toSearchInput(lq, viewer)` makes it a `SearchInput`;
 * - `renderTorrentTable(ctx, rows, sortState)`: the table with the columns category, name,
 *   comments, age, size, completed, seeders, leechers; with a sort state, every column header is
 *   a link sorting by it (both ways) and carries aria-sort;
 * - `withLiveCounts(site, rows)`: seeders/leechers from the tracker's memory when it runs in this
 *   process (a hybrid torrent's two swarms summed), else the database copy.
 */
import { withLiveCounts as liveRows } from '../../../site/torrents/read.js';
import { factorBadges } from '../torrent/factors.js';
import type { User } from '../../../db/schema.js';
import type { Site } from '../../../site/site.js';
import {
  DEFAULT_COUNT_CAP,
  isSortKey,
  SORT_KEYS,
  type ListingRow,
  type SearchInput,
  type SortKey,
  type SortOrder,
} from '../../../site/search/search.js';
import type { RequestContext } from '../../context.js';
import { formatAge, formatNumber, formatSize, slugify } from '../../format.js';
import { html, type Html, type HtmlValue } from '../../html.js';
import type { MessageKey } from '../../messages.js';

export { SORT_KEYS, type SortKey, type SortOrder, type ListingRow };

/** Rows per listing page. */
export const PAGE_SIZE = 50;
/** Deepest page served (deep offsets are slow and nobody reads page 500). */
export const MAX_PAGE = Math.ceil(DEFAULT_COUNT_CAP / PAGE_SIZE);
export const MAX_QUERY_TEXT = 500;
const MAX_TERMS = 50;

export interface ListingQuery {
  /** The search text (trimmed), possibly empty. */
  q: string;
  /** A parent category or a subcategory. */
  category: number | null;
  /** Term ids (their types come from the catalogue). */
  terms: number[];
  sort: SortKey;
  order: SortOrder;
  /** 1-based. */
  page: number;
}

export type QueryInput = URLSearchParams | string | Record<string, unknown> | null | undefined;

/** The order a column sorts in when its header is first clicked. */
export function defaultOrder(sort: SortKey): SortOrder {
  return sort === 'name' || sort === 'category' || sort === 'age' ? 'asc' : 'desc';
}

export const DEFAULT_SORT: SortKey = 'age';

function entries(query: QueryInput): Array<[string, string]> {
  if (query == null) return [];
  if (typeof query === 'string') return [...new URLSearchParams(query.startsWith('?') ? query.slice(1) : query)];
  if (query instanceof URLSearchParams) return [...query];
  const out: Array<[string, string]> = [];
  if (typeof query !== 'object') return out;
  for (const [k, v] of Object.entries(query)) {
    if (typeof v === 'string') out.push([k, v]);
    else if (Array.isArray(v)) for (const x of v) if (typeof x === 'string') out.push([k, x]);
  }
  return out;
}

function positiveId(s: string | undefined): number | null {
  if (s === undefined || !/^\s*[1-9][0-9]{0,9}\s*$/.test(s)) return null;
  const n = Number(s);
  return n <= 2 ** 31 - 1 ? n : null;
}

/** Reads a listing query string; unknown or malformed parameters are ignored. */
export function parseListingQuery(query: QueryInput): ListingQuery {
  let q = '';
  let category: number | null = null;
  let cat: number | null = null;
  let subcat: number | null = null;
  const terms: number[] = [];
  let sort: SortKey | null = null;
  let order: SortOrder | null = null;
  let page = 1;
  for (const [k, v] of entries(query)) {
    if (k === 'q') q = v;
    else if (k === 'category') category = positiveId(v) ?? category;
    else if (k === 'cat') cat = positiveId(v) ?? cat;
    else if (k === 'subcat' || k === 'cid') subcat = positiveId(v) ?? subcat;
    else if (k === 'term' || /^term\[\d{1,10}\](\[\d*\])?$/.test(k)) {
      const id = positiveId(v);
      if (id !== null && !terms.includes(id) && terms.length < MAX_TERMS) terms.push(id);
    } else if (k === 'sort') sort = isSortKey(v) ? v : sort;
    else if (k === 'order') order = v === 'asc' || v === 'desc' ? v : order;
    else if (k === 'page') {
      const p = positiveId(v);
      if (p !== null) page = Math.min(p, MAX_PAGE);
    }
  }
  q = q.replace(/\s+/g, ' ').trim().slice(0, MAX_QUERY_TEXT);
  const s = sort ?? DEFAULT_SORT;
  return { q, category: subcat ?? category ?? cat, terms, sort: s, order: order ?? defaultOrder(s), page };
}

/**
 * The canonical query string of a listing (without `?`): parameters in a fixed order, defaults
 * left out. `overrides` changes some fields (sort links, pages).
 */
export function listingQueryString(lq: ListingQuery, overrides: Partial<ListingQuery> = {}): string {
  const x = { ...lq, ...overrides };
  const p = new URLSearchParams();
  if (x.q) p.set('q', x.q);
  if (x.category !== null) p.set('category', String(x.category));
  for (const t of x.terms) p.append('term', String(t));
  if (x.sort !== DEFAULT_SORT || x.order !== defaultOrder(x.sort)) {
    p.set('sort', x.sort);
    p.set('order', x.order);
  }
  if (x.page > 1) p.set('page', String(x.page));
  return p.toString();
}

/** `/browse?...` for a listing. */
export function listingHref(lq: ListingQuery, overrides: Partial<ListingQuery> = {}, path = '/browse'): string {
  const qs = listingQueryString(lq, overrides);
  return qs ? `${path}?${qs}` : path;
}

/** The search input of a listing page as `viewer` sees it (visitors do not see adult categories). */
export function toSearchInput(lq: ListingQuery, viewer: Pick<User, 'id'> | null, pageSize = PAGE_SIZE): SearchInput {
  return {
    text: lq.q,
    categoryId: lq.category,
    terms: lq.terms,
    sort: lq.sort,
    order: lq.order,
    offset: (lq.page - 1) * pageSize,
    limit: pageSize,
    hideAdult: viewer === null,
  };
}

// --- live counts -----------------------------------------------------------------------------

/** The 40-hex swarm hashes of a torrent: its v1 hash, its v2 hash truncated (BEP 52). */
export function swarmHashesOf(r: { info_hash_v1: string | null; info_hash_v2: string | null }): string[] {
  const out: string[] = [];
  if (r.info_hash_v1) out.push(r.info_hash_v1);
  if (r.info_hash_v2) out.push(r.info_hash_v2.slice(0, 40));
  return out;
}

/** The rows with seeders/leechers from the tracker's memory when it runs here (else unchanged). */
export function withLiveCounts<R extends { info_hash_v1: string | null; info_hash_v2: string | null; seeders: number; leechers: number }>(
  site: Pick<Site, 'tracker'>,
  rows: readonly R[],
): R[] {
  return liveRows(site.tracker, rows);
}

// --- rendering -------------------------------------------------------------------------------

/** The row fields the table shows (ListingRow has them; so do other features' list rows). */
export type TableRow = Partial<Pick<ListingRow, 'upload_factor' | 'download_factor' | 'factors_until'>> &
  Pick<
  ListingRow,
  | 'id'
  | 'name'
  | 'slug'
  | 'size'
  | 'created_at'
  | 'seeders'
  | 'leechers'
  | 'times_completed'
  | 'comment_count'
  | 'category_id'
  | 'category_name_en'
  | 'category_name_fr'
>;

export interface SortState {
  sort: SortKey;
  order: SortOrder;
  /** The URL listing the same torrents sorted by `sort` in `order`. */
  href(sort: SortKey, order: SortOrder): string;
}

export interface TableOptions<R> {
  /** The table's caption (default: "Torrents", visually hidden). */
  caption?: string;
  /** Hide the caption visually (a heading already names the table). */
  captionHidden?: boolean;
  /** Shown instead of an empty table. */
  empty?: string;
  /** Extra columns after the standard ones. */
  extra?: Array<{ header: string; cell: (r: R) => HtmlValue; num?: boolean }>;
}

const COLUMN_LABELS: Readonly<Record<SortKey, MessageKey>> = {
  category: 'browse.col.category',
  name: 'browse.col.name',
  comments: 'browse.col.comments',
  age: 'browse.col.age',
  size: 'browse.col.size',
  completed: 'browse.col.completed',
  seeders: 'browse.col.seeders',
  leechers: 'browse.col.leechers',
};
const NUMERIC: ReadonlySet<SortKey> = new Set(['comments', 'age', 'size', 'completed', 'seeders', 'leechers']);

/** The torrent page's path: `/torrents/<id>/<slug>`. */
export function torrentHref(r: { id: number; slug: string | null; name: string }): string {
  const slug = r.slug && /^[a-z0-9-]+$/.test(r.slug) ? r.slug : slugify(r.name);
  return `/torrents/${r.id}/${slug === 'download' || slug === 'bookmark' || slug === 'resubmit' ? `${slug}-torrent` : slug}`;
}

function header(ctx: RequestContext, key: SortKey, state: SortState | null): Html {
  const label = ctx.t(COLUMN_LABELS[key]);
  const cls = NUMERIC.has(key) ? html` class="num"` : '';
  if (!state) return html`<th scope="col"${cls}>${label}</th>`;
  const active = state.sort === key;
  const next: SortOrder = active ? (state.order === 'asc' ? 'desc' : 'asc') : defaultOrder(key);
  const ariaSort = active ? html` aria-sort="${state.order === 'asc' ? 'ascending' : 'descending'}"` : '';
  const arrow = active ? html`<span class="sort-arrow" aria-hidden="true">${state.order === 'asc' ? '▲' : '▼'}</span>` : '';
  return html`<th scope="col"${cls}${ariaSort}><a href="${state.href(key, next)}" rel="nofollow">${label}${arrow}<span class="visually-hidden"> (${ctx.t(next === 'asc' ? 'browse.sort.asc' : 'browse.sort.desc')})</span></a></th>`;
}

/** The torrent's own freeleech / multiplier badges, while they last (site-wide windows show elsewhere). */
function rowBadges(ctx: RequestContext, r: TableRow, now: number): Html | '' {
  if (r.download_factor === undefined || r.upload_factor === undefined) return '';
  if (r.download_factor === 1 && r.upload_factor === 1) return '';
  if (r.factors_until != null && now >= r.factors_until) return '';
  return html` ${factorBadges(ctx, { upload: r.upload_factor, download: r.download_factor }, false)}`;
}

/** The listing table. Rows should already carry live counts (withLiveCounts). */
export function renderTorrentTable<R extends TableRow>(ctx: RequestContext, rows: readonly R[], sortState: SortState | null, o: TableOptions<R> = {}): Html {
  const { t, locale } = ctx;
  if (rows.length === 0) return html`<p class="empty">${o.empty ?? t('browse.count.none')}</p>`;
  const now = ctx.site.now();
  const extra = o.extra ?? [];
  return html`<div class="table-wrap"><table class="torrents listing">
<caption${o.caption && !o.captionHidden ? '' : html` class="visually-hidden"`}>${o.caption ?? t('browse.caption')}</caption>
<thead><tr>${SORT_KEYS.map((k) => header(ctx, k, sortState))}${extra.map((c) => html`<th scope="col"${c.num ? html` class="num"` : ''}>${c.header}</th>`)}</tr></thead>
<tbody>
${rows.map((r) => {
  const catName = locale === 'fr' ? r.category_name_fr : r.category_name_en;
  return html`<tr>
<td class="cat">${r.category_id !== null && catName ? html`<a href="/browse?category=${r.category_id}">${catName}</a>` : ''}</td>
<th scope="row" class="name"><a href="${torrentHref(r)}">${r.name}</a>${rowBadges(ctx, r, now)}</th>
<td class="num">${formatNumber(locale, r.comment_count)}</td>
<td class="num">${formatAge(t, now - r.created_at)}</td>
<td class="num">${formatSize(t, locale, r.size)}</td>
<td class="num">${formatNumber(locale, r.times_completed)}</td>
<td class="num seeders">${formatNumber(locale, r.seeders)}</td>
<td class="num leechers">${formatNumber(locale, r.leechers)}</td>
${extra.map((c) => html`<td${c.num ? html` class="num"` : ''}>${c.cell(r)}</td>`)}
</tr>`;
})}
</tbody>
</table></div>`;
}

/**
 * Page links: previous, the first page, pages around the current one, the last known page, next.
 * `total` may be a lower bound (`capped`): then "next" stays while there may be more.
 */
export function renderPagination(ctx: RequestContext, o: { page: number; pageSize: number; total: number; capped: boolean; href: (page: number) => string }): Html {
  const { t } = ctx;
  const known = Math.max(1, Math.ceil(o.total / o.pageSize));
  const last = Math.min(MAX_PAGE, known);
  const hasNext = o.page < last || (o.capped && o.page < MAX_PAGE);
  if (o.page <= 1 && !hasNext) return html``;
  const pages = new Set<number>([1, last]);
  for (let p = o.page - 2; p <= o.page + 2; p++) if (p >= 1 && p <= last) pages.add(p);
  const sorted = [...pages].sort((a, b) => a - b);
  const items: Html[] = [];
  if (o.page > 1) items.push(html`<li><a href="${o.href(o.page - 1)}" rel="prev">${t('common.previous')}</a></li>`);
  let prev = 0;
  for (const p of sorted) {
    if (p - prev > 1) items.push(html`<li aria-hidden="true">…</li>`);
    items.push(
      p === o.page
        ? html`<li><a href="${o.href(p)}" aria-current="page" aria-label="${t('common.page', { n: p })}">${p}</a></li>`
        : html`<li><a href="${o.href(p)}" aria-label="${t('common.page', { n: p })}">${p}</a></li>`,
    );
    prev = p;
  }
  if (o.capped && last < MAX_PAGE) items.push(html`<li aria-hidden="true">…</li>`);
  if (hasNext) items.push(html`<li><a href="${o.href(o.page + 1)}" rel="next">${t('common.next')}</a></li>`);
  return html`<nav class="pagination" aria-label="${t('common.pagination')}"><ul>${items}</ul></nav>`;
}

/** "12 torrents", "10,000+ torrents", "1 torrent". */
export function countLabel(ctx: RequestContext, total: number, capped: boolean): string {
  const n = formatNumber(ctx.locale, total);
  if (capped) return ctx.t('browse.count.capped', { n });
  if (total === 1) return ctx.t('browse.count.one');
  return ctx.t('browse.count.many', { n });
}

/** The browse feature's page bodies (pure functions of their data). */
import type { Catalogue, CatalogueCategory } from '../../../site/catalogue/catalogue.js';
import type { SavedSearch, StoredSearch } from '../../../site/search/history.js';
import type { SearchResult } from '../../../site/search/search.js';
import type { TopPeriod, TopRow } from '../../../site/search/top.js';
import type { RequestContext } from '../../context.js';
import { formatNumber } from '../../format.js';
import { attr, html, type Html } from '../../html.js';
import { csrfField } from '../../layout.js';
import type { MessageKey } from '../../messages.js';
import {
  countLabel,
  defaultOrder,
  DEFAULT_SORT,
  listingHref,
  listingQueryString,
  parseListingQuery,
  renderPagination,
  renderTorrentTable,
  type ListingQuery,
  type ListingRow,
  type SortState,
} from './listing.js';

/** The search box with its autocomplete (the header's has the same). */
function searchBox(ctx: RequestContext, id: string, value: string, label: string, withButton: boolean): Html {
  return html`<label for="${id}">${label}</label>
<input id="${id}" type="search" name="q" value="${value}" maxlength="500" autocomplete="off" data-suggest="/search/suggest" list="${id}-suggestions" aria-describedby="${id}-help">
<datalist id="${id}-suggestions"></datalist>
${withButton ? html`<button type="submit">${ctx.t('browse.submit')}</button>` : ''}`;
}

function searchHelp(ctx: RequestContext, id: string): Html {
  const { t } = ctx;
  const rows: Array<[string, MessageKey]> = [
    ['vikings s01', 'browse.help.and'],
    ['vikings | empire', 'browse.help.or'],
    ['vikings -hdtv', 'browse.help.not'],
    ['(720p | 1080p) & french', 'browse.help.group'],
    ['vik*', 'browse.help.prefix'],
    ['"the office"', 'browse.help.phrase'],
    ['@name x @description y @file z @user w', 'browse.help.scopes'],
  ];
  return html`<details class="search-help" id="${id}-help"><summary>${t('browse.help.summary')}</summary>
<dl>${rows.map(([ex, key]) => html`<dt><code>${ex}</code></dt><dd>${t(key)}</dd>`)}</dl>
<p>${t('browse.help.accents')}</p>
</details>`;
}

// --- home ----------------------------------------------------------------------------------

export function homeBody(ctx: RequestContext, o: { latest: readonly ListingRow[]; today: readonly TopRow[]; news?: Html }): Html {
  const { t } = ctx;
  return html`<h1>${t('browse.home.heading', { site: ctx.site.config.site.name })}</h1>
<form class="home-search" method="get" action="/browse" role="search" aria-label="${t('browse.home.search_label')}">
${searchBox(ctx, 'home-q', '', t('browse.home.search_label'), true)}
${searchHelp(ctx, 'home-q')}
</form>
${o.news}
<section aria-labelledby="home-latest">
<h2 id="home-latest">${t('browse.home.latest')}</h2>
${renderTorrentTable(ctx, o.latest, null, { caption: t('browse.home.latest'), captionHidden: true, empty: t('browse.home.empty') })}
<p><a href="/browse">${t('browse.home.browse_all')}</a></p>
</section>
<section aria-labelledby="home-today">
<h2 id="home-today">${t('browse.home.top_today')}</h2>
${renderTorrentTable(ctx, o.today, null, {
  caption: t('browse.home.top_today'),
  captionHidden: true,
  empty: t('browse.top.empty'),
  extra: [{ header: t('browse.col.period_completed'), cell: (r) => formatNumber(ctx.locale, r.score), num: true }],
})}
<p><a href="/top">${t('browse.home.top_all')}</a> · <a href="/needs-seed">${t('browse.needs_seed.title')}</a></p>
</section>`;
}

// --- browse --------------------------------------------------------------------------------

export interface SaveForm {
  name: string;
  error: MessageKey | null;
}

export interface BrowseData {
  lq: ListingQuery;
  catalogue: Catalogue;
  result: SearchResult;
  /** Rows with live counts. */
  rows: readonly ListingRow[];
  recent: readonly StoredSearch[] | null;
  save: SaveForm;
}

/** Categories the viewer may see (visitors: no adult ones). */
function visibleParents(ctx: RequestContext, cat: Catalogue): CatalogueCategory[] {
  return cat.parents.filter((p) => ctx.user !== null || !p.adult);
}

function categorySelect(ctx: RequestContext, cat: Catalogue, selected: number | null): Html {
  const { t, locale } = ctx;
  return html`<label for="browse-category">${t('browse.category')}</label>
<select id="browse-category" name="category">
<option value=""${attr('selected', selected === null)}>${t('browse.category.any')}</option>
${visibleParents(ctx, cat).map(
  (p) => html`<optgroup label="${p.name(locale)}">
<option value="${p.id}"${attr('selected', selected === p.id)}>${t('browse.category.all_of', { name: p.name(locale) })}</option>
${p.children.filter((c) => ctx.user !== null || !c.adult).map((c) => html`<option value="${c.id}"${attr('selected', selected === c.id)}>${c.name(locale)}</option>`)}
</optgroup>`,
)}
</select>`;
}

/** The term controls of a subcategory; returns the ids they show. */
function termControls(ctx: RequestContext, sub: CatalogueCategory, selected: ReadonlySet<number>): { body: Html; shown: Set<number> } {
  const { t, locale } = ctx;
  const shown = new Set<number>();
  const parts: Html[] = [];
  for (const type of sub.termTypes) {
    const terms = type.termsIn(locale).filter((x) => !x.deprecated || selected.has(x.id));
    if (terms.length === 0 || (type.deprecated && !terms.some((x) => selected.has(x.id)))) continue;
    for (const x of terms) shown.add(x.id);
    const id = `browse-term-${type.id}`;
    if (type.mode === 'single') {
      const chosen = terms.find((x) => selected.has(x.id))?.id ?? null;
      // Other selected terms of this type (a hand-made URL) cannot show in a select: keep them.
      for (const x of terms) if (selected.has(x.id) && x.id !== chosen) shown.delete(x.id);
      parts.push(html`<div class="field"><label for="${id}">${type.name(locale)}</label>
<select id="${id}" name="term"><option value=""${attr('selected', chosen === null)}>${t('browse.term.any')}</option>
${terms.map((x) => html`<option value="${x.id}"${attr('selected', chosen === x.id)}>${x.name(locale)}</option>`)}
</select></div>`);
    } else {
      parts.push(html`<fieldset class="field term-multi"><legend>${type.name(locale)}</legend>
${terms.map(
  (x) => html`<label class="check"><input type="checkbox" name="term" value="${x.id}"${attr('checked', selected.has(x.id))}> ${x.name(locale)}</label>`,
)}
</fieldset>`);
    }
  }
  return { body: html`${parts}`, shown };
}

function filterForm(ctx: RequestContext, d: BrowseData): Html {
  const { t, locale } = ctx;
  const { lq, catalogue } = d;
  const selected = new Set(lq.terms);
  const category = lq.category !== null ? catalogue.category(lq.category) : undefined;
  let terms: Html;
  let shown = new Set<number>();
  if (category && !category.isParent && category.termTypes.length > 0) {
    const c = termControls(ctx, category, selected);
    shown = c.shown;
    terms = html`<fieldset class="terms"><legend>${t('browse.terms.legend', { name: category.name(locale) })}</legend>${c.body}</fieldset>`;
  } else {
    terms = html`<p class="hint">${t('browse.terms.hint')}</p>`;
  }
  // Selected terms the form does not show stay as hidden fields, listed with a way to drop each.
  const others = lq.terms.filter((id) => !shown.has(id));
  const otherList = others.length
    ? html`<p class="active-filters">${t('browse.terms.others')} ${others.map((id) => {
        const term = catalogue.term(id);
        const label = term ? term.name(locale) : `#${id}`;
        const href = listingHref(lq, { terms: lq.terms.filter((x) => x !== id), page: 1 });
        return html`<span class="tag">${label} <a href="${href}">${t('browse.terms.remove', { name: label })}</a></span> `;
      })}</p>${others.map((id) => html`<input type="hidden" name="term" value="${id}">`)}`
    : '';
  const keepSort = lq.sort !== DEFAULT_SORT || lq.order !== defaultOrder(lq.sort);
  return html`<form class="filters panel" method="get" action="/browse" role="search" aria-label="${t('browse.filters')}">
<div class="filters-row">
<div class="field grow">${searchBox(ctx, 'browse-q', lq.q, t('browse.q'), false)}</div>
<div class="field">${categorySelect(ctx, catalogue, lq.category)}</div>
</div>
${terms}
${otherList}
${keepSort ? html`<input type="hidden" name="sort" value="${lq.sort}"><input type="hidden" name="order" value="${lq.order}">` : ''}
<div class="actions"><button type="submit">${t('browse.submit')}</button> <a href="/browse">${t('browse.reset')}</a></div>
${searchHelp(ctx, 'browse-q')}
</form>`;
}

/** The listing URL of a stored query string (read back and written again: canonical and harmless). */
export function storedHref(query: string): string {
  return listingHref(parseListingQuery(query));
}

/** A short description of a stored listing query, for recent and saved searches. */
export function describeQuery(ctx: RequestContext, catalogue: Catalogue, query: string): string {
  const lq = parseListingQuery(query);
  const parts: string[] = [];
  if (lq.q) parts.push(ctx.t('browse.recent.quoted', { q: lq.q }));
  const c = lq.category !== null ? catalogue.category(lq.category) : undefined;
  if (c) parts.push(c.parent ? `${c.parent.name(ctx.locale)} › ${c.name(ctx.locale)}` : c.name(ctx.locale));
  const terms = lq.terms.map((id) => catalogue.term(id)?.name(ctx.locale)).filter((x): x is string => !!x);
  if (terms.length) parts.push(terms.join(', '));
  return parts.length ? parts.join(' · ') : ctx.t('browse.recent.everything');
}

function saveSection(ctx: RequestContext, d: BrowseData): Html {
  const { t } = ctx;
  const err = d.save.error;
  return html`<section class="panel save-search" aria-labelledby="save-search-h">
<h2 id="save-search-h">${t('browse.save.heading')}</h2>
<form method="post" action="/searches" class="form-inline" novalidate>
${csrfField(ctx)}
<input type="hidden" name="query" value="${listingQueryString(d.lq, { page: 1 })}">
<label for="save-name">${t('browse.save.name')}</label>
<input id="save-name" name="name" value="${d.save.name}" maxlength="100" required${err ? html` aria-invalid="true" aria-describedby="save-name-error"` : ''}>
${err ? html`<p id="save-name-error" class="field-error">${t(err)}</p>` : ''}
<button type="submit">${t('common.save')}</button>
<a href="/searches">${t('browse.searches.link')}</a>
</form>
</section>`;
}

function recentSection(ctx: RequestContext, d: BrowseData): Html {
  const { t } = ctx;
  if (!d.recent || d.recent.length === 0) return html``;
  return html`<section class="panel recent-searches" aria-labelledby="recent-h">
<h2 id="recent-h">${t('browse.recent.heading')}</h2>
<ol>${d.recent.map((r) => html`<li><a href="${storedHref(r.query)}">${describeQuery(ctx, d.catalogue, r.query)}</a></li>`)}</ol>
<form method="post" action="/searches/history/clear" class="inline">${csrfField(ctx)}<button type="submit" class="link">${t('browse.recent.clear')}</button></form>
</section>`;
}

export function browseTitle(ctx: RequestContext, lq: ListingQuery): string {
  return lq.q ? ctx.t('browse.search_title', { q: lq.q }) : ctx.t('browse.title');
}

export function browseBody(ctx: RequestContext, d: BrowseData): Html {
  const { t } = ctx;
  const { lq, result } = d;
  const sortState: SortState = {
    sort: lq.sort,
    order: lq.order,
    href: (sort, order) => listingHref(lq, { sort, order, page: 1 }),
  };
  const hasFilter = lq.q !== '' || lq.category !== null || lq.terms.length > 0;
  return html`<h1>${browseTitle(ctx, lq)}</h1>
${filterForm(ctx, d)}
<h2 class="visually-hidden">${t('browse.results')}</h2>
<p class="summary" role="status">${result.total === 0 ? t('browse.count.none') : countLabel(ctx, result.total, result.totalCapped)}</p>
${result.total === 0 ? '' : renderTorrentTable(ctx, d.rows, sortState)}
${renderPagination(ctx, { page: lq.page, pageSize: result.limit, total: result.total, capped: result.totalCapped, href: (page) => listingHref(lq, { page }) })}
${ctx.user && hasFilter ? saveSection(ctx, d) : ''}
${ctx.user ? recentSection(ctx, d) : ''}`;
}

// --- saved searches ------------------------------------------------------------------------

export function savedSearchesBody(ctx: RequestContext, o: { searches: readonly SavedSearch[]; catalogue: Catalogue; rssKey: string }): Html {
  const { t } = ctx;
  if (o.searches.length === 0) {
    return html`<h1>${t('browse.searches.title')}</h1><p class="empty">${t('browse.searches.empty')}</p><p><a href="/browse">${t('browse.title')}</a></p>`;
  }
  return html`<h1>${t('browse.searches.title')}</h1>
<div class="table-wrap"><table class="saved-searches">
<caption class="visually-hidden">${t('browse.searches.title')}</caption>
<thead><tr><th scope="col">${t('browse.searches.col.name')}</th><th scope="col">${t('browse.searches.col.query')}</th><th scope="col">${t('browse.searches.col.actions')}</th></tr></thead>
<tbody>
${o.searches.map(
  (s) => html`<tr>
<th scope="row">${s.name}</th>
<td>${describeQuery(ctx, o.catalogue, s.query)}</td>
<td class="actions">
<a href="${storedHref(s.query)}">${t('browse.searches.run')}<span class="visually-hidden"> ${s.name}</span></a>
<a href="/rss/search/${s.id}?key=${o.rssKey}" class="rss">${t('browse.searches.rss')}<span class="visually-hidden"> ${s.name}</span></a>
<form method="post" action="/searches/${s.id}/delete" class="inline">${csrfField(ctx)}<button type="submit" class="link" aria-label="${t('browse.searches.delete_label', { name: s.name })}">${t('common.delete')}</button></form>
</td>
</tr>`,
)}
</tbody>
</table></div>
<p class="note">${t('browse.searches.rss_note')}</p>`;
}

// --- top lists and needs-seed --------------------------------------------------------------

const TOP_TABS: ReadonlyArray<[TopPeriod, string, MessageKey]> = [
  ['active', '/top', 'browse.top.active'],
  ['today', '/top/today', 'browse.top.today'],
  ['week', '/top/week', 'browse.top.week'],
  ['month', '/top/month', 'browse.top.month'],
];

const TOP_HEADINGS: Readonly<Record<TopPeriod, MessageKey>> = {
  active: 'browse.top.heading.active',
  today: 'browse.top.heading.today',
  week: 'browse.top.heading.week',
  month: 'browse.top.heading.month',
};

export function topBody(ctx: RequestContext, period: TopPeriod, rows: readonly TopRow[]): Html {
  const { t } = ctx;
  return html`<h1>${t('browse.top.title')}</h1>
<nav class="tabs" aria-label="${t('browse.top.lists')}"><ul>
${TOP_TABS.map(([p, href, key]) => html`<li><a href="${href}"${p === period ? html` aria-current="page"` : ''}>${t(key)}</a></li>`)}
<li><a href="/needs-seed">${t('browse.needs_seed.title')}</a></li>
</ul></nav>
<h2>${t(TOP_HEADINGS[period])}</h2>
${renderTorrentTable(ctx, rows, null, {
  caption: t(TOP_HEADINGS[period]),
  captionHidden: true,
  empty: t('browse.top.empty'),
  extra: period === 'active' ? [] : [{ header: t('browse.col.period_completed'), cell: (r) => formatNumber(ctx.locale, r.score), num: true }],
})}`;
}

export function needsSeedBody(ctx: RequestContext, lq: ListingQuery, result: SearchResult, rows: readonly ListingRow[]): Html {
  const { t } = ctx;
  const sortState: SortState = { sort: lq.sort, order: lq.order, href: (sort, order) => listingHref(lq, { sort, order, page: 1 }, '/needs-seed') };
  return html`<h1>${t('browse.needs_seed.title')}</h1>
<p>${t('browse.needs_seed.intro')}</p>
<p class="summary" role="status">${result.total === 0 ? t('browse.needs_seed.none') : countLabel(ctx, result.total, result.totalCapped)}</p>
${result.total === 0 ? '' : renderTorrentTable(ctx, rows, sortState)}
${renderPagination(ctx, { page: lq.page, pageSize: result.limit, total: result.total, capped: result.totalCapped, href: (page) => listingHref(lq, { page }, '/needs-seed') })}`;
}

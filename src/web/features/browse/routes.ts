/**
 * Browse and search:
 *
 *   GET  /                            home: search box, latest torrents, today's top
 *   GET  /browse                      the listing: q, category, term (repeatable), sort, order, page
 *   GET  /search/suggest?q=           JSON array of up to 10 torrent names (autocomplete);
 *                                     `&format=opensearch` answers [q, [names]] (OpenSearch suggestions)
 *   GET  /opensearch.xml              OpenSearch 1.1 description
 *   GET  /searches                    the member's saved searches (run, RSS, delete)
 *   POST /searches                    saves the search `query` under `name`
 *   POST /searches/<id>/delete        deletes a saved search
 *   POST /searches/history/clear      forgets the member's recent searches
 *   GET  /top, /top/today, /top/week, /top/month
 *   GET  /needs-seed                  torrents without any seeder
 *
 * Listings are public, except adult categories, which only members see (as on T411).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { loadCatalogue } from '../../../site/catalogue/catalogue.js';
import {
  clearSearchHistory,
  deleteSavedSearch,
  listSavedSearches,
  recentSearches,
  recordSearch,
  saveSearch,
  type SaveSearchResult,
} from '../../../site/search/history.js';
import { listingsVerifiedOnly } from '../../../site/moderation/settings.js';
import { searchTorrents, suggestNames } from '../../../site/search/search.js';
import { topTorrents, type TopPeriod } from '../../../site/search/top.js';
import type { Site } from '../../../site/site.js';
import { requireUser, setFlash, type RequestContext } from '../../context.js';
import { errorPage, sendPage } from '../../layout.js';
import type { MessageKey } from '../../messages.js';
import {
  listingQueryString,
  parseListingQuery,
  PAGE_SIZE,
  toSearchInput,
  withLiveCounts,
  type ListingQuery,
} from './listing.js';
import { browseBody, browseTitle, homeBody, needsSeedBody, savedSearchesBody, topBody, type SaveForm } from './pages.js';
import { homeNews } from '../community/news-routes.js';

const SAVE_ERRORS: Readonly<Record<Exclude<SaveSearchResult, { ok: true }>['error'], MessageKey>> = {
  name_required: 'browse.save.error.name_required',
  name_too_long: 'browse.save.error.name_too_long',
  duplicate: 'browse.save.error.duplicate',
  too_many: 'browse.save.error.too_many',
  query_too_long: 'browse.save.error.query_too_long',
};

function xmlEscape(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

export function routes(app: FastifyInstance, site: Site): void {
  const db = site.db;

  app.get('/', async (req, reply) => {
    const ctx = req.ctx;
    const hideAdult = ctx.user === null;
    const verifiedOnly = await listingsVerifiedOnly(db);
    const [latest, today] = await Promise.all([
      searchTorrents(db, { sort: 'age', order: 'asc', limit: 20, hideAdult, countCap: 0, verifiedOnly }),
      topTorrents(db, 'today', { now: site.now(), hideAdult, limit: 10, verifiedOnly }),
    ]);
    return sendPage(reply, ctx, {
      title: ctx.t('common.nav.home'),
      body: homeBody(ctx, { latest: withLiveCounts(site, latest.rows), today: withLiveCounts(site, today), news: await homeNews(site, ctx) }),
    });
  });

  const renderBrowse = async (reply: FastifyReply, ctx: RequestContext, lq: ListingQuery, save: SaveForm, status = 200) => {
    const verifiedOnly = await listingsVerifiedOnly(db);
    const [catalogue, result] = await Promise.all([loadCatalogue(db), searchTorrents(db, { ...toSearchInput(lq, ctx.user), verifiedOnly })]);
    const recent = ctx.user ? await recentSearches(db, ctx.user.id) : null;
    return sendPage(
      reply,
      ctx,
      {
        title: browseTitle(ctx, lq),
        query: lq.q,
        body: browseBody(ctx, { lq, catalogue, result, rows: withLiveCounts(site, result.rows), recent, save }),
      },
      status,
    );
  };

  app.get('/browse', async (req, reply) => {
    const ctx = req.ctx;
    const lq = parseListingQuery(req.query as Record<string, unknown>);
    if (ctx.user && lq.q) await recordSearch(db, ctx.user.id, listingQueryString(lq, { page: 1 }), site.now());
    return renderBrowse(reply, ctx, lq, { name: '', error: null });
  });

  app.get('/search/suggest', async (req, reply) => {
    const q = (req.query as Record<string, unknown>).q;
    const format = (req.query as Record<string, unknown>).format;
    const text = typeof q === 'string' ? q.slice(0, 200) : '';
    const names = text.trim().length >= 2 ? await suggestNames(db, text, { hideAdult: req.ctx.user === null }) : [];
    void reply.header('Cache-Control', 'private, max-age=60');
    if (format === 'opensearch') return reply.type('application/x-suggestions+json; charset=utf-8').send(JSON.stringify([text, names]));
    return reply.type('application/json; charset=utf-8').send(JSON.stringify(names));
  });

  app.get('/opensearch.xml', async (req, reply) => {
    const ctx = req.ctx;
    const base = site.publicUrl;
    const name = site.config.site.name;
    const xml = `<?xml version="1.0" encoding="UTF-8"?>
<OpenSearchDescription xmlns="http://a9.com/-/spec/opensearch/1.1/">
  <ShortName>${xmlEscape([...name].slice(0, 16).join(''))}</ShortName>
  <Description>${xmlEscape(ctx.t('browse.opensearch.description', { site: name }))}</Description>
  <InputEncoding>UTF-8</InputEncoding>
  <OutputEncoding>UTF-8</OutputEncoding>
  <Language>${ctx.locale}</Language>
  <Image width="16" height="16" type="image/svg+xml">${xmlEscape(`${base}/static/favicon.svg`)}</Image>
  <Url type="text/html" method="get" template="${xmlEscape(`${base}/browse?q={searchTerms}&page={startPage?}`)}"/>
  <Url type="application/x-suggestions+json" method="get" template="${xmlEscape(`${base}/search/suggest?format=opensearch&q={searchTerms}`)}"/>
  <Url type="application/opensearchdescription+xml" rel="self" template="${xmlEscape(`${base}/opensearch.xml`)}"/>
</OpenSearchDescription>
`;
    return reply.header('Cache-Control', 'public, max-age=3600').type('application/opensearchdescription+xml; charset=utf-8').send(xml);
  });

  app.get('/searches', async (req, reply) => {
    const ctx = req.ctx;
    const user = requireUser(req, reply);
    const [searches, catalogue] = await Promise.all([listSavedSearches(db, user.id), loadCatalogue(db)]);
    return sendPage(reply, ctx, { title: ctx.t('browse.searches.title'), body: savedSearchesBody(ctx, { searches, catalogue, rssKey: user.rss_key }) });
  });

  app.post('/searches', async (req: FastifyRequest, reply) => {
    const ctx = req.ctx;
    const user = requireUser(req, reply);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const name = typeof body.name === 'string' ? body.name : '';
    // Stored in canonical form: only what the listing understands, page 1.
    const lq = parseListingQuery(typeof body.query === 'string' ? body.query : '');
    const r = await saveSearch(db, user.id, name, listingQueryString(lq, { page: 1 }), site.now());
    if (!r.ok) {
      return renderBrowse(reply, ctx, { ...lq, page: 1 }, { name: name.slice(0, 200), error: SAVE_ERRORS[r.error] }, r.error === 'duplicate' ? 409 : 400);
    }
    setFlash(reply, 'browse.save.done');
    return reply.redirect('/searches', 303);
  });

  app.post<{ Params: { id: string } }>('/searches/:id/delete', async (req, reply) => {
    const ctx = req.ctx;
    const user = requireUser(req, reply);
    const id = /^[1-9][0-9]{0,9}$/.test(req.params.id) ? Number(req.params.id) : null;
    if (id === null || !(await deleteSavedSearch(db, user.id, id))) return errorPage(reply, ctx, 404, ctx.t('browse.searches.not_found'));
    setFlash(reply, 'browse.searches.deleted');
    return reply.redirect('/searches', 303);
  });

  app.post('/searches/history/clear', async (req, reply) => {
    const user = requireUser(req, reply);
    await clearSearchHistory(db, user.id);
    setFlash(reply, 'browse.recent.cleared');
    return reply.redirect('/browse', 303);
  });

  const top = (period: TopPeriod) => async (req: FastifyRequest, reply: FastifyReply) => {
    const ctx = req.ctx;
    const rows = await topTorrents(db, period, { now: site.now(), hideAdult: ctx.user === null, verifiedOnly: await listingsVerifiedOnly(db) });
    return sendPage(reply, ctx, { title: ctx.t('browse.top.title'), body: topBody(ctx, period, withLiveCounts(site, rows)) });
  };
  app.get('/top', top('active'));
  app.get('/top/today', top('today'));
  app.get('/top/week', top('week'));
  app.get('/top/month', top('month'));

  app.get('/needs-seed', async (req, reply) => {
    const ctx = req.ctx;
    const query = req.query as Record<string, unknown>;
    const parsed = parseListingQuery(query);
    // Most wanted first unless asked otherwise; no text or term filters here.
    const lq: ListingQuery = {
      ...parsed,
      q: '',
      terms: [],
      ...(typeof query.sort === 'string' && parsed.sort === query.sort ? {} : { sort: 'leechers' as const, order: 'desc' as const }),
    };
    const result = await searchTorrents(db, { ...toSearchInput(lq, ctx.user, PAGE_SIZE), noSeeders: true, verifiedOnly: await listingsVerifiedOnly(db) });
    return sendPage(reply, ctx, { title: ctx.t('browse.needs_seed.title'), body: needsSeedBody(ctx, lq, result, withLiveCounts(site, result.rows)) });
  });
}

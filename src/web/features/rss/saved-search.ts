/**
 * A saved search re-run for its feed: `saved_search.query` is the listing's query string, read
 * by the listing's own parser and run by the listing's search (text, category, terms), so that a
 * feed lists what the search page lists. A feed is always newest first (what readers look for),
 * whatever sort the search was saved with; adult categories are included (the feed's owner is a
 * member, authenticated by the RSS key).
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../../db/schema.js';
import { searchTorrents, type ListingRow } from '../../../site/search/search.js';
import { parseListingQuery } from '../browse/listing.js';

export async function savedSearchTorrents(db: Kysely<Database>, query: string, limit: number, verifiedOnly = false): Promise<ListingRow[]> {
  const lq = parseListingQuery(query);
  const r = await searchTorrents(db, {
    text: lq.q,
    categoryId: lq.category,
    terms: lq.terms,
    sort: 'age',
    order: 'asc',
    offset: 0,
    limit,
    hideAdult: false,
    countCap: 0,
    verifiedOnly,
  });
  return r.rows;
}

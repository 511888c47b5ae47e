/**
 * A saved search re-run for its feed. `saved_search.query` is the listing's query string
 * (`q`, `category`, `term` repeatable, ...), newest first.
 *
 * Interim: until the listing's own query parser and search (src/site/search) are available, this
 * reads `q`, `category` and `term` itself and matches the words of `q` against torrent names only
 * (case-insensitive substring, no accent folding, no search operators).
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../../db/schema.js';
import { torrentListQuery, type TorrentListRow } from '../../../site/torrents/read.js';

export interface SavedQuery {
  q: string;
  categoryId: number | null;
  termIds: number[];
}

export function parseSavedQuery(query: string): SavedQuery {
  const p = new URLSearchParams(query.replace(/^\?/, ''));
  const int = (s: string | null) => (s !== null && /^[1-9][0-9]{0,9}$/.test(s) ? Number(s) : null);
  return {
    q: (p.get('q') ?? '').slice(0, 1000),
    categoryId: int(p.get('category')),
    termIds: [...new Set(p.getAll('term').map(int).filter((x): x is number => x !== null))].slice(0, 64),
  };
}

export async function savedSearchTorrents(db: Kysely<Database>, query: string, limit: number): Promise<TorrentListRow[]> {
  const sq = parseSavedQuery(query);
  let q = torrentListQuery(db).where('torrent.status', '=', 'active');
  if (sq.categoryId !== null) {
    const id = sq.categoryId;
    q = q.where((eb) =>
      eb.or([eb('torrent.category_id', '=', id), eb('torrent.category_id', 'in', eb.selectFrom('category as sub').select('sub.id').where('sub.parent_id', '=', id))]),
    );
  }
  if (sq.termIds.length > 0) {
    const terms = await db.selectFrom('term').select(['id', 'term_type_id']).where('id', 'in', sq.termIds).execute();
    const byType = new Map<number, number[]>();
    for (const t of terms) byType.set(t.term_type_id, [...(byType.get(t.term_type_id) ?? []), t.id]);
    for (const ids of byType.values()) {
      q = q.where((eb) => eb.exists(eb.selectFrom('torrent_term as tt').select('tt.term_id').whereRef('tt.torrent_id', '=', 'torrent.id').where('tt.term_id', 'in', ids)));
    }
  }
  const words = sq.q.toLowerCase().split(/\s+/).map((w) => w.replace(/[%_\\]/g, '')).filter((w) => w.length > 0).slice(0, 16);
  for (const w of words) q = q.where((eb) => eb(eb.fn('lower', ['torrent.name']), 'like', `%${w}%`));
  return (await q.orderBy('torrent.created_at', 'desc').orderBy('torrent.id', 'desc').limit(limit).execute()) as TorrentListRow[];
}

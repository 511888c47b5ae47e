/**
 * The full-text index of torrents: name, description (as plain text), the paths of the files
 * inside the torrent, and the uploader's username — except for anonymous uploads, so that no
 * search (`@user alice`, or just `alice`) can tell who uploaded them.
 *
 * The text is normalised here (normalize.ts: NFKD, accents removed, lowercased, cut into words),
 * so that both engines index the same words:
 * - SQLite: the FTS5 table `torrent_search` (contentless, rowid = torrent id, one column per
 *   field). A contentless-delete table cannot update a row in place: it is deleted and inserted.
 * - PostgreSQL: `torrent_search(torrent_id, document)`, a tsvector built with the 'simple'
 *   configuration and weighted by field (A name, B description, C files, D uploader). A gap of one
 *   position separates the fields, so that a phrase never spans two of them (as in FTS5).
 *
 * Callers: the upload service after inserting a torrent, edits (name, description, anonymity, a
 * renamed member), deletions; `indexTorrents` in batches for generated data and rebuilds.
 */
import { sql, type Kysely } from 'kysely';
import { descriptionToPlainText } from '../../markup/render.js';
import type { Database } from '../../db/schema.js';
import { inTransaction } from '../../db/util.js';
import { isPostgres } from './dialect.js';
import { indexText } from './normalize.js';

/** Caps on the indexed text per field, in characters (PostgreSQL limits a tsvector to 1 MB). */
export const INDEX_LIMITS = { name: 2_000, description: 32_000, files: 128_000, uploader: 200 } as const;
/** Files read per torrent: more could not fit in INDEX_LIMITS.files anyway. */
const MAX_FILES = 20_000;
/** Torrents per statement when indexing in batches. */
const BATCH = 200;

export interface IndexDocument {
  name: string;
  description: string;
  files: string;
  uploader: string;
}

/** The normalised text of each field, as indexed. */
export function searchDocument(t: {
  name: string;
  description: string;
  descriptionFormat: 'bbcode' | 'markdown';
  files: readonly string[];
  uploader: string | null;
  anonymous: boolean;
}): IndexDocument {
  let description = '';
  if (t.description) {
    try {
      description = descriptionToPlainText(t.description, t.descriptionFormat, { maxLength: INDEX_LIMITS.description * 4 });
    } catch {
      description = t.description;
    }
  }
  return {
    name: indexText(t.name, INDEX_LIMITS.name),
    description: indexText(description, INDEX_LIMITS.description),
    files: indexText(t.files.join('\n'), INDEX_LIMITS.files),
    uploader: t.anonymous || !t.uploader ? '' : indexText(t.uploader, INDEX_LIMITS.uploader),
  };
}

/** (Re)indexes one torrent from its rows (torrent, torrent_file, uploader). */
export async function indexTorrent(db: Kysely<Database>, torrentId: number): Promise<void> {
  await indexTorrents(db, [torrentId]);
}

/**
 * (Re)indexes torrents in batches; ids without a torrent are removed from the index. Returns the
 * number of torrents indexed.
 */
export async function indexTorrents(db: Kysely<Database>, torrentIds: readonly number[]): Promise<number> {
  let indexed = 0;
  for (let i = 0; i < torrentIds.length; i += BATCH) {
    const ids = [...new Set(torrentIds.slice(i, i + BATCH))];
    const rows = await db
      .selectFrom('torrent')
      .leftJoin('user', 'user.id', 'torrent.uploader_id')
      .select([
        'torrent.id',
        'torrent.name',
        'torrent.description',
        'torrent.description_format',
        'torrent.anonymous',
        'user.username',
      ])
      .where('torrent.id', 'in', ids)
      .execute();
    const files = new Map<number, string[]>();
    if (rows.length > 0) {
      const fileRows = await db
        .selectFrom('torrent_file')
        .select(['torrent_id', 'path'])
        .where('torrent_id', 'in', rows.map((r) => r.id))
        .where('idx', '<', MAX_FILES)
        .orderBy('torrent_id')
        .orderBy('idx')
        .execute();
      for (const f of fileRows) {
        let list = files.get(f.torrent_id);
        if (!list) files.set(f.torrent_id, (list = []));
        list.push(f.path);
      }
    }
    const docs = rows.map((r) => ({
      id: r.id,
      doc: searchDocument({
        name: r.name,
        description: r.description,
        descriptionFormat: r.description_format,
        files: files.get(r.id) ?? [],
        uploader: r.username,
        anonymous: r.anonymous === 1,
      }),
    }));
    await inTransaction(db, async (trx) => {
      await removeFromIndex(trx, ids);
      if (docs.length > 0) await writeDocuments(trx, docs);
    });
    indexed += docs.length;
  }
  return indexed;
}

/** Removes a torrent from the index. */
export async function unindexTorrent(db: Kysely<Database>, torrentId: number): Promise<void> {
  await removeFromIndex(db, [torrentId]);
}

/** Rebuilds the whole index (all torrents, whatever their status), in batches. */
export async function rebuildSearchIndex(db: Kysely<Database>, onProgress?: (done: number) => void): Promise<number> {
  if (isPostgres(db)) await sql`delete from torrent_search`.execute(db);
  else await sql`insert into torrent_search (torrent_search) values ('delete-all')`.execute(db);
  let last = 0;
  let done = 0;
  for (;;) {
    const ids = (await db.selectFrom('torrent').select('id').where('id', '>', last).orderBy('id').limit(5_000).execute()).map((r) => r.id);
    if (ids.length === 0) break;
    done += await indexTorrents(db, ids);
    last = ids[ids.length - 1]!;
    onProgress?.(done);
  }
  return done;
}

async function removeFromIndex(db: Kysely<Database>, ids: readonly number[]): Promise<void> {
  if (ids.length === 0) return;
  if (isPostgres(db)) await sql`delete from torrent_search where torrent_id in (${sql.join(ids)})`.execute(db);
  else await sql`delete from torrent_search where rowid in (${sql.join(ids)})`.execute(db);
}

async function writeDocuments(db: Kysely<Database>, docs: ReadonlyArray<{ id: number; doc: IndexDocument }>): Promise<void> {
  if (isPostgres(db)) {
    // '_' never comes out of the normaliser: it holds one position between fields, then goes.
    const gap = sql`'_:1'::tsvector`;
    const rows = docs.map(
      ({ id, doc }) => sql`(${id}, ts_delete(
        setweight(to_tsvector('simple', ${doc.name}), 'A') || ${gap} ||
        setweight(to_tsvector('simple', ${doc.description}), 'B') || ${gap} ||
        setweight(to_tsvector('simple', ${doc.files}), 'C') || ${gap} ||
        setweight(to_tsvector('simple', ${doc.uploader}), 'D'), '_'::text))`,
    );
    await sql`insert into torrent_search (torrent_id, document) values ${sql.join(rows)}
      on conflict (torrent_id) do update set document = excluded.document`.execute(db);
  } else {
    const rows = docs.map(({ id, doc }) => sql`(${id}, ${doc.name}, ${doc.description}, ${doc.files}, ${doc.uploader})`);
    await sql`insert into torrent_search (rowid, name, description, files, uploader) values ${sql.join(rows)}`.execute(db);
  }
}

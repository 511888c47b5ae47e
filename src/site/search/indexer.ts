/**
 * The full-text index of torrents (name, description, file names, uploader). (To be filled in.)
 * Callers: the upload service after inserting a torrent, edits, deletions.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';

/** (Re)indexes one torrent from its rows (torrent, torrent_file, uploader). */
export async function indexTorrent(_db: Kysely<Database>, _torrentId: number): Promise<void> {}

/** Removes a torrent from the index. */
export async function unindexTorrent(_db: Kysely<Database>, _torrentId: number): Promise<void> {}

/**
 * Migration 0003: an index on completed downloads by time, for the site's top lists of the day,
 * week and month (completions counted per torrent within the window) without reading every
 * member's traffic row.
 *
 * Frozen once released (see 0001).
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- migrations are typed against no schema */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('user_torrent_completed_at_idx').on('user_torrent').columns(['completed_at', 'torrent_id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('user_torrent_completed_at_idx').execute();
}

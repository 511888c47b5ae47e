/** Which engine a Kysely instance talks to (the search SQL differs: FTS5 or tsvector). */
import { PostgresAdapter, type Kysely } from 'kysely';

export function isPostgres<DB>(db: Kysely<DB>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

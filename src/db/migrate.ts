/**
 * Runs the migrations of src/db/migrations (a static list) with Kysely's Migrator.
 */
import { Migrator, PostgresIntrospector, sql, type Kysely, type MigrationResultSet } from 'kysely';
import { migrations } from './migrations/index.js';

async function migrator<DB>(db: Kysely<DB>): Promise<Migrator> {
  // On PostgreSQL the Migrator looks for its tables in every schema unless told which one: pin
  // it to the connection's current schema, so that databases in other schemas never interfere.
  let migrationTableSchema: string | undefined;
  if (db.introspection instanceof PostgresIntrospector) {
    const r = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db);
    migrationTableSchema = r.rows[0]?.schema ?? undefined;
    if (!migrationTableSchema) throw new Error('PostgreSQL has no current schema: check the search_path');
  }
  return new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve({ ...migrations }) },
    ...(migrationTableSchema ? { migrationTableSchema } : {}),
  });
}

/** Applies every pending migration, in one transaction each; returns the names applied (none if up to date). */
export async function migrateToLatest<DB>(db: Kysely<DB>): Promise<string[]> {
  const m = await migrator(db);
  // Read first: when nothing is pending, take no write lock at all, so that several commands
  // (CLI invocations next to a running server) can open the same SQLite file at once.
  const pending = (await m.getMigrations()).some((x) => x.executedAt === undefined);
  if (!pending) return [];
  return unwrap(await m.migrateToLatest());
}

/** Every known migration and when it was applied (null while pending). */
export async function migrationStatus<DB>(db: Kysely<DB>): Promise<Array<{ name: string; executedAt: Date | null }>> {
  const list = await (await migrator(db)).getMigrations();
  return list.map((m) => ({ name: m.name, executedAt: m.executedAt ?? null }));
}

/** Reverts the last applied migration (development only); returns its name, or null if none. */
export async function migrateDown<DB>(db: Kysely<DB>): Promise<string | null> {
  return unwrap(await (await migrator(db)).migrateDown())[0] ?? null;
}

function unwrap({ error, results }: MigrationResultSet): string[] {
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`migration ${failed ? failed.migrationName + ' ' : ''}failed: ${message}`, { cause: error });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

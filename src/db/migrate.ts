/**
 * Runs the migrations of src/db/migrations (a static list) with Kysely's Migrator.
 */
import {
  Migrator,
  PostgresIntrospector,
  sql,
  type DatabaseIntrospector,
  type Kysely,
  type MigrationResultSet,
  type SchemaMetadata,
  type TableMetadata,
} from 'kysely';
import { migrations } from './migrations/index.js';

async function migrator<DB>(db: Kysely<DB>): Promise<Migrator> {
  // On PostgreSQL the Migrator looks for its tables in every schema unless told which one: pin
  // it to the connection's current schema, so that databases in other schemas never interfere.
  if (db.introspection instanceof PostgresIntrospector) {
    const r = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db);
    const schema = r.rows[0]?.schema ?? undefined;
    if (!schema) throw new Error('PostgreSQL has no current schema: check the search_path');
    return new Migrator({ db: withIntrospector(db, new OneSchemaIntrospector(db, schema)), provider, migrationTableSchema: schema });
  }
  return new Migrator({ db, provider });
}

const provider = { getMigrations: () => Promise.resolve({ ...migrations }) };

/**
 * What the Migrator asks of an introspector (does the schema exist, which tables does it hold),
 * answered for one schema. Kysely's own PostgreSQL introspector reads every table of every schema
 * and resolves each one's name again (pg_get_serial_sequence), which fails with 'schema "…" does
 * not exist' when another session drops a schema meanwhile: concurrent test runs, or an operator's
 * DDL next to a starting node.
 */
class OneSchemaIntrospector<DB> implements DatabaseIntrospector {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly schema: string,
  ) {}

  getSchemas(): Promise<SchemaMetadata[]> {
    // current_schema() named it, so it exists.
    return Promise.resolve([{ name: this.schema }]);
  }

  async getTables(): Promise<TableMetadata[]> {
    const r = await sql<{ name: string; kind: string }>`
      select c.relname as name, c.relkind as kind
      from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      where n.nspname = ${this.schema} and c.relkind in ('r', 'p', 'v', 'm')`.execute(this.db);
    return r.rows.map((t) => ({ name: t.name, schema: this.schema, isView: t.kind === 'v' || t.kind === 'm', columns: [] }));
  }

  async getMetadata(): Promise<{ tables: TableMetadata[] }> {
    return { tables: await this.getTables() };
  }
}

/** The same Kysely instance, but for its `introspection`. */
function withIntrospector<DB>(db: Kysely<DB>, introspection: DatabaseIntrospector): Kysely<DB> {
  return new Proxy(db, {
    get(target, prop) {
      if (prop === 'introspection') return introspection;
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
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

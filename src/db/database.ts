/**
 * Opening the database: SQLite through better-sqlite3 or PostgreSQL through a `pg` pool, both
 * behind Kysely<Database>. The URL is config `database.url`:
 *   ""                        SQLite at <dataDir>/essaim.sqlite
 *   "sqlite:<path>"           SQLite at <path> (relative to the working directory)
 *   "sqlite::memory:"         a private in-memory SQLite database (tests)
 *   "postgres://..."          PostgreSQL ("postgresql://" too); query parameters such as
 *                             ?options=-c%20search_path%3Dother go to the connection
 *
 * PostgreSQL returns int8 (bigint) and numeric as strings by default; this pool parses them to JS
 * numbers, so that both dialects return the same values (counters stay below 2^53).
 */
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.js';

export type DialectName = 'sqlite' | 'postgres';

export interface OpenDatabaseOptions {
  /** Created if missing; holds the default SQLite file. */
  dataDir: string;
  /** PostgreSQL pool size. */
  poolSize: number;
  /** Errors of idle PostgreSQL connections (the pool reconnects by itself). Ignored by default. */
  onPoolError?: (err: Error) => void;
}

export interface OpenedDatabase {
  db: Kysely<Database>;
  dialect: DialectName;
  /** The SQLite file (absolute), or null for PostgreSQL and in-memory databases. */
  sqlitePath: string | null;
  /** Closes the connection or pool. Safe to call twice. */
  close(): Promise<void>;
}

export type DatabaseTarget = { dialect: 'sqlite'; path: string } | { dialect: 'postgres'; connectionString: string };

const PG_INT8 = 20;
const PG_NUMERIC = 1700;

/** What a database URL points to (throws on an unsupported one). */
export function resolveDatabaseUrl(url: string, dataDir: string): DatabaseTarget {
  if (url === '') return { dialect: 'sqlite', path: join(dataDir, 'essaim.sqlite') };
  if (url === 'sqlite::memory:') return { dialect: 'sqlite', path: ':memory:' };
  if (url.startsWith('sqlite:') && url.length > 'sqlite:'.length) return { dialect: 'sqlite', path: url.slice('sqlite:'.length) };
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return { dialect: 'postgres', connectionString: url };
  throw new Error(`unsupported database URL (expected "", sqlite:<path>, sqlite::memory: or postgres://...): ${redactDatabaseUrl(url)}`);
}

/** The URL with any password replaced, for logs and errors. */
export function redactDatabaseUrl(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^:/@]*):[^@/]*@/i, '$1:<redacted>@');
}

const sqliteHandles = new WeakMap<object, BetterSqlite3.Database>();

/**
 * The better-sqlite3 connection behind a Kysely instance opened by openDatabase, for the one hot
 * write path that uses prepared statements directly (the ledger flush). Undefined on PostgreSQL
 * and for transactions. Use it only inside `db.connection().execute(...)`, which holds Kysely's
 * connection lock so that no Kysely transaction is open at the same time.
 */
export function sqliteHandle(db: object): BetterSqlite3.Database | undefined {
  return sqliteHandles.get(db);
}

export async function openDatabase(url: string, opts: OpenDatabaseOptions): Promise<OpenedDatabase> {
  const target = resolveDatabaseUrl(url, opts.dataDir);
  mkdirSync(opts.dataDir, { recursive: true });
  return target.dialect === 'sqlite' ? openSqlite(target.path) : openPostgres(target.connectionString, opts);
}

/** A better-sqlite3 connection with Essaim's settings (WAL, foreign keys, busy timeout). */
export function openSqliteConnection(path: string): BetterSqlite3.Database {
  const conn = new BetterSqlite3(path);
  try {
    if (path !== ':memory:') conn.pragma('journal_mode = WAL');
    conn.pragma('foreign_keys = ON');
    conn.pragma('busy_timeout = 5000');
    conn.pragma('synchronous = NORMAL');
    // The site's reads (listings, search) are random b-tree lookups: a 64 MiB page cache and
    // memory-mapped reads (256 MiB of address space, pages shared with the OS cache) halved their
    // cost on a million-torrent database (docs/benchmarks.md).
    conn.pragma('cache_size = -65536');
    if (path !== ':memory:') conn.pragma('mmap_size = 268435456');
  } catch (err) {
    conn.close();
    throw err;
  }
  return conn;
}

function openSqlite(path: string): OpenedDatabase {
  const memory = path === ':memory:';
  if (!memory) mkdirSync(dirname(resolve(path)), { recursive: true });
  const conn = openSqliteConnection(path);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: conn }) });
  sqliteHandles.set(db, conn);
  return { db, dialect: 'sqlite', sqlitePath: memory ? null : resolve(path), close: once(() => db.destroy()) };
}

async function openPostgres(connectionString: string, opts: OpenDatabaseOptions): Promise<OpenedDatabase> {
  const pool = new pg.Pool({
    connectionString,
    max: opts.poolSize,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
        if (oid === PG_INT8 || oid === PG_NUMERIC) return (v: string) => Number(v);
        return pg.types.getTypeParser(oid, format);
      }) as typeof pg.types.getTypeParser,
    },
  });
  pool.on('error', (err) => opts.onPoolError?.(err));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  try {
    // Fail now, not at the first query, when the server cannot be reached.
    await sql`select 1`.execute(db);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return { db, dialect: 'postgres', sqlitePath: null, close: once(() => db.destroy()) };
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let p: Promise<void> | null = null;
  return () => (p ??= fn());
}

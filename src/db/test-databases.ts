/**
 * Test databases for every dialect, so that one suite runs against all of them:
 *
 *   forEachDialect((name, open) => {
 *     describe(`torrents (${name})`, () => {
 *       let t: TestDatabase;
 *       before(async () => { t = await open(); });
 *       after(() => t.close());
 *       it('...', async () => { await registerTorrent(t.db, ...); });
 *     });
 *   });
 *
 * Dialects: "sqlite-file" (a fresh temporary directory, the default database URL) and
 * "sqlite-memory" always; "postgres" when ESSAIM_TEST_PG_URL is set (e.g.
 * postgres://postgres@127.0.0.1:5432/test). Each PostgreSQL open() works in a schema of its own,
 * essaim_test_<random>, selected through the connection's search_path and dropped by close(), so
 * that concurrent runs and suites never see each other's rows.
 *
 * Not a test file itself: it never imports node:test.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql, type Kysely } from 'kysely';
import { openDatabase, type DialectName } from './database.js';
import { migrateToLatest } from './migrate.js';
import type { Database } from './schema.js';

export interface TestDatabase {
  db: Kysely<Database>;
  dialect: DialectName;
  /** "sqlite-file", "sqlite-memory" or "postgres". */
  name: string;
  /** Closes the database and removes its files or schema. */
  close(): Promise<void>;
}

export interface OpenTestDatabaseOptions {
  /** Apply the migrations (default true). */
  migrate?: boolean;
}

export type OpenTestDatabase = (opts?: OpenTestDatabaseOptions) => Promise<TestDatabase>;

export interface TestDialect {
  name: string;
  open: OpenTestDatabase;
}

/** The PostgreSQL server to test against, if any. */
export function testPostgresUrl(): string | undefined {
  const url = process.env.ESSAIM_TEST_PG_URL;
  return url ? url : undefined;
}

/** The dialects available in this run. */
export function testDialects(): TestDialect[] {
  const list: TestDialect[] = [
    { name: 'sqlite-file', open: (o) => openSqlite('sqlite-file', '', o) },
    { name: 'sqlite-memory', open: (o) => openSqlite('sqlite-memory', 'sqlite::memory:', o) },
  ];
  const pgUrl = testPostgresUrl();
  if (pgUrl) list.push({ name: 'postgres', open: (o) => openPostgres(pgUrl, o) });
  return list;
}

/** Calls fn once per available dialect, with a function that opens a fresh database of it. */
export function forEachDialect(fn: (name: string, open: OpenTestDatabase) => void): void {
  for (const d of testDialects()) fn(d.name, d.open);
}

async function openSqlite(name: string, url: string, opts: OpenTestDatabaseOptions = {}): Promise<TestDatabase> {
  const dataDir = mkdtempSync(join(tmpdir(), 'essaim-db-'));
  const opened = await openDatabase(url, { dataDir, poolSize: 1 });
  const close = async () => {
    await opened.close();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    if (opts.migrate ?? true) await migrateToLatest(opened.db);
  } catch (err) {
    await close();
    throw err;
  }
  return { db: opened.db, dialect: opened.dialect, name, close };
}

async function openPostgres(baseUrl: string, opts: OpenTestDatabaseOptions = {}): Promise<TestDatabase> {
  const schema = `essaim_test_${randomBytes(6).toString('hex')}`;
  const url = `${baseUrl}${baseUrl.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'essaim-db-'));
  const opened = await openDatabase(url, { dataDir, poolSize: 4 });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    try {
      await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(opened.db);
    } finally {
      await opened.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  };
  try {
    await sql`create schema ${sql.id(schema)}`.execute(opened.db);
    if (opts.migrate ?? true) await migrateToLatest(opened.db);
  } catch (err) {
    await close();
    throw err;
  }
  return { db: opened.db, dialect: 'postgres', name: 'postgres', close };
}

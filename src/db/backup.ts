/**
 * Online backup of the embedded SQLite database (`essaim backup <file>`): SQLite's backup API
 * copies the database page by page through its own connection while the site keeps running (WAL
 * mode: readers and the writer are not blocked), into a consistent snapshot. The copy is then
 * checked (`PRAGMA integrity_check`) and its schema version read back.
 *
 * PostgreSQL is backed up with its own tools (pg_dump / pg_basebackup; docs/operations.md).
 * Restoring a SQLite backup: stop the site, replace `<data_dir>/essaim.sqlite` with the file (and
 * remove its `-wal` and `-shm` companions), start the site.
 */
import { existsSync, renameSync, rmSync } from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import { resolveDatabaseUrl } from './database.js';

export interface BackupResult {
  path: string;
  bytes: number;
  pages: number;
  /** Migrations recorded in the copy. */
  migrations: number;
}

export class BackupError extends Error {}

/** Copies the SQLite database at `source` to `dest` (written to a temporary file, then renamed). */
export async function backupSqlite(source: string, dest: string, opts: { overwrite?: boolean } = {}): Promise<BackupResult> {
  if (!existsSync(source)) throw new BackupError(`no database at ${source}`);
  if (existsSync(dest) && !opts.overwrite) throw new BackupError(`${dest} exists already (use --force to replace it)`);
  const tmp = `${dest}.partial`;
  rmSync(tmp, { force: true });
  const src = new BetterSqlite3(source, { readonly: true, fileMustExist: true });
  try {
    src.pragma('busy_timeout = 5000');
    const r = await src.backup(tmp);
    const copy = new BetterSqlite3(tmp, { fileMustExist: true });
    let migrations = 0;
    try {
      const check = copy.pragma('integrity_check', { simple: true });
      if (check !== 'ok') throw new BackupError(`the copy failed its integrity check: ${String(check)}`);
      // A single file: the copy does not need a WAL to be read.
      copy.pragma('journal_mode = DELETE');
      const row = copy.prepare("select count(*) as n from sqlite_master where type = 'table' and name = 'kysely_migration'").get() as { n: number };
      if (row.n > 0) migrations = (copy.prepare('select count(*) as n from kysely_migration').get() as { n: number }).n;
    } finally {
      copy.close();
    }
    renameSync(tmp, dest);
    const size = (await import('node:fs')).statSync(dest).size;
    return { path: dest, bytes: size, pages: r.totalPages, migrations };
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  } finally {
    src.close();
  }
}

/** The SQLite file the configuration names, or a BackupError for PostgreSQL and in-memory databases. */
export function sqliteFileOf(databaseUrl: string, dataDir: string): string {
  const t = resolveDatabaseUrl(databaseUrl, dataDir);
  if (t.dialect === 'postgres') throw new BackupError('the database is PostgreSQL: back it up with pg_dump or pg_basebackup (docs/operations.md)');
  if (t.path === ':memory:') throw new BackupError('an in-memory database cannot be backed up');
  return t.path;
}

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { openDatabase, redactDatabaseUrl, resolveDatabaseUrl } from './database.js';
import { testPostgresUrl } from './test-databases.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'essaim-open-'));
}

describe('database URLs', () => {
  it('resolve to a dialect and a place', () => {
    assert.deepEqual(resolveDatabaseUrl('', '/srv/data'), { dialect: 'sqlite', path: join('/srv/data', 'essaim.sqlite') });
    assert.deepEqual(resolveDatabaseUrl('sqlite::memory:', 'd'), { dialect: 'sqlite', path: ':memory:' });
    assert.deepEqual(resolveDatabaseUrl('sqlite:/tmp/x.db', 'd'), { dialect: 'sqlite', path: '/tmp/x.db' });
    assert.deepEqual(resolveDatabaseUrl('sqlite:rel/x.db', 'd'), { dialect: 'sqlite', path: 'rel/x.db' });
    assert.deepEqual(resolveDatabaseUrl('postgres://u@h/db', 'd'), { dialect: 'postgres', connectionString: 'postgres://u@h/db' });
    assert.deepEqual(resolveDatabaseUrl('postgresql://h/db', 'd'), { dialect: 'postgres', connectionString: 'postgresql://h/db' });
    assert.throws(() => resolveDatabaseUrl('mysql://u:secret@h/db', 'd'), (err: Error) => {
      assert.match(err.message, /unsupported database URL/);
      assert.doesNotMatch(err.message, /secret/);
      return true;
    });
    assert.throws(() => resolveDatabaseUrl('sqlite:', 'd'));
  });

  it('hide passwords when shown', () => {
    assert.equal(redactDatabaseUrl('postgres://essaim:s3cr3t@db:5432/essaim'), 'postgres://essaim:<redacted>@db:5432/essaim');
    assert.equal(redactDatabaseUrl('postgres://essaim@db/essaim'), 'postgres://essaim@db/essaim');
  });
});

describe('openDatabase (SQLite)', () => {
  it('creates the data directory and <data_dir>/essaim.sqlite, in WAL mode with foreign keys', async () => {
    const root = tempDir();
    const dataDir = join(root, 'nested', 'data');
    const { db, dialect, close } = await openDatabase('', { dataDir, poolSize: 1 });
    try {
      assert.equal(dialect, 'sqlite');
      assert.ok(existsSync(join(dataDir, 'essaim.sqlite')));
      const pragma = async (name: string) =>
        Object.values((await sql<Record<string, unknown>>`${sql.raw(`pragma ${name}`)}`.execute(db)).rows[0]!)[0];
      assert.equal(await pragma('journal_mode'), 'wal');
      assert.equal(await pragma('foreign_keys'), 1);
      assert.equal(await pragma('busy_timeout'), 5000);
      assert.equal(await pragma('synchronous'), 1); // NORMAL
    } finally {
      await close();
      await close(); // twice is fine
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('opens sqlite:<path>, creating its directory', async () => {
    const root = tempDir();
    const file = join(root, 'elsewhere', 'x.sqlite');
    const { close } = await openDatabase(`sqlite:${file}`, { dataDir: join(root, 'data'), poolSize: 1 });
    await close();
    assert.ok(existsSync(file));
    assert.ok(existsSync(join(root, 'data')));
    rmSync(root, { recursive: true, force: true });
  });

  it('opens a private in-memory database', async () => {
    const root = tempDir();
    const a = await openDatabase('sqlite::memory:', { dataDir: root, poolSize: 1 });
    const b = await openDatabase('sqlite::memory:', { dataDir: root, poolSize: 1 });
    await sql`create table t (x integer)`.execute(a.db);
    await sql`create table t (x integer)`.execute(b.db); // no clash: separate databases
    await a.close();
    await b.close();
    rmSync(root, { recursive: true, force: true });
  });
});

describe('openDatabase (PostgreSQL)', () => {
  it('fails at once when the server cannot be reached', async () => {
    const root = tempDir();
    await assert.rejects(openDatabase('postgres://nobody@127.0.0.1:1/none', { dataDir: root, poolSize: 1 }));
    rmSync(root, { recursive: true, force: true });
  });

  const pgUrl = testPostgresUrl();
  it('parses int8 and numeric to numbers', { skip: pgUrl ? false : 'ESSAIM_TEST_PG_URL is not set' }, async () => {
    const root = tempDir();
    const { db, dialect, close } = await openDatabase(pgUrl!, { dataDir: root, poolSize: 2 });
    try {
      assert.equal(dialect, 'postgres');
      const r = await sql<{ a: unknown; b: unknown; c: unknown; d: unknown }>`
        select cast(5000000000123 as bigint) as a, cast(12.5 as numeric) as b, count(*) as c, sum(cast(2 as bigint)) as d
        from (values (1), (2)) as v`.execute(db);
      assert.deepEqual(r.rows[0], { a: 5000000000123, b: 12.5, c: 2, d: 4 });
    } finally {
      await close();
      rmSync(root, { recursive: true, force: true });
    }
  });
});

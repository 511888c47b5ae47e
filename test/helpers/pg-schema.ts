/**
 * A PostgreSQL schema of its own for a multi-process test: every node connects with a URL whose
 * search_path is that schema, so that concurrent runs never see each other's rows. `drop()`
 * removes it. (src/db/test-databases.ts does the same for in-process repository tests.)
 */
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { sql } from 'kysely';
import { openDatabase } from '../../src/db/database.js';

export interface TestSchema {
  /** The database URL selecting the schema (give it to every node). */
  url: string;
  drop(): Promise<void>;
}

export async function createTestSchema(baseUrl: string, label: string): Promise<TestSchema> {
  const schema = `essaim_${label}_${randomBytes(5).toString('hex')}`;
  const url = `${baseUrl}${baseUrl.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  const admin = await openDatabase(baseUrl, { dataDir: tmpdir(), poolSize: 1 });
  try {
    await sql`create schema ${sql.id(schema)}`.execute(admin.db);
  } finally {
    await admin.close();
  }
  return {
    url,
    async drop() {
      const a = await openDatabase(baseUrl, { dataDir: tmpdir(), poolSize: 1 });
      try {
        await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(a.db);
      } finally {
        await a.close();
      }
    },
  };
}

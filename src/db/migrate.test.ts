/**
 * Migrations on PostgreSQL while other sessions create and drop schemas: each database lives in a
 * schema of its own (tests, or several sites on one server), and migrating one must not depend on
 * the others. Kysely's own introspector read every schema and failed with 'schema "…" does not
 * exist' when one was dropped during the migration (seen in CI); migrate.ts asks about its own
 * schema only.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { sql } from 'kysely';
import { openDatabase } from './database.js';
import { migrateToLatest, migrationStatus } from './migrate.js';
import { testPostgresUrl } from './test-databases.js';

const pgUrl = testPostgresUrl();

describe('migrations on PostgreSQL next to schemas being dropped', { skip: pgUrl ? false : 'ESSAIM_TEST_PG_URL not set' }, () => {
  it('migrate fresh schemas while another session creates and drops schemas with tables in a loop', async () => {
    const base = pgUrl!;
    const admin = await openDatabase(base, { dataDir: tmpdir(), poolSize: 2 });
    const prefix = `essaim_churn_${randomBytes(4).toString('hex')}`;
    let stop = false;
    let churned = 0;
    // Schemas with serial columns, so that an all-schema introspection has names to resolve.
    const churn = (async () => {
      for (let i = 0; !stop && i < 2000; i++) {
        const s = `${prefix}_${i}`;
        await sql`create schema ${sql.id(s)}`.execute(admin.db);
        for (let t = 0; t < 8; t++) await sql`create table ${sql.id(s, `t${t}`)} (id serial primary key, v text)`.execute(admin.db);
        await sql`drop schema ${sql.id(s)} cascade`.execute(admin.db);
        churned++;
      }
    })();
    const made: string[] = [];
    try {
      for (let k = 0; k < 6; k++) {
        const schema = `essaim_migrate_${randomBytes(5).toString('hex')}`;
        made.push(schema);
        await sql`create schema ${sql.id(schema)}`.execute(admin.db);
        const url = `${base}${base.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
        const db = await openDatabase(url, { dataDir: tmpdir(), poolSize: 2 });
        try {
          const applied = await migrateToLatest(db.db);
          assert.ok(applied.length > 0, `migrations applied in ${schema}`);
          const status = await migrationStatus(db.db);
          assert.ok(status.every((m) => m.executedAt !== null), 'every migration recorded as applied');
          assert.deepEqual(await migrateToLatest(db.db), [], 'a second run has nothing to do');
        } finally {
          await db.close();
        }
      }
    } finally {
      stop = true;
      await churn;
      for (const s of made) await sql`drop schema if exists ${sql.id(s)} cascade`.execute(admin.db);
      await admin.close();
    }
    assert.ok(churned > 0, 'the other session did create and drop schemas meanwhile');
  });
});

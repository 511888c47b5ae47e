/**
 * Migration 0005: the programmatic APIs (#5) and several nodes (#6).
 *
 * - `api_token`: personal API tokens (scopes read / upload) and the tokens T411's `/auth` call
 *   issues; only the SHA-256 of a token is kept, with a short hint to tell tokens apart.
 * - `newznab_category`: the Torznab category of each site category, edited by administrators
 *   (a category without a row uses the default mapping computed from the taxonomy).
 * - `job_lease`: which node runs a periodic job right now, so that on several web nodes each job
 *   runs once (a lease with an expiry, taken and renewed by compare-and-set).
 * - `user.totp_last_step`: the last TOTP time step a member used, so that a code used on one web
 *   node cannot be replayed on another (compare-and-set in the database).
 *
 * Frozen once released (see 0001).
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- migrations are typed against no schema */
import { PostgresIntrospector, type ColumnDefinitionBuilder, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.introspection instanceof PostgresIntrospector;
  const autoId = (c: ColumnDefinitionBuilder): ColumnDefinitionBuilder =>
    pg ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement();

  await db.schema
    .createTable('api_token')
    .addColumn('id', 'integer', autoId)
    .addColumn('user_id', 'integer', (c) => c.notNull().references('user.id').onDelete('cascade'))
    // 'personal' (made on the account page) or 't411' (issued by T411's /auth call).
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    // The last characters of the token, shown in the list so that the member can tell them apart.
    .addColumn('hint', 'text', (c) => c.notNull())
    // Space-separated scopes: read, upload.
    .addColumn('scopes', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_used_at', 'bigint')
    .addColumn('expires_at', 'bigint')
    .addColumn('revoked_at', 'bigint')
    .execute();
  await db.schema.createIndex('api_token_user_id_idx').on('api_token').columns(['user_id', 'kind']).execute();

  await db.schema
    .createTable('newznab_category')
    .addColumn('category_id', 'integer', (c) => c.primaryKey().references('category.id').onDelete('cascade'))
    .addColumn('newznab_id', 'integer', (c) => c.notNull())
    .execute();

  await db.schema.alterTable('user').addColumn('totp_last_step', 'bigint').execute();

  await db.schema
    .createTable('job_lease')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('holder', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of ['job_lease', 'newznab_category', 'api_token']) await db.schema.dropTable(t).execute();
  await db.schema.alterTable('user').dropColumn('totp_last_step').execute();
}

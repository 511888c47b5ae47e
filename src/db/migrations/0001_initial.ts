/**
 * Migration 0001: members, torrents and their swarms, per-member traffic, peer baselines, client
 * rules and applied ledger batches.
 *
 * Frozen: a migration never changes once released and never imports application code (it is
 * typed against no schema: Kysely<any>). Later changes go in new migrations.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- migrations are typed against no schema */
import { PostgresIntrospector, sql, type ColumnDefinitionBuilder, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.introspection instanceof PostgresIntrospector;
  /** An auto-assigned integer primary key on either dialect. */
  const autoId = (c: ColumnDefinitionBuilder): ColumnDefinitionBuilder =>
    pg ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement();
  const counter = (c: ColumnDefinitionBuilder): ColumnDefinitionBuilder => c.notNull().defaultTo(0);
  const lowerHex = (col: string, len: number) => sql`length(${sql.ref(col)}) = ${sql.lit(len)} and lower(${sql.ref(col)}) = ${sql.ref(col)}`;

  await db.schema
    .createTable('user')
    .addColumn('id', 'integer', autoId)
    .addColumn('username', 'text', (c) => c.notNull().unique())
    .addColumn('email', 'text', (c) => c.unique())
    .addColumn('password_hash', 'text')
    .addColumn('passkey', 'text', (c) => c.notNull().unique().check(lowerHex('passkey', 32)))
    .addColumn('rss_key', 'text', (c) => c.notNull().unique().check(lowerHex('rss_key', 32)))
    .addColumn('role', 'text', (c) =>
      c.notNull().defaultTo('member').check(sql`role in ('member', 'uploader', 'moderator', 'supermod', 'admin')`),
    )
    .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1).check(sql`enabled in (0, 1)`))
    .addColumn('disabled_reason', 'text')
    .addColumn('uploaded', 'bigint', counter)
    .addColumn('downloaded', 'bigint', counter)
    .addColumn('raw_uploaded', 'bigint', counter)
    .addColumn('raw_downloaded', 'bigint', counter)
    .addColumn('seed_time', 'bigint', counter)
    .addColumn('leech_time', 'bigint', counter)
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  // Usernames are also unique regardless of case ("Alice" and "alice" are the same member).
  await db.schema
    .createIndex('user_username_lower_idx')
    .on('user')
    .unique()
    .expression(sql`lower(username)`)
    .execute();

  await db.schema
    .createTable('torrent')
    .addColumn('id', 'integer', autoId)
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('info_hash_v1', 'text', (c) => c.unique().check(lowerHex('info_hash_v1', 40)))
    .addColumn('info_hash_v2', 'text', (c) => c.unique().check(lowerHex('info_hash_v2', 64)))
    .addColumn('size', 'bigint', counter)
    .addColumn('status', 'text', (c) =>
      c.notNull().defaultTo('active').check(sql`status in ('active', 'pending', 'deleted')`),
    )
    .addColumn('deleted_reason', 'text')
    .addColumn('deleted_at', 'bigint')
    .addColumn('upload_factor', 'double precision', (c) => c.notNull().defaultTo(1))
    .addColumn('download_factor', 'double precision', (c) => c.notNull().defaultTo(1))
    .addColumn('uploader_id', 'integer', (c) => c.references('user.id').onDelete('set null'))
    .addColumn('times_completed', 'bigint', counter)
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addCheckConstraint('torrent_has_info_hash', sql`info_hash_v1 is not null or info_hash_v2 is not null`)
    .execute();
  await db.schema.createIndex('torrent_uploader_id_idx').on('torrent').column('uploader_id').execute();

  await db.schema
    .createTable('torrent_swarm')
    .addColumn('info_hash', 'text', (c) => c.primaryKey().check(lowerHex('info_hash', 40)))
    .addColumn('torrent_id', 'integer', (c) => c.notNull().references('torrent.id').onDelete('cascade'))
    .addColumn('version', 'integer', (c) => c.notNull().check(sql`version in (1, 2)`))
    .execute();
  await db.schema.createIndex('torrent_swarm_torrent_id_idx').on('torrent_swarm').column('torrent_id').execute();

  await db.schema
    .createTable('user_torrent')
    .addColumn('user_id', 'integer', (c) => c.notNull().references('user.id').onDelete('cascade'))
    .addColumn('torrent_id', 'integer', (c) => c.notNull().references('torrent.id').onDelete('cascade'))
    .addColumn('uploaded', 'bigint', counter)
    .addColumn('downloaded', 'bigint', counter)
    .addColumn('raw_uploaded', 'bigint', counter)
    .addColumn('raw_downloaded', 'bigint', counter)
    .addColumn('seed_time', 'bigint', counter)
    .addColumn('leech_time', 'bigint', counter)
    .addColumn('announces', 'bigint', counter)
    .addColumn('completed_at', 'bigint')
    .addColumn('first_seen_at', 'bigint', (c) => c.notNull())
    .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('user_torrent_pk', ['user_id', 'torrent_id'])
    .execute();
  await db.schema.createIndex('user_torrent_torrent_id_idx').on('user_torrent').column('torrent_id').execute();

  // The crash-safety baselines are rewritten at every ledger flush, one row per announcing peer:
  // the table is kept as cheap to write as possible. No foreign keys (a check per row on two
  // parents doubled the cost of an upsert; rows of gone members or torrents are pruned by age)
  // and no secondary index (pruning and the start-up load scan it). On SQLite the rows live in
  // the primary key's b-tree (WITHOUT ROWID): one b-tree write per upsert instead of two.
  let baselines = db.schema
    .createTable('peer_baseline')
    .addColumn('user_id', 'integer', (c) => c.notNull())
    .addColumn('torrent_id', 'integer', (c) => c.notNull())
    .addColumn('peer_id', 'text', (c) => c.notNull())
    .addColumn('uploaded', 'bigint', (c) => c.notNull())
    .addColumn('downloaded', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('peer_baseline_pk', ['user_id', 'torrent_id', 'peer_id']);
  if (!pg) baselines = baselines.modifyEnd(sql`without rowid`);
  await baselines.execute();

  await db.schema
    .createTable('client_rule')
    .addColumn('id', 'integer', autoId)
    .addColumn('prefix', 'text', (c) => c.notNull().check(sql`length(prefix) > 0`))
    .addColumn('action', 'text', (c) => c.notNull().check(sql`action in ('allow', 'deny')`))
    .addColumn('note', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('ledger_batch')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('applied_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('ledger_batch_applied_at_idx').on('ledger_batch').column('applied_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['ledger_batch', 'client_rule', 'peer_baseline', 'user_torrent', 'torrent_swarm', 'torrent', 'user']) {
    await db.schema.dropTable(table).execute();
  }
}

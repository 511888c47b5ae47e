/**
 * Migration 0002: the directory website (#3): categories and typed terms, torrent metadata
 * (description, NFO, files, terms, stored metainfo), full-text search, sessions and one-time
 * tokens, TOTP recovery codes, bookmarks, saved and recent searches, hourly traffic per member,
 * and site settings.
 *
 * Frozen once released (see 0001). Categories, term types and terms take their ids from the
 * application (stable ids, as T411 had: one id space for parents and subcategories).
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- migrations are typed against no schema */
import { PostgresIntrospector, sql, type ColumnDefinitionBuilder, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.introspection instanceof PostgresIntrospector;
  const autoId = (c: ColumnDefinitionBuilder): ColumnDefinitionBuilder =>
    pg ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement();
  const counter = (c: ColumnDefinitionBuilder): ColumnDefinitionBuilder => c.notNull().defaultTo(0);
  const bool = (name: string, dflt: 0 | 1) => (c: ColumnDefinitionBuilder): ColumnDefinitionBuilder =>
    c.notNull().defaultTo(dflt).check(sql`${sql.ref(name)} in (0, 1)`);
  const blob = pg ? sql`bytea` : sql`blob`;

  // --- members -------------------------------------------------------------------------------
  const userColumns: Array<[string, any, (c: ColumnDefinitionBuilder) => ColumnDefinitionBuilder]> = [
    ['privacy', 'text', (c) => c.notNull().defaultTo('normal').check(sql`privacy in ('low', 'normal', 'strong')`)],
    ['locale', 'text', (c) => c.check(sql`locale in ('en', 'fr')`)],
    ['title', 'text', (c) => c],
    ['totp_secret', 'text', (c) => c],
    ['totp_enabled', 'integer', bool('totp_enabled', 0)],
    ['email_verified', 'integer', bool('email_verified', 0)],
    ['last_login_at', 'bigint', (c) => c],
    ['last_seen_at', 'bigint', (c) => c],
  ];
  for (const [name, type, build] of userColumns) {
    await db.schema.alterTable('user').addColumn(name, type, build).execute();
  }

  // --- catalogue -----------------------------------------------------------------------------
  await db.schema
    .createTable('category')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('parent_id', 'integer', (c) => c.references('category.id').onDelete('restrict'))
    .addColumn('slug', 'text', (c) => c.notNull().unique())
    .addColumn('icon', 'text', (c) => c.notNull())
    .addColumn('name_en', 'text', (c) => c.notNull())
    .addColumn('name_fr', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', counter)
    .addColumn('adult', 'integer', bool('adult', 0))
    .execute();
  await db.schema.createIndex('category_parent_id_idx').on('category').column('parent_id').execute();

  await db.schema
    .createTable('term_type')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('name_en', 'text', (c) => c.notNull())
    .addColumn('name_fr', 'text', (c) => c.notNull())
    .addColumn('mode', 'text', (c) => c.notNull().check(sql`mode in ('single', 'multi')`))
    .addColumn('position', 'integer', counter)
    .addColumn('deprecated', 'integer', bool('deprecated', 0))
    .execute();

  await db.schema
    .createTable('category_term_type')
    .addColumn('category_id', 'integer', (c) => c.notNull().references('category.id').onDelete('cascade'))
    .addColumn('term_type_id', 'integer', (c) => c.notNull().references('term_type.id').onDelete('cascade'))
    .addColumn('position', 'integer', counter)
    .addPrimaryKeyConstraint('category_term_type_pk', ['category_id', 'term_type_id'])
    .execute();

  await db.schema
    .createTable('term')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('term_type_id', 'integer', (c) => c.notNull().references('term_type.id').onDelete('cascade'))
    .addColumn('name_en', 'text', (c) => c.notNull())
    .addColumn('name_fr', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', counter)
    .addColumn('deprecated', 'integer', bool('deprecated', 0))
    .execute();
  await db.schema.createIndex('term_term_type_id_idx').on('term').column('term_type_id').execute();

  // --- torrents ------------------------------------------------------------------------------
  const torrentColumns: Array<[string, any, (c: ColumnDefinitionBuilder) => ColumnDefinitionBuilder]> = [
    ['slug', 'text', (c) => c],
    ['category_id', 'integer', (c) => c.references('category.id').onDelete('set null')],
    ['description', 'text', (c) => c.notNull().defaultTo('')],
    ['description_format', 'text', (c) => c.notNull().defaultTo('bbcode').check(sql`description_format in ('bbcode', 'markdown')`)],
    ['nfo', 'text', (c) => c],
    ['anonymous', 'integer', bool('anonymous', 0)],
    ['verified', 'integer', bool('verified', 0)],
    ['file_count', 'integer', counter],
    ['comment_count', 'integer', counter],
    // Swarm counts copied from the tracker's memory by a periodic job, for sorting and for
    // processes without a tracker; pages overlay the live counts when the tracker is local.
    ['seeders', 'integer', counter],
    ['leechers', 'integer', counter],
    ['updated_at', 'bigint', (c) => c],
  ];
  for (const [name, type, build] of torrentColumns) {
    await db.schema.alterTable('torrent').addColumn(name, type, build).execute();
  }
  // Listing sorts and filters (every sortable column, most listings filter on status).
  for (const col of ['created_at', 'size', 'seeders', 'leechers', 'times_completed', 'comment_count', 'name']) {
    await db.schema.createIndex(`torrent_status_${col}_idx`).on('torrent').columns(['status', col]).execute();
  }
  await db.schema.createIndex('torrent_category_created_idx').on('torrent').columns(['category_id', 'created_at']).execute();

  await db.schema
    .createTable('torrent_metainfo')
    .addColumn('torrent_id', 'integer', (c) => c.primaryKey().references('torrent.id').onDelete('cascade'))
    // The .torrent as the site stores it: private=1, the site's source tag, no announce URL.
    .addColumn('data', blob, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('torrent_file')
    .addColumn('torrent_id', 'integer', (c) => c.notNull().references('torrent.id').onDelete('cascade'))
    .addColumn('idx', 'integer', (c) => c.notNull())
    .addColumn('path', 'text', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('torrent_file_pk', ['torrent_id', 'idx'])
    .execute();

  await db.schema
    .createTable('torrent_term')
    .addColumn('torrent_id', 'integer', (c) => c.notNull().references('torrent.id').onDelete('cascade'))
    .addColumn('term_id', 'integer', (c) => c.notNull().references('term.id').onDelete('cascade'))
    .addColumn('term_type_id', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('torrent_term_pk', ['torrent_id', 'term_id'])
    .execute();
  await db.schema.createIndex('torrent_term_term_idx').on('torrent_term').columns(['term_id', 'torrent_id']).execute();

  // Full-text search. The indexed text is normalised by the application (lowercase, accents
  // removed), so that both engines match "serie" to "Série" the same way.
  if (pg) {
    await db.schema
      .createTable('torrent_search')
      .addColumn('torrent_id', 'integer', (c) => c.primaryKey().references('torrent.id').onDelete('cascade'))
      .addColumn('document', sql`tsvector`, (c) => c.notNull())
      .execute();
    await sql`create index torrent_search_document_idx on torrent_search using gin (document)`.execute(db);
  } else {
    // rowid = torrent id; contentless (the text lives in torrent and torrent_file).
    await sql`create virtual table torrent_search using fts5(
      name, description, files, uploader,
      content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 2', prefix='2 3'
    )`.execute(db);
  }

  // --- accounts ------------------------------------------------------------------------------
  await db.schema
    .createTable('session')
    // SHA-256 of the cookie's token, hex: a database leak does not leak live sessions.
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'integer', (c) => c.notNull().references('user.id').onDelete('cascade'))
    .addColumn('persistent', 'integer', bool('persistent', 0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('ip', 'text')
    .addColumn('user_agent', 'text')
    .execute();
  await db.schema.createIndex('session_user_id_idx').on('session').column('user_id').execute();
  await db.schema.createIndex('session_expires_at_idx').on('session').column('expires_at').execute();

  await db.schema
    .createTable('auth_token')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('purpose', 'text', (c) => c.notNull().check(sql`purpose in ('password_reset', 'setup', 'email_change', 'email_verify')`))
    .addColumn('user_id', 'integer', (c) => c.references('user.id').onDelete('cascade'))
    .addColumn('data', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('used_at', 'bigint')
    .execute();
  await db.schema.createIndex('auth_token_user_id_idx').on('auth_token').column('user_id').execute();

  await db.schema
    .createTable('recovery_code')
    .addColumn('user_id', 'integer', (c) => c.notNull().references('user.id').onDelete('cascade'))
    .addColumn('code_hash', 'text', (c) => c.notNull())
    .addColumn('used_at', 'bigint')
    .addPrimaryKeyConstraint('recovery_code_pk', ['user_id', 'code_hash'])
    .execute();

  // --- members' lists ------------------------------------------------------------------------
  await db.schema
    .createTable('bookmark')
    .addColumn('id', 'integer', autoId)
    .addColumn('user_id', 'integer', (c) => c.notNull().references('user.id').onDelete('cascade'))
    .addColumn('torrent_id', 'integer', (c) => c.notNull().references('torrent.id').onDelete('cascade'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('bookmark_user_torrent_uq', ['user_id', 'torrent_id'])
    .execute();
  await db.schema.createIndex('bookmark_torrent_id_idx').on('bookmark').column('torrent_id').execute();

  await db.schema
    .createTable('saved_search')
    .addColumn('id', 'integer', autoId)
    .addColumn('user_id', 'integer', (c) => c.notNull().references('user.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    // The listing's query string (q, category, terms, sort), re-run as is.
    .addColumn('query', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('saved_search_user_name_uq', ['user_id', 'name'])
    .execute();

  await db.schema
    .createTable('search_history')
    .addColumn('id', 'integer', autoId)
    .addColumn('user_id', 'integer', (c) => c.notNull().references('user.id').onDelete('cascade'))
    .addColumn('query', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('search_history_user_idx').on('search_history').columns(['user_id', 'created_at']).execute();

  // Credited traffic per member and hour (written by the ledger flush in the same transaction as
  // the totals): the profile's last-24-hours figures and daily chart. No foreign key, as for
  // peer_baseline: rows of gone members are pruned by age.
  let traffic = db.schema
    .createTable('user_traffic_hour')
    .addColumn('user_id', 'integer', (c) => c.notNull())
    .addColumn('hour', 'integer', (c) => c.notNull())
    .addColumn('uploaded', 'bigint', counter)
    .addColumn('downloaded', 'bigint', counter)
    .addPrimaryKeyConstraint('user_traffic_hour_pk', ['user_id', 'hour']);
  if (!pg) traffic = traffic.modifyEnd(sql`without rowid`);
  await traffic.execute();

  await db.schema
    .createTable('site_setting')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    'site_setting', 'user_traffic_hour', 'search_history', 'saved_search', 'bookmark', 'recovery_code', 'auth_token',
    'session', 'torrent_search', 'torrent_term', 'torrent_file', 'torrent_metainfo', 'term', 'category_term_type',
    'term_type',
  ]) {
    await db.schema.dropTable(table).execute();
  }
  for (const idx of ['created_at', 'size', 'seeders', 'leechers', 'times_completed', 'comment_count', 'name']) {
    await db.schema.dropIndex(`torrent_status_${idx}_idx`).execute();
  }
  await db.schema.dropIndex('torrent_category_created_idx').execute();
  for (const col of ['slug', 'category_id', 'description', 'description_format', 'nfo', 'anonymous', 'verified', 'file_count', 'comment_count', 'seeders', 'leechers', 'updated_at']) {
    await db.schema.alterTable('torrent').dropColumn(col).execute();
  }
  await db.schema.dropTable('category').execute();
  for (const col of ['privacy', 'locale', 'title', 'totp_secret', 'totp_enabled', 'email_verified', 'last_login_at', 'last_seen_at']) {
    await db.schema.alterTable('user').dropColumn(col).execute();
  }
}

/**
 * Migration 0004: semi-private rules, staff and moderation, lawful operation and the community
 * (#4): member classes, permissions, invites and applications, login IPs, bans and warnings,
 * freeleech windows and tokens, hit-and-run tracking, reports, the hash-chained audit log, the
 * info-hash blocklist, notices and counter-notices, comments, thanks, ratings, requests with
 * bounties, private messages, friends, news, notifications.
 *
 * Frozen once released (see 0001).
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
  const userRef = (c: ColumnDefinitionBuilder) => c.references('user.id').onDelete('set null');
  const userRefNotNull = (c: ColumnDefinitionBuilder) => c.notNull().references('user.id').onDelete('cascade');
  const torrentRef = (c: ColumnDefinitionBuilder) => c.notNull().references('torrent.id').onDelete('cascade');

  // --- members -------------------------------------------------------------------------------
  const userColumns: Array<[string, any, (c: ColumnDefinitionBuilder) => ColumnDefinitionBuilder]> = [
    // The member class on the ladder (member_class.id); promotions and demotions by a job.
    ['class', 'text', (c) => c.notNull().defaultTo('member')],
    ['invited_by', 'integer', userRef],
    ['invites_left', 'integer', counter],
    ['freeleech_tokens', 'integer', counter],
    // Ratio rule: when the member entered the ratio watch (null: not watched), and whether the
    // tracker refuses their downloads (seeding stays allowed).
    ['ratio_watch_since', 'bigint', (c) => c],
    ['download_refused', 'integer', bool('download_refused', 0)],
    ['download_refused_reason', 'text', (c) => c],
    // Account deletion keeps a pseudonymous row (audit rows, others' history) with personal data erased.
    ['deleted_at', 'bigint', (c) => c],
    // Staff notes and the avatar/profile fields the community pages show.
    ['profile_text', 'text', (c) => c],
  ];
  for (const [name, type, build] of userColumns) await db.schema.alterTable('user').addColumn(name, type, build).execute();
  await db.schema.createIndex('user_invited_by_idx').on('user').column('invited_by').execute();
  await db.schema.createIndex('user_last_seen_at_idx').on('user').column('last_seen_at').execute();

  await db.schema
    .createTable('member_class')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name_en', 'text', (c) => c.notNull())
    .addColumn('name_fr', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull().unique())
    // Promotion thresholds (all must hold); the member keeps the highest class they qualify for.
    .addColumn('min_uploaded', 'bigint', counter)
    .addColumn('min_ratio', 'double precision', counter)
    .addColumn('min_age_days', 'integer', counter)
    .addColumn('invites_per_month', 'integer', counter)
    .addColumn('hnr_immune', 'integer', bool('hnr_immune', 0))
    .execute();

  // Permissions: named strings granted to roles, with per-member overrides (granted 1 or revoked 0).
  await db.schema
    .createTable('role_permission')
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('permission', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('role_permission_pk', ['role', 'permission'])
    .execute();
  await db.schema
    .createTable('user_permission')
    .addColumn('user_id', 'integer', userRefNotNull)
    .addColumn('permission', 'text', (c) => c.notNull())
    .addColumn('granted', 'integer', bool('granted', 1))
    .addPrimaryKeyConstraint('user_permission_pk', ['user_id', 'permission'])
    .execute();

  // --- joining -------------------------------------------------------------------------------
  await db.schema
    .createTable('invite')
    .addColumn('id', 'integer', autoId)
    .addColumn('inviter_id', 'integer', userRefNotNull)
    .addColumn('code_hash', 'text', (c) => c.notNull().unique())
    .addColumn('email', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('used_by', 'integer', userRef)
    .addColumn('used_at', 'bigint')
    .addColumn('revoked_at', 'bigint')
    .execute();
  await db.schema.createIndex('invite_inviter_idx').on('invite').column('inviter_id').execute();

  await db.schema
    .createTable('application')
    .addColumn('id', 'integer', autoId)
    .addColumn('username', 'text', (c) => c.notNull())
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('password_hash', 'text', (c) => c.notNull())
    // JSON: [{ question, answer }].
    .addColumn('answers', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('pending').check(sql`status in ('pending', 'accepted', 'rejected')`))
    .addColumn('reviewer_id', 'integer', userRef)
    .addColumn('review_note', 'text')
    .addColumn('ip', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('decided_at', 'bigint')
    .execute();
  await db.schema.createIndex('application_status_idx').on('application').columns(['status', 'created_at']).execute();

  await db.schema
    .createTable('refused_email_domain')
    .addColumn('domain', 'text', (c) => c.primaryKey())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  // IP addresses members logged in or signed up from (accounts per IP; kept for a configurable
  // number of days, then deleted).
  await db.schema
    .createTable('login_ip')
    .addColumn('user_id', 'integer', userRefNotNull)
    .addColumn('ip', 'text', (c) => c.notNull())
    .addColumn('first_at', 'bigint', (c) => c.notNull())
    .addColumn('last_at', 'bigint', (c) => c.notNull())
    .addColumn('signup', 'integer', bool('signup', 0))
    .addPrimaryKeyConstraint('login_ip_pk', ['user_id', 'ip'])
    .execute();
  await db.schema.createIndex('login_ip_ip_idx').on('login_ip').columns(['ip', 'last_at']).execute();

  // --- discipline ----------------------------------------------------------------------------
  await db.schema
    .createTable('ip_ban')
    .addColumn('id', 'integer', autoId)
    .addColumn('cidr', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('created_by', 'integer', userRef)
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint')
    .execute();

  await db.schema
    .createTable('user_warning')
    .addColumn('id', 'integer', autoId)
    .addColumn('user_id', 'integer', userRefNotNull)
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('manual', 'hnr', 'ratio', 'ban')`))
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('created_by', 'integer', userRef)
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint')
    .addColumn('revoked_at', 'bigint')
    .addColumn('revoked_by', 'integer', userRef)
    .execute();
  await db.schema.createIndex('user_warning_user_idx').on('user_warning').columns(['user_id', 'created_at']).execute();

  // --- sharing rules -------------------------------------------------------------------------
  const torrentColumns: Array<[string, any, (c: ColumnDefinitionBuilder) => ColumnDefinitionBuilder]> = [
    // Per-torrent multipliers (upload_factor/download_factor of 0001) end at factors_until.
    ['factors_until', 'bigint', (c) => c],
    ['moderated_by', 'integer', userRef],
    ['moderated_at', 'bigint', (c) => c],
    ['moderation_note', 'text', (c) => c],
    ['merged_into', 'integer', (c) => c.references('torrent.id').onDelete('set null')],
    ['thanks_count', 'integer', counter],
    ['rating_sum', 'integer', counter],
    ['rating_count', 'integer', counter],
  ];
  for (const [name, type, build] of torrentColumns) await db.schema.alterTable('torrent').addColumn(name, type, build).execute();

  await db.schema
    .createTable('freeleech_window')
    .addColumn('id', 'integer', autoId)
    .addColumn('starts_at', 'bigint', (c) => c.notNull())
    .addColumn('ends_at', 'bigint', (c) => c.notNull())
    .addColumn('upload_factor', 'double precision', (c) => c.notNull().defaultTo(1))
    .addColumn('download_factor', 'double precision', (c) => c.notNull().defaultTo(0))
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('created_by', 'integer', userRef)
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addCheckConstraint('freeleech_window_order', sql`ends_at > starts_at`)
    .execute();

  await db.schema
    .createTable('freeleech_token_use')
    .addColumn('user_id', 'integer', userRefNotNull)
    .addColumn('torrent_id', 'integer', torrentRef)
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('freeleech_token_use_pk', ['user_id', 'torrent_id'])
    .execute();

  // Hit-and-run: one row per (member, torrent) completed download under watch.
  await db.schema
    .createTable('hnr')
    .addColumn('user_id', 'integer', userRefNotNull)
    .addColumn('torrent_id', 'integer', torrentRef)
    .addColumn('completed_at', 'bigint', (c) => c.notNull())
    .addColumn('deadline', 'bigint', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c.notNull().defaultTo('watching').check(sql`status in ('watching', 'prewarned', 'satisfied', 'warned', 'exempt')`),
    )
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('hnr_pk', ['user_id', 'torrent_id'])
    .execute();
  await db.schema.createIndex('hnr_status_deadline_idx').on('hnr').columns(['status', 'deadline']).execute();

  // --- moderation ----------------------------------------------------------------------------
  await db.schema
    .createTable('report')
    .addColumn('id', 'integer', autoId)
    .addColumn('target_type', 'text', (c) => c.notNull().check(sql`target_type in ('torrent', 'comment', 'user', 'message', 'request')`))
    .addColumn('target_id', 'integer', (c) => c.notNull())
    .addColumn('reporter_id', 'integer', userRef)
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('open').check(sql`status in ('open', 'claimed', 'resolved')`))
    .addColumn('claimed_by', 'integer', userRef)
    .addColumn('resolution', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('report_status_idx').on('report').columns(['status', 'created_at']).execute();
  await db.schema
    .createTable('report_note')
    .addColumn('id', 'integer', autoId)
    .addColumn('report_id', 'integer', (c) => c.notNull().references('report.id').onDelete('cascade'))
    .addColumn('author_id', 'integer', userRef)
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  // Append-only; each row's hash covers its content and the previous row's hash.
  await db.schema
    .createTable('audit_log')
    .addColumn('id', 'integer', autoId)
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('actor_id', 'integer')
    // The actor's name at the time (a pseudonym once the account is deleted).
    .addColumn('actor_name', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('target_type', 'text')
    .addColumn('target_id', 'integer')
    .addColumn('reason', 'text')
    // JSON, secrets redacted.
    .addColumn('before', 'text')
    .addColumn('after', 'text')
    .addColumn('prev_hash', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull().unique())
    .execute();
  await db.schema.createIndex('audit_log_target_idx').on('audit_log').columns(['target_type', 'target_id']).execute();
  await db.schema.createIndex('audit_log_actor_idx').on('audit_log').columns(['actor_id', 'created_at']).execute();

  await db.schema
    .createTable('notification')
    .addColumn('id', 'integer', autoId)
    .addColumn('user_id', 'integer', userRefNotNull)
    .addColumn('kind', 'text', (c) => c.notNull())
    // JSON parameters of the message (torrent id, reason, ...).
    .addColumn('data', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('read_at', 'bigint')
    .execute();
  await db.schema.createIndex('notification_user_idx').on('notification').columns(['user_id', 'created_at']).execute();

  // --- lawful operation ----------------------------------------------------------------------
  await db.schema
    .createTable('infohash_block')
    // 40 hex (v1, or v2 truncated: what the tracker sees) or 64 hex (full v2).
    .addColumn('info_hash', 'text', (c) => c.primaryKey())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('notice_id', 'integer')
    .addColumn('created_by', 'integer', userRef)
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('notice')
    .addColumn('id', 'integer', autoId)
    .addColumn('claimant', 'text', (c) => c.notNull())
    .addColumn('contact', 'text', (c) => c.notNull())
    .addColumn('works', 'text', (c) => c.notNull())
    .addColumn('statement', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c.notNull().defaultTo('received').check(sql`status in ('received', 'reviewing', 'upheld', 'rejected', 'restored')`),
    )
    .addColumn('source', 'text', (c) => c.notNull().defaultTo('form').check(sql`source in ('form', 'api')`))
    .addColumn('reviewer_id', 'integer', userRef)
    .addColumn('decision_note', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('decided_at', 'bigint')
    .execute();
  await db.schema.createIndex('notice_status_idx').on('notice').columns(['status', 'created_at']).execute();
  await db.schema
    .createTable('notice_item')
    .addColumn('notice_id', 'integer', (c) => c.notNull().references('notice.id').onDelete('cascade'))
    .addColumn('idx', 'integer', (c) => c.notNull())
    // What the claimant gave: a torrent link or an info hash.
    .addColumn('given', 'text', (c) => c.notNull())
    .addColumn('torrent_id', 'integer', (c) => c.references('torrent.id').onDelete('set null'))
    .addColumn('info_hash', 'text')
    // The uploader at the time (repeat-infringer counts survive the torrent's deletion).
    .addColumn('uploader_id', 'integer', userRef)
    .addPrimaryKeyConstraint('notice_item_pk', ['notice_id', 'idx'])
    .execute();
  await db.schema.createIndex('notice_item_uploader_idx').on('notice_item').column('uploader_id').execute();
  await db.schema
    .createTable('counter_notice')
    .addColumn('id', 'integer', autoId)
    .addColumn('notice_id', 'integer', (c) => c.notNull().references('notice.id').onDelete('cascade'))
    .addColumn('user_id', 'integer', userRef)
    .addColumn('statement', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('received').check(sql`status in ('received', 'accepted', 'rejected')`))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('decided_at', 'bigint')
    .execute();

  // --- community -----------------------------------------------------------------------------
  await db.schema
    .createTable('comment')
    .addColumn('id', 'integer', autoId)
    .addColumn('torrent_id', 'integer', torrentRef)
    .addColumn('user_id', 'integer', userRef)
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('format', 'text', (c) => c.notNull().defaultTo('bbcode').check(sql`format in ('bbcode', 'markdown')`))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('edited_at', 'bigint')
    .addColumn('deleted_at', 'bigint')
    .addColumn('deleted_by', 'integer', userRef)
    .execute();
  await db.schema.createIndex('comment_torrent_idx').on('comment').columns(['torrent_id', 'created_at']).execute();

  await db.schema
    .createTable('thanks')
    .addColumn('torrent_id', 'integer', torrentRef)
    .addColumn('user_id', 'integer', userRefNotNull)
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('thanks_pk', ['torrent_id', 'user_id'])
    .execute();
  await db.schema
    .createTable('rating')
    .addColumn('torrent_id', 'integer', torrentRef)
    .addColumn('user_id', 'integer', userRefNotNull)
    .addColumn('score', 'integer', (c) => c.notNull().check(sql`score between 1 and 10`))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('rating_pk', ['torrent_id', 'user_id'])
    .execute();

  await db.schema
    .createTable('request')
    .addColumn('id', 'integer', autoId)
    .addColumn('user_id', 'integer', userRef)
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('category_id', 'integer', (c) => c.references('category.id').onDelete('set null'))
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('open').check(sql`status in ('open', 'filled', 'confirmed', 'closed')`))
    .addColumn('bounty', 'bigint', counter)
    .addColumn('filled_torrent_id', 'integer', (c) => c.references('torrent.id').onDelete('set null'))
    .addColumn('filled_by', 'integer', userRef)
    .addColumn('filled_at', 'bigint')
    .addColumn('confirmed_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('request_status_idx').on('request').columns(['status', 'created_at']).execute();
  await db.schema
    .createTable('request_bounty')
    .addColumn('id', 'integer', autoId)
    .addColumn('request_id', 'integer', (c) => c.notNull().references('request.id').onDelete('cascade'))
    .addColumn('user_id', 'integer', userRef)
    .addColumn('amount', 'bigint', (c) => c.notNull().check(sql`amount > 0`))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('message')
    .addColumn('id', 'integer', autoId)
    .addColumn('sender_id', 'integer', userRef)
    .addColumn('recipient_id', 'integer', userRefNotNull)
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('reply_to', 'integer', (c) => c.references('message.id').onDelete('set null'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('read_at', 'bigint')
    .addColumn('recipient_archived', 'integer', bool('recipient_archived', 0))
    .addColumn('recipient_deleted', 'integer', bool('recipient_deleted', 0))
    .addColumn('sender_deleted', 'integer', bool('sender_deleted', 0))
    .execute();
  await db.schema.createIndex('message_recipient_idx').on('message').columns(['recipient_id', 'created_at']).execute();
  await db.schema.createIndex('message_sender_idx').on('message').columns(['sender_id', 'created_at']).execute();

  await db.schema
    .createTable('friend')
    .addColumn('user_id', 'integer', userRefNotNull)
    .addColumn('friend_id', 'integer', userRefNotNull)
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('friend_pk', ['user_id', 'friend_id'])
    .execute();

  await db.schema
    .createTable('news')
    .addColumn('id', 'integer', autoId)
    .addColumn('author_id', 'integer', userRef)
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('locale', 'text', (c) => c.check(sql`locale in ('en', 'fr')`))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint')
    .execute();

  await db.schema
    .createTable('contact_message')
    .addColumn('id', 'integer', autoId)
    .addColumn('user_id', 'integer', userRef)
    .addColumn('email', 'text')
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('open').check(sql`status in ('open', 'answered', 'closed')`))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of [
    'contact_message', 'news', 'friend', 'message', 'request_bounty', 'request', 'rating', 'thanks', 'comment',
    'counter_notice', 'notice_item', 'notice', 'infohash_block', 'notification', 'audit_log', 'report_note', 'report',
    'hnr', 'freeleech_token_use', 'freeleech_window', 'user_warning', 'ip_ban', 'login_ip', 'refused_email_domain',
    'application', 'invite', 'user_permission', 'role_permission', 'member_class',
  ]) {
    await db.schema.dropTable(t).execute();
  }
}

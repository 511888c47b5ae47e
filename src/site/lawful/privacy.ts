/**
 * Members' personal data: the export of everything the site holds about a member (as JSON, from
 * /account/data) and the deletion of an account. (Login IP addresses are pruned after
 * `privacy.login_ip_days` by the joining job, src/site/joining/jobs.ts.)
 *
 * Export: the profile (with the passkey and RSS key, which are the member's own, but never the
 * password hash, the TOTP secret, recovery-code hashes or session token hashes), traffic, torrents
 * uploaded and torrent activity, bookmarks, saved searches and search history, comments, thanks
 * and ratings, requests and bounties, messages sent and received, friends, invites, login IPs,
 * sessions, notifications, warnings, reports filed, contact messages and counter-notices.
 *
 * Deletion keeps a row under a pseudonym (`deleted-<id>`) so that what others see stays
 * consistent (their conversations, comments, audit rows, the invite tree), and erases the rest:
 * email, password, passkey and RSS key (replaced by random values nobody knows), TOTP, profile
 * texts, sessions, tokens, bookmarks, searches, login IPs, friends, notifications, messages
 * received, torrent activity and hourly traffic. Torrents the member uploaded stay, shown as
 * anonymous. The account is disabled and the tracker forgets the old passkey at once.
 *
 * Audit rows are never rewritten (they are hash-chained): they refer to members by id, and the
 * member's row now holds the pseudonym; the deletion itself is audited under the pseudonym.
 */
import type { Kysely } from 'kysely';
import type { Database, User } from '../../db/schema.js';
import { countAdmins, newSecretKey } from '../../db/user.repository.js';
import { inTransaction } from '../../db/util.js';
import { indexTorrents } from '../search/indexer.js';
import type { LawfulSite } from './site.js';
import { audit } from '../staff/audit.js';

// --- export -------------------------------------------------------------------------------------

const FORMAT_VERSION = 1;

/** Everything the site holds about the member, as plain JSON-ready data. */
export async function exportUserData(db: Kysely<Database>, userId: number, now: number): Promise<Record<string, unknown> | null> {
  const u = await db.selectFrom('user').selectAll().where('id', '=', userId).executeTakeFirst();
  if (!u) return null;
  const inviter = u.invited_by !== null ? await db.selectFrom('user').select(['id', 'username']).where('id', '=', u.invited_by).executeTakeFirst() : undefined;
  const profile = {
    id: u.id,
    username: u.username,
    email: u.email,
    email_verified: u.email_verified === 1,
    role: u.role,
    class: u.class,
    enabled: u.enabled === 1,
    disabled_reason: u.disabled_reason,
    created_at: u.created_at,
    updated_at: u.updated_at,
    last_login_at: u.last_login_at,
    last_seen_at: u.last_seen_at,
    locale: u.locale,
    privacy: u.privacy,
    title: u.title,
    profile_text: u.profile_text,
    two_factor_enabled: u.totp_enabled === 1,
    passkey: u.passkey,
    rss_key: u.rss_key,
    invited_by: inviter ? { id: inviter.id, username: inviter.username } : null,
    invites_left: u.invites_left,
    freeleech_tokens: u.freeleech_tokens,
    ratio_watch_since: u.ratio_watch_since,
    download_refused: u.download_refused === 1,
    download_refused_reason: u.download_refused_reason,
  };
  const traffic = {
    uploaded: u.uploaded,
    downloaded: u.downloaded,
    raw_uploaded: u.raw_uploaded,
    raw_downloaded: u.raw_downloaded,
    seed_time: u.seed_time,
    leech_time: u.leech_time,
    hourly: await db.selectFrom('user_traffic_hour').select(['hour', 'uploaded', 'downloaded']).where('user_id', '=', userId).orderBy('hour').execute(),
  };
  const torrentsUploaded = await db
    .selectFrom('torrent')
    .select(['id', 'name', 'info_hash_v1', 'info_hash_v2', 'size', 'status', 'deleted_reason', 'category_id', 'anonymous', 'created_at', 'updated_at', 'times_completed'])
    .where('uploader_id', '=', userId)
    .orderBy('id')
    .execute();
  const torrentActivity = await db
    .selectFrom('user_torrent')
    .innerJoin('torrent', 'torrent.id', 'user_torrent.torrent_id')
    .select([
      'user_torrent.torrent_id',
      'torrent.name',
      'user_torrent.uploaded',
      'user_torrent.downloaded',
      'user_torrent.seed_time',
      'user_torrent.leech_time',
      'user_torrent.announces',
      'user_torrent.completed_at',
      'user_torrent.first_seen_at',
      'user_torrent.last_seen_at',
    ])
    .where('user_torrent.user_id', '=', userId)
    .orderBy('user_torrent.torrent_id')
    .execute();
  const bookmarks = await db
    .selectFrom('bookmark')
    .innerJoin('torrent', 'torrent.id', 'bookmark.torrent_id')
    .select(['bookmark.torrent_id', 'torrent.name', 'bookmark.created_at'])
    .where('bookmark.user_id', '=', userId)
    .orderBy('bookmark.created_at')
    .execute();
  const savedSearches = await db.selectFrom('saved_search').select(['name', 'query', 'created_at']).where('user_id', '=', userId).orderBy('id').execute();
  const searchHistory = await db.selectFrom('search_history').select(['query', 'created_at']).where('user_id', '=', userId).orderBy('id').execute();
  const comments = await db.selectFrom('comment').select(['id', 'torrent_id', 'body', 'format', 'created_at', 'edited_at', 'deleted_at']).where('user_id', '=', userId).orderBy('id').execute();
  const thanks = await db.selectFrom('thanks').select(['torrent_id', 'created_at']).where('user_id', '=', userId).orderBy('created_at').execute();
  const ratings = await db.selectFrom('rating').select(['torrent_id', 'score', 'created_at']).where('user_id', '=', userId).orderBy('created_at').execute();
  const requests = await db
    .selectFrom('request')
    .select(['id', 'title', 'description', 'category_id', 'status', 'bounty', 'filled_torrent_id', 'created_at'])
    .where('user_id', '=', userId)
    .orderBy('id')
    .execute();
  const bounties = await db.selectFrom('request_bounty').select(['request_id', 'amount', 'created_at']).where('user_id', '=', userId).orderBy('id').execute();
  const messageColumns = ['m.id', 'm.subject', 'm.body', 'm.reply_to', 'm.created_at', 'm.read_at'] as const;
  const messagesSent = await db
    .selectFrom('message as m')
    .leftJoin('user as r', 'r.id', 'm.recipient_id')
    .select([...messageColumns, 'm.recipient_id', 'r.username as recipient'])
    .where('m.sender_id', '=', userId)
    .where('m.sender_deleted', '=', 0)
    .orderBy('m.id')
    .execute();
  const messagesReceived = await db
    .selectFrom('message as m')
    .leftJoin('user as s', 's.id', 'm.sender_id')
    .select([...messageColumns, 'm.sender_id', 's.username as sender', 'm.recipient_archived'])
    .where('m.recipient_id', '=', userId)
    .where('m.recipient_deleted', '=', 0)
    .orderBy('m.id')
    .execute();
  const friends = await db
    .selectFrom('friend')
    .innerJoin('user', 'user.id', 'friend.friend_id')
    .select(['friend.friend_id', 'user.username', 'friend.created_at'])
    .where('friend.user_id', '=', userId)
    .orderBy('friend.created_at')
    .execute();
  const invites = await db
    .selectFrom('invite')
    .leftJoin('user', 'user.id', 'invite.used_by')
    .select(['invite.id', 'invite.email', 'invite.created_at', 'invite.expires_at', 'invite.used_at', 'invite.used_by', 'user.username as used_by_name', 'invite.revoked_at'])
    .where('invite.inviter_id', '=', userId)
    .orderBy('invite.id')
    .execute();
  const loginIps = await db.selectFrom('login_ip').select(['ip', 'first_at', 'last_at', 'signup']).where('user_id', '=', userId).orderBy('last_at', 'desc').execute();
  const sessions = await db
    .selectFrom('session')
    .select(['created_at', 'last_seen_at', 'expires_at', 'persistent', 'ip', 'user_agent'])
    .where('user_id', '=', userId)
    .orderBy('created_at')
    .execute();
  const notifications = await db.selectFrom('notification').select(['kind', 'data', 'created_at', 'read_at']).where('user_id', '=', userId).orderBy('id').execute();
  const warnings = await db.selectFrom('user_warning').select(['kind', 'reason', 'created_at', 'expires_at', 'revoked_at']).where('user_id', '=', userId).orderBy('id').execute();
  const reports = await db.selectFrom('report').select(['target_type', 'target_id', 'reason', 'status', 'created_at']).where('reporter_id', '=', userId).orderBy('id').execute();
  const contact = await db.selectFrom('contact_message').select(['subject', 'body', 'status', 'created_at']).where('user_id', '=', userId).orderBy('id').execute();
  const counterNotices = await db.selectFrom('counter_notice').select(['notice_id', 'statement', 'status', 'created_at', 'decided_at']).where('user_id', '=', userId).orderBy('id').execute();
  // API tokens: what they are for and when they were used; never their hash.
  const apiTokens = await db
    .selectFrom('api_token')
    .select(['kind', 'name', 'hint', 'scopes', 'created_at', 'last_used_at', 'expires_at', 'revoked_at'])
    .where('user_id', '=', userId)
    .orderBy('id')
    .execute();
  const tokens = await db.selectFrom('freeleech_token_use').select(['torrent_id', 'created_at', 'expires_at']).where('user_id', '=', userId).orderBy('created_at').execute();

  return {
    format: 'essaim-member-data',
    version: FORMAT_VERSION,
    exported_at: now,
    profile,
    traffic,
    torrents_uploaded: torrentsUploaded.map((t) => ({ ...t, anonymous: t.anonymous === 1 })),
    torrent_activity: torrentActivity,
    bookmarks,
    saved_searches: savedSearches,
    search_history: searchHistory,
    comments,
    thanks,
    ratings,
    requests,
    request_bounties: bounties,
    messages_sent: messagesSent,
    messages_received: messagesReceived.map((m) => ({ ...m, recipient_archived: m.recipient_archived === 1 })),
    friends,
    invites,
    login_ips: loginIps.map((l) => ({ ...l, signup: l.signup === 1 })),
    sessions: sessions.map((s) => ({ ...s, persistent: s.persistent === 1 })),
    api_tokens: apiTokens.map((a) => ({ ...a, scopes: a.scopes.split(' ') })),
    notifications: notifications.map((n) => ({ ...n, data: safeJson(n.data) })),
    warnings,
    reports_filed: reports,
    contact_messages: contact,
    counter_notices: counterNotices,
    freeleech_tokens_used: tokens,
  };
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s) as unknown;
  } catch {
    return s;
  }
}

// --- deletion -----------------------------------------------------------------------------------

export const PSEUDONYM_PREFIX = 'deleted-';

/** A free pseudonym for the member: deleted-<id>, or deleted-<id>-<n> if someone took that name. */
async function freePseudonym(db: Kysely<Database>, userId: number): Promise<string> {
  for (let n = 0; ; n++) {
    const name = n === 0 ? `${PSEUDONYM_PREFIX}${userId}` : `${PSEUDONYM_PREFIX}${userId}-${n}`;
    const taken = await db
      .selectFrom('user')
      .select('id')
      .where((eb) => eb(eb.fn('lower', ['username']), '=', name))
      .where('id', '!=', userId)
      .executeTakeFirst();
    if (!taken) return name;
  }
}

export type DeleteAccountResult = { ok: true; pseudonym: string } | { ok: false; error: 'not_found' | 'already_deleted' | 'last_admin' };

/**
 * Deletes the member's account (see the module comment). The caller checks the password and the
 * confirmation; this refuses the last enabled administrator (the site would have none).
 */
export async function deleteAccount(site: LawfulSite, userId: number): Promise<DeleteAccountResult> {
  const now = site.now();
  const r = await inTransaction(site.db, async (trx) => {
    const u: User | undefined = await trx.selectFrom('user').selectAll().where('id', '=', userId).executeTakeFirst();
    if (!u) return { ok: false as const, error: 'not_found' as const };
    if (u.deleted_at !== null) return { ok: false as const, error: 'already_deleted' as const };
    if (u.role === 'admin' && u.enabled === 1 && (await countAdmins(trx, { enabledOnly: true })) <= 1) return { ok: false as const, error: 'last_admin' as const };
    const pseudonym = await freePseudonym(trx, userId);
    await trx
      .updateTable('user')
      .set({
        username: pseudonym,
        email: null,
        email_verified: 0,
        password_hash: null,
        passkey: newSecretKey(),
        rss_key: newSecretKey(),
        totp_secret: null,
        totp_enabled: 0,
        title: null,
        profile_text: null,
        locale: null,
        privacy: 'strong',
        enabled: 0,
        disabled_reason: 'Account deleted',
        deleted_at: now,
        last_login_at: null,
        last_seen_at: null,
        updated_at: now,
      })
      .where('id', '=', userId)
      .execute();
    for (const table of [
      'session',
      'auth_token',
      'api_token',
      'recovery_code',
      'bookmark',
      'saved_search',
      'search_history',
      'login_ip',
      'user_permission',
      'notification',
      'freeleech_token_use',
      'hnr',
      'peer_baseline',
      'user_traffic_hour',
      'user_torrent',
    ] as const) {
      await trx.deleteFrom(table).where('user_id', '=', userId).execute();
    }
    await trx.deleteFrom('friend').where((eb) => eb.or([eb('user_id', '=', userId), eb('friend_id', '=', userId)])).execute();
    await trx.deleteFrom('message').where('recipient_id', '=', userId).execute();
    await trx.updateTable('message').set({ sender_deleted: 1 }).where('sender_id', '=', userId).execute();
    await trx.updateTable('invite').set({ revoked_at: now }).where('inviter_id', '=', userId).where('used_by', 'is', null).where('revoked_at', 'is', null).execute();
    const uploaded = await trx.selectFrom('torrent').select('id').where('uploader_id', '=', userId).where('anonymous', '=', 0).execute();
    if (uploaded.length > 0) await trx.updateTable('torrent').set({ anonymous: 1 }).where('uploader_id', '=', userId).execute();
    await audit(trx, {
      actorId: userId,
      actorName: pseudonym,
      action: 'user.delete_account',
      targetType: 'user',
      targetId: userId,
      reason: 'Deleted by the member',
      after: { username: pseudonym, enabled: 0, deleted_at: now, torrents_made_anonymous: uploaded.length },
      now,
    });
    return { ok: true as const, pseudonym, oldPasskey: u.passkey, uploaded: uploaded.map((t) => t.id) };
  });
  if (!r.ok) return r;
  try {
    await site.tracker.userChanged(userId, r.oldPasskey);
  } catch (err) {
    site.log.error({ err, userId }, 'telling the tracker about a deleted account failed');
  }
  if (r.uploaded.length > 0) {
    try {
      // The uploader's name leaves the search index with the anonymity.
      await indexTorrents(site.db, r.uploaded);
    } catch (err) {
      site.log.error({ err, userId }, 'reindexing the torrents of a deleted account failed');
    }
  }
  return { ok: true, pseudonym: r.pseudonym };
}

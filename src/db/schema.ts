/**
 * The database as Kysely sees it: one interface per table, named after the table (snake_case,
 * singular). These types describe the schema that src/db/migrations builds; a new migration that
 * changes a table changes its interface here too.
 *
 * Types that behave the same on SQLite and PostgreSQL: epoch seconds and byte counters are bigint
 * integers returned as JS numbers (PostgreSQL int8 is parsed to number in database.ts; counters
 * stay far below 2^53), booleans are integers 0/1, info hashes and peer ids are lowercase hex text.
 */
import type { Generated, Insertable, Selectable, Updateable } from 'kysely';

export const USER_ROLES = ['member', 'uploader', 'moderator', 'supermod', 'admin'] as const;
export type UserRole = (typeof USER_ROLES)[number];

export const TORRENT_STATUSES = ['active', 'pending', 'deleted'] as const;
export type TorrentStatus = (typeof TORRENT_STATUSES)[number];

export type ClientRuleAction = 'allow' | 'deny';

/** 0 or 1. */
export type IntBool = 0 | 1;

export interface UserTable {
  id: Generated<number>;
  username: string;
  email: string | null;
  password_hash: string | null;
  /** 32 lowercase hex characters. */
  passkey: string;
  /** 32 lowercase hex characters. */
  rss_key: string;
  role: Generated<UserRole>;
  enabled: Generated<IntBool>;
  disabled_reason: string | null;
  /** Credited bytes (after the torrents' factors). */
  uploaded: Generated<number>;
  downloaded: Generated<number>;
  /** Bytes as reported by the clients. */
  raw_uploaded: Generated<number>;
  raw_downloaded: Generated<number>;
  /** Seconds. */
  seed_time: Generated<number>;
  leech_time: Generated<number>;
  /** Epoch seconds. */
  created_at: number;
  updated_at: number;
  /** What other members see of this member (T411's privacy levels). */
  privacy: Generated<UserPrivacy>;
  /** Preferred language; null follows the browser. */
  locale: Locale | null;
  /** Custom title shown on the profile. */
  title: string | null;
  /** Base32 TOTP secret; set at enrolment, used once totp_enabled is 1. */
  totp_secret: string | null;
  totp_enabled: Generated<IntBool>;
  email_verified: Generated<IntBool>;
  last_login_at: number | null;
  last_seen_at: number | null;
}

export const USER_PRIVACY = ['low', 'normal', 'strong'] as const;
export type UserPrivacy = (typeof USER_PRIVACY)[number];
export const LOCALES = ['en', 'fr'] as const;
export type Locale = (typeof LOCALES)[number];
export type DescriptionFormat = 'bbcode' | 'markdown';

export interface TorrentTable {
  id: Generated<number>;
  name: string;
  /** SHA-1 of the info dictionary, 40 lowercase hex; null for a v2-only torrent. */
  info_hash_v1: string | null;
  /** Full SHA-256 of the info dictionary, 64 lowercase hex; null for a v1-only torrent. */
  info_hash_v2: string | null;
  /** Bytes. */
  size: Generated<number>;
  status: Generated<TorrentStatus>;
  deleted_reason: string | null;
  /** Epoch seconds. */
  deleted_at: number | null;
  upload_factor: Generated<number>;
  download_factor: Generated<number>;
  uploader_id: number | null;
  times_completed: Generated<number>;
  created_at: number;
  /** URL slug of the name (T411's rewritename). */
  slug: string | null;
  /** A subcategory. */
  category_id: number | null;
  description: Generated<string>;
  description_format: Generated<DescriptionFormat>;
  /** NFO text, already decoded from CP437. */
  nfo: string | null;
  anonymous: Generated<IntBool>;
  verified: Generated<IntBool>;
  file_count: Generated<number>;
  comment_count: Generated<number>;
  /** Copied from the tracker's memory by a periodic job (sorting; nodes without a tracker). */
  seeders: Generated<number>;
  leechers: Generated<number>;
  updated_at: number | null;
}

/** Parents (parent_id null) and subcategories share one id space. */
export interface CategoryTable {
  id: number;
  parent_id: number | null;
  slug: string;
  /** Icon slug, e.g. "video-movie". */
  icon: string;
  name_en: string;
  name_fr: string;
  position: Generated<number>;
  /** Hidden from visitors who are not logged in. */
  adult: Generated<IntBool>;
}

export type TermMode = 'single' | 'multi';

export interface TermTypeTable {
  id: number;
  name_en: string;
  name_fr: string;
  mode: TermMode;
  position: Generated<number>;
  deprecated: Generated<IntBool>;
}

export interface CategoryTermTypeTable {
  category_id: number;
  term_type_id: number;
  position: Generated<number>;
}

export interface TermTable {
  id: number;
  term_type_id: number;
  name_en: string;
  name_fr: string;
  position: Generated<number>;
  deprecated: Generated<IntBool>;
}

export interface TorrentMetainfoTable {
  torrent_id: number;
  /** The stored .torrent: private=1, the site's source tag, no announce URL. */
  data: Buffer;
}

export interface TorrentFileTable {
  torrent_id: number;
  /** Position in the torrent's file list. */
  idx: number;
  /** Path components joined with "/". */
  path: string;
  size: number;
}

export interface TorrentTermTable {
  torrent_id: number;
  term_id: number;
  term_type_id: number;
}

export interface SessionTable {
  /** SHA-256 hex of the cookie token. */
  id: string;
  user_id: number;
  persistent: Generated<IntBool>;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
  ip: string | null;
  user_agent: string | null;
}

export type AuthTokenPurpose = 'password_reset' | 'setup' | 'email_change' | 'email_verify';

export interface AuthTokenTable {
  /** SHA-256 hex of the token. */
  token_hash: string;
  purpose: AuthTokenPurpose;
  user_id: number | null;
  /** Purpose-specific data (e.g. the new email address). */
  data: string | null;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

export interface RecoveryCodeTable {
  user_id: number;
  code_hash: string;
  used_at: number | null;
}

export interface BookmarkTable {
  id: Generated<number>;
  user_id: number;
  torrent_id: number;
  created_at: number;
}

export interface SavedSearchTable {
  id: Generated<number>;
  user_id: number;
  name: string;
  /** The listing's query string. */
  query: string;
  created_at: number;
}

export interface SearchHistoryTable {
  id: Generated<number>;
  user_id: number;
  query: string;
  created_at: number;
}

/** Credited bytes per member and hour (hour = floor(epoch seconds / 3600)). */
export interface UserTrafficHourTable {
  user_id: number;
  hour: number;
  uploaded: Generated<number>;
  downloaded: Generated<number>;
}

export interface SiteSettingTable {
  key: string;
  value: string;
  updated_at: number;
}

/**
 * The info hashes the tracker answers for: one row per swarm. A hybrid torrent has two, its v1
 * hash and its v2 hash truncated to 20 bytes (the first 40 hex characters, BEP 52).
 */
export interface TorrentSwarmTable {
  /** 40 lowercase hex characters. */
  info_hash: string;
  torrent_id: number;
  version: 1 | 2;
}

/** A member's traffic on one torrent. Bytes, seconds and epoch seconds. */
export interface UserTorrentTable {
  user_id: number;
  torrent_id: number;
  uploaded: Generated<number>;
  downloaded: Generated<number>;
  raw_uploaded: Generated<number>;
  raw_downloaded: Generated<number>;
  seed_time: Generated<number>;
  leech_time: Generated<number>;
  announces: Generated<number>;
  completed_at: number | null;
  first_seen_at: number;
  last_seen_at: number;
}

/** The last cumulative counters credited for one peer (restored after a restart). */
export interface PeerBaselineTable {
  user_id: number;
  torrent_id: number;
  /** 40 lowercase hex characters. */
  peer_id: string;
  uploaded: number;
  downloaded: number;
  updated_at: number;
}

export interface ClientRuleTable {
  id: Generated<number>;
  /** The peer_id prefix as printed, e.g. "-TR3". */
  prefix: string;
  action: ClientRuleAction;
  note: string | null;
  created_at: number;
}

/** Ledger batches already applied (idempotent flushes). */
export interface LedgerBatchTable {
  id: string;
  applied_at: number;
}

export interface Database {
  user: UserTable;
  torrent: TorrentTable;
  torrent_swarm: TorrentSwarmTable;
  user_torrent: UserTorrentTable;
  peer_baseline: PeerBaselineTable;
  client_rule: ClientRuleTable;
  ledger_batch: LedgerBatchTable;
  category: CategoryTable;
  term_type: TermTypeTable;
  category_term_type: CategoryTermTypeTable;
  term: TermTable;
  torrent_metainfo: TorrentMetainfoTable;
  torrent_file: TorrentFileTable;
  torrent_term: TorrentTermTable;
  session: SessionTable;
  auth_token: AuthTokenTable;
  recovery_code: RecoveryCodeTable;
  bookmark: BookmarkTable;
  saved_search: SavedSearchTable;
  search_history: SearchHistoryTable;
  user_traffic_hour: UserTrafficHourTable;
  site_setting: SiteSettingTable;
}

export type User = Selectable<UserTable>;
export type NewUser = Insertable<UserTable>;
export type UserUpdate = Updateable<UserTable>;
export type Torrent = Selectable<TorrentTable>;
export type NewTorrent = Insertable<TorrentTable>;
export type TorrentSwarm = Selectable<TorrentSwarmTable>;
export type UserTorrent = Selectable<UserTorrentTable>;
export type PeerBaseline = Selectable<PeerBaselineTable>;
export type ClientRuleRow = Selectable<ClientRuleTable>;
export type LedgerBatchRow = Selectable<LedgerBatchTable>;
export type Category = Selectable<CategoryTable>;
export type TermType = Selectable<TermTypeTable>;
export type Term = Selectable<TermTable>;
export type Session = Selectable<SessionTable>;

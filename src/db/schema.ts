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
  /** The last TOTP time step used (replay guard shared by every web node). */
  totp_last_step: number | null;
  email_verified: Generated<IntBool>;
  last_login_at: number | null;
  last_seen_at: number | null;
  /** member_class.id. */
  class: Generated<string>;
  invited_by: number | null;
  invites_left: Generated<number>;
  freeleech_tokens: Generated<number>;
  /** Epoch seconds the member entered the ratio watch; null when not watched. */
  ratio_watch_since: number | null;
  /** The tracker refuses this member's downloads (seeding stays allowed). */
  download_refused: Generated<IntBool>;
  download_refused_reason: string | null;
  /** Set when the account was deleted (personal data erased, row kept under a pseudonym). */
  deleted_at: number | null;
  profile_text: string | null;
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
  /** The per-torrent factors end at this time (null: no end). */
  factors_until: number | null;
  moderated_by: number | null;
  moderated_at: number | null;
  moderation_note: string | null;
  merged_into: number | null;
  thanks_count: Generated<number>;
  rating_sum: Generated<number>;
  rating_count: Generated<number>;
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

export interface MemberClassTable {
  id: string;
  name_en: string;
  name_fr: string;
  position: number;
  min_uploaded: Generated<number>;
  min_ratio: Generated<number>;
  min_age_days: Generated<number>;
  invites_per_month: Generated<number>;
  hnr_immune: Generated<IntBool>;
}

export interface RolePermissionTable {
  role: string;
  permission: string;
}

export interface UserPermissionTable {
  user_id: number;
  permission: string;
  /** 1 grants, 0 revokes (overriding the role). */
  granted: Generated<IntBool>;
}

export interface InviteTable {
  id: Generated<number>;
  inviter_id: number;
  code_hash: string;
  email: string | null;
  created_at: number;
  expires_at: number;
  used_by: number | null;
  used_at: number | null;
  revoked_at: number | null;
}

export type ApplicationStatus = 'pending' | 'accepted' | 'rejected';

export interface ApplicationTable {
  id: Generated<number>;
  username: string;
  email: string;
  password_hash: string;
  /** JSON: [{ question, answer }]. */
  answers: string;
  status: Generated<ApplicationStatus>;
  reviewer_id: number | null;
  review_note: string | null;
  ip: string | null;
  created_at: number;
  decided_at: number | null;
}

export interface RefusedEmailDomainTable {
  domain: string;
  created_at: number;
}

export interface LoginIpTable {
  user_id: number;
  ip: string;
  first_at: number;
  last_at: number;
  signup: Generated<IntBool>;
}

export interface IpBanTable {
  id: Generated<number>;
  cidr: string;
  reason: string;
  created_by: number | null;
  created_at: number;
  expires_at: number | null;
}

export type WarningKind = 'manual' | 'hnr' | 'ratio' | 'ban';

export interface UserWarningTable {
  id: Generated<number>;
  user_id: number;
  kind: WarningKind;
  reason: string;
  created_by: number | null;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
  revoked_by: number | null;
}

export interface FreeleechWindowTable {
  id: Generated<number>;
  starts_at: number;
  ends_at: number;
  upload_factor: Generated<number>;
  download_factor: Generated<number>;
  reason: string;
  created_by: number | null;
  created_at: number;
}

export interface FreeleechTokenUseTable {
  user_id: number;
  torrent_id: number;
  created_at: number;
  expires_at: number;
}

export type HnrStatus = 'watching' | 'prewarned' | 'satisfied' | 'warned' | 'exempt';

export interface HnrTable {
  user_id: number;
  torrent_id: number;
  completed_at: number;
  deadline: number;
  status: Generated<HnrStatus>;
  updated_at: number;
}

export type ReportTargetType = 'torrent' | 'comment' | 'user' | 'message' | 'request';
export type ReportStatus = 'open' | 'claimed' | 'resolved';

export interface ReportTable {
  id: Generated<number>;
  target_type: ReportTargetType;
  target_id: number;
  reporter_id: number | null;
  reason: string;
  status: Generated<ReportStatus>;
  claimed_by: number | null;
  resolution: string | null;
  created_at: number;
  updated_at: number;
}

export interface ReportNoteTable {
  id: Generated<number>;
  report_id: number;
  author_id: number | null;
  body: string;
  created_at: number;
}

/** Append-only; `hash` = SHA-256 over the row's content and `prev_hash`. */
export interface AuditLogTable {
  id: Generated<number>;
  created_at: number;
  actor_id: number | null;
  actor_name: string;
  action: string;
  target_type: string | null;
  target_id: number | null;
  reason: string | null;
  /** JSON, secrets redacted. */
  before: string | null;
  after: string | null;
  prev_hash: string;
  hash: string;
}

export interface NotificationTable {
  id: Generated<number>;
  user_id: number;
  kind: string;
  /** JSON parameters. */
  data: string;
  created_at: number;
  read_at: number | null;
}

export interface InfohashBlockTable {
  /** 40 or 64 lowercase hex. */
  info_hash: string;
  reason: string;
  notice_id: number | null;
  created_by: number | null;
  created_at: number;
}

export type NoticeStatus = 'received' | 'reviewing' | 'upheld' | 'rejected' | 'restored';

export interface NoticeTable {
  id: Generated<number>;
  claimant: string;
  contact: string;
  works: string;
  statement: string;
  status: Generated<NoticeStatus>;
  source: Generated<'form' | 'api'>;
  reviewer_id: number | null;
  decision_note: string | null;
  created_at: number;
  decided_at: number | null;
}

export interface NoticeItemTable {
  notice_id: number;
  idx: number;
  given: string;
  torrent_id: number | null;
  info_hash: string | null;
  uploader_id: number | null;
}

export interface CounterNoticeTable {
  id: Generated<number>;
  notice_id: number;
  user_id: number | null;
  statement: string;
  status: Generated<'received' | 'accepted' | 'rejected'>;
  created_at: number;
  decided_at: number | null;
}

export interface CommentTable {
  id: Generated<number>;
  torrent_id: number;
  user_id: number | null;
  body: string;
  format: Generated<DescriptionFormat>;
  created_at: number;
  edited_at: number | null;
  deleted_at: number | null;
  deleted_by: number | null;
}

export interface ThanksTable {
  torrent_id: number;
  user_id: number;
  created_at: number;
}

export interface RatingTable {
  torrent_id: number;
  user_id: number;
  /** 1 to 10. */
  score: number;
  created_at: number;
}

export type RequestStatus = 'open' | 'filled' | 'confirmed' | 'closed';

export interface RequestTable {
  id: Generated<number>;
  user_id: number | null;
  title: string;
  description: Generated<string>;
  category_id: number | null;
  status: Generated<RequestStatus>;
  /** Total upload credit offered, bytes. */
  bounty: Generated<number>;
  filled_torrent_id: number | null;
  filled_by: number | null;
  filled_at: number | null;
  confirmed_at: number | null;
  created_at: number;
}

export interface RequestBountyTable {
  id: Generated<number>;
  request_id: number;
  user_id: number | null;
  amount: number;
  created_at: number;
}

export interface MessageTable {
  id: Generated<number>;
  sender_id: number | null;
  recipient_id: number;
  subject: string;
  body: string;
  reply_to: number | null;
  created_at: number;
  read_at: number | null;
  recipient_archived: Generated<IntBool>;
  recipient_deleted: Generated<IntBool>;
  sender_deleted: Generated<IntBool>;
}

export interface FriendTable {
  user_id: number;
  friend_id: number;
  created_at: number;
}

export interface NewsTable {
  id: Generated<number>;
  author_id: number | null;
  title: string;
  body: string;
  /** null: shown in both languages. */
  locale: Locale | null;
  created_at: number;
  updated_at: number | null;
}

export interface ContactMessageTable {
  id: Generated<number>;
  user_id: number | null;
  email: string | null;
  subject: string;
  body: string;
  status: Generated<'open' | 'answered' | 'closed'>;
  created_at: number;
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

export type ApiTokenKind = 'personal' | 't411';
export type ApiScope = 'read' | 'upload';

/** Personal API tokens and T411 /auth tokens (#5): only the SHA-256 of the token is kept. */
export interface ApiTokenTable {
  id: Generated<number>;
  user_id: number;
  kind: ApiTokenKind;
  name: string;
  /** SHA-256 hex of the token. */
  token_hash: string;
  /** The token's last characters, to tell tokens apart in a list. */
  hint: string;
  /** Space-separated ApiScope values. */
  scopes: string;
  created_at: number;
  last_used_at: number | null;
  expires_at: number | null;
  revoked_at: number | null;
}

/** The Newznab (Torznab) category of a site category, when administrators changed the default. */
export interface NewznabCategoryTable {
  category_id: number;
  newznab_id: number;
}

/** A periodic job's lease: the node holding it runs the job until expires_at (#6). */
export interface JobLeaseTable {
  name: string;
  holder: string;
  expires_at: number;
}

export interface Database {
  api_token: ApiTokenTable;
  newznab_category: NewznabCategoryTable;
  job_lease: JobLeaseTable;
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
  member_class: MemberClassTable;
  role_permission: RolePermissionTable;
  user_permission: UserPermissionTable;
  invite: InviteTable;
  application: ApplicationTable;
  refused_email_domain: RefusedEmailDomainTable;
  login_ip: LoginIpTable;
  ip_ban: IpBanTable;
  user_warning: UserWarningTable;
  freeleech_window: FreeleechWindowTable;
  freeleech_token_use: FreeleechTokenUseTable;
  hnr: HnrTable;
  report: ReportTable;
  report_note: ReportNoteTable;
  audit_log: AuditLogTable;
  notification: NotificationTable;
  infohash_block: InfohashBlockTable;
  notice: NoticeTable;
  notice_item: NoticeItemTable;
  counter_notice: CounterNoticeTable;
  comment: CommentTable;
  thanks: ThanksTable;
  rating: RatingTable;
  request: RequestTable;
  request_bounty: RequestBountyTable;
  message: MessageTable;
  friend: FriendTable;
  news: NewsTable;
  contact_message: ContactMessageTable;
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

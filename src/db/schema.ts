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
}

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

/**
 * What the website's features are given: storage, configuration, clock, logger, mailer, and the
 * link to the tracker. Built once by the composition root (src/compose.ts); features never build
 * their own dependencies.
 */
import type { Kysely } from 'kysely';
import type { Config } from '../config/schema.js';
import type { Database } from '../db/schema.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/log.js';
import type { Mailer } from './mail.js';
import type { RateLimiter } from './rate-limit.js';

export interface SwarmCountsView {
  seeders: number;
  leechers: number;
  completed: number;
}

/**
 * The site's view of the tracker. When the tracker runs in the same process the changes reach its
 * memory at once; on a web-only node (#6) they reach tracker nodes by notification, and the
 * periodic refresh catches anything missed.
 */
export interface TrackerLink {
  /** A torrent was registered, changed or deleted: reload its swarms into the access cache. */
  torrentChanged(torrentId: number): Promise<void>;
  /** A member's passkey, status or rights changed; `previousPasskey` is forgotten at once. */
  userChanged(userId: number, previousPasskey?: string): Promise<void>;
  /**
   * Live counts for the given swarm hashes (40 hex; a hybrid torrent has two, summed by the
   * caller), or null when no tracker runs in this process (then the database copy is used).
   */
  swarmCounts(infoHashes: readonly string[]): Array<{ complete: number; incomplete: number }> | null;
  /** The info-hash blocklist changed: reload it into the access cache (absent: no tracker here). */
  blocklistChanged?(): Promise<void>;
  /** Freeleech windows or tokens changed: reload them into the access cache. */
  freeleechChanged?(): Promise<void>;
}

export interface AnnounceUrls {
  /** The member's private HTTP announce URL. */
  http: string;
  /** The UDP one (BEP 15 + BEP 41 passkey path), when UDP is enabled. */
  udp: string | null;
}

export interface Site {
  db: Kysely<Database>;
  config: Config;
  log: Logger;
  clock: Clock;
  mailer: Mailer;
  tracker: TrackerLink;
  limiter: RateLimiter;
  /** A secret shared by every web node (HMACs: CSRF tokens), kept in site_setting. */
  secret: Buffer;
  /** The public base URL without a trailing slash. */
  publicUrl: string;
  announceUrls(passkey: string): AnnounceUrls;
  /** Epoch seconds. */
  now(): number;
}

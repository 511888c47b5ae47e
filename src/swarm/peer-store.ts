/**
 * The peer store port: the swarm state of the tracker. The in-memory implementation lives in
 * memory-peer-store.ts; a Redis implementation (#6) will pass the same contract suite
 * (test/peer-store.contract.ts).
 *
 * A peer is identified by (info hash, user id, peer id): in private mode the user id is the
 * member's, in public/listed mode it is 0. The store keeps, per peer, its address, the last
 * cumulative counters it reported and when it last announced, so that it can hand the announce
 * pipeline the deltas to credit.
 */
import type { AnnounceEvent, InfoHash, MaybePromise } from '../shared/types.js';
import type { InfoHashKey } from './info-hash-index.js';

export interface PeerAnnounce {
  /**
   * 40 hex characters, or the 20 bytes themselves (what the announce pipeline passes: no hex
   * string is built per announce). Read during the call only.
   */
  infoHash: InfoHash | Uint8Array;
  /** 0 in public/listed mode. */
  userId: number;
  /** 20 bytes. */
  peerId: Uint8Array;
  /**
   * 4 bytes (IPv4) or 16 bytes (IPv6, never an IPv4-mapped address: those are given as 4 bytes).
   * Read during the call only: the caller may reuse the array afterwards (the batched UDP path
   * does, per receive slot).
   */
  ip: Uint8Array;
  port: number;
  uploaded: number;
  downloaded: number;
  left: number;
  event: AnnounceEvent;
  /** How many peers to return (already clamped by the caller). */
  numwant: number;
  /** Return the peer ids of the selected peers too (non-compact responses). */
  wantPeerIds: boolean;
  /** Seconds since the epoch. */
  now: number;
  /**
   * Credit this announce inside the store, atomically with the counter update (only a store whose
   * `creditsInStore` is true reads it; others ignore it). Given by TrackerService for a member's
   * announce on a registered torrent: everything TrackerService.account() needs besides the
   * stored peer state.
   */
  credit?: PeerCredit;
}

/** What a store needs to credit an announce as TrackerService.account() does. */
export interface PeerCredit {
  torrentId: number;
  /** Effective factors at `now` (credited = Math.round(raw * factor)). */
  upFactor: number;
  downFactor: number;
  /** Seconds: time credited per announce is capped at this. */
  peerTimeout: number;
  /** The restored baseline of this (member, torrent, peer), if any and unused: the base of a new peer. */
  restored?: { uploaded: number; downloaded: number };
}

export interface SwarmCounts {
  /** Seeders. */
  complete: number;
  /** Leechers. */
  incomplete: number;
  /** Completed downloads seen by this store (event=completed). */
  downloaded: number;
}

export interface AnnounceOutcome extends SwarmCounts {
  /** Compact IPv4 peers, 6 bytes each (BEP 23). */
  peers4: Uint8Array;
  /** Compact IPv6 peers, 18 bytes each (BEP 7). */
  peers6: Uint8Array;
  /** 20 bytes per peer in peers4 order, when wantPeerIds. */
  peerIds4?: Uint8Array;
  /** 20 bytes per peer in peers6 order, when wantPeerIds. */
  peerIds6?: Uint8Array;
  /** True when the store did not know this peer before this announce. */
  isNew: boolean;
  /** For a known peer: the counters it reported last time (the baseline of the deltas). */
  prevUploaded: number;
  prevDownloaded: number;
  /** For a known peer: seconds since its previous announce; 0 for a new peer. */
  elapsed: number;
  /** For a known peer: whether it was a seeder at its previous announce. */
  wasSeeder: boolean;
  /** Set when the peer was refused (the per-user cap); nothing was stored. */
  refused?: 'peer-limit';
  /** True when the store credited this announce itself (PeerAnnounce.credit, creditsInStore). */
  credited?: boolean;
}

export interface SweepResult {
  /** Peers removed because they had not announced within the peer timeout. */
  expired: number;
  /** Swarms removed because they became empty. */
  swarmsRemoved: number;
}

export interface StoreStats {
  peers: number;
  seeders: number;
  leechers: number;
  torrents: number;
  ipv4: number;
  ipv6: number;
}

export interface PeerStore {
  /**
   * True when announce() credits traffic itself (given PeerAnnounce.credit) and its credits are
   * written to the database by another path (the Redis credit drain): the caller then skips its
   * own ledger for outcomes with `credited`.
   */
  readonly creditsInStore?: boolean;
  /**
   * Records the announce (insert, update, or remove on `stopped`) and selects up to `numwant`
   * other peers: a seeder is given leechers only; nobody is given themselves.
   */
  announce(a: PeerAnnounce): MaybePromise<AnnounceOutcome>;
  /** Counts for each info hash (40 hex characters or 20 bytes), in order (zeros for an unknown one). */
  scrape(infoHashes: readonly InfoHashKey[]): MaybePromise<SwarmCounts[]>;
  /** Removes peers that last announced before `olderThan` (seconds) and swarms left empty. */
  sweep(olderThan: number): MaybePromise<SweepResult>;
  /** Every swarm with its counts (full scrape, metrics). */
  forEachSwarm(fn: (infoHash: InfoHash, counts: SwarmCounts) => void): MaybePromise<void>;
  stats(): MaybePromise<StoreStats>;
  /** Removes a swarm and all its peers (a deleted torrent). */
  dropSwarm(infoHash: InfoHash): MaybePromise<void>;
  close(): MaybePromise<void>;
}

/** A peer as seen by `dumpSwarm` of either store (diagnostics and tests; allocates). */
export interface PeerSnapshot {
  userId: number;
  peerId: Uint8Array;
  ip: Uint8Array;
  port: number;
  seeder: boolean;
  completed: boolean;
  uploaded: number;
  downloaded: number;
  lastAnnounce: number;
}

export interface PeerStoreOptions {
  /** Most peers one user may have in one swarm (private mode; ignored for user 0). */
  maxPeersPerUser: number;
}

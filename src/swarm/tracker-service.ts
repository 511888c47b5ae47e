/**
 * The announce and scrape pipeline, shared by the HTTP and UDP front ends. It reads memory only
 * (access cache, peer store, restored baselines) and writes to the in-memory ledger: the database
 * is never awaited here.
 *
 *   authenticate (passkey) -> authorize (torrent, client) -> announce to the peer store
 *   -> account (deltas of the client's cumulative counters, times the torrent's factors)
 *   -> respond
 */
import type { AnnounceRequest, ScrapeRequest } from '../protocol/types.js';
import type { Clock } from '../shared/clock.js';
import type { InfoHash, MaybePromise } from '../shared/types.js';
import type { AccessCache, AccessTorrent, AccessUser } from './access-cache.js';
import type { InfoHashKey } from './info-hash-index.js';
import { KeyedRows } from './keyed-rows.js';
import type { Ledger } from './ledger.js';
import type { AnnounceOutcome, PeerCredit, PeerStore, SwarmCounts } from './peer-store.js';

export type TrackerMode = 'public' | 'listed' | 'private';

export interface TrackerRules {
  mode: TrackerMode;
  /** Seconds. */
  interval: number;
  /** Fraction of the interval by which the announced interval varies (0..0.5). */
  intervalJitter: number;
  minInterval: number;
  numwantDefault: number;
  numwantMax: number;
  /** Seconds without an announce after which a peer is forgotten. */
  peerTimeout: number;
  maxPeersPerUser: number;
  fullScrape: boolean;
  /** How long "Unregistered torrent: <reason>" is kept for a deleted torrent (seconds). */
  unregisteredReasonTtl: number;
  /**
   * Seconds. A peer whose counters did not move since its previous announce gets no new baseline
   * written, except at its first announce in each window of this length (floor(now / window)
   * changed since its previous announce), so that its stored baseline is never older than one
   * window and survives the pruning by age (`ledger.baseline_retention`, which must exceed it).
   * Default 3600.
   */
  baselineRefresh?: number;
}

/** Why an announce or scrape was refused: `code` labels metrics, `reason` is the client's text. */
export interface Refusal {
  ok: false;
  code: RefusalCode;
  reason: string;
}

export type RefusalCode =
  | 'passkey_required'
  | 'unknown_passkey'
  | 'account_disabled'
  | 'unregistered_torrent'
  | 'deleted_torrent'
  | 'pending_torrent'
  | 'client_refused'
  | 'peer_limit'
  | 'full_scrape_disabled'
  | 'blocked_torrent'
  | 'download_refused';

export interface AnnounceAnswer {
  ok: true;
  interval: number;
  minInterval: number;
  outcome: AnnounceOutcome;
}

export interface ScrapeAnswer {
  ok: true;
  /**
   * In the order of the request's info hashes (those left out keep their relative order), each
   * with the very value the request gave (bytes or hex); a full scrape gives hex.
   */
  files: Array<{ infoHash: Uint8Array | InfoHash; counts: SwarmCounts }>;
}

/** The answer to a scrape of `hashes` whose counts are `counts`, in the same order. */
function scrapeFiles(hashes: ReadonlyArray<Uint8Array | InfoHash>, counts: readonly SwarmCounts[]): ScrapeAnswer {
  const files: ScrapeAnswer['files'] = new Array(hashes.length);
  for (let i = 0; i < hashes.length; i++) files[i] = { infoHash: hashes[i]!, counts: counts[i]! };
  return { ok: true, files };
}

/** A peer's last credited counters, as loaded from storage at start (see docs/tracker.md). */
export interface RestoredBaseline {
  userId: number;
  torrentId: number;
  /** 40 hex characters. */
  peerId: string;
  uploaded: number;
  downloaded: number;
}

function refuse(code: RefusalCode, reason: string): Refusal {
  return { ok: false, code, reason };
}

export class TrackerService {
  /**
   * Baselines persisted by earlier runs, keyed by (member, torrent, peer id bytes): values
   * uploaded, downloaded; flag 1 once used. Typed arrays, about 60 bytes per baseline.
   */
  private restored: KeyedRows | null = null;
  private readonly peerScratch = Buffer.alloc(20);
  /** TrackerRules.baselineRefresh. */
  private readonly refresh: number;
  /** The member authenticate() found last (announce is synchronous up to the peer store). */
  private authUser: AccessUser | null = null;

  constructor(
    private readonly rules: TrackerRules,
    private readonly access: AccessCache,
    private readonly store: PeerStore,
    private readonly ledger: Ledger,
    private readonly clock: Clock,
    private readonly random: () => number = Math.random,
  ) {
    this.refresh = Math.max(1, rules.baselineRefresh ?? 3600);
  }

  get mode(): TrackerMode {
    return this.rules.mode;
  }

  /**
   * Adds baselines persisted by earlier runs (call it once per page of rows): they are consulted
   * when a peer unknown to the store announces. Rows with a malformed peer id are skipped.
   * Returns how many were added.
   */
  restoreBaselines(rows: Iterable<RestoredBaseline>): number {
    let n = 0;
    const pid = this.peerScratch;
    for (const r of rows) {
      if (r.peerId.length !== 40 || pid.write(r.peerId, 'hex') !== 20) continue;
      this.restored ??= new KeyedRows(2, true, 1024);
      const t = this.restored;
      const row = t.insert(r.userId, r.torrentId, pid);
      t.vals[2 * row] = r.uploaded;
      t.vals[2 * row + 1] = r.downloaded;
      t.flags[row] = 0;
      n++;
    }
    return n;
  }

  /** Restored baselines not used yet. */
  restoredBaselineCount(): number {
    const t = this.restored;
    if (t === null) return 0;
    let n = 0;
    for (let r = 0; r < t.count; r++) if (t.flags[r] === 0) n++;
    return n;
  }

  /** Forgets restored baselines: called once the peers had time to come back. */
  clearRestoredBaselines(): void {
    this.restored = null;
  }

  /** Checks the passkey; returns the user id (0 outside private mode) or a refusal. */
  private authenticate(passkey: string | null): number | Refusal {
    if (this.rules.mode !== 'private') return 0;
    if (passkey === null) return refuse('passkey_required', 'Passkey required: use the announce URL from your .torrent file');
    const u = this.access.user(passkey);
    if (u === undefined) return refuse('unknown_passkey', 'Unknown passkey: download the .torrent again from the site');
    if (!u.enabled) return refuse('account_disabled', 'Account disabled' + (u.disabledReason ? ': ' + u.disabledReason : ''));
    this.authUser = u;
    return u.id;
  }

  private deletedRefusal(t: AccessTorrent): Refusal {
    const now = this.clock.nowMs() / 1000;
    const fresh = t.deletedAt !== null && now - t.deletedAt <= this.rules.unregisteredReasonTtl;
    return refuse('deleted_torrent', fresh && t.deletedReason ? 'Unregistered torrent: ' + t.deletedReason : 'Unregistered torrent');
  }

  private authorizeTorrent(infoHash: InfoHashKey): AccessTorrent | null | Refusal {
    const t = this.access.torrent(infoHash);
    if (this.rules.mode === 'public') return t && t.status === 'active' ? t : null;
    if (t === undefined) return refuse('unregistered_torrent', 'Unregistered torrent');
    if (t.status === 'deleted') return this.deletedRefusal(t);
    if (t.status === 'pending') return refuse('pending_torrent', 'Torrent pending approval by the staff');
    return t;
  }

  /**
   * Answers an announce. The request's arrays (info hash, peer id) and `ip` are read during this
   * call only: the caller may reuse them once it returns, even when the answer is a Promise.
   */
  announce(req: AnnounceRequest, passkey: string | null, ip: Uint8Array): MaybePromise<AnnounceAnswer | Refusal> {
    // A blocked info hash is refused in every mode, before anything else. A registered torrent
    // that was deleted (a takedown blocks its hashes too) answers with its deletion reason, as
    // every deleted torrent does: "Unregistered torrent: <reason>".
    const blocked = this.access.blockedReason(req.infoHash);
    if (blocked !== undefined) {
      const t = this.access.torrent(req.infoHash);
      if (t !== undefined && t.status === 'deleted') return this.deletedRefusal(t);
      return refuse('blocked_torrent', blocked ? 'Torrent blocked: ' + blocked : 'Torrent blocked');
    }
    this.authUser = null;
    const userId = this.authenticate(passkey);
    if (typeof userId !== 'number') return userId;
    // Sharing rules: a member whose downloads are refused may still seed (and stop).
    const u = this.authUser as AccessUser | null;
    if (u !== null && u.downloadRefused && req.left > 0 && req.event !== 'stopped') return refuse('download_refused', u.downloadRefused);
    const torrent = this.authorizeTorrent(req.infoHash);
    if (torrent !== null && 'ok' in torrent) return torrent;
    const clientRefusal = this.access.clientRefusal(req.peerId);
    if (clientRefusal !== null) return refuse('client_refused', clientRefusal);

    const now = Math.floor(this.clock.nowMs() / 1000);
    let numwant = req.numwant ?? this.rules.numwantDefault;
    if (numwant > this.rules.numwantMax) numwant = this.rules.numwantMax;
    if (req.event === 'stopped') numwant = 0;

    // A store that credits itself (Redis: atomically with the counters it keeps) is given what
    // account() would use besides the stored peer state; its credited outcomes skip the ledger.
    let credit: PeerCredit | undefined;
    let rt: KeyedRows | null = null;
    let row = -1;
    if (this.store.creditsInStore === true && userId !== 0 && torrent !== null) {
      credit = {
        torrentId: torrent.torrentId,
        upFactor: this.access.uploadFactor(torrent, now),
        downFactor: this.access.downloadFactor(userId, torrent, now),
        peerTimeout: this.rules.peerTimeout,
      };
      rt = this.restored;
      row = rt === null ? -1 : rt.find(userId, torrent.torrentId, req.peerId);
      if (row >= 0 && rt!.flags[row] === 0) credit.restored = { uploaded: rt!.vals[2 * row]!, downloaded: rt!.vals[2 * row + 1]! };
      else row = -1;
    }

    const r = this.store.announce({
      infoHash: req.infoHash,
      userId,
      peerId: req.peerId,
      ip,
      port: req.port,
      uploaded: req.uploaded,
      downloaded: req.downloaded,
      left: req.left,
      event: req.event,
      numwant,
      wantPeerIds: !req.compact && !req.noPeerId,
      now,
      credit,
    });
    if (r instanceof Promise) {
      // The request's arrays may be reused once this call returns (the UDP parser's scratch):
      // keep copies for the answer.
      const h = req.infoHash;
      const kept: AnnounceRequest = { ...req, infoHash: typeof h === 'string' ? h : h.slice(), peerId: req.peerId.slice() };
      return r.then((o) => this.finish(kept, userId, torrent, o, now, rt, row));
    }
    return this.finish(req, userId, torrent, r, now, rt, row);
  }

  private finish(
    req: AnnounceRequest,
    userId: number,
    torrent: AccessTorrent | null,
    o: AnnounceOutcome,
    now: number,
    rt: KeyedRows | null,
    row: number,
  ): AnnounceAnswer | Refusal {
    if (o.refused === 'peer-limit') {
      return refuse('peer_limit', `Too many peers for this torrent from your account (at most ${this.rules.maxPeersPerUser})`);
    }
    if (o.credited === true) {
      // Credited by the store: a restored baseline it used (a new peer) is used up, as in account().
      if (o.isNew && row >= 0) rt!.flags[row] = 1;
    } else if (userId !== 0 && torrent !== null) this.account(req, userId, torrent, o, now);
    const j = this.rules.intervalJitter;
    const interval = Math.max(this.rules.minInterval, Math.round(this.rules.interval * (1 - j + 2 * j * this.random())));
    return { ok: true, interval, minInterval: this.rules.minInterval, outcome: o };
  }

  /** Credits the deltas of the client's cumulative counters (see docs/tracker.md, "Accounting"). */
  private account(req: AnnounceRequest, userId: number, t: AccessTorrent, o: AnnounceOutcome, now: number): void {
    let baseUp: number;
    let baseDown: number;
    let elapsed = 0;
    let wasSeeder = false;
    if (!o.isNew) {
      baseUp = o.prevUploaded;
      baseDown = o.prevDownloaded;
      elapsed = o.elapsed;
      wasSeeder = o.wasSeeder;
    } else {
      const rt = this.restored;
      const row = rt === null ? -1 : rt.find(userId, t.torrentId, req.peerId);
      if (row >= 0 && rt!.flags[row] === 0) {
        // The peer was known before a restart: credit from its last persisted counters, once.
        rt!.flags[row] = 1;
        baseUp = rt!.vals[2 * row]!;
        baseDown = rt!.vals[2 * row + 1]!;
      } else if (req.event === 'started') {
        // A fresh client session: its counters start from zero.
        baseUp = 0;
        baseDown = 0;
      } else {
        // Unknown history (e.g. the peer expired long ago): take its counters as the baseline.
        baseUp = req.uploaded;
        baseDown = req.downloaded;
      }
    }
    // A counter that went backwards (client restart) resets the baseline and credits nothing.
    const rawUp = req.uploaded >= baseUp ? req.uploaded - baseUp : 0;
    const rawDown = req.downloaded >= baseDown ? req.downloaded - baseDown : 0;
    // Time is credited for at most one peer timeout since the previous announce.
    const credited = elapsed > this.rules.peerTimeout ? this.rules.peerTimeout : elapsed;
    this.ledger.credit(
      userId,
      t.torrentId,
      rawUp,
      rawDown,
      // Effective factors: the torrent's (until its factors_until), site-wide windows, tokens.
      Math.round(rawUp * this.access.uploadFactor(t, now)),
      Math.round(rawDown * this.access.downloadFactor(userId, t, now)),
      wasSeeder ? credited : 0,
      !o.isNew && !wasSeeder ? credited : 0,
      req.event === 'completed',
      now,
    );
    // The stored baseline already holds these counters when they did not move since the previous
    // announce of a known peer; it is rewritten anyway once per refresh window (see TrackerRules).
    const stopped = req.event === 'stopped';
    if (
      !stopped &&
      !o.isNew &&
      req.uploaded === o.prevUploaded &&
      req.downloaded === o.prevDownloaded &&
      Math.floor(now / this.refresh) === Math.floor((now - o.elapsed) / this.refresh)
    ) {
      return;
    }
    this.ledger.baseline(userId, t.torrentId, req.peerId, req.uploaded, req.downloaded, stopped, now);
  }

  scrape(req: ScrapeRequest, passkey: string | null): MaybePromise<ScrapeAnswer | Refusal> {
    const userId = this.authenticate(passkey);
    if (typeof userId !== 'number') return userId;
    if (req.infoHashes.length === 0) {
      if (!this.rules.fullScrape) return refuse('full_scrape_disabled', 'Full scrape is disabled: name the info_hash values');
      const files: ScrapeAnswer['files'] = [];
      const r = this.store.forEachSwarm((infoHash, counts) => {
        if (this.rules.mode === 'public' || this.access.torrent(infoHash)?.status === 'active') files.push({ infoHash, counts });
      });
      return r instanceof Promise ? r.then(() => ({ ok: true as const, files })) : { ok: true, files };
    }
    // Unregistered hashes are answered with zeros in public mode and left out otherwise (BEP 48).
    // (Plain loops and a module function: tsx wraps every named closure made per call.)
    let hashes = req.infoHashes;
    if (this.rules.mode !== 'public') {
      const known: Array<Uint8Array | InfoHash> = [];
      for (let i = 0; i < hashes.length; i++) if (this.access.torrent(hashes[i]!)?.status === 'active') known.push(hashes[i]!);
      hashes = known;
    }
    const counts = this.store.scrape(hashes);
    if (counts instanceof Promise) {
      const kept = hashes;
      return counts.then((c) => scrapeFiles(kept, c));
    }
    return scrapeFiles(hashes, counts);
  }
}


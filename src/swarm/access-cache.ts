/**
 * The tracker's view of who may announce what, held in memory so that an announce never waits
 * on the database. It is filled from storage at start, replaced wholesale by a periodic refresh
 * (src/jobs/access-refresh.job.ts), and patched at once by the services that change passkeys,
 * torrents or client rules in this process.
 */
import { InfoHashIndex, type InfoHashKey } from './info-hash-index.js';

export interface AccessUser {
  id: number;
  enabled: boolean;
  disabledReason: string | null;
  /**
   * Set when the sharing rules refuse this member's downloads (ratio, hit-and-runs): the
   * `failure reason` answered to an announce with `left > 0`. Seeding stays allowed.
   */
  downloadRefused?: string | null;
}

export type TorrentStatus = 'active' | 'pending' | 'deleted';

export interface AccessTorrent {
  torrentId: number;
  status: TorrentStatus;
  deletedReason: string | null;
  /** Epoch seconds, for deleted torrents. */
  deletedAt: number | null;
  uploadFactor: number;
  downloadFactor: number;
  /** Epoch seconds after which the torrent's factors fall back to 1 (null or absent: no expiry). */
  factorsUntil?: number | null;
}

/** A site-wide freeleech or multiplier window (freeleech_window). */
export interface FactorWindow {
  /** Epoch seconds: in force from startsAt (inclusive) to endsAt (exclusive). */
  startsAt: number;
  endsAt: number;
  uploadFactor: number;
  downloadFactor: number;
}

/** A freeleech token a member spent on a torrent (freeleech_token_use). */
export interface TokenUse {
  userId: number;
  torrentId: number;
  /** Epoch seconds. */
  expiresAt: number;
}

export interface ClientRule {
  /** Peer id prefix as text, e.g. "-TR3" (matched byte for byte, latin1). */
  prefix: string;
  action: 'allow' | 'deny';
}

export interface AccessSnapshot {
  users: ReadonlyArray<AccessUser & { passkey: string }>;
  torrents: ReadonlyArray<AccessTorrent & { infoHash: string }>;
  rules: readonly ClientRule[];
  /** Blocked swarm hashes (40 hex) with their reasons; absent leaves the blocklist as it is. */
  blocked?: ReadonlyMap<string, string>;
  /** Freeleech windows not over yet; absent leaves them as they are. */
  windows?: readonly FactorWindow[];
  /** Freeleech tokens not expired yet; absent leaves them as they are. */
  tokens?: readonly TokenUse[];
}

interface PrefixRule {
  bytes: Buffer;
  text: string;
}

export class AccessCache {
  private passkeys = new Map<string, AccessUser>();
  /** Swarm hash → torrent, keyed by the hash's bytes (looked up from hex or from bytes). */
  private swarms = new InfoHashIndex<AccessTorrent>();
  private allow: PrefixRule[] = [];
  private deny: PrefixRule[] = [];
  /** Swarm hash → reason. */
  private blocked = new InfoHashIndex<string>();
  private windows: FactorWindow[] = [];
  /** Member → torrent → token expiry (epoch seconds). */
  private tokens = new Map<number, Map<number, number>>();
  // The window factors in force over [winFrom, winUntil): recomputed only when `now` leaves it.
  private winFrom = 0;
  private winUntil = -1;
  private winUp = 0;
  private winDown = Infinity;

  /**
   * @param staticRules client rules from the configuration (always applied, on top of the
   *   rules stored in the database).
   */
  constructor(private readonly staticRules: readonly ClientRule[] = []) {
    this.setRules([]);
  }

  /** Replaces everything (full refresh). */
  replaceAll(s: AccessSnapshot): void {
    const passkeys = new Map<string, AccessUser>();
    for (const u of s.users) passkeys.set(u.passkey, { id: u.id, enabled: u.enabled, disabledReason: u.disabledReason, downloadRefused: u.downloadRefused ?? null });
    const swarms = new InfoHashIndex<AccessTorrent>(s.torrents.length);
    for (const t of s.torrents) {
      const { infoHash, ...rest } = t;
      swarms.set(infoHash, rest);
    }
    this.passkeys = passkeys;
    this.swarms = swarms;
    this.setRules(s.rules);
    if (s.blocked) this.setBlocklist(s.blocked);
    if (s.windows) this.setWindows(s.windows);
    if (s.tokens) this.setTokens(s.tokens);
  }

  /** Replaces the blocklist: swarm hash (40 lowercase hex) → reason. */
  setBlocklist(blocked: ReadonlyMap<string, string>): void {
    const idx = new InfoHashIndex<string>(blocked.size);
    for (const [h, reason] of blocked) idx.set(h, reason);
    this.blocked = idx;
  }

  /** Blocks one swarm hash (reason: the staff's), or unblocks it with null. */
  setBlocked(infoHash: string, reason: string | null): void {
    if (reason === null) this.blocked.delete(infoHash);
    else this.blocked.set(infoHash, reason);
  }

  /** Why this info hash is blocked (the staff's reason), or undefined when it is not. */
  blockedReason(infoHash: InfoHashKey): string | undefined {
    return this.blocked.size === 0 ? undefined : this.blocked.get(infoHash);
  }

  /** Replaces the site-wide freeleech windows. */
  setWindows(windows: readonly FactorWindow[]): void {
    this.windows = windows.map((w) => ({ ...w }));
    this.winUntil = -1;
  }

  /** Replaces the freeleech tokens in use. */
  setTokens(tokens: readonly TokenUse[]): void {
    const m = new Map<number, Map<number, number>>();
    for (const t of tokens) {
      let per = m.get(t.userId);
      if (per === undefined) m.set(t.userId, (per = new Map()));
      if ((per.get(t.torrentId) ?? 0) < t.expiresAt) per.set(t.torrentId, t.expiresAt);
    }
    this.tokens = m;
  }

  /** Adds one token (a member just spent it). */
  addToken(t: TokenUse): void {
    let per = this.tokens.get(t.userId);
    if (per === undefined) this.tokens.set(t.userId, (per = new Map()));
    if ((per.get(t.torrentId) ?? 0) < t.expiresAt) per.set(t.torrentId, t.expiresAt);
  }

  /**
   * The upload factor credited at `now` (epoch seconds): the largest of the torrent's own factor
   * (1 once its `factorsUntil` has passed) and the factor of any window in force.
   */
  uploadFactor(t: AccessTorrent, now: number): number {
    const own = t.factorsUntil != null && now >= t.factorsUntil ? 1 : t.uploadFactor;
    if (this.windows.length === 0) return own;
    if (now < this.winFrom || now >= this.winUntil) this.computeWindows(now);
    return own > this.winUp ? own : this.winUp;
  }

  /**
   * The download factor credited at `now`: the smallest of the torrent's own factor (1 once its
   * `factorsUntil` has passed), the factor of any window in force, and 0 when the member has a
   * freeleech token on the torrent.
   */
  downloadFactor(userId: number, t: AccessTorrent, now: number): number {
    let f = t.factorsUntil != null && now >= t.factorsUntil ? 1 : t.downloadFactor;
    if (this.windows.length !== 0) {
      if (now < this.winFrom || now >= this.winUntil) this.computeWindows(now);
      if (this.winDown < f) f = this.winDown;
    }
    if (f > 0 && this.tokens.size !== 0) {
      const until = this.tokens.get(userId)?.get(t.torrentId);
      if (until !== undefined && now < until) f = 0;
    }
    return f;
  }

  /** The factors of the windows in force at `now`, and the span over which they stay so. */
  private computeWindows(now: number): void {
    let up = 0;
    let down = Infinity;
    let from = -Infinity;
    let until = Infinity;
    for (const w of this.windows) {
      if (now >= w.startsAt && now < w.endsAt) {
        if (w.uploadFactor > up) up = w.uploadFactor;
        if (w.downloadFactor < down) down = w.downloadFactor;
        if (w.startsAt > from) from = w.startsAt;
        if (w.endsAt < until) until = w.endsAt;
      } else if (w.startsAt > now) {
        if (w.startsAt < until) until = w.startsAt;
      } else if (w.endsAt > from) {
        from = w.endsAt;
      }
    }
    this.winUp = up;
    this.winDown = down;
    this.winFrom = from;
    this.winUntil = until;
  }

  setRules(rules: readonly ClientRule[]): void {
    const all = [...this.staticRules, ...rules];
    const toRule = (r: ClientRule): PrefixRule => ({ bytes: Buffer.from(r.prefix, 'latin1'), text: r.prefix });
    this.allow = all.filter((r) => r.action === 'allow').map(toRule);
    this.deny = all.filter((r) => r.action === 'deny').map(toRule);
  }

  user(passkey: string): AccessUser | undefined {
    return this.passkeys.get(passkey);
  }
  torrent(infoHash: InfoHashKey): AccessTorrent | undefined {
    return this.swarms.get(infoHash);
  }

  setUser(passkey: string, user: AccessUser): void {
    this.passkeys.set(passkey, user);
  }
  removePasskey(passkey: string): void {
    this.passkeys.delete(passkey);
  }
  setTorrent(infoHash: string, t: AccessTorrent): void {
    this.swarms.set(infoHash, t);
  }
  removeTorrent(infoHash: string): void {
    this.swarms.delete(infoHash);
  }

  /** Why this client may not announce, or null when it may. */
  clientRefusal(peerId: Uint8Array): string | null {
    for (const r of this.deny) if (startsWith(peerId, r.bytes)) return `Client not allowed (${printable(r.text)})`;
    if (this.allow.length > 0) {
      for (const r of this.allow) if (startsWith(peerId, r.bytes)) return null;
      return 'Client not allowed: not on the list of accepted clients';
    }
    return null;
  }

  get sizes(): { users: number; swarms: number } {
    return { users: this.passkeys.size, swarms: this.swarms.size };
  }
}

function startsWith(a: Uint8Array, prefix: Buffer): boolean {
  if (a.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (a[i] !== prefix[i]) return false;
  return true;
}

function printable(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '?');
}

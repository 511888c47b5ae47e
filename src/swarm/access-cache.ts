/**
 * The tracker's view of who may announce what, held in memory so that an announce never waits
 * on the database. It is filled from storage at start, replaced wholesale by a periodic refresh
 * (src/jobs/access-refresh.job.ts), and patched at once by the services that change passkeys,
 * torrents or client rules in this process.
 */
import type { InfoHash } from '../shared/types.js';

export interface AccessUser {
  id: number;
  enabled: boolean;
  disabledReason: string | null;
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
}

interface PrefixRule {
  bytes: Buffer;
  text: string;
}

export class AccessCache {
  private passkeys = new Map<string, AccessUser>();
  private swarms = new Map<string, AccessTorrent>();
  private allow: PrefixRule[] = [];
  private deny: PrefixRule[] = [];

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
    for (const u of s.users) passkeys.set(u.passkey, { id: u.id, enabled: u.enabled, disabledReason: u.disabledReason });
    const swarms = new Map<string, AccessTorrent>();
    for (const t of s.torrents) {
      const { infoHash, ...rest } = t;
      swarms.set(infoHash, rest);
    }
    this.passkeys = passkeys;
    this.swarms = swarms;
    this.setRules(s.rules);
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
  torrent(infoHash: InfoHash | string): AccessTorrent | undefined {
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

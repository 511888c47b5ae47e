/**
 * Branded primitive types shared by every layer. A brand costs nothing at run time; it stops a
 * passkey from being passed where an info hash is expected.
 */

/** An info hash as 40 lowercase hex characters (a v1 SHA-1, or a v2 SHA-256 truncated to 20 bytes, BEP 52). */
export type InfoHash = string & { readonly __brand: 'InfoHash' };
/** A member's passkey: 32 lowercase hex characters. */
export type Passkey = string & { readonly __brand: 'Passkey' };
export type UserId = number & { readonly __brand: 'UserId' };
export type TorrentId = number & { readonly __brand: 'TorrentId' };

export type MaybePromise<T> = T | Promise<T>;

const HEX40 = /^[0-9a-f]{40}$/;
const HEX32 = /^[0-9a-f]{32}$/;

export function isInfoHash(s: string): s is InfoHash {
  return HEX40.test(s);
}
export function isPasskey(s: string): s is Passkey {
  return HEX32.test(s);
}
/** Accepts upper- or lowercase hex and returns the canonical form, or null. */
export function toInfoHash(s: string): InfoHash | null {
  const l = s.toLowerCase();
  return isInfoHash(l) ? l : null;
}

/** Announce events (BEP 3, plus `paused` from BEP 21). `none` is the regular interval announce. */
export type AnnounceEvent = 'started' | 'completed' | 'stopped' | 'paused' | 'none';

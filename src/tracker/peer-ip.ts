/**
 * Peer address resolution. The address a peer is announced with is the socket's, or, behind a
 * configured trusted proxy, the RIGHTMOST X-Forwarded-For hop (the one the proxy itself saw; the
 * leftmost is whatever the client wrote). The `ip` parameter is honoured only when enabled.
 * IPv4-mapped IPv6 addresses are treated as IPv4 (4 bytes), so IPv4 peers stay in `peers`.
 */
import { isIP } from 'node:net';

/** Parses a textual IPv4 or IPv6 address into 4 or 16 bytes; null if it is not one. */
export function parseIp(s: string): Uint8Array | null {
  const v4 = parseIpv4(s);
  if (v4 !== null) return v4;
  // Zone ids ("fe80::1%eth0") are not addresses a peer can be reached at from elsewhere.
  if (s.includes('%') || isIP(s) !== 6) return null;
  const b = parseIpv6(s);
  if (b === null) return null;
  // ::ffff:a.b.c.d -> IPv4
  let mapped = true;
  for (let i = 0; i < 10; i++) if (b[i] !== 0) mapped = false;
  if (mapped && b[10] === 0xff && b[11] === 0xff) return b.slice(12);
  return b;
}

export function parseIpv4(s: string): Uint8Array | null {
  const out = new Uint8Array(4);
  let part = 0;
  let val = 0;
  let digits = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (digits > 0 && val === 0) return null; // leading zero
      val = val * 10 + (c - 48);
      if (val > 255) return null;
      digits++;
    } else if (c === 46) {
      if (digits === 0 || part >= 3) return null;
      out[part++] = val;
      val = 0;
      digits = 0;
    } else return null;
  }
  if (digits === 0 || part !== 3) return null;
  out[3] = val;
  return out;
}

function parseIpv6(s: string): Uint8Array | null {
  // Expand "::" and an optional trailing dotted quad. Input already validated by isIP.
  let tail: Uint8Array | null = null;
  let str = s;
  const lastColon = s.lastIndexOf(':');
  if (s.indexOf('.', lastColon) !== -1) {
    tail = parseIpv4(s.slice(lastColon + 1));
    if (tail === null) return null;
    str = s.slice(0, lastColon + 1) + '0:0';
  }
  const halves = str.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(':') : [];
  const rest = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const groups = halves.length === 2 ? [...head, ...new Array<string>(8 - head.length - rest.length).fill('0'), ...rest] : head;
  if (groups.length !== 8) return null;
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    const v = parseInt(groups[i]!, 16);
    if (!(v >= 0 && v <= 0xffff)) return null;
    out[i * 2] = v >> 8;
    out[i * 2 + 1] = v & 0xff;
  }
  if (tail) out.set(tail, 12);
  return out;
}

/** Formats 4 or 16 bytes as text. */
export function formatIp(b: Uint8Array): string {
  if (b.length === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push((b[i]! << 8) | b[i + 1]!);
  // RFC 5952: compress the longest run (of at least two) of zero groups.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (a: number[]) => a.map((x) => x.toString(16)).join(':');
  if (best < 0) return hex(g);
  return hex(g.slice(0, best)) + '::' + hex(g.slice(best + bestLen));
}

export interface IpPolicy {
  /** Canonical text forms of trusted proxy addresses. */
  trustedProxies: ReadonlySet<string>;
  allowClientIp: boolean;
}

/** Canonical text of an address (so "::ffff:127.0.0.1" and "127.0.0.1" compare equal). */
export function canonicalIp(s: string): string | null {
  const b = parseIp(s);
  return b === null ? null : formatIp(b);
}

export function makeIpPolicy(trusted: readonly string[], allowClientIp: boolean): IpPolicy {
  const set = new Set<string>();
  for (const t of trusted) {
    const c = canonicalIp(t);
    if (c !== null) set.add(c);
  }
  return { trustedProxies: set, allowClientIp };
}

const cache = new Map<string, Uint8Array>();

/** Socket address text -> bytes, with a small cache (the same clients announce again and again). */
export function socketIp(remote: string | undefined): Uint8Array | null {
  if (remote === undefined) return null;
  let b = cache.get(remote);
  if (b === undefined) {
    const p = parseIp(remote);
    if (p === null) return null;
    if (cache.size > 10_000) cache.clear();
    cache.set(remote, p);
    b = p;
  }
  return b;
}

/**
 * The address to announce for an HTTP request: the socket address, or the rightmost
 * X-Forwarded-For hop when the socket peer is a trusted proxy, or the `ip` parameter when allowed.
 * `remote` is the socket's address as text (node's net) or as 4 or 16 bytes (the native front,
 * IPv4-mapped addresses already given as IPv4); the result may be that very array.
 */
export function resolvePeerIp(
  policy: IpPolicy,
  remote: Uint8Array | string | undefined,
  xForwardedFor: string | null,
  claimed: string | null,
): Uint8Array | null {
  // The native front gives the socket's address as 4 or 16 bytes already.
  let ip = typeof remote === 'object' ? remote : socketIp(remote);
  if (ip === null) return null;
  if (xForwardedFor !== null && policy.trustedProxies.size > 0 && policy.trustedProxies.has(formatIp(ip))) {
    const comma = xForwardedFor.lastIndexOf(',');
    const hop = parseIp(xForwardedFor.slice(comma + 1).trim());
    if (hop !== null) ip = hop;
  }
  if (claimed !== null && policy.allowClientIp) {
    const c = parseIp(claimed);
    if (c !== null) ip = c;
  }
  return ip;
}

/**
 * IP addresses and CIDR ranges for IP bans: parsing (IPv4, IPv6 with `::` and an embedded IPv4
 * tail, IPv4-mapped IPv6 read as IPv4, an optional zone id dropped), a canonical text form (the
 * network address, IPv6 compressed as RFC 5952 says, no prefix for a single address), and
 * membership. A ban on 203.0.113.0/24 also covers ::ffff:203.0.113.9, the form an IPv6 socket
 * gives for an IPv4 client.
 */

export interface IpAddress {
  family: 4 | 6;
  /** 4 or 16 bytes. */
  bytes: Uint8Array;
}

export interface Cidr extends IpAddress {
  /** Bits of the network part: 0..32 (IPv4) or 0..128 (IPv6). */
  prefix: number;
}

function parseIpv4(s: string): Uint8Array | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    // No leading zeros (some parsers read them as octal), at most 3 digits.
    if (!/^(0|[1-9]\d{0,2})$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    out[i] = n;
  }
  return out;
}

function parseIpv6(s: string): Uint8Array | null {
  if (s.length === 0 || s.length > 45) return null;
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const groups = (h: string): string[] | null => (h === '' ? [] : h.split(':'));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return null;
  const words: number[] = [];
  const readGroups = (gs: string[], last: boolean): boolean => {
    for (let i = 0; i < gs.length; i++) {
      const g = gs[i]!;
      if (last && i === gs.length - 1 && g.includes('.')) {
        const v4 = parseIpv4(g);
        if (!v4) return false;
        words.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return false;
      words.push(parseInt(g, 16));
    }
    return true;
  };
  const compressed = halves.length === 2;
  if (!readGroups(head, !compressed)) return null;
  const headWords = words.length;
  if (!readGroups(tail, true)) return null;
  const tailWords = words.length - headWords;
  if (compressed) {
    if (headWords + tailWords > 7) return null;
    words.splice(headWords, 0, ...new Array<number>(8 - headWords - tailWords).fill(0));
  }
  if (words.length !== 8) return null;
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = words[i]! >> 8;
    out[2 * i + 1] = words[i]! & 0xff;
  }
  return out;
}

function isV4Mapped(b: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return b[10] === 0xff && b[11] === 0xff;
}

/** An IP address, or null. IPv4-mapped IPv6 addresses come back as IPv4. */
export function parseIp(input: string): IpAddress | null {
  let s = input.trim();
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  if (!s.includes(':')) {
    const b = parseIpv4(s);
    return b ? { family: 4, bytes: b } : null;
  }
  const b = parseIpv6(s);
  if (!b) return null;
  if (isV4Mapped(b)) return { family: 4, bytes: b.slice(12) };
  return { family: 6, bytes: b };
}

/** Clears the host bits. */
function mask(bytes: Uint8Array, prefix: number): Uint8Array {
  const out = new Uint8Array(bytes);
  for (let i = 0; i < out.length; i++) {
    const bits = Math.max(0, Math.min(8, prefix - 8 * i));
    out[i]! &= bits === 0 ? 0 : (0xff << (8 - bits)) & 0xff;
  }
  return out;
}

/** `a.b.c.d`, `a.b.c.d/n`, an IPv6 address or `x::/n`, or null. The host bits are cleared. */
export function parseCidr(input: string): Cidr | null {
  const s = input.trim();
  if (/\s/.test(s)) return null;
  const slash = s.indexOf('/');
  const ip = parseIp(slash < 0 ? s : s.slice(0, slash));
  if (!ip) return null;
  const max = ip.family === 4 ? 32 : 128;
  let prefix = max;
  if (slash >= 0) {
    const p = s.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p)) return null;
    prefix = Number(p);
    // A mapped address written with an IPv6 prefix: ::ffff:10.0.0.0/104 is 10.0.0.0/8.
    const mapped = ip.family === 4 && s.slice(0, slash).includes(':');
    if (mapped) {
      if (prefix < 96) return null;
      prefix -= 96;
    }
    if (prefix > max) return null;
  }
  return { family: ip.family, bytes: mask(ip.bytes, prefix), prefix };
}

function formatIpv6(b: Uint8Array): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push((b[2 * i]! << 8) | b[2 * i + 1]!);
  // The longest run of two or more zero words (the first one on a tie) becomes "::".
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (ws: number[]) => ws.map((w) => w.toString(16)).join(':');
  if (bestLen < 2) return hex(words);
  return `${hex(words.slice(0, bestStart))}::${hex(words.slice(bestStart + bestLen))}`;
}

export function formatIp(ip: IpAddress): string {
  return ip.family === 4 ? Array.from(ip.bytes).join('.') : formatIpv6(ip.bytes);
}

/** The canonical text: the network address, then `/prefix` unless it is a single address. */
export function formatCidr(c: Cidr): string {
  const addr = formatIp(c);
  return c.prefix === (c.family === 4 ? 32 : 128) ? addr : `${addr}/${c.prefix}`;
}

export function cidrContains(c: Cidr, ip: IpAddress): boolean {
  if (c.family !== ip.family) return false;
  const full = Math.floor(c.prefix / 8);
  for (let i = 0; i < full; i++) if (c.bytes[i] !== ip.bytes[i]) return false;
  const rest = c.prefix % 8;
  if (rest === 0) return true;
  const m = (0xff << (8 - rest)) & 0xff;
  return (c.bytes[full]! & m) === (ip.bytes[full]! & m);
}

/** How many addresses a range holds, as a power of two (for messages and sanity limits). */
export function hostBits(c: Cidr): number {
  return (c.family === 4 ? 32 : 128) - c.prefix;
}

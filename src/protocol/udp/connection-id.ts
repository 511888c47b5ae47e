/**
 * UDP connection ids (BEP 15). The connect handshake exists so that a tracker never answers an
 * announce to a spoofed source address: the client must first prove it can receive at its address
 * by echoing back a connection id. Instead of storing ids, we make them self-verifying:
 *
 *   id  = issue time (u32 seconds, big-endian) || tag (u32, big-endian)
 *   tag = HalfSipHash-2-4 with 32-bit output, keyed by K_t, of the client's IP address bytes
 *   K_t = the first 8 bytes of HMAC-SHA256(secret, label || t)
 *
 * K_t is derived once per issue second and cached; the tag is then computed in JavaScript over
 * the 4 or 16 address bytes, on integers: no native call and no allocation per packet (it was a
 * SHA-256 through node:crypto, about 5 % of a UDP announce's CPU). HalfSipHash is the 32-bit
 * variant of SipHash, a keyed pseudo-random function made for short inputs; a 64-bit key that
 * changes every second and comes from a 256-bit secret through HMAC leaves no time to search it,
 * and forging a tag without it is a 2^-32 guess per packet, ample for an anti-spoofing token that
 * expires. The message length is part of HalfSipHash's last block, so IPv4 and IPv6 inputs never
 * collide.
 *
 * The tag covers the IP address only, not the port: BEP 15 ties the id to the client's address,
 * and NATs may move a client's source port between the connect and the announce. An IPv4-mapped
 * IPv6 address is treated as the IPv4 address it maps.
 *
 * An id is accepted while now - issued <= ttl, and not if issued more than `skewSeconds` (default
 * 2) in the future (clock steps between processes sharing a secret). The tags are compared as one
 * 32-bit integer: a single comparison, without an early exit.
 */
import { createHmac } from 'node:crypto';

const LABEL = Buffer.from('essaim udp connection id v2\0', 'latin1');

export interface ConnectionIdOptions {
  /** How far in the future an issue time may be (seconds). Default 2. */
  skewSeconds?: number;
}

const rotl = (x: number, b: number) => (x << b) | (x >>> (32 - b));

/**
 * HalfSipHash-2-4 with a 32-bit output (Aumasson and Bernstein's reduced-width SipHash), key
 * (k0, k1) as two little-endian words, over msg[off .. off+len). Returns the tag as an unsigned
 * integer (its little-endian bytes are the reference implementation's output).
 */
export function halfSipHash24(k0: number, k1: number, msg: Uint8Array, off: number, len: number): number {
  let v0 = k0 | 0;
  let v1 = k1 | 0;
  let v2 = 0x6c796765 ^ k0;
  let v3 = 0x74656462 ^ k1;
  const end = off + len - (len & 3);
  let i = off;
  // Each 32-bit little-endian word, then the last block (the 0-3 remaining bytes and the length
  // in the top byte), goes through two rounds; four more rounds finish.
  for (;;) {
    let m: number;
    const last = i >= end;
    if (!last) {
      m = msg[i]! | (msg[i + 1]! << 8) | (msg[i + 2]! << 16) | (msg[i + 3]! << 24);
      i += 4;
    } else {
      m = (len & 0xff) << 24;
      const rest = len & 3;
      if (rest >= 3) m |= msg[end + 2]! << 16;
      if (rest >= 2) m |= msg[end + 1]! << 8;
      if (rest >= 1) m |= msg[end]!;
    }
    v3 ^= m;
    for (let c = 0; c < 2; c++) {
      v0 = (v0 + v1) | 0;
      v1 = rotl(v1, 5) ^ v0;
      v0 = rotl(v0, 16);
      v2 = (v2 + v3) | 0;
      v3 = rotl(v3, 8) ^ v2;
      v0 = (v0 + v3) | 0;
      v3 = rotl(v3, 7) ^ v0;
      v2 = (v2 + v1) | 0;
      v1 = rotl(v1, 13) ^ v2;
      v2 = rotl(v2, 16);
    }
    v0 ^= m;
    if (last) break;
  }
  v2 ^= 0xff;
  for (let c = 0; c < 4; c++) {
    v0 = (v0 + v1) | 0;
    v1 = rotl(v1, 5) ^ v0;
    v0 = rotl(v0, 16);
    v2 = (v2 + v3) | 0;
    v3 = rotl(v3, 8) ^ v2;
    v0 = (v0 + v3) | 0;
    v3 = rotl(v3, 7) ^ v0;
    v2 = (v2 + v1) | 0;
    v1 = rotl(v1, 13) ^ v2;
    v2 = rotl(v2, 16);
  }
  return (v1 ^ v3) >>> 0;
}

export class ConnectionIdIssuer {
  private readonly secret: Buffer;
  private readonly ttl: number;
  private readonly skew: number;
  /** K_t by issue second, as [k0, k1]. Bounded: only seconds inside the acceptance window are ever derived. */
  private readonly keys = new Map<number, Uint32Array>();
  private readonly timeBuf = Buffer.alloc(4);
  private readonly maxKeys: number;

  constructor(secret: Uint8Array, ttlSeconds: number, opts?: ConnectionIdOptions) {
    if (secret.length < 16) throw new TypeError('connection id secret must be at least 16 bytes (32 recommended)');
    if (!(ttlSeconds > 0)) throw new RangeError('connection id ttl must be positive');
    this.secret = Buffer.from(secret);
    this.ttl = ttlSeconds;
    this.skew = opts?.skewSeconds ?? 2;
    this.maxKeys = Math.min(2 * (this.ttl + this.skew + 2), 16384);
  }

  /** A fresh 8-byte connection id for `ip` (4 or 16 bytes). `_port` is deliberately ignored. */
  issue(nowSeconds: number, ip: Uint8Array, _port?: number): Buffer {
    const t = Math.floor(nowSeconds) >>> 0;
    const tag = this.tag(t, ip);
    if (tag < 0) throw new TypeError('ip must be 4 or 16 bytes');
    const id = Buffer.allocUnsafe(8);
    id.writeUInt32BE(t, 0);
    id.writeUInt32BE(tag, 4);
    return id;
  }

  /** True when `id` was issued by this issuer (same secret) to `ip`, and is still valid at `nowSeconds`. */
  check(id: Uint8Array, nowSeconds: number, ip: Uint8Array, _port?: number): boolean {
    if (id.length !== 8) return false;
    return this.checkAt(id, 0, nowSeconds, ip);
  }

  /**
   * check() of the 8 bytes at `buf[off ..]` (a datagram's first 8 bytes, without a view made for
   * them); false when they are not all there.
   */
  checkAt(buf: Uint8Array, off: number, nowSeconds: number, ip: Uint8Array): boolean {
    if (!(off >= 0 && off + 8 <= buf.length)) return false;
    const t = ((buf[off]! << 24) | (buf[off + 1]! << 16) | (buf[off + 2]! << 8) | buf[off + 3]!) >>> 0;
    const now = Math.floor(nowSeconds);
    if (now - t > this.ttl || t > now + this.skew) return false;
    const tag = this.tag(t, ip);
    if (tag < 0) return false;
    const got = ((buf[off + 4]! << 24) | (buf[off + 5]! << 16) | (buf[off + 6]! << 8) | buf[off + 7]!) >>> 0;
    return got === tag;
  }

  /** The tag of `ip` at second `t`, or -1 when ip is not 4 or 16 bytes. */
  private tag(t: number, ip: Uint8Array): number {
    let off = 0;
    let len = ip.length;
    if (len === 16) {
      let mapped = ip[10] === 0xff && ip[11] === 0xff;
      for (let i = 0; mapped && i < 10; i++) if (ip[i] !== 0) mapped = false;
      if (mapped) {
        off = 12;
        len = 4;
      }
    } else if (len !== 4) return -1;
    const k = this.keyFor(t);
    return halfSipHash24(k[0]!, k[1]!, ip, off, len);
  }

  private keyFor(t: number): Uint32Array {
    let k = this.keys.get(t);
    if (k === undefined) {
      this.timeBuf.writeUInt32BE(t, 0);
      const mac = createHmac('sha256', this.secret).update(LABEL).update(this.timeBuf).digest();
      k = Uint32Array.of(mac.readUInt32LE(0), mac.readUInt32LE(4));
      if (this.keys.size >= this.maxKeys) {
        this.prune(t);
        // A huge ttl could still leave the window larger than the cap: start afresh then.
        if (this.keys.size >= this.maxKeys) this.keys.clear();
      }
      this.keys.set(t, k);
    }
    return k;
  }

  /** Drops cached keys more than one window away from `t` (amortised: runs when the cache is full). */
  private prune(t: number): void {
    for (const s of this.keys.keys()) {
      if (s < t - this.ttl - this.skew || s > t + this.ttl + this.skew) this.keys.delete(s);
    }
  }
}

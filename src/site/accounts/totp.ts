/**
 * Time-based one-time passwords (RFC 6238 over RFC 4226's HOTP): HMAC-SHA1, 30-second steps,
 * 6 digits, the codes of the previous and next steps accepted to allow for clock drift. Secrets
 * travel as RFC 4648 base32 (what authenticator apps read from the otpauth:// URI).
 *
 * Replay: a code stays valid for up to 90 seconds (±1 step), so each member's last accepted step
 * is remembered and a code of that step or an earlier one is refused. That memory lives in the
 * process (`TotpReplayGuard`, one per Site): after a restart, or on another web node (#6), the
 * same code could be accepted once more within its 90 seconds. A shared store would close that
 * window; the per-process guard covers the usual case (a code seen over the shoulder or replayed
 * from a captured form on the same server).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';

export const TOTP_PERIOD = 30;
export const TOTP_DIGITS = 6;
/** Steps accepted on either side of the current one. */
export const TOTP_WINDOW = 1;

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 (upper case), with `=` padding unless `pad` is false. */
export function base32Encode(data: Uint8Array, pad = true): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of data) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += B32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) out += B32[(value << (5 - bits)) & 31];
  if (pad) while (out.length % 8 !== 0) out += '=';
  return out;
}

/**
 * Decodes base32, forgiving what people type: lower case, spaces and hyphens, missing padding.
 * Returns null for anything else (a character outside the alphabet, an impossible length, or
 * non-zero trailing bits).
 */
export function base32Decode(text: string): Buffer | null {
  const s = text.replace(/[\s-]/g, '').toUpperCase().replace(/=+$/, '');
  // Lengths that cannot end a quantum: 1, 3 and 6 characters mod 8.
  if ([1, 3, 6].includes(s.length % 8)) return null;
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const ch of s) {
    const v = B32.indexOf(ch);
    if (v < 0) return null;
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
    value &= (1 << bits) - 1;
  }
  if (value !== 0) return null;
  return Buffer.from(out);
}

/** RFC 4226 HOTP: the `digits`-digit code for `counter`. */
export function hotp(key: Uint8Array, counter: number, digits = TOTP_DIGITS, algorithm: 'sha1' | 'sha256' | 'sha512' = 'sha1'): string {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac(algorithm, key).update(msg).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  const bin = ((mac[offset]! & 0x7f) << 24) | (mac[offset + 1]! << 16) | (mac[offset + 2]! << 8) | mac[offset + 3]!;
  return String(bin % 10 ** digits).padStart(digits, '0');
}

/** The time step of an instant (epoch seconds). */
export function totpStep(epochSeconds: number, period = TOTP_PERIOD): number {
  return Math.floor(epochSeconds / period);
}

/** RFC 6238 TOTP: the code at `epochSeconds`. */
export function totp(key: Uint8Array, epochSeconds: number, o: { digits?: number; period?: number; algorithm?: 'sha1' | 'sha256' | 'sha512' } = {}): string {
  return hotp(key, totpStep(epochSeconds, o.period ?? TOTP_PERIOD), o.digits ?? TOTP_DIGITS, o.algorithm ?? 'sha1');
}

/** The code of a base32 secret at a given step (tests, and enrolment checks). */
export function totpAtStep(secretBase32: string, step: number): string {
  const key = base32Decode(secretBase32);
  if (!key) throw new TypeError('not a base32 secret');
  return hotp(key, step);
}

/**
 * The step whose code `code` is, within ±TOTP_WINDOW steps of `epochSeconds`, or null. Codes are
 * compared in constant time; spaces in the typed code are ignored.
 */
export function matchTotp(secretBase32: string, code: string, epochSeconds: number): number | null {
  const typed = code.replace(/\s/g, '');
  if (!/^\d{6}$/.test(typed)) return null;
  const key = base32Decode(secretBase32);
  if (!key || key.length === 0) return null;
  const now = totpStep(epochSeconds);
  let found: number | null = null;
  for (let step = now - TOTP_WINDOW; step <= now + TOTP_WINDOW; step++) {
    if (step < 0) continue;
    // No early exit: every candidate is computed and compared.
    if (timingSafeEqual(Buffer.from(hotp(key, step)), Buffer.from(typed)) && found === null) found = step;
  }
  return found;
}

/** A new secret: 20 random bytes (160 bits, RFC 4226's recommendation) in base32 without padding. */
export function newTotpSecret(): string {
  return base32Encode(randomBytes(20), false);
}

/** The otpauth:// URI that authenticator apps import (Key Uri Format). */
export function otpauthUri(issuer: string, account: string, secretBase32: string): string {
  const label = `${encodeURIComponent(issuer)}:${encodeURIComponent(account)}`;
  const q = new URLSearchParams({ secret: secretBase32, issuer, algorithm: 'SHA1', digits: String(TOTP_DIGITS), period: String(TOTP_PERIOD) });
  return `otpauth://totp/${label}?${q.toString()}`;
}

/** The secret grouped by four characters, easier to type into an app by hand. */
export function groupSecret(secretBase32: string): string {
  return secretBase32.replace(/(.{4})(?=.)/g, '$1 ');
}

/**
 * Remembers, per member, the last time step whose code was accepted, so that a code cannot be
 * used twice (in this process only; see the module comment).
 */
export class TotpReplayGuard {
  private readonly last = new Map<number, number>();

  /** True (and the step recorded) when `step` is newer than the member's last accepted one. */
  accept(userId: number, step: number): boolean {
    const prev = this.last.get(userId);
    if (prev !== undefined && step <= prev) return false;
    this.last.set(userId, step);
    if (this.last.size > 50_000) this.prune(step);
    return true;
  }

  /** The last accepted step of a member, if any. */
  lastStep(userId: number): number | undefined {
    return this.last.get(userId);
  }

  /** Forgets steps too old to be replayed anyway. */
  private prune(currentStep: number): void {
    for (const [id, s] of this.last) if (s < currentStep - 2 * TOTP_WINDOW - 1) this.last.delete(id);
  }
}

const guards = new WeakMap<object, TotpReplayGuard>();

/** The replay guard of one site (keyed by the Site object, so that test sites never share one). */
export function replayGuardFor(site: object): TotpReplayGuard {
  let g = guards.get(site);
  if (!g) {
    g = new TotpReplayGuard();
    guards.set(site, g);
  }
  return g;
}

/**
 * The shared half of the replay guard: records `step` as the member's last used step in the
 * database unless a step as recent is there already (compare-and-set), so that a code accepted by
 * one web node is refused by every other. True when this use is the first.
 */
export async function claimTotpStep(db: Kysely<Database>, userId: number, step: number): Promise<boolean> {
  const r = await db
    .updateTable('user')
    .set({ totp_last_step: step })
    .where('id', '=', userId)
    .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', step)]))
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** verifyTotpOnce, then the database's replay guard (several web nodes). Returns the accepted step or null. */
export async function verifyTotpShared(db: Kysely<Database>, guard: TotpReplayGuard, userId: number, secretBase32: string, code: string, epochSeconds: number): Promise<number | null> {
  const step = verifyTotpOnce(guard, userId, secretBase32, code, epochSeconds);
  if (step === null) return null;
  return (await claimTotpStep(db, userId, step)) ? step : null;
}

/**
 * Checks a typed code against a member's secret: it must match within the window and be newer
 * than the last code this member used. Returns the accepted step or null.
 */
export function verifyTotpOnce(guard: TotpReplayGuard, userId: number, secretBase32: string, code: string, epochSeconds: number): number | null {
  const step = matchTotp(secretBase32, code, epochSeconds);
  if (step === null) return null;
  return guard.accept(userId, step) ? step : null;
}

/**
 * Password hashing with scrypt (node:crypto; no native addon). Stored as
 * `scrypt$<logN>$<r>$<p>$<salt b64>$<hash b64>` so that the cost can be raised later and old
 * hashes still verify (`needsRehash` tells when to upgrade at the next login).
 */
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const LOG_N = 15;
const R = 8;
const P = 1;
const KEY_LEN = 32;

function scrypt(password: string, salt: Buffer, keyLen: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCb(password.normalize('NFKC'), salt, keyLen, opts, (err, key) => (err ? reject(err) : resolve(key))));
}

const maxmem = (logN: number, r: number) => 256 * 2 ** logN * r;

export async function hashPassword(password: string, logN = LOG_N): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, KEY_LEN, { N: 2 ** logN, r: R, p: P, maxmem: maxmem(logN, R) });
  return `scrypt$${logN}$${R}$${P}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** True when `password` matches `stored`; false for a wrong password or an unreadable hash. */
export async function verifyPassword(password: string, stored: string | null): Promise<boolean> {
  if (!stored) return false;
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const logN = Number(parts[1]);
  const r = Number(parts[2]);
  const p = Number(parts[3]);
  if (![logN, r, p].every((x) => Number.isInteger(x) && x > 0) || logN > 20 || r > 32 || p > 16) return false;
  const salt = Buffer.from(parts[4]!, 'base64');
  const expected = Buffer.from(parts[5]!, 'base64');
  if (expected.length < 16) return false;
  const key = await scrypt(password, salt, expected.length, { N: 2 ** logN, r, p, maxmem: maxmem(logN, r) });
  return timingSafeEqual(key, expected);
}

export function needsRehash(stored: string): boolean {
  return !stored.startsWith(`scrypt$${LOG_N}$${R}$${P}$`);
}

/** Rules for new passwords: an error message key, or null when acceptable. */
export function passwordProblem(password: string, username: string): 'too_short' | 'too_long' | 'same_as_username' | null {
  if ([...password].length < 10) return 'too_short';
  if (password.length > 1024) return 'too_long';
  if (password.toLowerCase() === username.toLowerCase()) return 'same_as_username';
  return null;
}

/**
 * The half-done login between the password and the two-factor code: a short-lived token signed
 * with the site secret (HMAC-SHA256), carried in a hidden form field. It names the member, the
 * "remember me" choice and an expiry (5 minutes), and is bound to the browser's CSRF cookie so
 * that it is worthless in another browser. No session exists until the code is right.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const PENDING_LOGIN_TTL = 300;

export interface PendingLogin {
  userId: number;
  remember: boolean;
  /** Epoch seconds. */
  expires: number;
}

function mac(secret: Buffer, body: string, binding: string): string {
  return createHmac('sha256', secret).update(`login-2fa\n${body}\n${binding}`).digest('base64url');
}

/** `<userId>.<0|1>.<expires>.<mac>` */
export function signPendingLogin(secret: Buffer, p: PendingLogin, binding: string): string {
  const body = `${p.userId}.${p.remember ? 1 : 0}.${p.expires}`;
  return `${body}.${mac(secret, body, binding)}`;
}

/** The pending login when the token is authentic, bound to `binding` and not expired; else null. */
export function readPendingLogin(secret: Buffer, token: unknown, binding: string, now: number): PendingLogin | null {
  if (typeof token !== 'string' || token.length > 200) return null;
  const m = /^(\d{1,15})\.([01])\.(\d{1,15})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!m) return null;
  const body = `${m[1]}.${m[2]}.${m[3]}`;
  const expected = Buffer.from(mac(secret, body, binding));
  const got = Buffer.from(m[4]!);
  if (expected.length !== got.length || !timingSafeEqual(expected, got)) return null;
  const p: PendingLogin = { userId: Number(m[1]), remember: m[2] === '1', expires: Number(m[3]) };
  if (p.expires <= now) return null;
  return p;
}

/**
 * The login captcha: a small sum, difference or product to work out, self-hosted (no third-party
 * service), asked once an IP address or an account has `joining.captcha_after` failed logins
 * within the login window.
 *
 * A challenge is stateless until answered: its token is `<nonce>.<expiry>.<mac>` where mac is
 * HMAC-SHA256(site secret, nonce, expiry, answer), so the answer is in neither the page's hidden
 * field nor any store; the server checks an answer by recomputing the MAC. Each token is good for
 * one try, right or wrong: its nonce is then remembered (in the rate limiter's memory, until the
 * token's expiry) and refused again.
 */
import { createHmac, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import type { Site } from '../site.js';

export type CaptchaOp = 'plus' | 'minus' | 'times';

export interface Challenge {
  token: string;
  a: number;
  b: number;
  op: CaptchaOp;
}

export type CaptchaResult = 'ok' | 'wrong' | 'expired' | 'used' | 'invalid';

function mac(secret: Buffer, nonce: string, expires: number, answer: number): string {
  return createHmac('sha256', secret).update(`captcha:${nonce}:${expires}:${answer}`).digest('base64url');
}

export function answerOf(a: number, op: CaptchaOp, b: number): number {
  return op === 'plus' ? a + b : op === 'minus' ? a - b : a * b;
}

/** A new challenge, answerable for `ttl` seconds. */
export function newChallenge(secret: Buffer, now: number, ttl: number): Challenge {
  const op: CaptchaOp = (['plus', 'minus', 'times'] as const)[randomInt(3)]!;
  let a: number;
  let b: number;
  if (op === 'times') {
    a = randomInt(2, 10);
    b = randomInt(2, 10);
  } else {
    a = randomInt(10, 50);
    b = randomInt(1, 10);
  }
  const nonce = randomBytes(12).toString('base64url');
  const expires = now + ttl;
  return { token: `${nonce}.${expires}.${mac(secret, nonce, expires, answerOf(a, op, b))}`, a, b, op };
}

const TOKEN_RE = /^([A-Za-z0-9_-]{16})\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/;

/** Checks an answer against a token; any try uses the token up. */
export function checkChallenge(site: Pick<Site, 'secret' | 'limiter'>, token: string, answer: string, now: number): CaptchaResult {
  const m = TOKEN_RE.exec(token);
  if (!m) return 'invalid';
  const nonce = m[1]!;
  const expires = Number(m[2]);
  if (expires <= now) return 'expired';
  // Single use: the first try counts the nonce; a second one finds it over its limit of one.
  if (!site.limiter.hit(`captcha:used:${nonce}`, 1, expires - now, now)) return 'used';
  const text = answer.trim().replace(/^[−–]/, '-');
  if (!/^-?\d{1,6}$/.test(text)) return 'wrong';
  const expected = Buffer.from(mac(site.secret, nonce, expires, Number(text)));
  const got = Buffer.from(m[3]!);
  return expected.length === got.length && timingSafeEqual(expected, got) ? 'ok' : 'wrong';
}

// --- when it is asked ----------------------------------------------------------------------------

export const captchaIpKey = (ip: string) => `captcha:ip:${ip}`;
export const captchaUserKey = (userId: number) => `captcha:user:${userId}`;
export const captchaNameKey = (login: string) => `captcha:name:${login.toLowerCase()}`;

/** Whether any of the keys (an IP, an account) has reached the failures that call for a captcha. */
export function captchaRequired(site: Pick<Site, 'config' | 'limiter' | 'now'>, keys: readonly string[]): boolean {
  const after = site.config.joining.captcha_after;
  const now = site.now();
  return keys.some((k) => site.limiter.blocked(k, after, now));
}

/** Counts a failed login against each key. */
export function captchaFailure(site: Pick<Site, 'config' | 'limiter' | 'now'>, keys: readonly string[]): void {
  const { captcha_after } = site.config.joining;
  const now = site.now();
  for (const k of keys) site.limiter.hit(k, captcha_after, site.config.web.login_window, now);
}

/** Forgets an account's failures (after a successful login). */
export function captchaReset(site: Pick<Site, 'limiter'>, keys: readonly string[]): void {
  for (const k of keys) site.limiter.reset(k);
}

/**
 * T411's `POST /auth`: username and password give `{"uid","token"}`, the token being
 * `<uid>:<n>:<32 hex>` and valid `api.t411_token_ttl` (T411: 90 days).
 *
 * The password is checked as the login form checks it (src/web/features/accounts/entry.ts): the
 * same failure counters per IP address and per account (`web.login_attempts` per
 * `web.login_window`, shared with the form, so that the API is no faster way to guess), deleted
 * accounts unknown, disabled accounts refused. The API cannot ask the form's captcha: its
 * failures count towards it (the form asks it next time), and the hard limit is what binds the API.
 *
 * Two-factor accounts: T411 had no second factor and its clients send only a username and a
 * password, again at every login. Such an account's password alone is refused (code 108); the
 * member gives instead one of their personal API tokens (`es_...`, with the read scope, made on
 * the account page) as the password. Any member may do so, which keeps the account password out
 * of the client's settings. Revoking that personal token does not revoke the T411 tokens obtained
 * with it; they are listed on the account page beside it and revoked there.
 *
 * Tokens are not made anew at every call (some clients log in every 30 minutes): `n` is the
 * token's creation time and the hex part an HMAC of uid and `n` under the site's secret, so the
 * member's newest live token can be given again while it has at least half its life left;
 * afterwards a new one is made (the older stays valid until it expires). Only the token's hash is
 * stored (api_token, kind 't411', scope read).
 */
import { createHmac } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { User } from '../../db/schema.js';
import { isUniqueViolation } from '../../db/errors.js';
import { findUserByLogin, setPasswordHash } from '../../db/user.repository.js';
import { captchaFailure, captchaIpKey, captchaNameKey, captchaReset, captchaUserKey } from '../../site/joining/captcha.js';
import { hashPassword, needsRehash, verifyPassword } from '../../site/passwords.js';
import { syncLimits } from '../../site/rate-limit.js';
import { hashToken } from '../../site/sessions.js';
import type { Site } from '../../site/site.js';
import { loginBlocked, loginFailed, loginIpKey, loginNameKey, loginUserKey, loginWindowMinutes } from '../../web/features/accounts/shared.js';
import { checkApiToken, createApiToken, isPersonalToken } from '../tokens.js';
import { T411_CODES, T411Error, userNotFound } from './errors.js';

export const T411_TOKEN_NAME = 'T411 API';
const TOKEN_RE = /^[1-9][0-9]{0,15}:[0-9]{1,16}:[0-9a-f]{32}$/;

/** The token of member `uid` made at `n` (epoch seconds): `<uid>:<n>:<32 hex>`. */
export function t411TokenFor(secret: Buffer, uid: number, n: number): string {
  const mac = createHmac('sha256', secret).update(`essaim-t411-token:${uid}:${n}`).digest('hex').slice(0, 32);
  return `${uid}:${n}:${mac}`;
}

/** Whether a string has the shape of a T411 token (nothing looked up). */
export function isT411Token(s: string): boolean {
  return TOKEN_RE.test(s);
}

/**
 * The member's T411 token: their newest live one when it has at least half of
 * `api.t411_token_ttl` left, else a new one.
 */
export async function issueT411Token(site: Pick<Site, 'db' | 'now' | 'secret' | 'config'>, userId: number): Promise<string> {
  const now = site.now();
  const ttl = site.config.api.t411_token_ttl;
  const live = await site.db
    .selectFrom('api_token')
    .select(['created_at', 'token_hash'])
    .where('user_id', '=', userId)
    .where('kind', '=', 't411')
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now + Math.floor(ttl / 2))
    .orderBy('created_at', 'desc')
    .limit(5)
    .execute();
  for (const row of live) {
    const token = t411TokenFor(site.secret, userId, Number(row.created_at));
    if (hashToken(token) === row.token_hash) return token;
  }
  // Two logins in the same second (or a token revoked in the second it was made) would make the
  // same token: the next second is taken instead.
  for (let k = 0; k < 5; k++) {
    const n = now + k;
    try {
      const made = await createApiToken(site.db, { userId, kind: 't411', name: T411_TOKEN_NAME, scopes: ['read'], now: n, expiresAt: n + ttl, token: t411TokenFor(site.secret, userId, n) });
      return made.token;
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
    }
  }
  throw new Error('could not make a T411 token');
}

let dummyHash: Promise<string> | null = null;
/** Spends about the time of a password check when there is no member to check against. */
async function dummyVerify(password: string): Promise<void> {
  dummyHash ??= hashPassword('essaim-no-such-member');
  await verifyPassword(password, await dummyHash);
}

function field(body: unknown, name: string, max: number): string {
  if (!body || typeof body !== 'object' || Buffer.isBuffer(body)) return '';
  const v = (body as Record<string, unknown>)[name];
  const s = Array.isArray(v) ? v[0] : v;
  return typeof s === 'string' ? s.slice(0, max) : typeof s === 'number' ? String(s) : '';
}

/** Checks the credentials of `POST /auth` and answers `{uid, token}`; T411Error otherwise. */
export async function t411Login(site: Site, req: FastifyRequest): Promise<{ uid: string; token: string }> {
  const login = field(req.body, 'username', 300).trim();
  const password = field(req.body, 'password', 2000);
  if (login === '') throw userNotFound();

  const found = await findUserByLogin(site.db, login);
  const user: User | undefined = found && found.deleted_at === null ? found : undefined;
  const keys = [loginIpKey(req.ip), user ? loginUserKey(user.id) : loginNameKey(login)];
  const ckeys = [captchaIpKey(req.ip), user ? captchaUserKey(user.id) : captchaNameKey(login)];
  // Several web nodes: learn the failures counted elsewhere first (as the login form does).
  await syncLimits(site.limiter, [...keys, ...ckeys], site.config.web.login_window, site.now());
  // Over the limit: refused before any check, right or wrong.
  if (loginBlocked(site, keys)) {
    throw new T411Error(T411_CODES.tooManyRequests, `Too many failed logins; try again in ${loginWindowMinutes(site)} minutes`, 429, site.config.web.login_window);
  }

  let ok = false;
  let byToken = false;
  if (user && password !== '') {
    if (isPersonalToken(password)) {
      const r = await checkApiToken(site.db, password, site.now(), 'personal');
      byToken = r.ok && r.principal.user.id === user.id && r.principal.scopes.has('read');
    }
    ok = byToken || (await verifyPassword(password, user.password_hash));
  } else {
    await dummyVerify(password);
  }
  if (!user || !ok) {
    loginFailed(site, keys);
    captchaFailure(site, ckeys);
    if (!user) throw userNotFound();
    throw new T411Error(T411_CODES.wrongPassword, 'Wrong password');
  }
  if (user.enabled !== 1) throw new T411Error(T411_CODES.accountDisabled, 'Account is disabled');
  if (!byToken && user.totp_enabled === 1 && user.totp_secret) {
    throw new T411Error(
      T411_CODES.twoFactor,
      'This account uses two-factor authentication: give one of your personal API tokens (account page, read scope) as the password',
    );
  }
  captchaReset(site, [captchaUserKey(user.id)]);
  if (!byToken && user.password_hash && needsRehash(user.password_hash)) {
    await setPasswordHash(site.db, user.id, await hashPassword(password), site.now());
  }
  return { uid: String(user.id), token: await issueT411Token(site, user.id) };
}

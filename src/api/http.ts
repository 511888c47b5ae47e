/**
 * What the programmatic APIs share over HTTP: where a token is read from, the rate limits (per
 * token and per IP address), and the error every API turns into its own format (JSON
 * `{ error: { code, message } }` for /api/v1, a Newznab `<error>` for Torznab, `{error, code}`
 * with HTTP 200 for T411, UNIT3D's `{ success, message }`).
 */
import type { FastifyRequest } from 'fastify';
import type { ApiScope, User } from '../db/schema.js';
import type { Site } from '../site/site.js';
import { mustVerifyEmail } from '../site/joining/verify.js';
import { checkApiToken, type ApiPrincipal } from './tokens.js';

/** Machine-readable error codes shared by the APIs (each API maps them to its own). */
export type ApiErrorCode =
  | 'unauthorized'
  | 'token_expired'
  | 'account_disabled'
  | 'forbidden'
  | 'insufficient_scope'
  | 'not_found'
  | 'bad_request'
  | 'validation_failed'
  | 'rate_limited'
  | 'email_unverified'
  | 'conflict'
  | 'payload_too_large'
  | 'internal';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode,
    message: string,
    /** Extra detail (e.g. the upload problems, each naming its field). */
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/**
 * The token a request carries, from (first found): `Authorization: Bearer <t>` (or `Token <t>`,
 * or a bare token as T411's clients send), `X-Api-Key`, or the `apikey` / `api_token` query
 * parameter (Torznab, UNIT3D). Null when there is none.
 */
export function requestToken(req: FastifyRequest): string | null {
  const auth = req.headers.authorization;
  if (typeof auth === 'string' && auth.trim() !== '') {
    const m = /^(?:Bearer|Token)\s+(\S+)\s*$/i.exec(auth.trim());
    return m ? m[1]! : auth.trim();
  }
  const key = req.headers['x-api-key'];
  if (typeof key === 'string' && key !== '') return key;
  const q = req.query as Record<string, unknown> | undefined;
  for (const name of ['apikey', 'api_token']) {
    const v = q?.[name];
    if (typeof v === 'string' && v !== '') return v;
  }
  const b = req.body as Record<string, unknown> | undefined;
  if (b && typeof b === 'object' && !Buffer.isBuffer(b)) {
    const v = b.api_token;
    if (typeof v === 'string' && v !== '') return v;
  }
  return null;
}

/** Counts one request against the caller's IP address; false when over `api.rate_limit_ip`. */
export function ipAllowed(site: Site, req: FastifyRequest): boolean {
  const c = site.config.api;
  return site.limiter.hit(`api:ip:${req.ip}`, c.rate_limit_ip, c.rate_window, site.now());
}

/** Counts one request against the token; false when over `api.rate_limit`. */
export function tokenAllowed(site: Site, tokenId: number): boolean {
  const c = site.config.api;
  return site.limiter.hit(`api:token:${tokenId}`, c.rate_limit, c.rate_window, site.now());
}

/**
 * The member a token speaks for, with the scope checked and the per-token rate limit counted.
 * Throws ApiError: 401 unauthorized / token_expired / account_disabled, 403 insufficient_scope,
 * 429 rate_limited. `kind` restricts the token's kind (T411's own tokens).
 */
export async function authenticate(site: Site, req: FastifyRequest, scope: ApiScope, raw: string | null = requestToken(req), kind?: 'personal' | 't411'): Promise<ApiPrincipal> {
  if (raw === null) throw new ApiError(401, 'unauthorized', 'An API token is required.');
  const r = await checkApiToken(site.db, raw, site.now(), kind);
  if (!r.ok) {
    if (r.reason === 'expired') throw new ApiError(401, 'token_expired', 'The API token has expired.');
    if (r.reason === 'disabled') throw new ApiError(401, 'account_disabled', 'The account is disabled.');
    throw new ApiError(401, 'unauthorized', 'The API token is not valid.');
  }
  if (!r.principal.scopes.has(scope)) throw new ApiError(403, 'insufficient_scope', `The API token lacks the "${scope}" scope.`);
  if (!tokenAllowed(site, r.principal.tokenId)) throw new ApiError(429, 'rate_limited', 'Too many requests for this token; slow down.');
  return r.principal;
}

/** Throws when the member may not download yet (email to verify first, as on the site). */
export function assertMayDownload(site: Site, user: User): void {
  if (mustVerifyEmail(site, user)) throw new ApiError(403, 'email_unverified', 'Verify your email address before downloading.');
}

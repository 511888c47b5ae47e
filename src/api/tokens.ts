/**
 * API tokens: the credentials of every programmatic API (Essaim's /api/v1, Torznab's `apikey`,
 * UNIT3D's `api_token`, and the tokens T411's `/auth` call issues).
 *
 * A personal token is made by the member on the account page, shown once, and kept only as its
 * SHA-256 (`api_token.token_hash`) with a short hint (its last four characters) so that the
 * member can tell tokens apart. It carries scopes: `read` (list, search, details, download,
 * bookmarks, the member's own stats) and `upload`. Tokens may expire; members revoke them.
 *
 * Shape: `es_` followed by 40 lowercase hex characters (160 random bits). The prefix makes a
 * leaked token recognisable to secret scanners; the request log redacts it in query strings
 * (src/shared/log.ts) and the Authorization header is never logged.
 */
import { randomBytes } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import type { ApiScope, ApiTokenKind, ApiTokenTable, Database, User } from '../db/schema.js';
import { hashToken } from '../site/sessions.js';

export const API_SCOPES: readonly ApiScope[] = ['read', 'upload'];
export const TOKEN_PREFIX = 'es_';
const PERSONAL_RE = /^es_[0-9a-f]{40}$/;
/** Longest token string looked up at all (T411 tokens included); longer input is refused unhashed. */
export const MAX_TOKEN_LENGTH = 200;
/** `last_used_at` is written at most this often per token (seconds), not on every request. */
export const LAST_USED_GRANULARITY = 60;
export const TOKEN_NAME_MAX = 80;

export type ApiTokenRow = Selectable<ApiTokenTable>;

export function isApiScope(s: unknown): s is ApiScope {
  return s === 'read' || s === 'upload';
}

export function newPersonalToken(): string {
  return TOKEN_PREFIX + randomBytes(20).toString('hex');
}

export function isPersonalToken(s: unknown): s is string {
  return typeof s === 'string' && PERSONAL_RE.test(s);
}

export function parseScopes(s: string): ApiScope[] {
  return s.split(' ').filter(isApiScope);
}

export interface NewApiToken {
  userId: number;
  kind: ApiTokenKind;
  name: string;
  scopes: readonly ApiScope[];
  now: number;
  /** Epoch seconds; null: never expires. */
  expiresAt?: number | null;
  /** The token itself when the caller makes its own shape (T411's `<uid>:<n>:<hex>`); else a personal token. */
  token?: string;
}

/** Stores a token (hashed) and returns it with its id: the only time the token is seen in clear. */
export async function createApiToken(db: Kysely<Database>, o: NewApiToken): Promise<{ id: number; token: string }> {
  const token = o.token ?? newPersonalToken();
  const scopes = API_SCOPES.filter((s) => o.scopes.includes(s));
  const row = await db
    .insertInto('api_token')
    .values({
      user_id: o.userId,
      kind: o.kind,
      name: o.name.slice(0, TOKEN_NAME_MAX),
      token_hash: hashToken(token),
      hint: token.slice(-4),
      scopes: scopes.join(' '),
      created_at: o.now,
      last_used_at: null,
      expires_at: o.expiresAt ?? null,
      revoked_at: null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { id: row.id, token };
}

/** What the account page lists (never the hash). */
export interface ApiTokenInfo {
  id: number;
  kind: ApiTokenKind;
  name: string;
  hint: string;
  scopes: ApiScope[];
  created_at: number;
  last_used_at: number | null;
  expires_at: number | null;
}

/** The member's live tokens (not revoked, not expired), newest first. */
export async function listApiTokens(db: Kysely<Database>, userId: number, now: number): Promise<ApiTokenInfo[]> {
  const rows = await db
    .selectFrom('api_token')
    .select(['id', 'kind', 'name', 'hint', 'scopes', 'created_at', 'last_used_at', 'expires_at'])
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .orderBy('id', 'desc')
    .execute();
  return rows.map((r) => ({ ...r, scopes: parseScopes(r.scopes) }));
}

export async function countLiveTokens(db: Kysely<Database>, userId: number, kind: ApiTokenKind, now: number): Promise<number> {
  const r = await db
    .selectFrom('api_token')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('user_id', '=', userId)
    .where('kind', '=', kind)
    .where('revoked_at', 'is', null)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** Revokes one of the member's tokens; false when it is not theirs or already revoked. */
export async function revokeApiToken(db: Kysely<Database>, userId: number, id: number, now: number): Promise<boolean> {
  const r = await db
    .updateTable('api_token')
    .set({ revoked_at: now })
    .where('id', '=', id)
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** Revokes every token of the member, or every token of one kind (a password change ends T411 logins). */
export async function revokeAllApiTokens(db: Kysely<Database>, userId: number, now: number, kind?: ApiTokenKind): Promise<number> {
  let q = db.updateTable('api_token').set({ revoked_at: now }).where('user_id', '=', userId).where('revoked_at', 'is', null);
  if (kind) q = q.where('kind', '=', kind);
  const r = await q.executeTakeFirst();
  return Number(r.numUpdatedRows);
}

/** Who a valid token speaks for. */
export interface ApiPrincipal {
  user: User;
  tokenId: number;
  kind: ApiTokenKind;
  scopes: ReadonlySet<ApiScope>;
}

export type TokenCheck =
  | { ok: true; principal: ApiPrincipal }
  /** unknown: no such token (or revoked); expired: past its expiry; disabled: the account is disabled or deleted. */
  | { ok: false; reason: 'unknown' | 'expired' | 'disabled' };

/**
 * Looks a token up. `kind` restricts it to one kind (T411's API accepts only its own tokens).
 * A revoked token is `unknown`, so that its existence is not confirmed.
 */
export async function checkApiToken(db: Kysely<Database>, raw: string, now: number, kind?: ApiTokenKind): Promise<TokenCheck> {
  if (raw.length === 0 || raw.length > MAX_TOKEN_LENGTH) return { ok: false, reason: 'unknown' };
  let q = db
    .selectFrom('api_token')
    .select(['id', 'user_id', 'kind', 'scopes', 'expires_at', 'revoked_at', 'last_used_at'])
    .where('token_hash', '=', hashToken(raw));
  if (kind) q = q.where('kind', '=', kind);
  const tok = await q.executeTakeFirst();
  if (!tok || tok.revoked_at !== null) return { ok: false, reason: 'unknown' };
  if (tok.expires_at !== null && tok.expires_at <= now) return { ok: false, reason: 'expired' };
  const user = await db.selectFrom('user').selectAll().where('id', '=', tok.user_id).executeTakeFirst();
  if (!user || user.enabled !== 1 || user.deleted_at !== null) return { ok: false, reason: 'disabled' };
  if (tok.last_used_at === null || now - tok.last_used_at >= LAST_USED_GRANULARITY) {
    await db.updateTable('api_token').set({ last_used_at: now }).where('id', '=', tok.id).execute();
  }
  return { ok: true, principal: { user, tokenId: tok.id, kind: tok.kind, scopes: new Set(parseScopes(tok.scopes)) } };
}

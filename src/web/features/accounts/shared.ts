/**
 * Pieces shared by the accounts pages: form fields with their errors, reading form bodies,
 * validation of usernames, emails and new passwords, the `next` parameter, starting a session,
 * the login rate-limit keys, and the account pages' sub-navigation.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { findUserByEmail, findUserByUsername, recordLogin } from '../../../db/user.repository.js';
import type { User } from '../../../db/schema.js';
import { recordLoginIp } from '../../../site/joining/ips.js';
import { passwordProblem, verifyPassword } from '../../../site/passwords.js';
import { createSession, deleteSession } from '../../../site/sessions.js';
import type { Site } from '../../../site/site.js';
import { cookieOptions, RedirectSent, requireUser, SESSION_COOKIE, type RequestContext } from '../../context.js';
import { attr, html, type Html } from '../../html.js';
import type { MessageKey } from '../../messages.js';

export type FieldErrors = Partial<Record<string, MessageKey>>;

export function hasErrors(e: FieldErrors): boolean {
  return Object.values(e).some((v) => v !== undefined);
}

/** The parsed urlencoded body (an empty object when there is none). */
export function bodyOf(req: FastifyRequest): Record<string, unknown> {
  const b = req.body;
  return b && typeof b === 'object' ? (b as Record<string, unknown>) : {};
}

/** A single string field (an array or anything else reads as empty), cut at `max` characters. */
export function str(body: Record<string, unknown>, name: string, max = 2000): string {
  const v = body[name];
  return typeof v === 'string' ? v.slice(0, max) : '';
}

export function checked(body: Record<string, unknown>, name: string): boolean {
  const v = body[name];
  return v === '1' || v === 'on' || v === 'yes' || v === 'true';
}

export interface FieldOptions {
  name: string;
  label: string;
  type?: 'text' | 'email' | 'password';
  /** Never given for passwords. */
  value?: string;
  error?: MessageKey | undefined;
  hint?: string;
  autocomplete?: string;
  required?: boolean;
  inputmode?: 'numeric' | 'text';
  minlength?: number;
  maxlength?: number;
  autofocus?: boolean;
  /** Prefix of the element ids when a page holds several forms. */
  idPrefix?: string;
}

/** A labelled input with its hint and error, linked by aria-describedby. */
export function field(ctx: RequestContext, o: FieldOptions): Html {
  const id = `${o.idPrefix ?? 'f'}-${o.name}`;
  const hintId = `${id}-hint`;
  const errId = `${id}-error`;
  const described = [o.hint ? hintId : null, o.error ? errId : null].filter(Boolean).join(' ');
  const value = o.type === 'password' ? undefined : o.value;
  return html`<div class="field">
  <label for="${id}">${o.label}</label>
  <input id="${id}" name="${o.name}" type="${o.type ?? 'text'}"${value !== undefined && value !== '' ? html` value="${value}"` : ''}${o.autocomplete ? html` autocomplete="${o.autocomplete}"` : ''}${o.inputmode ? html` inputmode="${o.inputmode}"` : ''}${o.minlength ? html` minlength="${o.minlength}"` : ''}${o.maxlength ? html` maxlength="${o.maxlength}"` : ''}${attr('required', o.required ?? false)}${attr('autofocus', o.autofocus ?? false)}${o.error ? html` aria-invalid="true"` : ''}${described ? html` aria-describedby="${described}"` : ''}>
  ${o.hint ? html`<p class="hint" id="${hintId}">${o.hint}</p>` : ''}
  ${o.error ? html`<p class="field-error" id="${errId}">${ctx.t(o.error)}</p>` : ''}
</div>`;
}

/** The banner above a form with errors; `general` is a (translated) message not tied to one field. */
export function errorSummary(ctx: RequestContext, errors: FieldErrors, general?: string | null): Html {
  if (!hasErrors(errors) && !general) return html``;
  return html`<div class="form-errors" role="alert">
  ${general ? html`<p>${general}</p>` : ''}
  ${hasErrors(errors) ? html`<p>${ctx.t('common.form.errors')}</p>` : ''}
</div>`;
}

export const USERNAME_RE = /^[A-Za-z0-9_.-]{3,32}$/;
const EMAIL_RE = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:"]+$/;

export function usernameError(username: string): MessageKey | undefined {
  if (username === '') return 'common.form.required';
  if (!USERNAME_RE.test(username)) return 'accounts.username.invalid';
  return undefined;
}

/** Addresses are compared and stored in lower case. */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

export function emailError(email: string): MessageKey | undefined {
  if (email === '') return 'common.form.required';
  if (email.length > 254 || !EMAIL_RE.test(email)) return 'accounts.email.invalid';
  return undefined;
}

/** Errors of a new password and its confirmation, under the fields `password` and `password_confirm`. */
export function newPasswordErrors(password: string, confirm: string, username: string): FieldErrors {
  const e: FieldErrors = {};
  if (password === '') e.password = 'common.form.required';
  else {
    const p = passwordProblem(password, username);
    if (p) e.password = `accounts.password.${p}`;
  }
  if (!e.password && confirm !== password) e.password_confirm = 'accounts.password.mismatch';
  return e;
}

/** Field errors for a username and email already in use. */
export async function takenErrors(site: Site, username: string, email: string, e: FieldErrors): Promise<void> {
  if (!e.username && (await findUserByUsername(site.db, username))) e.username = 'accounts.username.taken';
  if (!e.email && (await findUserByEmail(site.db, email))) e.email = 'accounts.email.taken';
}

/**
 * A `next` parameter that is safe to redirect to: a path on this site ("/" then anything but a
 * second "/" or a backslash, which browsers would read as another host), else null.
 */
export function safeNext(v: unknown): string | null {
  if (typeof v !== 'string' || v.length === 0 || v.length > 2000) return null;
  if (!v.startsWith('/') || v.startsWith('//') || v.startsWith('/\\')) return null;
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  if (/[\u0000-\u001f\u007f\\]/.test(v)) return null;
  return v;
}

// --- rate limits --------------------------------------------------------------------------------

export const loginIpKey = (ip: string) => `login:ip:${ip}`;
export const loginUserKey = (userId: number) => `login:user:${userId}`;
export const loginNameKey = (login: string) => `login:name:${login.toLowerCase()}`;

/** Whether any of the keys is over the login limit (nothing counted). */
export function loginBlocked(site: Site, keys: readonly string[]): boolean {
  const { login_attempts } = site.config.web;
  const now = site.now();
  return keys.some((k) => site.limiter.blocked(k, login_attempts, now));
}

/** Counts a failure against each key. */
export function loginFailed(site: Site, keys: readonly string[]): void {
  const { login_attempts, login_window } = site.config.web;
  const now = site.now();
  for (const k of keys) site.limiter.hit(k, login_attempts, login_window, now);
}

/** Minutes of the login window, for messages. */
export function loginWindowMinutes(site: Site): number {
  return Math.max(1, Math.ceil(site.config.web.login_window / 60));
}

/**
 * Checks a logged-in member's current password for a sensitive change, under the same limits as
 * logins (a stolen session cannot guess the password faster than the login form allows).
 * Returns an error message key, or null when the password is right.
 */
export async function checkCurrentPassword(site: Site, req: FastifyRequest, user: User, password: string): Promise<MessageKey | null> {
  const keys = [loginIpKey(req.ip), loginUserKey(user.id)];
  if (loginBlocked(site, keys)) return 'accounts.login.rate_limited_short';
  if (password === '') return 'common.form.required';
  if (!(await verifyPassword(password, user.password_hash))) {
    loginFailed(site, keys);
    return 'accounts.password.current_wrong';
  }
  return null;
}

/**
 * The logged-in member, or null after sending the redirect to the login page. Like requireUser,
 * without throwing once the reply is sent (Fastify would log that as a failed request).
 */
export function loggedIn(req: FastifyRequest, reply: FastifyReply): User | null {
  try {
    return requireUser(req, reply);
  } catch (err) {
    if (err instanceof RedirectSent) return null;
    throw err;
  }
}

// --- sessions -----------------------------------------------------------------------------------

/**
 * Logs the member in: a new server-side session (the previous one of this browser, if any, ends),
 * its cookie (persistent with "remember me", else a browser-session cookie), the login recorded
 * (with its IP address, for the cap of accounts per address), and the account's failure count
 * cleared.
 */
export async function startSession(site: Site, req: FastifyRequest, reply: FastifyReply, userId: number, remember: boolean): Promise<void> {
  const now = site.now();
  if (req.ctx.sessionId) await deleteSession(site.db, req.ctx.sessionId);
  const ttl = remember ? site.config.web.remember_ttl : site.config.web.session_ttl;
  const ua = req.headers['user-agent'];
  const token = await createSession(site.db, userId, { persistent: remember, ttl, ip: req.ip, userAgent: typeof ua === 'string' ? ua : null, now });
  void reply.setCookie(SESSION_COOKIE, token, cookieOptions(site, remember ? ttl : undefined));
  await recordLogin(site.db, userId, now);
  await recordLoginIp(site.db, userId, req.ip, now);
  site.limiter.reset(loginUserKey(userId));
}

export function endSessionCookie(reply: FastifyReply): void {
  void reply.clearCookie(SESSION_COOKIE, { path: '/' });
}

// --- layout pieces ------------------------------------------------------------------------------

export type AccountSection = 'overview' | 'sessions' | 'twofactor' | 'password' | 'email' | 'privacy' | 'api';

/** The account pages' sub-navigation. */
export function accountNav(ctx: RequestContext, current: AccountSection): Html {
  const items: Array<[AccountSection, string, MessageKey]> = [
    ['overview', '/account', 'accounts.nav.overview'],
    ['password', '/account/password', 'accounts.nav.password'],
    ['email', '/account/email', 'accounts.nav.email'],
    ['twofactor', '/account/2fa', 'accounts.nav.twofactor'],
    ['sessions', '/account/sessions', 'accounts.nav.sessions'],
    ['privacy', '/account/privacy', 'lawful.privacy.nav'],
    ['api', '/account/api', 'apitokens.nav'],
  ];
  return html`<nav class="account-nav" aria-label="${ctx.t('accounts.nav.label')}">
  <ul>${items.map(([k, href, label]) => html`<li><a href="${href}"${k === current ? html` aria-current="page"` : ''}>${ctx.t(label)}</a></li>`)}</ul>
</nav>`;
}

/** A hidden input. */
export function hidden(name: string, value: string): Html {
  return html`<input type="hidden" name="${name}" value="${value}">`;
}

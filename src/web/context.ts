/**
 * The per-request context of the website: who is asking (session), in which language, the CSRF
 * token for forms, and helpers to render pages. Installed by `installContext(app, site)`:
 *
 * - locale: `?lang=xx` (sets a cookie and redirects to the same URL without it) > the member's
 *   setting > the `lang` cookie > Accept-Language > `site.default_locale`;
 * - session: the `essaim_session` cookie, looked up server-side (src/site/sessions.ts);
 * - CSRF: every unsafe request (POST, PUT, PATCH, DELETE) must carry `_csrf` (form field) or an
 *   `X-CSRF-Token` header equal to HMAC(site secret, the browser's `essaim_csrf` cookie). Routes
 *   that parse their own body (multipart uploads) set `config: { csrf: 'manual' }` and call
 *   `checkCsrf(req, token)` themselves; machine APIs with their own authentication set
 *   `config: { csrf: false }`.
 * - IP bans: a request from a banned address (src/site/discipline/ip-bans.ts; the address as the
 *   socket or a trusted proxy gives it) is answered 403 before anything else, login and
 *   registration included; only static assets and health checks stay reachable.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { User } from '../db/schema.js';
import type { Site } from '../site/site.js';
import { findSession, touchSession } from '../site/sessions.js';
import { siteFactors, type SiteFactors } from '../site/rules/freeleech.js';
import { isIpBanned } from '../site/discipline/ip-bans.js';
import { format, isLocale, negotiateLocale, type Locale } from './i18n.js';
import { catalogs, type MessageKey } from './messages.js';
import { errorPage } from './layout.js';

export const SESSION_COOKIE = 'essaim_session';
export const CSRF_COOKIE = 'essaim_csrf';
export const LANG_COOKIE = 'lang';
export const FLASH_COOKIE = 'essaim_flash';

export type Translate = (key: MessageKey, params?: Record<string, string | number>) => string;

export interface RequestContext {
  site: Site;
  locale: Locale;
  t: Translate;
  user: User | null;
  sessionId: string | null;
  /** The token to put in forms (`_csrf`). */
  csrf: string;
  /** Path and query of this request, for "back here" links (login, language switch). */
  path: string;
  /** A message key left by the previous request (after a redirect), shown once. */
  flash: MessageKey | null;
  /** Site-wide freeleech / double-upload window in force (the banner), or null. */
  siteFactors: SiteFactors | null;
}

declare module 'fastify' {
  interface FastifyRequest {
    ctx: RequestContext;
  }
  interface FastifyContextConfig {
    /** CSRF check: default true; 'manual' when the handler checks after parsing its body. */
    csrf?: boolean | 'manual';
  }
}

export function translator(locale: Locale): Translate {
  const cat = catalogs[locale];
  return (key, params) => format(cat[key] ?? key, params);
}

export function cookieOptions(site: Site, maxAge?: number) {
  return {
    path: '/',
    httpOnly: true,
    sameSite: 'lax' as const,
    secure: site.publicUrl.startsWith('https:'),
    ...(maxAge !== undefined ? { maxAge } : {}),
  };
}

function csrfFor(site: Site, cookie: string): string {
  return createHmac('sha256', site.secret).update(`csrf:${cookie}`).digest('base64url');
}

export function checkCsrf(req: FastifyRequest, token: unknown): boolean {
  const cookie = req.cookies[CSRF_COOKIE];
  if (!cookie || typeof token !== 'string' || token.length === 0) return false;
  const expected = Buffer.from(csrfFor(req.ctx.site, cookie));
  const got = Buffer.from(token);
  return expected.length === got.length && timingSafeEqual(expected, got);
}

export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly messageKey: MessageKey,
  ) {
    super(messageKey);
  }
}

/**
 * The member, or else a redirect to the login page: throws `LoginRequired`, which the error
 * handler turns into a 303 to /login?next=<this page> (handlers stay linear; nothing is sent twice).
 */
export function requireUser(req: FastifyRequest, _reply?: FastifyReply): User {
  const u = req.ctx.user;
  if (u) return u;
  throw new LoginRequired(req.ctx.path);
}

/** Thrown when a page needs a logged-in member; answered with a redirect to the login page. */
export class LoginRequired extends Error {
  constructor(readonly next: string) {
    super('login required');
  }
}

/** Thrown after a redirect was sent; the error handler ignores it. */
export class RedirectSent extends Error {}

export function setFlash(reply: FastifyReply, key: MessageKey): void {
  void reply.setCookie(FLASH_COOKIE, key, { path: '/', httpOnly: true, sameSite: 'lax', maxAge: 60 });
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Reachable from a banned address: the assets of the refusal page, and health checks. */
const UNBANNABLE = /^\/(static\/|healthz$|readyz$)/;

export function installContext(app: FastifyInstance, site: Site): void {
  app.decorateRequest('ctx', null as unknown as RequestContext);

  app.addHook('onRequest', async (req, reply) => {
    const now = site.now();
    const path = req.url;
    if (!UNBANNABLE.test(path) && (await isIpBanned(site.db, req.ip, now))) {
      const cookieLang = req.cookies[LANG_COOKIE];
      const locale = (isLocale(cookieLang) ? cookieLang : null) ?? negotiateLocale(req.headers['accept-language']) ?? site.config.site.default_locale;
      req.ctx = { site, locale, t: translator(locale), user: null, sessionId: null, csrf: '', path, flash: null, siteFactors: null };
      return errorPage(reply, req.ctx, 403, req.ctx.t('discipline.ip_banned'));
    }
    // Language switch: remember the choice and come back to the same URL without the parameter.
    const q = req.query as Record<string, unknown> | undefined;
    if (req.method === 'GET' && q && isLocale(q.lang)) {
      void reply.setCookie(LANG_COOKIE, q.lang, { path: '/', sameSite: 'lax', maxAge: 365 * 86400 });
      const u = new URL(req.url, 'http://x');
      u.searchParams.delete('lang');
      return reply.redirect(u.pathname + u.search, 303);
    }

    let user: User | null = null;
    let sessionId: string | null = null;
    const token = req.cookies[SESSION_COOKIE];
    if (token) {
      const s = await findSession(site.db, token, now);
      if (s) {
        user = s.user;
        sessionId = s.sessionId;
        await touchSession(site.db, s, site.config.web.session_ttl, now);
      } else {
        void reply.clearCookie(SESSION_COOKIE, { path: '/' });
      }
    }

    const cookieLang = req.cookies[LANG_COOKIE];
    const locale: Locale =
      user?.locale ??
      (isLocale(cookieLang) ? cookieLang : null) ??
      negotiateLocale(req.headers['accept-language']) ??
      site.config.site.default_locale;

    let csrfCookie = req.cookies[CSRF_COOKIE];
    if (!csrfCookie || csrfCookie.length < 20) {
      csrfCookie = randomBytes(18).toString('base64url');
      void reply.setCookie(CSRF_COOKIE, csrfCookie, cookieOptions(site));
      req.cookies[CSRF_COOKIE] = csrfCookie;
    }

    const flashRaw = req.cookies[FLASH_COOKIE];
    let flash: MessageKey | null = null;
    if (flashRaw && flashRaw in catalogs.en) {
      flash = flashRaw as MessageKey;
      void reply.clearCookie(FLASH_COOKIE, { path: '/' });
    }

    const factors = await siteFactors(site.db, now);
    req.ctx = { site, locale, t: translator(locale), user, sessionId, csrf: csrfFor(site, csrfCookie), path, flash, siteFactors: factors };
    void reply.header('Vary', 'Cookie, Accept-Language');
  });

  app.addHook('preHandler', async (req) => {
    if (!UNSAFE.has(req.method)) return;
    const mode = req.routeOptions.config?.csrf ?? true;
    if (mode !== true) return;
    const body = req.body as Record<string, unknown> | undefined;
    const token = (body && typeof body === 'object' ? body._csrf : undefined) ?? req.headers['x-csrf-token'];
    if (!checkCsrf(req, token)) throw new HttpError(403, 'common.error.csrf');
  });
}

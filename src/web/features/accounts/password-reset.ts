/**
 * A forgotten password: /password/forgot asks for the address and always answers the same,
 * whether or not an account has it (the lookup and the mail happen after the answer, so that
 * neither the words nor the timing tell); the mail carries `${publicUrl}/password/reset/<token>`,
 * a single-use link valid `mail.reset_ttl` seconds. Setting the new password ends every session
 * of the member, then logs them in (through the two-factor step when it is on).
 *
 * Limits: per IP address, `web.login_attempts` requests per `web.login_window` (then refused with
 * a message); per address, RESET_PER_ADDRESS mails per window (further requests get the usual
 * answer but no mail, so nobody can flood a mailbox).
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Locale } from '../../../db/schema.js';
import { findUserByEmail, findUserById, setPasswordHash } from '../../../db/user.repository.js';
import { consumeAuthToken, createAuthToken, findAuthToken, revokeAuthTokens } from '../../../site/accounts/tokens.js';
import { hashPassword } from '../../../site/passwords.js';
import { deleteUserSessions } from '../../../site/sessions.js';
import { revokeAllApiTokens } from '../../../api/tokens.js';
import type { Site } from '../../../site/site.js';
import { setFlash, translator, type RequestContext } from '../../context.js';
import { html } from '../../html.js';
import { csrfField, errorPage, sendPage } from '../../layout.js';
import { beginSecondStep } from './entry.js';
import {
  bodyOf,
  emailError,
  errorSummary,
  field,
  hasErrors,
  loginUserKey,
  loginWindowMinutes,
  newPasswordErrors,
  normaliseEmail,
  startSession,
  str,
  type FieldErrors,
} from './shared.js';

export const RESET_PER_ADDRESS = 3;

function forgotPage(reply: FastifyReply, ctx: RequestContext, email: string, errors: FieldErrors, general: string | null = null, status = 200): FastifyReply {
  const { t } = ctx;
  const body = html`<h1>${t('accounts.forgot.title')}</h1>
${errorSummary(ctx, errors, general)}
<p>${t('accounts.forgot.intro')}</p>
<form method="post" action="/password/forgot" class="form" novalidate>
  ${csrfField(ctx)}
  ${field(ctx, { name: 'email', type: 'email', label: t('accounts.field.email'), value: email, error: errors.email, autocomplete: 'email', required: true, maxlength: 254 })}
  <p><button type="submit">${t('accounts.forgot.submit')}</button></p>
</form>
<p><a href="/login">${t('accounts.forgot.back')}</a></p>`;
  return sendPage(reply, ctx, { title: t('accounts.forgot.title'), body }, status);
}

function resetPage(reply: FastifyReply, ctx: RequestContext, token: string, errors: FieldErrors, status = 200): FastifyReply {
  const { t } = ctx;
  const body = html`<h1>${t('accounts.reset.title')}</h1>
${errorSummary(ctx, errors)}
<p>${t('accounts.reset.intro')}</p>
<form method="post" action="/password/reset/${token}" class="form" novalidate>
  ${csrfField(ctx)}
  ${field(ctx, { name: 'password', type: 'password', label: t('accounts.field.new_password'), error: errors.password, hint: t('accounts.password.hint'), autocomplete: 'new-password', required: true, minlength: 10 })}
  ${field(ctx, { name: 'password_confirm', type: 'password', label: t('accounts.field.password_confirm'), error: errors.password_confirm, autocomplete: 'new-password', required: true })}
  <p><button type="submit">${t('accounts.reset.submit')}</button></p>
</form>`;
  // The page's URL holds the token: no Referer to anywhere, no cache.
  void reply.header('Cache-Control', 'no-store');
  return sendPage(reply, ctx, { title: t('accounts.reset.title'), body }, status);
}

/** Looks the address up and mails a reset link when an enabled member has it. */
async function sendResetMail(site: Site, email: string, locale: Locale): Promise<void> {
  const user = await findUserByEmail(site.db, email);
  if (!user || user.enabled !== 1 || !user.email) return;
  const ttl = site.config.mail.reset_ttl;
  const token = await createAuthToken(site.db, { purpose: 'password_reset', userId: user.id, ttl, now: site.now() });
  const t = translator(user.locale ?? locale);
  const siteName = site.config.site.name;
  await site.mailer.send({
    to: user.email,
    subject: t('accounts.mail.reset.subject', { site: siteName }),
    text: t('accounts.mail.reset.body', { site: siteName, username: user.username, link: `${site.publicUrl}/password/reset/${token}`, minutes: Math.round(ttl / 60) }),
  });
}

export function passwordResetRoutes(app: FastifyInstance, site: Site): void {
  app.get('/password/forgot', async (req, reply) => forgotPage(reply, req.ctx, '', {}));

  app.post('/password/forgot', async (req, reply) => {
    const ctx = req.ctx;
    const email = normaliseEmail(str(bodyOf(req), 'email', 300));
    const errors: FieldErrors = { email: emailError(email) };
    if (hasErrors(errors)) return forgotPage(reply, ctx, email, errors, null, 400);
    const { login_attempts, login_window } = site.config.web;
    const now = site.now();
    if (!site.limiter.hit(`reset:ip:${req.ip}`, login_attempts, login_window, now)) {
      return forgotPage(reply, ctx, email, {}, ctx.t('accounts.forgot.rate_limited', { minutes: loginWindowMinutes(site) }), 429);
    }
    if (site.limiter.hit(`reset:address:${email}`, RESET_PER_ADDRESS, login_window, now)) {
      // After the answer: the response time says nothing about the address.
      sendResetMail(site, email, ctx.locale).catch((err: unknown) => site.log.error({ err }, 'password-reset mail failed'));
    }
    const body = html`<h1>${ctx.t('accounts.forgot.sent.title')}</h1>
<p role="status">${ctx.t('accounts.forgot.sent.text', { email, minutes: Math.round(site.config.mail.reset_ttl / 60) })}</p>
<p><a href="/login">${ctx.t('accounts.forgot.back')}</a></p>`;
    return sendPage(reply, ctx, { title: ctx.t('accounts.forgot.sent.title'), body });
  });

  app.get<{ Params: { token: string } }>('/password/reset/:token', async (req, reply) => {
    const row = await findAuthToken(site.db, req.params.token, 'password_reset', site.now());
    if (!row) return errorPage(reply, req.ctx, 400, req.ctx.t('accounts.reset.invalid'));
    return resetPage(reply, req.ctx, req.params.token, {});
  });

  app.post<{ Params: { token: string } }>('/password/reset/:token', async (req, reply) => {
    const ctx = req.ctx;
    const token = req.params.token;
    const row = await findAuthToken(site.db, token, 'password_reset', site.now());
    const user = row?.user_id ? await findUserById(site.db, row.user_id) : undefined;
    if (!row || !user || user.enabled !== 1) return errorPage(reply, ctx, 400, ctx.t('accounts.reset.invalid'));
    const b = bodyOf(req);
    const password = str(b, 'password');
    const errors = newPasswordErrors(password, str(b, 'password_confirm'), user.username);
    if (hasErrors(errors)) return resetPage(reply, ctx, token, errors, 400);
    const hash = await hashPassword(password);
    // Used now (and only once, even if two requests race).
    if (!(await consumeAuthToken(site.db, token, 'password_reset', site.now()))) return errorPage(reply, ctx, 400, ctx.t('accounts.reset.invalid'));
    await setPasswordHash(site.db, user.id, hash, site.now());
    await deleteUserSessions(site.db, user.id);
    await revokeAllApiTokens(site.db, user.id, site.now(), 't411');
    await revokeAuthTokens(site.db, user.id, 'password_reset', site.now());
    site.limiter.reset(loginUserKey(user.id));
    if (user.totp_enabled === 1 && user.totp_secret) return beginSecondStep(site, req, reply, user, false, '/account');
    await startSession(site, req, reply, user.id, false);
    setFlash(reply, 'accounts.reset.done');
    return reply.redirect('/account', 303);
  });
}

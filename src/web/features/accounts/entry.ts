/**
 * Getting in and out: sign-up (/register, /register/invite/<code>), login with "remember me" and
 * the optional two-factor step (/login, /login/2fa), and logout (/logout).
 *
 * The joining rules (src/site/joining/) apply here: the registration mode and open windows (shown
 * on both pages), invitations, the cap of accounts per IP address, refused email domains, the
 * verification mail of new accounts, and the captcha asked after repeated failed logins.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DuplicateUserError, findUserById, findUserByLogin, setPasswordHash } from '../../../db/user.repository.js';
import type { User } from '../../../db/schema.js';
import { mayRegister, type JoinRefusal } from '../../../site/accounts/joining.js';
import { pendingApplicationClaims } from '../../../site/joining/applications.js';
import { captchaFailure, captchaIpKey, captchaNameKey, captchaRequired, captchaReset, captchaUserKey, checkChallenge, newChallenge, type Challenge } from '../../../site/joining/captcha.js';
import { refusedDomainOf } from '../../../site/joining/domains.js';
import { findInviteByCode, type Invite } from '../../../site/joining/invites.js';
import { createJoinedMember, InviteTakenError, registrationStatus, type RegistrationStatus } from '../../../site/joining/rules.js';
import { sendVerificationMail } from '../joining/mail.js';
import { captchaField, refusalKey, registrationNotice } from '../joining/pieces.js';
import { PENDING_LOGIN_TTL, readPendingLogin, signPendingLogin } from '../../../site/accounts/pending-login.js';
import { verifySecondFactor } from '../../../site/accounts/second-factor.js';
import { hashPassword, needsRehash, verifyPassword } from '../../../site/passwords.js';
import { deleteSession } from '../../../site/sessions.js';
import type { Site } from '../../../site/site.js';
import { CSRF_COOKIE, setFlash, type RequestContext } from '../../context.js';
import { html, type Html } from '../../html.js';
import { csrfField, sendPage } from '../../layout.js';
import type { MessageKey } from '../../messages.js';
import {
  bodyOf,
  checked,
  emailError,
  endSessionCookie,
  errorSummary,
  field,
  hasErrors,
  hidden,
  loginBlocked,
  loginFailed,
  loginIpKey,
  loginNameKey,
  loginUserKey,
  loginWindowMinutes,
  newPasswordErrors,
  normaliseEmail,
  safeNext,
  startSession,
  str,
  takenErrors,
  usernameError,
  type FieldErrors,
} from './shared.js';
import { syncLimits } from '../../../site/rate-limit.js';

// --- sign-up ------------------------------------------------------------------------------------

interface RegisterForm {
  username: string;
  email: string;
  errors: FieldErrors;
  refusal?: JoinRefusal | null;
  /** The invitation code the visitor came with (kept in a hidden field). */
  invite?: string;
  status?: RegistrationStatus;
}

/** What a refused visitor can do instead: apply, or come back when a window opens. */
function refusalHelp(ctx: RequestContext, r: JoinRefusal): Html {
  if (r === 'application') return html`<p><a href="/apply">${ctx.t('joining.apply.link')}</a></p>`;
  return html``;
}

function registerPage(reply: FastifyReply, ctx: RequestContext, f: RegisterForm, status = 200): FastifyReply {
  const { t } = ctx;
  const refused = f.refusal ? t(refusalKey(f.refusal)) : null;
  const body = html`<h1>${t('accounts.register.title')}</h1>
${errorSummary(ctx, f.errors, refused)}
${f.status ? registrationNotice(ctx, f.status) : ''}
${f.refusal
  ? refusalHelp(ctx, f.refusal)
  : html`${f.invite ? html`<p class="joining-notice">${t('joining.invite.welcome')}</p>` : ''}
<form method="post" action="/register" class="form" novalidate>
  ${csrfField(ctx)}
  ${f.invite ? hidden('invite', f.invite) : ''}
  ${field(ctx, { name: 'username', label: t('accounts.field.username'), value: f.username, error: f.errors.username, hint: t('accounts.username.hint'), autocomplete: 'username', required: true, minlength: 3, maxlength: 32 })}
  ${field(ctx, { name: 'email', type: 'email', label: t('accounts.field.email'), value: f.email, error: f.errors.email, hint: t('accounts.email.hint'), autocomplete: 'email', required: true, maxlength: 254 })}
  ${field(ctx, { name: 'password', type: 'password', label: t('accounts.field.password'), error: f.errors.password, hint: t('accounts.password.hint'), autocomplete: 'new-password', required: true, minlength: 10 })}
  ${field(ctx, { name: 'password_confirm', type: 'password', label: t('accounts.field.password_confirm'), error: f.errors.password_confirm, autocomplete: 'new-password', required: true })}
  <p><button type="submit">${t('accounts.register.submit')}</button></p>
</form>`}
<p>${t('accounts.register.have_account')} <a href="/login">${t('common.nav.login')}</a></p>`;
  return sendPage(reply, ctx, { title: t('accounts.register.title'), body }, status);
}

// --- login --------------------------------------------------------------------------------------

interface LoginForm {
  login: string;
  remember: boolean;
  next: string | null;
  errors: FieldErrors;
  general?: string | null;
  /** The captcha to answer, after repeated failures (src/site/joining/captcha.ts). */
  captcha?: Challenge | null;
  /** The registration notice (open window, next opening). */
  notice?: Html;
}

export function loginPage(reply: FastifyReply, ctx: RequestContext, f: LoginForm, status = 200): FastifyReply {
  const { t } = ctx;
  const body = html`<h1>${t('accounts.login.title')}</h1>
${errorSummary(ctx, f.errors, f.general)}
<form method="post" action="/login" class="form" novalidate>
  ${csrfField(ctx)}
  ${f.next ? hidden('next', f.next) : ''}
  ${field(ctx, { name: 'username', label: t('accounts.field.login'), value: f.login, error: f.errors.username, autocomplete: 'username', required: true, maxlength: 254 })}
  ${field(ctx, { name: 'password', type: 'password', label: t('accounts.field.password'), error: f.errors.password, autocomplete: 'current-password', required: true })}
  ${f.captcha ? captchaField(ctx, f.captcha, f.errors.captcha) : ''}
  <div class="field field-check">
    <input id="f-remember" type="checkbox" name="remember" value="1"${f.remember ? html` checked` : ''} aria-describedby="f-remember-hint">
    <label for="f-remember">${t('accounts.login.remember')}</label>
    <p class="hint" id="f-remember-hint">${t('accounts.login.remember_hint', { days: Math.max(1, Math.round(ctx.site.config.web.remember_ttl / 86400)) })}</p>
  </div>
  <p><button type="submit">${t('accounts.login.submit')}</button></p>
</form>
<ul class="account-links">
  <li><a href="/password/forgot">${t('accounts.login.forgot')}</a></li>
  <li><a href="/register">${t('accounts.login.no_account')}</a></li>
</ul>
${f.notice ?? ''}`;
  return sendPage(reply, ctx, { title: t('accounts.login.title'), body }, status);
}

/** The second step of a login: the two-factor code, with the half-done login in a signed field. */
export function secondStepPage(
  reply: FastifyReply,
  ctx: RequestContext,
  o: { pending: string; next: string | null; error?: MessageKey | undefined; general?: string | null },
  status = 200,
): FastifyReply {
  const { t } = ctx;
  const errors: FieldErrors = { code: o.error };
  const body = html`<h1>${t('accounts.2fa.step.title')}</h1>
${errorSummary(ctx, errors, o.general)}
<p>${t('accounts.2fa.step.intro')}</p>
<form method="post" action="/login/2fa" class="form" novalidate>
  ${csrfField(ctx)}
  ${hidden('pending', o.pending)}
  ${o.next ? hidden('next', o.next) : ''}
  ${field(ctx, { name: 'code', label: t('accounts.field.code'), error: o.error, hint: t('accounts.2fa.step.hint'), autocomplete: 'one-time-code', required: true, maxlength: 20, autofocus: true })}
  <p><button type="submit">${t('accounts.2fa.step.submit')}</button></p>
</form>
<p><a href="/login">${t('accounts.2fa.step.restart')}</a></p>`;
  return sendPage(reply, ctx, { title: t('accounts.2fa.step.title'), body }, status);
}

/** Starts the two-factor step for a member whose password was right. */
export function beginSecondStep(site: Site, req: FastifyRequest, reply: FastifyReply, user: User, remember: boolean, next: string | null): FastifyReply {
  const pending = signPendingLogin(site.secret, { userId: user.id, remember, expires: site.now() + PENDING_LOGIN_TTL }, req.cookies[CSRF_COOKIE] ?? '');
  return secondStepPage(reply, req.ctx, { pending, next });
}

let dummyHash: Promise<string> | null = null;
/** Spends about the time of a password check when there is no member to check against. */
async function dummyVerify(password: string): Promise<void> {
  dummyHash ??= hashPassword('essaim-no-such-member');
  await verifyPassword(password, await dummyHash);
}

export function entryRoutes(app: FastifyInstance, site: Site): void {
  /** The invitation behind a code: the row when usable, 'invalid' when not, null without a code. */
  const inviteOf = async (code: string): Promise<Invite | 'invalid' | null> => (code === '' ? null : ((await findInviteByCode(site.db, code, site.now())) ?? 'invalid'));

  const showRegister = async (req: FastifyRequest, reply: FastifyReply, code: string) => {
    if (req.ctx.user) return reply.redirect('/account', 303);
    const now = site.now();
    const invite = await inviteOf(code);
    const status = await registrationStatus(site.db, now);
    const refusal = await mayRegister(site, { ip: req.ip, now, invite }, status);
    const email = invite && invite !== 'invalid' ? (invite.email ?? '') : '';
    return registerPage(reply, req.ctx, { username: '', email, errors: {}, refusal, status, ...(invite && invite !== 'invalid' ? { invite: code } : {}) }, refusal ? 403 : 200);
  };

  app.get('/register', async (req, reply) => showRegister(req, reply, ''));
  // The invitation link (the code in the path, where the request log redacts it).
  app.get<{ Params: { code: string } }>('/register/invite/:code', async (req, reply) => showRegister(req, reply, req.params.code));

  app.post('/register', async (req, reply) => {
    const ctx = req.ctx;
    const b = bodyOf(req);
    const now = site.now();
    const username = str(b, 'username', 100).trim();
    const email = normaliseEmail(str(b, 'email', 300));
    const code = str(b, 'invite', 100);
    const invite = await inviteOf(code);
    const status = await registrationStatus(site.db, now);
    const refusal = await mayRegister(site, { ip: req.ip, now, invite }, status);
    if (refusal) return registerPage(reply, ctx, { username, email, errors: {}, refusal, status }, 403);
    const keep = { status, ...(invite && invite !== 'invalid' ? { invite: code } : {}) };
    const password = str(b, 'password', 2000);
    const errors: FieldErrors = {
      username: usernameError(username),
      email: emailError(email),
      ...newPasswordErrors(password, str(b, 'password_confirm', 2000), username),
    };
    if (!errors.email && (await refusedDomainOf(site.db, email))) errors.email = 'joining.email.refused_domain';
    await takenErrors(site, username, email, errors);
    if (!errors.username || !errors.email) {
      const claimed = await pendingApplicationClaims(site.db, username, email);
      if (claimed.username) errors.username ??= 'accounts.username.taken';
      if (claimed.email) errors.email ??= 'accounts.email.taken';
    }
    if (hasErrors(errors)) return registerPage(reply, ctx, { username, email, errors, ...keep }, 400);
    const hash = await hashPassword(password);
    let id: number;
    try {
      id = await createJoinedMember(site, { username, email, passwordHash: hash, ip: req.ip, invite: invite === 'invalid' ? null : invite, now });
    } catch (err) {
      if (err instanceof InviteTakenError) return registerPage(reply, ctx, { username, email, errors: {}, refusal: 'invite_invalid', status }, 403);
      if (!(err instanceof DuplicateUserError)) throw err;
      errors[err.field] = err.field === 'username' ? 'accounts.username.taken' : 'accounts.email.taken';
      return registerPage(reply, ctx, { username, email, errors, ...keep }, 400);
    }
    await site.tracker.userChanged(id);
    const user = await findUserById(site.db, id);
    if (user) await sendVerificationMail(site, user, ctx.locale);
    await startSession(site, req, reply, id, false);
    // The account page says, when it applies, that the address awaits verification.
    setFlash(reply, 'accounts.register.welcome');
    return reply.redirect('/account', 303);
  });

  /** A captcha for the login form when the IP address or the account calls for one. */
  const captchaFor = (keys: readonly string[]): Challenge | null =>
    captchaRequired(site, keys) ? newChallenge(site.secret, site.now(), site.config.joining.captcha_ttl) : null;

  app.get<{ Querystring: { next?: string } }>('/login', async (req, reply) => {
    const next = safeNext(req.query.next);
    if (req.ctx.user) return reply.redirect(next ?? '/account', 303);
    const notice = registrationNotice(req.ctx, await registrationStatus(site.db, site.now()));
    return loginPage(reply, req.ctx, { login: '', remember: false, next, errors: {}, captcha: captchaFor([captchaIpKey(req.ip)]), notice });
  });

  app.post('/login', async (req, reply) => {
    const ctx = req.ctx;
    const b = bodyOf(req);
    const login = str(b, 'username', 300).trim();
    const password = str(b, 'password', 2000);
    const remember = checked(b, 'remember');
    const next = safeNext(str(b, 'next'));
    const form = { login, remember, next };
    const errors: FieldErrors = {
      username: login === '' ? 'common.form.required' : undefined,
      password: password === '' ? 'common.form.required' : undefined,
    };
    if (hasErrors(errors)) return loginPage(reply, ctx, { ...form, errors, captcha: captchaFor([captchaIpKey(req.ip)]) }, 400);

    const user = await findUserByLogin(site.db, login);
    const keys = [loginIpKey(req.ip), user ? loginUserKey(user.id) : loginNameKey(login)];
    const ckeys = [captchaIpKey(req.ip), user ? captchaUserKey(user.id) : captchaNameKey(login)];
    // Several web nodes: learn the failures counted elsewhere first.
    await syncLimits(site.limiter, [...keys, ...ckeys], site.config.web.login_window, site.now());
    // Over the limit: refused before any password check, right or wrong.
    if (loginBlocked(site, keys)) {
      return loginPage(reply, ctx, { ...form, errors: {}, general: ctx.t('accounts.login.rate_limited', { minutes: loginWindowMinutes(site) }) }, 429);
    }
    // After repeated failures: the captcha first, checked before the password (a wrong answer
    // counts as a failed login).
    if (captchaRequired(site, ckeys)) {
      const answer = str(b, 'captcha', 20);
      const result = answer.trim() === '' ? 'missing' : checkChallenge(site, str(b, 'captcha_token', 200), answer, site.now());
      if (result !== 'ok') {
        if (result !== 'missing') loginFailed(site, keys);
        const error: MessageKey = result === 'missing' ? 'joining.captcha.required' : result === 'wrong' ? 'joining.captcha.wrong' : 'joining.captcha.expired';
        return loginPage(reply, ctx, { ...form, errors: { captcha: error }, captcha: captchaFor(ckeys) }, 400);
      }
    }
    let ok = false;
    if (user) ok = await verifyPassword(password, user.password_hash);
    else await dummyVerify(password);
    if (!user || !ok) {
      loginFailed(site, keys);
      captchaFailure(site, ckeys);
      return loginPage(reply, ctx, { ...form, errors: {}, general: ctx.t('accounts.login.failed'), captcha: captchaFor(ckeys) }, 401);
    }
    if (user.enabled !== 1) {
      return loginPage(reply, ctx, { ...form, errors: {}, general: ctx.t('accounts.login.disabled') }, 403);
    }
    captchaReset(site, [captchaUserKey(user.id)]);
    if (user.password_hash && needsRehash(user.password_hash)) {
      await setPasswordHash(site.db, user.id, await hashPassword(password), site.now());
    }
    if (user.totp_enabled === 1 && user.totp_secret) return beginSecondStep(site, req, reply, user, remember, next);
    await startSession(site, req, reply, user.id, remember);
    return reply.redirect(next ?? '/', 303);
  });

  app.post('/login/2fa', async (req, reply) => {
    const ctx = req.ctx;
    const b = bodyOf(req);
    const token = str(b, 'pending', 300);
    const next = safeNext(str(b, 'next'));
    const code = str(b, 'code', 100);
    const pending = readPendingLogin(site.secret, token, req.cookies[CSRF_COOKIE] ?? '', site.now());
    const user = pending ? await findUserById(site.db, pending.userId) : undefined;
    if (!pending || !user || user.enabled !== 1 || user.totp_enabled !== 1) {
      return loginPage(reply, ctx, { login: '', remember: false, next, errors: {}, general: ctx.t('accounts.2fa.step.expired') }, 400);
    }
    const keys = [loginIpKey(req.ip), loginUserKey(user.id)];
    await syncLimits(site.limiter, keys, site.config.web.login_window, site.now());
    if (loginBlocked(site, keys)) {
      return loginPage(reply, ctx, { login: '', remember: false, next, errors: {}, general: ctx.t('accounts.login.rate_limited', { minutes: loginWindowMinutes(site) }) }, 429);
    }
    if (code.trim() === '') return secondStepPage(reply, ctx, { pending: token, next, error: 'common.form.required' }, 400);
    const factor = await verifySecondFactor(site, user, code);
    if (!factor) {
      loginFailed(site, keys);
      return secondStepPage(reply, ctx, { pending: token, next, error: 'accounts.2fa.wrong_code' }, 401);
    }
    await startSession(site, req, reply, user.id, pending.remember);
    if (factor === 'recovery') setFlash(reply, 'accounts.2fa.recovery_used');
    return reply.redirect(next ?? '/', 303);
  });

  // Pages answered to a POST may be reloaded or re-requested by the language switch (a GET).
  app.get('/login/2fa', async (_req, reply) => reply.redirect('/login', 303));
  app.get('/logout', async (_req, reply) => reply.redirect('/', 303));

  app.post('/logout', async (req, reply) => {
    if (req.ctx.sessionId) await deleteSession(site.db, req.ctx.sessionId);
    endSessionCookie(reply);
    setFlash(reply, 'accounts.logout.done');
    return reply.redirect('/', 303);
  });
}

/**
 * Two-factor authentication (TOTP) for a member: enrolment with a QR code, switched on only after
 * a valid code confirms it, ten recovery codes shown once, regeneration of those codes (with a
 * code), and switching it off (with the password and a code).
 *
 *   GET  /account/2fa                 status; start, regenerate or switch off
 *   POST /account/2fa/setup           new secret being enrolled (not yet active)
 *   GET  /account/2fa/setup           QR code, secret, otpauth URI, confirmation form
 *   POST /account/2fa/confirm         a valid code switches it on; the recovery codes are shown
 *   POST /account/2fa/recovery-codes  new recovery codes (a current code required)
 *   GET  /account/2fa/disable         confirmation form (password and code)
 *   POST /account/2fa/disable         switches it off
 */
import QRCode from 'qrcode';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { User } from '../../../db/schema.js';
import { setUserTotp } from '../../../db/user.repository.js';
import { countRecoveryCodes, deleteRecoveryCodes, newRecoveryCodes, replaceRecoveryCodes } from '../../../site/accounts/recovery-codes.js';
import { verifySecondFactor } from '../../../site/accounts/second-factor.js';
import { groupSecret, newTotpSecret, otpauthUri, replayGuardFor, verifyTotpShared } from '../../../site/accounts/totp.js';
import type { Site } from '../../../site/site.js';
import { setFlash, type RequestContext } from '../../context.js';
import { html } from '../../html.js';
import { csrfField, sendPage } from '../../layout.js';
import type { MessageKey } from '../../messages.js';
import {
  accountNav,
  loggedIn,
  bodyOf,
  checkCurrentPassword,
  errorSummary,
  field,
  hasErrors,
  loginBlocked,
  loginFailed,
  loginIpKey,
  loginUserKey,
  loginWindowMinutes,
  str,
  type FieldErrors,
} from './shared.js';

async function statusPage(reply: FastifyReply, ctx: RequestContext, site: Site, user: User, errors: FieldErrors = {}, status = 200): Promise<FastifyReply> {
  const { t } = ctx;
  const on = user.totp_enabled === 1;
  const left = on ? await countRecoveryCodes(site.db, user.id) : 0;
  const body = html`<h1>${t('accounts.2fa.title')}</h1>
${accountNav(ctx, 'twofactor')}
${errorSummary(ctx, errors)}
<p>${t('accounts.2fa.intro')}</p>
<p><strong>${on ? t('accounts.2fa.status.on') : t('accounts.2fa.status.off')}</strong></p>
${on
  ? html`<section class="panel" aria-labelledby="h-codes">
  <h2 id="h-codes">${t('accounts.2fa.codes.title')}</h2>
  <p>${t('accounts.2fa.codes.left', { n: left })}</p>
  <form method="post" action="/account/2fa/recovery-codes" class="form" novalidate>
    ${csrfField(ctx)}
    ${field(ctx, { name: 'code', label: t('accounts.field.totp_code'), error: errors.code, hint: t('accounts.2fa.codes.regenerate_hint'), autocomplete: 'one-time-code', inputmode: 'numeric', required: true, maxlength: 7, idPrefix: 'regen' })}
    <p><button type="submit">${t('accounts.2fa.codes.regenerate')}</button></p>
  </form>
</section>
<section class="panel" aria-labelledby="h-off">
  <h2 id="h-off">${t('accounts.2fa.disable.title')}</h2>
  <p><a class="button" href="/account/2fa/disable">${t('accounts.2fa.disable.start')}</a></p>
</section>`
  : html`<form method="post" action="/account/2fa/setup">
  ${csrfField(ctx)}
  <button type="submit">${t('accounts.2fa.enable.start')}</button>
</form>`}`;
  return sendPage(reply, ctx, { title: t('accounts.2fa.title'), body }, status);
}

async function setupPage(reply: FastifyReply, ctx: RequestContext, site: Site, user: User, secret: string, error?: MessageKey, status = 200): Promise<FastifyReply> {
  const { t } = ctx;
  const uri = otpauthUri(site.config.site.name, user.username, secret);
  const qr = await QRCode.toDataURL(uri, { errorCorrectionLevel: 'M', margin: 2, scale: 5 });
  const body = html`<h1>${t('accounts.2fa.enable.title')}</h1>
${accountNav(ctx, 'twofactor')}
${errorSummary(ctx, { code: error })}
<ol class="steps">
  <li>
    <p>${t('accounts.2fa.enable.scan')}</p>
    <p class="qr"><img src="${qr}" alt="${t('accounts.2fa.enable.qr_alt')}"></p>
  </li>
  <li>
    <p>${t('accounts.2fa.enable.manual')}</p>
    <dl class="facts">
      <dt>${t('accounts.2fa.enable.secret')}</dt><dd><code class="secret" id="totp-secret">${groupSecret(secret)}</code></dd>
      <dt>${t('accounts.2fa.enable.uri')}</dt><dd><code class="secret" id="totp-uri">${uri}</code></dd>
    </dl>
  </li>
  <li>
    <form method="post" action="/account/2fa/confirm" class="form" novalidate>
      ${csrfField(ctx)}
      ${field(ctx, { name: 'code', label: t('accounts.field.totp_code'), error, hint: t('accounts.2fa.enable.confirm_hint'), autocomplete: 'one-time-code', inputmode: 'numeric', required: true, maxlength: 7 })}
      <p><button type="submit">${t('accounts.2fa.enable.confirm')}</button> <a href="/account/2fa">${t('common.cancel')}</a></p>
    </form>
  </li>
</ol>`;
  return sendPage(reply, ctx, { title: t('accounts.2fa.enable.title'), body }, status);
}

/** The recovery codes, shown this once. */
function codesPage(reply: FastifyReply, ctx: RequestContext, codes: readonly string[], titleKey: MessageKey): FastifyReply {
  const { t } = ctx;
  const body = html`<h1>${t(titleKey)}</h1>
${accountNav(ctx, 'twofactor')}
<p class="flash" role="status">${t('accounts.2fa.codes.once')}</p>
<ul class="recovery-codes" aria-label="${t('accounts.2fa.codes.title')}">
  ${codes.map((c) => html`<li><code>${c}</code></li>`)}
</ul>
<p>${t('accounts.2fa.codes.usage')}</p>
<p><a href="/account/2fa">${t('accounts.2fa.codes.done')}</a></p>`;
  // Never cached: the codes are shown once.
  void reply.header('Cache-Control', 'no-store');
  return sendPage(reply, ctx, { title: t(titleKey), body });
}

function disablePage(reply: FastifyReply, ctx: RequestContext, errors: FieldErrors, general: string | null = null, status = 200): FastifyReply {
  const { t } = ctx;
  const body = html`<h1>${t('accounts.2fa.disable.title')}</h1>
${accountNav(ctx, 'twofactor')}
${errorSummary(ctx, errors, general)}
<p>${t('accounts.2fa.disable.text')}</p>
<form method="post" action="/account/2fa/disable" class="form" novalidate>
  ${csrfField(ctx)}
  ${field(ctx, { name: 'current_password', type: 'password', label: t('accounts.field.current_password'), error: errors.current_password, autocomplete: 'current-password', required: true })}
  ${field(ctx, { name: 'code', label: t('accounts.field.code'), error: errors.code, hint: t('accounts.2fa.step.hint'), autocomplete: 'one-time-code', required: true, maxlength: 20 })}
  <p><button type="submit">${t('accounts.2fa.disable.submit')}</button> <a href="/account/2fa">${t('common.cancel')}</a></p>
</form>`;
  return sendPage(reply, ctx, { title: t('accounts.2fa.disable.title'), body }, status);
}

export function twoFactorRoutes(app: FastifyInstance, site: Site): void {
  app.get('/account/2fa', async (req, reply) => {
    const user = loggedIn(req, reply);
    return user ? statusPage(reply, req.ctx, site, user) : reply;
  });

  app.post('/account/2fa/setup', async (req, reply) => {
    const user = loggedIn(req, reply);
    if (!user) return reply;
    if (user.totp_enabled !== 1) await setUserTotp(site.db, user.id, newTotpSecret(), false, site.now());
    return reply.redirect(user.totp_enabled === 1 ? '/account/2fa' : '/account/2fa/setup', 303);
  });

  app.get('/account/2fa/setup', async (req, reply) => {
    const user = loggedIn(req, reply);
    if (!user) return reply;
    if (user.totp_enabled === 1 || !user.totp_secret) return reply.redirect('/account/2fa', 303);
    return setupPage(reply, req.ctx, site, user, user.totp_secret);
  });

  // The language switch (a GET) on a page answered to a POST comes back to the page it came from.
  app.get('/account/2fa/confirm', async (_req, reply) => reply.redirect('/account/2fa/setup', 303));
  app.get('/account/2fa/recovery-codes', async (_req, reply) => reply.redirect('/account/2fa', 303));

  app.post('/account/2fa/confirm', async (req, reply) => {
    const user = loggedIn(req, reply);
    if (!user) return reply;
    if (user.totp_enabled === 1 || !user.totp_secret) return reply.redirect('/account/2fa', 303);
    const code = str(bodyOf(req), 'code', 20);
    if (code.trim() === '') return setupPage(reply, req.ctx, site, user, user.totp_secret, 'common.form.required', 400);
    if ((await verifyTotpShared(site.db, replayGuardFor(site), user.id, user.totp_secret, code, site.now())) === null) {
      return setupPage(reply, req.ctx, site, user, user.totp_secret, 'accounts.2fa.wrong_code', 400);
    }
    const codes = newRecoveryCodes();
    await replaceRecoveryCodes(site.db, user.id, codes);
    await setUserTotp(site.db, user.id, user.totp_secret, true, site.now());
    return codesPage(reply, req.ctx, codes, 'accounts.2fa.enabled.title');
  });

  app.post('/account/2fa/recovery-codes', async (req, reply) => {
    const user = loggedIn(req, reply);
    if (!user) return reply;
    if (user.totp_enabled !== 1) return reply.redirect('/account/2fa', 303);
    const keys = [loginIpKey(req.ip), loginUserKey(user.id)];
    const code = str(bodyOf(req), 'code', 20);
    const errors: FieldErrors = {};
    if (loginBlocked(site, keys)) errors.code = 'accounts.login.rate_limited_short';
    else if (code.trim() === '') errors.code = 'common.form.required';
    else if (!(await verifySecondFactor(site, user, code, { allowRecovery: false }))) {
      loginFailed(site, keys);
      errors.code = 'accounts.2fa.wrong_code';
    }
    if (hasErrors(errors)) return statusPage(reply, req.ctx, site, user, errors, 400);
    const codes = newRecoveryCodes();
    await replaceRecoveryCodes(site.db, user.id, codes);
    return codesPage(reply, req.ctx, codes, 'accounts.2fa.codes.new_title');
  });

  app.get('/account/2fa/disable', async (req, reply) => {
    const user = loggedIn(req, reply);
    if (!user) return reply;
    if (user.totp_enabled !== 1) return reply.redirect('/account/2fa', 303);
    return disablePage(reply, req.ctx, {});
  });

  app.post('/account/2fa/disable', async (req, reply) => {
    const user = loggedIn(req, reply);
    if (!user) return reply;
    const ctx = req.ctx;
    if (user.totp_enabled !== 1) return reply.redirect('/account/2fa', 303);
    const b = bodyOf(req);
    const errors: FieldErrors = {};
    const current = await checkCurrentPassword(site, req, user, str(b, 'current_password'));
    if (current === 'accounts.login.rate_limited_short') {
      return disablePage(reply, ctx, {}, ctx.t('accounts.login.rate_limited', { minutes: loginWindowMinutes(site) }), 429);
    }
    if (current) errors.current_password = current;
    const code = str(b, 'code', 100);
    // The code is checked only with the right password (a wrong one must not burn a recovery code).
    if (code.trim() === '') errors.code = 'common.form.required';
    else if (!current && !(await verifySecondFactor(site, user, code))) {
      loginFailed(site, [loginIpKey(req.ip), loginUserKey(user.id)]);
      errors.code = 'accounts.2fa.wrong_code';
    }
    if (hasErrors(errors)) return disablePage(reply, ctx, errors, null, 400);
    await setUserTotp(site.db, user.id, null, false, site.now());
    await deleteRecoveryCodes(site.db, user.id);
    setFlash(reply, 'accounts.2fa.disabled');
    return reply.redirect('/account/2fa', 303);
  });
}

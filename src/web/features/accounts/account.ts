/**
 * The member's account: overview with the passkey (and its announce URLs) and the RSS key, both
 * rotatable; language and privacy preferences; password and email changes; the list of sessions
 * with revocation one by one or all at once.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Locale, User, UserPrivacy } from '../../../db/schema.js';
import { USER_PRIVACY } from '../../../db/schema.js';
import {
  DuplicateUserError,
  findUserByEmail,
  findUserById,
  rotatePasskey,
  rotateRssKey,
  setPasswordHash,
  setUserEmail,
  setUserPreferences,
} from '../../../db/user.repository.js';
import { consumeAuthToken, createAuthToken } from '../../../site/accounts/tokens.js';
import { refusedDomainOf } from '../../../site/joining/domains.js';
import { hashPassword } from '../../../site/passwords.js';
import { deleteUserSessions, listUserSessions } from '../../../site/sessions.js';
import { revokeAllApiTokens } from '../../../api/tokens.js';
import type { Site } from '../../../site/site.js';
import { setFlash, translator, type RequestContext } from '../../context.js';
import { formatDate } from '../../format.js';
import { html, type Html } from '../../html.js';
import { isLocale } from '../../i18n.js';
import { csrfField, errorPage, sendPage } from '../../layout.js';
import { ownWarningsPanel } from '../discipline/account.js';
import { verificationNotice } from '../joining/pieces.js';
import {
  accountNav,
  loggedIn,
  bodyOf,
  checkCurrentPassword,
  emailError,
  endSessionCookie,
  errorSummary,
  field,
  hasErrors,
  hidden,
  newPasswordErrors,
  normaliseEmail,
  str,
  type FieldErrors,
} from './shared.js';

/** How long an email-change confirmation link stays valid. */
export const EMAIL_CHANGE_TTL = 24 * 3600;

const PRIVACY_KEYS = {
  low: ['accounts.privacy.low', 'accounts.privacy.low_hint'],
  normal: ['accounts.privacy.normal', 'accounts.privacy.normal_hint'],
  strong: ['accounts.privacy.strong', 'accounts.privacy.strong_hint'],
} as const;

function overviewPage(reply: FastifyReply, ctx: RequestContext, site: Site, user: User, warnings: Html = html``): FastifyReply {
  const { t } = ctx;
  const urls = site.announceUrls(user.passkey);
  const locale = user.locale ?? '';
  const body = html`<h1>${t('accounts.account.title')}</h1>
${accountNav(ctx, 'overview')}
${verificationNotice(ctx, user)}
<section class="panel" aria-labelledby="h-profile">
  <h2 id="h-profile">${t('accounts.account.profile')}</h2>
  <dl class="facts">
    <dt>${t('accounts.field.username')}</dt><dd><a href="/u/${user.id}">${user.username}</a></dd>
    <dt>${t('accounts.field.email')}</dt><dd>${user.email ?? t('accounts.account.no_email')}</dd>
    <dt>${t('accounts.account.joined')}</dt><dd>${formatDate(ctx.locale, user.created_at)}</dd>
    <dt>${t('accounts.account.last_login')}</dt><dd>${user.last_login_at ? formatDate(ctx.locale, user.last_login_at) : '–'}</dd>
    <dt>${t('accounts.account.twofactor')}</dt><dd>${user.totp_enabled === 1 ? t('accounts.2fa.status.on') : t('accounts.2fa.status.off')} (<a href="/account/2fa">${t('accounts.account.manage')}</a>)</dd>
    <dt>${t('joining.invites.title')}</dt><dd>${t('joining.invites.left', { n: user.invites_left })} (<a href="/invites">${t('accounts.account.manage')}</a>)</dd>
  </dl>
</section>
${warnings}
<section class="panel" aria-labelledby="h-passkey">
  <h2 id="h-passkey">${t('accounts.passkey.title')}</h2>
  <p>${t('accounts.passkey.intro')}</p>
  <dl class="facts">
    <dt>${t('accounts.passkey.label')}</dt><dd><code class="secret" id="passkey">${user.passkey}</code></dd>
    <dt>${t('accounts.passkey.http')}</dt><dd><code class="secret">${urls.http}</code></dd>
    ${urls.udp ? html`<dt>${t('accounts.passkey.udp')}</dt><dd><code class="secret">${urls.udp}</code></dd>` : ''}
  </dl>
  <p class="hint">${t('accounts.passkey.keep_secret')}</p>
  <p><a class="button" href="/account/passkey">${t('accounts.passkey.rotate')}</a></p>
</section>
<section class="panel" aria-labelledby="h-rss">
  <h2 id="h-rss">${t('accounts.rss.title')}</h2>
  <p>${t('accounts.rss.intro')}</p>
  <dl class="facts">
    <dt>${t('accounts.rss.label')}</dt><dd><code class="secret" id="rss-key">${user.rss_key}</code></dd>
  </dl>
  <form method="post" action="/account/rss-key">
    ${csrfField(ctx)}
    <button type="submit">${t('accounts.rss.rotate')}</button>
  </form>
</section>
<section class="panel" aria-labelledby="h-prefs">
  <h2 id="h-prefs">${t('accounts.prefs.title')}</h2>
  <form method="post" action="/account/preferences" class="form">
    ${csrfField(ctx)}
    <div class="field">
      <label for="f-locale">${t('accounts.prefs.language')}</label>
      <select id="f-locale" name="locale">
        <option value=""${locale === '' ? html` selected` : ''}>${t('accounts.prefs.language.browser')}</option>
        <option value="en" lang="en"${locale === 'en' ? html` selected` : ''}>${t('common.lang.en')}</option>
        <option value="fr" lang="fr"${locale === 'fr' ? html` selected` : ''}>${t('common.lang.fr')}</option>
      </select>
    </div>
    <fieldset>
      <legend>${t('accounts.prefs.privacy')}</legend>
      ${USER_PRIVACY.map(
        (p) => html`<div class="field-check">
        <input type="radio" id="f-privacy-${p}" name="privacy" value="${p}"${user.privacy === p ? html` checked` : ''} aria-describedby="f-privacy-${p}-hint">
        <label for="f-privacy-${p}">${t(PRIVACY_KEYS[p][0])}</label>
        <p class="hint" id="f-privacy-${p}-hint">${t(PRIVACY_KEYS[p][1])}</p>
      </div>`,
      )}
    </fieldset>
    <p><button type="submit">${t('common.save')}</button></p>
  </form>
</section>
<section class="panel" aria-labelledby="h-data">
  <h2 id="h-data">${t('lawful.privacy.export.title')}</h2>
  <p><a href="/account/data" download>${t('lawful.privacy.export.link')}</a> · <a href="/account/privacy">${t('lawful.privacy.more')}</a></p>
</section>`;
  return sendPage(reply, ctx, { title: t('accounts.account.title'), body });
}

function passkeyConfirmPage(reply: FastifyReply, ctx: RequestContext, status = 200): FastifyReply {
  const { t } = ctx;
  const body = html`<h1>${t('accounts.passkey.confirm.title')}</h1>
${accountNav(ctx, 'overview')}
<p>${t('accounts.passkey.confirm.text')}</p>
<form method="post" action="/account/passkey">
  ${csrfField(ctx)}
  ${hidden('confirm', 'yes')}
  <button type="submit">${t('accounts.passkey.confirm.submit')}</button>
  <a href="/account">${t('common.cancel')}</a>
</form>`;
  return sendPage(reply, ctx, { title: t('accounts.passkey.confirm.title'), body }, status);
}

function passwordPage(reply: FastifyReply, ctx: RequestContext, errors: FieldErrors, general: string | null = null, status = 200): FastifyReply {
  const { t } = ctx;
  const body = html`<h1>${t('accounts.password.change.title')}</h1>
${accountNav(ctx, 'password')}
${errorSummary(ctx, errors, general)}
<p>${t('accounts.password.change.intro')}</p>
<form method="post" action="/account/password" class="form" novalidate>
  ${csrfField(ctx)}
  ${field(ctx, { name: 'current_password', type: 'password', label: t('accounts.field.current_password'), error: errors.current_password, autocomplete: 'current-password', required: true })}
  ${field(ctx, { name: 'password', type: 'password', label: t('accounts.field.new_password'), error: errors.password, hint: t('accounts.password.hint'), autocomplete: 'new-password', required: true, minlength: 10 })}
  ${field(ctx, { name: 'password_confirm', type: 'password', label: t('accounts.field.password_confirm'), error: errors.password_confirm, autocomplete: 'new-password', required: true })}
  <p><button type="submit">${t('accounts.password.change.submit')}</button></p>
</form>`;
  return sendPage(reply, ctx, { title: t('accounts.password.change.title'), body }, status);
}

function emailPage(reply: FastifyReply, ctx: RequestContext, user: User, email: string, errors: FieldErrors, status = 200): FastifyReply {
  const { t } = ctx;
  const body = html`<h1>${t('accounts.email.change.title')}</h1>
${accountNav(ctx, 'email')}
${errorSummary(ctx, errors)}
<p>${user.email ? t('accounts.email.change.current', { email: user.email }) : t('accounts.account.no_email')}</p>
<p>${t('accounts.email.change.intro')}</p>
<form method="post" action="/account/email" class="form" novalidate>
  ${csrfField(ctx)}
  ${field(ctx, { name: 'email', type: 'email', label: t('accounts.field.new_email'), value: email, error: errors.email, autocomplete: 'email', required: true, maxlength: 254 })}
  ${field(ctx, { name: 'current_password', type: 'password', label: t('accounts.field.current_password'), error: errors.current_password, autocomplete: 'current-password', required: true })}
  <p><button type="submit">${t('accounts.email.change.submit')}</button></p>
</form>`;
  return sendPage(reply, ctx, { title: t('accounts.email.change.title'), body }, status);
}

function messagePage(reply: FastifyReply, ctx: RequestContext, title: string, text: string, section?: 'email', status = 200): FastifyReply {
  const body = html`<h1>${title}</h1>
${section ? accountNav(ctx, section) : ''}
<p>${text}</p>
<p><a href="/account">${ctx.t('accounts.account.back')}</a></p>`;
  return sendPage(reply, ctx, { title, body }, status);
}

async function sessionsPage(reply: FastifyReply, ctx: RequestContext, site: Site, user: User): Promise<FastifyReply> {
  const { t } = ctx;
  const sessions = await listUserSessions(site.db, user.id, site.now());
  const rows = sessions.map((s) => {
    const current = s.id === ctx.sessionId;
    return html`<tr${current ? html` class="current"` : ''}>
  <td>${s.user_agent ?? t('accounts.sessions.unknown_device')}${current ? html` <strong>(${t('accounts.sessions.this_browser')})</strong>` : ''}</td>
  <td>${s.ip ?? '–'}</td>
  <td>${formatDate(ctx.locale, s.created_at)}</td>
  <td>${formatDate(ctx.locale, s.last_seen_at)}</td>
  <td>${s.persistent === 1 ? t('accounts.sessions.remembered') : t('accounts.sessions.browser')}</td>
  <td><form method="post" action="/account/sessions/revoke" class="inline">
    ${csrfField(ctx)}
    ${hidden('session', s.id)}
    <button type="submit" class="link">${t('accounts.sessions.revoke')}<span class="visually-hidden"> ${t('accounts.sessions.revoke_which', { date: formatDate(ctx.locale, s.created_at) })}</span></button>
  </form></td>
</tr>`;
  });
  const body = html`<h1>${t('accounts.sessions.title')}</h1>
${accountNav(ctx, 'sessions')}
<p>${t('accounts.sessions.intro')}</p>
<table>
  <caption>${t('accounts.sessions.caption', { n: sessions.length })}</caption>
  <thead><tr>
    <th scope="col">${t('accounts.sessions.device')}</th>
    <th scope="col">${t('accounts.sessions.ip')}</th>
    <th scope="col">${t('accounts.sessions.created')}</th>
    <th scope="col">${t('accounts.sessions.last_seen')}</th>
    <th scope="col">${t('accounts.sessions.kind')}</th>
    <th scope="col">${t('accounts.sessions.action')}</th>
  </tr></thead>
  <tbody>${rows}</tbody>
</table>
<h2>${t('accounts.sessions.everywhere.title')}</h2>
<p>${t('accounts.sessions.everywhere.text')}</p>
<form method="post" action="/account/sessions/revoke-all">
  ${csrfField(ctx)}
  <button type="submit">${t('accounts.sessions.everywhere.submit')}</button>
</form>`;
  return sendPage(reply, ctx, { title: t('accounts.sessions.title'), body });
}

/** Sends the confirmation link for a new address, and tells the old one. */
async function sendEmailChange(site: Site, user: User, email: string, locale: Locale): Promise<void> {
  const token = await createAuthToken(site.db, { purpose: 'email_change', userId: user.id, data: email, ttl: EMAIL_CHANGE_TTL, now: site.now() });
  const t = translator(user.locale ?? locale);
  const siteName = site.config.site.name;
  const link = `${site.publicUrl}/account/email/confirm/${token}`;
  await site.mailer.send({
    to: email,
    subject: t('accounts.mail.email_change.subject', { site: siteName }),
    text: t('accounts.mail.email_change.body', { site: siteName, username: user.username, link, hours: EMAIL_CHANGE_TTL / 3600 }),
  });
  if (user.email) {
    await site.mailer.send({
      to: user.email,
      subject: t('accounts.mail.email_change_notice.subject', { site: siteName }),
      text: t('accounts.mail.email_change_notice.body', { site: siteName, username: user.username }),
    });
  }
}

export function accountRoutes(app: FastifyInstance, site: Site): void {
  app.get('/account', async (req, reply) => {
    const user = loggedIn(req, reply);
    return user ? overviewPage(reply, req.ctx, site, user, await ownWarningsPanel(site, req.ctx, user)) : reply;
  });

  app.get('/account/passkey', async (req, reply) => {
    if (!loggedIn(req, reply)) return reply;
    return passkeyConfirmPage(reply, req.ctx);
  });

  app.post('/account/passkey', async (req, reply) => {
    const user = loggedIn(req, reply);
    if (!user) return reply;
    if (str(bodyOf(req), 'confirm') !== 'yes') return passkeyConfirmPage(reply, req.ctx, 400);
    await rotatePasskey(site.db, user.id, site.now());
    // The tracker forgets the old passkey at once.
    await site.tracker.userChanged(user.id, user.passkey);
    setFlash(reply, 'accounts.passkey.rotated');
    return reply.redirect('/account', 303);
  });

  app.post('/account/rss-key', async (req, reply) => {
    const user = loggedIn(req, reply);
    if (!user) return reply;
    await rotateRssKey(site.db, user.id, site.now());
    setFlash(reply, 'accounts.rss.rotated');
    return reply.redirect('/account', 303);
  });

  app.post('/account/preferences', async (req, reply) => {
    const user = loggedIn(req, reply);
    if (!user) return reply;
    const b = bodyOf(req);
    const loc = str(b, 'locale', 10);
    const priv = str(b, 'privacy', 10);
    const locale: Locale | null = isLocale(loc) ? loc : null;
    const privacy: UserPrivacy = (USER_PRIVACY as readonly string[]).includes(priv) ? (priv as UserPrivacy) : user.privacy;
    await setUserPreferences(site.db, user.id, { locale, privacy }, site.now());
    setFlash(reply, 'accounts.prefs.saved');
    return reply.redirect('/account', 303);
  });

  app.get('/account/password', async (req, reply) => {
    if (!loggedIn(req, reply)) return reply;
    return passwordPage(reply, req.ctx, {});
  });

  app.post('/account/password', async (req, reply) => {
    const user = loggedIn(req, reply);
    if (!user) return reply;
    const ctx = req.ctx;
    const b = bodyOf(req);
    const password = str(b, 'password');
    const errors: FieldErrors = newPasswordErrors(password, str(b, 'password_confirm'), user.username);
    const current = await checkCurrentPassword(site, req, user, str(b, 'current_password'));
    if (current === 'accounts.login.rate_limited_short') return passwordPage(reply, ctx, errors, ctx.t(current), 429);
    if (current) errors.current_password = current;
    if (hasErrors(errors)) return passwordPage(reply, ctx, errors, null, 400);
    await setPasswordHash(site.db, user.id, await hashPassword(password), site.now());
    // Whoever else was logged in as this member is out, and so are T411 clients, which logged in
    // with the old password (personal API tokens stay: they never knew the password).
    await deleteUserSessions(site.db, user.id, ctx.sessionId ?? undefined);
    await revokeAllApiTokens(site.db, user.id, site.now(), 't411');
    setFlash(reply, 'accounts.password.changed');
    return reply.redirect('/account', 303);
  });

  app.get('/account/email', async (req, reply) => {
    const user = loggedIn(req, reply);
    if (!user) return reply;
    return emailPage(reply, req.ctx, user, '', {});
  });

  app.post('/account/email', async (req, reply) => {
    const user = loggedIn(req, reply);
    if (!user) return reply;
    const ctx = req.ctx;
    const b = bodyOf(req);
    const email = normaliseEmail(str(b, 'email', 300));
    const errors: FieldErrors = { email: emailError(email) };
    if (!errors.email && user.email && email === user.email.toLowerCase()) errors.email = 'accounts.email.same';
    if (!errors.email && (await refusedDomainOf(site.db, email))) errors.email = 'joining.email.refused_domain';
    if (!errors.email) {
      const other = await findUserByEmail(site.db, email);
      if (other && other.id !== user.id) errors.email = 'accounts.email.taken';
    }
    const current = await checkCurrentPassword(site, req, user, str(b, 'current_password'));
    if (current) errors.current_password = current;
    if (hasErrors(errors)) return emailPage(reply, ctx, user, email, errors, current === 'accounts.login.rate_limited_short' ? 429 : 400);
    await sendEmailChange(site, user, email, ctx.locale);
    return messagePage(reply, ctx, ctx.t('accounts.email.sent.title'), ctx.t('accounts.email.sent.text', { email }), 'email');
  });

  app.get<{ Params: { token: string } }>('/account/email/confirm/:token', async (req, reply) => {
    const ctx = req.ctx;
    const row = await consumeAuthToken(site.db, req.params.token, 'email_change', site.now());
    const user = row?.user_id ? await findUserById(site.db, row.user_id) : undefined;
    if (!row || !row.data || !user) return errorPage(reply, ctx, 400, ctx.t('accounts.email.confirm.invalid'));
    try {
      await setUserEmail(site.db, user.id, row.data, true, site.now());
    } catch (err) {
      if (err instanceof DuplicateUserError) return errorPage(reply, ctx, 409, ctx.t('accounts.email.confirm.taken'));
      throw err;
    }
    if (ctx.user?.id === user.id) {
      setFlash(reply, 'accounts.email.changed');
      return reply.redirect('/account', 303);
    }
    return messagePage(reply, ctx, ctx.t('accounts.email.confirm.title'), ctx.t('accounts.email.confirm.done', { email: row.data }));
  });

  app.get('/account/sessions', async (req, reply) => {
    const user = loggedIn(req, reply);
    return user ? sessionsPage(reply, req.ctx, site, user) : reply;
  });

  app.post('/account/sessions/revoke', async (req, reply) => {
    const user = loggedIn(req, reply);
    if (!user) return reply;
    const id = str(bodyOf(req), 'session', 100);
    await site.db.deleteFrom('session').where('id', '=', id).where('user_id', '=', user.id).execute();
    if (id === req.ctx.sessionId) {
      endSessionCookie(reply);
      setFlash(reply, 'accounts.sessions.revoked_current');
      return reply.redirect('/login', 303);
    }
    setFlash(reply, 'accounts.sessions.revoked');
    return reply.redirect('/account/sessions', 303);
  });

  app.post('/account/sessions/revoke-all', async (req, reply) => {
    const user = loggedIn(req, reply);
    if (!user) return reply;
    await deleteUserSessions(site.db, user.id);
    endSessionCookie(reply);
    setFlash(reply, 'accounts.sessions.revoked_all');
    return reply.redirect('/login', 303);
  });
}

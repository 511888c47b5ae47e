/**
 * The joining pages for visitors and members:
 *
 *   GET  /verify-email/<token>   follows the verification link of a new account
 *   POST /verify-email/resend    a new verification link (logged in, unverified)
 *   GET  /invites                the member's invitations: quota, create form, list with states
 *   POST /invites                creates one (the link shown once, and mailed when an address is given)
 *   POST /invites/<id>/revoke    revokes an unused one (it is given back)
 *   GET  /apply, POST /apply     the application form (registration mode "application")
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { findUserByEmail, findUserById } from '../../../db/user.repository.js';
import type { User } from '../../../db/schema.js';
import { MAX_ANSWER_LENGTH, pendingApplicationClaims, submitApplication } from '../../../site/joining/applications.js';
import { refusedDomainOf } from '../../../site/joining/domains.js';
import { createInvite, inviteState, listInvitesOf, revokeInvite, type InviteListRow } from '../../../site/joining/invites.js';
import { ipCapReached, normaliseIp } from '../../../site/joining/ips.js';
import { registrationStatus } from '../../../site/joining/rules.js';
import { mustVerifyEmail, verifyEmailToken } from '../../../site/joining/verify.js';
import { hashPassword } from '../../../site/passwords.js';
import type { Site } from '../../../site/site.js';
import { can } from '../../../site/staff/policy.js';
import { requireUser, setFlash, type RequestContext } from '../../context.js';
import { formatDate } from '../../format.js';
import { html, type Html } from '../../html.js';
import { csrfField, errorPage, sendPage } from '../../layout.js';
import type { MessageKey } from '../../messages.js';
import {
  bodyOf,
  emailError,
  errorSummary,
  field,
  hasErrors,
  newPasswordErrors,
  normaliseEmail,
  str,
  takenErrors,
  usernameError,
  type FieldErrors,
} from '../accounts/shared.js';
import { sendInviteMail, sendVerificationMail } from './mail.js';
import { registrationNotice } from './pieces.js';

/** New verification links a member may ask for per hour. */
const RESEND_LIMIT = 3;

function messagePage(reply: FastifyReply, ctx: RequestContext, title: string, body: Html, status = 200): FastifyReply {
  return sendPage(reply, ctx, { title, body: html`<h1>${title}</h1>${body}` }, status);
}

/** A textarea with its label, hint and error. */
export function textArea(ctx: RequestContext, o: { name: string; label: string; value: string; error?: MessageKey | undefined; hint?: string; rows?: number; maxlength?: number; required?: boolean }): Html {
  const id = `f-${o.name}`;
  const described = [o.hint ? `${id}-hint` : null, o.error ? `${id}-error` : null].filter(Boolean).join(' ');
  return html`<div class="field">
  <label for="${id}">${o.label}</label>
  <textarea id="${id}" name="${o.name}" rows="${o.rows ?? 4}"${o.maxlength ? html` maxlength="${o.maxlength}"` : ''}${o.required ? html` required` : ''}${o.error ? html` aria-invalid="true"` : ''}${described ? html` aria-describedby="${described}"` : ''}>${o.value}</textarea>
  ${o.hint ? html`<p class="hint" id="${id}-hint">${o.hint}</p>` : ''}
  ${o.error ? html`<p class="field-error" id="${id}-error">${ctx.t(o.error)}</p>` : ''}
</div>`;
}

// --- invitations --------------------------------------------------------------------------------

interface InvitesView {
  user: User;
  invites: InviteListRow[];
  unlimited: boolean;
  email: string;
  errors: FieldErrors;
  /** The link of an invitation just created (shown once). */
  created?: { link: string; mailed: string | null };
}

function inviteRows(ctx: RequestContext, rows: InviteListRow[], now: number): Html {
  const { t, locale } = ctx;
  if (rows.length === 0) return html`<p class="empty">${t('joining.invites.none')}</p>`;
  return html`<div class="table-wrap"><table class="joining-table">
<caption class="visually-hidden">${t('joining.invites.caption')}</caption>
<thead><tr>
  <th scope="col">${t('joining.col.created')}</th>
  <th scope="col">${t('joining.col.email')}</th>
  <th scope="col">${t('joining.col.expires')}</th>
  <th scope="col">${t('joining.col.state')}</th>
  <th scope="col"><span class="visually-hidden">${t('joining.col.actions')}</span></th>
</tr></thead>
<tbody>${rows.map((r) => {
    const state = inviteState(r, now);
    return html`<tr>
  <td>${formatDate(locale, r.created_at)}</td>
  <td>${r.email ?? '–'}</td>
  <td>${formatDate(locale, r.expires_at)}</td>
  <td><span class="badge invite-${state}">${t(`joining.invite.state.${state}`)}</span>${state === 'used' && r.used_by !== null ? html` <a href="/u/${r.used_by}">${r.used_by_name ?? ''}</a>` : ''}</td>
  <td>${state === 'pending' ? html`<form method="post" action="/invites/${r.id}/revoke" class="inline">${csrfField(ctx)}<button type="submit" class="link">${t('joining.invite.revoke')}</button></form>` : ''}</td>
</tr>`;
  })}</tbody>
</table></div>`;
}

function invitesPage(reply: FastifyReply, ctx: RequestContext, site: Site, v: InvitesView, status = 200): FastifyReply {
  const { t } = ctx;
  const canCreate = v.unlimited || v.user.invites_left > 0;
  const body = html`<h1>${t('joining.invites.title')}</h1>
${errorSummary(ctx, v.errors)}
${v.created
  ? html`<section class="panel joining-created" aria-labelledby="h-created">
<h2 id="h-created">${t('joining.invite.created.title')}</h2>
<p>${t('joining.invite.created.text', { days: Math.round(site.config.joining.invite_ttl / 86400) })}</p>
<p><code class="invite-link">${v.created.link}</code></p>
${v.created.mailed ? html`<p>${t('joining.invite.created.mailed', { email: v.created.mailed })}</p>` : ''}
</section>`
  : ''}
<p>${v.unlimited ? t('joining.invites.unlimited') : t('joining.invites.left', { n: v.user.invites_left })}</p>
<section class="panel" aria-labelledby="h-new-invite">
<h2 id="h-new-invite">${t('joining.invite.new.title')}</h2>
${canCreate
  ? html`<form method="post" action="/invites" class="form" novalidate>
  ${csrfField(ctx)}
  ${field(ctx, { name: 'email', type: 'email', label: t('joining.invite.email'), value: v.email, error: v.errors.email, hint: t('joining.invite.email_hint'), autocomplete: 'off', maxlength: 254 })}
  <p><button type="submit">${t('joining.invite.create')}</button></p>
</form>`
  : html`<p>${t('joining.invites.none_left')}</p>`}
</section>
<section aria-labelledby="h-invite-list">
<h2 id="h-invite-list">${t('joining.invites.list')}</h2>
${inviteRows(ctx, v.invites, site.now())}
</section>`;
  return sendPage(reply, ctx, { title: t('joining.invites.title'), body }, status);
}

// --- applications -------------------------------------------------------------------------------

interface ApplyForm {
  username: string;
  email: string;
  answers: string[];
  errors: FieldErrors;
}

async function applyPage(reply: FastifyReply, ctx: RequestContext, site: Site, f: ApplyForm, status = 200, general?: string): Promise<FastifyReply> {
  const { t } = ctx;
  const s = await registrationStatus(site.db, site.now());
  if (!s.acceptsApplications) {
    return messagePage(reply, ctx, t('joining.apply.title'), html`<p>${t('joining.apply.closed')}</p>${registrationNotice(ctx, s)}<p><a href="/register">${t('common.nav.register')}</a></p>`, 403);
  }
  const questions = s.settings.questions;
  const body = html`<h1>${t('joining.apply.title')}</h1>
${errorSummary(ctx, f.errors, general)}
<p>${t('joining.apply.intro')}</p>
<form method="post" action="/apply" class="form" novalidate>
  ${csrfField(ctx)}
  ${field(ctx, { name: 'username', label: t('accounts.field.username'), value: f.username, error: f.errors.username, hint: t('accounts.username.hint'), autocomplete: 'username', required: true, minlength: 3, maxlength: 32 })}
  ${field(ctx, { name: 'email', type: 'email', label: t('accounts.field.email'), value: f.email, error: f.errors.email, hint: t('joining.apply.email_hint'), autocomplete: 'email', required: true, maxlength: 254 })}
  ${field(ctx, { name: 'password', type: 'password', label: t('accounts.field.password'), error: f.errors.password, hint: t('accounts.password.hint'), autocomplete: 'new-password', required: true, minlength: 10 })}
  ${field(ctx, { name: 'password_confirm', type: 'password', label: t('accounts.field.password_confirm'), error: f.errors.password_confirm, autocomplete: 'new-password', required: true })}
  ${questions.length > 0
    ? html`<fieldset class="apply-questions"><legend>${t('joining.apply.questions')}</legend>
  ${questions.map((q, i) => textArea(ctx, { name: `answer_${i}`, label: q, value: f.answers[i] ?? '', error: f.errors[`answer_${i}`], rows: 4, maxlength: MAX_ANSWER_LENGTH, required: true }))}
</fieldset>`
    : ''}
  <p><button type="submit">${t('joining.apply.submit')}</button></p>
</form>`;
  return sendPage(reply, ctx, { title: t('joining.apply.title'), body }, status);
}

export function memberRoutes(app: FastifyInstance, site: Site): void {
  // --- email verification -----------------------------------------------------------------------
  app.get<{ Params: { token: string } }>('/verify-email/:token', async (req, reply) => {
    const ctx = req.ctx;
    const r = await verifyEmailToken(site.db, req.params.token, site.now());
    if (!r.ok) return errorPage(reply, ctx, 400, ctx.t('joining.verify.invalid'));
    // The tracker lets the member download from now on.
    await site.tracker.userChanged(r.userId);
    if (ctx.user?.id === r.userId) {
      setFlash(reply, 'joining.verify.done');
      return reply.redirect('/account', 303);
    }
    return messagePage(reply, ctx, ctx.t('joining.verify.title'), html`<p>${ctx.t('joining.verify.done')}</p><p><a href="/login">${ctx.t('common.nav.login')}</a></p>`);
  });

  app.post('/verify-email/resend', async (req, reply) => {
    const user = requireUser(req, reply);
    if (!mustVerifyEmail(site, user)) return reply.redirect('/account', 303);
    if (!site.limiter.hit(`verify:user:${user.id}`, RESEND_LIMIT, 3600, site.now())) {
      setFlash(reply, 'joining.verify.resend_limited');
      return reply.redirect('/account', 303);
    }
    await sendVerificationMail(site, user, req.ctx.locale);
    setFlash(reply, 'joining.verify.resent');
    return reply.redirect('/account', 303);
  });

  // --- invitations ------------------------------------------------------------------------------
  const view = async (user: User) => ({
    user,
    invites: await listInvitesOf(site.db, user.id),
    unlimited: await can(site.db, user, 'invite.manage'),
  });

  app.get('/invites', async (req, reply) => {
    const user = requireUser(req, reply);
    return invitesPage(reply, req.ctx, site, { ...(await view(user)), email: '', errors: {} });
  });

  app.post('/invites', async (req, reply) => {
    const user = requireUser(req, reply);
    const ctx = req.ctx;
    const email = normaliseEmail(str(bodyOf(req), 'email', 300));
    const v = await view(user);
    const errors: FieldErrors = {};
    if (email !== '') {
      errors.email = emailError(email);
      if (!errors.email && (await refusedDomainOf(site.db, email))) errors.email = 'joining.email.refused_domain';
      if (!errors.email && (await findUserByEmail(site.db, email))) errors.email = 'joining.invite.email_member';
    }
    if (hasErrors(errors)) return invitesPage(reply, ctx, site, { ...v, email, errors }, 400);
    const now = site.now();
    const created = await createInvite(site.db, { inviterId: user.id, email: email || null, ttl: site.config.joining.invite_ttl, now, unlimited: v.unlimited });
    if (!created) return invitesPage(reply, ctx, site, { ...v, email, errors: { email: 'joining.invites.none_left' } }, 409);
    if (email) await sendInviteMail(site, email, user, created.code, now + site.config.joining.invite_ttl, ctx.locale);
    const fresh = (await findUserById(site.db, user.id)) ?? user;
    return invitesPage(reply, ctx, site, { ...(await view(fresh)), email: '', errors: {}, created: { link: `${site.publicUrl}/register/invite/${created.code}`, mailed: email || null } }, 201);
  });

  app.post<{ Params: { id: string } }>('/invites/:id/revoke', async (req, reply) => {
    const user = requireUser(req, reply);
    const id = Number(req.params.id);
    const done = Number.isSafeInteger(id) && id > 0 ? await revokeInvite(site.db, id, { inviterId: user.id, now: site.now() }) : null;
    setFlash(reply, done ? 'joining.invite.revoked' : 'joining.invite.not_revocable');
    return reply.redirect('/invites', 303);
  });

  // --- applications -----------------------------------------------------------------------------
  app.get('/apply', async (req, reply) => {
    if (req.ctx.user) return reply.redirect('/account', 303);
    return applyPage(reply, req.ctx, site, { username: '', email: '', answers: [], errors: {} });
  });

  app.post('/apply', async (req, reply) => {
    const ctx = req.ctx;
    const b = bodyOf(req);
    const now = site.now();
    const s = await registrationStatus(site.db, now);
    const username = str(b, 'username', 100).trim();
    const email = normaliseEmail(str(b, 'email', 300));
    const answers = s.settings.questions.map((_, i) => str(b, `answer_${i}`, MAX_ANSWER_LENGTH).trim());
    const form = { username, email, answers };
    if (!s.acceptsApplications) return applyPage(reply, ctx, site, { ...form, errors: {} });
    if (await ipCapReached(site, req.ip)) return applyPage(reply, ctx, site, { ...form, errors: {} }, 403, ctx.t('joining.refused.ip_cap'));
    const password = str(b, 'password', 2000);
    const errors: FieldErrors = {
      username: usernameError(username),
      email: emailError(email),
      ...newPasswordErrors(password, str(b, 'password_confirm', 2000), username),
    };
    answers.forEach((a, i) => {
      if (a === '') errors[`answer_${i}`] = 'common.form.required';
    });
    if (!errors.email && (await refusedDomainOf(site.db, email))) errors.email = 'joining.email.refused_domain';
    await takenErrors(site, username, email, errors);
    const claimed = await pendingApplicationClaims(site.db, username, email);
    if (claimed.username) errors.username ??= 'accounts.username.taken';
    if (claimed.email) errors.email ??= 'joining.apply.email_pending';
    if (hasErrors(errors)) return applyPage(reply, ctx, site, { ...form, errors }, 400);
    await submitApplication(site.db, {
      username,
      email,
      passwordHash: await hashPassword(password),
      answers: s.settings.questions.map((question, i) => ({ question, answer: answers[i]! })),
      ip: normaliseIp(req.ip),
      now,
    });
    return messagePage(reply, ctx, ctx.t('joining.apply.sent.title'), html`<p>${ctx.t('joining.apply.sent.text', { email })}</p>`, 201);
  });
}

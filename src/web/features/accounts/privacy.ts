/**
 * The member's data (lawful operation, #4):
 *
 *   GET       /account/privacy   what the site keeps and for how long; links to the two below
 *   GET       /account/data      everything the site holds about the member, as a JSON download
 *   GET|POST  /account/delete    deletes the account (current password + confirmation)
 *
 * The services are in src/site/lawful/privacy.ts; the texts are the lawful feature's messages.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { deleteAccount, exportUserData } from '../../../site/lawful/privacy.js';
import type { Site } from '../../../site/site.js';
import { setFlash, type RequestContext } from '../../context.js';
import { html } from '../../html.js';
import { csrfField, sendPage } from '../../layout.js';
import type { MessageKey } from '../../messages.js';
import { accountNav, bodyOf, checkCurrentPassword, checked, endSessionCookie, errorSummary, field, hasErrors, loggedIn, str, type FieldErrors } from './shared.js';

function privacyPage(reply: FastifyReply, ctx: RequestContext, site: Site): FastifyReply {
  const { t } = ctx;
  const body = html`<h1>${t('lawful.privacy.title')}</h1>
${accountNav(ctx, 'privacy')}
<section class="panel" aria-labelledby="h-kept">
  <h2 id="h-kept">${t('lawful.privacy.kept.title')}</h2>
  <ul>
    <li>${t('lawful.privacy.kept.peers')}</li>
    <li>${t('lawful.privacy.kept.login_ips', { days: site.config.privacy.login_ip_days })}</li>
    <li>${t('lawful.privacy.kept.traffic', { days: site.config.ledger.traffic_retention_days })}</li>
  </ul>
</section>
<section class="panel" aria-labelledby="h-export">
  <h2 id="h-export">${t('lawful.privacy.export.title')}</h2>
  <p>${t('lawful.privacy.export.text')}</p>
  <p><a class="button" href="/account/data" download>${t('lawful.privacy.export.link')}</a></p>
</section>
<section class="panel" aria-labelledby="h-delete">
  <h2 id="h-delete">${t('lawful.privacy.delete.title')}</h2>
  <p>${t('lawful.privacy.delete.text')}</p>
  <p><a class="button danger" href="/account/delete">${t('lawful.privacy.delete.link')}</a></p>
</section>`;
  return sendPage(reply, ctx, { title: t('lawful.privacy.title'), body });
}

function deletePage(reply: FastifyReply, ctx: RequestContext, errors: FieldErrors, confirm: boolean, general: string | null = null, status = 200): FastifyReply {
  const { t } = ctx;
  const body = html`<h1>${t('lawful.privacy.delete.title')}</h1>
${accountNav(ctx, 'privacy')}
${errorSummary(ctx, errors, general)}
<p>${t('lawful.privacy.delete.text')}</p>
<ul>
  <li>${t('lawful.privacy.delete.erased')}</li>
  <li>${t('lawful.privacy.delete.kept')}</li>
  <li>${t('lawful.privacy.delete.final')}</li>
</ul>
<form method="post" action="/account/delete" class="form" novalidate>
  ${csrfField(ctx)}
  ${field(ctx, { name: 'current_password', type: 'password', label: t('accounts.field.current_password'), error: errors.current_password, autocomplete: 'current-password', required: true })}
  <div class="field-check">
    <input id="f-confirm" name="confirm" type="checkbox" value="1"${confirm ? html` checked` : ''} required${errors.confirm ? html` aria-invalid="true" aria-describedby="f-confirm-error"` : ''}>
    <label for="f-confirm">${t('lawful.privacy.delete.confirm')}</label>
    ${errors.confirm ? html`<p class="field-error" id="f-confirm-error">${t(errors.confirm)}</p>` : ''}
  </div>
  <p><button type="submit" class="danger">${t('lawful.privacy.delete.submit')}</button> <a href="/account/privacy">${t('common.cancel')}</a></p>
</form>`;
  return sendPage(reply, ctx, { title: t('lawful.privacy.delete.title'), body }, status);
}

const DELETE_ERRORS: Record<'not_found' | 'already_deleted' | 'last_admin', MessageKey> = {
  not_found: 'common.error.not_found',
  already_deleted: 'common.error.not_found',
  last_admin: 'lawful.privacy.delete.last_admin',
};

export function privacyRoutes(app: FastifyInstance, site: Site): void {
  app.get('/account/privacy', async (req, reply) => {
    const user = loggedIn(req, reply);
    return user ? privacyPage(reply, req.ctx, site) : reply;
  });

  app.get('/account/data', async (req, reply) => {
    const user = loggedIn(req, reply);
    if (!user) return reply;
    const data = await exportUserData(site.db, user.id, site.now());
    const date = new Date(site.now() * 1000).toISOString().slice(0, 10);
    return reply
      .header('Content-Disposition', `attachment; filename="${site.config.site.name.replace(/[^A-Za-z0-9_.-]+/g, '_')}-data-${user.id}-${date}.json"`)
      .header('Cache-Control', 'no-store')
      .type('application/json; charset=utf-8')
      .send(JSON.stringify(data, null, 2));
  });

  app.get('/account/delete', async (req, reply) => {
    const user = loggedIn(req, reply);
    return user ? deletePage(reply, req.ctx, {}, false) : reply;
  });

  app.post('/account/delete', async (req, reply) => {
    const user = loggedIn(req, reply);
    if (!user) return reply;
    const ctx = req.ctx;
    const b = bodyOf(req);
    const confirm = checked(b, 'confirm');
    const errors: FieldErrors = {};
    const current = await checkCurrentPassword(site, req, user, str(b, 'current_password'));
    if (current === 'accounts.login.rate_limited_short') return deletePage(reply, ctx, errors, confirm, ctx.t(current), 429);
    if (current) errors.current_password = current;
    if (!confirm) errors.confirm = 'lawful.privacy.delete.confirm_required';
    if (hasErrors(errors)) return deletePage(reply, ctx, errors, confirm, null, 400);
    const r = await deleteAccount(site, user.id);
    if (!r.ok) return deletePage(reply, ctx, {}, confirm, ctx.t(DELETE_ERRORS[r.error]), r.error === 'last_admin' ? 409 : 404);
    endSessionCookie(reply);
    setFlash(reply, 'lawful.privacy.deleted');
    return reply.redirect('/', 303);
  });
}

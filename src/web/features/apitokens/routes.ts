/**
 * The member's API tokens (/account/api): list them (name, last four characters, scopes, dates),
 * create one (name, scopes, expiry; the token is shown once, on the answer to the POST, and never
 * again), revoke one. The tokens themselves are src/api/tokens.ts.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ApiScope, User } from '../../../db/schema.js';
import type { Site } from '../../../site/site.js';
import { API_SCOPES, countLiveTokens, createApiToken, listApiTokens, revokeApiToken, TOKEN_NAME_MAX } from '../../../api/tokens.js';
import { setFlash, type RequestContext } from '../../context.js';
import { formatDate } from '../../format.js';
import { attr, html, type Html } from '../../html.js';
import { csrfField, sendPage } from '../../layout.js';
import type { MessageKey } from '../../messages.js';
import { accountNav, bodyOf, errorSummary, field, hasErrors, loggedIn, str, type FieldErrors } from '../accounts/shared.js';

/** Expiry choices offered, in days (0: never). */
export const EXPIRY_DAYS = [0, 30, 90, 365] as const;

interface FormValues {
  name: string;
  scopes: ApiScope[];
  expiry: number;
}

const EMPTY: FormValues = { name: '', scopes: ['read'], expiry: 0 };

function scopesOf(b: Record<string, unknown>): ApiScope[] {
  const v = b.scope;
  const given = Array.isArray(v) ? v : [v];
  return API_SCOPES.filter((s) => given.includes(s));
}

async function tokensPage(
  reply: FastifyReply,
  ctx: RequestContext,
  site: Site,
  user: User,
  o: { values?: FormValues; errors?: FieldErrors; general?: string | null; created?: string | null; status?: number } = {},
): Promise<FastifyReply> {
  const { t } = ctx;
  const now = site.now();
  const tokens = await listApiTokens(site.db, user.id, now);
  const values = o.values ?? EMPTY;
  const errors = o.errors ?? {};
  const date = (s: number | null, none: MessageKey) => (s === null ? t(none) : formatDate(ctx.locale, s));
  const rows = tokens.map(
    (tok) => html`<tr>
  <td>${tok.name}${tok.kind === 't411' ? html` <small>(${t('apitokens.kind.t411')})</small>` : ''}</td>
  <td><code>…${tok.hint}</code></td>
  <td>${tok.scopes.map((s) => t(`apitokens.scope.${s}.short`)).join(', ')}</td>
  <td>${formatDate(ctx.locale, tok.created_at)}</td>
  <td>${date(tok.last_used_at, 'apitokens.not_used')}</td>
  <td>${date(tok.expires_at, 'apitokens.never')}</td>
  <td><form method="post" action="/account/api/${tok.id}/revoke" class="inline">
    ${csrfField(ctx)}
    <button type="submit" class="link">${t('apitokens.revoke')}<span class="visually-hidden"> ${t('apitokens.revoke_which', { name: tok.name })}</span></button>
  </form></td>
</tr>`,
  );
  const created: Html | string = o.created
    ? html`<section class="token-created" aria-labelledby="created-title">
  <h2 id="created-title">${t('apitokens.created.title')}</h2>
  <p>${t('apitokens.created.text')}</p>
  <p><label for="created-token">${t('apitokens.created.label')}</label>
  <input id="created-token" type="text" readonly value="${o.created}" size="48" autocomplete="off" spellcheck="false"></p>
</section>`
    : '';
  const scopeBoxes = API_SCOPES.map(
    (s) => html`<li><input type="checkbox" id="scope-${s}" name="scope" value="${s}"${attr('checked', values.scopes.includes(s))}> <label for="scope-${s}">${t(`apitokens.scope.${s}`)}</label></li>`,
  );
  const body = html`<h1>${t('apitokens.title')}</h1>
${accountNav(ctx, 'api')}
${created}
<p>${t('apitokens.intro')} <a href="/api/docs">${t('apitokens.docs')}</a></p>
<dl class="api-endpoints">
  <dt>${t('apitokens.endpoint.json')}</dt><dd><code>${site.publicUrl}/api/v1</code></dd>
  ${site.config.api.torznab_enabled ? html`<dt>${t('apitokens.endpoint.torznab')}</dt><dd><code>${site.publicUrl}/api/torznab</code></dd>` : ''}
  ${site.config.api.unit3d_enabled ? html`<dt>${t('apitokens.endpoint.unit3d')}</dt><dd><code>${site.publicUrl}</code></dd>` : ''}
  ${site.config.api.t411_enabled ? html`<dt>${t('apitokens.endpoint.t411')}</dt><dd><code>${site.publicUrl}${site.config.api.t411_base_path}</code></dd>` : ''}
</dl>
${
  tokens.length === 0
    ? html`<p>${t('apitokens.list.empty')}</p>`
    : html`<table class="data">
  <caption>${t('apitokens.list.caption', { n: tokens.length })}</caption>
  <thead><tr>
    <th scope="col">${t('apitokens.col.name')}</th>
    <th scope="col">${t('apitokens.col.token')}</th>
    <th scope="col">${t('apitokens.col.scopes')}</th>
    <th scope="col">${t('apitokens.col.created')}</th>
    <th scope="col">${t('apitokens.col.used')}</th>
    <th scope="col">${t('apitokens.col.expires')}</th>
    <th scope="col">${t('apitokens.col.action')}</th>
  </tr></thead>
  <tbody>${rows}</tbody>
</table>`
}
<h2>${t('apitokens.new.title')}</h2>
${errorSummary(ctx, errors, o.general)}
<form method="post" action="/account/api" novalidate>
  ${csrfField(ctx)}
  ${field(ctx, { name: 'name', label: t('apitokens.new.name'), value: values.name, error: errors.name, hint: t('apitokens.new.name_hint'), maxlength: TOKEN_NAME_MAX, required: true })}
  <fieldset${errors.scopes ? html` aria-describedby="scopes-error"` : ''}>
    <legend>${t('apitokens.new.scopes')}</legend>
    <ul class="check-list">${scopeBoxes}</ul>
    ${errors.scopes ? html`<p class="field-error" id="scopes-error">${t(errors.scopes)}</p>` : ''}
  </fieldset>
  <div class="field">
    <label for="f-expiry">${t('apitokens.new.expiry')}</label>
    <select id="f-expiry" name="expiry"${errors.expiry ? html` aria-invalid="true" aria-describedby="expiry-error"` : ''}>
      ${EXPIRY_DAYS.map((d) => html`<option value="${d}"${attr('selected', values.expiry === d)}>${d === 0 ? t('apitokens.new.expiry.never') : t('apitokens.new.expiry.days', { n: d })}</option>`)}
    </select>
    ${errors.expiry ? html`<p class="field-error" id="expiry-error">${t(errors.expiry)}</p>` : ''}
  </div>
  <button type="submit">${t('apitokens.new.submit')}</button>
</form>`;
  // The answer that shows a new token must not be kept by any cache.
  if (o.created) void reply.header('Cache-Control', 'no-store');
  return sendPage(reply, ctx, { title: t('apitokens.title'), body }, o.status ?? 200);
}

export function routes(app: FastifyInstance, site: Site): void {
  app.get('/account/api', async (req, reply) => {
    const user = loggedIn(req, reply);
    return user ? tokensPage(reply, req.ctx, site, user) : reply;
  });

  app.post('/account/api', async (req, reply) => {
    const user = loggedIn(req, reply);
    if (!user) return reply;
    const ctx = req.ctx;
    const b = bodyOf(req);
    const rawName = typeof b.name === 'string' ? b.name : '';
    const expiryRaw = str(b, 'expiry', 10);
    const expiry = Number(expiryRaw);
    const values: FormValues = { name: rawName.slice(0, 500), scopes: scopesOf(b), expiry: EXPIRY_DAYS.includes(expiry as never) ? expiry : 0 };
    const errors: FieldErrors = {};
    const name = rawName.trim();
    if (name === '' || name.length > TOKEN_NAME_MAX) errors.name = 'apitokens.error.name';
    if (values.scopes.length === 0) errors.scopes = 'apitokens.error.scopes';
    if (!EXPIRY_DAYS.includes(expiry as never) || expiryRaw === '') errors.expiry = 'apitokens.error.expiry';
    if (hasErrors(errors)) return tokensPage(reply, ctx, site, user, { values, errors, status: 400 });
    const now = site.now();
    const max = site.config.api.max_tokens_per_user;
    if ((await countLiveTokens(site.db, user.id, 'personal', now)) >= max) {
      return tokensPage(reply, ctx, site, user, { values, general: ctx.t('apitokens.error.too_many', { n: max }), status: 409 });
    }
    const { token } = await createApiToken(site.db, {
      userId: user.id,
      kind: 'personal',
      name,
      scopes: values.scopes,
      now,
      expiresAt: values.expiry === 0 ? null : now + values.expiry * 86400,
    });
    return tokensPage(reply, ctx, site, user, { created: token });
  });

  app.post<{ Params: { id: string } }>('/account/api/:id/revoke', async (req, reply) => {
    const user = loggedIn(req, reply);
    if (!user) return reply;
    const id = /^\d{1,15}$/.test(req.params.id) ? Number(req.params.id) : 0;
    await revokeApiToken(site.db, user.id, id, site.now());
    setFlash(reply, 'apitokens.revoked');
    return reply.redirect('/account/api', 303);
  });
}


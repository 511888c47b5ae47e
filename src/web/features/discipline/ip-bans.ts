/**
 * IP bans (ip.ban):
 *
 *   GET  /staff/ip-bans[?all=1]         the bans in force (all=1: expired ones too) and the form
 *   POST /staff/ip-bans                 add a ban: an address or a CIDR range, a reason, a duration
 *   POST /staff/ip-bans/<id>/delete     remove a ban
 *
 * A ban that would cover the address of the member making it is refused (staff would lock
 * themselves out).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseIp } from '../../../site/discipline/cidr.js';
import { cidrContains } from '../../../site/discipline/cidr.js';
import { addIpBan, checkCidr, listIpBans, removeIpBan, type IpBan } from '../../../site/discipline/ip-bans.js';
import { MAX_REASON } from '../../../site/discipline/warnings.js';
import type { Site } from '../../../site/site.js';
import { setFlash, type RequestContext } from '../../context.js';
import { formatDate } from '../../format.js';
import { html, type Html } from '../../html.js';
import { csrfField, sendPage } from '../../layout.js';
import { requirePermission } from '../../staff.js';
import { bodyOf, durationOptions, expiryFrom, formErrors, hasErrors, idParam, input, IP_BAN_DAYS, select, str, textarea, type Errors, type Values } from './forms.js';

function when(ctx: RequestContext, epoch: number | null): Html {
  if (epoch === null) return html`${ctx.t('discipline.never')}`;
  return html`<time datetime="${new Date(epoch * 1000).toISOString()}">${formatDate(ctx.locale, epoch)}</time>`;
}

async function ipBansPage(req: FastifyRequest, reply: FastifyReply, site: Site, o: { all: boolean; values?: Values; errors?: Errors }, status = 200): Promise<FastifyReply> {
  const ctx = req.ctx;
  const { t } = ctx;
  const now = site.now();
  const bans = await listIpBans(site.db, now, { includeExpired: o.all });
  const ids = [...new Set(bans.map((b) => b.created_by).filter((x): x is number => x !== null))];
  const byId = new Map(ids.length === 0 ? [] : (await site.db.selectFrom('user').select(['id', 'username']).where('id', 'in', ids).execute()).map((r) => [r.id, r.username]));
  const values = o.values ?? {};
  const errors = o.errors ?? {};
  const row = (b: IpBan) => {
    const expired = b.expires_at !== null && b.expires_at <= now;
    return html`<tr${expired ? html` class="expired"` : ''}>
  <th scope="row"><code>${b.cidr}</code></th>
  <td>${b.reason}</td>
  <td>${b.created_by === null ? t('discipline.system') : html`<a href="/staff/users/${b.created_by}">${byId.get(b.created_by) ?? `#${b.created_by}`}</a>`}</td>
  <td>${when(ctx, b.created_at)}</td>
  <td>${when(ctx, b.expires_at)}${expired ? html` <span class="badge">${t('discipline.state.expired')}</span>` : ''}</td>
  <td><form method="post" action="/staff/ip-bans/${b.id}/delete" class="inline">${csrfField(ctx)}<button type="submit" class="link">${t('discipline.ipban.remove')}<span class="visually-hidden"> ${b.cidr}</span></button></form></td>
</tr>`;
  };
  const body = html`<h1>${t('discipline.ipban.title')}</h1>
<p>${t('discipline.ipban.intro')}</p>
<section class="panel" aria-labelledby="h-ipban-add">
<h2 id="h-ipban-add">${t('discipline.ipban.add')}</h2>
${formErrors(ctx, errors)}
<form method="post" action="/staff/ip-bans" class="form" novalidate>
  ${csrfField(ctx)}
  ${input(ctx, { form: 'ipban', name: 'cidr', label: t('discipline.field.cidr'), hint: t('discipline.ipban.cidr_hint'), value: values.cidr ?? '', error: errors.cidr, maxlength: 60, required: true })}
  ${textarea(ctx, { form: 'ipban', name: 'reason', label: t('discipline.field.reason'), value: values.reason ?? '', error: errors.reason, maxlength: MAX_REASON, required: true })}
  ${select(ctx, { form: 'ipban', name: 'days', label: t('discipline.field.duration'), value: values.days ?? '30', options: durationOptions(ctx, IP_BAN_DAYS, 'discipline.duration.never_expires'), error: errors.days })}
  <p><button type="submit">${t('discipline.ipban.submit')}</button></p>
</form>
</section>
<section aria-labelledby="h-ipban-list">
<h2 id="h-ipban-list">${o.all ? t('discipline.ipban.list_all') : t('discipline.ipban.list')}</h2>
<p>${o.all ? html`<a href="/staff/ip-bans">${t('discipline.ipban.show_active')}</a>` : html`<a href="/staff/ip-bans?all=1">${t('discipline.ipban.show_all')}</a>`}</p>
${bans.length === 0
  ? html`<p class="empty">${t('discipline.ipban.none')}</p>`
  : html`<div class="table-wrap"><table class="discipline-table">
<caption class="visually-hidden">${t('discipline.ipban.list')}</caption>
<thead><tr><th scope="col">${t('discipline.col.ip')}</th><th scope="col">${t('discipline.col.reason')}</th><th scope="col">${t('discipline.col.by')}</th><th scope="col">${t('discipline.col.date')}</th><th scope="col">${t('discipline.col.expires')}</th><th scope="col"><span class="visually-hidden">${t('discipline.col.actions')}</span></th></tr></thead>
<tbody>${bans.map(row)}</tbody>
</table></div>`}
</section>`;
  return sendPage(reply, ctx, { title: t('discipline.ipban.title'), body }, status);
}

export function ipBanRoutes(app: FastifyInstance, site: Site): void {
  app.get<{ Querystring: { all?: string } }>('/staff/ip-bans', async (req, reply) => {
    await requirePermission(req, 'ip.ban');
    return ipBansPage(req, reply, site, { all: req.query.all === '1' });
  });

  app.post('/staff/ip-bans', async (req, reply) => {
    const actor = await requirePermission(req, 'ip.ban');
    const b = bodyOf(req);
    const values = { cidr: str(b, 'cidr', 60).trim(), reason: str(b, 'reason', MAX_REASON).trim(), days: str(b, 'days', 10) };
    const now = site.now();
    const expiresAt = expiryFrom(values.days, IP_BAN_DAYS, now);
    const errors: Errors = {
      reason: values.reason === '' ? 'common.form.required' : undefined,
      days: expiresAt === undefined ? 'discipline.error.duration' : undefined,
    };
    const checked = values.cidr === '' ? null : checkCidr(values.cidr);
    if (checked === null) errors.cidr = 'common.form.required';
    else if ('problem' in checked) errors.cidr = checked.problem === 'too_wide' ? 'discipline.ipban.too_wide' : 'discipline.ipban.invalid';
    else {
      const own = parseIp(req.ip);
      if (own && cidrContains(checked.range, own)) errors.cidr = 'discipline.ipban.self';
    }
    if (hasErrors(errors) || !checked || 'problem' in checked || expiresAt === undefined) return ipBansPage(req, reply, site, { all: false, values, errors }, 400);
    await addIpBan(site.db, actor, { cidr: checked.cidr, reason: values.reason, expiresAt }, now);
    setFlash(reply, 'discipline.ipban.added');
    return reply.redirect('/staff/ip-bans', 303);
  });

  app.post<{ Params: { id: string } }>('/staff/ip-bans/:id/delete', async (req, reply) => {
    const actor = await requirePermission(req, 'ip.ban');
    const done = await removeIpBan(site.db, actor, idParam(req.params.id), site.now());
    setFlash(reply, done ? 'discipline.ipban.removed' : 'discipline.ipban.gone');
    return reply.redirect('/staff/ip-bans', 303);
  });
}

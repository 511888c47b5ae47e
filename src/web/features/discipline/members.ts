/**
 * Staff pages about members:
 *
 *   GET  /staff/users?q=&page=                    member search (user.view_private): name, email, #id, IP or range
 *   GET  /staff/users/<id>                        the staff view (user.view_private)
 *   POST /staff/users/<id>/warn                   warn (user.warn)
 *   POST /staff/users/<id>/warnings/<wid>/revoke  revoke a warning (user.warn)
 *   POST /staff/users/<id>/ban                    ban (user.ban)
 *   POST /staff/users/<id>/unban                  lift the bans in force (user.ban)
 *   POST /staff/users/<id>/credit                 grant upload credit (user.grant_credit)
 *   POST /staff/users/<id>/note                   add a staff note (user.view_private)
 *   POST /staff/users/<id>/account                edit title, invitations, freeleech tokens (user.edit)
 *
 * Acting on a member also needs a role above theirs (the policy's rank rule): each action asks the
 * permission first without, then with the member as target. A form with errors re-renders the
 * view with what was typed and the messages next to the fields.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { User, WarningKind } from '../../../db/schema.js';
import { CreditError, grantCredit, MAX_CREDIT_BYTES } from '../../../site/discipline/credit.js';
import { addNote, editMember, MAX_GRANTED, MAX_NOTE, MAX_TITLE, searchMembers, staffView, type StaffView } from '../../../site/discipline/members.js';
import { activeBan, banMember, liftBan, MAX_REASON, revokeWarning, warnMember, warningState, type Warning } from '../../../site/discipline/warnings.js';
import type { Site } from '../../../site/site.js';
import type { Permission } from '../../../site/staff/policy.js';
import { HttpError, setFlash, type RequestContext } from '../../context.js';
import { formatDate, formatRatio, formatSize } from '../../format.js';
import { html, type Html } from '../../html.js';
import { csrfField, sendPage } from '../../layout.js';
import type { MessageKey } from '../../messages.js';
import { requirePermission, viewerCan } from '../../staff.js';
import {
  BAN_DAYS,
  bodyOf,
  durationOptions,
  expiryFrom,
  formErrors,
  hasErrors,
  idParam,
  input,
  pageParam,
  pager,
  select,
  str,
  textarea,
  WARNING_DAYS,
  type Errors,
  type Values,
} from './forms.js';

type FormName = 'warn' | 'ban' | 'unban' | 'credit' | 'note' | 'account';

interface FormState {
  form: FormName;
  values: Values;
  errors: Errors;
}

const UNITS = { MiB: 2 ** 20, GiB: 2 ** 30, TiB: 2 ** 40 } as const;
type Unit = keyof typeof UNITS;

function time(ctx: RequestContext, epoch: number | null, none: MessageKey = 'discipline.never'): Html {
  if (epoch === null) return html`${ctx.t(none)}`;
  return html`<time datetime="${new Date(epoch * 1000).toISOString()}">${formatDate(ctx.locale, epoch)}</time>`;
}

function roleName(ctx: RequestContext, role: string): string {
  return ctx.t(`members.role.${role}` as MessageKey);
}

/** The member classes' names in the reader's language (the table is small). */
async function classNames(site: Site, ctx: RequestContext): Promise<(id: string) => string> {
  const rows = await site.db.selectFrom('member_class').select(['id', 'name_en', 'name_fr']).execute();
  const m = new Map(rows.map((r) => [r.id, ctx.locale === 'fr' ? r.name_fr : r.name_en]));
  return (id) => m.get(id) ?? id;
}

async function names(site: Site, ids: Array<number | null>): Promise<Map<number, string>> {
  const wanted = [...new Set(ids.filter((x): x is number => x !== null))];
  if (wanted.length === 0) return new Map();
  const rows = await site.db.selectFrom('user').select(['id', 'username']).where('id', 'in', wanted).execute();
  return new Map(rows.map((r) => [r.id, r.username]));
}

function who(id: number | null, byId: Map<number, string>, ctx: RequestContext): Html {
  if (id === null) return html`${ctx.t('discipline.system')}`;
  return html`<a href="/staff/users/${id}">${byId.get(id) ?? `#${id}`}</a>`;
}

function banState(b: Warning, now: number): 'active' | 'expired' | 'lifted' {
  if (b.revoked_at !== null) return b.revoked_by === null ? 'expired' : 'lifted';
  return warningState(b, now) === 'active' ? 'active' : 'expired';
}

async function loadTarget(site: Site, raw: string): Promise<User> {
  const u = await site.db.selectFrom('user').selectAll().where('id', '=', idParam(raw)).executeTakeFirst();
  if (!u) throw new HttpError(404, 'discipline.member.not_found');
  return u;
}

/** The permission, then the permission on this member (rank rule); the member when both hold. */
async function actOn(req: FastifyRequest<{ Params: { id: string } }>, site: Site, permission: Permission): Promise<{ actor: User; target: User }> {
  await requirePermission(req, permission);
  const target = await loadTarget(site, req.params.id);
  const actor = await requirePermission(req, permission, target);
  if (target.deleted_at !== null) throw new HttpError(409, 'discipline.member.deleted');
  return { actor, target };
}

// --- the staff view ---------------------------------------------------------------------------------

async function staffViewPage(req: FastifyRequest, reply: FastifyReply, site: Site, v: StaffView, state: FormState | null, status = 200): Promise<FastifyReply> {
  const ctx = req.ctx;
  const { t, locale } = ctx;
  const m = v.user;
  const now = site.now();
  const target = { id: m.id, role: m.role };
  const [mayWarn, mayBan, mayCredit, mayNote, mayPerms, mayAudit, mayEdit] = await Promise.all([
    viewerCan(req, 'user.warn', target),
    viewerCan(req, 'user.ban', target),
    viewerCan(req, 'user.grant_credit', target),
    viewerCan(req, 'user.view_private', target),
    viewerCan(req, 'permission.manage', target),
    viewerCan(req, 'audit.read'),
    viewerCan(req, 'user.edit', target),
  ]);
  const byId = await names(site, [...v.warnings, ...v.bans].flatMap((w) => [w.created_by, w.revoked_by]));
  const ban = await activeBan(site.db, m.id, now);
  const className = await classNames(site, ctx);
  const st = (f: FormName) => (state?.form === f ? state : { values: {} as Values, errors: {} as Errors });
  const active = m.deleted_at === null;

  const facts = html`<dl class="facts">
  <dt>${t('discipline.member.id')}</dt><dd>${m.id}</dd>
  <dt>${t('discipline.member.email')}</dt><dd>${m.email ?? '–'}${m.email && m.email_verified !== 1 ? html` <span class="badge">${t('discipline.member.unverified')}</span>` : ''}</dd>
  <dt>${t('discipline.member.role')}</dt><dd>${roleName(ctx, m.role)}</dd>
  <dt>${t('discipline.member.class')}</dt><dd>${className(m.class)}</dd>
  <dt>${t('discipline.member.joined')}</dt><dd>${time(ctx, m.created_at)}</dd>
  <dt>${t('discipline.member.last_login')}</dt><dd>${time(ctx, m.last_login_at, 'discipline.none')}</dd>
  <dt>${t('discipline.member.last_seen')}</dt><dd>${time(ctx, m.last_seen_at, 'discipline.none')}</dd>
  <dt>${t('discipline.member.status')}</dt><dd>${m.deleted_at !== null ? html`<span class="error">${t('discipline.member.status.deleted')}</span>` : m.enabled === 1 ? t('discipline.member.status.enabled') : html`<span class="error">${t('discipline.member.status.disabled', { reason: m.disabled_reason ?? '–' })}</span>`}</dd>
  <dt>${t('common.uploaded')}</dt><dd>${formatSize(t, locale, m.uploaded)}</dd>
  <dt>${t('common.downloaded')}</dt><dd>${formatSize(t, locale, m.downloaded)}</dd>
  <dt>${t('common.ratio')}</dt><dd>${formatRatio(locale, m.uploaded, m.downloaded)}</dd>
  ${m.download_refused === 1 ? html`<dt>${t('discipline.member.download_refused')}</dt><dd class="error">${m.download_refused_reason ?? '–'}</dd>` : ''}
  <dt>${t('discipline.member.inviter')}</dt><dd>${v.inviter ? html`<a href="/staff/users/${v.inviter.id}">${v.inviter.username}</a>` : t('discipline.member.no_inviter')}</dd>
  <dt>${t('discipline.member.invitees')}</dt><dd>${v.invitees}</dd>
</dl>`;

  const warningRows = v.warnings.map((w) => {
    const s = warningState(w, now);
    return html`<tr>
  <td>${time(ctx, w.created_at)}</td>
  <td>${t(`discipline.kind.${w.kind}` as MessageKey)}</td>
  <td>${who(w.created_by, byId, ctx)}</td>
  <td>${w.reason}</td>
  <td>${time(ctx, w.expires_at)}</td>
  <td><span class="badge state-${s}">${t(`discipline.state.${s}`)}</span>${s === 'revoked' ? html` ${who(w.revoked_by, byId, ctx)}` : ''}</td>
  <td>${s === 'active' && mayWarn && active ? html`<form method="post" action="/staff/users/${m.id}/warnings/${w.id}/revoke" class="inline">${csrfField(ctx)}<button type="submit" class="link">${t('discipline.warn.revoke')}</button></form>` : ''}</td>
</tr>`;
  });
  const warnState = st('warn');
  const warnings = html`<section class="panel" aria-labelledby="h-warnings" id="warnings">
<h2 id="h-warnings">${t('discipline.warnings.heading', { n: v.warnings.filter((w) => warningState(w, now) === 'active').length })}</h2>
${v.warnings.length === 0
  ? html`<p class="empty">${t('discipline.warnings.none')}</p>`
  : html`<div class="table-wrap"><table class="discipline-table">
<caption class="visually-hidden">${t('discipline.warnings.caption', { name: m.username })}</caption>
<thead><tr><th scope="col">${t('discipline.col.date')}</th><th scope="col">${t('discipline.col.kind')}</th><th scope="col">${t('discipline.col.by')}</th><th scope="col">${t('discipline.col.reason')}</th><th scope="col">${t('discipline.col.expires')}</th><th scope="col">${t('discipline.col.state')}</th><th scope="col"><span class="visually-hidden">${t('discipline.col.actions')}</span></th></tr></thead>
<tbody>${warningRows}</tbody>
</table></div>`}
${mayWarn && active
  ? html`<h3>${t('discipline.warn.heading')}</h3>
${formErrors(ctx, warnState.errors)}
<form method="post" action="/staff/users/${m.id}/warn" class="form" novalidate>
  ${csrfField(ctx)}
  ${textarea(ctx, { form: 'warn', name: 'reason', label: t('discipline.field.reason'), hint: t('discipline.warn.reason_hint'), value: warnState.values.reason ?? '', error: warnState.errors.reason, maxlength: MAX_REASON, required: true })}
  ${select(ctx, { form: 'warn', name: 'days', label: t('discipline.field.duration'), value: warnState.values.days ?? '28', options: durationOptions(ctx, WARNING_DAYS, 'discipline.duration.never_expires'), error: warnState.errors.days })}
  <p><button type="submit">${t('discipline.warn.submit')}</button></p>
</form>`
  : ''}
</section>`;

  const banRows = v.bans.map((b) => {
    const s = banState(b, now);
    return html`<tr>
  <td>${time(ctx, b.created_at)}</td>
  <td>${who(b.created_by, byId, ctx)}</td>
  <td>${b.reason}</td>
  <td>${time(ctx, b.expires_at, 'discipline.permanent')}</td>
  <td><span class="badge state-${s}">${t(`discipline.ban_state.${s}`)}</span>${s === 'lifted' ? html` ${who(b.revoked_by, byId, ctx)}` : ''}</td>
</tr>`;
  });
  const banForm = st('ban');
  const unbanForm = st('unban');
  const bans = html`<section class="panel" aria-labelledby="h-bans" id="bans">
<h2 id="h-bans">${t('discipline.bans.heading')}</h2>
${ban
  ? html`<p class="error">${ban.expires_at === null ? t('discipline.bans.active_permanent', { reason: ban.reason }) : t('discipline.bans.active_until', { reason: ban.reason, date: formatDate(locale, ban.expires_at) })}</p>`
  : html`<p>${t('discipline.bans.not_banned')}</p>`}
${v.bans.length === 0
  ? ''
  : html`<div class="table-wrap"><table class="discipline-table">
<caption class="visually-hidden">${t('discipline.bans.caption', { name: m.username })}</caption>
<thead><tr><th scope="col">${t('discipline.col.date')}</th><th scope="col">${t('discipline.col.by')}</th><th scope="col">${t('discipline.col.reason')}</th><th scope="col">${t('discipline.col.expires')}</th><th scope="col">${t('discipline.col.state')}</th></tr></thead>
<tbody>${banRows}</tbody>
</table></div>`}
${mayBan && active && ban
  ? html`<h3>${t('discipline.unban.heading')}</h3>
${formErrors(ctx, unbanForm.errors)}
<form method="post" action="/staff/users/${m.id}/unban" class="form" novalidate>
  ${csrfField(ctx)}
  ${textarea(ctx, { form: 'unban', name: 'reason', label: t('discipline.field.reason_optional'), value: unbanForm.values.reason ?? '', error: unbanForm.errors.reason, maxlength: MAX_REASON })}
  <p><button type="submit">${t('discipline.unban.submit')}</button></p>
</form>`
  : ''}
${mayBan && active
  ? html`<h3>${t('discipline.ban.heading')}</h3>
<p class="hint">${t('discipline.ban.explain')}</p>
${formErrors(ctx, banForm.errors)}
<form method="post" action="/staff/users/${m.id}/ban" class="form" novalidate>
  ${csrfField(ctx)}
  ${textarea(ctx, { form: 'ban', name: 'reason', label: t('discipline.field.reason'), hint: t('discipline.ban.reason_hint'), value: banForm.values.reason ?? '', error: banForm.errors.reason, maxlength: MAX_REASON, required: true })}
  ${select(ctx, { form: 'ban', name: 'days', label: t('discipline.field.duration'), value: banForm.values.days ?? '7', options: durationOptions(ctx, BAN_DAYS, 'discipline.permanent'), error: banForm.errors.days })}
  <p><button type="submit">${t('discipline.ban.submit')}</button></p>
</form>`
  : ''}
</section>`;

  const creditForm = st('credit');
  const credit = html`<section class="panel" aria-labelledby="h-credit" id="credit">
<h2 id="h-credit">${t('discipline.credit.heading')}</h2>
${v.credits.length === 0
  ? html`<p class="empty">${t('discipline.credit.none')}</p>`
  : html`<div class="table-wrap"><table class="discipline-table">
<caption class="visually-hidden">${t('discipline.credit.caption', { name: m.username })}</caption>
<thead><tr><th scope="col">${t('discipline.col.date')}</th><th scope="col">${t('discipline.col.by')}</th><th scope="col" class="num">${t('discipline.col.amount')}</th><th scope="col">${t('discipline.col.reason')}</th></tr></thead>
<tbody>${v.credits.map((c) => html`<tr><td>${time(ctx, c.createdAt)}</td><td>${c.actorId === null ? c.actorName : html`<a href="/staff/users/${c.actorId}">${c.actorName}</a>`}</td><td class="num">${formatSize(t, locale, c.bytes)}</td><td>${c.reason ?? ''}</td></tr>`)}</tbody>
</table></div>`}
${mayCredit && active
  ? html`<h3>${t('discipline.credit.form_heading')}</h3>
${formErrors(ctx, creditForm.errors)}
<form method="post" action="/staff/users/${m.id}/credit" class="form" novalidate>
  ${csrfField(ctx)}
  <div class="credit-amount">
  ${input(ctx, { form: 'credit', name: 'amount', label: t('discipline.field.amount'), value: creditForm.values.amount ?? '', error: creditForm.errors.amount, inputmode: 'decimal', maxlength: 20, required: true })}
  ${select(ctx, { form: 'credit', name: 'unit', label: t('discipline.field.unit'), value: creditForm.values.unit ?? 'GiB', options: Object.keys(UNITS).map((u) => [u, t(`common.size.${u as Unit}`, { n: '' }).trim()] as const) })}
  </div>
  ${textarea(ctx, { form: 'credit', name: 'reason', label: t('discipline.field.reason'), value: creditForm.values.reason ?? '', error: creditForm.errors.reason, maxlength: MAX_REASON, required: true })}
  <p><button type="submit">${t('discipline.credit.submit')}</button></p>
</form>`
  : ''}
</section>`;

  const ips = html`<section class="panel" aria-labelledby="h-ips" id="ips">
<h2 id="h-ips">${t('discipline.ips.heading')}</h2>
${v.loginIps.length === 0
  ? html`<p class="empty">${t('discipline.ips.none')}</p>`
  : html`<div class="table-wrap"><table class="discipline-table">
<caption class="visually-hidden">${t('discipline.ips.caption', { name: m.username })}</caption>
<thead><tr><th scope="col">${t('discipline.col.ip')}</th><th scope="col">${t('discipline.col.first')}</th><th scope="col">${t('discipline.col.last')}</th><th scope="col">${t('discipline.col.signup')}</th><th scope="col" class="num">${t('discipline.col.others')}</th></tr></thead>
<tbody>${v.loginIps.map((r) => html`<tr><td><code>${r.ip}</code></td><td>${time(ctx, r.first_at)}</td><td>${time(ctx, r.last_at)}</td><td>${r.signup === 1 ? t('discipline.yes') : ''}</td><td class="num">${r.others > 0 ? html`<a href="/staff/users?q=${encodeURIComponent(r.ip)}">${r.others}</a>` : '0'}</td></tr>`)}</tbody>
</table></div>`}
</section>`;

  const overrides = html`<section class="panel" aria-labelledby="h-overrides" id="overrides">
<h2 id="h-overrides">${t('discipline.overrides.heading')}</h2>
${v.overrides.length === 0
  ? html`<p class="empty">${t('discipline.overrides.none')}</p>`
  : html`<ul>${v.overrides.map((o) => html`<li><code>${o.permission}</code> ${o.granted === 1 ? t('discipline.override.grant') : t('discipline.override.revoke')}</li>`)}</ul>`}
${mayPerms ? html`<p><a href="/staff/permissions/users/${m.id}">${t('discipline.overrides.edit')}</a></p>` : ''}
</section>`;

  const noteForm = st('note');
  const notes = html`<section class="panel" aria-labelledby="h-notes" id="notes">
<h2 id="h-notes">${t('discipline.notes.heading')}</h2>
${v.notes.length === 0
  ? html`<p class="empty">${t('discipline.notes.none')}</p>`
  : html`<ul class="staff-notes">${v.notes.map((n) => html`<li><p>${n.text}</p><p class="note">${n.actorName} · ${time(ctx, n.createdAt)}</p></li>`)}</ul>`}
${mayNote
  ? html`${formErrors(ctx, noteForm.errors)}
<form method="post" action="/staff/users/${m.id}/note" class="form" novalidate>
  ${csrfField(ctx)}
  ${textarea(ctx, { form: 'note', name: 'text', label: t('discipline.notes.field'), hint: t('discipline.notes.hint'), value: noteForm.values.text ?? '', error: noteForm.errors.text, maxlength: MAX_NOTE, required: true })}
  <p><button type="submit">${t('discipline.notes.submit')}</button></p>
</form>`
  : ''}
</section>`;

  const accountForm = st('account');
  const accountValues = state?.form === 'account' ? accountForm.values : { title: m.title ?? '', invites: String(m.invites_left), tokens: String(m.freeleech_tokens) };
  const editAccount =
    mayEdit && active
      ? html`<section class="panel" aria-labelledby="h-edit" id="edit">
<h2 id="h-edit">${t('discipline.edit.heading')}</h2>
${formErrors(ctx, accountForm.errors)}
<form method="post" action="/staff/users/${m.id}/account" class="form" novalidate>
  ${csrfField(ctx)}
  ${input(ctx, { form: 'account', name: 'title', label: t('discipline.edit.title'), hint: t('discipline.edit.title_hint'), value: accountValues.title ?? '', error: accountForm.errors.title, maxlength: MAX_TITLE })}
  ${input(ctx, { form: 'account', name: 'invites', label: t('discipline.edit.invites'), value: accountValues.invites ?? '0', error: accountForm.errors.invites, inputmode: 'numeric', maxlength: 4, required: true })}
  ${input(ctx, { form: 'account', name: 'tokens', label: t('discipline.edit.tokens'), value: accountValues.tokens ?? '0', error: accountForm.errors.tokens, inputmode: 'numeric', maxlength: 4, required: true })}
  ${textarea(ctx, { form: 'account', name: 'reason', label: t('discipline.field.reason_optional'), value: accountValues.reason ?? '', error: accountForm.errors.reason, maxlength: MAX_REASON })}
  <p><button type="submit">${t('discipline.edit.submit')}</button></p>
</form>
</section>`
      : '';

  const body = html`<h1>${t('discipline.member.title', { name: m.username })}</h1>
<p class="staff-links"><a href="/staff/users">${t('discipline.search.back')}</a> · <a href="/u/${m.id}">${t('discipline.member.profile')}</a>${mayAudit ? html` · <a href="/staff/audit?target_type=user&amp;target_id=${m.id}">${t('discipline.member.audit')}</a>` : ''}</p>
<section class="panel" aria-labelledby="h-account"><h2 id="h-account">${t('discipline.member.account')}</h2>${facts}</section>
${bans}
${warnings}
${credit}
${editAccount}
${ips}
${overrides}
${notes}`;
  return sendPage(reply, ctx, { title: t('discipline.member.title', { name: m.username }), body }, status);
}

async function rerender(req: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply, site: Site, target: User, state: FormState): Promise<FastifyReply> {
  const v = await staffView(site.db, target.id);
  if (!v) throw new HttpError(404, 'discipline.member.not_found');
  return staffViewPage(req, reply, site, v, state, 400);
}

function reasonError(reason: string, required: boolean): MessageKey | undefined {
  if (reason === '') return required ? 'common.form.required' : undefined;
  return undefined;
}

/** "1.5" (dot or comma) → bytes in the unit; NaN when malformed. */
function parseAmount(raw: string, unit: Unit): number {
  const s = raw.trim().replace(',', '.');
  if (!/^\d{1,9}(\.\d{1,3})?$/.test(s)) return Number.NaN;
  return Math.round(Number(s) * UNITS[unit]);
}

// --- search -------------------------------------------------------------------------------------------

const SEARCH_PAGE = 50;

async function searchPage(req: FastifyRequest<{ Querystring: { q?: string; page?: string } }>, reply: FastifyReply, site: Site): Promise<FastifyReply> {
  const ctx = req.ctx;
  const { t, locale } = ctx;
  const q = typeof req.query.q === 'string' ? req.query.q.slice(0, 200) : '';
  const page = pageParam(req.query.page);
  const r = q.trim() === '' ? null : await searchMembers(site.db, { q, limit: SEARCH_PAGE, offset: (page - 1) * SEARCH_PAGE });
  const pages = r ? Math.max(1, Math.ceil(r.total / SEARCH_PAGE)) : 1;
  const className = await classNames(site, ctx);
  const results = !r
    ? ''
    : r.total === 0
      ? html`<p class="empty">${t('discipline.search.none', { q })}</p>`
      : html`<p>${t('discipline.search.count', { n: r.total })}</p>
<div class="table-wrap"><table class="discipline-table">
<caption class="visually-hidden">${t('discipline.search.caption', { q })}</caption>
<thead><tr><th scope="col">${t('discipline.col.member')}</th><th scope="col">${t('discipline.member.role')}</th><th scope="col">${t('discipline.member.class')}</th><th scope="col">${t('discipline.member.email')}</th><th scope="col">${t('discipline.member.joined')}</th><th scope="col">${t('discipline.member.last_seen')}</th><th scope="col">${t('common.ratio')}</th><th scope="col">${t('discipline.member.status')}</th></tr></thead>
<tbody>${r.rows.map((m) => html`<tr>
  <th scope="row"><a href="/staff/users/${m.id}">${m.username}</a></th>
  <td>${roleName(ctx, m.role)}</td><td>${className(m.class)}</td><td>${m.email ?? '–'}</td>
  <td>${time(ctx, m.created_at)}</td><td>${time(ctx, m.last_seen_at, 'discipline.none')}</td>
  <td>${formatRatio(locale, m.uploaded, m.downloaded)}</td>
  <td>${m.deleted_at !== null ? t('discipline.member.status.deleted') : m.enabled === 1 ? t('discipline.member.status.enabled') : html`<span class="error">${t('discipline.member.status.disabled_short')}</span>`}</td>
</tr>`)}</tbody>
</table></div>
${pager(ctx, '/staff/users', { q }, page, pages)}`;
  const body = html`<h1>${t('discipline.search.title')}</h1>
<form method="get" action="/staff/users" class="form" role="search">
  ${input(ctx, { form: 'search', name: 'q', type: 'search', label: t('discipline.search.field'), hint: t('discipline.search.hint'), value: q, maxlength: 200 })}
  <p><button type="submit">${t('discipline.search.submit')}</button></p>
</form>
${results}`;
  return sendPage(reply, ctx, { title: t('discipline.search.title'), body });
}

// --- routes -------------------------------------------------------------------------------------------

type IdReq = FastifyRequest<{ Params: { id: string } }>;

export function memberRoutes(app: FastifyInstance, site: Site): void {
  app.get<{ Querystring: { q?: string; page?: string } }>('/staff/users', async (req, reply) => {
    await requirePermission(req, 'user.view_private');
    return searchPage(req, reply, site);
  });

  app.get<{ Params: { id: string } }>('/staff/users/:id', async (req, reply) => {
    await requirePermission(req, 'user.view_private');
    const v = await staffView(site.db, idParam(req.params.id));
    if (!v) throw new HttpError(404, 'discipline.member.not_found');
    return staffViewPage(req, reply, site, v, null);
  });

  const back = (reply: FastifyReply, id: number, anchor: string, flash: MessageKey) => {
    setFlash(reply, flash);
    return reply.redirect(`/staff/users/${id}#${anchor}`, 303);
  };

  app.post<{ Params: { id: string } }>('/staff/users/:id/warn', async (req: IdReq, reply) => {
    const { actor, target } = await actOn(req, site, 'user.warn');
    const b = bodyOf(req);
    const values = { reason: str(b, 'reason', MAX_REASON).trim(), days: str(b, 'days', 10) };
    const now = site.now();
    const expiresAt = expiryFrom(values.days, WARNING_DAYS, now);
    const errors: Errors = { reason: reasonError(values.reason, true), days: expiresAt === undefined ? 'discipline.error.duration' : undefined };
    if (hasErrors(errors) || expiresAt === undefined) return rerender(req, reply, site, target, { form: 'warn', values, errors });
    await warnMember(site.db, actor, target, { reason: values.reason, expiresAt }, now);
    return back(reply, target.id, 'warnings', 'discipline.warn.done');
  });

  app.post<{ Params: { id: string; wid: string } }>('/staff/users/:id/warnings/:wid/revoke', async (req, reply) => {
    const { actor, target } = await actOn(req, site, 'user.warn');
    const wid = idParam(req.params.wid);
    const w = await site.db.selectFrom('user_warning').select(['id', 'user_id', 'kind']).where('id', '=', wid).executeTakeFirst();
    if (!w || w.user_id !== target.id || (w.kind as WarningKind) === 'ban') throw new HttpError(404, 'common.error.not_found');
    const done = await revokeWarning(site.db, actor, wid, site.now());
    return back(reply, target.id, 'warnings', done ? 'discipline.warn.revoked' : 'discipline.warn.not_active');
  });

  app.post<{ Params: { id: string } }>('/staff/users/:id/ban', async (req: IdReq, reply) => {
    const { actor, target } = await actOn(req, site, 'user.ban');
    const b = bodyOf(req);
    const values = { reason: str(b, 'reason', MAX_REASON).trim(), days: str(b, 'days', 10) };
    const now = site.now();
    const expiresAt = expiryFrom(values.days, BAN_DAYS, now);
    const errors: Errors = { reason: reasonError(values.reason, true), days: expiresAt === undefined ? 'discipline.error.duration' : undefined };
    if (hasErrors(errors) || expiresAt === undefined) return rerender(req, reply, site, target, { form: 'ban', values, errors });
    await banMember(site, actor, target, { reason: values.reason, expiresAt }, now);
    return back(reply, target.id, 'bans', 'discipline.ban.done');
  });

  app.post<{ Params: { id: string } }>('/staff/users/:id/unban', async (req: IdReq, reply) => {
    const { actor, target } = await actOn(req, site, 'user.ban');
    const reason = str(bodyOf(req), 'reason', MAX_REASON).trim();
    const now = site.now();
    const bans = await site.db
      .selectFrom('user_warning')
      .select('id')
      .where('user_id', '=', target.id)
      .where('kind', '=', 'ban')
      .where('revoked_at', 'is', null)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
      .execute();
    let lifted = 0;
    for (const { id } of bans) if (await liftBan(site, actor, id, now, reason || null)) lifted++;
    return back(reply, target.id, 'bans', lifted > 0 ? 'discipline.unban.done' : 'discipline.unban.none');
  });

  app.post<{ Params: { id: string } }>('/staff/users/:id/credit', async (req: IdReq, reply) => {
    const { actor, target } = await actOn(req, site, 'user.grant_credit');
    const b = bodyOf(req);
    const unitRaw = str(b, 'unit', 10);
    const unit: Unit = unitRaw in UNITS ? (unitRaw as Unit) : 'GiB';
    const values = { amount: str(b, 'amount', 20), unit, reason: str(b, 'reason', MAX_REASON).trim() };
    const bytes = parseAmount(values.amount, unit);
    const errors: Errors = {
      amount: values.amount.trim() === '' ? 'common.form.required' : !(bytes > 0) ? 'discipline.error.amount' : bytes > MAX_CREDIT_BYTES ? 'discipline.error.amount_too_large' : undefined,
      reason: reasonError(values.reason, true),
    };
    if (hasErrors(errors)) return rerender(req, reply, site, target, { form: 'credit', values, errors });
    try {
      await grantCredit(site.db, actor, target, bytes, values.reason, site.now());
    } catch (err) {
      if (!(err instanceof CreditError)) throw err;
      return rerender(req, reply, site, target, { form: 'credit', values, errors: { amount: 'discipline.error.amount' } });
    }
    return back(reply, target.id, 'credit', 'discipline.credit.done');
  });

  app.post<{ Params: { id: string } }>('/staff/users/:id/account', async (req: IdReq, reply) => {
    const { actor, target } = await actOn(req, site, 'user.edit');
    const b = bodyOf(req);
    const values = { title: str(b, 'title', 500).trim(), invites: str(b, 'invites', 10).trim(), tokens: str(b, 'tokens', 10).trim(), reason: str(b, 'reason', MAX_REASON).trim() };
    const count = (v: string) => (/^\d{1,4}$/.test(v) && Number(v) <= MAX_GRANTED ? Number(v) : null);
    const invites = count(values.invites);
    const tokens = count(values.tokens);
    const errors: Errors = {
      title: values.title.length > MAX_TITLE ? 'discipline.edit.error.title' : undefined,
      invites: invites === null ? 'discipline.edit.error.count' : undefined,
      tokens: tokens === null ? 'discipline.edit.error.count' : undefined,
    };
    if (hasErrors(errors) || invites === null || tokens === null) return rerender(req, reply, site, target, { form: 'account', values, errors });
    const changed = await editMember(site.db, actor, target, { title: values.title === '' ? null : values.title, invitesLeft: invites, freeleechTokens: tokens }, values.reason || null, site.now());
    return back(reply, target.id, 'edit', changed ? 'discipline.edit.done' : 'discipline.edit.unchanged');
  });

  app.post<{ Params: { id: string } }>('/staff/users/:id/note', async (req: IdReq, reply) => {
    await requirePermission(req, 'user.view_private');
    const target = await loadTarget(site, req.params.id);
    const actor = await requirePermission(req, 'user.view_private', target);
    const text = str(bodyOf(req), 'text', MAX_NOTE).trim();
    if (text === '') return rerender(req, reply, site, target, { form: 'note', values: { text }, errors: { text: 'common.form.required' } });
    await addNote(site.db, actor, target, text, site.now());
    return back(reply, target.id, 'notes', 'discipline.notes.done');
  });
}

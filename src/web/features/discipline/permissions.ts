/**
 * Permissions administration (permission.manage):
 *
 *   GET  /staff/permissions                 the role × permission grid, and the members with overrides
 *   POST /staff/permissions                 save the grid (field `grant` = "role:permission" per checked cell)
 *   GET  /staff/permissions/users/<id>      a member's overrides (inherit / grant / revoke per permission)
 *   POST /staff/permissions/users/<id>      save them
 *
 * What an editor may change is decided by src/site/discipline/permissions.ts (roles below theirs,
 * permissions they hold); other cells are shown disabled.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { User, UserRole } from '../../../db/schema.js';
import { editableBy, GRID_ROLES, readGrid, readOverrides, saveGrid, saveOverrides, type Override } from '../../../site/discipline/permissions.js';
import type { Site } from '../../../site/site.js';
import { DEFAULT_GRANTS, PERMISSIONS, type Permission } from '../../../site/staff/policy.js';
import { HttpError, setFlash, type RequestContext } from '../../context.js';
import { attr, html, type Html } from '../../html.js';
import { csrfField, sendPage } from '../../layout.js';
import { catalogs, type MessageKey } from '../../messages.js';
import { requirePermission } from '../../staff.js';
import { all, bodyOf, idParam, str } from './forms.js';

function roleName(ctx: RequestContext, role: string): string {
  return ctx.t(`members.role.${role}` as MessageKey);
}

/** The permission's description, when the catalog has one. */
function describe(ctx: RequestContext, p: Permission): string {
  const key = `discipline.perm.${p}`;
  return key in catalogs.en ? ctx.t(key as MessageKey) : '';
}

const area = (p: string) => p.slice(0, p.indexOf('.'));
const cellId = (role: string, p: string) => `g-${role}-${p.replace(/\./g, '-')}`;

async function gridPage(req: FastifyRequest, reply: FastifyReply, site: Site, editor: User): Promise<FastifyReply> {
  const ctx = req.ctx;
  const { t } = ctx;
  const [grid, may, overridden] = await Promise.all([
    readGrid(site.db),
    editableBy(site.db, editor),
    site.db
      .selectFrom('user_permission')
      .innerJoin('user', 'user.id', 'user_permission.user_id')
      .select(['user.id', 'user.username', 'user.role', 'user_permission.permission', 'user_permission.granted'])
      .orderBy('user.username')
      .orderBy('user_permission.permission')
      .limit(500)
      .execute(),
  ]);
  const groups = new Map<string, Html[]>();
  for (const p of PERMISSIONS) {
    const desc = describe(ctx, p);
    const row = html`<tr>
  <th scope="row"><code>${p}</code>${desc ? html`<br><span class="note">${desc}</span>` : ''}</th>
  ${GRID_ROLES.map((role) => {
    const editable = may.roles.has(role) && may.permissions.has(p);
    const on = grid.get(role)!.has(p);
    const dflt = (DEFAULT_GRANTS[role] as readonly string[]).includes(p);
    return html`<td class="cell${on !== dflt ? ' changed' : ''}">
    <input type="checkbox" id="${cellId(role, p)}" name="grant" value="${role}:${p}"${attr('checked', on)}${attr('disabled', !editable)}>
    <label for="${cellId(role, p)}" class="visually-hidden">${t('discipline.perms.cell', { role: roleName(ctx, role), permission: p })}</label>
  </td>`;
  })}
  <td class="cell">✓<span class="visually-hidden"> ${t('discipline.perms.always')}</span></td>
</tr>`;
    (groups.get(area(p)) ?? groups.set(area(p), []).get(area(p))!).push(row);
  }
  const rows = [...groups].map(
    ([a, rs]) => html`<tbody><tr class="perm-area"><th scope="rowgroup" colspan="${GRID_ROLES.length + 2}">${a}</th></tr>${rs}</tbody>`,
  );
  const body = html`<h1>${t('discipline.perms.title')}</h1>
<p>${t('discipline.perms.intro')}</p>
<form method="post" action="/staff/permissions">
  ${csrfField(ctx)}
  <input type="hidden" name="grid" value="1">
  <div class="table-wrap"><table class="discipline-table perm-grid">
  <caption>${t('discipline.perms.caption')}</caption>
  <thead><tr><th scope="col">${t('discipline.perms.permission')}</th>${GRID_ROLES.map((r) => html`<th scope="col">${roleName(ctx, r)}</th>`)}<th scope="col">${roleName(ctx, 'admin')}</th></tr></thead>
  ${rows}
  </table></div>
  <p class="hint">${t('discipline.perms.changed_hint')}</p>
  <p><button type="submit">${t('common.save')}</button></p>
</form>
<section class="panel" aria-labelledby="h-overridden">
<h2 id="h-overridden">${t('discipline.perms.overrides_heading')}</h2>
${overridden.length === 0
  ? html`<p class="empty">${t('discipline.overrides.none')}</p>`
  : html`<div class="table-wrap"><table class="discipline-table">
<caption class="visually-hidden">${t('discipline.perms.overrides_heading')}</caption>
<thead><tr><th scope="col">${t('discipline.col.member')}</th><th scope="col">${t('discipline.member.role')}</th><th scope="col">${t('discipline.perms.permission')}</th><th scope="col">${t('discipline.perms.override')}</th></tr></thead>
<tbody>${overridden.map((o) => html`<tr><th scope="row"><a href="/staff/permissions/users/${o.id}">${o.username}</a></th><td>${roleName(ctx, o.role)}</td><td><code>${o.permission}</code></td><td>${o.granted === 1 ? t('discipline.override.grant') : t('discipline.override.revoke')}</td></tr>`)}</tbody>
</table></div>`}
<p>${t('discipline.perms.member_hint')} <a href="/staff/users">${t('discipline.search.title')}</a></p>
</section>`;
  return sendPage(reply, ctx, { title: t('discipline.perms.title'), body });
}

const OVERRIDES: readonly Override[] = ['inherit', 'grant', 'revoke'];

async function overridesPage(req: FastifyRequest, reply: FastifyReply, site: Site, editor: User, target: User): Promise<FastifyReply> {
  const ctx = req.ctx;
  const { t } = ctx;
  const [current, grid, may] = await Promise.all([readOverrides(site.db, target.id), readGrid(site.db), editableBy(site.db, editor)]);
  const fromRole = (p: Permission) => target.role === 'admin' || (grid.get(target.role as UserRole)?.has(p) ?? false);
  const body = html`<h1>${t('discipline.overrides.title', { name: target.username })}</h1>
<p><a href="/staff/users/${target.id}">${t('discipline.overrides.back')}</a> · <a href="/staff/permissions">${t('discipline.perms.title')}</a></p>
<p>${t('discipline.overrides.intro', { role: roleName(ctx, target.role) })}</p>
<form method="post" action="/staff/permissions/users/${target.id}">
  ${csrfField(ctx)}
  <div class="table-wrap"><table class="discipline-table">
  <caption class="visually-hidden">${t('discipline.overrides.title', { name: target.username })}</caption>
  <thead><tr><th scope="col">${t('discipline.perms.permission')}</th><th scope="col">${t('discipline.overrides.from_role')}</th><th scope="col">${t('discipline.perms.override')}</th></tr></thead>
  <tbody>${PERMISSIONS.map((p) => {
    const id = `o-${p.replace(/\./g, '-')}`;
    const value = current.get(p) ?? 'inherit';
    return html`<tr>
    <th scope="row"><code>${p}</code></th>
    <td>${fromRole(p) ? t('discipline.yes') : t('discipline.no')}</td>
    <td><label for="${id}" class="visually-hidden">${t('discipline.overrides.label', { permission: p })}</label>
    <select id="${id}" name="p.${p}"${attr('disabled', !may.permissions.has(p))}>${OVERRIDES.map((o) => html`<option value="${o}"${attr('selected', o === value)}>${t(`discipline.override.${o}`)}</option>`)}</select></td>
  </tr>`;
  })}</tbody>
  </table></div>
  <p><button type="submit">${t('common.save')}</button></p>
</form>`;
  return sendPage(reply, ctx, { title: t('discipline.overrides.title', { name: target.username }), body });
}

async function loadTarget(site: Site, raw: string): Promise<User> {
  const u = await site.db.selectFrom('user').selectAll().where('id', '=', idParam(raw)).executeTakeFirst();
  if (!u) throw new HttpError(404, 'discipline.member.not_found');
  return u;
}

export function permissionRoutes(app: FastifyInstance, site: Site): void {
  app.get('/staff/permissions', async (req, reply) => {
    const editor = await requirePermission(req, 'permission.manage');
    return gridPage(req, reply, site, editor);
  });

  app.post('/staff/permissions', async (req, reply) => {
    const editor = await requirePermission(req, 'permission.manage');
    const b = bodyOf(req);
    // The marker keeps an empty or truncated post from clearing the whole grid.
    if (str(b, 'grid', 5) !== '1') throw new HttpError(400, 'common.error.bad_request');
    const r = await saveGrid(site.db, editor, new Set(all(b, 'grant')), site.now());
    setFlash(reply, r.added.length + r.removed.length > 0 ? 'discipline.perms.saved' : 'discipline.perms.unchanged');
    return reply.redirect('/staff/permissions', 303);
  });

  app.get<{ Params: { id: string } }>('/staff/permissions/users/:id', async (req, reply) => {
    await requirePermission(req, 'permission.manage');
    const target = await loadTarget(site, req.params.id);
    const editor = await requirePermission(req, 'permission.manage', target);
    return overridesPage(req, reply, site, editor, target);
  });

  app.post<{ Params: { id: string } }>('/staff/permissions/users/:id', async (req, reply) => {
    await requirePermission(req, 'permission.manage');
    const target = await loadTarget(site, req.params.id);
    const editor = await requirePermission(req, 'permission.manage', target);
    const b = bodyOf(req);
    const wanted = new Map<Permission, Override>();
    for (const p of PERMISSIONS) {
      const v = str(b, `p.${p}`, 10);
      if ((OVERRIDES as readonly string[]).includes(v)) wanted.set(p, v as Override);
    }
    const changed = await saveOverrides(site.db, editor, target, wanted, site.now());
    setFlash(reply, changed.length > 0 ? 'discipline.perms.saved' : 'discipline.perms.unchanged');
    return reply.redirect(`/staff/permissions/users/${target.id}`, 303);
  });
}

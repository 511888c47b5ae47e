/**
 * Members among themselves:
 *
 *   GET  /friends                  the member's friends with their online status, and the add form
 *   POST /friends                  adds a friend (by `username`, or `id` from a profile)
 *   POST /friends/<id>/remove      removes one
 *   GET  /online                   members online (seen within 15 minutes)
 *   GET  /members                  member search by username prefix (?q=)
 *   GET  /staff-team               the staff by role, and the contact form's link
 *
 * Members only. `profileActions` is what a profile shows: message and friend buttons.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { User } from '../../../db/schema.js';
import { addFriend, isFriend, isOnline, listFriends, listOnline, listStaffTeam, removeFriend, searchMembers, type MemberRow } from '../../../site/community/people.js';
import { findRecipient } from '../../../site/community/private-messages.js';
import type { Site } from '../../../site/site.js';
import { HttpError, requireUser, setFlash, type RequestContext } from '../../context.js';
import { html, type Html } from '../../html.js';
import { csrfField, sendPage } from '../../layout.js';
import type { MessageKey } from '../../messages.js';
import { parseId } from '../torrent/links.js';
import { ageEl, bodyOf, formErrors, memberLink, postButton, roleName, str, textField, timeEl } from './ui.js';

type IdParams = { Params: { id: string } };

function communityNav(ctx: RequestContext, current: string): Html {
  const items: Array<[string, MessageKey]> = [
    ['/friends', 'community.friends.title'],
    ['/online', 'community.online.title'],
    ['/members', 'community.members.title'],
    ['/requests', 'community.requests.title'],
    ['/staff-team', 'community.team.title'],
  ];
  return html`<nav class="tabs" aria-label="${ctx.t('community.nav.community')}"><ul>
${items.map(([href, key]) => html`<li><a href="${href}"${href === current ? html` aria-current="page"` : ''}>${ctx.t(key)}</a></li>`)}
</ul></nav>`;
}

function status(ctx: RequestContext, online: boolean): Html {
  return online ? html`<span class="online">${ctx.t('community.status.online')}</span>` : html`<span class="offline">${ctx.t('community.status.offline')}</span>`;
}

async function friendsPage(site: Site, reply: FastifyReply, ctx: RequestContext, user: User, form: { username: string; error: MessageKey | null }, code = 200): Promise<FastifyReply> {
  const { t } = ctx;
  const friends = await listFriends(site.db, user.id);
  const now = site.now();
  return sendPage(
    reply,
    ctx,
    {
      title: t('community.friends.title'),
      body: html`<h1>${t('community.friends.title')}</h1>
${communityNav(ctx, '/friends')}
${friends.length === 0
  ? html`<p class="empty">${t('community.friends.empty')}</p>`
  : html`<div class="table-wrap"><table class="friends">
<caption class="visually-hidden">${t('community.friends.title')}</caption>
<thead><tr><th scope="col">${t('community.member')}</th><th scope="col">${t('community.status')}</th><th scope="col">${t('community.actions')}</th></tr></thead>
<tbody>${friends.map((f) => html`<tr>
<th scope="row">${memberLink(ctx, f.id, f.username)}${f.mutual ? html` <span class="badge">${t('community.friends.mutual')}</span>` : ''}</th>
<td>${f.status_visible ? status(ctx, isOnline(f.last_seen_at, now)) : html`<span class="hidden-status">${t('community.status.hidden')}</span>`}</td>
<td><a href="/messages/new?to=${encodeURIComponent(f.username)}">${t('community.send_message')}<span class="visually-hidden"> ${f.username}</span></a>
${postButton(ctx, `/friends/${f.id}/remove`, html`${t('community.friends.remove')}<span class="visually-hidden"> ${f.username}</span>`, { cls: 'link' })}</td>
</tr>`)}</tbody>
</table></div>`}
<section aria-labelledby="h-friend-add">
<h2 id="h-friend-add">${t('community.friends.add')}</h2>
${formErrors(ctx, form.error !== null)}
<form method="post" action="/friends" class="form">
${csrfField(ctx)}
${textField(ctx, { id: 'friend-username', name: 'username', label: t('community.username'), value: form.username, maxlength: 100, required: true, autocomplete: 'off', error: form.error })}
<p><button type="submit">${t('community.friends.add_submit')}</button></p>
</form>
</section>`,
    },
    code,
  );
}

function memberTable(ctx: RequestContext, rows: readonly MemberRow[], caption: string, o: { lastSeen?: boolean } = {}): Html {
  const { t } = ctx;
  return html`<div class="table-wrap"><table class="members">
<caption class="visually-hidden">${caption}</caption>
<thead><tr><th scope="col">${t('community.member')}</th><th scope="col">${t('community.class')}</th><th scope="col">${o.lastSeen ? t('community.last_seen') : t('community.joined')}</th></tr></thead>
<tbody>${rows.map((m) => html`<tr>
<th scope="row">${memberLink(ctx, m.id, m.username)}</th>
<td>${roleName(ctx, m.role)}</td>
<td>${o.lastSeen && m.last_seen_at !== null ? ageEl(ctx, m.last_seen_at) : timeEl(ctx, m.created_at)}</td>
</tr>`)}</tbody>
</table></div>`;
}

/** The message and friend buttons of a member's profile (nothing on one's own profile). */
export async function profileActions(ctx: RequestContext, member: { id: number; username: string; deleted_at?: number | null }): Promise<Html> {
  const viewer = ctx.user;
  if (!viewer || viewer.id === member.id || member.deleted_at) return html``;
  const friend = await isFriend(ctx.site.db, viewer.id, member.id);
  return html`<p class="profile-actions">
<a class="button" href="/messages/new?to=${encodeURIComponent(member.username)}">${ctx.t('community.send_message')}</a>
${friend
  ? postButton(ctx, `/friends/${member.id}/remove`, ctx.t('community.friends.remove'), { fields: { back: `/u/${member.id}` }, cls: 'secondary' })
  : postButton(ctx, '/friends', ctx.t('community.friends.add_submit'), { fields: { id: String(member.id), back: `/u/${member.id}` } })}
</p>`;
}

/** A redirect target from a form: only a member profile path, else the friends page. */
function backTo(v: unknown): string {
  return typeof v === 'string' && /^\/u\/[1-9][0-9]{0,15}$/.test(v) ? v : '/friends';
}

const ADD_ERRORS: Record<'self' | 'not_found' | 'too_many', MessageKey> = {
  self: 'community.friends.error.self',
  not_found: 'community.friends.error.not_found',
  too_many: 'community.friends.error.too_many',
};

export function peopleRoutes(app: FastifyInstance, site: Site): void {
  app.get('/friends', async (req, reply) => friendsPage(site, reply, req.ctx, requireUser(req), { username: '', error: null }));

  app.post('/friends', async (req, reply) => {
    const user = requireUser(req);
    const b = bodyOf(req);
    const username = str(b, 'username', 100).trim();
    const byId = parseId(b.id);
    const target = byId !== null ? { id: byId } : await findRecipient(site.db, username);
    const r = target ? await addFriend(site.db, { userId: user.id, userName: user.username, friendId: target.id, now: site.now() }) : ({ ok: false, error: 'not_found' } as const);
    if (!r.ok) {
      if (byId !== null) throw new HttpError(r.error === 'not_found' ? 404 : 400, ADD_ERRORS[r.error]);
      return friendsPage(site, reply, req.ctx, user, { username, error: ADD_ERRORS[r.error] }, 400);
    }
    setFlash(reply, r.added ? 'community.friends.added' : 'community.friends.already');
    return reply.redirect(backTo(b.back), 303);
  });

  app.post<IdParams>('/friends/:id/remove', async (req, reply) => {
    const user = requireUser(req);
    const id = parseId(req.params.id);
    if (id === null || !(await removeFriend(site.db, user.id, id))) throw new HttpError(404, 'community.friends.error.not_friend');
    setFlash(reply, 'community.friends.removed');
    return reply.redirect(backTo(bodyOf(req).back), 303);
  });

  app.get('/online', async (req, reply) => {
    const user = requireUser(req);
    const ctx = req.ctx;
    const rows = await listOnline(site.db, site.now(), user);
    return sendPage(reply, ctx, {
      title: ctx.t('community.online.title'),
      body: html`<h1>${ctx.t('community.online.title')}</h1>
${communityNav(ctx, '/online')}
<p>${rows.length === 1 ? ctx.t('community.online.count_one') : ctx.t('community.online.count', { n: rows.length })}</p>
${rows.length > 0 ? memberTable(ctx, rows, ctx.t('community.online.title'), { lastSeen: true }) : ''}`,
    });
  });

  app.get<{ Querystring: { q?: string } }>('/members', async (req, reply) => {
    requireUser(req);
    const ctx = req.ctx;
    const { t } = ctx;
    const q = typeof req.query.q === 'string' ? req.query.q.trim().slice(0, 100) : '';
    const rows = q ? await searchMembers(site.db, q) : [];
    return sendPage(reply, ctx, {
      title: t('community.members.title'),
      body: html`<h1>${t('community.members.title')}</h1>
${communityNav(ctx, '/members')}
<form method="get" action="/members" class="form form-inline" role="search">
${textField(ctx, { id: 'members-q', name: 'q', label: t('community.members.prefix'), value: q, maxlength: 100, type: 'search', autocomplete: 'off', hint: t('community.members.hint') })}
<p><button type="submit">${t('community.members.search')}</button></p>
</form>
${q
  ? rows.length === 0
    ? html`<p class="empty">${t('community.members.none', { q })}</p>`
    : html`<h2>${t('community.members.results', { q })}</h2>${memberTable(ctx, rows, t('community.members.results', { q }))}`
  : ''}`,
    });
  });

  app.get('/staff-team', async (req, reply) => {
    requireUser(req);
    const ctx = req.ctx;
    const { t } = ctx;
    const team = await listStaffTeam(site.db);
    return sendPage(reply, ctx, {
      title: t('community.team.title'),
      body: html`<h1>${t('community.team.title')}</h1>
${communityNav(ctx, '/staff-team')}
<p>${t('community.team.intro')} <a href="/contact">${t('community.contact.title')}</a></p>
${team.map(
  (g) => html`<section aria-labelledby="team-${g.role}">
<h2 id="team-${g.role}">${t(`community.team.role.${g.role as 'admin' | 'supermod' | 'moderator' | 'uploader'}`)}</h2>
${g.members.length === 0 ? html`<p class="empty">${t('community.team.none')}</p>` : html`<ul class="team">${g.members.map((m) => html`<li>${memberLink(ctx, m.id, m.username)} <a href="/messages/new?to=${encodeURIComponent(m.username)}" class="small">${t('community.send_message')}<span class="visually-hidden"> ${m.username}</span></a></li>`)}</ul>`}
</section>`,
)}`,
    });
  });
}

/**
 * The administration hub, GET /admin: a link to every staff section the viewer may use (the
 * policy decides; a section appears once its page exists). Members holding none get a 403.
 */
import type { FastifyInstance } from 'fastify';
import type { Site } from '../../../site/site.js';
import type { Permission } from '../../../site/staff/policy.js';
import { html } from '../../html.js';
import { sendPage } from '../../layout.js';
import type { MessageKey } from '../../messages.js';
import { requireAnyPermission, viewerCan } from '../../staff.js';

interface Section {
  path: string;
  permission: Permission;
  label: MessageKey;
}

interface Group {
  heading: MessageKey;
  sections: Section[];
}

export const HUB: readonly Group[] = [
  {
    heading: 'discipline.hub.group.torrents',
    sections: [
      { path: '/staff/queue', permission: 'torrent.moderate', label: 'discipline.hub.queue' },
      { path: '/staff/reports', permission: 'report.handle', label: 'discipline.hub.reports' },
      { path: '/staff/freeleech', permission: 'freeleech.manage', label: 'discipline.hub.freeleech' },
    ],
  },
  {
    heading: 'discipline.hub.group.members',
    sections: [
      { path: '/staff/users', permission: 'user.view_private', label: 'discipline.hub.users' },
      { path: '/staff/ip-bans', permission: 'ip.ban', label: 'discipline.hub.ip_bans' },
      { path: '/staff/applications', permission: 'application.review', label: 'discipline.hub.applications' },
      { path: '/staff/invites', permission: 'invite.manage', label: 'discipline.hub.invites' },
      { path: '/staff/contact', permission: 'contact.read', label: 'discipline.hub.contact' },
      { path: '/staff/news', permission: 'news.manage', label: 'discipline.hub.news' },
    ],
  },
  {
    heading: 'discipline.hub.group.lawful',
    sections: [
      { path: '/staff/notices', permission: 'notice.review', label: 'discipline.hub.notices' },
      { path: '/staff/blocklist', permission: 'blocklist.manage', label: 'discipline.hub.blocklist' },
    ],
  },
  {
    heading: 'discipline.hub.group.site',
    sections: [
      { path: '/admin/categories', permission: 'catalogue.manage', label: 'discipline.hub.categories' },
      { path: '/admin/torznab', permission: 'catalogue.manage', label: 'torznab.title' },
      { path: '/staff/joining', permission: 'settings.manage', label: 'discipline.hub.joining' },
      { path: '/staff/settings', permission: 'settings.manage', label: 'discipline.hub.settings' },
      { path: '/staff/permissions', permission: 'permission.manage', label: 'discipline.hub.permissions' },
      { path: '/staff/audit', permission: 'audit.read', label: 'discipline.hub.audit' },
    ],
  },
];

export function hubRoutes(app: FastifyInstance, _site: Site): void {
  const all = [...new Set(HUB.flatMap((g) => g.sections.map((s) => s.permission)))];
  app.get('/admin', async (req, reply) => {
    await requireAnyPermission(req, all);
    const { t } = req.ctx;
    const groups = [];
    for (const g of HUB) {
      const links = [];
      for (const s of g.sections) {
        if (!app.hasRoute({ method: 'GET', url: s.path })) continue;
        if (await viewerCan(req, s.permission)) links.push(html`<li><a href="${s.path}">${t(s.label)}</a></li>`);
      }
      if (links.length > 0) groups.push(html`<section class="panel hub-group"><h2>${t(g.heading)}</h2><ul>${links}</ul></section>`);
    }
    return sendPage(reply, req.ctx, {
      title: t('discipline.hub.title'),
      body: html`<h1>${t('discipline.hub.title')}</h1>
<p>${t('discipline.hub.intro')}</p>
${groups.length === 0 ? html`<p class="empty">${t('discipline.hub.empty')}</p>` : html`<div class="hub">${groups}</div>`}`,
    });
  });
}

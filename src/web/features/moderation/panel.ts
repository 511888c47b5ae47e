/**
 * What the torrent page shows of moderation: for the uploader of a pending torrent, the staff's
 * request and the link to edit and resubmit; for members, the report link; for the staff, the
 * actions their permissions allow (review, edit, delete, merge, factors) and the current factors.
 */
import type { User } from '../../../db/schema.js';
import { canResubmit } from '../../../site/moderation/queue.js';
import { presetOf } from '../../../site/moderation/torrents.js';
import { permissionsOf } from '../../../site/staff/policy.js';
import type { TorrentDetails } from '../../../site/torrents/read.js';
import type { RequestContext } from '../../context.js';
import { formatDate } from '../../format.js';
import { html, type Html } from '../../html.js';

export async function moderationPanel(ctx: RequestContext, details: TorrentDetails): Promise<Html> {
  const { t, user, site, locale } = ctx;
  if (!user) return html``;
  const tor = details.torrent;
  const perms = await permissionsOf(site.db, user as User);
  const parts: Html[] = [];

  if (canResubmit(tor, user.id)) {
    parts.push(html`<div class="notice pending moderation-uploader">
${tor.moderation_note ? html`<p>${t('moderation.panel.edit_requested')}</p><p class="moderation-note">${tor.moderation_note}</p>` : html`<p>${t('moderation.panel.waiting')}</p>`}
<p><a href="/torrents/${tor.id}/resubmit">${t('moderation.panel.resubmit')}</a></p>
</div>`);
  }

  const staffLinks: Html[] = [];
  if (tor.status === 'pending' && perms.has('torrent.moderate')) staffLinks.push(html`<li><a href="/staff/queue/${tor.id}">${t('moderation.panel.review')}</a></li>`);
  if (perms.has('torrent.edit_any')) staffLinks.push(html`<li><a href="/staff/torrents/${tor.id}/edit">${t('moderation.panel.edit')}</a></li>`);
  if (perms.has('torrent.set_factors')) staffLinks.push(html`<li><a href="/staff/torrents/${tor.id}/factors">${t('moderation.panel.factors')}</a></li>`);
  if (perms.has('torrent.merge')) staffLinks.push(html`<li><a href="/staff/torrents/${tor.id}/merge">${t('moderation.panel.merge')}</a></li>`);
  if (perms.has('torrent.delete_any')) staffLinks.push(html`<li><a href="/staff/torrents/${tor.id}/delete">${t('moderation.panel.delete')}</a></li>`);
  if (staffLinks.length > 0) {
    const preset = presetOf(tor);
    const factors =
      preset === 'normal'
        ? t('moderation.factors.preset.normal')
        : `${preset ? t(`moderation.factors.preset.${preset}`) : t('moderation.factors.values', { up: tor.upload_factor, down: tor.download_factor })}${
            tor.factors_until !== null ? ` · ${t('moderation.factors.until', { date: formatDate(locale, tor.factors_until) })}` : ''
          }`;
    parts.push(html`<section class="panel moderation-staff" aria-labelledby="h-moderation-staff">
<h2 id="h-moderation-staff">${t('moderation.panel.staff')}</h2>
<p>${t('moderation.panel.factors_now')} <span class="moderation-factors">${factors}</span>${tor.verified === 1 ? html` · ${t('moderation.panel.verified')}` : ''}</p>
<ul class="moderation-actions">${staffLinks}</ul>
</section>`);
  }

  if (tor.uploader_id !== user.id) parts.push(html`<p class="moderation-report"><a href="/report/torrent/${tor.id}" rel="nofollow">${t('moderation.panel.report')}</a></p>`);
  return html`${parts}`;
}

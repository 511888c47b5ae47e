/**
 * The sharing rules' state on a member's profile (shown to the member and to the staff): the ratio
 * watch with its deadline, a download refusal with its reason, freeleech tokens left, and the
 * hit-and-run list (src/site/rules/enforce.ts decides; this only shows).
 */
import type { User } from '../../../db/schema.js';
import type { Site } from '../../../site/site.js';
import type { RequestContext } from '../../context.js';
import { formatAge, formatDate, formatRatio } from '../../format.js';
import { html, type Html } from '../../html.js';

const HNR_LIMIT = 100;

export async function rulesSection(ctx: RequestContext, site: Site, m: User, now: number): Promise<Html> {
  const { t, locale } = ctx;
  const cfg = site.config.rules;
  const alerts: Html[] = [];
  if (m.download_refused === 1) {
    alerts.push(html`<p class="rules-alert" role="alert">${t('members.rules.refused', { reason: m.download_refused_reason ?? '' })}</p>`);
  } else if (m.ratio_watch_since !== null) {
    const deadline = m.ratio_watch_since + cfg.ratio_watch;
    alerts.push(
      html`<p class="rules-alert" role="alert">${t('members.rules.ratio_watch', {
        ratio: formatRatio(locale, m.uploaded, m.downloaded),
        min: cfg.min_ratio.toFixed(2),
        deadline: formatDate(locale, deadline),
      })}</p>`,
    );
  }
  const rows = await site.db
    .selectFrom('hnr')
    .innerJoin('torrent', 'torrent.id', 'hnr.torrent_id')
    .leftJoin('user_torrent', (j) => j.onRef('user_torrent.user_id', '=', 'hnr.user_id').onRef('user_torrent.torrent_id', '=', 'hnr.torrent_id'))
    .select(['hnr.torrent_id', 'hnr.completed_at', 'hnr.deadline', 'hnr.status', 'torrent.name', 'user_torrent.seed_time'])
    .where('hnr.user_id', '=', m.id)
    .where((eb) => eb.or([eb('hnr.status', 'in', ['watching', 'prewarned', 'warned']), eb('hnr.deadline', '>', now)]))
    .orderBy('hnr.deadline', 'desc')
    .limit(HNR_LIMIT)
    .execute();
  const time = (s: number) => html`<time datetime="${new Date(s * 1000).toISOString()}">${formatDate(locale, s)}</time>`;
  const table = rows.length
    ? html`<table class="hnr-list">
<caption>${t('members.hnr.caption', { time: formatAge(t, cfg.hnr_seed_time), ratio: cfg.hnr_ratio.toFixed(2) })}</caption>
<thead><tr><th scope="col">${t('members.hnr.col.torrent')}</th><th scope="col">${t('members.hnr.col.completed')}</th><th scope="col">${t('members.hnr.col.deadline')}</th><th scope="col">${t('members.hnr.col.seeded')}</th><th scope="col">${t('members.hnr.col.status')}</th></tr></thead>
<tbody>${rows.map(
        (r) =>
          html`<tr class="hnr-${r.status}"><td><a href="/torrents/${r.torrent_id}">${r.name}</a></td><td>${time(r.completed_at)}</td><td>${time(r.deadline)}</td><td>${formatAge(t, r.seed_time ?? 0)}</td><td>${t(`members.hnr.status.${r.status}`)}</td></tr>`,
      )}</tbody>
</table>`
    : html`<p class="note">${t('members.hnr.empty')}</p>`;
  return html`<section aria-labelledby="h-rules" class="rules-state">
<h2 id="h-rules">${t('members.rules.heading')}</h2>
${alerts}
<p>${t('members.rules.tokens', { n: m.freeleech_tokens })}</p>
${cfg.hnr_enabled ? html`<h3>${t('members.hnr.heading')}</h3>${table}` : ''}
</section>`;
}

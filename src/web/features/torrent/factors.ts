/**
 * Freeleech and multipliers on the torrent page: badges for the factors the member gets now
 * (free, half, double upload, token active; src/site/rules/freeleech.ts combines them as the
 * tracker does), and the button that spends a freeleech token on the torrent.
 *
 *   POST /torrents/<id>/freeleech-token   spends one of the member's tokens on this torrent
 */
import type { FastifyInstance } from 'fastify';
import type { Torrent } from '../../../db/schema.js';
import { activeToken, activeWindows, effectiveFactors, spendToken } from '../../../site/rules/freeleech.js';
import type { Site } from '../../../site/site.js';
import { setFlash, type RequestContext } from '../../context.js';
import { formatDate } from '../../format.js';
import { html, type Html } from '../../html.js';
import { csrfField } from '../../layout.js';
import { parseId, torrentPath } from './links.js';
import { memberOrLogin } from './login.js';
import { freeleechStaffRoutes } from './freeleech-staff.js';

/** The badges of factors other than 1 (empty when none). */
export function factorBadges(ctx: RequestContext, f: { upload: number; download: number }, token: boolean): Html {
  const { t } = ctx;
  const out: Html[] = [];
  if (token) out.push(html`<span class="badge factor token">${t('torrent.factor.token')}</span>`);
  else if (f.download === 0) out.push(html`<span class="badge factor free">${t('torrent.factor.free')}</span>`);
  else if (f.download !== 1) out.push(html`<span class="badge factor down">${t('torrent.factor.download', { n: String(f.download) })}</span>`);
  if (f.upload === 2) out.push(html`<span class="badge factor double">${t('torrent.factor.double')}</span>`);
  else if (f.upload !== 1) out.push(html`<span class="badge factor up">${t('torrent.factor.upload', { n: String(f.upload) })}</span>`);
  return html`${out}`;
}

/** The freeleech section of a torrent page. */
export async function factorsSection(ctx: RequestContext, site: Site, tor: Pick<Torrent, 'id' | 'upload_factor' | 'download_factor' | 'factors_until' | 'status'> & { id: number }): Promise<Html> {
  const { t, locale } = ctx;
  const now = site.now();
  const user = ctx.user;
  const [windows, token] = await Promise.all([activeWindows(site.db, now), user ? activeToken(site.db, user.id, tor.id, now) : Promise.resolve(null)]);
  const f = effectiveFactors(tor, windows, token !== null, now);
  const badges = factorBadges(ctx, f, token !== null);
  const until = tor.factors_until !== null && now < tor.factors_until && (tor.download_factor !== 1 || tor.upload_factor !== 1) ? tor.factors_until : null;
  const tokens = user ? ((await site.db.selectFrom('user').select('freeleech_tokens').where('id', '=', user.id).executeTakeFirst())?.freeleech_tokens ?? 0) : 0;
  const canSpend = user && token === null && f.download !== 0 && tokens > 0 && tor.status === 'active';
  if (f.upload === 1 && f.download === 1 && !canSpend && token === null) return html``;
  return html`<div class="torrent-factors">
${badges}
${until !== null ? html`<span class="note">${t('torrent.factor.until', { date: formatDate(locale, until) })}</span>` : ''}
${token !== null ? html`<span class="note">${t('torrent.factor.token_until', { date: formatDate(locale, token) })}</span>` : ''}
${canSpend
  ? html`<form method="post" action="/torrents/${tor.id}/freeleech-token" class="inline">
${csrfField(ctx)}
<button type="submit">${t('torrent.factor.spend', { n: tokens })}</button>
</form>`
  : ''}
</div>`;
}

export function factorRoutes(app: FastifyInstance, site: Site): void {
  freeleechStaffRoutes(app, site);
  app.post<{ Params: { id: string } }>('/torrents/:id/freeleech-token', async (req, reply) => {
    const user = memberOrLogin(req, reply);
    if (!user) return reply;
    const id = parseId(req.params.id);
    const tor = id === null ? undefined : await site.db.selectFrom('torrent').select(['id', 'name', 'slug']).where('id', '=', id).executeTakeFirst();
    if (!tor) return reply.redirect('/', 303);
    const r = await spendToken(site, user.id, tor.id, site.config.rules.token_duration, site.now());
    setFlash(reply, r.ok ? 'torrent.factor.spent' : r.error === 'no_tokens' ? 'torrent.factor.no_tokens' : r.error === 'already_active' ? 'torrent.factor.already' : 'torrent.factor.unavailable');
    return reply.redirect(torrentPath(tor), 303);
  });
}

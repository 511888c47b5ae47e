/**
 * The member's own warnings, shown on /account: the active ones with their reason and expiry,
 * then the ones that expired or were revoked.
 */
import type { User } from '../../../db/schema.js';
import { listWarnings, warningState } from '../../../site/discipline/warnings.js';
import type { Site } from '../../../site/site.js';
import type { RequestContext } from '../../context.js';
import { formatDate } from '../../format.js';
import { html, type Html } from '../../html.js';
import type { MessageKey } from '../../messages.js';

export async function ownWarningsPanel(site: Site, ctx: RequestContext, user: Pick<User, 'id'>): Promise<Html> {
  const { t, locale } = ctx;
  const now = site.now();
  const warnings = await listWarnings(site.db, user.id, { kinds: ['manual', 'hnr', 'ratio'], limit: 50 });
  const active = warnings.filter((w) => warningState(w, now) === 'active');
  const when = (e: number) => html`<time datetime="${new Date(e * 1000).toISOString()}">${formatDate(locale, e)}</time>`;
  return html`<section class="panel" aria-labelledby="h-own-warnings" id="warnings">
  <h2 id="h-own-warnings">${t('discipline.own.heading')}</h2>
  ${active.length > 0 ? html`<p class="error">${t('discipline.own.active', { n: active.length })}</p>` : html`<p>${t('discipline.own.none_active')}</p>`}
  ${warnings.length === 0
    ? ''
    : html`<div class="table-wrap"><table class="discipline-table">
  <caption class="visually-hidden">${t('discipline.own.caption')}</caption>
  <thead><tr><th scope="col">${t('discipline.col.date')}</th><th scope="col">${t('discipline.col.kind')}</th><th scope="col">${t('discipline.col.reason')}</th><th scope="col">${t('discipline.col.expires')}</th><th scope="col">${t('discipline.col.state')}</th></tr></thead>
  <tbody>${warnings.map((w) => {
    const s = warningState(w, now);
    return html`<tr><td>${when(w.created_at)}</td><td>${t(`discipline.kind.${w.kind}` as MessageKey)}</td><td>${w.reason}</td><td>${w.expires_at === null ? t('discipline.never') : when(w.expires_at)}</td><td><span class="badge state-${s}">${t(`discipline.state.${s}`)}</span></td></tr>`;
  })}</tbody>
  </table></div>`}
</section>`;
}

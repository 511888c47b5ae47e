/**
 * The joining job, run every `joining.class_interval`: member classes recomputed (promotions and
 * demotions, members notified), invitation quotas refilled at the turn of each month, and login
 * IP addresses older than `privacy.login_ip_days` deleted.
 */
import type { Site } from '../site.js';
import { runClassLadder, type ClassChange } from './classes.js';
import { refillMonthlyInvites } from './invites.js';
import { pruneLoginIps } from './ips.js';

export interface JoiningJobResult {
  changes: ClassChange[];
  refilled: boolean;
  prunedIps: number;
}

export async function runJoiningJobs(site: Pick<Site, 'db' | 'config' | 'now'>): Promise<JoiningJobResult> {
  const now = site.now();
  const changes = await runClassLadder(site.db, now, { defaultLocale: site.config.site.default_locale });
  const refilled = await refillMonthlyInvites(site.db, now);
  const prunedIps = await pruneLoginIps(site.db, now, site.config.privacy.login_ip_days);
  return { changes, refilled, prunedIps };
}

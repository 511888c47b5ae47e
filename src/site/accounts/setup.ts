/**
 * First run: while no enabled administrator exists, each start creates a one-time setup token
 * (valid 24 hours) and returns its link, `${publicUrl}/setup/<token>`, which the composition root
 * logs. Opening it shows a form that creates the first administrator (src/web/features/accounts).
 * `essaim user create --admin` does the same from the shell.
 */
import { countAdmins } from '../../db/user.repository.js';
import type { Site } from '../site.js';
import { createAuthToken } from './tokens.js';

export const SETUP_TTL = 24 * 3600;

/** Whether the site still needs its first administrator. */
export async function needsSetup(site: Site): Promise<boolean> {
  return (await countAdmins(site.db, { enabledOnly: true })) === 0;
}

/** When no administrator exists, creates a one-time setup token and returns its link; else null. */
export async function firstRunSetupLink(site: Site): Promise<string | null> {
  if (!(await needsSetup(site))) return null;
  const token = await createAuthToken(site.db, { purpose: 'setup', userId: null, ttl: SETUP_TTL, now: site.now() });
  return `${site.publicUrl}/setup/${token}`;
}

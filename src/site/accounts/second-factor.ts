/**
 * The second factor of a member with TOTP switched on: an authenticator code (once per time step,
 * see totp.ts) or one of their unused recovery codes (then used up).
 */
import type { User } from '../../db/schema.js';
import type { Site } from '../site.js';
import { useRecoveryCode } from './recovery-codes.js';
import { replayGuardFor, verifyTotpShared } from './totp.js';

export type SecondFactor = 'totp' | 'recovery';

/** Which kind of code was accepted, or null. Six digits are read as a TOTP code, anything else as a recovery code. */
export async function verifySecondFactor(site: Site, user: User, typed: string, opts: { allowRecovery?: boolean } = {}): Promise<SecondFactor | null> {
  const code = typed.trim();
  if (!user.totp_secret || code === '' || code.length > 64) return null;
  if (/^\d{3}\s?\d{3}$/.test(code)) {
    return (await verifyTotpShared(site.db, replayGuardFor(site), user.id, user.totp_secret, code, site.now())) !== null ? 'totp' : null;
  }
  if (opts.allowRecovery === false) return null;
  return (await useRecoveryCode(site.db, user.id, code, site.now())) ? 'recovery' : null;
}

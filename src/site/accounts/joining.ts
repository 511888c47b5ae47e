/**
 * Who may create an account: the register handler asks `mayRegister` before anything else and
 * shows the refusal. The rules themselves (registration modes, open windows, invitations, the cap
 * of accounts per IP address) live in src/site/joining/rules.ts.
 */
import type { Site } from '../site.js';
import { registrationRefusal, type JoinRefusal, type JoinRequest, type RegistrationStatus } from '../joining/rules.js';

export type { JoinRefusal, JoinRequest };

/** null when this visitor may register now, else the reason for the refusal. */
export async function mayRegister(site: Site, req: JoinRequest, status?: RegistrationStatus): Promise<JoinRefusal | null> {
  return registrationRefusal(site, req, status);
}

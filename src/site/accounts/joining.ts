/**
 * Who may create an account. Sign-up is open for now; the joining rules (invitations, a cap of
 * accounts per IP address, a captcha after repeated attempts) come with a later issue and plug in
 * here: the register handler asks `mayRegister` before anything else and shows the refusal.
 */
import type { Site } from '../site.js';

/** Why a sign-up is refused (each has a message `accounts.register.refused.<reason>`). */
export type JoinRefusal = 'closed';

export interface JoinRequest {
  ip: string;
  now: number;
}

/** null when this visitor may register now, else the reason for the refusal. */
export async function mayRegister(_site: Site, _req: JoinRequest): Promise<JoinRefusal | null> {
  return null;
}

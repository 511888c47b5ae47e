/**
 * Who may create an account now, and creating it.
 *
 * The administrators' mode (site/joining/settings.ts) says how visitors join: open, with an
 * invitation, by application, or not at all (closed). During a scheduled open window anyone may
 * sign up, whatever the mode, until the window's cap of sign-ups is reached. Whatever the way in,
 * an IP address with `joining.accounts_per_ip` accounts already seen from it gets no more.
 * An invitation is honoured in every mode but closed (outside windows).
 */
import type { Kysely } from 'kysely';
import { createUser } from '../../db/user.repository.js';
import type { Database } from '../../db/schema.js';
import { inTransaction } from '../../db/util.js';
import type { Site } from '../site.js';
import { entryClass } from './classes.js';
import { consumeInvite, type Invite } from './invites.js';
import { ipCapReached, recordLoginIp } from './ips.js';
import { currentWindow, nextWindow, type WindowOccurrence } from './schedule.js';
import { loadJoiningSettings, type JoiningSettings, type JoinMode } from './settings.js';

export interface RegistrationStatus {
  settings: JoiningSettings;
  mode: JoinMode;
  /** The open window now, if any. */
  window: WindowOccurrence | null;
  /** Sign-ups left in the current window (null: no window, or no cap). */
  windowLeft: number | null;
  /** The next window to start, if any. */
  next: WindowOccurrence | null;
  /** Anyone may sign up now without an invitation (open mode, or a window with room left). */
  openToAll: boolean;
  /** An invitation lets its holder sign up now. */
  acceptsInvites: boolean;
  /** The application form takes applications now. */
  acceptsApplications: boolean;
}

/** Sign-ups during a window occurrence so far. */
async function signupsBetween(db: Kysely<Database>, start: number, end: number): Promise<number> {
  const r = await db
    .selectFrom('user')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('created_at', '>=', start)
    .where('created_at', '<', end)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

export async function registrationStatus(db: Kysely<Database>, now: number): Promise<RegistrationStatus> {
  const settings = await loadJoiningSettings(db);
  const window = currentWindow(settings.windows, now);
  let windowLeft: number | null = null;
  if (window && window.window.cap > 0) windowLeft = Math.max(0, window.window.cap - (await signupsBetween(db, window.start, window.end)));
  const windowOpen = window !== null && (windowLeft === null || windowLeft > 0);
  const openToAll = settings.mode === 'open' || windowOpen;
  return {
    settings,
    mode: settings.mode,
    window,
    windowLeft,
    next: nextWindow(settings.windows, now),
    openToAll,
    acceptsInvites: openToAll || settings.mode !== 'closed',
    acceptsApplications: settings.mode === 'application',
  };
}

/** Why a sign-up is refused (each has a message `joining.refused.<reason>`). */
export type JoinRefusal = 'closed' | 'invite_required' | 'invite_invalid' | 'application' | 'window_full' | 'ip_cap';

export interface JoinRequest {
  ip: string;
  now: number;
  /** The invitation the visitor came with: the row when usable, 'invalid' when not, else null. */
  invite?: Invite | 'invalid' | null;
}

/** null when this visitor may sign up now, else the reason for the refusal. */
export async function registrationRefusal(site: Site, req: JoinRequest, status?: RegistrationStatus): Promise<JoinRefusal | null> {
  if (await ipCapReached(site, req.ip)) return 'ip_cap';
  const s = status ?? (await registrationStatus(site.db, req.now));
  if (req.invite === 'invalid') return 'invite_invalid';
  if (req.invite && s.acceptsInvites) return null;
  if (s.openToAll) return null;
  if (s.window && s.windowLeft === 0 && s.mode !== 'application') return 'window_full';
  switch (s.mode) {
    case 'invite':
      return 'invite_required';
    case 'application':
      return 'application';
    default:
      return 'closed';
  }
}

export interface NewMember {
  username: string;
  email: string;
  passwordHash: string;
  ip: string | null;
  invite?: Invite | null;
  now: number;
}

export class InviteTakenError extends Error {
  constructor() {
    super('the invitation was used, revoked or expired meanwhile');
  }
}

/**
 * Creates a member who joined by sign-up or application: in the ladder's entry class with its
 * monthly invitations, the address unverified when verification is on, the inviter recorded and
 * the invitation used up (InviteTakenError, nothing created, when it is gone), the sign-up IP
 * recorded. Throws DuplicateUserError like createUser.
 */
export async function createJoinedMember(site: Site, m: NewMember): Promise<number> {
  return inTransaction(site.db, async (trx) => {
    const { id } = await createUser(trx, { username: m.username, email: m.email, passwordHash: m.passwordHash, emailVerified: !site.config.joining.verify_email, now: m.now });
    const cls = await entryClass(trx);
    await trx
      .updateTable('user')
      .set({ ...(cls ? { class: cls.id, invites_left: cls.invites_per_month } : {}), invited_by: m.invite?.inviter_id ?? null })
      .where('id', '=', id)
      .execute();
    if (m.invite && !(await consumeInvite(trx, m.invite.id, id, m.now))) throw new InviteTakenError();
    if (m.ip) await recordLoginIp(trx, id, m.ip, m.now, true);
    return id;
  });
}

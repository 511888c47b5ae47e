/**
 * Applications (registration mode `application`): a visitor answers the operators' questions and
 * chooses a username, address and password (stored hashed in the application); staff with
 * `application.review` accept (the account is created then) or reject, with a note; the applicant
 * is told by mail (the web layer writes it). Every decision is audited in the same transaction.
 */
import type { Kysely, Selectable } from 'kysely';
import type { ApplicationStatus, ApplicationTable, Database, User } from '../../db/schema.js';
import { inTransaction } from '../../db/util.js';
import type { Site } from '../site.js';
import { audit } from '../staff/audit.js';
import { createJoinedMember } from './rules.js';

export type Application = Selectable<ApplicationTable>;

export interface ApplicationAnswer {
  question: string;
  answer: string;
}

export const MAX_ANSWER_LENGTH = 4000;

export function answersOf(a: Pick<Application, 'answers'>): ApplicationAnswer[] {
  try {
    const v: unknown = JSON.parse(a.answers);
    if (!Array.isArray(v)) return [];
    return v
      .filter((x): x is Record<string, unknown> => !!x && typeof x === 'object')
      .map((x) => ({ question: String(x.question ?? ''), answer: String(x.answer ?? '') }));
  } catch {
    return [];
  }
}

/** Whether a pending application already claims this username (any case) or address. */
export async function pendingApplicationClaims(db: Kysely<Database>, username: string, email: string): Promise<{ username: boolean; email: boolean }> {
  const rows = await db
    .selectFrom('application')
    .select(['username', 'email'])
    .where('status', '=', 'pending')
    .where((eb) => eb.or([eb(eb.fn('lower', ['username']), '=', username.toLowerCase()), eb(eb.fn('lower', ['email']), '=', email.toLowerCase())]))
    .execute();
  return {
    username: rows.some((r) => r.username.toLowerCase() === username.toLowerCase()),
    email: rows.some((r) => r.email.toLowerCase() === email.toLowerCase()),
  };
}

export interface NewApplication {
  username: string;
  email: string;
  passwordHash: string;
  answers: ApplicationAnswer[];
  ip: string | null;
  now: number;
}

export async function submitApplication(db: Kysely<Database>, a: NewApplication): Promise<number> {
  const row = await db
    .insertInto('application')
    .values({
      username: a.username,
      email: a.email,
      password_hash: a.passwordHash,
      answers: JSON.stringify(a.answers.map((x) => ({ question: x.question, answer: x.answer.slice(0, MAX_ANSWER_LENGTH) }))),
      status: 'pending',
      reviewer_id: null,
      review_note: null,
      ip: a.ip,
      created_at: a.now,
      decided_at: null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export interface ApplicationRow extends Application {
  reviewer_name: string | null;
}

export async function listApplications(db: Kysely<Database>, status: ApplicationStatus, limit = 100): Promise<ApplicationRow[]> {
  return db
    .selectFrom('application')
    .leftJoin('user', 'user.id', 'application.reviewer_id')
    .selectAll('application')
    .select('user.username as reviewer_name')
    .where('application.status', '=', status)
    .orderBy('application.created_at', status === 'pending' ? 'asc' : 'desc')
    .orderBy('application.id', status === 'pending' ? 'asc' : 'desc')
    .limit(limit)
    .execute();
}

export async function countPendingApplications(db: Kysely<Database>): Promise<number> {
  const r = await db.selectFrom('application').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'pending').executeTakeFirstOrThrow();
  return Number(r.n);
}

export async function getApplication(db: Kysely<Database>, id: number): Promise<ApplicationRow | undefined> {
  return db
    .selectFrom('application')
    .leftJoin('user', 'user.id', 'application.reviewer_id')
    .selectAll('application')
    .select('user.username as reviewer_name')
    .where('application.id', '=', id)
    .executeTakeFirst();
}

export type Decision = { ok: true; application: Application; userId: number | null } | { ok: false; reason: 'not_pending' };

/**
 * Accepts or rejects a pending application. Accepting creates the account (DuplicateUserError
 * when the username or address was taken since; nothing is changed then). Audited.
 */
export async function decideApplication(
  site: Site,
  id: number,
  d: { reviewer: Pick<User, 'id' | 'username'>; accept: boolean; note: string | null },
): Promise<Decision> {
  const now = site.now();
  return inTransaction(site.db, async (trx) => {
    const app = await trx.selectFrom('application').selectAll().where('id', '=', id).executeTakeFirst();
    if (!app || app.status !== 'pending') return { ok: false, reason: 'not_pending' } as const;
    const status: ApplicationStatus = d.accept ? 'accepted' : 'rejected';
    const r = await trx
      .updateTable('application')
      .set({ status, reviewer_id: d.reviewer.id, review_note: d.note, decided_at: now })
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) return { ok: false, reason: 'not_pending' } as const;
    let userId: number | null = null;
    if (d.accept) {
      userId = await createJoinedMember({ ...site, db: trx }, { username: app.username, email: app.email, passwordHash: app.password_hash, ip: app.ip, now });
    }
    await audit(trx, {
      actorId: d.reviewer.id,
      actorName: d.reviewer.username,
      action: d.accept ? 'application.accept' : 'application.reject',
      targetType: 'application',
      targetId: id,
      reason: d.note,
      before: { status: app.status, username: app.username, email: app.email },
      after: { status, user_id: userId },
      now,
    });
    return { ok: true, application: { ...app, status, reviewer_id: d.reviewer.id, review_note: d.note, decided_at: now }, userId } as const;
  });
}

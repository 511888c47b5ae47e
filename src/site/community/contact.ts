/**
 * The contact-staff form: members (and visitors, who leave an email address to be answered at)
 * write to the staff; staff with `contact.read` list the messages and mark them answered or
 * closed (audited).
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { audit } from '../staff/audit.js';
import { inTransaction } from '../../db/util.js';
import { checkLength, cleanLine, cleanText, num, touched, type Actor } from './common.js';

export const CONTACT_SUBJECT_MAX = 200;
export const CONTACT_BODY_MAX = 10_000;
export const CONTACT_PER_PAGE = 50;
export const CONTACT_STATUSES = ['open', 'answered', 'closed'] as const;
export type ContactState = (typeof CONTACT_STATUSES)[number];
/** Sending limit per member or address: CONTACT_LIMIT messages in CONTACT_WINDOW seconds. */
export const CONTACT_LIMIT = 5;
export const CONTACT_WINDOW = 3600;

export function isContactState(s: unknown): s is ContactState {
  return typeof s === 'string' && (CONTACT_STATUSES as readonly string[]).includes(s);
}

export type ContactField = 'email' | 'subject' | 'body';
export type ContactError = 'email_invalid' | 'subject_empty' | 'subject_too_long' | 'body_empty' | 'body_too_long';

export interface ContactDraft {
  email: string;
  subject: string;
  body: string;
}

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,190}\.[^\s@]{2,}$/;

/** Records a message to the staff; a visitor (no member) must give an email address. */
export async function createContactMessage(
  db: Kysely<Database>,
  o: { userId: number | null; email: unknown; subject: unknown; body: unknown; now: number },
): Promise<{ ok: true; id: number } | { ok: false; draft: ContactDraft; errors: Partial<Record<ContactField, ContactError>> }> {
  const draft: ContactDraft = { email: cleanLine(o.email), subject: cleanLine(o.subject), body: cleanText(o.body) };
  const errors: Partial<Record<ContactField, ContactError>> = {};
  if (o.userId === null ? !EMAIL.test(draft.email) : draft.email !== '' && !EMAIL.test(draft.email)) errors.email = 'email_invalid';
  const s = checkLength(draft.subject, CONTACT_SUBJECT_MAX);
  if (s) errors.subject = s === 'empty' ? 'subject_empty' : 'subject_too_long';
  const b = checkLength(draft.body, CONTACT_BODY_MAX);
  if (b) errors.body = b === 'empty' ? 'body_empty' : 'body_too_long';
  if (Object.keys(errors).length > 0) return { ok: false, draft, errors };
  const r = await db
    .insertInto('contact_message')
    .values({ user_id: o.userId, email: draft.email || null, subject: draft.subject, body: draft.body, status: 'open', created_at: o.now })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { ok: true, id: r.id };
}

export interface ContactRow {
  id: number;
  user_id: number | null;
  username: string | null;
  email: string | null;
  subject: string;
  body: string;
  status: ContactState;
  created_at: number;
}

/** A page of contact messages, newest first; `status` filters. */
export async function listContactMessages(
  db: Kysely<Database>,
  o: { status: ContactState | null; page: number; perPage?: number },
): Promise<{ rows: ContactRow[]; total: number }> {
  const perPage = o.perPage ?? CONTACT_PER_PAGE;
  let q = db
    .selectFrom('contact_message')
    .leftJoin('user', 'user.id', 'contact_message.user_id')
    .select([
      'contact_message.id as id',
      'contact_message.user_id as user_id',
      'user.username as username',
      'contact_message.email as email',
      'contact_message.subject as subject',
      'contact_message.body as body',
      'contact_message.status as status',
      'contact_message.created_at as created_at',
    ]);
  let c = db.selectFrom('contact_message').select((eb) => eb.fn.countAll<number>().as('n'));
  if (o.status) {
    q = q.where('contact_message.status', '=', o.status);
    c = c.where('status', '=', o.status);
  }
  const [rows, total] = await Promise.all([
    q.orderBy('contact_message.created_at', 'desc').orderBy('contact_message.id', 'desc').limit(perPage).offset((Math.max(1, o.page) - 1) * perPage).execute(),
    c.executeTakeFirstOrThrow(),
  ]);
  return { rows, total: num(total.n) };
}

/** Sets a contact message's status (staff), audited. False when the message does not exist. */
export async function setContactStatus(db: Kysely<Database>, o: { id: number; status: ContactState; actor: Actor; now: number }): Promise<boolean> {
  return inTransaction(db, async (trx) => {
    const before = await trx.selectFrom('contact_message').select('status').where('id', '=', o.id).executeTakeFirst();
    if (!before) return false;
    const r = await trx.updateTable('contact_message').set({ status: o.status }).where('id', '=', o.id).executeTakeFirst();
    if (touched(r) !== 1) return false;
    await audit(trx, {
      actorId: o.actor.id,
      actorName: o.actor.username,
      action: 'contact.status',
      targetType: 'contact_message',
      targetId: o.id,
      before: { status: before.status },
      after: { status: o.status },
      now: o.now,
    });
    return true;
  });
}

/**
 * Private messages between members: one row per message, with each side's state (the recipient
 * reads, archives, deletes; the sender deletes from their sent box). A side that deleted a
 * message no longer sees it; the row stays for the other side (and for reports).
 *
 * Bodies are BBCode, shown through the same escaped renderer as descriptions. A reply quotes the
 * message it answers. The unread count (shown in the page header) counts messages received, not
 * read and not deleted.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { checkLength, cleanLine, cleanText, num, touched } from './common.js';

export const SUBJECT_MAX = 200;
export const MESSAGE_BODY_MAX = 20_000;
export const MESSAGES_PER_PAGE = 25;
/** Sending limit per member: SEND_LIMIT messages in SEND_WINDOW seconds. */
export const SEND_LIMIT = 10;
export const SEND_WINDOW = 600;

export type Box = 'inbox' | 'archive' | 'sent';

export interface MessageListRow {
  id: number;
  subject: string;
  created_at: number;
  read_at: number | null;
  /** The other side: the sender in the inbox and archive, the recipient in the sent box. */
  other_id: number | null;
  other_name: string | null;
}

export interface MessageView {
  id: number;
  sender_id: number | null;
  sender_name: string | null;
  recipient_id: number;
  recipient_name: string | null;
  subject: string;
  body: string;
  reply_to: number | null;
  created_at: number;
  read_at: number | null;
  recipient_archived: number;
  /** Which side the viewer is on. */
  side: 'recipient' | 'sender';
}

export type SendField = 'to' | 'subject' | 'body';
export type SendError = 'recipient_unknown' | 'recipient_self' | 'subject_empty' | 'subject_too_long' | 'body_empty' | 'body_too_long';

export interface Draft {
  to: string;
  subject: string;
  body: string;
  replyTo: number | null;
}

/** Finds a member by username (case-insensitive), leaving out deleted accounts. */
export async function findRecipient(db: Kysely<Database>, username: string): Promise<{ id: number; username: string } | undefined> {
  if (username.length === 0 || username.length > 100) return undefined;
  return db
    .selectFrom('user')
    .select(['id', 'username'])
    .where((eb) => eb(eb.fn('lower', ['username']), '=', username.toLowerCase()))
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
}

/** Sends a message; field errors come back keyed by field. */
export async function sendMessage(
  db: Kysely<Database>,
  o: { senderId: number; to: unknown; subject: unknown; body: unknown; replyTo: number | null; now: number },
): Promise<{ ok: true; id: number; recipientId: number } | { ok: false; draft: Draft; errors: Partial<Record<SendField, SendError>> }> {
  const draft: Draft = { to: cleanLine(o.to), subject: cleanLine(o.subject), body: cleanText(o.body), replyTo: o.replyTo };
  const errors: Partial<Record<SendField, SendError>> = {};
  const recipient = await findRecipient(db, draft.to);
  if (!recipient) errors.to = 'recipient_unknown';
  else if (recipient.id === o.senderId) errors.to = 'recipient_self';
  const s = checkLength(draft.subject, SUBJECT_MAX);
  if (s) errors.subject = s === 'empty' ? 'subject_empty' : 'subject_too_long';
  const b = checkLength(draft.body, MESSAGE_BODY_MAX);
  if (b) errors.body = b === 'empty' ? 'body_empty' : 'body_too_long';
  if (!recipient || Object.keys(errors).length > 0) return { ok: false, draft, errors };
  // A reply only links to a message its sender could see.
  let replyTo: number | null = null;
  if (o.replyTo !== null) {
    const orig = await getMessageFor(db, o.replyTo, o.senderId);
    if (orig) replyTo = orig.id;
  }
  const r = await db
    .insertInto('message')
    .values({ sender_id: o.senderId, recipient_id: recipient.id, subject: draft.subject, body: draft.body, reply_to: replyTo, created_at: o.now, read_at: null })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { ok: true, id: r.id, recipientId: recipient.id };
}

/** A page of a member's box, newest first, with the total. */
export async function listBox(db: Kysely<Database>, userId: number, box: Box, page: number, perPage = MESSAGES_PER_PAGE): Promise<{ rows: MessageListRow[]; total: number }> {
  const offset = (Math.max(1, page) - 1) * perPage;
  if (box === 'sent') {
    const base = db.selectFrom('message').where('sender_id', '=', userId).where('sender_deleted', '=', 0);
    const [rows, total] = await Promise.all([
      base
        .leftJoin('user', 'user.id', 'message.recipient_id')
        .select(['message.id as id', 'message.subject as subject', 'message.created_at as created_at', 'message.read_at as read_at', 'user.id as other_id', 'user.username as other_name'])
        .orderBy('message.created_at', 'desc')
        .orderBy('message.id', 'desc')
        .limit(perPage)
        .offset(offset)
        .execute(),
      base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { rows, total: num(total.n) };
  }
  const base = db
    .selectFrom('message')
    .where('recipient_id', '=', userId)
    .where('recipient_deleted', '=', 0)
    .where('recipient_archived', '=', box === 'archive' ? 1 : 0);
  const [rows, total] = await Promise.all([
    base
      .leftJoin('user', 'user.id', 'message.sender_id')
      .select(['message.id as id', 'message.subject as subject', 'message.created_at as created_at', 'message.read_at as read_at', 'user.id as other_id', 'user.username as other_name'])
      .orderBy('message.created_at', 'desc')
      .orderBy('message.id', 'desc')
      .limit(perPage)
      .offset(offset)
      .execute(),
    base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: num(total.n) };
}

/** A message as `userId` sees it, or undefined when they are not a side of it or deleted it. */
export async function getMessageFor(db: Kysely<Database>, id: number, userId: number): Promise<MessageView | undefined> {
  const m = await db
    .selectFrom('message')
    .leftJoin('user as s', 's.id', 'message.sender_id')
    .leftJoin('user as r', 'r.id', 'message.recipient_id')
    .select([
      'message.id as id',
      'message.sender_id as sender_id',
      's.username as sender_name',
      'message.recipient_id as recipient_id',
      'r.username as recipient_name',
      'message.subject as subject',
      'message.body as body',
      'message.reply_to as reply_to',
      'message.created_at as created_at',
      'message.read_at as read_at',
      'message.recipient_archived as recipient_archived',
      'message.recipient_deleted as recipient_deleted',
      'message.sender_deleted as sender_deleted',
    ])
    .where('message.id', '=', id)
    .executeTakeFirst();
  if (!m) return undefined;
  const { recipient_deleted, sender_deleted, ...rest } = m;
  if (m.recipient_id === userId && recipient_deleted === 0) return { ...rest, side: 'recipient' };
  if (m.sender_id === userId && sender_deleted === 0) return { ...rest, side: 'sender' };
  return undefined;
}

/** Marks a received message read (once; the first reading time stays). */
export async function markRead(db: Kysely<Database>, id: number, userId: number, now: number): Promise<boolean> {
  const r = await db.updateTable('message').set({ read_at: now }).where('id', '=', id).where('recipient_id', '=', userId).where('read_at', 'is', null).executeTakeFirst();
  return touched(r) === 1;
}

/** Marks every received message read. */
export async function markAllRead(db: Kysely<Database>, userId: number, now: number): Promise<number> {
  const r = await db.updateTable('message').set({ read_at: now }).where('recipient_id', '=', userId).where('read_at', 'is', null).executeTakeFirst();
  return touched(r);
}

/** Moves a received message to the archive or back to the inbox. */
export async function setArchived(db: Kysely<Database>, id: number, userId: number, archived: boolean): Promise<boolean> {
  const r = await db
    .updateTable('message')
    .set({ recipient_archived: archived ? 1 : 0 })
    .where('id', '=', id)
    .where('recipient_id', '=', userId)
    .where('recipient_deleted', '=', 0)
    .executeTakeFirst();
  return touched(r) === 1;
}

/** Deletes a message from the viewer's side only. */
export async function deleteMessageFor(db: Kysely<Database>, id: number, userId: number): Promise<boolean> {
  const m = await getMessageFor(db, id, userId);
  if (!m) return false;
  const r =
    m.side === 'recipient'
      ? await db.updateTable('message').set({ recipient_deleted: 1 }).where('id', '=', id).where('recipient_id', '=', userId).executeTakeFirst()
      : await db.updateTable('message').set({ sender_deleted: 1 }).where('id', '=', id).where('sender_id', '=', userId).executeTakeFirst();
  return touched(r) === 1;
}

export async function unreadMessageCount(db: Kysely<Database>, userId: number): Promise<number> {
  const r = await db
    .selectFrom('message')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('recipient_id', '=', userId)
    .where('read_at', 'is', null)
    .where('recipient_deleted', '=', 0)
    .executeTakeFirstOrThrow();
  return num(r.n);
}

/** The subject of a reply: "Re: " once. */
export function replySubject(subject: string): string {
  const s = /^re:\s*/i.test(subject) ? subject : `Re: ${subject}`;
  return s.slice(0, SUBJECT_MAX);
}

/** The body a reply starts with: the original quoted under its author's name. */
export function quoteForReply(body: string, author: string | null): string {
  // An unbalanced [/quote] inside the original only changes where the quote ends on screen:
  // everything is still escaped by the renderer.
  const who = author && /^[\w.-]+$/.test(author) ? `=${author}` : '';
  const quoted = `[quote${who}]${body}[/quote]\n\n`;
  return quoted.length > MESSAGE_BODY_MAX ? '' : quoted;
}

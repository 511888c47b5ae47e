/**
 * Comments on torrents: written in the same escaped BBCode as descriptions (rendered by the pages
 * with renderDescription), listed oldest first a page at a time, each with its author's ratio.
 *
 * torrent.comment_count counts the comments not deleted; it changes in the same transaction as
 * the comment. Deletion is soft (deleted_at, deleted_by): the row stays for the staff and reports.
 * An author edits and deletes their own comments; staff with `comment.moderate` (and a role above
 * the author's) edit and delete anybody's, and each such act goes to the audit log in the same
 * transaction.
 */
import type { Kysely } from 'kysely';
import type { Database, DescriptionFormat, UserPrivacy, UserRole } from '../../db/schema.js';
import { inTransaction } from '../../db/util.js';
import { audit } from '../staff/audit.js';
import { checkLength, cleanText, fail, mayModerate, num, touched, type Actor, type Result } from './common.js';

export const COMMENT_MAX_LENGTH = 10_000;
export const COMMENTS_PER_PAGE = 20;

export interface CommentView {
  id: number;
  torrent_id: number;
  body: string;
  format: DescriptionFormat;
  created_at: number;
  edited_at: number | null;
  author: {
    id: number;
    username: string;
    role: UserRole;
    uploaded: number;
    downloaded: number;
    privacy: UserPrivacy;
  } | null;
}

export interface Comment {
  id: number;
  torrent_id: number;
  user_id: number | null;
  body: string;
  format: DescriptionFormat;
  created_at: number;
  edited_at: number | null;
  deleted_at: number | null;
}

export type CommentError = 'empty' | 'too_long';

export async function getComment(db: Kysely<Database>, id: number): Promise<Comment | undefined> {
  return db
    .selectFrom('comment')
    .select(['id', 'torrent_id', 'user_id', 'body', 'format', 'created_at', 'edited_at', 'deleted_at'])
    .where('id', '=', id)
    .executeTakeFirst();
}

export async function countComments(db: Kysely<Database>, torrentId: number): Promise<number> {
  const r = await db
    .selectFrom('comment')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('torrent_id', '=', torrentId)
    .where('deleted_at', 'is', null)
    .executeTakeFirstOrThrow();
  return num(r.n);
}

/** One page (1-based) of a torrent's comments, oldest first, deleted ones left out. */
export async function listComments(db: Kysely<Database>, torrentId: number, page: number, perPage = COMMENTS_PER_PAGE): Promise<CommentView[]> {
  const rows = await db
    .selectFrom('comment')
    .leftJoin('user', (j) => j.onRef('user.id', '=', 'comment.user_id').on('user.deleted_at', 'is', null))
    .select([
      'comment.id as id',
      'comment.torrent_id as torrent_id',
      'comment.body as body',
      'comment.format as format',
      'comment.created_at as created_at',
      'comment.edited_at as edited_at',
      'user.id as author_id',
      'user.username as username',
      'user.role as role',
      'user.uploaded as uploaded',
      'user.downloaded as downloaded',
      'user.privacy as privacy',
    ])
    .where('comment.torrent_id', '=', torrentId)
    .where('comment.deleted_at', 'is', null)
    .orderBy('comment.created_at')
    .orderBy('comment.id')
    .limit(perPage)
    .offset((Math.max(1, page) - 1) * perPage)
    .execute();
  return rows.map((r) => ({
    id: r.id,
    torrent_id: r.torrent_id,
    body: r.body,
    format: r.format,
    created_at: r.created_at,
    edited_at: r.edited_at,
    author:
      r.author_id === null || r.username === null
        ? null
        : { id: r.author_id, username: r.username, role: r.role!, uploaded: num(r.uploaded), downloaded: num(r.downloaded), privacy: r.privacy! },
  }));
}

/** The page (1-based) a comment is listed on. */
export async function pageOfComment(db: Kysely<Database>, c: Pick<Comment, 'id' | 'torrent_id' | 'created_at'>, perPage = COMMENTS_PER_PAGE): Promise<number> {
  const r = await db
    .selectFrom('comment')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('torrent_id', '=', c.torrent_id)
    .where('deleted_at', 'is', null)
    .where((eb) => eb.or([eb('created_at', '<', c.created_at), eb.and([eb('created_at', '=', c.created_at), eb('id', '<', c.id)])]))
    .executeTakeFirstOrThrow();
  return Math.floor(num(r.n) / perPage) + 1;
}

/** Adds a comment and counts it on the torrent. */
export async function addComment(
  db: Kysely<Database>,
  o: { torrentId: number; userId: number; body: unknown; now: number },
): Promise<Result<{ id: number }, CommentError>> {
  const body = cleanText(o.body);
  const bad = checkLength(body, COMMENT_MAX_LENGTH);
  if (bad) return fail(bad);
  return inTransaction(db, async (trx) => {
    const r = await trx
      .insertInto('comment')
      .values({ torrent_id: o.torrentId, user_id: o.userId, body, format: 'bbcode', created_at: o.now, edited_at: null, deleted_at: null, deleted_by: null })
      .returning('id')
      .executeTakeFirstOrThrow();
    await trx.updateTable('torrent').set((eb) => ({ comment_count: eb('comment_count', '+', 1) })).where('id', '=', o.torrentId).execute();
    return { ok: true as const, id: r.id };
  });
}

/**
 * How `actor` may change a comment: 'own' (the author), 'staff' (comment.moderate over the
 * author), or null. Deleted comments cannot be changed.
 */
export async function commentAccess(db: Kysely<Database>, actor: Actor | null, c: Pick<Comment, 'user_id' | 'deleted_at'>): Promise<'own' | 'staff' | null> {
  if (!actor || c.deleted_at !== null || actor.enabled !== 1 || actor.deleted_at) return null;
  if (c.user_id === actor.id) return 'own';
  return (await mayModerate(db, actor, 'comment.moderate', c.user_id)) ? 'staff' : null;
}

/** Rewrites a comment's body; a staff edit is audited with the text before and after. */
export async function editComment(
  db: Kysely<Database>,
  o: { comment: Comment; actor: Actor; as: 'own' | 'staff'; body: unknown; reason?: string | null; now: number },
): Promise<Result<object, CommentError | 'gone'>> {
  const body = cleanText(o.body);
  const bad = checkLength(body, COMMENT_MAX_LENGTH);
  if (bad) return fail(bad);
  return inTransaction(db, async (trx) => {
    const r = await trx.updateTable('comment').set({ body, edited_at: o.now }).where('id', '=', o.comment.id).where('deleted_at', 'is', null).executeTakeFirst();
    if (touched(r) === 0) return fail('gone' as const);
    if (o.as === 'staff') {
      await audit(trx, {
        actorId: o.actor.id,
        actorName: o.actor.username,
        action: 'comment.edit',
        targetType: 'comment',
        targetId: o.comment.id,
        reason: o.reason ?? null,
        before: { body: o.comment.body, author_id: o.comment.user_id, torrent_id: o.comment.torrent_id },
        after: { body },
        now: o.now,
      });
    }
    return { ok: true as const };
  });
}

/** Soft-deletes a comment and uncounts it; a staff deletion is audited. False when already gone. */
export async function deleteComment(
  db: Kysely<Database>,
  o: { comment: Comment; actor: Actor; as: 'own' | 'staff'; reason?: string | null; now: number },
): Promise<boolean> {
  return inTransaction(db, async (trx) => {
    const r = await trx
      .updateTable('comment')
      .set({ deleted_at: o.now, deleted_by: o.actor.id })
      .where('id', '=', o.comment.id)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    if (touched(r) === 0) return false;
    await trx
      .updateTable('torrent')
      .set((eb) => ({ comment_count: eb('comment_count', '-', 1) }))
      .where('id', '=', o.comment.torrent_id)
      .where('comment_count', '>', 0)
      .execute();
    if (o.as === 'staff') {
      await audit(trx, {
        actorId: o.actor.id,
        actorName: o.actor.username,
        action: 'comment.delete',
        targetType: 'comment',
        targetId: o.comment.id,
        reason: o.reason ?? null,
        before: { body: o.comment.body, author_id: o.comment.user_id, torrent_id: o.comment.torrent_id },
        now: o.now,
      });
    }
    return true;
  });
}

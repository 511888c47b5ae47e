/**
 * News posts shown on the home page: written by staff with `news.manage`, in one language (shown
 * to readers of that language) or for both (locale null). Bodies are BBCode, rendered through the
 * escaped description renderer. Creating, editing and deleting a post are audited.
 */
import type { Kysely } from 'kysely';
import type { Database, Locale } from '../../db/schema.js';
import { inTransaction } from '../../db/util.js';
import { audit } from '../staff/audit.js';
import { checkLength, cleanLine, cleanText, num, touched, type Actor } from './common.js';

export const NEWS_TITLE_MAX = 200;
export const NEWS_BODY_MAX = 50_000;
export const HOME_NEWS = 3;
export const NEWS_PER_PAGE = 20;

export interface NewsRow {
  id: number;
  title: string;
  body: string;
  locale: Locale | null;
  created_at: number;
  updated_at: number | null;
  author_id: number | null;
  author_name: string | null;
}

function newsQuery(db: Kysely<Database>) {
  return db
    .selectFrom('news')
    .leftJoin('user', (j) => j.onRef('user.id', '=', 'news.author_id').on('user.deleted_at', 'is', null))
    .select([
      'news.id as id',
      'news.title as title',
      'news.body as body',
      'news.locale as locale',
      'news.created_at as created_at',
      'news.updated_at as updated_at',
      'news.author_id as author_id',
      'user.username as author_name',
    ]);
}

/** The latest posts for readers of `locale` (posts in that language and posts for both). */
export async function latestNews(db: Kysely<Database>, locale: Locale, limit = HOME_NEWS, offset = 0): Promise<NewsRow[]> {
  return newsQuery(db)
    .where((eb) => eb.or([eb('news.locale', 'is', null), eb('news.locale', '=', locale)]))
    .orderBy('news.created_at', 'desc')
    .orderBy('news.id', 'desc')
    .limit(limit)
    .offset(offset)
    .execute();
}

export async function countNews(db: Kysely<Database>, locale: Locale | null): Promise<number> {
  let q = db.selectFrom('news').select((eb) => eb.fn.countAll<number>().as('n'));
  if (locale) q = q.where((eb) => eb.or([eb('locale', 'is', null), eb('locale', '=', locale)]));
  return num((await q.executeTakeFirstOrThrow()).n);
}

/** Every post, newest first (the staff list). */
export async function listAllNews(db: Kysely<Database>, page: number, perPage = NEWS_PER_PAGE): Promise<NewsRow[]> {
  return newsQuery(db).orderBy('news.created_at', 'desc').orderBy('news.id', 'desc').limit(perPage).offset((Math.max(1, page) - 1) * perPage).execute();
}

export async function getNews(db: Kysely<Database>, id: number): Promise<NewsRow | undefined> {
  return newsQuery(db).where('news.id', '=', id).executeTakeFirst();
}

export type NewsField = 'title' | 'body';
export type NewsError = 'title_empty' | 'title_too_long' | 'body_empty' | 'body_too_long';

export interface NewsDraft {
  title: string;
  body: string;
  locale: Locale | null;
}

export function validateNews(i: { title: unknown; body: unknown; locale: Locale | null }): { draft: NewsDraft; errors: Partial<Record<NewsField, NewsError>> } {
  const draft: NewsDraft = { title: cleanLine(i.title), body: cleanText(i.body), locale: i.locale };
  const errors: Partial<Record<NewsField, NewsError>> = {};
  const t = checkLength(draft.title, NEWS_TITLE_MAX);
  if (t) errors.title = t === 'empty' ? 'title_empty' : 'title_too_long';
  const b = checkLength(draft.body, NEWS_BODY_MAX);
  if (b) errors.body = b === 'empty' ? 'body_empty' : 'body_too_long';
  return { draft, errors };
}

type Saved = { ok: true; id: number } | { ok: false; draft: NewsDraft; errors: Partial<Record<NewsField, NewsError>> };

export async function createNews(db: Kysely<Database>, o: { actor: Actor; title: unknown; body: unknown; locale: Locale | null; now: number }): Promise<Saved> {
  const v = validateNews(o);
  if (Object.keys(v.errors).length > 0) return { ok: false, ...v };
  return inTransaction(db, async (trx) => {
    const r = await trx
      .insertInto('news')
      .values({ author_id: o.actor.id, title: v.draft.title, body: v.draft.body, locale: v.draft.locale, created_at: o.now, updated_at: null })
      .returning('id')
      .executeTakeFirstOrThrow();
    await audit(trx, { actorId: o.actor.id, actorName: o.actor.username, action: 'news.create', targetType: 'news', targetId: r.id, after: v.draft, now: o.now });
    return { ok: true as const, id: r.id };
  });
}

/** Edits a post; `ok: false` with no errors means it no longer exists. */
export async function updateNews(
  db: Kysely<Database>,
  o: { id: number; actor: Actor; title: unknown; body: unknown; locale: Locale | null; now: number },
): Promise<Saved | { ok: false; gone: true }> {
  const v = validateNews(o);
  if (Object.keys(v.errors).length > 0) return { ok: false, ...v };
  return inTransaction(db, async (trx) => {
    const before = await trx.selectFrom('news').select(['title', 'body', 'locale']).where('id', '=', o.id).executeTakeFirst();
    if (!before) return { ok: false as const, gone: true as const };
    await trx.updateTable('news').set({ title: v.draft.title, body: v.draft.body, locale: v.draft.locale, updated_at: o.now }).where('id', '=', o.id).execute();
    await audit(trx, { actorId: o.actor.id, actorName: o.actor.username, action: 'news.edit', targetType: 'news', targetId: o.id, before, after: v.draft, now: o.now });
    return { ok: true as const, id: o.id };
  });
}

export async function deleteNews(db: Kysely<Database>, o: { id: number; actor: Actor; now: number }): Promise<boolean> {
  return inTransaction(db, async (trx) => {
    const before = await trx.selectFrom('news').select(['title', 'body', 'locale']).where('id', '=', o.id).executeTakeFirst();
    if (!before) return false;
    const r = await trx.deleteFrom('news').where('id', '=', o.id).executeTakeFirst();
    if (touched(r) !== 1) return false;
    await audit(trx, { actorId: o.actor.id, actorName: o.actor.username, action: 'news.delete', targetType: 'news', targetId: o.id, before, now: o.now });
    return true;
  });
}

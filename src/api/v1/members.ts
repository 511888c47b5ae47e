/**
 * The member behind the token over /api/v1: their statistics and sharing-rules state (never a
 * secret: the answer is built field by field and serialised through the Member schema), and their
 * bookmarks.
 */
import type { User } from '../../db/schema.js';
import { removeBookmark } from '../../site/members/bookmarks.js';
import type { Site } from '../../site/site.js';
import { listBookmarkedTorrents } from '../../site/torrents/read.js';
import { ApiError } from '../http.js';
import { visibleTorrentFor } from '../service.js';
import { answerLocale, isoTime, listedTorrents } from './torrents.js';

/** GET /api/v1/me */
export async function me(site: Site, user: User, lang: unknown) {
  const locale = answerLocale(site, user, lang);
  const now = site.now();
  const [cls, warnings] = await Promise.all([
    site.db.selectFrom('member_class').select(['id', 'name_en', 'name_fr']).where('id', '=', user.class).executeTakeFirst(),
    site.db
      .selectFrom('user_warning')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('user_id', '=', user.id)
      .where('kind', '=', 'hnr')
      .where('revoked_at', 'is', null)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
      .executeTakeFirstOrThrow(),
  ]);
  const uploaded = Number(user.uploaded);
  const downloaded = Number(user.downloaded);
  const rules = site.config.rules;
  return {
    id: user.id,
    username: user.username,
    role: user.role,
    class: { id: user.class, name: cls ? (locale === 'fr' ? cls.name_fr : cls.name_en) : user.class },
    uploaded,
    downloaded,
    ratio: downloaded > 0 ? Math.round((uploaded / downloaded) * 1000) / 1000 : null,
    seed_time: Number(user.seed_time),
    leech_time: Number(user.leech_time),
    created_at: isoTime(Number(user.created_at)),
    freeleech_tokens: user.freeleech_tokens,
    invites_left: user.invites_left,
    min_ratio: rules.min_ratio,
    ratio_watch:
      user.ratio_watch_since === null
        ? null
        : { since: isoTime(Number(user.ratio_watch_since)), deadline: isoTime(Number(user.ratio_watch_since) + rules.ratio_watch) },
    hnr_warnings: Number(warnings.n),
    download_refused: user.download_refused === 1,
    download_refused_reason: user.download_refused === 1 ? user.download_refused_reason : null,
    email_verified: user.email_verified === 1,
  };
}

/** GET /api/v1/bookmarks */
export async function listBookmarks(site: Site, user: User, q: { offset?: number; limit?: number; lang?: unknown }) {
  const locale = answerLocale(site, user, q.lang);
  const offset = q.offset ?? 0;
  const limit = q.limit ?? 50;
  // One more than the page tells whether there is a next one.
  const rows = await listBookmarkedTorrents(site.db, user.id, { viewer: user, limit: limit + 1, offset });
  const page = rows.slice(0, limit);
  const torrents = await listedTorrents(
    site,
    page.map((r) => r.id),
    locale,
  );
  return {
    offset,
    limit,
    next_offset: rows.length > limit ? offset + limit : null,
    bookmarks: page.flatMap((r) => {
      const torrent = torrents.get(r.id);
      return torrent ? [{ bookmarked_at: isoTime(Number(r.bookmarked_at)), torrent }] : [];
    }),
  };
}

/** PUT /api/v1/bookmarks/{id}: `created` false when it was already there. */
export async function addBookmark(site: Site, user: User, id: number): Promise<{ created: boolean; body: { torrent_id: number; bookmarked_at: string } }> {
  const details = await visibleTorrentFor(site, user, id);
  const torrentId = details.torrent.id;
  const r = await site.db
    .insertInto('bookmark')
    .values({ user_id: user.id, torrent_id: torrentId, created_at: site.now() })
    .onConflict((oc) => oc.columns(['user_id', 'torrent_id']).doNothing())
    .executeTakeFirst();
  const row = await site.db.selectFrom('bookmark').select('created_at').where('user_id', '=', user.id).where('torrent_id', '=', torrentId).executeTakeFirstOrThrow();
  return { created: Number(r.numInsertedOrUpdatedRows ?? 0) > 0, body: { torrent_id: torrentId, bookmarked_at: isoTime(Number(row.created_at)) } };
}

/** DELETE /api/v1/bookmarks/{id} (works for a torrent deleted since). */
export async function deleteBookmark(site: Site, user: User, id: number): Promise<void> {
  if (!(await removeBookmark(site.db, user.id, id))) throw new ApiError(404, 'not_found', 'This torrent is not bookmarked.');
}

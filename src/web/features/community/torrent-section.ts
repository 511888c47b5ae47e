/**
 * What the community adds to the torrent page: the rating (average out of 10 and vote count,
 * with the member's own vote form), the thank-you button and count, and the comments (a page at
 * a time, each with its author's ratio, edit and delete links for those allowed).
 */
import type { User } from '../../../db/schema.js';
import { COMMENT_MAX_LENGTH, COMMENTS_PER_PAGE, countComments, listComments, type CommentView } from '../../../site/community/comments.js';
import { averageRating, hasThanked, latestThanks, myRating, RATING_MAX, RATING_MIN } from '../../../site/community/reactions.js';
import type { Site } from '../../../site/site.js';
import { permissionsOf, ROLE_RANK } from '../../../site/staff/policy.js';
import type { RequestContext } from '../../context.js';
import { formatNumber } from '../../format.js';
import { attr, html, type Html } from '../../html.js';
import { csrfField } from '../../layout.js';
import { markup, markupHint, memberLink, pageCount, pagination, postButton, textArea, timeEl, visibleRatio } from './ui.js';

export interface TorrentCommunityData {
  torrent: { id: number; uploader_id: number | null; thanks_count: number; rating_sum: number; rating_count: number };
  /** The page of the torrent (for links back to it). */
  path: string;
  comments: CommentView[];
  /** What the viewer may do to each listed comment. */
  access: Map<number, 'own' | 'staff' | null>;
  total: number;
  page: number;
  thanked: boolean;
  myScore: number | null;
  thankers: Array<{ id: number; username: string }>;
}

/** `?comments=N` of the torrent page. */
export function commentsPageParam(v: unknown, total: number): number {
  const pages = pageCount(total, COMMENTS_PER_PAGE);
  if (typeof v === 'string' && /^[1-9][0-9]{0,5}$/.test(v)) return Math.min(pages, Number(v));
  return 1;
}

export async function loadTorrentCommunity(
  site: Site,
  viewer: User | null,
  torrent: TorrentCommunityData['torrent'],
  path: string,
  pageParam: unknown,
): Promise<TorrentCommunityData> {
  const db = site.db;
  const total = await countComments(db, torrent.id);
  const page = commentsPageParam(pageParam, total);
  const [comments, thanked, myScore, thankers] = await Promise.all([
    listComments(db, torrent.id, page),
    viewer ? hasThanked(db, torrent.id, viewer.id) : Promise.resolve(false),
    viewer ? myRating(db, torrent.id, viewer.id) : Promise.resolve(null),
    latestThanks(db, torrent.id),
  ]);
  // Which links to show (the routes ask the policy again): one permission lookup, then the rank
  // rule against each author's role.
  const moderator = viewer ? (await permissionsOf(db, viewer)).has('comment.moderate') : false;
  const access = new Map<number, 'own' | 'staff' | null>();
  for (const c of comments) {
    let a: 'own' | 'staff' | null = null;
    if (viewer && c.author?.id === viewer.id) a = 'own';
    else if (viewer && moderator && (!c.author || ROLE_RANK[viewer.role] > ROLE_RANK[c.author.role])) a = 'staff';
    access.set(c.id, a);
  }
  return { torrent, path, comments, access, total, page, thanked, myScore, thankers };
}

/** Rating and thanks, shown below the torrent's facts. */
export function reactionsSection(ctx: RequestContext, d: TorrentCommunityData): Html {
  const { t, user, locale } = ctx;
  const tor = d.torrent;
  const avg = averageRating(tor.rating_sum, tor.rating_count);
  const own = user !== null && tor.uploader_id === user.id;
  const scores: number[] = [];
  for (let s = RATING_MAX; s >= RATING_MIN; s--) scores.push(s);
  const rateForm =
    user && !own
      ? html`<form method="post" action="/torrents/${tor.id}/rate" class="rate-form">
${csrfField(ctx)}
<label for="rate-score">${t('community.rating.yours')}</label>
<select id="rate-score" name="score">
${d.myScore === null ? html`<option value="" selected>${t('community.rating.choose')}</option>` : ''}
${scores.map((s) => html`<option value="${s}"${attr('selected', d.myScore === s)}>${t('community.rating.score', { n: s })}</option>`)}
</select>
<button type="submit">${d.myScore === null ? t('community.rating.submit') : t('community.rating.change')}</button>
</form>`
      : '';
  let thanksAction: Html | string = '';
  if (user && !own) {
    thanksAction = d.thanked
      ? html`<p class="thanked">${t('community.thanks.given')}</p>`
      : postButton(ctx, `/torrents/${tor.id}/thanks`, t('community.thanks.button'), { cls: 'thanks-button' });
  }
  return html`<section class="reactions" aria-labelledby="h-reactions">
<h2 id="h-reactions">${t('community.reactions.heading')}</h2>
<div class="rating">
<p><span class="rating-average">${avg === null ? t('community.rating.none') : t('community.rating.average', { avg: avg.toLocaleString(locale, { minimumFractionDigits: 1, maximumFractionDigits: 1 }) })}</span>
${tor.rating_count > 0 ? html` <span class="rating-count">${tor.rating_count === 1 ? t('community.rating.votes_one') : t('community.rating.votes', { n: formatNumber(locale, tor.rating_count) })}</span>` : ''}</p>
${rateForm}
</div>
<div class="thanks">
<p class="thanks-count">${tor.thanks_count === 1 ? t('community.thanks.count_one') : t('community.thanks.count', { n: formatNumber(locale, tor.thanks_count) })}</p>
${thanksAction}
${d.thankers.length > 0 ? html`<p class="thankers">${t('community.thanks.latest')} ${d.thankers.map((m, i) => html`${i > 0 ? ', ' : ''}<a href="/u/${m.id}">${m.username}</a>`)}</p>` : ''}
</div>
</section>`;
}

function commentItem(ctx: RequestContext, d: TorrentCommunityData, c: CommentView): Html {
  const { t } = ctx;
  const access = d.access.get(c.id) ?? null;
  const author = c.author;
  return html`<li id="c${c.id}" class="comment">
<article aria-labelledby="c${c.id}-by">
<header class="comment-head">
<span id="c${c.id}-by" class="comment-author">${memberLink(ctx, author?.id ?? null, author?.username ?? null)}</span>
${author ? html`<span class="comment-ratio">${t('common.ratio')} <span class="ratio-value">${visibleRatio(ctx, author, ctx.user)}</span></span>` : ''}
${timeEl(ctx, c.created_at)}
${c.edited_at !== null ? html`<span class="comment-edited">${t('community.comment.edited')} ${timeEl(ctx, c.edited_at)}</span>` : ''}
<a href="#c${c.id}" class="permalink">#</a>
</header>
${markup(ctx, c.body)}
${access
  ? html`<p class="comment-actions"><a href="/comments/${c.id}/edit">${t('common.edit')}<span class="visually-hidden"> ${t('community.comment.of', { name: author?.username ?? t('community.former_member') })}</span></a>
${postButton(ctx, `/comments/${c.id}/delete`, html`${t('common.delete')}<span class="visually-hidden"> ${t('community.comment.of', { name: author?.username ?? t('community.former_member') })}</span>`, { cls: 'link' })}</p>`
  : ''}
${ctx.user && author?.id !== ctx.user.id
  ? html`<p class="comment-report"><a href="/report/comment/${c.id}" rel="nofollow">${t('community.comment.report')}<span class="visually-hidden"> ${t('community.comment.of', { name: author?.username ?? t('community.former_member') })}</span></a></p>`
  : ''}
</article>
</li>`;
}

/** The comments with their pages and the form to add one. */
export function commentsSection(ctx: RequestContext, d: TorrentCommunityData): Html {
  const { t, user } = ctx;
  const pages = pageCount(d.total, COMMENTS_PER_PAGE);
  const form = user
    ? html`<form method="post" action="/torrents/${d.torrent.id}/comments" class="form comment-form">
${csrfField(ctx)}
${textArea(ctx, { id: 'comment-body', name: 'body', label: t('community.comment.new'), value: '', maxlength: COMMENT_MAX_LENGTH, rows: 5, required: true, hint: markupHint(ctx) })}
<p><button type="submit">${t('community.comment.post')}</button></p>
</form>`
    : html`<p><a href="/login?next=${encodeURIComponent(d.path)}">${t('community.comment.login')}</a></p>`;
  return html`<section id="comments" class="comments" aria-labelledby="h-comments">
<h2 id="h-comments">${t('community.comments.heading', { n: d.total })}</h2>
${d.comments.length > 0 ? html`<ol class="comment-list">${d.comments.map((c) => commentItem(ctx, d, c))}</ol>` : html`<p class="empty">${t('community.comments.empty')}</p>`}
${pagination(ctx, (p) => `${d.path}?comments=${p}#comments`, d.page, pages)}
${form}
</section>`;
}

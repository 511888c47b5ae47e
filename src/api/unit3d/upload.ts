/**
 * UNIT3D's upload (`POST /api/torrents/upload`, multipart) mapped onto the site's own upload
 * service, uploadTorrent (src/site/torrents/upload.ts), exactly as the website's upload form
 * uses it: same checks, same moderation queue, same preparation of the .torrent.
 *
 * Fields (UNIT3D's names):
 *   torrent (file), nfo (file), name (the title; default: the torrent's name), description,
 *   category_id (a subcategory), type_id and resolution_id (term ids, e.g. a Video - Quality
 *   term), season_number / episode_number (the subcategory's season and episode terms, when it
 *   has them: 0 is "Specials" / "Complete season"), anonymous, and Essaim's own `terms[]` (more
 *   term ids) and `format` (bbcode, the default, or markdown).
 *   mediainfo and bdinfo are appended to the description, in spoilers; tmdb, imdb, tvdb and mal
 *   ids as links to those sites (unless the description already has them), so that the filter
 *   and the resource find them again.
 *   Ignored (no such notion on Essaim, or staff-only and set on the site): igdb, keywords,
 *   region_id, distributor_id, stream, sd, personal_release, internal, refundable, featured,
 *   free, fl_until, doubleup, du_until, sticky, mod_queue_opt_in.
 *
 * Answers: 200 `{ success: true, data: <download link>, message: "Torrent uploaded
 * successfully." }`; 422 `{ success: false, message: "Validation Error.", data: { <field>:
 * [messages] } }` naming every problem (UNIT3D answers the same body with 404).
 */
import type { FastifyRequest } from 'fastify';
import type { User } from '../../db/schema.js';
import { formatTorrentError } from '../../metainfo/messages.js';
import { loadCatalogue, type Catalogue, type CatalogueCategory } from '../../site/catalogue/catalogue.js';
import type { Site } from '../../site/site.js';
import { uploadTorrent, type UploadProblem } from '../../site/torrents/upload.js';
import { translator } from '../../web/context.js';
import { formatSize } from '../../web/format.js';
import { readMultipart, type MultipartForm } from '../../web/multipart.js';
import { downloadLink, externalIds, imdbTag } from './resource.js';

export type { MultipartForm };

/** Thrown when the multipart body cannot be read (limits): a 422 naming the field. */
export class FormUnreadable extends Error {}

/** Reads the whole multipart body (the site's reader: fields, and the `torrent` and `nfo` files). */
export async function readUploadForm(req: FastifyRequest, site: Site): Promise<MultipartForm> {
  try {
    return await readMultipart(req, site, ['torrent', 'nfo']);
  } catch (err) {
    throw new FormUnreadable(`The upload could not be read: ${(err as Error).message}`);
  }
}

export type UploadAnswer =
  | { ok: true; torrentId: number; downloadLink: string }
  | { ok: false; errors: Record<string, string[]> };

const POSITIVE = /^\d{1,15}$/;
const TRUE = /^(?:1|true|on|yes)$/i;

/** The season / episode term of a subcategory for a number, if it has one. */
function numberedTerm(category: CatalogueCategory, kind: 'season' | 'episode', n: number): number | null {
  const type = category.termTypes.find((tt) => new RegExp(`${kind}$`, 'i').test(tt.nameEn.trim()) && !tt.deprecated);
  if (!type) return null;
  const names =
    n === 0 ? (kind === 'season' ? /^specials$/i : /^complete season$/i) : new RegExp(`^${kind} 0*${n}$`, 'i');
  return type.terms.find((t) => !t.deprecated && names.test(t.nameEn.trim()))?.id ?? null;
}

/** Text appended to the description: the links of the given ids and the MediaInfo / BDInfo. */
function appendix(o: {
  description: string;
  markdown: boolean;
  tv: boolean;
  tmdb: number;
  imdb: number;
  tvdb: number;
  mal: number;
  mediainfo: string;
  bdinfo: string;
}): string {
  const known = externalIds(o.description);
  const links: string[] = [];
  if (o.imdb > 0 && known.imdb !== o.imdb) links.push(`https://www.imdb.com/title/${imdbTag(o.imdb)}/`);
  if (o.tmdb > 0 && known.tmdb !== o.tmdb) links.push(`https://www.themoviedb.org/${o.tv ? 'tv' : 'movie'}/${o.tmdb}`);
  if (o.tvdb > 0 && known.tvdb !== o.tvdb) links.push(`https://thetvdb.com/dereferrer/series/${o.tvdb}`);
  if (o.mal > 0 && known.mal !== o.mal) links.push(`https://myanimelist.net/anime/${o.mal}`);
  const parts: string[] = [];
  if (links.length > 0) parts.push(links.map((l) => (o.markdown ? `<${l}>` : `[url]${l}[/url]`)).join('\n'));
  const block = (title: string, text: string) => {
    const body = text.replace(/\r\n?/g, '\n').trim();
    if (body === '') return;
    // The text is shown verbatim: a closing tag inside it would end the block early.
    if (o.markdown) parts.push(`**${title}**\n\n\`\`\`\n${body.replace(/```/g, "'''")}\n\`\`\``);
    else parts.push(`[spoiler=${title}][code]${body.replace(/\[\/code\]/gi, '[/ code]')}[/code][/spoiler]`);
  };
  block('MediaInfo', o.mediainfo);
  block('BDInfo', o.bdinfo);
  return parts.join('\n\n');
}

/** Runs an upload from the form's fields for `user` (whose token has the upload scope). */
export async function uploadFromForm(site: Site, user: User, form: MultipartForm): Promise<UploadAnswer> {
  const errors: Record<string, string[]> = {};
  const fail = (field: string, message: string) => (errors[field] ??= []).push(message);
  const field = (name: string) => (form.fields.get(name)?.[0] ?? '').trim();
  const rawField = (name: string) => form.fields.get(name)?.[0] ?? '';
  const optionalInt = (name: string, label: string): number | null => {
    const v = field(name);
    if (v === '') return null;
    if (!POSITIVE.test(v)) {
      fail(name, `The ${label} must be an integer.`);
      return null;
    }
    return Number(v);
  };

  const catalogue = await loadCatalogue(site.db);
  const categoryRaw = field('category_id');
  let categoryId: number | null = null;
  if (categoryRaw !== '') {
    if (POSITIVE.test(categoryRaw)) categoryId = Number(categoryRaw);
    else fail('category_id', 'The category id must be an integer.');
  }
  const category = categoryId === null ? undefined : catalogue.category(categoryId);

  // Terms, remembering which field named each (to put the problems where they belong).
  const termSource = new Map<number, string>();
  const addTerm = (id: number | null, source: string) => {
    if (id !== null && id > 0 && !termSource.has(id)) termSource.set(id, source);
  };
  addTerm(optionalInt('type_id', 'type id'), 'type_id');
  addTerm(optionalInt('resolution_id', 'resolution id'), 'resolution_id');
  for (const name of ['terms', 'terms[]', 'term', 'term[]']) {
    for (const v of form.fields.get(name) ?? []) {
      const s = v.trim();
      if (s === '') continue;
      if (POSITIVE.test(s)) addTerm(Number(s), 'terms');
      else fail('terms', 'The terms must be integers.');
    }
  }
  const season = optionalInt('season_number', 'season number');
  const episode = optionalInt('episode_number', 'episode number');
  if (category && !category.isParent) {
    if (season !== null) addTerm(numberedTerm(category, 'season', season), 'season_number');
    if (episode !== null) addTerm(numberedTerm(category, 'episode', episode), 'episode_number');
  }
  const ids = {
    tmdb: optionalInt('tmdb', 'tmdb id') ?? 0,
    imdb: (() => {
      const v = field('imdb').replace(/^tt/i, '');
      if (v === '') return 0;
      if (!POSITIVE.test(v)) {
        fail('imdb', 'The imdb id must be an integer.');
        return 0;
      }
      return Number(v);
    })(),
    tvdb: optionalInt('tvdb', 'tvdb id') ?? 0,
    mal: optionalInt('mal', 'mal id') ?? 0,
  };
  if (Object.keys(errors).length > 0) return { ok: false, errors };

  const format = field('format') || 'bbcode';
  const description = rawField('description').replace(/\r\n?/g, '\n').trimEnd();
  const tv = season !== null || episode !== null || /\b(?:tv|series|shows?)\b/i.test(category?.nameEn ?? '');
  const extra = appendix({ description, markdown: format === 'markdown', tv, ...ids, mediainfo: rawField('mediainfo'), bdinfo: rawField('bdinfo') });
  const torrent = form.files.get('torrent');
  const nfo = form.files.get('nfo');
  const result = await uploadTorrent(site, {
    uploader: user,
    categoryId,
    termIds: [...termSource.keys()],
    title: rawField('name'),
    description: extra === '' ? description : description === '' ? extra : `${description}\n\n${extra}`,
    descriptionFormat: format,
    torrent: torrent?.data ?? null,
    torrentTruncated: torrent?.truncated ?? false,
    nfo: nfo?.data ?? null,
    nfoTruncated: nfo?.truncated ?? false,
    anonymous: TRUE.test(field('anonymous')),
  });
  if (result.ok) return { ok: true, torrentId: result.torrentId, downloadLink: downloadLink(site, result.torrentId, user.rss_key) };
  for (const p of result.problems) fail(problemField(p, termSource, catalogue), problemMessage(p, catalogue));
  return { ok: false, errors };
}

/** The request field a problem is about, in UNIT3D's names. */
function problemField(p: UploadProblem, termSource: ReadonlyMap<number, string>, catalogue: Catalogue): string {
  switch (p.field) {
    case 'torrent':
      return 'torrent';
    case 'category':
      return 'category_id';
    case 'title':
      return 'name';
    case 'terms': {
      if (p.params?.termId !== undefined) return termSource.get(p.params.termId) ?? 'terms';
      const typeId = p.params?.typeId;
      for (const [termId, source] of termSource) if (catalogue.term(termId)?.typeId === typeId) return source;
      return 'terms';
    }
    default:
      return p.field;
  }
}

const t = translator('en');

/** A problem in plain English (the site's own messages). */
export function problemMessage(p: UploadProblem, catalogue: Catalogue): string {
  const termName = (id: number | undefined) => (id === undefined ? '' : (catalogue.term(id)?.nameEn ?? `#${id}`));
  switch (p.code) {
    case 'torrent_invalid':
      return t('upload.error.torrent_invalid', { detail: p.torrentError ? formatTorrentError(p.torrentError, 'en') : 'it could not be read' });
    case 'duplicate':
      return `${t('upload.error.duplicate')} (torrent ${p.torrentId ?? 0})`;
    case 'blocked':
      return t('lawful.upload.blocked', { hash: p.block?.infoHash ?? '', reason: p.block?.reason ?? '' });
    case 'torrent_too_large':
    case 'nfo_too_large':
      return t(`upload.error.${p.code}`, { max: formatSize(t, 'en', p.params?.max ?? 0) });
    case 'term_unknown':
      return t('upload.error.term_unknown', { id: p.params?.termId ?? 0 });
    case 'term_not_allowed':
    case 'term_deprecated':
      return t(`upload.error.${p.code}`, { term: termName(p.params?.termId) });
    case 'term_several':
      return t('upload.error.term_several', { type: catalogue.termType(p.params?.typeId ?? 0)?.nameEn ?? '' });
    case 'title_too_long':
    case 'description_too_long':
      return t(`upload.error.${p.code}`, { max: p.params?.max ?? 0 });
    default:
      return t(`upload.error.${p.code}`);
  }
}

/**
 * The JSON Schemas of /api/v1: Fastify validates requests and serialises answers through them
 * (an answer never carries a field its schema does not list), and src/api/openapi.ts publishes
 * them. Objects of answers are closed (`additionalProperties: false`) and list every field as
 * required: clients can rely on each field being present (null when it has no value).
 */
import { named, type JsonSchema } from '../openapi.js';
import { MAX_LIMIT, SORT_KEYS } from '../../site/search/search.js';
import { MAX_QUERY_LENGTH } from '../../site/search/query.js';
import { USER_ROLES, TORRENT_STATUSES } from '../../db/schema.js';

const int = (description: string, extra: JsonSchema = {}): JsonSchema => ({ type: 'integer', description, ...extra });
const str = (description: string, extra: JsonSchema = {}): JsonSchema => ({ type: 'string', description, ...extra });
const bool = (description: string): JsonSchema => ({ type: 'boolean', description });
const nullable = (type: string, description: string, extra: JsonSchema = {}): JsonSchema => ({ type: [type, 'null'], description, ...extra });
const dateTime = (description: string): JsonSchema => ({ type: 'string', format: 'date-time', description });
const nullableDateTime = (description: string): JsonSchema => ({ type: ['string', 'null'], format: 'date-time', description });

/** A closed object whose properties are all required. */
function object(description: string, properties: Record<string, JsonSchema>, optional: readonly string[] = []): JsonSchema {
  return {
    type: 'object',
    description,
    additionalProperties: false,
    required: Object.keys(properties).filter((k) => !optional.includes(k)),
    properties,
  };
}

export const API_ERROR_CODES = [
  'unauthorized',
  'token_expired',
  'account_disabled',
  'forbidden',
  'insufficient_scope',
  'not_found',
  'bad_request',
  'validation_failed',
  'rate_limited',
  'email_unverified',
  'conflict',
  'payload_too_large',
  'internal',
] as const;

export const Problem = named(
  'Problem',
  object(
    'One problem of a request, naming the field it concerns.',
    {
      field: str('The request field (multipart field or parameter) the problem concerns.'),
      code: str('Machine-readable problem code (e.g. `torrent_invalid`, `term_not_allowed`, `invalid`).'),
      message: str('What is wrong, in English.'),
      torrent_id: int('For `duplicate`: the torrent that already has this info hash.'),
    },
    ['torrent_id'],
  ),
);

export const ErrorBody = named(
  'Error',
  object('Every error answer.', {
    error: object(
      'The error.',
      {
        code: { type: 'string', enum: [...API_ERROR_CODES], description: 'Machine-readable error code.' },
        message: str('What went wrong, in English.'),
        details: { type: 'array', items: Problem, description: 'The problems, field by field (validation errors).' },
      },
      ['details'],
    ),
  }),
);

const categoryRef = (description: string, withParent: boolean): JsonSchema => {
  const props: Record<string, JsonSchema> = { id: int('Category id.'), name: str('Name in the answer\'s language.') };
  if (withParent) props.parent = { ...categoryRef('The parent category (null for a top-level category).', false), type: ['object', 'null'] };
  return { ...object(description, props), type: ['object', 'null'] };
};

const torrentProperties: Record<string, JsonSchema> = {
  id: int('Torrent id.'),
  name: str('Title.'),
  url: str('The torrent\'s page on the site.', { format: 'uri' }),
  download_url: str('Where the API serves the personalised .torrent (needs the `read` scope).', { format: 'uri' }),
  category: categoryRef('Its subcategory (null when it has none).', true),
  size: int('Total size in bytes.'),
  file_count: int('Number of files.'),
  seeders: int('Seeders now (live from the tracker when it runs in the same process).'),
  leechers: int('Leechers now.'),
  completed: int('Completed downloads.'),
  comments: int('Number of comments.'),
  created_at: dateTime('Upload time (UTC).'),
  verified: bool('Approved by the staff.'),
  status: { type: 'string', enum: [...TORRENT_STATUSES].filter((s) => s !== 'deleted'), description: '`active`, or `pending` (awaiting moderation: seen only by its uploader and the staff).' },
  uploader: {
    ...object('The uploader; null when the upload is anonymous (except to the uploader and the staff) or the account is gone.', {
      id: int('Member id.'),
      username: str('Member name.'),
    }),
    type: ['object', 'null'],
  },
  info_hash_v1: nullable('string', 'SHA-1 info hash, 40 lowercase hex (null for a v2-only torrent).', { pattern: '^[0-9a-f]{40}$' }),
  info_hash_v2: nullable('string', 'SHA-256 info hash, 64 lowercase hex (null for a v1-only torrent).', { pattern: '^[0-9a-f]{64}$' }),
  upload_factor: { type: 'number', description: 'The torrent\'s own upload factor (2: double upload); site-wide windows and tokens are not included.' },
  download_factor: { type: 'number', description: 'The torrent\'s own download factor (0: freeleech).' },
  factors_until: nullableDateTime('When the torrent\'s own factors end (null: no end, or plain factors 1/1).'),
};

export const Torrent = named('Torrent', object('A torrent as listed.', torrentProperties));

export const TorrentDetails = named(
  'TorrentDetails',
  object('A torrent with its files, terms, description and NFO.', {
    ...torrentProperties,
    files: {
      type: 'array',
      description: 'The files in their .torrent order.',
      items: object('A file.', { path: str('Path inside the torrent, components joined with `/`.'), size: int('Bytes.') }),
    },
    terms: {
      type: 'array',
      description: 'The terms (typed tags) of the torrent, by term type.',
      items: object('A term.', {
        type_id: int('Term type id.'),
        type_name: str('Term type name.'),
        term_id: int('Term id.'),
        term_name: str('Term name.'),
      }),
    },
    description: str('The description as the site shows it: sanitised HTML (empty when there is none).'),
    description_source: str('The description as written by the uploader.'),
    description_format: { type: 'string', enum: ['bbcode', 'markdown'], description: 'The markup of `description_source`.' },
    nfo: nullable('string', 'The NFO as text (decoded from CP437), or null.'),
    bookmarked: bool('Whether the member has bookmarked it.'),
  }),
);

export const TorrentList = named(
  'TorrentList',
  object('A page of torrents.', {
    total: int('Matching torrents (at most 10,000: see `total_capped`).'),
    total_capped: bool('True when more than `total` torrents match.'),
    offset: int('Offset of this page.'),
    limit: int('Page size.'),
    torrents: { type: 'array', items: Torrent },
  }),
);

export const UploadResult = named(
  'UploadResult',
  object('The uploaded torrent.', {
    id: int('The new torrent\'s id.'),
    status: { type: 'string', enum: ['active', 'pending'], description: '`active`, or `pending` when it awaits moderation (members without the right to publish directly).' },
    url: str('Its page.', { format: 'uri' }),
    download_url: str('The personalised .torrent to seed it.', { format: 'uri' }),
  }),
);

const Term = object('A term.', { id: int('Term id.'), name: str('Name.'), deprecated: bool('No longer offered for new uploads.') });
const TermType = object('A term type (tag family), with its terms.', {
  id: int('Term type id.'),
  name: str('Name.'),
  mode: { type: 'string', enum: ['single', 'multi'], description: '`single`: at most one term per torrent; `multi`: several.' },
  deprecated: bool('No longer offered for new uploads.'),
  terms: { type: 'array', items: Term },
});
const Subcategory = object('A subcategory (torrents go there), with the term types bound to it.', {
  id: int('Category id (the `category` of an upload).'),
  name: str('Name.'),
  slug: str('URL slug.'),
  adult: bool('Adult content.'),
  term_types: { type: 'array', items: TermType },
});

export const CategoryTree = named(
  'CategoryTree',
  object('The category tree.', {
    categories: {
      type: 'array',
      items: object('A top-level category.', {
        id: int('Category id.'),
        name: str('Name.'),
        slug: str('URL slug.'),
        adult: bool('Adult content.'),
        subcategories: { type: 'array', items: Subcategory },
      }),
    },
  }),
);

export const Member = named(
  'Member',
  object('The member the token belongs to. Secrets (passkey, RSS key, email, password) are never part of it.', {
    id: int('Member id.'),
    username: str('Member name.'),
    role: { type: 'string', enum: [...USER_ROLES], description: 'Role on the site.' },
    class: object('Member class.', { id: str('Class id.'), name: str('Class name.') }),
    uploaded: int('Credited upload, bytes (after the torrents\' factors).'),
    downloaded: int('Credited download, bytes.'),
    ratio: nullable('number', 'uploaded / downloaded; null when nothing was downloaded.'),
    seed_time: int('Total seeding time, seconds.'),
    leech_time: int('Total leeching time, seconds.'),
    created_at: dateTime('Account creation (UTC).'),
    freeleech_tokens: int('Freeleech tokens left.'),
    invites_left: int('Invitations left.'),
    min_ratio: { type: 'number', description: 'The site\'s minimum ratio (0: no ratio rule).' },
    ratio_watch: {
      ...object('Set while the member is on ratio watch: below the minimum ratio, with a deadline to recover.', {
        since: dateTime('Start of the watch.'),
        deadline: dateTime('When downloads are refused unless the ratio recovered.'),
      }),
      type: ['object', 'null'],
    },
    hnr_warnings: int('Active hit-and-run warnings.'),
    download_refused: bool('The tracker refuses this member\'s downloads (seeding stays allowed).'),
    download_refused_reason: nullable('string', 'Why downloads are refused.'),
    email_verified: bool('The member verified their email address (downloads may need it).'),
  }),
);

export const Bookmark = named(
  'Bookmark',
  object('A bookmark.', { torrent_id: int('The torrent.'), bookmarked_at: dateTime('When it was bookmarked.') }),
);

export const BookmarkList = named(
  'BookmarkList',
  object('A page of bookmarks, most recent first.', {
    offset: int('Offset of this page.'),
    limit: int('Page size.'),
    next_offset: nullable('integer', 'The offset of the next page; null on the last page.'),
    bookmarks: {
      type: 'array',
      items: object('A bookmarked torrent.', { bookmarked_at: dateTime('When it was bookmarked.'), torrent: Torrent }),
    },
  }),
);

// --- requests ------------------------------------------------------------------------------------

export const LANG = { type: 'string', enum: ['en', 'fr'], description: 'Language of category, term and term type names (default: the member\'s language, else the site\'s).' };

export const IdParams = {
  type: 'object',
  required: ['id'],
  properties: { id: int('Torrent id.', { minimum: 1, maximum: Number.MAX_SAFE_INTEGER }) },
};

const TERM_LIST = '^[0-9]{1,10}(,[0-9]{1,10})*$';

export const ListQuery = {
  type: 'object',
  properties: {
    q: str('Search text in the site\'s search language: words (all required), `a | b`, `-word`, `"a phrase"`, `pre*`, parentheses, and field scopes `@name`, `@description`, `@file`, `@user`.', { maxLength: MAX_QUERY_LENGTH }),
    category: int('A category id: a top-level category includes its subcategories.', { minimum: 1, maximum: 2147483647 }),
    terms: {
      type: 'array',
      description: 'Term ids, repeated (`terms=1&terms=2`) or comma-separated (`terms=1,2`): a torrent must carry, for each term type among them, at least one of its terms there.',
      items: { type: 'string', pattern: TERM_LIST },
      maxItems: 64,
    },
    sort: { type: 'string', enum: [...SORT_KEYS], default: 'age', description: 'Sort key.' },
    order: { type: 'string', enum: ['asc', 'desc'], description: 'Order as displayed: `age` `asc` is the newest first (default); other keys default to `desc` (`name` and `category`: `asc`).' },
    offset: int('Rows to skip.', { minimum: 0, maximum: 1_000_000, default: 0 }),
    limit: int('Page size.', { minimum: 1, maximum: MAX_LIMIT, default: 50 }),
    verified: bool('Only torrents approved by the staff (listings may be limited to them site-wide anyway).'),
    freeleech: bool('Only torrents free to download for you now: their own download factor is 0, a site-wide freeleech window is on, or you spent a freeleech token on them.'),
    lang: LANG,
  },
};

export const LangQuery = { type: 'object', properties: { lang: LANG } };

export const PageQuery = {
  type: 'object',
  properties: {
    offset: int('Rows to skip.', { minimum: 0, maximum: 1_000_000, default: 0 }),
    limit: int('Page size.', { minimum: 1, maximum: MAX_LIMIT, default: 50 }),
    lang: LANG,
  },
};

/** The multipart upload, documented (Fastify does not validate multipart bodies). */
export const UploadForm = named('UploadForm', {
  type: 'object',
  description: 'multipart/form-data fields.',
  required: ['torrent', 'category'],
  properties: {
    torrent: { type: 'string', format: 'binary', description: 'The .torrent file (v1, v2 or hybrid). It is stored private, with the site\'s source tag and no announce URL: download the personalised copy to seed.' },
    category: { type: 'integer', description: 'A subcategory id (see GET /api/v1/categories).' },
    terms: { type: 'array', items: { type: 'integer' }, description: 'Term ids allowed in that subcategory: repeated fields, or comma-separated (`term` is accepted too).' },
    title: { type: 'string', maxLength: 255, description: 'Title (default: the torrent\'s name).' },
    description: { type: 'string', description: 'Description (BBCode or Markdown).' },
    format: { type: 'string', enum: ['bbcode', 'markdown'], default: 'bbcode', description: 'Markup of the description.' },
    nfo: { type: 'string', format: 'binary', description: 'An NFO file (CP437 text).' },
    anonymous: { type: 'boolean', default: false, description: 'Hide the uploader from other members (`1`, `true` or `on`).' },
  },
});

// --- responses -----------------------------------------------------------------------------------

/** Error answers by status. */
export function errors(...statuses: number[]): Record<string, JsonSchema> {
  return Object.fromEntries(statuses.map((s) => [String(s), ErrorBody]));
}

/** The errors of every authenticated route: bad input, no or bad token, wrong scope, limits, bugs. */
export const AUTH_ERRORS = [400, 401, 403, 429, 500];

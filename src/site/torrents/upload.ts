/**
 * Uploading a torrent: the service behind the upload form (and later the JSON API).
 *
 * `uploadTorrent(site, input)` validates everything it is given and reports every defect at once
 * (field by field, with codes the pages translate): the subcategory (a subcategory, not a
 * parent), the terms (each belonging to a type bound to that subcategory, neither deprecated, at
 * most one per single-mode type), the title (default: the torrent's name), the description and
 * its format, the NFO, and the .torrent itself (parseTorrentFile with the site's size limit; its
 * error names the defect). Then it prepares the torrent for the site (private=1, the site's
 * `source` tag, no announce URL, info hashes recomputed) and, in one transaction, registers it
 * with its metadata, file list, terms and stored metainfo. A duplicate info hash is reported with
 * the id of the torrent that has it. After the commit the torrent is indexed for search and the
 * tracker is told, so that it accepts announces for the new info hashes at once.
 */
import type { Kysely } from 'kysely';
import { DuplicateInfoHashError } from '../../db/errors.js';
import type { Database, DescriptionFormat, TorrentStatus, User } from '../../db/schema.js';
import { findTorrentByInfoHash, registerTorrent, swarmHashes } from '../../db/torrent.repository.js';
import { chunksFor, inTransaction } from '../../db/util.js';
import { DEFAULT_MAX_LENGTH as DESCRIPTION_MAX } from '../../markup/render.js';
import { decodeNfo } from '../../markup/nfo.js';
import { parseTorrentFile, prepareForSite, type ParsedTorrent, type TorrentError } from '../../metainfo/torrent-file.js';
import { slugify } from '../../web/format.js';
import { loadCatalogue } from '../catalogue/catalogue.js';
import { indexTorrent } from '../search/indexer.js';
import { findBlock } from '../lawful/blocklist.js';
import { can } from '../staff/policy.js';
import type { Site } from '../site.js';

export const TITLE_MAX = 255;
export { DESCRIPTION_MAX };

export type UploadField = 'torrent' | 'category' | 'terms' | 'title' | 'description' | 'format' | 'nfo';

export type UploadErrorCode =
  /** No .torrent file was given. */
  | 'torrent_required'
  /** The .torrent was refused by the parser: see `torrentError`. */
  | 'torrent_invalid'
  /** The .torrent is larger than site.max_torrent_bytes (params.max). */
  | 'torrent_too_large'
  /** Its info hash is already registered: see `torrentId`. */
  | 'duplicate'
  /** Its info hash is on the blocklist (src/site/lawful/blocklist.ts): see `block`. */
  | 'blocked'
  | 'category_required'
  | 'category_unknown'
  /** A parent was chosen: torrents go into subcategories. */
  | 'category_not_sub'
  /** params.termId does not exist. */
  | 'term_unknown'
  /** params.termId's type is not bound to the subcategory. */
  | 'term_not_allowed'
  /** params.termId, or its type, is deprecated. */
  | 'term_deprecated'
  /** Several terms for the single-mode type params.typeId. */
  | 'term_several'
  | 'title_too_long'
  | 'description_too_long'
  | 'format_invalid'
  /** The NFO is larger than site.max_nfo_bytes (params.max). */
  | 'nfo_too_large';

export interface UploadProblem {
  field: UploadField;
  code: UploadErrorCode;
  params?: Record<string, number>;
  /** For torrent_invalid: the parser's error (formatTorrentError gives its message). */
  torrentError?: TorrentError;
  /** For duplicate: the torrent that already has the info hash. */
  torrentId?: number;
  /** For blocked: the blocked hash and the reason it was blocked. */
  block?: { infoHash: string; reason: string };
}

export interface UploadInput {
  uploader: Pick<User, 'id' | 'role'> & Partial<Pick<User, 'enabled'>>;
  categoryId: number | null;
  termIds: readonly number[];
  /** Empty or undefined: the torrent's name. */
  title?: string;
  description?: string;
  /** Default 'bbcode', as T411. */
  descriptionFormat?: string;
  /** The .torrent bytes; null when no file was sent. */
  torrent: Uint8Array | null;
  /** The transport cut the .torrent at its size limit (so `torrent` is incomplete). */
  torrentTruncated?: boolean;
  nfo?: Uint8Array | null;
  nfoTruncated?: boolean;
  anonymous?: boolean;
}

export type UploadResult =
  | { ok: true; torrentId: number; slug: string; title: string; infoHashV1: string | null; infoHashV2: string | null }
  | { ok: false; problems: UploadProblem[] };

/**
 * The status a new upload gets: 'pending' (the moderation queue; the tracker refuses it until the
 * staff approves) unless the uploader holds 'torrent.upload_unmoderated' (the uploader role and
 * the staff, or a per-member grant); then 'active', and verified.
 */
export async function initialStatus(db: Kysely<Database>, user: Pick<User, 'id' | 'role'> & Partial<Pick<User, 'enabled'>>): Promise<TorrentStatus> {
  return (await can(db, { id: user.id, role: user.role, enabled: user.enabled ?? 1 }, 'torrent.upload_unmoderated')) ? 'active' : 'pending';
}

/** The `source` written into uploaded torrents: the configured tag, else the public URL's host name. */
export function torrentSource(site: Pick<Site, 'config' | 'publicUrl'>): string {
  const tag = site.config.site.source_tag.trim();
  if (tag !== '') return tag;
  try {
    return new URL(site.publicUrl).hostname;
  } catch {
    return site.config.site.name;
  }
}

/** A title as stored: control characters removed, whitespace collapsed, trimmed. */
export function normaliseTitle(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ').replace(/\s+/g, ' ').trim();
}

export function isDescriptionFormat(s: unknown): s is DescriptionFormat {
  return s === 'bbcode' || s === 'markdown';
}

export async function uploadTorrent(site: Site, input: UploadInput): Promise<UploadResult> {
  const problems: UploadProblem[] = [];
  const cfg = site.config.site;

  // --- subcategory and terms -------------------------------------------------------------------
  const catalogue = await loadCatalogue(site.db);
  const category = input.categoryId === null ? undefined : catalogue.category(input.categoryId);
  if (input.categoryId === null) problems.push({ field: 'category', code: 'category_required' });
  else if (!category) problems.push({ field: 'category', code: 'category_unknown' });
  else if (category.isParent) problems.push({ field: 'category', code: 'category_not_sub' });
  const termIds = [...new Set(input.termIds)];
  const terms: Array<{ termId: number; typeId: number }> = [];
  if (category && !category.isParent) {
    const allowed = new Set(category.termTypes.map((tt) => tt.id));
    const perType = new Map<number, number>();
    for (const id of termIds) {
      const term = catalogue.term(id);
      if (!term) {
        problems.push({ field: 'terms', code: 'term_unknown', params: { termId: id } });
        continue;
      }
      if (!allowed.has(term.typeId)) {
        problems.push({ field: 'terms', code: 'term_not_allowed', params: { termId: id, typeId: term.typeId } });
        continue;
      }
      if (term.deprecated || catalogue.termType(term.typeId)!.deprecated) {
        problems.push({ field: 'terms', code: 'term_deprecated', params: { termId: id, typeId: term.typeId } });
        continue;
      }
      perType.set(term.typeId, (perType.get(term.typeId) ?? 0) + 1);
      terms.push({ termId: id, typeId: term.typeId });
    }
    for (const [typeId, n] of perType) {
      if (n > 1 && catalogue.termType(typeId)!.mode === 'single') problems.push({ field: 'terms', code: 'term_several', params: { typeId } });
    }
  }

  // --- texts -------------------------------------------------------------------------------------
  const rawTitle = normaliseTitle(input.title ?? '');
  if (rawTitle.length > TITLE_MAX) problems.push({ field: 'title', code: 'title_too_long', params: { max: TITLE_MAX } });
  const description = (input.description ?? '').replace(/\r\n?/g, '\n');
  if (description.length > DESCRIPTION_MAX) problems.push({ field: 'description', code: 'description_too_long', params: { max: DESCRIPTION_MAX } });
  const format = input.descriptionFormat === undefined || input.descriptionFormat === '' ? 'bbcode' : input.descriptionFormat;
  if (!isDescriptionFormat(format)) problems.push({ field: 'format', code: 'format_invalid' });

  let nfo: string | null = null;
  if (input.nfoTruncated || (input.nfo && input.nfo.length > cfg.max_nfo_bytes)) {
    problems.push({ field: 'nfo', code: 'nfo_too_large', params: { max: cfg.max_nfo_bytes } });
  } else if (input.nfo && input.nfo.length > 0) {
    nfo = decodeNfo(input.nfo, { maxBytes: cfg.max_nfo_bytes });
  }

  // --- the .torrent ------------------------------------------------------------------------------
  let parsed: ParsedTorrent | null = null;
  if (input.torrentTruncated) {
    problems.push({ field: 'torrent', code: 'torrent_too_large', params: { max: cfg.max_torrent_bytes } });
  } else if (!input.torrent || input.torrent.length === 0) {
    problems.push({ field: 'torrent', code: 'torrent_required' });
  } else {
    const r = parseTorrentFile(input.torrent, { maxTorrentBytes: cfg.max_torrent_bytes });
    if (r.ok) parsed = r.torrent;
    else problems.push({ field: 'torrent', code: 'torrent_invalid', torrentError: r.error });
  }

  if (problems.length > 0 || !parsed || !category || !isDescriptionFormat(format)) return { ok: false, problems };

  // --- store -------------------------------------------------------------------------------------
  const prepared = prepareForSite(parsed, { source: torrentSource(site) });
  // The blocklist: the hashes as the site would store them, and as uploaded (a public torrent's own).
  const block =
    (await findBlock(site.db, { v1: prepared.infoHashV1, v2: prepared.infoHashV2 })) ?? (await findBlock(site.db, { v1: parsed.infoHashV1, v2: parsed.infoHashV2 }));
  if (block) return { ok: false, problems: [{ field: 'torrent', code: 'blocked', block: { infoHash: block.info_hash, reason: block.reason } }] };
  const title = rawTitle !== '' ? rawTitle : normaliseTitle(parsed.name) || parsed.name;
  const slug = slugify(title);
  const now = site.now();
  const files = parsed.files.map((f, idx) => ({ idx, path: f.path.join('/'), size: f.size }));
  const status = await initialStatus(site.db, input.uploader);
  let torrentId: number;
  try {
    torrentId = await inTransaction(site.db, async (trx) => {
      const { id } = await registerTorrent(trx, {
        name: title,
        infoHashV1: prepared.infoHashV1,
        infoHashV2: prepared.infoHashV2,
        size: parsed.totalSize,
        uploaderId: input.uploader.id,
        status,
        now,
        slug,
        categoryId: category.id,
        description,
        descriptionFormat: format,
        nfo,
        anonymous: input.anonymous === true,
        fileCount: files.length,
        updatedAt: now,
      });
      // Uploads that skip the moderation queue count as verified (listings limited to verified torrents).
      if (status === 'active') await trx.updateTable('torrent').set({ verified: 1 }).where('id', '=', id).execute();
      await trx.insertInto('torrent_metainfo').values({ torrent_id: id, data: prepared.metainfo }).execute();
      for (const part of chunksFor(files, 4)) {
        await trx.insertInto('torrent_file').values(part.map((f) => ({ torrent_id: id, idx: f.idx, path: f.path, size: f.size }))).execute();
      }
      if (terms.length > 0) {
        await trx.insertInto('torrent_term').values(terms.map((t) => ({ torrent_id: id, term_id: t.termId, term_type_id: t.typeId }))).execute();
      }
      return id;
    });
  } catch (err) {
    // A concurrent upload of the same torrent may surface as a unique violation (or, on
    // PostgreSQL, as the aborted transaction's next error): look the hashes up again.
    const existing = err instanceof DuplicateInfoHashError ? err.torrentId : await registeredAs(site.db, prepared).catch(() => null);
    if (existing !== null) return { ok: false, problems: [{ field: 'torrent', code: 'duplicate', torrentId: existing }] };
    throw err;
  }

  // audit: torrent uploaded (uploader, torrent id) — with the staff log (#4)
  try {
    await indexTorrent(site.db, torrentId);
  } catch (err) {
    // The torrent is stored; a later reindex fixes the search index.
    site.log.error({ err, torrentId }, 'indexing an uploaded torrent failed');
  }
  try {
    await site.tracker.torrentChanged(torrentId);
  } catch (err) {
    // The tracker's periodic refresh will pick it up.
    site.log.error({ err, torrentId }, 'telling the tracker about an uploaded torrent failed');
  }
  return { ok: true, torrentId, slug, title, infoHashV1: prepared.infoHashV1, infoHashV2: prepared.infoHashV2 };
}

/** The torrent that holds one of these info hashes (after losing a race on the unique index). */
async function registeredAs(db: Kysely<Database>, h: { infoHashV1: string | null; infoHashV2: string | null }): Promise<number | null> {
  for (const s of swarmHashes(h.infoHashV1, h.infoHashV2)) {
    const t = await findTorrentByInfoHash(db, s.infoHash);
    if (t) return t.id;
  }
  return null;
}

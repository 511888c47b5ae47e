/**
 * Editing a torrent's metadata after the upload: the staff edit any torrent (title, description,
 * subcategory, terms, anonymous), an uploader whose torrent waits for an edit changes its title,
 * description and terms. The same checks as the upload apply (src/site/torrents/upload.ts), with
 * one allowance: terms the torrent already has stay allowed when they were deprecated since.
 *
 * `checkTorrentEdit` validates and reports every defect at once; `applyTorrentEdit` writes the
 * change (inside the caller's transaction) and returns what it was before and after, for the
 * audit log. The caller re-indexes the torrent for search after the commit.
 */
import type { Kysely } from 'kysely';
import type { Database, DescriptionFormat, IntBool, Torrent } from '../../db/schema.js';
import { DEFAULT_MAX_LENGTH as DESCRIPTION_MAX } from '../../markup/render.js';
import { slugify } from '../../web/format.js';
import { loadCatalogue } from '../catalogue/catalogue.js';
import { TITLE_MAX, isDescriptionFormat, normaliseTitle } from '../torrents/upload.js';

export type EditField = 'title' | 'description' | 'format' | 'category' | 'terms';

export type EditErrorCode =
  | 'title_required'
  | 'title_too_long'
  | 'description_too_long'
  | 'format_invalid'
  | 'category_unknown'
  | 'category_not_sub'
  /** params.termId does not exist. */
  | 'term_unknown'
  /** params.termId's type is not bound to the subcategory (e.g. after a change of subcategory). */
  | 'term_not_allowed'
  | 'term_deprecated'
  /** Several terms of the single-choice type params.typeId. */
  | 'term_several';

export interface EditProblem {
  field: EditField;
  code: EditErrorCode;
  params?: Record<string, number>;
}

export interface TorrentEditInput {
  title: string;
  description: string;
  /** Default: unchanged. */
  descriptionFormat?: string;
  /** Staff only; undefined keeps the subcategory. */
  categoryId?: number;
  termIds: readonly number[];
  /** Staff only; undefined keeps the flag. */
  anonymous?: boolean;
}

/** What an edit writes (validated). */
export interface TorrentEdit {
  name: string;
  slug: string;
  description: string;
  descriptionFormat: DescriptionFormat;
  categoryId: number | null;
  terms: Array<{ termId: number; typeId: number }>;
  anonymous: IntBool;
}

export type CheckedEdit = { ok: true; edit: TorrentEdit } | { ok: false; problems: EditProblem[] };

export async function torrentTermIds(db: Kysely<Database>, torrentId: number): Promise<number[]> {
  const rows = await db.selectFrom('torrent_term').select('term_id').where('torrent_id', '=', torrentId).orderBy('term_id').execute();
  return rows.map((r) => r.term_id);
}

export async function checkTorrentEdit(db: Kysely<Database>, torrent: Torrent, input: TorrentEditInput): Promise<CheckedEdit> {
  const problems: EditProblem[] = [];
  const name = normaliseTitle(input.title);
  if (name === '') problems.push({ field: 'title', code: 'title_required' });
  else if (name.length > TITLE_MAX) problems.push({ field: 'title', code: 'title_too_long', params: { max: TITLE_MAX } });
  const description = input.description.replace(/\r\n?/g, '\n');
  if (description.length > DESCRIPTION_MAX) problems.push({ field: 'description', code: 'description_too_long', params: { max: DESCRIPTION_MAX } });
  const format = input.descriptionFormat === undefined || input.descriptionFormat === '' ? torrent.description_format : input.descriptionFormat;
  if (!isDescriptionFormat(format)) problems.push({ field: 'format', code: 'format_invalid' });

  const catalogue = await loadCatalogue(db);
  const categoryId = input.categoryId ?? torrent.category_id;
  const category = categoryId === null ? undefined : catalogue.category(categoryId);
  if (input.categoryId !== undefined && !category) problems.push({ field: 'category', code: 'category_unknown' });
  else if (input.categoryId !== undefined && category?.isParent) problems.push({ field: 'category', code: 'category_not_sub' });

  const had = new Set(await torrentTermIds(db, torrent.id));
  const terms: Array<{ termId: number; typeId: number }> = [];
  const allowed = new Set(category && !category.isParent ? category.termTypes.map((tt) => tt.id) : []);
  const perType = new Map<number, number>();
  for (const id of new Set(input.termIds)) {
    const term = catalogue.term(id);
    if (!term) {
      problems.push({ field: 'terms', code: 'term_unknown', params: { termId: id } });
      continue;
    }
    if (!allowed.has(term.typeId)) {
      problems.push({ field: 'terms', code: 'term_not_allowed', params: { termId: id, typeId: term.typeId } });
      continue;
    }
    if (!had.has(id) && (term.deprecated || catalogue.termType(term.typeId)!.deprecated)) {
      problems.push({ field: 'terms', code: 'term_deprecated', params: { termId: id, typeId: term.typeId } });
      continue;
    }
    perType.set(term.typeId, (perType.get(term.typeId) ?? 0) + 1);
    terms.push({ termId: id, typeId: term.typeId });
  }
  for (const [typeId, n] of perType) {
    if (n > 1 && catalogue.termType(typeId)!.mode === 'single') problems.push({ field: 'terms', code: 'term_several', params: { typeId } });
  }
  if (problems.length > 0 || !isDescriptionFormat(format)) return { ok: false, problems };
  const anonymous: IntBool = input.anonymous === undefined ? torrent.anonymous : input.anonymous ? 1 : 0;
  return {
    ok: true,
    edit: { name, slug: slugify(name), description, descriptionFormat: format, categoryId: category ? category.id : torrent.category_id, terms, anonymous },
  };
}

export interface EditSnapshot {
  name: string;
  category_id: number | null;
  description: string;
  description_format: DescriptionFormat;
  anonymous: IntBool;
  terms: number[];
}

/** Writes a checked edit; returns the torrent's metadata before and after (for the audit log). */
export async function applyTorrentEdit(trx: Kysely<Database>, torrent: Torrent, edit: TorrentEdit, now: number): Promise<{ before: EditSnapshot; after: EditSnapshot }> {
  const before: EditSnapshot = {
    name: torrent.name,
    category_id: torrent.category_id,
    description: torrent.description,
    description_format: torrent.description_format,
    anonymous: torrent.anonymous,
    terms: await torrentTermIds(trx, torrent.id),
  };
  await trx
    .updateTable('torrent')
    .set({
      name: edit.name,
      slug: edit.slug,
      description: edit.description,
      description_format: edit.descriptionFormat,
      category_id: edit.categoryId,
      anonymous: edit.anonymous,
      updated_at: now,
    })
    .where('id', '=', torrent.id)
    .execute();
  await trx.deleteFrom('torrent_term').where('torrent_id', '=', torrent.id).execute();
  if (edit.terms.length > 0) {
    await trx.insertInto('torrent_term').values(edit.terms.map((t) => ({ torrent_id: torrent.id, term_id: t.termId, term_type_id: t.typeId }))).execute();
  }
  const after: EditSnapshot = {
    name: edit.name,
    category_id: edit.categoryId,
    description: edit.description,
    description_format: edit.descriptionFormat,
    anonymous: edit.anonymous,
    terms: edit.terms.map((t) => t.termId).sort((a, b) => a - b),
  };
  return { before, after };
}

/**
 * Newznab categories for Torznab: the standard numbering the *arr tools and Prowlarr/Jackett use,
 * the mapping of the site's categories onto it, and the site's own categories as custom ids.
 *
 * The standard tree: a parent every 1000 (1000 Console, 2000 Movies, 3000 Audio, 4000 PC, 5000 TV,
 * 6000 XXX, 7000 Books, 8000 Other), its subcategories in the same thousand (2040 Movies/HD, 5070
 * TV/Anime, 7020 Books/EBook...). Custom ids: 100000 + the site category's id (Jackett's way), for
 * every parent and subcategory of the site, so that a client can filter on the site's own tree.
 *
 * Each site subcategory maps to ONE standard id: the administrators' choice (`newznab_category`
 * row, edited on /admin/torznab) or else the default below (chosen per subcategory of the default
 * taxonomy, by parent for the unambiguous families, 6000 for adult categories, 8000 Other for the
 * rest). An item carries that id, its parent when it is a subcategory, and the custom id of its
 * site subcategory.
 *
 * Requested ids (`cat=`) select site subcategories:
 *   - a custom id: that subcategory, or every subcategory of that site parent;
 *   - a standard parent (5000): the subcategories mapped to it or to any of its children;
 *   - a standard child (5040): the subcategories mapped to it; when none is, those mapped to its
 *     parent (5000): a subcategory mapped to "all of TV" holds TV/HD releases too, and Sonarr asks
 *     for 5030,5040 by default (a child that some subcategory maps to exactly, such as 5080 or
 *     3030, never reaches the subcategories mapped to the whole family);
 *   - an unknown id selects nothing (Newznab: unsupported categories are skipped).
 */
import type { Kysely } from 'kysely';
import type { Database, Locale } from '../../db/schema.js';
import { loadCatalogue, type Catalogue, type CatalogueCategory } from '../../site/catalogue/catalogue.js';

/** Offset of the custom (site) category ids. */
export const CUSTOM_BASE = 100_000;
/** Where a category without any better mapping goes. */
export const OTHER = 8000;
export const XXX = 6000;

export interface NewznabCategory {
  id: number;
  name: string;
  /** null for a parent. */
  parentId: number | null;
}

/** [id, name]: parents are multiples of 1000, their subcategories follow them. */
const STANDARD_SPEC: ReadonlyArray<readonly [number, string]> = [
  [1000, 'Console'],
  [1010, 'Console/NDS'],
  [1020, 'Console/PSP'],
  [1030, 'Console/Wii'],
  [1040, 'Console/XBox'],
  [1050, 'Console/XBox 360'],
  [1060, 'Console/Wiiware'],
  [1070, 'Console/XBox 360 DLC'],
  [1080, 'Console/PS3'],
  [1090, 'Console/Other'],
  [1110, 'Console/3DS'],
  [1120, 'Console/PS Vita'],
  [1130, 'Console/WiiU'],
  [1140, 'Console/XBox One'],
  [1180, 'Console/PS4'],
  [2000, 'Movies'],
  [2010, 'Movies/Foreign'],
  [2020, 'Movies/Other'],
  [2030, 'Movies/SD'],
  [2040, 'Movies/HD'],
  [2045, 'Movies/UHD'],
  [2050, 'Movies/BluRay'],
  [2060, 'Movies/3D'],
  [2070, 'Movies/DVD'],
  [2080, 'Movies/WEB-DL'],
  [3000, 'Audio'],
  [3010, 'Audio/MP3'],
  [3020, 'Audio/Video'],
  [3030, 'Audio/Audiobook'],
  [3040, 'Audio/Lossless'],
  [3050, 'Audio/Other'],
  [3060, 'Audio/Foreign'],
  [4000, 'PC'],
  [4010, 'PC/0day'],
  [4020, 'PC/ISO'],
  [4030, 'PC/Mac'],
  [4040, 'PC/Mobile-Other'],
  [4050, 'PC/Games'],
  [4060, 'PC/Mobile-iOS'],
  [4070, 'PC/Mobile-Android'],
  [5000, 'TV'],
  [5010, 'TV/WEB-DL'],
  [5020, 'TV/Foreign'],
  [5030, 'TV/SD'],
  [5040, 'TV/HD'],
  [5045, 'TV/UHD'],
  [5050, 'TV/Other'],
  [5060, 'TV/Sport'],
  [5070, 'TV/Anime'],
  [5080, 'TV/Documentary'],
  [6000, 'XXX'],
  [6010, 'XXX/DVD'],
  [6020, 'XXX/WMV'],
  [6030, 'XXX/XviD'],
  [6040, 'XXX/x264'],
  [6045, 'XXX/UHD'],
  [6050, 'XXX/Pack'],
  [6060, 'XXX/ImageSet'],
  [6070, 'XXX/Other'],
  [6080, 'XXX/SD'],
  [6090, 'XXX/WEB-DL'],
  [7000, 'Books'],
  [7010, 'Books/Mags'],
  [7020, 'Books/EBook'],
  [7030, 'Books/Comics'],
  [7040, 'Books/Technical'],
  [7050, 'Books/Other'],
  [7060, 'Books/Foreign'],
  [8000, 'Other'],
  [8010, 'Other/Misc'],
  [8020, 'Other/Hashed'],
];

/** The standard categories, parents followed by their subcategories. */
export const STANDARD: readonly NewznabCategory[] = Object.freeze(
  STANDARD_SPEC.map(([id, name]) => Object.freeze({ id, name, parentId: id % 1000 === 0 ? null : id - (id % 1000) })),
);

const STANDARD_BY_ID: ReadonlyMap<number, NewznabCategory> = new Map(STANDARD.map((c) => [c.id, c]));

export function standardCategory(id: number): NewznabCategory | undefined {
  return STANDARD_BY_ID.get(id);
}

export function isStandardId(id: number): boolean {
  return STANDARD_BY_ID.has(id);
}

/** The standard parent of a standard id (itself for a parent). */
export function familyOf(id: number): number {
  return id - (id % 1000);
}

/**
 * The default mapping of the default taxonomy's subcategories (src/site/catalogue/taxonomy.ts,
 * T411's ids). Reasons, where the choice is not obvious:
 *   - Movies, TV series: the whole family (2000, 5000): the quality is a term of each torrent, not
 *     a property of the subcategory, so no single HD/SD subcategory fits;
 *   - Documentaries, Sport, Animated series, TV shows: the TV subcategories made for them;
 *   - Animation (films): Movies; stage shows: Movies/Other; concerts and music videos: Audio/Video;
 *   - Audiobooks: Audio/Audiobook (what Readarr asks for audiobooks), BD/Comics/Manga: Books/Comics,
 *     Press: Books/Mags;
 *   - console games: Console (the console is a term); PC games: PC/Games; macOS software and games:
 *     PC/Mac; smartphone and tablet software and games: PC/Mobile-Other;
 *   - emulators: PC, ROMs: Console/Other; GPS: Other/Misc.
 */
export const DEFAULT_MAPPING: ReadonlyMap<number, number> = new Map([
  // Video (210)
  [631, 2000], // Movies
  [433, 5000], // TV series
  [634, 5080], // Documentaries
  [455, 2000], // Animation (films)
  [637, 5070], // Animated series
  [639, 5050], // TV shows
  [635, 2020], // Stage shows
  [633, 3020], // Concerts
  [402, 3020], // Music videos
  [636, 5060], // Sport
  // Audio (395)
  [623, 3000], // Music
  [642, 3050], // Podcasts and radio
  [400, 3050], // Karaoke
  [403, 3050], // Samples
  // eBooks (404)
  [408, 7020], // Books
  [406, 7030], // Comic albums (BD)
  [407, 7030], // Comics
  [409, 7030], // Manga
  [410, 7010], // Press
  [405, 3030], // Audiobooks
  // Software (233)
  [236, 4000], // Windows
  [235, 4030], // macOS
  [234, 4000], // Linux
  [625, 4040], // Smartphone
  [627, 4040], // Tablet
  [638, 4000], // Training
  [629, 4000], // Other
  // Video games (624)
  [246, 4050], // Windows
  [245, 4030], // macOS
  [239, 4050], // Linux
  [307, 1000], // Nintendo
  [308, 1000], // Sony
  [309, 1000], // Microsoft
  [626, 4040], // Smartphone
  [628, 4040], // Tablet
  [630, 1090], // Other
  // Emulation (340)
  [342, 4000], // Emulators
  [344, 1090], // ROMs
  // GPS (392)
  [391, 8010], // Applications
  [393, 8010], // Maps
  [394, 8010], // Other
]);

/** New subcategories under these default parents take the family of the parent. */
const PARENT_DEFAULTS: ReadonlyMap<number, number> = new Map([
  [395, 3000], // Audio
  [404, 7000], // eBooks
  [233, 4000], // Software
]);

/** The default Newznab id of a site category (before the administrators' choices). */
export function defaultNewznabId(c: Pick<CatalogueCategory, 'id' | 'parentId' | 'adult'>): number {
  if (c.adult) return XXX;
  const known = DEFAULT_MAPPING.get(c.id);
  if (known !== undefined) return known;
  if (c.parentId !== null) return PARENT_DEFAULTS.get(c.parentId) ?? OTHER;
  return OTHER;
}

/** The site's categories with their Newznab ids, as a request sees them. */
export interface CategoryMapping {
  catalogue: Catalogue;
  /** Site category id → its Newznab id (every category of the catalogue, parents included). */
  newznab: ReadonlyMap<number, number>;
  /** Site category ids whose mapping the administrators set (a `newznab_category` row). */
  overridden: ReadonlySet<number>;
}

/** Reads the administrators' choices and completes them with the defaults. */
export async function loadMapping(db: Kysely<Database>): Promise<CategoryMapping> {
  const [catalogue, rows] = await Promise.all([loadCatalogue(db), db.selectFrom('newznab_category').select(['category_id', 'newznab_id']).execute()]);
  return mappingOf(catalogue, rows);
}

export function mappingOf(catalogue: Catalogue, rows: ReadonlyArray<{ category_id: number; newznab_id: number }>): CategoryMapping {
  const chosen = new Map(rows.filter((r) => isStandardId(r.newznab_id)).map((r) => [r.category_id, r.newznab_id]));
  const newznab = new Map<number, number>();
  const overridden = new Set<number>();
  for (const p of catalogue.parents) {
    for (const c of [p, ...p.children]) {
      const own = chosen.get(c.id);
      if (own !== undefined) overridden.add(c.id);
      newznab.set(c.id, own ?? defaultNewznabId(c));
    }
  }
  return { catalogue, newznab, overridden };
}

/**
 * The Newznab ids of an item: its category's id, that id's parent when it is a subcategory, and
 * the custom id of the site category. A torrent without a (known) category is Other.
 */
export function itemCategories(m: CategoryMapping, categoryId: number | null): number[] {
  const id = categoryId === null ? undefined : m.newznab.get(categoryId);
  if (id === undefined) return [OTHER];
  const out = [id];
  if (id % 1000 !== 0) out.unshift(familyOf(id));
  out.push(CUSTOM_BASE + categoryId!);
  return out;
}

/**
 * The site subcategories a list of requested Newznab ids selects (see the header for the rules).
 * Parents of the site are expanded to their subcategories; unknown ids select nothing.
 */
export function selectSubcategories(m: CategoryMapping, requested: readonly number[]): Set<number> {
  const out = new Set<number>();
  for (const r of requested) {
    if (r >= CUSTOM_BASE) {
      const c = m.catalogue.category(r - CUSTOM_BASE);
      if (!c) continue;
      if (c.isParent) for (const s of c.children) out.add(s.id);
      else out.add(c.id);
      continue;
    }
    if (!isStandardId(r)) continue;
    const mapped = (test: (id: number) => boolean) => m.catalogue.subcategories.filter((s) => test(m.newznab.get(s.id)!)).map((s) => s.id);
    let found: number[];
    if (r % 1000 === 0) found = mapped((id) => familyOf(id) === r);
    else {
      found = mapped((id) => id === r);
      if (found.length === 0) found = mapped((id) => id === familyOf(r));
    }
    for (const id of found) out.add(id);
  }
  return out;
}

export interface CapsCategory {
  id: number;
  name: string;
  subcats: Array<{ id: number; name: string }>;
}

/**
 * The categories of the caps document: each standard parent in use (mapped to, itself or through
 * one of its subcategories) with the subcategories in use, in the standard order; then the
 * site's own tree as custom ids (parents with their subcategories), named in `locale`.
 */
export function capsCategories(m: CategoryMapping, locale: Locale): CapsCategory[] {
  const used = new Set(m.catalogue.subcategories.map((s) => m.newznab.get(s.id)!));
  const out: CapsCategory[] = [];
  for (const p of STANDARD) {
    if (p.parentId !== null) continue;
    const subs = STANDARD.filter((c) => c.parentId === p.id && used.has(c.id));
    if (!used.has(p.id) && subs.length === 0) continue;
    out.push({ id: p.id, name: p.name, subcats: subs.map((c) => ({ id: c.id, name: c.name })) });
  }
  for (const p of m.catalogue.parents) {
    out.push({
      id: CUSTOM_BASE + p.id,
      name: p.name(locale),
      subcats: p.children.map((c) => ({ id: CUSTOM_BASE + c.id, name: `${p.name(locale)} / ${c.name(locale)}` })),
    });
  }
  return out;
}

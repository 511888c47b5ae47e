/**
 * Text normalisation shared by the indexer and the query compiler, so that SQLite FTS5 and
 * PostgreSQL see exactly the same words: compatibility decomposition (NFKD), combining marks
 * removed, a few letters that have no decomposition folded by hand (œ → oe, ß → ss, ø → o, ...),
 * lowercased; then cut into words: maximal runs of letters and digits. Everything else
 * (punctuation, dots and dashes of release names, slashes of file paths) separates words, so
 * "Spider-Man.2002.FRENCH" gives the words "spider", "man", "2002", "french" on both engines.
 */

const FOLD: Record<string, string> = {
  œ: 'oe',
  æ: 'ae',
  ø: 'o',
  ß: 'ss',
  ẞ: 'ss',
  ł: 'l',
  đ: 'd',
  ð: 'd',
  þ: 'th',
  ı: 'i',
  ħ: 'h',
};
const FOLD_RE = /[œæøßẞłđðþıħ]/g;
const MARKS_RE = /\p{M}+/gu;
const WORD_RE = /[\p{L}\p{N}]+/gu;

/** Words longer than this are dropped (by the indexer and the query alike): no real word is. */
export const MAX_WORD_LENGTH = 64;

/** NFKD, combining marks removed, lowercased, special letters folded. */
export function normalizeText(s: string): string {
  return s.normalize('NFKD').replace(MARKS_RE, '').toLowerCase().replace(FOLD_RE, (c) => FOLD[c]!);
}

/** The words of a text, normalised, in order. */
export function searchWords(s: string): string[] {
  const out: string[] = [];
  for (const m of normalizeText(s).matchAll(WORD_RE)) {
    const w = m[0];
    if (w.length <= MAX_WORD_LENGTH) out.push(w);
  }
  return out;
}

/** The text as the index stores it: its words separated by single spaces. */
export function indexText(s: string, maxChars = Infinity): string {
  const words: string[] = [];
  let length = 0;
  // Bounds the work on huge inputs (the cut is approximate: normalising may lengthen a text).
  const source = s.length > maxChars * 4 ? s.slice(0, maxChars * 4) : s;
  for (const w of searchWords(source)) {
    length += w.length + (words.length > 0 ? 1 : 0);
    if (length > maxChars) break;
    words.push(w);
  }
  return words.join(' ');
}

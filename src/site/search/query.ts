/**
 * The search language (T411's, extended a little), parsed into a tree and compiled for SQLite
 * FTS5 (a MATCH expression) and PostgreSQL (a tsquery).
 *
 *   vikings s01          both words (AND is implicit; `&` may be written too)
 *   vikings | empire     either word
 *   vikings -hdtv        vikings but not hdtv
 *   (a | b) & c          parentheses group
 *   vik*                 a word starting with "vik" (a trailing star)
 *   "the office"         a phrase: these words, adjacent, in this order
 *   @name x @description y @file z @user w
 *                        field scopes: every term after a scope searches that field only,
 *                        until the next scope (or the end of the enclosing parentheses)
 *
 * AND binds tighter than OR (`a b | c` is `(a b) | c`). Words are normalised as the indexer
 * normalises them (accents and case ignored); a word that normalises to several words
 * ("spider-man") is searched as a phrase. The parser is total: any input gives a (possibly empty)
 * query; stray operators, unbalanced parentheses or quotes, punctuation-only words and scopes with
 * nothing after them are dropped. Input beyond {@link MAX_QUERY_LENGTH} characters, terms beyond
 * {@link MAX_TERMS} and parentheses nested deeper than {@link MAX_DEPTH} are ignored.
 *
 * Compilation gives two expressions: `match` (the torrent must match) and `exclude` (it must not).
 * Negations are moved so that every expression is valid for the engine: FTS5 only has a binary
 * NOT, so `-a` alone becomes "exclude a", `a | -b` becomes "exclude (b NOT a)", and so on, with
 * the same meaning. Words are always quoted, so nothing typed can inject engine syntax.
 */
import { MAX_WORD_LENGTH, searchWords } from './normalize.js';

export const MAX_QUERY_LENGTH = 1000;
export const MAX_TERMS = 32;
export const MAX_DEPTH = 8;

/** The indexed fields (FTS5 column names; PostgreSQL weights A to D). */
export type SearchField = 'name' | 'description' | 'files' | 'uploader';
export const SEARCH_FIELDS: readonly SearchField[] = ['name', 'description', 'files', 'uploader'];

/** Scope names (English and French); `@all` goes back to every field. */
const SCOPES: ReadonlyMap<string, SearchField | null> = new Map<string, SearchField | null>([
  ['all', null],
  ['tout', null],
  ['name', 'name'],
  ['nom', 'name'],
  ['title', 'name'],
  ['titre', 'name'],
  ['description', 'description'],
  ['desc', 'description'],
  ['file', 'files'],
  ['files', 'files'],
  ['fichier', 'files'],
  ['fichiers', 'files'],
  ['user', 'uploader'],
  ['uploader', 'uploader'],
  ['utilisateur', 'uploader'],
  ['membre', 'uploader'],
]);

export type QueryNode =
  | { kind: 'term'; words: string[]; prefix: boolean; field: SearchField | null }
  | { kind: 'and'; children: QueryNode[] }
  | { kind: 'or'; children: QueryNode[] }
  | { kind: 'not'; child: QueryNode };

// --- lexer ---------------------------------------------------------------------------------

type Lexeme =
  | { t: 'or' | 'and' | 'lp' | 'rp' | 'not' }
  | { t: 'scope'; field: SearchField | null }
  | { t: 'term'; words: string[]; prefix: boolean };

const SPECIAL = new Set(['|', '&', '(', ')', '"']);
const isSpace = (c: string) => /\s/.test(c);

function lex(input: string): Lexeme[] {
  const s = input.length > MAX_QUERY_LENGTH ? input.slice(0, MAX_QUERY_LENGTH) : input;
  const out: Lexeme[] = [];
  let i = 0;
  const term = (text: string, prefix: boolean) => {
    const words = searchWords(text);
    if (words.length > 0) out.push({ t: 'term', words, prefix });
  };
  while (i < s.length) {
    const c = s[i]!;
    if (isSpace(c)) {
      i++;
    } else if (c === '|') {
      out.push({ t: 'or' });
      i++;
    } else if (c === '&') {
      out.push({ t: 'and' });
      i++;
    } else if (c === '(') {
      out.push({ t: 'lp' });
      i++;
    } else if (c === ')') {
      out.push({ t: 'rp' });
      i++;
    } else if (c === '"') {
      const end = s.indexOf('"', i + 1);
      const text = s.slice(i + 1, end < 0 ? s.length : end);
      i = end < 0 ? s.length : end + 1;
      let prefix = false;
      while (s[i] === '*') {
        prefix = true;
        i++;
      }
      term(text, prefix);
    } else if (c === '-') {
      // A leading dash negates what follows it directly; a dash on its own means nothing.
      let j = i;
      while (s[j] === '-') j++;
      const next = s[j];
      if (next !== undefined && !isSpace(next) && next !== '|' && next !== '&' && next !== ')') {
        for (let k = i; k < j; k++) out.push({ t: 'not' });
      }
      i = j;
    } else {
      let j = i;
      while (j < s.length && !isSpace(s[j]!) && !SPECIAL.has(s[j]!)) j++;
      let word = s.slice(i, j);
      i = j;
      if (word.startsWith('@')) {
        const field = SCOPES.get(word.slice(1).toLowerCase());
        if (field !== undefined) {
          out.push({ t: 'scope', field });
          continue;
        }
      }
      let prefix = false;
      while (word.endsWith('*')) {
        prefix = true;
        word = word.slice(0, -1);
      }
      term(word, prefix);
    }
  }
  return out;
}

/**
 * Balances parentheses: a `)` without its `(` is dropped, a `(` never closed is closed at the end,
 * and pairs nested deeper than MAX_DEPTH are dropped (their content stays, one level up).
 */
function balance(lexemes: Lexeme[]): Lexeme[] {
  const out: Lexeme[] = [];
  const kept: boolean[] = [];
  let depth = 0;
  for (const l of lexemes) {
    if (l.t === 'lp') {
      const keep = depth < MAX_DEPTH;
      kept.push(keep);
      if (keep) {
        depth++;
        out.push(l);
      }
    } else if (l.t === 'rp') {
      if (kept.length === 0) continue;
      if (kept.pop()) {
        depth--;
        out.push(l);
      }
    } else {
      out.push(l);
    }
  }
  for (const k of kept) if (k) out.push({ t: 'rp' });
  return out;
}

// --- parser --------------------------------------------------------------------------------

class Parser {
  private i = 0;
  private scope: SearchField | null = null;
  private terms = 0;

  constructor(private readonly lx: Lexeme[]) {}

  parse(): QueryNode | null {
    const parts: QueryNode[] = [];
    while (this.i < this.lx.length) {
      const n = this.or();
      if (n) parts.push(n);
      // Only a stray lexeme can stop `or` before the end (balance() leaves none): skip it.
      if (this.i < this.lx.length) this.i++;
    }
    return group('and', parts);
  }

  private peek(): Lexeme | undefined {
    return this.lx[this.i];
  }

  private or(): QueryNode | null {
    const children: QueryNode[] = [];
    for (;;) {
      const n = this.and();
      if (n) children.push(n);
      if (this.peek()?.t !== 'or') break;
      this.i++;
    }
    return group('or', children);
  }

  private and(): QueryNode | null {
    const children: QueryNode[] = [];
    for (;;) {
      const l = this.peek();
      if (!l || l.t === 'or' || l.t === 'rp') break;
      if (l.t === 'and') {
        this.i++;
        continue;
      }
      if (l.t === 'scope') {
        this.scope = l.field;
        this.i++;
        continue;
      }
      const n = this.unary();
      if (n) children.push(n);
    }
    return group('and', children);
  }

  private unary(): QueryNode | null {
    let negate = false;
    for (;;) {
      const l = this.peek();
      if (l?.t === 'not') negate = !negate;
      else if (l?.t === 'scope') this.scope = l.field;
      else break;
      this.i++;
    }
    const l = this.peek();
    let n: QueryNode | null = null;
    if (!l || l.t === 'or' || l.t === 'and' || l.t === 'rp') return null;
    if (l.t === 'lp') {
      this.i++;
      const outer = this.scope;
      n = this.or();
      this.scope = outer;
      if (this.peek()?.t === 'rp') this.i++;
    } else if (l.t === 'term') {
      this.i++;
      if (this.terms >= MAX_TERMS) return null;
      this.terms++;
      n = { kind: 'term', words: l.words, prefix: l.prefix, field: this.scope };
    }
    if (!n) return null;
    return negate ? negation(n) : n;
  }
}

function group(kind: 'and' | 'or', children: QueryNode[]): QueryNode | null {
  const flat: QueryNode[] = [];
  for (const c of children) {
    if (c.kind === kind) flat.push(...c.children);
    else flat.push(c);
  }
  if (flat.length === 0) return null;
  if (flat.length === 1) return flat[0]!;
  return { kind, children: flat };
}

function negation(n: QueryNode): QueryNode {
  return n.kind === 'not' ? n.child : { kind: 'not', child: n };
}

/** Parses a search text; null when it holds nothing to search for. Never throws. */
export function parseQuery(input: string): QueryNode | null {
  if (typeof input !== 'string') return null;
  return new Parser(balance(lex(input))).parse();
}

/** The scope name written by {@link formatQuery}. */
const SCOPE_NAMES: Readonly<Record<SearchField, string>> = { name: 'name', description: 'description', files: 'file', uploader: 'user' };

/**
 * The query written back in the search language (normalised words, explicit scopes), for display
 * and tests: parsing the result gives the same tree.
 */
export function formatQuery(n: QueryNode | null): string {
  if (!n) return '';
  let scope: SearchField | null = null;
  const scoped = (field: SearchField | null): string => {
    if (field === scope) return '';
    scope = field;
    return `@${field ? SCOPE_NAMES[field] : 'all'} `;
  };
  const word = (x: Extract<QueryNode, { kind: 'term' }>) =>
    `${x.words.length > 1 ? `"${x.words.join(' ')}"` : x.words[0]!}${x.prefix ? '*' : ''}`;
  const fmt = (x: QueryNode, top: boolean): string => {
    switch (x.kind) {
      case 'term':
        return scoped(x.field) + word(x);
      case 'not':
        if (x.child.kind === 'term') return `${scoped(x.child.field)}-${word(x.child)}`;
        return `-${fmt(x.child, false)}`;
      case 'and':
      case 'or': {
        const outer = scope;
        const inner = x.children.map((c) => fmt(c, false)).join(x.kind === 'and' ? ' ' : ' | ');
        if (top) return inner;
        // The parser restores the scope at the end of a group: so does the writer.
        scope = outer;
        return `(${inner})`;
      }
    }
  };
  return fmt(n, true);
}

// --- compilation ---------------------------------------------------------------------------

/** A query without unary NOT: set difference only (`a minus b`). */
type Expr =
  | { k: 'term'; words: string[]; prefix: boolean; field: SearchField | null }
  | { k: 'and' | 'or'; c: Expr[] }
  | { k: 'minus'; a: Expr; b: Expr };

/** What a node denotes: the torrents matching e, those not matching e. */
type Normal = { pos: true; e: Expr } | { pos: false; e: Expr };

const nary = (k: 'and' | 'or', c: Expr[]): Expr => (c.length === 1 ? c[0]! : { k, c });

function normal(n: QueryNode): Normal {
  switch (n.kind) {
    case 'term':
      return { pos: true, e: { k: 'term', words: n.words, prefix: n.prefix, field: n.field } };
    case 'not': {
      const c = normal(n.child);
      return { pos: !c.pos, e: c.e } as Normal;
    }
    case 'and':
    case 'or': {
      const pos: Expr[] = [];
      const neg: Expr[] = [];
      for (const child of n.children) {
        const c = normal(child);
        (c.pos ? pos : neg).push(c.e);
      }
      if (n.kind === 'and') {
        // p1 ∧ p2 ∧ ¬n1 ∧ ¬n2 = (p1 ∧ p2) minus (n1 ∨ n2); only negatives: ¬(n1 ∨ n2).
        if (pos.length === 0) return { pos: false, e: nary('or', neg) };
        if (neg.length === 0) return { pos: true, e: nary('and', pos) };
        return { pos: true, e: { k: 'minus', a: nary('and', pos), b: nary('or', neg) } };
      }
      // p1 ∨ ¬n1 ∨ ¬n2 = ¬((n1 ∧ n2) minus p1); only negatives: ¬(n1 ∧ n2).
      if (neg.length === 0) return { pos: true, e: nary('or', pos) };
      if (pos.length === 0) return { pos: false, e: nary('and', neg) };
      return { pos: false, e: { k: 'minus', a: nary('and', neg), b: nary('or', pos) } };
    }
  }
}

export interface CompiledQuery {
  /** The torrent must match this expression (null: no condition). */
  match: string | null;
  /** The torrent must not match this expression (null: no condition). */
  exclude: string | null;
}

function compile(n: QueryNode | null, render: (e: Expr) => string): CompiledQuery {
  if (!n) return { match: null, exclude: null };
  const r = normal(n);
  return r.pos ? { match: render(r.e), exclude: null } : { match: null, exclude: render(r.e) };
}

function fts5(e: Expr): string {
  switch (e.k) {
    case 'term': {
      const phrase = `"${e.words.join(' ').replaceAll('"', '""')}"${e.prefix ? ' *' : ''}`;
      return e.field ? `${e.field} : ${phrase}` : phrase;
    }
    case 'and':
    case 'or':
      return `(${e.c.map(fts5).join(e.k === 'and' ? ' AND ' : ' OR ')})`;
    case 'minus':
      return `(${fts5(e.a)} NOT ${fts5(e.b)})`;
  }
}

const WEIGHTS: Readonly<Record<SearchField, string>> = { name: 'A', description: 'B', files: 'C', uploader: 'D' };

function tsquery(e: Expr): string {
  switch (e.k) {
    case 'term': {
      const w = e.field ? WEIGHTS[e.field] : '';
      const parts = e.words.map((word, i) => {
        const star = e.prefix && i === e.words.length - 1 ? '*' : '';
        const label = star || w ? `:${star}${w}` : '';
        return `'${word.replaceAll('\\', '\\\\').replaceAll("'", "''")}'${label}`;
      });
      return parts.length === 1 ? parts[0]! : `(${parts.join(' <-> ')})`;
    }
    case 'and':
    case 'or':
      return `(${e.c.map(tsquery).join(e.k === 'and' ? ' & ' : ' | ')})`;
    case 'minus':
      return `(${tsquery(e.a)} & !${tsquery(e.b)})`;
  }
}

/** The query as SQLite FTS5 MATCH expressions over the columns name, description, files, uploader. */
export function compileFts5(n: QueryNode | null): CompiledQuery {
  return compile(n, fts5);
}

/**
 * The query as PostgreSQL tsquery texts, for `to_tsquery('simple', ...)` against the document
 * (name weighted A, description B, files C, uploader D).
 */
export function compileTsquery(n: QueryNode | null): CompiledQuery {
  return compile(n, tsquery);
}

export { MAX_WORD_LENGTH };

/**
 * The search language: examples of every construct, degradation of malformed input, and the
 * compiled expressions for FTS5 and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { indexText, normalizeText, searchWords } from './normalize.js';
import { compileFts5, compileTsquery, formatQuery, MAX_DEPTH, MAX_TERMS, parseQuery, type QueryNode, type SearchField } from './query.js';

const term = (w: string | string[], o: { prefix?: boolean; field?: SearchField } = {}): QueryNode => ({
  kind: 'term',
  words: Array.isArray(w) ? w : [w],
  prefix: o.prefix ?? false,
  field: o.field ?? null,
});
const and = (...children: QueryNode[]): QueryNode => ({ kind: 'and', children });
const or = (...children: QueryNode[]): QueryNode => ({ kind: 'or', children });
const not = (child: QueryNode): QueryNode => ({ kind: 'not', child });

describe('normalisation', () => {
  it('removes accents, folds case and special letters, splits on punctuation', () => {
    assert.equal(normalizeText('Série ÉTÉ Œuvre Straße Ørsted'), 'serie ete oeuvre strasse orsted');
    assert.deepEqual(searchWords('Spider-Man.2002.FRENCH.1080p/x264'), ['spider', 'man', '2002', 'french', '1080p', 'x264']);
    assert.deepEqual(searchWords('ｆｕｌｌｗｉｄｔｈ ２０１５ ½'), ['fullwidth', '2015', '1', '2']);
    assert.deepEqual(searchWords('İstanbul ﬁlm'), ['istanbul', 'film']);
    assert.deepEqual(searchWords('…!?—'), []);
  });

  it('drops absurdly long words and caps the indexed text', () => {
    assert.deepEqual(searchWords(`${'a'.repeat(65)} ok`), ['ok']);
    assert.equal(indexText('one two three four', 9), 'one two');
    assert.equal(indexText('one two three four'), 'one two three four');
  });
});

describe('query parser', () => {
  it('ANDs words, normalised', () => {
    assert.deepEqual(parseQuery('Série  Vikings'), and(term('serie'), term('vikings')));
    assert.deepEqual(parseQuery('a & b'), and(term('a'), term('b')));
    assert.deepEqual(parseQuery('vikings'), term('vikings'));
  });

  it('ORs with |, AND binding tighter', () => {
    assert.deepEqual(parseQuery('a b | c'), or(and(term('a'), term('b')), term('c')));
    assert.deepEqual(parseQuery('a|b|(c&d)'), or(term('a'), term('b'), and(term('c'), term('d'))));
  });

  it('negates with a leading dash, and only there', () => {
    assert.deepEqual(parseQuery('vikings -hdtv'), and(term('vikings'), not(term('hdtv'))));
    assert.deepEqual(parseQuery('--a'), term('a'), 'double negation');
    assert.deepEqual(parseQuery('x264-demand'), term(['x264', 'demand']), 'an inner dash joins a phrase');
    assert.deepEqual(parseQuery('-(a | b) c'), and(not(or(term('a'), term('b'))), term('c')));
    assert.deepEqual(parseQuery('a - b'), and(term('a'), term('b')), 'a lone dash means nothing');
  });

  it('groups with parentheses, and repairs unbalanced ones', () => {
    assert.deepEqual(parseQuery('(a | b) c'), and(or(term('a'), term('b')), term('c')));
    assert.deepEqual(parseQuery('((a | b'), or(term('a'), term('b')));
    assert.deepEqual(parseQuery('a)) | b'), or(term('a'), term('b')));
    assert.deepEqual(parseQuery('() a ( )'), term('a'));
    const deep = `${'('.repeat(200)}a${')'.repeat(200)}`;
    assert.deepEqual(parseQuery(deep), term('a'));
    assert.equal(MAX_DEPTH > 2, true);
  });

  it('reads prefixes and phrases', () => {
    assert.deepEqual(parseQuery('vik*'), term('vik', { prefix: true }));
    assert.deepEqual(parseQuery('"The Office" "us vers"*'), and(term(['the', 'office']), term(['us', 'vers'], { prefix: true })));
    assert.deepEqual(parseQuery('"unclosed phrase'), term(['unclosed', 'phrase']));
    assert.deepEqual(parseQuery('a*b'), term(['a', 'b']), 'an inner star separates words');
  });

  it('applies field scopes to the following terms, until the next scope or the end of the group', () => {
    assert.deepEqual(parseQuery('@name x @description y @file z @user w'), and(term('x', { field: 'name' }), term('y', { field: 'description' }), term('z', { field: 'files' }), term('w', { field: 'uploader' })));
    assert.deepEqual(parseQuery('@name a b | c'), or(and(term('a', { field: 'name' }), term('b', { field: 'name' })), term('c', { field: 'name' })));
    assert.deepEqual(parseQuery('(@user a) b'), and(term('a', { field: 'uploader' }), term('b')));
    assert.deepEqual(parseQuery('@name a @all b'), and(term('a', { field: 'name' }), term('b')));
    assert.deepEqual(parseQuery('@NOM a -@fichier b'), and(term('a', { field: 'name' }), not(term('b', { field: 'files' }))));
    assert.deepEqual(parseQuery('@constructor x'), and(term('constructor'), term('x')), 'unknown scopes are words');
    assert.deepEqual(parseQuery('a @name'), term('a'), 'a scope with nothing after it is dropped');
  });

  it('degrades gracefully: punctuation, stray operators, empty input', () => {
    for (const q of ['', '   ', '!!!', '|', '&&', '-', '()', '"', '@name', '***', '| & ) (']) assert.equal(parseQuery(q), null, JSON.stringify(q));
    assert.deepEqual(parseQuery('| a | | b |'), or(term('a'), term('b')));
    assert.deepEqual(parseQuery('a & | b'), or(term('a'), term('b')));
    assert.equal(parseQuery(42 as unknown as string), null);
  });

  it('keeps at most MAX_TERMS terms', () => {
    const q = Array.from({ length: MAX_TERMS + 10 }, (_, i) => `w${i}`).join(' ');
    const n = parseQuery(q);
    assert.ok(n && n.kind === 'and', 'an AND of the terms');
    assert.equal(n.children.length, MAX_TERMS);
  });

  it('writes a query back so that it parses to the same tree', () => {
    for (const q of ['a b | c', '(@user a) b', '-(a | b) c', '"the office"* -x', '@name a @description b | (c @file d)', 'a | -b']) {
      const n = parseQuery(q);
      assert.deepEqual(parseQuery(formatQuery(n)), n, `${q} → ${formatQuery(n)}`);
    }
    assert.equal(formatQuery(null), '');
  });
});

describe('query compilation', () => {
  it('compiles terms, phrases, prefixes and scopes for FTS5', () => {
    assert.deepEqual(compileFts5(parseQuery('Série')), { match: '"serie"', exclude: null });
    assert.deepEqual(compileFts5(parseQuery('@name vik* @file "the office"')), { match: '(name : "vik" * AND files : "the office")', exclude: null });
    assert.deepEqual(compileFts5(parseQuery('a | b c')), { match: '("a" OR ("b" AND "c"))', exclude: null });
  });

  it('compiles the same for PostgreSQL with weights and prefixes', () => {
    assert.deepEqual(compileTsquery(parseQuery('@name vik* @file "the office" @user bob @description d')), {
      match: "('vik':*A & ('the':C <-> 'office':C) & 'bob':D & 'd':B)",
      exclude: null,
    });
    assert.deepEqual(compileTsquery(parseQuery('"spider man"*')), { match: "('spider' <-> 'man':*)", exclude: null });
  });

  it('moves negations so that FTS5 always has a left operand', () => {
    assert.deepEqual(compileFts5(parseQuery('a -b')), { match: '("a" NOT "b")', exclude: null });
    assert.deepEqual(compileFts5(parseQuery('-b')), { match: null, exclude: '"b"' });
    assert.deepEqual(compileFts5(parseQuery('-a -b')), { match: null, exclude: '("a" OR "b")' });
    assert.deepEqual(compileFts5(parseQuery('-a | -b')), { match: null, exclude: '("a" AND "b")' });
    assert.deepEqual(compileFts5(parseQuery('a | -b')), { match: null, exclude: '("b" NOT "a")' });
    assert.deepEqual(compileFts5(parseQuery('-(a -b)')), { match: null, exclude: '("a" NOT "b")' });
    assert.deepEqual(compileTsquery(parseQuery('a -b')), { match: "('a' & !'b')", exclude: null });
    assert.deepEqual(compileFts5(null), { match: null, exclude: null });
  });
});

/**
 * Properties of the search language, against the real engines (SQLite FTS5 always, PostgreSQL
 * when ESSAIM_TEST_PG_URL is set):
 * - any input parses without throwing, into a well-formed tree, and the compiled expressions are
 *   accepted by the engine (searchTorrents never fails on them);
 * - writing a tree back and parsing it again gives the same tree;
 * - what the engine returns is exactly what a direct evaluation of the tree over the indexed
 *   words gives (AND, OR, NOT, phrases, prefixes, field scopes), on documents with accents,
 *   capitals and punctuation, some of them anonymous.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { forEachDialect, type TestDatabase } from '../../db/test-databases.js';
import { indexTorrents, searchDocument } from './indexer.js';
import { MAX_TERMS, formatQuery, parseQuery, SEARCH_FIELDS, type QueryNode, type SearchField } from './query.js';
import { searchTorrents } from './search.js';

const VOCAB = ['Série', 'serie', 'SERIES', 'vikings', 'Vikings', 'été', 'ete', 'x264', 'french', 'alpha', 'al', 'alp', '2015', 's01e04', 'Œuvre', 'oeuvre'];
const OPERATORS = [' ', ' ', ' ', ' ', ' ', ' | ', '|', ' & ', ' -', ' -', '(', ')', ' "', '" ', '* ', ' @name ', ' @description ', ' @file ', ' @user ', ' @all ', ' @nom ', '!', '.'];

/** Token soups: mostly words and operators, sometimes arbitrary text. */
const querySoup = fc
  .array(
    fc.oneof(
      {
        weight: 6,
        arbitrary: fc.tuple(fc.constantFrom(...VOCAB, 'ali', 'bob', 'Émile', 'vik', 'se', 's0'), fc.constantFrom(' ', ' ', ' ', '* ', '', '-', ')')).map(([w, sep]) => w + sep),
      },
      { weight: 5, arbitrary: fc.constantFrom(...OPERATORS) },
      { weight: 1, arbitrary: fc.string({ maxLength: 4 }) },
    ),
    { minLength: 1, maxLength: 9 },
  )
  .map((parts) => parts.join(''));

const anyText = fc.oneof(querySoup, fc.string({ maxLength: 120 }), fc.string({ unit: 'binary', maxLength: 120 }));

function wellFormed(n: QueryNode, depth = 0): void {
  assert.ok(depth < 64, 'bounded depth');
  switch (n.kind) {
    case 'term':
      assert.ok(n.words.length > 0, 'a term has words');
      for (const w of n.words) assert.match(w, /^[\p{L}\p{N}]+$/u, 'words are letters and digits');
      assert.ok(n.field === null || SEARCH_FIELDS.includes(n.field), 'a known field');
      break;
    case 'not':
      assert.notEqual(n.child.kind, 'not', 'no double negation');
      wellFormed(n.child, depth + 1);
      break;
    default:
      assert.ok(n.children.length >= 2, 'groups have two children or more');
      for (const c of n.children) {
        assert.notEqual(c.kind, n.kind, 'nested groups of the same kind are flattened');
        wellFormed(c, depth + 1);
      }
  }
}

function countTerms(n: QueryNode): number {
  if (n.kind === 'term') return 1;
  if (n.kind === 'not') return countTerms(n.child);
  return n.children.reduce((s, c) => s + countTerms(c), 0);
}

describe('query language properties (pure)', () => {
  it('parses anything without throwing, into well-formed trees', () => {
    fc.assert(
      fc.property(anyText, (q) => {
        const n = parseQuery(q);
        if (n) {
          wellFormed(n);
          assert.ok(countTerms(n) <= MAX_TERMS, 'at most MAX_TERMS terms');
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('round-trips through formatQuery', () => {
    fc.assert(
      fc.property(querySoup, (q) => {
        const n = parseQuery(q);
        assert.deepEqual(parseQuery(formatQuery(n)), n, `${q} → ${formatQuery(n)}`);
      }),
      { numRuns: 1000 },
    );
  });
});

type Doc = Record<SearchField, string[]>;

/** The tree evaluated directly over the indexed words of a document. */
function evaluate(n: QueryNode, doc: Doc): boolean {
  switch (n.kind) {
    case 'term': {
      const fields = n.field ? [n.field] : SEARCH_FIELDS;
      return fields.some((f) => {
        const words = doc[f];
        for (let i = 0; i + n.words.length <= words.length; i++) {
          let ok = true;
          for (let k = 0; k < n.words.length && ok; k++) {
            const w = words[i + k]!;
            const last = k === n.words.length - 1;
            ok = last && n.prefix ? w.startsWith(n.words[k]!) : w === n.words[k];
          }
          if (ok) return true;
        }
        return false;
      });
    }
    case 'not':
      return !evaluate(n.child, doc);
    case 'and':
      return n.children.every((c) => evaluate(c, doc));
    case 'or':
      return n.children.some((c) => evaluate(c, doc));
  }
}

const wordsOf = (parts: string[], seps: string[]) => parts.map((p, i) => p + (seps[i % seps.length] ?? ' ')).join('');

const docArb = fc.record({
  name: fc.array(fc.constantFrom(...VOCAB), { minLength: 1, maxLength: 5 }),
  nameSeps: fc.array(fc.constantFrom(' ', '.', '-', '_', ' – '), { minLength: 1, maxLength: 3 }),
  description: fc.array(fc.constantFrom(...VOCAB), { maxLength: 8 }),
  files: fc.array(fc.array(fc.constantFrom(...VOCAB), { minLength: 1, maxLength: 3 }), { maxLength: 3 }),
  uploader: fc.constantFrom('alice', 'bob', 'Émile'),
  anonymous: fc.boolean(),
});

forEachDialect((name, open) => {
  describe(`query language against the engine (${name})`, () => {
    let t: TestDatabase;
    const docs = new Map<number, Doc>();
    before(async () => {
      t = await open();
      const db = t.db;
      const users = new Map<string, number>();
      for (const [i, u] of ['alice', 'bob', 'Émile'].entries()) {
        const r = await db
          .insertInto('user')
          .values({ username: u, email: `${i}@x.test`, passkey: String(i).repeat(32), rss_key: String(i + 5).repeat(32), created_at: 0, updated_at: 0 })
          .returning('id')
          .executeTakeFirstOrThrow();
        users.set(u, r.id);
      }
      const samples = fc.sample(docArb, { numRuns: 120, seed: 4110 });
      let id = 90_000;
      for (const d of samples) {
        id++;
        const torrentName = wordsOf(d.name, d.nameSeps);
        const files = d.files.map((f) => f.join('/') + '.mkv');
        await db
          .insertInto('torrent')
          .values({
            id,
            name: torrentName,
            info_hash_v1: id.toString(16).padStart(40, '0'),
            info_hash_v2: null,
            deleted_reason: null,
            deleted_at: null,
            uploader_id: users.get(d.uploader)!,
            created_at: 1_000_000 + id,
            slug: null,
            category_id: null,
            nfo: null,
            updated_at: null,
            description: d.description.join(' '),
            anonymous: d.anonymous ? 1 : 0,
          })
          .execute();
        for (const [idx, path] of files.entries()) await db.insertInto('torrent_file').values({ torrent_id: id, idx, path, size: 1 }).execute();
        const doc = searchDocument({ name: torrentName, description: d.description.join(' '), descriptionFormat: 'bbcode', files, uploader: d.uploader, anonymous: d.anonymous });
        docs.set(id, { name: doc.name.split(' ').filter(Boolean), description: doc.description.split(' ').filter(Boolean), files: doc.files.split(' ').filter(Boolean), uploader: doc.uploader.split(' ').filter(Boolean) });
      }
      await indexTorrents(db, [...docs.keys()]);
    });
    after(() => t.close());

    it('finds exactly the documents the query denotes', async () => {
      let selective = 0;
      let runs = 0;
      await fc.assert(
        fc.asyncProperty(querySoup, async (q) => {
          const n = parseQuery(q);
          const want = [...docs].filter(([, d]) => (n ? evaluate(n, d) : true)).map(([id]) => id);
          // Every SQLite plan gives the same answer (PostgreSQL has one plan).
          for (const plan of ['auto', 'set', 'walk'] as const) {
            const r = await searchTorrents(t.db, { text: q, limit: 200, countCap: 1000, plan });
            const got = r.rows.map((x) => x.id).sort((a, b) => a - b);
            assert.deepEqual(got, want, `query ${JSON.stringify(q)} (${formatQuery(n)}), plan ${plan}`);
            assert.equal(r.total, want.length, `total, plan ${plan}`);
          }
          runs++;
          if (want.length > 0 && want.length < docs.size) selective++;
        }),
        { numRuns: name === 'postgres' ? 150 : 300 },
      );
      // Not a vacuous check: many queries select some documents and not others.
      assert.ok(selective > runs / 4, `selective queries: ${selective} of ${runs}`);
    });

    it('accepts any text without an engine error', async () => {
      await fc.assert(
        fc.asyncProperty(anyText, async (q) => {
          await searchTorrents(t.db, { text: q, limit: 5 });
        }),
        { numRuns: name === 'postgres' ? 150 : 400 },
      );
    });
  });
});

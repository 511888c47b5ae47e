/**
 * The UNIT3D API's pure parts: freeleech percentages, Laravel dates, ids read from descriptions,
 * resolutions named by quality terms, query parameters as Laravel reads them, and the search text
 * built from UNIT3D's filters (it must survive the query language's parser unchanged).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { factorBounds, Params, parseFilter, ValidationFailed } from '../../src/api/unit3d/filter.js';
import { externalIds, FREELEECH_BANDS, freeleechPercent, imdbTag, isGenreTermType, isTypeTermType, laravelDate, resolutionOf } from '../../src/api/unit3d/resource.js';
import { formatQuery, parseQuery, type QueryNode } from '../../src/site/search/query.js';
import { effectiveFactors } from '../../src/site/rules/freeleech.js';
import type { FactorBand } from '../../src/site/search/search.js';

describe('UNIT3D mapping', () => {
  it('shows freeleech in quarters, rounded down', () => {
    const cases: Array<[number, number]> = [
      [0, 100],
      [0.2, 75],
      [0.25, 75],
      [0.3, 50],
      [0.5, 50],
      [0.75, 25],
      [0.99, 0],
      [1, 0],
      [2, 0],
      [-1, 100],
      [Number.NaN, 0],
    ];
    for (const [factor, percent] of cases) assert.equal(freeleechPercent(factor), percent, `download factor ${factor}`);
  });

  it("writes dates as Laravel does", () => {
    assert.equal(laravelDate(1634517290), '2021-10-18T00:34:50.000000Z');
    assert.equal(laravelDate(0), '1970-01-01T00:00:00.000000Z');
  });

  it('reads TMDB, IMDb, TheTVDB and MyAnimeList ids from descriptions', () => {
    assert.deepEqual(externalIds(''), { tmdb: 0, imdb: 0, tvdb: 0, mal: 0 });
    assert.deepEqual(
      externalIds(
        '[url=https://www.themoviedb.org/tv/1399-game-of-thrones]TMDB[/url] [url]https://www.imdb.com/title/tt0944947/[/url] https://thetvdb.com/?tab=series&id=121361 https://myanimelist.net/anime/5114/x',
      ),
      { tmdb: 1399, imdb: 944947, tvdb: 121361, mal: 5114 },
    );
    assert.equal(externalIds('https://thetvdb.com/dereferrer/series/81189').tvdb, 81189);
    assert.equal(externalIds('https://thetvdb.com/series/breaking-bad').tvdb, 0, 'a slug is no id');
    assert.equal(externalIds('att1234567 or tt123').imdb, 0, 'tt must start a word and have seven digits or more');
    assert.equal(imdbTag(111161), 'tt0111161');
    assert.equal(imdbTag(12345678), 'tt12345678');
  });

  it('reads resolutions from quality terms and recognises type and genre term types', () => {
    assert.equal(resolutionOf('WEB-DL 1080p'), '1080p');
    assert.equal(resolutionOf('HDrip 4K (from a 4K source)'), '2160p');
    assert.equal(resolutionOf('TVrip HD 720p (from an HD source)'), '720p');
    assert.equal(resolutionOf('Blu-ray (remux)'), '1080p');
    assert.equal(resolutionOf('Blu-ray 4K (full disc or remux)'), '2160p');
    assert.equal(resolutionOf('DVDrip (from a DVD)'), null);
    assert.equal(resolutionOf('WEB-DL'), null);
    assert.ok(isTypeTermType('Video - Quality') && isTypeTermType('eBook - Format') && isTypeTermType('Audio - Format'), 'quality and format types');
    assert.ok(!isTypeTermType('Audio - Source') && !isTypeTermType('Video - Genre'), 'others are not types');
    assert.ok(isGenreTermType('Video - Genre') && !isGenreTermType('Audio - Podcast genres'), 'genre types');
  });
});

describe('UNIT3D filter parameters', () => {
  it('reads lists in every form PHP accepts, and skips empty values', () => {
    const p = new Params('/api/torrents/filter?categories[]=1&categories=2&categories[7]=3&categories[]=&categoriesx=9&free%5B%5D=&api_token=secret');
    assert.deepEqual(p.all('categories'), ['1', '2', '3']);
    assert.deepEqual(p.all('free'), []);
    assert.equal(p.one('name'), null);
    assert.ok(!p.withPage(2).includes('secret') && p.withPage(2).endsWith('page=2'), 'links lose the token');
    assert.ok(!new Params('/x?doubleup=0').flag('doubleup') && new Params('/x?doubleup=1').flag('doubleup') && new Params('/x?doubleup=yes').flag('doubleup'), 'flags');
  });

  it('maps sorting onto the search, newest first by default', () => {
    const d = parseFilter(new Params('/x'));
    assert.equal(d.sort, 'age');
    assert.equal(d.order, 'asc', 'age ascending is the newest first');
    assert.equal(d.perPage, 25);
    const old = parseFilter(new Params('/x?sortField=created_at&sortDirection=asc'));
    assert.equal(old.order, 'desc');
    const big = parseFilter(new Params('/x?sortField=size&sortDirection=desc&perPage=1000&page=3'));
    assert.deepEqual([big.sort, big.order, big.perPage, big.page], ['size', 'desc', 100, 3]);
  });

  it('names every bad parameter in a Laravel validation failure', () => {
    assert.throws(
      () => parseFilter(new Params('/x?sortField=bogus&sortDirection=up&perPage=0&page=x&tmdbId=1e3&categories[]=a&free[]=150')),
      (err: unknown) => {
        assert.ok(err instanceof ValidationFailed, 'a ValidationFailed');
        assert.deepEqual(Object.keys(err.errors).sort(), ['categories', 'free', 'page', 'perPage', 'sortDirection', 'sortField', 'tmdbId']);
        assert.match(err.message, /^The selected sort field is invalid\. \(and 6 more errors\)$/);
        return true;
      },
    );
  });

  it('builds a search text that the query language reads back unchanged', () => {
    const spec = parseFilter(new Params('/x?name=The.Office%20US&tvdbId=73244&imdbId=0386676&tmdbId=2316&seasonNumber=2&episodeNumber=3&file_name=a-b.mkv&keywords=foo%20bar,baz'));
    assert.ok(spec.text, 'a text');
    const text = formatQuery(spec.text);
    // The parser flattens nested ANDs; every term keeps its field, words and prefix.
    const terms = (n: QueryNode | null, out: string[] = []): string[] => {
      if (!n) return out;
      if (n.kind === 'term') out.push(`${n.field}:${n.words.join(' ')}${n.prefix ? '*' : ''}`);
      else if (n.kind === 'not') terms(n.child, out);
      else for (const c of n.children) terms(c, out);
      return out;
    };
    assert.deepEqual(terms(parseQuery(text)), terms(spec.text), `round trip of ${text}`);
    assert.equal(formatQuery(parseQuery(formatQuery(parseQuery(text)))), formatQuery(parseQuery(text)), 'stable');
    assert.match(text, /tt0386676/);
    assert.match(text, /"themoviedb org movie 2316" \| "themoviedb org tv 2316"/);
    assert.match(text, /s02e03\*/);
    assert.match(text, /@name the office us\*/);
    const nothing = parseFilter(new Params('/x?name=%20%2B%2B%20'));
    assert.equal(nothing.text, null, 'punctuation only: no text condition');
    assert.ok(parseFilter(new Params('/x?featured=1')).impossible, 'featured selects nothing');
  });

  it('turns free[] and doubleup into bounds on the own factors: windows decided for the whole query, tokens as free torrents', () => {
    const none = { upload: 1, download: 1 };
    const spec = (free: number[] | null, doubleup = false) => ({ free: free === null ? null : new Set(free), doubleup });
    assert.deepEqual(factorBounds(spec(null), none, [7]), {}, 'no factor filter');
    assert.deepEqual(factorBounds(spec(null, true), none, []), { uploadFactorAtLeast: 2 });
    assert.deepEqual(factorBounds(spec(null, true), { upload: 2, download: 1 }, []), {}, 'a double-upload window: every torrent');
    assert.deepEqual(factorBounds(spec([100]), none, [7, 9]), { downloadFactorBands: [{ above: null, atMost: 1e-11 }], freeTorrentIds: [7, 9] });
    assert.deepEqual(factorBounds(spec([100]), { upload: 1, download: 0 }, [7]), {}, 'a freeleech window makes everything free: nothing to filter');
    assert.equal(factorBounds(spec([0]), { upload: 1, download: 0 }, []), null, 'nothing is 0% under a freeleech window');
    assert.equal(factorBounds(spec([10, 30]), none, []), null, 'no torrent shows other than quarters');
    assert.deepEqual(factorBounds(spec([50, 75, 100, 0, 25]), none, [1]), {}, 'every percentage: no bound');
    const merged = factorBounds(spec([75, 50]), none, []);
    assert.deepEqual(merged, { downloadFactorBands: [{ above: 1e-11, atMost: 0.5 + 1e-11 }] }, 'adjacent bands merged');
    const split = factorBounds(spec([50, 100]), none, []);
    assert.equal(split?.downloadFactorBands?.length, 2, 'separate bands');
    // Against the direct evaluation: every percentage set, window and own factor, with and without a token.
    const inBands = (d: number, bands: readonly FactorBand[] | null | undefined) => !bands || bands.some((b) => (b.above == null || d > b.above) && (b.atMost == null || d <= b.atMost));
    const sets = Array.from({ length: 32 }, (_, mask) => [100, 75, 50, 25, 0].filter((_, i) => mask & (1 << i)));
    for (const free of sets) {
      for (const window of [1, 0.75, 0.5, 0.3, 0]) {
        for (const own of [0, 0.2, 0.25, 0.4, 0.5, 0.6, 0.75, 0.8, 1, 2]) {
          for (const token of [false, true]) {
            const b = factorBounds(spec(free), { upload: 1, download: window }, token ? [42] : []);
            const shown = freeleechPercent(effectiveFactors({ upload_factor: 1, download_factor: own, factors_until: null }, [{ starts_at: 0, ends_at: 10, upload_factor: 1, download_factor: window }], token, 5).download);
            const found = b !== null && inBands(b.freeTorrentIds?.includes(42) ? 0 : own, b.downloadFactorBands);
            assert.equal(found, free.includes(shown), `free[]=${free} window ${window} own ${own} token ${token}: shows ${shown}%`);
          }
        }
      }
    }
    assert.deepEqual(FREELEECH_BANDS.map((b) => b.percent), [100, 75, 50, 25, 0]);
  });
});

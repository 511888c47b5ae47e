/**
 * The website's benchmark (issue #3): at N torrents (default 1,000,000) on SQLite, the p95 time of
 *   1. the browse page (GET /browse, default order, a random page among the first 20),
 *   2. a search with text, two term filters and a sort (GET /browse?q=...&term=a&term=b&sort=...),
 *   3. the search suggestions (GET /search/suggest?q=...),
 * measured over HTTP on loopback from this process (so the figure includes the query, the page
 * render and the HTTP round trip), one request at a time after a warm-up.
 *
 * Usage: npx tsx bench/site-bench.ts [--torrents N] [--users M] [--data DIR] [--requests R] [--write]
 * The database in DIR (default /tmp/essaim-site-bench) is generated once with `essaim demo`'s
 * generator and reused by later runs with the same or fewer torrents. --write puts the table into
 * docs/benchmarks.md between <!-- BEGIN SITE BENCH --> and <!-- END SITE BENCH -->.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../src/config/index.js';
import { createEssaim } from '../src/compose.js';
import { openDatabase } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { installDefaultTaxonomy } from '../src/site/catalogue/taxonomy.js';
import { generateDemo } from '../src/site/demo/generate.js';

const args = process.argv.slice(2);
const opt = (name: string, d: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1]! : d;
};
const torrents = Number(opt('--torrents', '1000000'));
const users = Number(opt('--users', '10000'));
const dataDir = opt('--data', '/tmp/essaim-site-bench');
const requests = Number(opt('--requests', '300'));
const write = args.includes('--write');

let seed = 7;
const rand = () => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed / 2 ** 31;
};
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;

async function prepare(): Promise<{ twoTermCats: Array<{ cat: number; a: number[]; b: number[] }> }> {
  const d = await openDatabase('', { dataDir, poolSize: 1 });
  try {
    await migrateToLatest(d.db);
    await installDefaultTaxonomy(d.db);
    const have = Number((await d.db.selectFrom('torrent').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
    if (have < torrents) {
      const started = performance.now();
      let last = 0;
      await generateDemo(d.db, {
        torrents: torrents - have,
        users: have === 0 ? users : 0,
        seed: 1000 + have,
        now: Math.floor(Date.now() / 1000),
        progress: (done, total, phase) => {
          if (performance.now() - last > 10_000 || done === total) {
            last = performance.now();
            process.stderr.write(`generating ${phase}: ${done}/${total} (${((performance.now() - started) / 1000).toFixed(0)} s)\n`);
          }
        },
      });
    }
    // Subcategories with at least two term types that have terms: the search filters.
    const rows = await d.db
      .selectFrom('category_term_type')
      .innerJoin('term', 'term.term_type_id', 'category_term_type.term_type_id')
      .select(['category_term_type.category_id as cat', 'term.term_type_id as type', 'term.id as term'])
      .execute();
    const byCat = new Map<number, Map<number, number[]>>();
    for (const r of rows) {
      const types = byCat.get(r.cat) ?? byCat.set(r.cat, new Map()).get(r.cat)!;
      (types.get(r.type) ?? types.set(r.type, []).get(r.type)!).push(r.term);
    }
    const twoTermCats: Array<{ cat: number; a: number[]; b: number[] }> = [];
    for (const [cat, types] of byCat) {
      const lists = [...types.values()];
      if (lists.length >= 2) twoTermCats.push({ cat, a: lists[0]!, b: lists[1]! });
    }
    return { twoTermCats };
  } finally {
    await d.close();
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function measure(base: string, name: string, makeUrl: () => string): Promise<{ name: string; p50: number; p95: number; p99: number; max: number; bytes: number }> {
  for (let i = 0; i < 20; i++) await (await fetch(base + makeUrl())).arrayBuffer();
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < requests; i++) {
    const url = makeUrl();
    const t0 = performance.now();
    const res = await fetch(base + url);
    const body = await res.arrayBuffer();
    times.push(performance.now() - t0);
    if (res.status !== 200) throw new Error(`${url}: HTTP ${res.status}`);
    bytes += body.byteLength;
  }
  times.sort((a, b) => a - b);
  return { name, p50: percentile(times, 50), p95: percentile(times, 95), p99: percentile(times, 99), max: times[times.length - 1]!, bytes: Math.round(bytes / requests) };
}

// Words of the demo's titles and descriptions (each in a few percent of the torrents), with an OR, a
// NOT and a prefix. (Databases generated before the demo varied its descriptions have "edition" in
// every torrent: not used here.)
const WORDS = ['miserables', 'serie', 'ubuntu', 'blender', 'foret', 'ocean*', 'linux', 'histoire', 'cinema', 'debian | fedora', 'collection -archive', 'germinal'];
const SORTS = ['age', 'name', 'size', 'seeders', 'leechers', 'completed', 'comments'];

async function main(): Promise<void> {
  const { twoTermCats } = await prepare();
  const config = loadConfig({
    env: {},
    overrides: {
      server: { data_dir: dataDir },
      web: { port: 0 },
      tracker: { http_port: 0, udp_port: 0, udp_host6: '' },
      metrics: { enabled: false },
      log: { level: 'warn' },
    } as never,
  });
  const app = createEssaim(config);
  const l = await app.start();
  const base = l.web!;
  const results = [];
  try {
    results.push(await measure(base, 'browse page (default order, pages 1-20)', () => `/browse?page=${1 + Math.floor(rand() * 20)}`));
    results.push(await measure(base, 'browse page sorted by seeders', () => `/browse?sort=seeders&order=desc&page=${1 + Math.floor(rand() * 20)}`));
    results.push(
      await measure(base, 'search: text + two term filters + sort', () => {
        const c = pick(twoTermCats);
        return `/browse?q=${encodeURIComponent(pick(WORDS))}&category=${c.cat}&term=${pick(c.a)}&term=${pick(c.b)}&sort=${pick(SORTS)}&order=${pick(['asc', 'desc'])}`;
      }),
    );
    results.push(await measure(base, 'search: text only, by relevance/age', () => `/browse?q=${encodeURIComponent(pick(WORDS))}`));
    results.push(await measure(base, 'suggestions', () => `/search/suggest?q=${encodeURIComponent(pick(['ub', 'mis', 'ser', 'ble', 'deb', 'oce']))}`));
  } finally {
    await app.stop();
  }
  const count = torrents.toLocaleString('en');
  const lines = [
    `| request (${count} torrents, SQLite, ${requests} sequential requests) | p50 ms | p95 ms | p99 ms | max ms | bytes |`,
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...results.map((r) => `| ${r.name} | ${r.p50.toFixed(1)} | ${r.p95.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.max.toFixed(1)} | ${r.bytes} |`),
  ];
  const table = lines.join('\n');
  process.stdout.write(table + '\n');
  if (write) {
    const doc = 'docs/benchmarks.md';
    const BEGIN = '<!-- BEGIN SITE BENCH -->';
    const END = '<!-- END SITE BENCH -->';
    const block = `${BEGIN}\nProduced by \`npx tsx bench/site-bench.ts --torrents ${torrents} --write\` on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), Node.js ${process.version}. Times are measured by the client over loopback HTTP: query, page render and round trip.\n\n${table}\n${END}`;
    let text = existsSync(doc) ? readFileSync(doc, 'utf8') : '';
    if (text.includes(BEGIN)) text = text.slice(0, text.indexOf(BEGIN)) + block + text.slice(text.indexOf(END) + END.length);
    else text += `\n## Website (issue #3)\n\n${block}\n`;
    writeFileSync(doc, text);
  }
}

await main();

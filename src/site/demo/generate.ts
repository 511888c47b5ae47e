/**
 * Synthetic data for trying the site and for benchmarks (`essaim demo --torrents N --users M`):
 * members, and torrents spread over the installed taxonomy with terms, files, swarm counts,
 * descriptions with accents (so that accent-free search can be tried), and real metainfo for the
 * first `metainfoLimit` torrents (beyond that, torrents have swarm hashes but no .torrent file, to
 * keep a million-torrent database small). Deterministic for a given seed. Content-neutral names:
 * Linux images, open films, public-domain books, free software.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { bencode } from '../../protocol/bencode.js';
import type { Database, NewTorrent } from '../../db/schema.js';
import { slugify } from '../../web/format.js';
import { hashPassword } from '../passwords.js';
import { indexTorrents } from '../search/indexer.js';

export interface DemoOptions {
  torrents: number;
  users: number;
  seed?: number;
  /** Torrents that get a real .torrent file (default 5000). */
  metainfoLimit?: number;
  /** Password of every demo member. */
  password?: string;
  now: number;
  /** Called after each batch. */
  progress?: (done: number, total: number, phase: string) => void;
}

export interface DemoResult {
  users: number;
  torrents: number;
  firstUsername: string | null;
  password: string;
}

interface DemoItem {
  row: NewTorrent;
  infoHash: string;
  metainfo: Buffer | null;
  files: Array<{ path: string; size: number }>;
  tterms: Array<{ term_id: number; term_type_id: number }>;
}

/** mulberry32: small, fast, deterministic. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TITLES = [
  'Ubuntu Desktop', 'Debian Live', 'Fedora Workstation', 'Arch Linux', 'Linux Mint Cinnamon', 'openSUSE Tumbleweed', 'FreeBSD',
  'Big Buck Bunny', 'Sintel', 'Tears of Steel', 'Elephants Dream', 'Cosmos Laundromat', 'Spring', 'Agent 327',
  'Les Misérables', 'Le Comte de Monte-Cristo', 'Vingt mille lieues sous les mers', 'Germinal', 'Madame Bovary', 'Le Tour du monde en quatre-vingts jours',
  'Pride and Prejudice', 'Moby Dick', 'The Time Machine', 'Frankenstein', 'Dracula', 'Les Trois Mousquetaires',
  'Série Découverte', 'Été indien', 'Forêt boréale', 'Océans', 'Cinéma libre', 'Musique du monde', 'Théâtre classique',
  'LibreOffice', 'GIMP', 'Inkscape', 'Blender', 'Krita', 'Audacity', 'VLC media player', 'Godot Engine', 'OpenTTD', '0 A.D.', 'SuperTuxKart',
  'Wikipedia dump', 'OpenStreetMap extract', 'Project Gutenberg collection', 'Internet Archive concert', 'Creative Commons sampler',
];
const TAGS = ['1080p', '720p', '2160p', 'x264', 'x265', 'FLAC', 'MP3 320', 'EPUB', 'PDF', 'amd64', 'arm64', 'ISO', 'VOSTFR', 'FRENCH', 'MULTi', 'REMASTERED', 'WEB', 'BluRay'];
const WORDS = ['libre', 'ouvert', 'édition', 'spéciale', 'complète', 'intégrale', 'version', 'officielle', 'archive', 'collection', 'saison', 'épisode', 'naturel', 'histoire', 'science', 'données'];

export async function generateDemo(db: Kysely<Database>, o: DemoOptions): Promise<DemoResult> {
  const rand = rng(o.seed ?? 411);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const password = o.password ?? 'demo-password';
  const metainfoLimit = o.metainfoLimit ?? 5000;

  // Members.
  const hash = await hashPassword(password);
  const existingUsers = await db.selectFrom('user').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  const base = Number(existingUsers.n);
  const userIds: number[] = [];
  let firstUsername: string | null = null;
  for (let i = 0; i < o.users; i += 500) {
    const rows = [];
    for (let j = i; j < Math.min(o.users, i + 500); j++) {
      const username = `demo${String(base + j + 1).padStart(6, '0')}`;
      firstUsername ??= username;
      const up = Math.floor(rand() ** 3 * 5e12);
      const down = Math.floor(rand() ** 2 * 3e12);
      rows.push({
        username,
        email: `${username}@demo.invalid`,
        password_hash: hash,
        passkey: randomBytes(16).toString('hex'),
        rss_key: randomBytes(16).toString('hex'),
        role: 'member' as const,
        disabled_reason: null,
        uploaded: up,
        downloaded: down,
        raw_uploaded: up,
        raw_downloaded: down,
        created_at: o.now - Math.floor(rand() * 3 * 365 * 86400),
        updated_at: o.now,
        privacy: pick(['low', 'normal', 'normal', 'strong'] as const),
      });
    }
    const ids = await db.insertInto('user').values(rows).returning('id').execute();
    for (const r of ids) userIds.push(r.id);
    o.progress?.(Math.min(o.users, i + 500), o.users, 'members');
  }
  if (userIds.length === 0) {
    const any = await db.selectFrom('user').select('id').limit(1000).execute();
    for (const r of any) userIds.push(r.id);
  }
  if (userIds.length === 0 && o.torrents > 0) throw new Error('demo: torrents need at least one member (use --users)');

  // The taxonomy: subcategories with their term types and terms.
  const subcats = await db.selectFrom('category').select('id').where('parent_id', 'is not', null).execute();
  if (subcats.length === 0 && o.torrents > 0) throw new Error('demo: no categories installed');
  const bindings = await db
    .selectFrom('category_term_type')
    .innerJoin('term_type', 'term_type.id', 'category_term_type.term_type_id')
    .select(['category_term_type.category_id', 'term_type.id', 'term_type.mode'])
    .where('term_type.deprecated', '=', 0)
    .execute();
  const terms = await db.selectFrom('term').select(['id', 'term_type_id']).where('deprecated', '=', 0).execute();
  const termsByType = new Map<number, number[]>();
  for (const t of terms) (termsByType.get(t.term_type_id) ?? termsByType.set(t.term_type_id, []).get(t.term_type_id)!).push(t.id);
  const typesByCat = new Map<number, Array<{ id: number; mode: string }>>();
  for (const b of bindings) (typesByCat.get(b.category_id) ?? typesByCat.set(b.category_id, []).get(b.category_id)!).push({ id: b.id, mode: b.mode });

  const BATCH = 1000;
  let made = 0;
  for (let i = 0; i < o.torrents; i += BATCH) {
    const n = Math.min(BATCH, o.torrents - i);
    const items: DemoItem[] = [];
    for (let j = 0; j < n; j++) {
      const k = i + j;
      const title = `${pick(TITLES)} ${pick(WORDS)} ${2000 + Math.floor(rand() * 27)} ${pick(TAGS)} ${k + 1}`;
      const fileCount = 1 + Math.floor(rand() ** 3 * 6);
      const size = Math.floor(2 ** (20 + rand() * 16));
      const files = Array.from({ length: fileCount }, (_, f) => ({ path: fileCount === 1 ? `${slugify(title)}.bin` : `${slugify(title)}/part-${f + 1}.${pick(['mkv', 'flac', 'epub', 'iso', 'txt', 'nfo'])}`, size: Math.floor(size / fileCount) }));
      const total = files.reduce((s, f) => s + f.size, 0);
      let metainfo: Buffer | null = null;
      let infoHash: string;
      if (k < metainfoLimit) {
        let pieceLength = 16384;
        while (Math.ceil(total / pieceLength) > 256) pieceLength *= 2;
        const info =
          fileCount === 1
            ? { length: total, name: files[0]!.path, 'piece length': pieceLength, pieces: randomBytes(20 * Math.ceil(total / pieceLength)), private: 1, source: 'essaim-demo' }
            : {
                files: files.map((f) => ({ length: f.size, path: f.path.split('/').slice(1) })),
                name: files[0]!.path.split('/')[0]!,
                'piece length': pieceLength,
                pieces: randomBytes(20 * Math.ceil(total / pieceLength)),
                private: 1,
                source: 'essaim-demo',
              };
        const infoBytes = bencode(info);
        infoHash = createHash('sha1').update(infoBytes).digest('hex');
        // The info dict's exact bytes spliced into the top-level dict (keys in sorted order).
        metainfo = Buffer.concat([Buffer.from('d10:created by11:essaim demo13:creation datei' + o.now + 'e4:info'), infoBytes, Buffer.from('e')]);
      } else {
        infoHash = randomBytes(20).toString('hex');
      }
      const cat = pick(subcats).id;
      const seeders = Math.floor(rand() ** 4 * 400);
      const leechers = Math.floor(rand() ** 5 * 100);
      const tterms: Array<{ term_id: number; term_type_id: number }> = [];
      for (const tt of typesByCat.get(cat) ?? []) {
        const pool = termsByType.get(tt.id) ?? [];
        if (pool.length === 0 || rand() < 0.15) continue;
        const count = tt.mode === 'multi' ? 1 + Math.floor(rand() * Math.min(3, pool.length)) : 1;
        const chosen = new Set<number>();
        while (chosen.size < count) chosen.add(pick(pool));
        for (const id of chosen) tterms.push({ term_id: id, term_type_id: tt.id });
      }
      items.push({
        row: {
          name: title,
          slug: slugify(title),
          info_hash_v1: infoHash,
          info_hash_v2: null,
          size: total,
          status: 'active' as const,
          deleted_reason: null,
          deleted_at: null,
          uploader_id: pick(userIds),
          times_completed: Math.floor(rand() ** 3 * 2000),
          created_at: o.now - Math.floor(rand() ** 1.5 * 5 * 365 * 86400),
          category_id: cat,
          // Varied words, as real descriptions are (a word in every description makes a useless search).
          description: `[b]${title}[/b]\n\n${pick(WORDS)} ${pick(WORDS)} [i]${pick(WORDS)}[/i] ${pick(TITLES)}.\n[list][*]${files.length} ${pick(['fichiers', 'files', 'parties', 'volumes'])}[*]${pick(WORDS)} ${pick(WORDS)}[/list]`,
          description_format: 'bbcode' as const,
          anonymous: (rand() < 0.05 ? 1 : 0) as 0 | 1,
          verified: (rand() < 0.9 ? 1 : 0) as 0 | 1,
          file_count: files.length,
          comment_count: Math.floor(rand() ** 4 * 50),
          seeders,
          leechers,
          updated_at: null,
        },
        infoHash,
        metainfo,
        files,
        tterms,
      });
    }
    const ids = await db.transaction().execute(async (trx) => {
      const inserted = await trx.insertInto('torrent').values(items.map((x) => x.row)).returning('id').execute();
      const tids = inserted.map((r) => r.id);
      await trx.insertInto('torrent_swarm').values(items.map((x, j) => ({ info_hash: x.infoHash, torrent_id: tids[j]!, version: 1 as const }))).execute();
      const fileRows = items.flatMap((x, j) => x.files.map((f, idx) => ({ torrent_id: tids[j]!, idx, path: f.path, size: f.size })));
      for (let s = 0; s < fileRows.length; s += 2000) await trx.insertInto('torrent_file').values(fileRows.slice(s, s + 2000)).execute();
      const termRows = items.flatMap((x, j) => x.tterms.map((t) => ({ torrent_id: tids[j]!, ...t })));
      for (let s = 0; s < termRows.length; s += 2000) if (termRows.length > s) await trx.insertInto('torrent_term').values(termRows.slice(s, s + 2000)).execute();
      const metaRows = items.flatMap((x, j) => (x.metainfo ? [{ torrent_id: tids[j]!, data: x.metainfo }] : []));
      for (let s = 0; s < metaRows.length; s += 200) await trx.insertInto('torrent_metainfo').values(metaRows.slice(s, s + 200)).execute();
      return tids;
    });
    await indexTorrents(db, ids);
    made += n;
    o.progress?.(made, o.torrents, 'torrents');
  }
  return { users: userIds.length, torrents: made, firstUsername, password };
}

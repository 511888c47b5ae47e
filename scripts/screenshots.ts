/**
 * Screenshots of the main pages for the README: `npx tsx scripts/screenshots.ts`.
 *
 * Starts Essaim in-process on a temporary SQLite file and free loopback ports, fills it with demo
 * data (generateDemo: 300 torrents, 20 members, fixed seed), logs a demo member in through the
 * login form in Debian's Chromium (playwright-core), and saves PNG screenshots (1280x800 viewport,
 * full page up to MAX_HEIGHT) into docs/screenshots/. A page that does not answer 200 is not
 * saved (its previous screenshot, if any, is kept); the script then exits with status 1.
 *
 * Options: --out <dir> (default docs/screenshots), --torrents N, --users M.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium, type Page } from 'playwright-core';
import { loadConfig } from '../src/config/index.js';
import { createEssaim } from '../src/compose.js';
import { generateDemo } from '../src/site/demo/generate.js';
import { createApiToken } from '../src/api/tokens.js';
import type { Site } from '../src/site/site.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CHROMIUM = process.env.ESSAIM_CHROMIUM ?? '/usr/bin/chromium';
const VIEWPORT = { width: 1280, height: 800 };
/** Full-page shots are cut at this height (long listings would make large files). */
const MAX_HEIGHT = 2000;

interface Shot {
  file: string;
  path: string;
  locale: 'en' | 'fr';
  /** Capture the whole page (up to MAX_HEIGHT) rather than the viewport. */
  full: boolean;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: join(ROOT, 'docs', 'screenshots') },
      torrents: { type: 'string', default: '300' },
      users: { type: 'string', default: '20' },
    },
  });
  const out = values.out;
  mkdirSync(out, { recursive: true });
  const dataDir = mkdtempSync(join(tmpdir(), 'essaim-screens-'));
  const config = loadConfig({
    env: {},
    overrides: {
      server: { data_dir: dataDir },
      web: { host: '127.0.0.1', port: 0 },
      tracker: { http_host: '127.0.0.1', http_port: 0, udp_host: '127.0.0.1', udp_port: 0, udp_host6: '' },
      metrics: { enabled: false },
      ledger: { flush_interval: 1 },
      log: { level: 'error' },
      // Demo members have unverified addresses; the pages are what matter here.
      joining: { verify_email: false },
    } as never,
  });
  const app = createEssaim(config);
  const listening = await app.start();
  const base = listening.web!;
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
  const failures: string[] = [];
  try {
    const demo = await generateDemo(app.db(), {
      torrents: Number(values.torrents),
      users: Number(values.users),
      seed: 411,
      metainfoLimit: 1000,
      now: Math.floor(Date.now() / 1000),
    });
    const db = app.db();
    const member = await db.selectFrom('user').select(['id', 'username']).where('username', '=', demo.firstUsername ?? '').executeTakeFirstOrThrow();
    // Let the demo member be seen fully on their profile, and in English by default.
    await db.updateTable('user').set({ privacy: 'low', locale: null }).where('id', '=', member.id).execute();
    const others = await db.selectFrom('user').select(['id']).where('id', '!=', member.id).orderBy('id').limit(4).execute();
    // A torrent with an accented name and several files, for the torrent page.
    const torrent =
      (await db.selectFrom('torrent').select(['id']).where('name', 'like', 'Série%').where('file_count', '>', 1).orderBy('id').executeTakeFirst()) ??
      (await db.selectFrom('torrent').select(['id']).orderBy('id').executeTakeFirstOrThrow());
    await announcePeers(app.site(), torrent.id, [...others.map((o) => o.id), member.id]);
    await new Promise((r) => setTimeout(r, 2500)); // a ledger flush: the profile's current activity
    const series = await db.selectFrom('category').select(['id']).where('slug', '=', 'video-tv-series').executeTakeFirst();

    const shots: Shot[] = [
      { file: 'home-en.png', path: '/', locale: 'en', full: false },
      { file: 'browse-search-en.png', path: '/browse?q=serie', locale: 'en', full: true },
      { file: 'browse-search-fr.png', path: '/browse?q=serie', locale: 'fr', full: true },
      { file: 'torrent-en.png', path: `/t/${torrent.id}`, locale: 'en', full: true },
      { file: 'torrent-fr.png', path: `/t/${torrent.id}`, locale: 'fr', full: true },
      { file: 'upload-en.png', path: series ? `/upload?category=${series.id}` : '/upload', locale: 'en', full: true },
      { file: 'account-en.png', path: '/account', locale: 'en', full: true },
      { file: 'profile-en.png', path: `/u/${member.id}`, locale: 'en', full: true },
      { file: 'profile-fr.png', path: `/u/${member.id}`, locale: 'fr', full: true },
      { file: 'api-tokens-en.png', path: '/account/api', locale: 'en', full: true },
      { file: 'api-docs-en.png', path: '/api/docs', locale: 'en', full: false },
    ];
    // Two API tokens, so that the tokens page lists something.
    const now = Math.floor(Date.now() / 1000);
    await createApiToken(db, { userId: member.id, kind: 'personal', name: 'Sonarr at home', scopes: ['read'], now: now - 86400 * 3 });
    await createApiToken(db, { userId: member.id, kind: 'personal', name: 'Upload script', scopes: ['read', 'upload'], now, expiresAt: now + 90 * 86400 });

    for (const locale of ['en', 'fr'] as const) {
      const context = await browser.newContext({ viewport: VIEWPORT, locale: locale === 'en' ? 'en-GB' : 'fr-FR', deviceScaleFactor: 1 });
      context.setDefaultTimeout(15_000);
      const page = await context.newPage();
      await login(page, base, member.username, demo.password);
      for (const shot of shots.filter((s) => s.locale === locale)) {
        const res = await page.goto(base + shot.path, { waitUntil: 'load' });
        const status = res?.status() ?? 0;
        if (status !== 200) {
          failures.push(`${shot.path} (${locale}) answered ${status}: ${shot.file} not saved`);
          continue;
        }
        await page.addStyleTag({ content: '*, *::before, *::after { caret-color: transparent !important; transition: none !important; animation: none !important; }' }).catch(() => undefined);
        const file = join(out, shot.file);
        const height = shot.full ? Math.min(MAX_HEIGHT, await page.evaluate('document.documentElement.scrollHeight') as number) : VIEWPORT.height;
        await page.screenshot({ path: file, fullPage: shot.full, clip: { x: 0, y: 0, width: VIEWPORT.width, height: Math.max(height, VIEWPORT.height) } });
        console.log(`${relative(ROOT, file)}  ${shot.path}  ${Math.round(statSync(file).size / 1024)} KB`);
      }
      await context.close();
    }
  } finally {
    await browser.close();
    await app.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  for (const f of failures) console.error(`screenshots: ${f}`);
  return failures.length > 0 ? 1 : 0;
}

/**
 * Live peers for the torrent page: the members announce it, all as seeders but the last (the
 * logged-in member, whose profile then lists it), so that the pages show live counts. The demo
 * data is written after the tracker started: it is told about the torrent and the members first.
 */
async function announcePeers(site: Site, torrentId: number, memberIds: number[]): Promise<void> {
  await site.tracker.torrentChanged(torrentId);
  const swarm = await site.db.selectFrom('torrent_swarm').select(['info_hash']).where('torrent_id', '=', torrentId).executeTakeFirstOrThrow();
  const infoHash = Buffer.from(swarm.info_hash, 'hex');
  const pct = (b: Buffer) => [...b].map((x) => '%' + x.toString(16).padStart(2, '0')).join('');
  for (const [i, id] of memberIds.entries()) {
    await site.tracker.userChanged(id);
    const user = await site.db.selectFrom('user').select(['passkey']).where('id', '=', id).executeTakeFirstOrThrow();
    const peerId = Buffer.concat([Buffer.from('-SS0001-'), randomBytes(12)]);
    const left = i === memberIds.length - 1 ? 1_000_000 : 0;
    const query = `info_hash=${pct(infoHash)}&peer_id=${pct(peerId)}&port=${51000 + i}&uploaded=0&downloaded=0&left=${left}&event=started&compact=1`;
    const res = await fetch(`${site.announceUrls(user.passkey).http}?${query}`);
    const body = Buffer.from(await res.arrayBuffer()).toString('latin1');
    if (!res.ok || body.includes('failure reason')) throw new Error(`demo announce refused: ${body}`);
  }
}

/** Logs in through the login form, as a member would. */
async function login(page: Page, base: string, username: string, password: string): Promise<void> {
  await page.goto(`${base}/login`);
  await page.fill('#f-username', username);
  await page.fill('#f-password', password);
  await page.click('main form[action="/login"] button[type="submit"]');
  const name = await page.textContent('header .member-name').catch(() => null);
  if (name !== username) throw new Error(`could not log in as ${username} (at ${page.url()})`);
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);

/**
 * The `essaim` command: thin wrappers over the composition root and the repositories.
 *
 *   essaim start                      site + tracker in one process
 *   essaim migrate                    bring the database schema up to date
 *   essaim config print               every configuration key: value, default, doc
 *   essaim user create <name> [--admin] [--email E] [--password-stdin] [--json]
 *   essaim user show <name> [--json]
 *   essaim user rotate-passkey <name> [--json]
 *   essaim user disable <name> [--reason R] | essaim user enable <name>
 *   essaim torrent register <infohash|file.torrent> [--name N] [--json]
 *   essaim torrent delete <id> --reason R
 *   essaim client list | allow <prefix> | deny <prefix> | remove <id>
 *   essaim demo [--torrents N] [--users M] [--seed S] [--metainfo K]
 *
 * Global option: --config FILE (else ESSAIM_CONFIG, ./essaim.toml, ./essaim.json).
 */
import { readFileSync } from 'node:fs';
import { ConfigError, formatConfigListing, loadConfigWithSources } from '../config/index.js';
import type { Config } from '../config/schema.js';
import { createEssaim } from '../compose.js';
import { backupSqlite, sqliteFileOf } from '../db/backup.js';
import { openDatabase } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';
import type { Database } from '../db/schema.js';
import { createUser, findUserByUsername, getUserTraffic, rotatePasskey, setUserEnabled } from '../db/user.repository.js';
import { deleteTorrent, DuplicateInfoHashError, registerTorrent } from '../db/torrent.repository.js';
import { addClientRule, listClientRules, removeClientRule } from '../db/client-rule.repository.js';
import { infoHashesOf } from '../metainfo/info-hash.js';
import { hashPassword, passwordProblem } from '../site/passwords.js';
import { installDefaultTaxonomy } from '../site/catalogue/taxonomy.js';
import { generateDemo } from '../site/demo/generate.js';
import { hashToken, newToken } from '../site/sessions.js';
import { toInfoHash } from '../shared/types.js';
import type { Kysely } from 'kysely';

class UsageError extends Error {}

interface Parsed {
  positional: string[];
  flags: Map<string, string | true>;
}

function parseArgs(argv: string[]): Parsed {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  const valued = new Set(['--config', '--email', '--name', '--reason', '--note', '--torrents', '--users', '--seed', '--metainfo']);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      if (eq !== -1) flags.set(a.slice(0, eq), a.slice(eq + 1));
      else if (valued.has(a)) {
        const v = argv[++i];
        if (v === undefined) throw new UsageError(`${a} needs a value`);
        flags.set(a, v);
      } else flags.set(a, true);
    } else positional.push(a);
  }
  return { positional, flags };
}

function flag(p: Parsed, name: string): string | undefined {
  const v = p.flags.get(name);
  return typeof v === 'string' ? v : undefined;
}

const now = () => Math.floor(Date.now() / 1000);

async function withDb<T>(config: Config, fn: (db: Kysely<Database>) => Promise<T>): Promise<T> {
  const d = await openDatabase(config.database.url, { dataDir: config.server.data_dir, poolSize: config.database.pool_size });
  try {
    await migrateToLatest(d.db);
    return await fn(d.db);
  } finally {
    await d.close();
  }
}

function out(json: boolean, value: Record<string, unknown>, text: string): void {
  process.stdout.write(json ? JSON.stringify(value) + '\n' : text + '\n');
}

const USAGE = `usage: essaim <command>
  start                                   run the site and the tracker in one process
  web                                     run the website and the APIs only (a web node)
  tracker                                 run the tracker only (a tracker node)
  migrate                                 bring the database schema up to date
  backup <file> [--force]                 online copy of the SQLite database (PostgreSQL: pg_dump)
  config print                            show every configuration key
  user create <name> [--admin] [--email E] [--password-stdin] [--json]
                                          (without --password-stdin: prints a one-time link to set the password)
  user show <name> [--json]
  user rotate-passkey <name> [--json]
  user disable <name> [--reason R] | user enable <name>
  torrent register <infohash|file.torrent> [--name N] [--json]
  torrent delete <id> --reason R
  client list | client allow <prefix> | client deny <prefix> | client remove <id>
  demo [--torrents N] [--users M] [--seed S] [--metainfo K]
                                          fill the database with synthetic members and torrents
options: --config FILE`;

export async function main(argv: string[]): Promise<void> {
  try {
    await run(argv);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`essaim: invalid configuration:\n${err.problems.map((p) => '  - ' + p).join('\n')}\n`);
      process.exitCode = 2;
    } else if (err instanceof UsageError) {
      process.stderr.write(`essaim: ${err.message}\n${USAGE}\n`);
      process.exitCode = 64;
    } else {
      process.stderr.write(`essaim: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    }
  }
}

async function run(argv: string[]): Promise<void> {
  const p = parseArgs(argv);
  const [cmd, sub, arg] = p.positional;
  const json = p.flags.has('--json');
  if (cmd === undefined || cmd === 'help' || p.flags.has('--help')) {
    process.stdout.write(USAGE + '\n');
    return;
  }
  const loaded = loadConfigWithSources({ file: flag(p, '--config') });
  const config = loaded.config;

  switch (cmd) {
    case 'start':
      return start(config);
    case 'web':
      return start(config, { web: true, tracker: false });
    case 'backup': {
      if (!sub) throw new UsageError('backup: the destination file is required');
      const r = await backupSqlite(sqliteFileOf(config.database.url, config.server.data_dir), sub, { overwrite: p.flags.has('--force') });
      out(json, { ok: true, ...r }, `backup written to ${r.path} (${r.bytes} bytes, ${r.migrations} migrations, integrity ok)`);
      return;
    }
    case 'tracker':
      return start(config, { web: false, tracker: true });
    case 'migrate':
      await withDb(config, async () => undefined);
      out(json, { ok: true }, 'database schema is up to date');
      return;
    case 'config':
      if (sub !== 'print') throw new UsageError('config: expected "print"');
      process.stdout.write((loaded.file ? `# configuration file: ${loaded.file}\n` : '# no configuration file: defaults and environment\n') + formatConfigListing(config, loaded.sources));
      return;
    case 'user':
      return userCommand(config, sub, arg, p, json);
    case 'torrent':
      return torrentCommand(config, sub, arg, p, json);
    case 'client':
      return clientCommand(config, sub, arg, p, json);
    case 'demo':
      return demoCommand(config, p, json);
    default:
      throw new UsageError(`unknown command "${cmd}"`);
  }
}

async function start(config: Config, roles: { web: boolean; tracker: boolean } = { web: true, tracker: true }): Promise<void> {
  const app = createEssaim(config, roles);
  const l = await app.start();
  const tc = config.tracker;
  const base = roles.tracker ? tc.announce_base_url || l.httpTracker : null;
  const what = roles.web && roles.tracker ? 'Essaim is running' : roles.web ? 'Essaim web node is running' : 'Essaim tracker node is running';
  const lines = [
    `${what} (tracker mode: ${tc.mode}; node ${app.nodeId})`,
    l.web ? `  site:            ${l.web}` : null,
    base ? `  announce (HTTP): ${base}${tc.mode === 'private' ? '/<passkey>' : ''}/announce` : null,
    ...(l.udpTracker ?? []).map((u) => `  announce (UDP):  ${tc.udp_announce_base_url || u}${tc.mode === 'private' ? '/<passkey>' : ''}/announce`),
    l.metrics ? `  metrics:         ${l.metrics}` : null,
    l.setupLink ? `first run: open ${l.setupLink} to create the administrator` : null,
  ].filter((x): x is string => x !== null);
  process.stdout.write(lines.join('\n') + '\n');
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'stopping');
    app.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        app.log.error({ err }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

async function userCommand(config: Config, sub: string | undefined, name: string | undefined, p: Parsed, json: boolean): Promise<void> {
  if (!name) throw new UsageError('user: a username is required');
  await withDb(config, async (db) => {
    switch (sub) {
      case 'create': {
        // The password: from stdin (--password-stdin, for scripts), else a one-time link to set it.
        const password = p.flags.has('--password-stdin') ? readFileSync(0, 'utf8').replace(/\r?\n$/, '') : null;
        if (password !== null) {
          const problem = passwordProblem(password, name);
          if (problem) throw new Error(`password refused: ${problem.replace(/_/g, ' ')}`);
        }
        const u = await createUser(db, {
          username: name,
          email: flag(p, '--email') ?? null,
          passwordHash: password !== null ? await hashPassword(password) : null,
          role: p.flags.has('--admin') ? 'admin' : 'member',
          now: now(),
        });
        let link: string | null = null;
        if (password === null) {
          const token = newToken();
          await db
            .insertInto('auth_token')
            .values({ token_hash: hashToken(token), purpose: 'password_reset', user_id: u.id, data: null, created_at: now(), expires_at: now() + 86400, used_at: null })
            .execute();
          link = `${config.server.public_url.replace(/\/+$/, '')}/password/reset/${token}`;
        }
        const what = p.flags.has('--admin') ? 'administrator' : 'member';
        out(
          json,
          { id: u.id, username: name, passkey: u.passkey, ...(link ? { setPasswordLink: link } : {}) },
          `created ${what} ${name} (id ${u.id}); passkey ${u.passkey}` + (link ? `\nset the password within 24 hours at: ${link}` : ''),
        );
        return;
      }
      case 'show': {
        const u = await findUserByUsername(db, name);
        if (!u) throw new Error(`no such user: ${name}`);
        const t = await getUserTraffic(db, u.id);
        out(json, { id: u.id, username: name, role: u.role, enabled: !!u.enabled, ...t }, `${name} (id ${u.id}, ${u.role}): uploaded ${t.uploaded} B, downloaded ${t.downloaded} B (raw ${t.rawUploaded} / ${t.rawDownloaded}), seeding ${t.seedTime} s, leeching ${t.leechTime} s`);
        return;
      }
      case 'rotate-passkey': {
        const u = await findUserByUsername(db, name);
        if (!u) throw new Error(`no such user: ${name}`);
        const pk = await rotatePasskey(db, u.id, now());
        out(json, { id: u.id, passkey: pk }, `new passkey for ${name}: ${pk} (the old one stops working within the access refresh interval)`);
        return;
      }
      case 'disable':
      case 'enable': {
        const u = await findUserByUsername(db, name);
        if (!u) throw new Error(`no such user: ${name}`);
        await setUserEnabled(db, u.id, sub === 'enable', sub === 'enable' ? null : (flag(p, '--reason') ?? null), now());
        out(json, { id: u.id, enabled: sub === 'enable' }, `${name} ${sub}d`);
        return;
      }
      default:
        throw new UsageError('user: expected create, show, rotate-passkey, disable or enable');
    }
  });
}

async function torrentCommand(config: Config, sub: string | undefined, arg: string | undefined, p: Parsed, json: boolean): Promise<void> {
  if (!arg) throw new UsageError('torrent: an argument is required');
  await withDb(config, async (db) => {
    switch (sub) {
      case 'register': {
        let v1: string | null;
        let v2: string | null = null;
        let name = flag(p, '--name') ?? null;
        let size = 0;
        const hex = toInfoHash(arg);
        if (hex) v1 = hex;
        else {
          const info = infoHashesOf(readFileSync(arg));
          if (!info.ok) throw new Error(`${arg}: ${info.error}`);
          v1 = info.v1;
          v2 = info.v2;
          name ??= info.name;
          size = info.size;
        }
        try {
          const t = await registerTorrent(db, { name: name ?? v1 ?? v2!.slice(0, 40), infoHashV1: v1, infoHashV2: v2, size, now: now() });
          const hashes = [v1, v2 ? v2.slice(0, 40) : null].filter((h): h is string => h !== null);
          out(json, { id: t.id, infoHashes: hashes }, `registered torrent ${t.id}: ${hashes.join(', ')}`);
        } catch (err) {
          if (err instanceof DuplicateInfoHashError) throw new Error(`already registered as torrent ${err.torrentId}`, { cause: err });
          throw err;
        }
        return;
      }
      case 'delete': {
        const reason = flag(p, '--reason');
        if (!reason) throw new UsageError('torrent delete: --reason is required (clients are shown it)');
        await deleteTorrent(db, Number(arg), reason, now());
        out(json, { id: Number(arg), deleted: true }, `torrent ${arg} deleted`);
        return;
      }
      default:
        throw new UsageError('torrent: expected register or delete');
    }
  });
}

async function clientCommand(config: Config, sub: string | undefined, arg: string | undefined, p: Parsed, json: boolean): Promise<void> {
  await withDb(config, async (db) => {
    switch (sub) {
      case 'list': {
        const rules = await listClientRules(db);
        if (json) process.stdout.write(JSON.stringify(rules) + '\n');
        else for (const r of rules) process.stdout.write(`${r.id}\t${r.action}\t${r.prefix}\t${r.note ?? ''}\n`);
        return;
      }
      case 'allow':
      case 'deny': {
        if (!arg) throw new UsageError(`client ${sub}: a peer_id prefix is required`);
        const r = await addClientRule(db, { prefix: arg, action: sub, note: flag(p, '--note') ?? null, now: now() });
        out(json, { id: r.id }, `rule ${r.id}: ${sub} ${arg} (applied within the access refresh interval)`);
        return;
      }
      case 'remove':
        if (!arg) throw new UsageError('client remove: a rule id is required');
        await removeClientRule(db, Number(arg));
        out(json, { removed: Number(arg) }, `rule ${arg} removed`);
        return;
      default:
        throw new UsageError('client: expected list, allow, deny or remove');
    }
  });
}

function count(p: Parsed, name: string, dflt: number): number {
  const raw = p.flags.get(name);
  if (raw === true) throw new UsageError(`${name} needs a value`);
  const v = raw;
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`${name} expects a whole number (got "${v}")`);
  return n;
}

/** A progress bar on stderr (a line per 10 % when stderr is not a terminal). */
function progressBar(): (done: number, total: number, phase: string) => void {
  const started = Date.now();
  let lastPhase = '';
  let lastDecile = -1;
  return (done, total, phase) => {
    if (phase !== lastPhase) {
      if (lastPhase && process.stderr.isTTY) process.stderr.write('\n');
      lastPhase = phase;
      lastDecile = -1;
    }
    const frac = total === 0 ? 1 : done / total;
    const secs = (Date.now() - started) / 1000;
    if (process.stderr.isTTY) {
      const width = 30;
      const fill = Math.round(frac * width);
      process.stderr.write(`\r${phase.padEnd(9)} [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${(frac * 100).toFixed(0).padStart(3)}% ${done}/${total} ${secs.toFixed(0)} s`);
      if (done === total) process.stderr.write('\n');
    } else {
      const decile = Math.floor(frac * 10);
      if (decile !== lastDecile) {
        lastDecile = decile;
        process.stderr.write(`${phase}: ${done}/${total} (${(frac * 100).toFixed(0)}%) ${secs.toFixed(0)} s\n`);
      }
    }
  };
}

async function demoCommand(config: Config, p: Parsed, json: boolean): Promise<void> {
  const torrents = count(p, '--torrents', 1000);
  const users = count(p, '--users', 100);
  const seed = count(p, '--seed', 411);
  const metainfoLimit = count(p, '--metainfo', 5000);
  await withDb(config, async (db) => {
    await installDefaultTaxonomy(db);
    const r = await generateDemo(db, { torrents, users, seed, metainfoLimit, now: now(), progress: progressBar() });
    out(
      json,
      { users: r.users, torrents: r.torrents, firstUsername: r.firstUsername, password: r.password },
      `demo data: ${r.users} members, ${r.torrents} torrents` + (r.firstUsername ? `; log in as ${r.firstUsername} with password "${r.password}"` : ''),
    );
  });
}

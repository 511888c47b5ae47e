/**
 * Essaim as a black box for end-to-end tests: `node bin/essaim.js start` in a child process with
 * a temporary data directory (SQLite) and free loopback ports, configured only through ESSAIM_*
 * environment variables; the CLI (`migrate`, `user create|show`, `torrent register`, all --json)
 * run against the same data directory; stop with SIGTERM (final ledger flush) or SIGKILL (crash),
 * restart on the same data directory and ports. The process output is kept for failure messages.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import { freeTcpPort, freeUdpPort } from './ports.js';
import { run, spawnManaged, waitFor, type ManagedProcess } from './process.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const ESSAIM_BIN = join(REPO_ROOT, 'bin', 'essaim.js');

/**
 * Whether this checkout can run Essaim at all (bin/essaim.js and its CLI source exist).
 * Tests skip with this message otherwise, instead of failing on a half-built tree.
 */
export function essaimUnavailable(): string | null {
  if (!existsSync(ESSAIM_BIN)) return `${ESSAIM_BIN} does not exist`;
  if (!existsSync(join(REPO_ROOT, 'src', 'cli', 'main.ts')) && !existsSync(join(REPO_ROOT, 'dist', 'cli', 'main.js')))
    return 'Essaim CLI not built yet (no src/cli/main.ts nor dist/cli/main.js)';
  return null;
}

export type TrackerMode = 'private' | 'listed' | 'public';

export interface EssaimOptions {
  mode?: TrackerMode;
  /** Existing data directory to reuse; by default a fresh temporary one (removed on t.after). */
  dataDir?: string;
  /** ledger.flush_interval, seconds (default 1). */
  flushInterval?: number;
  /** tracker.interval / tracker.min_interval, seconds (defaults 30 / 1). */
  interval?: number;
  minInterval?: number;
  logLevel?: string;
  /** Extra ESSAIM_* variables (they win over the ones computed here). */
  env?: Record<string, string>;
  /** The server command: `start` (default), or a `web` / `tracker` node. */
  command?: 'start' | 'web' | 'tracker';
}

export interface CreatedUser {
  id: number;
  username: string;
  passkey: string;
}

export interface RegisteredTorrent {
  id: number;
  infoHashes: string[];
}

export interface UserTotals {
  id: number;
  username: string;
  uploaded: number;
  downloaded: number;
  rawUploaded: number;
  rawDownloaded: number;
  seedTime: number;
  leechTime: number;
}

export interface Traffic {
  uploaded: number;
  downloaded: number;
  rawUploaded: number;
  rawDownloaded: number;
}

/** The traffic fields of `user show --json`. */
export function traffic(u: UserTotals): Traffic {
  return { uploaded: u.uploaded, downloaded: u.downloaded, rawUploaded: u.rawUploaded, rawDownloaded: u.rawDownloaded };
}

/** process.env without any ESSAIM_* variable (Essaim rejects unknown ones), plus `extra`. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('ESSAIM_')) env[k] = v;
  return { ...env, ...extra };
}

/**
 * One Essaim installation (data directory + ports). `start()` runs the server; the CLI helpers
 * work whether or not it runs. Everything it started is stopped by `close()` (registered on
 * t.after by `Essaim.create`).
 */
export class Essaim {
  proc: ManagedProcess | null = null;
  /** Output of every server process started so far (restarts included), for failure messages. */
  private pastOutput = '';
  private starts = 0;

  private constructor(
    readonly dataDir: string,
    readonly mode: TrackerMode,
    readonly webPort: number,
    readonly httpPort: number,
    readonly udpPort: number,
    readonly metricsPort: number,
    private readonly opts: EssaimOptions,
  ) {}

  /** Prepares a data directory and ports (does not start the server). */
  static async create(t: TestContext | null, opts: EssaimOptions = {}): Promise<Essaim> {
    const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'essaim-e2e-data-')));
    const e = new Essaim(dataDir, opts.mode ?? 'private', await freeTcpPort(), await freeTcpPort(), await freeUdpPort(), await freeTcpPort(), opts);
    if (t) {
      t.after(async () => {
        await e.close();
        if (!opts.dataDir) await rm(dataDir, { recursive: true, force: true, maxRetries: 3 });
      });
    }
    return e;
  }

  /** The ESSAIM_* environment of this installation. */
  env(): Record<string, string> {
    return {
      ESSAIM_SERVER__DATA_DIR: this.dataDir,
      ESSAIM_WEB__PORT: String(this.webPort),
      ESSAIM_TRACKER__HTTP_PORT: String(this.httpPort),
      ESSAIM_TRACKER__UDP_PORT: String(this.udpPort),
      ESSAIM_TRACKER__UDP_HOST6: '',
      ESSAIM_METRICS__PORT: String(this.metricsPort),
      ESSAIM_LEDGER__FLUSH_INTERVAL: String(this.opts.flushInterval ?? 1),
      ESSAIM_TRACKER__MODE: this.mode,
      ESSAIM_TRACKER__INTERVAL: String(this.opts.interval ?? 30),
      ESSAIM_TRACKER__MIN_INTERVAL: String(this.opts.minInterval ?? 1),
      ESSAIM_LOG__LEVEL: this.opts.logLevel ?? 'info',
      ...this.opts.env,
    };
  }

  /** Runs `essaim <args>` to completion (cwd = data dir, so no stray essaim.toml is read). */
  async cli(args: string[], timeoutMs = 30_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const r = await run(process.execPath, [ESSAIM_BIN, ...args], { env: cleanEnv(this.env()), cwd: this.dataDir, timeoutMs });
    return { code: r.code, stdout: r.stdout, stderr: r.stderr };
  }

  /** Runs a CLI command with --json and parses its single JSON line; throws with the output on failure. */
  async cliJson<T>(args: string[]): Promise<T> {
    const r = await this.cli([...args, '--json']);
    const line = r.stdout.trim().split('\n').filter((l) => l.trim() !== '').pop() ?? '';
    if (r.code !== 0) throw new Error(`essaim ${args.join(' ')} --json exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    try {
      return JSON.parse(line) as T;
    } catch {
      throw new Error(`essaim ${args.join(' ')} --json: not JSON: ${JSON.stringify(line)}\nstderr: ${r.stderr}`);
    }
  }

  async migrate(): Promise<void> {
    const r = await this.cli(['migrate']);
    if (r.code !== 0) throw new Error(`essaim migrate exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  }

  async createUser(username: string, admin = false): Promise<CreatedUser> {
    const u = await this.cliJson<CreatedUser>(['user', 'create', username, ...(admin ? ['--admin'] : [])]);
    if (!/^[0-9a-f]{32}$/.test(u.passkey)) throw new Error(`user create ${username}: unexpected passkey ${JSON.stringify(u.passkey)}`);
    return u;
  }

  /** `torrent register <file.torrent|40-hex> [--name X] --json`. */
  async registerTorrent(fileOrInfoHash: string, name?: string): Promise<RegisteredTorrent> {
    return this.cliJson<RegisteredTorrent>(['torrent', 'register', fileOrInfoHash, ...(name ? ['--name', name] : [])]);
  }

  async showUser(username: string): Promise<UserTotals> {
    return this.cliJson<UserTotals>(['user', 'show', username]);
  }

  /**
   * Traffic totals of every member read straight from the SQLite file (read-only), for POLLING
   * only: a CLI call starts a Node process (seconds on a loaded machine), this takes a millisecond.
   * It knows the schema (table "user"), so it returns null on any error and callers fall back to
   * the CLI; assertions always go through `showUser` (the CLI contract).
   */
  async peekTraffic(): Promise<Map<string, Traffic> | null> {
    try {
      const { default: Sqlite } = await import('better-sqlite3');
      const db = new Sqlite(join(this.dataDir, 'essaim.sqlite'), { readonly: true, fileMustExist: true });
      try {
        db.pragma('busy_timeout = 2000');
        const rows = db.prepare('SELECT username, uploaded, downloaded, raw_uploaded, raw_downloaded FROM "user"').all() as {
          username: string;
          uploaded: number;
          downloaded: number;
          raw_uploaded: number;
          raw_downloaded: number;
        }[];
        return new Map(
          rows.map((r) => [
            r.username,
            { uploaded: Number(r.uploaded), downloaded: Number(r.downloaded), rawUploaded: Number(r.raw_uploaded), rawDownloaded: Number(r.raw_downloaded) },
          ]),
        );
      } finally {
        db.close();
      }
    } catch {
      return null;
    }
  }

  /** Traffic of these members: the SQLite peek when it works, else the CLI (one call each). */
  async traffic(usernames: readonly string[]): Promise<Map<string, Traffic>> {
    const peek = await this.peekTraffic();
    if (peek && usernames.every((u) => peek.has(u))) return peek;
    // One after the other: concurrent CLI processes can fail with "database is locked".
    const out = new Map<string, Traffic>();
    for (const n of usernames) out.set(n, traffic(await this.showUser(n)));
    return out;
  }

  httpAnnounceUrl(passkey?: string): string {
    return `http://127.0.0.1:${this.httpPort}${passkey ? `/${passkey}` : ''}/announce`;
  }

  udpAnnounceUrl(passkey?: string): string {
    return `udp://127.0.0.1:${this.udpPort}${passkey ? `/${passkey}` : ''}/announce`;
  }

  /** Starts the server and waits (bounded) for /healthz to answer 200. */
  async start(timeoutMs = 30_000): Promise<void> {
    if (this.proc?.running) throw new Error('Essaim already running');
    if (this.proc) this.pastOutput += this.proc.describe() + '\n';
    this.starts++;
    const command = this.opts.command ?? 'start';
    const proc = spawnManaged(`essaim-${command}#${this.starts}`, process.execPath, [ESSAIM_BIN, command], {
      env: cleanEnv(this.env()),
      cwd: this.dataDir,
    });
    this.proc = proc;
    // A tracker node answers its health checks on the HTTP tracker's port.
    const healthPort = command === 'tracker' ? this.httpPort : this.webPort;
    try {
      await waitFor(
        `Essaim /readyz on port ${healthPort}`,
        async () => {
          if (!proc.running) throw new Error(`essaim exited during start-up`);
          const res = await fetch(`http://127.0.0.1:${healthPort}/${command === 'tracker' ? 'readyz' : 'healthz'}`, { signal: AbortSignal.timeout(1_000) });
          await res.arrayBuffer();
          return res.status === 200;
        },
        { timeoutMs, everyMs: 100 },
      );
    } catch (e) {
      await proc.stop('SIGKILL');
      throw new Error(`${(e as Error).message}\n${this.output()}`, { cause: e });
    }
  }

  /** SIGTERM (graceful: final ledger flush) or SIGKILL (crash); resolves once the process is gone. */
  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM', graceMs = 15_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (!this.proc) return { code: null, signal: null };
    return this.proc.stop(signal, graceMs);
  }

  /** Starts again on the same data directory and ports (after stop()). */
  async restart(): Promise<void> {
    if (this.proc?.running) await this.stop('SIGTERM');
    await this.start();
  }

  /** The Prometheus text of /metrics, or null when it cannot be read. */
  async metricsText(): Promise<string | null> {
    try {
      const res = await fetch(`http://127.0.0.1:${this.metricsPort}/metrics`, { signal: AbortSignal.timeout(1_000) });
      const text = await res.text();
      return res.status === 200 ? text : null;
    } catch {
      return null;
    }
  }

  /**
   * Sum of the samples of metric `name` whose labels include every `labels` pair: 0 when there
   * are none, null when /metrics cannot be read.
   */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number | null> {
    const text = await this.metricsText();
    if (text === null) return null;
    let sum = 0; // a counter without samples yet (prom-client prints only HELP/TYPE) is 0
    for (const line of text.split('\n')) {
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
      if (!m || m[1] !== name) continue;
      const lbl = m[2] ?? '';
      if (!Object.entries(labels).every(([k, v]) => lbl.includes(`${k}="${v}"`))) continue;
      sum += Number(m[3]);
    }
    return sum;
  }

  get running(): boolean {
    return this.proc?.running ?? false;
  }

  /** Everything every server process of this installation printed. */
  output(): string {
    return this.pastOutput + (this.proc ? this.proc.describe() : '(never started)');
  }

  async close(): Promise<void> {
    if (this.proc?.running) await this.proc.stop('SIGTERM', 5_000);
  }
}

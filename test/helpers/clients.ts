/**
 * Real BitTorrent clients for end-to-end tests, on 127.0.0.1 only: a random payload, a private
 * .torrent made by mktorrent, aria2c instances driven through their JSON-RPC and
 * transmission-daemon instances driven through their HTTP RPC (session-id handshake).
 * Facts about both clients on loopback: /work/shared/docs/real-clients.md and test/e2e/README.md.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { TestContext } from 'node:test';
import { infoHashOf } from './bencode.js';
import { freeTcpPort, freeTcpUdpPort } from './ports.js';
import { missingBinaries, run, spawnManaged, waitFor, type ManagedProcess } from './process.js';

/**
 * Skips the test (t.skip with a message naming what is missing) unless every binary is on PATH.
 * Returns false when skipped: `if (!requireBinaries(t, 'aria2c')) return;`
 */
export function requireBinaries(t: TestContext, ...names: string[]): boolean {
  const missing = missingBinaries(...names);
  if (missing.length === 0) return true;
  t.skip(`missing binaries: ${missing.join(', ')} (apt-get install aria2 transmission-daemon transmission-cli mktorrent)`);
  return false;
}

/** A fresh temporary directory, removed after the test (registered on `t.after`). */
export async function tempDir(t: TestContext | null, prefix = 'essaim-e2e-'): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), prefix));
  if (t) t.after(() => rm(d, { recursive: true, force: true, maxRetries: 3 }));
  return d;
}

/** Writes `bytes` random bytes (crypto.randomBytes) to `dir/name`; returns the path. */
export async function makePayload(dir: string, bytes: number, name = 'payload.bin'): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, name);
  const chunks: Buffer[] = [];
  for (let done = 0; done < bytes; done += 1 << 20) chunks.push(randomBytes(Math.min(1 << 20, bytes - done)));
  await writeFile(path, Buffer.concat(chunks));
  return path;
}

export interface TorrentFile {
  path: string;
  infoHash: string;
  /** The payload's file name (the torrent's `name`). */
  name: string;
  bytes: Buffer;
}

/** `mktorrent -p -a <announce> -o <out> <file>`: a private, single-file torrent. */
export async function makeTorrent(file: string, announce: string, out: string): Promise<TorrentFile> {
  await rm(out, { force: true }); // mktorrent refuses to overwrite
  const r = await run('mktorrent', ['-p', '-a', announce, '-o', out, file], { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`mktorrent failed (${r.code}): ${r.stderr}${r.stdout}`);
  const bytes = await readFile(out);
  return { path: out, infoHash: infoHashOf(bytes), name: basename(file), bytes };
}

async function postJson(url: string, body: unknown, headers: Record<string, string> = {}, timeoutMs = 5_000): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
}

// ------------------------------------------------------------------ aria2

export interface Aria2Options {
  /** For messages. */
  name: string;
  torrent: string;
  /** Download directory (for a seeder: the directory that holds the payload). */
  dir: string;
  /** The payload is already in `dir`: verify it (--check-integrity) and seed. */
  seed: boolean;
  /**
   * Start aria2's DHT. Required for udp:// trackers: aria2 1.36 sends UDP tracker packets only
   * through its DHT socket ("udp is not supported yet" otherwise). A private torrent is never
   * announced to the DHT, and without entry points nor dht.dat it contacts nobody.
   */
  dht?: boolean;
  /** --bt-tracker-interval (seconds; 0 = use the tracker's interval). */
  trackerInterval?: number;
  extraArgs?: string[];
}

export interface Aria2Status {
  gid: string;
  status: string;
  totalLength: number;
  completedLength: number;
  uploadLength: number;
  downloadSpeed: number;
  uploadSpeed: number;
  connections: number;
  infoHash: string;
  errorMessage?: string;
}

interface RawAria2Status {
  gid: string;
  status: string;
  totalLength: string;
  completedLength: string;
  uploadLength: string;
  downloadSpeed: string;
  uploadSpeed: string;
  connections: string;
  infoHash?: string;
  errorMessage?: string;
}

const ARIA2_KEYS = [
  'gid',
  'status',
  'totalLength',
  'completedLength',
  'uploadLength',
  'downloadSpeed',
  'uploadSpeed',
  'connections',
  'infoHash',
  'errorMessage',
];

/** One aria2c process with one torrent, JSON-RPC on 127.0.0.1. */
export class Aria2 {
  private rpcId = 0;
  /** Last status read while the process was alive. */
  lastStatus: Aria2Status | null = null;

  private constructor(
    readonly opts: Aria2Options,
    readonly proc: ManagedProcess,
    readonly rpcPort: number,
    readonly listenPort: number,
  ) {}

  static async start(opts: Aria2Options): Promise<Aria2> {
    const rpcPort = await freeTcpPort();
    const listenPort = await freeTcpPort();
    const dhtPort = await freeTcpUdpPort();
    await mkdir(opts.dir, { recursive: true });
    const args = [
      '--no-conf=true',
      `--dir=${opts.dir}`,
      '--enable-rpc=true',
      `--rpc-listen-port=${rpcPort}`,
      '--rpc-listen-all=false',
      `--listen-port=${listenPort}`,
      `--enable-dht=${opts.dht ? 'true' : 'false'}`,
      '--enable-dht6=false',
      `--dht-listen-port=${dhtPort}`,
      `--dht-file-path=${join(opts.dir, '..', `${opts.name}.dht.dat`)}`,
      '--bt-enable-lpd=false',
      '--enable-peer-exchange=false',
      '--disable-ipv6=true',
      '--seed-ratio=0.0', // seed until told to stop: the test stops it through RPC (event=stopped)
      '--file-allocation=none',
      '--summary-interval=0',
      '--console-log-level=warn',
      '--log=-',
      '--log-level=info',
      `--stop-with-process=${process.pid}`,
      ...(opts.seed ? ['--check-integrity=true'] : []),
      ...(opts.trackerInterval ? [`--bt-tracker-interval=${opts.trackerInterval}`] : []),
      ...(opts.extraArgs ?? []),
      opts.torrent,
    ];
    const proc = spawnManaged(`aria2c ${opts.name}`, 'aria2c', args);
    const a = new Aria2(opts, proc, rpcPort, listenPort);
    try {
      await waitFor(`aria2c ${opts.name} RPC`, async () => (proc.running ? (await a.rpc('aria2.getVersion')) !== undefined : Promise.reject(new Error('aria2c exited'))), {
        timeoutMs: 10_000,
      });
    } catch (e) {
      await proc.stop('SIGKILL');
      throw new Error(`${(e as Error).message}\n${proc.describe()}`, { cause: e });
    }
    return a;
  }

  async rpc<T = unknown>(method: string, params: unknown[] = []): Promise<T> {
    const res = await postJson(`http://127.0.0.1:${this.rpcPort}/jsonrpc`, { jsonrpc: '2.0', id: String(++this.rpcId), method, params });
    const j = (await res.json()) as { result?: T; error?: { message: string } };
    if (j.error) throw new Error(`aria2 ${method}: ${j.error.message}`);
    return j.result as T;
  }

  /** Status of the (single) torrent, wherever it is (active, waiting, stopped). */
  async status(): Promise<Aria2Status> {
    const lists = await Promise.all([
      this.rpc<RawAria2Status[]>('aria2.tellActive', [ARIA2_KEYS]),
      this.rpc<RawAria2Status[]>('aria2.tellWaiting', [0, 100, ARIA2_KEYS]),
      this.rpc<RawAria2Status[]>('aria2.tellStopped', [0, 100, ARIA2_KEYS]),
    ]);
    const all = lists.flat();
    const raw = all[0];
    if (!raw) throw new Error(`aria2c ${this.opts.name}: no download`);
    const s: Aria2Status = {
      gid: raw.gid,
      status: raw.status,
      totalLength: Number(raw.totalLength),
      completedLength: Number(raw.completedLength),
      uploadLength: Number(raw.uploadLength),
      downloadSpeed: Number(raw.downloadSpeed),
      uploadSpeed: Number(raw.uploadSpeed),
      connections: Number(raw.connections),
      infoHash: raw.infoHash ?? '',
      ...(raw.errorMessage ? { errorMessage: raw.errorMessage } : {}),
    };
    this.lastStatus = s;
    return s;
  }

  /** Waits until the torrent is complete and seeding (completedLength == totalLength > 0). */
  async waitComplete(timeoutMs: number): Promise<Aria2Status> {
    return waitFor(
      `aria2c ${this.opts.name} to complete`,
      async () => {
        if (!this.proc.running) throw new Error('aria2c exited');
        const s = await this.status();
        if (s.status === 'error') throw new Error(`aria2c ${this.opts.name}: ${s.errorMessage ?? 'error'}`);
        return s.totalLength > 0 && s.completedLength === s.totalLength && s.status === 'active' ? s : undefined;
      },
      { timeoutMs, everyMs: 200 },
    );
  }

  /**
   * Graceful stop: aria2.shutdown (the torrent is stopped and aria2 sends event=stopped to its
   * tracker before exiting; SIGTERM would be an "emergency shutdown" that sends nothing). Falls
   * back to SIGKILL after `timeoutMs`.
   */
  async shutdown(timeoutMs = 15_000): Promise<void> {
    if (!this.proc.running) return;
    try {
      await this.status();
      await this.rpc('aria2.shutdown');
    } catch {
      /* already going */
    }
    if ((await this.proc.waitExit(timeoutMs)) === null) await this.proc.stop('SIGKILL');
  }

  /** For t.after: kills without waiting for a tracker. */
  async kill(): Promise<void> {
    await this.proc.stop('SIGKILL');
  }
}

// ------------------------------------------------------------------ Transmission

export interface TransmissionTorrent {
  id: number;
  name: string;
  hashString: string;
  /** 0 stopped, 1 check-wait, 2 checking, 3 download-wait, 4 downloading, 5 seed-wait, 6 seeding. */
  status: number;
  percentDone: number;
  haveValid: number;
  totalSize: number;
  uploadedEver: number;
  downloadedEver: number;
  error: number;
  errorString: string;
  peersConnected: number;
  trackerStats: {
    announce: string;
    lastAnnounceSucceeded: boolean;
    lastAnnounceResult: string;
    lastAnnounceTime: number;
    announceState: number;
    hasAnnounced: boolean;
  }[];
}

const TR_FIELDS = [
  'id',
  'name',
  'hashString',
  'status',
  'percentDone',
  'haveValid',
  'totalSize',
  'uploadedEver',
  'downloadedEver',
  'error',
  'errorString',
  'peersConnected',
  'trackerStats',
];

export interface TransmissionOptions {
  name: string;
  /** Holds config/ (settings.json, resume files) and the default download dir. */
  dir: string;
  /** Merged over the defaults written to settings.json. */
  settings?: Record<string, unknown>;
}

/**
 * One transmission-daemon (-f, own config dir) driven over its HTTP RPC. DHT, LPD, PEX, uTP,
 * port forwarding off; listens on 127.0.0.1 only.
 */
export class Transmission {
  private sessionId = '';

  private constructor(
    readonly opts: TransmissionOptions,
    readonly proc: ManagedProcess,
    readonly rpcPort: number,
    readonly peerPort: number,
    readonly downloadDir: string,
  ) {}

  static async start(opts: TransmissionOptions): Promise<Transmission> {
    const rpcPort = await freeTcpPort();
    const peerPort = await freeTcpUdpPort();
    const config = join(opts.dir, 'config');
    const downloadDir = join(opts.dir, 'download');
    await mkdir(config, { recursive: true });
    await mkdir(downloadDir, { recursive: true });
    const settings = {
      'rpc-enabled': true,
      'rpc-port': rpcPort,
      'rpc-bind-address': '127.0.0.1',
      'rpc-authentication-required': false,
      'rpc-whitelist-enabled': false,
      'rpc-host-whitelist-enabled': false,
      'peer-port': peerPort,
      'peer-port-random-on-start': false,
      'bind-address-ipv4': '127.0.0.1',
      'bind-address-ipv6': '::1',
      'port-forwarding-enabled': false,
      'dht-enabled': false,
      'lpd-enabled': false,
      'pex-enabled': false,
      'utp-enabled': false,
      'blocklist-enabled': false,
      'download-dir': downloadDir,
      'incomplete-dir-enabled': false,
      'rename-partial-files': false,
      'start-added-torrents': true,
      'watch-dir-enabled': false,
      'ratio-limit-enabled': false,
      'idle-seeding-limit-enabled': false,
      'speed-limit-up-enabled': false,
      'speed-limit-down-enabled': false,
      'alt-speed-enabled': false,
      'queue-stalled-enabled': false,
      'download-queue-enabled': false,
      'seed-queue-enabled': false,
      'scrape-paused-torrents-enabled': false,
      'message-level': 2,
      ...opts.settings,
    };
    await writeFile(join(config, 'settings.json'), JSON.stringify(settings, null, 2));
    const proc = spawnManaged(`transmission-daemon ${opts.name}`, 'transmission-daemon', ['-f', '-g', config]);
    const tr = new Transmission(opts, proc, rpcPort, peerPort, downloadDir);
    try {
      await waitFor(`transmission-daemon ${opts.name} RPC`, async () => (proc.running ? (await tr.rpc('session-get')) !== undefined : Promise.reject(new Error('transmission-daemon exited'))), {
        timeoutMs: 10_000,
        everyMs: 200,
      });
    } catch (e) {
      await proc.stop('SIGKILL');
      throw new Error(`${(e as Error).message}\n${proc.describe()}`, { cause: e });
    }
    return tr;
  }

  /** One RPC call, with the X-Transmission-Session-Id handshake (409 gives the id, retry once). */
  async rpc<T = unknown>(method: string, args: Record<string, unknown> = {}): Promise<T> {
    const url = `http://127.0.0.1:${this.rpcPort}/transmission/rpc`;
    for (let attempt = 0; attempt < 3; attempt++) {
      const res = await postJson(url, { method, arguments: args }, { 'X-Transmission-Session-Id': this.sessionId });
      if (res.status === 409) {
        this.sessionId = res.headers.get('x-transmission-session-id') ?? '';
        await res.arrayBuffer();
        continue;
      }
      const j = (await res.json()) as { result: string; arguments: T };
      if (j.result !== 'success') throw new Error(`transmission ${method}: ${j.result}`);
      return j.arguments;
    }
    throw new Error(`transmission ${method}: no session id after 3 attempts`);
  }

  /** Adds a .torrent (sent as metainfo); returns its id. */
  async add(torrentPath: string, downloadDir = this.downloadDir, paused = false): Promise<number> {
    const metainfo = (await readFile(torrentPath)).toString('base64');
    const r = await this.rpc<{ 'torrent-added'?: { id: number }; 'torrent-duplicate'?: { id: number } }>('torrent-add', {
      metainfo,
      'download-dir': downloadDir,
      paused,
    });
    const t = r['torrent-added'] ?? r['torrent-duplicate'];
    if (!t) throw new Error(`transmission torrent-add: unexpected reply ${JSON.stringify(r)}`);
    return t.id;
  }

  async get(id: number): Promise<TransmissionTorrent> {
    const r = await this.rpc<{ torrents: TransmissionTorrent[] }>('torrent-get', { ids: [id], fields: TR_FIELDS });
    const t = r.torrents[0];
    if (!t) throw new Error(`transmission: no torrent ${id}`);
    return t;
  }

  async verify(id: number): Promise<void> {
    await this.rpc('torrent-verify', { ids: [id] });
  }

  /** Stopping a torrent sends event=stopped to its tracker (asynchronously). */
  async stopTorrent(id: number): Promise<void> {
    await this.rpc('torrent-stop', { ids: [id] });
  }

  async startTorrent(id: number): Promise<void> {
    await this.rpc('torrent-start-now', { ids: [id] });
  }

  /** Honours the tracker's min interval (see real-clients.md). */
  async reannounce(id: number): Promise<void> {
    await this.rpc('torrent-reannounce', { ids: [id] });
  }

  /** Waits until the torrent is complete and seeding (status 6), verifying it first if needed. */
  async waitSeeding(id: number, timeoutMs: number): Promise<TransmissionTorrent> {
    return waitFor(
      `transmission ${this.opts.name} torrent ${id} seeding`,
      async () => {
        if (!this.proc.running) throw new Error('transmission-daemon exited');
        const t = await this.get(id);
        if (t.error === 3) throw new Error(`transmission torrent ${id}: local error: ${t.errorString}`);
        return t.status === 6 && t.percentDone === 1 ? t : undefined;
      },
      { timeoutMs, everyMs: 200 },
    );
  }

  /** Waits until the torrent's tracker has answered an announce successfully. */
  async waitAnnounced(id: number, timeoutMs: number, after = 0): Promise<TransmissionTorrent> {
    return waitFor(
      `transmission ${this.opts.name} torrent ${id} announced`,
      async () => {
        const t = await this.get(id);
        const ts = t.trackerStats[0];
        return ts && ts.hasAnnounced && ts.lastAnnounceSucceeded && ts.lastAnnounceTime >= after ? t : undefined;
      },
      { timeoutMs, everyMs: 200 },
    );
  }

  /**
   * Graceful exit: session-close (torrents are stopped, event=stopped announced, then the daemon
   * exits), SIGTERM then SIGKILL as fallbacks.
   */
  async shutdown(timeoutMs = 15_000): Promise<void> {
    if (!this.proc.running) return;
    try {
      await this.rpc('session-close');
    } catch {
      this.proc.signal('SIGTERM');
    }
    if ((await this.proc.waitExit(timeoutMs)) === null) await this.proc.stop('SIGKILL');
  }

  async kill(): Promise<void> {
    await this.proc.stop('SIGKILL');
  }
}

// ------------------------------------------------------------------ libtorrent (test/e2e/lt_client.py)

/**
 * Debian's interpreter: python3-libtorrent installs into it only (a pyenv/venv `python3` earlier
 * on PATH cannot import it).
 */
export const LT_PYTHON = '/usr/bin/python3';
export const LT_CLIENT_SCRIPT = decodeURIComponent(new URL('../e2e/lt_client.py', import.meta.url).pathname);

/** Why libtorrent cannot be used here (a message for t.skip), or null when it can. */
export async function libtorrentUnavailable(): Promise<string | null> {
  const r = await run(LT_PYTHON, ['-c', 'import libtorrent; print(libtorrent.__version__)'], { timeoutMs: 20_000 });
  if (r.code === 0) return null;
  return `${LT_PYTHON} cannot import libtorrent (apt-get install python3-libtorrent): ${(r.stderr || r.stdout).trim().split('\n').pop() ?? ''}`;
}

/** One JSON line printed by lt_client.py (see the script's docstring for every `ev`). */
export interface LtLine {
  ev: string;
  /** Seconds since the script started. */
  t: number;
  [key: string]: unknown;
}

/** Counters of lt_client.py's `status`, `stopping` and `final` lines. */
export interface LtCounters {
  state: string;
  payload_up: number;
  payload_down: number;
  all_time_up: number;
  all_time_down: number;
  failed: number;
  redundant: number;
  /** What libtorrent 2.0 announces as `downloaded`: payload_down - failed - redundant (>= 0). */
  announced_down: number;
  done: number;
  wanted: number;
  peers: number;
  is_seeding: boolean;
}

export interface LtFinal extends LtCounters, LtLine {
  stopped_announced: boolean;
  stopped_answered: boolean;
  stop_error: string | null;
}

export interface LtClientOptions {
  /** For messages. */
  name: string;
  torrent: string;
  /** Save path (for a seeder: the directory that holds the payload). */
  save: string;
  mode: 'seed' | 'leech';
  /** The script's own --timeout (it then stops gracefully and exits 2). */
  timeoutS: number;
  stopAfterComplete?: boolean;
}

/** One lt_client.py process (libtorrent 2.0, one torrent, 127.0.0.1:<port>). */
export class LtClient {
  readonly lines: LtLine[] = [];
  private partial = '';

  private constructor(
    readonly opts: LtClientOptions,
    readonly proc: ManagedProcess,
    readonly port: number,
  ) {
    proc.child.stdout?.on('data', (c: Buffer) => {
      this.partial += c.toString('utf8');
      let nl: number;
      while ((nl = this.partial.indexOf('\n')) >= 0) {
        const line = this.partial.slice(0, nl).trim();
        this.partial = this.partial.slice(nl + 1);
        if (!line.startsWith('{')) continue;
        try {
          this.lines.push(JSON.parse(line) as LtLine);
        } catch {
          /* not one of ours */
        }
      }
    });
  }

  /** Starts the script and waits (bounded) until it listens and has added the torrent. */
  static async start(opts: LtClientOptions): Promise<LtClient> {
    const port = await freeTcpUdpPort();
    await mkdir(opts.save, { recursive: true });
    const args = [
      LT_CLIENT_SCRIPT,
      '--torrent', opts.torrent,
      '--save', opts.save,
      '--port', String(port),
      '--mode', opts.mode,
      '--timeout', String(opts.timeoutS),
      ...(opts.stopAfterComplete ? ['--stop-after-complete'] : []),
    ];
    const proc = spawnManaged(`libtorrent ${opts.name}`, LT_PYTHON, args, { env: { ...process.env, PYTHONUNBUFFERED: '1' } });
    const c = new LtClient(opts, proc, port);
    try {
      await c.waitLine('to listen on 127.0.0.1 (TCP)', (l) => {
        if (l.ev === 'listen' && l.ok === false) throw new Error(`listen failed: ${String(l.msg)}`);
        return l.ev === 'listen' && l.ok === true && l.socket_type === 'tcp';
      }, 15_000);
      await c.waitLine('the torrent to be added', (l) => l.ev === 'ready', 5_000);
    } catch (e) {
      await proc.stop('SIGKILL');
      throw new Error(`${(e as Error).message}\n${proc.describe()}`, { cause: e });
    }
    return c;
  }

  /**
   * Waits (bounded) for a line for which `pred` returns true (it may throw to fail fast), looking
   * at lines from index `from` on; fails early when the process exits without printing one.
   */
  async waitLine(what: string, pred: (l: LtLine) => boolean, timeoutMs: number, from = 0): Promise<LtLine> {
    return waitFor(
      `libtorrent ${this.opts.name}: ${what}`,
      () => {
        const hit = this.lines.slice(from).find(pred);
        if (hit) return hit;
        if (!this.proc.running) throw new Error(`lt_client.py exited (${JSON.stringify(this.proc.exitStatus)}) first`);
        return undefined;
      },
      { timeoutMs, everyMs: 50 },
    );
  }

  /** The `final` line, once printed. */
  final(): LtFinal | undefined {
    return this.lines.find((l) => l.ev === 'final') as LtFinal | undefined;
  }

  /** The line the script printed right before pausing (counters at that moment). */
  stopping(): (LtCounters & LtLine) | undefined {
    return this.lines.find((l) => l.ev === 'stopping') as (LtCounters & LtLine) | undefined;
  }

  /**
   * Graceful stop: SIGTERM (the script pauses the torrent, which sends event=stopped, waits
   * for the answer, prints `final`), SIGKILL after `timeoutMs`. Resolves with the exit status.
   */
  stop(timeoutMs = 15_000): ReturnType<ManagedProcess['stop']> {
    return this.proc.stop('SIGTERM', timeoutMs);
  }

  /** Waits for the process to exit on its own (e.g. --stop-after-complete); null on timeout. */
  waitExit(timeoutMs: number): ReturnType<ManagedProcess['waitExit']> {
    return this.proc.waitExit(timeoutMs);
  }

  /** For t.after: kills without waiting for a tracker. */
  async kill(): Promise<void> {
    await this.proc.stop('SIGKILL');
  }

  /** The lines minus the periodic `status` ones, for failure messages. */
  describe(): string {
    const st = this.proc.exitStatus;
    const err = this.proc
      .output()
      .split('\n')
      .filter((l) => l.startsWith('[err] '))
      .join('\n');
    return (
      `----- libtorrent ${this.opts.name} (port ${this.port}; ${st ? `exited: code=${st.code} signal=${st.signal}` : 'running'})\n` +
      this.lines
        .filter((l) => l.ev !== 'status')
        .map((l) => JSON.stringify(l))
        .join('\n') +
      (err ? `\n${err}` : '') +
      `\n----- end of libtorrent ${this.opts.name}`
    );
  }
}

/**
 * opentracker (Debian build, whitelist-only) as a known-good reference tracker, used to validate
 * the client harness independently of Essaim (ESSAIM_E2E_TRACKER=opentracker). It knows nothing
 * of passkeys nor accounting: announce URLs have no passkey and nothing is credited.
 */
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freeTcpUdpPort } from './ports.js';
import { spawnManaged, waitFor, type ManagedProcess } from './process.js';
import { httpGetRaw } from './announce.js';

export class OpenTracker {
  private constructor(
    readonly proc: ManagedProcess,
    readonly port: number,
  ) {}

  /** Starts opentracker on 127.0.0.1:<port> (TCP and UDP) allowing exactly `infoHashes`. */
  static async start(dir: string, infoHashes: string[]): Promise<OpenTracker> {
    await mkdir(dir, { recursive: true });
    await chmod(dir, 0o755);
    await writeFile(join(dir, 'whitelist.txt'), infoHashes.map((h) => h + '\n').join(''), { mode: 0o644 });
    const port = await freeTcpUdpPort();
    const args = ['-i', '127.0.0.1', '-p', String(port), '-P', String(port), '-d', dir, '-w', 'whitelist.txt'];
    if (process.getuid?.() === 0) args.push('-u', 'nobody');
    const proc = spawnManaged('opentracker', 'opentracker', args, { cwd: dir });
    const ot = new OpenTracker(proc, port);
    try {
      await waitFor(
        'opentracker to answer HTTP',
        async () => {
          if (!proc.running) throw new Error('opentracker exited');
          const r = await httpGetRaw('127.0.0.1', port, '/stats', 1_000);
          return r.status > 0;
        },
        { timeoutMs: 10_000, everyMs: 100 },
      );
    } catch (e) {
      await proc.stop('SIGKILL');
      throw new Error(`${(e as Error).message}\n${proc.describe()}`, { cause: e });
    }
    return ot;
  }

  httpAnnounceUrl(): string {
    return `http://127.0.0.1:${this.port}/announce`;
  }

  udpAnnounceUrl(): string {
    return `udp://127.0.0.1:${this.port}/announce`;
  }

  async stop(): Promise<void> {
    await this.proc.stop('SIGTERM', 3_000);
  }
}

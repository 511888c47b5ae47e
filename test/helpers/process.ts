/**
 * Child processes for end-to-end tests: output kept in a bounded buffer (shown when a test fails),
 * bounded waits, and a registry so that nothing outlives the test process even if a test forgets
 * to stop what it started (every process is SIGKILLed, by its own pid, when node exits).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const c of live) {
      if (c.exitCode === null && c.signalCode === null && c.pid !== undefined) {
        try {
          process.kill(c.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
  });
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Kept output, in characters (the end is kept). Default 256 KiB. */
  maxOutput?: number;
}

/** A started child process whose stdout and stderr are collected into one buffer. */
export class ManagedProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<ExitStatus>;
  private buf = '';
  private readonly maxOutput: number;
  private status: ExitStatus | null = null;

  constructor(
    readonly name: string,
    readonly command: string,
    readonly args: readonly string[],
    opts: SpawnOptions = {},
  ) {
    installExitHook();
    this.maxOutput = opts.maxOutput ?? 256 * 1024;
    this.child = spawn(command, args, {
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    live.add(this.child);
    const append = (prefix: string) => (chunk: Buffer) => {
      this.buf += chunk
        .toString('utf8')
        .split(/(?<=\n)/)
        .map((l) => prefix + l)
        .join('');
      if (this.buf.length > this.maxOutput) this.buf = this.buf.slice(this.buf.length - this.maxOutput);
    };
    this.child.stdout?.on('data', append(''));
    this.child.stderr?.on('data', append('[err] '));
    this.exited = new Promise<ExitStatus>((resolve) => {
      this.child.once('error', (err) => {
        this.buf += `[spawn error] ${err.message}\n`;
        live.delete(this.child);
        this.status ??= { code: -1, signal: null };
        resolve(this.status);
      });
      this.child.once('exit', (code, signal) => {
        live.delete(this.child);
        this.status ??= { code, signal };
        resolve(this.status);
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Still running (no exit seen yet). */
  get running(): boolean {
    return this.status === null;
  }

  get exitStatus(): ExitStatus | null {
    return this.status;
  }

  /** What the process printed so far (stderr lines are prefixed with "[err] "). */
  output(): string {
    return this.buf;
  }

  /** The output framed for an assertion message. */
  describe(): string {
    const st = this.status ? ` (exited: code=${this.status.code} signal=${this.status.signal})` : ' (running)';
    return `----- ${this.name}${st}: ${this.command} ${this.args.join(' ')}\n${this.buf}\n----- end of ${this.name}`;
  }

  /** Sends a signal to this process only (by pid). No-op once it has exited. */
  signal(sig: NodeJS.Signals): void {
    if (!this.running || this.child.pid === undefined) return;
    try {
      process.kill(this.child.pid, sig);
    } catch {
      /* already gone */
    }
  }

  /** Waits for the exit for at most `ms`; null on timeout. */
  async waitExit(ms: number): Promise<ExitStatus | null> {
    if (this.status) return this.status;
    const ac = new AbortController();
    const timer = sleep(ms, null, { signal: ac.signal }).catch(() => null);
    const r = await Promise.race([this.exited, timer]);
    ac.abort();
    return r;
  }

  /**
   * Stops the process: `sig` (default SIGTERM), then SIGKILL if it has not exited after
   * `graceMs`. Always resolves once the process is gone.
   */
  async stop(sig: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<ExitStatus> {
    if (this.status) return this.status;
    this.signal(sig);
    const r = await this.waitExit(sig === 'SIGKILL' ? 5_000 : graceMs);
    if (r) return r;
    this.signal('SIGKILL');
    return this.exited;
  }
}

export function spawnManaged(name: string, command: string, args: readonly string[], opts: SpawnOptions = {}): ManagedProcess {
  return new ManagedProcess(name, command, args, opts);
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion with a timeout (SIGKILL when it expires). */
export async function run(
  command: string,
  args: readonly string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number; input?: string } = {},
): Promise<RunResult> {
  installExitHook();
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    live.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr?.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const timer = setTimeout(() => {
      stderr += `\n[killed after ${opts.timeoutMs ?? 30_000} ms]`;
      if (child.pid !== undefined) {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }, opts.timeoutMs ?? 30_000);
    child.once('error', (err) => {
      clearTimeout(timer);
      live.delete(child);
      resolve({ code: -1, signal: null, stdout, stderr: stderr + `[spawn error] ${err.message}` });
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      live.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
    if (child.stdin) {
      child.stdin.on('error', () => undefined); // EPIPE when the child does not read its input
      child.stdin.end(opts.input);
    }
  });
}

/** True when `name` is an executable file in a directory of PATH. */
export function hasBinary(name: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {
      /* not here */
    }
  }
  return false;
}

/** The binaries of `names` that are not on PATH. */
export function missingBinaries(...names: string[]): string[] {
  return names.filter((n) => !hasBinary(n));
}

/**
 * Polls `fn` every `everyMs` until it returns a value other than undefined/false, for at most
 * `timeoutMs`; then throws with `what` and the last error (if any) in the message.
 */
export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | false> | T | undefined | false,
  { timeoutMs = 10_000, everyMs = 100 }: { timeoutMs?: number; everyMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown = null;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      lastErr = e;
    }
    if (Date.now() >= deadline) {
      const why = lastErr instanceof Error ? `: last error: ${lastErr.message}` : lastErr ? `: ${String(lastErr)}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await sleep(everyMs);
  }
}

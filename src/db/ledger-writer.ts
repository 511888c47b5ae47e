/**
 * Where the tracker's ledger batches are written. On PostgreSQL the driver is asynchronous, so
 * batches go straight through applyLedgerBatch. On SQLite better-sqlite3 is synchronous: a flush
 * of tens of thousands of rows would stall the tracker's event loop for hundreds of milliseconds,
 * so batches are written by a worker thread holding its own connection to the same file (WAL lets
 * the site read meanwhile). Either way the batch is one transaction, idempotent by batch id.
 */
import { Worker } from 'node:worker_threads';
import type { Kysely } from 'kysely';
import type { LedgerBatch } from '../shared/ledger-batch.js';
import { applyLedgerBatch } from './ledger.repository.js';
import type { Database } from './schema.js';

export interface LedgerWriter {
  write(batch: LedgerBatch): Promise<{ applied: boolean }>;
  close(): Promise<void>;
}

export function directLedgerWriter(db: Kysely<Database>): LedgerWriter {
  return { write: (batch) => applyLedgerBatch(db, batch), close: async () => undefined };
}

/** Messages between the writer and its worker (ledger-writer.worker.ts). */
export type WorkerRequest = { id: number; batch: LedgerBatch };
export type WorkerReply = { id: number; ok: true; applied: boolean } | { id: number; ok: false; error: string };

// The worker starts from this small script: it registers tsx when the sources are TypeScript
// (a source checkout), then imports the worker module.
const BOOT = `
const { workerData } = require('node:worker_threads');
(async () => {
  if (workerData.tsx) (await import(workerData.tsx)).register();
  await import(workerData.entry);
})().catch((err) => { console.error(err); process.exit(1); });`;

export interface SqliteWriterOptions {
  /**
   * Page cache of the thread's connection, in KiB. Default 4096: batches are written in key order,
   * so a larger cache (better-sqlite3's default is 16 MiB) saves no measurable time, and its pages
   * stay resident.
   */
  cacheKiB?: number;
  /**
   * Cap on the thread's V8 young generation, in MiB (default 4). Its garbage is a few strings per
   * row of one batch: a small young generation collects it as well as V8's default (up to 32 MiB
   * of semi-spaces), which would otherwise stay resident.
   */
  youngGenerationMb?: number;
}

/**
 * The thread starts right away (its fixed cost is paid at start, not at the first flush under
 * load) and again at the next write whenever it exited.
 */
export function sqliteWorkerLedgerWriter(path: string, opts: SqliteWriterOptions = {}): LedgerWriter {
  const fromSource = import.meta.url.endsWith('.ts');
  const entry = new URL(fromSource ? './ledger-writer.worker.ts' : './ledger-writer.worker.js', import.meta.url).href;
  const tsx = fromSource ? import.meta.resolve('tsx/esm/api') : null;
  let worker: Worker | null = null;
  let seq = 0;
  const pending = new Map<number, { resolve: (v: { applied: boolean }) => void; reject: (e: Error) => void }>();

  const failAll = (err: Error) => {
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  // The thread keeps the process alive only while a write is in flight.
  const settle = (w: Worker) => {
    if (pending.size === 0) w.unref();
  };
  const spawn = (): Worker => {
    const w = new Worker(BOOT, {
      eval: true,
      workerData: { tsx, entry, path, cacheKiB: opts.cacheKiB ?? 4096 },
      resourceLimits: { maxYoungGenerationSizeMb: opts.youngGenerationMb ?? 4 },
    });
    w.on('message', (m: WorkerReply) => {
      const p = pending.get(m.id);
      if (!p) return;
      pending.delete(m.id);
      if (m.ok) p.resolve({ applied: m.applied });
      else p.reject(new Error(m.error));
      settle(w);
    });
    w.on('error', (err) => failAll(err));
    w.on('exit', (code) => {
      if (worker === w) worker = null; // the next write starts a new one
      failAll(new Error(`ledger writer thread exited (code ${code})`));
    });
    w.unref();
    return w;
  };

  worker = spawn();
  return {
    write(batch) {
      worker ??= spawn();
      const id = ++seq;
      const w = worker;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        w.ref();
        w.postMessage({ id, batch } satisfies WorkerRequest);
      });
    },
    async close() {
      const w = worker;
      worker = null;
      if (w) await w.terminate();
    },
  };
}

/**
 * The SQLite ledger writer thread (see ledger-writer.ts): its own connection to the database
 * file, one transaction per batch through applySqliteBatch. The batch's typed arrays arrive on
 * SharedArrayBuffers (see src/swarm/ledger.ts): nothing is copied, and the tracker keeps its view
 * of the same batch to retry it if this thread fails or dies.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { applySqliteBatch, openLedgerWriterConnection } from './ledger.sqlite.js';
import type { WorkerReply, WorkerRequest } from './ledger-writer.js';

const { path, cacheKiB } = workerData as { path: string; cacheKiB?: number };
const conn = openLedgerWriterConnection(path, cacheKiB);
const port = parentPort!;

port.on('message', (m: WorkerRequest) => {
  let reply: WorkerReply;
  try {
    const now = Math.floor(Date.now() / 1000);
    const r = applySqliteBatch(conn, m.batch, now);
    reply = { id: m.id, ok: true, applied: r.applied };
  } catch (err) {
    reply = { id: m.id, ok: false, error: err instanceof Error ? err.message : String(err) };
  }
  port.postMessage(reply);
});

/**
 * Test helpers for the Redis peer store (not a test file: never imports node:test).
 *
 * - `testRedisUrl()`: ESSAIM_TEST_REDIS_URL, or null (Redis suites skip with `REDIS_SKIP`).
 * - `randomPrefix()`: a fresh key prefix per test; `deleteKeys(redis, prefix)` removes its keys
 *   (SCAN MATCH on every master of a cluster).
 * - `startRedisCluster()`: three `redis-server --cluster-enabled yes` masters on free loopback
 *   ports in a temporary directory, joined with `redis-cli --cluster create`; null (with the reason)
 *   when redis-server or redis-cli cannot do that here.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, Redis } from 'ioredis';
import type { PeerStore } from './peer-store.js';
import { RedisPeerStore, type RedisPeerStoreOptions } from './redis-peer-store.js';

export const REDIS_SKIP = 'ESSAIM_TEST_REDIS_URL is not set (e.g. redis://127.0.0.1:6379/0): Redis tests skipped';

export function testRedisUrl(): string | null {
  const u = process.env.ESSAIM_TEST_REDIS_URL;
  return u === undefined || u === '' ? null : u;
}

export function randomPrefix(): string {
  return `essaim-test:${randomBytes(6).toString('hex')}:`;
}

/** Deletes every key under `prefix` (never KEYS: SCAN, per master on a cluster). */
export async function deleteKeys(redis: Redis | Cluster, prefix: string): Promise<number> {
  const nodes = redis instanceof Cluster ? redis.nodes('master') : [redis];
  let n = 0;
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      // One DEL per key: on a cluster, keys of one scan page live in many slots.
      for (const k of keys) n += await node.del(k);
    } while (cursor !== '0');
  }
  return n;
}

/** Keys under `prefix` (SCAN, per master). */
export async function countKeys(redis: Redis | Cluster, prefix: string): Promise<number> {
  const nodes = redis instanceof Cluster ? redis.nodes('master') : [redis];
  let n = 0;
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      n += keys.length;
    } while (cursor !== '0');
  }
  return n;
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** Three consecutive free ports whose cluster bus ports (+10000) are free too. */
async function freePorts(): Promise<number[] | null> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20000 + Math.floor(Math.random() * 30000);
    const ports = [base, base + 1, base + 2];
    let ok = true;
    for (const p of ports) {
      if (!(await portFree(p)) || !(await portFree(p + 10000))) {
        ok = false;
        break;
      }
    }
    if (ok) return ports;
  }
  return null;
}

export interface TestCluster {
  /** A seed url (redis://127.0.0.1:port/0). */
  url: string;
  ports: number[];
  stop(): Promise<void>;
}

/** Starts a 3-master Redis Cluster on loopback; `{ skip }` says why when it cannot. */
export async function startRedisCluster(): Promise<TestCluster | { skip: string }> {
  for (const bin of ['redis-server', 'redis-cli']) {
    const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
    if (r.error || r.status !== 0) return { skip: `${bin} is not available: cannot start a Redis Cluster here` };
  }
  const help = spawnSync('redis-cli', ['--cluster', 'help'], { encoding: 'utf8' });
  if (!`${help.stdout}${help.stderr}`.includes('create')) return { skip: 'redis-cli has no --cluster create (Redis < 5)' };
  const ports = await freePorts();
  if (ports === null) return { skip: 'no free loopback ports for a Redis Cluster' };
  const dir = mkdtempSync(join(tmpdir(), 'essaim-redis-cluster-'));
  const pids: number[] = [];
  const killAll = (): void => {
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
  };
  // Never leave servers behind, even when the test process dies.
  process.once('exit', killAll);
  const stop = async (): Promise<void> => {
    process.removeListener('exit', killAll);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    await new Promise((r) => setTimeout(r, 200));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports) {
      const child = spawn(
        'redis-server',
        [
          '--port', String(port),
          '--bind', '127.0.0.1',
          '--cluster-enabled', 'yes',
          '--cluster-config-file', join(dir, `nodes-${port}.conf`),
          '--dir', dir,
          '--save', '',
          '--appendonly', 'no',
          '--logfile', join(dir, `${port}.log`),
        ],
        { stdio: 'ignore', detached: false },
      );
      if (child.pid === undefined) throw new Error('redis-server did not start');
      pids.push(child.pid);
      child.unref();
    }
    // Wait until every node answers.
    for (const port of ports) {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const r = spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' });
        if (r.stdout.trim() === 'PONG') break;
        if (Date.now() > deadline) throw new Error(`redis-server on ${port} did not answer: ${readLog(dir, port)}`);
        await new Promise((res) => setTimeout(res, 50));
      }
    }
    const create = spawnSync('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-yes'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    if (create.status !== 0) throw new Error(`redis-cli --cluster create failed: ${create.stdout}${create.stderr}`);
    const deadline = Date.now() + 20_000;
    for (;;) {
      const ok = ports.every((p) => spawnSync('redis-cli', ['-p', String(p), 'cluster', 'info'], { encoding: 'utf8' }).stdout.includes('cluster_state:ok'));
      if (ok) break;
      if (Date.now() > deadline) throw new Error('the Redis Cluster did not reach cluster_state:ok');
      await new Promise((res) => setTimeout(res, 100));
    }
  } catch (e) {
    await stop();
    return { skip: `could not start a Redis Cluster: ${(e as Error).message}` };
  }
  return { url: `redis://127.0.0.1:${ports[0]}/0`, ports, stop };
}

function readLog(dir: string, port: number): string {
  try {
    return readFileSync(join(dir, `${port}.log`), 'utf8').slice(-500);
  } catch {
    return '(no log)';
  }
}

/**
 * A RedisPeerStore on a fresh prefix seen through the PeerStore port, for the contract suite: its
 * close() checks the store's invariants, closes it and deletes its keys. The prefix is kept in
 * `prefixes` until then, so that an `after` hook can clean up after a failed test.
 */
export function contractStore(redis: Redis | Cluster, opts: RedisPeerStoreOptions, prefixes: Set<string>): PeerStore {
  const keyPrefix = randomPrefix();
  prefixes.add(keyPrefix);
  const store = new RedisPeerStore(redis, { ...opts, keyPrefix });
  return {
    announce: (a) => store.announce(a),
    scrape: (h) => store.scrape(h),
    sweep: (t) => store.sweep(t),
    forEachSwarm: (fn) => store.forEachSwarm(fn),
    stats: () => store.stats(),
    dropSwarm: (h) => store.dropSwarm(h),
    async close() {
      await store.checkInvariants();
      await store.close();
      await deleteKeys(redis, keyPrefix);
      prefixes.delete(keyPrefix);
    },
  };
}

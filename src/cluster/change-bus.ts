/**
 * The change bus: how a change made on one node (a passkey rotated, a torrent approved or
 * deleted, the blocklist or the freeleech windows edited, client rules changed) reaches the
 * tracker's access cache on every other node within a second or so. The periodic full reload of
 * the access cache (`tracker.access_refresh_interval`) still runs on every tracker node and
 * catches anything a lost message missed.
 *
 * Transports, chosen by the composition root:
 * - Redis pub/sub (when `redis.url` is set): one channel, `<key_prefix>changes`;
 * - PostgreSQL LISTEN/NOTIFY (PostgreSQL without Redis): channel `essaim_changes`;
 * - none (one process): changes apply in process only.
 *
 * Messages are small JSON objects carrying the sending node's id, so a node skips its own (it
 * applied them already). A message that does not parse is dropped and counted, never thrown.
 */
import type { Cluster, Redis } from 'ioredis';
import pg from 'pg';
import type { Logger } from '../shared/log.js';
import { isCacheName, type CacheName } from '../shared/cache-events.js';

export type Change =
  | { kind: 'torrent'; id: number }
  | { kind: 'user'; id: number; previousPasskey?: string }
  | { kind: 'blocklist' }
  | { kind: 'freeleech' }
  | { kind: 'clients' }
  /** A web cache that an edit invalidated (src/shared/cache-events.ts). */
  | { kind: 'cache'; name: CacheName };

export interface ChangeBus {
  publish(change: Change): Promise<void>;
  /** Called for every change published by another node. */
  subscribe(fn: (change: Change) => void): void;
  /** Messages dropped because they did not parse. */
  readonly malformed: number;
  close(): Promise<void>;
}

interface Envelope {
  from: string;
  change: Change;
}

/** Parses a bus message; null for anything that is not a well-formed change. */
export function parseChange(raw: string): Envelope | null {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return null;
  }
  if (!v || typeof v !== 'object') return null;
  const { from, change } = v as { from?: unknown; change?: unknown };
  if (typeof from !== 'string' || !change || typeof change !== 'object') return null;
  const c = change as Record<string, unknown>;
  const id = c.id;
  const okId = typeof id === 'number' && Number.isSafeInteger(id) && id > 0;
  switch (c.kind) {
    case 'torrent':
      return okId ? { from, change: { kind: 'torrent', id: id as number } } : null;
    case 'user': {
      if (!okId) return null;
      const p = c.previousPasskey;
      if (p !== undefined && (typeof p !== 'string' || !/^[0-9a-f]{32}$/.test(p))) return null;
      return { from, change: p === undefined ? { kind: 'user', id: id as number } : { kind: 'user', id: id as number, previousPasskey: p } };
    }
    case 'blocklist':
    case 'freeleech':
    case 'clients':
      return { from, change: { kind: c.kind } };
    case 'cache':
      return isCacheName(c.name) ? { from, change: { kind: 'cache', name: c.name } } : null;
    default:
      return null;
  }
}

abstract class BaseBus implements ChangeBus {
  protected handlers: Array<(c: Change) => void> = [];
  malformed = 0;
  constructor(
    protected readonly nodeId: string,
    protected readonly log: Logger,
  ) {}

  protected deliver(raw: string): void {
    const env = parseChange(raw);
    if (!env) {
      this.malformed++;
      return;
    }
    if (env.from === this.nodeId) return;
    for (const h of this.handlers) {
      try {
        h(env.change);
      } catch (err) {
        this.log.error({ err, kind: env.change.kind }, 'change handler failed');
      }
    }
  }

  protected encode(change: Change): string {
    return JSON.stringify({ from: this.nodeId, change } satisfies Envelope);
  }

  subscribe(fn: (change: Change) => void): void {
    this.handlers.push(fn);
  }

  abstract publish(change: Change): Promise<void>;
  abstract close(): Promise<void>;
}

/** Redis pub/sub. `client` publishes; a duplicate connection subscribes (a subscribed connection can do nothing else). */
export class RedisChangeBus extends BaseBus {
  private sub: Redis | Cluster | null = null;
  private readonly channel: string;

  constructor(
    private readonly client: Redis | Cluster,
    keyPrefix: string,
    nodeId: string,
    log: Logger,
  ) {
    super(nodeId, log);
    this.channel = `${keyPrefix}changes`;
  }

  async start(): Promise<void> {
    this.sub = this.client.duplicate();
    this.sub.on('message', (channel: string, message: string) => {
      if (channel === this.channel) this.deliver(message);
    });
    await this.sub.subscribe(this.channel);
  }

  async publish(change: Change): Promise<void> {
    await this.client.publish(this.channel, this.encode(change));
  }

  async close(): Promise<void> {
    const s = this.sub;
    this.sub = null;
    if (s) s.disconnect();
  }
}

export const PG_CHANNEL = 'essaim_changes';

/** PostgreSQL LISTEN/NOTIFY on a dedicated connection (the pool's connections come and go). */
export class PgChangeBus extends BaseBus {
  private listener: pg.Client | null = null;
  private publisher: pg.Pool | null = null;
  private closing = false;

  constructor(
    private readonly connectionString: string,
    nodeId: string,
    log: Logger,
  ) {
    super(nodeId, log);
  }

  async start(): Promise<void> {
    this.publisher = new pg.Pool({ connectionString: this.connectionString, max: 2 });
    await this.listen();
  }

  private async listen(): Promise<void> {
    const c = new pg.Client({ connectionString: this.connectionString });
    c.on('notification', (n) => {
      if (n.channel === PG_CHANNEL && typeof n.payload === 'string') this.deliver(n.payload);
    });
    c.on('error', (err) => {
      this.log.warn({ err }, 'change bus connection lost; reconnecting');
      this.listener = null;
      void c.end().catch(() => undefined);
      if (!this.closing) setTimeout(() => void this.listen().catch((e: unknown) => this.log.error({ err: e }, 'change bus reconnect failed')), 1000).unref();
    });
    await c.connect();
    await c.query(`LISTEN ${PG_CHANNEL}`);
    this.listener = c;
  }

  async publish(change: Change): Promise<void> {
    if (!this.publisher) throw new Error('change bus not started');
    await this.publisher.query('select pg_notify($1, $2)', [PG_CHANNEL, this.encode(change)]);
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.listener?.end().catch(() => undefined);
    this.listener = null;
    await this.publisher?.end().catch(() => undefined);
    this.publisher = null;
  }
}

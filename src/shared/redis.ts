/**
 * Redis connections from the configuration (`redis.url`, `redis.cluster`, `redis.key_prefix`).
 *
 *   const redis = connectRedis(config.redis);          // ioredis Redis, or Cluster when redis.cluster
 *   const prefix = checkKeyPrefix(config.redis.key_prefix);
 *   ...
 *   await closeRedis(redis);
 *
 * - `redis.url`: `redis://[user:password@]host[:port][/db]`, or `rediss://` for TLS. With
 *   `redis.cluster`, the url names one seed node (the others are discovered); a cluster has only
 *   database 0, so a url naming another database is refused.
 * - Commands issued in the same tick are sent in one write (auto-pipelining), which is how many
 *   concurrent announces share round trips.
 * - A command fails after a few reconnection attempts instead of waiting forever, so that a
 *   tracker answers with an error rather than hanging while Redis is down.
 * - Key prefixes must not contain `{` or `}`: keys carry Redis Cluster hash tags after the prefix,
 *   and a brace in the prefix would become the hash tag.
 */
import { Cluster, Redis, type RedisOptions } from 'ioredis';

export type RedisClient = Redis | Cluster;

/** The `redis` section of the configuration (or the same fields from elsewhere). */
export interface RedisSettings {
  url: string;
  cluster: boolean;
  key_prefix?: string;
}

export interface RedisEndpoint {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db: number;
  tls: boolean;
}

/** Parses a redis:// or rediss:// url; throws a TypeError with a clear message otherwise. */
export function parseRedisUrl(url: string): RedisEndpoint {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new TypeError('redis.url is not a valid URL (expected redis://host:port/db)');
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new TypeError(`redis.url must start with redis:// or rediss:// (got ${u.protocol}//)`);
  }
  if (u.hostname === '') throw new TypeError('redis.url names no host');
  const port = u.port === '' ? 6379 : Number(u.port);
  const path = u.pathname.replace(/^\/+/, '');
  const db = path === '' ? 0 : Number(path);
  if (!Number.isInteger(db) || db < 0 || db > 65535) throw new TypeError(`redis.url: bad database number "${path}"`);
  const ep: RedisEndpoint = { host: u.hostname.replace(/^\[(.*)\]$/, '$1'), port, db, tls: u.protocol === 'rediss:' };
  if (u.username !== '') ep.username = decodeURIComponent(u.username);
  if (u.password !== '') ep.password = decodeURIComponent(u.password);
  return ep;
}

/** Checks a key prefix (no hash-tag braces) and returns it. */
export function checkKeyPrefix(prefix: string): string {
  if (/[{}]/.test(prefix)) throw new TypeError('redis.key_prefix must not contain { or } (keys carry Redis Cluster hash tags)');
  return prefix;
}

export interface ConnectOptions {
  /** Connection name shown by CLIENT LIST (default "essaim"). */
  name?: string;
  /** Do not connect before the first command. */
  lazyConnect?: boolean;
}

/** Connects to Redis (or a Redis Cluster through one seed node) as configured. */
export function connectRedis(settings: RedisSettings, opts: ConnectOptions = {}): RedisClient {
  if (settings.url === '') throw new TypeError('redis.url is empty: set it to use Redis');
  if (settings.key_prefix !== undefined) checkKeyPrefix(settings.key_prefix);
  const ep = parseRedisUrl(settings.url);
  const common: RedisOptions = {
    connectionName: opts.name ?? 'essaim',
    maxRetriesPerRequest: 3,
    connectTimeout: 5000,
    lazyConnect: opts.lazyConnect ?? false,
  };
  if (ep.username !== undefined) common.username = ep.username;
  if (ep.password !== undefined) common.password = ep.password;
  if (ep.tls) common.tls = { servername: ep.host };
  if (settings.cluster) {
    if (ep.db !== 0) throw new TypeError('redis.url: a Redis Cluster has only database 0');
    return new Cluster([{ host: ep.host, port: ep.port }], {
      redisOptions: common,
      enableAutoPipelining: true,
      lazyConnect: opts.lazyConnect ?? false,
    });
  }
  return new Redis({ ...common, host: ep.host, port: ep.port, db: ep.db, enableAutoPipelining: true });
}

export function isCluster(c: RedisClient): c is Cluster {
  return c instanceof Cluster;
}

/** Quits politely, or drops the connection if Redis does not answer. */
export async function closeRedis(c: RedisClient): Promise<void> {
  if (c.status === 'end') return;
  const ended = new Promise<void>((resolve) => {
    c.once('end', () => resolve());
    setTimeout(resolve, 2000).unref();
  });
  try {
    await c.quit();
  } catch {
    c.disconnect();
  }
  await ended;
}

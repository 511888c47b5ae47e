/**
 * The composition root: the only module that wires implementations together. `createEssaim`
 * builds everything from the config without listening; `start()` opens the database, loads the
 * tracker's caches, and listens; `stop()` closes listeners, flushes the ledger and closes storage.
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { configSchema, type Config } from './config/schema.js';
import { openDatabase } from './db/database.js';
import { migrateToLatest } from './db/migrate.js';
import { forEachPeerBaselinePage } from './db/ledger.repository.js';
import { directLedgerWriter, sqliteWorkerLedgerWriter, type LedgerWriter } from './db/ledger-writer.js';
import type { Database } from './db/schema.js';
import { downloadRefusal } from './db/user.repository.js';
import { flushLedger, pruneLedgerTables, refreshAccess, refreshBlocklist, refreshFreeleech, sweepPeers } from './jobs/tracker-jobs.js';
import { Periodic } from './jobs/periodic.js';
import { systemClock, type Clock } from './shared/clock.js';
import { createLogger, type Logger } from './shared/log.js';
import { buildMetrics, TrackerStats, type Metrics } from './shared/metrics.js';
import { AccessCache, type ClientRule } from './swarm/access-cache.js';
import { Ledger } from './swarm/ledger.js';
import { MemoryPeerStore } from './swarm/memory-peer-store.js';
import { createRedisPeerStore } from './swarm/redis-peer-store.js';
import { RedisCreditDrain } from './swarm/redis-credit-drain.js';
import type { PeerStore } from './swarm/peer-store.js';
import { TrackerService } from './swarm/tracker-service.js';
import { createHttpTracker, type HttpTracker } from './tracker/http-tracker.js';
import { makeIpPolicy } from './tracker/peer-ip.js';
import { UdpTracker } from './tracker/udp-tracker.js';
import { hugePageAdvisor } from './tracker/udp-batch-io.js';
import { buildWebApp } from './web/app.js';
import { join } from 'node:path';
import { pruneExpired, SwarmCountSync } from './jobs/site-jobs.js';
import { createMailer } from './site/mail.js';
import { MemoryRateLimiter } from './site/rate-limit.js';
import { siteSecret } from './site/settings.js';
import { installDefaultTaxonomy } from './site/catalogue/taxonomy.js';
import { installDefaultGrants } from './site/staff/policy.js';
import { liftExpiredBans } from './site/discipline/warnings.js';
import { installDefaultClasses } from './site/joining/classes.js';
import { runJoiningJobs } from './site/joining/jobs.js';
import { runRules } from './site/rules/enforce.js';
import { firstRunSetupLink } from './site/accounts/setup.js';
import type { Site, TrackerLink } from './site/site.js';
import { hostname } from 'node:os';
import { createHmac, randomBytes } from 'node:crypto';
import { closeRedis, connectRedis, type RedisClient } from './shared/redis.js';
import { PgChangeBus, RedisChangeBus, type Change, type ChangeBus } from './cluster/change-bus.js';
import { JobLeases, leased } from './cluster/lease.js';
import { RedisRateLimiter } from './cluster/redis-rate-limit.js';
import { dropCache, onCacheInvalidated } from './shared/cache-events.js';

export interface EssaimOptions {
  /** Which parts to run. */
  web?: boolean;
  tracker?: boolean;
  clock?: Clock;
  log?: Logger;
}

export interface Listening {
  web?: string;
  httpTracker?: string;
  udpTracker?: string[];
  metrics?: string;
  /** First run: the one-time link that creates the first administrator. */
  setupLink?: string;
}

export interface Essaim {
  /** This process's id among the nodes of a site (leases, change bus, ledger batch ids). */
  readonly nodeId: string;
  readonly config: Config;
  readonly log: Logger;
  db(): Kysely<Database>;
  readonly access: AccessCache;
  readonly store: PeerStore;
  readonly ledger: Ledger;
  readonly service: TrackerService;
  readonly stats: TrackerStats;
  /** The website's dependencies (after start()). */
  site(): Site;
  start(): Promise<Listening>;
  stop(): Promise<void>;
  /** Runs the ledger flush now (tests, shutdown). */
  flush(): Promise<boolean>;
  /** Reloads the access cache from the database now. */
  refresh(): Promise<void>;
}

function url(proto: string, host: string, port: number, path = ''): string {
  const h = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  return `${proto}://${h}:${port}${path}`;
}

export function createEssaim(config: Config, opts: EssaimOptions = {}): Essaim {
  const clock = opts.clock ?? systemClock;
  const log = opts.log ?? createLogger({ level: config.log.level, pretty: config.log.pretty });
  const tc = config.tracker;
  const runWeb = opts.web ?? true;
  const runTracker = opts.tracker ?? true;
  const nodeId = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  // Shared state for several nodes (#6): one Redis connection for the peer store, the change bus
  // and the rate limits; connected lazily, so that nothing happens before start().
  const redis: RedisClient | null = config.redis.url ? connectRedis(config.redis) : null;

  const staticRules: ClientRule[] = [
    ...tc.client_allow.map((prefix) => ({ prefix, action: 'allow' as const })),
    ...tc.client_deny.map((prefix) => ({ prefix, action: 'deny' as const })),
  ];
  const access = new AccessCache(staticRules);
  // Swarms in this process's memory, or in Redis shared by every tracker node (#6).
  const store: PeerStore =
    tc.store === 'redis'
      ? // Credits are computed in the announce script and wait in Redis for the drain (below): no
        // tracker node holds unwritten traffic in memory.
        createRedisPeerStore(redis!, { maxPeersPerUser: tc.max_peers_per_user, keyPrefix: config.redis.key_prefix, creditInStore: true })
      : // Huge pages for the store's large arrays when the native addon is there (docs/tracker.md).
        new MemoryPeerStore({ maxPeersPerUser: tc.max_peers_per_user, adviseMemory: hugePageAdvisor() ?? undefined });
  const ledger = new Ledger();
  const stats = new TrackerStats();
  const service = new TrackerService(
    {
      mode: tc.mode,
      interval: tc.interval,
      intervalJitter: tc.interval_jitter,
      minInterval: tc.min_interval,
      numwantDefault: tc.numwant_default,
      numwantMax: tc.numwant_max,
      peerTimeout: tc.peer_timeout,
      maxPeersPerUser: tc.max_peers_per_user,
      fullScrape: tc.full_scrape,
      unregisteredReasonTtl: tc.unregistered_reason_ttl,
      // A baseline whose counters did not move is still rewritten once per quarter of its
      // retention, so that the pruning by age never takes the baseline of a peer still announcing.
      baselineRefresh: Math.max(1, Math.floor(config.ledger.baseline_retention / 4)),
    },
    access,
    store,
    ledger,
    clock,
  );

  let database: { db: Kysely<Database>; close(): Promise<void> } | null = null;
  let writer: LedgerWriter | null = null;
  let metrics: Metrics | null = null;
  let web: FastifyInstance | null = null;
  let http: HttpTracker | null = null;
  let udp: UdpTracker | null = null;
  let metricsServer: Server | null = null;
  let ready = false;
  const jobs: Periodic[] = [];
  let baselineTimer: NodeJS.Timeout | null = null;
  let bus: ChangeBus | null = null;
  let lastStoreStats = { peers: 0, seeders: 0, leechers: 0, torrents: 0 };
  let pendingCredits = 0;
  let stopCacheEvents: (() => void) | null = null;
  let leases: JobLeases | null = null;

  const db = (): Kysely<Database> => {
    if (!database) throw new Error('database not open: call start() first');
    return database.db;
  };
  const flush = () => {
    if (!writer) throw new Error('database not open: call start() first');
    return flushLedger(writer, ledger, log, metrics ?? undefined);
  };
  // Members who must verify their email address first may seed but not download (also at the tracker).
  const requireVerifiedEmail = config.joining.verify_email;
  const refresh = () => refreshAccess(db(), access, clock, tc.unregistered_reason_ttl, { requireVerifiedEmail });
  let site: Site | null = null;

  /** What a change does to this node's access cache (only where a tracker runs). */
  const local = {
    async torrentChanged(torrentId: number) {
      const t = await db().selectFrom('torrent').selectAll().where('id', '=', torrentId).executeTakeFirst();
      const swarms = await db().selectFrom('torrent_swarm').select('info_hash').where('torrent_id', '=', torrentId).execute();
      // The blocklist entries of these swarms (a 64-hex v2 entry blocks its 40-hex swarm hash).
      if (swarms.length > 0) {
        const hashes = swarms.map((r) => r.info_hash);
        const blocks = await db()
          .selectFrom('infohash_block')
          .select(['info_hash', 'reason'])
          .where((eb) => eb(eb.fn('substr', ['info_hash', eb.val(1), eb.val(40)]), 'in', hashes))
          .orderBy('info_hash')
          .execute();
        for (const h of hashes) access.setBlocked(h, blocks.find((b) => b.info_hash.slice(0, 40) === h)?.reason ?? null);
      }
      for (const { info_hash } of swarms) {
        if (!t) access.removeTorrent(info_hash);
        else
          access.setTorrent(info_hash, {
            torrentId,
            status: t.status,
            deletedReason: t.deleted_reason,
            deletedAt: t.deleted_at,
            uploadFactor: t.upload_factor,
            downloadFactor: t.download_factor,
            factorsUntil: t.factors_until,
          });
      }
    },
    async userChanged(userId: number, previousPasskey?: string) {
      if (previousPasskey) access.removePasskey(previousPasskey);
      const u = await db()
        .selectFrom('user')
        .select(['passkey', 'enabled', 'disabled_reason', 'download_refused', 'download_refused_reason', 'email', 'email_verified'])
        .where('id', '=', userId)
        .executeTakeFirst();
      if (u) access.setUser(u.passkey, { id: userId, enabled: u.enabled === 1, disabledReason: u.disabled_reason, downloadRefused: downloadRefusal(u, { requireVerifiedEmail }) });
    },
    blocklistChanged: () => refreshBlocklist(db(), access),
    freeleechChanged: () => refreshFreeleech(db(), access, clock),
    clientsChanged: () => refresh(),
  };
  const applyLocally = async (c: Change): Promise<void> => {
    if (c.kind === 'cache') {
      if (database) dropCache(c.name, database.db);
      return;
    }
    if (!runTracker) return;
    switch (c.kind) {
      case 'torrent':
        return local.torrentChanged(c.id);
      case 'user':
        return local.userChanged(c.id, c.previousPasskey);
      case 'blocklist':
        return local.blocklistChanged();
      case 'freeleech':
        return local.freeleechChanged();
      case 'clients':
        return local.clientsChanged();
    }
  };
  /** Applies a change here, then tells the other nodes (when there are any). */
  const changed = async (c: Change): Promise<void> => {
    await applyLocally(c);
    if (bus) await bus.publish(c).catch((err: unknown) => log.warn({ err, kind: c.kind }, 'change not published; the periodic refresh will catch up'));
  };
  const trackerLink: TrackerLink = {
    torrentChanged: (id) => changed({ kind: 'torrent', id }),
    userChanged: (id, previousPasskey) => changed(previousPasskey ? { kind: 'user', id, previousPasskey } : { kind: 'user', id }),
    blocklistChanged: () => changed({ kind: 'blocklist' }),
    freeleechChanged: () => changed({ kind: 'freeleech' }),
    swarmCounts(infoHashes) {
      if (!runTracker) return null;
      const r = store.scrape(infoHashes as Parameters<PeerStore['scrape']>[0]);
      return r instanceof Promise ? null : r;
    },
  };

  const sharedStore = tc.store === 'redis';
  const leasedNames: string[] = [];
  /**
   * A periodic job that runs once across the site: on the node holding its lease when several
   * nodes share PostgreSQL, else here (`shared` false: a job of this node's own state).
   */
  const siteJob = (name: string, intervalSeconds: number, fn: () => Promise<void> | void, shared = true): Periodic => {
    const nowS = () => Math.floor(clock.nowMs() / 1000);
    if (shared && leases) leasedNames.push(name);
    return new Periodic(name, intervalSeconds * 1000, leased(shared ? leases : null, name, intervalSeconds, nowS, fn, log), log);
  };

  return {
    nodeId,
    config,
    log,
    db,
    access,
    store,
    ledger,
    service,
    stats,
    flush,
    refresh,
    site() {
      if (!site) throw new Error('not started: call start() first');
      return site;
    },
    async start() {
      const listening: Listening = {};
      const opened = await openDatabase(config.database.url, { dataDir: config.server.data_dir, poolSize: config.database.pool_size });
      database = opened;
      await migrateToLatest(opened.db);
      // Several nodes share PostgreSQL: site-wide jobs run on the node holding their lease.
      leases = opened.dialect === 'postgres' ? new JobLeases(opened.db, nodeId) : null;
      if (redis) {
        const b = new RedisChangeBus(redis, config.redis.key_prefix, nodeId, log);
        await b.start();
        bus = b;
      } else if (opened.dialect === 'postgres') {
        const b = new PgChangeBus(config.database.url, nodeId, log);
        await b.start();
        bus = b;
      }
      if (bus) {
        const b = bus;
        b.subscribe((c) => void applyLocally(c).catch((err: unknown) => log.warn({ err, kind: c.kind }, 'change from another node not applied')));
        // An edit on this node that invalidates a web cache drops the other nodes' copies too.
        stopCacheEvents = onCacheInvalidated((name, handle) => {
          if (handle === opened.db) void b.publish({ kind: 'cache', name }).catch((err: unknown) => log.warn({ err, name }, 'cache invalidation not published'));
        });
      }
      if (await installDefaultTaxonomy(opened.db)) log.info('default categories and terms installed');
      if (await installDefaultGrants(opened.db)) log.info('default role permissions installed');
      if (await installDefaultClasses(opened.db)) log.info('default member classes installed');
      writer = opened.sqlitePath !== null ? sqliteWorkerLedgerWriter(opened.sqlitePath) : directLedgerWriter(opened.db);
      await refresh();
      const now = Math.floor(clock.nowMs() / 1000);
      // Page by page into the service's typed table: no array of a million row objects. With the
      // Redis store the peers' counters live in Redis beside their pending credits (no baselines
      // are written, and a node's restored set would not be shared by the others).
      let restored = 0;
      if (!sharedStore) {
        await forEachPeerBaselinePage(opened.db, now - config.ledger.baseline_retention, (rows) => {
          restored += service.restoreBaselines(rows);
        });
      }
      if (restored > 0) log.info({ restored }, 'peer baselines restored from the last run');
      // Peers that have not come back within a peer timeout never will with the same session.
      baselineTimer = setTimeout(() => service.clearRestoredBaselines(), tc.peer_timeout * 1000);
      baselineTimer.unref();

      metrics = buildMetrics({
        stats,
        swarm: () => {
          const s = store.stats();
          if (!(s instanceof Promise)) return s;
          // A shared store answers asynchronously: the gauges show its last answer (refreshed
          // at each scrape of /metrics, so at most one scrape old).
          void s.then((v) => (lastStoreStats = v)).catch(() => undefined);
          return lastStoreStats;
        },
        // With the Redis store: the swarms whose credits wait in Redis (as seen by the drain).
        ledgerDepth: () => (sharedStore ? pendingCredits : ledger.depth()),
      });

      if (runTracker) {
        const ipPolicy = makeIpPolicy(tc.trusted_proxies, tc.allow_client_ip);
        if (tc.http_enabled) {
          http = createHttpTracker(
            {
              service,
              stats,
              log,
              ipPolicy,
              maxScrapeHashes: tc.scrape_max_hashes,
              keepAliveTimeoutMs: tc.http_keepalive_timeout * 1000,
              maxConnections: tc.http_max_connections,
              ready: () => ready,
            },
            // Sockets polled by the native front when the optional addon is built (tracker.http_io).
            tc.http_io,
          );
          const port = await http.listen(tc.http_host, tc.http_port);
          listening.httpTracker = url('http', tc.http_host, port);
        }
        if (tc.udp_enabled) {
          udp = new UdpTracker({
            service,
            stats,
            log,
            clock,
            connectionTtl: tc.udp_connection_ttl,
            maxResponseBytes: tc.udp_max_response_bytes,
            maxScrapeHashes: tc.scrape_max_hashes,
            // Batched native datagram I/O when the optional addon is built (tracker.udp_io).
            io: tc.udp_io,
            // Tracker nodes sharing swarms share the connection-id key too (derived from the
            // site's secret), so that a UDP load balancer needs no affinity; a lone tracker keeps
            // a per-process secret.
            ...(sharedStore ? { secret: createHmac('sha256', await siteSecret(opened.db, now)).update('udp connection ids').digest() } : {}),
          });
          listening.udpTracker = [];
          for (const host of [tc.udp_host, tc.udp_host6]) {
            if (!host) continue;
            const port = await udp.listen(host, tc.udp_port);
            listening.udpTracker.push(url('udp', host, port));
          }
        }
        const flushJob = new Periodic('ledger-flush', config.ledger.flush_interval * 1000, async () => void (await flush()), log);
        jobs.push(
          flushJob,
          // Under load the ledger is written as soon as it holds max_pending entries.
          new Periodic('ledger-pressure', 250, () => (ledger.depth() >= config.ledger.max_pending ? flushJob.runNow() : undefined), log),
          new Periodic('access-refresh', tc.access_refresh_interval * 1000, refresh, log),
          // A shared (Redis) store is swept by one node; each in-memory store by its own node.
          siteJob('peer-sweep', tc.sweep_interval, () => void sweepPeers(store, clock, tc.peer_timeout), sharedStore),
          // Redis: the credits the announces left in Redis go to the database in idempotent
          // batches, by one node at a time; a periodic reconcile re-lists any credit a killed
          // node left unlisted.
          ...(sharedStore
            ? ((d: RedisCreditDrain) => [
                siteJob('credit-drain', config.ledger.flush_interval, async () => {
                  await d.run();
                  pendingCredits = await d.pending();
                }),
                siteJob('credit-reconcile', 300, async () => void (await d.reconcile())),
              ])(new RedisCreditDrain(redis!, { keyPrefix: config.redis.key_prefix, writer: writer!, log, nodeId }))
            : []),
          siteJob('ledger-prune', 3600, async () =>
            void (await pruneLedgerTables(db(), clock, {
              baselineRetention: config.ledger.baseline_retention,
              trafficRetentionDays: config.ledger.traffic_retention_days,
            })),
          ),
        );
        for (const j of jobs) j.start();
      }

      const httpBase = tc.announce_base_url || (listening.httpTracker ?? url('http', tc.http_host, tc.http_port));
      const udpBase = tc.udp_enabled ? (listening.udpTracker?.[0] ?? url('udp', tc.udp_host || '127.0.0.1', tc.udp_port)) : null;
      const publicUrl = config.server.public_url.replace(/\/+$/, '');
      site = {
        db: opened.db,
        config,
        log,
        clock,
        mailer: createMailer({ smtpUrl: config.mail.smtp_url, from: config.mail.from, outboxDir: join(config.server.data_dir, 'outbox'), log }),
        tracker: trackerLink,
        // Several web nodes count login failures and API calls together through Redis.
        limiter: redis ? new RedisRateLimiter(redis, config.redis.key_prefix, log) : new MemoryRateLimiter(),
        secret: await siteSecret(opened.db, now),
        publicUrl,
        announceUrls: (passkey) => ({
          http: `${httpBase}/${passkey}/announce`,
          udp: udpBase ? `${udpBase}/${passkey}/announce` : null,
        }),
        now: () => Math.floor(clock.nowMs() / 1000),
      };
      if (runTracker) {
        const sync = new SwarmCountSync(opened.db, store, access);
        const j = siteJob('swarm-count-sync', config.site.swarm_sync_interval, async () => void (await sync.run()), sharedStore);
        jobs.push(j);
        j.start();
      }
      {
        // Bans end at their expiry: the account is enabled again and the tracker told.
        const s = site;
        const j = siteJob('ban-expiry', 60, async () => void (await liftExpiredBans(s, s.now())));
        jobs.push(j);
        j.start();
      }
      {
        // Sharing rules: ratio watch, hit-and-runs, download refusals (src/site/rules/enforce.ts).
        const s = site;
        const j = siteJob('sharing-rules', config.rules.interval, async () => void (await runRules(s, s.now())));
        jobs.push(j);
        j.start();
      }
      if (runWeb) {
        const j = siteJob('session-prune', 3600, () => pruneExpired(opened.db, Math.floor(clock.nowMs() / 1000)));
        jobs.push(j);
        j.start();
        // Member classes, monthly invitations, login IP retention (src/site/joining/jobs.ts).
        const joining = siteJob('joining', config.joining.class_interval, async () => void (await runJoiningJobs(site!)));
        jobs.push(joining);
        joining.start();
        web = buildWebApp({ site, ready: () => ready });
        await web.listen({ host: config.web.host, port: config.web.port });
        const addr = web.server.address() as AddressInfo;
        listening.web = url('http', config.web.host, addr.port);
        // Left at its default, the public URL follows the port actually listened on.
        if (config.server.public_url === configSchema.server.public_url.default) site.publicUrl = listening.web;
        const setup = await firstRunSetupLink(site);
        if (setup) {
          listening.setupLink = setup;
          log.warn({ link: setup }, 'no administrator yet: open this one-time link to create the first one');
        }
      }

      if (config.metrics.enabled) {
        const registry = metrics.registry;
        metricsServer = createHttpServer((req, res) => {
          if (req.url !== '/metrics') {
            res.writeHead(404).end('not found');
            return;
          }
          registry.metrics().then(
            (text) => res.writeHead(200, { 'Content-Type': registry.contentType }).end(text),
            () => res.writeHead(500).end('metrics failed'),
          );
        });
        await new Promise<void>((resolve, reject) => {
          metricsServer!.once('error', reject);
          metricsServer!.listen(config.metrics.port, config.metrics.host, () => resolve());
        });
        const addr = metricsServer.address() as AddressInfo;
        listening.metrics = url('http', config.metrics.host, addr.port, '/metrics');
      }
      ready = true;
      return listening;
    },
    async stop() {
      ready = false;
      if (baselineTimer) clearTimeout(baselineTimer);
      await Promise.all([http?.close(), udp?.close(), web?.close()]);
      await new Promise<void>((r) => (metricsServer ? metricsServer.close(() => r()) : r()));
      for (const j of jobs) await j.stop();
      // Hand this node's leases over at once rather than at their expiry.
      if (leases) for (const name of leasedNames) await leases.release(name).catch(() => undefined);
      stopCacheEvents?.();
      stopCacheEvents = null;
      await bus?.close();
      bus = null;
      if (database) {
        // Final flush: everything credited so far reaches the database.
        for (let i = 0; i < 3 && ledger.depth() > 0; i++) if (!(await flush())) break;
        await writer?.close();
        writer = null;
        await database.close();
        database = null;
      }
      await store.close();
      if (redis) await closeRedis(redis);
    },
  };
}

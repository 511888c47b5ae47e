/**
 * Metrics. The tracker's hot path only increments plain numbers in TrackerStats (no label
 * hashing per request); prom-client reads them when /metrics is scraped, through collect().
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type Transport = 'http' | 'udp';

/** Counters written by the tracker. Keys of the maps are stable codes, never client data. */
export class TrackerStats {
  /** announces by transport and result ("ok" or a failure code). */
  readonly announces = new Map<string, number>();
  readonly scrapes = new Map<string, number>();
  /** UDP packets dropped, by reason (bad connection id, malformed, ...). */
  readonly udpDropped = new Map<string, number>();
  udpConnects = 0;
  httpConnections = 0;
  httpBadRequests = 0;

  countAnnounce(transport: Transport, result: string): void {
    const k = transport + '|' + result;
    this.announces.set(k, (this.announces.get(k) ?? 0) + 1);
  }
  countScrape(transport: Transport, result: string): void {
    const k = transport + '|' + result;
    this.scrapes.set(k, (this.scrapes.get(k) ?? 0) + 1);
  }
  countUdpDrop(reason: string): void {
    this.udpDropped.set(reason, (this.udpDropped.get(reason) ?? 0) + 1);
  }
}

export interface MetricsSources {
  stats: TrackerStats;
  /** Current swarm figures. */
  swarm: () => { peers: number; seeders: number; leechers: number; torrents: number };
  /** Entries waiting in the traffic ledger. */
  ledgerDepth: () => number;
}

export interface Metrics {
  registry: Registry;
  flushDuration: Histogram<'result'>;
  flushes: Counter<'result'>;
}

export function buildMetrics(src: MetricsSources): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'essaim_process_' });

  const mapCounter = (name: string, help: string, map: () => Map<string, number>, labels: string[]) =>
    new Counter({
      name,
      help,
      labelNames: labels,
      registers: [registry],
      collect() {
        this.reset();
        for (const [k, v] of map()) {
          const parts = k.split('|');
          const l: Record<string, string> = {};
          labels.forEach((name, i) => (l[name] = parts[i] ?? ''));
          this.inc(l, v);
        }
      },
    });
  mapCounter('essaim_tracker_announces_total', 'Announces by transport and result (ok or failure code).', () => src.stats.announces, ['transport', 'result']);
  mapCounter('essaim_tracker_scrapes_total', 'Scrapes by transport and result.', () => src.stats.scrapes, ['transport', 'result']);
  mapCounter('essaim_tracker_udp_dropped_total', 'UDP packets dropped without an answer, by reason.', () => src.stats.udpDropped, ['reason']);
  new Counter({
    name: 'essaim_tracker_udp_connects_total',
    help: 'UDP connect requests answered.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(src.stats.udpConnects);
    },
  });
  new Counter({
    name: 'essaim_tracker_http_bad_requests_total',
    help: 'HTTP requests refused before routing (malformed request head).',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(src.stats.httpBadRequests);
    },
  });
  const swarmGauge = (name: string, help: string, pick: (s: ReturnType<MetricsSources['swarm']>) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(pick(src.swarm()));
      },
    });
  swarmGauge('essaim_tracker_peers', 'Peers in memory.', (s) => s.peers);
  swarmGauge('essaim_tracker_seeders', 'Seeders in memory.', (s) => s.seeders);
  swarmGauge('essaim_tracker_leechers', 'Leechers in memory.', (s) => s.leechers);
  swarmGauge('essaim_tracker_torrents', 'Swarms with at least one peer.', (s) => s.torrents);
  new Gauge({
    name: 'essaim_ledger_queue_depth',
    help: 'Merged (member, torrent) traffic entries waiting for the next flush.',
    registers: [registry],
    collect() {
      this.set(src.ledgerDepth());
    },
  });
  const flushDuration = new Histogram({
    name: 'essaim_ledger_flush_duration_seconds',
    help: 'Duration of ledger flushes to the database.',
    labelNames: ['result'],
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: [registry],
  });
  const flushes = new Counter({
    name: 'essaim_ledger_flushes_total',
    help: 'Ledger flushes by result (ok, failed, empty).',
    labelNames: ['result'],
    registers: [registry],
  });
  return { registry, flushDuration, flushes };
}

/**
 * Metrics. The tracker's hot path only increments plain numbers in TrackerStats (no label
 * hashing per request); prom-client reads them when /metrics is scraped, through collect().
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type Transport = 'http' | 'udp';

/** Counters written by the tracker. Keys of the maps are stable codes, never client data. */
export class TrackerStats {
  /** Answered announces and scrapes ("ok"), by transport: plain numbers, the common case. */
  private okHttpAnnounces = 0;
  private okUdpAnnounces = 0;
  private okHttpScrapes = 0;
  private okUdpScrapes = 0;
  /** Refused ones, keyed "transport|code". */
  private readonly refusedAnnounces = new Map<string, number>();
  private readonly refusedScrapes = new Map<string, number>();
  /** UDP packets dropped, by reason (bad connection id, malformed, ...). */
  readonly udpDropped = new Map<string, number>();
  udpConnects = 0;
  httpConnections = 0;
  httpBadRequests = 0;

  /** Announces by "transport|result" (result "ok" or a failure code); a snapshot. */
  get announces(): Map<string, number> {
    return withOk(this.refusedAnnounces, this.okHttpAnnounces, this.okUdpAnnounces);
  }
  /** Scrapes, likewise. */
  get scrapes(): Map<string, number> {
    return withOk(this.refusedScrapes, this.okHttpScrapes, this.okUdpScrapes);
  }

  countAnnounce(transport: Transport, result: string): void {
    if (result !== 'ok') bump(this.refusedAnnounces, transport + '|' + result);
    else if (transport === 'udp') this.okUdpAnnounces++;
    else this.okHttpAnnounces++;
  }
  countScrape(transport: Transport, result: string): void {
    if (result !== 'ok') bump(this.refusedScrapes, transport + '|' + result);
    else if (transport === 'udp') this.okUdpScrapes++;
    else this.okHttpScrapes++;
  }
  countUdpDrop(reason: string): void {
    bump(this.udpDropped, reason);
  }
}

function bump(m: Map<string, number>, k: string): void {
  m.set(k, (m.get(k) ?? 0) + 1);
}

function withOk(refused: Map<string, number>, http: number, udp: number): Map<string, number> {
  const m = new Map(refused);
  if (http > 0) m.set('http|ok', http);
  if (udp > 0) m.set('udp|ok', udp);
  return m;
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

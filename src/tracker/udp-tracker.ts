/**
 * The UDP tracker (BEP 15) on an IPv4 and an IPv6 socket. Connection ids are a keyed hash of
 * (issue time, client address) checked in constant time; a packet whose connection id does not
 * check out is dropped without an answer (and counted), so the tracker cannot be used to reflect
 * traffic at a spoofed address. Private mode works over UDP through BEP 41: the URL data option
 * carries `/<passkey>/announce`. Answers never exceed `maxResponseBytes`.
 *
 * Two I/O paths share the datagram handling (`handle`): node:dgram (one 'message' event and one
 * send per datagram), and batched native I/O (udp-batch-io.ts: recvmmsg/sendmmsg through the
 * optional addon in native/udp-batch, Linux), chosen by `io` (tracker.udp_io).
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import {
  encodeAnnounceResponse as encodeUdpAnnounce,
  encodeConnectResponse,
  encodeErrorResponse,
  encodeScrapeResponse as encodeUdpScrape,
  maxPeersForDatagram,
  writeAnnounceResponse,
  writeScrapeResponse,
  ACTION_SCRAPE,
  parseUdpRequest,
  udpParseScratch,
} from '../protocol/udp/packets.js';
import { ConnectionIdIssuer } from '../protocol/udp/connection-id.js';
import { BatchedUdpSocket, loadUdpBatch, udpBatchLoadError, type KeptAddress, type UdpBatchAddon } from './udp-batch-io.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/log.js';
import type { TrackerStats } from '../shared/metrics.js';
import type { AnnounceAnswer, Refusal, ScrapeAnswer, TrackerService } from '../swarm/tracker-service.js';
import type { SwarmCounts } from '../swarm/peer-store.js';
import { infoHashHex } from '../swarm/info-hash-index.js';
import { route } from './http-tracker.js';
import { socketIp } from './peer-ip.js';

export interface UdpTrackerOptions {
  service: TrackerService;
  stats: TrackerStats;
  log: Logger;
  clock: Clock;
  /** Seconds a connection id stays valid. */
  connectionTtl: number;
  maxResponseBytes: number;
  maxScrapeHashes: number;
  /** Per-process secret for connection ids; random when absent. */
  secret?: Buffer;
  /**
   * The datagram I/O (tracker.udp_io): "batched" needs the native addon (listen fails without
   * it), "dgram" is node:dgram, "auto" (default) is batched when the addon loads.
   */
  io?: UdpIo;
  /**
   * Stands in for the native addon on the batched path (benchmarks of the JavaScript side, e.g.
   * scripts/udp-path-bench.ts); the real addon when absent.
   */
  batchAddon?: UdpBatchAddon;
}

const ZERO_COUNTS: SwarmCounts = Object.freeze({ complete: 0, incomplete: 0, downloaded: 0 });

export const UDP_IO_MODES = ['auto', 'batched', 'dgram'] as const;
export type UdpIo = (typeof UDP_IO_MODES)[number];

/**
 * Where answers go: `send` now, or `keep` a destination for an answer given later (async stores).
 * A path with memory of its own for answers (the batched one, during a batch) lets them be
 * written there: `reserve` gives their offset in `out` (-1: use `send`), `commit` queues them.
 */
interface Replier<P> {
  send(data: Uint8Array, to: P): void;
  keep(to: P): P;
  reserve(size: number, to: P): number;
  commit(len: number, to: P): void;
  readonly out: Uint8Array;
}

const NO_MEMORY = new Uint8Array(0);

/** The passkey in BEP 41 URL data (`/<passkey>/announce[?...]`), or null. */
export function passkeyFromUrlData(urlData: string | null): string | null {
  if (urlData === null) return null;
  const q = urlData.indexOf('?');
  const r = route(q === -1 ? urlData : urlData.slice(0, q));
  return r === null ? null : r.passkey;
}

export class UdpTracker {
  private sockets: Socket[] = [];
  private batched: BatchedUdpSocket[] = [];
  private readonly ids: ConnectionIdIssuer;
  private loggedIo = false;
  private closed = false;
  /** The info hash and peer id of the announce being handled (see UdpParseScratch). */
  private readonly scratch = udpParseScratch();

  constructor(private readonly o: UdpTrackerOptions) {
    this.ids = new ConnectionIdIssuer(o.secret ?? randomBytes(32), o.connectionTtl);
  }

  /** The I/O path `listen` uses: "batched" or "dgram". Throws when "batched" is asked for and unavailable. */
  ioPath(): 'batched' | 'dgram' {
    const want = this.o.io ?? 'auto';
    if (want === 'dgram') return 'dgram';
    if (this.o.batchAddon !== undefined || loadUdpBatch() !== null) return 'batched';
    if (want === 'batched') throw new Error(`tracker.udp_io = "batched" but the native UDP addon is unavailable: ${udpBatchLoadError()}`);
    return 'dgram';
  }

  /** Binds one socket; `host` decides the family. Returns the bound port. */
  async listen(host: string, port: number): Promise<number> {
    const path = this.ioPath();
    if (!this.loggedIo) {
      this.loggedIo = true;
      const why = path === 'dgram' && (this.o.io ?? 'auto') === 'auto' ? udpBatchLoadError() : undefined;
      const what = path === 'batched' ? 'batched native (recvmmsg/sendmmsg)' : 'node:dgram';
      this.o.log.info({ udpIo: path, ...(why ? { reason: why } : {}) }, `udp tracker I/O: ${what}`);
    }
    return path === 'batched' ? this.listenBatched(host, port) : this.listenDgram(host, port);
  }

  private listenBatched(host: string, port: number): number {
    const addon = this.o.batchAddon ?? loadUdpBatch()!;
    const v6 = host.includes(':');
    const stats = this.o.stats;
    // Datagrams arrive from a later turn of the event loop, once `replier` exists.
    const sock: BatchedUdpSocket = new BatchedUdpSocket(
      addon,
      host,
      port,
      v6,
      this.o.maxResponseBytes,
      (msg, len, slot, flags) => {
        if (flags !== 0) {
          stats.countUdpDrop('too_long');
          return;
        }
        this.handle(msg, len, v6, sock.sourceIp(slot), sock.sourcePort(slot), replier, slot);
      },
      (err) => {
        stats.countUdpDrop('internal_error');
        this.o.log.error({ err }, 'udp packet handling failed');
      },
    );
    const replier: Replier<number | KeptAddress> = {
      send: (data, to) => (typeof to === 'number' ? sock.reply(data, to) : sock.replyTo(data, to)),
      keep: (to) => (typeof to === 'number' ? sock.keep(to) : to),
      reserve: (size, to) => (typeof to === 'number' ? sock.reserve(size) : -1),
      commit: (len, to) => sock.commit(len, to as number),
      out: sock.out,
    };
    this.batched.push(sock);
    return sock.port;
  }

  private async listenDgram(host: string, port: number): Promise<number> {
    const type = host.includes(':') ? 'udp6' : 'udp4';
    const sock = createSocket({
      type,
      ipv6Only: type === 'udp6',
      recvBufferSize: 4 << 20,
      sendBufferSize: 4 << 20,
      // Replies only ever go to the address a datagram came from, an IP literal: skip the default
      // dns.lookup, which defers every send by a process.nextTick.
      lookup: (address, _opts, cb) => (cb as (err: null, address: string, family: number) => void)(null, address, type === 'udp6' ? 6 : 4),
    });
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(port, host, () => {
        sock.off('error', reject);
        resolve();
      });
    });
    sock.on('error', (err) => this.o.log.warn({ err }, 'udp socket error'));
    const v6 = type === 'udp6';
    const replier: Replier<RemoteInfo> = {
      // No callback: libuv can then try a synchronous send first; errors reach the socket's
      // 'error' listener.
      // After close, an answer from an async store has nowhere to go (send would throw).
      send: (data, to) => {
        if (!this.closed) sock.send(data, to.port, to.address);
      },
      keep: (to) => to,
      reserve: () => -1,
      commit: () => {},
      out: NO_MEMORY,
    };
    sock.on('message', (msg, rinfo) => {
      try {
        this.handle(msg, msg.length, v6, socketIp(rinfo.address), rinfo.port, replier, rinfo);
      } catch (err) {
        // Defensive: never let one packet take the process down.
        this.o.stats.countUdpDrop('internal_error');
        this.o.log.error({ err }, 'udp packet handling failed');
      }
    });
    this.sockets.push(sock);
    return sock.address().port;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const b of this.batched) b.close();
    this.batched = [];
    await Promise.all(this.sockets.map((s) => new Promise<void>((r) => s.close(() => r()))));
    this.sockets = [];
  }

  /**
   * One datagram, the first `len` bytes of `msg`, from `ip`:`port` (ip null when the source
   * address is unusable); answers go through `r` to `to`.
   */
  private handle<P>(msg: Buffer, len: number, v6: boolean, ip: Uint8Array | null, port: number, r: Replier<P>, to: P): void {
    const stats = this.o.stats;
    const p = parseUdpRequest(msg, len, this.scratch);
    if (p.kind === 'drop') {
      stats.countUdpDrop(p.reason);
      return;
    }
    if (ip === null) {
      stats.countUdpDrop('bad_address');
      return;
    }
    const now = Math.floor(this.o.clock.nowMs() / 1000);
    if (p.kind === 'connect') {
      stats.udpConnects++;
      r.send(encodeConnectResponse(p.transactionId, this.ids.issue(now, ip, port)), to);
      return;
    }
    if (!this.ids.checkAt(msg, 0, now, ip)) {
      stats.countUdpDrop('bad_connection_id');
      return;
    }
    if (p.kind === 'error-sendable') {
      if (p.action === ACTION_SCRAPE) stats.countScrape('udp', p.code);
      else stats.countAnnounce('udp', p.code);
      r.send(encodeErrorResponse(p.transactionId, p.message), to);
      return;
    }
    if (p.kind === 'announce') {
      const passkey = passkeyFromUrlData(p.urlData);
      const a = this.o.service.announce(p.request, passkey, ip);
      const tid = p.transactionId;
      if (a instanceof Promise) {
        const later = r.keep(to);
        a.then((ans) => this.announceAnswer(v6, tid, ans, r, later)).catch((err: unknown) => this.o.log.error({ err }, 'udp announce failed'));
      } else this.announceAnswer(v6, tid, a, r, to);
      return;
    }
    // scrape
    const passkey = passkeyFromUrlData(p.urlData ?? null);
    const hashes = p.infoHashes.length > this.o.maxScrapeHashes ? p.infoHashes.slice(0, this.o.maxScrapeHashes) : p.infoHashes;
    const s = this.o.service.scrape({ kind: 'scrape', infoHashes: hashes }, passkey);
    const tid = p.transactionId;
    if (s instanceof Promise) {
      const later = r.keep(to);
      s.then((ans) => this.scrapeAnswer(tid, hashes, ans, r, later)).catch((err: unknown) => this.o.log.error({ err }, 'udp scrape failed'));
    } else this.scrapeAnswer(tid, hashes, s, r, to);
  }

  /** Answers an announce: in place when `r` has room, else as a datagram of its own. */
  private announceAnswer<P>(v6: boolean, tid: number, a: AnnounceAnswer | Refusal, r: Replier<P>, to: P): void {
    if (!a.ok) {
      this.o.stats.countAnnounce('udp', a.code);
      r.send(encodeErrorResponse(tid, a.reason), to);
      return;
    }
    this.o.stats.countAnnounce('udp', 'ok');
    // BEP 15: an IPv4 socket answers 6-byte peers, an IPv6 socket 18-byte peers.
    const size = v6 ? 18 : 6;
    const o = a.outcome;
    const all = v6 ? o.peers6 : o.peers4;
    const max = maxPeersForDatagram(this.o.maxResponseBytes, size) * size;
    const peers = all.length > max ? all.subarray(0, max) : all;
    const off = r.reserve(20 + peers.length, to);
    if (off >= 0) r.commit(writeAnnounceResponse(r.out, off, tid, a.interval, o.incomplete, o.complete, peers), to);
    else r.send(encodeUdpAnnounce(tid, a.interval, o.incomplete, o.complete, peers), to);
  }

  private scrapeAnswer<P>(tid: number, hashes: readonly Uint8Array[], a: ScrapeAnswer | Refusal, r: Replier<P>, to: P): void {
    if (!a.ok) {
      this.o.stats.countScrape('udp', a.code);
      r.send(encodeErrorResponse(tid, a.reason), to);
      return;
    }
    this.o.stats.countScrape('udp', 'ok');
    // Answer in request order; hashes left out by the service (unregistered) count as zeros. The
    // service keeps the request's order, so one pass matches them (no Map per scrape); a Map
    // stays as the fallback should an answer ever come in another order.
    const files = a.files;
    const counts = new Array<SwarmCounts>(hashes.length);
    let j = 0;
    for (let i = 0; i < hashes.length; i++) {
      const f = files[j];
      if (f !== undefined && f.infoHash === hashes[i]) {
        counts[i] = f.counts;
        j++;
      } else counts[i] = ZERO_COUNTS;
    }
    if (j !== files.length) {
      const byHash = new Map<string, SwarmCounts>();
      for (const f of files) byHash.set(infoHashHex(f.infoHash) ?? '', f.counts);
      for (let i = 0; i < hashes.length; i++) counts[i] = byHash.get(infoHashHex(hashes[i]!)!) ?? ZERO_COUNTS;
    }
    const off = r.reserve(8 + 12 * counts.length, to);
    if (off >= 0) r.commit(writeScrapeResponse(r.out, off, tid, counts), to);
    else r.send(encodeUdpScrape(tid, counts), to);
  }
}

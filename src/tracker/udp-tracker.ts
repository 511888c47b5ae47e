/**
 * The UDP tracker (BEP 15) on an IPv4 and an IPv6 socket. Connection ids are a keyed hash of
 * (issue time, client address) checked in constant time; a packet whose connection id does not
 * check out is dropped without an answer (and counted), so the tracker cannot be used to reflect
 * traffic at a spoofed address. Private mode works over UDP through BEP 41: the URL data option
 * carries `/<passkey>/announce`. Answers never exceed `maxResponseBytes`.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import {
  encodeAnnounceResponse as encodeUdpAnnounce,
  encodeConnectResponse,
  encodeErrorResponse,
  encodeScrapeResponse as encodeUdpScrape,
  maxPeersForDatagram,
  ACTION_SCRAPE,
  parseUdpRequest,
} from '../protocol/udp/packets.js';
import { ConnectionIdIssuer } from '../protocol/udp/connection-id.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/log.js';
import type { TrackerStats } from '../shared/metrics.js';
import type { AnnounceAnswer, Refusal, ScrapeAnswer, TrackerService } from '../swarm/tracker-service.js';
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
}

/** The passkey in BEP 41 URL data (`/<passkey>/announce[?...]`), or null. */
export function passkeyFromUrlData(urlData: string | null): string | null {
  if (urlData === null) return null;
  const q = urlData.indexOf('?');
  const r = route(q === -1 ? urlData : urlData.slice(0, q));
  return r === null ? null : r.passkey;
}

export class UdpTracker {
  private sockets: Socket[] = [];
  private readonly ids: ConnectionIdIssuer;

  constructor(private readonly o: UdpTrackerOptions) {
    this.ids = new ConnectionIdIssuer(o.secret ?? randomBytes(32), o.connectionTtl);
  }

  /** Binds one socket; `host` decides the family. Returns the bound port. */
  async listen(host: string, port: number): Promise<number> {
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
    sock.on('message', (msg, rinfo) => {
      try {
        this.onMessage(sock, v6, msg, rinfo);
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
    await Promise.all(this.sockets.map((s) => new Promise<void>((r) => s.close(() => r()))));
    this.sockets = [];
  }

  private onMessage(sock: Socket, v6: boolean, msg: Buffer, rinfo: RemoteInfo): void {
    const stats = this.o.stats;
    const p = parseUdpRequest(msg);
    if (p.kind === 'drop') {
      stats.countUdpDrop(p.reason);
      return;
    }
    const ip = socketIp(rinfo.address);
    if (ip === null) {
      stats.countUdpDrop('bad_address');
      return;
    }
    const now = Math.floor(this.o.clock.nowMs() / 1000);
    if (p.kind === 'connect') {
      stats.udpConnects++;
      this.send(sock, encodeConnectResponse(p.transactionId, this.ids.issue(now, ip, rinfo.port)), rinfo);
      return;
    }
    if (!this.ids.check(p.connectionId, now, ip, rinfo.port)) {
      stats.countUdpDrop('bad_connection_id');
      return;
    }
    if (p.kind === 'error-sendable') {
      if (p.action === ACTION_SCRAPE) stats.countScrape('udp', p.code);
      else stats.countAnnounce('udp', p.code);
      this.send(sock, encodeErrorResponse(p.transactionId, p.message), rinfo);
      return;
    }
    if (p.kind === 'announce') {
      const passkey = passkeyFromUrlData(p.urlData);
      const a = this.o.service.announce(p.request, passkey, ip);
      const tid = p.transactionId;
      if (a instanceof Promise) {
        a.then(
          (ans) => this.answerAnnounce(sock, v6, tid, ans, rinfo),
          (err: unknown) => this.o.log.error({ err }, 'udp announce failed'),
        );
      } else this.answerAnnounce(sock, v6, tid, a, rinfo);
      return;
    }
    // scrape
    const passkey = passkeyFromUrlData(p.urlData ?? null);
    const hashes = p.infoHashes.slice(0, this.o.maxScrapeHashes);
    const s = this.o.service.scrape({ kind: 'scrape', infoHashes: hashes }, passkey);
    const tid = p.transactionId;
    if (s instanceof Promise) {
      s.then(
        (ans) => this.answerScrape(sock, tid, hashes, ans, rinfo),
        (err: unknown) => this.o.log.error({ err }, 'udp scrape failed'),
      );
    } else this.answerScrape(sock, tid, hashes, s, rinfo);
  }

  private answerAnnounce(sock: Socket, v6: boolean, tid: number, a: AnnounceAnswer | Refusal, rinfo: RemoteInfo): void {
    if (!a.ok) {
      this.o.stats.countAnnounce('udp', a.code);
      this.send(sock, encodeErrorResponse(tid, a.reason), rinfo);
      return;
    }
    this.o.stats.countAnnounce('udp', 'ok');
    // BEP 15: an IPv4 socket answers 6-byte peers, an IPv6 socket 18-byte peers.
    const size = v6 ? 18 : 6;
    const all = v6 ? a.outcome.peers6 : a.outcome.peers4;
    const max = maxPeersForDatagram(this.o.maxResponseBytes, size) * size;
    const peers = all.length > max ? all.subarray(0, max) : all;
    this.send(sock, encodeUdpAnnounce(tid, a.interval, a.outcome.incomplete, a.outcome.complete, peers), rinfo);
  }

  private answerScrape(sock: Socket, tid: number, hashes: readonly string[], a: ScrapeAnswer | Refusal, rinfo: RemoteInfo): void {
    if (!a.ok) {
      this.o.stats.countScrape('udp', a.code);
      this.send(sock, encodeErrorResponse(tid, a.reason), rinfo);
      return;
    }
    this.o.stats.countScrape('udp', 'ok');
    // Answer in request order; hashes left out by the service (unregistered) count as zeros.
    const byHash = new Map(a.files.map((f) => [f.infoHash as string, f.counts]));
    const counts = hashes.map((h) => byHash.get(h) ?? { complete: 0, incomplete: 0, downloaded: 0 });
    this.send(sock, encodeUdpScrape(tid, counts), rinfo);
  }

  private send(sock: Socket, data: Uint8Array, rinfo: RemoteInfo): void {
    // No callback: libuv can then try a synchronous send first; errors reach the socket's
    // 'error' listener.
    sock.send(data, rinfo.port, rinfo.address);
  }
}

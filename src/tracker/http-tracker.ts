/**
 * The HTTP tracker (BEP 3, BEP 23, BEP 7, BEP 48) over raw TCP sockets. It speaks just enough
 * HTTP/1.1 for BitTorrent clients (GET, keep-alive, pipelining) with a pure request-head parser,
 * skipping node:http's per-request objects: the announce path is the hot path.
 *
 * Routes: /announce, /scrape (public, listed) and /<passkey>/announce, /<passkey>/scrape
 * (private, T411's form). Every client-visible problem is a bencoded `failure reason` with HTTP
 * 200; a request head that is not HTTP gets a plain 400 and the connection is closed.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { parseRequestHead } from '../protocol/http/request-head.js';
import { parseAnnounceQuery, parseScrapeQuery } from '../protocol/http/query.js';
import { encodeAnnounceResponse, encodeAnnounceResponseDict, encodeFailure, encodeScrapeResponse, httpResponse } from '../protocol/http/response.js';
import type { AnnounceRequest } from '../protocol/types.js';
import type { Logger } from '../shared/log.js';
import type { TrackerStats } from '../shared/metrics.js';
import type { AnnounceAnswer, Refusal, ScrapeAnswer, TrackerService } from '../swarm/tracker-service.js';
import { formatIp, resolvePeerIp, type IpPolicy } from './peer-ip.js';

export interface HttpTrackerOptions {
  service: TrackerService;
  stats: TrackerStats;
  log: Logger;
  ipPolicy: IpPolicy;
  maxScrapeHashes: number;
  /** Milliseconds an idle keep-alive connection is kept. */
  keepAliveTimeoutMs: number;
  maxConnections: number;
  /** For /readyz (load balancers): false while starting or stopping. Absent: always ready. */
  ready?: () => boolean;
}

const MAX_HEAD = 8192;
const MAX_BODY = 4096;

const EMPTY = Buffer.alloc(0);

type Route = { action: 'announce' | 'scrape'; passkey: string | null } | null;

/**
 * `/announce`, `/scrape`, `/<passkey>/announce`, `/<passkey>/scrape`; anything else is null.
 * Whatever stands in the passkey's place is taken as one: a malformed passkey is simply unknown,
 * and the client is told so rather than getting a 404.
 */
export function route(path: string): Route {
  if (path === '/announce') return { action: 'announce', passkey: null };
  if (path === '/scrape') return { action: 'scrape', passkey: null };
  const slash = path.indexOf('/', 1);
  if (path.charCodeAt(0) !== 47 || slash < 2 || path.indexOf('/', slash + 1) !== -1) return null;
  const tail = path.slice(slash);
  const action = tail === '/announce' ? 'announce' : tail === '/scrape' ? 'scrape' : null;
  if (action === null) return null;
  return { action, passkey: path.slice(1, slash) };
}

export class HttpTracker {
  private server: Server;
  private sockets = new Set<Socket>();

  constructor(private readonly o: HttpTrackerOptions) {
    this.server = createServer({ noDelay: true }, (s) => this.onConnection(s));
    this.server.maxConnections = o.maxConnections;
  }

  async listen(host: string, port: number): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host, port, backlog: 1024 }, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((r) => this.server.close(() => r()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  private onConnection(sock: Socket): void {
    this.sockets.add(sock);
    this.o.stats.httpConnections++;
    let buf: Buffer | null = null;
    let busy = false;
    let closing = false;
    sock.setTimeout(this.o.keepAliveTimeoutMs, () => sock.destroy());
    sock.on('error', () => sock.destroy());
    sock.on('close', () => this.sockets.delete(sock));

    const send = (status: number, body: Uint8Array, keepAlive: boolean, headOnly = false) => {
      if (sock.destroyed) return;
      const res = httpResponse(status, body, keepAlive);
      // A HEAD request gets the head with the body's length but no body.
      sock.write(headOnly ? res.subarray(0, res.length - body.length) : res);
      if (!keepAlive) {
        closing = true;
        sock.end();
      }
    };

    const drain = () => {
      while (buf !== null && !closing) {
        const h = parseRequestHead(buf, 0, buf.length, MAX_HEAD);
        if (h.kind === 'incomplete') {
          if (buf.length > MAX_HEAD) {
            this.o.stats.httpBadRequests++;
            send(431, EMPTY, false);
          }
          return;
        }
        if (h.kind === 'error') {
          this.o.stats.httpBadRequests++;
          send(h.status, Buffer.from(h.message), false);
          return;
        }
        if (h.contentLength > MAX_BODY) {
          this.o.stats.httpBadRequests++;
          send(413, EMPTY, false);
          return;
        }
        const end = h.headEnd + h.contentLength;
        if (buf.length < end) return; // wait for the (ignored) body
        buf = end === buf.length ? null : buf.subarray(end);
        const keepAlive = h.keepAlive;
        if (h.method !== 'GET' && h.method !== 'HEAD') {
          send(405, Buffer.from('only GET is supported'), keepAlive);
          continue;
        }
        const r = route(h.path);
        if (r === null) {
          // Health checks for load balancers in front of tracker nodes.
          if (h.path === '/healthz') send(200, Buffer.from('ok'), keepAlive);
          else if (h.path === '/readyz') {
            const ok = this.o.ready?.() ?? true;
            send(ok ? 200 : 503, Buffer.from(ok ? 'ready' : 'not ready'), keepAlive);
          } else send(404, Buffer.from('not found'), keepAlive);
          continue;
        }
        const out = r.action === 'announce' ? this.announce(h.query, r.passkey, sock.remoteAddress, h.xForwardedFor) : this.scrape(h.query, r.passkey);
        const isHead = h.method === 'HEAD';
        if (out instanceof Promise) {
          busy = true;
          out.then(
            (body) => {
              send(200, body, keepAlive, isHead);
              busy = false;
              drain();
            },
            (err: unknown) => {
              this.o.log.error({ err }, 'tracker request failed');
              send(200, encodeFailure('Internal tracker error, try again later'), false);
            },
          );
          return;
        }
        send(200, out, keepAlive, isHead);
      }
    };

    sock.on('data', (chunk: Buffer) => {
      buf = buf === null ? chunk : Buffer.concat([buf, chunk]);
      if (!busy) {
        try {
          drain();
        } catch (err) {
          // Defensive: a bug must not take the process down with it.
          this.o.log.error({ err }, 'tracker connection failed');
          sock.destroy();
        }
      }
    });
  }

  private announce(query: string, passkey: string | null, remote: string | undefined, xff: string | null): Buffer | Promise<Buffer> {
    const stats = this.o.stats;
    const req = parseAnnounceQuery(query);
    if (req.kind === 'error') {
      stats.countAnnounce('http', req.code);
      return encodeFailure(req.message);
    }
    const ip = resolvePeerIp(this.o.ipPolicy, remote, xff, req.ip);
    if (ip === null) {
      stats.countAnnounce('http', 'bad_address');
      return encodeFailure('Cannot determine your IP address');
    }
    const ans = this.o.service.announce(req, passkey, ip);
    if (ans instanceof Promise) return ans.then((a) => this.announceBody(req, a));
    return this.announceBody(req, ans);
  }

  private announceBody(req: AnnounceRequest, a: AnnounceAnswer | Refusal): Buffer {
    if (!a.ok) {
      this.o.stats.countAnnounce('http', a.code);
      return encodeFailure(a.reason);
    }
    this.o.stats.countAnnounce('http', 'ok');
    const o = a.outcome;
    if (req.compact) {
      return encodeAnnounceResponse({
        interval: a.interval,
        minInterval: a.minInterval,
        complete: o.complete,
        incomplete: o.incomplete,
        downloaded: o.downloaded,
        peers4: o.peers4,
        peers6: o.peers6,
      });
    }
    return encodeAnnounceResponseDict({
      interval: a.interval,
      minInterval: a.minInterval,
      complete: o.complete,
      incomplete: o.incomplete,
      downloaded: o.downloaded,
      peers: dictPeers(o.peers4, o.peerIds4, 6).concat(dictPeers(o.peers6, o.peerIds6, 18)),
    });
  }

  private scrape(query: string, passkey: string | null): Buffer | Promise<Buffer> {
    const req = parseScrapeQuery(query, { maxScrapeHashes: this.o.maxScrapeHashes });
    if (req.kind === 'error') {
      this.o.stats.countScrape('http', req.code);
      return encodeFailure(req.message);
    }
    const ans = this.o.service.scrape(req, passkey);
    if (ans instanceof Promise) return ans.then((a) => this.scrapeBody(a));
    return this.scrapeBody(ans);
  }

  private scrapeBody(a: ScrapeAnswer | Refusal): Buffer {
    if (!a.ok) {
      this.o.stats.countScrape('http', a.code);
      return encodeFailure(a.reason);
    }
    this.o.stats.countScrape('http', 'ok');
    return encodeScrapeResponse(a.files.map((f) => ({ infoHash: f.infoHash, ...f.counts })));
  }
}

function dictPeers(compact: Uint8Array, ids: Uint8Array | undefined, size: 6 | 18): Array<{ ip: string; port: number; peerId?: Uint8Array }> {
  const out: Array<{ ip: string; port: number; peerId?: Uint8Array }> = [];
  const ipLen = size - 2;
  for (let i = 0, n = 0; i + size <= compact.length; i += size, n++) {
    const ip = formatIp(compact.subarray(i, i + ipLen));
    const port = (compact[i + ipLen]! << 8) | compact[i + ipLen + 1]!;
    const p: { ip: string; port: number; peerId?: Uint8Array } = { ip, port };
    if (ids) p.peerId = ids.subarray(n * 20, n * 20 + 20);
    out.push(p);
  }
  return out;
}

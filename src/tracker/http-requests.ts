/**
 * What the HTTP tracker does with the bytes of one connection, whatever carries them (node's
 * `net` streams, or the native front of native/udp-batch/http_front.c): framing of the requests
 * (keep-alive, pipelining, heads split across reads), routing, the announce and scrape answers,
 * health checks, and the status codes of requests that are not HTTP.
 *
 * Routes: /announce, /scrape (public, listed) and /<passkey>/announce, /<passkey>/scrape
 * (private, T411's form). Every client-visible problem is a bencoded `failure reason` with HTTP
 * 200; a request head that is not HTTP gets a plain 400 and the connection is closed.
 */
import { parseRequestHead, type RequestHeadOk } from '../protocol/http/request-head.js';
import { parseAnnounceQuery, parseScrapeQuery } from '../protocol/http/query.js';
import { encodeAnnounceResponse, encodeAnnounceResponseDict, encodeFailure, encodeScrapeResponse } from '../protocol/http/response.js';
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
  /** Milliseconds an idle keep-alive connection is kept (0: no limit). */
  keepAliveTimeoutMs: number;
  maxConnections: number;
  /** For /readyz (load balancers): false while starting or stopping. Absent: always ready. */
  ready?: () => boolean;
}

/** Where the answers of one connection go. */
export interface ResponseSink {
  /**
   * Sends one response. keepAlive false: the connection is closed once it is written. headOnly:
   * the head announces the body's length, but the body is not sent (HEAD).
   */
  send(status: number, body: Uint8Array, keepAlive: boolean, headOnly: boolean): void;
}

export const MAX_HEAD = 8192;
/**
 * Most bytes a connection may send while one of its answers is awaited (an asynchronous peer
 * store): a few pipelined requests fit; a client that keeps sending is disconnected.
 */
export const MAX_BUFFERED = 64 * 1024;
const MAX_BODY = 4096;
const EMPTY = new Uint8Array(0);
const NOT_FOUND = Buffer.from('not found');
const OK = Buffer.from('ok');
const READY = Buffer.from('ready');
const NOT_READY = Buffer.from('not ready');
const ONLY_GET = Buffer.from('only GET is supported');
const INTERNAL = encodeFailure('Internal tracker error, try again later');

/** drain() closed the connection (an answer without keep-alive, or a request that is not HTTP). */
export const CLOSED = -1;

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

export class HttpRequests {
  /**
   * Set by drain() when it stopped at a request whose answer comes later (an asynchronous peer
   * store): the caller sends it with finish() once it settles, and only then drains the rest.
   */
  pending: Promise<Uint8Array> | null = null;
  pendingKeepAlive = true;
  pendingHeadOnly = false;

  constructor(private readonly o: HttpTrackerOptions) {}

  /**
   * Answers the complete requests in buf[start, end) through `sink`, in order. Returns the offset
   * of the first byte not consumed (an incomplete request, kept by the caller for the next read,
   * or the requests after a pending answer), or CLOSED. `remote` is the socket's address, as
   * bytes or text; it is read during the call only.
   */
  drain(buf: Buffer, start: number, end: number, remote: Uint8Array | string | undefined, sink: ResponseSink): number {
    this.pending = null;
    const stats = this.o.stats;
    let p = start;
    while (p < end) {
      const h = parseRequestHead(buf, p, end, MAX_HEAD);
      if (h.kind === 'incomplete') {
        if (end - p > MAX_HEAD) {
          stats.httpBadRequests++;
          sink.send(431, EMPTY, false, false);
          return CLOSED;
        }
        return p;
      }
      if (h.kind === 'error') {
        stats.httpBadRequests++;
        sink.send(h.status, Buffer.from(h.message), false, false);
        return CLOSED;
      }
      if (h.contentLength > MAX_BODY) {
        stats.httpBadRequests++;
        sink.send(413, EMPTY, false, false);
        return CLOSED;
      }
      const next = h.headEnd + h.contentLength;
      if (next > end) return p; // wait for the (ignored) body
      p = next;
      const keepAlive = h.keepAlive;
      const headOnly = h.method === 'HEAD';
      if (h.method !== 'GET' && !headOnly) {
        sink.send(405, ONLY_GET, keepAlive, false);
      } else {
        const r = route(h.path);
        if (r === null) this.other(h, keepAlive, headOnly, sink);
        else {
          const out = r.action === 'announce' ? this.announce(h.query, r.passkey, remote, h.xForwardedFor) : this.scrape(h.query, r.passkey);
          if (out instanceof Promise) {
            this.pending = out;
            this.pendingKeepAlive = keepAlive;
            this.pendingHeadOnly = headOnly;
            return p;
          }
          sink.send(200, out, keepAlive, headOnly);
        }
      }
      if (!keepAlive) return CLOSED;
    }
    return p;
  }

  /**
   * Sends the answer drain() left pending. Resolves to false when the connection is closed (no
   * keep-alive, or the answer failed: the client is told to try again later).
   */
  finish(pending: Promise<Uint8Array>, keepAlive: boolean, headOnly: boolean, sink: ResponseSink): Promise<boolean> {
    return pending.then(
      (body) => {
        sink.send(200, body, keepAlive, headOnly);
        return keepAlive;
      },
      (err: unknown) => {
        this.o.log.error({ err }, 'tracker request failed');
        sink.send(200, INTERNAL, false, false);
        return false;
      },
    );
  }

  /** Health checks for load balancers in front of tracker nodes; 404 elsewhere. */
  private other(h: RequestHeadOk, keepAlive: boolean, headOnly: boolean, sink: ResponseSink): void {
    if (h.path === '/healthz') sink.send(200, OK, keepAlive, headOnly);
    else if (h.path === '/readyz') {
      const ok = this.o.ready?.() ?? true;
      sink.send(ok ? 200 : 503, ok ? READY : NOT_READY, keepAlive, headOnly);
    } else sink.send(404, NOT_FOUND, keepAlive, headOnly);
  }

  private announce(query: string, passkey: string | null, remote: Uint8Array | string | undefined, xff: string | null): Uint8Array | Promise<Uint8Array> {
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

  private announceBody(req: AnnounceRequest, a: AnnounceAnswer | Refusal): Uint8Array {
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

  private scrape(query: string, passkey: string | null): Uint8Array | Promise<Uint8Array> {
    const req = parseScrapeQuery(query, { maxScrapeHashes: this.o.maxScrapeHashes });
    if (req.kind === 'error') {
      this.o.stats.countScrape('http', req.code);
      return encodeFailure(req.message);
    }
    const ans = this.o.service.scrape(req, passkey);
    if (ans instanceof Promise) return ans.then((a) => this.scrapeBody(a));
    return this.scrapeBody(ans);
  }

  private scrapeBody(a: ScrapeAnswer | Refusal): Uint8Array {
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

/**
 * The HTTP tracker (BEP 3, BEP 23, BEP 7, BEP 48) over raw TCP sockets. It speaks just enough
 * HTTP/1.1 for BitTorrent clients (GET, keep-alive, pipelining) with a pure request-head parser,
 * skipping node:http's per-request objects: the announce path is the hot path.
 *
 * Two carriers for the same requests (http-requests.ts): node's `net` streams (`NetHttpTracker`,
 * everywhere), and the native front of the optional addon (`NativeHttpTracker`, Linux), which
 * polls the sockets in C and hands the requests over in batches. `tracker.http_io` chooses.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { httpResponse } from '../protocol/http/response.js';
import { CLOSED, HttpRequests, MAX_BUFFERED, route, type HttpTrackerOptions, type ResponseSink } from './http-requests.js';
import { loadUdpBatch, udpBatchLoadError } from './udp-batch-io.js';
import { NativeHttpTracker } from './http-native.js';

export { route, type HttpTrackerOptions };

/** The HTTP tracker's socket layer: `native` (the addon's front), `net` (node's streams), `auto`. */
export type HttpIo = 'auto' | 'native' | 'net';

export interface HttpTracker {
  /** Which carrier this is. */
  readonly io: 'native' | 'net';
  listen(host: string, port: number): Promise<number>;
  close(): Promise<void>;
}

/** The HTTP tracker on the chosen carrier (`auto`: native when the addon loads on this host). */
export function createHttpTracker(o: HttpTrackerOptions, io: HttpIo): HttpTracker {
  const addon = io === 'net' ? null : loadUdpBatch();
  if (addon !== null && typeof addon.httpOpen === 'function') {
    o.log.info({ httpIo: 'native' }, 'http tracker I/O: native front (sockets polled in batches)');
    return new NativeHttpTracker(o, addon);
  }
  const why = io === 'net' ? 'tracker.http_io = "net"' : addon === null ? `addon not loaded: ${udpBatchLoadError()}` : 'addon built without the HTTP front';
  if (io === 'native') throw new Error(`tracker.http_io = "native" needs the native addon (native/udp-batch): ${why}`);
  o.log.info({ httpIo: 'net', reason: why }, 'http tracker I/O: node:net');
  return new NetHttpTracker(o);
}

export class NetHttpTracker implements HttpTracker {
  readonly io = 'net';
  private server: Server;
  private sockets = new Set<Socket>();
  private requests: HttpRequests;

  constructor(private readonly o: HttpTrackerOptions) {
    this.requests = new HttpRequests(o);
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
    const requests = this.requests;
    let buf: Buffer | null = null;
    let busy = false;
    let closing = false;
    if (this.o.keepAliveTimeoutMs > 0) sock.setTimeout(this.o.keepAliveTimeoutMs, () => sock.destroy());
    sock.on('error', () => sock.destroy());
    sock.on('close', () => this.sockets.delete(sock));

    const sink: ResponseSink = {
      send(status, body, keepAlive, headOnly) {
        if (sock.destroyed) return;
        const res = httpResponse(status, body, keepAlive);
        // A HEAD request gets the head with the body's length but no body.
        sock.write(headOnly ? res.subarray(0, res.length - body.length) : res);
        if (!keepAlive) {
          closing = true;
          sock.end();
        }
      },
    };

    const drain = (): void => {
      if (buf === null || closing) return;
      const next = requests.drain(buf, 0, buf.length, sock.remoteAddress, sink);
      if (next === CLOSED) {
        buf = null;
        return;
      }
      buf = next === buf.length ? null : buf.subarray(next);
      const pending = requests.pending;
      if (pending === null) return;
      busy = true;
      void requests.finish(pending, requests.pendingKeepAlive, requests.pendingHeadOnly, sink).then((open) => {
        busy = false;
        if (open) drain();
      });
    };

    sock.on('data', (chunk: Buffer) => {
      buf = buf === null ? chunk : Buffer.concat([buf, chunk]);
      if (busy && buf.length > MAX_BUFFERED) {
        sock.destroy();
        return;
      }
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
}

/**
 * The HTTP tracker on the native front of the optional addon (native/udp-batch/http_front.c,
 * Linux). The addon accepts, polls and reads every connection in C and calls `onBatch` once per
 * round of ready sockets, with what each connection sent in one shared area; the answers are
 * written into a second shared area and handed back with one call. Per request, nothing is
 * allocated here but what the announce itself needs: no stream callback, Buffer, write request or
 * timer refresh per read as with node's `net`.
 *
 * A connection has JavaScript state (a `Pending` entry) only while it holds an incomplete request
 * or waits for an asynchronous answer (a shared peer store); the usual request, complete in one
 * read and answered at once, leaves nothing behind.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { httpResponse, HTTP_HEAD_MAX, writeHttpHead } from '../protocol/http/response.js';
import { CLOSED, HttpRequests, MAX_BUFFERED, type HttpTrackerOptions, type ResponseSink } from './http-requests.js';
import type { UdpBatchAddon } from './udp-batch-io.js';

/** Input entries (reads) per batch, and the bytes they may fill. */
const IN_SLOTS = 512;
const IN_BYTES = 512 * 1024;
/** Output entries (answers) and bytes before the area is handed to the addon mid-batch. */
const OUT_SLOTS = 512;
const OUT_BYTES = 512 * 1024;
const IN_WORDS = 8;
const OUT_WORDS = 4;
/** Connection slots the addon can address (20 bits of a connection id). */
const MAX_CONNECTIONS = (1 << 20) - 1;

interface Pending {
  /** Bytes received and not yet consumed (a copy: the input area is reused). */
  buf: Buffer | null;
  /** An answer is awaited; what arrives meanwhile waits in `buf`. */
  busy: boolean;
  ip: Uint8Array;
}

type Addon = Required<Pick<UdpBatchAddon, 'httpOpen' | 'httpSend' | 'httpSendOne' | 'httpCloseConn' | 'httpOpenConnections' | 'httpClose'>>;

export class NativeHttpTracker {
  readonly io = 'native';
  private readonly addon: Addon;
  private handle: unknown = null;
  private readonly requests: HttpRequests;
  private readonly inAb = new ArrayBuffer(IN_BYTES);
  private readonly inBuf = Buffer.from(this.inAb);
  private readonly inMetaAb = new ArrayBuffer(IN_SLOTS * IN_WORDS * 4);
  private readonly inMeta = new Int32Array(this.inMetaAb);
  private readonly inMetaBytes = new Uint8Array(this.inMetaAb);
  private readonly outAb = new ArrayBuffer(OUT_BYTES);
  private readonly out = new Uint8Array(this.outAb);
  private readonly outMetaAb = new ArrayBuffer(OUT_SLOTS * OUT_WORDS * 4);
  private readonly outMeta = new Int32Array(this.outMetaAb);
  private outCount = 0;
  private outOff = 0;
  /** True while onBatch runs: answers go to the output area, else straight to the addon. */
  private inBatch = false;
  /** The connection whose requests are being answered. */
  private cur = 0;
  private readonly pending = new Map<number, Pending>();
  private readonly ip4 = new Uint8Array(4);
  private readonly ip6 = new Uint8Array(16);
  private readonly sink: ResponseSink = { send: (status, body, keepAlive, headOnly) => this.answer(this.cur, status, body, keepAlive, headOnly) };

  constructor(
    private readonly o: HttpTrackerOptions,
    addon: UdpBatchAddon,
  ) {
    if (typeof addon.httpOpen !== 'function') throw new Error('the native addon has no HTTP front (rebuild it)');
    this.addon = addon as unknown as Addon;
    this.requests = new HttpRequests(o);
  }

  async listen(host: string, port: number): Promise<number> {
    if (this.handle !== null) throw new Error('already listening');
    // The addon binds an address, not a name.
    const addr = isIP(host) !== 0 ? host : (await lookup(host)).address;
    const [handle, bound] = this.addon.httpOpen(
      addr,
      port,
      isIP(addr) === 6,
      this.inAb,
      this.inMetaAb,
      this.outAb,
      this.outMetaAb,
      IN_SLOTS,
      OUT_SLOTS,
      Math.min(this.o.maxConnections, MAX_CONNECTIONS),
      this.o.keepAliveTimeoutMs,
      (count, accepted) => this.onBatch(count, accepted),
    );
    this.handle = handle;
    return bound;
  }

  close(): Promise<void> {
    if (this.handle !== null) this.addon.httpClose(this.handle);
    this.pending.clear();
    return Promise.resolve();
  }

  /** Connections open now (for tests and diagnostics). */
  openConnections(): number {
    return this.handle === null ? 0 : this.addon.httpOpenConnections(this.handle);
  }

  private onBatch(count: number, accepted: number): void {
    this.o.stats.httpConnections += accepted;
    const meta = this.inMeta;
    this.inBatch = true;
    for (let i = 0; i < count; i++) {
      const m = i * IN_WORDS;
      const id = meta[m]!;
      const len = meta[m + 2]!;
      if (len < 0) {
        // Closed by the peer, an error or the idle timeout.
        if (this.pending.size !== 0) this.pending.delete(id);
        continue;
      }
      const off = meta[m + 1]!;
      try {
        this.onData(id, off, off + len, this.address(m));
      } catch (err) {
        // Defensive: a bug must not take the process down with it.
        this.o.log.error({ err }, 'tracker connection failed');
        this.pending.delete(id);
        this.addon.httpCloseConn(this.handle, id);
      }
    }
    this.inBatch = false;
    // Written now, before any asynchronous answer of a later request can be sent.
    if (this.outCount > 0) this.flush();
  }

  /** The peer's address of input entry m, in a scratch array (read during the request only). */
  private address(m: number): Uint8Array {
    const b = this.inMetaBytes;
    const at = m * 4 + 16;
    if (this.inMeta[m + 3] === 4) {
      const ip = this.ip4;
      ip[0] = b[at]!;
      ip[1] = b[at + 1]!;
      ip[2] = b[at + 2]!;
      ip[3] = b[at + 3]!;
      return ip;
    }
    const ip = this.ip6;
    for (let i = 0; i < 16; i++) ip[i] = b[at + i]!;
    return ip;
  }

  private onData(id: number, start: number, end: number, ip: Uint8Array): void {
    const known = this.pending.size === 0 ? undefined : this.pending.get(id);
    if (known !== undefined) {
      const chunk = this.inBuf.subarray(start, end);
      known.buf = known.buf === null ? Buffer.from(chunk) : Buffer.concat([known.buf, chunk]);
      if (!known.busy) this.run(id, known);
      else if (known.buf.length > MAX_BUFFERED) {
        this.pending.delete(id);
        this.addon.httpCloseConn(this.handle, id);
      }
      return;
    }
    this.cur = id;
    const requests = this.requests;
    const next = requests.drain(this.inBuf, start, end, ip, this.sink);
    if (next === CLOSED) return;
    const pending = requests.pending;
    if (next === end && pending === null) return; // the usual case: nothing left to remember
    const st: Pending = { buf: next < end ? Buffer.from(this.inBuf.subarray(next, end)) : null, busy: false, ip: Uint8Array.from(ip) };
    this.pending.set(id, st);
    if (pending !== null) this.await(id, st, pending, requests.pendingKeepAlive, requests.pendingHeadOnly);
  }

  /** Answers what a connection with state has buffered, until a request must wait. */
  private run(id: number, st: Pending): void {
    while (st.buf !== null) {
      this.cur = id;
      const buf = st.buf;
      const requests = this.requests;
      const next = requests.drain(buf, 0, buf.length, st.ip, this.sink);
      if (next === CLOSED) {
        this.pending.delete(id);
        return;
      }
      st.buf = next === buf.length ? null : buf.subarray(next);
      const pending = requests.pending;
      if (pending !== null) {
        this.await(id, st, pending, requests.pendingKeepAlive, requests.pendingHeadOnly);
        return;
      }
      if (st.buf !== null) return; // an incomplete request: wait for more bytes
    }
    this.pending.delete(id);
  }

  private await(id: number, st: Pending, pending: Promise<Uint8Array>, keepAlive: boolean, headOnly: boolean): void {
    st.busy = true;
    // Only while the connection is still this one: its state goes when the addon reports it closed,
    // and a connection id comes back (its slot's 11-bit generation wraps) after enough reuses.
    const sink: ResponseSink = {
      send: (status, body, ka, ho) => {
        if (this.pending.get(id) === st) this.answer(id, status, body, ka, ho);
      },
    };
    void this.requests.finish(pending, keepAlive, headOnly, sink).then((open) => {
      st.busy = false;
      if (this.pending.get(id) !== st) return; // the connection closed meanwhile
      if (!open) this.pending.delete(id);
      else this.run(id, st);
    });
  }

  /** One answer for connection `id`: into the output area during a batch, else sent at once. */
  private answer(id: number, status: number, body: Uint8Array, keepAlive: boolean, headOnly: boolean): void {
    const size = HTTP_HEAD_MAX + (headOnly ? 0 : body.length);
    if (!this.inBatch || size > OUT_BYTES) {
      // After the batch (an asynchronous answer), or larger than the whole area (a big scrape).
      if (this.inBatch && this.outCount > 0) this.flush();
      const res = httpResponse(status, body, keepAlive);
      this.addon.httpSendOne(this.handle, id, headOnly ? res.subarray(0, res.length - body.length) : res, !keepAlive);
      return;
    }
    if (this.outCount === OUT_SLOTS || this.outOff + size > OUT_BYTES) this.flush();
    const out = this.out;
    const start = this.outOff;
    let p = writeHttpHead(out, start, status, body.length, keepAlive);
    if (!headOnly) {
      out.set(body, p);
      p += body.length;
    }
    const m = this.outCount * OUT_WORDS;
    const meta = this.outMeta;
    meta[m] = id;
    meta[m + 1] = start;
    meta[m + 2] = p - start;
    meta[m + 3] = keepAlive ? 0 : 1;
    this.outCount++;
    this.outOff = (p + 7) & ~7;
  }

  private flush(): void {
    this.addon.httpSend(this.handle, this.outCount);
    this.outCount = 0;
    this.outOff = 0;
  }
}

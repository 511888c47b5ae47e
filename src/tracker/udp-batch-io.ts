/**
 * Batched UDP I/O through the optional native addon (native/udp-batch, Linux): the addon owns the
 * socket, receives up to SLOTS datagrams per recvmmsg into memory shared with this module, calls
 * `onBatch` once per batch, and sends the answers written here with one sendmmsg per flush.
 * Node's dgram costs about as much per datagram (a 'message' event, an rinfo object with its
 * address string, one send each) as a whole announce; here those costs are paid once per batch.
 *
 * The addon is optional: `loadUdpBatch()` returns null when it was not built (no compiler at
 * install time, another OS) and the tracker falls back to node:dgram.
 */
import { createRequire } from 'node:module';

/** The addon's functions (see native/udp-batch/udp_batch.c). */
interface UdpBatchAddon {
  open(
    host: string,
    port: number,
    v6: boolean,
    inBuf: ArrayBuffer,
    inMeta: ArrayBuffer,
    outBuf: ArrayBuffer,
    outMeta: ArrayBuffer,
    slots: number,
    slotSize: number,
    outSlots: number,
    onBatch: (count: number) => void,
  ): [unknown, number];
  send(handle: unknown, count: number): number;
  close(handle: unknown): void;
}

let loaded: UdpBatchAddon | null | undefined;
let loadError = '';

/** The native addon, or null when it is not available here (the reason is in `udpBatchLoadError()`). */
export function loadUdpBatch(): UdpBatchAddon | null {
  if (loaded !== undefined) return loaded;
  loaded = null;
  if (process.platform !== 'linux') {
    loadError = `not supported on ${process.platform}`;
    return null;
  }
  const require = createRequire(import.meta.url);
  // The installed optional package first; then the source tree's copy (built in place with
  // node-gyp), which is where it lives in a development checkout.
  for (const id of ['essaim-udp-batch', '../../native/udp-batch/build/Release/udp_batch.node']) {
    try {
      const m = require(id) as UdpBatchAddon;
      if (typeof m.open === 'function' && typeof m.send === 'function' && typeof m.close === 'function') {
        loaded = m;
        return m;
      }
    } catch (err) {
      loadError = err instanceof Error ? err.message.split('\n')[0]! : String(err);
    }
  }
  return null;
}

export function udpBatchLoadError(): string {
  return loadError;
}

/** Datagrams received per batch. */
export const SLOTS = 64;
/**
 * Bytes per receive slot. The largest BEP 15 request is a scrape of 74 info hashes (1,496 bytes);
 * longer datagrams are flagged truncated and dropped.
 */
export const SLOT_SIZE = 2048;
const META_WORDS = 8;
const META_BYTES = META_WORDS * 4;

/** An answer's destination that outlives the batch it came from (for answers from async stores). */
export interface KeptAddress {
  readonly port: number;
  readonly family: 4 | 6;
  readonly addr: Uint8Array;
}

/**
 * One batched socket. `onDatagram(msg, slot, flags)` is called for each datagram of a batch (flags
 * 1: truncated, longer than SLOT_SIZE); `reply`
 * (during that call, with `slot`) or `replyTo` (later, with `keep(slot)`) queue an answer.
 */
export class BatchedUdpSocket {
  readonly port: number;
  private readonly handle: unknown;
  private readonly inMeta: Int32Array;
  private readonly inMetaBytes: Uint8Array;
  private readonly outBuf: Uint8Array;
  private readonly outMeta: Int32Array;
  private readonly outMetaBytes: Uint8Array;
  private readonly views: Buffer[] = [];
  private outCount = 0;
  private outOff = 0;
  private inBatch = false;
  private closed = false;
  /** Datagrams the kernel refused or that could not be queued (counted by the caller's stats). */
  sendFailures = 0;

  constructor(
    private readonly addon: UdpBatchAddon,
    host: string,
    port: number,
    readonly v6: boolean,
    maxResponseBytes: number,
    private readonly onDatagram: (msg: Buffer, slot: number, flags: number) => void,
    private readonly onError: (err: unknown) => void,
  ) {
    const inBuf = new ArrayBuffer(SLOTS * SLOT_SIZE);
    const inMeta = new ArrayBuffer(SLOTS * META_BYTES);
    // Room for a whole batch of the largest answers, and at least 256 KiB.
    const outBuf = new ArrayBuffer(Math.max(SLOTS * Math.min(maxResponseBytes, 65507), 256 << 10));
    const outMeta = new ArrayBuffer(SLOTS * META_BYTES);
    this.inMeta = new Int32Array(inMeta);
    this.inMetaBytes = new Uint8Array(inMeta);
    this.outBuf = new Uint8Array(outBuf);
    this.outMeta = new Int32Array(outMeta);
    this.outMetaBytes = new Uint8Array(outMeta);
    for (let i = 0; i < SLOTS; i++) this.views.push(Buffer.from(inBuf, i * SLOT_SIZE, SLOT_SIZE));
    const [handle, bound] = addon.open(host, port, v6, inBuf, inMeta, outBuf, outMeta, SLOTS, SLOT_SIZE, SLOTS, (n) => this.batch(n));
    this.handle = handle;
    this.port = bound;
  }

  private batch(n: number): void {
    const meta = this.inMeta;
    this.inBatch = true;
    try {
      for (let i = 0; i < n; i++) {
        const o = i * META_WORDS;
        const len = meta[o]!;
        try {
          this.onDatagram(this.views[i]!.subarray(0, Math.min(len, SLOT_SIZE)), i, meta[o + 1]!);
        } catch (err) {
          this.onError(err);
        }
      }
    } finally {
      this.inBatch = false;
      this.flush();
    }
  }

  /** The source port of the datagram in `slot` of the current batch. */
  sourcePort(slot: number): number {
    return this.inMeta[slot * META_WORDS + 2]!;
  }

  /**
   * The source address of the datagram in `slot`: 4 bytes, or 16 (IPv4-mapped ones as 4), freshly
   * allocated; null for an IPv6 link-local address (fe80::/10), which node:dgram reports with a
   * zone id and peer-ip.ts refuses: it cannot be reached from elsewhere.
   */
  sourceIp(slot: number): Uint8Array | null {
    const b = this.inMetaBytes;
    const o = slot * META_BYTES + 16;
    const family = this.inMeta[slot * META_WORDS + 3];
    if (family === 4) return b.slice(o, o + 4);
    if (family !== 6 || (b[o] === 0xfe && (b[o + 1]! & 0xc0) === 0x80)) return null;
    let mapped = b[o + 10] === 0xff && b[o + 11] === 0xff;
    for (let i = 0; mapped && i < 10; i++) if (b[o + i] !== 0) mapped = false;
    return mapped ? b.slice(o + 12, o + 16) : b.slice(o, o + 16);
  }

  /** The destination of `slot`'s answer, valid after the batch. */
  keep(slot: number): KeptAddress {
    const o = slot * META_BYTES + 16;
    const family = this.inMeta[slot * META_WORDS + 3] === 6 ? 6 : 4;
    return { port: this.sourcePort(slot), family, addr: this.inMetaBytes.slice(o, o + 16) };
  }

  /** Queues an answer to the datagram in `slot` of the current batch (sent at the batch's end). */
  reply(data: Uint8Array, slot: number): void {
    const e = this.entry(data);
    if (e < 0) return;
    const src = slot * META_WORDS;
    const m = this.outMeta;
    m[e + 2] = this.inMeta[src + 2]!;
    m[e + 3] = this.inMeta[src + 3]!;
    this.outMetaBytes.set(this.inMetaBytes.subarray(slot * META_BYTES + 16, slot * META_BYTES + 32), e * 4 + 16);
  }

  /** Sends an answer to a kept address (immediately when outside a batch). */
  replyTo(data: Uint8Array, to: KeptAddress): void {
    const e = this.entry(data);
    if (e < 0) return;
    this.outMeta[e + 2] = to.port;
    this.outMeta[e + 3] = to.family;
    this.outMetaBytes.set(to.addr, e * 4 + 16);
    if (!this.inBatch) this.flush();
  }

  /** Reserves an output entry and copies `data` in; returns the entry's first word, or -1. */
  private entry(data: Uint8Array): number {
    if (this.closed) return -1;
    const len = data.length;
    if (len > this.outBuf.length) {
      this.sendFailures++;
      return -1;
    }
    if (this.outCount === SLOTS || this.outOff + len > this.outBuf.length) this.flush();
    const e = this.outCount * META_WORDS;
    this.outBuf.set(data, this.outOff);
    this.outMeta[e] = this.outOff;
    this.outMeta[e + 1] = len;
    this.outOff += len;
    this.outCount++;
    return e;
  }

  /** Hands every queued answer to the kernel. */
  flush(): void {
    const n = this.outCount;
    if (n === 0) return;
    this.outCount = 0;
    this.outOff = 0;
    if (this.closed) return;
    const sent = this.addon.send(this.handle, n);
    if (sent < n) this.sendFailures += n - sent;
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.addon.close(this.handle);
  }
}

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
export interface UdpBatchAddon {
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
  /** MADV_HUGEPAGE on the whole 2 MiB pages inside the buffer; the bytes advised (absent from older builds). */
  adviseHuge?(buf: ArrayBuffer): number;
  // The native HTTP front (native/udp-batch/http_front.c; absent from older builds), see http-native.ts.
  httpOpen?(
    host: string,
    port: number,
    v6: boolean,
    inBuf: ArrayBuffer,
    inMeta: ArrayBuffer,
    outBuf: ArrayBuffer,
    outMeta: ArrayBuffer,
    inSlots: number,
    outSlots: number,
    maxConnections: number,
    idleMs: number,
    onBatch: (count: number, accepted: number) => void,
  ): [unknown, number];
  httpSend?(handle: unknown, count: number): void;
  httpSendOne?(handle: unknown, id: number, bytes: Uint8Array, close: boolean): boolean;
  httpCloseConn?(handle: unknown, id: number): void;
  httpOpenConnections?(handle: unknown): number;
  httpClose?(handle: unknown): void;
}

/**
 * The addon's huge-page advice for large buffers (the memory peer store's typed arrays, see
 * MemoryPeerStoreOptions.adviseMemory), or null when the addon is not available.
 */
export function hugePageAdvisor(): ((buf: ArrayBuffer) => number) | null {
  const a = loadUdpBatch();
  if (a === null || typeof a.adviseHuge !== 'function') return null;
  return a.adviseHuge.bind(a);
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
 * One batched socket. `onDatagram(slotBuf, len, slot, flags)` is called for each datagram of a
 * batch: the datagram is the first `len` bytes of `slotBuf`, the whole receive slot, reused by the
 * next batch (flags 1: truncated, longer than SLOT_SIZE). An answer is queued during that call
 * with `reply(data, slot)`, or written in place with `reserve` and `commit`; later (answers from
 * an async store) with `replyTo(data, keep(slot))`.
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
  /** Per slot, the source address as 4 bytes and as 16 (see sourceIp). */
  private readonly ip4: Uint8Array[] = [];
  private readonly ip16: Uint8Array[] = [];
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
    private readonly onDatagram: (slotBuf: Buffer, len: number, slot: number, flags: number) => void,
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
    for (let i = 0; i < SLOTS; i++) {
      this.views.push(Buffer.from(inBuf, i * SLOT_SIZE, SLOT_SIZE));
      this.ip4.push(new Uint8Array(4));
      this.ip16.push(new Uint8Array(16));
    }
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
          this.onDatagram(this.views[i]!, len < SLOT_SIZE ? len : SLOT_SIZE, i, meta[o + 1]!);
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
   * The source address of the datagram in `slot`: 4 bytes, or 16 (IPv4-mapped ones as 4); null
   * for an IPv6 link-local address (fe80::/10), which node:dgram reports with a zone id and
   * peer-ip.ts refuses: it cannot be reached from elsewhere. The array belongs to the slot and is
   * rewritten for the next batch: copy what must outlive the handling of this datagram.
   */
  sourceIp(slot: number): Uint8Array | null {
    const b = this.inMetaBytes;
    const o = slot * META_BYTES + 16;
    const family = this.inMeta[slot * META_WORDS + 3];
    let from = o;
    if (family !== 4) {
      if (family !== 6 || (b[o] === 0xfe && (b[o + 1]! & 0xc0) === 0x80)) return null;
      let mapped = b[o + 10] === 0xff && b[o + 11] === 0xff;
      for (let i = 0; mapped && i < 10; i++) if (b[o + i] !== 0) mapped = false;
      if (!mapped) {
        const ip = this.ip16[slot]!;
        for (let i = 0; i < 16; i++) ip[i] = b[o + i]!;
        return ip;
      }
      from = o + 12;
    }
    const ip = this.ip4[slot]!;
    ip[0] = b[from]!;
    ip[1] = b[from + 1]!;
    ip[2] = b[from + 2]!;
    ip[3] = b[from + 3]!;
    return ip;
  }

  /** The destination of `slot`'s answer, valid after the batch. */
  keep(slot: number): KeptAddress {
    const o = slot * META_BYTES + 16;
    const family = this.inMeta[slot * META_WORDS + 3] === 6 ? 6 : 4;
    return { port: this.sourcePort(slot), family, addr: this.inMetaBytes.slice(o, o + 16) };
  }

  /** Queues an answer to the datagram in `slot` of the current batch (sent at the batch's end). */
  reply(data: Uint8Array, slot: number): void {
    const off = this.reserve(data.length);
    if (off < 0) return;
    this.outBuf.set(data, off);
    this.commit(data.length, slot);
  }

  /** The memory answers are written to, at the offset `reserve` gives. */
  get out(): Uint8Array {
    return this.outBuf;
  }

  /**
   * Room for an answer of up to `size` bytes: its offset in `out` (flushing queued answers first
   * when the room or the entries ran out), or -1 when it cannot be sent (counted in sendFailures).
   * Write the answer there, then `commit` it before any other reserve.
   */
  reserve(size: number): number {
    if (this.closed) return -1;
    if (size > this.outBuf.length) {
      this.sendFailures++;
      return -1;
    }
    if (this.outCount === SLOTS || this.outOff + size > this.outBuf.length) this.flush();
    return this.outOff;
  }

  /** Queues the `len` bytes written at the last reserve()'s offset, as the answer to `slot`. */
  commit(len: number, slot: number): void {
    const e = this.queue(len);
    const m = this.outMeta;
    const src = slot * META_WORDS;
    const im = this.inMeta;
    // port, family, and the 16 address bytes (words 4..7)
    m[e + 2] = im[src + 2]!;
    m[e + 3] = im[src + 3]!;
    m[e + 4] = im[src + 4]!;
    m[e + 5] = im[src + 5]!;
    m[e + 6] = im[src + 6]!;
    m[e + 7] = im[src + 7]!;
  }

  /** Queues the `len` bytes at the last reserve()'s offset; returns the entry's first meta word (destination still to fill). */
  private queue(len: number): number {
    const e = this.outCount * META_WORDS;
    this.outMeta[e] = this.outOff;
    this.outMeta[e + 1] = len;
    this.outOff += len;
    this.outCount++;
    return e;
  }

  /** Sends an answer to a kept address (immediately when outside a batch). */
  replyTo(data: Uint8Array, to: KeptAddress): void {
    const off = this.reserve(data.length);
    if (off < 0) return;
    this.outBuf.set(data, off);
    const e = this.queue(data.length);
    this.outMeta[e + 2] = to.port;
    this.outMeta[e + 3] = to.family;
    this.outMetaBytes.set(to.addr, e * 4 + 16);
    if (!this.inBatch) this.flush();
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

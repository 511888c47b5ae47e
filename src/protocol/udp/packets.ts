/**
 * UDP tracker packets (BEP 15), with BEP 41's announce options (URL data, which carries the
 * passkey path in private mode). Pure and total: any datagram parses to a request, to
 * 'error-sendable' (the connection and transaction ids are readable but the body is invalid: the
 * server may answer with an error packet once the connection id checks out), or to 'drop' (too
 * short, unknown action, bad protocol id: no answer, ever).
 *
 * Layouts (big-endian):
 *   connect  : 0 protocol id u64 = 0x41727101980 | 8 action u32 = 0 | 12 transaction id u32
 *   announce : 0 connection id u64 | 8 action = 1 | 12 transaction id | 16 info_hash[20]
 *              | 36 peer_id[20] | 56 downloaded u64 | 64 left u64 | 72 uploaded u64 | 80 event u32
 *              | 84 ip u32 | 88 key u32 | 92 num_want i32 | 96 port u16 | 98 options (BEP 41)
 *   scrape   : 0 connection id | 8 action = 2 | 12 transaction id | 16 info_hash[20] * n
 * Events: 0 none, 1 completed, 2 started, 3 stopped, and 4 paused (BEP 21's event over UDP, as
 * libtorrent sends it; BEP 15 itself stops at 3).
 */
import type { AnnounceEvent } from '../../shared/types.js';
import type { AnnounceRequest, ProtocolErrorCode } from '../types.js';

export const PROTOCOL_ID_HI = 0x417;
export const PROTOCOL_ID_LO = 0x27101980;
export const ACTION_CONNECT = 0;
export const ACTION_ANNOUNCE = 1;
export const ACTION_SCRAPE = 2;
export const ACTION_ERROR = 3;
/** BEP 15: "up to about 74 torrents can be scraped at once". */
export const MAX_UDP_SCRAPE_HASHES = 74;
export const ANNOUNCE_MIN_LENGTH = 98;
const HEADER_LENGTH = 16;

export interface UdpConnect {
  kind: 'connect';
  transactionId: number;
}

/*
 * Requests other than connect carry their connection id in the datagram's first 8 bytes; the
 * results leave it there (no view is made per datagram): check it with
 * ConnectionIdIssuer.checkAt(datagram, 0, ...) before the datagram's memory is reused.
 */

export interface UdpAnnounce {
  kind: 'announce';
  transactionId: number;
  /** compact is always true; ip 0 -> null; num_want < 0 -> null; key as its 32-bit value. */
  request: AnnounceRequest;
  /** BEP 41 URL data options concatenated (latin1, raw), or null when there were none. */
  urlData: string | null;
}

export interface UdpScrape {
  kind: 'scrape';
  transactionId: number;
  /** 20 bytes each (copies), distinct, in request order, at most MAX_UDP_SCRAPE_HASHES (later ones are ignored). */
  infoHashes: Uint8Array[];
  /** Always null: the hash list runs to the end of the packet, so there is no room for BEP 41 options. */
  urlData: null;
}

export interface UdpErrorSendable {
  kind: 'error-sendable';
  action: typeof ACTION_ANNOUNCE | typeof ACTION_SCRAPE;
  transactionId: number;
  code: ProtocolErrorCode;
  /** What the client is told, in the error packet. */
  message: string;
}

export type UdpDropReason = 'too_short' | 'bad_protocol_id' | 'unknown_action';

export interface UdpDrop {
  kind: 'drop';
  /** Stable, usable as a metrics label. */
  reason: UdpDropReason;
}

export type UdpRequest = UdpConnect | UdpAnnounce | UdpScrape;
export type UdpParseResult = UdpRequest | UdpErrorSendable | UdpDrop;

const DROP_SHORT: UdpDrop = Object.freeze({ kind: 'drop', reason: 'too_short' });
const DROP_PROTOCOL: UdpDrop = Object.freeze({ kind: 'drop', reason: 'bad_protocol_id' });
const DROP_ACTION: UdpDrop = Object.freeze({ kind: 'drop', reason: 'unknown_action' });

const EVENTS: readonly AnnounceEvent[] = ['none', 'completed', 'started', 'stopped', 'paused'];

/**
 * Arrays an announce's info hash and peer id are copied into instead of fresh ones (a `new
 * Uint8Array(20)` costs V8 a builtin call, about a tenth of a microsecond, twice per announce):
 * the request then holds these very arrays, rewritten by the next parse given the same scratch.
 * Whoever keeps a request past the synchronous handling of its datagram must copy them
 * (TrackerService does, for an answer from an async store).
 */
export interface UdpParseScratch {
  infoHash: Uint8Array;
  peerId: Uint8Array;
}

export function udpParseScratch(): UdpParseScratch {
  return { infoHash: new Uint8Array(20), peerId: new Uint8Array(20) };
}

/** Reads a u64 that must fit 0..2^53-1; returns -1 otherwise. */
function readUint53(buf: Buffer, off: number): number {
  const hi = buf.readUInt32BE(off);
  if (hi > 0x1fffff) return -1;
  return hi * 0x100000000 + buf.readUInt32BE(off + 4);
}

/**
 * BEP 41 options from `off` to the end: 0x0 EndOfOptions, 0x1 NOP (no length byte), 0x2 URLData
 * (length byte + data; several are concatenated). Other types have a length byte and are skipped.
 * A truncated option (length byte or data past the end) ends parsing and is ignored.
 */
function parseUrlData(buf: Buffer, off: number, len: number): string | null {
  let url: string | null = null;
  let p = off;
  while (p < len) {
    const type = buf[p]!;
    if (type === 0x0) break;
    if (type === 0x1) {
      p++;
      continue;
    }
    if (p + 1 >= len) break;
    const ds = p + 2;
    const de = ds + buf[p + 1]!;
    if (de > len) break;
    if (type === 0x2) url = url === null ? buf.toString('latin1', ds, de) : url + buf.toString('latin1', ds, de);
    p = de;
  }
  return url;
}

function errorSendable(
  action: typeof ACTION_ANNOUNCE | typeof ACTION_SCRAPE,
  transactionId: number,
  code: ProtocolErrorCode,
  message: string,
): UdpErrorSendable {
  return { kind: 'error-sendable', action, transactionId, code, message };
}

function parseAnnounce(buf: Buffer, len: number, transactionId: number, scratch: UdpParseScratch | undefined): UdpAnnounce | UdpErrorSendable {
  const downloaded = readUint53(buf, 56);
  if (downloaded < 0) return errorSendable(ACTION_ANNOUNCE, transactionId, 'bad_number', 'invalid downloaded');
  const left = readUint53(buf, 64);
  if (left < 0) return errorSendable(ACTION_ANNOUNCE, transactionId, 'bad_number', 'invalid left');
  const uploaded = readUint53(buf, 72);
  if (uploaded < 0) return errorSendable(ACTION_ANNOUNCE, transactionId, 'bad_number', 'invalid uploaded');
  const eventNo = buf.readUInt32BE(80);
  const event = eventNo < EVENTS.length ? EVENTS[eventNo]! : null;
  if (event === null) return errorSendable(ACTION_ANNOUNCE, transactionId, 'bad_event', 'invalid event');
  const port = buf.readUInt16BE(96);
  if (port === 0) return errorSendable(ACTION_ANNOUNCE, transactionId, 'bad_port', 'invalid port');
  const numwant = buf.readInt32BE(92);
  const ipWord = buf.readUInt32BE(84);
  // Copies (the datagram's memory is reused once the batch is handled): into the scratch arrays
  // when given, else into small plain Uint8Arrays of their own (cheaper than Buffers and a
  // native copy).
  const peerId = scratch !== undefined ? scratch.peerId : new Uint8Array(20);
  for (let j = 0; j < 20; j++) peerId[j] = buf[36 + j]!;
  const infoHash = scratch !== undefined ? scratch.infoHash : new Uint8Array(20);
  for (let j = 0; j < 20; j++) infoHash[j] = buf[16 + j]!;
  const request: AnnounceRequest = {
    kind: 'announce',
    infoHash,
    peerId,
    port,
    uploaded,
    downloaded,
    left,
    event,
    compact: true,
    noPeerId: false,
    numwant: numwant < 0 ? null : numwant,
    key: buf.readUInt32BE(88),
    trackerId: null,
    ip: ipWord === 0 ? null : `${buf[84]}.${buf[85]}.${buf[86]}.${buf[87]}`,
  };
  return {
    kind: 'announce',
    transactionId,
    request,
    urlData: len > ANNOUNCE_MIN_LENGTH ? parseUrlData(buf, ANNOUNCE_MIN_LENGTH, len) : null,
  };
}

/** Whether the 20 bytes at buf[off ..] are those of `h`. */
function sameHash(h: Uint8Array, buf: Buffer, off: number): boolean {
  for (let j = 0; j < 20; j++) if (h[j] !== buf[off + j]) return false;
  return true;
}

function parseScrape(buf: Buffer, len: number, transactionId: number): UdpScrape | UdpErrorSendable {
  const n = Math.min(Math.floor((len - HEADER_LENGTH) / 20), MAX_UDP_SCRAPE_HASHES);
  if (n === 0) return errorSendable(ACTION_SCRAPE, transactionId, 'missing_info_hash', 'missing info_hash');
  const infoHashes: Uint8Array[] = [];
  next: for (let i = 0; i < n; i++) {
    const off = HEADER_LENGTH + i * 20;
    for (let k = 0; k < infoHashes.length; k++) if (sameHash(infoHashes[k]!, buf, off)) continue next;
    const h = new Uint8Array(20);
    for (let j = 0; j < 20; j++) h[j] = buf[off + j]!;
    infoHashes.push(h);
  }
  return { kind: 'scrape', transactionId, infoHashes, urlData: null };
}

/**
 * Parses one client datagram: the first `len` bytes of `buf` (all of it by default; a receive
 * slot is passed whole with the datagram's length, so that no view is made per datagram). An
 * announce's info hash and peer id are fresh arrays, or the arrays of `scratch` (see
 * UdpParseScratch). Never throws.
 */
export function parseUdpRequest(buf: Buffer, len: number = buf.length, scratch?: UdpParseScratch): UdpParseResult {
  if (!(len <= buf.length)) len = buf.length;
  if (len < HEADER_LENGTH) return DROP_SHORT;
  const action = buf.readUInt32BE(8);
  const transactionId = buf.readUInt32BE(12);
  switch (action) {
    case ACTION_CONNECT:
      if (buf.readUInt32BE(0) !== PROTOCOL_ID_HI || buf.readUInt32BE(4) !== PROTOCOL_ID_LO) return DROP_PROTOCOL;
      return { kind: 'connect', transactionId };
    case ACTION_ANNOUNCE:
      if (len < ANNOUNCE_MIN_LENGTH) return DROP_SHORT;
      return parseAnnounce(buf, len, transactionId, scratch);
    case ACTION_SCRAPE:
      return parseScrape(buf, len, transactionId);
    default:
      return DROP_ACTION;
  }
}

/* Encoders ------------------------------------------------------------------------------------ */

/** Clamps a count into u32 (negative or NaN -> 0). */
function u32(n: number): number {
  if (!(n > 0)) return 0;
  return n >= 0xffffffff ? 0xffffffff : Math.floor(n);
}

function header(size: number, action: number, transactionId: number): Buffer {
  const buf = Buffer.allocUnsafe(size);
  buf.writeUInt32BE(action, 0);
  buf.writeUInt32BE(transactionId >>> 0, 4);
  return buf;
}

/** 16 bytes: action 0, transaction id, connection id (8 bytes). */
export function encodeConnectResponse(transactionId: number, connectionId: Uint8Array): Buffer {
  if (connectionId.length !== 8) throw new TypeError('connection id must be 8 bytes');
  const buf = header(16, ACTION_CONNECT, transactionId);
  buf.set(connectionId, 8);
  return buf;
}

/**
 * 20 bytes + peers: action 1, transaction id, interval, leechers, seeders, then the compact peers
 * as given (6 bytes each on an IPv4 socket, 18 bytes each on an IPv6 socket, per BEP 15). Counts
 * are clamped to u32. Use maxPeersForDatagram to bound `peers`.
 */
export function encodeAnnounceResponse(
  transactionId: number,
  interval: number,
  leechers: number,
  seeders: number,
  peers: Uint8Array,
): Buffer {
  const buf = Buffer.allocUnsafe(20 + peers.length);
  writeAnnounceResponse(buf, 0, transactionId, interval, leechers, seeders, peers);
  return buf;
}

/** Writes a big-endian u32 at `off` (no bounds check: callers reserve the room). */
function put32(out: Uint8Array, off: number, v: number): void {
  out[off] = v >>> 24;
  out[off + 1] = v >>> 16;
  out[off + 2] = v >>> 8;
  out[off + 3] = v;
}

/**
 * encodeAnnounceResponse, written in place at `out[off ..]` (which must have room for
 * 20 + peers.length bytes, or a RangeError is thrown); returns the length written.
 */
export function writeAnnounceResponse(
  out: Uint8Array,
  off: number,
  transactionId: number,
  interval: number,
  leechers: number,
  seeders: number,
  peers: Uint8Array,
): number {
  const n = 20 + peers.length;
  if (!(off >= 0 && off + n <= out.length)) throw new RangeError('no room for the announce answer');
  put32(out, off, ACTION_ANNOUNCE);
  put32(out, off + 4, transactionId >>> 0);
  put32(out, off + 8, u32(interval));
  put32(out, off + 12, u32(leechers));
  put32(out, off + 16, u32(seeders));
  out.set(peers, off + 20);
  return n;
}

export interface UdpScrapeCounts {
  /** Seeders. */
  complete: number;
  /** Times completed. */
  downloaded: number;
  /** Leechers. */
  incomplete: number;
}

/** 8 + 12 bytes per torrent, in request order: seeders, completed, leechers (clamped to u32). */
export function encodeScrapeResponse(transactionId: number, counts: readonly UdpScrapeCounts[]): Buffer {
  const buf = Buffer.allocUnsafe(8 + 12 * counts.length);
  writeScrapeResponse(buf, 0, transactionId, counts);
  return buf;
}

/**
 * encodeScrapeResponse, written in place at `out[off ..]` (room for 8 + 12 * counts.length bytes,
 * or a RangeError is thrown); returns the length written.
 */
export function writeScrapeResponse(out: Uint8Array, off: number, transactionId: number, counts: readonly UdpScrapeCounts[]): number {
  const n = 8 + 12 * counts.length;
  if (!(off >= 0 && off + n <= out.length)) throw new RangeError('no room for the scrape answer');
  put32(out, off, ACTION_SCRAPE);
  put32(out, off + 4, transactionId >>> 0);
  let o = off + 8;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i]!;
    put32(out, o, u32(c.complete));
    put32(out, o + 4, u32(c.downloaded));
    put32(out, o + 8, u32(c.incomplete));
    o += 12;
  }
  return n;
}

/** Action 3, transaction id, then the message as UTF-8 (no terminator). */
export function encodeErrorResponse(transactionId: number, message: string): Buffer {
  const n = Buffer.byteLength(message, 'utf8');
  const buf = header(8 + n, ACTION_ERROR, transactionId);
  buf.write(message, 8, n, 'utf8');
  return buf;
}

/** How many peers of `peerSize` bytes (6 or 18) fit an announce answer of at most `maxBytes`. */
export function maxPeersForDatagram(maxBytes: number, peerSize: number): number {
  if (!(peerSize > 0) || !(maxBytes > 20)) return 0;
  return Math.floor((maxBytes - 20) / peerSize);
}

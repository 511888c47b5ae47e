/**
 * HTTP tracker responses (BEP 3), hand-rolled for the hot path: each encoder computes the exact
 * size, allocates once and writes the bencoding straight into the Buffer, with dict keys already
 * in the sorted order BEP 3 requires. Compact peers per BEP 23 (IPv4, 6 bytes each) and BEP 7
 * (`peers6`, 18 bytes each); the dictionary model for compact=0; `failure reason` with BEP 31's
 * `retry in`; scrape per BEP 48 (with BEP 21's `downloaders` when given).
 *
 * Encoders throw (TypeError/RangeError) only on programming errors: a count that is not a safe
 * integer, or an info hash that is not 20 bytes / 40 hex digits.
 */

export interface AnnounceResponseFields {
  interval: number;
  /** `min interval`; omitted when undefined. */
  minInterval?: number;
  /** Seeders. */
  complete: number;
  /** Leechers. */
  incomplete: number;
  /** Completed downloads; omitted when undefined. */
  downloaded?: number;
  /** `warning message`; omitted when undefined or ''. */
  warning?: string;
  /** `tracker id`; omitted when undefined or ''. */
  trackerId?: string;
}

export interface CompactAnnounceResponse extends AnnounceResponseFields {
  /** Compact IPv4 peers, 6 bytes each. Always written (possibly empty), as clients expect `peers`. */
  peers4: Uint8Array;
  /** Compact IPv6 peers, 18 bytes each. Written only when non-empty. */
  peers6: Uint8Array;
}

export interface DictPeer {
  /** Text form of the address (dotted quad, or IPv6 text). */
  ip: string;
  port: number;
  /** 20 bytes; leave undefined to omit `peer id` (no_peer_id). */
  peerId?: Uint8Array;
}

export interface DictAnnounceResponse extends AnnounceResponseFields {
  /** IPv4 and IPv6 peers together, in one list (BEP 3 dictionary model). */
  peers: readonly DictPeer[];
}

export interface ScrapeFile {
  /** 20 raw bytes, or 40 hex digits (either case). */
  infoHash: Uint8Array | string;
  complete: number;
  downloaded: number;
  incomplete: number;
  /** BEP 21: active downloaders (leechers that are not partial seeds); omitted when undefined. */
  downloaders?: number;
}

const key = (s: string): Buffer => Buffer.from(`${s.length}:${s}`, 'latin1');
const K_COMPLETE = key('complete');
const K_DOWNLOADED = key('downloaded');
const K_DOWNLOADERS = key('downloaders');
const K_INCOMPLETE = key('incomplete');
const K_INTERVAL = key('interval');
const K_MIN_INTERVAL = key('min interval');
const K_PEERS = key('peers');
const K_PEERS6 = key('peers6');
const K_TRACKER_ID = key('tracker id');
const K_WARNING = key('warning message');
const K_FAILURE = key('failure reason');
const K_RETRY_IN = key('retry in');
const K_IP = key('ip');
const K_PEER_ID = key('peer id');
const K_PORT = key('port');
const K_FILES = key('files');
const K_FLAGS = key('flags');
const K_MIN_REQUEST_INTERVAL = key('min_request_interval');
const NEVER = Buffer.from('5:never', 'latin1');

const D = 0x64;
const L = 0x6c;
const I = 0x69;
const E = 0x65;
const COLON = 0x3a;
const MINUS = 0x2d;

/** Decimal digits of a non-negative safe integer. */
function digits(n: number): number {
  let d = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    d++;
  }
  return d;
}

function checkInt(n: number, what: string): void {
  if (!Number.isSafeInteger(n)) throw new RangeError(`bencode response: ${what} is not a safe integer: ${n}`);
}

/** Size of `i<n>e`. */
function intSize(n: number): number {
  return n < 0 ? 3 + digits(-n) : 2 + digits(n);
}

/** Size of `<len>:<bytes>`. */
function strSize(len: number): number {
  return digits(len) + 1 + len;
}

function writeDigits(buf: Buffer, pos: number, n: number): number {
  const end = pos + digits(n);
  let p = end;
  do {
    buf[--p] = 0x30 + (n % 10);
    n = Math.floor(n / 10);
  } while (n > 0);
  return end;
}

function writeInt(buf: Buffer, pos: number, n: number): number {
  buf[pos++] = I;
  if (n < 0) {
    buf[pos++] = MINUS;
    n = -n;
  }
  pos = writeDigits(buf, pos, n);
  buf[pos++] = E;
  return pos;
}

function writeRaw(buf: Buffer, pos: number, bytes: Uint8Array): number {
  buf.set(bytes, pos);
  return pos + bytes.length;
}

function writeBytes(buf: Buffer, pos: number, bytes: Uint8Array): number {
  pos = writeDigits(buf, pos, bytes.length);
  buf[pos++] = COLON;
  return writeRaw(buf, pos, bytes);
}

function writeText(buf: Buffer, pos: number, s: string, byteLen: number): number {
  pos = writeDigits(buf, pos, byteLen);
  buf[pos++] = COLON;
  return pos + buf.write(s, pos, byteLen, 'utf8');
}

const textLen = (s: string | undefined): number => (s === undefined || s === '' ? -1 : Buffer.byteLength(s, 'utf8'));

/**
 * Size of the fields shared by both announce forms, except the peers. Keys in sorted order:
 * complete, downloaded, incomplete, interval, min interval, [peers, peers6], tracker id,
 * warning message.
 */
function headFieldsSize(r: AnnounceResponseFields, trackerIdLen: number, warningLen: number): number {
  checkInt(r.complete, 'complete');
  checkInt(r.incomplete, 'incomplete');
  checkInt(r.interval, 'interval');
  let n = K_COMPLETE.length + intSize(r.complete);
  if (r.downloaded !== undefined) {
    checkInt(r.downloaded, 'downloaded');
    n += K_DOWNLOADED.length + intSize(r.downloaded);
  }
  n += K_INCOMPLETE.length + intSize(r.incomplete);
  n += K_INTERVAL.length + intSize(r.interval);
  if (r.minInterval !== undefined) {
    checkInt(r.minInterval, 'minInterval');
    n += K_MIN_INTERVAL.length + intSize(r.minInterval);
  }
  if (trackerIdLen >= 0) n += K_TRACKER_ID.length + strSize(trackerIdLen);
  if (warningLen >= 0) n += K_WARNING.length + strSize(warningLen);
  return n;
}

/** Writes complete .. min interval (the keys sorting before `peers`). */
function writeLeadingFields(buf: Buffer, pos: number, r: AnnounceResponseFields): number {
  pos = writeRaw(buf, pos, K_COMPLETE);
  pos = writeInt(buf, pos, r.complete);
  if (r.downloaded !== undefined) {
    pos = writeRaw(buf, pos, K_DOWNLOADED);
    pos = writeInt(buf, pos, r.downloaded);
  }
  pos = writeRaw(buf, pos, K_INCOMPLETE);
  pos = writeInt(buf, pos, r.incomplete);
  pos = writeRaw(buf, pos, K_INTERVAL);
  pos = writeInt(buf, pos, r.interval);
  if (r.minInterval !== undefined) {
    pos = writeRaw(buf, pos, K_MIN_INTERVAL);
    pos = writeInt(buf, pos, r.minInterval);
  }
  return pos;
}

/** Writes tracker id and warning message (the keys sorting after `peers6`). */
function writeTrailingFields(buf: Buffer, pos: number, r: AnnounceResponseFields, trackerIdLen: number, warningLen: number): number {
  if (trackerIdLen >= 0) {
    pos = writeRaw(buf, pos, K_TRACKER_ID);
    pos = writeText(buf, pos, r.trackerId!, trackerIdLen);
  }
  if (warningLen >= 0) {
    pos = writeRaw(buf, pos, K_WARNING);
    pos = writeText(buf, pos, r.warning!, warningLen);
  }
  return pos;
}

/** The compact announce response (BEP 23, BEP 7). */
export function encodeAnnounceResponse(r: CompactAnnounceResponse): Buffer {
  const trackerIdLen = textLen(r.trackerId);
  const warningLen = textLen(r.warning);
  let size = 2 + headFieldsSize(r, trackerIdLen, warningLen);
  size += K_PEERS.length + strSize(r.peers4.length);
  if (r.peers6.length > 0) size += K_PEERS6.length + strSize(r.peers6.length);
  const buf = Buffer.allocUnsafe(size);
  buf[0] = D;
  let pos = writeLeadingFields(buf, 1, r);
  pos = writeRaw(buf, pos, K_PEERS);
  pos = writeBytes(buf, pos, r.peers4);
  if (r.peers6.length > 0) {
    pos = writeRaw(buf, pos, K_PEERS6);
    pos = writeBytes(buf, pos, r.peers6);
  }
  pos = writeTrailingFields(buf, pos, r, trackerIdLen, warningLen);
  buf[pos] = E;
  return buf;
}

/**
 * The dictionary-model announce response (compact=0): `peers` is a list of dicts with keys
 * `ip`, `peer id` (only when given), `port`.
 */
export function encodeAnnounceResponseDict(r: DictAnnounceResponse): Buffer {
  const trackerIdLen = textLen(r.trackerId);
  const warningLen = textLen(r.warning);
  let size = 2 + headFieldsSize(r, trackerIdLen, warningLen);
  const ipLens = new Array<number>(r.peers.length);
  let list = 2;
  for (let i = 0; i < r.peers.length; i++) {
    const p = r.peers[i]!;
    checkInt(p.port, 'port');
    const ipLen = Buffer.byteLength(p.ip, 'utf8');
    ipLens[i] = ipLen;
    list += 2 + K_IP.length + strSize(ipLen) + K_PORT.length + intSize(p.port);
    if (p.peerId !== undefined) list += K_PEER_ID.length + strSize(p.peerId.length);
  }
  size += K_PEERS.length + list;
  const buf = Buffer.allocUnsafe(size);
  buf[0] = D;
  let pos = writeLeadingFields(buf, 1, r);
  pos = writeRaw(buf, pos, K_PEERS);
  buf[pos++] = L;
  for (let i = 0; i < r.peers.length; i++) {
    const p = r.peers[i]!;
    buf[pos++] = D;
    pos = writeRaw(buf, pos, K_IP);
    pos = writeText(buf, pos, p.ip, ipLens[i]!);
    if (p.peerId !== undefined) {
      pos = writeRaw(buf, pos, K_PEER_ID);
      pos = writeBytes(buf, pos, p.peerId);
    }
    pos = writeRaw(buf, pos, K_PORT);
    pos = writeInt(buf, pos, p.port);
    buf[pos++] = E;
  }
  buf[pos++] = E;
  pos = writeTrailingFields(buf, pos, r, trackerIdLen, warningLen);
  buf[pos] = E;
  return buf;
}

/**
 * `d14:failure reason<reason>e`, plus BEP 31's `retry in` (minutes, or 'never') when given.
 */
export function encodeFailure(reason: string, retryIn?: number | 'never'): Buffer {
  const len = Buffer.byteLength(reason, 'utf8');
  let size = 2 + K_FAILURE.length + strSize(len);
  if (typeof retryIn === 'number') {
    checkInt(retryIn, 'retryIn');
    size += K_RETRY_IN.length + intSize(retryIn);
  } else if (retryIn === 'never') size += K_RETRY_IN.length + NEVER.length;
  const buf = Buffer.allocUnsafe(size);
  buf[0] = D;
  let pos = writeRaw(buf, 1, K_FAILURE);
  pos = writeText(buf, pos, reason, len);
  if (retryIn !== undefined) {
    pos = writeRaw(buf, pos, K_RETRY_IN);
    pos = typeof retryIn === 'number' ? writeInt(buf, pos, retryIn) : writeRaw(buf, pos, NEVER);
  }
  buf[pos] = E;
  return buf;
}

const HEX40 = /^[0-9a-fA-F]{40}$/;

function hashBytes(h: Uint8Array | string): Buffer {
  if (typeof h === 'string') {
    if (!HEX40.test(h)) throw new TypeError('scrape response: an info hash must be 40 hex digits');
    return Buffer.from(h, 'hex');
  }
  if (h.length !== 20) throw new TypeError('scrape response: an info hash must be 20 bytes');
  return Buffer.isBuffer(h) ? h : Buffer.from(h.buffer, h.byteOffset, h.byteLength);
}

/**
 * The scrape response (BEP 48): `files` maps each raw 20-byte info hash to its counts. Entries
 * are sorted by hash bytes (as dict keys must be); a repeated hash is written once (first wins).
 * `flags.min_request_interval` is added when `minRequestInterval` is given.
 */
export function encodeScrapeResponse(files: readonly ScrapeFile[], opts?: { minRequestInterval?: number }): Buffer {
  const entries: Array<{ hash: Buffer; f: ScrapeFile }> = [];
  for (const f of files) {
    checkInt(f.complete, 'complete');
    checkInt(f.downloaded, 'downloaded');
    checkInt(f.incomplete, 'incomplete');
    if (f.downloaders !== undefined) checkInt(f.downloaders, 'downloaders');
    entries.push({ hash: hashBytes(f.infoHash), f });
  }
  // Stable sort, so that of equal hashes the first stays first.
  entries.sort((a, b) => Buffer.compare(a.hash, b.hash));
  let size = 2 + K_FILES.length + 2;
  for (let i = 0; i < entries.length; i++) {
    const { hash, f } = entries[i]!;
    if (i > 0 && hash.equals(entries[i - 1]!.hash)) continue;
    size += strSize(20) + 2;
    size += K_COMPLETE.length + intSize(f.complete);
    size += K_DOWNLOADED.length + intSize(f.downloaded);
    if (f.downloaders !== undefined) size += K_DOWNLOADERS.length + intSize(f.downloaders);
    size += K_INCOMPLETE.length + intSize(f.incomplete);
  }
  const mri = opts?.minRequestInterval;
  if (mri !== undefined) {
    checkInt(mri, 'minRequestInterval');
    size += K_FLAGS.length + 2 + K_MIN_REQUEST_INTERVAL.length + intSize(mri);
  }
  const buf = Buffer.allocUnsafe(size);
  buf[0] = D;
  let pos = writeRaw(buf, 1, K_FILES);
  buf[pos++] = D;
  for (let i = 0; i < entries.length; i++) {
    const { hash, f } = entries[i]!;
    if (i > 0 && hash.equals(entries[i - 1]!.hash)) continue;
    pos = writeBytes(buf, pos, hash);
    buf[pos++] = D;
    pos = writeRaw(buf, pos, K_COMPLETE);
    pos = writeInt(buf, pos, f.complete);
    pos = writeRaw(buf, pos, K_DOWNLOADED);
    pos = writeInt(buf, pos, f.downloaded);
    if (f.downloaders !== undefined) {
      pos = writeRaw(buf, pos, K_DOWNLOADERS);
      pos = writeInt(buf, pos, f.downloaders);
    }
    pos = writeRaw(buf, pos, K_INCOMPLETE);
    pos = writeInt(buf, pos, f.incomplete);
    buf[pos++] = E;
  }
  buf[pos++] = E;
  if (mri !== undefined) {
    pos = writeRaw(buf, pos, K_FLAGS);
    buf[pos++] = D;
    pos = writeRaw(buf, pos, K_MIN_REQUEST_INTERVAL);
    pos = writeInt(buf, pos, mri);
    buf[pos++] = E;
  }
  buf[pos] = E;
  return buf;
}

const REASONS: Record<number, string> = {
  200: 'OK',
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  413: 'Content Too Large',
  414: 'URI Too Long',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
  505: 'HTTP Version Not Supported',
};

const statusLines = new Map<number, string>();

function statusLine(status: number): string {
  let s = statusLines.get(status);
  if (s === undefined) {
    if (!Number.isInteger(status) || status < 100 || status > 999) throw new RangeError(`invalid HTTP status ${status}`);
    s = `HTTP/1.1 ${status} ${REASONS[status] ?? 'Unknown'}\r\nContent-Type: text/plain\r\nContent-Length: `;
    statusLines.set(status, s);
  }
  return s;
}

/**
 * The response head: status line, `Content-Type: text/plain`, `Content-Length`, and
 * `Connection: keep-alive` or `Connection: close` (explicit either way, so that HTTP/1.0 clients
 * know the connection is kept).
 */
export function HTTP_HEAD(status: number, contentLength: number, keepAlive: boolean): Buffer {
  checkInt(contentLength, 'contentLength');
  return Buffer.from(
    `${statusLine(status)}${contentLength}\r\nConnection: ${keepAlive ? 'keep-alive' : 'close'}\r\n\r\n`,
    'latin1',
  );
}

const headPrefixes: Array<Uint8Array | undefined> = [];
const KEEP_ALIVE_TAIL = Buffer.from('\r\nConnection: keep-alive\r\n\r\n', 'latin1');
const CLOSE_TAIL = Buffer.from('\r\nConnection: close\r\n\r\n', 'latin1');
/** The longest head writeHttpHead() writes (the longest reason phrase, a 10-digit length). */
export const HTTP_HEAD_MAX = 160;

/**
 * The head HTTP_HEAD() makes, written into `out` at `off` without a string or a Buffer per call
 * (the native front's shared output area). Returns the offset after it. `out` must have
 * HTTP_HEAD_MAX bytes of room.
 */
export function writeHttpHead(out: Uint8Array, off: number, status: number, contentLength: number, keepAlive: boolean): number {
  let pre = headPrefixes[status];
  if (pre === undefined) {
    pre = Buffer.from(statusLine(status), 'latin1');
    headPrefixes[status] = pre;
  }
  checkInt(contentLength, 'contentLength');
  out.set(pre, off);
  off += pre.length;
  if (contentLength === 0) out[off++] = 48;
  else {
    let digits = 0;
    for (let v = contentLength; v > 0; v = Math.floor(v / 10)) digits++;
    for (let i = digits - 1, v = contentLength; i >= 0; i--, v = Math.floor(v / 10)) out[off + i] = 48 + (v % 10);
    off += digits;
  }
  const tail = keepAlive ? KEEP_ALIVE_TAIL : CLOSE_TAIL;
  out.set(tail, off);
  return off + tail.length;
}

/** Head and body in one Buffer, for a single socket write. */
export function httpResponse(status: number, body: Uint8Array, keepAlive: boolean): Buffer {
  const head = `${statusLine(status)}${body.length}\r\nConnection: ${keepAlive ? 'keep-alive' : 'close'}\r\n\r\n`;
  const buf = Buffer.allocUnsafe(head.length + body.length);
  buf.write(head, 0, 'latin1');
  buf.set(body, head.length);
  return buf;
}

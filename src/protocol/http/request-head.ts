/**
 * A minimal HTTP/1.x request-head parser (RFC 9112 subset) for the tracker's HTTP server, which
 * runs over raw `net` sockets rather than node:http: BitTorrent clients (BEP 3) only ever send a
 * GET with a query string, and node:http's per-request objects cost more than the announce itself.
 *
 * Pure and total: any bytes give 'incomplete', 'error' (with the HTTP status to answer before
 * closing the connection) or 'ok'. Scans the Buffer in place; the only strings built are the
 * target, the method (when not GET/HEAD/POST) and the values of the few headers we read.
 *
 * Accepted:
 *  - request line `METHOD SP target SP HTTP/1.0|HTTP/1.1`. The target ends at the LAST space of the
 *    line, so a broken client's literal (unescaped) space in the query still parses. Any byte other
 *    than CR/LF is allowed in the target; it is returned raw (latin1, one char per byte), never
 *    decoded. Origin form (`/path?query`) and absolute form (`http://host/path?query`).
 *  - CRLF or bare LF line endings; empty lines before the request line are skipped (RFC 9112 2.2).
 *  - header names case-insensitively. Read: Host, Connection, Content-Length, Transfer-Encoding,
 *    X-Forwarded-For (repeated headers joined with ','). Host is not required (clients send it;
 *    whether to insist is the server's policy).
 * Rejected (400 unless said): bad method token, bad/absent version (505 for other HTTP versions),
 * target not starting with '/' or 'http(s)://', bare CR, obsolete line folding, invalid header
 * names or values (control bytes), duplicate Host, bad or conflicting Content-Length, and any
 * Transfer-Encoding (400 on GET/HEAD; 501 otherwise, as chunked bodies are not supported).
 * A head longer than maxHeadBytes gives 431 (414 when the request line alone is that long).
 */

export interface RequestHeadOk {
  kind: 'ok';
  method: string;
  /** The raw request target, latin1 (one char per byte), never percent-decoded. */
  target: string;
  /** The target before '?' (for the absolute form: from the path's '/'). */
  path: string;
  /** The raw query after the first '?', '' when there is none. */
  query: string;
  httpMinor: 0 | 1;
  /** HTTP/1.1: true unless `Connection: close`; HTTP/1.0: only with `Connection: keep-alive`. */
  keepAlive: boolean;
  /** X-Forwarded-For value(s), latin1, repeated headers joined with ','; null if absent. */
  xForwardedFor: string | null;
  host: string | null;
  /** 0 when absent. */
  contentLength: number;
  /** Offset just after the blank line that ends the head (the body, if any, starts there). */
  headEnd: number;
}

export type RequestHeadResult =
  | { kind: 'incomplete' }
  | { kind: 'error'; status: number; message: string }
  | RequestHeadOk;

const INCOMPLETE: { kind: 'incomplete' } = Object.freeze({ kind: 'incomplete' });

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const HT = 0x09;
const COLON = 0x3a;
const COMMA = 0x2c;
const SLASH = 0x2f;
const QMARK = 0x3f;
const MAX_METHOD = 32;

/** RFC 9110 tchar. */
const TCHAR = new Uint8Array(256);
for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TCHAR[c] = 1;
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;

/** Bytes allowed in a header value: HTAB, SP, VCHAR, obs-text. */
const VCHAR = new Uint8Array(256);
VCHAR[HT] = 1;
for (let c = 0x20; c <= 0x7e; c++) VCHAR[c] = 1;
for (let c = 0x80; c <= 0xff; c++) VCHAR[c] = 1;

const lower = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const H_HOST = lower('host');
const H_CONNECTION = lower('connection');
const H_CONTENT_LENGTH = lower('content-length');
const H_XFF = lower('x-forwarded-for');
const H_TRANSFER_ENCODING = lower('transfer-encoding');
const T_CLOSE = lower('close');
const T_KEEP_ALIVE = lower('keep-alive');
const HTTP_SLASH = lower('HTTP/');

/**
 * True when buf[s, e) equals `name` ignoring ASCII case. `name` is lowercase letters and '-'
 * only; OR-ing 0x20 maps A-Z onto a-z and cannot turn any other byte into a letter or '-'
 * (0x0d, the only byte that maps onto '-', is never part of a token or value here).
 */
function eqIgnoreCase(buf: Buffer, s: number, e: number, name: Uint8Array): boolean {
  if (e - s !== name.length) return false;
  for (let i = 0; i < name.length; i++) if ((buf[s + i]! | 0x20) !== name[i]) return false;
  return true;
}

function fail(status: number, message: string): { kind: 'error'; status: number; message: string } {
  return { kind: 'error', status, message };
}

function methodString(buf: Buffer, s: number, e: number): string {
  const n = e - s;
  if (n === 3 && buf[s] === 0x47 && buf[s + 1] === 0x45 && buf[s + 2] === 0x54) return 'GET';
  if (n === 4 && buf[s] === 0x48 && buf[s + 1] === 0x45 && buf[s + 2] === 0x41 && buf[s + 3] === 0x44) return 'HEAD';
  return buf.toString('latin1', s, e);
}

/** Scans a Connection header value for the `close` and `keep-alive` tokens. Bit 1: close, bit 2: keep-alive. */
function connectionTokens(buf: Buffer, s: number, e: number): number {
  let flags = 0;
  let p = s;
  while (p < e) {
    while (p < e && (buf[p] === SP || buf[p] === HT || buf[p] === COMMA)) p++;
    const ts = p;
    while (p < e && buf[p] !== COMMA) p++;
    let te = p;
    while (te > ts && (buf[te - 1] === SP || buf[te - 1] === HT)) te--;
    if (eqIgnoreCase(buf, ts, te, T_CLOSE)) flags |= 1;
    else if (eqIgnoreCase(buf, ts, te, T_KEEP_ALIVE)) flags |= 2;
  }
  return flags;
}

/**
 * Parses the request head in buf[start, end). Returns 'incomplete' when more bytes are needed
 * (every strict prefix of a valid head is 'incomplete'), 'error' when the connection should get
 * `status` and be closed, or the parsed head.
 */
export function parseRequestHead(buf: Buffer, start: number, end: number, maxHeadBytes: number): RequestHeadResult {
  if (!(start >= 0)) start = 0;
  if (!(end <= buf.length)) end = buf.length;
  // The head must end (blank line included) before `limit`.
  const limit = start + Math.max(0, maxHeadBytes);
  const scanEnd = Math.min(end, limit);

  // Skip empty lines left over from a previous request (RFC 9112 section 2.2).
  let p = start;
  while (p < scanEnd && (buf[p] === CR || buf[p] === LF)) p++;

  // Early check of the method, so that garbage (a TLS handshake, say) fails without waiting.
  const ms = p;
  while (p < scanEnd && TCHAR[buf[p]!] === 1) p++;
  if (p < scanEnd && buf[p] !== SP) return fail(400, 'invalid request method');
  if (p - ms > MAX_METHOD) return fail(400, 'invalid request method');

  // Request line.
  let lf = buf.indexOf(LF, p);
  if (lf < 0 || lf >= scanEnd) {
    return end >= limit ? fail(414, 'request line too long') : INCOMPLETE;
  }
  const me = p;
  if (me === ms || buf[me] !== SP) return fail(400, 'invalid request method');
  const le = lf > me && buf[lf - 1] === CR ? lf - 1 : lf;
  // The version starts after the last space of the line.
  let sp2 = le - 1;
  while (sp2 > me && buf[sp2] !== SP) sp2--;
  if (sp2 <= me + 1) return fail(400, 'invalid request line');
  const vs = sp2 + 1;
  let httpMinor: 0 | 1;
  if (
    le - vs === 8 &&
    buf.compare(HTTP_SLASH, 0, 5, vs, vs + 5) === 0 &&
    buf[vs + 5] === 0x31 &&
    buf[vs + 6] === 0x2e &&
    (buf[vs + 7] === 0x30 || buf[vs + 7] === 0x31)
  ) {
    httpMinor = buf[vs + 7] === 0x31 ? 1 : 0;
  } else if (
    le - vs === 8 &&
    buf.compare(HTTP_SLASH, 0, 5, vs, vs + 5) === 0 &&
    buf[vs + 5]! >= 0x30 &&
    buf[vs + 5]! <= 0x39 &&
    buf[vs + 6] === 0x2e &&
    buf[vs + 7]! >= 0x30 &&
    buf[vs + 7]! <= 0x39
  ) {
    return fail(505, 'HTTP version not supported');
  } else {
    return fail(400, 'invalid HTTP version');
  }
  const ts = me + 1;
  const te = sp2;
  for (let i = ts; i < te; i++) if (buf[i] === CR) return fail(400, 'bare CR in request line');

  // Target: origin form, or absolute form http(s)://authority/path.
  let pathStart = ts;
  if (buf[ts] !== SLASH) {
    const c0 = buf[ts]! | 0x20;
    let afterScheme = -1;
    if (c0 === 0x68 && te - ts >= 7 && buf.toString('latin1', ts, ts + 7).toLowerCase() === 'http://') afterScheme = ts + 7;
    else if (c0 === 0x68 && te - ts >= 8 && buf.toString('latin1', ts, ts + 8).toLowerCase() === 'https://') afterScheme = ts + 8;
    if (afterScheme < 0) return fail(400, 'invalid request target');
    pathStart = te;
    for (let i = afterScheme; i < te; i++) {
      const c = buf[i];
      if (c === SLASH || c === QMARK) {
        pathStart = i;
        break;
      }
    }
  }
  let q = buf.indexOf(QMARK, pathStart);
  if (q < 0 || q >= te) q = -1;
  const target = buf.toString('latin1', ts, te);
  const pathEnd = q < 0 ? te : q;
  let path: string;
  if (pathStart === pathEnd) path = '/';
  else path = target.slice(pathStart - ts, pathEnd - ts);
  const query = q < 0 ? '' : target.slice(q + 1 - ts);

  // Header fields.
  let host: string | null = null;
  let xff: string | null = null;
  let contentLength = -1;
  let connFlags = 0;
  let transferEncoding = false;
  let ls = lf + 1;
  for (;;) {
    lf = buf.indexOf(LF, ls);
    if (lf < 0 || lf >= scanEnd) {
      return end >= limit ? fail(431, 'request head too large') : INCOMPLETE;
    }
    const he = lf > ls && buf[lf - 1] === CR ? lf - 1 : lf;
    if (he === ls) break; // blank line: end of the head
    const c0 = buf[ls]!;
    if (c0 === SP || c0 === HT) return fail(400, 'obsolete header line folding');
    let colon = ls;
    while (colon < he && TCHAR[buf[colon]!] === 1) colon++;
    if (colon === ls || colon >= he || buf[colon] !== COLON) return fail(400, 'invalid header name');
    let vs2 = colon + 1;
    let ve = he;
    for (let i = vs2; i < ve; i++) if (VCHAR[buf[i]!] !== 1) return fail(400, 'invalid header value');
    while (vs2 < ve && (buf[vs2] === SP || buf[vs2] === HT)) vs2++;
    while (ve > vs2 && (buf[ve - 1] === SP || buf[ve - 1] === HT)) ve--;

    switch (colon - ls) {
      case 4:
        if (eqIgnoreCase(buf, ls, colon, H_HOST)) {
          if (host !== null) return fail(400, 'duplicate Host header');
          host = buf.toString('latin1', vs2, ve);
        }
        break;
      case 10:
        if (eqIgnoreCase(buf, ls, colon, H_CONNECTION)) connFlags |= connectionTokens(buf, vs2, ve);
        break;
      case 14:
        if (eqIgnoreCase(buf, ls, colon, H_CONTENT_LENGTH)) {
          if (ve === vs2 || ve - vs2 > 15) return fail(400, 'invalid Content-Length');
          let n = 0;
          for (let i = vs2; i < ve; i++) {
            const d = buf[i]! - 0x30;
            if (d < 0 || d > 9) return fail(400, 'invalid Content-Length');
            n = n * 10 + d;
          }
          if (contentLength >= 0 && contentLength !== n) return fail(400, 'conflicting Content-Length headers');
          contentLength = n;
        }
        break;
      case 15:
        if (eqIgnoreCase(buf, ls, colon, H_XFF) && ve > vs2) {
          const v = buf.toString('latin1', vs2, ve);
          xff = xff === null ? v : `${xff},${v}`;
        }
        break;
      case 17:
        if (eqIgnoreCase(buf, ls, colon, H_TRANSFER_ENCODING)) transferEncoding = true;
        break;
      default:
        break;
    }
    ls = lf + 1;
  }
  const headEnd = lf + 1;

  const method = methodString(buf, ms, me);
  if (transferEncoding) {
    return method === 'GET' || method === 'HEAD'
      ? fail(400, 'Transfer-Encoding is not allowed on GET')
      : fail(501, 'Transfer-Encoding is not supported');
  }
  const keepAlive = (connFlags & 1) === 0 && (httpMinor === 1 || (connFlags & 2) !== 0);
  return {
    kind: 'ok',
    method,
    target,
    path,
    query,
    httpMinor,
    keepAlive,
    xForwardedFor: xff,
    host,
    contentLength: contentLength < 0 ? 0 : contentLength,
    headEnd,
  };
}

/**
 * Announce and scrape query strings of the HTTP tracker protocol (BEP 3, BEP 23 compact,
 * BEP 21 `paused`, BEP 48 scrape). Pure and total: any string gives a request or a ProtocolError.
 *
 * The query is taken raw, as the latin1 string the request-head parser returns (one char per
 * byte). Parameter boundaries are found with the native indexOf, names are matched in place,
 * only the values we read are percent-decoded (into a reused scratch buffer), and nothing is
 * allocated per parameter except the fields that end up in the request.
 *
 * Decoding rules:
 *  - `%XX` (either hex case) is one byte; a '%' not followed by two hex digits is 'bad_encoding'
 *    (only for the parameters we read; unknown parameters are skipped undecoded). Literal chars
 *    are taken as bytes, so a client that sends raw bytes in info_hash/peer_id is understood.
 *  - `+` is a space in text parameters (event, key, trackerid, ip, numbers) but a literal '+' byte
 *    in the binary ones (info_hash, peer_id).
 *  - Parameter names are matched literally (not decoded), case-sensitively. Unknown parameters
 *    are ignored. When a parameter is repeated the first occurrence wins; later ones are not
 *    even decoded (scrape's info_hash is the exception: it is a list).
 *  - Errors are reported for the first defective parameter in query order, then for missing
 *    parameters in the order info_hash, peer_id, port.
 *
 * Announce fields, as a demanding tracker reads them:
 *  - info_hash (required): exactly 20 bytes -> 40 lowercase hex. peer_id (required): 20 bytes.
 *  - port (required): 1..65535. Port 0 is rejected: no peer can be reached there.
 *  - uploaded, downloaded, left: decimal integers 0..2^53-1 (no sign); anything else is
 *    'bad_number' ("invalid left", ...). When absent they default to 0, as opentracker does: every
 *    real client sends all three, and the ledger only credits positive deltas, so a missing
 *    `uploaded` can never earn credit. A missing `left` therefore means "seeder"; the swarm layer
 *    can be stricter if it wishes (it sees the same request either way).
 *  - event: started | completed | stopped | paused (BEP 21) | '' | 'empty' ('' and 'empty' are
 *    the regular announce, 'none'); anything else is 'bad_event'.
 *  - compact: absent -> true (BEP 23 clients send compact=1; most trackers default to it);
 *    "0" selects the dictionary model, any other value means compact.
 *  - no_peer_id: true when present with any value other than "0".
 *  - numwant: integer; a negative value (e.g. -1, "default") gives null; absent gives null.
 *  - key, trackerid, ip: text of at most 64 bytes (decoded as latin1, byte-preserving); longer
 *    is 'bad_request'; an empty value is treated as absent (null).
 */
import { protocolError, type AnnounceRequest, type ParseLimits, type ProtocolError, type ScrapeRequest } from '../types.js';
import type { AnnounceEvent, InfoHash } from '../../shared/types.js';

const PCT = 0x25;
const PLUS = 0x2b;
const MAX_TEXT = 64;
/** Longest decimal number accepted, leading zeros included. */
const MAX_DIGITS = 32;

/** hex digit value of a char code, or -1. */
const HEXVAL = new Int8Array(256).fill(-1);
for (let i = 0; i < 10; i++) HEXVAL[0x30 + i] = i;
for (let i = 0; i < 6; i++) {
  HEXVAL[0x41 + i] = 10 + i;
  HEXVAL[0x61 + i] = 10 + i;
}

/** Reused decode buffer. Safe: parsing is synchronous and values never escape without a copy. */
const SCRATCH = Buffer.alloc(MAX_TEXT + 1);

const DECODE_BAD = -1;

/**
 * Percent-decodes q[s, e) into SCRATCH. Returns the decoded length, DECODE_BAD on a bad escape
 * (or a char above 0xff, which a latin1 query cannot hold), or `max + 1` as soon as the value is
 * known to be longer than `max` bytes (the rest is not examined).
 */
function decode(q: string, s: number, e: number, plusIsSpace: boolean, max: number): number {
  let n = 0;
  for (let i = s; i < e; i++) {
    if (n > max) return max + 1;
    let c = q.charCodeAt(i);
    if (c === PCT) {
      if (i + 2 >= e) return DECODE_BAD;
      const hi = HEXVAL[q.charCodeAt(i + 1) & 0xff]!;
      const lo = HEXVAL[q.charCodeAt(i + 2) & 0xff]!;
      if (hi < 0 || lo < 0 || q.charCodeAt(i + 1) > 0xff || q.charCodeAt(i + 2) > 0xff) return DECODE_BAD;
      c = (hi << 4) | lo;
      i += 2;
    } else if (c === PLUS) {
      if (plusIsSpace) c = 0x20;
    } else if (c > 0xff) {
      return DECODE_BAD;
    }
    SCRATCH[n++] = c;
  }
  return n > max ? max + 1 : n;
}

/** Parses SCRATCH[0, n) as a decimal integer 0..2^53-1, or -1. */
function scratchUint(n: number): number {
  if (n === 0 || n > MAX_DIGITS) return -1;
  let v = 0;
  for (let i = 0; i < n; i++) {
    const d = SCRATCH[i]! - 0x30;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  // A true value >= 2^53 rounds to >= 2^53, so this test is exact.
  return v > Number.MAX_SAFE_INTEGER ? -1 : v;
}

function scratchEquals(n: number, s: string): boolean {
  if (n !== s.length) return false;
  for (let i = 0; i < n; i++) if (SCRATCH[i] !== s.charCodeAt(i)) return false;
  return true;
}

// The parameter cursor. Module state rather than a returned object, to allocate nothing per
// parameter; safe because parsing is synchronous. nextParam sets the bounds of the parameter
// starting at `i` and returns where the next one starts (len + 1 after the last).
let curKeyEnd = 0;
let curValueStart = 0;
let curValueEnd = 0;
/** Position of the next '=' at or after the current parameter; -1: none left; -2: search again. */
let eqCache = -2;

function nextParam(q: string, i: number, len: number): number {
  let amp = q.indexOf('&', i);
  if (amp < 0) amp = len;
  // '=' is searched with the native indexOf and remembered until passed, so the scans for '&'
  // and '=' each cover the query once in total, whatever its shape.
  if (eqCache !== -1 && eqCache < i) eqCache = q.indexOf('=', i);
  if (eqCache >= 0 && eqCache < amp) {
    curKeyEnd = eqCache;
    curValueStart = eqCache + 1;
  } else {
    curKeyEnd = amp;
    curValueStart = amp;
  }
  curValueEnd = amp;
  return amp + 1;
}

// Parameter ids (bit positions in the `seen` mask).
const P_NONE = 0;
const P_INFO_HASH = 1;
const P_PEER_ID = 2;
const P_PORT = 3;
const P_UPLOADED = 4;
const P_DOWNLOADED = 5;
const P_LEFT = 6;
const P_EVENT = 7;
const P_COMPACT = 8;
const P_NO_PEER_ID = 9;
const P_NUMWANT = 10;
const P_KEY = 11;
const P_TRACKERID = 12;
const P_IP = 13;

/** Identifies the parameter named q[s, e) without allocating. */
function paramId(q: string, s: number, e: number): number {
  switch (e - s) {
    case 2:
      return q.startsWith('ip', s) ? P_IP : P_NONE;
    case 3:
      return q.startsWith('key', s) ? P_KEY : P_NONE;
    case 4:
      return q.startsWith('port', s) ? P_PORT : q.startsWith('left', s) ? P_LEFT : P_NONE;
    case 5:
      return q.startsWith('event', s) ? P_EVENT : P_NONE;
    case 7:
      return q.startsWith('peer_id', s)
        ? P_PEER_ID
        : q.startsWith('compact', s)
          ? P_COMPACT
          : q.startsWith('numwant', s)
            ? P_NUMWANT
            : P_NONE;
    case 8:
      return q.startsWith('uploaded', s) ? P_UPLOADED : P_NONE;
    case 9:
      return q.startsWith('info_hash', s) ? P_INFO_HASH : q.startsWith('trackerid', s) ? P_TRACKERID : P_NONE;
    case 10:
      return q.startsWith('downloaded', s) ? P_DOWNLOADED : q.startsWith('no_peer_id', s) ? P_NO_PEER_ID : P_NONE;
    default:
      return P_NONE;
  }
}

const NUMBER_NAMES: Record<number, string> = {
  [P_UPLOADED]: 'uploaded',
  [P_DOWNLOADED]: 'downloaded',
  [P_LEFT]: 'left',
};
const TEXT_NAMES: Record<number, string> = {
  [P_KEY]: 'key',
  [P_TRACKERID]: 'trackerid',
  [P_IP]: 'ip',
};

/** Percent-decodes an info_hash value into SCRATCH[0, 20); a ProtocolError when it is not 20 bytes. */
function decodeInfoHash(q: string, s: number, e: number): ProtocolError | null {
  const n = decode(q, s, e, false, 20);
  if (n === DECODE_BAD) return protocolError('bad_encoding', 'invalid percent-encoding in info_hash');
  if (n !== 20) return protocolError('bad_info_hash', 'invalid info_hash');
  return null;
}

/** Decodes an info_hash value to hex; returns a ProtocolError when it is not 20 bytes. */
function infoHashValue(q: string, s: number, e: number): InfoHash | ProtocolError {
  return decodeInfoHash(q, s, e) ?? (SCRATCH.toString('hex', 0, 20) as InfoHash);
}

/**
 * Parses an announce query (the raw latin1 text after '?'). See the module comment for the rules.
 * `_limits` is accepted for symmetry with parseScrapeQuery; announce has no list to cap.
 */
export function parseAnnounceQuery(query: string, _limits?: ParseLimits): AnnounceRequest | ProtocolError {
  let seen = 0;
  let infoHash: Uint8Array | null = null;
  let peerId: Buffer | null = null;
  let port = -1;
  let uploaded = 0;
  let downloaded = 0;
  let left = 0;
  let event: AnnounceEvent = 'none';
  let compact = true;
  let noPeerId = false;
  let numwant: number | null = null;
  let key: string | null = null;
  let trackerId: string | null = null;
  let ip: string | null = null;

  const len = query.length;
  eqCache = -2;
  let i = 0;
  while (i <= len) {
    const ks = i;
    i = nextParam(query, i, len);
    const ke = curKeyEnd;
    const vs = curValueStart;
    const ve = curValueEnd;

    const id = paramId(query, ks, ke);
    if (id === P_NONE || (seen & (1 << id)) !== 0) continue;
    seen |= 1 << id;

    switch (id) {
      case P_INFO_HASH: {
        const err = decodeInfoHash(query, vs, ve);
        if (err !== null) return err;
        // The bytes, as the pipeline keys on them (no hex string per announce).
        const h = new Uint8Array(20);
        for (let j = 0; j < 20; j++) h[j] = SCRATCH[j]!;
        infoHash = h;
        break;
      }
      case P_PEER_ID: {
        const n = decode(query, vs, ve, false, 20);
        if (n === DECODE_BAD) return protocolError('bad_encoding', 'invalid percent-encoding in peer_id');
        if (n !== 20) return protocolError('bad_peer_id', 'invalid peer_id');
        // A standalone allocation (not a pool slice): the peer store may keep it for a long time.
        peerId = Buffer.alloc(20);
        SCRATCH.copy(peerId, 0, 0, 20);
        break;
      }
      case P_PORT: {
        const n = decode(query, vs, ve, true, MAX_DIGITS);
        if (n === DECODE_BAD) return protocolError('bad_encoding', 'invalid percent-encoding in port');
        const v = scratchUint(n);
        if (v < 1 || v > 65535) return protocolError('bad_port', 'invalid port');
        port = v;
        break;
      }
      case P_UPLOADED:
      case P_DOWNLOADED:
      case P_LEFT: {
        const name = NUMBER_NAMES[id]!;
        const n = decode(query, vs, ve, true, MAX_DIGITS);
        if (n === DECODE_BAD) return protocolError('bad_encoding', `invalid percent-encoding in ${name}`);
        const v = scratchUint(n);
        if (v < 0) return protocolError('bad_number', `invalid ${name}`);
        if (id === P_UPLOADED) uploaded = v;
        else if (id === P_DOWNLOADED) downloaded = v;
        else left = v;
        break;
      }
      case P_EVENT: {
        const n = decode(query, vs, ve, true, 9);
        if (n === DECODE_BAD) return protocolError('bad_encoding', 'invalid percent-encoding in event');
        if (n === 0 || scratchEquals(n, 'empty')) event = 'none';
        else if (scratchEquals(n, 'started')) event = 'started';
        else if (scratchEquals(n, 'completed')) event = 'completed';
        else if (scratchEquals(n, 'stopped')) event = 'stopped';
        else if (scratchEquals(n, 'paused')) event = 'paused';
        else return protocolError('bad_event', 'invalid event');
        break;
      }
      case P_COMPACT: {
        const n = decode(query, vs, ve, true, 1);
        if (n === DECODE_BAD) return protocolError('bad_encoding', 'invalid percent-encoding in compact');
        compact = !(n === 1 && SCRATCH[0] === 0x30);
        break;
      }
      case P_NO_PEER_ID: {
        const n = decode(query, vs, ve, true, 1);
        if (n === DECODE_BAD) return protocolError('bad_encoding', 'invalid percent-encoding in no_peer_id');
        noPeerId = !(n === 1 && SCRATCH[0] === 0x30);
        break;
      }
      case P_NUMWANT: {
        const neg = vs < ve && query.charCodeAt(vs) === 0x2d; // '-'
        const n = decode(query, neg ? vs + 1 : vs, ve, true, MAX_DIGITS);
        if (n === DECODE_BAD) return protocolError('bad_encoding', 'invalid percent-encoding in numwant');
        const v = scratchUint(n);
        if (v < 0) {
          // "-" followed by digits too large to represent is still a negative number.
          if (neg && n > MAX_DIGITS) {
            numwant = null;
            break;
          }
          return protocolError('bad_number', 'invalid numwant');
        }
        numwant = neg ? null : v;
        break;
      }
      case P_KEY:
      case P_TRACKERID:
      case P_IP: {
        const name = TEXT_NAMES[id]!;
        const n = decode(query, vs, ve, true, MAX_TEXT);
        if (n === DECODE_BAD) return protocolError('bad_encoding', `invalid percent-encoding in ${name}`);
        if (n > MAX_TEXT) return protocolError('bad_request', `invalid ${name}`);
        const v = n === 0 ? null : SCRATCH.toString('latin1', 0, n);
        if (id === P_KEY) key = v;
        else if (id === P_TRACKERID) trackerId = v;
        else ip = v;
        break;
      }
      default:
        break;
    }
  }

  if (infoHash === null) return protocolError('missing_info_hash', 'missing info_hash');
  if (peerId === null) return protocolError('missing_peer_id', 'missing peer_id');
  if (port < 0) return protocolError('missing_port', 'missing port');
  return {
    kind: 'announce',
    infoHash,
    peerId,
    port,
    uploaded,
    downloaded,
    left,
    event,
    compact,
    noPeerId,
    numwant,
    key,
    trackerId,
    ip,
  };
}

/**
 * Parses a scrape query (BEP 48): every `info_hash` parameter, distinct, in request order, at most
 * `limits.maxScrapeHashes` of them (further ones are ignored, unexamined). No info_hash at all
 * means a full scrape (empty list). A malformed info_hash among those kept fails the request.
 * Other parameters are ignored.
 */
export function parseScrapeQuery(query: string, limits: ParseLimits): ScrapeRequest | ProtocolError {
  const max = limits.maxScrapeHashes;
  const infoHashes: InfoHash[] = [];
  let seen: Set<string> | null = null;
  let skipped = false;
  const len = query.length;
  eqCache = -2;
  let i = 0;
  while (i <= len) {
    const ks = i;
    i = nextParam(query, i, len);
    const ke = curKeyEnd;
    const vs = curValueStart;
    const ve = curValueEnd;
    if (ke - ks !== 9 || !query.startsWith('info_hash', ks)) continue;
    if (infoHashes.length >= max) {
      skipped = true;
      continue;
    }
    const h = infoHashValue(query, vs, ve);
    if (typeof h !== 'string') return h;
    seen ??= new Set();
    if (seen.has(h)) continue;
    seen.add(h);
    infoHashes.push(h);
  }
  // With a limit below 1, hashes were asked for but none kept: never turn that into a full scrape.
  if (skipped && infoHashes.length === 0) {
    return protocolError('too_many_info_hashes', 'too many info_hash parameters');
  }
  return { kind: 'scrape', infoHashes };
}

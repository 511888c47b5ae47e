/**
 * Wire-level request types shared by the HTTP (BEP 3) and UDP (BEP 15) codecs. Parsers are pure
 * and total: arbitrary input yields a value or a ProtocolError, never an exception.
 */
import type { AnnounceEvent, InfoHash } from '../shared/types.js';

export interface AnnounceRequest {
  kind: 'announce';
  /**
   * The parsers give the 20 bytes (a copy owned by the request), kept as bytes from the wire to
   * the peer store: the access cache and the store key on them without building a hex string
   * (src/swarm/info-hash-index.ts). 40 hex characters are accepted as well (tests, tools).
   */
  infoHash: Uint8Array | InfoHash;
  /** 20 bytes, binary. */
  peerId: Uint8Array;
  port: number;
  uploaded: number;
  downloaded: number;
  left: number;
  event: AnnounceEvent;
  /** HTTP compact=1 (BEP 23); always true over UDP. */
  compact: boolean;
  noPeerId: boolean;
  /** null when the client did not say (or sent a negative number, as UDP's -1). Not yet clamped. */
  numwant: number | null;
  /** The client's `key`: text (HTTP) or its 32-bit value (UDP); null if absent. Not used by the tracker. */
  key: string | number | null;
  trackerId: string | null;
  /** The `ip` the client claims (HTTP text, UDP dotted quad); null if absent or 0. Used only if enabled. */
  ip: string | null;
}

export interface ScrapeRequest {
  kind: 'scrape';
  /**
   * Distinct info hashes in request order; empty means a full scrape was asked for. 40 hex
   * characters (HTTP) or 20 bytes (UDP: no hex string per hash).
   */
  infoHashes: Array<Uint8Array | InfoHash>;
}

/**
 * A request the client can be told about (bencoded `failure reason` over HTTP; an error packet
 * over UDP once the connection id checks out). `message` is what the client sees.
 */
export interface ProtocolError {
  kind: 'error';
  /** Stable machine code, used as a metrics label. */
  code: ProtocolErrorCode;
  message: string;
}

export type ProtocolErrorCode =
  | 'missing_info_hash'
  | 'bad_info_hash'
  | 'missing_peer_id'
  | 'bad_peer_id'
  | 'missing_port'
  | 'bad_port'
  | 'bad_number'
  | 'bad_event'
  | 'bad_encoding'
  | 'too_many_info_hashes'
  | 'bad_request';

export function protocolError(code: ProtocolErrorCode, message: string): ProtocolError {
  return { kind: 'error', code, message };
}

export interface ParseLimits {
  /** Most info hashes accepted in one scrape (extra ones are ignored). */
  maxScrapeHashes: number;
}

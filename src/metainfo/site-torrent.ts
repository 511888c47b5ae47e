/**
 * The two rewrites a validated torrent goes through on the site:
 *
 *  - prepareForSite: once, at upload. The info dictionary gets `private` = 1 and the site's
 *    `source` (so the torrent has its own info hashes and swarm), every other info key keeping its
 *    exact value bytes; at the top level only `info`, `creation date`, `created by` and (v2 and
 *    hybrid) `piece layers` are kept: no announce, announce-list, url-list or comment from the
 *    uploader. The info hashes are recomputed over the new info bytes.
 *
 *  - personaliseTorrent: at every download. The stored file gets the downloader's announce URL(s),
 *    and optionally a comment and a creator. The `info` value is copied byte for byte from the
 *    stored file, never re-encoded, so the info hash cannot change.
 *
 * Both write dictionaries with their keys sorted as raw byte strings, as bencoding requires.
 */
import { createHash } from 'node:crypto';
import { bdecode, bencode, findDictValueSpan } from '../protocol/bencode.js';
import type { ParsedTorrent } from './torrent-file.js';

export interface SiteTorrent {
  /** The .torrent file as the site stores it. */
  metainfo: Buffer;
  infoHashV1: string | null;
  infoHashV2: string | null;
}

export interface PersonaliseOptions {
  /** Always set (replaces any stored announce). */
  announce: string;
  /** BEP 12 tiers. Set when given and non-empty; otherwise any stored announce-list is removed. */
  announceList?: string[][];
  /** Set when given; otherwise the stored value (if any) is kept. */
  comment?: string;
  /** Set when given; otherwise the stored value (if any) is kept. */
  createdBy?: string;
}

function toBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * The entries of a bencoded dict as latin1 key -> exact bytes of the value. Throws a TypeError when
 * the input is not a dict (callers pass torrents the parser already accepted, or stored ones).
 */
function rawEntries(bytes: Uint8Array, what: string): Map<string, Buffer> {
  const buf = toBuffer(bytes);
  const decoded = bdecode(buf);
  if (!decoded.ok || !(decoded.value instanceof Map)) throw new TypeError(`${what} is not a bencoded dictionary`);
  const out = new Map<string, Buffer>();
  for (const key of decoded.value.keys()) {
    const span = findDictValueSpan(buf, Buffer.from(key, 'latin1'));
    if (span === null) throw new TypeError(`${what}: cannot find the value of key ${JSON.stringify(key)}`);
    out.set(key, buf.subarray(span.start, span.end));
  }
  return out;
}

/** Writes a dict from latin1 keys and already-encoded values, keys sorted as raw byte strings. */
function encodeRawDict(entries: ReadonlyMap<string, Uint8Array>): Buffer {
  const keys = [...entries.keys()].map((k) => Buffer.from(k, 'latin1')).sort(Buffer.compare);
  const parts: Uint8Array[] = [Buffer.from('d')];
  for (const k of keys) {
    parts.push(Buffer.from(`${k.length}:`, 'latin1'), k, entries.get(k.toString('latin1'))!);
  }
  parts.push(Buffer.from('e'));
  return Buffer.concat(parts);
}

function sha1Hex(b: Uint8Array): string {
  return createHash('sha1').update(b).digest('hex');
}

function sha256Hex(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

/** The torrent as the site stores it (see the module comment). */
export function prepareForSite(parsed: ParsedTorrent, opts: { source: string }): SiteTorrent {
  const info = rawEntries(parsed.infoBytes, 'the info dictionary');
  info.set('private', bencode(1));
  info.set('source', bencode(opts.source));
  const infoBytes = encodeRawDict(info);

  const top = new Map<string, Uint8Array>([['info', infoBytes]]);
  if (parsed.creationDate !== null) top.set('creation date', bencode(parsed.creationDate));
  if (parsed.createdBy !== null) top.set('created by', bencode(parsed.createdBy));
  // Only v2 needs (and the parser only checks) piece layers.
  if (parsed.version !== 'v1' && parsed.pieceLayers !== null) top.set('piece layers', parsed.pieceLayers);

  return {
    metainfo: encodeRawDict(top),
    infoHashV1: parsed.version === 'v2' ? null : sha1Hex(infoBytes),
    infoHashV2: parsed.version === 'v1' ? null : sha256Hex(infoBytes),
  };
}

/**
 * A downloader's copy of a stored torrent (see the module comment). Throws a TypeError when
 * `stored` is not a bencoded dictionary with an `info` key.
 */
export function personaliseTorrent(stored: Uint8Array, opts: PersonaliseOptions): Buffer {
  const entries = rawEntries(stored, 'the stored torrent');
  if (!entries.has('info')) throw new TypeError('the stored torrent has no info dictionary');
  entries.set('announce', bencode(opts.announce));
  const tiers = (opts.announceList ?? []).filter((tier) => tier.length > 0);
  if (tiers.length > 0) entries.set('announce-list', bencode(tiers));
  else entries.delete('announce-list');
  if (opts.comment !== undefined) entries.set('comment', bencode(opts.comment));
  if (opts.createdBy !== undefined) entries.set('created by', bencode(opts.createdBy));
  return encodeRawDict(entries);
}

/**
 * Info hashes of a .torrent file, computed over the exact bytes of its `info` dictionary:
 * v1 = SHA-1 (BEP 3), v2 = SHA-256 (BEP 52, present when `meta version` is 2). A hybrid torrent
 * has both. The full validation of uploads (paths, sizes, canonical form) lives with the upload
 * service (#3); this module only needs a well-formed `info` dictionary.
 */
import { createHash } from 'node:crypto';
import { bdecode, findDictValueSpan, type BDict, type BValue } from '../protocol/bencode.js';

export type InfoHashes =
  | { ok: true; v1: string | null; v2: string | null; name: string; size: number }
  | { ok: false; error: string };

function get(d: BDict, k: string): BValue | undefined {
  return d.get(k);
}

export function infoHashesOf(torrent: Uint8Array): InfoHashes {
  const top = bdecode(torrent);
  if (!top.ok) return { ok: false, error: `not a valid bencoded file (${top.error})` };
  if (!(top.value instanceof Map)) return { ok: false, error: 'not a .torrent file: the top level is not a dictionary' };
  const span = findDictValueSpan(torrent, 'info');
  const info = get(top.value, 'info');
  if (span === null || !(info instanceof Map)) return { ok: false, error: 'no info dictionary' };
  const bytes = torrent.subarray(span.start, span.end);
  const metaVersion = get(info, 'meta version');
  const hasV2 = metaVersion === 2 && get(info, 'file tree') instanceof Map;
  const hasV1 = get(info, 'pieces') instanceof Buffer;
  if (!hasV1 && !hasV2) return { ok: false, error: 'info dictionary has neither v1 pieces nor a v2 file tree' };
  const nameV = get(info, 'name');
  const name = nameV instanceof Buffer ? nameV.toString('utf8') : '';
  let size = 0;
  const length = get(info, 'length');
  const files = get(info, 'files');
  if (typeof length === 'number') size = length;
  else if (Array.isArray(files)) {
    for (const f of files) {
      const l = f instanceof Map ? f.get('length') : undefined;
      if (typeof l === 'number') size += l;
    }
  }
  return {
    ok: true,
    v1: hasV1 ? createHash('sha1').update(bytes).digest('hex') : null,
    v2: hasV2 ? createHash('sha256').update(bytes).digest('hex') : null,
    name,
    size,
  };
}

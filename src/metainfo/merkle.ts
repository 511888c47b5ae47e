/**
 * BEP 52 merkle trees, as far as checking a torrent's `piece layers` needs them.
 *
 * A v2 file's `pieces root` is the root of a binary SHA-256 tree whose leaves are the hashes of the
 * file's 16 KiB blocks, the leaf count padded to a power of two with all-zero hashes. Its piece
 * layer is the row of that tree at the height of one piece (piece length / 16 KiB leaves under each
 * node). The root is therefore recomputed from the layer by padding the layer to a power of two with
 * the root of a piece-sized subtree of zero leaves and hashing upwards.
 */
import { createHash } from 'node:crypto';

export const BLOCK_SIZE = 16384;
const HASH_LEN = 32;

function sha256Pair(a: Uint8Array, b: Uint8Array): Buffer {
  return createHash('sha256').update(a).update(b).digest();
}

/** Root of a subtree of `leaves` all-zero leaf hashes (`leaves` a power of two). */
export function zeroSubtreeRoot(leaves: number): Buffer {
  let h: Buffer = Buffer.alloc(HASH_LEN);
  for (let n = leaves; n > 1; n /= 2) h = sha256Pair(h, h);
  return h;
}

/**
 * Recomputes the pieces root from a piece layer (a concatenation of 32-byte hashes). `pieceLength`
 * must be a power of two of at least BLOCK_SIZE and the layer a non-empty multiple of 32 bytes.
 */
export function rootFromPieceLayer(layer: Uint8Array, pieceLength: number): Buffer {
  const count = layer.length / HASH_LEN;
  let width = 1;
  while (width < count) width *= 2;
  const pad = zeroSubtreeRoot(pieceLength / BLOCK_SIZE);
  let row: Buffer[] = [];
  for (let i = 0; i < width; i++) {
    row.push(i < count ? Buffer.from(layer.subarray(i * HASH_LEN, (i + 1) * HASH_LEN)) : pad);
  }
  // Pairs made only of padding hash to the same value at each level: compute it once.
  let padAtLevel = pad;
  while (row.length > 1) {
    const next: Buffer[] = [];
    const nextPad = sha256Pair(padAtLevel, padAtLevel);
    for (let i = 0; i < row.length; i += 2) {
      const l = row[i]!;
      const r = row[i + 1]!;
      next.push(l === padAtLevel && r === padAtLevel ? nextPad : sha256Pair(l, r));
    }
    row = next;
    padAtLevel = nextPad;
  }
  return row[0]!;
}

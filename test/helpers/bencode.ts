/**
 * A tiny, strict bencode decoder/encoder for tests (independent of Essaim's own codec, so the tests
 * do not trust the code they check). Strings decode to Buffers, integers to numbers (bigint when
 * beyond 2^53), dictionary keys to latin1 strings.
 */
import { createHash } from 'node:crypto';

export type BValue = Buffer | number | bigint | BValue[] | BDict;
export interface BDict {
  [key: string]: BValue;
}

class Decoder {
  pos = 0;
  /** Byte span of the top-level dictionary's `info` value, if seen. */
  infoSpan: [number, number] | null = null;
  constructor(private readonly b: Buffer) {}

  fail(msg: string): never {
    throw new Error(`bdecode: ${msg} at byte ${this.pos}`);
  }

  value(depth: number): BValue {
    if (depth > 64) this.fail('nesting too deep');
    const c = this.b[this.pos];
    if (c === undefined) this.fail('unexpected end');
    if (c === 0x69 /* i */) return this.int();
    if (c === 0x6c /* l */) {
      this.pos++;
      const out: BValue[] = [];
      while (this.b[this.pos] !== 0x65 /* e */) {
        if (this.pos >= this.b.length) this.fail('unterminated list');
        out.push(this.value(depth + 1));
      }
      this.pos++;
      return out;
    }
    if (c === 0x64 /* d */) {
      this.pos++;
      const out: BDict = Object.create(null) as BDict;
      while (this.b[this.pos] !== 0x65) {
        if (this.pos >= this.b.length) this.fail('unterminated dictionary');
        const key = this.str().toString('latin1');
        const start = this.pos;
        out[key] = this.value(depth + 1);
        if (depth === 0 && key === 'info') this.infoSpan = [start, this.pos];
      }
      this.pos++;
      return out;
    }
    if (c >= 0x30 && c <= 0x39) return this.str();
    this.fail(`unexpected byte 0x${c.toString(16)}`);
  }

  int(): number | bigint {
    const end = this.b.indexOf(0x65, this.pos);
    if (end < 0) this.fail('unterminated integer');
    const text = this.b.toString('latin1', this.pos + 1, end);
    if (!/^(0|-?[1-9][0-9]*)$/.test(text)) this.fail(`bad integer ${JSON.stringify(text)}`);
    this.pos = end + 1;
    const big = BigInt(text);
    return big <= BigInt(Number.MAX_SAFE_INTEGER) && big >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(big) : big;
  }

  str(): Buffer {
    const colon = this.b.indexOf(0x3a, this.pos);
    if (colon < 0) this.fail('string without colon');
    const text = this.b.toString('latin1', this.pos, colon);
    if (!/^(0|[1-9][0-9]*)$/.test(text)) this.fail(`bad string length ${JSON.stringify(text)}`);
    const len = Number(text);
    const start = colon + 1;
    if (start + len > this.b.length) this.fail('string past the end');
    this.pos = start + len;
    return this.b.subarray(start, start + len);
  }
}

/** Decodes exactly one bencoded value that spans the whole buffer. */
export function bdecode(buf: Buffer | Uint8Array): BValue {
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf);
  const d = new Decoder(b);
  const v = d.value(0);
  if (d.pos !== b.length) throw new Error(`bdecode: ${b.length - d.pos} trailing bytes`);
  return v;
}

export function isDict(v: BValue | undefined): v is BDict {
  return typeof v === 'object' && v !== null && !Buffer.isBuffer(v) && !Array.isArray(v);
}

/** Decodes a bencoded dictionary (throws on anything else). */
export function bdecodeDict(buf: Buffer | Uint8Array): BDict {
  const v = bdecode(buf);
  if (!isDict(v)) throw new Error('bdecode: top-level value is not a dictionary');
  return v;
}

/** A dictionary's byte-string value as UTF-8 text, or undefined. */
export function dictString(d: BDict, key: string): string | undefined {
  const v = d[key];
  return Buffer.isBuffer(v) ? v.toString('utf8') : undefined;
}

/** A dictionary's integer value as a number, or undefined. */
export function dictInt(d: BDict, key: string): number | undefined {
  const v = d[key];
  return typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : undefined;
}

export function bencode(v: BValue | string): Buffer {
  const parts: Buffer[] = [];
  const enc = (x: BValue | string): void => {
    if (typeof x === 'string') x = Buffer.from(x, 'utf8');
    if (Buffer.isBuffer(x)) {
      parts.push(Buffer.from(`${x.length}:`, 'latin1'), x);
    } else if (typeof x === 'number' || typeof x === 'bigint') {
      if (typeof x === 'number' && !Number.isInteger(x)) throw new Error(`bencode: ${x} is not an integer`);
      parts.push(Buffer.from(`i${x.toString()}e`, 'latin1'));
    } else if (Array.isArray(x)) {
      parts.push(Buffer.from('l'));
      x.forEach(enc);
      parts.push(Buffer.from('e'));
    } else {
      parts.push(Buffer.from('d'));
      for (const k of Object.keys(x).sort((a, b) => Buffer.compare(Buffer.from(a, 'latin1'), Buffer.from(b, 'latin1')))) {
        const kb = Buffer.from(k, 'latin1');
        parts.push(Buffer.from(`${kb.length}:`, 'latin1'), kb);
        enc(x[k] as BValue);
      }
      parts.push(Buffer.from('e'));
    }
  };
  enc(v);
  return Buffer.concat(parts);
}

/** SHA-1 (40 lowercase hex) of the exact bytes of a .torrent's `info` dictionary (BEP 3). */
export function infoHashOf(torrent: Buffer): string {
  const d = new Decoder(torrent);
  const top = d.value(0);
  if (!isDict(top) || d.infoSpan === null) throw new Error('not a .torrent: no info dictionary');
  return createHash('sha1').update(torrent.subarray(d.infoSpan[0], d.infoSpan[1])).digest('hex');
}

/**
 * Bencoding (BEP 3): the general-purpose encoder and decoder, used for .torrent files and for
 * anything off the hot path. Tracker responses are written by the hand-rolled encoders in
 * http/response.ts instead.
 *
 * Decoded representation (the decoder never throws; see bdecode):
 *   - integer    -> number when it is a safe integer, else bigint
 *   - byte string -> Buffer. NOTE: a zero-copy view (subarray) into the input buffer, not a copy;
 *                    copy it if the input buffer is going to be reused.
 *   - list       -> BValue[]
 *   - dict       -> Map<string, BValue>. Keys are "binary strings": the key's raw bytes decoded as
 *                   latin1, one char per byte, so any key (including non-UTF-8 file names in a
 *                   BEP 52 file tree) survives a decode/encode round trip unchanged. For ASCII keys
 *                   ("info", "announce", ...) this is simply the key. Use Buffer.from(k, 'latin1')
 *                   to get a key's bytes. Insertion order is the order found in the input.
 *
 * Encoding (bencode) accepts the decoded representation plus convenient authoring forms:
 *   - number (must be an integer), bigint
 *   - string: encoded as UTF-8
 *   - Buffer / Uint8Array: raw bytes
 *   - arrays: lists
 *   - Map: keys are byte strings: a Uint8Array, or a string whose char codes are bytes (latin1,
 *          as produced by the decoder; a char above 0xFF is a TypeError)
 *   - any other object: a dict of its own enumerable keys, which are encoded as UTF-8 text
 *   - in a Map or object, an `undefined` value means "key absent" and is skipped
 * Dict keys are written sorted as raw byte strings, as BEP 3 requires. The encoder throws a
 * TypeError for values it cannot represent (non-integer numbers, booleans, null, cycles): that is
 * a programming error, not bad input.
 */

export type BValue = number | bigint | Buffer | BValue[] | BDict;
/** A decoded dict: latin1 "binary string" keys, see the module comment. */
export type BDict = Map<string, BValue>;

export type BEncodable =
  | number
  | bigint
  | string
  | Uint8Array
  | readonly BEncodable[]
  | ReadonlyMap<string | Uint8Array, BEncodable | undefined>
  | { readonly [key: string]: BEncodable | undefined };

export interface BDecodeOptions {
  /**
   * Reject anything that is not the canonical encoding: unsorted or duplicate dict keys, integers
   * with leading zeros or "-0", string lengths with leading zeros, and trailing data after the
   * top-level value. Use it for .torrent uploads, where the info hash is computed over the bytes.
   */
  strict?: boolean;
  /** Deepest nesting of lists/dicts accepted (the top-level container is depth 1). Default 128. */
  maxDepth?: number;
  /** Longest integer accepted, in digits (sign excluded). Default 128. */
  maxIntegerDigits?: number;
}

export type BDecodeResult =
  | {
      ok: true;
      value: BValue;
      /** Offset just past the top-level value (== input length in strict mode). */
      end: number;
    }
  | {
      ok: false;
      /** Names the defect and its byte offset, e.g. "unsorted dict key at offset 42". */
      error: string;
      offset: number;
    };

const DEFAULT_MAX_DEPTH = 128;
const DEFAULT_MAX_INT_DIGITS = 128;

const CH_0 = 0x30;
const CH_9 = 0x39;
const CH_COLON = 0x3a;
const CH_MINUS = 0x2d;
const CH_D = 0x64;
const CH_E = 0x65;
const CH_I = 0x69;
const CH_L = 0x6c;

function asBuffer(buf: Uint8Array): Buffer {
  return Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
}

/**
 * Recursive-descent decoder. Errors are recorded in `err` and signalled by returning undefined
 * (decoding) or -1 (skipping), so that nothing is thrown on any input.
 */
class Decoder {
  pos = 0;
  err: string | null = null;
  errAt = 0;

  constructor(
    readonly buf: Buffer,
    readonly end: number,
    readonly strict: boolean,
    readonly maxDepth: number,
    readonly maxIntDigits: number,
  ) {}

  fail(what: string, at: number): undefined {
    if (this.err === null) {
      this.err = `${what} at offset ${at}`;
      this.errAt = at;
    }
    return undefined;
  }

  value(depth: number): BValue | undefined {
    const { buf, pos } = this;
    if (pos >= this.end) return this.fail('unexpected end of input', pos);
    const c = buf[pos]!;
    if (c >= CH_0 && c <= CH_9) {
      const s = this.stringSpan();
      return s < 0 ? undefined : buf.subarray(s, this.pos);
    }
    if (c === CH_I) return this.integer();
    if (c === CH_L || c === CH_D) {
      if (depth >= this.maxDepth) return this.fail('nesting too deep', pos);
      return c === CH_L ? this.list(depth + 1) : this.dict(depth + 1);
    }
    return this.fail(`unexpected byte 0x${c.toString(16).padStart(2, '0')}`, pos);
  }

  /**
   * Parses `<len>:<bytes>` at pos; returns the start offset of the bytes (pos is left at their
   * end), or -1.
   */
  stringSpan(): number {
    const { buf, end } = this;
    const start = this.pos;
    let p = start;
    let len = 0;
    while (p < end) {
      const c = buf[p]!;
      if (c < CH_0 || c > CH_9) break;
      if (p - start >= 15) {
        this.fail('string length too large', start);
        return -1;
      }
      len = len * 10 + (c - CH_0);
      p++;
    }
    if (p >= end) {
      this.fail('unexpected end of input', p);
      return -1;
    }
    if (buf[p] !== CH_COLON) {
      this.fail('invalid string length', start);
      return -1;
    }
    if (this.strict && buf[start] === CH_0 && p - start > 1) {
      this.fail('string length with leading zero', start);
      return -1;
    }
    p++; // ':'
    if (len > end - p) {
      this.fail('string length exceeds input', start);
      return -1;
    }
    this.pos = p + len;
    return p;
  }

  integer(): number | bigint | undefined {
    const { buf, end } = this;
    const start = this.pos;
    let p = start + 1; // 'i'
    let neg = false;
    if (p < end && buf[p] === CH_MINUS) {
      neg = true;
      p++;
    }
    const digitsStart = p;
    let n = 0;
    while (p < end) {
      const c = buf[p]!;
      if (c < CH_0 || c > CH_9) break;
      n = n * 10 + (c - CH_0);
      p++;
    }
    const nDigits = p - digitsStart;
    if (p >= end) return this.fail('unexpected end of input', p);
    if (buf[p] !== CH_E || nDigits === 0) return this.fail('invalid integer', start);
    if (nDigits > this.maxIntDigits) return this.fail('integer too long', start);
    if (this.strict) {
      if (buf[digitsStart] === CH_0 && nDigits > 1) return this.fail('integer with leading zero', start);
      if (neg && buf[digitsStart] === CH_0) return this.fail('negative zero', start);
    }
    this.pos = p + 1;
    if (nDigits <= 15) return neg ? (n === 0 ? 0 : -n) : n;
    const big = BigInt(buf.toString('latin1', start + 1, p));
    if (big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(big);
    return big;
  }

  list(depth: number): BValue[] | undefined {
    const { buf, end } = this;
    this.pos++; // 'l'
    const out: BValue[] = [];
    for (;;) {
      if (this.pos >= end) return this.fail('unexpected end of input', this.pos);
      if (buf[this.pos] === CH_E) {
        this.pos++;
        return out;
      }
      const v = this.value(depth);
      if (v === undefined) return undefined;
      out.push(v);
    }
  }

  /**
   * Parses a dict key at pos, checking order against the previous key in strict mode. Returns the
   * key's start offset (its end is this.pos), or -1.
   */
  key(prevStart: number, prevEnd: number): number {
    const { buf } = this;
    if (this.pos >= this.end) {
      this.fail('unexpected end of input', this.pos);
      return -1;
    }
    const c = buf[this.pos]!;
    if (c < CH_0 || c > CH_9) {
      this.fail('dict key is not a string', this.pos);
      return -1;
    }
    const keyAt = this.pos;
    const ks = this.stringSpan();
    if (ks < 0) return -1;
    if (this.strict && prevStart >= 0) {
      // Compares the previous key (source) with this one (target): must be strictly smaller.
      const cmp = buf.compare(buf, ks, this.pos, prevStart, prevEnd);
      if (cmp === 0) {
        this.fail('duplicate dict key', keyAt);
        return -1;
      }
      if (cmp > 0) {
        this.fail('unsorted dict key', keyAt);
        return -1;
      }
    }
    return ks;
  }

  dict(depth: number): BDict | undefined {
    const { buf, end } = this;
    this.pos++; // 'd'
    const out: BDict = new Map();
    let prevStart = -1;
    let prevEnd = -1;
    for (;;) {
      if (this.pos >= end) return this.fail('unexpected end of input', this.pos);
      if (buf[this.pos] === CH_E) {
        this.pos++;
        return out;
      }
      const ks = this.key(prevStart, prevEnd);
      if (ks < 0) return undefined;
      const ke = this.pos;
      const v = this.value(depth);
      if (v === undefined) return undefined;
      const k = buf.toString('latin1', ks, ke);
      // Non-strict mode tolerates duplicate keys; the first occurrence wins (as in
      // findDictValueSpan, so a hash computed over a span matches the decoded value).
      if (!out.has(k)) out.set(k, v);
      prevStart = ks;
      prevEnd = ke;
    }
  }

  /** Validates and skips one value without building it; returns false on error. */
  skip(depth: number): boolean {
    const { buf, end } = this;
    if (this.pos >= end) return this.fail('unexpected end of input', this.pos) ?? false;
    const c = buf[this.pos]!;
    if (c >= CH_0 && c <= CH_9) return this.stringSpan() >= 0;
    if (c === CH_I) return this.integer() !== undefined;
    if (c !== CH_L && c !== CH_D) {
      return this.fail(`unexpected byte 0x${c.toString(16).padStart(2, '0')}`, this.pos) ?? false;
    }
    if (depth >= this.maxDepth) return this.fail('nesting too deep', this.pos) ?? false;
    this.pos++;
    let prevStart = -1;
    let prevEnd = -1;
    for (;;) {
      if (this.pos >= end) return this.fail('unexpected end of input', this.pos) ?? false;
      if (buf[this.pos] === CH_E) {
        this.pos++;
        return true;
      }
      if (c === CH_D) {
        const ks = this.key(prevStart, prevEnd);
        if (ks < 0) return false;
        prevStart = ks;
        prevEnd = this.pos;
      }
      if (!this.skip(depth + 1)) return false;
    }
  }
}

function makeDecoder(input: Uint8Array, opts: BDecodeOptions | undefined): Decoder {
  const buf = asBuffer(input);
  return new Decoder(
    buf,
    buf.length,
    opts?.strict === true,
    opts?.maxDepth ?? DEFAULT_MAX_DEPTH,
    opts?.maxIntegerDigits ?? DEFAULT_MAX_INT_DIGITS,
  );
}

/** Decodes one bencoded value. Total: never throws, whatever the input. */
export function bdecode(input: Uint8Array, opts?: BDecodeOptions): BDecodeResult {
  const d = makeDecoder(input, opts);
  const value = d.value(0);
  if (value === undefined) return { ok: false, error: d.err ?? 'invalid input', offset: d.errAt };
  if (d.strict && d.pos !== d.end) {
    return { ok: false, error: `trailing data at offset ${d.pos}`, offset: d.pos };
  }
  return { ok: true, value, end: d.pos };
}

/**
 * Finds the exact byte span [start, end) of the value stored under `key` in the top-level dict of
 * `input` (e.g. `info`, whose SHA-1 over exactly these bytes is the v1 info hash). The walk
 * validates everything up to and including that value (honouring `strict`), without building any
 * value. Returns null when the input is not a dict, is malformed before the value's end, or has no
 * such key. With duplicate keys (non-strict) the first occurrence is returned, matching bdecode.
 */
export function findDictValueSpan(
  input: Uint8Array,
  key: string | Uint8Array,
  opts?: BDecodeOptions,
): { start: number; end: number } | null {
  const d = makeDecoder(input, opts);
  const { buf, end } = d;
  const want = typeof key === 'string' ? Buffer.from(key, 'utf8') : asBuffer(key);
  if (end === 0 || buf[0] !== CH_D || d.maxDepth < 1) return null;
  d.pos = 1;
  let prevStart = -1;
  let prevEnd = -1;
  while (d.pos < end && buf[d.pos] !== CH_E) {
    const ks = d.key(prevStart, prevEnd);
    if (ks < 0) return null;
    const ke = d.pos;
    const vs = d.pos;
    if (!d.skip(1)) return null;
    if (ke - ks === want.length && buf.compare(want, 0, want.length, ks, ke) === 0) {
      return { start: vs, end: d.pos };
    }
    prevStart = ks;
    prevEnd = ke;
  }
  return null;
}

/* ----------------------------------------------------------------------------------------------
 * Encoder
 * -------------------------------------------------------------------------------------------- */

const MAX_ENCODE_DEPTH = 512;

class Writer {
  buf: Buffer;
  len = 0;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }
  reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }
  byte(b: number): void {
    this.reserve(1);
    this.buf[this.len++] = b;
  }
  ascii(s: string): void {
    this.reserve(s.length);
    this.len += this.buf.write(s, this.len, 'latin1');
  }
  bytes(b: Uint8Array): void {
    this.ascii(String(b.length));
    this.byte(CH_COLON);
    this.reserve(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  utf8(s: string): void {
    const n = Buffer.byteLength(s, 'utf8');
    this.ascii(String(n));
    this.byte(CH_COLON);
    this.reserve(n);
    this.len += this.buf.write(s, this.len, n, 'utf8');
  }
}

function latin1Key(k: string): Buffer {
  for (let i = 0; i < k.length; i++) {
    if (k.charCodeAt(i) > 0xff) throw new TypeError('bencode: a Map key string must be latin1 (one byte per char)');
  }
  return Buffer.from(k, 'latin1');
}

function writeDict(w: Writer, entries: Array<[Buffer, BEncodable]>, depth: number): void {
  entries.sort((a, b) => Buffer.compare(a[0], b[0]));
  w.byte(CH_D);
  for (let i = 0; i < entries.length; i++) {
    const [k, v] = entries[i]!;
    if (i > 0 && Buffer.compare(entries[i - 1]![0], k) === 0) {
      throw new TypeError(`bencode: duplicate dict key ${JSON.stringify(k.toString('latin1'))}`);
    }
    w.bytes(k);
    encodeValue(w, v, depth);
  }
  w.byte(CH_E);
}

function encodeValue(w: Writer, v: BEncodable, depth: number): void {
  if (depth > MAX_ENCODE_DEPTH) throw new TypeError('bencode: nesting too deep (a cycle?)');
  switch (typeof v) {
    case 'number':
      if (!Number.isInteger(v)) throw new TypeError(`bencode: not an integer: ${v}`);
      w.byte(CH_I);
      w.ascii(Number.isSafeInteger(v) ? String(v) : BigInt(v).toString());
      w.byte(CH_E);
      return;
    case 'bigint':
      w.byte(CH_I);
      w.ascii(v.toString());
      w.byte(CH_E);
      return;
    case 'string':
      w.utf8(v);
      return;
    case 'object': {
      if (v === null) break;
      if (v instanceof Uint8Array) {
        w.bytes(v);
        return;
      }
      if (Array.isArray(v)) {
        w.byte(CH_L);
        for (const item of v as readonly BEncodable[]) encodeValue(w, item, depth + 1);
        w.byte(CH_E);
        return;
      }
      if (ArrayBuffer.isView(v)) break;
      const entries: Array<[Buffer, BEncodable]> = [];
      if (v instanceof Map) {
        for (const [k, val] of v as ReadonlyMap<string | Uint8Array, BEncodable | undefined>) {
          if (val === undefined) continue;
          entries.push([typeof k === 'string' ? latin1Key(k) : asBuffer(k), val]);
        }
      } else {
        const obj = v as { readonly [key: string]: BEncodable | undefined };
        for (const k of Object.keys(obj)) {
          const val = obj[k];
          if (val !== undefined) entries.push([Buffer.from(k, 'utf8'), val]);
        }
      }
      writeDict(w, entries, depth + 1);
      return;
    }
    case 'boolean':
    case 'function':
    case 'symbol':
    case 'undefined':
      break;
  }
  throw new TypeError(`bencode: cannot encode ${v === null ? 'null' : typeof v}`);
}

/** Encodes a value (see the module comment for accepted types). Throws TypeError on unencodable values. */
export function bencode(value: BEncodable): Buffer {
  const w = new Writer(256);
  encodeValue(w, value, 0);
  return Buffer.from(w.buf.subarray(0, w.len));
}

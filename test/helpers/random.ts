/**
 * Seeded pseudo-random numbers for reproducible tests (sfc32). The seed comes from
 * ESSAIM_TEST_SEED when set, so a failing run can be replayed; tests print the seed they used.
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(readonly seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    for (let i = 0; i < 15; i++) this.next();
  }

  /** Uniform in [0, 2^32). */
  next(): number {
    this.a >>>= 0;
    this.b >>>= 0;
    this.c >>>= 0;
    this.d >>>= 0;
    const t = (this.a + this.b) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.d = (this.d + 1) | 0;
    const r = (t + this.d) | 0;
    this.c = (this.c + r) | 0;
    return r >>> 0;
  }

  /** Uniform integer in [min, max] (inclusive; both below 2^53). */
  int(min: number, max: number): number {
    const span = max - min + 1;
    const x = this.next() * 2 ** 21 + (this.next() >>> 11); // 53 random bits
    return min + (x % span);
  }

  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.next() & 0xff;
    return b;
  }

  /** A child generator, independent enough for per-client streams. */
  fork(): Rng {
    return new Rng(this.next());
  }
}

/** The seed of this run: ESSAIM_TEST_SEED or a fixed default (deterministic unless asked). */
export function testSeed(fallback = 20261129): number {
  const env = process.env.ESSAIM_TEST_SEED;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (Number.isInteger(n)) return n >>> 0;
  }
  return fallback;
}

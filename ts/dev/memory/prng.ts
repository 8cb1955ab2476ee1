// A small seeded PRNG for fault injection: xoshiro128** (Blackman and Vigna), state seeded with
// SplitMix32 so nearby seeds give unrelated streams. Never Math.random: a fault run must be
// reproducible from its seed.

export class Xoshiro128 {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;

  constructor(seed: number) {
    this.reseed(seed);
  }

  /** Restarts the stream from `seed` (any number; its low 32 bits count). */
  reseed(seed: number): void {
    let x = seed >>> 0;
    const next = (): number => {
      // SplitMix32 (a 32-bit variant of Steele, Lea and Flood's SplitMix).
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** The next 32 random bits as an unsigned integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /**
   * Writes `n` floats in [0, 1) to out[0..n-1]. One call per packet instead of one per draw:
   * V8 boxes doubles returned from calls it does not inline.
   */
  fill(out: Float64Array, n: number): void {
    for (let i = 0; i < n; i++) out[i] = this.nextU32() / 4294967296;
  }

  /** A float in [0, 1) with 32 bits of randomness. */
  next(): number {
    return this.nextU32() / 4294967296;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

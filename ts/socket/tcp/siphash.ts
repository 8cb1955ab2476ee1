// SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF", 2012), the keyed hash
// Linux uses for SYN cookies and other values an off-path attacker must not predict (RFC 4987
// 3.6 asks for a cookie that is not predictable). 64-bit lanes are kept as pairs of 32-bit
// integers so it runs on V8's small-integer path with no BigInt and no allocation per call.

/** A SipHash-2-4 instance with a fixed 128-bit key; the result of each call is in hi/lo. */
export class SipHash {
  // Key as two little-endian 64-bit words, each as (high, low) 32-bit halves.
  private readonly k0h: number;
  private readonly k0l: number;
  private readonly k1h: number;
  private readonly k1l: number;
  // State v0..v3, (high, low) halves.
  private v0h = 0;
  private v0l = 0;
  private v1h = 0;
  private v1l = 0;
  private v2h = 0;
  private v2l = 0;
  private v3h = 0;
  private v3l = 0;
  /** The last result: high and low 32 bits of the 64-bit hash (unsigned). */
  hi = 0;
  lo = 0;

  /** `key`: 16 bytes, read little-endian as in the reference implementation. */
  constructor(key: Uint8Array) {
    if (key.length < 16) {
      throw Object.assign(new Error('a SipHash key needs 16 bytes'), { code: 'EINVAL' });
    }
    this.k0l = le32(key, 0);
    this.k0h = le32(key, 4);
    this.k1l = le32(key, 8);
    this.k1h = le32(key, 12);
  }

  /** SipHash-2-4 of buf[off, off + len); the result goes to hi/lo, low 32 bits returned. */
  hash(buf: Uint8Array, off: number, len: number): number {
    this.init();
    const end = off + len - (len & 7);
    let i = off;
    for (; i < end; i += 8) this.block(le32(buf, i + 4), le32(buf, i));
    // Last block: remaining bytes, and the length (mod 256) in the top byte.
    let mh = (len & 0xff) << 24;
    let ml = 0;
    const rest = len & 7;
    for (let j = 0; j < rest; j++) {
      const b = buf[i + j];
      if (j < 4) ml |= b << (8 * j);
      else mh |= b << (8 * (j - 4));
    }
    this.block(mh, ml);
    return this.finish();
  }

  /**
   * SipHash-2-4 of `count` 32-bit words (each little-endian in the message, so the same as
   * hashing their 4 * count bytes): for fixed-size tuples without a byte buffer.
   */
  hashWords(words: Uint32Array, count: number): number {
    this.init();
    let i = 0;
    for (; i + 1 < count; i += 2) this.block(words[i + 1] | 0, words[i] | 0);
    const len = 4 * count;
    const mh = (len & 0xff) << 24;
    this.block(mh, i < count ? words[i] | 0 : 0);
    return this.finish();
  }

  private init(): void {
    // "somepseudorandomlygeneratedbytes"
    this.v0h = this.k0h ^ 0x736f6d65;
    this.v0l = this.k0l ^ 0x70736575;
    this.v1h = this.k1h ^ 0x646f7261;
    this.v1l = this.k1l ^ 0x6e646f6d;
    this.v2h = this.k0h ^ 0x6c796765;
    this.v2l = this.k0l ^ 0x6e657261;
    this.v3h = this.k1h ^ 0x74656462;
    this.v3l = this.k1l ^ 0x79746573;
  }

  /** One message word m = (mh, ml): v3 ^= m, two rounds, v0 ^= m. */
  private block(mh: number, ml: number): void {
    this.v3h ^= mh;
    this.v3l ^= ml;
    this.round();
    this.round();
    this.v0h ^= mh;
    this.v0l ^= ml;
  }

  private finish(): number {
    this.v2l ^= 0xff;
    this.round();
    this.round();
    this.round();
    this.round();
    this.hi = (this.v0h ^ this.v1h ^ this.v2h ^ this.v3h) >>> 0;
    this.lo = (this.v0l ^ this.v1l ^ this.v2l ^ this.v3l) >>> 0;
    return this.lo;
  }

  /** SipRound, with 64-bit add and rotate done on 32-bit halves. */
  private round(): void {
    let v0h = this.v0h;
    let v0l = this.v0l;
    let v1h = this.v1h;
    let v1l = this.v1l;
    let v2h = this.v2h;
    let v2l = this.v2l;
    let v3h = this.v3h;
    let v3l = this.v3l;
    let l: number;
    let t: number;
    // v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32)
    l = (v0l + v1l) | 0;
    v0h = (v0h + v1h + (l >>> 0 < v0l >>> 0 ? 1 : 0)) | 0;
    v0l = l;
    t = (v1h << 13) | (v1l >>> 19);
    v1l = (v1l << 13) | (v1h >>> 19);
    v1h = t ^ v0h;
    v1l ^= v0l;
    t = v0h;
    v0h = v0l;
    v0l = t;
    // v2 += v3; v3 = rotl(v3, 16); v3 ^= v2
    l = (v2l + v3l) | 0;
    v2h = (v2h + v3h + (l >>> 0 < v2l >>> 0 ? 1 : 0)) | 0;
    v2l = l;
    t = (v3h << 16) | (v3l >>> 16);
    v3l = (v3l << 16) | (v3h >>> 16);
    v3h = t ^ v2h;
    v3l ^= v2l;
    // v0 += v3; v3 = rotl(v3, 21); v3 ^= v0
    l = (v0l + v3l) | 0;
    v0h = (v0h + v3h + (l >>> 0 < v0l >>> 0 ? 1 : 0)) | 0;
    v0l = l;
    t = (v3h << 21) | (v3l >>> 11);
    v3l = (v3l << 21) | (v3h >>> 11);
    v3h = t ^ v0h;
    v3l ^= v0l;
    // v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32)
    l = (v2l + v1l) | 0;
    v2h = (v2h + v1h + (l >>> 0 < v2l >>> 0 ? 1 : 0)) | 0;
    v2l = l;
    t = (v1h << 17) | (v1l >>> 15);
    v1l = (v1l << 17) | (v1h >>> 15);
    v1h = t ^ v2h;
    v1l ^= v2l;
    t = v2h;
    v2h = v2l;
    v2l = t;
    this.v0h = v0h;
    this.v0l = v0l;
    this.v1h = v1h;
    this.v1l = v1l;
    this.v2h = v2h;
    this.v2l = v2l;
    this.v3h = v3h;
    this.v3l = v3l;
  }
}

function le32(b: Uint8Array, off: number): number {
  return b[off] | (b[off + 1] << 8) | (b[off + 2] << 16) | (b[off + 3] << 24);
}

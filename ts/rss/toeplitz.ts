// The Toeplitz hash of Microsoft's RSS specification ("RSS hashing functions"): for each input
// bit, left to right, if it is set XOR in the 32 key bits that start at that bit position.
// Input order for TCP/UDP: source address, destination address, source port, destination port,
// all in network byte order, exactly as they sit in the packet.

function invalid(message: string): Error {
  return Object.assign(new Error(message), { code: 'EINVAL' });
}

function keyByte(key: Uint8Array, i: number): number {
  return i < key.length ? key[i] : 0;
}

/** The 32 key bits starting at bit `bit` (bits past the key's end read as 0). */
function keyWindow(key: Uint8Array, bit: number): number {
  const i = bit >>> 3;
  const s = bit & 7;
  const hi =
    (keyByte(key, i) << 24) |
    (keyByte(key, i + 1) << 16) |
    (keyByte(key, i + 2) << 8) |
    keyByte(key, i + 3);
  return s === 0 ? hi >>> 0 : ((hi << s) | (keyByte(key, i + 4) >>> (8 - s))) >>> 0;
}

/**
 * Reference Toeplitz hash, bit by bit as in the specification's pseudocode: unsigned 32-bit.
 * `input` is the bytes in RSS order; the key must be at least input.length + 4 bytes.
 */
export function toeplitzHash(key: Uint8Array, input: Uint8Array): number {
  if (key.length < input.length + 4) {
    throw invalid(`a ${key.length}-byte RSS key hashes at most ${key.length - 4} input bytes`);
  }
  let result = 0;
  // The "left-most 32 bits of K", shifted left one bit per input bit.
  let window = (key[0] << 24) | (key[1] << 16) | (key[2] << 8) | key[3];
  for (let i = 0; i < input.length; i++) {
    const byte = input[i];
    const nextKeyByte = key[i + 4];
    for (let bit = 7; bit >= 0; bit--) {
      result ^= window & -((byte >>> bit) & 1); // branch-free: random input bits mispredict
      window = (window << 1) | ((nextKeyByte >>> bit) & 1);
    }
  }
  return result >>> 0;
}

/** Input bytes of an IPv4 4-tuple in RSS order. */
export const IPV4_TUPLE_BYTES = 12;
/** Input bytes of an IPv6 4-tuple in RSS order. */
export const IPV6_TUPLE_BYTES = 36;

/**
 * Table-driven Toeplitz hash for one key. The hash is linear over GF(2), so it is the XOR of each
 * input byte's contribution; table[p * 256 + b] holds the contribution of byte value b at input
 * position p. A hash is then one lookup per byte, with no allocation.
 */
export class ToeplitzHasher {
  /** The key this hasher was built for (a private copy). */
  readonly key: Uint8Array;
  /** Longest input it can hash: key length - 4. */
  readonly maxInput: number;
  private readonly table: Int32Array;

  constructor(key: Uint8Array) {
    if (key.length < 8) throw invalid('an RSS key needs at least 8 bytes');
    this.key = Uint8Array.from(key);
    this.maxInput = key.length - 4;
    this.table = new Int32Array(this.maxInput * 256);
    for (let p = 0; p < this.maxInput; p++) {
      const windows = new Int32Array(8);
      for (let bit = 0; bit < 8; bit++) windows[bit] = keyWindow(key, p * 8 + bit);
      for (let b = 0; b < 256; b++) {
        let h = 0;
        for (let bit = 0; bit < 8; bit++) if (b & (0x80 >>> bit)) h ^= windows[bit];
        this.table[p * 256 + b] = h;
      }
    }
  }

  /** Hash of `len` bytes of `buf` from `off`, already in RSS order. */
  hash(buf: Uint8Array, off = 0, len = buf.length - off): number {
    if (len > this.maxInput) throw invalid(`this key hashes at most ${this.maxInput} bytes`);
    const t = this.table;
    let h = 0;
    for (let p = 0; p < len; p++) h ^= t[(p << 8) | buf[off + p]];
    return h >>> 0;
  }

  /**
   * Hash of an IPv4 flow read straight from a frame: `addrOff` is the source address (IPv4
   * header + 12; the destination follows it), `portOff` the source port (L4 header + 0; the
   * destination port follows it), or -1 to hash the addresses only.
   */
  hashIpv4(frame: Uint8Array, addrOff: number, portOff: number): number {
    const t = this.table;
    let h =
      t[frame[addrOff]] ^
      t[256 | frame[addrOff + 1]] ^
      t[512 | frame[addrOff + 2]] ^
      t[768 | frame[addrOff + 3]] ^
      t[1024 | frame[addrOff + 4]] ^
      t[1280 | frame[addrOff + 5]] ^
      t[1536 | frame[addrOff + 6]] ^
      t[1792 | frame[addrOff + 7]];
    if (portOff >= 0) {
      h ^=
        t[2048 | frame[portOff]] ^
        t[2304 | frame[portOff + 1]] ^
        t[2560 | frame[portOff + 2]] ^
        t[2816 | frame[portOff + 3]];
    }
    return h >>> 0;
  }

  /**
   * Hash of an IPv6 flow read straight from a frame: `addrOff` is the source address (IPv6
   * header + 8; the destination follows it), `portOff` the source port, or -1 for addresses only.
   */
  hashIpv6(frame: Uint8Array, addrOff: number, portOff: number): number {
    const t = this.table;
    let h = 0;
    for (let p = 0; p < 32; p++) h ^= t[(p << 8) | frame[addrOff + p]];
    if (portOff >= 0) {
      h ^=
        t[8192 | frame[portOff]] ^
        t[8448 | frame[portOff + 1]] ^
        t[8704 | frame[portOff + 2]] ^
        t[8960 | frame[portOff + 3]];
    }
    return h >>> 0;
  }

  /**
   * Hash of a 4-tuple given as separate fields (addresses 4 or 16 bytes, same family).
   * Pass port -1 on both to hash addresses only.
   */
  hashTuple(src: Uint8Array, dst: Uint8Array, srcPort: number, dstPort: number): number {
    const n = src.length;
    if ((n !== 4 && n !== 16) || dst.length !== n) {
      throw invalid('addresses must both be IPv4 (4 bytes) or both IPv6 (16 bytes)');
    }
    const t = this.table;
    let h = 0;
    for (let p = 0; p < n; p++) h ^= t[(p << 8) | src[p]] ^ t[((p + n) << 8) | dst[p]];
    if (srcPort >= 0) h ^= this.portAt(2 * n, srcPort) ^ this.portAt(2 * n + 2, dstPort);
    return h >>> 0;
  }

  /**
   * Contribution of a 16-bit port at input byte position `pos` (signed; XOR it in). The hash is
   * linear, so changing one port of a tuple changes the hash by exactly this.
   */
  portAt(pos: number, port: number): number {
    return this.table[(pos << 8) | (port >>> 8)] ^ this.table[((pos + 1) << 8) | (port & 0xff)];
  }
}

// The Internet checksum (RFC 1071), pseudo-header sums and incremental update (RFC 1624).
//
// A "sum" here is an unfolded one's complement partial sum held in a double: it stays exact far past
// any packet size (2^53), so callers can add sums together (pseudo header + header + payload) and
// fold once at the end.

import { read16 } from './bytes.js';

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// One Uint32Array over the buffer most recently summed (in practice: the UMEM), so long runs can be
// summed four bytes per load without creating a view per packet.
let wordsBuffer: ArrayBufferLike | null = null;
let words: Uint32Array<ArrayBufferLike> = new Uint32Array(0);

function wordsOver(buf: Uint8Array): Uint32Array {
  if (buf.buffer !== wordsBuffer || words.length !== buf.buffer.byteLength >>> 2) {
    wordsBuffer = buf.buffer;
    words = new Uint32Array(buf.buffer, 0, buf.buffer.byteLength >>> 2);
  }
  return words;
}

/** Fold a partial sum to 16 bits with end-around carry (RFC 1071 2(C)); 0 stays 0. */
export function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

function swap16(x: number): number {
  return ((x & 0xff) << 8) | (x >>> 8);
}

// Below this length the aligned path's setup costs more than it saves.
const WIDE_MIN_LEN = 64;

/**
 * One's complement partial sum of `len` bytes as big-endian 16-bit words; an odd last byte is padded
 * with a zero byte on the right (RFC 1071 4.1).
 */
export function sumBytes(buf: Uint8Array, off: number, len: number, initial = 0): number {
  let sum = initial;
  let i = off;
  const end = off + len;
  // RFC 1071 2(B): the sum is byte-order independent, so aligned native little-endian 32-bit loads,
  // folded and byte-swapped once, give the same sum as big-endian 16-bit loads. Needs an even
  // absolute start so 16-bit word boundaries line up with the 32-bit ones.
  if (LITTLE_ENDIAN && len >= WIDE_MIN_LEN && ((buf.byteOffset + off) & 1) === 0) {
    if (((buf.byteOffset + i) & 2) !== 0) {
      sum += read16(buf, i);
      i += 2;
    }
    const w = wordsOver(buf);
    let wi = (buf.byteOffset + i) >>> 2;
    const wordCount = (end - i) >>> 2;
    const wend = wi + wordCount;
    // Two accumulators let consecutive loads overlap; each stays exact (< 2^53) in a double.
    let wide0 = 0;
    let wide1 = 0;
    for (; wi + 1 < wend; wi += 2) {
      wide0 += w[wi];
      wide1 += w[wi + 1];
    }
    if (wi < wend) wide0 += w[wi];
    sum += swap16(fold(wide0 + wide1));
    i += wordCount << 2;
  }
  for (; i + 1 < end; i += 2) sum += (buf[i] << 8) | buf[i + 1];
  if (i < end) sum += buf[i] << 8;
  return sum;
}

/**
 * The checksum field value for `len` bytes plus a partial sum (pseudo header, or 0): the one's
 * complement of the folded one's complement sum. Over a region that already holds a correct
 * checksum it returns 0, which is how received packets are verified.
 */
export function checksum(buf: Uint8Array, off: number, len: number, initial = 0): number {
  return ~fold(sumBytes(buf, off, len, initial)) & 0xffff;
}

/** Partial sum of the IPv4 pseudo header (RFC 9293 3.1, RFC 768): addresses as unsigned 32-bit. */
export function pseudoHeaderSum4(
  src: number,
  dst: number,
  protocol: number,
  length: number,
): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + protocol + length;
}

/** Partial sum of the IPv6 pseudo header (RFC 8200 8.1): 16-byte addresses read in place. */
export function pseudoHeaderSum6(
  src: Uint8Array,
  srcOff: number,
  dst: Uint8Array,
  dstOff: number,
  nextHeader: number,
  length: number,
): number {
  let sum = (length >>> 16) + (length & 0xffff) + nextHeader;
  for (let i = 0; i < 16; i += 2) sum += read16(src, srcOff + i) + read16(dst, dstOff + i);
  return sum;
}

/** RFC 1624 eqn 3: HC' = ~(~HC + ~m + m') after one 16-bit word changes from m to m'. */
export function incrementalUpdate16(oldChecksum: number, oldWord: number, newWord: number): number {
  const sum = (~oldChecksum & 0xffff) + (~oldWord & 0xffff) + (newWord & 0xffff);
  return ~fold(sum) & 0xffff;
}

/** RFC 1624 eqn 3 for a 32-bit field (an IPv4 address, a TCP sequence number) as two words. */
export function incrementalUpdate32(
  oldChecksum: number,
  oldValue: number,
  newValue: number,
): number {
  const sum =
    (~oldChecksum & 0xffff) +
    (~(oldValue >>> 16) & 0xffff) +
    (~oldValue & 0xffff) +
    (newValue >>> 16) +
    (newValue & 0xffff);
  return ~fold(sum) & 0xffff;
}

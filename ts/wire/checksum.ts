// The Internet checksum (RFC 1071), pseudo-header sums and incremental update (RFC 1624).
//
// A "sum" here is an unfolded one's complement partial sum held in a double: it stays exact far past
// any packet size (2^53), so callers can add sums together (pseudo header + header + payload) and
// fold once at the end.

import { read16 } from './bytes.js';
import { MAX_SIMD_RUN, simdSumOver, type SimdSum } from './simd-sum.js';

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// Int32Array views over the two buffers most recently summed, so long runs are summed four bytes
// per load without creating a view per packet. Two entries because a copy has two buffers: the
// UMEM (a SharedArrayBuffer, used on every call) and a socket's ring. A miss replaces the entry not
// used last, so rings of different connections take turns in one entry while the UMEM keeps the
// other. Each entry is found by the Uint8Array it was last asked for: reading `buf.buffer` costs a
// builtin call (it showed as ~2% of a bulk-TCP profile), comparing the array object nothing; a
// different array over the same buffer (a subarray) still reuses the view. Int32 (not Uint32)
// loads keep every value an int32 in optimized code: no uint32 -> double conversions.
let array0: Uint8Array | null = null;
let buffer0: ArrayBufferLike | null = null;
let view0: Int32Array<ArrayBufferLike> = new Int32Array(0);
let array1: Uint8Array | null = null;
let buffer1: ArrayBufferLike | null = null;
let view1: Int32Array<ArrayBufferLike> = new Int32Array(0);
let lastUsed = 0;

/** An Int32Array over all of `buf`'s buffer that reaches at least word index `endWord`. */
function wordsOver(buf: Uint8Array, endWord: number): Int32Array {
  // The length checks cover a resizable buffer that grew since its view was made.
  if (buf === array0 && endWord <= view0.length) {
    lastUsed = 0;
    return view0;
  }
  if (buf === array1 && endWord <= view1.length) {
    lastUsed = 1;
    return view1;
  }
  return wordsOverMiss(buf, endWord);
}

function wordsOverMiss(buf: Uint8Array, endWord: number): Int32Array {
  const b = buf.buffer;
  if (b === buffer0 && endWord <= view0.length) {
    array0 = buf;
    lastUsed = 0;
    return view0;
  }
  if (b === buffer1 && endWord <= view1.length) {
    array1 = buf;
    lastUsed = 1;
    return view1;
  }
  const view = new Int32Array(b, 0, b.byteLength >>> 2);
  if (lastUsed === 0) {
    array1 = buf;
    buffer1 = b;
    view1 = view;
    lastUsed = 1;
  } else {
    array0 = buf;
    buffer0 = b;
    view0 = view;
    lastUsed = 0;
  }
  return view;
}

/** Fold a partial sum to 16 bits with end-around carry (RFC 1071 2(C)); 0 stays 0. */
export function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

function swap16(x: number): number {
  return ((x & 0xff) << 8) | (x >>> 8);
}

// Below this length the word path's setup costs more than it saves: measured, 32 bytes take ~26 ns
// in the byte loop and ~33 ns on the word path, 48 bytes ~37 ns either way, 64 bytes ~50 and ~40.
const WIDE_MIN_LEN = 48;
// Words summed between carry folds: the two accumulators grow by at most 4 * 0xffff per four
// words, so after 4096 words they are below 2^28 and stay small integers (Smis) however long the
// run is.
const BLOCK_WORDS = 4096;

/**
 * One's complement partial sum of `len` bytes as big-endian 16-bit words; an odd last byte is padded
 * with a zero byte on the right (RFC 1071 4.1).
 */
export function sumBytes(buf: Uint8Array, off: number, len: number, initial = 0): number {
  if (!LITTLE_ENDIAN || len < WIDE_MIN_LEN) return sumPairs(buf, off, len, initial);
  if (len >= SIMD_MIN_LEN) {
    const simd = simdSumOver(buf);
    if (simd !== null) return initial + sumSimd(simd, buf, off, len);
  }
  return initial + sumWide(buf, off, len);
}

// Below this length the call into WebAssembly costs more than the JavaScript loop.
const SIMD_MIN_LEN = 128;

/**
 * The sum of `len` bytes of packet memory (simd-sum.ts): whole 16-byte blocks in WebAssembly, the
 * rest here, all as little-endian words (the data's own pairing, whatever the address), then one
 * swap to big-endian (RFC 1071 2(B)).
 */
function sumSimd(simd: SimdSum, buf: Uint8Array, off: number, len: number): number {
  const blocks = len & ~15;
  let s = 0;
  for (let done = 0; done < blocks; done += MAX_SIMD_RUN) {
    s += simd(buf.byteOffset + off + done, Math.min(MAX_SIMD_RUN, blocks - done));
  }
  let i = off + blocks;
  const end = off + len;
  for (; i + 1 < end; i += 2) s += buf[i] | (buf[i + 1] << 8);
  if (i < end) s += buf[i];
  return swap16(fold(s));
}

/** The byte loop: two big-endian 16-bit words per step, summed as an integer. */
function sumPairs(buf: Uint8Array, off: number, len: number, initial: number): number {
  let sum = 0;
  let i = off;
  const end = off + len;
  for (; i + 3 < end; i += 4)
    sum += ((buf[i] << 8) | buf[i + 1]) + ((buf[i + 2] << 8) | buf[i + 3]);
  if (i + 1 < end) {
    sum += (buf[i] << 8) | buf[i + 1];
    i += 2;
  }
  if (i < end) sum += buf[i] << 8;
  return initial + sum;
}

/**
 * The sum of `len` (>= 4) bytes with aligned native little-endian 32-bit loads, as an integer below
 * 2^17. RFC 1071 2(B): the sum is byte-order independent, so little-endian 16-bit words summed and
 * byte-swapped once give the big-endian sum. A run starting at an odd address is the same trick
 * once more: its first byte is a high byte on its own, and from the next (even) address on every
 * byte sits in the other half of its 16-bit word than the data's own pairing puts it, a swap that
 * cancels the little-endian one.
 */
function sumWide(buf: Uint8Array, off: number, len: number): number {
  const base = buf.byteOffset;
  let i = off;
  const end = off + len;
  let lo = 0; // low halves of each 32-bit load (and the odd bytes and words at either end)
  let hi = 0; // high halves
  let head = 0;
  const odd = (base + i) & 1;
  if (odd !== 0) head = buf[i++] << 8;
  if (((base + i) & 2) !== 0) {
    lo += buf[i] | (buf[i + 1] << 8);
    i += 2;
  }
  let wi = (base + i) >> 2;
  const wend = wi + ((end - i) >> 2);
  const w = wordsOver(buf, wend);
  i += (wend - wi) << 2;
  // Four loads per step, summed as two int32 chains; halves are taken with & and >>> so no value
  // leaves the int32 range.
  while (wend - wi >= 4) {
    const stop = wi + Math.min((wend - wi) & ~3, BLOCK_WORDS);
    for (; wi < stop; wi += 4) {
      const a = w[wi];
      const b = w[wi + 1];
      const c = w[wi + 2];
      const d = w[wi + 3];
      lo += (a & 0xffff) + (b & 0xffff) + (c & 0xffff) + (d & 0xffff);
      hi += (a >>> 16) + (b >>> 16) + (c >>> 16) + (d >>> 16);
    }
    lo = (lo & 0xffff) + (lo >>> 16);
    hi = (hi & 0xffff) + (hi >>> 16);
  }
  for (; wi < wend; wi++) {
    const a = w[wi];
    lo += a & 0xffff;
    hi += a >>> 16;
  }
  if (i + 1 < end) {
    lo += buf[i] | (buf[i + 1] << 8);
    i += 2;
  }
  if (i < end) lo += buf[i];
  let s = lo + hi;
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  return head + (odd !== 0 ? s : swap16(s));
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

// Test helpers: frames placed inside a SharedArrayBuffer the way UMEM holds them, and a reference
// Internet checksum written as plainly as possible to check the fast one against.

export const FRAME_SIZE = 2048;
export const HEADROOM = 256;

/** A fresh 8-frame "UMEM" with `bytes` copied into frame `index` after the headroom. */
export function inUmem(bytes: Uint8Array, index = 3): { buf: Uint8Array; off: number } {
  const buf = new Uint8Array(new SharedArrayBuffer(8 * FRAME_SIZE));
  const off = index * FRAME_SIZE + HEADROOM;
  buf.set(bytes, off);
  return { buf, off };
}

/** RFC 1071 by the book: 16-bit big-endian words, odd byte padded, carries folded as we go. */
export function referenceChecksum(bytes: ArrayLike<number>, initialWords: number[] = []): number {
  let sum = 0;
  const add = (word: number): void => {
    sum += word;
    sum = (sum & 0xffff) + (sum >>> 16);
  };
  for (const w of initialWords) add(w);
  for (let i = 0; i < bytes.length; i += 2) {
    add((bytes[i] << 8) | (i + 1 < bytes.length ? bytes[i + 1] : 0));
  }
  return ~sum & 0xffff;
}

/** The 16-bit words of an IPv4 pseudo header. */
export function pseudo4Words(src: number, dst: number, proto: number, len: number): number[] {
  return [src >>> 16, src & 0xffff, dst >>> 16, dst & 0xffff, proto, len];
}

/** The 16-bit words of an IPv6 pseudo header. */
export function pseudo6Words(
  src: ArrayLike<number>,
  dst: ArrayLike<number>,
  next: number,
  len: number,
): number[] {
  const words: number[] = [];
  for (const a of [src, dst]) for (let i = 0; i < 16; i += 2) words.push((a[i] << 8) | a[i + 1]);
  words.push(len >>> 16, len & 0xffff, 0, next);
  return words;
}

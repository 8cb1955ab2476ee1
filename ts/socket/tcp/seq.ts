// Sequence number arithmetic modulo 2^32 (RFC 9293 3.4): a < b when the signed 32-bit distance
// b - a is positive, which is meaningful while the two are less than 2^31 apart.

/** a + n, wrapped to an unsigned 32-bit sequence number. */
export function seqAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}

/** The signed distance a - b (positive when a is after b). */
export function seqSub(a: number, b: number): number {
  return (a - b) | 0;
}

export function seqLt(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

export function seqLe(a: number, b: number): boolean {
  return ((a - b) | 0) <= 0;
}

export function seqGt(a: number, b: number): boolean {
  return ((a - b) | 0) > 0;
}

export function seqGe(a: number, b: number): boolean {
  return ((a - b) | 0) >= 0;
}

/** lo <= x < hi, modulo 2^32 (the half-open window test RFC 9293 3.10.7.4 uses). */
export function seqInWindow(x: number, lo: number, hi: number): boolean {
  return ((x - lo) | 0) >= 0 && ((x - hi) | 0) < 0;
}

/** lo <= x <= hi, modulo 2^32. */
export function seqBetween(x: number, lo: number, hi: number): boolean {
  return ((x - lo) | 0) >= 0 && ((x - hi) | 0) <= 0;
}

export function seqMax(a: number, b: number): number {
  return ((a - b) | 0) >= 0 ? a : b;
}

export function seqMin(a: number, b: number): number {
  return ((a - b) | 0) <= 0 ? a : b;
}

// A bounded, sorted set of disjoint sequence ranges [left, right), compared modulo 2^32. Both
// the receiver's out-of-order queue and the sender's SACK scoreboard are one of these: adjacent
// and overlapping ranges are merged, so duplicates and overlaps cost nothing. Preallocated; when
// it is full, a range that would need a new slot is refused. The storage comes with the first
// range: most connections never see loss or reordering, and each TCB has three of these, so a
// connection-per-request workload would otherwise allocate three ArrayBuffers per connection.

import { seqGe, seqGt, seqLe, seqLt, seqMax, seqMin, seqSub } from './seq.js';

const NO_EDGES = new Uint32Array(0);

export class RangeSet {
  /** Range i is [edges[2i], edges[2i+1]), ascending; empty until the first range is added. */
  private edges: Uint32Array = NO_EDGES;
  count = 0;

  constructor(readonly capacity: number) {}

  left(i: number): number {
    return this.edges[2 * i];
  }

  right(i: number): number {
    return this.edges[2 * i + 1];
  }

  clear(): void {
    this.count = 0;
  }

  /** Total bytes covered. */
  bytes(): number {
    let n = 0;
    for (let i = 0; i < this.count; i++) n += seqSub(this.right(i), this.left(i));
    return n;
  }

  /** Index of the range holding `seq`, or -1. */
  find(seq: number): number {
    for (let i = 0; i < this.count; i++) {
      if (seqLt(seq, this.left(i))) return -1;
      if (seqLt(seq, this.right(i))) return i;
    }
    return -1;
  }

  /**
   * Add [left, right). Returns the number of bytes not covered before (0 for a duplicate), or -1
   * when the set is full and the range could not be stored.
   */
  add(left: number, right: number): number {
    if (!seqLt(left, right)) return 0;
    // First range that ends at or after `left` (could merge), and the first starting after `right`.
    let first = 0;
    while (first < this.count && seqLt(this.right(first), left)) first++;
    let last = first;
    while (last < this.count && seqLe(this.left(last), right)) last++;
    const merged = last - first;
    if (merged === 0) return this.insertAt(first, left, right);
    let covered = 0;
    for (let i = first; i < last; i++) {
      covered += seqSub(seqMin(this.right(i), right), seqMax(this.left(i), left));
    }
    const newLeft = seqMin(left, this.left(first));
    const newRight = seqMax(right, this.right(last - 1));
    this.edges[2 * first] = newLeft;
    this.edges[2 * first + 1] = newRight;
    this.removeRanges(first + 1, merged - 1);
    return seqSub(right, left) - Math.max(0, covered);
  }

  private insertAt(i: number, left: number, right: number): number {
    if (this.count === this.capacity) return -1;
    if (this.edges.length === 0) this.edges = new Uint32Array(2 * this.capacity);
    this.edges.copyWithin(2 * i + 2, 2 * i, 2 * this.count);
    this.edges[2 * i] = left;
    this.edges[2 * i + 1] = right;
    this.count++;
    return seqSub(right, left);
  }

  private removeRanges(from: number, n: number): void {
    if (n <= 0) return;
    this.edges.copyWithin(2 * from, 2 * (from + n), 2 * this.count);
    this.count -= n;
  }

  /** Forget everything below `seq` (trimming a range that straddles it). */
  trimBelow(seq: number): void {
    let drop = 0;
    while (drop < this.count && seqLe(this.right(drop), seq)) drop++;
    this.removeRanges(0, drop);
    if (this.count > 0 && seqLt(this.left(0), seq)) this.edges[0] = seq;
  }

  /**
   * If the first range starts at or before `seq`, remove it and return its right edge (the new
   * in-order frontier); otherwise return `seq` unchanged.
   */
  takeFrom(seq: number): number {
    if (this.count === 0 || seqGt(this.left(0), seq)) return seq;
    const right = this.right(0);
    this.removeRanges(0, 1);
    return seqGe(right, seq) ? right : seq;
  }
}

// The receiver's out-of-order queue (RFC 9293 3.10.7.4, "segment text"; RFC 5681 4.2). Segment
// bytes themselves are parked in the receive buffer at their stream offset, which the advertised
// window guarantees has room, so the queue only remembers which sequence ranges are present:
// memory is bounded by the buffer plus `capacity` ranges. Overlaps and duplicates merge away;
// bytes below RCV.NXT are trimmed by the caller before they get here. It also remembers which
// ranges arrived most recently, for the SACK blocks of RFC 2018 4.

import { RangeSet } from './range-set.js';
import { seqLt } from './seq.js';

/** How many recent arrivals are remembered for SACK (one more than fits in an option). */
const RECENT = 4;

export class Reassembly {
  readonly ranges: RangeSet;
  /** One sequence number inside each recently received out-of-order segment, newest first. */
  private readonly recent = new Uint32Array(RECENT);
  private recentCount = 0;

  constructor(capacity = 32) {
    this.ranges = new RangeSet(capacity);
  }

  get isEmpty(): boolean {
    return this.ranges.count === 0;
  }

  /**
   * Record that [left, right) (above RCV.NXT) is now in the buffer. Returns false when the queue
   * is full and the segment must be dropped.
   */
  insert(left: number, right: number): boolean {
    if (this.ranges.add(left, right) < 0) return false;
    this.noteRecent(left);
    return true;
  }

  private noteRecent(seq: number): void {
    const r = this.recent;
    let n = Math.min(this.recentCount, RECENT - 1);
    // Drop an older entry for the same range so each range appears once.
    const range = this.ranges.find(seq);
    for (let i = 0; i < n; i++) {
      if (this.ranges.find(r[i]) === range) {
        r.copyWithin(i, i + 1, n);
        n--;
        break;
      }
    }
    r.copyWithin(1, 0, n);
    r[0] = seq;
    this.recentCount = n + 1;
  }

  /**
   * RCV.NXT is `rcvNxt`: pull ranges that now touch it. Returns the new RCV.NXT (unchanged when
   * the gap is still open).
   */
  advance(rcvNxt: number): number {
    let next = rcvNxt;
    for (;;) {
      const moved = this.ranges.takeFrom(next);
      if (moved === next) break;
      next = moved;
    }
    return next;
  }

  /**
   * Write up to `max` SACK blocks into `edges` (left/right pairs), the block holding the most
   * recently received segment first, then the other recent ones, then the rest from the lowest
   * (RFC 2018 4). Returns the number of blocks.
   */
  sackBlocks(rcvNxt: number, edges: Uint32Array, max: number): number {
    let n = 0;
    for (let i = 0; i < this.recentCount && n < max; i++) {
      const idx = this.ranges.find(this.recent[i]);
      if (idx >= 0 && !seqLt(this.ranges.left(idx), rcvNxt)) n = this.push(edges, n, idx);
    }
    for (let idx = 0; idx < this.ranges.count && n < max; idx++) n = this.push(edges, n, idx);
    return n;
  }

  private push(edges: Uint32Array, n: number, idx: number): number {
    const left = this.ranges.left(idx);
    for (let j = 0; j < n; j++) if (edges[2 * j] === left) return n;
    edges[2 * n] = left;
    edges[2 * n + 1] = this.ranges.right(idx);
    return n + 1;
  }

  clear(): void {
    this.ranges.clear();
    this.recentCount = 0;
  }
}

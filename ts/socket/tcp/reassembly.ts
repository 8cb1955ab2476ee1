// The receiver's out-of-order queue (RFC 9293 3.10.7.4, "segment text"; RFC 5681 4.2). Segment
// bytes themselves are parked in the receive buffer at their stream offset, which the advertised
// window guarantees has room, so the queue only remembers which sequence ranges are present:
// memory is bounded by the buffer plus `capacity` ranges. Overlaps and duplicates merge away;
// bytes below RCV.NXT are trimmed by the caller before they get here. It also remembers which
// ranges arrived most recently, for the SACK blocks of RFC 2018 4, and the last duplicate segment,
// for the D-SACK block of RFC 2883.

import { RangeSet } from './range-set.js';
import { seqLt, seqMax, seqMin } from './seq.js';

/** How many recent arrivals are remembered for SACK (one more than fits in an option). */
const RECENT = 4;

export class Reassembly {
  readonly ranges: RangeSet;
  /** One sequence number inside each recently received out-of-order segment, newest first. */
  private readonly recent = new Uint32Array(RECENT);
  private recentCount = 0;
  /** RFC 2883 4: a duplicate to report as the first block of the next ACK (once). */
  private dsackPending = false;
  private dsackLeft = 0;
  private dsackRight = 0;

  constructor(capacity = 32) {
    this.ranges = new RangeSet(capacity);
  }

  get isEmpty(): boolean {
    return this.ranges.count === 0;
  }

  /** SACK blocks to send: out-of-order ranges or a pending D-SACK. */
  get hasBlocks(): boolean {
    return this.ranges.count > 0 || this.dsackPending;
  }

  /** Blocks the next ACK carries at most `max` of (for the payload room they leave). */
  blockCount(max: number): number {
    return Math.min(max, this.ranges.count + (this.dsackPending ? 1 : 0));
  }

  /**
   * Record that [left, right) (above RCV.NXT) is now in the buffer. Returns false when the queue
   * is full and the segment must be dropped. Bytes already held are a duplicate (RFC 2883 4.2).
   */
  insert(left: number, right: number): boolean {
    this.noteHeldDuplicate(left, right);
    if (this.ranges.add(left, right) < 0) return false;
    this.noteRecent(left);
    return true;
  }

  /**
   * RFC 2883 4: [left, right) arrived a second time (below RCV.NXT, or already queued). The next
   * ACK reports it first; a newer duplicate replaces an unreported one (only one fits first).
   */
  noteDuplicate(left: number, right: number): void {
    if (!seqLt(left, right)) return;
    this.dsackPending = true;
    this.dsackLeft = left;
    this.dsackRight = right;
  }

  /** The first part of [left, right) already queued, if any, is a duplicate (RFC 2883 4.2). */
  private noteHeldDuplicate(left: number, right: number): void {
    const r = this.ranges;
    for (let i = 0; i < r.count; i++) {
      if (!seqLt(left, r.right(i))) continue;
      if (!seqLt(r.left(i), right)) return;
      this.noteDuplicate(seqMax(left, r.left(i)), seqMin(right, r.right(i)));
      return;
    }
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
   * Write up to `max` SACK blocks into `edges` (left/right pairs): a pending D-SACK first (RFC
   * 2883 4, reported once), then the block holding the most recently received segment, then the
   * other recent ones, then the rest from the lowest (RFC 2018 4). Returns the number of blocks.
   */
  sackBlocks(rcvNxt: number, edges: Uint32Array, max: number): number {
    let n = 0;
    if (this.dsackPending && max > 0) {
      edges[0] = this.dsackLeft;
      edges[1] = this.dsackRight;
      this.dsackPending = false;
      n = 1;
    }
    const first = n;
    for (let i = 0; i < this.recentCount && n < max; i++) {
      const idx = this.ranges.find(this.recent[i]);
      if (idx >= 0 && !seqLt(this.ranges.left(idx), rcvNxt)) n = this.push(edges, first, n, idx);
    }
    for (let idx = 0; idx < this.ranges.count && n < max; idx++) {
      n = this.push(edges, first, n, idx);
    }
    return n;
  }

  /** Append range `idx` unless one of the SACK blocks from `first` on already is it. */
  private push(edges: Uint32Array, first: number, n: number, idx: number): number {
    const left = this.ranges.left(idx);
    for (let j = first; j < n; j++) if (edges[2 * j] === left) return n;
    edges[2 * n] = left;
    edges[2 * n + 1] = this.ranges.right(idx);
    return n + 1;
  }

  clear(): void {
    this.ranges.clear();
    this.recentCount = 0;
    this.dsackPending = false;
  }
}

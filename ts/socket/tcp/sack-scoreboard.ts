// The sender's SACK scoreboard (RFC 6675 2-4): which bytes above SND.UNA the receiver reported
// holding (RFC 2018 blocks), and from that IsLost(), pipe and NextSeg(). Holes between SACKed
// ranges share one answer to IsLost (the SACKed data above any byte of a hole is the same), so
// everything is computed per hole, not per byte.
//
// Besides SACK, a byte counts as lost when it is below `lossMark`: the TCB moves that mark to
// SND.UNA + SMSS on fast retransmit and partial ACKs (RFC 6582 NewReno, also the only loss signal
// when the peer does not do SACK) and to SND.NXT on a retransmission timeout (everything
// outstanding is presumed lost, RFC 6675 5.1).

import { RangeSet } from './range-set.js';
import { seqGe, seqGt, seqLt, seqMax, seqMin, seqSub } from './seq.js';

/** RFC 6675 2: DupThresh. */
export const DUP_THRESH = 3;

/**
 * RFC 2883 4 / RFC 3708 2: the first SACK block of an ACK is a D-SACK when it lies at or below
 * the cumulative ACK, or inside the second block.
 */
export function firstBlockIsDsack(edges: Uint32Array, count: number, ack: number): boolean {
  if (count === 0) return false;
  if (!seqGt(edges[1], ack)) return true;
  return count > 1 && !seqLt(edges[0], edges[2]) && !seqGt(edges[1], edges[3]);
}

export class SackScoreboard {
  readonly sacked: RangeSet;
  /**
   * RFC 6675 4 IsLost by DupThresh. Off once RACK has seen reordering (RFC 8985 6.2 step 4: the
   * time-based detection with its reordering window replaces DupThresh, as Linux tcp_recovery=1).
   */
  dupThreshLoss = true;
  /** NextSeg's answer: the sequence number to send and the most bytes from it. */
  nextSeq = 0;
  nextLen = 0;

  constructor(capacity = 32) {
    this.sacked = new RangeSet(capacity);
  }

  clear(): void {
    this.sacked.clear();
  }

  /**
   * Record SACK block [left, right) from an ACK; blocks outside (una, sndNxt] are ignored
   * (RFC 2018 allows stale blocks; RFC 6675 5 ignores D-SACK below SND.UNA). Returns true when it
   * told us something new.
   */
  addBlock(left: number, right: number, una: number, sndNxt: number): boolean {
    if (!seqLt(left, right) || seqGt(right, sndNxt) || !seqGt(right, una)) return false;
    return this.sacked.add(seqMax(left, una), right) > 0;
  }

  ackTo(una: number): void {
    this.sacked.trimBelow(una);
  }

  get isEmpty(): boolean {
    return this.sacked.count === 0;
  }

  /** The highest SACKed sequence number + 1 (HighSACK's end), or `una` if nothing is SACKed. */
  highSacked(una: number): number {
    const n = this.sacked.count;
    return n === 0 ? una : this.sacked.right(n - 1);
  }

  /**
   * RFC 6675 4 IsLost for the hole ending below SACKed range `i`: DupThresh discontiguous SACKed
   * ranges above it, or more than (DupThresh - 1) * SMSS bytes SACKed above it.
   */
  private holeLost(i: number, sackedAbove: number, mss: number): boolean {
    if (!this.dupThreshLoss) return false;
    return this.sacked.count - i >= DUP_THRESH || sackedAbove > (DUP_THRESH - 1) * mss;
  }

  /** IsLost(seq) by SACK information alone. */
  isLost(seq: number, mss: number): boolean {
    if (!this.dupThreshLoss) return false;
    let above = 0;
    let blocks = 0;
    for (let i = this.sacked.count - 1; i >= 0; i--) {
      if (!seqGt(this.sacked.left(i), seq)) break;
      above += seqSub(this.sacked.right(i), this.sacked.left(i));
      blocks++;
    }
    return blocks >= DUP_THRESH || above > (DUP_THRESH - 1) * mss;
  }

  /**
   * RFC 6675 4 SetPipe: bytes between `una` and `sndNxt` that are neither SACKed nor lost, plus
   * bytes retransmitted (below `highRxt`) that are not SACKed.
   */
  pipe(una: number, sndNxt: number, highRxt: number, lossMark: number, mss: number): number {
    let sackedAbove = this.sacked.bytes();
    let pipe = 0;
    let start = una;
    for (let i = 0; i <= this.sacked.count; i++) {
      const end = i < this.sacked.count ? this.sacked.left(i) : sndNxt;
      const lostBySack = i < this.sacked.count && this.holeLost(i, sackedAbove, mss);
      pipe += this.holeCount(start, end, lostBySack, highRxt, lossMark);
      if (i < this.sacked.count) {
        sackedAbove -= seqSub(this.sacked.right(i), this.sacked.left(i));
        start = this.sacked.right(i);
      }
    }
    return pipe;
  }

  private holeCount(
    start: number,
    end: number,
    lostBySack: boolean,
    highRxt: number,
    lossMark: number,
  ): number {
    if (!seqLt(start, end)) return 0;
    let n = 0;
    if (!lostBySack) n += seqSub(end, seqMax(start, seqMin(end, lossMark)));
    n += Math.max(0, seqSub(seqMin(end, highRxt), start));
    return n;
  }

  /**
   * RFC 6675 4 NextSeg rule 1: the first lost, un-SACKed byte at or above `from` (HighRxt).
   * Fills nextSeq/nextLen (bounded by the hole) and returns true if there is one.
   */
  nextLost(from: number, una: number, sndNxt: number, lossMark: number, mss: number): boolean {
    let sackedAbove = this.sacked.bytes();
    let start = una;
    for (let i = 0; i <= this.sacked.count; i++) {
      const end = i < this.sacked.count ? this.sacked.left(i) : sndNxt;
      const lostBySack = i < this.sacked.count && this.holeLost(i, sackedAbove, mss);
      const lostEnd = lostBySack ? end : seqMin(end, lossMark);
      const s = seqMax(start, from);
      if (seqLt(s, lostEnd)) return this.answer(s, lostEnd);
      if (i < this.sacked.count) {
        sackedAbove -= seqSub(this.sacked.right(i), this.sacked.left(i));
        start = this.sacked.right(i);
      }
    }
    return false;
  }

  /**
   * NextSeg rule 3: the first un-SACKed byte at or above `from` and below HighSACK (rule 3 keeps
   * (1.b): data above every SACK block is merely in flight). Off once RACK has seen reordering,
   * where a hole below HighSACK is most likely a segment still on its way (RFC 8985 6.2; Linux
   * dropped this "forward retransmission" altogether).
   */
  nextUnsacked(from: number, una: number, _sndNxt: number): boolean {
    if (!this.dupThreshLoss) return false;
    let start = una;
    for (let i = 0; i < this.sacked.count; i++) {
      const end = this.sacked.left(i);
      const s = seqMax(start, from);
      if (seqLt(s, end)) return this.answer(s, end);
      start = this.sacked.right(i);
    }
    return false;
  }

  private answer(seq: number, end: number): boolean {
    this.nextSeq = seq;
    this.nextLen = seqSub(end, seq);
    return true;
  }

  /** True when `seq` is SACKed. */
  isSacked(seq: number): boolean {
    return this.sacked.find(seq) >= 0;
  }

  /** Bytes SACKed at or above `seq`. */
  sackedFrom(seq: number): number {
    let n = 0;
    for (let i = 0; i < this.sacked.count; i++) {
      const l = this.sacked.left(i);
      const r = this.sacked.right(i);
      if (seqGe(l, seq)) n += seqSub(r, l);
      else if (seqGt(r, seq)) n += seqSub(r, seq);
    }
    return n;
  }
}

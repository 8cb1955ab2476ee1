// Loss recovery state of a sender: fast recovery on duplicate ACKs / SACK (RFC 6675 5, with
// RFC 6582 NewReno partial ACKs when the peer does not do SACK) and recovery after a
// retransmission timeout (RFC 6675 5.1, RFC 5681 3.1). It decides what to retransmit; the
// congestion controller (congestion/) decides how much may be in flight.
//
// One mechanism serves every case: bytes are "lost" when the SACK scoreboard says so (IsLost) or
// when they lie below `lossMark`, and the sender keeps sending while pipe < cwnd, choosing
// segments with NextSeg. Without SACK, duplicate ACKs count as SACKed segments in pipe
// (`renoSacked`), which is RFC 6582's window inflation expressed as pipe.

import { RangeSet } from './range-set.js';
import { DUP_THRESH, SackScoreboard } from './sack-scoreboard.js';
import { seqAdd, seqGe, seqGt, seqLt, seqMax, seqMin, seqSub } from './seq.js';

/** Retransmitted ranges one episode remembers for D-SACK undo; past it, timestamps only. */
const UNDO_RANGES = 16;

export const RecoveryKind = { None: 0, Fast: 1, Timeout: 2 } as const;
export type RecoveryKind = (typeof RecoveryKind)[keyof typeof RecoveryKind];

export class LossRecovery {
  kind: RecoveryKind = RecoveryKind.None;
  /** RFC 6675 RecoveryPoint: recovery ends when SND.UNA reaches it. */
  point = 0;
  /** RFC 6582 `recover`: no new fast retransmit until SND.UNA passes it (when active). */
  private recover = 0;
  private recoverActive = false;
  /** RFC 6675 HighRxt: retransmissions so far cover [SND.UNA, highRxt). */
  highRxt = 0;
  /** Everything below this is presumed lost. */
  lossMark = 0;
  dupAcks = 0;
  /** Duplicate ACKs counted as SACKed segments when the peer does not SACK. */
  private renoSacked = 0;
  /** Our TSval when recovery started (to spot stale timestamp echoes). */
  startTsVal = 0;
  /** NextSeg's answer. */
  nextSeq = 0;
  nextLen = 0;

  // Undo of a spurious episode (RFC 3522 Eifel detection with timestamps, RFC 3708 with D-SACK,
  // as Linux's undo_marker / undo_retrans / retrans_stamp). The episode stays undoable after it
  // ends, until the next one starts: the D-SACKs for late originals come after the full ACK.
  /** An episode (fast or RTO recovery) is undoable. */
  undoArmed = false;
  /** SND.UNA when it started (Linux undo_marker). */
  private undoMarker = 0;
  /** Our TSval when it started: an ACK echoing an older one was sent for an original. */
  private undoTsVal = 0;
  /** Retransmitted segments not yet shown spurious by a D-SACK (Linux undo_retrans). */
  undoRetrans = 0;
  /** The ranges retransmitted, so that only D-SACKs for them count. */
  private readonly undoRanges = new RangeSet(UNDO_RANGES);
  private undoRangesLost = false;
  /** Every ACK that advanced over retransmitted data echoed an original's TSval. */
  private undoByTs = false;
  /** Counters for this connection: undos by timestamps and by D-SACK, D-SACKs received. */
  undoneByTimestamps = 0;
  undoneByDsack = 0;
  dsacksReceived = 0;

  constructor(readonly scoreboard: SackScoreboard) {}

  get active(): boolean {
    return this.kind !== RecoveryKind.None;
  }

  /** A new connection whose first data byte is `start`. */
  reset(start: number): void {
    this.kind = RecoveryKind.None;
    this.recover = start;
    this.recoverActive = false;
    this.highRxt = start;
    this.lossMark = start;
    this.dupAcks = 0;
    this.renoSacked = 0;
    this.scoreboard.clear();
    this.scoreboard.dupThreshLoss = true;
    this.undoArmed = false;
  }

  /**
   * A new recovery episode starts at SND.UNA `sndUna` (call before enterFast/enterTimeout, only
   * when no recovery is active). The caller saves cwnd/ssthresh for undo alongside.
   */
  armUndo(sndUna: number, tsVal: number, tsOk: boolean): void {
    this.undoArmed = true;
    this.undoMarker = sndUna;
    this.undoTsVal = tsVal;
    this.undoRetrans = 0;
    this.undoRanges.clear();
    this.undoRangesLost = false;
    this.undoByTs = tsOk;
  }

  /**
   * RFC 3522 3.2 (Eifel detection): an ACK moved SND.UNA from `prevUna`. When the data it covers
   * was retransmitted in the episode, the segment that filled the receiver's hole is the one
   * whose TSval it echoes (RFC 7323 4.3): older than the episode means the original arrived.
   */
  onAckAdvance(prevUna: number, hasTsEcr: boolean, tsEcr: number): void {
    if (!this.undoArmed || !this.undoByTs || !this.active) return;
    if (this.undoRetrans === 0 && this.undoRanges.count === 0) return;
    if (
      this.undoRanges.count > 0 &&
      !seqLt(prevUna, this.undoRanges.right(this.undoRanges.count - 1))
    )
      return;
    if (!hasTsEcr || !seqLt(tsEcr, this.undoTsVal)) this.undoByTs = false;
  }

  /**
   * Eifel says every retransmission so far was spurious: at the full ACK of a fast recovery
   * (Linux tcp_try_undo_recovery), or at the first ACK after a timeout (RFC 3522, RFC 4015).
   */
  undoByTimestampsDue(fullAck: boolean): boolean {
    if (!this.undoArmed || !this.undoByTs || this.undoRetrans === 0) return false;
    return fullAck || this.kind === RecoveryKind.Timeout;
  }

  /**
   * RFC 3708 / RFC 2883 4.3: a D-SACK for [left, right). Returns true when it covers data this
   * episode retransmitted, i.e. a retransmission was spurious.
   */
  onDsack(left: number, right: number, mss: number): boolean {
    this.dsacksReceived++;
    if (!this.undoArmed || this.undoRetrans === 0 || !seqGt(right, this.undoMarker)) return false;
    const r = this.undoRanges;
    let overlap = 0;
    for (let i = 0; i < r.count; i++) {
      const lo = seqMax(left, r.left(i));
      const hi = seqMin(right, r.right(i));
      if (seqLt(lo, hi)) overlap += seqSub(hi, lo);
    }
    if (overlap === 0 && !this.undoRangesLost) return false;
    const segments = Math.max(1, Math.ceil(overlap / mss));
    this.undoRetrans = Math.max(0, this.undoRetrans - segments);
    return true;
  }

  /** RFC 3708: D-SACKs showed every retransmission of the episode spurious. */
  get undoByDsackDue(): boolean {
    return this.undoArmed && this.undoRetrans === 0 && this.undoRanges.count > 0;
  }

  /**
   * Undo the episode: leave recovery and forget its loss marks; the caller restores cwnd. `by`
   * says which signal proved it spurious, for the counters.
   */
  undo(sndUna: number, byDsack: boolean): void {
    if (byDsack) this.undoneByDsack++;
    else this.undoneByTimestamps++;
    this.undoArmed = false;
    this.kind = RecoveryKind.None;
    this.recoverActive = false;
    this.lossMark = sndUna;
    this.highRxt = sndUna;
    this.dupAcks = 0;
    this.renoSacked = 0;
  }

  /**
   * SND.UNA advanced to `ack` by `acked` bytes. Returns true when the congestion controller
   * should grow cwnd for it (outside fast recovery).
   */
  onNewAck(ack: number, acked: number, sackOk: boolean, mss: number): boolean {
    this.scoreboard.ackTo(ack);
    // Keep the marks from falling 2^31 behind SND.UNA, where comparisons would flip.
    this.highRxt = seqMax(this.highRxt, ack);
    this.lossMark = seqMax(this.lossMark, ack);
    if (this.recoverActive && seqGt(ack, this.recover)) this.recoverActive = false;
    if (this.kind !== RecoveryKind.None && seqGe(ack, this.point)) {
      this.kind = RecoveryKind.None; // full ACK (RFC 6582 3.2 step 3, RFC 6675 5 step 3)
      this.dupAcks = 0;
      this.renoSacked = 0;
      return false;
    }
    if (this.kind === RecoveryKind.Fast) {
      // Partial ACK (RFC 6582 3.2 step 4): the segment at the new SND.UNA is lost too.
      if (!sackOk) {
        this.lossMark = seqMax(this.lossMark, seqAdd(ack, mss));
        const segments = Math.ceil(acked / mss);
        this.renoSacked = Math.max(0, this.renoSacked - Math.max(0, segments - 1));
      }
      return false;
    }
    this.dupAcks = 0;
    return true; // no recovery, or after a timeout (slow start from one segment)
  }

  /**
   * A duplicate ACK (RFC 5681 2 / RFC 6675 2) arrived. Returns true when it starts fast
   * recovery (RFC 6675 5 step 4; RFC 6582 3.2 step 2 guards against a second start).
   */
  onDuplicateAck(sndUna: number, sackOk: boolean, mss: number): boolean {
    this.dupAcks++;
    if (this.kind === RecoveryKind.Fast && !sackOk) this.renoSacked++;
    if (this.kind !== RecoveryKind.None) return false;
    // RFC 8985 6.2 step 4: once reordering was seen, RACK's timer decides, not DupThresh.
    if (sackOk && !this.scoreboard.dupThreshLoss) return false;
    const lost = this.dupAcks >= DUP_THRESH || (sackOk && this.scoreboard.isLost(sndUna, mss));
    if (!lost) return false;
    return !(this.recoverActive && !seqGt(sndUna, this.recover));
  }

  /** Enter fast recovery; the caller retransmits the first segment at once. */
  enterFast(sndUna: number, sndNxt: number, sackOk: boolean, mss: number, tsVal: number): void {
    this.kind = RecoveryKind.Fast;
    this.startTsVal = tsVal;
    this.point = sndNxt;
    this.recover = sndNxt;
    this.recoverActive = true;
    this.highRxt = sndUna;
    this.lossMark = seqAdd(sndUna, mss);
    this.renoSacked = sackOk ? 0 : this.dupAcks;
  }

  /** RFC 6675 5.1: after a timeout everything outstanding is presumed lost. */
  enterTimeout(sndUna: number, sndNxt: number, tsVal: number, forgetSacks: boolean): void {
    if (this.kind === RecoveryKind.None) this.startTsVal = tsVal;
    this.kind = RecoveryKind.Timeout;
    this.point = sndNxt;
    this.recover = sndNxt;
    this.recoverActive = true;
    this.lossMark = sndNxt;
    this.highRxt = sndUna;
    this.dupAcks = 0;
    this.renoSacked = 0;
    // RFC 2018 8: after repeated timeouts the receiver may have reneged on its SACKs.
    if (forgetSacks) this.scoreboard.clear();
  }

  /**
   * The path MTU fell (RFC 1191, RFC 8201): segments sent in the old size were dropped on the
   * way, so everything outstanding is resent in the new size (Linux tcp_simple_retransmit). Not
   * a congestion signal: the caller leaves cwnd alone.
   */
  enterPathMtu(sndUna: number, sndNxt: number, tsVal: number): void {
    this.undoArmed = false; // its retransmissions are needed, whatever D-SACK says
    if (this.kind === RecoveryKind.None) {
      this.kind = RecoveryKind.Timeout;
      this.startTsVal = tsVal;
      this.point = sndNxt;
      this.recover = sndNxt;
      this.recoverActive = true;
      this.dupAcks = 0;
      this.renoSacked = 0;
    }
    this.lossMark = sndNxt;
    this.highRxt = sndUna;
  }

  /** RACK (RFC 8985 6.2) found everything below `end` that is not SACKed lost. */
  markLostTo(end: number): void {
    this.lossMark = seqMax(this.lossMark, end);
  }

  /** RFC 6675 SetPipe. */
  pipe(sndUna: number, sndNxt: number, mss: number): number {
    const p = this.scoreboard.pipe(sndUna, sndNxt, this.highRxt, this.lossMark, mss);
    return Math.max(0, p - this.renoSacked * mss);
  }

  /**
   * NextSeg rules 1 and 3 of RFC 6675 4 (rule 2, new data, is the caller's). Fills
   * nextSeq/nextLen; returns false when nothing needs retransmitting.
   */
  nextRetransmission(sndUna: number, sndNxt: number, mss: number, rule: 1 | 3): boolean {
    const sb = this.scoreboard;
    const from = seqMax(this.highRxt, sndUna);
    const found =
      rule === 1
        ? sb.nextLost(from, sndUna, sndNxt, this.lossMark, mss)
        : sb.nextUnsacked(from, sndUna, sndNxt);
    this.nextSeq = sb.nextSeq;
    this.nextLen = Math.min(sb.nextLen, mss);
    return found;
  }

  /** A retransmission covered sequence numbers up to `end` (from `start`, for undo). */
  retransmitted(end: number, start = end, mss = 1): void {
    this.highRxt = seqMax(this.highRxt, end);
    if (!this.undoArmed || !this.active || !seqLt(start, end)) return;
    this.undoRetrans += Math.max(1, Math.ceil(seqSub(end, start) / mss));
    if (this.undoRanges.add(start, end) < 0) this.undoRangesLost = true;
  }

  /** RFC 3042 limited transmit: how far past cwnd the first duplicate ACKs let new data go. */
  limitedTransmitBytes(mss: number): number {
    return this.kind === RecoveryKind.None ? Math.min(this.dupAcks, DUP_THRESH - 1) * mss : 0;
  }
}

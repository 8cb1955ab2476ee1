// RACK (RFC 8985 6): time-based loss detection. A segment is lost when a segment sent after it
// has been delivered (cumulatively ACKed or SACKed) and more than RACK.rtt + RACK.reo_wnd has
// passed since it was sent. It finds losses that duplicate-ACK counting cannot: the tail of a
// flight (with the TLP probe, RFC 8985 7), lost retransmissions' neighbours, and losses in flights
// too small for three duplicate ACKs.
//
// The sender keeps one record per transmitted segment, in sequence order (new data is always
// appended at SND.NXT): [start, end), when it was last sent, and whether it was retransmitted,
// SACKed or marked lost. Records live in a ring of typed arrays that grows by doubling (rare, on
// the first large flights), so an ACK costs no allocation. The TCB feeds it transmissions and
// ACKs and turns "lost up to X" into the loss recovery's lossMark (recovery.ts).

import type { SackScoreboard } from './sack-scoreboard.js';
import { seqGe, seqGt, seqLe, seqLt } from './seq.js';

const RETRANSMITTED = 1;
const SACKED = 2;
const LOST = 4;

const INITIAL_RECORDS = 16;
/** RFC 8985 6.2 step 4: recoveries a widened reordering window outlives without new D-SACKs. */
const REO_WND_PERSIST = 16;
/** The least a D-SACK step widens the reordering window by (the timestamp clock's tick). */
const REO_WND_MIN_STEP_MS = 1;
/** Linux caps reo_wnd_steps at 255; the window is capped at SRTT anyway. */
const REO_WND_MULT_MAX = 255;

export class Rack {
  private starts: Uint32Array;
  private ends: Uint32Array;
  private times: Float64Array;
  private flags: Uint8Array;
  private head = 0;
  private count = 0;
  private sackedCount = 0;

  /** RACK.xmit_ts / RACK.end_seq: the most recently sent segment known delivered. */
  xmitTs = -Infinity;
  endSeq = 0;
  /** RACK.rtt: the RTT of that segment. */
  rtt = 0;
  /** RACK.min_RTT. */
  minRtt = Infinity;
  /** RACK.fack: the highest end of any delivered segment. */
  private fack = 0;
  private fackSet = false;
  /** RACK.reord: reordering was seen on this connection. */
  reord = false;
  /** RFC 8985 6.2 step 4: RACK.reo_wnd_mult, RACK.reo_wnd_persist, RACK.dsack_round. */
  reoWndMult = 1;
  private reoWndPersist = 0;
  private dsackRound = 0;
  private dsackRoundSet = false;
  /** detect(): the end of the highest lost segment, and whether any was newly marked. */
  lostEnd = 0;
  anyLost = false;
  newlyLost = false;
  /** detect(): ms until the earliest not-yet-lost candidate would be lost (0: none). */
  timeout = 0;

  constructor() {
    this.starts = new Uint32Array(INITIAL_RECORDS);
    this.ends = new Uint32Array(INITIAL_RECORDS);
    this.times = new Float64Array(INITIAL_RECORDS);
    this.flags = new Uint8Array(INITIAL_RECORDS);
  }

  /** Records in flight (for tests). */
  get size(): number {
    return this.count;
  }

  reset(): void {
    this.head = 0;
    this.count = 0;
    this.sackedCount = 0;
    this.xmitTs = -Infinity;
    this.fackSet = false;
    this.reord = false;
    this.reoWndMult = 1;
    this.reoWndPersist = 0;
    this.dsackRoundSet = false;
  }

  private at(i: number): number {
    return (this.head + i) & (this.starts.length - 1);
  }

  /** [start, end) was sent at `now`: appended when new, else the records it covers are resent. */
  onTransmit(start: number, end: number, now: number, isNew: boolean): void {
    if (isNew) {
      if (this.count === this.starts.length) this.grow();
      const j = this.at(this.count++);
      this.starts[j] = start;
      this.ends[j] = end;
      this.times[j] = now;
      this.flags[j] = 0;
      return;
    }
    for (let i = 0; i < this.count; i++) {
      const j = this.at(i);
      if (seqLe(end, this.starts[j])) break;
      if (seqLe(this.ends[j], start)) continue;
      this.times[j] = now;
      if ((this.flags[j] & SACKED) === 0) this.flags[j] = RETRANSMITTED;
    }
  }

  /** Doubling keeps the ring a power of two; only while flights grow (not per packet). */
  private grow(): void {
    const n = this.starts.length;
    const s = new Uint32Array(2 * n);
    const e = new Uint32Array(2 * n);
    const t = new Float64Array(2 * n);
    const f = new Uint8Array(2 * n);
    for (let i = 0; i < this.count; i++) {
      const j = this.at(i);
      s[i] = this.starts[j];
      e[i] = this.ends[j];
      t[i] = this.times[j];
      f[i] = this.flags[j];
    }
    this.starts = s;
    this.ends = e;
    this.times = t;
    this.flags = f;
    this.head = 0;
  }

  /**
   * An ACK arrived: segments below `una` and those the scoreboard holds are delivered
   * (RFC 8985 6.2 steps 1-3). Cumulatively ACKed records are dropped.
   */
  onAck(una: number, sb: SackScoreboard, now: number): void {
    while (this.count > 0) {
      const j = this.head;
      if (seqGt(this.ends[j], una)) break;
      if ((this.flags[j] & SACKED) === 0) this.deliver(j, now);
      else this.sackedCount--;
      this.head = (j + 1) & (this.starts.length - 1);
      this.count--;
    }
    if (sb.isEmpty) return;
    const r = sb.sacked;
    for (let i = 0; i < this.count; i++) {
      const j = this.at(i);
      if ((this.flags[j] & SACKED) !== 0) continue;
      const k = r.find(this.starts[j]);
      if (k < 0 || seqLt(r.right(k), this.ends[j])) continue;
      this.flags[j] |= SACKED;
      this.sackedCount++;
      this.deliver(j, now);
    }
  }

  /** RFC 8985 6.2 step 2 (RACK_update) and step 3 (reordering). */
  private deliver(j: number, now: number): void {
    const t = this.times[j];
    const end = this.ends[j];
    const retransmitted = (this.flags[j] & RETRANSMITTED) !== 0;
    if (!retransmitted) {
      // Step 3: delivered below something already delivered, never resent: reordering.
      if (this.fackSet && seqLt(end, this.fack)) this.reord = true;
    }
    if (!this.fackSet || seqGt(end, this.fack)) {
      this.fack = end;
      this.fackSet = true;
    }
    const rtt = now - t;
    // Step 2: an ACK sooner than min_RTT after a retransmission is for the original (ambiguous).
    if (retransmitted && rtt < this.minRtt) return;
    if (rtt < this.minRtt) this.minRtt = rtt;
    if (t > this.xmitTs || (t === this.xmitTs && seqGt(end, this.endSeq))) {
      this.xmitTs = t;
      this.endSeq = end;
      this.rtt = rtt;
    }
  }

  /**
   * RFC 8985 6.2 step 4: a D-SACK showed a retransmission was spurious. The window grows by
   * min_RTT / 4 once per round trip that sees one (RACK.dsack_round), and stays wide for
   * REO_WND_PERSIST recoveries. Only D-SACKs for data we retransmitted count (Linux
   * tcp_dsack_seen): a duplicate made by the network says nothing about the window.
   */
  onSpuriousRetransmit(sndUna: number, sndNxt: number): void {
    if (this.dsackRoundSet && seqGe(sndUna, this.dsackRound)) this.dsackRoundSet = false;
    if (this.dsackRoundSet) return;
    this.dsackRound = sndNxt;
    this.dsackRoundSet = true;
    if (this.reoWndMult < REO_WND_MULT_MAX) this.reoWndMult++;
    this.reoWndPersist = REO_WND_PERSIST;
  }

  /** RFC 8985 6.2 step 4: a fast or RTO recovery ended. */
  onRecoveryEnd(): void {
    if (this.reoWndPersist > 0 && --this.reoWndPersist === 0) this.reoWndMult = 1;
  }

  /**
   * RFC 8985 6.2 step 4: the reordering window. Zero once loss recovery runs or DupThresh
   * segments are SACKed, unless reordering was seen; else reo_wnd_mult * min_RTT / 4, at most
   * SRTT.
   */
  reorderWindow(inRecovery: boolean, dupThresh: number, srtt: number): number {
    if (!this.reord && (inRecovery || this.sackedCount >= dupThresh)) return 0;
    if (this.minRtt === Infinity) return 0;
    const base = this.minRtt / 4;
    // Each D-SACK step adds at least one clock tick: where the reordered packets are the fast
    // ones (netem's reorder lets them skip the delay), min_RTT shrinks to nearly nothing and
    // steps of min_RTT / 4 would never reach the reordering's extent.
    const step = Math.max(base, REO_WND_MIN_STEP_MS);
    return Math.min(base + (this.reoWndMult - 1) * step, srtt);
  }

  /**
   * A recovery was undone (its retransmissions were spurious): forget the LOST marks so they do
   * not start the next one (Linux tcp_undo_cwnd_reduction with unmark_loss).
   */
  unmarkLost(): void {
    for (let i = 0; i < this.count; i++) {
      const j = this.at(i);
      this.flags[j] &= ~LOST;
    }
  }

  /**
   * RFC 8985 6.2 step 5 (RACK_detect_loss): marks lost every un-SACKed segment sent before
   * RACK.xmit_ts whose time is up. Fills lostEnd/anyLost/newlyLost and timeout.
   */
  detect(now: number, reoWnd: number): void {
    this.anyLost = false;
    this.newlyLost = false;
    this.timeout = 0;
    if (this.xmitTs === -Infinity) return;
    for (let i = 0; i < this.count; i++) {
      const j = this.at(i);
      const f = this.flags[j];
      if ((f & SACKED) !== 0) continue;
      if ((f & LOST) !== 0) {
        this.markEnd(j);
        continue;
      }
      const t = this.times[j];
      const sentBefore = t < this.xmitTs || (t === this.xmitTs && seqLt(this.ends[j], this.endSeq));
      if (!sentBefore) {
        // Records are in sending order except for retransmissions, which only move later: past
        // a never-resent record sent after RACK.xmit_ts, none was sent before it.
        if ((f & RETRANSMITTED) === 0) break;
        continue;
      }
      const remaining = t + this.rtt + reoWnd - now;
      if (remaining <= 0) {
        this.flags[j] = f | LOST;
        this.newlyLost = true;
        this.markEnd(j);
      } else if (remaining > this.timeout) {
        this.timeout = remaining;
      }
    }
  }

  private markEnd(j: number): void {
    if (!this.anyLost || seqGt(this.ends[j], this.lostEnd)) this.lostEnd = this.ends[j];
    this.anyLost = true;
  }
}

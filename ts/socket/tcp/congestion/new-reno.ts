// NewReno congestion control: slow start and congestion avoidance of RFC 5681 3.1 with
// appropriate byte counting (RFC 3465), and the window side of RFC 6582 fast recovery. The
// recovery itself (which segment to retransmit, partial ACKs) is in ../recovery.ts, which keeps
// sending while pipe < cwnd as RFC 6675 does; this is equivalent to RFC 6582's window inflation
// and deflation without the inflated cwnd ever being visible.

import {
  ABC_LIMIT_SEGMENTS,
  type CongestionControl,
  halvedSsthresh,
  initialWindow,
} from './congestion-control.js';

export class NewReno implements CongestionControl {
  readonly name = 'newreno';
  cwnd: number;
  ssthresh = Infinity;
  /** Bytes ACKed in congestion avoidance since cwnd last grew (RFC 3465 2.1). */
  private bytesAcked = 0;
  private undoCwnd = 0;
  private undoSsthresh = Infinity;

  constructor(private mss: number) {
    this.cwnd = initialWindow(mss);
  }

  setMss(mss: number): void {
    if (this.ssthresh === Infinity && this.cwnd === initialWindow(this.mss)) {
      this.cwnd = initialWindow(mss);
    }
    this.mss = mss;
  }

  onAck(acked: number, cwndLimited: boolean, _nowMs: number, _srttMs: number): void {
    // RFC 7661 / RFC 5681 4.1 spirit: do not grow a window the sender is not using.
    if (!cwndLimited) return;
    if (this.cwnd < this.ssthresh) {
      this.cwnd += Math.min(acked, ABC_LIMIT_SEGMENTS * this.mss);
      return;
    }
    // RFC 3465 2.1: one SMSS per cwnd bytes ACKed.
    this.bytesAcked += acked;
    if (this.bytesAcked >= this.cwnd) {
      this.bytesAcked -= this.cwnd;
      this.cwnd += this.mss;
    }
  }

  onLoss(flightSize: number, _nowMs: number): void {
    this.ssthresh = halvedSsthresh(flightSize, this.mss);
    this.cwnd = this.ssthresh;
    this.bytesAcked = 0;
  }

  onTimeout(flightSize: number, _nowMs: number): void {
    this.ssthresh = halvedSsthresh(flightSize, this.mss);
    this.cwnd = this.mss;
    this.bytesAcked = 0;
  }

  saveUndo(): void {
    this.undoCwnd = this.cwnd;
    this.undoSsthresh = this.ssthresh;
  }

  undo(): void {
    this.cwnd = Math.max(this.cwnd, this.undoCwnd);
    this.ssthresh = Math.max(this.ssthresh, this.undoSsthresh);
  }
}

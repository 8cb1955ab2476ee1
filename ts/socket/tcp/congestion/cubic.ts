// CUBIC congestion control, RFC 9438. Windows are kept in bytes; the cubic function is evaluated
// in segments (as the RFC states it) and converted. Slow start is the standard one with ABC
// (RFC 9438 4.10 allows it; HyStart++ is not implemented).

import { ABC_LIMIT_SEGMENTS, type CongestionControl, initialWindow } from './congestion-control.js';

/** RFC 9438 4.1 and 5. */
export const CUBIC_C = 0.4;
export const CUBIC_BETA = 0.7;
/** RFC 9438 4.3: alpha_cubic = 3 (1 - beta) / (1 + beta). */
const ALPHA_CUBIC = (3 * (1 - CUBIC_BETA)) / (1 + CUBIC_BETA);

export class Cubic implements CongestionControl {
  readonly name = 'cubic';
  cwnd: number;
  ssthresh = Infinity;
  /** W_max in bytes: the window just before the last reduction (RFC 9438 4.1). */
  wMax = 0;
  /** Start of the current congestion avoidance epoch, ms; -1 when none is running. */
  private epochStart = -1;
  /** K in seconds (RFC 9438 eq 2). */
  private k = 0;
  /** W_est in bytes, the Reno-friendly estimate (RFC 9438 4.3). */
  private wEst = 0;
  private undoCwnd = 0;
  private undoSsthresh = Infinity;
  private undoWMax = 0;

  constructor(private mss: number) {
    this.cwnd = initialWindow(mss);
  }

  setMss(mss: number): void {
    if (this.ssthresh === Infinity && this.cwnd === initialWindow(this.mss)) {
      this.cwnd = initialWindow(mss);
    }
    this.mss = mss;
  }

  /** W_cubic(t) in bytes, t in seconds since the epoch start (RFC 9438 eq 1). */
  wCubic(t: number): number {
    const d = t - this.k;
    return (CUBIC_C * d * d * d + this.wMax / this.mss) * this.mss;
  }

  onAck(acked: number, cwndLimited: boolean, nowMs: number, srttMs: number): void {
    if (!cwndLimited) return;
    if (this.cwnd < this.ssthresh) {
      this.cwnd += Math.min(acked, ABC_LIMIT_SEGMENTS * this.mss);
      return;
    }
    if (this.epochStart < 0) this.startEpoch(nowMs);
    const t = (nowMs - this.epochStart) / 1000;
    const rtt = srttMs / 1000;
    // RFC 9438 4.3: the Reno-friendly estimate, alpha becomes 1 once W_est passes W_max.
    const alpha = this.wEst >= this.wMax ? 1 : ALPHA_CUBIC;
    this.wEst += (alpha * this.mss * acked) / this.cwnd;
    const cubicNow = this.wCubic(t);
    if (cubicNow < this.wEst) {
      this.cwnd = Math.max(this.cwnd, this.wEst);
      return;
    }
    // RFC 9438 4.4/4.5: aim at W_cubic(t + RTT), clamped to [cwnd, 1.5 cwnd].
    const target = Math.min(Math.max(this.wCubic(t + rtt), this.cwnd), 1.5 * this.cwnd);
    this.cwnd += ((target - this.cwnd) * acked) / this.cwnd;
  }

  private startEpoch(nowMs: number): void {
    this.epochStart = nowMs;
    this.wEst = this.cwnd;
    if (this.wMax <= this.cwnd) {
      this.wMax = this.cwnd;
      this.k = 0;
    } else {
      this.k = Math.cbrt((this.wMax - this.cwnd) / this.mss / CUBIC_C);
    }
  }

  /** RFC 9438 4.6 (multiplicative decrease) and 4.7 (fast convergence). */
  private reduce(flightSize: number): void {
    const w = Math.max(this.cwnd, flightSize);
    this.wMax = w < this.wMax ? (w * (1 + CUBIC_BETA)) / 2 : w;
    this.ssthresh = Math.max(Math.floor(flightSize * CUBIC_BETA), 2 * this.mss);
    this.epochStart = -1;
  }

  onLoss(flightSize: number, _nowMs: number): void {
    this.reduce(flightSize);
    this.cwnd = this.ssthresh;
  }

  /** RFC 9438 4.8. */
  onTimeout(flightSize: number, _nowMs: number): void {
    this.reduce(flightSize);
    this.cwnd = this.mss;
  }

  saveUndo(): void {
    this.undoCwnd = this.cwnd;
    this.undoSsthresh = this.ssthresh;
    this.undoWMax = this.wMax;
  }

  /** RFC 9438 4.9: a spurious congestion event restores the state from before it. */
  undo(): void {
    this.cwnd = Math.max(this.cwnd, this.undoCwnd);
    this.ssthresh = Math.max(this.ssthresh, this.undoSsthresh);
    this.wMax = this.undoWMax;
    this.epochStart = -1;
  }
}

// The interface every congestion controller implements. Windows are in bytes; `mss` is the
// sender's maximum segment size (SMSS of RFC 5681). The TCB detects losses (dupACKs, SACK, RTO)
// and runs loss recovery (RFC 6675 pipe, see ../recovery.ts); a controller only decides cwnd and
// ssthresh. Time is milliseconds from the TCB's injected clock.

export interface CongestionControl {
  readonly name: string;
  /** Congestion window in bytes. */
  readonly cwnd: number;
  /** Slow start threshold in bytes (Infinity until the first loss, RFC 5681 3.1). */
  readonly ssthresh: number;
  /** `acked` new bytes were cumulatively ACKed outside loss recovery. */
  onAck(acked: number, cwndLimited: boolean, nowMs: number, srttMs: number): void;
  /** Loss detected by duplicate ACKs or SACK: enter recovery (cwnd = ssthresh). */
  onLoss(flightSize: number, nowMs: number): void;
  /** The retransmission timer expired (cwnd = one segment, RFC 5681 3.1 equation 4). */
  onTimeout(flightSize: number, nowMs: number): void;
  /** The sender's MSS changed (negotiated after the handshake). */
  setMss(mss: number): void;
  /** A loss recovery episode starts: remember the state a later undo() goes back to. */
  saveUndo(): void;
  /**
   * The episode's retransmissions were all spurious (RFC 3522, RFC 3708): restore cwnd and
   * ssthresh saved by saveUndo(), never lowering them (RFC 4015 3.2, Linux
   * tcp_undo_cwnd_reduction).
   */
  undo(): void;
}

/** RFC 6928 2: IW = min(10*MSS, max(2*MSS, 14600)). */
export function initialWindow(mss: number): number {
  return Math.min(10 * mss, Math.max(2 * mss, 14600));
}

/** RFC 5681 3.1 equation 4: ssthresh = max(FlightSize / 2, 2*SMSS). */
export function halvedSsthresh(flightSize: number, mss: number): number {
  return Math.max(Math.floor(flightSize / 2), 2 * mss);
}

/** RFC 3465 2.2: in slow start, grow by at most L*SMSS per ACK, L = 2. */
export const ABC_LIMIT_SEGMENTS = 2;

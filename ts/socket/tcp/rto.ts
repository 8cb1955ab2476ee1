// Round-trip time estimation and the retransmission timeout, RFC 6298. Times are milliseconds.
//
// Samples come from one timed segment per flight (Karn's algorithm, RFC 6298 3: never from a
// retransmitted segment) or, when timestamps are in use, from the echoed TSval of every ACK that
// advances SND.UNA (RFC 7323 4.2, which makes retransmissions unambiguous). The TCB decides which
// samples are valid; this class only does the arithmetic.

/** RFC 6298 2.1: RTO before the first sample. */
export const INITIAL_RTO_MS = 1000;

export interface RtoConfig {
  /**
   * Floor of the variance term, as Linux's tcp_rto_min (200 ms): RTO = SRTT + max(G, K*RTTVAR,
   * minRtoMs). RFC 6298 2.4 instead rounds the whole RTO up to 1 s. Flooring only the variance
   * keeps the RTO above SRTT plus a peer's longest delayed ACK (Linux delays up to 200 ms), where
   * max(min, SRTT + K*RTTVAR) fires spuriously once delayed ACKs have raised SRTT (seen closing
   * 20,000 connections at once: SRTT 36 ms, FINs retransmitted at 200 ms while the peer's
   * delayed ACKs were still due).
   */
  minRtoMs: number;
  /** Upper bound; RFC 6298 2.5 allows one of at least 60 s. */
  maxRtoMs: number;
  /** Clock granularity G of RFC 6298 2.2. */
  granularityMs: number;
}

export const DEFAULT_RTO_CONFIG: RtoConfig = { minRtoMs: 200, maxRtoMs: 120_000, granularityMs: 1 };

// RFC 6298 2.3: alpha = 1/8, beta = 1/4, K = 4.
const ALPHA = 0.125;
const BETA = 0.25;
const K = 4;

export class RttEstimator {
  /** Smoothed RTT; 0 until the first sample. */
  srtt = 0;
  rttvar = 0;
  /** The timeout without backoff. */
  private baseRto = INITIAL_RTO_MS;
  /** Doublings applied since the last new ACK (RFC 6298 5.5). */
  backoffCount = 0;
  hasSample = false;

  constructor(private readonly config: RtoConfig = DEFAULT_RTO_CONFIG) {}

  /** The current retransmission timeout, backoff included, within [min, max]. */
  get rto(): number {
    // RFC 6298 5.5 doubles the computed value (its floor applied in sample()).
    return Math.min(this.config.maxRtoMs, this.baseRto * 2 ** this.backoffCount);
  }

  /** Feed one RTT measurement R in milliseconds (RFC 6298 2.2 and 2.3). */
  sample(r: number): void {
    if (r < 0) return;
    if (!this.hasSample) {
      this.srtt = r;
      this.rttvar = r / 2;
      this.hasSample = true;
    } else {
      this.rttvar = (1 - BETA) * this.rttvar + BETA * Math.abs(this.srtt - r);
      this.srtt = (1 - ALPHA) * this.srtt + ALPHA * r;
    }
    const c = this.config;
    this.baseRto = this.srtt + Math.max(c.granularityMs, K * this.rttvar, c.minRtoMs);
  }

  /** RFC 6298 5.5: double the timeout after it expires. */
  backoff(): void {
    if (this.rto < this.config.maxRtoMs) this.backoffCount++;
  }

  /** A new ACK arrived: the backed-off value is no longer needed (RFC 6298 5.7 keeps it until then). */
  resetBackoff(): void {
    this.backoffCount = 0;
  }

  /**
   * RFC 6298 5.7: after the SYN (or SYN-ACK) timed out and no sample exists yet, the RTO used once
   * data transfer starts must be 3 s.
   */
  synTimedOut(): void {
    if (!this.hasSample) this.baseRto = 3000;
  }
}

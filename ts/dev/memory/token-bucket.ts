// The rate limit: a token bucket shaper (as Linux tbf). A packet that finds enough tokens leaves
// at once; otherwise it waits for them, so departures never exceed the rate beyond one bucket of
// burst. Packets that would wait behind more than the queue limit are dropped (tail drop).

export class TokenBucket {
  /** Tokens (bits) at `time`; starts full (clamped to the burst on first use). */
  private tokens = Infinity;
  /** When `tokens` was last brought up to date; later than now while a backlog drains. */
  private time = -Infinity;

  /**
   * When a packet of `bits` offered at `now` (ms) leaves under `bitsPerSecond` with a bucket of
   * `burstBits`; -1 when it would wait behind more than `queueBits` and must be dropped.
   */
  depart(
    now: number,
    bits: number,
    bitsPerSecond: number,
    burstBits: number,
    queueBits: number,
  ): number {
    let tokens = this.tokens;
    let time = this.time;
    if (time < now) {
      tokens += ((now - time) * bitsPerSecond) / 1000;
      if (tokens > burstBits) tokens = burstBits;
      time = now;
    }
    let leave = time;
    if (tokens >= bits) {
      tokens -= bits;
    } else {
      leave = time + ((bits - tokens) * 1000) / bitsPerSecond;
      tokens = 0;
    }
    if (((leave - now) * bitsPerSecond) / 1000 > queueBits) return -1;
    this.tokens = tokens;
    this.time = leave;
    return leave;
  }

  /** Forgets the backlog and fills the bucket (after the rate was changed, say). */
  reset(): void {
    this.tokens = Infinity;
    this.time = -Infinity;
  }
}

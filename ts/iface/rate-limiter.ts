// A token bucket for ICMP errors (RFC 1812 4.3.2.8, RFC 4443 2.4(f)): `rate` messages per second
// on average, at most `burst` at once. Linux uses the same shape (icmp_msgs_per_sec 1000,
// icmp_msgs_burst 50).

export class TokenBucket {
  private tokens: number;
  private last = Number.NEGATIVE_INFINITY;

  constructor(
    readonly ratePerSecond: number,
    readonly burst: number,
  ) {
    this.tokens = burst;
  }

  /** Takes one token if there is one at `now` (ms). */
  take(now: number): boolean {
    if (this.last !== Number.NEGATIVE_INFINITY && now > this.last) {
      this.tokens += ((now - this.last) * this.ratePerSecond) / 1000;
      if (this.tokens > this.burst) this.tokens = this.burst;
    }
    if (now > this.last || this.last === Number.NEGATIVE_INFINITY) this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

// Keep-alive (RFC 9293 3.8.4, RFC 1122 4.2.3.6): after `idleMs` without hearing from the peer,
// probe every `intervalMs`; after `count` unanswered probes the peer is dead. Off by default,
// and the idle time defaults to two hours, as RFC 1122 requires.

export const KeepAliveAction = { None: 0, Probe: 1, Dead: 2 } as const;
export type KeepAliveAction = (typeof KeepAliveAction)[keyof typeof KeepAliveAction];

export class KeepAlive {
  enabled = false;
  /** When the timer fires next (Infinity when off). */
  deadline = Infinity;
  private probes = 0;
  private lastHeard = 0;

  constructor(
    public idleMs: number,
    public intervalMs: number,
    public count: number,
  ) {}

  /** Turn on or off; the idle period counts from the last segment heard. */
  set(on: boolean): void {
    this.enabled = on;
    this.probes = 0;
    this.deadline = on ? this.lastHeard + this.idleMs : Infinity;
  }

  /** The connection is established at `nowMs`: start counting. */
  start(nowMs: number): void {
    this.lastHeard = nowMs;
    if (this.enabled) this.deadline = nowMs + this.idleMs;
  }

  /** An acceptable segment arrived: the peer is alive. */
  heard(nowMs: number): void {
    this.lastHeard = nowMs;
    if (this.probes > 0) {
      this.probes = 0; // answered: back to a full idle period
      this.deadline = nowMs + this.idleMs;
    }
  }

  stop(): void {
    this.deadline = Infinity;
  }

  /**
   * The deadline passed. `probeable`: established (or close-wait) with nothing in flight
   * (otherwise retransmissions are already testing the peer). Returns what to do.
   */
  fire(nowMs: number, probeable: boolean): KeepAliveAction {
    this.deadline = Infinity;
    if (!this.enabled) return KeepAliveAction.None;
    if (!probeable) {
      this.deadline = nowMs + this.idleMs;
      return KeepAliveAction.None;
    }
    // The same sum the deadline was set to, not nowMs - lastHeard < idleMs: where the sum
    // rounds down (lastHeard and the deadline on either side of a power of two), the difference
    // falls short of idleMs at the deadline itself, and the timer would re-arm for the moment it
    // fired at, forever on a clock that does not move by itself (a virtual clock).
    const idleEnd = this.lastHeard + this.idleMs;
    if (this.probes === 0 && idleEnd > nowMs) {
      this.deadline = idleEnd; // heard from the peer since arming
      return KeepAliveAction.None;
    }
    if (this.probes >= this.count) return KeepAliveAction.Dead;
    this.probes++;
    this.deadline = nowMs + this.intervalMs;
    return KeepAliveAction.Probe;
  }
}

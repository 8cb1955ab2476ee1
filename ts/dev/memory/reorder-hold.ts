// Packets held back by reorderRate: each waits until `distance` later packets have been
// scheduled past it, or for the hold time when traffic stops (the time setting in force when
// checked, so a change applies to packets already held). Oldest first; preallocated.

export class ReorderHold {
  readonly capacity: number;
  private readonly addrs: Uint32Array;
  private readonly lens: Uint32Array;
  private readonly jitter: Float64Array;
  private readonly remaining: Int32Array;
  private readonly heldAt: Float64Array;
  private count = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.addrs = new Uint32Array(capacity);
    this.lens = new Uint32Array(capacity);
    this.jitter = new Float64Array(capacity);
    this.remaining = new Int32Array(capacity);
    this.heldAt = new Float64Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  /** Holds a packet (with its pre-drawn jitter sample) from `now`; false when the hold is full. */
  hold(addr: number, len: number, jitterDraw: number, distance: number, now: number): boolean {
    const k = this.count;
    if (k === this.capacity) return false;
    this.addrs[k] = addr;
    this.lens[k] = len;
    this.jitter[k] = jitterDraw;
    this.remaining[k] = distance;
    this.heldAt[k] = now;
    this.count = k + 1;
    return true;
  }

  /** One later packet went past every held packet. */
  passed(): void {
    for (let k = 0; k < this.count; k++) this.remaining[k]--;
  }

  /** Index of the oldest packet whose wait is over at `now` for a hold time of `holdMs`, or -1. */
  firstReady(now: number, holdMs: number): number {
    for (let k = 0; k < this.count; k++) {
      if (this.remaining[k] <= 0 || this.heldAt[k] + holdMs <= now) return k;
    }
    return -1;
  }

  /** When the oldest packet's hold time is up, or Infinity when nothing is held. */
  nextDeadline(holdMs: number): number {
    return this.count === 0 ? Infinity : this.heldAt[0] + holdMs;
  }

  addrAt(k: number): number {
    return this.addrs[k];
  }

  lenAt(k: number): number {
    return this.lens[k];
  }

  jitterAt(k: number): number {
    return this.jitter[k];
  }

  /** Removes entry `k`, keeping the others in order. */
  remove(k: number): void {
    const last = this.count - 1;
    this.addrs.copyWithin(k, k + 1, this.count);
    this.lens.copyWithin(k, k + 1, this.count);
    this.jitter.copyWithin(k, k + 1, this.count);
    this.remaining.copyWithin(k, k + 1, this.count);
    this.heldAt.copyWithin(k, k + 1, this.count);
    this.count = last;
  }
}

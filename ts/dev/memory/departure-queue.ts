// Packets a memory port has sent and not yet put on the wire, ordered by release time (ties in
// the order they were scheduled). Preallocated: it can hold every frame of the pair at once, so
// scheduling never fails and never allocates. With no delay every release time is "now" and a
// packet goes on at the tail in O(1); jitter moves it back past the few later-released ones.

export class DepartureQueue {
  private readonly times: Float64Array;
  private readonly addrs: Uint32Array;
  private readonly lens: Uint32Array;
  private readonly mask: number;
  /** Slot of the first packet. */
  private head = 0;
  private count = 0;

  constructor(minCapacity: number) {
    let capacity = 1;
    while (capacity < minCapacity) capacity *= 2;
    this.mask = capacity - 1;
    this.times = new Float64Array(capacity);
    this.addrs = new Uint32Array(capacity);
    this.lens = new Uint32Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  /** Inserts a packet released at `time`, after every packet released at or before it. */
  insert(time: number, addr: number, len: number): void {
    if (this.count > this.mask) throw overflow();
    const { times, addrs, lens, mask } = this;
    let at = (this.head + this.count) & mask;
    for (let behind = this.count; behind > 0; behind--) {
      const prev = (at - 1) & mask;
      if (times[prev] <= time) break;
      times[at] = times[prev];
      addrs[at] = addrs[prev];
      lens[at] = lens[prev];
      at = prev;
    }
    times[at] = time;
    addrs[at] = addr;
    lens[at] = len;
    this.count++;
  }

  /**
   * Queues a packet at the tail, released no earlier than the packet before it (at once when
   * the queue is empty): order is kept and no time is needed.
   */
  append(addr: number, len: number): void {
    if (this.count > this.mask) throw overflow();
    const at = (this.head + this.count) & this.mask;
    this.times[at] = this.count === 0 ? -Infinity : this.times[(at - 1) & this.mask];
    this.addrs[at] = addr;
    this.lens[at] = len;
    this.count++;
  }

  /** Release time of the last packet, or -Infinity when empty. */
  tailTime(): number {
    return this.count === 0 ? -Infinity : this.times[(this.head + this.count - 1) & this.mask];
  }

  /** Release time of the first packet, or Infinity when empty. */
  headTime(): number {
    return this.count === 0 ? Infinity : this.times[this.head];
  }

  /** How many packets from the head are released at or before `now` (at most `max`). */
  due(now: number, max: number): number {
    const limit = max < this.count ? max : this.count;
    let n = 0;
    while (n < limit && this.times[(this.head + n) & this.mask] <= now) n++;
    return n;
  }

  /** Address of the `k`th packet from the head. */
  addrAt(k: number): number {
    return this.addrs[(this.head + k) & this.mask];
  }

  /** Length of the `k`th packet from the head. */
  lenAt(k: number): number {
    return this.lens[(this.head + k) & this.mask];
  }

  /** Removes `n` packets from the head. */
  drop(n: number): void {
    this.head = (this.head + n) & this.mask;
    this.count -= n;
  }
}

function overflow(): Error {
  return Object.assign(new Error('departure queue overflow: a frame was sent twice'), {
    code: 'EINVAL',
  });
}

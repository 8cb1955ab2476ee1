// Packets of this worker waiting for address resolution (RFC 1122 2.3.2.2: "SHOULD save at least
// one packet"; RFC 4861 7.2.2: a small queue per neighbour). One bounded FIFO of built frames for
// all neighbours: when it is full the oldest packet is dropped to make room, and each packet
// carries its next hop's key so it goes as soon as that neighbour resolves.

import type { Key } from './shared-table.js';

export class PendingQueue {
  readonly capacity: number;
  /** Frame address (where the Ethernet header starts) or -1 for a removed slot. */
  private readonly addrs: Float64Array;
  private readonly lens: Uint32Array;
  private readonly keys: Int32Array;
  private readonly times: Float64Array;
  private head = 0;
  private tail = 0;
  private live = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw Object.assign(new Error(`pendingPackets ${capacity} must be a positive integer`), {
        code: 'EINVAL',
      });
    }
    this.capacity = capacity;
    this.addrs = new Float64Array(capacity).fill(-1);
    this.lens = new Uint32Array(capacity);
    this.keys = new Int32Array(4 * capacity);
    this.times = new Float64Array(capacity);
  }

  get size(): number {
    return this.live;
  }

  /**
   * Queues the frame at `addr`. Returns the address of the oldest frame that had to go to make
   * room (the caller releases it and counts the drop), or -1.
   */
  push(addr: number, len: number, key: Key, now: number): number {
    let evicted = -1;
    if (this.used() === this.capacity) evicted = this.shiftOldest();
    const i = this.tail;
    this.addrs[i] = addr;
    this.lens[i] = len;
    for (let k = 0; k < 4; k++) this.keys[4 * i + k] = key[k];
    this.times[i] = now;
    this.tail = (i + 1) % this.capacity;
    this.live++;
    return evicted;
  }

  // Slots between head and tail, removed ones included.
  private used(): number {
    if (this.live === 0 && this.head === this.tail) return 0;
    const n = (this.tail - this.head + this.capacity) % this.capacity;
    return n === 0 ? this.capacity : n;
  }

  private shiftOldest(): number {
    while (this.used() > 0) {
      const i = this.head;
      const addr = this.addrs[i];
      this.addrs[i] = -1;
      this.head = (i + 1) % this.capacity;
      if (addr >= 0) {
        this.live--;
        this.normalise();
        return addr;
      }
    }
    return -1;
  }

  // With nothing live, reset to empty so used() is exact.
  private normalise(): void {
    if (this.live === 0) {
      this.head = 0;
      this.tail = 0;
      this.addrs.fill(-1);
    }
  }

  /** Index iteration for the owner: slots from the oldest; -1 when past the end. */
  first(): number {
    return this.live === 0 ? -1 : this.head;
  }

  next(i: number): number {
    const n = (i + 1) % this.capacity;
    return n === this.tail ? -1 : n;
  }

  addrAt(i: number): number {
    return this.addrs[i];
  }

  lenAt(i: number): number {
    return this.lens[i];
  }

  timeAt(i: number): number {
    return this.times[i];
  }

  /** Copies slot i's key into `out`. */
  keyAt(i: number, out: Key): Key {
    for (let k = 0; k < 4; k++) out[k] = this.keys[4 * i + k];
    return out;
  }

  keyEquals(i: number, key: Key): boolean {
    const b = 4 * i;
    const ks = this.keys;
    return ks[b] === key[0] && ks[b + 1] === key[1] && ks[b + 2] === key[2] && ks[b + 3] === key[3];
  }

  /** Removes slot i (its frame is the caller's again). */
  remove(i: number): void {
    if (this.addrs[i] < 0) return;
    this.addrs[i] = -1;
    this.live--;
    while (this.head !== this.tail && this.addrs[this.head] < 0) {
      this.head = (this.head + 1) % this.capacity;
    }
    this.normalise();
  }
}

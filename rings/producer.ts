// The producer side of a single-producer/single-consumer ring (AF_XDP's xsk_ring_prod):
// reserve slots, write entries, submit them with one release store of the producer index.

import { ADDR_ENTRY_SIZE, DESC_ENTRY_SIZE, type EntrySize, ringError } from './layout.js';
import { CONS, CONS_WAKE, PROD, PROD_WAKE, RingSide } from './ring-side.js';
import { parkAsync, parkSync } from './wait.js';

/** Producer state common to descriptor and address rings. Exactly one thread may own it. */
export class RingProducer extends RingSide {
  /** Our producer index; only this side writes it, so the local copy is authoritative. */
  protected prod: number;
  /** Last consumer index we read; refreshed only when the cached view shows too little room. */
  protected cachedCons: number;
  /** Slots handed out by the last reserve() and not yet submitted. */
  protected reserved = 0;

  constructor(sab: SharedArrayBuffer, byteOffset: number, entrySize: EntrySize) {
    super(sab, byteOffset, entrySize);
    this.prod = Atomics.load(this.ctl, PROD);
    this.cachedCons = Atomics.load(this.ctl, CONS);
  }

  /** Free slots as far as the cached consumer index knows (may under-count, never over-count). */
  cachedFree(): number {
    return this.capacity - ((this.prod - this.cachedCons) >>> 0);
  }

  /** Free slots, re-reading the consumer index (acquire) first. */
  free(): number {
    this.cachedCons = Atomics.load(this.ctl, CONS);
    return this.cachedFree();
  }

  /**
   * Reserves up to `n` slots and returns how many it got (0 when full). Fill them with the
   * subclass's write methods at positions 0..got-1, then submit(). Reads the consumer index
   * only when the cached copy shows fewer than `n` free slots.
   */
  reserve(n: number): number {
    let free = this.cachedFree();
    if (free < n) free = this.free();
    const got = n < free ? n : free;
    this.reserved = got;
    return got;
  }

  /**
   * Publishes the first `n` reserved entries (release store of the producer index); the rest of
   * the reservation is dropped. Notifies the consumer only if it set its need-wakeup flag.
   */
  submit(n: number): void {
    if (n > this.reserved || n < 0) {
      throw ringError('EINVAL', `submit(${n}) exceeds the ${this.reserved} slots reserved`);
    }
    this.reserved = 0;
    if (n === 0) return; // the index is unchanged: nothing to publish, nobody to wake
    this.prod = (this.prod + n) >>> 0;
    this.publishIndex(PROD, this.prod, CONS_WAKE);
  }

  /** True when the consumer has asked to be notified (it is parked or about to park). */
  consumerNeedsWakeup(): boolean {
    return this.wantsWakeup(CONS_WAKE);
  }

  /**
   * Parks the thread until at least `n` slots are free or `timeoutMs` passes; returns the free
   * count. Use after spinning a while; the consumer's release() wakes us.
   */
  waitForSpace(n: number, timeoutMs: number): number {
    const seen = (this.cachedCons = this.announceWait(PROD_WAKE, CONS));
    if (this.cachedFree() < n) parkSync(this.ctl32, CONS, seen, timeoutMs);
    this.endWait(PROD_WAKE);
    return this.free();
  }

  /** Like waitForSpace but yields to the event loop while parked. */
  async waitForSpaceAsync(n: number, timeoutMs: number): Promise<number> {
    const seen = (this.cachedCons = this.announceWait(PROD_WAKE, CONS));
    if (this.cachedFree() < n) await parkAsync(this.ctl32, CONS, seen, timeoutMs);
    this.endWait(PROD_WAKE);
    return this.free();
  }
}

/** Producer of a descriptor ring: entries are [addr u32, len u32]. */
export class DescProducer extends RingProducer {
  constructor(sab: SharedArrayBuffer, byteOffset: number) {
    super(sab, byteOffset, DESC_ENTRY_SIZE);
  }

  /** Writes reserved slot `i` (0-based within the current reservation). */
  write(i: number, addr: number, len: number): void {
    const w = ((this.prod + i) & this.mask) << 1;
    this.entries[w] = addr;
    this.entries[w + 1] = len;
  }

  /** Reserves, writes and submits one descriptor; false when the ring is full. */
  push(addr: number, len: number): boolean {
    if (this.reserve(1) === 0) return false;
    this.write(0, addr, len);
    this.submit(1);
    return true;
  }
}

/** Producer of an address ring (fill/completion/free-frame rings): entries are [addr u32]. */
export class AddrProducer extends RingProducer {
  constructor(sab: SharedArrayBuffer, byteOffset: number) {
    super(sab, byteOffset, ADDR_ENTRY_SIZE);
  }

  /** Writes reserved slot `i` (0-based within the current reservation). */
  write(i: number, addr: number): void {
    this.entries[(this.prod + i) & this.mask] = addr;
  }

  /** Reserves, writes and submits one address; false when the ring is full. */
  push(addr: number): boolean {
    if (this.reserve(1) === 0) return false;
    this.write(0, addr);
    this.submit(1);
    return true;
  }
}

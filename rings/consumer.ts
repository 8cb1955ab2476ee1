// The consumer side of a single-producer/single-consumer ring (AF_XDP's xsk_ring_cons):
// peek at published entries, read them in place, release the slots with one store.

import { ADDR_ENTRY_SIZE, DESC_ENTRY_SIZE, type EntrySize, ringError } from './layout.js';
import { CONS, CONS_WAKE, PROD, PROD_WAKE, RingSide } from './ring-side.js';
import { parkAsync, parkSync } from './wait.js';

/** Consumer state common to descriptor and address rings. Exactly one thread may own it. */
export class RingConsumer extends RingSide {
  /** Our consumer index; only this side writes it, so the local copy is authoritative. */
  protected cons: number;
  /** Last producer index we read; refreshed only when the cached view shows too few entries. */
  protected cachedProd: number;
  /** Entries handed out by the last peek() and not yet released. */
  protected peeked = 0;

  constructor(sab: SharedArrayBuffer, byteOffset: number, entrySize: EntrySize) {
    super(sab, byteOffset, entrySize);
    this.cons = Atomics.load(this.ctl, CONS);
    this.cachedProd = Atomics.load(this.ctl, PROD);
  }

  /** Entries available as far as the cached producer index knows (may under-count). */
  cachedAvailable(): number {
    return (this.cachedProd - this.cons) >>> 0;
  }

  /** Entries available, re-reading the producer index (acquire) first. */
  available(): number {
    this.cachedProd = Atomics.load(this.ctl, PROD);
    return this.cachedAvailable();
  }

  /**
   * Returns how many entries (up to `n`) can be read at positions 0..got-1 with the subclass's
   * read methods; 0 when empty. Reads the producer index only when the cached copy shows fewer
   * than `n`. Entries stay valid until release().
   */
  peek(n: number): number {
    let avail = this.cachedAvailable();
    if (avail < n) avail = this.available();
    const got = n < avail ? n : avail;
    this.peeked = got;
    return got;
  }

  /**
   * Gives the first `n` peeked slots back to the producer (one store of the consumer index,
   * ordered after our reads of the entries). Notifies the producer only if it is parked.
   */
  release(n: number): void {
    if (n > this.peeked || n < 0) {
      throw ringError('EINVAL', `release(${n}) exceeds the ${this.peeked} entries peeked`);
    }
    this.peeked = 0;
    if (n === 0) return; // the index is unchanged: nothing to publish, nobody to wake
    this.cons = (this.cons + n) >>> 0;
    this.publishIndex(CONS, this.cons, PROD_WAKE);
  }

  /** True when the producer has asked to be notified (it is parked or about to park). */
  producerNeedsWakeup(): boolean {
    return this.wantsWakeup(PROD_WAKE);
  }

  /**
   * Sets the need-wakeup flag and parks the thread until an entry is published or `timeoutMs`
   * passes; returns the available count. The producer's submit() notifies only while the flag
   * is set, so a consumer that spins (never calls this) costs the producer nothing.
   */
  waitForEntries(timeoutMs: number): number {
    const seen = (this.cachedProd = this.announceWait(CONS_WAKE, PROD));
    if (this.cachedAvailable() === 0) parkSync(this.ctl32, PROD, seen, timeoutMs);
    this.endWait(CONS_WAKE);
    return this.available();
  }

  /** Like waitForEntries but yields to the event loop while parked (Atomics.waitAsync). */
  async waitForEntriesAsync(timeoutMs: number): Promise<number> {
    const seen = (this.cachedProd = this.announceWait(CONS_WAKE, PROD));
    if (this.cachedAvailable() === 0) await parkAsync(this.ctl32, PROD, seen, timeoutMs);
    this.endWait(CONS_WAKE);
    return this.available();
  }
}

/** Consumer of a descriptor ring: entries are [addr u32, len u32]. */
export class DescConsumer extends RingConsumer {
  constructor(sab: SharedArrayBuffer, byteOffset: number) {
    super(sab, byteOffset, DESC_ENTRY_SIZE);
  }

  /** Address of peeked entry `i` (0-based within the current peek). */
  addr(i: number): number {
    return this.entries[((this.cons + i) & this.mask) << 1];
  }

  /** Length of peeked entry `i`. */
  len(i: number): number {
    return this.entries[(((this.cons + i) & this.mask) << 1) + 1];
  }
}

/** Consumer of an address ring: entries are [addr u32]. */
export class AddrConsumer extends RingConsumer {
  constructor(sab: SharedArrayBuffer, byteOffset: number) {
    super(sab, byteOffset, ADDR_ENTRY_SIZE);
  }

  /** Address of peeked entry `i` (0-based within the current peek). */
  addr(i: number): number {
    return this.entries[(this.cons + i) & this.mask];
  }

  /** Peeks, reads and releases one address; -1 when the ring is empty. */
  pop(): number {
    if (this.peek(1) === 0) return -1;
    const a = this.addr(0);
    this.release(1);
    return a;
  }
}

// What both sides of a ring share: typed-array views of its header words and entries, and the
// two halves of the need-wakeup protocol (rings/README.md, "Wake-ups"), which the producer and
// the consumer run mirror-wise, each on its own words.

import {
  CONSUMER_OFFSET,
  CONSUMER_WAKEUP_OFFSET,
  ENTRIES_OFFSET,
  type EntrySize,
  NEED_WAKEUP,
  PRODUCER_OFFSET,
  PRODUCER_WAKEUP_OFFSET,
  readRingHeader,
} from './layout.js';

/** Index in the header words (u32) of the producer index. */
export const PROD = PRODUCER_OFFSET / 4;
/** Index of the consumer index word. */
export const CONS = CONSUMER_OFFSET / 4;
/** Index of the consumer's need-wakeup word. */
export const CONS_WAKE = CONSUMER_WAKEUP_OFFSET / 4;
/** Index of the producer's need-wakeup word. */
export const PROD_WAKE = PRODUCER_WAKEUP_OFFSET / 4;

/** One side (producer or consumer) of a ring. Exactly one thread may own it. */
export class RingSide {
  /** Entries the ring holds. */
  readonly capacity: number;
  protected readonly mask: number;
  /** Header words; Atomics on these publish and observe the indices. */
  protected readonly ctl: Uint32Array;
  /** The same words as Int32Array, which Atomics.wait/notify require. */
  protected readonly ctl32: Int32Array;
  /** The entry area as u32 words. */
  protected readonly entries: Uint32Array;

  constructor(sab: SharedArrayBuffer, byteOffset: number, entrySize: EntrySize) {
    this.capacity = readRingHeader(sab, byteOffset, entrySize);
    this.mask = this.capacity - 1;
    this.ctl = new Uint32Array(sab, byteOffset, ENTRIES_OFFSET / 4);
    this.ctl32 = new Int32Array(sab, byteOffset, ENTRIES_OFFSET / 4);
    this.entries = new Uint32Array(
      sab,
      byteOffset + ENTRIES_OFFSET,
      (this.capacity * entrySize) / 4,
    );
  }

  /**
   * Stores our index word and notifies the other side only if its need-wakeup flag is set, so a
   * busy-polling peer costs one load of a line nobody writes. Atomics.store is sequentially
   * consistent: it orders the entry reads/writes before the index (release) and the index before
   * the flag load (the need-wakeup handshake needs that).
   */
  protected publishIndex(indexWord: number, index: number, peerWakeWord: number): void {
    Atomics.store(this.ctl, indexWord, index);
    if (Atomics.load(this.ctl, peerWakeWord) & NEED_WAKEUP) {
      Atomics.notify(this.ctl32, indexWord, 1);
    }
  }

  /** True when the flag word `wakeWord` asks for a notify (its writer is parked or about to park). */
  protected wantsWakeup(wakeWord: number): boolean {
    return (Atomics.load(this.ctl, wakeWord) & NEED_WAKEUP) !== 0;
  }

  /**
   * Dekker-style handshake with the other side's publishIndex(): set our flag, then re-read its
   * index (both sequentially consistent). Either it sees the flag and notifies, or we see its new
   * index and do not park. Returns the index read, the value to park on.
   */
  protected announceWait(ownWakeWord: number, peerIndexWord: number): number {
    Atomics.store(this.ctl, ownWakeWord, NEED_WAKEUP);
    return Atomics.load(this.ctl, peerIndexWord);
  }

  /** Clears our need-wakeup flag after parking. */
  protected endWait(ownWakeWord: number): void {
    Atomics.store(this.ctl, ownWakeWord, 0);
  }
}

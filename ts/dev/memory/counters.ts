// Counters of one memory port, kept in shared memory (one float64 each) so the main thread can
// read a worker's port at a quiet point. Each port writes only its own.

export const counterNames = [
  /** Packets and bytes taken in by receive(). */
  'rxPackets',
  'rxBytes',
  /** Packets and bytes put on the wire (into the peer's receive ring). */
  'txPackets',
  'txBytes',
  /** Packets accepted by send(), before faults. */
  'sent',
  /** Dropped by lossRate. */
  'lost',
  /** Dropped for being longer than mtu + 14. */
  'mtuDrops',
  /** Extra copies made by duplicateRate. */
  'duplicated',
  /** Duplicates skipped because no free frame was left for the copy. */
  'duplicateFailures',
  /** Packets with a flipped bit. */
  'corrupted',
  /** Packets held back by reorderRate. */
  'reordered',
  /** Packets given a release time in the future (delay, jitter or the rate limit). */
  'delayed',
  /** Packets that waited for rate-limit tokens. */
  'rateDelayed',
  /** Packets dropped because the rate-limit queue was full. */
  'rateDrops',
  /** allocate() calls that found no free frame. */
  'allocFailures',
  /** Frame moves that found a frame somewhere other than expected (double free, bad address). */
  'violations',
] as const;

export type MemoryCounters = Record<(typeof counterNames)[number], number>;

export const enum Counter {
  RxPackets = 0,
  RxBytes = 1,
  TxPackets = 2,
  TxBytes = 3,
  Sent = 4,
  Lost = 5,
  MtuDrops = 6,
  Duplicated = 7,
  DuplicateFailures = 8,
  Corrupted = 9,
  Reordered = 10,
  Delayed = 11,
  RateDelayed = 12,
  RateDrops = 13,
  AllocFailures = 14,
  Violations = 15,
}

/** Float64 slots one port's counters take. */
export const COUNTER_SLOTS = counterNames.length;

/** A snapshot of one port's counters. Cold path. */
export function readCounters(slots: Float64Array): MemoryCounters {
  const out = {} as MemoryCounters;
  for (let i = 0; i < COUNTER_SLOTS; i++) out[counterNames[i]] = slots[i];
  return out;
}

// The faults a memory port applies to what it sends, in the spirit of Linux netem and tbf. They
// live in shared memory (one float64 per field) so any thread can change them at run time and
// the sending port picks the change up on its next send().
//
// Reproducibility: every send() draws the PRNG seven times whatever is switched on, so the
// same seed and the same sequence of sends give the same losses, copies, flipped bits, holds
// and jitter. Times come from the port's clock: on a VirtualClock the whole outcome, arrival
// times included, repeats exactly; on real time only the time-based parts (delay, jitter, rate,
// reorder hold timeouts) vary with the run. A duplicate needs a free frame of the sender's: if
// none is free at that moment the copy is skipped and counted (duplicateFailures).

/** Fault settings of one direction (what one port sends). Rates are probabilities in [0, 1]. */
export interface Faults {
  /** Fraction of packets dropped. */
  lossRate: number;
  /** Fraction of packets sent twice (the copy goes right behind the original). */
  duplicateRate: number;
  /** Fraction of packets held back so later ones overtake them. */
  reorderRate: number;
  /** How many later packets overtake a held packet. */
  reorderDistance: number;
  /** A held packet goes anyway after this long (ms) when no later packets come. */
  reorderHoldMs: number;
  /** Fixed one-way delay in ms. */
  delayMs: number;
  /** Each packet's delay varies uniformly by up to this many ms either way (reorders, as netem). */
  jitterMs: number;
  /** Fraction of packets with one random bit flipped after the Ethernet header. */
  corruptRate: number;
  /** Link rate in bits per second (token bucket); 0 means unlimited. */
  rateBitsPerSecond: number;
  /** Token bucket depth in bytes: how much may go at once after an idle spell. */
  rateBurstBytes: number;
  /** Bytes that may wait for the rate limit; packets beyond that are dropped (tail drop). */
  rateQueueBytes: number;
  /** Largest IP packet; frames longer than mtu + 14 (the Ethernet header) are dropped. */
  mtu: number;
}

export const defaultFaults: Readonly<Faults> = Object.freeze({
  lossRate: 0,
  duplicateRate: 0,
  reorderRate: 0,
  reorderDistance: 1,
  reorderHoldMs: 1,
  delayMs: 0,
  jitterMs: 0,
  corruptRate: 0,
  rateBitsPerSecond: 0,
  rateBurstBytes: 1514,
  rateQueueBytes: 128 * 1024,
  mtu: 1500,
});

/** Field order in the shared array; the port reads fields by these indices on its hot path. */
export const faultFields = [
  'lossRate',
  'duplicateRate',
  'reorderRate',
  'reorderDistance',
  'reorderHoldMs',
  'delayMs',
  'jitterMs',
  'corruptRate',
  'rateBitsPerSecond',
  'rateBurstBytes',
  'rateQueueBytes',
  'mtu',
] as const satisfies readonly (keyof Faults)[];

export const enum FaultField {
  LossRate = 0,
  DuplicateRate = 1,
  ReorderRate = 2,
  ReorderDistance = 3,
  ReorderHoldMs = 4,
  DelayMs = 5,
  JitterMs = 6,
  CorruptRate = 7,
  RateBitsPerSecond = 8,
  RateBurstBytes = 9,
  RateQueueBytes = 10,
  Mtu = 11,
}

/** Float64 slots one direction's faults take. */
export const FAULT_SLOTS = faultFields.length;

const rateFields = new Set<keyof Faults>([
  'lossRate',
  'duplicateRate',
  'reorderRate',
  'corruptRate',
]);
const integerFields = new Set<keyof Faults>([
  'reorderDistance',
  'rateBurstBytes',
  'rateQueueBytes',
  'mtu',
]);

/** Checks a partial fault setting; throws EINVAL naming the first bad field. */
export function checkFaults(faults: Partial<Faults>): void {
  for (const [key, value] of Object.entries(faults)) {
    const field = key as keyof Faults;
    if (!faultFields.includes(field)) {
      throw faultError(`unknown fault '${key}'; known: ${faultFields.join(', ')}`);
    }
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw faultError(`fault ${key} must be a finite number >= 0, got ${String(value)}`);
    }
    if (rateFields.has(field) && value > 1) {
      throw faultError(`fault ${key} is a probability and must be in [0, 1], got ${value}`);
    }
    if (integerFields.has(field) && !Number.isInteger(value)) {
      throw faultError(`fault ${key} must be an integer, got ${value}`);
    }
  }
  if (faults.reorderDistance === 0) throw faultError('reorderDistance must be at least 1');
  if (faults.mtu !== undefined && faults.mtu < 68) {
    throw faultError(`mtu ${faults.mtu} is below the IPv4 minimum of 68 (RFC 791)`);
  }
}

/** Writes the given fields into a direction's shared fault slots (the others stay). */
export function writeFaults(slots: Float64Array, faults: Partial<Faults>): void {
  checkFaults(faults);
  for (let i = 0; i < FAULT_SLOTS; i++) {
    const value = faults[faultFields[i]];
    if (value !== undefined) slots[i] = value;
  }
}

/** Reads a direction's fault settings. Cold path. */
export function readFaults(slots: Float64Array): Faults {
  const out = { ...defaultFaults };
  for (let i = 0; i < FAULT_SLOTS; i++) out[faultFields[i]] = slots[i];
  return out;
}

function faultError(message: string): Error & { code: string } {
  return Object.assign(new Error(message), { code: 'EINVAL' });
}

// Where the dispatcher and its workers meet: the frame partitions of the UMEM and, per worker,
// four rings (rings/ layout) in one SharedArrayBuffer. Plain data, so it crosses postMessage.
//
// Frames are owned by address range: the RX partition belongs to the dispatcher (it keeps the
// kernel's fill ring supplied), each worker owns a TX partition. A frame goes back to its
// owner's pool whatever route it took, so accounting needs no per-frame messages.
import {
  ADDR_ENTRY_SIZE,
  DESC_ENTRY_SIZE,
  ENTRIES_OFFSET,
  type EntrySize,
  CONSUMER_OFFSET,
  PRODUCER_OFFSET,
  initRing,
  readRingHeader,
  ringByteLength,
} from '../../../rings/index.js';
import type { UmemLayout } from '../xdp/umem-layout.js';

/** Byte offsets of one worker's rings in the rings buffer. */
export interface WorkerRingOffsets {
  /** dispatcher -> worker: received [addr, len]. */
  rx: number;
  /** worker -> dispatcher: RX frames the worker is done with. */
  free: number;
  /** worker -> dispatcher: [addr, len] to send. */
  tx: number;
  /** dispatcher -> worker: the worker's TX frames whose sending finished. */
  comp: number;
}

export interface DispatchLayout {
  umem: UmemLayout;
  rings: SharedArrayBuffer;
  offsets: WorkerRingOffsets[];
  rxFirstFrame: number;
  rxFrameCount: number;
  txFirstFrame: number;
  txFramesPerWorker: number;
}

/** What a worker needs to open its device. */
export interface DispatchWorkerConfig {
  layout: DispatchLayout;
  worker: number;
  batch: number;
  /**
   * The frames a stopped worker of the same rings held when it stopped (its holdings): a worker
   * started in its place takes them over; the rest of its TX partition is still on its way back
   * from the kernel. Absent for a worker whose rings were never used.
   */
  resume?: number[];
}

export function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/**
 * Creates the rings of `workers` workers. The free ring holds the whole RX partition and the
 * comp ring a whole TX partition, so neither can overflow; rx and tx rings are `ringSize`.
 */
export function createDispatchRings(
  workers: number,
  ringSize: number,
  rxFrameCount: number,
  txFramesPerWorker: number,
): { rings: SharedArrayBuffer; offsets: WorkerRingOffsets[] } {
  const spec: [keyof WorkerRingOffsets, number, EntrySize][] = [
    ['rx', ringSize, DESC_ENTRY_SIZE],
    ['free', nextPowerOfTwo(rxFrameCount), ADDR_ENTRY_SIZE],
    ['tx', ringSize, DESC_ENTRY_SIZE],
    ['comp', nextPowerOfTwo(txFramesPerWorker), ADDR_ENTRY_SIZE],
  ];
  const perWorker = spec.reduce((sum, [, cap, size]) => sum + ringByteLength(cap, size), 0);
  const rings = new SharedArrayBuffer(perWorker * workers);
  const offsets: WorkerRingOffsets[] = [];
  let at = 0;
  for (let w = 0; w < workers; w++) {
    const o = { rx: 0, free: 0, tx: 0, comp: 0 };
    for (const [name, cap, size] of spec) {
      initRing(rings, at, cap, size);
      o[name] = at;
      at += ringByteLength(cap, size);
    }
    offsets.push(o);
  }
  return { rings, offsets };
}

/** First word of every unread entry of a ring (cold path: audits at a quiet point). */
export function ringEntries(
  sab: SharedArrayBuffer,
  offset: number,
  entrySize: EntrySize,
): number[] {
  const capacity = readRingHeader(sab, offset, entrySize);
  const ctl = new Uint32Array(sab, offset, ENTRIES_OFFSET / 4);
  const entries = new Uint32Array(sab, offset + ENTRIES_OFFSET, (capacity * entrySize) / 4);
  const cons = Atomics.load(ctl, CONSUMER_OFFSET / 4);
  const count = (Atomics.load(ctl, PRODUCER_OFFSET / 4) - cons) >>> 0;
  const words = entrySize / 4;
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(entries[((cons + i) & (capacity - 1)) * words]);
  return out;
}

/** Every frame address sitting in one worker's four rings. */
export function framesInWorkerRings(sab: SharedArrayBuffer, o: WorkerRingOffsets): number[] {
  return [
    ...ringEntries(sab, o.rx, DESC_ENTRY_SIZE),
    ...ringEntries(sab, o.free, ADDR_ENTRY_SIZE),
    ...ringEntries(sab, o.tx, DESC_ENTRY_SIZE),
    ...ringEntries(sab, o.comp, ADDR_ENTRY_SIZE),
  ];
}

// Creating a memory pair, opening both ends in one thread, changing faults from any thread, and
// checking the pair's frame accounting as a whole.
import { packetMemory } from '../../wire/simd-sum.js';
import {
  ADDR_ENTRY_SIZE,
  CACHE_LINE,
  CONSUMER_OFFSET,
  DESC_ENTRY_SIZE,
  ENTRIES_OFFSET,
  initRing,
  isPowerOfTwo,
  PRODUCER_OFFSET,
  readRingHeader,
  ringByteLength,
  type EntrySize,
} from '../../../rings/index.js';
import type { VirtualClock } from './clock.js';
import { COUNTER_SLOTS, readCounters, type MemoryCounters } from './counters.js';
import { Custody, CustodyLedger, type CustodyCensus } from './custody-ledger.js';
import { defaultFaults, FAULT_SLOTS, readFaults, writeFaults, type Faults } from './faults.js';
import { MemoryPort, type MemoryPortOptions } from './memory-port.js';
import { pairRings, type MemoryPairConfig, type MemoryPortConfig } from './pair-layout.js';

export interface MemoryPairOptions {
  /** Frame size in bytes, a power of two from 1024 to 65536; default 2048. */
  frameSize?: number;
  /** Frames each port owns; default 1024. */
  framesPerPort?: number;
  /** Bytes in front of a new TX packet inside its frame; default 256 (as AF_XDP copy mode). */
  headroom?: number;
  /** Descriptors per receive(); default 64. */
  batch?: number;
  /** Entries in each wire ring, a power of two; default 512. */
  ringSize?: number;
  /** Seed of the fault PRNGs (port b's stream is derived from it); default 1. */
  seed?: number;
  /** Faults of both directions at the start (each port can change its own later). */
  faults?: Partial<Faults>;
  /** Run the pair on virtual time; default real time (performance.now() of each thread). */
  clock?: VirtualClock;
}

/** Where every frame of a pair is, found from shared memory at a quiet point. */
export interface MemoryPairAudit {
  ok: boolean;
  problems: string[];
  frames: number;
  /** Each port's custody census over all frames of the pair. */
  a: CustodyCensus;
  b: CustodyCensus;
  /** Frames in flight in each ring. */
  rings: { aToB: number; bToA: number; returnToA: number; returnToB: number };
  counters: { a: MemoryCounters; b: MemoryCounters };
}

function pairError(message: string): Error & { code: string } {
  return Object.assign(new Error(message), { code: 'EINVAL' });
}

function align(n: number): number {
  return Math.ceil(n / CACHE_LINE) * CACHE_LINE;
}

function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

function checkOptions(o: Required<Omit<MemoryPairOptions, 'faults' | 'clock'>>): void {
  const { frameSize, framesPerPort, headroom, batch, ringSize, seed } = o;
  if (!isPowerOfTwo(frameSize) || frameSize < 1024 || frameSize > 65536) {
    throw pairError(`frameSize ${frameSize} must be a power of two from 1024 to 65536`);
  }
  if (!Number.isInteger(framesPerPort) || framesPerPort < 1) {
    throw pairError(`framesPerPort ${framesPerPort} must be a positive integer`);
  }
  if (2 * framesPerPort * frameSize > 2 ** 31) {
    throw pairError('the frames of a pair must fit in 2 GiB: use fewer or smaller frames');
  }
  if (!Number.isInteger(headroom) || headroom < 0 || headroom > frameSize - 64) {
    throw pairError(`headroom ${headroom} must be an integer from 0 to frameSize - 64`);
  }
  if (!Number.isInteger(batch) || batch < 1) {
    throw pairError(`batch ${batch} must be a positive integer`);
  }
  if (!isPowerOfTwo(ringSize) || ringSize > 1 << 24) {
    throw pairError(`ringSize ${ringSize} must be a power of two up to 2^24`);
  }
  if (!Number.isInteger(seed)) throw pairError(`seed ${seed} must be an integer`);
}

/** Lays out a pair: its frames and control memory, rings initialised, faults written. */
function create(options: MemoryPairOptions = {}): MemoryPairConfig {
  const o = {
    frameSize: options.frameSize ?? 2048,
    framesPerPort: options.framesPerPort ?? 1024,
    headroom: options.headroom ?? 256,
    batch: options.batch ?? 64,
    ringSize: options.ringSize ?? 512,
    seed: options.seed ?? 1,
  };
  checkOptions(o);
  const n = o.framesPerPort;
  const wireBytes = ringByteLength(o.ringSize, DESC_ENTRY_SIZE);
  const returnCapacity = nextPowerOfTwo(n);
  const returnBytes = ringByteLength(returnCapacity, ADDR_ENTRY_SIZE);

  let at = 0;
  const take = (bytes: number): number => {
    const offset = at;
    at += align(bytes);
    return offset;
  };
  const aToB = take(wireBytes);
  const bToA = take(wireBytes);
  const returnToA = take(returnBytes);
  const returnToB = take(returnBytes);
  const ledgerA = take(2 * n);
  const ledgerB = take(2 * n);
  const countersA = take(8 * COUNTER_SLOTS);
  const countersB = take(8 * COUNTER_SLOTS);
  const faultsA = take(8 * FAULT_SLOTS);
  const faultsB = take(8 * FAULT_SLOTS);

  const control = new SharedArrayBuffer(at);
  initRing(control, aToB, o.ringSize, DESC_ENTRY_SIZE);
  initRing(control, bToA, o.ringSize, DESC_ENTRY_SIZE);
  initRing(control, returnToA, returnCapacity, ADDR_ENTRY_SIZE);
  initRing(control, returnToB, returnCapacity, ADDR_ENTRY_SIZE);
  for (const offset of [faultsA, faultsB]) {
    const slots = new Float64Array(control, offset, FAULT_SLOTS);
    writeFaults(slots, defaultFaults);
    writeFaults(slots, options.faults ?? {});
  }

  const { buffer: frames, memory: framesMemory } = packetMemory(2 * n * o.frameSize);
  const common = {
    frames,
    framesMemory,
    frameSize: o.frameSize,
    framesPerPort: n,
    headroom: o.headroom,
    batch: o.batch,
    control,
    clock: options.clock?.buffer ?? null,
  };
  return {
    a: {
      ...common,
      side: 'a',
      index: 0,
      seed: o.seed >>> 0,
      txRing: aToB,
      rxRing: bToA,
      returnOut: returnToB,
      returnIn: returnToA,
      ledger: ledgerA,
      counters: countersA,
      faults: faultsA,
    },
    b: {
      ...common,
      side: 'b',
      index: 1,
      seed: (o.seed ^ 0x5bd1e995) >>> 0,
      txRing: bToA,
      rxRing: aToB,
      returnOut: returnToA,
      returnIn: returnToB,
      ledger: ledgerB,
      counters: countersB,
      faults: faultsB,
    },
  };
}

/** Creates a pair and opens both ends in this thread. */
function open(
  options: MemoryPairOptions = {},
  portOptions: MemoryPortOptions = {},
): { a: MemoryPort; b: MemoryPort; config: MemoryPairConfig } {
  const config = create(options);
  return {
    a: new MemoryPort(config.a, portOptions),
    b: new MemoryPort(config.b, portOptions),
    config,
  };
}

/** Changes the faults of what `port` sends, from any thread (shared memory). */
function setFaults(port: MemoryPortConfig, faults: Partial<Faults>): void {
  writeFaults(new Float64Array(port.control, port.faults, FAULT_SLOTS), faults);
}

/** The faults of what `port` sends. */
function getFaults(port: MemoryPortConfig): Faults {
  return readFaults(new Float64Array(port.control, port.faults, FAULT_SLOTS));
}

/** A snapshot of a port's counters, from any thread. */
function counters(port: MemoryPortConfig): MemoryCounters {
  return readCounters(new Float64Array(port.control, port.counters, COUNTER_SLOTS));
}

/**
 * Checks that every frame of the pair is in exactly one place: in one port's custody (free,
 * held by its app, queued in its fault stage) or in one ring. Reads only shared memory, so it
 * works from any thread, but only at a quiet point: neither port may be running.
 */
function audit(config: MemoryPairConfig): MemoryPairAudit {
  const { a, b } = config;
  const n = a.framesPerPort;
  const total = 2 * n;
  const shift = 31 - Math.clz32(a.frameSize);
  const problems: string[] = [];
  const seen = new Uint8Array(total);
  const ledgerA = new Uint8Array(a.control, a.ledger, total);
  const ledgerB = new Uint8Array(b.control, b.ledger, total);
  for (let f = 0; f < total; f++) {
    seen[f] = (ledgerA[f] !== Custody.Away ? 1 : 0) + (ledgerB[f] !== Custody.Away ? 1 : 0);
    const home = f < n ? 'a' : 'b';
    if (ledgerA[f] === Custody.Free && home !== 'a') problems.push(`frame ${f} of b is free in a`);
    if (ledgerB[f] === Custody.Free && home !== 'b') problems.push(`frame ${f} of a is free in b`);
  }
  const offsets = pairRings(config);
  const count = (offset: number, entrySize: EntrySize, home: -1 | 0 | 1, name: string): number => {
    const frames = ringFrames(a.control, offset, entrySize, shift);
    for (const f of frames) {
      if (f >= total) problems.push(`${name} ring holds frame ${f}, outside the pair`);
      else seen[f]++;
      if (home >= 0 && f < total && ((f / n) | 0) !== home) {
        problems.push(`${name} ring holds frame ${f}, which is not its home's`);
      }
    }
    return frames.length;
  };
  const rings = {
    aToB: count(offsets.aToB, DESC_ENTRY_SIZE, -1, 'a->b'),
    bToA: count(offsets.bToA, DESC_ENTRY_SIZE, -1, 'b->a'),
    returnToA: count(offsets.returnToA, ADDR_ENTRY_SIZE, 0, 'return->a'),
    returnToB: count(offsets.returnToB, ADDR_ENTRY_SIZE, 1, 'return->b'),
  };
  let missing = 0;
  let doubled = 0;
  for (let f = 0; f < total; f++) {
    if (seen[f] === 0) missing++;
    if (seen[f] > 1) doubled++;
  }
  if (missing > 0) problems.push(`${missing} frames are nowhere (leaked)`);
  if (doubled > 0) problems.push(`${doubled} frames are in more than one place`);
  const countersA = counters(a);
  const countersB = counters(b);
  for (const [side, c] of [
    ['a', countersA],
    ['b', countersB],
  ] as const) {
    if (c.violations > 0) problems.push(`port ${side} counted ${c.violations} frame violations`);
  }
  return {
    ok: problems.length === 0,
    problems,
    frames: total,
    a: new CustodyLedger(ledgerA, shift).census(),
    b: new CustodyLedger(ledgerB, shift).census(),
    rings,
    counters: { a: countersA, b: countersB },
  };
}

/** Frame indices of the entries in flight in a ring (between its consumer and producer). */
function ringFrames(
  sab: SharedArrayBuffer,
  offset: number,
  entrySize: EntrySize,
  shift: number,
): number[] {
  const capacity = readRingHeader(sab, offset, entrySize);
  const ctl = new Uint32Array(sab, offset, ENTRIES_OFFSET / 4);
  const prod = Atomics.load(ctl, PRODUCER_OFFSET / 4);
  const cons = Atomics.load(ctl, CONSUMER_OFFSET / 4);
  const words = new Uint32Array(sab, offset + ENTRIES_OFFSET, (capacity * entrySize) / 4);
  const stride = entrySize / 4;
  const out: number[] = [];
  for (let i = cons; i !== prod; i = (i + 1) >>> 0) {
    out.push(words[(i & (capacity - 1)) * stride] >>> shift);
  }
  return out;
}

/** A pair of virtual ports joined by rings in shared memory. */
export const MemoryPair = { create, open, setFaults, getFaults, counters, audit };

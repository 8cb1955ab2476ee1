// Worker for the two-thread ring tests: one instance produces, another consumes and checks.
// Descriptor k carries addr = k and len = mix(k), so a lost, doubled or reordered entry shows.

import { parentPort, workerData } from 'node:worker_threads';
import { DescConsumer, DescProducer } from '../../rings/index.js';
import { xorshift } from '../support/xorshift.js';

export interface StressJob {
  role: 'producer' | 'consumer';
  sab: SharedArrayBuffer;
  byteOffset: number;
  total: number;
  maxBatch: number;
  seed: number;
  /** Busy-poll iterations before parking; 0 = never park. */
  spinsBeforePark: number;
}

export interface StressResult {
  role: 'producer' | 'consumer';
  count: number;
  mismatches: number;
  firstMismatch: string;
  parks: number;
  lostWakeups: number;
}

/** The len value paired with sequence number k. */
export function lenFor(k: number): number {
  return (Math.imul(k, 0x9e3779b1) ^ 0x5bd1e995) >>> 0;
}

// A parked side that sleeps this long while the other side runs has lost a wake-up.
const PARK_TIMEOUT_MS = 2000;

function produce(job: StressJob): StressResult {
  const ring = new DescProducer(job.sab, job.byteOffset);
  const rand = xorshift(job.seed);
  let seq = 0;
  let spins = 0;
  let parks = 0;
  let lost = 0;
  while (seq < job.total) {
    const want = Math.min(1 + (rand() % job.maxBatch), job.total - seq);
    const got = ring.reserve(want);
    if (got === 0) {
      if (job.spinsBeforePark > 0 && ++spins >= job.spinsBeforePark) {
        parks++;
        const t0 = Date.now();
        if (ring.waitForSpace(1, PARK_TIMEOUT_MS) === 0 && Date.now() - t0 >= PARK_TIMEOUT_MS) {
          lost++;
        }
        spins = 0;
      }
      continue;
    }
    spins = 0;
    for (let i = 0; i < got; i++) ring.write(i, (seq + i) >>> 0, lenFor(seq + i));
    // Sometimes publish only part of the reservation: the rest must simply vanish.
    const n = rand() % 4 === 0 ? 1 + (rand() % got) : got;
    ring.submit(n);
    seq += n;
  }
  return {
    role: 'producer',
    count: seq,
    mismatches: 0,
    firstMismatch: '',
    parks,
    lostWakeups: lost,
  };
}

function consume(job: StressJob): StressResult {
  const ring = new DescConsumer(job.sab, job.byteOffset);
  const rand = xorshift(job.seed ^ 0xa5a5a5a5);
  let seq = 0;
  let mismatches = 0;
  let firstMismatch = '';
  let spins = 0;
  let parks = 0;
  let lost = 0;
  while (seq < job.total) {
    const got = ring.peek(1 + (rand() % job.maxBatch));
    if (got === 0) {
      if (job.spinsBeforePark > 0 && ++spins >= job.spinsBeforePark) {
        parks++;
        const t0 = Date.now();
        if (ring.waitForEntries(PARK_TIMEOUT_MS) === 0 && Date.now() - t0 >= PARK_TIMEOUT_MS) {
          lost++;
        }
        spins = 0;
      }
      continue;
    }
    spins = 0;
    // Sometimes release only part of what we peeked: the rest must come back on the next peek.
    const n = rand() % 4 === 0 ? 1 + (rand() % got) : got;
    for (let i = 0; i < n; i++) {
      const k = seq + i;
      if (ring.addr(i) !== k >>> 0 || ring.len(i) !== lenFor(k)) {
        if (mismatches++ === 0) {
          firstMismatch = `at ${k}: got addr ${ring.addr(i)} len ${ring.len(i)}, want ${k} ${lenFor(k)}`;
        }
      }
    }
    ring.release(n);
    seq += n;
  }
  // Anything beyond `total` would be a duplicate.
  const extra = ring.available();
  return {
    role: 'consumer',
    count: seq + extra,
    mismatches,
    firstMismatch,
    parks,
    lostWakeups: lost,
  };
}

const job = workerData as StressJob;
parentPort?.postMessage(job.role === 'producer' ? produce(job) : consume(job));

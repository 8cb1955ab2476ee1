// Worker for the frame-pool test: allocates frames, forwards them to random peers over
// descriptor rings (as RX frames of flows owned elsewhere are), and frees what it receives.
// A shared per-frame holder count catches any frame handed out twice.

import { parentPort, workerData } from 'node:worker_threads';
import { DescConsumer, DescProducer, FramePool, type FramePoolShared } from '../../rings/index.js';

export interface PoolJob {
  pool: FramePoolShared;
  worker: number;
  /** Forwarding rings: ring (i -> j) at forwardOffsets[i * workers + j] in `forwardSab`. */
  forwardSab: SharedArrayBuffer;
  forwardOffsets: number[];
  /** holders[frameIndex]: how many workers hold the frame right now (must stay 0 or 1). */
  holders: SharedArrayBuffer;
  /** [0]: workers done sending, [1]: workers flushed, [2]: workers started. */
  phase: SharedArrayBuffer;
  rounds: number;
  seed: number;
}

export interface PoolResult {
  worker: number;
  errors: string[];
  allocated: number;
  forwarded: number;
  freeFrames: number[];
}

const job = workerData as PoolJob;
const { pool: shared, worker } = job;
const n = shared.workers;
const pool = new FramePool(shared, worker);
const holders = new Int32Array(job.holders);
const phase = new Int32Array(job.phase);
const out: DescProducer[] = [];
const inb: DescConsumer[] = [];
for (let j = 0; j < n; j++) {
  out.push(new DescProducer(job.forwardSab, job.forwardOffsets[worker * n + j]));
  inb.push(new DescConsumer(job.forwardSab, job.forwardOffsets[j * n + worker]));
}
const errors: string[] = [];
let s = job.seed >>> 0 || 1;
const rand = (): number => {
  s ^= s << 13;
  s ^= s >>> 17;
  s ^= s << 5;
  return s >>> 0;
};
const frameIndex = (addr: number): number =>
  Math.floor((addr - shared.baseAddr) / shared.frameSize);

function take(addr: number): void {
  if (Atomics.add(holders, frameIndex(addr), 1) !== 0 && errors.length < 10) {
    errors.push(`worker ${worker} got frame ${addr} that someone else holds`);
  }
}

function drop(addr: number): void {
  if (Atomics.sub(holders, frameIndex(addr), 1) !== 1 && errors.length < 10) {
    errors.push(`worker ${worker} freed frame ${addr} it did not hold alone`);
  }
  // Free by an address inside the frame (past a headroom), as an RX descriptor carries it.
  pool.free(addr + (rand() % shared.frameSize));
}

function drainInbound(): void {
  for (let j = 0; j < n; j++) {
    const ring = inb[j];
    const got = ring.peek(256);
    for (let k = 0; k < got; k++) drop(ring.addr(k));
    ring.release(got);
  }
}

/** Waits until every worker has added itself to phase[i] (a barrier). */
function barrier(i: number): void {
  Atomics.add(phase, i, 1);
  Atomics.notify(phase, i);
  while (Atomics.load(phase, i) < n) Atomics.wait(phase, i, Atomics.load(phase, i), 5);
  Atomics.notify(phase, i);
}

const batch = new Uint32Array(64);
let allocated = 0;
let forwarded = 0;
// Start together: a worker that ran its rounds before the others started would find their
// inbound rings full and forward almost nothing (seen on a loaded machine).
barrier(2);
for (let r = 0; r < job.rounds; r++) {
  const got = pool.allocBulk(batch, 1 + (rand() % 64));
  allocated += got;
  for (let k = 0; k < got; k++) {
    const addr = batch[k];
    take(addr);
    const peer = rand() % n;
    if (peer === worker || !out[peer].push(addr, 0)) drop(addr);
    else forwarded++;
  }
  drainInbound();
}
// Quiesce: once everyone stopped sending, drain what is still in flight, then push staged
// foreign frames home; once everyone flushed, take back our own frames.
Atomics.add(phase, 0, 1);
while (Atomics.load(phase, 0) < n) drainInbound();
drainInbound();
pool.flush();
Atomics.add(phase, 1, 1);
while (Atomics.load(phase, 1) < n) Atomics.wait(phase, 1, Atomics.load(phase, 1), 5);
Atomics.notify(phase, 1);
pool.reclaim();
const freeFrames: number[] = [];
for (let f = pool.alloc(); f !== -1; f = pool.alloc()) freeFrames.push(f);
const result: PoolResult = { worker, errors, allocated, forwarded, freeFrames };
parentPort?.postMessage(result);

// UMEM frame pool in the DPDK mempool-cache model: each worker allocates from and frees into a
// private free list (no atomics, no sharing); frames freed by a worker that is not their home go
// back home through shared single-producer/single-consumer return rings, in batches.
//
// Every frame has a fixed home worker: frames [w * framesPerWorker, (w + 1) * framesPerWorker).
// Return ring (i -> h) carries frames freed by worker i whose home is h. Its capacity is at
// least framesPerWorker, so a push can only fail if a frame was freed twice.

import { AddrConsumer } from './consumer.js';
import { ADDR_ENTRY_SIZE, initRing, isPowerOfTwo, ringByteLength, ringError } from './layout.js';
import { AddrProducer } from './producer.js';

/** Shape of a frame pool; identical in every worker. */
export interface FramePoolConfig {
  /** Number of workers sharing the pool (1..64). */
  workers: number;
  /** Frames whose home is each worker. */
  framesPerWorker: number;
  /** Frame size in bytes, a power of two (2048 or 4096 for AF_XDP). */
  frameSize: number;
  /** Address of frame 0 (UMEM-relative, as AF_XDP descriptors carry it); default 0. */
  baseAddr?: number;
  /** Foreign frames a worker stages per home before pushing them back; default 64. */
  returnBatch?: number;
}

/** The pool's shared part, passed to each worker (e.g. in workerData). */
export interface FramePoolShared extends Required<FramePoolConfig> {
  sab: SharedArrayBuffer;
  /** Byte offset of the first return ring in `sab`. */
  byteOffset: number;
  /** Capacity of each return ring (entries). */
  ringCapacity: number;
}

function ringCapacityFor(framesPerWorker: number): number {
  let c = 1;
  while (c < framesPerWorker) c *= 2;
  return c;
}

/** Bytes the return rings of a pool with this shape need. */
export function framePoolByteLength(config: FramePoolConfig): number {
  const n = config.workers;
  return n * n * ringByteLength(ringCapacityFor(config.framesPerWorker), ADDR_ENTRY_SIZE);
}

/**
 * Lays out the return rings of a frame pool, in a new SharedArrayBuffer or at `byteOffset` of
 * `sab`, and returns what each worker needs to attach with `new FramePool(shared, worker)`.
 */
export function createFramePool(
  config: FramePoolConfig,
  sab?: SharedArrayBuffer,
  byteOffset = 0,
): FramePoolShared {
  const shared = completeConfig(config);
  const bytes = framePoolByteLength(shared);
  const buf = sab ?? new SharedArrayBuffer(byteOffset + bytes);
  const ringCapacity = ringCapacityFor(shared.framesPerWorker);
  const ringBytes = ringByteLength(ringCapacity, ADDR_ENTRY_SIZE);
  for (let r = 0; r < shared.workers * shared.workers; r++) {
    initRing(buf, byteOffset + r * ringBytes, ringCapacity, ADDR_ENTRY_SIZE);
  }
  return { ...shared, sab: buf, byteOffset, ringCapacity };
}

function completeConfig(config: FramePoolConfig): Required<FramePoolConfig> {
  const { workers, framesPerWorker, frameSize } = config;
  const baseAddr = config.baseAddr ?? 0;
  const returnBatch = config.returnBatch ?? 64;
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) {
    throw ringError('EINVAL', `frame pool workers ${workers} must be an integer in 1..64`);
  }
  if (!isPowerOfTwo(frameSize)) {
    throw ringError('EINVAL', `frame size ${frameSize} must be a power of two (2048 or 4096)`);
  }
  if (!Number.isInteger(framesPerWorker) || framesPerWorker < 1) {
    throw ringError('EINVAL', `framesPerWorker ${framesPerWorker} must be a positive integer`);
  }
  if (baseAddr % frameSize !== 0 || baseAddr + workers * framesPerWorker * frameSize > 2 ** 32) {
    throw ringError('EINVAL', 'frames must be frame-aligned and addressable with a u32');
  }
  if (!Number.isInteger(returnBatch) || returnBatch < 1) {
    throw ringError('EINVAL', `returnBatch ${returnBatch} must be a positive integer`);
  }
  return { workers, framesPerWorker, frameSize, baseAddr, returnBatch };
}

/** One worker's view of a frame pool. Use it only from that worker's thread. */
export class FramePool {
  /** This worker's index. */
  readonly worker: number;
  private readonly workers: number;
  private readonly framesPerWorker: number;
  private readonly frameShift: number;
  private readonly frameSize: number;
  private readonly baseAddr: number;
  private readonly poolBytes: number;
  private readonly returnBatch: number;
  /** Free frames of our own home: a LIFO stack so recently used (cache-warm) frames go first. */
  private readonly freeList: Uint32Array;
  private freeCount: number;
  /** Foreign frames waiting to go home: `returnBatch` slots per home worker. */
  private readonly staged: Uint32Array;
  private readonly stagedCount: Uint32Array;
  /** toHome[h]: ring (this worker -> h). fromPeer[i]: ring (i -> this worker). */
  private readonly toHome: AddrProducer[] = [];
  private readonly fromPeer: AddrConsumer[] = [];

  constructor(shared: FramePoolShared, worker: number) {
    if (!Number.isInteger(worker) || worker < 0 || worker >= shared.workers) {
      throw ringError('EINVAL', `worker ${worker} is not in 0..${shared.workers - 1}`);
    }
    this.worker = worker;
    this.workers = shared.workers;
    this.framesPerWorker = shared.framesPerWorker;
    this.frameShift = Math.log2(shared.frameSize);
    this.frameSize = shared.frameSize;
    this.baseAddr = shared.baseAddr;
    this.poolBytes = shared.workers * shared.framesPerWorker * shared.frameSize;
    this.returnBatch = shared.returnBatch;
    this.freeList = new Uint32Array(shared.framesPerWorker);
    this.staged = new Uint32Array(shared.workers * shared.returnBatch);
    this.stagedCount = new Uint32Array(shared.workers);
    const ringBytes = ringByteLength(shared.ringCapacity, ADDR_ENTRY_SIZE);
    for (let other = 0; other < shared.workers; other++) {
      const out = shared.byteOffset + (worker * shared.workers + other) * ringBytes;
      const inb = shared.byteOffset + (other * shared.workers + worker) * ringBytes;
      this.toHome.push(new AddrProducer(shared.sab, out));
      this.fromPeer.push(new AddrConsumer(shared.sab, inb));
    }
    // At start every home frame is free and local; nothing is in flight.
    const first = worker * shared.framesPerWorker;
    for (let k = 0; k < shared.framesPerWorker; k++) {
      this.freeList[k] = this.baseAddr + (first + shared.framesPerWorker - 1 - k) * this.frameSize;
    }
    this.freeCount = shared.framesPerWorker;
  }

  /** Frames in the local free list. */
  get localFree(): number {
    return this.freeCount;
  }

  /** Foreign frames staged here and not yet pushed home. */
  get stagedFrames(): number {
    let s = 0;
    for (let h = 0; h < this.workers; h++) s += this.stagedCount[h];
    return s;
  }

  /** A free frame's address, or -1 when none of our home frames is free (even after reclaim). */
  alloc(): number {
    if (this.freeCount === 0 && this.reclaim() === 0) return -1;
    return this.freeList[--this.freeCount];
  }

  /** Fills out[0..got-1] with up to `n` frame addresses; returns got. */
  allocBulk(out: Uint32Array, n: number): number {
    if (this.freeCount < n) this.reclaim();
    const got = n < this.freeCount ? n : this.freeCount;
    for (let k = 0; k < got; k++) out[k] = this.freeList[--this.freeCount];
    return got;
  }

  /**
   * Frees the frame containing `addr` (an address anywhere inside it, e.g. past the headroom).
   * Our own frames go straight to the free list; foreign ones are staged and pushed home in
   * batches of `returnBatch`.
   */
  free(addr: number): void {
    const rel = addr - this.baseAddr;
    if (rel < 0 || rel >= this.poolBytes) {
      throw ringError('ERANGE', `address ${addr} is not inside this frame pool`);
    }
    const index = rel >>> this.frameShift;
    const home = (index / this.framesPerWorker) | 0;
    const frame = this.baseAddr + index * this.frameSize;
    if (home === this.worker) {
      if (this.freeCount === this.framesPerWorker) throw doubleFree(frame);
      this.freeList[this.freeCount++] = frame;
      return;
    }
    const n = this.stagedCount[home];
    this.staged[home * this.returnBatch + n] = frame;
    this.stagedCount[home] = n + 1;
    if (n + 1 === this.returnBatch) this.pushHome(home);
  }

  /** Pushes every staged foreign frame home now (call at quiet points and before exit). */
  flush(): void {
    for (let h = 0; h < this.workers; h++) if (this.stagedCount[h] > 0) this.pushHome(h);
  }

  /** Takes back our frames that other workers have returned; returns how many. */
  reclaim(): number {
    let total = 0;
    for (let i = 0; i < this.workers; i++) {
      if (i === this.worker) continue;
      const ring = this.fromPeer[i];
      const n = ring.peek(this.framesPerWorker);
      if (n === 0) continue;
      if (this.freeCount + n > this.framesPerWorker) throw doubleFree(ring.addr(0));
      for (let k = 0; k < n; k++) this.freeList[this.freeCount++] = ring.addr(k);
      ring.release(n);
      total += n;
    }
    return total;
  }

  private pushHome(home: number): void {
    const n = this.stagedCount[home];
    const ring = this.toHome[home];
    // The ring holds every frame of `home`, so it can only be short of room after a double free.
    if (ring.reserve(n) < n) throw doubleFree(this.staged[home * this.returnBatch]);
    const base = home * this.returnBatch;
    for (let k = 0; k < n; k++) ring.write(k, this.staged[base + k]);
    ring.submit(n);
    this.stagedCount[home] = 0;
  }
}

function doubleFree(frame: number): Error {
  return ringError('EINVAL', `frame pool overflow near frame ${frame}: a frame was freed twice`);
}

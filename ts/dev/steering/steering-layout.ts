// The inter-worker rings of flow steering (queues >= workers). For every ordered pair of workers
// (i, j), i != j, three single-producer/single-consumer rings (rings/README.md layout), all in one
// SharedArrayBuffer created on the main thread and posted to every worker. All three are indexed
// [i * workers + j], i being the lender (the worker whose queue received the frame) and j the
// borrower (the owner of its flow):
//
//   forward   descriptor ring  i -> j  packets i received whose flow j owns ([addr, len])
//   return    address ring     j -> i  frames i lent to j, given back when j releases them
//   transmit  descriptor ring  j -> i  frames i lent to j that j sends: i puts them on its own
//                                      TX ring, so every frame's TX and completion stay with the
//                                      device that holds it (its ledger stays exact)
//
// Only descriptors cross: the packet bytes stay in the shared UMEM where the kernel put them.
// A frame is in at most one ring at a time, so rings that hold every frame of the UMEM never
// overflow; only a doubled frame could fill one.
import {
  ADDR_ENTRY_SIZE,
  CACHE_LINE,
  DESC_ENTRY_SIZE,
  initRing,
  ringByteLength,
} from '../../../rings/index.js';
import { DEFAULT_RSS_KEY, Reta, type RetaSize } from '../../rss/index.js';

/** Everything a worker needs to join flow steering; plain data, so it crosses postMessage. */
export interface SteeringLayout {
  workers: number;
  /** The worker that takes ARP, neighbour discovery and non-IP frames (the Rust dispatcher's rule). */
  controlWorker: number;
  /** RSS key bytes and RETA: every worker and the main thread compute the same owner. */
  key: number[];
  retaSize: RetaSize;
  /** bucket -> worker, `retaSize` entries (the NIC's when the engine follows it). */
  reta: number[];
  rings: SharedArrayBuffer;
  /** Entries per ring. */
  capacity: number;
  /** Byte offsets in `rings`, indexed [lender * workers + borrower]; -1 on the diagonal. */
  forward: number[];
  return: number[];
  transmit: number[];
}

export interface SteeringLayoutOptions {
  workers: number;
  /** Frames in the UMEM (every frame could be in one ring at once). */
  frames: number;
  key?: Uint8Array;
  /** The RETA (bucket -> worker, 128 or 512 entries); default: the workers round-robin. */
  reta?: Uint8Array;
  /** The default RETA's size (without `reta`). */
  retaSize?: RetaSize;
  controlWorker?: number;
}

function invalid(message: string): Error {
  return Object.assign(new Error(message), { code: 'EINVAL' });
}

function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** Lays out and initialises the rings between `workers` workers. */
export function createSteeringLayout(o: SteeringLayoutOptions): SteeringLayout {
  const { workers, frames } = o;
  if (!Number.isInteger(workers) || workers < 1 || workers > 254) {
    throw invalid(`steering needs 1..254 workers, got ${workers}`);
  }
  if (!Number.isInteger(frames) || frames < 1 || frames > 1 << 24) {
    throw invalid(`frames ${frames} must be an integer in 1..2^24`);
  }
  const controlWorker = o.controlWorker ?? 0;
  if (!Number.isInteger(controlWorker) || controlWorker < 0 || controlWorker >= workers) {
    throw invalid(`control worker ${controlWorker} must be one of the ${workers} workers`);
  }
  const capacity = nextPowerOfTwo(frames);
  const descBytes = ringByteLength(capacity, DESC_ENTRY_SIZE);
  const addrBytes = ringByteLength(capacity, ADDR_ENTRY_SIZE);
  const forward: number[] = [];
  const ret: number[] = [];
  const transmit: number[] = [];
  let at = 0;
  const take = (bytes: number): number => {
    const offset = at;
    at += Math.ceil(bytes / CACHE_LINE) * CACHE_LINE;
    return offset;
  };
  for (let from = 0; from < workers; from++) {
    for (let to = 0; to < workers; to++) {
      const diagonal = from === to;
      forward.push(diagonal ? -1 : take(descBytes));
      ret.push(diagonal ? -1 : take(addrBytes));
      transmit.push(diagonal ? -1 : take(descBytes));
    }
  }
  const rings = new SharedArrayBuffer(Math.max(at, CACHE_LINE));
  for (let i = 0; i < workers * workers; i++) {
    if (forward[i] < 0) continue;
    initRing(rings, forward[i], capacity, DESC_ENTRY_SIZE);
    initRing(rings, ret[i], capacity, ADDR_ENTRY_SIZE);
    initRing(rings, transmit[i], capacity, DESC_ENTRY_SIZE);
  }
  const reta = o.reta ?? new Reta(workers, o.retaSize ?? 128).table;
  return {
    workers,
    controlWorker,
    key: Array.from(o.key ?? DEFAULT_RSS_KEY),
    retaSize: reta.length as RetaSize,
    reta: Array.from(reta),
    rings,
    capacity,
    forward,
    return: ret,
    transmit,
  };
}

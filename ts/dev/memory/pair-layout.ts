// Where a memory pair keeps things. Plain data (numbers and SharedArrayBuffers), so each end can
// be opened in the thread that created the pair or in any worker it is posted to.
//
// frames: one SharedArrayBuffer; port a owns frames [0, n), port b owns [n, 2n) (n =
// framesPerPort). Frames travel between the ports by descriptor; a frame always goes back to the
// free stack of its owner (its home), through a return ring when the other port frees it.
//
// control: four rings (rings/README.md layout), then the two custody ledgers, then per port its
// counters and its fault settings:
//   wire a->b  descriptor ring  producer a, consumer b  (what a sends, b receives)
//   wire b->a  descriptor ring  producer b, consumer a
//   return->a  address ring     producer b, consumer a  (a's frames that b freed)
//   return->b  address ring     producer a, consumer b

import type { PacketMemory } from '../../wire/simd-sum.js';

/** What one end needs to open its port (`new MemoryPort(config)`). */
export interface MemoryPortConfig {
  /** 'a' or 'b'. */
  side: 'a' | 'b';
  /** 0 for a, 1 for b: the port's frame range is [index * framesPerPort, (index + 1) * ...). */
  index: 0 | 1;
  frames: SharedArrayBuffer;
  /**
   * The WebAssembly.Memory whose buffer `frames` is (simd-sum.ts): a port in another thread adopts
   * it so its checksums are summed with SIMD. Null where WebAssembly is unavailable.
   */
  framesMemory: PacketMemory | null;
  frameSize: number;
  framesPerPort: number;
  /** Bytes in front of a new TX packet inside its frame (txDataOffset). */
  headroom: number;
  batch: number;
  /** Seed of this port's fault PRNG. */
  seed: number;
  control: SharedArrayBuffer;
  /** Byte offsets in `control`. */
  txRing: number;
  rxRing: number;
  /** Ring carrying the peer's frames that this port frees back to the peer. */
  returnOut: number;
  /** Ring carrying this port's frames that the peer freed. */
  returnIn: number;
  ledger: number;
  counters: number;
  faults: number;
  /** State of the VirtualClock the pair runs on, or null for real time. */
  clock: SharedArrayBuffer | null;
}

/** Both ends of a pair. */
export interface MemoryPairConfig {
  a: MemoryPortConfig;
  b: MemoryPortConfig;
}

/** Ring offsets of a pair, in the order listed at the top of this file. */
export function pairRings(config: MemoryPairConfig): {
  aToB: number;
  bToA: number;
  returnToA: number;
  returnToB: number;
} {
  return {
    aToB: config.a.txRing,
    bToA: config.b.txRing,
    returnToA: config.a.returnIn,
    returnToB: config.b.returnIn,
  };
}

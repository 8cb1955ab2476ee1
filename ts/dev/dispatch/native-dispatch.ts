// The addon's software-RSS dispatcher (crates/node-xdp/src/dispatch) as TypeScript sees it. Kept
// beside the dispatch device rather than in ../xdp/native.ts: only this folder uses it.
import { nodeXdp } from '../xdp/native.js';

export interface DispatcherOptions {
  socketId: number;
  workers: number;
  /** Byte offsets in the rings buffer: [rx, free, tx, comp] per worker. */
  ringOffsets: number[];
  rxFirstFrame: number;
  rxFrameCount: number;
  txFirstFrame: number;
  txFramesPerWorker: number;
  /** RSS key bytes (at least 40). */
  key: number[];
  /** bucket -> worker. */
  reta: number[];
  batch?: number;
}

export interface DispatcherStats {
  rxPackets: number;
  rxBytes: number;
  txPackets: number;
  txBytes: number;
  /** ARP/ND/non-IP frames, given to worker 0. */
  control: number;
  /** Frames steered by a pin instead of the RETA. */
  pinned: number;
  invalidDescs: number;
  violations: number;
  kicks: number;
  naps: number;
  parks: number;
  /** Futex wakes of workers parked in RingWaiter.wait. */
  wakes: number;
  delivered: number[];
  dropped: number[];
  appliedGeneration: number;
  lastError?: string;
}

/** Place codes of DispatcherAudit.places. */
export const enum DispatchPlace {
  Free = 0,
  Kernel = 1,
  KernelTx = 2,
  Worker = 3,
  Unused = 4,
}

export interface DispatcherAudit {
  places: number[];
  freeStack: number;
  kernelFill: number;
  kernelRx: number;
  kernelTx: number;
  kernelComp: number;
  violations: number;
  problems: string[];
  ok: boolean;
}

export interface NativeDispatcher {
  readonly appliedGeneration: number;
  readonly running: boolean;
  update(
    reta?: number[] | null,
    pins?: { tuple: number[]; owner: number }[] | null,
    unpins?: number[][] | null,
  ): number;
  stats(): DispatcherStats;
  stop(): void;
  audit(): DispatcherAudit;
  close(): void;
}

/**
 * A worker's native park on its rx and comp rings (the dispatcher is a native thread and cannot
 * notify an Atomics.wait; rings/README.md "Native wake-ups").
 */
export interface NativeRingWaiter {
  /** Blocks until the dispatcher publishes into either ring or `timeoutMs` passes; returns the entries waiting. */
  wait(timeoutMs: number): number;
  readonly parks: number;
}

/** For a JS producer into a ring whose consumer parks in a RingWaiter: call ring() after submit(). */
export interface NativeRingDoorbell {
  /** Wakes the consumer if it is parked; true if it was. */
  ring(): boolean;
}

export interface NodeXdpDispatch {
  Dispatcher: {
    start(umem: Uint8Array, rings: Uint8Array, opts: DispatcherOptions): NativeDispatcher;
  };
  RingWaiter: {
    attach(rings: Uint8Array, rxOffset: number, compOffset: number): NativeRingWaiter;
  };
  RingDoorbell: {
    attach(rings: Uint8Array, offset: number, entrySize: number): NativeRingDoorbell;
  };
  toeplitzHashMany(key: Uint8Array, inputs: Uint8Array, stride: number, out: Uint32Array): number;
}

/** The addon's dispatch functions. */
export function nodeXdpDispatch(): NodeXdpDispatch {
  return nodeXdp() as unknown as NodeXdpDispatch;
}

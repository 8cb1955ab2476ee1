// The main thread's handle on steered workers (queues >= workers): worker w owns queue w of the
// binding and forwards packets of flows it does not own to their owner through inter-worker
// rings. Controlled through threads.js.
import type { ModuleThread } from 'threads';
import type { XdpBinding } from '../dev/xdp/xdp-binding.js';
import { createSteeringLayout, FlowOwner, type SteeringLayout } from '../dev/steering/index.js';
import type { RetaSize } from '../rss/index.js';
import type { SteeredWorkerApi } from './steered-worker.js';
import { everyWorkerRecords, type FlowRecords } from './rss-loop-spec.js';
import type { SteeredAudit, SteeredLoopReport, SteeredLoopSpec } from './steered-loop-spec.js';
import { WorkerSet } from './worker-set.js';

export interface SteeredWorkersOptions {
  /** Descriptors per burst call (default 64). */
  batch?: number;
  key?: Uint8Array;
  retaSize?: RetaSize;
}

export class SteeredWorkers extends WorkerSet<
  SteeredLoopSpec,
  SteeredLoopReport,
  SteeredWorkerApi
> {
  /** Computes owners the same way the workers do, for the main thread (tests, connect()). */
  readonly owner: FlowOwner;

  private constructor(
    readonly layout: SteeringLayout,
    threads: ModuleThread<SteeredWorkerApi>[],
  ) {
    super(threads);
    this.owner = FlowOwner.forLayout(layout);
  }

  /** Starts one worker per socket of the binding (queues == workers) and opens its data path. */
  static async start(
    binding: XdpBinding,
    opts: SteeredWorkersOptions = {},
  ): Promise<SteeredWorkers> {
    const workers = binding.sockets.length;
    const layout = createSteeringLayout({
      workers,
      frames: binding.umemLayout.frameCount,
      key: opts.key,
      retaSize: opts.retaSize,
    });
    const threads = await WorkerSet.spawnAll<SteeredWorkerApi>(
      './steered-worker.js',
      workers,
      (thread, w) => thread.open(binding.assignment(w), layout, w, opts.batch ?? 64),
    );
    return new SteeredWorkers(layout, threads);
  }

  async progress(): Promise<{ rxPackets: number; forwarded: number }> {
    const all = await Promise.all(this.threads.map((t) => t.progress()));
    return {
      rxPackets: all.reduce((s, p) => s + p.rxPackets, 0),
      forwarded: all.reduce((s, p) => s + p.forwarded, 0),
    };
  }

  /** Each worker's last flowrecord records. */
  async records(): Promise<FlowRecords[]> {
    return everyWorkerRecords(await Promise.all(this.threads.map((t) => t.records())));
  }

  /**
   * Frame accounting across workers (loops must be stopped): settles every worker until no frame
   * moves (a returned frame may need a pass on its lender after one on its borrower), then
   * audits each worker's queue device and steering state.
   */
  async audit(): Promise<SteeredAudit[]> {
    for (let round = 0; round < 100; round++) {
      let moved = 0;
      for (const t of this.threads) moved += await t.settle();
      if (moved === 0) break;
    }
    return Promise.all(this.threads.map((t) => t.audit()));
  }
}

// The main thread's handle on steered workers (queues >= workers): worker w owns queue w of the
// binding and forwards packets of flows it does not own to their owner through inter-worker
// rings. Controlled through threads.js.
import { spawn, Thread, Worker, type ModuleThread } from 'threads';
import type { XdpBinding } from '../dev/xdp/xdp-binding.js';
import { createSteeringLayout, FlowOwner, type SteeringLayout } from '../dev/steering/index.js';
import type { RetaSize } from '../rss/index.js';
import type { SteeredWorkerApi } from './steered-worker.js';
import type { FlowRecords } from './rss-loop-spec.js';
import type { SteeredAudit, SteeredLoopReport, SteeredLoopSpec } from './steered-loop-spec.js';

// threads.js resolves a worker script relative to the file that constructs the Worker (this one).
const workerPath = './steered-worker.js';

export interface SteeredWorkersOptions {
  /** Descriptors per burst call (default 64). */
  batch?: number;
  key?: Uint8Array;
  retaSize?: RetaSize;
}

export class SteeredWorkers {
  /** Computes owners the same way the workers do, for the main thread (tests, connect()). */
  readonly owner: FlowOwner;

  private constructor(
    readonly layout: SteeringLayout,
    private readonly threads: ModuleThread<SteeredWorkerApi>[],
  ) {
    this.owner = new FlowOwner(
      layout.workers,
      Uint8Array.from(layout.key),
      layout.retaSize,
      layout.controlWorker,
    );
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
    const threads: ModuleThread<SteeredWorkerApi>[] = [];
    try {
      for (let w = 0; w < workers; w++) {
        const thread = await spawn<SteeredWorkerApi>(new Worker(workerPath), { timeout: 30000 });
        threads.push(thread);
        await thread.open(binding.assignment(w), layout, w, opts.batch ?? 64);
      }
    } catch (err) {
      await Promise.all(threads.map((t) => Thread.terminate(t)));
      throw err;
    }
    return new SteeredWorkers(layout, threads);
  }

  get count(): number {
    return this.threads.length;
  }

  /** Runs a loop in every worker and waits for all of them. */
  run(spec: (worker: number) => SteeredLoopSpec): Promise<SteeredLoopReport[]> {
    return Promise.all(this.threads.map((t, w) => t.run(spec(w))));
  }

  async stop(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.stop()));
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
    const all = await Promise.all(this.threads.map((t) => t.records()));
    return all.map((r, w) => {
      if (!r) {
        throw Object.assign(new Error(`worker ${w} ran no flowrecord loop`), { code: 'ENOENT' });
      }
      return r;
    });
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

  /** Closes the data paths and ends the workers. Idempotent. */
  async close(): Promise<void> {
    const threads = this.threads.splice(0);
    await Promise.all(
      threads.map(async (t) => {
        try {
          await t.close();
        } finally {
          await Thread.terminate(t);
        }
      }),
    );
  }
}

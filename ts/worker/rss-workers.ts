// The main thread's handle on the workers behind a software-RSS dispatcher: one worker_thread per
// worker ring set of the binding, controlled through threads.js.
import type { DispatchBinding, DispatchAudit } from '../dev/dispatch/dispatch-binding.js';
import type { RssWorkerApi } from './rss-worker.js';
import {
  everyWorkerRecords,
  type FlowRecords,
  type RssLoopReport,
  type RssLoopSpec,
} from './rss-loop-spec.js';
import { WorkerSet } from './worker-set.js';
import type { ModuleThread } from 'threads';

export class RssWorkers extends WorkerSet<RssLoopSpec, RssLoopReport, RssWorkerApi> {
  private constructor(
    private readonly binding: DispatchBinding,
    threads: ModuleThread<RssWorkerApi>[],
  ) {
    super(threads);
  }

  /** Starts one worker per ring set of the binding (binding.workers) and opens its device. */
  static async start(binding: DispatchBinding, batch = 64): Promise<RssWorkers> {
    const threads = await WorkerSet.spawnAll<RssWorkerApi>(
      './rss-worker.js',
      binding.workers,
      (thread, w) => thread.open(binding.workerConfig(w, batch)),
    );
    return new RssWorkers(binding, threads);
  }

  async progress(): Promise<{ rxPackets: number }> {
    const all = await Promise.all(this.threads.map((t) => t.progress()));
    return { rxPackets: all.reduce((s, p) => s + p.rxPackets, 0) };
  }

  /** Each worker's last flowrecord records. */
  async records(): Promise<FlowRecords[]> {
    return everyWorkerRecords(await Promise.all(this.threads.map((t) => t.records())));
  }

  /**
   * Engine-wide frame accounting: drains the workers (loops must be stopped), stops the
   * dispatcher and checks that every frame is in exactly one place.
   */
  async audit(): Promise<DispatchAudit> {
    const holdings = await Promise.all(this.threads.map((t) => t.holdings()));
    return this.binding.audit(holdings);
  }
}

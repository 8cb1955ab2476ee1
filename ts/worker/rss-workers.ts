// The main thread's handle on the workers behind a software-RSS dispatcher: one worker_thread per
// worker ring set of the binding, controlled through threads.js.
import { spawn, Thread, Worker, type ModuleThread } from 'threads';
import type { DispatchBinding, DispatchAudit } from '../dev/dispatch/dispatch-binding.js';
import type { RssWorkerApi } from './rss-worker.js';
import type { FlowRecords, RssLoopReport, RssLoopSpec } from './rss-loop-spec.js';

// threads.js resolves a worker script relative to the file that constructs the Worker (this one).
const workerPath = './rss-worker.js';

export class RssWorkers {
  private constructor(
    private readonly binding: DispatchBinding,
    private readonly threads: ModuleThread<RssWorkerApi>[],
  ) {}

  /** Starts one worker per ring set of the binding (binding.workers) and opens its device. */
  static async start(binding: DispatchBinding, batch = 64): Promise<RssWorkers> {
    const threads: ModuleThread<RssWorkerApi>[] = [];
    try {
      for (let w = 0; w < binding.workers; w++) {
        const thread = await spawn<RssWorkerApi>(new Worker(workerPath), { timeout: 30000 });
        threads.push(thread);
        await thread.open(binding.workerConfig(w, batch));
      }
    } catch (err) {
      await Promise.all(threads.map((t) => Thread.terminate(t)));
      throw err;
    }
    return new RssWorkers(binding, threads);
  }

  get count(): number {
    return this.threads.length;
  }

  /** Runs a loop in every worker and waits for all of them. */
  run(spec: (worker: number) => RssLoopSpec): Promise<RssLoopReport[]> {
    return Promise.all(this.threads.map((t, w) => t.run(spec(w))));
  }

  async stop(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.stop()));
  }

  async progress(): Promise<{ rxPackets: number }> {
    const all = await Promise.all(this.threads.map((t) => t.progress()));
    return { rxPackets: all.reduce((s, p) => s + p.rxPackets, 0) };
  }

  /** Each worker's last flowrecord records. */
  async records(): Promise<FlowRecords[]> {
    const all = await Promise.all(this.threads.map((t) => t.records()));
    return all.map((r, w) => {
      if (!r)
        throw Object.assign(new Error(`worker ${w} ran no flowrecord loop`), { code: 'ENOENT' });
      return r;
    });
  }

  /**
   * Engine-wide frame accounting: drains the workers (loops must be stopped), stops the
   * dispatcher and checks that every frame is in exactly one place.
   */
  async audit(): Promise<DispatchAudit> {
    const holdings = await Promise.all(this.threads.map((t) => t.holdings()));
    return this.binding.audit(holdings);
  }

  /** Ends the workers. Idempotent. */
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

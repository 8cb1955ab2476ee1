// The main thread's handle on the port workers of a binding: one worker_thread per queue,
// controlled through threads.js.
import { spawn, Thread, Worker, type ModuleThread } from 'threads';
import type { XdpBinding } from '../dev/xdp/xdp-binding.js';
import type { FrameAudit } from '../dev/xdp/xdp-device.js';
import type { PortWorkerApi } from './port-worker.js';
import type { LoopReport, LoopSpec } from './loop-spec.js';

// threads.js resolves a worker script relative to the file that constructs the Worker (this one).
const workerPath = './port-worker.js';

export class PortWorkers {
  private constructor(private readonly threads: ModuleThread<PortWorkerApi>[]) {}

  /** Starts one worker per socket of the binding and opens its data path. */
  static async start(binding: XdpBinding, batch = 64): Promise<PortWorkers> {
    const threads: ModuleThread<PortWorkerApi>[] = [];
    try {
      for (let i = 0; i < binding.sockets.length; i++) {
        const thread = await spawn<PortWorkerApi>(new Worker(workerPath), { timeout: 30000 });
        threads.push(thread);
        await thread.open(binding.assignment(i), batch);
      }
    } catch (err) {
      await Promise.all(threads.map((t) => Thread.terminate(t)));
      throw err;
    }
    return new PortWorkers(threads);
  }

  get count(): number {
    return this.threads.length;
  }

  /** Runs a loop in every worker (spec per worker index) and waits for all of them. */
  run(spec: (worker: number) => LoopSpec): Promise<LoopReport[]> {
    return Promise.all(this.threads.map((t, i) => t.run(spec(i))));
  }

  async stop(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.stop()));
  }

  async progress(): Promise<{ rxPackets: number; txPackets: number }> {
    const all = await Promise.all(this.threads.map((t) => t.progress()));
    return all.reduce(
      (sum, p) => ({
        rxPackets: sum.rxPackets + p.rxPackets,
        txPackets: sum.txPackets + p.txPackets,
      }),
      { rxPackets: 0, txPackets: 0 },
    );
  }

  audit(): Promise<FrameAudit[]> {
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

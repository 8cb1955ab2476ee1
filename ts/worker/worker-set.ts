// The main thread's side of a set of loop workers (port, RSS or steered), one worker_thread each,
// controlled through threads.js: starting them all or none, running a loop in every one, stopping
// the loops and ending the workers. PortWorkers, RssWorkers and SteeredWorkers add what their
// workers do besides.
import { spawn, Thread, Worker, type ModuleThread } from 'threads';
import { onGracefulStop, releaseThreadsSignalHandlers } from '../runtime/signals.js';

// threads' own SIGINT/SIGTERM handlers would exit(0) past our graceful stop (runtime/signals.ts).
releaseThreadsSignalHandlers();

/** The control calls every loop worker answers (see LoopWorkerState). */
export interface LoopWorkerApi<Spec, Report> {
  run(spec: Spec): Promise<Report>;
  stop(): void;
  close(): void;
}

export class WorkerSet<Spec, Report, Api extends LoopWorkerApi<Spec, Report>> {
  private readonly unregisterStop: () => void;

  protected constructor(protected readonly threads: ModuleThread<Api>[]) {
    // SIGINT/SIGTERM (a perf run interrupted): stop the loops and end the workers.
    this.unregisterStop = onGracefulStop(async () => {
      await this.stop().catch(() => undefined);
      await this.close();
    });
  }

  /**
   * Spawns `count` workers of `script` and opens each with `open` (worker index `i`); if any
   * fails, ends those already started and throws.
   */
  protected static async spawnAll<Api extends LoopWorkerApi<unknown, unknown>>(
    script: string,
    count: number,
    open: (thread: ModuleThread<Api>, i: number) => Promise<void>,
  ): Promise<ModuleThread<Api>[]> {
    const threads: ModuleThread<Api>[] = [];
    try {
      for (let i = 0; i < count; i++) {
        // threads.js resolves a relative script against the file that constructs the Worker:
        // this one, beside the worker scripts.
        const thread = await spawn<Api>(new Worker(script), { timeout: 30000 });
        threads.push(thread);
        await open(thread, i);
      }
    } catch (err) {
      await Promise.all(threads.map((t) => Thread.terminate(t)));
      throw err;
    }
    return threads;
  }

  get count(): number {
    return this.threads.length;
  }

  /** Runs a loop in every worker (spec per worker index) and waits for all of them. */
  run(spec: (worker: number) => Spec): Promise<Report[]> {
    // threads.js's proxy types lose `Report` through the generic Api; run() returns it.
    return Promise.all(this.threads.map((t, w) => t.run(spec(w)) as Promise<Report>));
  }

  async stop(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.stop()));
  }

  /** Closes the data paths and ends the workers. Idempotent. */
  async close(): Promise<void> {
    this.unregisterStop();
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

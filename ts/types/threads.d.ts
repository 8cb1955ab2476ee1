// threads.js ships its types without an `exports` entry that NodeNext resolution finds; these
// declarations cover the part of its API xdpnet uses.
declare module 'threads' {
  import type { Worker as NodeWorker, WorkerOptions } from 'node:worker_threads';
  export class Worker {
    constructor(path: string, options?: WorkerOptions);
  }
  export type ModuleThread<T> = {
    [K in keyof T]: T[K] extends (...args: infer A) => infer R
      ? (...args: A) => Promise<Awaited<R>>
      : never;
  };
  export function spawn<T>(
    worker: Worker,
    options?: { timeout?: number },
  ): Promise<ModuleThread<T>>;
  export const Thread: {
    terminate(thread: unknown): Promise<void>;
    errors(thread: unknown): { subscribe(fn: (err: Error) => void): unknown };
  };
  export type { NodeWorker };
}

declare module 'threads/worker' {
  export function expose(api: Record<string, (...args: never[]) => unknown>): void;
}

// The stack of the current worker thread, as the public APIs (`dgram`, `net`, `sys`) see it.
// This module belongs to the api layer and depends only on the layers below it (iface, socket):
// the api says what it needs (a WorkerStack) and the worker runtime (ts/runtime/stack-worker.ts),
// which sits above, builds one (device, interface, transports) and installs it with
// setWorkerStack before it loads the app module. So the app's calls reach this worker's stack
// without the app passing anything around, and ts/api never imports ts/runtime.
import type { Interface } from '../iface/interface.js';
import type { UdpStack } from '../socket/udp/udp-stack.js';
import type { TcpStack } from '../socket/tcp/tcp-stack.js';

export interface WorkerStack {
  readonly workerId: number;
  readonly workerCount: number;
  readonly iface: Interface;
  readonly udp: UdpStack;
  readonly tcp: TcpStack;
}

let current: WorkerStack | undefined;

export function setWorkerStack(stack: WorkerStack | undefined): void {
  current = stack;
}

const stopHooks: (() => void)[] = [];

/** Runs `fn` once when this worker stops, before its stack closes (sys closes its descriptors). */
export function onWorkerStop(fn: () => void): void {
  stopHooks.push(fn);
}

/** The worker runtime calls this on stop; a hook that throws does not keep the others from running. */
export function runWorkerStopHooks(): void {
  for (const fn of stopHooks.splice(0)) {
    try {
      fn();
    } catch (err) {
      process.stderr.write(`xdpnet: worker stop hook failed: ${String(err)}\n`);
    }
  }
}

/** This thread's stack; a clear error when called outside an engine worker. */
export function workerStack(): WorkerStack {
  if (!current) {
    throw Object.assign(
      new Error(
        'no xdpnet stack in this thread: xdpnet sockets work inside an engine worker ' +
          '(load your module with `xdpnet run <module>` or Engine.start({ app }))',
      ),
      { code: 'ENOTSUP' },
    );
  }
  return current;
}

// SIGINT and SIGTERM: the graceful stop. Whatever owns running workers (an Engine, a set of perf
// workers, the CLI's `run`) registers how it stops; the first signal runs those stops, newest
// first, one after the other, then exits with 128 + the signal's number (the shell's convention:
// 130 for SIGINT, 143 for SIGTERM) unless the application set process.exitCode itself. A second
// signal while they run exits at once ('exit' handlers still remove test beds; the kernel
// detaches the XDP program when its link's descriptor closes with the process).
//
// The `threads` package installs SIGINT/SIGTERM handlers of its own when it is loaded: they
// terminate every worker and call process.exit(0), which would cut the graceful stop short (no
// FINs, no stats, exit code 0). releaseThreadsSignalHandlers() removes them; it is called by the
// modules that import `threads` for the main thread, once that import has run.
import os from 'node:os';

/** A graceful stop: resolves once what it stopped is down. */
export type GracefulStop = (signal: NodeJS.Signals) => Promise<unknown> | unknown;

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];
const stops: GracefulStop[] = [];
let stopping: NodeJS.Signals | undefined;

/** 128 + the signal's number, as a shell reports a process killed by it. */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + os.constants.signals[signal];
}

/**
 * Removes the SIGINT/SIGTERM listeners `threads` (1.x, master/implementation.node.js) added:
 * they are the ones that call its `terminateWorkersAndMaster`. Nothing else in the process is
 * touched. Idempotent.
 */
export function releaseThreadsSignalHandlers(): void {
  for (const s of SIGNALS) {
    for (const fn of process.listeners(s)) {
      if (fn.toString().includes('terminateWorkersAndMaster')) process.removeListener(s, fn);
    }
  }
}

function onSignal(signal: NodeJS.Signals): void {
  if (stopping !== undefined) {
    process.stderr.write(`xdpnet: ${signal} again, exiting without a graceful stop\n`);
    process.exit(signalExitCode(signal));
  }
  stopping = signal;
  void runStops(signal);
}

async function runStops(signal: NodeJS.Signals): Promise<void> {
  // Newest first: the CLI's stop (stats, then engine.stop) runs before the Engine's own, which
  // then finds itself stopped already.
  while (stops.length > 0) {
    const stop = stops.pop()!;
    try {
      await stop(signal);
    } catch (err) {
      process.stderr.write(`xdpnet: graceful stop failed: ${String(err)}\n`);
    }
  }
  process.exit(process.exitCode ?? signalExitCode(signal));
}

function install(): void {
  releaseThreadsSignalHandlers();
  for (const s of SIGNALS) if (!process.listeners(s).includes(onSignal)) process.on(s, onSignal);
}

function uninstall(): void {
  // Once a signal came, the handlers stay: the second one must still force the exit.
  if (stopping !== undefined) return;
  for (const s of SIGNALS) process.removeListener(s, onSignal);
}

/**
 * Runs `stop` on the first SIGINT or SIGTERM. Returns the call that unregisters it (when what it
 * stops was stopped some other way); with nothing registered, the signals act as before.
 */
export function onGracefulStop(stop: GracefulStop): () => void {
  stops.push(stop);
  install();
  return () => {
    const i = stops.indexOf(stop);
    if (i >= 0) stops.splice(i, 1);
    if (stops.length === 0) uninstall();
  };
}

/** The signal the graceful stop is running for, if one came. */
export function stopSignal(): NodeJS.Signals | undefined {
  return stopping;
}

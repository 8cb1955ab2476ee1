// One snapshot of a running engine for a metrics scrape: the workers' stats (with their netstat
// sections) and what only the main thread holds: the AF_XDP sockets' statistics, the XDP
// program's counters and the dispatcher's.
import type { XdpBinding } from '../../dev/xdp/xdp-binding.js';
import type { DispatcherStats } from '../../dev/dispatch/native-dispatch.js';
import { netstatCounters } from '../control-counters.js';
import type { StackWorkerStats } from '../stack-config.js';
import type { EngineSnapshot, XskSnapshot } from './families.js';

/**
 * Socket i belongs to worker i (one queue each, directly or steered); under software RSS the
 * one socket belongs to the dispatcher.
 */
function sockets(xdp: XdpBinding, workers: StackWorkerStats[], dispatched: boolean): XskSnapshot[] {
  return xdp.sockets.map((socket, i) => ({
    worker: dispatched ? 'dispatcher' : String(i),
    queue: socket.queue,
    stats: socket.stats(),
    ringSizes: socket.ringSizes,
    occupancy: dispatched ? undefined : workers[i]?.rings,
  }));
}

export function engineSnapshot(
  mode: string,
  workers: StackWorkerStats[],
  xdp: XdpBinding,
  dispatcher?: DispatcherStats,
): EngineSnapshot {
  return {
    mode,
    workers,
    netstat: workers.map(netstatCounters),
    sockets: sockets(xdp, workers, dispatcher !== undefined),
    program: xdp.program.counters(),
    dispatcher,
  };
}

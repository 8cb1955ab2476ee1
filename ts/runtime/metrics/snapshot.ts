// One snapshot of a running engine for a metrics scrape: the workers' stats (with their netstat
// sections) and what only the main thread holds: the AF_XDP sockets' statistics, the XDP
// program's counters and the dispatcher's.
import type { XdpBinding } from '../../dev/xdp/xdp-binding.js';
import type { DispatcherStats } from '../../dev/dispatch/native-dispatch.js';
import { netstatCounters } from '../control-counters.js';
import type { QueueRings, StackWorkerStats } from '../stack-config.js';
import type { EngineSnapshot, XskSnapshot } from './families.js';

/**
 * A socket belongs to the worker that reports its queue's rings; under software RSS (where no
 * worker reads a queue itself) the one socket is the dispatcher's.
 */
function sockets(xdp: XdpBinding, workers: StackWorkerStats[]): XskSnapshot[] {
  const readers = new Map<number, { worker: string; rings: QueueRings }>();
  for (const w of workers) {
    for (const rings of w.rings ?? [])
      readers.set(rings.queue, { worker: String(w.workerId), rings });
  }
  return xdp.sockets.map((socket) => {
    const reader = readers.get(socket.queue);
    const { fill, rx, tx, comp } = reader?.rings ?? { fill: 0, rx: 0, tx: 0, comp: 0 };
    return {
      worker: reader?.worker ?? 'dispatcher',
      queue: socket.queue,
      stats: socket.stats(),
      ringSizes: socket.ringSizes,
      occupancy: reader ? { fill, rx, tx, comp } : undefined,
    };
  });
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
    sockets: sockets(xdp, workers),
    program: xdp.program.counters(),
    dispatcher,
  };
}

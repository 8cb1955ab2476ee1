// How the engine spreads an interface's queues over its workers, as a plain function of the two
// counts, so that `xdpnet nic` can say what the engine would do without starting it. Every queue
// is bound, because the NIC spreads flows over all of them and a flow on a queue nobody reads is
// lost: with fewer workers than queues a worker reads several (MultiQueueDevice); with several
// workers, packets the NIC put on another worker's queue go to their owner through inter-worker
// rings (steering), since the engine's RSS (its own Toeplitz key and RETA) decides who owns a
// flow. More workers than queues need the Rust dispatcher (software RSS), which reads one queue:
// only an interface with one queue can have more workers than queues.

import { DEFAULT_FRAME_SIZE, needsMultiBuffer } from '../dev/xdp/umem-layout.js';

/**
 * 'xdp': one worker reads every queue. 'steered': each worker reads its share of the queues and
 * hands the flows it does not own to their owner. 'dispatch': the software-RSS dispatcher reads
 * the one queue and spreads it over the workers.
 */
export type BindingKind = 'xdp' | 'steered' | 'dispatch';

export interface BindingPlan {
  workers: number;
  queues: number;
  kind: BindingKind;
  /** The queues each worker reads (with 'dispatch': none, the dispatcher reads queue 0). */
  queuesOf: number[][];
}

/** The plan for `workers` workers on an interface with `queues` RX queues; ENOTSUP if none works. */
export function planBinding(ifname: string, workers: number, queues: number): BindingPlan {
  if (workers > queues) {
    if (queues > 1) throw unservedQueues(ifname, workers, queues);
    return {
      workers,
      queues,
      kind: 'dispatch',
      queuesOf: Array.from({ length: workers }, () => []),
    };
  }
  // Worker w reads every `workers`-th queue from its own index (XdpBinding.workerQueues).
  const queuesOf = Array.from({ length: workers }, (_, w) =>
    Array.from({ length: queues }, (_, q) => q).filter((q) => q % workers === w),
  );
  return { workers, queues, kind: workers === 1 ? 'xdp' : 'steered', queuesOf };
}

/**
 * ENOTSUP when frames of `mtu` bytes need multi-buffer descriptor chains and `plan` is not one
 * worker on a one-queue interface: chains are gathered by the device a worker reads itself
 * (XdpDevice); the dispatcher, steering and multi-queue devices move one descriptor per packet.
 */
export function checkFrameFit(
  plan: BindingPlan,
  mtu: number,
  frameSize = DEFAULT_FRAME_SIZE,
  headroom = 0,
): void {
  if (!needsMultiBuffer(mtu, frameSize, headroom)) return;
  if (plan.kind === 'xdp' && plan.queues === 1) return;
  throw Object.assign(
    new Error(
      `MTU ${mtu} needs multi-buffer frames, which run on an interface with one queue and ` +
        `one worker (got ${plan.queues} queues, ${plan.workers} workers)`,
    ),
    { code: 'ENOTSUP' },
  );
}

export function unservedQueues(ifname: string, workers: number, queues: number): Error {
  return Object.assign(
    new Error(
      `${workers} workers on ${ifname}, which has ${queues} RX queues: the software-RSS ` +
        `dispatcher reads one queue, so flows the NIC puts on the other ${queues - 1} would be ` +
        `lost. Run ${queues} or fewer workers (each reads its share of the queues), or give ` +
        `${ifname} a single queue first (\`ethtool -L ${ifname} combined 1\`, or \`rx 1 tx 1\` ` +
        'where it has no combined channels)',
    ),
    { code: 'ENOTSUP' },
  );
}

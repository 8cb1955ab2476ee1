// An RSS worker: a worker_thread behind the software-RSS dispatcher. It holds the UMEM view and
// its four rings (DispatchedDevice) and runs a packet loop; the control plane is threads.js.
import { expose } from 'threads/worker';
import { DispatchedDevice, type WorkerHoldings } from '../dev/dispatch/dispatched-device.js';
import { monotonicNow } from '../dev/memory/clock.js';
import type { DispatchWorkerConfig } from '../dev/dispatch/dispatch-layout.js';
import type { PacketLoop } from './loops/packet-loop.js';
import { LoopWorkerState } from './loop-worker-state.js';
import { FlowRecordLoop, makeFlowLoop } from './flow-record-loop.js';
import type { FlowRecords, RssLoopReport, RssLoopSpec } from './rss-loop-spec.js';

/**
 * Idle passes before parking. The dispatcher wakes a parked worker as soon as it publishes
 * (RingWaiter, a futex), so there is nothing to gain from napping or spinning long: a woken
 * worker takes everything waiting, batch after batch, and parks again when a pass finds nothing.
 */
const SPIN_PASSES = 2;
/** The longest park; a park that times out gives the Node event loop a turn. */
const PARK_MS = 5;
/** While packets keep coming, the event loop still gets a turn at least this often. */
const SLICE_MS = 2;

const state = new LoopWorkerState<DispatchedDevice>('RSS worker');
let lastRecords: FlowRecords | undefined;

/** Runs the loop in slices so the worker's event loop (and stop()) keeps getting turns. */
function runLoop(
  dev: DispatchedDevice,
  loop: PacketLoop,
  deadline: number,
  stopped: () => boolean,
): Promise<void> {
  return new Promise((resolve) => {
    let idle = 0;
    const slice = (): void => {
      const sliceEnd = monotonicNow() + SLICE_MS;
      for (;;) {
        const now = monotonicNow();
        if (stopped() || loop.done() || now >= deadline) return resolve();
        if (loop.step() > 0) {
          idle = 0;
          if (now >= sliceEnd) break;
          continue;
        }
        if (++idle <= SPIN_PASSES) continue;
        idle = 0;
        if (dev.waitForWork(PARK_MS) === 0 || monotonicNow() >= sliceEnd) break;
      }
      setImmediate(slice);
    };
    slice();
  });
}

/** Gives back every frame held, hands returns to the dispatcher and reaps completions. */
function drain(dev: DispatchedDevice): void {
  for (let i = 0; i < 1024; i++) {
    const n = dev.receive();
    for (let j = 0; j < n; j++) dev.release(dev.rxDesc[2 * j]);
    dev.flush();
    dev.refill();
    if (n === 0 && dev.reap() === 0) break;
  }
}

const api = {
  open(config: DispatchWorkerConfig): void {
    state.open(() => new DispatchedDevice(config));
  },

  async run(spec: RssLoopSpec): Promise<RssLoopReport> {
    const dev = state.idleDevice('a loop is already running');
    const loop = makeFlowLoop(dev, spec);
    if (loop instanceof FlowRecordLoop) lastRecords = loop.records;
    const before = { ...dev.counters };
    const parks0 = dev.parks;
    const run = await state.run(spec.seconds, (deadline, stopped) =>
      runLoop(dev, loop, deadline, stopped),
    );
    return {
      mode: spec.mode,
      worker: dev.worker,
      seconds: run.seconds,
      rxPackets: dev.counters.rxPackets - before.rxPackets,
      rxBytes: dev.counters.rxBytes - before.rxBytes,
      threadCpuSeconds: run.threadCpuSeconds,
      loop: { ...loop.result(), parks: dev.parks - parks0 },
    };
  },

  stop(): void {
    state.stop();
  },

  progress(): { rxPackets: number; running: boolean } {
    return { rxPackets: state.requireDevice().counters.rxPackets, running: state.isRunning };
  },

  /** The current or last flowrecord loop's records (copied to the caller). */
  records(): FlowRecords | undefined {
    return lastRecords;
  },

  /** Drains, then lists the frames held here for the engine-wide audit (loop stopped). */
  holdings(): WorkerHoldings {
    const dev = state.idleDevice('stop the loop before an audit');
    drain(dev);
    return dev.holdings();
  },

  close(): void {
    state.close();
  },
};

export type RssWorkerApi = typeof api;

expose(api);

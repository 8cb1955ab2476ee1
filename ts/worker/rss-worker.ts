// An RSS worker: a worker_thread behind the software-RSS dispatcher. It holds the UMEM view and
// its four rings (DispatchedDevice) and runs a packet loop; the control plane is threads.js.
import { expose } from 'threads/worker';
import { DispatchedDevice, type WorkerHoldings } from '../dev/dispatch/dispatched-device.js';
import type { DispatchWorkerConfig } from '../dev/dispatch/dispatch-layout.js';
import type { PacketLoop } from './loops/packet-loop.js';
import { FrameRxDropLoop } from './rss-rxdrop-loop.js';
import { FlowRecordLoop } from './flow-record-loop.js';
import { IdleAction, IdleBackoff, defaultBackoff, nap } from './idle-backoff.js';
import { threadCpuSeconds } from './thread-cpu.js';
import type { FlowRecords, RssLoopReport, RssLoopSpec } from './rss-loop-spec.js';

/**
 * The dispatcher cannot wake a parked worker (a native thread cannot notify Atomics.wait), so
 * parks are short: the park time is the wake-up latency of an idle worker.
 */
const PARK_MS = 1;

let device: DispatchedDevice | undefined;
let stopRequested = false;
let running = false;
let lastRecords: FlowRecords | undefined;

function requireDevice(): DispatchedDevice {
  if (!device) {
    throw Object.assign(new Error('RSS worker has no device; call open() first'), {
      code: 'EBADF',
    });
  }
  return device;
}

function makeLoop(dev: DispatchedDevice, spec: RssLoopSpec): PacketLoop {
  switch (spec.mode) {
    case 'rxdrop':
      return new FrameRxDropLoop(dev);
    case 'flowrecord':
      return new FlowRecordLoop(dev, spec.port, spec.maxSeq);
  }
}

/** Runs the loop in slices so the worker's event loop (and stop()) keeps getting turns. */
function runLoop(dev: DispatchedDevice, loop: PacketLoop, deadline: number): Promise<IdleBackoff> {
  const backoff = new IdleBackoff(dev.batch, { ...defaultBackoff, parkMs: PARK_MS });
  return new Promise((resolve) => {
    const slice = (): void => {
      for (let pass = 0; pass < 256; pass++) {
        if (stopRequested || loop.done() || performance.now() >= deadline) return resolve(backoff);
        const action = backoff.next(loop.step());
        if (action === IdleAction.Nap) nap(backoff.napMs);
        else if (action === IdleAction.Park) {
          dev.waitForWork(backoff.parkMs);
          break;
        }
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
    if (device) throw Object.assign(new Error('RSS worker already open'), { code: 'EISCONN' });
    device = new DispatchedDevice(config);
  },

  async run(spec: RssLoopSpec): Promise<RssLoopReport> {
    const dev = requireDevice();
    if (running) throw Object.assign(new Error('a loop is already running'), { code: 'EBUSY' });
    const loop = makeLoop(dev, spec);
    if (loop instanceof FlowRecordLoop) lastRecords = loop.records;
    stopRequested = false;
    running = true;
    const started = performance.now();
    const cpu0 = threadCpuSeconds();
    const before = { ...dev.counters };
    let backoff: IdleBackoff;
    try {
      backoff = await runLoop(dev, loop, started + (spec.seconds ?? 3600) * 1000);
    } finally {
      running = false;
    }
    return {
      mode: spec.mode,
      worker: dev.worker,
      seconds: (performance.now() - started) / 1000,
      rxPackets: dev.counters.rxPackets - before.rxPackets,
      rxBytes: dev.counters.rxBytes - before.rxBytes,
      threadCpuSeconds: threadCpuSeconds() - cpu0,
      loop: { ...loop.result(), naps: backoff.naps, parks: backoff.parks },
    };
  },

  stop(): void {
    stopRequested = true;
  },

  progress(): { rxPackets: number; running: boolean } {
    return { rxPackets: requireDevice().counters.rxPackets, running };
  },

  /** The current or last flowrecord loop's records (copied to the caller). */
  records(): FlowRecords | undefined {
    return lastRecords;
  },

  /** Drains, then lists the frames held here for the engine-wide audit (loop stopped). */
  holdings(): WorkerHoldings {
    const dev = requireDevice();
    if (running) throw Object.assign(new Error('stop the loop before an audit'), { code: 'EBUSY' });
    drain(dev);
    return dev.holdings();
  },

  close(): void {
    device = undefined;
  },
};

export type RssWorkerApi = typeof api;

expose(api);

// A steered worker (queues >= workers): a worker_thread that owns one queue's AF_XDP data path,
// wraps it in a SteeredDevice so packets of flows it does not own go to their owner (and packets
// its peers received for it come in), and runs a packet loop. Control plane: threads.js.
import { expose } from 'threads/worker';
import { XdpDevice } from '../dev/xdp/xdp-device.js';
import type { QueueAssignment } from '../dev/xdp/xdp-binding.js';
import {
  SteeredDevice,
  type SteeringCounters,
  type SteeringLayout,
} from '../dev/steering/index.js';
import { FlowRecordLoop, makeFlowLoop } from './flow-record-loop.js';
import { runPacketLoop } from './run-packet-loop.js';
import { threadCpuSeconds } from './thread-cpu.js';
import type { FlowRecords } from './rss-loop-spec.js';
import type { SteeredAudit, SteeredLoopReport, SteeredLoopSpec } from './steered-loop-spec.js';

let queue: XdpDevice | undefined;
let device: SteeredDevice | undefined;
let stopRequested = false;
let running = false;
let lastRecords: FlowRecords | undefined;

function requireDevice(): SteeredDevice {
  if (!device) {
    throw Object.assign(new Error('steered worker has no device; call open() first'), {
      code: 'EBADF',
    });
  }
  return device;
}

function steeringDelta(now: SteeringCounters, before: SteeringCounters): SteeringCounters {
  const out = { ...now };
  for (const k of Object.keys(out) as (keyof SteeringCounters)[]) out[k] -= before[k];
  return out;
}

const api = {
  open(assignment: QueueAssignment, layout: SteeringLayout, worker: number, batch: number): void {
    if (device) throw Object.assign(new Error('steered worker already open'), { code: 'EISCONN' });
    queue = new XdpDevice({
      umem: assignment.umem,
      socketId: assignment.socketId,
      firstFrame: assignment.firstFrame,
      frameCount: assignment.frameCount,
      batch,
    });
    device = new SteeredDevice(queue, layout, worker);
  },

  async run(spec: SteeredLoopSpec): Promise<SteeredLoopReport> {
    const dev = requireDevice();
    if (running) throw Object.assign(new Error('a loop is already running'), { code: 'EBUSY' });
    const loop = makeFlowLoop(dev, spec);
    if (loop instanceof FlowRecordLoop) lastRecords = loop.records;
    stopRequested = false;
    running = true;
    const started = performance.now();
    const cpu0 = threadCpuSeconds();
    const before = { ...dev.counters };
    const queue0 = queue!.counters.rxPackets;
    try {
      await runPacketLoop(dev, loop, started + (spec.seconds ?? 3600) * 1000, () => stopRequested);
    } finally {
      running = false;
    }
    return {
      mode: spec.mode,
      worker: dev.worker,
      seconds: (performance.now() - started) / 1000,
      rxPackets: dev.counters.rxPackets - before.rxPackets,
      rxBytes: dev.counters.rxBytes - before.rxBytes,
      queuePackets: queue!.counters.rxPackets - queue0,
      steering: steeringDelta(dev.counters, before),
      threadCpuSeconds: threadCpuSeconds() - cpu0,
      loop: loop.result(),
    };
  },

  stop(): void {
    stopRequested = true;
  },

  progress(): { rxPackets: number; forwarded: number; running: boolean } {
    const c = requireDevice().counters;
    return { rxPackets: c.rxPackets, forwarded: c.forwarded, running };
  },

  /** The current or last flowrecord loop's records (copied to the caller). */
  records(): FlowRecords | undefined {
    return lastRecords;
  },

  /** One settling pass at a quiet point (loop stopped); the main thread repeats until all are 0. */
  settle(): number {
    const dev = requireDevice();
    if (running) throw Object.assign(new Error('stop the loop before settling'), { code: 'EBUSY' });
    return dev.settle();
  },

  /** Frame accounting of the queue's device and of steering (after settling every worker). */
  audit(): SteeredAudit {
    const dev = requireDevice();
    if (running) throw Object.assign(new Error('stop the loop before an audit'), { code: 'EBUSY' });
    const deviceAudit = queue!.audit();
    const steering = dev.audit();
    return {
      device: deviceAudit,
      steering,
      ok: deviceAudit.ok && steering.ok,
      problems: [...deviceAudit.problems, ...steering.problems],
    };
  },

  close(): void {
    queue?.close();
    queue = undefined;
    device = undefined;
  },
};

export type SteeredWorkerApi = typeof api;

expose(api);

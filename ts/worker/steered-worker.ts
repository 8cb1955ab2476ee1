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
import { LoopWorkerState } from './loop-worker-state.js';
import type { FlowRecords } from './rss-loop-spec.js';
import type { SteeredAudit, SteeredLoopReport, SteeredLoopSpec } from './steered-loop-spec.js';

const state = new LoopWorkerState<SteeredDevice>('steered worker');
/** The queue's own device, inside the steered one. */
let queue: XdpDevice | undefined;
let lastRecords: FlowRecords | undefined;

function steeringDelta(now: SteeringCounters, before: SteeringCounters): SteeringCounters {
  const out = { ...now };
  for (const k of Object.keys(out) as (keyof SteeringCounters)[]) out[k] -= before[k];
  return out;
}

const api = {
  open(assignment: QueueAssignment, layout: SteeringLayout, worker: number, batch: number): void {
    state.open(() => {
      queue = new XdpDevice({
        umem: assignment.umem,
        socketId: assignment.socketId,
        firstFrame: assignment.firstFrame,
        frameCount: assignment.frameCount,
        batch,
      });
      return new SteeredDevice(queue, layout, worker);
    });
  },

  async run(spec: SteeredLoopSpec): Promise<SteeredLoopReport> {
    const dev = state.idleDevice('a loop is already running');
    const loop = makeFlowLoop(dev, spec);
    if (loop instanceof FlowRecordLoop) lastRecords = loop.records;
    const before = { ...dev.counters };
    const queue0 = queue!.counters.rxPackets;
    const run = await state.run(spec.seconds, (deadline, stopped) =>
      runPacketLoop(dev, loop, deadline, stopped),
    );
    return {
      mode: spec.mode,
      worker: dev.worker,
      seconds: run.seconds,
      rxPackets: dev.counters.rxPackets - before.rxPackets,
      rxBytes: dev.counters.rxBytes - before.rxBytes,
      queuePackets: queue!.counters.rxPackets - queue0,
      steering: steeringDelta(dev.counters, before),
      threadCpuSeconds: run.threadCpuSeconds,
      loop: loop.result(),
    };
  },

  stop(): void {
    state.stop();
  },

  progress(): { rxPackets: number; forwarded: number; running: boolean } {
    const c = state.requireDevice().counters;
    return { rxPackets: c.rxPackets, forwarded: c.forwarded, running: state.isRunning };
  },

  /** The current or last flowrecord loop's records (copied to the caller). */
  records(): FlowRecords | undefined {
    return lastRecords;
  },

  /** One settling pass at a quiet point (loop stopped); the main thread repeats until all are 0. */
  settle(): number {
    return state.idleDevice('stop the loop before settling').settle();
  },

  /** Frame accounting of the queue's device and of steering (after settling every worker). */
  audit(): SteeredAudit {
    const dev = state.idleDevice('stop the loop before an audit');
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
    state.close();
    queue?.close();
    queue = undefined;
  },
};

export type SteeredWorkerApi = typeof api;

expose(api);

// A port worker: a worker_thread that holds the UMEM view, owns one queue's data path and runs a
// packet loop on it. The control plane (open, run, stop, progress, audit) is threads.js; packets
// never go through postMessage.
import { expose } from 'threads/worker';
import { XdpDevice, type FrameAudit } from '../dev/xdp/xdp-device.js';
import type { FrameDevice } from '../dev/frame-device.js';
import { PcapTap, PcapWriter } from '../dev/pcap/index.js';
import type { QueueAssignment } from '../dev/xdp/xdp-binding.js';
import { drainDevice, type PacketLoop } from './loops/packet-loop.js';
import { RxDropLoop } from './loops/rxdrop.js';
import { RxCheckLoop } from './loops/rxcheck.js';
import { L2FwdLoop } from './loops/l2fwd.js';
import { TxOnlyLoop } from './loops/txonly.js';
import { runPacketLoop } from './run-packet-loop.js';
import { LoopWorkerState } from './loop-worker-state.js';
import type { LoopReport, LoopSpec } from './loop-spec.js';
import { parseIpv4Address, parseMac } from '../wire/index.js';

const state = new LoopWorkerState<XdpDevice>('port worker');
/** The pcap file the loops' frames are written to, when open() was given one. */
let capture: PcapWriter | undefined;

/** The device a loop sees: the queue's, or a tap on it that records every frame. */
function loopDevice(dev: XdpDevice): FrameDevice {
  return capture ? new PcapTap(dev, capture) : dev;
}

function makeLoop(dev: XdpDevice, spec: LoopSpec): PacketLoop {
  switch (spec.mode) {
    case 'rxdrop':
      return new RxDropLoop(loopDevice(dev));
    case 'rxcheck':
      return new RxCheckLoop(loopDevice(dev), spec.expect, spec.port);
    case 'l2fwd':
      return new L2FwdLoop(loopDevice(dev));
    case 'txonly':
      // It needs the queue's own TX bookkeeping (pendingTx, txInFlight), which a tap hides.
      if (capture) {
        throw Object.assign(new Error('txonly loops cannot be captured'), { code: 'EINVAL' });
      }
      return new TxOnlyLoop(dev, {
        flow: {
          srcMac: parseMac(spec.srcMac),
          dstMac: parseMac(spec.dstMac),
          srcIp: parseIpv4Address(spec.srcIp),
          dstIp: parseIpv4Address(spec.dstIp),
          srcPort: spec.srcPort,
          dstPort: spec.dstPort,
        },
        size: spec.size,
        count: spec.count ?? 0,
        rate: spec.rate ?? 0,
      });
  }
}

const api = {
  /** Opens the queue's data path; with `pcap`, its loops' frames are captured into that file. */
  open(assignment: QueueAssignment, batch: number, pcap?: string): void {
    state.open(
      () =>
        new XdpDevice({
          umem: assignment.umem,
          socketId: assignment.socketId,
          firstFrame: assignment.firstFrame,
          frameCount: assignment.frameCount,
          batch,
        }),
    );
    if (pcap !== undefined) capture = new PcapWriter(pcap);
  },

  async run(spec: LoopSpec): Promise<LoopReport> {
    const dev = state.idleDevice('a loop is already running');
    const loop = makeLoop(dev, spec);
    const before = { ...dev.counters };
    const run = await state.run(spec.seconds, (deadline, stopped) =>
      runPacketLoop(dev, loop, deadline, stopped),
    );
    const backoff = run.value;
    return {
      mode: spec.mode,
      seconds: run.seconds,
      rxPackets: dev.counters.rxPackets - before.rxPackets,
      rxBytes: dev.counters.rxBytes - before.rxBytes,
      txPackets: dev.counters.txPackets - before.txPackets,
      txBytes: dev.counters.txBytes - before.txBytes,
      threadCpuSeconds: run.threadCpuSeconds,
      loop: { ...loop.result(), naps: backoff.naps, parks: backoff.parks },
    };
  },

  stop(): void {
    state.stop();
  },

  progress(): { rxPackets: number; txPackets: number; running: boolean } {
    const c = state.requireDevice().counters;
    return { rxPackets: c.rxPackets, txPackets: c.txPackets, running: state.isRunning };
  },

  /** Drains what is in flight, then checks frame accounting (the loop must be stopped). */
  audit(): FrameAudit {
    const dev = state.idleDevice('stop the loop before an audit');
    drainDevice(dev);
    return dev.audit();
  },

  close(): void {
    state.close()?.close();
    capture?.close();
    capture = undefined;
  },
};

export type PortWorkerApi = typeof api;

expose(api);

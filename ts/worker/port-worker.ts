// A port worker: a worker_thread that holds the UMEM view, owns one queue's data path and runs a
// packet loop on it. The control plane (open, run, stop, progress, audit) is threads.js; packets
// never go through postMessage.
import { expose } from 'threads/worker';
import { XdpDevice, type FrameAudit } from '../dev/xdp/xdp-device.js';
import type { QueueAssignment } from '../dev/xdp/xdp-binding.js';
import { drainDevice, type PacketLoop } from './loops/packet-loop.js';
import { RxDropLoop } from './loops/rxdrop.js';
import { RxCheckLoop } from './loops/rxcheck.js';
import { L2FwdLoop } from './loops/l2fwd.js';
import { TxOnlyLoop } from './loops/txonly.js';
import type { IdleBackoff } from './idle-backoff.js';
import { runPacketLoop } from './run-packet-loop.js';
import { threadCpuSeconds } from './thread-cpu.js';
import type { LoopReport, LoopSpec } from './loop-spec.js';
import { parseIpv4Address, parseMac } from '../wire/index.js';

let device: XdpDevice | undefined;
let stopRequested = false;
let current: { loop: PacketLoop; started: number } | undefined;

function requireDevice(): XdpDevice {
  if (!device)
    throw Object.assign(new Error('port worker has no device; call open() first'), {
      code: 'EBADF',
    });
  return device;
}

function makeLoop(dev: XdpDevice, spec: LoopSpec): PacketLoop {
  switch (spec.mode) {
    case 'rxdrop':
      return new RxDropLoop(dev);
    case 'rxcheck':
      return new RxCheckLoop(dev, spec.expect, spec.port);
    case 'l2fwd':
      return new L2FwdLoop(dev);
    case 'txonly':
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
  open(assignment: QueueAssignment, batch: number): void {
    if (device) throw Object.assign(new Error('port worker already open'), { code: 'EISCONN' });
    device = new XdpDevice({
      umem: assignment.umem,
      socketId: assignment.socketId,
      firstFrame: assignment.firstFrame,
      frameCount: assignment.frameCount,
      batch,
    });
  },

  async run(spec: LoopSpec): Promise<LoopReport> {
    const dev = requireDevice();
    if (current) throw Object.assign(new Error('a loop is already running'), { code: 'EBUSY' });
    const loop = makeLoop(dev, spec);
    stopRequested = false;
    const started = performance.now();
    current = { loop, started };
    const cpu0 = threadCpuSeconds();
    const before = { ...dev.counters };
    let backoff: IdleBackoff;
    try {
      backoff = await runPacketLoop(
        dev,
        loop,
        started + (spec.seconds ?? 3600) * 1000,
        () => stopRequested,
      );
    } finally {
      current = undefined;
    }
    return {
      mode: spec.mode,
      seconds: (performance.now() - started) / 1000,
      rxPackets: dev.counters.rxPackets - before.rxPackets,
      rxBytes: dev.counters.rxBytes - before.rxBytes,
      txPackets: dev.counters.txPackets - before.txPackets,
      txBytes: dev.counters.txBytes - before.txBytes,
      threadCpuSeconds: threadCpuSeconds() - cpu0,
      loop: { ...loop.result(), naps: backoff.naps, parks: backoff.parks },
    };
  },

  stop(): void {
    stopRequested = true;
  },

  progress(): { rxPackets: number; txPackets: number; running: boolean } {
    const c = requireDevice().counters;
    return { rxPackets: c.rxPackets, txPackets: c.txPackets, running: current !== undefined };
  },

  /** Drains what is in flight, then checks frame accounting (the loop must be stopped). */
  audit(): FrameAudit {
    const dev = requireDevice();
    if (current) throw Object.assign(new Error('stop the loop before an audit'), { code: 'EBUSY' });
    drainDevice(dev);
    return dev.audit();
  },

  close(): void {
    device?.close();
    device = undefined;
  },
};

export type PortWorkerApi = typeof api;

expose(api);

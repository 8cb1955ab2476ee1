// The main thread's handle on the port workers of a binding: one worker_thread per queue,
// controlled through threads.js.
import type { XdpBinding } from '../dev/xdp/xdp-binding.js';
import type { CaptureFiles } from '../dev/pcap/capture-files.js';
import type { FrameAudit } from '../dev/xdp/xdp-device.js';
import type { PortWorkerApi } from './port-worker.js';
import type { LoopReport, LoopSpec } from './loop-spec.js';
import { WorkerSet } from './worker-set.js';

export class PortWorkers extends WorkerSet<LoopSpec, LoopReport, PortWorkerApi> {
  /**
   * Starts one worker per socket of the binding and opens its data path; with `capture`, worker
   * i writes its loops' frames to capture.workerFile(i).
   */
  static async start(
    binding: XdpBinding,
    batch = 64,
    capture?: CaptureFiles,
  ): Promise<PortWorkers> {
    const threads = await WorkerSet.spawnAll<PortWorkerApi>(
      './port-worker.js',
      binding.sockets.length,
      (thread, i) => thread.open(binding.assignment(i), batch, capture?.workerFile(i)),
    );
    return new PortWorkers(threads);
  }

  async progress(): Promise<{ rxPackets: number; txPackets: number }> {
    const all = await Promise.all(this.threads.map((t) => t.progress()));
    return all.reduce(
      (sum, p) => ({
        rxPackets: sum.rxPackets + p.rxPackets,
        txPackets: sum.txPackets + p.txPackets,
      }),
      { rxPackets: 0, txPackets: 0 },
    );
  }

  audit(): Promise<FrameAudit[]> {
    return Promise.all(this.threads.map((t) => t.audit()));
  }
}

// perf l2fwd: the kernel peer floods UDP at the engine, which swaps the MAC addresses in place and
// sends each frame back; delivered = frames the peer's interface received. The baseline is Node's
// dgram echoing the same flood on the kernel stack.
import { flood } from '../harness/peer-tool.js';
import { peerRxPackets } from '../harness/peer-counters.js';
import { BaselineProcess, measureCpu, withEngine } from '../harness/bed-engine.js';
import { packetFigures, type PerfResult } from '../harness/perf-result.js';
import { Progress } from '../harness/progress.js';
import { assertFramesAccounted } from './rxdrop.js';
import {
  baselineAddress,
  bindingOptions,
  LOAD_PORT,
  sleepThenUndefined,
  type PerfTarget,
} from './common.js';
import type { TestBed } from '../../ts/testbed/testbed.js';

export async function l2fwd(target: PerfTarget): Promise<PerfResult> {
  const { bed, options } = target;
  const progress = new Progress();
  const { value: run, audits } = await withEngine(bindingOptions(target), async (engine) => {
    progress.start('xdpnet fwd', async () => (await engine.workers.progress()).txPackets);
    try {
      const rx0 = bed ? await peerRxPackets(bed) : 0;
      const measured = await measureCpu(async () => {
        const loops = engine.workers.run(() => ({ mode: 'l2fwd', seconds: options.seconds + 5 }));
        const load = bed
          ? await flood(bed, {
              dst: bed.engineIpv4,
              port: LOAD_PORT,
              size: options.size,
              seconds: options.seconds,
              rate: options.rate,
            })
          : await sleepThenUndefined(options.seconds * 1000);
        await new Promise((r) => setTimeout(r, 200));
        await engine.workers.stop();
        return { reports: await loops, load };
      });
      const delivered = bed ? (await peerRxPackets(bed)) - rx0 : undefined;
      return { ...measured, delivered, engine };
    } finally {
      progress.stop();
    }
  });
  assertFramesAccounted(audits);
  const { reports, load } = run.value;
  const forwarded = run.delivered ?? reports.reduce((s, r) => s + r.txPackets, 0);
  const seconds = load ? load.seconds : Math.max(...reports.map((r) => r.seconds));
  const result: PerfResult = {
    mode: 'l2fwd',
    ...packetFigures(
      forwarded,
      forwarded * (options.size + 42),
      load?.sent,
      seconds,
      run.cpuSeconds,
    ),
    workers: reports.length,
    xdpMode: run.engine.binding.facts.xdpMode,
    zeroCopy: run.engine.binding.facts.zeroCopy,
  };
  if (bed) result.baseline = await dgramEchoBaseline(bed, target);
  return result;
}

async function dgramEchoBaseline(
  bed: TestBed,
  target: PerfTarget,
): Promise<PerfResult['baseline']> {
  const { options } = target;
  const address = baselineAddress(bed);
  await bed.addKernelAddressOnEngineSide(`${address}/24`);
  const echo = await BaselineProcess.start('dgram-echo', [
    '--bind',
    address,
    '--port',
    String(LOAD_PORT),
    '--seconds',
    String(options.seconds + 10),
  ]);
  const rx0 = await peerRxPackets(bed);
  const load = await flood(bed, {
    dst: address,
    port: LOAD_PORT,
    size: options.size,
    seconds: options.seconds,
    rate: options.rate,
  });
  const got = await echo.result<{ echoed: number; cpuSeconds: number }>(
    (options.seconds + 15) * 1000,
  );
  // The peer's interface also counts the kernel's ARP traffic; a handful of frames at most.
  const delivered = (await peerRxPackets(bed)) - rx0;
  const bytes = delivered * (options.size + 42);
  return {
    name: 'node-dgram-echo',
    ...packetFigures(delivered, bytes, load.sent, load.seconds, got.cpuSeconds),
  };
}

// perf l2fwd: the kernel peer floods UDP at the engine, which swaps the MAC addresses in place and
// sends each frame back; delivered = frames the peer's interface received. The baseline is Node's
// dgram echoing the same flood on the kernel stack. Progress on the bed is what the peer's
// interface received (on a real NIC, what the workers sent).
import { peerRxPackets } from '../harness/peer-counters.js';
import { withEngine } from '../harness/bed-engine.js';
import { loopsUnderLoad } from '../harness/loops-under-load.js';
import { bindingFields, packetFigures, type PerfResult } from '../harness/perf-result.js';
import { assertFramesAccounted } from './rxdrop.js';
import {
  startBaselineServer,
  bindingOptions,
  floodLoad,
  LOAD_PORT,
  sleepThenUndefined,
  type PerfTarget,
} from './common.js';
import type { TestBed } from '../../ts/testbed/testbed.js';

export async function l2fwd(target: PerfTarget): Promise<PerfResult> {
  const { bed, options } = target;
  const { value: run, audits } = await withEngine(bindingOptions(target), async (engine) => {
    const workers = engine.workers;
    const rx0 = bed ? await peerRxPackets(bed) : 0;
    const measured = await loopsUnderLoad(
      workers,
      { mode: 'l2fwd', seconds: options.seconds + 5 },
      () =>
        bed ? floodLoad(bed, bed.engineIpv4, options) : sleepThenUndefined(options.seconds * 1000),
      {
        log: target.progress,
        phase: {
          side: 'engine',
          label: 'xdpnet fwd',
          packets: bed
            ? () => peerRxPackets(bed)
            : async () => (await workers.progress()).txPackets,
        },
      },
    );
    const delivered = bed ? (await peerRxPackets(bed)) - rx0 : undefined;
    return { ...measured, delivered, facts: engine.binding.facts };
  });
  assertFramesAccounted(audits);
  const { reports, load } = run;
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
    ...bindingFields(run.facts),
  };
  if (bed) result.baseline = await dgramEchoBaseline(bed, target);
  return result;
}

async function dgramEchoBaseline(
  bed: TestBed,
  target: PerfTarget,
): Promise<PerfResult['baseline']> {
  const { options } = target;
  const { address, server: echo } = await startBaselineServer(
    bed,
    'dgram-echo',
    LOAD_PORT,
    options.seconds + 10,
  );
  const rx0 = await peerRxPackets(bed);
  const phase = {
    side: 'baseline' as const,
    label: 'node dgram echo',
    packets: () => peerRxPackets(bed),
  };
  const load = await target.progress.during(phase, () => floodLoad(bed, address, options));
  const got = await echo.result<{ echoed: number; cpuSeconds: number }>(
    (options.seconds + 15) * 1000,
  );
  // The peer's interface also counts the kernel's ARP traffic; a handful of frames at most.
  const delivered = (await peerRxPackets(bed)) - rx0;
  const bytes = delivered * (options.size + 42);
  return {
    name: 'node-dgram-echo',
    workers: 1,
    ...packetFigures(delivered, bytes, load.sent, load.seconds, got.cpuSeconds),
  };
}

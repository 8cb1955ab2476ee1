// perf rxdrop: the kernel peer floods UDP at the engine, which reads each frame in place and
// drops it; then, in the same run, Node's dgram on the kernel stack receives the same flood.
import type { FloodReport } from '../harness/peer-tool.js';
import { withEngine } from '../harness/bed-engine.js';
import { loopsUnderLoad } from '../harness/loops-under-load.js';
import {
  bindingFields,
  packetFigures,
  type PerfFigures,
  type PerfResult,
} from '../harness/perf-result.js';
import type { Side } from '../harness/progress.js';
import {
  startBaselineServer,
  bindingOptions,
  floodLoad,
  LOAD_PORT,
  sleepThenUndefined,
  type PerfTarget,
} from './common.js';

export async function rxdrop(target: PerfTarget): Promise<PerfResult> {
  const { bed, options } = target;
  const load = () =>
    bed ? floodLoad(bed, bed.engineIpv4, options) : sleepThenUndefined(options.seconds * 1000);
  const engine = await rxdropOnPortWorkers(target, load, { side: 'engine', label: 'xdpnet rx' });
  const result: PerfResult = { mode: 'rxdrop', ...engine };
  if (bed) result.baseline = await dgramBaseline(target);
  return result;
}

/**
 * rxdrop on the direct path, a port worker per queue of the binding, while `load` runs (none on
 * a real NIC, where it comes from outside), as `phase` (the packets the workers received); frames
 * are audited after.
 */
export async function rxdropOnPortWorkers(
  target: PerfTarget,
  load: () => Promise<FloodReport | undefined>,
  phase: { side: Side; label: string },
): Promise<PerfFigures & { workers: number }> {
  const { value, audits } = await withEngine(bindingOptions(target), async (engine) => {
    const workers = engine.workers;
    const packets = async () => (await workers.progress()).rxPackets;
    const run = await loopsUnderLoad(
      workers,
      { mode: 'rxdrop', seconds: target.options.seconds + 5 },
      load,
      { log: target.progress, phase: { ...phase, packets } },
    );
    return {
      ...receivedFigures(run.reports, run.load, run.cpuSeconds),
      workers: run.reports.length,
      ...bindingFields(engine.binding.facts),
    };
  });
  assertFramesAccounted(audits);
  return value;
}

/**
 * Figures of receiving loops: what all workers took in, over the load's time (the longest loop's
 * without a load).
 */
export function receivedFigures(
  reports: { rxPackets: number; rxBytes: number; seconds: number }[],
  load: FloodReport | undefined,
  cpuSeconds: number,
): PerfFigures {
  const packets = reports.reduce((s, r) => s + r.rxPackets, 0);
  const bytes = reports.reduce((s, r) => s + r.rxBytes, 0);
  const seconds = load ? load.seconds : Math.max(...reports.map((r) => r.seconds));
  return packetFigures(packets, bytes, load?.sent, seconds, cpuSeconds);
}

async function dgramBaseline(target: PerfTarget): Promise<PerfResult['baseline']> {
  const bed = target.bed!;
  const { options } = target;
  const { address, server: sink } = await startBaselineServer(
    bed,
    'dgram-sink',
    LOAD_PORT,
    options.seconds + 10,
  );
  const phase = {
    side: 'baseline' as const,
    label: 'node dgram rx',
    packets: () => sink.progress(),
  };
  const load = await target.progress.during(phase, () => floodLoad(bed, address, options));
  const got = await sink.result<{ received: number; bytes: number; cpuSeconds: number }>(
    (options.seconds + 15) * 1000,
  );
  // Frame bytes, like the engine's count: UDP payload + 42 bytes of headers.
  const bytes = got.bytes + got.received * 42;
  return {
    name: 'node-dgram',
    workers: 1,
    ...packetFigures(got.received, bytes, load.sent, load.seconds, got.cpuSeconds),
  };
}

export function assertFramesAccounted(audits: { ok: boolean; problems: string[] }[]): void {
  const bad = audits.flatMap((a) => a.problems);
  if (audits.some((a) => !a.ok)) {
    throw Object.assign(new Error(`frame accounting failed: ${bad.join('; ')}`), {
      code: 'EFRAMES',
    });
  }
}

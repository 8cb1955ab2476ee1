// perf rxdrop: the kernel peer floods UDP at the engine, which reads each frame in place and
// drops it; then, in the same run, Node's dgram on the kernel stack receives the same flood.
import { flood } from '../harness/peer-tool.js';
import { BaselineProcess, measureCpu, withEngine } from '../harness/bed-engine.js';
import { packetFigures, type PerfResult } from '../harness/perf-result.js';
import { Progress } from '../harness/progress.js';
import {
  baselineAddress,
  bindingOptions,
  LOAD_PORT,
  sleepThenUndefined,
  type PerfTarget,
} from './common.js';

export async function rxdrop(target: PerfTarget): Promise<PerfResult> {
  const { bed, options } = target;
  const progress = new Progress();
  const { value: run, audits } = await withEngine(bindingOptions(target), async (engine) => {
    progress.start('xdpnet rx', async () => (await engine.workers.progress()).rxPackets);
    try {
      return await measureCpu(async () => {
        const loops = engine.workers.run(() => ({ mode: 'rxdrop', seconds: options.seconds + 5 }));
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
        return { reports: await loops, load, engine };
      });
    } finally {
      progress.stop();
    }
  });
  const reports = run.value.reports;
  const packets = reports.reduce((s, r) => s + r.rxPackets, 0);
  const bytes = reports.reduce((s, r) => s + r.rxBytes, 0);
  const load = run.value.load;
  const seconds = load ? load.seconds : Math.max(...reports.map((r) => r.seconds));
  const binding = run.value.engine.binding;
  const result: PerfResult = {
    mode: 'rxdrop',
    ...packetFigures(packets, bytes, load?.sent, seconds, run.cpuSeconds),
    workers: reports.length,
    xdpMode: binding.facts.xdpMode,
    zeroCopy: binding.facts.zeroCopy,
  };
  assertFramesAccounted(audits);
  if (bed) result.baseline = await dgramBaseline(target);
  return result;
}

async function dgramBaseline(target: PerfTarget): Promise<PerfResult['baseline']> {
  const bed = target.bed!;
  const { options } = target;
  const address = baselineAddress(bed);
  await bed.addKernelAddressOnEngineSide(`${address}/24`);
  const sink = await BaselineProcess.start('dgram-sink', [
    '--bind',
    address,
    '--port',
    String(LOAD_PORT),
    '--seconds',
    String(options.seconds + 10),
  ]);
  const load = await flood(bed, {
    dst: address,
    port: LOAD_PORT,
    size: options.size,
    seconds: options.seconds,
    rate: options.rate,
  });
  const got = await sink.result<{ received: number; bytes: number; cpuSeconds: number }>(
    (options.seconds + 15) * 1000,
  );
  // Frame bytes, like the engine's count: UDP payload + 42 bytes of headers.
  const bytes = got.bytes + got.received * 42;
  return {
    name: 'node-dgram',
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

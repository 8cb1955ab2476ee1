// perf steered-rxdrop: flow steering with queues >= workers. The kernel peer floods UDP over
// 1,000 flows at a 2-queue veth; each of 2 workers owns one queue, forwards the packets whose
// flow the other owns through an inter-worker ring (veth picks queues by its own hash, so about
// half), reads each frame's Ethernet type in place and drops it. In the same run, the same flood
// goes to 2 workers on the same queues without steering (`perf rxdrop` per queue): the baseline
// steering's cost is judged against (CPU seconds per million packets, whole process).
import { runPeerTool, type FloodReport } from '../harness/peer-tool.js';
import { measureCpu, withEngine } from '../harness/bed-engine.js';
import { packetFigures, type PerfResult } from '../harness/perf-result.js';
import { Progress } from '../harness/progress.js';
import { XdpBinding } from '../../ts/dev/xdp/xdp-binding.js';
import { SteeredWorkers } from '../../ts/worker/steered-workers.js';
import { TestBed } from '../../ts/testbed/testbed.js';
import { assertFramesAccounted } from './rxdrop.js';
import { bindingOptions, LOAD_PORT, type PerfTarget } from './common.js';

const FLOWS = 1000;
const QUEUES = 2;

function floodArgs(bed: TestBed, target: PerfTarget): string[] {
  const { options } = target;
  const args = ['flood', '--dst', bed.engineIpv4, '--port', String(LOAD_PORT)];
  args.push('--flows', String(FLOWS), '--src-port-base', '20000');
  args.push('--size', String(options.size), '--seconds', String(options.seconds));
  if (options.rate) args.push('--rate', String(options.rate));
  return args;
}

export async function steeredRxdrop(target: PerfTarget): Promise<PerfResult> {
  if (!target.bed) {
    throw Object.assign(new Error('steered-rxdrop runs on the built-in test bed only'), {
      code: 'EINVAL',
    });
  }
  // The mode needs a queue per worker; bring up a 2-queue bed when given a smaller one.
  const own =
    target.bed.queues >= QUEUES
      ? undefined
      : await TestBed.up({ queues: QUEUES, staticNeighbours: true });
  const bed = own ?? target.bed;
  const options = target.options;
  const onBed: PerfTarget = { bed, options };
  try {
    const engine = await steered();
    const direct = await unsteered();
    return {
      mode: 'steered-rxdrop',
      ...engine.figures,
      workers: QUEUES,
      xdpMode: engine.xdpMode,
      zeroCopy: engine.zeroCopy,
      baseline: { name: 'xdpnet-unsteered-2-workers', ...direct },
    };
  } finally {
    await own?.down();
  }

  async function steered() {
    const binding = XdpBinding.open(bindingOptions(onBed));
    let workers: SteeredWorkers | undefined;
    const progress = new Progress();
    try {
      workers = await SteeredWorkers.start(binding, { batch: options.batch });
      const w = workers;
      progress.start('xdpnet steered rx', async () => (await w.progress()).rxPackets);
      const run = await measureCpu(async () => {
        const loops = w.run(() => ({ mode: 'rxdrop', seconds: options.seconds + 5 }));
        const load = await runPeerTool<FloodReport>(
          bed,
          floodArgs(bed, onBed),
          (options.seconds + 10) * 1000,
        );
        await new Promise((r) => setTimeout(r, 200));
        await w.stop();
        return { reports: await loops, load };
      });
      progress.stop();
      const reports = run.value.reports;
      const packets = reports.reduce((s, r) => s + r.rxPackets, 0);
      const bytes = reports.reduce((s, r) => s + r.rxBytes, 0);
      const forwarded = reports.reduce((s, r) => s + r.steering.forwarded, 0);
      process.stderr.write(
        `  steered: forwarded ${forwarded} of ${packets} (${((100 * forwarded) / Math.max(packets, 1)).toFixed(1)}%); workers: ` +
          reports
            .map(
              (r) =>
                `queue ${r.queuePackets} kept ${r.steering.kept} adopted ${r.steering.adopted} ` +
                `${r.threadCpuSeconds.toFixed(2)} s CPU`,
            )
            .join(', ') +
          '\n',
      );
      assertFramesAccounted(await w.audit());
      return {
        figures: packetFigures(
          packets,
          bytes,
          run.value.load.sent,
          run.value.load.seconds,
          run.cpuSeconds,
        ),
        xdpMode: binding.facts.xdpMode,
        zeroCopy: binding.facts.zeroCopy,
      };
    } finally {
      progress.stop();
      await workers?.close();
      binding.close();
    }
  }

  async function unsteered() {
    const { value: run, audits } = await withEngine(bindingOptions(onBed), async (engine) =>
      measureCpu(async () => {
        const loops = engine.workers.run(() => ({ mode: 'rxdrop', seconds: options.seconds + 5 }));
        const load = await runPeerTool<FloodReport>(
          bed,
          floodArgs(bed, onBed),
          (options.seconds + 10) * 1000,
        );
        await new Promise((r) => setTimeout(r, 200));
        await engine.workers.stop();
        return { reports: await loops, load };
      }),
    );
    assertFramesAccounted(audits);
    const packets = run.value.reports.reduce((s, r) => s + r.rxPackets, 0);
    const bytes = run.value.reports.reduce((s, r) => s + r.rxBytes, 0);
    return packetFigures(
      packets,
      bytes,
      run.value.load.sent,
      run.value.load.seconds,
      run.cpuSeconds,
    );
  }
}

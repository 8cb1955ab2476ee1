// perf steered-rxdrop: flow steering with queues >= workers. The kernel peer floods UDP over
// 1,000 flows at a 2-queue veth; each of 2 workers owns one queue, forwards the packets whose
// flow the other owns through an inter-worker ring (veth picks queues by its own hash, so about
// half), reads each frame's Ethernet type in place and drops it. In the same run, the same flood
// goes to 2 workers on the same queues without steering (`perf rxdrop` per queue): the baseline
// steering's cost is judged against (CPU seconds per million packets, whole process).
import { loopsUnderLoad } from '../harness/loops-under-load.js';
import { bindingFields, type PerfResult } from '../harness/perf-result.js';
import { XdpBinding } from '../../ts/dev/xdp/xdp-binding.js';
import { SteeredWorkers } from '../../ts/worker/steered-workers.js';
import { TestBed } from '../../ts/testbed/testbed.js';
import { assertFramesAccounted, receivedFigures, rxdropOnPortWorkers } from './rxdrop.js';
import { bindingOptions, floodLoad, requireBed, type PerfTarget } from './common.js';

const FLOWS = { flows: 1000, srcPortBase: 20000 };
const QUEUES = 2;

export async function steeredRxdrop(target: PerfTarget): Promise<PerfResult> {
  const given = requireBed(target, 'steered-rxdrop');
  // The mode needs a queue per worker; bring up a 2-queue bed when given a smaller one.
  const own =
    given.queues >= QUEUES
      ? undefined
      : await TestBed.up({ queues: QUEUES, staticNeighbours: true });
  const bed = own ?? given;
  const options = target.options;
  const onBed: PerfTarget = { ...target, bed };
  const load = () => floodLoad(bed, bed.engineIpv4, options, FLOWS);
  try {
    const engine = await steered();
    const direct = await rxdropOnPortWorkers(onBed, load, {
      side: 'baseline',
      label: 'xdpnet unsteered rx',
    });
    return {
      mode: 'steered-rxdrop',
      ...engine.figures,
      workers: QUEUES,
      ...bindingFields(engine.facts),
      baseline: { name: 'xdpnet-unsteered-2-workers', ...direct },
    };
  } finally {
    await own?.down();
  }

  async function steered() {
    const binding = XdpBinding.open(bindingOptions(onBed));
    let workers: SteeredWorkers | undefined;
    try {
      workers = await SteeredWorkers.start(binding, { batch: options.batch });
      const w = workers;
      const received = async () => (await w.progress()).rxPackets;
      const run = await loopsUnderLoad(w, { mode: 'rxdrop', seconds: options.seconds + 5 }, load, {
        log: target.progress,
        phase: { side: 'engine', label: 'xdpnet steered rx', packets: received },
      });
      const reports = run.reports;
      const packets = reports.reduce((s, r) => s + r.rxPackets, 0);
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
        figures: receivedFigures(reports, run.load, run.cpuSeconds),
        facts: binding.facts,
      };
    } finally {
      await workers?.close();
      binding.close();
    }
  }
}

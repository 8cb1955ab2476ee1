// perf rss-rxdrop: software RSS (queues < workers). The kernel peer floods UDP over many flows at
// one queue; the dispatcher thread hashes each frame and hands it to one of 2 workers, which read
// its Ethernet type in place and drop it. In the same run, the same flood goes to the direct path
// (1 worker calling the socket's burst functions itself: `perf rxdrop`), the baseline the
// dispatcher's cost is judged against: CPU seconds per million packets, whole process.
import { loopsUnderLoad } from '../harness/loops-under-load.js';
import { bindingFields, type PerfResult } from '../harness/perf-result.js';
import { DispatchBinding } from '../../ts/dev/dispatch/dispatch-binding.js';
import { RssWorkers } from '../../ts/worker/rss-workers.js';
import fs from 'node:fs';
import { assertFramesAccounted, receivedFigures, rxdropOnPortWorkers } from './rxdrop.js';
import { bindingOptions, floodLoad, requireBed, type PerfTarget } from './common.js';

/** Flows in the flood: enough that both workers get an even share of the RETA's buckets. */
const FLOWS = { flows: 64, srcPortBase: 20000 };

/** CPU seconds of this process's threads whose name starts with `prefix` (the dispatcher's). */
function threadsCpuSeconds(prefix: string): number {
  let ns = 0;
  for (const tid of fs.readdirSync('/proc/self/task')) {
    try {
      if (!fs.readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').startsWith(prefix)) continue;
      // schedstat: nanoseconds on the CPU, exact (stat's utime/stime are tick samples).
      ns += Number(fs.readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return ns / 1e9;
}
const WORKERS = 2;

export async function rssRxdrop(target: PerfTarget): Promise<PerfResult> {
  const bed = requireBed(target, 'rss-rxdrop');
  const options = target.options;
  const load = () => floodLoad(bed, bed.engineIpv4, options, FLOWS);
  const engine = await dispatched();
  const direct = await rxdropOnPortWorkers(target, load, {
    side: 'baseline',
    label: 'xdpnet direct rx',
  });
  return {
    mode: 'rss-rxdrop',
    ...engine.figures,
    workers: WORKERS,
    ...bindingFields(engine.facts),
    baseline: { name: 'xdpnet-direct-1-worker', ...direct },
  };

  async function dispatched() {
    const binding = DispatchBinding.open({
      ...bindingOptions(target),
      workers: WORKERS,
      batch: options.batch,
    });
    let workers: RssWorkers | undefined;
    try {
      workers = await RssWorkers.start(binding, options.batch);
      const w = workers;
      const received = async () => (await w.progress()).rxPackets;
      const run = await loopsUnderLoad(w, { mode: 'rxdrop', seconds: options.seconds + 5 }, load, {
        log: target.progress,
        phase: { side: 'engine', label: 'xdpnet rss rx', packets: received },
      });
      const packets = run.reports.reduce((s, r) => s + r.rxPackets, 0);
      const stats = binding.stats();
      const dispatcherCpu = threadsCpuSeconds('xdp-dispatch');
      process.stderr.write(
        `  dispatcher: ${dispatcherCpu.toFixed(2)} s CPU (${(dispatcherCpu / (packets / 1e6)).toFixed(3)} s/Mpkt), ` +
          `delivered ${stats.delivered.join('/')}, dropped ${stats.dropped.join('/')}, ` +
          `naps ${stats.naps}, parks ${stats.parks}, kicks ${stats.kicks}, wakes ${stats.wakes}; workers: ${run.reports
            .map(
              (r) =>
                `${r.rxPackets} pkts ${r.threadCpuSeconds.toFixed(3)} s CPU (${(r.threadCpuSeconds / (r.rxPackets / 1e6)).toFixed(3)} s/Mpkt) parks ${r.loop.parks}`,
            )
            .join(', ')}\n`,
      );
      const audit = await w.audit();
      assertFramesAccounted([audit]);
      return {
        figures: receivedFigures(run.reports, run.load, run.cpuSeconds),
        facts: binding.xdp.facts,
      };
    } finally {
      await workers?.close();
      binding.close();
    }
  }
}

// perf rss-rxdrop: software RSS (queues < workers). The kernel peer floods UDP over many flows at
// one queue; the dispatcher thread hashes each frame and hands it to one of 2 workers, which read
// its Ethernet type in place and drop it. In the same run, the same flood goes to the direct path
// (1 worker calling the socket's burst functions itself: `perf rxdrop`), the baseline the
// dispatcher's cost is judged against: CPU seconds per million packets, whole process.
import { runPeerTool, type FloodReport } from '../harness/peer-tool.js';
import { measureCpu, withEngine } from '../harness/bed-engine.js';
import { packetFigures, type PerfResult } from '../harness/perf-result.js';
import { Progress } from '../harness/progress.js';
import { DispatchBinding } from '../../ts/dev/dispatch/dispatch-binding.js';
import { RssWorkers } from '../../ts/worker/rss-workers.js';
import type { TestBed } from '../../ts/testbed/testbed.js';
import fs from 'node:fs';
import { assertFramesAccounted } from './rxdrop.js';
import { bindingOptions, LOAD_PORT, type PerfTarget } from './common.js';

/** Flows in the flood: enough that both workers get an even share of the RETA's buckets. */
const FLOWS = 64;

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

function floodArgs(bed: TestBed, target: PerfTarget): string[] {
  const { options } = target;
  const args = ['flood', '--dst', bed.engineIpv4, '--port', String(LOAD_PORT)];
  args.push('--flows', String(FLOWS), '--src-port-base', '20000');
  args.push('--size', String(options.size), '--seconds', String(options.seconds));
  if (options.rate) args.push('--rate', String(options.rate));
  return args;
}

export async function rssRxdrop(target: PerfTarget): Promise<PerfResult> {
  const { bed, options } = target;
  if (!bed) {
    throw Object.assign(new Error('rss-rxdrop runs on the built-in test bed only'), {
      code: 'EINVAL',
    });
  }
  const engine = await dispatched(bed, target);
  const direct = await directPath(bed, target);
  return {
    mode: 'rss-rxdrop',
    ...engine.figures,
    workers: WORKERS,
    xdpMode: engine.xdpMode,
    zeroCopy: engine.zeroCopy,
    baseline: { name: 'xdpnet-direct-1-worker', ...direct },
  };

  async function dispatched(bed: TestBed, target: PerfTarget) {
    const binding = DispatchBinding.open({
      ...bindingOptions(target),
      workers: WORKERS,
      batch: options.batch,
    });
    let workers: RssWorkers | undefined;
    const progress = new Progress();
    try {
      workers = await RssWorkers.start(binding, options.batch);
      const w = workers;
      progress.start('xdpnet rss rx', async () => (await w.progress()).rxPackets);
      const run = await measureCpu(async () => {
        const loops = w.run(() => ({ mode: 'rxdrop', seconds: options.seconds + 5 }));
        const load = await runPeerTool<FloodReport>(
          bed,
          floodArgs(bed, target),
          (options.seconds + 10) * 1000,
        );
        await new Promise((r) => setTimeout(r, 200));
        await w.stop();
        return { reports: await loops, load };
      });
      progress.stop();
      const packets = run.value.reports.reduce((s, r) => s + r.rxPackets, 0);
      const bytes = run.value.reports.reduce((s, r) => s + r.rxBytes, 0);
      const stats = binding.stats();
      const dispatcherCpu = threadsCpuSeconds('xdp-dispatch');
      process.stderr.write(
        `  dispatcher: ${dispatcherCpu.toFixed(2)} s CPU (${(dispatcherCpu / (packets / 1e6)).toFixed(3)} s/Mpkt), ` +
          `delivered ${stats.delivered.join('/')}, dropped ${stats.dropped.join('/')}, ` +
          `naps ${stats.naps}, parks ${stats.parks}, kicks ${stats.kicks}, wakes ${stats.wakes}; workers: ${run.value.reports
            .map(
              (r) =>
                `${r.rxPackets} pkts ${r.threadCpuSeconds.toFixed(3)} s CPU (${(r.threadCpuSeconds / (r.rxPackets / 1e6)).toFixed(3)} s/Mpkt) parks ${r.loop.parks}`,
            )
            .join(', ')}\n`,
      );
      const audit = await w.audit();
      assertFramesAccounted([audit]);
      return {
        figures: packetFigures(
          packets,
          bytes,
          run.value.load.sent,
          run.value.load.seconds,
          run.cpuSeconds,
        ),
        xdpMode: binding.xdp.facts.xdpMode,
        zeroCopy: binding.xdp.facts.zeroCopy,
      };
    } finally {
      progress.stop();
      await workers?.close();
      binding.close();
    }
  }

  async function directPath(bed: TestBed, target: PerfTarget) {
    const { value: run, audits } = await withEngine(bindingOptions(target), async (engine) =>
      measureCpu(async () => {
        const loops = engine.workers.run(() => ({ mode: 'rxdrop', seconds: options.seconds + 5 }));
        const load = await runPeerTool<FloodReport>(
          bed,
          floodArgs(bed, target),
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

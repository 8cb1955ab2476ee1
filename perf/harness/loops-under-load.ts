// A perf run of packet loops: the loops run in every worker while the load runs, and stop once
// the last packets had time to land. The workers are any of PortWorkers, RssWorkers and
// SteeredWorkers.
import { measureCpu } from './bed-engine.js';
import { Progress } from './progress.js';

interface LoopWorkers<Spec, Report> {
  run(spec: (worker: number) => Spec): Promise<Report[]>;
  stop(): Promise<void>;
}

/** Time the last packets of the load get to reach the loops before they stop. */
const DRAIN_MS = 200;

export interface LoopsUnderLoad<Report, Load> {
  reports: Report[];
  load: Load;
  /** CPU seconds of the whole process (main thread and workers) over the run. */
  cpuSeconds: number;
}

/**
 * Runs `spec` in every worker while `load` runs; with `progress`, prints the count its sampler
 * gives once a second on stderr.
 */
export async function loopsUnderLoad<Spec, Report, Load>(
  workers: LoopWorkers<Spec, Report>,
  spec: NoInfer<Spec>,
  load: () => Promise<Load>,
  progress?: { label: string; sample: () => Promise<number> },
): Promise<LoopsUnderLoad<Report, Load>> {
  const ticker = new Progress();
  if (progress) ticker.start(progress.label, progress.sample);
  try {
    const run = await measureCpu(async () => {
      const loops = workers.run(() => spec);
      const offered = await load();
      await new Promise((r) => setTimeout(r, DRAIN_MS));
      await workers.stop();
      return { reports: await loops, load: offered };
    });
    return { ...run.value, cpuSeconds: run.cpuSeconds };
  } finally {
    ticker.stop();
  }
}

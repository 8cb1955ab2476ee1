// A perf run of packet loops: the loops run in every worker while the load runs, and stop once
// the last packets had time to land. The workers are any of PortWorkers, RssWorkers and
// SteeredWorkers.
import { measureCpu } from './bed-engine.js';
import type { Phase, ProgressLog } from './progress.js';

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

/** Runs `spec` in every worker while `load` runs, as `phase` of `progress`. */
export async function loopsUnderLoad<Spec, Report, Load>(
  workers: LoopWorkers<Spec, Report>,
  spec: NoInfer<Spec>,
  load: () => Promise<Load>,
  progress: { log: ProgressLog; phase: Phase },
): Promise<LoopsUnderLoad<Report, Load>> {
  const run = await measureCpu(() =>
    progress.log.during(progress.phase, async () => {
      const loops = workers.run(() => spec);
      const offered = await load();
      await new Promise((r) => setTimeout(r, DRAIN_MS));
      await workers.stop();
      return { reports: await loops, load: offered };
    }),
  );
  return { ...run.value, cpuSeconds: run.cpuSeconds };
}

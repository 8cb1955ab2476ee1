// An engine app on the test bed against a Node server on the kernel stack: the app runs on the
// engine (ts/runtime's Engine), the baseline script at the bed's .3 address, and the same load
// drives both in the same run. udp-echo and the TCP modes (tcp-rr, tcp-crr, tcp-stream, http,
// epoll-echo) are this, with their own app, load and figures.
import type { PerfFigures, PerfResult } from '../harness/perf-result.js';
import { Engine } from '../../ts/runtime/engine.js';
import type { TestBed } from '../../ts/testbed/testbed.js';
import { startBaselineServer, type PerfTarget } from './common.js';

/** Measures one side: the load against `dst`, with that side's CPU seconds so far from `cpu`. */
export type Drive<F extends PerfFigures> = (dst: string, cpu: () => number) => Promise<F>;

export interface BaselineServer {
  /** As the result line names it. */
  name: string;
  /** perf/baselines/<script>.js */
  script: string;
  port: number;
  /** How long the server may live at most. */
  maxSeconds: number;
  /** The server ends after this long without traffic once it has had some (default 2). */
  idleSeconds?: number;
  /** More arguments for the script. */
  args?: string[];
}

/** Runs `app` on the engine and then `baseline`, each measured by `drive`: the result line. */
export async function appVersusBaseline<F extends PerfFigures>(
  bed: TestBed,
  target: PerfTarget,
  o: { mode: string; app: string; drive: Drive<F>; baseline: BaselineServer },
): Promise<PerfResult & F & { baseline: F & { name: string } }> {
  const engine = await onEngine(bed, target, o.app, o.drive);
  const base = await onBaseline(bed, o.baseline, o.drive);
  return {
    mode: o.mode,
    ...engine.figures,
    workers: engine.workers,
    xdpMode: 'native',
    baseline: { name: o.baseline.name, ...base },
  };
}

function processCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** Runs `app` on the engine, measures with `drive`, stops it and checks frame accounting. */
async function onEngine<F extends PerfFigures>(
  bed: TestBed,
  target: PerfTarget,
  app: string,
  drive: Drive<F>,
): Promise<{ figures: F; workers: number }> {
  const engine = await Engine.start({
    ifname: bed.engineIf,
    ipv4: [`${bed.engineIpv4}/${bed.ipv4Prefix}`],
    ipv6: [`${bed.engineIpv6}/${bed.ipv6Prefix}`],
    app,
    xdpMode: target.options.xdpMode,
    bindMode: target.options.bindMode,
    pcap: target.options.pcap,
  });
  const workers = engine.workers; // 0 once stopped
  let figures: F;
  try {
    figures = await drive(bed.engineIpv4, processCpuSeconds);
  } catch (err) {
    await engine.stop();
    throw err;
  }
  const audit = await engine.stop();
  if (!audit.ok) {
    throw Object.assign(new Error(`frame accounting failed: ${audit.problems.join('; ')}`), {
      code: 'EFRAMES',
    });
  }
  return { figures, workers };
}

/** Runs the baseline server at the bed's .3 address, measured with the same `drive`. */
async function onBaseline<F extends PerfFigures>(
  bed: TestBed,
  baseline: BaselineServer,
  drive: Drive<F>,
): Promise<F> {
  const { address, server } = await startBaselineServer(
    bed,
    baseline.script,
    baseline.port,
    baseline.maxSeconds,
    ['--idle', String(baseline.idleSeconds ?? 2), ...(baseline.args ?? [])],
  );
  const figures = await drive(address, () => server.cpuSeconds());
  await server.result((baseline.maxSeconds + 10) * 1000);
  return figures;
}

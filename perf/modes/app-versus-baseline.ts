// An engine app on the test bed against a Node server on the kernel stack: the app runs on the
// engine (ts/runtime's Engine), the baseline script at the bed's .3 address, and the same load
// drives both in the same run. udp-echo and the TCP modes (tcp-rr, tcp-crr, tcp-stream, http,
// epoll-echo) are this, with their own app, load and figures.
//
// Packets are counted at the peer's interface (the mode's `counter`), for the progress lines and,
// unless the drive counted them itself, for `packets`, `pps` and CPU per packet.
import {
  bindingFields,
  packetsOver,
  type PerfFigures,
  type PerfResult,
} from '../harness/perf-result.js';
import { peerPackets, type PeerCounter } from '../harness/peer-counters.js';
import type { Histogram } from '../harness/latency.js';
import type { Side } from '../harness/progress.js';
import { Engine } from '../../ts/runtime/engine.js';
import type { TestBed } from '../../ts/testbed/testbed.js';
import { startBaselineServer, type PerfTarget } from './common.js';

/** What one side's load measured, and its latencies when the load takes them. */
export interface Measured<F extends PerfFigures> {
  figures: F;
  histogram?: Histogram;
}

/** Measures one side: the load against `dst`, with that side's CPU seconds so far from `cpu`. */
export type Drive<F extends PerfFigures> = (dst: string, cpu: () => number) => Promise<Measured<F>>;

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

export interface AppVersusBaseline<F extends PerfFigures> {
  mode: string;
  app: string;
  drive: Drive<F>;
  baseline: BaselineServer;
  /** The packets of the mode: what the peer received (rx) or sent (tx). */
  counter: PeerCounter;
}

/** Runs `app` on the engine and then `baseline`, each measured by `drive`: the result line. */
export async function appVersusBaseline<F extends PerfFigures>(
  bed: TestBed,
  target: PerfTarget,
  o: AppVersusBaseline<F>,
): Promise<PerfResult & F & { baseline: F & { name: string } }> {
  const engine = await onEngine(bed, target, o);
  const base = await onBaseline(bed, target, o);
  return {
    mode: o.mode,
    ...engine,
    baseline: { name: o.baseline.name, ...base, workers: 1 },
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
  o: AppVersusBaseline<F>,
): Promise<F & { workers: number }> {
  const engine = await Engine.start({
    ifname: bed.engineIf,
    ipv4: [`${bed.engineIpv4}/${bed.ipv4Prefix}`],
    ipv6: [`${bed.engineIpv6}/${bed.ipv6Prefix}`],
    app: o.app,
    xdpMode: target.options.xdpMode,
    bindMode: target.options.bindMode,
    busyPoll: target.options.busyPoll,
    rss: target.options.rss,
    pcap: target.options.pcap,
    mtu: target.options.mtu,
  });
  const workers = engine.workers; // 0 once stopped
  let figures: F;
  try {
    const phase = { side: 'engine' as const, label: `${o.mode} on xdpnet` };
    figures = await measureSide(bed, target, o, phase, bed.engineIpv4, processCpuSeconds);
  } catch (err) {
    await engine.stop();
    throw err;
  }
  // Read while the sockets are open, after the load: their NAPI ids come with the first packets.
  const facts = bindingFields(engine.xdp);
  const audit = await engine.stop();
  if (!audit.ok) {
    throw Object.assign(new Error(`frame accounting failed: ${audit.problems.join('; ')}`), {
      code: 'EFRAMES',
    });
  }
  return { ...figures, workers, ...facts, rss: engine.rss.mode };
}

/** Runs the baseline server at the bed's .3 address, measured with the same `drive`. */
async function onBaseline<F extends PerfFigures>(
  bed: TestBed,
  target: PerfTarget,
  o: AppVersusBaseline<F>,
): Promise<F> {
  const baseline = o.baseline;
  const { address, server } = await startBaselineServer(
    bed,
    baseline.script,
    baseline.port,
    baseline.maxSeconds,
    ['--idle', String(baseline.idleSeconds ?? 2), ...(baseline.args ?? [])],
  );
  const phase = { side: 'baseline' as const, label: `${o.mode} on ${baseline.name}` };
  const figures = await measureSide(bed, target, o, phase, address, () => server.cpuSeconds());
  await server.result((baseline.maxSeconds + 10) * 1000);
  return figures;
}

/**
 * One side's drive as a progress phase, its histogram kept; packets from the peer's counter
 * over the drive when the drive did not count its own.
 */
async function measureSide<F extends PerfFigures>(
  bed: TestBed,
  target: PerfTarget,
  o: AppVersusBaseline<F>,
  phase: { side: Side; label: string },
  dst: string,
  cpu: () => number,
): Promise<F> {
  const packets = () => peerPackets(bed, o.counter);
  const packets0 = await packets();
  const cpu0 = cpu();
  const measured = await target.progress.during({ ...phase, packets }, () => o.drive(dst, cpu));
  const cpuSeconds = cpu() - cpu0;
  const counted = (await packets()) - packets0;
  if (measured.histogram) target.histograms[phase.side] = measured.histogram;
  const figures = measured.figures;
  if (figures.packets !== undefined) return figures;
  return { ...figures, ...packetsOver(counted, figures.seconds ?? 0, cpuSeconds) };
}

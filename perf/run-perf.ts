// Runs one perf mode: on a fresh test bed by default (removed afterwards, also on failure), on
// a real NIC queue when `iface` is given, or on neither for the pure-stack (mem-*) modes. Then
// makes its result line (perf/result.schema.json), saves the latency histograms and writes the
// report when asked to.
import fs from 'node:fs';
import path from 'node:path';
import { TestBed } from '../ts/testbed/testbed.js';
import { rxdrop } from './modes/rxdrop.js';
import { txonly } from './modes/txonly.js';
import { l2fwd } from './modes/l2fwd.js';
import { rssRxdrop } from './modes/rss-rxdrop.js';
import { steeredRxdrop } from './modes/steered-rxdrop.js';
import { udpEcho } from './modes/udp-echo.js';
import { tcpRr } from './modes/tcp-rr.js';
import { epollEcho } from './modes/epoll-echo.js';
import { tcpCrr } from './modes/tcp-crr.js';
import { tcpStream } from './modes/tcp-stream.js';
import { expressPerf, httpPerf, httpsPerf } from './modes/http.js';
import { fuzz } from './modes/fuzz.js';
import { memTcpStream } from './modes/mem-tcp-stream.js';
import { memTcpRr } from './modes/mem-tcp-rr.js';
import type { PerfOptions, PerfTarget } from './modes/common.js';
import { resultLine, type PerfResult, type ResultLine } from './harness/perf-result.js';
import { ProgressLog, type Side } from './harness/progress.js';
import { percentileDistribution } from './harness/latency.js';
import { writeReport } from './harness/report.js';
import { isPerfMode, PERF_MODES, type PerfModeName } from './mode-catalogue.js';

/** Every mode of the catalogue, and nothing else: the type makes a missing or extra key an error. */
export const perfModes: Record<PerfModeName, (target: PerfTarget) => Promise<PerfResult>> = {
  rxdrop,
  txonly,
  l2fwd,
  'rss-rxdrop': rssRxdrop,
  'steered-rxdrop': steeredRxdrop,
  'udp-echo': udpEcho,
  'tcp-rr': tcpRr,
  'epoll-echo': epollEcho,
  'tcp-crr': tcpCrr,
  'tcp-stream': tcpStream,
  http: httpPerf,
  https: httpsPerf,
  express: expressPerf,
  fuzz,
  'mem-tcp-stream': memTcpStream,
  'mem-tcp-rr': memTcpRr,
};

/** Modes that run the full stack, which resolves neighbours itself (no static entries). */
const withStack = new Set([
  'udp-echo',
  'tcp-rr',
  'epoll-echo',
  'tcp-crr',
  'tcp-stream',
  'http',
  'https',
  'express',
  'fuzz',
]);

/** Modes that need a queue per worker get a multi-queue bed. */
const bedQueues: Record<string, number> = { 'steered-rxdrop': 2 };

/** Runs `mode` and returns its result line; saves histograms and the report as `options` say. */
export async function runPerf(mode: string, options: PerfOptions): Promise<ResultLine> {
  if (!isPerfMode(mode)) {
    throw Object.assign(
      new Error(`unknown perf mode '${mode}'; choose one of ${Object.keys(perfModes).join(', ')}`),
      { code: 'EINVAL' },
    );
  }
  if (
    options.pcap !== undefined &&
    !(PERF_MODES[mode].reads as readonly string[]).includes('pcap')
  ) {
    throw Object.assign(new Error(`perf ${mode} cannot capture its frames (pcap)`), {
      code: 'EINVAL',
    });
  }
  const run = perfModes[mode];
  const interval = options.interval ?? 0;
  const target: PerfTarget = {
    options,
    // Without progress lines, the report still gets a sample a second.
    progress: new ProgressLog({
      intervalSeconds: interval > 0 ? interval : 1,
      print: interval > 0,
    }),
    histograms: {},
  };
  const result = await runOnTarget(mode, run, target);
  saveHistograms(result, target);
  const line = resultLine(result);
  if (options.report) {
    writeReport(options.report, {
      line,
      samples: target.progress.samples,
      histograms: target.histograms,
    });
  }
  return line;
}

async function runOnTarget(
  mode: PerfModeName,
  run: (target: PerfTarget) => Promise<PerfResult>,
  target: PerfTarget,
): Promise<PerfResult> {
  if (target.options.iface || PERF_MODES[mode].site === 'memory') return run(target);
  // The raw modes (rxdrop, ...) do not answer ARP/ND, so the peer gets static neighbours there.
  const bed = await TestBed.up({
    queues: bedQueues[mode] ?? 1,
    staticNeighbours: !withStack.has(mode),
    mtu: target.options.mtu,
  });
  try {
    return await run({ ...target, bed });
  } finally {
    await bed.down();
  }
}

/**
 * Writes each side's histogram as HdrHistogram percentile distribution text into
 * --histogram-dir (<mode>-engine.hgrm, <mode>-baseline.hgrm) or beside the report
 * (<report>-engine.hgrm, ...), and names the file in that side's figures.
 */
function saveHistograms(result: PerfResult, target: PerfTarget): void {
  const { histogramDir, report } = target.options;
  if (histogramDir === undefined && report === undefined) return;
  const stem =
    histogramDir !== undefined
      ? path.join(histogramDir, result.mode)
      : report!.replace(/\.html?$/i, '');
  fs.mkdirSync(path.dirname(stem), { recursive: true });
  const sides: [Side, { histogramFile?: string } | undefined][] = [
    ['engine', result],
    ['baseline', result.baseline],
  ];
  for (const [side, figures] of sides) {
    const histogram = target.histograms[side];
    if (!histogram || !figures) continue;
    const file = `${stem}-${side}.hgrm`;
    fs.writeFileSync(file, percentileDistribution(histogram));
    figures.histogramFile = file;
  }
}

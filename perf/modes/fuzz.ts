// perf fuzz: the long fuzz campaign (issue 13). `xdpnet-peer fuzz` sends --count seeded malformed
// and mutated frames (default 1,000,000) in four passes while a normal client exchanges data with
// the echo app and checks every echo; then the campaign's checks (perf/harness/fuzz-campaign.ts):
// the engine serves, RSS stays within 10% of its value after the first pass, every frame is
// accounted for, every drop is counted by reason. Progress (--interval: the frames the engine's
// XDP program saw, from the driver's counters), a line per pass and the full report go to
// stderr; a failed check fails the run (EFUZZ).
import type { PerfResult } from '../harness/perf-result.js';
import { round } from '../harness/perf-result.js';
import { runFuzzCampaign, xdpCounters, type FuzzCampaignReport } from '../harness/fuzz-campaign.js';
import { requireBed, type PerfTarget } from './common.js';

const PASSES = 4;
export const DEFAULT_FUZZ_COUNT = 1_000_000;

function summary(r: FuzzCampaignReport): string {
  const lines = ['fuzz campaign:'];
  for (const p of r.passes) {
    const f = p.fuzz;
    lines.push(
      `  pass ${p.pass}: units ${f.firstUnit}..${f.firstUnit + f.units - 1}, ${f.sent} frames ` +
        `(${f.toEngine} to the engine, ${f.mutated} mutated) at ${Math.round(f.pps)}/s; ` +
        `engine received ${p.rxFrames}, ${p.dropsTotal} drops by reason; ${p.xdp.rxDrops} lost at ` +
        `a full socket ring; RSS ${(p.rssBytes / 2 ** 20).toFixed(1)} MiB ` +
        `(${(p.ownedRssBytes / 2 ** 20).toFixed(1)} MiB anonymous), worker heap ` +
        `${p.workerHeap ? (p.workerHeap.heapUsed / 2 ** 20).toFixed(1) : '?'} MiB; sockets ` +
        JSON.stringify(p.sockets),
    );
  }
  for (const c of r.checks) lines.push(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`);
  return lines.join('\n');
}

/** Fewest frames in the first pass (see firstCount). */
const WARM_UP_FRAMES = 25_000;

export async function fuzz(target: PerfTarget): Promise<PerfResult> {
  const bed = requireBed(target, 'fuzz');
  const o = target.options;
  const count = o.count ?? DEFAULT_FUZZ_COUNT;
  const phase = {
    side: 'engine' as const,
    label: 'xdpnet under fuzz',
    packets: async () => (await xdpCounters(bed.engineIf)).packets,
  };
  const report = await target.progress.during(phase, () =>
    runFuzzCampaign(bed, {
      seed: o.seed ?? 1,
      count: Math.ceil(count / PASSES),
      // The end of the first pass is the memory baseline: it must have warmed the engine up (code
      // optimised, heaps grown to their working size). A 5,000-frame first pass had not, on
      // Node 22: 10 MiB more anonymous memory after the second pass than after the first.
      firstCount: Math.max(Math.ceil(count / PASSES), WARM_UP_FRAMES),
      passes: PASSES,
      rate: o.rate,
      xdpMode: o.xdpMode,
      bindMode: o.bindMode,
      log: (line) => process.stderr.write(`  ${line}\n`),
    }),
  );
  process.stderr.write(`${summary(report)}\n${JSON.stringify(report)}\n`);
  if (!report.ok) {
    const failed = report.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);
    throw Object.assign(new Error(`fuzz campaign failed: ${failed.join(' | ')}`), {
      code: 'EFUZZ',
    });
  }
  const seconds = report.passes.reduce((s, p) => s + p.fuzz.seconds, 0);
  return {
    mode: 'fuzz',
    workers: 1,
    packets: report.total.sent,
    pps: Math.round(report.total.sent / seconds),
    drops: report.total.drops,
    seconds: round(seconds, 3),
  };
}

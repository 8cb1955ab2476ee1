// The JSON line every `xdpnet perf <mode>` run ends with (docs/architecture.md#the-result-line):
// the engine's figures at the top level, the baseline's under `baseline`. A figure that does not
// apply to a mode is omitted.

export interface PerfFigures {
  pps?: number;
  bps?: number;
  rps?: number;
  packets?: number;
  offered?: number;
  drops?: number;
  seconds?: number;
  cpuSecondsPerMpkt?: number;
  p50_us?: number;
  p99_us?: number;
  p999_us?: number;
}

export interface PerfResult extends PerfFigures {
  mode: string;
  workers: number;
  xdpMode?: string;
  zeroCopy?: boolean;
  baseline?: PerfFigures & { name: string };
}

/** Figures from a packet count, bytes, offered load, time and CPU time. */
export function packetFigures(
  packets: number,
  bytes: number,
  offered: number | undefined,
  seconds: number,
  cpuSeconds: number,
): PerfFigures {
  return {
    pps: Math.round(packets / seconds),
    bps: Math.round((bytes * 8) / seconds),
    packets,
    ...(offered === undefined ? {} : { offered, drops: Math.max(0, offered - packets) }),
    seconds: round(seconds, 3),
    cpuSecondsPerMpkt: packets > 0 ? round(cpuSeconds / (packets / 1e6), 3) : undefined,
  };
}

export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

const rows: [keyof PerfFigures, string][] = [
  ['offered', 'offered (pkts)'],
  ['packets', 'packets'],
  ['drops', 'drops'],
  ['pps', 'packets/s'],
  ['rps', 'requests/s'],
  ['bps', 'bits/s'],
  ['cpuSecondsPerMpkt', 'CPU s / Mpkt'],
  ['p50_us', 'p50 (us)'],
  ['p99_us', 'p99 (us)'],
  ['p999_us', 'p99.9 (us)'],
  ['seconds', 'seconds'],
];

/** The side-by-side table: engine, baseline, and engine/baseline. */
export function formatTable(result: PerfResult): string {
  const base = result.baseline;
  const header = ['', 'xdpnet', base ? base.name : '', base ? 'ratio' : ''];
  const lines = [header];
  for (const [key, label] of rows) {
    const a = result[key];
    const b = base?.[key];
    if (a === undefined && b === undefined) continue;
    const ratio = a !== undefined && b !== undefined && b !== 0 ? `${round(a / b, 2)}x` : '';
    lines.push([label, fmt(a), fmt(b), ratio]);
  }
  const widths = header.map((_, c) => Math.max(...lines.map((l) => l[c].length)));
  const title = `xdpnet perf ${result.mode}: ${result.workers} worker(s), XDP ${result.xdpMode ?? '-'}, ${
    result.zeroCopy ? 'zero-copy' : 'copy mode'
  }`;
  return [title, ...lines.map((l) => l.map((cell, c) => cell.padStart(widths[c])).join('  '))].join(
    '\n',
  );
}

function fmt(x: number | undefined): string {
  if (x === undefined) return '-';
  if (Math.abs(x) >= 1e6) return `${round(x / 1e6, 3)}M`;
  if (Math.abs(x) >= 1e4) return `${round(x / 1e3, 1)}k`;
  return String(round(x, 3));
}

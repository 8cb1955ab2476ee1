// The one JSON line every `xdpnet perf <mode>` run ends with, described by perf/result.schema.json
// (docs/architecture.md#the-result-line): the engine's figures at the top level, the baseline's
// under `baseline` (null on a real NIC, where nothing runs beside the engine), and
// engine/baseline under `ratios`. Every line has the common fields (null where one does not apply
// to the mode); the rest are the mode's own.
import type { BindingFacts } from '../../ts/dev/xdp/xdp-binding.js';

/** What a mode measures on one side, engine or baseline. */
export interface PerfFigures {
  workers?: number;
  seconds?: number;
  /** Packets per second, as the mode counts packets (see the schema). */
  pps?: number;
  bps?: number | null;
  cpuSecondsPerMpkt?: number | null;
  xdpMode?: string | null;
  zeroCopy?: boolean | null;
  /** Busy polling on the side's AF_XDP sockets: false when off; null without AF_XDP. */
  busyPoll?: PerfBusyPoll | false | null;
  /** How the engine's flow ownership met the NIC's RSS: the modes that run the whole engine. */
  rss?: 'program' | 'follow' | 'software';
  packets?: number;
  offered?: number;
  drops?: number;
  rps?: number;
  requests?: number;
  errors?: number;
  cpuUsPerRequest?: number;
  p50_us?: number;
  p99_us?: number;
  p999_us?: number;
  /** The side's latency histogram (HdrHistogram percentile distribution text), when saved. */
  histogramFile?: string;
  /** The link MTU the side ran at (the modes that take --mtu). */
  mtu?: number;
}

/** Busy polling as a result reports it. */
export interface PerfBusyPoll {
  /** SO_BUSY_POLL and SO_PREFER_BUSY_POLL as read back, SO_BUSY_POLL_BUDGET as set. */
  usecs: number;
  budget: number;
  preferBusyPoll: boolean;
  /** The device's knobs during the run; null where they could not be set. */
  napiDeferHardIrqs: number | null;
  groFlushTimeoutNs: number | null;
  /** Every socket had a NAPI id, so busy polling had a NAPI to poll (veth, generic XDP: false). */
  napiPolled: boolean;
}

/** What a mode returns; resultLine() turns it into the line. */
export interface PerfResult extends PerfFigures {
  mode: string;
  workers: number;
  baseline?: PerfFigures & { name: string };
}

/** xdpMode, zeroCopy and busyPoll of a result, from how the engine's binding came up. */
export function bindingFields(
  facts: BindingFacts,
): Pick<PerfFigures, 'xdpMode' | 'zeroCopy' | 'busyPoll'> {
  const busy = facts.busyPoll;
  return {
    xdpMode: facts.xdpMode,
    zeroCopy: facts.zeroCopy,
    busyPoll: busy && {
      usecs: busy.usecs,
      budget: busy.budget,
      preferBusyPoll: busy.preferBusyPoll,
      napiDeferHardIrqs: busy.napiDeferHardIrqs.value,
      groFlushTimeoutNs: busy.groFlushTimeoutNs.value,
      napiPolled: busy.napiIds.length > 0 && busy.napiIds.every((id) => id > 0),
    },
  };
}

/** The fields every side of every line has. */
export interface SideLine {
  workers: number;
  seconds: number;
  pps: number;
  bps: number | null;
  cpuSecondsPerMpkt: number | null;
  xdpMode: string | null;
  zeroCopy: boolean | null;
  busyPoll: PerfBusyPoll | false | null;
  [figure: string]: unknown;
}

export interface ResultLine extends SideLine {
  mode: string;
  baseline: (SideLine & { name: string }) | null;
  ratios: Ratios | null;
}

/** engine / baseline; null where either side lacks the figure or the baseline's is 0. */
export interface Ratios {
  pps: number | null;
  bps: number | null;
  cpuSecondsPerMpkt: number | null;
  [figure: string]: number | null;
}

const REQUIRED_RATIOS = ['pps', 'bps', 'cpuSecondsPerMpkt'] as const;
const OPTIONAL_RATIOS = ['rps', 'cpuUsPerRequest', 'p50_us', 'p99_us', 'p999_us'] as const;

/** The line of a mode's result: common fields first, nulls where they do not apply, ratios. */
export function resultLine(result: PerfResult): ResultLine {
  const { mode, baseline, ...engine } = result;
  const engineLine = sideLine(engine, mode);
  const baselineLine = baseline ? namedSideLine(baseline, mode) : null;
  return {
    mode,
    ...engineLine,
    baseline: baselineLine,
    ratios: baselineLine ? ratios(engineLine, baselineLine) : null,
  };
}

function namedSideLine(side: PerfFigures & { name: string }, mode: string) {
  const { name, ...figures } = side;
  return { name, ...sideLine(figures, `${mode} baseline`) };
}

/** One side's fields in the schema's order; EPERFRESULT when a mode left out a figure it owes. */
function sideLine(figures: PerfFigures & Record<string, unknown>, what: string): SideLine {
  const missing = (['workers', 'seconds', 'pps'] as const).filter(
    (key) => typeof figures[key] !== 'number',
  );
  if (missing.length > 0) {
    throw Object.assign(new Error(`perf ${what} gave no ${missing.join(', ')}`), {
      code: 'EPERFRESULT',
    });
  }
  const { workers, seconds, pps, bps, cpuSecondsPerMpkt, xdpMode, zeroCopy, busyPoll, ...rest } =
    figures;
  const defined = Object.entries(rest).filter(([, v]) => v !== undefined);
  return {
    workers: workers!,
    seconds: seconds!,
    pps: pps!,
    bps: bps ?? null,
    cpuSecondsPerMpkt: cpuSecondsPerMpkt ?? null,
    xdpMode: xdpMode ?? null,
    zeroCopy: zeroCopy ?? null,
    busyPoll: busyPoll ?? null,
    ...Object.fromEntries(defined),
  };
}

function ratios(engine: SideLine, baseline: SideLine): Ratios {
  const ratio = (key: string): number | null => {
    const a = engine[key];
    const b = baseline[key];
    return typeof a === 'number' && typeof b === 'number' && b !== 0 ? round(a / b, 3) : null;
  };
  const out: Ratios = { pps: null, bps: null, cpuSecondsPerMpkt: null };
  for (const key of REQUIRED_RATIOS) out[key] = ratio(key);
  for (const key of OPTIONAL_RATIOS) {
    if (engine[key] !== undefined || baseline[key] !== undefined) out[key] = ratio(key);
  }
  return out;
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
    cpuSecondsPerMpkt: perMpkt(cpuSeconds, packets),
  };
}

/** Packet figures from a count over `seconds` in which the side used `cpuSeconds`. */
export function packetsOver(packets: number, seconds: number, cpuSeconds: number): PerfFigures {
  return {
    packets,
    pps: seconds > 0 ? Math.round(packets / seconds) : 0,
    cpuSecondsPerMpkt: perMpkt(cpuSeconds, packets),
  };
}

/** CPU seconds per million packets; undefined without packets. */
export function perMpkt(cpuSeconds: number, packets: number): number | undefined {
  return packets > 0 ? round(cpuSeconds / (packets / 1e6), 3) : undefined;
}

export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

const rows: [string, string][] = [
  ['offered', 'offered (pkts)'],
  ['packets', 'packets'],
  ['drops', 'drops'],
  ['pps', 'packets/s'],
  ['rps', 'requests/s'],
  ['bps', 'bits/s'],
  ['cpuSecondsPerMpkt', 'CPU s / Mpkt'],
  ['cpuUsPerRequest', 'CPU us / request'],
  ['p50_us', 'p50 (us)'],
  ['p99_us', 'p99 (us)'],
  ['p999_us', 'p99.9 (us)'],
  ['seconds', 'seconds'],
];

/** The side-by-side table: engine, baseline, and engine/baseline. */
export function formatTable(line: ResultLine): string {
  const base = line.baseline;
  const header = ['', 'xdpnet', base ? base.name : '', base ? 'ratio' : ''];
  const lines = [header];
  for (const [key, label] of rows) {
    const a = numberOrUndefined(line[key]);
    const b = numberOrUndefined(base?.[key]);
    if (a === undefined && b === undefined) continue;
    const ratio = a !== undefined && b !== undefined && b !== 0 ? `${round(a / b, 2)}x` : '';
    lines.push([label, fmt(a), fmt(b), ratio]);
  }
  const widths = header.map((_, c) => Math.max(...lines.map((l) => l[c].length)));
  const busy = line.busyPoll ? `, busy polling ${line.busyPoll.usecs} µs` : '';
  const title = `xdpnet perf ${line.mode}: ${line.workers} worker(s), XDP ${line.xdpMode ?? '-'}, ${
    line.zeroCopy ? 'zero-copy' : 'copy mode'
  }${busy}`;
  return [title, ...lines.map((l) => l.map((cell, c) => cell.padStart(widths[c])).join('  '))].join(
    '\n',
  );
}

function numberOrUndefined(x: unknown): number | undefined {
  return typeof x === 'number' ? x : undefined;
}

function fmt(x: number | undefined): string {
  if (x === undefined) return '-';
  if (Math.abs(x) >= 1e6) return `${round(x / 1e6, 3)}M`;
  if (Math.abs(x) >= 1e4) return `${round(x / 1e3, 1)}k`;
  return String(round(x, 3));
}

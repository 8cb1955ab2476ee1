// The one JSON line every `xdpnet perf <mode>` run ends with (shape fixed in shared/design.md):
// the engine's figures at the top level, the baseline's under `baseline`. A figure that does not
// apply to a mode is omitted.
import type { BindingFacts } from '../../ts/dev/xdp/xdp-binding.js';

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

export interface PerfResult extends PerfFigures {
  mode: string;
  workers: number;
  /** Where the XDP program ran: 'native' or 'generic'. */
  xdpMode?: string;
  /** AF_XDP zero-copy (true) or copy mode. */
  zeroCopy?: boolean;
  /** false: off. */
  busyPoll?: PerfBusyPoll | false;
  baseline?: PerfFigures & { name: string };
}

/** xdpMode, zeroCopy and busyPoll of a result, from how the engine's binding came up. */
export function bindingFields(
  facts: BindingFacts,
): Pick<PerfResult, 'xdpMode' | 'zeroCopy' | 'busyPoll'> {
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
  const busy = result.busyPoll ? `, busy polling ${result.busyPoll.usecs} µs` : '';
  const title = `xdpnet perf ${result.mode}: ${result.workers} worker(s), XDP ${result.xdpMode ?? '-'}, ${
    result.zeroCopy ? 'zero-copy' : 'copy mode'
  }${busy}`;
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

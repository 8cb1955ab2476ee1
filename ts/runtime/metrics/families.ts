// The engine's counters as Prometheus metric families: what each is called, what it means, and
// how to read its samples from one snapshot of the engine. Names follow Prometheus conventions
// (snake_case, `xdpnet_` prefix, counters end in `_total`, base units); every per-worker family
// has a `worker` label. The protocol counters are exactly the ones `xdpnet netstat -s` shows,
// named after netstat's section and line (Udp InDatagrams -> xdpnet_udp_in_datagrams_total).
import type { RingCounts, XskStats } from '../../dev/xdp/native.js';
import type { DispatcherStats } from '../../dev/dispatch/native-dispatch.js';
import type { FrameAccount } from '../../dev/frame-device.js';
import { DROP_REASON_NAMES } from '../../wire/drop-reason.js';
import {
  IFACE_COUNTERS_IN_SECTIONS,
  type CounterSection,
  type NetstatCounters,
} from '../control-counters.js';
import type { StackWorkerStats } from '../stack-config.js';

/** One AF_XDP socket of the engine, with whom it serves. */
export interface XskSnapshot {
  /** The worker that drives it, or 'dispatcher' under software RSS. */
  worker: string;
  queue: number;
  stats: XskStats;
  ringSizes: RingCounts;
  /** Entries in its rings now, as its worker reads them (absent for the dispatcher's). */
  occupancy?: RingCounts;
}

/** Everything one scrape reads, taken once per scrape. */
export interface EngineSnapshot {
  mode: string;
  /** One entry per worker number that has run (a stopped one keeps its final counters). */
  workers: StackWorkerStats[];
  /** Workers running now (after a resize, fewer than `workers` has entries); default all. */
  running?: number;
  /** netstatCounters() of each worker, in the same order. */
  netstat: NetstatCounters[];
  sockets: XskSnapshot[];
  /** The XDP program's verdict counters. */
  program?: { redirected: number; passed: number };
  dispatcher?: DispatcherStats;
}

export type Labels = Record<string, string>;
export type Sample = [labels: Labels, value: number];

export interface Family {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  labelNames: string[];
  samples(s: EngineSnapshot): Sample[];
}

/** netstat lines that are gauges (the rest count events). */
const GAUGES = new Set(['Tcp.CurrEstab']);

const NETSTAT_SECTIONS: CounterSection[] = ['Ip', 'Icmp', 'Tcp', 'TcpExt', 'Udp'];

/** Linux's all-capitals words in counter names, spelled as words so snake_case splits them. */
const ACRONYMS = /TCP|SYN|ACK|OK/g;

/** A counter's camelCase or Linux name in snake_case: TCPSYNChallenge -> tcp_syn_challenge. */
export function snakeCase(name: string): string {
  return name
    .replace(ACRONYMS, (a) => a.charAt(0) + a.slice(1).toLowerCase())
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase();
}

function counterName(base: string, type: Family['type']): string {
  return type === 'counter' ? `${base}_total` : base;
}

function perWorker(s: EngineSnapshot, value: (w: StackWorkerStats, i: number) => number): Sample[] {
  return s.workers.map((w, i) => [{ worker: String(w.workerId) }, value(w, i)]);
}

/** The Ip, Icmp, Tcp, TcpExt and Udp lines of netstat -s, one family each. */
function netstatFamilies(first: NetstatCounters): Family[] {
  return NETSTAT_SECTIONS.flatMap((sec) =>
    Object.keys(first[sec]).map((line): Family => {
      const type = GAUGES.has(`${sec}.${line}`) ? 'gauge' : 'counter';
      return {
        name: counterName(`xdpnet_${sec.toLowerCase()}_${snakeCase(line)}`, type),
        help: `${sec} ${line}, as xdpnet netstat -s shows it`,
        type,
        labelNames: ['worker'],
        samples: (s) => perWorker(s, (_, i) => s.netstat[i][sec][line] ?? 0),
      };
    }),
  );
}

/** Interface counters that no netstat section shows (frames in and out, DAD, path cache...). */
function ifaceFamilies(first: StackWorkerStats): Family[] {
  return Object.keys(first.iface)
    .filter((key) => !IFACE_COUNTERS_IN_SECTIONS.has(key))
    .map((key) => ({
      name: `xdpnet_iface_${snakeCase(key)}_total`,
      help: `Interface counter ${key}`,
      type: 'counter',
      labelNames: ['worker'],
      samples: (s) => perWorker(s, (w) => w.iface[key] ?? 0),
    }));
}

function dropFamily(): Family {
  const reasons = DROP_REASON_NAMES.slice(1); // 0 is Ok, not a drop
  return {
    name: 'xdpnet_drops_total',
    help:
      'Frames the stack dropped, by reason (malformed headers, no socket, no neighbour, no TX ' +
      'frame, ...), as the Device section of xdpnet netstat -s lists them',
    type: 'counter',
    labelNames: ['worker', 'reason'],
    // Every reason, zeros too, so that rate() sees a series before its first drop.
    samples: (s) =>
      s.workers.flatMap((w) =>
        reasons.map((reason): Sample => [
          { worker: String(w.workerId), reason },
          w.drops[reason] ?? 0,
        ]),
      ),
  };
}

function loopFamilies(): Family[] {
  const loop = (key: 'passes' | 'parks' | 'naps', help: string): Family => ({
    name: `xdpnet_loop_${key}_total`,
    help,
    type: 'counter',
    labelNames: ['worker'],
    samples: (s) => perWorker(s, (w) => w.loop[key]),
  });
  return [
    loop('passes', 'Passes of the worker loop (timers, one receive batch, one flush)'),
    loop('parks', 'Times the worker loop parked in poll(2) or a futex wait for lack of work'),
    loop('naps', 'Short sleeps of the worker loop between polls'),
    {
      name: 'xdpnet_worker_cpu_seconds_total',
      help: "CPU time of the worker's thread since it started",
      type: 'counter',
      labelNames: ['worker'],
      samples: (s) => perWorker(s, (w) => w.loop.cpuSeconds),
    },
  ];
}

const FRAME_PLACES = ['free', 'fill', 'rx', 'app', 'txQueued', 'tx', 'completion'] as const;

function framesOf(s: EngineSnapshot): [string, FrameAccount][] {
  return s.workers.flatMap((w) => (w.frames ? [[String(w.workerId), w.frames]] : []));
}

/** The live frame account: where each frame of each worker's UMEM share is now. */
function frameFamilies(): Family[] {
  return [
    {
      name: 'xdpnet_frames',
      help:
        'UMEM frames of the worker by where they are now: free, fill (fill ring), rx (RX ring), ' +
        'app (stack and app), tx_queued (waiting for a flush), tx (TX ring), completion ' +
        '(completion ring); the places add up to xdpnet_frames_owned. Dispatched workers report none',
      type: 'gauge',
      labelNames: ['worker', 'place'],
      samples: (s) =>
        framesOf(s).flatMap(([worker, a]) =>
          FRAME_PLACES.map((p): Sample => [{ worker, place: snakeCase(p) }, a[p]]),
        ),
    },
    {
      name: 'xdpnet_frames_owned',
      help: 'UMEM frames the worker owns (the sum of xdpnet_frames over places)',
      type: 'gauge',
      labelNames: ['worker'],
      samples: (s) => framesOf(s).map(([worker, a]): Sample => [{ worker }, a.frames]),
    },
    {
      name: 'xdpnet_frame_violations_total',
      help: 'Frame moves that found a frame somewhere other than expected (a bug if not 0)',
      type: 'counter',
      labelNames: ['worker'],
      samples: (s) => framesOf(s).map(([worker, a]): Sample => [{ worker }, a.violations]),
    },
  ];
}

const RINGS = ['fill', 'rx', 'tx', 'comp'] as const;

/** The socket counters the kernel keeps (XDP_STATISTICS); the others are the port's own. */
const KERNEL_XSK_STATS = new Set([
  'rxDropped',
  'rxInvalidDescs',
  'txInvalidDescs',
  'rxRingFull',
  'rxFillRingEmptyDescs',
  'txRingEmptyDescs',
]);

function xskHelp(key: string): string {
  return KERNEL_XSK_STATS.has(key)
    ? `AF_XDP socket ${snakeCase(key)}, counted by the kernel (getsockopt XDP_STATISTICS)`
    : `AF_XDP socket ${key}, counted by the engine's port`;
}

/** XDP_STATISTICS and the port's own counters of each AF_XDP socket, and its rings. */
function xskFamilies(first: XskSnapshot | undefined): Family[] {
  if (!first) return [];
  const labels = (x: XskSnapshot): Labels => ({ worker: x.worker, queue: String(x.queue) });
  const ring = (x: XskSnapshot, r: string): Labels => ({ ...labels(x), ring: r });
  const stats: Family[] = Object.keys(first.stats).map((key) => ({
    name: `xdpnet_xsk_${snakeCase(key)}_total`,
    help: xskHelp(key),
    type: 'counter',
    labelNames: ['worker', 'queue'],
    samples: (s) => s.sockets.map((x): Sample => [labels(x), x.stats[key as keyof XskStats]]),
  }));
  return [
    ...stats,
    {
      name: 'xdpnet_xsk_ring_size',
      help: 'Entries each ring of the AF_XDP socket holds',
      type: 'gauge',
      labelNames: ['worker', 'queue', 'ring'],
      samples: (s) =>
        s.sockets.flatMap((x) => RINGS.map((r): Sample => [ring(x, r), x.ringSizes[r]])),
    },
    {
      name: 'xdpnet_xsk_ring_entries',
      help: "Entries in each ring of the AF_XDP socket now (its worker's view)",
      type: 'gauge',
      labelNames: ['worker', 'queue', 'ring'],
      samples: (s) =>
        s.sockets.flatMap((x) =>
          x.occupancy ? RINGS.map((r): Sample => [ring(x, r), x.occupancy![r]]) : [],
        ),
    },
  ];
}

function programFamilies(): Family[] {
  const verdict = (key: 'redirected' | 'passed', help: string): Family => ({
    name: `xdpnet_xdp_${key}_total`,
    help,
    type: 'counter',
    labelNames: [],
    samples: (s) => (s.program ? [[{}, s.program[key]]] : []),
  });
  return [
    verdict('redirected', 'Frames the XDP program redirected to the AF_XDP sockets'),
    verdict('passed', "Frames the XDP program passed to the kernel's stack"),
  ];
}

/** The software-RSS dispatcher's counters (present only when the engine runs one). */
function dispatcherFamilies(first: DispatcherStats | undefined): Family[] {
  if (!first) return [];
  const perWorkerList = (key: 'delivered' | 'dropped', help: string): Family => ({
    name: `xdpnet_dispatch_${key}_total`,
    help,
    type: 'counter',
    labelNames: ['worker'],
    samples: (s) => (s.dispatcher?.[key] ?? []).map((v, i): Sample => [{ worker: String(i) }, v]),
  });
  const scalars = Object.entries(first)
    .filter(([key, v]) => typeof v === 'number' && key !== 'appliedGeneration')
    .map(([key]): Family => ({
      name: `xdpnet_dispatcher_${snakeCase(key)}_total`,
      help: `Software-RSS dispatcher ${key}`,
      type: 'counter',
      labelNames: [],
      samples: (s) =>
        s.dispatcher ? [[{}, s.dispatcher[key as keyof DispatcherStats] as number]] : [],
    }));
  return [
    perWorkerList('delivered', "Frames the dispatcher put into the worker's RX ring"),
    perWorkerList('dropped', "Frames the dispatcher dropped because the worker's RX ring was full"),
    ...scalars,
  ];
}

function engineFamily(): Family {
  return {
    name: 'xdpnet_workers',
    help: 'Stack workers of the engine, with how frames reach them (mode: xdp, steered, dispatch)',
    type: 'gauge',
    labelNames: ['mode'],
    samples: (s) => [[{ mode: s.mode }, s.running ?? s.workers.length]],
  };
}

/** Every family the engine of `first` (a snapshot taken at start) has. */
export function engineFamilies(first: EngineSnapshot): Family[] {
  if (first.workers.length === 0) throw new Error('a snapshot of an engine without workers');
  return [
    engineFamily(),
    ...netstatFamilies(first.netstat[0]),
    ...ifaceFamilies(first.workers[0]),
    dropFamily(),
    ...loopFamilies(),
    ...frameFamilies(),
    ...xskFamilies(first.sockets[0]),
    ...programFamilies(),
    ...dispatcherFamilies(first.dispatcher),
  ];
}

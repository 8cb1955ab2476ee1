// What each perf mode is, without loading it: its one-line summary, where it runs and which
// PerfOptions it reads. run-perf.ts keys its table of mode functions by this catalogue (so a mode
// cannot be added to one and not the other), and the CLI builds its help and its per-mode flags
// from it without importing the modes themselves.
import type { PerfOptions } from './modes/common.js';

/**
 * Where a mode runs: on a fresh test bed, or on a real NIC queue with `iface` (`bed-or-nic`); on
 * the test bed only (`bed`); in memory, with no kernel, bed or NIC (`memory`).
 */
export type PerfModeSite = 'bed-or-nic' | 'bed' | 'memory';

export interface PerfModeInfo {
  summary: string;
  site: PerfModeSite;
  /** The options the mode reads; any other is an error on the command line. */
  reads: readonly (keyof PerfOptions)[];
}

/** How the engine binds to its interface: every mode that runs the engine on an interface. */
const BINDING = ['xdpMode', 'bindMode', 'busyPoll'] as const;
/** The modes that run the whole engine (Engine.start): how its ownership meets the NIC's RSS. */
const ENGINE = ['rss'] as const;
/** A generated UDP flood: its payload size and rate. */
const FLOOD = ['size', 'rate'] as const;
/** On a real NIC: the interface, its queue, and the engine's IPv4 address there. */
const NIC = ['iface', 'queue', 'srcIp'] as const;
/**
 * A pcap capture of the engine's frames: the modes on the full stack (Engine's pcap option) and
 * the port workers' receiving loops (a tap on each). txonly's loop keeps TX books a tap would
 * hide; the RSS and steered loops and the memory pairs have no tap.
 */
const CAPTURE = ['pcap'] as const;

export const PERF_MODES = {
  rxdrop: {
    summary: 'a UDP flood into the engine, which drops it; vs Node dgram receiving',
    site: 'bed-or-nic',
    reads: ['seconds', ...FLOOD, ...BINDING, ...NIC, ...CAPTURE],
  },
  txonly: {
    summary: 'the engine sends a UDP flood to a kernel sink; vs Node dgram sending',
    site: 'bed-or-nic',
    reads: ['seconds', ...FLOOD, ...BINDING, ...NIC, 'dstMac', 'dstIp'],
  },
  l2fwd: {
    summary: 'the engine sends each frame of a UDP flood back, MACs swapped; vs Node dgram echo',
    site: 'bed-or-nic',
    reads: ['seconds', ...FLOOD, ...BINDING, ...NIC, ...CAPTURE],
  },
  'rss-rxdrop': {
    summary: 'rxdrop with 2 workers behind the software-RSS dispatcher vs 1 direct worker',
    site: 'bed',
    reads: ['seconds', ...FLOOD, 'batch', ...BINDING],
  },
  'steered-rxdrop': {
    summary: '2 workers on 2 queues hand each other the flows they do not own; vs unsteered',
    site: 'bed',
    reads: ['seconds', ...FLOOD, 'batch', ...BINDING],
  },
  'udp-echo': {
    summary: 'full stack: UDP ping-pong latency and echo rate; vs Node dgram',
    site: 'bed',
    reads: ['seconds', ...FLOOD, ...BINDING, ...ENGINE, ...CAPTURE],
  },
  'tcp-rr': {
    summary: 'TCP 1-byte request/response on open connections; vs Node net',
    site: 'bed',
    reads: ['seconds', ...BINDING, ...ENGINE, ...CAPTURE],
  },
  'tcp-crr': {
    summary: 'TCP connect, 1-byte request/response, close; vs Node net',
    site: 'bed',
    reads: ['seconds', ...BINDING, ...ENGINE, ...CAPTURE],
  },
  'tcp-stream': {
    summary: 'TCP bulk transfer into a sink app on the engine; vs Node net (--mtu: jumbo frames)',
    site: 'bed',
    reads: ['seconds', 'mtu', ...BINDING, ...ENGINE, ...CAPTURE],
  },
  'epoll-echo': {
    summary: 'the epoll echo example, 32 connections x 64 B; vs Node net echo',
    site: 'bed',
    reads: ['seconds', ...BINDING, ...ENGINE, ...CAPTURE],
  },
  http: {
    summary: 'perf/apps/http-app on the engine and on the kernel, driven by wrk',
    site: 'bed',
    reads: ['seconds', ...BINDING, ...ENGINE, ...CAPTURE],
  },
  https: {
    summary: 'the same over TLS 1.3 (perf/apps/https-app)',
    site: 'bed',
    reads: ['seconds', ...BINDING, ...ENGINE, ...CAPTURE],
  },
  express: {
    summary: 'an Express app (perf/apps/express-app) on the engine and on the kernel',
    site: 'bed',
    reads: ['seconds', ...BINDING, ...ENGINE, ...CAPTURE],
  },
  fuzz: {
    summary:
      'seeded malformed frames of every protocol while a client checks its echoes; then the checks',
    site: 'bed',
    reads: ['count', 'seed', 'rate', ...BINDING],
  },
  'mem-tcp-stream': {
    summary: 'TCP stack alone, 1 GiB in memory: bps, CPU ns/segment; vs smoltcp',
    site: 'memory',
    reads: ['bytes'],
  },
  'mem-tcp-rr': {
    summary: 'TCP stack alone, 1-byte request/response in memory: rps; vs smoltcp',
    site: 'memory',
    reads: ['seconds'],
  },
} as const satisfies Record<string, PerfModeInfo>;

export type PerfModeName = keyof typeof PERF_MODES;

export function isPerfMode(name: string): name is PerfModeName {
  return Object.hasOwn(PERF_MODES, name);
}

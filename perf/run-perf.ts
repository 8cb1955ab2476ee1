// Runs one perf mode: on a fresh test bed by default (removed afterwards, also on failure), on
// a real NIC queue when `iface` is given, or on neither for the pure-stack (mem-*) modes.
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
import type { PerfResult } from './harness/perf-result.js';
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

export async function runPerf(mode: string, options: PerfOptions): Promise<PerfResult> {
  if (!isPerfMode(mode)) {
    throw Object.assign(
      new Error(`unknown perf mode '${mode}'; choose one of ${Object.keys(perfModes).join(', ')}`),
      { code: 'EINVAL' },
    );
  }
  const run = perfModes[mode];
  if (options.iface || PERF_MODES[mode].site === 'memory') return run({ options });
  // The raw modes (rxdrop, ...) do not answer ARP/ND, so the peer gets static neighbours there.
  const bed = await TestBed.up({
    queues: bedQueues[mode] ?? 1,
    staticNeighbours: !withStack.has(mode),
  });
  try {
    return await run({ bed, options });
  } finally {
    await bed.down();
  }
}

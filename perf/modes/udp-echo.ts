// perf udp-echo: the engine runs the UDP echo example (examples/udp-echo) with its full stack (ARP,
// IPv4, UDP); the kernel peer measures ping-pong latency (xdpnet-peer udp-rr: one request in
// flight) and then floods it over several flows, counting the echoes its interface receives. In
// the same run, Node's dgram echo server on the kernel stack gets the same two loads. Its packets
// are the flood's echoes (the peer's rx), its latencies the ping-pong's.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { flood, runPeerTool } from '../harness/peer-tool.js';
import { peerRxPackets } from '../harness/peer-counters.js';
import { packetFigures, type PerfFigures, type PerfResult } from '../harness/perf-result.js';
import { decodeHistogram } from '../harness/latency.js';
import type { TestBed } from '../../ts/testbed/testbed.js';
import { requireBed, type PerfTarget } from './common.js';
import { appVersusBaseline, type Measured } from './app-versus-baseline.js';

const ECHO_PORT = 7;
const FLOWS = 8;
const echoApp = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../examples/udp-echo.js',
);

interface RrReport {
  requests: number;
  replies: number;
  lost: number;
  p50_us: number | null;
  p99_us: number | null;
  p999_us: number | null;
  rps: number;
  /** Every round trip: an encoded HdrHistogram in nanoseconds. */
  histogram: string;
}

/** Ping-pong latency, then a flood whose echoes the peer's interface counts. */
async function drive(
  bed: TestBed,
  dst: string,
  target: PerfTarget,
  cpuOf: () => number,
): Promise<Measured<PerfFigures>> {
  const { options } = target;
  const rrSeconds = Math.max(1, Math.min(5, options.seconds));
  const rr = await runPeerTool<RrReport>(
    bed,
    [
      'udp-rr',
      '--dst',
      dst,
      '--port',
      String(ECHO_PORT),
      '--size',
      '64',
      '--seconds',
      String(rrSeconds),
    ],
    (rrSeconds + 10) * 1000,
  );
  const rx0 = await peerRxPackets(bed);
  const cpu0 = cpuOf();
  const load = await flood(bed, {
    dst,
    port: ECHO_PORT,
    size: options.size,
    seconds: options.seconds,
    rate: options.rate,
    flows: FLOWS,
    srcPortBase: 30000,
  });
  await new Promise((r) => setTimeout(r, 300));
  const cpu = cpuOf() - cpu0;
  const echoed = (await peerRxPackets(bed)) - rx0;
  const figures = {
    ...packetFigures(echoed, echoed * (options.size + 42), load.sent, load.seconds, cpu),
    p50_us: rr.p50_us ?? undefined,
    p99_us: rr.p99_us ?? undefined,
    p999_us: rr.p999_us ?? undefined,
    rps: Math.round(rr.rps),
  };
  return { figures, histogram: decodeHistogram(rr.histogram) };
}

export async function udpEcho(target: PerfTarget): Promise<PerfResult> {
  const bed = requireBed(target, 'udp-echo');
  const seconds = target.options.seconds;
  return appVersusBaseline(bed, target, {
    mode: 'udp-echo',
    app: echoApp,
    drive: (dst, cpu) => drive(bed, dst, target, cpu),
    counter: 'rx',
    baseline: {
      name: 'node-dgram-echo',
      script: 'dgram-echo',
      port: ECHO_PORT,
      // Both loads: the ping-pong (up to 5 s), then the flood.
      maxSeconds: seconds + Math.min(5, seconds) + 20,
      idleSeconds: 3,
    },
  });
}

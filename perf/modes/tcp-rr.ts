// perf tcp-rr: 1-byte request/response latency on one TCP_NODELAY connection. xdpnet-peer tcp-rr
// in the peer namespace does round trips (bounded by count and --seconds) against examples/tcp-echo
// on the engine, then against Node's net echo server on the kernel stack in the same run. Its
// packets are the segments the echo server received (the peer's tx), its latencies the peer's.
import path from 'node:path';
import { round } from '../harness/perf-result.js';
import { decodeHistogram } from '../harness/latency.js';
import { requireBed, type PerfTarget } from './common.js';
import { appVersusBaseline, type Measured } from './app-versus-baseline.js';
import {
  examplesDir,
  peerLoad,
  perRequest,
  type TcpFigures,
  type TcpPerfResult,
} from './tcp-common.js';

const ECHO_PORT = 7;
const MAX_ROUND_TRIPS = 2_000_000;

export interface LatencyReport {
  requests: number;
  errors: number;
  seconds: number;
  rps: number;
  p50_us: number | null;
  p99_us: number | null;
  p999_us: number | null;
  /** Every latency: an encoded HdrHistogram in nanoseconds. */
  histogram: string;
}

/** Figures and latencies from a latency report and the server's CPU time over it. */
export function latencyFigures(r: LatencyReport, cpuSeconds: number): Measured<TcpFigures> {
  const figures = {
    rps: r.rps,
    requests: r.requests,
    seconds: round(r.seconds, 3),
    errors: r.errors,
    p50_us: r.p50_us ?? undefined,
    p99_us: r.p99_us ?? undefined,
    p999_us: r.p999_us ?? undefined,
    cpuUsPerRequest: perRequest(cpuSeconds, r.requests),
  };
  return { figures, histogram: decodeHistogram(r.histogram) };
}

export async function tcpRr(target: PerfTarget): Promise<TcpPerfResult> {
  return echoLatency(target, {
    mode: 'tcp-rr',
    load: 'rr',
    count: MAX_ROUND_TRIPS,
    loadSlackSeconds: 20,
    baselineSlackSeconds: 30,
  });
}

/** How echoLatency loads the echo server: xdpnet-peer tcp-`load`, up to `count` requests. */
export interface EchoLatencyLoad {
  mode: string;
  /** rr: round trips on one connection; crr: a connection per round trip. */
  load: 'rr' | 'crr';
  count: number;
  /** How long past --seconds the load may take before it is killed. */
  loadSlackSeconds: number;
  /** How long past --seconds the baseline server may live. */
  baselineSlackSeconds: number;
}

/** An xdpnet-peer latency load against examples/tcp-echo on the engine, then Node's net echo. */
export async function echoLatency(target: PerfTarget, o: EchoLatencyLoad): Promise<TcpPerfResult> {
  const bed = requireBed(target, o.mode);
  const seconds = target.options.seconds;
  const drive = async (dst: string, cpu: () => number): Promise<Measured<TcpFigures>> => {
    const cpu0 = cpu();
    const load = { load: o.load, dst, port: ECHO_PORT, count: o.count, seconds };
    const r = await peerLoad<LatencyReport>(bed, load, (seconds + o.loadSlackSeconds) * 1000);
    return latencyFigures(r, cpu() - cpu0);
  };
  return appVersusBaseline(bed, target, {
    mode: o.mode,
    app: path.join(examplesDir, 'tcp-echo.js'),
    drive,
    counter: 'tx',
    baseline: {
      name: 'node-net-echo',
      script: 'net-echo',
      port: ECHO_PORT,
      maxSeconds: seconds + o.baselineSlackSeconds,
    },
  });
}

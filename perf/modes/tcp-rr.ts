// perf tcp-rr: 1-byte request/response latency on one TCP_NODELAY connection. A Python client in
// the peer namespace does round trips (bounded by count and --seconds) against examples/tcp-echo
// on the engine, then against Node's net echo server on the kernel stack in the same run.
import path from 'node:path';
import { round } from '../harness/perf-result.js';
import { requireBed, type PerfTarget } from './common.js';
import { appVersusBaseline } from './app-versus-baseline.js';
import {
  examplesDir,
  peerLoad,
  perRequest,
  type TcpFigures,
  type TcpPerfResult,
} from './tcp-common.js';
import type { TestBed } from '../../ts/testbed/testbed.js';

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
}

/** Figures from a latency report and the server's CPU time over it. */
export function latencyFigures(r: LatencyReport, cpuSeconds: number): TcpFigures {
  return {
    rps: r.rps,
    packets: r.requests,
    seconds: round(r.seconds, 3),
    errors: r.errors,
    p50_us: r.p50_us ?? undefined,
    p99_us: r.p99_us ?? undefined,
    p999_us: r.p999_us ?? undefined,
    cpuUsPerRequest: perRequest(cpuSeconds, r.requests),
  };
}

function driver(bed: TestBed, seconds: number) {
  return async (dst: string, cpu: () => number): Promise<TcpFigures> => {
    const cpu0 = cpu();
    const args = ['rr', dst, String(ECHO_PORT), String(MAX_ROUND_TRIPS), String(seconds)];
    const r = await peerLoad<LatencyReport>(bed, args, (seconds + 20) * 1000);
    return latencyFigures(r, cpu() - cpu0);
  };
}

export async function tcpRr(target: PerfTarget): Promise<TcpPerfResult> {
  const bed = requireBed(target, 'tcp-rr');
  const seconds = target.options.seconds;
  return appVersusBaseline(bed, target, {
    mode: 'tcp-rr',
    app: path.join(examplesDir, 'tcp-echo.js'),
    drive: driver(bed, seconds),
    baseline: {
      name: 'node-net-echo',
      script: 'net-echo',
      port: ECHO_PORT,
      maxSeconds: seconds + 30,
    },
  });
}

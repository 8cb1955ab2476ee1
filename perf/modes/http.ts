// perf http: `wrk -t1 -c32 -d<S>s --latency` from the peer namespace against
// examples/minimal-http-server on the engine, then against Node's http server with the same response on the kernel stack in
// the same run. Requests/s, latency p50/p99 (wrk's --latency distribution), socket errors and
// non-2xx answers, CPU per request.
import path from 'node:path';
import { round } from '../harness/perf-result.js';
import { requireBed, type PerfTarget } from './common.js';
import { appVersusBaseline } from './app-versus-baseline.js';
import { examplesDir, perRequest, type TcpFigures, type TcpPerfResult } from './tcp-common.js';
import type { TestBed } from '../../ts/testbed/testbed.js';

const HTTP_PORT = 8080;
const CONNECTIONS = 32;

const UNIT_US: Record<string, number> = { us: 1, ms: 1e3, s: 1e6 };

function durationUs(text: string, label: string): number | undefined {
  const m = new RegExp(`^\\s*${label}\\s+([\\d.]+)(us|ms|s)\\s*$`, 'm').exec(text);
  return m ? round(Number(m[1]) * UNIT_US[m[2]], 1) : undefined;
}

/** Figures from wrk's report (wrk 4: "N requests in Ts", "Latency Distribution", errors). */
export function parseWrk(text: string, cpuSeconds: number): TcpFigures {
  const total = /(\d+) requests in ([\d.]+)(m?s)/.exec(text);
  if (total === null) {
    throw Object.assign(new Error(`cannot read wrk's report: ${text}`), { code: 'EPEER' });
  }
  const requests = Number(total[1]);
  const seconds = Number(total[2]) / (total[3] === 'ms' ? 1000 : 1);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(text);
  const errors =
    (sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0) +
    (non2xx ? Number(non2xx[1]) : 0);
  return {
    rps: Math.round(requests / seconds),
    packets: requests,
    seconds: round(seconds, 3),
    errors,
    p50_us: durationUs(text, '50%'),
    p99_us: durationUs(text, '99%'),
    cpuUsPerRequest: perRequest(cpuSeconds, requests),
  };
}

function driver(bed: TestBed, seconds: number) {
  return async (dst: string, cpu: () => number): Promise<TcpFigures> => {
    const cpu0 = cpu();
    const url = `http://${dst}:${HTTP_PORT}/`;
    const argv = ['wrk', '-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '--latency', url];
    const r = await bed.exec(argv, { timeoutMs: (seconds + 30) * 1000 });
    if (r.code !== 0) {
      throw Object.assign(new Error(`wrk failed: ${r.stderr}`), { code: 'EPEER' });
    }
    return parseWrk(r.stdout, cpu() - cpu0);
  };
}

export async function httpPerf(target: PerfTarget): Promise<TcpPerfResult> {
  const bed = requireBed(target, 'http');
  const seconds = target.options.seconds;
  return appVersusBaseline(bed, target, {
    mode: 'http',
    app: path.join(examplesDir, 'minimal-http-server.js'),
    drive: driver(bed, seconds),
    baseline: {
      name: 'node-http',
      script: 'http-server',
      port: HTTP_PORT,
      maxSeconds: seconds + 30,
    },
  });
}

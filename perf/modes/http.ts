// perf http, https and express: `wrk -t1 -c32 -d<S>s --latency` from the peer namespace against
// an app module of perf/apps on the engine, then against the same module on Node's kernel stack
// in the same run (perf/baselines/app-server.ts loads it there). Requests/s, latency p50/p99
// (wrk's --latency distribution), socket errors and non-2xx answers, CPU per request, and every
// latency wrk recorded (a Lua done() hook prints them) as the side's histogram. Its packets are
// the segments the server received (the peer's tx).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { packageRoot } from '../../ts/dev/xdp/native.js';
import { selfSignedCertificate } from '../../ts/testbed/certificate.js';
import { round } from '../harness/perf-result.js';
import { WRK_HISTOGRAM_SCRIPT, wrkHistogram } from '../harness/latency.js';
import { requireBed, type PerfTarget } from './common.js';
import { appVersusBaseline, type Measured } from './app-versus-baseline.js';
import { perRequest, type TcpFigures, type TcpPerfResult } from './tcp-common.js';
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
    requests,
    seconds: round(seconds, 3),
    errors,
    p50_us: durationUs(text, '50%'),
    p99_us: durationUs(text, '99%'),
    cpuUsPerRequest: perRequest(cpuSeconds, requests),
  };
}

function driver(bed: TestBed, seconds: number, scheme: 'http' | 'https', script: string) {
  return async (dst: string, cpu: () => number): Promise<Measured<TcpFigures>> => {
    const cpu0 = cpu();
    const url = `${scheme}://${dst}:${HTTP_PORT}/`;
    const argv = [
      'wrk',
      '-t1',
      `-c${CONNECTIONS}`,
      `-d${seconds}s`,
      '--latency',
      '-s',
      script,
      url,
    ];
    const r = await bed.exec(argv, { timeoutMs: (seconds + 30) * 1000 });
    if (r.code !== 0) {
      throw Object.assign(new Error(`wrk failed: ${r.stderr}`), { code: 'EPEER' });
    }
    const histogram = wrkHistogram(r.stdout);
    const figures = parseWrk(r.stdout, cpu() - cpu0);
    // wrk prints no p99.9; its histogram has it.
    if (histogram.totalCount > 0) {
      figures.p999_us = round(histogram.getValueAtPercentile(99.9) / 1000, 1);
    }
    return { figures, histogram };
  };
}

/**
 * One app module (perf/apps/<app>.js) on the engine and, in the same run, on the kernel, driven
 * by the same wrk: both sides run the same file (the result names it, `app`, on both).
 */
async function appOnBothSides(
  target: PerfTarget,
  mode: string,
  app: string,
  scheme: 'http' | 'https',
): Promise<TcpPerfResult> {
  const bed = requireBed(target, mode);
  const seconds = target.options.seconds;
  const module = `perf/apps/${app}.js`;
  process.env.XDPNET_PERF_PORT = String(HTTP_PORT);
  const scriptDir = fs.mkdtempSync(path.join(os.tmpdir(), 'xdpnet-perf-wrk-'));
  const script = path.join(scriptDir, 'histogram.lua');
  fs.writeFileSync(script, WRK_HISTOGRAM_SCRIPT);
  try {
    const result = await appVersusBaseline(bed, target, {
      mode,
      app: path.join(packageRoot, 'dist', module),
      drive: driver(bed, seconds, scheme, script),
      counter: 'tx',
      baseline: {
        name: `node-${mode}`,
        script: 'app-server',
        port: HTTP_PORT,
        maxSeconds: seconds + 30,
        args: ['--app', module],
      },
    });
    return { ...result, app: module, baseline: { ...result.baseline, app: module } };
  } finally {
    fs.rmSync(scriptDir, { recursive: true, force: true });
  }
}

/** Node's http server with one handler (perf/apps/http-app.ts), engine against kernel. */
export function httpPerf(target: PerfTarget): Promise<TcpPerfResult> {
  return appOnBothSides(target, 'http', 'http-app', 'http');
}

/** An Express app behind Node's http server (perf/apps/express-app.ts), engine against kernel. */
export function expressPerf(target: PerfTarget): Promise<TcpPerfResult> {
  return appOnBothSides(target, 'express', 'express-app', 'http');
}

/**
 * Node's https server, TLS 1.3 with keep-alive (perf/apps/https-app.ts), engine against kernel,
 * with a key and certificate made for the run.
 */
export async function httpsPerf(target: PerfTarget): Promise<TcpPerfResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xdpnet-perf-tls-'));
  try {
    const { key, cert } = selfSignedCertificate(dir, 'xdpnet-perf');
    process.env.XDPNET_PERF_TLS_KEY = key;
    process.env.XDPNET_PERF_TLS_CERT = cert;
    return await appOnBothSides(target, 'https', 'https-app', 'https');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

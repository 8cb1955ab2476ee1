// What the TCP perf modes (tcp-rr, tcp-crr, tcp-stream, http) share: an engine app on the bed,
// the kernel peer's load (perf/peer/tcp_load.py or wrk in the peer namespace), and a Node
// baseline server on the kernel stack at the bed's .3 address, driven by the same load in the
// same run.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BaselineProcess } from '../harness/bed-engine.js';
import { round, type PerfFigures, type PerfResult } from '../harness/perf-result.js';
import { Engine } from '../../ts/runtime/engine.js';
import type { TestBed } from '../../ts/testbed/testbed.js';
import { baselineAddress, type PerfTarget } from './common.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** Compiled examples (dist/examples) and the peer script in the source tree (perf/peer). */
export const examplesDir = path.join(here, '../../examples');
const peerScript = path.join(here, '../../../perf/peer/tcp_load.py');

/** Figures beyond the shared shape that TCP modes add (CPU per request, failed requests). */
export interface TcpFigures extends PerfFigures {
  cpuUsPerRequest?: number;
  errors?: number;
}

export type TcpPerfResult = PerfResult & TcpFigures & { baseline?: TcpFigures & { name: string } };

export function requireBed(target: PerfTarget, mode: string): TestBed {
  if (!target.bed) {
    throw Object.assign(new Error(`${mode} runs on the built-in test bed only`), {
      code: 'EINVAL',
    });
  }
  return target.bed;
}

/** Runs tcp_load.py in the peer namespace and parses its JSON line. */
export async function peerLoad<T>(bed: TestBed, args: string[], timeoutMs: number): Promise<T> {
  const r = await bed.exec(['python3', peerScript, ...args], { timeoutMs });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (r.code !== 0 || !line.startsWith('{')) {
    throw Object.assign(new Error(`peer load ${args[0]} failed: ${r.stderr || r.stdout}`), {
      code: 'EPEER',
    });
  }
  return JSON.parse(line) as T;
}

export function processCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** CPU microseconds per request, when there were any. */
export function perRequest(cpuSeconds: number, requests: number): number | undefined {
  return requests > 0 ? round((cpuSeconds * 1e6) / requests, 2) : undefined;
}

/** Runs `app` on the engine, measures with `drive`, stops it and checks frame accounting. */
export async function onEngine(
  bed: TestBed,
  target: PerfTarget,
  app: string,
  drive: (dst: string, cpu: () => number) => Promise<TcpFigures>,
): Promise<{ figures: TcpFigures; workers: number }> {
  const engine = await Engine.start({
    ifname: bed.engineIf,
    ipv4: [`${bed.engineIpv4}/${bed.ipv4Prefix}`],
    ipv6: [`${bed.engineIpv6}/${bed.ipv6Prefix}`],
    app,
    xdpMode: target.options.xdpMode,
    bindMode: target.options.bindMode,
  });
  const workers = engine.workers; // 0 once stopped
  let figures: TcpFigures;
  try {
    figures = await drive(bed.engineIpv4, processCpuSeconds);
  } catch (err) {
    await engine.stop();
    throw err;
  }
  const audit = await engine.stop();
  if (!audit.ok) {
    throw Object.assign(new Error(`frame accounting failed: ${audit.problems.join('; ')}`), {
      code: 'EFRAMES',
    });
  }
  return { figures, workers };
}

/** Runs the baseline script at the bed's .3 address with the same `drive`. */
export async function onBaseline(
  bed: TestBed,
  script: string,
  port: number,
  maxSeconds: number,
  drive: (dst: string, cpu: () => number) => Promise<TcpFigures>,
): Promise<TcpFigures> {
  const address = baselineAddress(bed);
  await bed.addKernelAddressOnEngineSide(`${address}/24`);
  const server = await BaselineProcess.start(script, [
    '--bind',
    address,
    '--port',
    String(port),
    '--seconds',
    String(maxSeconds),
    '--idle',
    '2',
  ]);
  const figures = await drive(address, () => server.cpuSeconds());
  await server.result((maxSeconds + 10) * 1000);
  return figures;
}

// What the TCP perf modes (tcp-rr, tcp-crr, tcp-stream, http, epoll-echo) share besides
// app-versus-baseline: where the engine apps are, the kernel peer's load (perf/peer/tcp_load.py in
// the peer namespace) and the TCP figures.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { round, type PerfFigures, type PerfResult } from '../harness/perf-result.js';
import type { TestBed } from '../../ts/testbed/testbed.js';

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

/** CPU microseconds per request, when there were any. */
export function perRequest(cpuSeconds: number, requests: number): number | undefined {
  return requests > 0 ? round((cpuSeconds * 1e6) / requests, 2) : undefined;
}

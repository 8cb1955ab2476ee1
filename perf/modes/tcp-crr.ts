// perf tcp-crr: connect, 1-byte request/response, close, repeated by a Python client in the peer
// namespace (bounded by count and --seconds) against examples/tcp-echo on the engine, then
// against Node's net echo server on the kernel stack in the same run.
import path from 'node:path';
import { requireBed, type PerfTarget } from './common.js';
import { appVersusBaseline } from './app-versus-baseline.js';
import { examplesDir, peerLoad, type TcpFigures, type TcpPerfResult } from './tcp-common.js';
import { latencyFigures, type LatencyReport } from './tcp-rr.js';
import type { TestBed } from '../../ts/testbed/testbed.js';

const ECHO_PORT = 7;
/** Below the peer's ephemeral range, which its TIME-WAITs hold for 60 s. */
const MAX_CONNECTIONS = 20_000;

function driver(bed: TestBed, seconds: number) {
  return async (dst: string, cpu: () => number): Promise<TcpFigures> => {
    const cpu0 = cpu();
    const args = ['crr', dst, String(ECHO_PORT), String(MAX_CONNECTIONS), String(seconds)];
    const r = await peerLoad<LatencyReport>(bed, args, (seconds + 60) * 1000);
    return latencyFigures(r, cpu() - cpu0);
  };
}

export async function tcpCrr(target: PerfTarget): Promise<TcpPerfResult> {
  const bed = requireBed(target, 'tcp-crr');
  const seconds = target.options.seconds;
  return appVersusBaseline(bed, target, {
    mode: 'tcp-crr',
    app: path.join(examplesDir, 'tcp-echo.js'),
    drive: driver(bed, seconds),
    // The baseline's own address, so the peer's TIME-WAITs towards the engine do not collide.
    baseline: {
      name: 'node-net-echo',
      script: 'net-echo',
      port: ECHO_PORT,
      maxSeconds: seconds + 60,
    },
  });
}

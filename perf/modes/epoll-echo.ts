// perf epoll-echo: request/response rate of examples/epoll-echo (the Reactor on the sys/epoll
// API) under many concurrent connections, beside Node's `net` echo on the kernel stack driven by
// the same load in the same run. The load is `xdpnet-peer tcp-echo` in the peer namespace (one
// epoll loop): CONNS connections, each with one 64-byte request outstanding at a time (a request
// is answered when all 64 bytes are back); bounded by a request count and by --seconds. Its
// packets are the segments the server received (the peer's tx), its latencies the peer's.
import path from 'node:path';
import { requireBed, type PerfTarget } from './common.js';
import { appVersusBaseline, type Measured } from './app-versus-baseline.js';
import { latencyFigures, type LatencyReport } from './tcp-rr.js';
import {
  examplesDir,
  peerLoad,
  type PeerLoad,
  type TcpFigures,
  type TcpPerfResult,
} from './tcp-common.js';
import type { TestBed } from '../../ts/testbed/testbed.js';

const ECHO_PORT = 7;
const CONNS = 32;
const REQUEST_BYTES = 64;
const MAX_REQUESTS = 5_000_000;

function driver(bed: TestBed, seconds: number) {
  return async (dst: string, cpu: () => number): Promise<Measured<TcpFigures>> => {
    const cpu0 = cpu();
    const load: PeerLoad = {
      load: 'echo',
      dst,
      port: ECHO_PORT,
      conns: CONNS,
      size: REQUEST_BYTES,
      count: MAX_REQUESTS,
      seconds,
    };
    const r = await peerLoad<LatencyReport>(bed, load, (seconds + 30) * 1000);
    return latencyFigures(r, cpu() - cpu0);
  };
}

export async function epollEcho(target: PerfTarget): Promise<TcpPerfResult> {
  const bed = requireBed(target, 'epoll-echo');
  const seconds = target.options.seconds;
  return appVersusBaseline(bed, target, {
    mode: 'epoll-echo',
    app: path.join(examplesDir, 'epoll-echo.js'),
    drive: driver(bed, seconds),
    counter: 'tx',
    baseline: {
      name: 'node-net-echo',
      script: 'net-echo',
      port: ECHO_PORT,
      maxSeconds: seconds + 40,
    },
  });
}

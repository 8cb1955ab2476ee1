// perf tcp-crr: connect, 1-byte request/response, close, repeated by xdpnet-peer tcp-crr in the peer
// namespace (bounded by count and --seconds) against examples/tcp-echo on the engine, then
// against Node's net echo server on the kernel stack in the same run.
import type { PerfTarget } from './common.js';
import type { TcpPerfResult } from './tcp-common.js';
import { echoLatency } from './tcp-rr.js';

/**
 * A bound far past what --seconds allows: the peer reuses its TIME-WAIT ports after a second
 * (the test bed sets tcp_tw_reuse in its namespace), so the run is bounded by time.
 */
const MAX_CONNECTIONS = 1_000_000;

export async function tcpCrr(target: PerfTarget): Promise<TcpPerfResult> {
  // The baseline has its own address, so the peer's TIME-WAITs towards the engine do not collide.
  return echoLatency(target, {
    mode: 'tcp-crr',
    load: 'crr',
    count: MAX_CONNECTIONS,
    loadSlackSeconds: 60,
    baselineSlackSeconds: 60,
  });
}

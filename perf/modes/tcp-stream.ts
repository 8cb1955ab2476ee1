// perf tcp-stream: bulk throughput. The kernel peer (xdpnet-peer tcp-stream) sends for --seconds
// on one connection to a sink (perf/modes/tcp-sink-app on the engine, then Node's net sink on the
// kernel stack), half-closes and waits for the sink's FIN, so every byte counted arrived. Its
// packets are the segments the sink received (the peer's tx), for pps and CPU seconds per Mpkt.
// With --mtu the bed's both ends and the engine run at that MTU (9000: jumbo frames, which the
// engine receives as AF_XDP multi-buffer chains), and Node's sink on the kernel at the same.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { round } from '../harness/perf-result.js';
import { requireBed, type PerfTarget } from './common.js';
import { appVersusBaseline, type Measured } from './app-versus-baseline.js';
import { peerLoad, type TcpFigures, type TcpPerfResult } from './tcp-common.js';
import type { TestBed } from '../../ts/testbed/testbed.js';

const SINK_PORT = 9;
const sinkApp = path.join(path.dirname(fileURLToPath(import.meta.url)), 'tcp-sink-app.js');

interface StreamReport {
  bytes: number;
  seconds: number;
  bps: number;
}

/** The peer's report; packets (the segments it sent) are counted around the drive. */
function driver(bed: TestBed, seconds: number) {
  return async (dst: string): Promise<Measured<TcpFigures>> => {
    const load = { load: 'stream' as const, dst, port: SINK_PORT, seconds };
    const r = await peerLoad<StreamReport>(bed, load, (seconds + 30) * 1000);
    return { figures: { seconds: round(r.seconds, 3), bps: r.bps } };
  };
}

export async function tcpStream(target: PerfTarget): Promise<TcpPerfResult> {
  const bed = requireBed(target, 'tcp-stream');
  const seconds = target.options.seconds;
  const result = await appVersusBaseline(bed, target, {
    mode: 'tcp-stream',
    app: sinkApp,
    drive: driver(bed, seconds),
    counter: 'tx',
    baseline: {
      name: 'node-net-sink',
      script: 'net-sink',
      port: SINK_PORT,
      maxSeconds: seconds + 30,
    },
  });
  // Both sides ran on the bed's link, whose MTU the bed reports.
  return { ...result, mtu: bed.mtu, baseline: { ...result.baseline, mtu: bed.mtu } };
}

// perf tcp-stream: bulk throughput. The kernel peer (xdpnet-peer tcp-stream) sends for --seconds
// on one connection to a sink (perf/modes/tcp-sink-app on the engine, then Node's net sink on the
// kernel stack), half-closes and waits for the sink's FIN, so every byte counted arrived. The peer's interface
// counters give the segments, for CPU seconds per Mpkt.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { packetFigures } from '../harness/perf-result.js';
import { requireBed, type PerfTarget } from './common.js';
import { appVersusBaseline } from './app-versus-baseline.js';
import { peerLoad, type TcpFigures, type TcpPerfResult } from './tcp-common.js';
import type { TestBed } from '../../ts/testbed/testbed.js';

const SINK_PORT = 9;
const sinkApp = path.join(path.dirname(fileURLToPath(import.meta.url)), 'tcp-sink-app.js');

interface StreamReport {
  bytes: number;
  seconds: number;
  bps: number;
}

async function peerTxPackets(bed: TestBed): Promise<number> {
  const file = `/sys/class/net/${bed.peerIf}/statistics/tx_packets`;
  const r = await bed.exec(['cat', file], { timeoutMs: 5000 });
  return Number(r.stdout.trim());
}

function driver(bed: TestBed, seconds: number) {
  return async (dst: string, cpu: () => number): Promise<TcpFigures> => {
    const tx0 = await peerTxPackets(bed);
    const cpu0 = cpu();
    const load = { load: 'stream' as const, dst, port: SINK_PORT, seconds };
    const r = await peerLoad<StreamReport>(bed, load, (seconds + 30) * 1000);
    const used = cpu() - cpu0;
    const segments = (await peerTxPackets(bed)) - tx0;
    return { ...packetFigures(segments, r.bytes, undefined, r.seconds, used), bps: r.bps };
  };
}

export async function tcpStream(target: PerfTarget): Promise<TcpPerfResult> {
  const bed = requireBed(target, 'tcp-stream');
  const seconds = target.options.seconds;
  return appVersusBaseline(bed, target, {
    mode: 'tcp-stream',
    app: sinkApp,
    drive: driver(bed, seconds),
    baseline: {
      name: 'node-net-sink',
      script: 'net-sink',
      port: SINK_PORT,
      maxSeconds: seconds + 30,
    },
  });
}

// perf mem-tcp-stream: bulk throughput of the TCP stack alone. A sends --bytes (default 1 GiB)
// to B over a MemoryPair in one thread (perf/harness/mem-tcp-pair.ts); B checks every byte
// against the pattern. The smoltcp baseline moves the same bytes the same way. The two take
// turns (MEM_TURNS, ABBA order), each moving its share on a fresh connection, and each side's
// figures are the sums over its turns.
//
// Data segments are what A's stack sent while the bytes moved (B sends no data, so A sends no
// bare ACKs; retransmissions, if any, count, as in Linux's data_segs_out). CPU is this thread's.
import { packetFigures, round } from '../harness/perf-result.js';
import type { ProgressLog } from '../harness/progress.js';
import { threadCpuSeconds } from '../../ts/worker/thread-cpu.js';
import { TcpEvent } from '../../ts/socket/tcp/host.js';
import {
  addTurn,
  byteShares,
  inTurns,
  MemTcpPair,
  PATTERN_CHUNK,
  PATTERN_PERIOD,
  runSmoltcpBench,
  streamPattern,
  STALL_MS,
} from '../harness/mem-tcp-pair.js';
import type { PerfTarget } from './common.js';
import type { TcpFigures, TcpPerfResult } from './tcp-common.js';

export const DEFAULT_STREAM_BYTES = 2 ** 30;

export interface StreamFigures extends TcpFigures {
  /** Bytes that arrived, in order and checked. */
  bytes?: number;
  dataSegments?: number;
  cpuNsPerSegment?: number;
}

export type MemStreamResult = TcpPerfResult &
  StreamFigures & { baseline?: StreamFigures & { name: string } };

/** What one turn moved, and what it took: ours measures it here, smoltcp's bench reports it. */
interface StreamTurn {
  bytes: number;
  seconds: number;
  dataSegments: number;
  cpuSeconds: number;
}

const STREAM_SUMS = ['bytes', 'seconds', 'dataSegments', 'cpuSeconds'] as const;

function streamFigures(
  bytes: number,
  segments: number,
  seconds: number,
  cpuSeconds: number,
): StreamFigures {
  return {
    ...packetFigures(segments, bytes, undefined, seconds, cpuSeconds),
    bytes,
    dataSegments: segments,
    cpuNsPerSegment: segments > 0 ? round((cpuSeconds * 1e9) / segments, 1) : undefined,
  };
}

/** Our stack: moves `total` bytes A to B; throws EBADMSG on a byte that differs. */
async function engineStream(total: number, progress: ProgressLog): Promise<StreamTurn> {
  const pair = new MemTcpPair();
  try {
    const { client, server } = await pair.connect();
    const pattern = streamPattern();
    const into = Buffer.allocUnsafe(PATTERN_CHUNK);
    let sent = 0;
    let received = 0;
    const fill = (): void => {
      while (sent < total) {
        const at = sent % PATTERN_PERIOD;
        const len = Math.min(PATTERN_CHUNK, total - sent);
        const n = pair.write(client.conn, pattern, at, len);
        sent += n;
        if (n < len) return; // the rest goes when an ACK frees room (Writable)
      }
    };
    pair.a.app = () => {
      client.events.check(client.conn, 'sender');
      if (client.events.take(TcpEvent.Writable)) fill();
    };
    pair.b.app = () => {
      server.events.check(server.conn, 'receiver');
      if (!server.events.take(TcpEvent.Readable)) return;
      const tcb = server.conn.tcb;
      while (tcb.readable() > 0) {
        const n = pair.read(server.conn, into, 0, PATTERN_CHUNK);
        const at = received % PATTERN_PERIOD;
        if (!into.subarray(0, n).equals(pattern.subarray(at, at + n))) {
          throw Object.assign(new Error(`stream bytes ${received}..${received + n} differ`), {
            code: 'EBADMSG',
          });
        }
        received += n;
      }
    };
    const segments = () => pair.a.tcp.stats.outSegs;
    const phase = { side: 'engine' as const, label: 'xdpnet tcp in memory', packets: segments };
    const segs0 = segments();
    const cpu0 = threadCpuSeconds();
    const t0 = performance.now();
    await progress.during(phase, async () => {
      fill();
      await pair.run(
        () => received >= total,
        () => received,
        'the stream',
      );
    });
    return {
      bytes: received,
      seconds: (performance.now() - t0) / 1000,
      dataSegments: pair.a.tcp.stats.outSegs - segs0,
      cpuSeconds: threadCpuSeconds() - cpu0,
    };
  } finally {
    pair.close();
  }
}

/** The smoltcp baseline moving `total` bytes, with its progress (data segments). */
function smoltcpStream(total: number, progress: ProgressLog): Promise<StreamTurn> {
  // At 1 Gbit/s or better, the baseline is done long before this.
  const timeoutMs = STALL_MS + (total / 1e8) * 1000 * 10;
  let segments = 0;
  const phase = { side: 'baseline' as const, label: 'smoltcp in memory', packets: () => segments };
  return progress.during(phase, async () => {
    const args = ['stream', '--bytes', String(total)];
    const report = await runSmoltcpBench<StreamTurn>(args, timeoutMs, (n) => (segments = n));
    // The last sample has the final count, also when the bench ended before its first line.
    segments = report.dataSegments;
    return report;
  });
}

export async function memTcpStream(target: PerfTarget): Promise<MemStreamResult> {
  const total = target.options.bytes ?? DEFAULT_STREAM_BYTES;
  if (!Number.isSafeInteger(total) || total < 1) {
    throw Object.assign(new Error(`--bytes ${total} must be a positive integer`), {
      code: 'EINVAL',
    });
  }
  const shares = byteShares(total);
  process.stderr.write(
    `mem-tcp-stream: ${total} bytes, ours and smoltcp in ${shares.length} turns each\n`,
  );
  const ours: StreamTurn = { bytes: 0, seconds: 0, dataSegments: 0, cpuSeconds: 0 };
  const base: StreamTurn = { bytes: 0, seconds: 0, dataSegments: 0, cpuSeconds: 0 };
  await inTurns(
    shares.length,
    async (i) => addTurn(ours, await engineStream(shares[i], target.progress), STREAM_SUMS),
    async (i) => addTurn(base, await smoltcpStream(shares[i], target.progress), STREAM_SUMS),
  );
  const figures = (t: StreamTurn): StreamFigures =>
    streamFigures(t.bytes, t.dataSegments, t.seconds, t.cpuSeconds);
  return {
    mode: 'mem-tcp-stream',
    workers: 1,
    ...figures(ours),
    baseline: { name: 'smoltcp', workers: 1, ...figures(base) },
  };
}

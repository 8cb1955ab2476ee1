// perf mem-tcp-rr: request/response rate of the TCP stack alone. On one connection over a
// MemoryPair in one thread (perf/harness/mem-tcp-pair.ts), A sends a 1-byte request, B echoes
// it, A checks it and sends the next, for --seconds. The smoltcp baseline does the same for as
// long. The two take turns (MEM_TURNS, ABBA order), each on a fresh connection, and each side's
// figures and latencies are those of all its turns together. Its packets are the frames both
// ends received.
import { packetsOver, round } from '../harness/perf-result.js';
import type { ProgressLog } from '../harness/progress.js';
import {
  decodeHistogram,
  histogramOfMicros,
  newLatencyHistogram,
  type Histogram,
} from '../harness/latency.js';
import { threadCpuSeconds } from '../../ts/worker/thread-cpu.js';
import { TcpEvent } from '../../ts/socket/tcp/host.js';
import {
  addTurn,
  inTurns,
  MEM_TURNS,
  MemTcpPair,
  runSmoltcpBench,
  STALL_MS,
} from '../harness/mem-tcp-pair.js';
import { perRequest, type TcpFigures, type TcpPerfResult } from './tcp-common.js';
import type { PerfTarget } from './common.js';

/** What one turn did, and what it took. */
interface RrTurn {
  requests: number;
  seconds: number;
  cpuSeconds: number;
  /** Frames both ends received (ours) or sent (smoltcp's bench): the same count. */
  frames: number;
}

interface SmoltcpRr extends RrTurn {
  /** Every round trip: an encoded HdrHistogram in nanoseconds. */
  histogram: string;
}

interface EngineRr extends RrTurn {
  /** Every round trip, in microseconds. */
  latencies: Float64Array;
}

const RR_SUMS = ['requests', 'seconds', 'cpuSeconds', 'frames'] as const;

export type MemRrResult = TcpPerfResult;

/** The `p` quantile of sorted microseconds (nearest rank). */
function quantile(sorted: Float64Array, p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const i = Math.min(sorted.length, Math.max(1, Math.ceil(sorted.length * p)));
  return round(sorted[i - 1], 3);
}

/** Our stack: round trips for `seconds`; throws EBADMSG on a response that is not the request. */
async function engineRr(seconds: number, progress: ProgressLog): Promise<EngineRr> {
  const pair = new MemTcpPair();
  try {
    const { client, server } = await pair.connect();
    const one = new Uint8Array(1);
    // Round-trip times in us; a typed array grown by doubling keeps the loop free of boxing.
    let latencies = new Float64Array(1 << 16);
    let requests = 0;
    let askedAt = 0;
    let outstanding = false;
    let end = Infinity;
    const ask = (): void => {
      askedAt = performance.now();
      outstanding = true;
      one[0] = requests & 0xff;
      if (pair.write(client.conn, one, 0, 1) !== 1) {
        throw Object.assign(new Error('the request did not fit'), { code: 'ENOBUFS' });
      }
    };
    pair.a.app = () => {
      client.events.check(client.conn, 'client');
      if (!client.events.take(TcpEvent.Readable)) return;
      if (pair.read(client.conn, one, 0, 1) !== 1) return;
      if (one[0] !== (requests & 0xff)) {
        throw Object.assign(new Error(`response ${one[0]} to request ${requests}`), {
          code: 'EBADMSG',
        });
      }
      const now = performance.now();
      if (requests === latencies.length) {
        const grown = new Float64Array(2 * latencies.length);
        grown.set(latencies);
        latencies = grown;
      }
      latencies[requests++] = (now - askedAt) * 1000;
      outstanding = false;
      if (now < end) ask();
    };
    pair.b.app = () => {
      server.events.check(server.conn, 'server');
      if (!server.events.take(TcpEvent.Readable)) return;
      while (pair.read(server.conn, one, 0, 1) === 1) {
        if (pair.write(server.conn, one, 0, 1) !== 1) {
          throw Object.assign(new Error('the response did not fit'), { code: 'ENOBUFS' });
        }
      }
    };
    const phase = {
      side: 'engine' as const,
      label: 'xdpnet tcp in memory',
      packets: () => pair.frames,
    };
    const frames0 = pair.frames;
    const cpu0 = threadCpuSeconds();
    const t0 = performance.now();
    end = t0 + seconds * 1000;
    await progress.during(phase, async () => {
      ask();
      // No request goes out after `end`: done when the last one is answered.
      await pair.run(
        () => !outstanding,
        () => requests,
        'the request/response loop',
      );
    });
    return {
      requests,
      seconds: (performance.now() - t0) / 1000,
      cpuSeconds: threadCpuSeconds() - cpu0,
      frames: pair.frames - frames0,
      latencies: latencies.subarray(0, requests),
    };
  } finally {
    pair.close();
  }
}

/** The smoltcp baseline's round trips for `seconds`, with its progress. */
async function smoltcpRr(seconds: number, progress: ProgressLog): Promise<SmoltcpRr> {
  let frames = 0;
  const phase = { side: 'baseline' as const, label: 'smoltcp in memory', packets: () => frames };
  return progress.during(phase, async () => {
    const args = ['rr', '--seconds', String(seconds)];
    const timeoutMs = (seconds + 10) * 1000 + STALL_MS;
    const report = await runSmoltcpBench<SmoltcpRr>(args, timeoutMs, (n) => (frames = n));
    // The last sample has the final count, also when the bench ended before its first line.
    frames = report.frames;
    return report;
  });
}

/** A side's figures over all its turns; p50/p99/p999 from `latencyUs` (a quantile in us). */
function rrFigures(sum: RrTurn, latencyUs: (q: number) => number | undefined): TcpFigures {
  return {
    rps: Math.round(sum.requests / sum.seconds),
    requests: sum.requests,
    seconds: round(sum.seconds, 3),
    cpuUsPerRequest: perRequest(sum.cpuSeconds, sum.requests),
    p50_us: latencyUs(0.5),
    p99_us: latencyUs(0.99),
    p999_us: latencyUs(0.999),
    ...packetsOver(sum.frames, sum.seconds, sum.cpuSeconds),
  };
}

/** Every turn's latencies, sorted, in one array. */
function sortedTogether(parts: Float64Array[]): Float64Array {
  const all = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return all.sort();
}

export async function memTcpRr(target: PerfTarget): Promise<MemRrResult> {
  const seconds = target.options.seconds;
  if (!(seconds > 0)) {
    throw Object.assign(new Error(`--seconds ${seconds} must be positive`), { code: 'EINVAL' });
  }
  process.stderr.write(
    `mem-tcp-rr: 1-byte request/response for ${seconds} s each, ours and smoltcp in ${MEM_TURNS} turns\n`,
  );
  const share = seconds / MEM_TURNS;
  const ours: RrTurn = { requests: 0, seconds: 0, cpuSeconds: 0, frames: 0 };
  const base: RrTurn = { requests: 0, seconds: 0, cpuSeconds: 0, frames: 0 };
  const ourLatencies: Float64Array[] = [];
  const baseHistogram: Histogram = newLatencyHistogram();
  await inTurns(
    MEM_TURNS,
    async () => {
      const turn = await engineRr(share, target.progress);
      addTurn(ours, turn, RR_SUMS);
      ourLatencies.push(turn.latencies);
    },
    async () => {
      const turn = await smoltcpRr(share, target.progress);
      addTurn(base, turn, RR_SUMS);
      baseHistogram.add(decodeHistogram(turn.histogram));
    },
  );
  const sorted = sortedTogether(ourLatencies);
  target.histograms.engine = histogramOfMicros(sorted);
  target.histograms.baseline = baseHistogram;
  const baseUs = (q: number): number | undefined =>
    base.requests > 0 ? round(baseHistogram.getValueAtPercentile(q * 100) / 1000, 3) : undefined;
  return {
    mode: 'mem-tcp-rr',
    workers: 1,
    ...rrFigures(ours, (q) => quantile(sorted, q)),
    baseline: { name: 'smoltcp', workers: 1, ...rrFigures(base, baseUs) },
  };
}

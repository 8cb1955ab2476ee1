// perf mem-tcp-rr: request/response rate of the TCP stack alone. On one connection over a
// MemoryPair in one thread (perf/harness/mem-tcp-pair.ts), A sends a 1-byte request, B echoes
// it, A checks it and sends the next, for --seconds. Then the smoltcp baseline does the same.
// Its packets are the frames both ends received.
import { packetsOver, round } from '../harness/perf-result.js';
import type { ProgressLog } from '../harness/progress.js';
import { decodeHistogram, histogramOfMicros } from '../harness/latency.js';
import { threadCpuSeconds } from '../../ts/worker/thread-cpu.js';
import { TcpEvent } from '../../ts/socket/tcp/host.js';
import { MemTcpPair, runSmoltcpBench, STALL_MS } from '../harness/mem-tcp-pair.js';
import { perRequest, type TcpFigures, type TcpPerfResult } from './tcp-common.js';
import type { PerfTarget } from './common.js';
import type { Measured } from './app-versus-baseline.js';

interface SmoltcpRr {
  requests: number;
  seconds: number;
  cpuSeconds: number;
  rps: number;
  p50_us: number;
  p99_us: number;
  p999_us: number;
  /** Frames both ends sent over the run. */
  frames: number;
  /** Every round trip: an encoded HdrHistogram in nanoseconds. */
  histogram: string;
}

export type MemRrResult = TcpPerfResult;

/** The `p` quantile of sorted microseconds (nearest rank). */
function quantile(sorted: Float64Array, p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const i = Math.min(sorted.length, Math.max(1, Math.ceil(sorted.length * p)));
  return round(sorted[i - 1], 3);
}

/** Our stack: round trips for `seconds`; throws EBADMSG on a response that is not the request. */
async function engineRr(seconds: number, progress: ProgressLog): Promise<Measured<TcpFigures>> {
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
    const elapsed = (performance.now() - t0) / 1000;
    const cpu = threadCpuSeconds() - cpu0;
    const sorted = latencies.subarray(0, requests).sort();
    const figures = {
      rps: Math.round(requests / elapsed),
      requests,
      seconds: round(elapsed, 3),
      cpuUsPerRequest: perRequest(cpu, requests),
      p50_us: quantile(sorted, 0.5),
      p99_us: quantile(sorted, 0.99),
      p999_us: quantile(sorted, 0.999),
      ...packetsOver(pair.frames - frames0, elapsed, cpu),
    };
    return { figures, histogram: histogramOfMicros(sorted) };
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

export async function memTcpRr(target: PerfTarget): Promise<MemRrResult> {
  const seconds = target.options.seconds;
  if (!(seconds > 0)) {
    throw Object.assign(new Error(`--seconds ${seconds} must be positive`), { code: 'EINVAL' });
  }
  process.stderr.write(`mem-tcp-rr: 1-byte request/response for ${seconds} s, ours then smoltcp\n`);
  const ours = await engineRr(seconds, target.progress);
  const base = await smoltcpRr(seconds, target.progress);
  target.histograms.engine = ours.histogram;
  target.histograms.baseline = decodeHistogram(base.histogram);
  return {
    mode: 'mem-tcp-rr',
    workers: 1,
    ...ours.figures,
    baseline: {
      name: 'smoltcp',
      workers: 1,
      rps: Math.round(base.rps),
      requests: base.requests,
      seconds: round(base.seconds, 3),
      cpuUsPerRequest: perRequest(base.cpuSeconds, base.requests),
      p50_us: base.p50_us,
      p99_us: base.p99_us,
      p999_us: base.p999_us,
      ...packetsOver(base.frames, base.seconds, base.cpuSeconds),
    },
  };
}

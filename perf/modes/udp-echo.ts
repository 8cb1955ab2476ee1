// perf udp-echo: the engine runs the UDP echo example (examples/udp-echo) with its full stack (ARP,
// IPv4, UDP); the kernel peer measures ping-pong latency (xdpnet-peer udp-rr: one request in
// flight) and then floods it over several flows, counting the echoes its interface receives. In
// the same run, Node's dgram echo server on the kernel stack gets the same two loads.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runPeerTool, type FloodReport } from '../harness/peer-tool.js';
import { peerRxPackets } from '../harness/peer-counters.js';
import { BaselineProcess, measureCpu } from '../harness/bed-engine.js';
import { packetFigures, type PerfFigures, type PerfResult } from '../harness/perf-result.js';
import { Engine } from '../../ts/runtime/engine.js';
import type { TestBed } from '../../ts/testbed/testbed.js';
import { baselineAddress, type PerfTarget } from './common.js';

const ECHO_PORT = 7;
const FLOWS = 8;
const echoApp = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../examples/udp-echo.js',
);

interface RrReport {
  requests: number;
  replies: number;
  lost: number;
  p50_us: number | null;
  p99_us: number | null;
  p999_us: number | null;
  rps: number;
}

/** Ping-pong latency, then a flood whose echoes the peer's interface counts. */
async function drive(
  bed: TestBed,
  dst: string,
  target: PerfTarget,
  cpuOf: () => number,
): Promise<PerfFigures> {
  const { options } = target;
  const rrSeconds = Math.max(1, Math.min(5, options.seconds));
  const rr = await runPeerTool<RrReport>(
    bed,
    [
      'udp-rr',
      '--dst',
      dst,
      '--port',
      String(ECHO_PORT),
      '--size',
      '64',
      '--seconds',
      String(rrSeconds),
    ],
    (rrSeconds + 10) * 1000,
  );
  const rx0 = await peerRxPackets(bed);
  const cpu0 = cpuOf();
  const args = ['flood', '--dst', dst, '--port', String(ECHO_PORT), '--flows', String(FLOWS)];
  args.push('--src-port-base', '30000', '--size', String(options.size));
  args.push('--seconds', String(options.seconds));
  if (options.rate) args.push('--rate', String(options.rate));
  const load = await runPeerTool<FloodReport>(bed, args, (options.seconds + 10) * 1000);
  await new Promise((r) => setTimeout(r, 300));
  const cpu = cpuOf() - cpu0;
  const echoed = (await peerRxPackets(bed)) - rx0;
  return {
    ...packetFigures(echoed, echoed * (options.size + 42), load.sent, load.seconds, cpu),
    p50_us: rr.p50_us ?? undefined,
    p99_us: rr.p99_us ?? undefined,
    p999_us: rr.p999_us ?? undefined,
    rps: Math.round(rr.rps),
  };
}

function processCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

export async function udpEcho(target: PerfTarget): Promise<PerfResult> {
  const bed = target.bed;
  if (!bed) {
    throw Object.assign(new Error('udp-echo runs on the built-in test bed only'), {
      code: 'EINVAL',
    });
  }
  const engine = await Engine.start({
    ifname: bed.engineIf,
    ipv4: [`${bed.engineIpv4}/${bed.ipv4Prefix}`],
    ipv6: [`${bed.engineIpv6}/${bed.ipv6Prefix}`],
    app: echoApp,
    xdpMode: target.options.xdpMode,
    bindMode: target.options.bindMode,
  });
  const workers = engine.workers;
  let figures: PerfFigures;
  try {
    figures = (await measureCpu(() => drive(bed, bed.engineIpv4, target, processCpuSeconds))).value;
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
  const result: PerfResult = { mode: 'udp-echo', ...figures, workers, xdpMode: 'native' };
  result.baseline = await dgramEchoBaseline(bed, target);
  return result;
}

async function dgramEchoBaseline(
  bed: TestBed,
  target: PerfTarget,
): Promise<PerfResult['baseline']> {
  const address = baselineAddress(bed);
  await bed.addKernelAddressOnEngineSide(`${address}/24`);
  const seconds = target.options.seconds + Math.min(5, target.options.seconds) + 20;
  const echo = await BaselineProcess.start('dgram-echo', [
    '--bind',
    address,
    '--port',
    String(ECHO_PORT),
    '--seconds',
    String(seconds),
    '--idle',
    '3',
  ]);
  const figures = await drive(bed, address, target, () => echo.cpuSeconds());
  await echo.result((seconds + 10) * 1000);
  return { name: 'node-dgram-echo', ...figures };
}

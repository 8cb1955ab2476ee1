// perf txonly: the engine builds UDP datagrams in UMEM and sends them to the kernel peer, which
// counts what arrives; then Node's dgram on the kernel stack sends to the same sink. Progress on
// the bed is what the peer's interface received (on a real NIC, what the workers sent).
import { runPeerTool, type SinkReport } from '../harness/peer-tool.js';
import { BaselineProcess, measureCpu, withEngine } from '../harness/bed-engine.js';
import { bindingFields, packetFigures, type PerfResult } from '../harness/perf-result.js';
import { peerRxPackets } from '../harness/peer-counters.js';
import { assertFramesAccounted } from './rxdrop.js';
import { addBaselineAddress, bindingOptions, LOAD_PORT, type PerfTarget } from './common.js';
import type { TestBed } from '../../ts/testbed/testbed.js';

function startSink(bed: TestBed, seconds: number): Promise<SinkReport> {
  const args = [
    'sink',
    '--bind',
    bed.peerIpv4,
    '--port',
    String(LOAD_PORT),
    '--seconds',
    String(seconds),
  ];
  return runPeerTool<SinkReport>(bed, args, (seconds + 10) * 1000);
}

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function txonly(target: PerfTarget): Promise<PerfResult> {
  const { bed, options } = target;
  const { value: run, audits } = await withEngine(bindingOptions(target), async (engine) => {
    const sink = bed ? startSink(bed, options.seconds + 2) : undefined;
    await settle(500);
    const packets = bed
      ? () => peerRxPackets(bed)
      : async () => (await engine.workers.progress()).txPackets;
    const phase = { side: 'engine' as const, label: 'xdpnet tx', packets };
    return measureCpu(() =>
      target.progress.during(phase, async () => {
        const reports = await engine.workers.run(() => ({
          mode: 'txonly',
          seconds: options.seconds,
          srcMac: engine.binding.info.mac,
          dstMac: bed ? bed.peerMac : (options.dstMac as string),
          srcIp: bed ? bed.engineIpv4 : (options.srcIp as string),
          dstIp: bed ? bed.peerIpv4 : (options.dstIp as string),
          srcPort: 40000,
          dstPort: LOAD_PORT,
          size: options.size,
          rate: options.rate,
        }));
        return { reports, sink: await sink, engine };
      }),
    );
  });
  assertFramesAccounted(audits);
  const { reports, sink, engine } = run.value;
  const sent = reports.reduce((s, r) => s + r.txPackets, 0);
  const seconds = Math.max(...reports.map((r) => r.seconds));
  const delivered = sink ? sink.received : sent;
  const result: PerfResult = {
    mode: 'txonly',
    ...packetFigures(delivered, delivered * (options.size + 42), sent, seconds, run.cpuSeconds),
    workers: reports.length,
    ...bindingFields(engine.binding.facts),
  };
  if (bed) result.baseline = await dgramSendBaseline(bed, target);
  return result;
}

async function dgramSendBaseline(
  bed: TestBed,
  target: PerfTarget,
): Promise<PerfResult['baseline']> {
  const { options } = target;
  const address = await addBaselineAddress(bed);
  const sink = startSink(bed, options.seconds + 2);
  await settle(500);
  const sender = await BaselineProcess.start('dgram-send', [
    '--bind',
    address,
    '--dst',
    bed.peerIpv4,
    '--port',
    String(LOAD_PORT),
    '--size',
    String(options.size),
    '--seconds',
    String(options.seconds),
  ]);
  const phase = {
    side: 'baseline' as const,
    label: 'node dgram tx',
    packets: () => peerRxPackets(bed),
  };
  const sent = await target.progress.during(phase, () =>
    sender.result<{ sent: number; seconds: number; cpuSeconds: number }>(
      (options.seconds + 10) * 1000,
    ),
  );
  const got = await sink;
  const bytes = got.received * (options.size + 42);
  return {
    name: 'node-dgram',
    workers: 1,
    ...packetFigures(got.received, bytes, sent.sent, sent.seconds, sent.cpuSeconds),
  };
}

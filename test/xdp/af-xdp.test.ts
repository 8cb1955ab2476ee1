// The foundation path against the real kernel: frames from the kernel peer land in UMEM through
// AF_XDP and are read in place by a TypeScript worker; frames the worker writes reach the peer.
// Every test checks the frame accounting invariant afterwards.
import assert from 'node:assert/strict';
import { TestBed } from '../../ts/testbed/testbed.js';
import { XdpBinding } from '../../ts/dev/xdp/xdp-binding.js';
import { nodeXdp } from '../../ts/dev/xdp/native.js';
import { PortWorkers } from '../../ts/worker/port-workers.js';
import { runPeerTool, type FloodReport, type SinkReport } from '../../perf/harness/peer-tool.js';
import type { FrameAudit } from '../../ts/dev/xdp/xdp-device.js';
import { bindingAddresses, closeWorkersAndBed } from '../support/workers-on-bed.js';

const PORT = 9;
// The largest datagrams that fit a 1500-byte MTU unfragmented: 1472 bytes over IPv4, 1452 over
// IPv6 (its header is 20 bytes longer). Reassembly is the IP layer's job, not this path's.
const SIZES = { IPv4: '18,64,200,512,1000,1400,1472', IPv6: '18,64,200,512,1000,1400,1452' };

function assertAccounted(audits: FrameAudit[]): void {
  for (const a of audits) assert.ok(a.ok, `frame accounting: ${a.problems.join('; ')}`);
}

describe('AF_XDP data path on the test bed (kernel peer)', function () {
  let bed: TestBed;
  let binding: XdpBinding;
  let workers: PortWorkers;

  beforeEach(async function () {
    bed = await TestBed.up({ staticNeighbours: true });
    binding = XdpBinding.open(bindingAddresses(bed));
    workers = await PortWorkers.start(binding);
  });

  afterEach(async function () {
    await closeWorkersAndBed(workers, binding, bed);
  });

  for (const family of ['IPv4', 'IPv6'] as const) {
    it(`receives 10,000 ${family} datagrams of 18-${SIZES[family].slice(-4)} bytes intact, read in place by the worker`, async function () {
      const dst = family === 'IPv4' ? bed.engineIpv4 : bed.engineIpv6;
      const loop = workers.run(() => ({ mode: 'rxcheck', expect: 10000, port: PORT, seconds: 30 }));
      const sent = await runPeerTool<FloodReport>(
        bed,
        [
          'flood',
          '--dst',
          dst,
          '--port',
          String(PORT),
          '--sizes',
          SIZES[family],
          '--count',
          '10000',
          '--rate',
          '20000',
          '--seconds',
          '20',
        ],
        30000,
      );
      const [report] = await loop;
      assert.equal(sent.sent, 10000);
      assert.equal(report.loop.notUdp, 0);
      assert.equal(report.loop.corrupt, 0);
      assert.equal(report.loop.duplicates, 0);
      assert.equal(report.loop.intact, 10000, `worker saw ${report.loop.intact} of 10000 intact`);
      assert.ok(binding.sockets[0].stats().rxPackets >= 10000);
      assertAccounted(await workers.audit());
    });
  }

  it('transmits 10,000 frames built in UMEM and the kernel peer receives every one intact', async function () {
    // A receive buffer that holds the whole run, so a sink that is off the CPU for a while (two
    // cores shared with the engine) loses nothing in its own socket queue.
    const sink = runPeerTool<SinkReport & { distinct: number; kernelDrops: number }>(
      bed,
      [
        'sink',
        '--rcvbuf',
        String(64 << 20),
        '--bind',
        bed.peerIpv4,
        '--port',
        String(PORT),
        '--count',
        '10000',
        '--seconds',
        '20',
        '--verify',
      ],
      30000,
    );
    await new Promise((r) => setTimeout(r, 300));
    const [report] = await workers.run(() => ({
      mode: 'txonly',
      srcMac: binding.info.mac,
      dstMac: bed.peerMac,
      srcIp: bed.engineIpv4,
      dstIp: bed.peerIpv4,
      srcPort: 40000,
      dstPort: PORT,
      size: 512,
      count: 10000,
      rate: 10000,
      seconds: 20,
    }));
    const got = await sink;
    assert.equal(report.txPackets, 10000);
    assert.equal(got.corrupt, 0);
    assert.equal(got.duplicates, 0);
    assert.equal(got.kernelDrops, 0, 'the sink socket overflowed');
    assert.equal(got.received, 10000);
    assert.equal(got.distinct, 10000);
    assertAccounted(await workers.audit());
  });

  it('passes frames that are not for the engine to the kernel while the engine runs', async function () {
    const loop = workers.run(() => ({ mode: 'rxdrop', seconds: 20 }));
    const kernelAddress = bed.engineIpv4.replace(/\.\d+$/, '.3');
    await bed.addKernelAddressOnEngineSide(`${kernelAddress}/24`);
    const ping = await bed.exec(['ping', '-c', '3', '-i', '0.2', '-W', '2', kernelAddress], {
      timeoutMs: 10000,
    });
    await workers.stop();
    const [report] = await loop;
    assert.equal(ping.code, 0, `ping to the kernel's own address failed: ${ping.stdout}`);
    assert.match(ping.stdout, /3 received/);
    // The kernel's ARP and ICMP went to the kernel, not to the engine.
    assert.equal(report.rxPackets, 0);
    assertAccounted(await workers.audit());
  });

  it('reports interface facts that match the kernel', async function () {
    const info = nodeXdp().interfaceInfo(bed.engineIf);
    const { stdout } = await bed.exec(['ip', '-j', 'link', 'show', bed.peerIf], {
      timeoutMs: 5000,
    });
    const peer = JSON.parse(stdout)[0] as { address: string; mtu: number };
    assert.equal(info.name, bed.engineIf);
    assert.equal(info.mac, bed.engineMac);
    assert.equal(info.mtu, 1500);
    assert.equal(info.driver, 'veth');
    assert.equal(info.up, true);
    assert.equal(peer.address, bed.peerMac);
    assert.ok(info.ifindex > 0);
    assert.ok(Math.max(info.channels.rx, info.channels.combined) >= 1);
  });

  it('refuses a second engine on the same interface and queue at once, with a clear error', function () {
    const t0 = performance.now();
    assert.throws(
      () => XdpBinding.open({ ifname: bed.engineIf, ipv4: [bed.engineIpv4] }),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, 'EBUSY');
        assert.match(err.message, /XDP program|already/i);
        return true;
      },
    );
    assert.throws(
      () =>
        nodeXdp().XskSocket.create(
          new (nodeXdp().Umem)(new Uint8Array(new SharedArrayBuffer(2048 * 64 + 4096)), {
            frameSize: 2048,
            frameCount: 64,
          }),
          { ifname: bed.engineIf, queue: 0, mode: 'copy' },
        ),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, 'EBUSY');
        assert.match(err.message, /queue 0/);
        return true;
      },
    );
    assert.ok(performance.now() - t0 < 5000);
  });
});

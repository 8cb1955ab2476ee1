// One worker's device over several queues (MultiQueueDevice) on a 4-queue test bed, the kernel
// as the peer: it reads what arrives on every queue, parks in one poll(2) that a packet on any
// queue ends, sends each frame on the queue that owns it, and every frame stays accounted for.
import assert from 'node:assert/strict';
import { TestBed } from '../../ts/testbed/testbed.js';
import { XdpBinding } from '../../ts/dev/xdp/xdp-binding.js';
import { MultiQueueDevice } from '../../ts/dev/xdp/multi-queue-device.js';
import { Ipv4Header, parseIpv4Address, parseMac } from '../../ts/wire/index.js';
import { UDP4_HEADERS, writeUdp4Headers } from '../../ts/worker/loops/udp-frame.js';
import { flood } from '../support/peer-flows.js';
import { bindingAddresses } from '../support/workers-on-bed.js';

const QUEUES = 4;

// Sends one datagram to argv[1]:9 from source port argv[2], after a pause that lets the engine
// side park first.
const PY_SEND_LATER = `
import socket, sys, time
time.sleep(0.3)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", int(sys.argv[2])))
s.sendto(b"wake", (sys.argv[1], 9))
`;

// Receives argv[2] datagrams on port 9 and prints how many came.
const PY_SINK = `
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 9))
s.settimeout(10)
print("ready", flush=True)
n = 0
try:
    while n < int(sys.argv[2]):
        s.recvfrom(2048); n += 1
except socket.timeout:
    pass
print(n, flush=True)
`;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

describe('MultiQueueDevice: one worker on every queue of a 4-queue test bed', function () {
  let bed: TestBed;
  let binding: XdpBinding;
  let device: MultiQueueDevice;

  beforeEach(async function () {
    bed = await TestBed.up({ queues: QUEUES, staticNeighbours: true });
    binding = XdpBinding.open(bindingAddresses(bed));
    assert.equal(binding.sockets.length, QUEUES, 'the bed has four queues, all bound');
    device = new MultiQueueDevice(binding.workerQueues(0, 1), 64);
  });

  afterEach(async function () {
    try {
      device?.close();
      binding?.close();
    } finally {
      await bed?.down();
    }
  });

  /** Receives and releases until `count` packets came (or 10 s passed); returns how many. */
  async function drain(count: number): Promise<number> {
    let got = 0;
    for (let i = 0; i < 1000 && got < count; i++) {
      const n = device.receive();
      for (let j = 0; j < n; j++) device.release(device.rxDesc[2 * j]);
      device.refill();
      got += n;
      if (n === 0) await sleep(10);
    }
    return got;
  }

  it('receives a flood over 1,000 flows from all four queues, every frame accounted for', async function () {
    const COUNT = 8000;
    const sent = await flood(bed, COUNT, 10000);
    assert.equal(sent.sent, COUNT);
    assert.equal(await drain(COUNT), COUNT);
    const perQueue = device.queues.map((q) => q.counters.rxPackets);
    assert.ok(
      perQueue.every((n) => n > COUNT / QUEUES / 4),
      `packets per queue ${perQueue}`,
    );
    const audit = device.audit();
    assert.ok(audit.ok, audit.problems.join('; '));
    assert.equal(audit.frames, binding.umemLayout.frameCount);
  });

  it('wakes from one poll(2) over every socket when a packet lands on any queue', async function () {
    // Each source port is its own flow, which veth puts on a queue by the flow's hash: until a
    // packet came on a queue other than 0, the first one (that its own socket's poll would see).
    const woken = new Set<number>();
    for (let port = 41000; port < 41032; port++) {
      const before = device.queues.map((q) => q.counters.rxPackets);
      const sender = bed.spawn(['python3', '-c', PY_SEND_LATER, bed.engineIpv4, String(port)]);
      const exited = new Promise((r) => sender.on('exit', r));
      const t0 = performance.now();
      const ready = device.waitReadable(5000);
      const waited = performance.now() - t0;
      await exited;
      assert.ok(ready && waited < 4000, `woke ${ready} after ${waited} ms`);
      assert.equal(await drain(1), 1);
      const queue = device.queues.findIndex((q, i) => q.counters.rxPackets > before[i]);
      woken.add(queue);
      if (queue > 0) break;
    }
    assert.ok(
      [...woken].some((q) => q > 0),
      `packets came only on queues ${[...woken]}`,
    );
    assert.ok(device.audit().ok, device.audit().problems.join('; '));
  });

  it('sends each frame on the queue that owns it, taking frames from every queue in turn', async function () {
    const COUNT = 2 * QUEUES;
    const sink = bed.spawn(['python3', '-c', PY_SINK, bed.peerIpv4, String(COUNT)]);
    let out = '';
    sink.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise((r) => sink.on('exit', r));
    while (!out.includes('ready')) await sleep(20);
    const flow = {
      srcMac: parseMac(binding.info.mac),
      dstMac: parseMac(bed.peerMac),
      srcIp: parseIpv4Address(bed.engineIpv4),
      dstIp: parseIpv4Address(bed.peerIpv4),
      srcPort: 40000,
      dstPort: 9,
    };
    const ip = new Ipv4Header();
    for (let i = 0; i < COUNT; i++) {
      const addr = device.allocate() + device.txDataOffset;
      const len = writeUdp4Headers(device.bytes, device.umemOffset + addr, flow, ip, 16);
      device.bytes.fill(i, device.umemOffset + addr + UDP4_HEADERS, device.umemOffset + addr + len);
      assert.ok(device.send(addr, len));
    }
    device.flush();
    await exited;
    assert.equal(out.trim().split('\n')[1], String(COUNT));
    assert.deepEqual(
      device.queues.map((q) => q.counters.txPackets),
      new Array<number>(QUEUES).fill(2),
    );
    for (let i = 0; i < 100 && device.txInFlight > 0; i++) {
      device.reap();
      await sleep(10);
    }
    const audit = device.audit();
    assert.ok(audit.ok, audit.problems.join('; '));
  });
});

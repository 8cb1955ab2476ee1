// Flow steering over the memory device, in one thread, no root: the two ends of a memory pair
// play the two queues of a 2-worker engine (what one end sends arrives on the other), each
// wrapped in a SteeredDevice. Packets of every flow arrive on both queues; each must reach the
// worker the Toeplitz hash and RETA name, exactly once, and every frame must end up home.
import assert from 'node:assert/strict';
import { MemoryPair } from '../../ts/dev/memory/memory-pair.js';
import type { MemoryPort } from '../../ts/dev/memory/memory-port.js';
import {
  createSteeringLayout,
  FlowOwner,
  SteeredDevice,
  type SteeringLayout,
} from '../../ts/dev/steering/index.js';
import { DEFAULT_RSS_KEY } from '../../ts/rss/index.js';

const PEER = [198, 18, 0, 2];
const ENGINE = [198, 18, 0, 1];
const DST_PORT = 9;
const ETHERTYPE_ARP = 0x0806;

/** An IPv4/UDP frame of flow `srcPort` carrying `seq` at payload byte 0. Returns its length. */
function writeUdp4(buf: Uint8Array, off: number, srcPort: number, seq: number, frag = 0): number {
  const len = 14 + 20 + 8 + 8;
  buf.fill(0, off, off + len);
  buf[off + 12] = 0x08;
  buf[off + 14] = 0x45;
  buf[off + 16] = 0;
  buf[off + 17] = 20 + 8 + 8;
  buf[off + 20] = frag >>> 8;
  buf[off + 21] = frag & 0xff;
  buf[off + 22] = 64;
  buf[off + 23] = 17;
  buf.set(PEER, off + 26);
  buf.set(ENGINE, off + 30);
  const v = new DataView(buf.buffer, buf.byteOffset);
  v.setUint16(off + 34, srcPort);
  v.setUint16(off + 36, DST_PORT);
  v.setUint16(off + 38, 16);
  v.setUint32(off + 42, seq);
  return len;
}

/** An IPv6 frame: UDP from `srcPort`, or ICMPv6 of `icmpType` when srcPort < 0. */
function writeIpv6(buf: Uint8Array, off: number, srcPort: number, icmpType = 135): number {
  const len = 14 + 40 + 8;
  buf.fill(0, off, off + len);
  buf[off + 12] = 0x86;
  buf[off + 13] = 0xdd;
  buf[off + 14] = 0x60;
  buf[off + 19] = 8;
  buf[off + 20] = srcPort >= 0 ? 17 : 58;
  buf[off + 21] = 255;
  buf.set([0x20, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2], off + 22);
  buf.set([0x20, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], off + 38);
  if (srcPort >= 0) {
    buf[off + 54] = srcPort >>> 8;
    buf[off + 55] = srcPort & 0xff;
    buf[off + 57] = DST_PORT;
  } else {
    buf[off + 54] = icmpType;
  }
  return len;
}

function writeArp(buf: Uint8Array, off: number): number {
  buf.fill(0, off, off + 42);
  buf[off + 12] = ETHERTYPE_ARP >>> 8;
  buf[off + 13] = ETHERTYPE_ARP & 0xff;
  return 42;
}

function tuple(srcPort: number): Uint8Array {
  return Uint8Array.from([...PEER, ...ENGINE, srcPort >>> 8, srcPort & 0xff, 0, DST_PORT]);
}

/** Sends one frame written by `write` out of `port` (it arrives on the other end). */
function inject(port: MemoryPort, write: (buf: Uint8Array, off: number) => number): void {
  const frame = port.allocate();
  if (frame < 0) throw new Error('no free frame');
  const addr = frame + port.txDataOffset;
  assert.ok(port.send(addr, write(port.bytes, addr)));
}

interface Engine {
  a: MemoryPort;
  b: MemoryPort;
  config: ReturnType<typeof MemoryPair.open>['config'];
  layout: SteeringLayout;
  devices: SteeredDevice[];
}

function openEngine(batch = 32): Engine {
  const { a, b, config } = MemoryPair.open({ framesPerPort: 2048, batch, ringSize: 4096 });
  const layout = createSteeringLayout({ workers: 2, frames: 4096 });
  return {
    a,
    b,
    config,
    layout,
    devices: [new SteeredDevice(a, layout, 0), new SteeredDevice(b, layout, 1)],
  };
}

/** Settles every device until nothing moves, then checks steering's and the pair's accounting. */
function settleAndAudit(e: Engine): void {
  for (let round = 0; round < 100; round++) {
    let moved = 0;
    for (const d of e.devices) moved += d.settle();
    if (moved === 0) break;
  }
  for (const d of e.devices) {
    const audit = d.audit();
    assert.ok(audit.ok, `worker ${d.worker}: ${audit.problems.join('; ')}`);
  }
  for (const port of [e.a, e.b]) {
    const audit = port.audit();
    assert.ok(audit.ok, `port ${port.side}: ${audit.problems.join('; ')}`);
  }
  const whole = MemoryPair.audit(e.config);
  assert.ok(whole.ok, `pair: ${whole.problems.join('; ')}`);
  assert.equal(whole.a.free + whole.b.free, whole.frames, 'every frame is home and free');
}

/** Runs the workers in turn, calling `each(worker, addr, len)` for every packet, then releasing. */
function pump(e: Engine, each: (worker: number, addr: number, len: number) => void): number {
  let total = 0;
  for (let pass = 0; pass < 10000; pass++) {
    let n = e.a.flush() + e.b.flush();
    for (const d of e.devices) {
      const got = d.receive();
      for (let i = 0; i < got; i++) {
        each(d.worker, d.rxDesc[2 * i], d.rxDesc[2 * i + 1]);
        d.release(d.rxDesc[2 * i]);
      }
      d.refill();
      n += got;
      total += got;
    }
    if (n === 0) return total;
  }
  return total;
}

describe('flow steering over the memory device (queues >= workers)', function () {
  it('delivers each of 1,000 flows, arriving on both queues, to the worker the hash names, every packet once', function () {
    const e = openEngine();
    const owner = new FlowOwner(2, DEFAULT_RSS_KEY, 128);
    const FLOWS = 1000;
    const ROUNDS = 6;
    const seen = [new Uint32Array(65536), new Uint32Array(65536)];
    const seqs = new Uint8Array(FLOWS * ROUNDS);
    let seq = 0;
    for (let r = 0; r < ROUNDS; r++) {
      for (let f = 0; f < FLOWS; f += 100) {
        for (let i = f; i < f + 100; i++) {
          const s = seq++;
          // Alternate queues per packet: every flow shows up on both workers' queues.
          inject((s & 1) === 0 ? e.a : e.b, (buf, off) => writeUdp4(buf, off, 20000 + i, s));
        }
        pump(e, (w, addr, len) => {
          assert.equal(len, 50);
          seen[w][e.a.view.getUint16(addr + 34)]++;
          seqs[e.a.view.getUint32(addr + 42)]++;
        });
      }
    }
    for (let p = 20000; p < 20000 + FLOWS; p++) {
      const workers = [0, 1].filter((w) => seen[w][p] > 0);
      assert.deepEqual(workers, [owner.ownerOfTuple(tuple(p))], `flow from port ${p}`);
      assert.equal(seen[workers[0]][p], ROUNDS);
    }
    assert.equal(seqs.filter((c) => c !== 1).length, 0, 'every packet exactly once');
    const [c0, c1] = e.devices.map((d) => d.counters);
    assert.ok(
      c0.forwarded > 1000 && c1.forwarded > 1000,
      `forwarded ${c0.forwarded}/${c1.forwarded}`,
    );
    assert.equal(c0.forwarded, c1.adopted);
    assert.equal(c1.forwarded, c0.adopted);
    assert.equal(c0.kept + c0.forwarded + c1.kept + c1.forwarded, FLOWS * ROUNDS);
    assert.equal(c0.rxPackets + c1.rxPackets, FLOWS * ROUNDS);
    assert.equal(c0.forwardDrops + c1.forwardDrops, 0);
    settleAndAudit(e);
    assert.equal(e.devices[0].counters.reclaimed, c0.forwarded, 'every lent frame came home');
  });

  it('gives ARP, neighbour discovery and non-IP frames to worker 0, fragments and IPv6 flows by hash', function () {
    const e = openEngine();
    const owner = e.devices[0].owner;
    const got: number[][] = [[], []];
    const kinds: ((buf: Uint8Array, off: number) => number)[] = [
      (buf, off) => writeArp(buf, off),
      (buf, off) => writeIpv6(buf, off, -1, 135),
      (buf, off) => writeIpv6(buf, off, -1, 136),
    ];
    for (const port of [e.a, e.b]) for (const write of kinds) inject(port, write);
    pump(e, (w, addr) => got[w].push(e.a.view.getUint16(addr + 12)));
    assert.deepEqual(got[1], [], 'worker 1 got control frames');
    assert.equal(got[0].length, 6);
    // A fragment (MF set) hashes on the addresses only, so all fragments of a datagram meet.
    const frameBuf = new Uint8Array(128);
    const addrOnly = owner.steering.reta.ownerOf(
      owner.hasher.hash(Uint8Array.from([...PEER, ...ENGINE])),
    );
    for (let p = 1000; p < 1100; p++) {
      const len = writeUdp4(frameBuf, 0, p, 0, 0x2000);
      assert.equal(owner.ownerOf(frameBuf, 0, len), addrOnly);
    }
    // IPv6 UDP: the 36-byte tuple.
    for (let p = 1000; p < 1100; p++) {
      const len = writeIpv6(frameBuf, 0, p);
      const t = frameBuf.slice(22, 54);
      const ipv6Tuple = Uint8Array.from([...t, p >>> 8, p & 0xff, 0, DST_PORT]);
      assert.equal(owner.ownerOf(frameBuf, 0, len), owner.ownerOfTuple(ipv6Tuple));
    }
    settleAndAudit(e);
  });

  it('follows a flow pin over the RETA on every worker', function () {
    const e = openEngine();
    const port = [...Array(200).keys()]
      .map((i) => 30000 + i)
      .find((p) => {
        return e.devices[0].owner.ownerOfTuple(tuple(p)) === 0;
      })!;
    for (const d of e.devices) {
      const t = tuple(port);
      assert.ok(d.owner.steering.pin(d.owner.hasher.hash(t), t, 1));
    }
    const workers = new Set<number>();
    for (let s = 0; s < 20; s++)
      inject(s & 1 ? e.a : e.b, (buf, off) => writeUdp4(buf, off, port, s));
    assert.equal(
      pump(e, (w) => workers.add(w)),
      20,
    );
    assert.deepEqual([...workers], [1]);
    settleAndAudit(e);
  });

  it('sends a forwarded frame through the worker that lent it, zero copy, and accounts for it', function () {
    const e = openEngine();
    // Flows owned by worker 1, arriving on worker 0's queue (sent from port b).
    const ports = [...Array(400).keys()]
      .map((i) => 40000 + i)
      .filter((p) => e.devices[0].owner.ownerOfTuple(tuple(p)) === 1)
      .slice(0, 100);
    ports.forEach((p, s) => inject(e.b, (buf, off) => writeUdp4(buf, off, p, s)));
    e.b.flush();
    const w1 = e.devices[1];
    const w0 = e.devices[0];
    assert.equal(w0.receive(), 0, 'worker 0 owns none of these');
    assert.equal(w0.counters.forwarded, 32);
    // Worker 1 echoes each packet once, in place (l2fwd style); worker 0 puts the echo on its
    // own queue (port a), whose wire leads to port b: worker 1's queue, where it comes back.
    const echoed = new Uint8Array(ports.length);
    const back: number[] = [];
    for (let pass = 0; pass < 50 && back.length < ports.length; pass++) {
      w0.receive();
      w0.reap();
      const n = w1.receive();
      for (let i = 0; i < n; i++) {
        const addr = w1.rxDesc[2 * i];
        const s = e.a.view.getUint32(addr + 42);
        if (echoed[s]) {
          back.push(s);
          w1.release(addr);
        } else {
          echoed[s] = 1;
          assert.ok(w1.send(addr, w1.rxDesc[2 * i + 1]));
        }
      }
      w1.flush();
      w1.refill();
    }
    assert.equal(w1.counters.sentHome, ports.length);
    assert.equal(w0.counters.sentForPeers, ports.length);
    assert.deepEqual(
      back.sort((x, y) => x - y),
      ports.map((_, s) => s),
    );
    assert.equal(w1.counters.adopted, ports.length);
    assert.equal(w1.counters.kept, ports.length, 'the echoes arrived on worker 1 own queue');
    settleAndAudit(e);
  });

  it('refuses a forwarded frame released twice', function () {
    const e = openEngine();
    const port = [...Array(100).keys()]
      .map((i) => 50000 + i)
      .find((p) => e.devices[0].owner.ownerOfTuple(tuple(p)) === 1)!;
    inject(e.b, (buf, off) => writeUdp4(buf, off, port, 7));
    e.b.flush();
    const [w0, w1] = e.devices;
    w0.receive();
    assert.equal(w1.receive(), 1);
    const addr = w1.rxDesc[0];
    w1.release(addr);
    assert.throws(
      () => w1.release(addr),
      (err: Error & { code?: string }) => err.code === 'EINVAL',
    );
  });
});

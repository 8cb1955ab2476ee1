// Multi-buffer frames at the interface (AF_XDP with XDP_USE_SG; Documentation/networking/
// af_xdp.rst, "Multi-Buffer Support"): a received packet longer than one frame comes as a chain
// of descriptors, each but the last with RX_CONTINUED, which the interface gathers into a run of
// contiguous frames and handles like any frame; a packet longer than one frame is built in such a
// run and sent whole. Chains the interface cannot take are dropped by reason, and every buffer of
// a chain goes back to the device exactly once whatever happens.
import assert from 'node:assert/strict';
import type { FrameDevice } from '../../ts/dev/frame-device.js';
import { RX_CONTINUED } from '../../ts/dev/xdp/umem-layout.js';
import { Interface } from '../../ts/iface/interface.js';
import { SharedNeighbourTable } from '../../ts/iface/neighbour-table.js';
import { VirtualClock } from '../../ts/dev/memory/clock.js';
import {
  checksum,
  DropReason,
  EtherType,
  Icmpv4Type,
  IpProtocol,
  parseEthernet,
  parseIpv4,
  EthernetHeader,
  Ipv4Header,
} from '../../ts/wire/index.js';
import { BASE_CONFIG, RecordingTransport } from './bench.js';
import {
  ENGINE_IP4,
  ENGINE_MAC,
  eth,
  icmp4,
  ip4,
  ipv4,
  pattern,
  PEER_IP4,
  PEER_MAC,
  udp4,
} from './packets.js';

const FRAME = 4096;
/** Where the kernel puts RX data in copy mode: XDP_PACKET_HEADROOM past the frame start. */
const DATA_OFFSET = 256;
const ROOM = FRAME - DATA_OFFSET;
const SLAB_FRAMES = 3;

/**
 * A multi-buffer device in plain memory: single frames in a free stack, slabs of three contiguous
 * frames for large packets, chains injected into the next receive(), sent packets copied out. It
 * keeps books of what the stack holds and throws on a release of something it does not hold.
 */
class ChainDevice implements FrameDevice {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly umemOffset = 0;
  readonly frameSize = FRAME;
  readonly txDataOffset = DATA_OFFSET;
  readonly batch = 64;
  readonly rxDesc = new Uint32Array(2 * (64 + 18));
  readonly largeTxRoom = SLAB_FRAMES * FRAME - DATA_OFFSET;
  readonly sent: Uint8Array[] = [];
  /** Frames (base addresses) the stack holds: received buffers and allocated frames. */
  readonly held = new Set<number>();
  /** Slabs (base addresses) the stack holds. */
  readonly heldSlabs = new Set<number>();
  private readonly free: number[] = [];
  private readonly slabs: number[] = [];
  private readonly slabFirst: number;
  private pending: number[] = [];

  constructor(frames = 64, slabs = 4) {
    const memory = new SharedArrayBuffer((frames + slabs * SLAB_FRAMES) * FRAME);
    this.bytes = new Uint8Array(memory);
    this.view = new DataView(memory);
    for (let i = frames - 1; i >= 0; i--) this.free.push(i * FRAME);
    this.slabFirst = frames * FRAME;
    for (let s = slabs - 1; s >= 0; s--) this.slabs.push(this.slabFirst + s * SLAB_FRAMES * FRAME);
  }

  /**
   * Queues `packet` for the next receive() as the kernel would give it: cut into buffers of the
   * frame's room (or `pieces` of the given sizes), RX_CONTINUED on all but the last.
   */
  inject(packet: Uint8Array, pieces?: number[]): void {
    const sizes = pieces ?? [];
    if (sizes.length === 0) {
      for (let o = 0; o < packet.length; o += ROOM) sizes.push(Math.min(ROOM, packet.length - o));
    }
    let at = 0;
    sizes.forEach((len, k) => {
      const base = this.free.pop();
      assert.ok(base !== undefined, 'the test device ran out of frames');
      this.bytes.set(packet.subarray(at, at + len), base + DATA_OFFSET);
      at += len;
      this.pending.push(base + DATA_OFFSET, k < sizes.length - 1 ? len | RX_CONTINUED : len);
    });
  }

  /** Marks the last queued buffer as continued: the batch then ends inside a chain. */
  cutLast(): void {
    this.pending[this.pending.length - 1] |= RX_CONTINUED;
  }

  receive(): number {
    const n = this.pending.length / 2;
    this.rxDesc.set(this.pending);
    for (let i = 0; i < n; i++) this.held.add(this.rxDesc[2 * i] & ~(FRAME - 1));
    this.pending = [];
    return n;
  }

  release(addr: number): void {
    const base = addr & ~(FRAME - 1);
    if (base >= this.slabFirst) {
      assert.ok(this.heldSlabs.delete(base), `slab ${base} released but not held`);
      this.slabs.push(base);
      return;
    }
    assert.ok(this.held.delete(base), `frame ${base} released but not held`);
    this.free.push(base);
  }

  allocate(): number {
    const base = this.free.pop();
    if (base === undefined) return -1;
    this.held.add(base);
    return base;
  }

  allocateLarge(): number {
    const base = this.slabs.pop();
    if (base === undefined) return -1;
    this.heldSlabs.add(base);
    return base;
  }

  send(addr: number, len: number): boolean {
    const base = addr & ~(FRAME - 1);
    const room = base >= this.slabFirst ? this.largeTxRoom : ROOM;
    assert.ok(addr - base - DATA_OFFSET + len <= room, `a ${len}-byte send overruns its frames`);
    this.sent.push(this.bytes.slice(addr, addr + len));
    this.release(addr); // sent and completed at once
    return true;
  }

  flush(): number {
    return 0;
  }

  reap(): number {
    return 0;
  }

  refill(): number {
    return 0;
  }
}

function open(mtu: number): { iface: Interface; dev: ChainDevice; udp: RecordingTransport } {
  const dev = new ChainDevice();
  const clock = VirtualClock.create(1_000_000);
  const iface = new Interface(
    dev,
    { ...BASE_CONFIG, mtu, staticNeighbours: [{ ip: PEER_IP4, mac: PEER_MAC }] },
    { neighbours: SharedNeighbourTable.create(64), clock },
  );
  const udp = new RecordingTransport();
  iface.registerTransport(17, udp);
  return { iface, dev, udp };
}

function frame4(proto: number, l4: Uint8Array): Uint8Array {
  return eth(ENGINE_MAC, PEER_MAC, EtherType.Ipv4, ipv4(PEER_IP4, ENGINE_IP4, proto, l4));
}

/** Nothing is left with the stack: every buffer and slab went back. */
function assertAllReturned(dev: ChainDevice): void {
  assert.equal(dev.held.size, 0, `frames still held: ${[...dev.held].join(', ')}`);
  assert.equal(dev.heldSlabs.size, 0, `slabs still held: ${[...dev.heldSlabs].join(', ')}`);
}

describe('iface: multi-buffer frames (AF_XDP chains)', function () {
  it('gathers a 3-buffer UDP datagram and delivers it whole, checksum verified by the stack', function () {
    const { iface, dev, udp } = open(9000);
    const data = pattern(8900, 3);
    const frame = frame4(IpProtocol.Udp, udp4(PEER_IP4, ENGINE_IP4, 1234, 53, data));
    assert.ok(frame.length > 2 * ROOM, 'the frame spans three buffers');
    dev.inject(frame);
    assert.equal(iface.poll(), 3);
    assert.equal(udp.datagrams.length, 1);
    assert.deepEqual(udp.datagrams[0].l4.subarray(8), data);
    assert.ok(udp.datagrams[0].frameAddr >= 0, 'delivered from device frames, like any frame');
    assert.equal(iface.stats.rxChains, 1);
    assert.deepEqual(iface.dropCounts(), {});
    assertAllReturned(dev);
  });

  it('takes chains cut anywhere, odd lengths and headers-only first buffers included', function () {
    const { iface, dev, udp } = open(9000);
    const data = pattern(5001, 4);
    const frame = frame4(IpProtocol.Udp, udp4(PEER_IP4, ENGINE_IP4, 1234, 53, data));
    dev.inject(frame, [42, 1, 3001, frame.length - 3044]);
    dev.inject(frame, [3333, frame.length - 3333]);
    iface.poll();
    assert.equal(udp.datagrams.length, 2);
    for (const d of udp.datagrams) assert.deepEqual(d.l4.subarray(8), data);
    assertAllReturned(dev);
  });

  it('answers an 8000-byte ping with an 8000-byte reply built and sent in contiguous frames', function () {
    const { iface, dev } = open(9000);
    const payload = pattern(8000, 5);
    dev.inject(frame4(IpProtocol.Icmp, icmp4(Icmpv4Type.EchoRequest, 0, 0x12340001, payload)));
    iface.poll();
    assert.equal(dev.sent.length, 1);
    const raw = dev.sent[0];
    const e = new EthernetHeader();
    assert.equal(parseEthernet(raw, 0, raw.length, e), DropReason.Ok);
    const ip = new Ipv4Header();
    assert.equal(parseIpv4(raw, e.payloadOff, e.payloadLen, ip), DropReason.Ok);
    assert.equal(ip.totalLength, 20 + 8 + 8000);
    assert.equal(raw[ip.payloadOff], Icmpv4Type.EchoReply);
    assert.equal(checksum(raw, ip.payloadOff, ip.payloadLen), 0);
    assert.deepEqual(raw.subarray(ip.payloadOff + 8), payload);
    assertAllReturned(dev);
  });

  it('sends a datagram longer than one frame from a slab, one frame when it fits', function () {
    const { iface, dev } = open(9000);
    for (const len of [1000, ROOM - 14 - 20, ROOM - 14 - 20 + 1, 8980]) {
      const off = iface.beginIp4(ip4(PEER_IP4), len);
      assert.ok(off >= 0, `begin ${len}: ${off}`);
      iface.tx.buf.set(pattern(len, len & 0xff), off);
      assert.equal(iface.finishIp(253, len), 0);
    }
    assert.deepEqual(
      dev.sent.map((f) => f.length),
      [1034, ROOM, ROOM + 1, 9014],
    );
    assert.deepEqual(dev.sent[3].subarray(34), pattern(8980, 8980 & 0xff));
    assertAllReturned(dev);
  });

  it('drops chains by reason and gives every buffer back', function () {
    // At MTU 1500 one frame holds every packet: a chain has no business arriving.
    const small = open(1500);
    const big = frame4(IpProtocol.Udp, udp4(PEER_IP4, ENGINE_IP4, 1, 2, pattern(5000)));
    small.dev.inject(big);
    small.iface.poll();
    assert.deepEqual(small.iface.dropCounts(), { rx_chain_not_enabled: 1 });
    assertAllReturned(small.dev);

    const { iface, dev, udp } = open(9000);
    // More buffers than the kernel makes (MAX_SKB_FRAGS + 1 = 18).
    dev.inject(big, [...Array<number>(18).fill(250), big.length - 18 * 250]);
    // Longer than the MTU allows.
    dev.inject(frame4(IpProtocol.Udp, udp4(PEER_IP4, ENGINE_IP4, 1, 2, pattern(9000))));
    iface.poll();
    // A batch that ends inside a chain (the kernel publishes whole packets; counted if not).
    dev.inject(big);
    dev.cutLast();
    iface.poll();
    assert.deepEqual(iface.dropCounts(), {
      rx_chain_too_long: 2,
      rx_chain_truncated: 1,
    });
    assert.equal(udp.datagrams.length, 0);
    assertAllReturned(dev);
  });

  it('drops a chain it has no free slab to gather into, by reason', function () {
    const { iface, dev } = open(9000);
    for (let i = 0; i < 4; i++) assert.ok(dev.allocateLarge() >= 0);
    dev.inject(frame4(IpProtocol.Udp, udp4(PEER_IP4, ENGINE_IP4, 1, 2, pattern(5000))));
    iface.poll();
    assert.deepEqual(iface.dropCounts(), { rx_chain_no_frame: 1 });
    assert.equal(dev.held.size, 0);
  });
});

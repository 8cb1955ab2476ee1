// Fragment reassembly (RFC 791 3.2, RFC 8200 4.5, RFC 5722) and fragmentation on send, through an
// Interface on a memory pair: in order, out of order, duplicates, overlaps, timeout, bounded
// memory, IPv6 extension headers in front of and behind the Fragment header.
import assert from 'node:assert/strict';
import {
  DropReason,
  EtherType,
  IpProtocol,
  Icmpv4Type,
  Icmpv6Type,
  writeIpv6PaddingOptionsHeader,
  writeUdpHeader,
  Ipv4Header,
  parseIpv4,
  Ipv6Header,
  parseIpv6,
} from '../../ts/wire/index.js';
import { Reassembler } from '../../ts/iface/reassembly.js';
import { closeAndAudit, openBench, PairFixture, parseSeen, type Bench } from './bench.js';
import {
  concat,
  ENGINE_IP4,
  ENGINE_IP6,
  ENGINE_MAC,
  eth,
  fragment4,
  fragment4At,
  fragment6,
  fragment6At,
  icmp4,
  icmp6,
  ip6,
  ipv4,
  ipv6,
  pattern,
  PEER_IP4,
  PEER_IP6,
  PEER_MAC,
  udp4,
  udp6,
} from './packets.js';

const E6 = ip6(ENGINE_IP6);
const P6 = ip6(PEER_IP6);

function frame4(ip: Uint8Array): Uint8Array {
  return eth(ENGINE_MAC, PEER_MAC, EtherType.Ipv4, ip);
}

function frame6(ip: Uint8Array): Uint8Array {
  return eth(ENGINE_MAC, PEER_MAC, EtherType.Ipv6, ip);
}

/** A UDP datagram of `len` data bytes as a whole IPv4 packet with identification `id`. */
function udpDatagram4(len: number, id: number): Uint8Array {
  return ipv4(
    PEER_IP4,
    ENGINE_IP4,
    IpProtocol.Udp,
    udp4(PEER_IP4, ENGINE_IP4, 1234, 53, pattern(len, id)),
    { id },
  );
}

function staticPeer(): { staticNeighbours: { ip: string; mac: string }[] } {
  return {
    staticNeighbours: [
      { ip: PEER_IP4, mac: PEER_MAC },
      { ip: PEER_IP6, mac: PEER_MAC },
    ],
  };
}

/** Reassembles what the peer received with a second Reassembler; returns the IPv4 datagrams. */
function reassembleSeen4(frames: Uint8Array[]): Uint8Array[] {
  const r = new Reassembler(4);
  const out: Uint8Array[] = [];
  const ip = new Ipv4Header();
  for (const f of frames) {
    const s = parseSeen(f);
    const h = s.ip4!;
    if (!h.moreFragments && h.fragmentOffset === 0) {
      out.push(f.slice(14, 14 + h.totalLength));
      continue;
    }
    assert.equal(r.add4(f, 14, h, 0), DropReason.Ok);
    if (r.completed >= 0) {
      const off = r.datagramOffset(r.completed);
      const len = r.datagramLength(r.completed);
      assert.equal(parseIpv4(r.buffer, off, len, ip), DropReason.Ok);
      out.push(r.buffer.slice(off, off + len));
      r.release(r.completed);
    }
  }
  return out;
}

describe('iface: fragment reassembly and fragmentation', function () {
  const fixture = new PairFixture();
  let benches: Bench[] = [];
  const bench = (cfg = {}): Bench => {
    const b = openBench(fixture, { ...staticPeer(), ...cfg });
    benches.push(b);
    return b;
  };
  afterEach(function () {
    closeAndAudit(fixture, benches);
    benches = [];
  });

  it('reassembles in-order and out-of-order IPv4 fragments into one datagram for UDP', function () {
    const b = bench();
    const whole = udpDatagram4(3000, 11);
    const frags = fragment4(whole, 1500);
    assert.equal(frags.length, 3);
    for (const f of [frags[2], frags[0], frags[1]]) b.peer.send(frame4(f));
    b.step();
    assert.equal(b.udp.datagrams.length, 1);
    const d = b.udp.datagrams[0];
    assert.equal(d.frameAddr, -1, 'reassembled datagrams come from the reassembly buffer');
    assert.deepEqual(d.l4, whole.subarray(20));
    assert.equal(b.iface.stats.reassembled, 1);
    assert.equal(b.iface.reassembler.active, 0);
  });

  it('drops an exact duplicate fragment alone and still completes the datagram', function () {
    const b = bench();
    const frags = fragment4(udpDatagram4(3000, 12), 1500);
    for (const f of [frags[0], frags[0], frags[1], frags[2]]) b.peer.send(frame4(f));
    b.step();
    assert.equal(b.drops(DropReason.FragDuplicate), 1);
    assert.equal(b.udp.datagrams.length, 1);
  });

  it('discards the whole datagram on an overlap, and its later fragments too', function () {
    const b = bench();
    const whole = udpDatagram4(3000, 13);
    b.peer.send(frame4(fragment4At(whole, 0, 1480, true)));
    b.peer.send(frame4(fragment4At(whole, 1472, 800, true))); // overlaps the first by 8 bytes
    b.peer.send(frame4(fragment4At(whole, 1480, 1480, true)));
    b.peer.send(frame4(fragment4At(whole, 2960, 48, false)));
    b.step();
    assert.equal(b.drops(DropReason.FragOverlap), 1);
    assert.equal(b.drops(DropReason.FragDiscarded), 2);
    assert.equal(b.udp.datagrams.length, 0);
  });

  it('times a datagram out after 30 s and sends Time Exceeded when the first fragment came', function () {
    const b = bench();
    const frags = fragment4(udpDatagram4(3000, 14), 1500);
    b.peer.send(frame4(frags[0]));
    b.peer.send(frame4(frags[2]));
    b.step();
    assert.equal(b.advance(29_999).length, 0);
    const out = b.advance(1).map(parseSeen);
    assert.equal(b.drops(DropReason.FragTimeout), 1);
    assert.equal(out.length, 1);
    assert.equal(out[0].icmp4?.type, Icmpv4Type.TimeExceeded);
    assert.equal(out[0].icmp4?.code, 1);
    assert.equal(b.iface.reassembler.active, 0);
    // The late fragment starts a new datagram that never completes.
    b.peer.send(frame4(frags[1]));
    b.step();
    assert.equal(b.udp.datagrams.length, 0);
  });

  it('sends no Time Exceeded about a timed-out ICMP error (no errors about errors)', function () {
    const b = bench();
    const quoted = ipv4(
      ENGINE_IP4,
      PEER_IP4,
      IpProtocol.Udp,
      udp4(ENGINE_IP4, PEER_IP4, 1, 2, pattern(8)),
    );
    const err = icmp4(Icmpv4Type.DestinationUnreachable, 3, 0, concat(quoted, pattern(3000)));
    const frags = fragment4(ipv4(PEER_IP4, ENGINE_IP4, IpProtocol.Icmp, err, { id: 5 }), 1500);
    b.peer.send(frame4(frags[0]));
    b.step();
    assert.equal(b.advance(30_000).length, 0);
    assert.equal(b.drops(DropReason.FragTimeout), 1);
  });

  it('bounds memory: endless first fragments evict the oldest datagrams and are counted', function () {
    const b = bench({ reassemblySlots: 4 });
    for (let id = 1; id <= 100; id++) {
      b.peer.send(frame4(fragment4(udpDatagram4(2000, id), 1500)[0]));
      if (id % 32 === 0) b.step();
    }
    b.step();
    assert.equal(b.drops(DropReason.FragEvicted), 96);
    assert.equal(b.iface.reassembler.active, 4);
    // The four newest still complete.
    b.peer.send(frame4(fragment4(udpDatagram4(2000, 100), 1500)[1]));
    b.step();
    assert.equal(b.udp.datagrams.length, 1);
  });

  it('drops a datagram with too many pieces', function () {
    const b = bench({ reassemblyMaxPieces: 4 });
    const whole = udpDatagram4(800, 15);
    for (let o = 0; o < 5 * 8; o += 8) b.peer.send(frame4(fragment4At(whole, o, 8, true)));
    b.step();
    assert.equal(b.drops(DropReason.FragTooManyPieces), 1);
  });

  it('answers a 4000-byte echo request sent in fragments with a fragmented reply', function () {
    const b = bench();
    const data = pattern(4000, 3);
    const whole = ipv4(
      PEER_IP4,
      ENGINE_IP4,
      IpProtocol.Icmp,
      icmp4(Icmpv4Type.EchoRequest, 0, 0x12340001, data),
      { id: 77 },
    );
    for (const f of fragment4(whole, 1500)) b.peer.send(frame4(f));
    const out = b.step();
    assert.equal(out.length, 3, 'reply in three fragments');
    for (const f of out) assert.ok(f.length <= 1514);
    const replies = reassembleSeen4(out);
    assert.equal(replies.length, 1);
    const reply = replies[0];
    assert.equal(reply[20], Icmpv4Type.EchoReply);
    assert.deepEqual(reply.subarray(28), data);
    assert.equal(b.iface.stats.echoRepliesSent, 1);
  });

  it('fragments a big UDP send to the MTU, and refuses with DF (EMSGSIZE)', function () {
    const b = bench();
    const off = b.iface.beginIp4(0xc6120702, 8 + 5000);
    assert.ok(off >= 0);
    assert.notEqual(b.iface.tx.buf, b.pair.a.bytes, 'staged: bigger than a frame');
    writeUdpHeader(b.iface.tx.buf, off, 1, 2, 5008);
    b.iface.tx.buf.set(pattern(5000, 9), off + 8);
    assert.equal(b.iface.finishIp(17, 5008), 0);
    const out = b.step();
    assert.equal(out.length, 4);
    const whole = reassembleSeen4(out);
    assert.equal(whole.length, 1);
    assert.deepEqual(whole[0].subarray(28), pattern(5000, 9));
    const off2 = b.iface.beginIp4(0xc6120702, 1600);
    assert.ok(off2 >= 0);
    assert.equal(b.iface.finishIp(17, 1600, true), -90);
  });

  it('reassembles IPv6 fragments, with extension headers before and after the Fragment header', function () {
    const b = bench();
    const data = pattern(3000, 5);
    const upper = udp6(P6, E6, 1234, 53, data);
    // Fragmentable part: a Destination Options header, then UDP.
    const dest = new Uint8Array(8);
    writeIpv6PaddingOptionsHeader(dest, 0, IpProtocol.Udp, 8);
    const fragmentable = concat(dest, upper);
    const frags = fragment6(
      P6,
      E6,
      IpProtocol.Ipv6DestinationOptions,
      fragmentable,
      1232,
      0xabcdef,
    );
    // Put a Hop-by-Hop header in front of the Fragment header of each (unfragmentable part).
    const withHbh = frags.map((f) => {
      const hbh = new Uint8Array(8);
      writeIpv6PaddingOptionsHeader(hbh, 0, IpProtocol.Ipv6Fragment, 8);
      return ipv6(P6, E6, IpProtocol.HopByHop, concat(hbh, f.subarray(40)));
    });
    for (const f of withHbh.reverse()) b.peer.send(frame6(f));
    b.step();
    assert.equal(b.udp.datagrams.length, 1, JSON.stringify(b.iface.dropCounts()));
    assert.equal(b.udp.datagrams[0].family, 6);
    assert.deepEqual(b.udp.datagrams[0].l4, upper);
  });

  it('answers a fragmented ICMPv6 echo with a reply fragmented at the source', function () {
    const b = bench();
    const data = pattern(3000, 4);
    const msg = icmp6(P6, E6, Icmpv6Type.EchoRequest, 0, 0x00070001, data);
    for (const f of fragment6(P6, E6, IpProtocol.Icmpv6, msg, 1232, 99)) b.peer.send(frame6(f));
    const out = b.step().map(parseSeen);
    assert.equal(out.length, 3);
    const r = new Reassembler(2);
    const h = new Ipv6Header();
    for (const s of out) assert.equal(r.add6(s.raw, 14, s.ip6!, 0), DropReason.Ok);
    assert.ok(r.completed >= 0);
    const off = r.datagramOffset(r.completed);
    assert.equal(parseIpv6(r.buffer, off, r.datagramLength(r.completed), h), DropReason.Ok);
    assert.equal(r.buffer[h.upperOff], Icmpv6Type.EchoReply);
    assert.deepEqual(r.buffer.slice(h.upperOff + 8, h.upperOff + 8 + 3000), data);
  });

  it('discards IPv6 datagrams with overlapping fragments (RFC 5722)', function () {
    const b = bench();
    const upper = udp6(P6, E6, 1, 2, pattern(2000, 1));
    b.peer.send(frame6(fragment6At(P6, E6, IpProtocol.Udp, upper, 0, 1000, true, 5)));
    b.peer.send(frame6(fragment6At(P6, E6, IpProtocol.Udp, upper, 992, 1016, false, 5)));
    b.step();
    assert.equal(b.drops(DropReason.FragOverlap), 1);
    assert.equal(b.udp.datagrams.length, 0);
  });
});

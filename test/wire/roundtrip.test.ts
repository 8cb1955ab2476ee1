// Property-based round trips for every header codec: build -> parse gives the same fields, and
// parse -> build gives the same bytes. Frames live inside a SharedArrayBuffer at a frame offset,
// as they do in UMEM.

import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  ArpPacket,
  DropReason,
  EthernetHeader,
  EtherType,
  Icmpv4Header,
  Icmpv4Type,
  Icmpv6Header,
  Icmpv6Type,
  IpProtocol,
  Ipv4Header,
  Ipv6Header,
  TcpFlag,
  TcpHeader,
  TcpOptions,
  UdpHeader,
  parseArp,
  parseEthernet,
  parseIcmpv4,
  parseIcmpv6,
  parseIpv4,
  parseIpv6,
  parseTcp4,
  parseTcp6,
  parseTcpOptions,
  parseUdp4,
  parseUdp6,
  setIcmpv6Checksum,
  setTcp4Checksum,
  setTcp6Checksum,
  setUdp4Checksum,
  setUdp6Checksum,
  writeArp,
  writeEthernetHeader,
  writeEthernetVlanHeader,
  writeIcmpv4Header,
  writeIcmpv6Header,
  writeIpv4Header,
  writeIpv6FragmentHeader,
  writeIpv6Header,
  writeIpv6PaddingOptionsHeader,
  writeTcpHeader,
  writeTcpOptions,
  writeUdpHeader,
} from '../../ts/wire/index.js';
import { toHex } from './captured-packets.js';
import { pseudo4Words, pseudo6Words, referenceChecksum } from './helpers.js';

const OFF = 3 * 2048 + 256;
function umem(): Uint8Array {
  return new Uint8Array(new SharedArrayBuffer(8 * 2048));
}

const mac = fc.uint8Array({ minLength: 6, maxLength: 6 });
const unicastMac = mac.map((m) => {
  m[0] &= 0xfe;
  return m;
});
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const port = fc.integer({ min: 1, max: 0xffff });
// A source parseIpv4 accepts (RFC 1122 3.2.1.3): not 0.0.0.0/8, 127.0.0.0/8, 224.0.0.0/4 or
// 255.255.255.255.
const ipv4Src = u32.filter(
  (a) => a >>> 24 !== 0 && a >>> 24 !== 127 && a >>> 28 !== 0xe && a !== 0xffffffff,
);
const ipv6Addr = fc.uint8Array({ minLength: 16, maxLength: 16 });
const ipv6Src = ipv6Addr.map((a) => {
  if (a[0] === 0xff) a[0] = 0x20;
  return a;
});

describe('wire: codec round trips', () => {
  it('Ethernet II, untagged and 802.1Q', () => {
    const eth = new EthernetHeader();
    fc.assert(
      fc.property(
        mac,
        unicastMac,
        fc
          .integer({ min: 0x0600, max: 0xffff })
          .filter((t) => t !== EtherType.Vlan && t !== EtherType.QinQ),
        fc.option(u16, { nil: undefined }),
        (dst, src, type, tci) => {
          const buf = umem();
          const n =
            tci === undefined
              ? writeEthernetHeader(buf, OFF, dst, 0, src, 0, type)
              : writeEthernetVlanHeader(buf, OFF, dst, 0, src, 0, tci, type);
          assert.equal(parseEthernet(buf, OFF, 60, eth), DropReason.Ok);
          assert.equal(eth.etherType, type);
          assert.equal(eth.vlanCount, tci === undefined ? 0 : 1);
          assert.equal(eth.outerTci, tci ?? 0);
          assert.equal(eth.payloadOff, OFF + n);
          assert.equal(eth.payloadLen, 60 - n);
          assert.equal(toHex(buf, eth.dstOff, 6), toHex(dst));
          assert.equal(toHex(buf, eth.srcOff, 6), toHex(src));
        },
      ),
    );
  });

  it('ARP', () => {
    const arp = new ArpPacket();
    fc.assert(
      fc.property(fc.constantFrom(1, 2), mac, u32, mac, u32, (op, sha, spa, tha, tpa) => {
        const buf = umem();
        writeArp(buf, OFF, op, sha, 0, spa, tha, 0, tpa);
        assert.equal(parseArp(buf, OFF, 28, arp), DropReason.Ok);
        assert.deepEqual([arp.operation, arp.senderIp, arp.targetIp], [op, spa, tpa]);
        assert.equal(toHex(buf, arp.senderMacOff, 6), toHex(sha));
        assert.equal(toHex(buf, arp.targetMacOff, 6), toHex(tha));
        const again = umem();
        writeArp(
          again,
          0,
          arp.operation,
          buf,
          arp.senderMacOff,
          arp.senderIp,
          buf,
          arp.targetMacOff,
          arp.targetIp,
        );
        assert.equal(toHex(again, 0, 28), toHex(buf, OFF, 28));
      }),
    );
  });

  // Valid IPv4 options: NOPs and type-length-value items, padded with EOL to a multiple of 4.
  const ipv4Option = fc.oneof(
    fc.constant([1]),
    fc
      .tuple(fc.integer({ min: 2, max: 255 }), fc.uint8Array({ maxLength: 6 }))
      .map(([type, data]) => [type, data.length + 2, ...data]),
  );
  const ipv4Options = fc
    .array(ipv4Option, { maxLength: 5 })
    .map((items) => {
      const bytes = items.flat();
      while (bytes.length % 4 !== 0) bytes.push(0); // End of Option List, then padding
      return bytes;
    })
    .filter((bytes) => bytes.length <= 40);

  it('IPv4, with options and fragments', () => {
    const h = new Ipv4Header();
    const p = new Ipv4Header();
    fc.assert(
      fc.property(
        fc.record({
          dscp: fc.integer({ min: 0, max: 63 }),
          ecn: fc.integer({ min: 0, max: 3 }),
          id: u16,
          df: fc.boolean(),
          mf: fc.boolean(),
          fragUnits: fc.integer({ min: 0, max: 0x1fff }),
          ttl: fc.integer({ min: 0, max: 255 }),
          protocol: fc.integer({ min: 0, max: 255 }),
          src: ipv4Src,
          dst: u32,
          payloadUnits: fc.integer({ min: 0, max: 30 }),
        }),
        ipv4Options,
        (r, options) => {
          const hlen = 20 + options.length;
          const payloadLen = 8 * r.payloadUnits;
          fc.pre(r.fragUnits * 8 + payloadLen <= 65535);
          Object.assign(h, {
            headerLength: hlen,
            dscp: r.dscp,
            ecn: r.ecn,
            totalLength: hlen + payloadLen,
            identification: r.id,
            dontFragment: r.df,
            moreFragments: r.mf,
            fragmentOffset: r.fragUnits * 8,
            ttl: r.ttl,
            protocol: r.protocol,
            src: r.src,
            dst: r.dst,
          });
          const buf = umem();
          buf.set(options, OFF + 20);
          assert.equal(writeIpv4Header(buf, OFF, h), hlen);
          assert.equal(referenceChecksum(buf.subarray(OFF, OFF + hlen)), 0);
          assert.equal(parseIpv4(buf, OFF, hlen + payloadLen + 6, p), DropReason.Ok);
          for (const k of [
            'headerLength',
            'dscp',
            'ecn',
            'totalLength',
            'identification',
            'dontFragment',
            'moreFragments',
            'fragmentOffset',
            'ttl',
            'protocol',
            'src',
            'dst',
          ] as const) {
            assert.equal(p[k], h[k], k);
          }
          assert.deepEqual(
            [p.optionsOff, p.optionsLen, p.payloadOff, p.payloadLen],
            [OFF + 20, options.length, OFF + hlen, payloadLen],
          );
          const again = umem();
          again.set(options, 20);
          writeIpv4Header(again, 0, p);
          assert.equal(toHex(again, 0, hlen), toHex(buf, OFF, hlen));
        },
      ),
      { numRuns: 500 },
    );
  });

  // Extension headers that the walk passes through: padding-only options headers, routing with
  // Segments Left 0, atomic fragments.
  const extChain = fc.tuple(
    fc.boolean(),
    fc.array(
      fc.oneof(
        fc.record({
          kind: fc.constant(IpProtocol.Ipv6DestinationOptions),
          len: fc.integer({ min: 1, max: 4 }),
        }),
        fc.record({
          kind: fc.constant(IpProtocol.Ipv6Routing),
          len: fc.integer({ min: 1, max: 3 }),
        }),
        fc.record({ kind: fc.constant(IpProtocol.Ipv6Fragment), len: fc.constant(1) }),
      ),
      { maxLength: 6 },
    ),
  );

  it('IPv6 with extension header chains', () => {
    const h = new Ipv6Header();
    const p = new Ipv6Header();
    fc.assert(
      fc.property(
        fc.record({
          tc: fc.integer({ min: 0, max: 255 }),
          flow: fc.integer({ min: 0, max: 0xfffff }),
          hop: fc.integer({ min: 0, max: 255 }),
        }),
        ipv6Src,
        ipv6Addr,
        extChain,
        fc.constantFrom(
          IpProtocol.Tcp,
          IpProtocol.Udp,
          IpProtocol.Icmpv6,
          IpProtocol.Ipv6NoNextHeader,
          200,
        ),
        fc.integer({ min: 0, max: 100 }),
        (r, src, dst, [hbh, rest], upper, upperLen) => {
          const chain = hbh ? [{ kind: IpProtocol.HopByHop, len: 1 }, ...rest] : rest;
          const buf = umem();
          let at = OFF + 40;
          chain.forEach((ext, i) => {
            const next = i + 1 < chain.length ? chain[i + 1].kind : upper;
            if (ext.kind === IpProtocol.Ipv6Fragment)
              at += writeIpv6FragmentHeader(buf, at, next, 0, false, 0x12345678);
            else if (ext.kind === IpProtocol.Ipv6Routing) {
              buf[at] = next;
              buf[at + 1] = ext.len - 1;
              buf[at + 2] = 4; // segment routing, with nothing left to route
              buf[at + 3] = 0;
              at += 8 * ext.len;
            } else at += writeIpv6PaddingOptionsHeader(buf, at, next, 8 * ext.len);
          });
          const extLen = at - (OFF + 40);
          Object.assign(h, {
            trafficClass: r.tc,
            flowLabel: r.flow,
            payloadLength: extLen + upperLen,
            nextHeader: chain.length > 0 ? chain[0].kind : upper,
            hopLimit: r.hop,
          });
          writeIpv6Header(buf, OFF, h, src, 0, dst, 0);
          assert.equal(parseIpv6(buf, OFF, 40 + extLen + upperLen, p), DropReason.Ok);
          assert.deepEqual(
            [p.trafficClass, p.flowLabel, p.payloadLength, p.nextHeader, p.hopLimit],
            [r.tc, r.flow, extLen + upperLen, h.nextHeader, r.hop],
          );
          assert.deepEqual(
            [p.extensionCount, p.upperProtocol, p.upperOff, p.upperLen],
            [chain.length, upper, at, upperLen],
          );
          assert.equal(toHex(buf, p.srcOff, 16), toHex(src));
          assert.equal(toHex(buf, p.dstOff, 16), toHex(dst));
          const again = umem();
          writeIpv6Header(again, 0, p, buf, p.srcOff, buf, p.dstOff);
          assert.equal(toHex(again, 0, 40), toHex(buf, OFF, 40));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('ICMPv4 echo', () => {
    const icmp = new Icmpv4Header();
    fc.assert(
      fc.property(
        fc.constantFrom(Icmpv4Type.EchoRequest, Icmpv4Type.EchoReply),
        u16,
        u16,
        fc.uint8Array({ maxLength: 1472 }),
        (type, id, seq, data) => {
          const buf = umem();
          buf.set(data, OFF + 8);
          writeIcmpv4Header(buf, OFF, type, 0, ((id << 16) | seq) >>> 0, 8 + data.length);
          assert.equal(referenceChecksum(buf.subarray(OFF, OFF + 8 + data.length)), 0);
          assert.equal(parseIcmpv4(buf, OFF, 8 + data.length, icmp), DropReason.Ok);
          assert.deepEqual(
            [icmp.type, icmp.code, icmp.echoId, icmp.echoSequence, icmp.dataOff, icmp.dataLen],
            [type, 0, id, seq, OFF + 8, data.length],
          );
        },
      ),
    );
  });

  /** A frame-less IPv6 header in `buf` at `at` for upper-layer tests; returns the parsed header. */
  function ipv6For(
    buf: Uint8Array,
    at: number,
    src: Uint8Array,
    dst: Uint8Array,
    next: number,
    len: number,
    hop = 64,
  ): Ipv6Header {
    const h = new Ipv6Header();
    Object.assign(h, { payloadLength: len, nextHeader: next, hopLimit: hop });
    writeIpv6Header(buf, at, h, src, 0, dst, 0);
    return h;
  }

  it('ICMPv6 echo', () => {
    const icmp = new Icmpv6Header();
    const ip = new Ipv6Header();
    fc.assert(
      fc.property(
        ipv6Src,
        ipv6Addr,
        u16,
        u16,
        fc.uint8Array({ maxLength: 1452 }),
        (src, dst, id, seq, data) => {
          const buf = umem();
          const len = 8 + data.length;
          ipv6For(buf, OFF, src, dst, IpProtocol.Icmpv6, len);
          buf.set(data, OFF + 48);
          writeIcmpv6Header(buf, OFF + 40, Icmpv6Type.EchoRequest, 0, ((id << 16) | seq) >>> 0);
          setIcmpv6Checksum(buf, OFF + 40, len, src, 0, dst, 0);
          assert.equal(
            referenceChecksum(
              buf.subarray(OFF + 40, OFF + 40 + len),
              pseudo6Words(src, dst, 58, len),
            ),
            0,
          );
          assert.equal(parseIpv6(buf, OFF, 40 + len, ip), DropReason.Ok);
          assert.equal(parseIcmpv6(buf, ip.upperOff, ip.upperLen, ip, icmp), DropReason.Ok);
          assert.deepEqual(
            [icmp.type, icmp.echoId, icmp.echoSequence, icmp.dataLen],
            [128, id, seq, data.length],
          );
        },
      ),
    );
  });

  it('UDP over IPv4 and IPv6', () => {
    const udp = new UdpHeader();
    const ip4 = new Ipv4Header();
    const ip6 = new Ipv6Header();
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffff }),
        port,
        fc.uint8Array({ maxLength: 1472 }),
        ipv4Src,
        u32,
        ipv6Src,
        ipv6Addr,
        (sport, dport, data, s4, d4, s6, d6) => {
          const len = 8 + data.length;
          // IPv4
          const buf = umem();
          Object.assign(ip4, {
            headerLength: 20,
            totalLength: 20 + len,
            ttl: 64,
            protocol: 17,
            src: s4,
            dst: d4,
            dscp: 0,
            ecn: 0,
            identification: 1,
            dontFragment: true,
            moreFragments: false,
            fragmentOffset: 0,
          });
          writeIpv4Header(buf, OFF, ip4);
          writeUdpHeader(buf, OFF + 20, sport, dport, len);
          buf.set(data, OFF + 28);
          setUdp4Checksum(buf, OFF + 20, len, s4, d4);
          assert.equal(
            referenceChecksum(
              buf.subarray(OFF + 20, OFF + 20 + len),
              pseudo4Words(s4, d4, 17, len),
            ),
            0,
          );
          assert.equal(parseIpv4(buf, OFF, 20 + len, ip4), DropReason.Ok);
          assert.equal(parseUdp4(buf, ip4.payloadOff, ip4.payloadLen, ip4, udp), DropReason.Ok);
          assert.deepEqual(
            [udp.srcPort, udp.dstPort, udp.length, udp.payloadOff, udp.payloadLen],
            [sport, dport, len, OFF + 28, data.length],
          );
          // IPv6
          const b6 = umem();
          ipv6For(b6, OFF, s6, d6, IpProtocol.Udp, len);
          writeUdpHeader(b6, OFF + 40, sport, dport, len);
          b6.set(data, OFF + 48);
          setUdp6Checksum(b6, OFF + 40, len, s6, 0, d6, 0);
          assert.notEqual(b6[OFF + 46] | b6[OFF + 47], 0);
          assert.equal(parseIpv6(b6, OFF, 40 + len, ip6), DropReason.Ok);
          assert.equal(parseUdp6(b6, ip6.upperOff, ip6.upperLen, ip6, udp), DropReason.Ok);
          assert.deepEqual([udp.srcPort, udp.dstPort, udp.payloadLen], [sport, dport, data.length]);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a UDP checksum that computes to zero goes out as 0xffff (RFC 768), and verifies', () => {
    const udp = new UdpHeader();
    const ip4 = new Ipv4Header();
    fc.assert(
      fc.property(
        ipv4Src,
        u32,
        port,
        port,
        fc.uint8Array({ minLength: 2, maxLength: 64 }),
        (src, dst, sp, dp, data) => {
          const buf = umem();
          const len = 8 + data.length + (data.length & 1);
          writeUdpHeader(buf, OFF, sp, dp, len);
          buf.set(data, OFF + 8);
          // Choose the first data word so the one's complement sum of everything is 0xffff.
          buf[OFF + 8] = 0;
          buf[OFF + 9] = 0;
          const rest = referenceChecksum(
            buf.subarray(OFF, OFF + len),
            pseudo4Words(src, dst, 17, len),
          );
          buf[OFF + 8] = rest >> 8;
          buf[OFF + 9] = rest & 0xff;
          setUdp4Checksum(buf, OFF, len, src, dst);
          assert.equal((buf[OFF + 6] << 8) | buf[OFF + 7], 0xffff);
          Object.assign(ip4, { src, dst });
          assert.equal(parseUdp4(buf, OFF, len, ip4, udp), DropReason.Ok);
        },
      ),
      { numRuns: 50 },
    );
  });

  const tcpOptions = fc.record({
    mss: fc.option(u16, { nil: -1 }),
    windowScale: fc.option(fc.integer({ min: 0, max: 14 }), { nil: -1 }),
    sackPermitted: fc.boolean(),
    ts: fc.option(fc.tuple(u32, u32), { nil: undefined }),
    sack: fc.array(u32, { maxLength: 8 }).map((a) => a.slice(0, a.length & ~1)),
  });

  function toOptions(r: {
    mss: number;
    windowScale: number;
    sackPermitted: boolean;
    ts?: [number, number];
    sack: number[];
  }): TcpOptions {
    const o = new TcpOptions();
    o.mss = r.mss;
    o.windowScale = r.windowScale;
    o.sackPermitted = r.sackPermitted;
    o.hasTimestamps = r.ts !== undefined;
    if (r.ts) [o.tsVal, o.tsEcr] = r.ts;
    o.sackCount = r.sack.length / 2;
    o.sackBlocks.set(r.sack);
    return o;
  }

  it('TCP over IPv4 and IPv6, with every option the writer emits', () => {
    const h = new TcpHeader();
    const p = new TcpHeader();
    const ip4 = new Ipv4Header();
    const ip6 = new Ipv6Header();
    const flags = u16
      .map((f) => f & 0xfff)
      .filter((f) => !((f & TcpFlag.Syn) !== 0 && (f & (TcpFlag.Fin | TcpFlag.Rst)) !== 0));
    fc.assert(
      fc.property(
        fc.record({ sport: port, dport: port, seq: u32, ack: u32, flags, window: u16, urg: u16 }),
        tcpOptions,
        fc.uint8Array({ maxLength: 1400 }),
        ipv4Src,
        u32,
        ipv6Src,
        ipv6Addr,
        (r, ro, data, s4, d4, s6, d6) => {
          Object.assign(h, {
            srcPort: r.sport,
            dstPort: r.dport,
            seq: r.seq,
            ack: r.ack,
            flags: r.flags,
            window: r.window,
            urgentPointer: r.urg,
          });
          const opts = toOptions(ro);
          const buf = umem();
          const hlen = writeTcpHeader(buf, OFF, h, opts);
          assert.ok(hlen % 4 === 0 && hlen <= 60);
          buf.set(data, OFF + hlen);
          const len = hlen + data.length;
          setTcp4Checksum(buf, OFF, len, s4, d4);
          assert.equal(
            referenceChecksum(buf.subarray(OFF, OFF + len), pseudo4Words(s4, d4, 6, len)),
            0,
          );
          ip4.src = s4;
          ip4.dst = d4;
          assert.equal(parseTcp4(buf, OFF, len, ip4, p), DropReason.Ok);
          assert.deepEqual(
            [
              p.srcPort,
              p.dstPort,
              p.seq,
              p.ack,
              p.flags,
              p.window,
              p.urgentPointer,
              p.headerLength,
              p.payloadOff,
              p.payloadLen,
            ],
            [
              r.sport,
              r.dport,
              r.seq,
              r.ack,
              r.flags,
              r.window,
              r.urg,
              hlen,
              OFF + hlen,
              data.length,
            ],
          );
          const q = p.options;
          assert.deepEqual(
            [q.mss, q.windowScale, q.sackPermitted, q.hasTimestamps],
            [ro.mss, ro.windowScale, ro.sackPermitted, ro.ts !== undefined],
          );
          if (ro.ts) assert.deepEqual([q.tsVal, q.tsEcr], ro.ts);
          // Blocks that did not fit in 40 bytes are left out, never cut in half.
          assert.ok(q.sackCount <= ro.sack.length / 2);
          assert.deepEqual(
            Array.from(q.sackBlocks.subarray(0, 2 * q.sackCount)),
            ro.sack.slice(0, 2 * q.sackCount),
          );
          // parse -> build gives the same bytes
          const again = umem();
          assert.equal(writeTcpHeader(again, 0, p, p.options), hlen);
          again.set(data, hlen);
          setTcp4Checksum(again, 0, len, s4, d4);
          assert.equal(toHex(again, 0, len), toHex(buf, OFF, len));
          // IPv6
          const b6 = umem();
          ipv6For(b6, OFF, s6, d6, IpProtocol.Tcp, len);
          writeTcpHeader(b6, OFF + 40, h, opts);
          b6.set(data, OFF + 40 + hlen);
          setTcp6Checksum(b6, OFF + 40, len, s6, 0, d6, 0);
          assert.equal(parseIpv6(b6, OFF, 40 + len, ip6), DropReason.Ok);
          assert.equal(parseTcp6(b6, ip6.upperOff, ip6.upperLen, ip6, p), DropReason.Ok);
          assert.equal(p.seq, r.seq);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('TCP options in any order, with NOPs, unknown kinds and EOL padding, parse to their values', () => {
    type Opt = { bytes: number[]; apply: (o: TcpOptions) => void };
    const opt: fc.Arbitrary<Opt> = fc.oneof(
      fc.constant<Opt>({ bytes: [1], apply: () => {} }),
      u16.map<Opt>((v) => ({ bytes: [2, 4, v >> 8, v & 0xff], apply: (o) => (o.mss = v) })),
      fc
        .integer({ min: 0, max: 255 })
        .map<Opt>((v) => ({ bytes: [3, 3, v], apply: (o) => (o.windowScale = Math.min(v, 14)) })),
      fc.constant<Opt>({ bytes: [4, 2], apply: (o) => (o.sackPermitted = true) }),
      fc.tuple(u32, u32).map<Opt>(([a, b]) => ({
        bytes: [
          8,
          10,
          a >>> 24,
          (a >>> 16) & 255,
          (a >>> 8) & 255,
          a & 255,
          b >>> 24,
          (b >>> 16) & 255,
          (b >>> 8) & 255,
          b & 255,
        ],
        apply: (o) => {
          o.hasTimestamps = true;
          o.tsVal = a;
          o.tsEcr = b;
        },
      })),
      fc
        .tuple(
          fc.integer({ min: 9, max: 254 }).filter((k) => k !== 5),
          fc.uint8Array({ maxLength: 6 }),
        )
        .map<Opt>(([kind, data]) => ({
          bytes: [kind, data.length + 2, ...data],
          apply: () => {},
        })),
    );
    fc.assert(
      fc.property(fc.array(opt, { maxLength: 8 }), (opts) => {
        const bytes = opts.flatMap((o) => o.bytes);
        fc.pre(bytes.length <= 40);
        const expected = new TcpOptions();
        for (const o of opts) o.apply(expected);
        const buf = umem();
        buf.set(bytes, OFF);
        for (let i = bytes.length; i < 40; i++) buf[OFF + i] = 0; // EOL then padding
        const got = new TcpOptions();
        assert.equal(parseTcpOptions(buf, OFF, 40, got), DropReason.Ok);
        assert.deepEqual(
          [got.mss, got.windowScale, got.sackPermitted, got.hasTimestamps, got.tsVal, got.tsEcr],
          [
            expected.mss,
            expected.windowScale,
            expected.sackPermitted,
            expected.hasTimestamps,
            expected.tsVal,
            expected.tsEcr,
          ],
        );
        // Writing what was parsed and parsing it again is a fixed point.
        const again = umem();
        const n = writeTcpOptions(again, 0, got);
        const back = new TcpOptions();
        assert.equal(parseTcpOptions(again, 0, n, back), DropReason.Ok);
        assert.deepEqual(
          [back.mss, back.windowScale, back.sackPermitted, back.tsVal],
          [got.mss, got.windowScale, got.sackPermitted, got.tsVal],
        );
      }),
    );
  });
});

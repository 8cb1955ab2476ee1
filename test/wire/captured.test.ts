// Real captured frames (see captured-packets.ts): every layer parses, every checksum verifies, and
// building the frame again from the parsed fields gives back the same bytes.

import assert from 'node:assert/strict';
import {
  ArpPacket,
  DropReason,
  EthernetHeader,
  EtherType,
  Icmpv4Header,
  Icmpv6Header,
  Icmpv6Type,
  IpProtocol,
  Ipv4Header,
  Ipv6Header,
  NaFlag,
  TcpFlag,
  TcpHeader,
  UdpHeader,
  formatIpv4Address,
  formatIpv6Address,
  formatMac,
  parseArp,
  parseEthernet,
  parseIcmpv4,
  parseIcmpv6,
  parseIpv4,
  parseIpv6,
  parseTcp4,
  parseUdp6,
  setIcmpv6Checksum,
  setTcp4Checksum,
  setUdp6Checksum,
  writeArp,
  writeEthernetHeader,
  writeIcmpv4Header,
  writeIpv4Header,
  writeIpv6Header,
  writeNeighborAdvertisement,
  writeNeighborSolicitation,
  writeRouterSolicitation,
  writeTcpHeader,
  writeUdpHeader,
} from '../../ts/wire/index.js';
import { CAPTURED, fromHex, toHex } from './captured-packets.js';
import { inUmem } from './helpers.js';

const eth = new EthernetHeader();
const ip4 = new Ipv4Header();
const ip6 = new Ipv6Header();

function parseEth(hex: string): { buf: Uint8Array; off: number; len: number } {
  const bytes = fromHex(hex);
  const { buf, off } = inUmem(bytes);
  assert.equal(parseEthernet(buf, off, bytes.length, eth), DropReason.Ok);
  return { buf, off, len: bytes.length };
}

/** Build into a fresh buffer: `build` writes at offset 64 and returns the frame length. */
function rebuild(build: (out: Uint8Array, off: number) => number): string {
  const out = new Uint8Array(4096);
  const len = build(out, 64);
  return toHex(out, 64, len);
}

describe('wire: captured Linux frames', () => {
  it('ARP request and reply', () => {
    for (const hex of [CAPTURED.arpRequest, CAPTURED.arpReply]) {
      const { buf } = parseEth(hex);
      assert.equal(eth.etherType, EtherType.Arp);
      const arp = new ArpPacket();
      assert.equal(parseArp(buf, eth.payloadOff, eth.payloadLen, arp), DropReason.Ok);
      const again = rebuild((out, o) => {
        const n = writeEthernetHeader(out, o, buf, eth.dstOff, buf, eth.srcOff, eth.etherType);
        return (
          n +
          writeArp(
            out,
            o + n,
            arp.operation,
            buf,
            arp.senderMacOff,
            arp.senderIp,
            buf,
            arp.targetMacOff,
            arp.targetIp,
          )
        );
      });
      assert.equal(again, hex);
    }
    const { buf } = parseEth(CAPTURED.arpRequest);
    const arp = new ArpPacket();
    parseArp(buf, eth.payloadOff, eth.payloadLen, arp);
    assert.equal(arp.operation, 1);
    assert.equal(formatIpv4Address(arp.senderIp), '198.18.66.2');
    assert.equal(formatIpv4Address(arp.targetIp), '198.18.66.1');
    assert.equal(formatMac(buf, arp.senderMacOff), 'e2:14:d1:91:a4:41');
  });

  it('ICMP echo request and reply', () => {
    for (const hex of [CAPTURED.icmpEchoRequest, CAPTURED.icmpEchoReply]) {
      const { buf } = parseEth(hex);
      assert.equal(parseIpv4(buf, eth.payloadOff, eth.payloadLen, ip4), DropReason.Ok);
      assert.equal(ip4.protocol, IpProtocol.Icmp);
      assert.equal(ip4.totalLength, 84);
      assert.equal(ip4.ttl, 64);
      const icmp = new Icmpv4Header();
      assert.equal(parseIcmpv4(buf, ip4.payloadOff, ip4.payloadLen, icmp), DropReason.Ok);
      assert.equal(icmp.echoId, 0x2a86);
      assert.equal(icmp.echoSequence, 1);
      assert.equal(icmp.dataLen, 56);
      const again = rebuild((out, o) => {
        let p = o + writeEthernetHeader(out, o, buf, eth.dstOff, buf, eth.srcOff, eth.etherType);
        out.set(buf.subarray(icmp.dataOff, icmp.dataOff + icmp.dataLen), p + 28);
        writeIcmpv4Header(out, p + 20, icmp.type, icmp.code, icmp.rest, ip4.payloadLen);
        p += writeIpv4Header(out, p, ip4);
        return p + ip4.payloadLen - o;
      });
      assert.equal(again, hex);
    }
    const { buf } = parseEth(CAPTURED.icmpEchoRequest);
    parseIpv4(buf, eth.payloadOff, eth.payloadLen, ip4);
    assert.equal(formatIpv4Address(ip4.src), '198.18.66.2');
    assert.equal(ip4.dontFragment, true);
    assert.equal(ip4.checksum, 0x4598);
  });

  it('UDP over IPv6', () => {
    const { buf } = parseEth(CAPTURED.udp6);
    assert.equal(parseIpv6(buf, eth.payloadOff, eth.payloadLen, ip6), DropReason.Ok);
    assert.equal(ip6.flowLabel, 0xeafff);
    assert.equal(ip6.hopLimit, 64);
    assert.equal(ip6.upperProtocol, IpProtocol.Udp);
    assert.equal(formatIpv6Address(buf, ip6.srcOff), '2001:2:0:66::2');
    const udp = new UdpHeader();
    assert.equal(parseUdp6(buf, ip6.upperOff, ip6.upperLen, ip6, udp), DropReason.Ok);
    assert.deepEqual(
      [udp.srcPort, udp.dstPort, udp.length, udp.checksum],
      [40000, 9999, 21, 0x5f66],
    );
    assert.equal(
      Buffer.from(buf.subarray(udp.payloadOff, udp.payloadOff + udp.payloadLen)).toString(),
      'hello xdpnet\n',
    );
    const again = rebuild((out, o) => {
      let p = o + writeEthernetHeader(out, o, buf, eth.dstOff, buf, eth.srcOff, eth.etherType);
      p += writeIpv6Header(out, p, ip6, buf, ip6.srcOff, buf, ip6.dstOff);
      writeUdpHeader(out, p, udp.srcPort, udp.dstPort, udp.length);
      out.set(buf.subarray(udp.payloadOff, udp.payloadOff + udp.payloadLen), p + 8);
      setUdp6Checksum(out, p, udp.length, buf, ip6.srcOff, buf, ip6.dstOff);
      return p + udp.length - o;
    });
    assert.equal(again, CAPTURED.udp6);
  });

  it('ICMPv6 port unreachable, quoting the UDP datagram', () => {
    const { buf } = parseEth(CAPTURED.icmp6PortUnreachable);
    assert.equal(parseIpv6(buf, eth.payloadOff, eth.payloadLen, ip6), DropReason.Ok);
    const icmp = new Icmpv6Header();
    assert.equal(parseIcmpv6(buf, ip6.upperOff, ip6.upperLen, ip6, icmp), DropReason.Ok);
    assert.equal(icmp.type, Icmpv6Type.DestinationUnreachable);
    assert.equal(icmp.code, 4);
    const inner = new Ipv6Header();
    assert.equal(parseIpv6(buf, icmp.dataOff, icmp.dataLen, inner), DropReason.Ok);
    assert.equal(inner.upperProtocol, IpProtocol.Udp);
  });

  it('TCP SYN with Linux options, and the RST+ACK', () => {
    const { buf } = parseEth(CAPTURED.tcpSyn);
    assert.equal(parseIpv4(buf, eth.payloadOff, eth.payloadLen, ip4), DropReason.Ok);
    const tcp = new TcpHeader();
    assert.equal(parseTcp4(buf, ip4.payloadOff, ip4.payloadLen, ip4, tcp), DropReason.Ok);
    assert.equal(tcp.flags, TcpFlag.Syn);
    assert.equal(tcp.window, 64240);
    assert.equal(tcp.headerLength, 40);
    const o = tcp.options;
    assert.deepEqual(
      [o.mss, o.sackPermitted, o.hasTimestamps, o.tsVal, o.tsEcr, o.windowScale, o.sackCount],
      [1460, true, true, 0x5b4eb5d9, 0, 10, 0],
    );
    const again = rebuild((out, at) => {
      let p = at + writeEthernetHeader(out, at, buf, eth.dstOff, buf, eth.srcOff, eth.etherType);
      const hlen = writeTcpHeader(out, p + 20, tcp, tcp.options);
      setTcp4Checksum(out, p + 20, hlen, ip4.src, ip4.dst);
      p += writeIpv4Header(out, p, ip4);
      return p + hlen - at;
    });
    assert.equal(again, CAPTURED.tcpSyn);

    const rst = parseEth(CAPTURED.tcpRstAck);
    assert.equal(parseIpv4(rst.buf, eth.payloadOff, eth.payloadLen, ip4), DropReason.Ok);
    assert.equal(parseTcp4(rst.buf, ip4.payloadOff, ip4.payloadLen, ip4, tcp), DropReason.Ok);
    assert.equal(tcp.flags, TcpFlag.Rst | TcpFlag.Ack);
    assert.equal(tcp.ack, 0x18743e96);
    assert.equal(tcp.options.mss, -1);
  });

  it('neighbor discovery: NS, NA, DAD probe, RS', () => {
    const icmp = new Icmpv6Header();
    const cases = [
      CAPTURED.neighborSolicitation,
      CAPTURED.neighborAdvertisement,
      CAPTURED.dadNeighborSolicitation,
      CAPTURED.routerSolicitation,
    ];
    for (const hex of cases) {
      const { buf } = parseEth(hex);
      assert.equal(parseIpv6(buf, eth.payloadOff, eth.payloadLen, ip6), DropReason.Ok);
      assert.equal(parseIcmpv6(buf, ip6.upperOff, ip6.upperLen, ip6, icmp), DropReason.Ok, hex);
      const again = rebuild((out, o) => {
        let p = o + writeEthernetHeader(out, o, buf, eth.dstOff, buf, eth.srcOff, eth.etherType);
        p += writeIpv6Header(out, p, ip6, buf, ip6.srcOff, buf, ip6.dstOff);
        const mac = icmp.sourceMacOff >= 0 ? icmp.sourceMacOff : icmp.targetMacOff;
        let len: number;
        if (icmp.type === Icmpv6Type.NeighborSolicitation) {
          len = writeNeighborSolicitation(out, p, buf, icmp.targetOff, mac >= 0 ? buf : null, mac);
        } else if (icmp.type === Icmpv6Type.NeighborAdvertisement) {
          len = writeNeighborAdvertisement(out, p, icmp.rest, buf, icmp.targetOff, buf, mac);
        } else {
          len = writeRouterSolicitation(out, p, buf, mac);
        }
        setIcmpv6Checksum(out, p, len, buf, ip6.srcOff, buf, ip6.dstOff);
        return p + len - o;
      });
      // The DAD probe carries a nonce option (RFC 7527) we do not write; compare what we do.
      if (hex === CAPTURED.dadNeighborSolicitation) continue;
      assert.equal(again, hex);
    }
    const na = parseEth(CAPTURED.neighborAdvertisement);
    parseIpv6(na.buf, eth.payloadOff, eth.payloadLen, ip6);
    parseIcmpv6(na.buf, ip6.upperOff, ip6.upperLen, ip6, icmp);
    assert.equal(icmp.rest, (NaFlag.Solicited | NaFlag.Override) >>> 0);
    assert.equal(formatIpv6Address(na.buf, icmp.targetOff), '2001:2:0:66::1');
    assert.equal(formatMac(na.buf, icmp.targetMacOff), '5a:da:df:33:cd:2e');
  });
});

// UDP datagrams for the foundation loops (rxcheck, txonly), on top of the wire layer: find a UDP
// payload in a received frame (fully validated, checksums included) and build a UDP/IPv4 frame
// in place.
import {
  DropReason,
  EthernetHeader,
  EtherType,
  Ipv4Header,
  Ipv6Header,
  IpProtocol,
  UdpHeader,
  parseEthernet,
  parseIpv4,
  parseIpv6,
  parseUdp4,
  parseUdp6,
  writeEthernetHeader,
  writeIpv4Header,
  writeUdpHeader,
  ETH_HLEN,
  IPV4_MIN_HLEN,
  UDP_HLEN,
} from '../../wire/index.js';

/** Reusable parse state of one loop; finds the UDP datagram of a frame without allocating. */
export class UdpFrameParser {
  readonly udp = new UdpHeader();
  private readonly eth = new EthernetHeader();
  private readonly ip4 = new Ipv4Header();
  private readonly ip6 = new Ipv6Header();

  /** True when the frame at [off, off + len) is a valid, unfragmented UDP datagram. */
  parse(buf: Uint8Array, off: number, len: number): boolean {
    if (parseEthernet(buf, off, len, this.eth) !== DropReason.Ok) return false;
    const { etherType, payloadOff, payloadLen } = this.eth;
    if (etherType === EtherType.Ipv4) {
      const ip = this.ip4;
      if (parseIpv4(buf, payloadOff, payloadLen, ip) !== DropReason.Ok) return false;
      if (ip.protocol !== IpProtocol.Udp || ip.moreFragments || ip.fragmentOffset !== 0)
        return false;
      return parseUdp4(buf, ip.payloadOff, ip.payloadLen, ip, this.udp) === DropReason.Ok;
    }
    if (etherType === EtherType.Ipv6) {
      const ip = this.ip6;
      if (parseIpv6(buf, payloadOff, payloadLen, ip) !== DropReason.Ok) return false;
      if (ip.upperProtocol !== IpProtocol.Udp || ip.fragmentHeaderOff >= 0) return false;
      return parseUdp6(buf, ip.upperOff, ip.upperLen, ip, this.udp) === DropReason.Ok;
    }
    return false;
  }
}

/** Addresses and ports of a UDP/IPv4 flow, for building frames. */
export interface Udp4Flow {
  srcMac: Uint8Array;
  dstMac: Uint8Array;
  srcIp: number;
  dstIp: number;
  srcPort: number;
  dstPort: number;
}

/** Bytes of Ethernet + IPv4 + UDP headers in front of the payload. */
export const UDP4_HEADERS = ETH_HLEN + IPV4_MIN_HLEN + UDP_HLEN;

/**
 * Writes Ethernet + IPv4 + UDP headers at `off` for `payloadLen` bytes (UDP checksum 0, which
 * RFC 768 allows over IPv4) and returns the frame length. `ip` is the caller's reusable header.
 */
export function writeUdp4Headers(
  buf: Uint8Array,
  off: number,
  flow: Udp4Flow,
  ip: Ipv4Header,
  payloadLen: number,
): number {
  writeEthernetHeader(buf, off, flow.dstMac, 0, flow.srcMac, 0, EtherType.Ipv4);
  ip.headerLength = IPV4_MIN_HLEN;
  ip.totalLength = IPV4_MIN_HLEN + UDP_HLEN + payloadLen;
  ip.dontFragment = true;
  ip.ttl = 64;
  ip.protocol = IpProtocol.Udp;
  ip.src = flow.srcIp;
  ip.dst = flow.dstIp;
  writeIpv4Header(buf, off + ETH_HLEN, ip);
  writeUdpHeader(
    buf,
    off + ETH_HLEN + IPV4_MIN_HLEN,
    flow.srcPort,
    flow.dstPort,
    UDP_HLEN + payloadLen,
  );
  return UDP4_HEADERS + payloadLen;
}

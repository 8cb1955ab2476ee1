// Just enough Ethernet/IP/UDP for the foundation loops (rxcheck, txonly): find a UDP payload in a
// received frame and write a UDP/IPv4 header in place. The full, validating codecs live in ts/wire.

const ETH_HLEN = 14;
const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const PROTO_UDP = 17;

/** Where a UDP payload sits; one reusable instance per loop, filled by findUdpPayload. */
export interface UdpPayload {
  offset: number;
  length: number;
}

/**
 * Finds the UDP payload of the frame at [off, off + len): false when the frame is not a
 * well-formed UDP datagram over IPv4 or IPv6 without extension headers.
 */
export function findUdpPayload(view: DataView, off: number, len: number, out: UdpPayload): boolean {
  if (len < ETH_HLEN + 28) return false;
  const type = view.getUint16(off + 12);
  let l4: number;
  if (type === ETHERTYPE_IPV4) {
    const vihl = view.getUint8(off + ETH_HLEN);
    const ihl = (vihl & 0x0f) * 4;
    if (vihl >> 4 !== 4 || ihl < 20 || view.getUint8(off + ETH_HLEN + 9) !== PROTO_UDP) {
      return false;
    }
    l4 = ETH_HLEN + ihl;
  } else if (type === ETHERTYPE_IPV6) {
    if (len < ETH_HLEN + 48 || view.getUint8(off + ETH_HLEN + 6) !== PROTO_UDP) return false;
    l4 = ETH_HLEN + 40;
  } else {
    return false;
  }
  const udpLen = view.getUint16(off + l4 + 4);
  if (udpLen < 8 || l4 + udpLen > len) return false;
  out.offset = off + l4 + 8;
  out.length = udpLen - 8;
  return true;
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

/** Writes Ethernet + IPv4 + UDP headers (42 bytes) for `payloadLen` bytes; UDP checksum 0. */
export function writeUdp4Headers(
  bytes: Uint8Array,
  view: DataView,
  off: number,
  flow: Udp4Flow,
  payloadLen: number,
): number {
  bytes.set(flow.dstMac, off);
  bytes.set(flow.srcMac, off + 6);
  view.setUint16(off + 12, ETHERTYPE_IPV4);
  const ip = off + ETH_HLEN;
  view.setUint16(ip, 0x4500);
  view.setUint16(ip + 2, 28 + payloadLen);
  view.setUint32(ip + 4, 0x00004000); // id 0, DF
  view.setUint16(ip + 8, 0x4000 | PROTO_UDP); // TTL 64
  view.setUint16(ip + 10, 0);
  view.setUint32(ip + 12, flow.srcIp);
  view.setUint32(ip + 16, flow.dstIp);
  view.setUint16(ip + 10, ipv4HeaderChecksum(view, ip));
  const udp = ip + 20;
  view.setUint16(udp, flow.srcPort);
  view.setUint16(udp + 2, flow.dstPort);
  view.setUint16(udp + 4, 8 + payloadLen);
  view.setUint16(udp + 6, 0);
  return 42 + payloadLen;
}

function ipv4HeaderChecksum(view: DataView, ip: number): number {
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += view.getUint16(ip + i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

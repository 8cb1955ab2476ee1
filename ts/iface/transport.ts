// The contract between the interface and the transports above it (UDP, TCP). Everything is
// passed through objects the interface owns and refills per packet, so no call allocates.

import { Ipv4Header } from '../wire/ipv4.js';
import { Ipv6Header } from '../wire/ipv6.js';

/** What TransportHandler.input() did with the datagram. */
export const InputResult = {
  /** Consumed (or dropped and counted by the transport); the interface releases the frame. */
  Done: 0,
  /**
   * The transport keeps the frame (e.g. zero-copy receive queue) and will give it back with
   * device.release(frameAddr) itself. Only allowed when datagram.frameAddr >= 0.
   */
  Kept: 1,
  /**
   * A valid datagram that nobody is bound to: the interface answers with an ICMP/ICMPv6 port
   * unreachable (rate limited, RFC 1122 4.1.3.1, RFC 4443 3.1 code 4) and releases the frame.
   * TCP sends its own RST instead and returns Done.
   */
  NoSocket: 2,
} as const;

export type InputResultValue = (typeof InputResult)[keyof typeof InputResult];

/**
 * One received datagram for a transport, valid only during input(). IPv4 and IPv6 fields are
 * both present; `family` says which are filled.
 */
export class RxDatagram {
  family: 4 | 6 = 4;
  /** IP protocol / upper-layer Next Header (6, 17). */
  protocol = 0;
  /**
   * Where the bytes are: the device's frame memory (device.bytes) for a datagram that came in one
   * frame, or the reassembly buffer for a reassembled one.
   */
  buf: Uint8Array = new Uint8Array(0);
  /** Device address of the frame (for Kept), or -1 when reassembled: copy what you keep. */
  frameAddr = -1;
  /** The IP header in buf. */
  ipOff = 0;
  /** The transport header and payload in buf (IP padding and extension headers excluded). */
  l4Off = 0;
  l4Len = 0;
  /** IPv4 addresses (unsigned 32-bit); 0 for IPv6. */
  src4 = 0;
  dst4 = 0;
  /** Offsets of the 16-byte IPv6 addresses in buf; for IPv4, of the 4-byte ones. */
  srcOff = 0;
  dstOff = 0;
  /** Destination was broadcast (IPv4) or multicast: never answer with an ICMP error. */
  toGroup = false;
  /** The device verified the TCP/UDP checksum already (FrameDevice.rxChecksumOk). */
  l4ChecksumOk = false;
  /** The parsed IP header (valid for `buf`), for checksum helpers such as parseUdp4(). */
  readonly ip4 = new Ipv4Header();
  readonly ip6 = new Ipv6Header();
}

/** What an ICMP/ICMPv6 error said, for the transport whose packet it quotes. */
export const IcmpErrorKind = {
  NetUnreachable: 1,
  HostUnreachable: 2,
  ProtocolUnreachable: 3,
  PortUnreachable: 4,
  /** IPv4 fragmentation needed with DF set (RFC 1191) or ICMPv6 Packet Too Big (RFC 8201). */
  PacketTooBig: 5,
  AdminProhibited: 6,
  TimeExceeded: 7,
  ParameterProblem: 8,
  /** Source quench and anything else (RFC 6633: ignore source quench). */
  Other: 9,
} as const;

/**
 * An ICMP error about a packet we sent, valid only during icmpError(). The quoted packet's
 * fields are from our point of view: localPort is the quoted source port (ours).
 */
export class IcmpErrorInfo {
  family: 4 | 6 = 4;
  kind = 0;
  type = 0;
  code = 0;
  /** The new path MTU for PacketTooBig (already recorded in the PMTU cache), else 0. */
  mtu = 0;
  /** Transport protocol of the quoted packet. */
  protocol = 0;
  /** The quoted packet: its IP header at quotedIpOff and transport bytes at l4Off (>= 8). */
  buf: Uint8Array = new Uint8Array(0);
  quotedIpOff = 0;
  l4Off = 0;
  l4Len = 0;
  /** Quoted addresses: local (our source) and remote (its destination). */
  local4 = 0;
  remote4 = 0;
  localOff = 0;
  remoteOff = 0;
  localPort = 0;
  remotePort = 0;
  /** The error's sender (the router or host that complained): IPv4, or 16 bytes at offset. */
  reporter4 = 0;
  reporterOff = 0;
}

export interface TransportHandler {
  /** A datagram for this protocol addressed to us. Returns an InputResult. */
  input(datagram: RxDatagram): number;
  /** An ICMP error quoting one of our packets of this protocol. */
  icmpError(error: IcmpErrorInfo): void;
}

// UDP (RFC 768) over IPv4 and IPv6.

import { read16, write16 } from './bytes.js';
import { checksum, pseudoHeaderSum4, pseudoHeaderSum6 } from './checksum.js';
import { DropReason } from './drop-reason.js';
import { IpProtocol } from './ip-protocol.js';
import type { Ipv4Header } from './ipv4.js';
import type { Ipv6Header } from './ipv6.js';

export const UDP_HLEN = 8;

export class UdpHeader {
  srcPort = 0;
  dstPort = 0;
  /** The Length field: header + data. */
  length = 0;
  checksum = 0;
  payloadOff = 0;
  payloadLen = 0;
}

// Shared checks; `len` is the IP payload. Bytes past the UDP length are ignored, as Linux does.
function parseUdpFields(buf: Uint8Array, off: number, len: number, out: UdpHeader): DropReason {
  if (len < UDP_HLEN) return DropReason.UdpTruncated;
  const length = read16(buf, off + 4);
  if (length < UDP_HLEN) return DropReason.UdpBadLength;
  if (length > len) return DropReason.UdpLengthExceedsPacket;
  out.srcPort = read16(buf, off);
  out.dstPort = read16(buf, off + 2);
  out.length = length;
  out.checksum = read16(buf, off + 6);
  out.payloadOff = off + UDP_HLEN;
  out.payloadLen = length - UDP_HLEN;
  return DropReason.Ok;
}

/**
 * Parse and verify a UDP datagram in the `len`-byte payload of `ip`; `checksumVerified`: the
 * device checked the checksum (FrameDevice.rxChecksumOk), so it is not summed again.
 */
export function parseUdp4(
  buf: Uint8Array,
  off: number,
  len: number,
  ip: Ipv4Header,
  out: UdpHeader,
  checksumVerified = false,
): DropReason {
  const reason = parseUdpFields(buf, off, len, out);
  if (reason !== DropReason.Ok) return reason;
  // RFC 768: a zero checksum means the sender computed none.
  if (out.checksum !== 0 && !checksumVerified) {
    const pseudo = pseudoHeaderSum4(ip.src, ip.dst, IpProtocol.Udp, out.length);
    if (checksum(buf, off, out.length, pseudo) !== 0) return DropReason.UdpBadChecksum;
  }
  // Port 0 is reserved (IANA) and no socket can be bound to it as a destination.
  if (out.dstPort === 0) return DropReason.UdpBadPort;
  return DropReason.Ok;
}

/** Parse and verify a UDP datagram in the `len`-byte upper-layer payload of `ip` (same buffer). */
export function parseUdp6(
  buf: Uint8Array,
  off: number,
  len: number,
  ip: Ipv6Header,
  out: UdpHeader,
  checksumVerified = false,
): DropReason {
  const reason = parseUdpFields(buf, off, len, out);
  if (reason !== DropReason.Ok) return reason;
  // RFC 8200 8.1: over IPv6 the checksum is mandatory; a zero one is dropped.
  if (out.checksum === 0) return DropReason.Udp6ZeroChecksum;
  if (!checksumVerified) {
    const pseudo = pseudoHeaderSum6(buf, ip.srcOff, buf, ip.dstOff, IpProtocol.Udp, out.length);
    if (checksum(buf, off, out.length, pseudo) !== 0) return DropReason.UdpBadChecksum;
  }
  if (out.dstPort === 0) return DropReason.UdpBadPort;
  return DropReason.Ok;
}

/** Write the header with a zero checksum (finish with setUdp4Checksum/setUdp6Checksum); returns 8. */
export function writeUdpHeader(
  buf: Uint8Array,
  off: number,
  srcPort: number,
  dstPort: number,
  length: number,
): number {
  write16(buf, off, srcPort);
  write16(buf, off + 2, dstPort);
  write16(buf, off + 4, length);
  write16(buf, off + 6, 0);
  return UDP_HLEN;
}

// RFC 768: a computed checksum of zero is sent as all ones, since zero means "none".
function nonZero(csum: number): number {
  return csum === 0 ? 0xffff : csum;
}

/** Fill in the checksum of the `length`-byte datagram at `off` (its checksum field must be 0). */
export function setUdp4Checksum(
  buf: Uint8Array,
  off: number,
  length: number,
  src: number,
  dst: number,
): void {
  const pseudo = pseudoHeaderSum4(src, dst, IpProtocol.Udp, length);
  write16(buf, off + 6, nonZero(checksum(buf, off, length, pseudo)));
}

export function setUdp6Checksum(
  buf: Uint8Array,
  off: number,
  length: number,
  src: Uint8Array,
  srcOff: number,
  dst: Uint8Array,
  dstOff: number,
): void {
  const pseudo = pseudoHeaderSum6(src, srcOff, dst, dstOff, IpProtocol.Udp, length);
  write16(buf, off + 6, nonZero(checksum(buf, off, length, pseudo)));
}

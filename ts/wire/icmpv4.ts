// ICMP for IPv4 (RFC 792). The checksum covers the whole message, no pseudo header.

import { write16 } from './bytes.js';
import { checksum } from './checksum.js';
import { DropReason } from './drop-reason.js';
import { ICMP_HLEN, IcmpHeader, readIcmpHeader, writeIcmpHeader } from './icmp.js';
import { IPV4_MIN_HLEN } from './ipv4.js';

export const ICMPV4_HLEN = ICMP_HLEN;

export const Icmpv4Type = {
  EchoReply: 0,
  DestinationUnreachable: 3,
  SourceQuench: 4,
  Redirect: 5,
  EchoRequest: 8,
  TimeExceeded: 11,
  ParameterProblem: 12,
  Timestamp: 13,
  TimestampReply: 14,
} as const;

export const Icmpv4DestUnreachableCode = {
  NetUnreachable: 0,
  HostUnreachable: 1,
  ProtocolUnreachable: 2,
  PortUnreachable: 3,
  FragmentationNeeded: 4, // RFC 1191: next-hop MTU in the low 16 bits of the rest of header
} as const;

/** Error messages quote the offending IP header and at least 8 bytes of its payload (RFC 792). */
export const ICMPV4_ERROR_MIN_QUOTE = IPV4_MIN_HLEN + 8;

/** An ICMP message; `rest` holds the echo identifier/sequence, next-hop MTU, pointer, gateway... */
export class Icmpv4Header extends IcmpHeader {}

// Highest code defined per type (RFC 792, RFC 1122 3.2.2.1, RFC 1812 5.2.7.1); -1 for types we do
// not check.
const MAX_CODE = new Int8Array(256).fill(-1);
MAX_CODE[Icmpv4Type.EchoReply] = 0;
MAX_CODE[Icmpv4Type.DestinationUnreachable] = 15;
MAX_CODE[Icmpv4Type.SourceQuench] = 0;
MAX_CODE[Icmpv4Type.Redirect] = 3;
MAX_CODE[Icmpv4Type.EchoRequest] = 0;
MAX_CODE[Icmpv4Type.TimeExceeded] = 1;
MAX_CODE[Icmpv4Type.ParameterProblem] = 2;
MAX_CODE[Icmpv4Type.Timestamp] = 0;
MAX_CODE[Icmpv4Type.TimestampReply] = 0;

export function isIcmpv4Error(type: number): boolean {
  return (
    type === Icmpv4Type.DestinationUnreachable ||
    type === Icmpv4Type.SourceQuench ||
    type === Icmpv4Type.Redirect ||
    type === Icmpv4Type.TimeExceeded ||
    type === Icmpv4Type.ParameterProblem
  );
}

/** Parse and verify an ICMP message of exactly `len` bytes (the IPv4 payload). */
export function parseIcmpv4(
  buf: Uint8Array,
  off: number,
  len: number,
  out: Icmpv4Header,
): DropReason {
  if (len < ICMPV4_HLEN) return DropReason.Icmpv4Truncated;
  if (checksum(buf, off, len) !== 0) return DropReason.Icmpv4BadChecksum;
  const type = buf[off];
  const code = buf[off + 1];
  const maxCode = MAX_CODE[type];
  if (maxCode >= 0 && code > maxCode) return DropReason.Icmpv4BadCode;
  if (isIcmpv4Error(type) && len - ICMPV4_HLEN < ICMPV4_ERROR_MIN_QUOTE) {
    return DropReason.Icmpv4ErrorTooShort;
  }
  readIcmpHeader(buf, off, len, out);
  return DropReason.Ok;
}

/**
 * Write the 8-byte header and the checksum over `messageLength` bytes (header + data, the data
 * already in place); returns 8.
 */
export function writeIcmpv4Header(
  buf: Uint8Array,
  off: number,
  type: number,
  code: number,
  rest: number,
  messageLength: number,
): number {
  writeIcmpHeader(buf, off, type, code, rest);
  // RFC 792: the checksum covers the whole message, no pseudo header.
  write16(buf, off + 2, checksum(buf, off, messageLength));
  return ICMPV4_HLEN;
}

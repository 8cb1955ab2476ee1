// What ICMP (RFC 792) and ICMPv6 (RFC 4443 2.1) messages share: an 8-byte header of type, code,
// checksum and a 32-bit word whose meaning depends on the type, then the message body. The types,
// codes and checksum rule of each version are in icmpv4.ts and icmpv6.ts (the ICMPv6 checksum
// also covers a pseudo header, RFC 4443 2.3).

import { read16, read32, write16, write32 } from './bytes.js';

export const ICMP_HLEN = 8;

export class IcmpHeader {
  type = 0;
  code = 0;
  checksum = 0;
  /** Bytes 4-7: identifier/sequence for echo, MTU, pointer, flags... */
  rest = 0;
  dataOff = 0;
  dataLen = 0;

  // RFC 792 echo, RFC 4443 4.1: identifier in the high 16 bits of the rest, sequence in the low.
  get echoId(): number {
    return this.rest >>> 16;
  }

  get echoSequence(): number {
    return this.rest & 0xffff;
  }
}

/** Reads the header of the `len`-byte message at `off` (at least ICMP_HLEN bytes) into `out`. */
export function readIcmpHeader(buf: Uint8Array, off: number, len: number, out: IcmpHeader): void {
  out.type = buf[off];
  out.code = buf[off + 1];
  out.checksum = read16(buf, off + 2);
  out.rest = read32(buf, off + 4);
  out.dataOff = off + ICMP_HLEN;
  out.dataLen = len - ICMP_HLEN;
}

/** Writes the header with a zero checksum (each version fills it in its own way); returns 8. */
export function writeIcmpHeader(
  buf: Uint8Array,
  off: number,
  type: number,
  code: number,
  rest: number,
): number {
  buf[off] = type;
  buf[off + 1] = code;
  write16(buf, off + 2, 0);
  write32(buf, off + 4, rest);
  return ICMP_HLEN;
}

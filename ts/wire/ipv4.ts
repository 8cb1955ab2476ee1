// IPv4 headers (RFC 791). Options are validated as type-length-value items and skipped: the engine
// acts on none of them (RFC 1122 3.2.1.8 lets a host ignore the ones it does not implement).

import { read16, read32, write16, write32 } from './bytes.js';
import { checksum } from './checksum.js';
import { DropReason } from './drop-reason.js';

export const IPV4_MIN_HLEN = 20;
export const IPV4_MAX_HLEN = 60;
/** RFC 791: the largest datagram, and so the largest fragment offset + fragment length. */
export const IPV4_MAX_DATAGRAM = 65535;

const FLAG_RESERVED = 0x8000;
const FLAG_DF = 0x4000;
const FLAG_MF = 0x2000;
const FRAG_OFFSET_MASK = 0x1fff;

const OPT_END = 0;
const OPT_NOP = 1;

export class Ipv4Header {
  headerLength = 0;
  dscp = 0;
  ecn = 0;
  totalLength = 0;
  identification = 0;
  dontFragment = false;
  moreFragments = false;
  /** In bytes (the field counts 8-byte units). */
  fragmentOffset = 0;
  ttl = 0;
  protocol = 0;
  checksum = 0;
  /** Unsigned 32-bit addresses. */
  src = 0;
  dst = 0;
  optionsOff = 0;
  optionsLen = 0;
  /** The datagram's payload: bytes past totalLength (Ethernet padding) are excluded. */
  payloadOff = 0;
  payloadLen = 0;
}

export function isIpv4Fragment(h: Ipv4Header): boolean {
  return h.moreFragments || h.fragmentOffset !== 0;
}

// RFC 791 3.1: a class-of-datagram item is type + length (covering both) + data, except the
// single-byte End of Option List and No Operation.
function optionsValid(buf: Uint8Array, off: number, len: number): boolean {
  const end = off + len;
  let i = off;
  while (i < end) {
    const type = buf[i];
    if (type === OPT_END) return true;
    if (type === OPT_NOP) {
      i++;
      continue;
    }
    if (i + 1 >= end) return false;
    const optLen = buf[i + 1];
    if (optLen < 2 || i + optLen > end) return false;
    i += optLen;
  }
  return true;
}

// RFC 1122 3.2.1.3: a source address is never a multicast or the limited broadcast address,
// "this network" (0.0.0.0/8, only while a host learns its address) or loopback (127.0.0.0/8, never
// outside the host); Linux drops all of them as martian sources.
function isValidSource(src: number): boolean {
  const net = src >>> 24;
  return net !== 0 && net !== 127 && src >>> 28 !== 0xe && src !== 0xffffffff;
}

/** Parse and verify an IPv4 header at `off`, `len` bytes available (the rest of the frame). */
export function parseIpv4(buf: Uint8Array, off: number, len: number, out: Ipv4Header): DropReason {
  if (len < IPV4_MIN_HLEN) return DropReason.Ipv4Truncated;
  const vihl = buf[off];
  if (vihl >>> 4 !== 4) return DropReason.Ipv4BadVersion;
  const hlen = (vihl & 0x0f) << 2;
  if (hlen < IPV4_MIN_HLEN) return DropReason.Ipv4BadHeaderLength;
  if (hlen > len) return DropReason.Ipv4Truncated;
  const total = read16(buf, off + 2);
  if (total < hlen) return DropReason.Ipv4BadTotalLength;
  if (total > len) return DropReason.Ipv4TotalLengthExceedsFrame;
  if (checksum(buf, off, hlen) !== 0) return DropReason.Ipv4BadChecksum;
  const flagsFrag = read16(buf, off + 6);
  if ((flagsFrag & FLAG_RESERVED) !== 0) return DropReason.Ipv4ReservedFlagSet;
  const fragOffset = (flagsFrag & FRAG_OFFSET_MASK) << 3;
  const more = (flagsFrag & FLAG_MF) !== 0;
  const payloadLen = total - hlen;
  // RFC 791 3.2: every fragment but the last carries a multiple of 8 bytes; no fragment reaches
  // past the largest datagram (the "ping of death").
  if (more && (payloadLen & 7) !== 0) return DropReason.Ipv4BadFragment;
  if (fragOffset + payloadLen > IPV4_MAX_DATAGRAM) return DropReason.Ipv4BadFragment;
  if (!optionsValid(buf, off + IPV4_MIN_HLEN, hlen - IPV4_MIN_HLEN))
    return DropReason.Ipv4BadOptions;
  const src = read32(buf, off + 12);
  if (!isValidSource(src)) return DropReason.Ipv4BadSource;

  const tos = buf[off + 1];
  out.headerLength = hlen;
  out.dscp = tos >>> 2;
  out.ecn = tos & 3;
  out.totalLength = total;
  out.identification = read16(buf, off + 4);
  out.dontFragment = (flagsFrag & FLAG_DF) !== 0;
  out.moreFragments = more;
  out.fragmentOffset = fragOffset;
  out.ttl = buf[off + 8];
  out.protocol = buf[off + 9];
  out.checksum = read16(buf, off + 10);
  out.src = src;
  out.dst = read32(buf, off + 16);
  out.optionsOff = off + IPV4_MIN_HLEN;
  out.optionsLen = hlen - IPV4_MIN_HLEN;
  out.payloadOff = off + hlen;
  out.payloadLen = payloadLen;
  return DropReason.Ok;
}

/**
 * Write an IPv4 header from `h` and fill in its checksum; returns the header length. Uses
 * h.headerLength (20..60): any option bytes must already be in place after the first 20 bytes.
 * Ignores h.checksum and the offset fields.
 */
export function writeIpv4Header(buf: Uint8Array, off: number, h: Ipv4Header): number {
  const hlen = h.headerLength;
  buf[off] = 0x40 | (hlen >>> 2);
  buf[off + 1] = (h.dscp << 2) | (h.ecn & 3);
  write16(buf, off + 2, h.totalLength);
  write16(buf, off + 4, h.identification);
  let flagsFrag = (h.fragmentOffset >>> 3) & FRAG_OFFSET_MASK;
  if (h.dontFragment) flagsFrag |= FLAG_DF;
  if (h.moreFragments) flagsFrag |= FLAG_MF;
  write16(buf, off + 6, flagsFrag);
  buf[off + 8] = h.ttl;
  buf[off + 9] = h.protocol;
  write16(buf, off + 10, 0);
  write32(buf, off + 12, h.src);
  write32(buf, off + 16, h.dst);
  write16(buf, off + 10, checksum(buf, off, hlen));
  return hlen;
}

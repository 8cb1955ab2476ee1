// IPv6 headers (RFC 8200) and the walk over the extension header chain to the upper-layer header.
// The walk is bounded (MAX_EXTENSION_HEADERS) and checks every length against the payload before
// reading, so a hostile chain costs a few loads and a drop reason.

import { read16, read32, write16, write32, copyBytes } from './bytes.js';
import { DropReason } from './drop-reason.js';
import { IpProtocol } from './ip-protocol.js';

export const IPV6_HLEN = 40;
export const IPV6_ADDR_LEN = 16;
export const IPV6_FRAGMENT_HLEN = 8;
/**
 * Extension headers walked before giving up. RFC 8200 sets no limit and RFC 8504 5.3 asks nodes to
 * bound this work; 8 covers every header RFC 8200 4.1 lists, once each, plus a second Destination
 * Options header, where real traffic carries one or two.
 */
export const MAX_EXTENSION_HEADERS = 8;

const OPT_PAD1 = 0;
const OPT_PADN = 1;

/** ICMPv6 Parameter Problem codes (RFC 4443 3.4) a drop may ask the caller to send. */
export const ParamProblemCode = {
  None: -1,
  ErroneousHeaderField: 0,
  UnrecognizedNextHeader: 1,
  UnrecognizedOption: 2,
} as const;

export class Ipv6Header {
  trafficClass = 0;
  flowLabel = 0;
  payloadLength = 0;
  /** The Next Header field of the fixed header. */
  nextHeader = 0;
  hopLimit = 0;
  /** Offsets of the 16-byte addresses in the parsed buffer. */
  srcOff = 0;
  dstOff = 0;
  /** Extension headers walked. */
  extensionCount = 0;
  /** Protocol of the first header the walk did not consume (TCP, UDP, ICMPv6, 59, unknown...). */
  upperProtocol = 0;
  upperOff = 0;
  upperLen = 0;
  /** Offset of the Fragment header, or -1. */
  fragmentHeaderOff = -1;
  /** From the Fragment header: offset in bytes, M flag, identification. */
  fragmentOffset = 0;
  moreFragments = false;
  fragmentId = 0;
  /**
   * When a drop calls for an ICMPv6 Parameter Problem (RFC 8200 4, 4.2, 4.4, 4.5): its code
   * (ParamProblemCode.None if none is due) and the pointer, counted from the IPv6 header start.
   * With errorOnlyIfUnicast the message is due only if the destination was not multicast.
   */
  errorCode: number = ParamProblemCode.None;
  errorPointer = 0;
  errorOnlyIfUnicast = false;
}

/** A non-atomic fragment: it needs reassembly (RFC 6946: offset 0 with M=0 is a whole packet). */
export function isIpv6Fragment(h: Ipv6Header): boolean {
  return h.fragmentHeaderOff >= 0 && (h.moreFragments || h.fragmentOffset !== 0);
}

function paramProblem(
  out: Ipv6Header,
  reason: DropReason,
  code: number,
  pointer: number,
  onlyIfUnicast = false,
): DropReason {
  out.errorCode = code;
  out.errorPointer = pointer;
  out.errorOnlyIfUnicast = onlyIfUnicast;
  return reason;
}

// RFC 8200 4.2: options are TLVs; the two high bits of an unrecognized type say what to do. We
// recognize only padding (Pad1, PadN) and act on no other option, so "skip" (00) options are
// skipped and the others drop the packet.
function walkOptions(
  buf: Uint8Array,
  ipOff: number,
  start: number,
  end: number,
  out: Ipv6Header,
): DropReason {
  let i = start;
  while (i < end) {
    const type = buf[i];
    if (type === OPT_PAD1) {
      i++;
      continue;
    }
    if (i + 2 > end || i + 2 + buf[i + 1] > end) {
      return paramProblem(
        out,
        DropReason.Ipv6BadOption,
        ParamProblemCode.ErroneousHeaderField,
        i + 1 - ipOff,
      );
    }
    const action = type >>> 6;
    if (type !== OPT_PADN && action !== 0) {
      const sendError = action >= 2;
      return paramProblem(
        out,
        DropReason.Ipv6UnknownOption,
        sendError ? ParamProblemCode.UnrecognizedOption : ParamProblemCode.None,
        i - ipOff,
        action === 3,
      );
    }
    i += 2 + buf[i + 1];
  }
  return DropReason.Ok;
}

/**
 * Parse the fixed header at `off` (`len` bytes available) and walk the extension headers. On Ok,
 * upperProtocol/upperOff/upperLen locate the upper-layer header. A non-atomic fragment stops the
 * walk at the Fragment header: what follows it is fragment data, not headers.
 */
export function parseIpv6(buf: Uint8Array, off: number, len: number, out: Ipv6Header): DropReason {
  out.errorCode = ParamProblemCode.None;
  if (len < IPV6_HLEN) return DropReason.Ipv6Truncated;
  const word0 = read32(buf, off);
  if (word0 >>> 28 !== 6) return DropReason.Ipv6BadVersion;
  const payloadLength = read16(buf, off + 4);
  if (IPV6_HLEN + payloadLength > len) return DropReason.Ipv6PayloadLengthExceedsFrame;
  // RFC 4291 2.7: multicast addresses are never sources.
  if (buf[off + 8] === 0xff) return DropReason.Ipv6BadSource;
  out.trafficClass = (word0 >>> 20) & 0xff;
  out.flowLabel = word0 & 0xfffff;
  out.payloadLength = payloadLength;
  out.nextHeader = buf[off + 6];
  out.hopLimit = buf[off + 7];
  out.srcOff = off + 8;
  out.dstOff = off + 24;
  out.fragmentHeaderOff = -1;
  out.fragmentOffset = 0;
  out.moreFragments = false;
  out.fragmentId = 0;
  return walkExtensionHeaders(buf, off, off + IPV6_HLEN + payloadLength, out);
}

function walkExtensionHeaders(
  buf: Uint8Array,
  ipOff: number,
  end: number,
  out: Ipv6Header,
): DropReason {
  let next = out.nextHeader;
  let nextFieldOff = ipOff + 6; // where `next` was read from, for Parameter Problem pointers
  let p = ipOff + IPV6_HLEN;
  let count = 0;
  while (isExtensionHeader(next)) {
    if (count === MAX_EXTENSION_HEADERS) return DropReason.Ipv6ExtChainTooLong;
    // RFC 8200 4.1: Hop-by-Hop Options only ever directly follow the IPv6 header.
    if (next === IpProtocol.HopByHop && count !== 0) {
      return paramProblem(
        out,
        DropReason.Ipv6HopByHopNotFirst,
        ParamProblemCode.UnrecognizedNextHeader,
        nextFieldOff - ipOff,
      );
    }
    if (p + 8 > end) return DropReason.Ipv6ExtHeaderTruncated;
    const hlen = next === IpProtocol.Ipv6Fragment ? IPV6_FRAGMENT_HLEN : (buf[p + 1] + 1) << 3;
    if (p + hlen > end) return DropReason.Ipv6ExtHeaderTruncated;
    count++;
    if (next === IpProtocol.Ipv6Routing) {
      // RFC 8200 4.4: with Segments Left 0 the header is ignored; a host routes no type, so any
      // other value is an error pointing at the Routing Type (type 0 is gone: RFC 5095).
      if (buf[p + 3] !== 0) {
        return paramProblem(
          out,
          DropReason.Ipv6RoutingUnsupported,
          ParamProblemCode.ErroneousHeaderField,
          p + 2 - ipOff,
        );
      }
    } else if (next === IpProtocol.Ipv6Fragment) {
      const reason = readFragmentHeader(buf, ipOff, p, end, out);
      if (reason !== DropReason.Ok) return reason;
      if (isIpv6Fragment(out)) {
        next = buf[p];
        p += hlen;
        break;
      }
    } else {
      const reason = walkOptions(buf, ipOff, p + 2, p + hlen, out);
      if (reason !== DropReason.Ok) return reason;
    }
    next = buf[p];
    nextFieldOff = p;
    p += hlen;
  }
  out.extensionCount = count;
  out.upperProtocol = next;
  out.upperOff = p;
  out.upperLen = end - p;
  return DropReason.Ok;
}

function isExtensionHeader(next: number): boolean {
  return (
    next === IpProtocol.HopByHop ||
    next === IpProtocol.Ipv6Routing ||
    next === IpProtocol.Ipv6Fragment ||
    next === IpProtocol.Ipv6DestinationOptions
  );
}

// RFC 8200 4.5: fragments other than the last carry a multiple of 8 bytes (else Parameter Problem
// code 0 pointing at Payload Length), and none reaches past 65535 bytes (pointer at the Fragment
// Offset field).
function readFragmentHeader(
  buf: Uint8Array,
  ipOff: number,
  p: number,
  end: number,
  out: Ipv6Header,
): DropReason {
  const offsetFlags = read16(buf, p + 2);
  const fragLen = end - (p + IPV6_FRAGMENT_HLEN);
  out.fragmentHeaderOff = p;
  out.fragmentOffset = offsetFlags & 0xfff8;
  out.moreFragments = (offsetFlags & 1) !== 0;
  out.fragmentId = read32(buf, p + 4);
  if (out.moreFragments && (fragLen & 7) !== 0) {
    return paramProblem(out, DropReason.Ipv6BadFragment, ParamProblemCode.ErroneousHeaderField, 4);
  }
  if (out.fragmentOffset + fragLen > 65535) {
    return paramProblem(
      out,
      DropReason.Ipv6BadFragment,
      ParamProblemCode.ErroneousHeaderField,
      p + 2 - ipOff,
    );
  }
  return DropReason.Ok;
}

/**
 * Write the fixed IPv6 header from h's trafficClass, flowLabel, payloadLength, nextHeader and
 * hopLimit, with the addresses copied from src/dst; returns 40.
 */
export function writeIpv6Header(
  buf: Uint8Array,
  off: number,
  h: Ipv6Header,
  src: Uint8Array,
  srcOff: number,
  dst: Uint8Array,
  dstOff: number,
): number {
  write32(buf, off, ((6 << 28) | ((h.trafficClass & 0xff) << 20) | (h.flowLabel & 0xfffff)) >>> 0);
  write16(buf, off + 4, h.payloadLength);
  buf[off + 6] = h.nextHeader;
  buf[off + 7] = h.hopLimit;
  copyBytes(buf, off + 8, src, srcOff, IPV6_ADDR_LEN);
  copyBytes(buf, off + 24, dst, dstOff, IPV6_ADDR_LEN);
  return IPV6_HLEN;
}

/** Write a Fragment header (RFC 8200 4.5); `fragmentOffset` in bytes, a multiple of 8. Returns 8. */
export function writeIpv6FragmentHeader(
  buf: Uint8Array,
  off: number,
  nextHeader: number,
  fragmentOffset: number,
  moreFragments: boolean,
  identification: number,
): number {
  buf[off] = nextHeader;
  buf[off + 1] = 0;
  write16(buf, off + 2, (fragmentOffset & 0xfff8) | (moreFragments ? 1 : 0));
  write32(buf, off + 4, identification);
  return IPV6_FRAGMENT_HLEN;
}

/**
 * Write a Hop-by-Hop or Destination Options header of `length` bytes (a multiple of 8, >= 8) that
 * holds only padding (RFC 8200 4.2 Pad1/PadN); returns `length`.
 */
export function writeIpv6PaddingOptionsHeader(
  buf: Uint8Array,
  off: number,
  nextHeader: number,
  length: number,
): number {
  buf[off] = nextHeader;
  buf[off + 1] = (length >>> 3) - 1;
  const end = off + length;
  let i = off + 2;
  while (i < end) {
    const room = end - i;
    if (room === 1) {
      buf[i++] = OPT_PAD1;
      continue;
    }
    // One PadN carries at most 255 data bytes; a lone byte left over becomes a Pad1.
    const n = Math.min(room, 257);
    buf[i] = OPT_PADN;
    buf[i + 1] = n - 2;
    for (let j = 2; j < n; j++) buf[i + j] = 0;
    i += n;
  }
  return length;
}

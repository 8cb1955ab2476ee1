// ICMPv6 (RFC 4443) and the Neighbor Discovery messages (RFC 4861) with the options the engine uses:
// source/target link-layer address, prefix information, MTU. The checksum covers the IPv6 pseudo
// header (RFC 4443 2.3).

import { read32, write16, write32, copyBytes } from './bytes.js';
import { checksum, pseudoHeaderSum6 } from './checksum.js';
import { DropReason } from './drop-reason.js';
import { ETH_ALEN } from './ethernet.js';
import { ICMP_HLEN, IcmpHeader, readIcmpHeader, writeIcmpHeader } from './icmp.js';
import { IpProtocol } from './ip-protocol.js';
import { IPV6_HLEN, type Ipv6Header } from './ipv6.js';
import {
  isIpv6LinkLocal,
  isIpv6Multicast,
  isIpv6SolicitedNodeMulticast,
  isIpv6Unspecified,
} from './address.js';

export const ICMPV6_HLEN = ICMP_HLEN;

export const Icmpv6Type = {
  DestinationUnreachable: 1,
  PacketTooBig: 2,
  TimeExceeded: 3,
  ParameterProblem: 4,
  EchoRequest: 128,
  EchoReply: 129,
  RouterSolicitation: 133,
  RouterAdvertisement: 134,
  NeighborSolicitation: 135,
  NeighborAdvertisement: 136,
  Redirect: 137,
} as const;

export const NdOptionType = {
  SourceLinkLayerAddress: 1,
  TargetLinkLayerAddress: 2,
  PrefixInformation: 3,
  RedirectedHeader: 4,
  Mtu: 5,
} as const;

/** Neighbor Advertisement flags in the rest-of-header word (RFC 4861 4.4). */
export const NaFlag = {
  Router: 0x80000000,
  Solicited: 0x40000000,
  Override: 0x20000000,
} as const;

/** RFC 4861 6.1, 7.1: ND messages arrive with hop limit 255, proof they were not routed. */
export const ND_HOP_LIMIT = 255;

// Smallest message per ND type, ICMPv6 header included (RFC 4861 6.1.1, 6.1.2, 7.1.1, 7.1.2, 8.1).
const ND_MIN_LEN: Record<number, number> = { 133: 8, 134: 16, 135: 24, 136: 24, 137: 40 };

// RFC 4443 2.4(c): errors quote as much of the invoking packet as fits; at least its IPv6 header.
export const ICMPV6_ERROR_MIN_LEN = ICMPV6_HLEN + IPV6_HLEN;

/**
 * An ICMPv6 message; `rest` holds the echo identifier/sequence, MTU, pointer, NA flags, RA hop
 * limit/flags/lifetime.
 */
export class Icmpv6Header extends IcmpHeader {
  // Neighbor Discovery (RFC 4861 4); offsets are -1 when absent.
  targetOff = -1;
  optionsOff = 0;
  optionsLen = 0;
  /** Offset of the 6-byte address inside a Source/Target Link-Layer Address option. */
  sourceMacOff = -1;
  targetMacOff = -1;
  /** First Prefix Information option and how many there are. */
  prefixInfoOff = -1;
  prefixInfoCount = 0;
  /** MTU option value, or -1. */
  mtu = -1;
  /** Router Advertisement: reachable time and retrans timer (ms). */
  reachableTime = 0;
  retransTimer = 0;
}

export function isIcmpv6Error(type: number): boolean {
  return type < 128;
}

/** RFC 4861 4.1-4.5: router solicitation (133) through redirect (137). */
export function isNeighborDiscovery(type: number): boolean {
  return type >= Icmpv6Type.RouterSolicitation && type <= Icmpv6Type.Redirect;
}

// Highest code per type we check (RFC 4443 3, RFC 8883); ND codes are always 0.
function maxCode(type: number): number {
  switch (type) {
    case Icmpv6Type.DestinationUnreachable:
      return 8;
    case Icmpv6Type.TimeExceeded:
      return 1;
    case Icmpv6Type.ParameterProblem:
      return 10;
    case Icmpv6Type.PacketTooBig:
    case Icmpv6Type.EchoRequest:
    case Icmpv6Type.EchoReply:
      return 0;
    default:
      return isNeighborDiscovery(type) ? 0 : 255;
  }
}

/**
 * Parse and verify an ICMPv6 message of exactly `len` bytes carried by `ip` (parsed from the same
 * buffer: the pseudo header reads its addresses in place).
 */
export function parseIcmpv6(
  buf: Uint8Array,
  off: number,
  len: number,
  ip: Ipv6Header,
  out: Icmpv6Header,
): DropReason {
  if (len < ICMPV6_HLEN) return DropReason.Icmpv6Truncated;
  const pseudo = pseudoHeaderSum6(buf, ip.srcOff, buf, ip.dstOff, IpProtocol.Icmpv6, len);
  if (checksum(buf, off, len, pseudo) !== 0) return DropReason.Icmpv6BadChecksum;
  const type = buf[off];
  const code = buf[off + 1];
  if (code > maxCode(type)) return DropReason.Icmpv6BadCode;
  if (isIcmpv6Error(type) && len < ICMPV6_ERROR_MIN_LEN) return DropReason.Icmpv6ErrorTooShort;
  readIcmpHeader(buf, off, len, out);
  out.targetOff = -1;
  out.sourceMacOff = -1;
  out.targetMacOff = -1;
  out.prefixInfoOff = -1;
  out.prefixInfoCount = 0;
  out.mtu = -1;
  if (!isNeighborDiscovery(type)) return DropReason.Ok;
  return parseNd(buf, off, len, ip, out);
}

function parseNd(
  buf: Uint8Array,
  off: number,
  len: number,
  ip: Ipv6Header,
  out: Icmpv6Header,
): DropReason {
  const type = out.type;
  if (ip.hopLimit !== ND_HOP_LIMIT) return DropReason.NdBadHopLimit;
  const minLen = ND_MIN_LEN[type];
  if (len < minLen) return DropReason.NdTruncated;
  out.optionsOff = off + minLen;
  out.optionsLen = len - minLen;
  const reason = parseNdOptions(buf, out.optionsOff, out.optionsLen, out);
  if (reason !== DropReason.Ok) return reason;
  const srcUnspecified = isIpv6Unspecified(buf, ip.srcOff);
  switch (type) {
    case Icmpv6Type.RouterSolicitation:
      // RFC 4861 6.1.1: no source link-layer option from the unspecified address.
      if (srcUnspecified && out.sourceMacOff >= 0) return DropReason.NdBadAddressing;
      break;
    case Icmpv6Type.RouterAdvertisement:
      // RFC 4861 6.1.2: routers advertise from their link-local address.
      if (!isIpv6LinkLocal(buf, ip.srcOff)) return DropReason.NdBadAddressing;
      out.reachableTime = read32(buf, off + 8);
      out.retransTimer = read32(buf, off + 12);
      break;
    case Icmpv6Type.NeighborSolicitation:
      out.targetOff = off + 8;
      if (isIpv6Multicast(buf, out.targetOff)) return DropReason.NdBadTarget;
      // RFC 4861 7.1.1: duplicate address detection probes go to the solicited-node address and
      // carry no source link-layer option.
      if (srcUnspecified) {
        if (!isIpv6SolicitedNodeMulticast(buf, ip.dstOff)) return DropReason.NdBadAddressing;
        if (out.sourceMacOff >= 0) return DropReason.NdBadAddressing;
      }
      break;
    case Icmpv6Type.NeighborAdvertisement:
      out.targetOff = off + 8;
      if (isIpv6Multicast(buf, out.targetOff)) return DropReason.NdBadTarget;
      // RFC 4861 7.1.2: a solicited advertisement is unicast.
      if (isIpv6Multicast(buf, ip.dstOff) && (out.rest & NaFlag.Solicited) !== 0) {
        return DropReason.NdBadAddressing;
      }
      break;
    case Icmpv6Type.Redirect:
      // RFC 4861 8.1: only the first-hop router (link-local) redirects.
      if (!isIpv6LinkLocal(buf, ip.srcOff)) return DropReason.NdBadAddressing;
      out.targetOff = off + 8;
      break;
  }
  return DropReason.Ok;
}

// RFC 4861 4.6: options are type, length in 8-byte units (never 0), value. Options with a length
// that does not fit Ethernet or the option's format are ignored, like unknown ones.
function parseNdOptions(buf: Uint8Array, off: number, len: number, out: Icmpv6Header): DropReason {
  const end = off + len;
  let p = off;
  while (p < end) {
    if (p + 2 > end) return DropReason.NdBadOption;
    const type = buf[p];
    const optLen = buf[p + 1] << 3;
    if (optLen === 0 || p + optLen > end) return DropReason.NdBadOption;
    if (type === NdOptionType.SourceLinkLayerAddress && optLen === 8) out.sourceMacOff = p + 2;
    else if (type === NdOptionType.TargetLinkLayerAddress && optLen === 8) out.targetMacOff = p + 2;
    else if (type === NdOptionType.Mtu && optLen === 8) out.mtu = read32(buf, p + 4);
    else if (type === NdOptionType.PrefixInformation && optLen === 32) {
      if (out.prefixInfoCount++ === 0) out.prefixInfoOff = p;
    }
    p += optLen;
  }
  return DropReason.Ok;
}

/** The 8-byte ICMPv6 header with a zero checksum; finish with setIcmpv6Checksum. Returns 8. */
export { writeIcmpHeader as writeIcmpv6Header };

/** Fill in the checksum of the `len`-byte message at `off` (its checksum field must be 0). */
export function setIcmpv6Checksum(
  buf: Uint8Array,
  off: number,
  len: number,
  src: Uint8Array,
  srcOff: number,
  dst: Uint8Array,
  dstOff: number,
): void {
  const pseudo = pseudoHeaderSum6(src, srcOff, dst, dstOff, IpProtocol.Icmpv6, len);
  write16(buf, off + 2, checksum(buf, off, len, pseudo));
}

function writeLinkLayerOption(
  buf: Uint8Array,
  off: number,
  type: number,
  mac: Uint8Array,
  macOff: number,
): number {
  buf[off] = type;
  buf[off + 1] = 1;
  copyBytes(buf, off + 2, mac, macOff, ETH_ALEN);
  return 8;
}

/**
 * Neighbor Solicitation (RFC 4861 4.3) for `target`, with a source link-layer option unless `mac`
 * is null (duplicate address detection). Returns the message length; checksum still to set.
 */
export function writeNeighborSolicitation(
  buf: Uint8Array,
  off: number,
  target: Uint8Array,
  targetOff: number,
  mac: Uint8Array | null,
  macOff: number,
): number {
  const type = Icmpv6Type.NeighborSolicitation;
  const option = NdOptionType.SourceLinkLayerAddress;
  return writeTargetMessage(buf, off, type, 0, target, targetOff, option, mac, macOff);
}

/**
 * Neighbor Advertisement (RFC 4861 4.4) with NaFlag bits in `flags` and a target link-layer option
 * unless `mac` is null. Returns the message length; checksum still to set.
 */
export function writeNeighborAdvertisement(
  buf: Uint8Array,
  off: number,
  flags: number,
  target: Uint8Array,
  targetOff: number,
  mac: Uint8Array | null,
  macOff: number,
): number {
  const type = Icmpv6Type.NeighborAdvertisement;
  const option = NdOptionType.TargetLinkLayerAddress;
  return writeTargetMessage(buf, off, type, flags >>> 0, target, targetOff, option, mac, macOff);
}

// RFC 4861 4.3, 4.4: solicitation and advertisement share one layout: the header (flags or
// reserved in its rest), the 16-byte target address, then a link-layer address option.
function writeTargetMessage(
  buf: Uint8Array,
  off: number,
  type: number,
  rest: number,
  target: Uint8Array,
  targetOff: number,
  optionType: number,
  mac: Uint8Array | null,
  macOff: number,
): number {
  writeIcmpHeader(buf, off, type, 0, rest);
  copyBytes(buf, off + 8, target, targetOff, 16);
  if (mac === null) return 24;
  return 24 + writeLinkLayerOption(buf, off + 24, optionType, mac, macOff);
}

/** Router Solicitation (RFC 4861 4.1); returns the message length; checksum still to set. */
export function writeRouterSolicitation(
  buf: Uint8Array,
  off: number,
  mac: Uint8Array | null,
  macOff: number,
): number {
  writeIcmpHeader(buf, off, Icmpv6Type.RouterSolicitation, 0, 0);
  if (mac === null) return 8;
  return 8 + writeLinkLayerOption(buf, off + 8, NdOptionType.SourceLinkLayerAddress, mac, macOff);
}

/** ff02::1:ffXX:XXXX for the low 24 bits of `addr` (RFC 4291 2.7.1); writes 16 bytes. */
export function writeSolicitedNodeAddress(
  buf: Uint8Array,
  off: number,
  addr: Uint8Array,
  addrOff: number,
): void {
  write32(buf, off, 0xff020000);
  write32(buf, off + 4, 0);
  write32(buf, off + 8, 1);
  buf[off + 12] = 0xff;
  copyBytes(buf, off + 13, addr, addrOff + 13, 3);
}

/** The Ethernet address of an IPv6 multicast group: 33:33 and its low 32 bits (RFC 2464 7). */
export function writeIpv6MulticastMac(
  buf: Uint8Array,
  off: number,
  group: Uint8Array,
  groupOff: number,
): void {
  buf[off] = 0x33;
  buf[off + 1] = 0x33;
  copyBytes(buf, off + 2, group, groupOff + 12, 4);
}

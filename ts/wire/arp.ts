// ARP for IPv4 over Ethernet (RFC 826). Other hardware/protocol pairs are dropped: the engine
// resolves nothing else.

import { read16, read32, write16, write32, copyBytes } from './bytes.js';
import { DropReason } from './drop-reason.js';
import { ETH_ALEN, EtherType } from './ethernet.js';

export const ARP_LEN = 28;
export const ARP_HTYPE_ETHERNET = 1;

export const ArpOperation = {
  Request: 1,
  Reply: 2,
} as const;

export class ArpPacket {
  operation = 0;
  /** Offsets of the sender/target hardware addresses in the parsed buffer. */
  senderMacOff = 0;
  targetMacOff = 0;
  /** Protocol addresses as unsigned 32-bit IPv4 addresses. */
  senderIp = 0;
  targetIp = 0;
}

export function parseArp(buf: Uint8Array, off: number, len: number, out: ArpPacket): DropReason {
  if (len < ARP_LEN) return DropReason.ArpTruncated;
  if (read16(buf, off) !== ARP_HTYPE_ETHERNET) return DropReason.ArpBadHardwareType;
  if (read16(buf, off + 2) !== EtherType.Ipv4) return DropReason.ArpBadProtocolType;
  if (buf[off + 4] !== ETH_ALEN || buf[off + 5] !== 4) return DropReason.ArpBadAddressLength;
  const op = read16(buf, off + 6);
  if (op !== ArpOperation.Request && op !== ArpOperation.Reply) return DropReason.ArpBadOperation;
  out.operation = op;
  out.senderMacOff = off + 8;
  out.senderIp = read32(buf, off + 14);
  out.targetMacOff = off + 18;
  out.targetIp = read32(buf, off + 24);
  return DropReason.Ok;
}

/** Write an Ethernet/IPv4 ARP packet; returns its length (28). */
export function writeArp(
  buf: Uint8Array,
  off: number,
  operation: number,
  senderMac: Uint8Array,
  senderMacOff: number,
  senderIp: number,
  targetMac: Uint8Array,
  targetMacOff: number,
  targetIp: number,
): number {
  write16(buf, off, ARP_HTYPE_ETHERNET);
  write16(buf, off + 2, EtherType.Ipv4);
  buf[off + 4] = ETH_ALEN;
  buf[off + 5] = 4;
  write16(buf, off + 6, operation);
  copyBytes(buf, off + 8, senderMac, senderMacOff, ETH_ALEN);
  write32(buf, off + 14, senderIp);
  copyBytes(buf, off + 18, targetMac, targetMacOff, ETH_ALEN);
  write32(buf, off + 24, targetIp);
  return ARP_LEN;
}

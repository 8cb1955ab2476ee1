// Ethernet II frames (IEEE 802.3 with an EtherType) and IEEE 802.1Q / 802.1ad VLAN tags.

import { read16, write16, copyBytes } from './bytes.js';
import { DropReason } from './drop-reason.js';

export const ETH_ALEN = 6;
export const ETH_HLEN = 14;
export const VLAN_HLEN = 4;
/** Smallest Ethernet frame without FCS; shorter frames are padded on transmit (IEEE 802.3 4.2.3.3). */
export const ETH_ZLEN = 60;

export const EtherType = {
  Ipv4: 0x0800,
  Arp: 0x0806,
  Vlan: 0x8100, // IEEE 802.1Q C-tag
  QinQ: 0x88a8, // IEEE 802.1ad S-tag
  Ipv6: 0x86dd,
} as const;

// Values below this are IEEE 802.3 length fields (LLC/SNAP frames), not EtherTypes.
const ETHERTYPE_MIN = 0x0600;

/** Tags accepted in one frame: an 802.1ad S-tag over an 802.1Q C-tag at most. */
export const MAX_VLAN_TAGS = 2;

export class EthernetHeader {
  /** Offsets of the 6-byte addresses in the parsed buffer. */
  dstOff = 0;
  srcOff = 0;
  /** The EtherType after any VLAN tags. */
  etherType = 0;
  vlanCount = 0;
  /** Tag control information (PCP:3 DEI:1 VID:12) of the outer and inner tag; 0 when absent. */
  outerTci = 0;
  innerTci = 0;
  payloadOff = 0;
  payloadLen = 0;
}

export function vlanId(tci: number): number {
  return tci & 0x0fff;
}

export function vlanPriority(tci: number): number {
  return tci >>> 13;
}

function isTpid(type: number): boolean {
  return type === EtherType.Vlan || type === EtherType.QinQ;
}

/** Parse an Ethernet II header (with up to two VLAN tags) at `off`, `len` bytes available. */
export function parseEthernet(
  buf: Uint8Array,
  off: number,
  len: number,
  out: EthernetHeader,
): DropReason {
  if (len < ETH_HLEN) return DropReason.EthTruncated;
  out.dstOff = off;
  out.srcOff = off + ETH_ALEN;
  out.vlanCount = 0;
  out.outerTci = 0;
  out.innerTci = 0;
  if ((buf[off + ETH_ALEN] & 1) !== 0) return DropReason.EthSrcMulticast;
  let typeOff = off + 2 * ETH_ALEN;
  let type = read16(buf, typeOff);
  while (isTpid(type)) {
    if (out.vlanCount === MAX_VLAN_TAGS) return DropReason.EthTooManyVlanTags;
    if (typeOff + 2 + VLAN_HLEN > off + len) return DropReason.EthVlanTruncated;
    const tci = read16(buf, typeOff + 2);
    if (out.vlanCount === 0) out.outerTci = tci;
    else out.innerTci = tci;
    out.vlanCount++;
    typeOff += VLAN_HLEN;
    type = read16(buf, typeOff);
  }
  if (type < ETHERTYPE_MIN) return DropReason.EthNotEthernetII;
  out.etherType = type;
  out.payloadOff = typeOff + 2;
  out.payloadLen = off + len - out.payloadOff;
  return DropReason.Ok;
}

/** Write an untagged Ethernet II header; returns its length (14). */
export function writeEthernetHeader(
  buf: Uint8Array,
  off: number,
  dst: Uint8Array,
  dstOff: number,
  src: Uint8Array,
  srcOff: number,
  etherType: number,
): number {
  copyBytes(buf, off, dst, dstOff, ETH_ALEN);
  copyBytes(buf, off + ETH_ALEN, src, srcOff, ETH_ALEN);
  write16(buf, off + 2 * ETH_ALEN, etherType);
  return ETH_HLEN;
}

/** Write an Ethernet II header with one 802.1Q tag; returns its length (18). */
export function writeEthernetVlanHeader(
  buf: Uint8Array,
  off: number,
  dst: Uint8Array,
  dstOff: number,
  src: Uint8Array,
  srcOff: number,
  tci: number,
  etherType: number,
): number {
  writeEthernetHeader(buf, off, dst, dstOff, src, srcOff, EtherType.Vlan);
  write16(buf, off + ETH_HLEN, tci);
  write16(buf, off + ETH_HLEN + 2, etherType);
  return ETH_HLEN + VLAN_HLEN;
}

// --- MAC address helpers ---------------------------------------------------------------------

export function isMulticastMac(buf: Uint8Array, off: number): boolean {
  return (buf[off] & 1) !== 0;
}

export function isBroadcastMac(buf: Uint8Array, off: number): boolean {
  return (
    (buf[off] & buf[off + 1] & buf[off + 2] & buf[off + 3] & buf[off + 4] & buf[off + 5]) === 0xff
  );
}

/** Cold path: "aa:bb:cc:dd:ee:ff" (or with '-') to 6 bytes; throws EINVAL. */
export function parseMac(text: string): Uint8Array {
  const m =
    /^([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})$/i.exec(
      text,
    );
  if (m === null) {
    throw Object.assign(
      new Error(`'${text}' is not a MAC address; write it as aa:bb:cc:dd:ee:ff`),
      {
        code: 'EINVAL',
      },
    );
  }
  const mac = new Uint8Array(ETH_ALEN);
  for (let i = 0; i < ETH_ALEN; i++) mac[i] = parseInt(m[i + 1], 16);
  return mac;
}

/** Cold path: 6 bytes at `off` as lowercase "aa:bb:cc:dd:ee:ff". */
export function formatMac(buf: Uint8Array, off = 0): string {
  const parts: string[] = [];
  for (let i = 0; i < ETH_ALEN; i++) parts.push(buf[off + i].toString(16).padStart(2, '0'));
  return parts.join(':');
}

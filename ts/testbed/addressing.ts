// Names and addresses of a test bed, all derived from its slot number so that beds living at the
// same time never collide: one /24 of 198.18.0.0/15 (RFC 2544 benchmarking range) and one /64 of
// 2001:2::/48 (RFC 5180 benchmarking range) per slot, two /24s per 198.x octet pair.

/** 198.18.0.0/15 holds 512 /24 networks; each bed takes one. */
export const SLOT_COUNT = 512;

export const NETNS_PREFIX = 'xdpnet-';
export const IF_PREFIX = 'xn';

export interface BedNames {
  slot: number;
  name: string;
  netns: string;
  engineIf: string;
  peerIf: string;
}

export interface BedAddresses {
  engineMac: string;
  peerMac: string;
  engineIpv4: string;
  peerIpv4: string;
  ipv4Prefix: 24;
  engineIpv6: string;
  peerIpv6: string;
  ipv6Prefix: 64;
}

export function isValidSlot(slot: number): boolean {
  return Number.isInteger(slot) && slot >= 0 && slot < SLOT_COUNT;
}

/** `xn<slot>e` is at most 6 characters, well inside IFNAMSIZ (15 + NUL). */
export function bedNames(slot: number): BedNames {
  const name = `${NETNS_PREFIX}${slot}`;
  return {
    slot,
    name,
    netns: name,
    engineIf: `${IF_PREFIX}${slot}e`,
    peerIf: `${IF_PREFIX}${slot}p`,
  };
}

/** A spare ifb inside the bed's namespace that the loss filter drops frames into (netem.ts). */
export function sinkIfName(slot: number): string {
  return `${IF_PREFIX}${slot}s`;
}

/**
 * A wire bed (`TestBed.up({ wire: true })`) puts a relay between the two veth pairs, in a
 * namespace of its own with no addresses: `xdpnet-<slot>-wire` holding `xn<slot>we` (the
 * engine's veth partner) and `xn<slot>wp` (the peer's veth partner), at most 7 characters.
 */
export interface WireNames {
  wireNetns: string;
  wireEngineIf: string;
  wirePeerIf: string;
}

export function wireNames(slot: number): WireNames {
  return {
    wireNetns: `${NETNS_PREFIX}${slot}-wire`,
    wireEngineIf: `${IF_PREFIX}${slot}we`,
    wirePeerIf: `${IF_PREFIX}${slot}wp`,
  };
}

/** The slot a bed name stands for, or undefined when the name is not one of ours. */
export function slotOfName(name: string): number | undefined {
  const match = /^xdpnet-(\d{1,3})$/.exec(name);
  if (!match) return undefined;
  const slot = Number(match[1]);
  return isValidSlot(slot) && String(slot) === match[1] ? slot : undefined;
}

/** True when every name equals what the slot derives: the only names a bed may ever delete. */
export function namesMatchSlot(names: BedNames): boolean {
  if (!isValidSlot(names.slot)) return false;
  const expected = bedNames(names.slot);
  return (
    names.name === expected.name &&
    names.netns === expected.netns &&
    names.engineIf === expected.engineIf &&
    names.peerIf === expected.peerIf
  );
}

function hexByte(n: number): string {
  return n.toString(16).padStart(2, '0');
}

/**
 * Locally administered unicast MACs (02:...) spelling "xn" then the slot, so a capture tells
 * which bed and which end a frame came from.
 */
function macFor(slot: number, end: 1 | 2): string {
  return ['02', '78', '6e', hexByte(slot >> 8), hexByte(slot & 0xff), hexByte(end)].join(':');
}

export function bedAddresses(slot: number): BedAddresses {
  const net4 = `198.${18 + (slot >> 8)}.${slot & 0xff}`;
  // RFC 5952 canonical text, as `ip` prints it: the longest run of zero groups becomes '::'.
  const net6 = slot === 0 ? '2001:2:' : `2001:2:0:${slot.toString(16)}:`;
  return {
    engineMac: macFor(slot, 1),
    peerMac: macFor(slot, 2),
    engineIpv4: `${net4}.1`,
    peerIpv4: `${net4}.2`,
    ipv4Prefix: 24,
    engineIpv6: `${net6}:1`,
    peerIpv6: `${net6}:2`,
    ipv6Prefix: 64,
  };
}

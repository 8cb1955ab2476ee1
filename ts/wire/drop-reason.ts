// Why a frame was dropped. Parse functions return one of these (Ok = 0) instead of throwing, and a
// worker counts them in a typed array indexed by reason, the way Linux counts skb drop reasons.

export enum DropReason {
  Ok = 0,

  // Ethernet II / IEEE 802.1Q
  EthTruncated,
  EthNotEthernetII, // EtherType < 0x0600 is an IEEE 802.3 length field, not a type
  EthVlanTruncated,
  EthTooManyVlanTags,
  EthSrcMulticast, // IEEE 802: a source address is never a group address

  // ARP (RFC 826)
  ArpTruncated,
  ArpBadHardwareType,
  ArpBadProtocolType,
  ArpBadAddressLength,
  ArpBadOperation,

  // IPv4 (RFC 791, RFC 1122)
  Ipv4Truncated,
  Ipv4BadVersion,
  Ipv4BadHeaderLength,
  Ipv4BadTotalLength,
  Ipv4TotalLengthExceedsFrame,
  Ipv4BadChecksum,
  Ipv4ReservedFlagSet,
  Ipv4BadFragment,
  Ipv4BadOptions,
  Ipv4BadSource,

  // IPv6 (RFC 8200)
  Ipv6Truncated,
  Ipv6BadVersion,
  Ipv6PayloadLengthExceedsFrame,
  Ipv6BadSource,
  Ipv6HopByHopNotFirst,
  Ipv6ExtHeaderTruncated,
  Ipv6ExtChainTooLong,
  Ipv6BadOption,
  Ipv6UnknownOption,
  Ipv6RoutingUnsupported,
  Ipv6BadFragment,

  // ICMPv4 (RFC 792)
  Icmpv4Truncated,
  Icmpv4BadChecksum,
  Icmpv4BadCode,
  Icmpv4ErrorTooShort,

  // ICMPv6 (RFC 4443) and Neighbor Discovery (RFC 4861)
  Icmpv6Truncated,
  Icmpv6BadChecksum,
  Icmpv6BadCode,
  Icmpv6ErrorTooShort,
  NdBadHopLimit,
  NdTruncated,
  NdBadOption,
  NdBadTarget,
  NdBadAddressing,

  // UDP (RFC 768)
  UdpTruncated,
  UdpBadLength,
  UdpLengthExceedsPacket,
  UdpBadChecksum,
  Udp6ZeroChecksum,
  UdpBadPort,

  // TCP (RFC 9293)
  TcpTruncated,
  TcpBadDataOffset,
  TcpDataOffsetExceedsSegment,
  TcpBadChecksum,
  TcpBadPort,
  TcpBadFlags,
  TcpOptionTruncated,
  TcpBadOptionLength,

  // Interface layer (ts/iface): frames that parse but are not ours or cannot be delivered
  EthNotForUs, // destination MAC neither ours, broadcast nor a group we joined
  EthUnknownType,
  EthVlanNotConfigured,
  ArpNotForUs, // target protocol address not one of ours
  ArpAddressConflict, // someone else claims one of our IPv4 addresses (RFC 5227 2.4)
  Ipv4NotForUs,
  Ipv4UnknownProtocol,
  Ipv6NotForUs,
  Ipv6UnknownNextHeader,
  Ipv6TentativeAddress, // RFC 4862 5.4: a tentative address is not yet assigned
  NdNotForUs, // target not one of our addresses
  DadDuplicate, // RFC 4862 5.4.5: duplicate address detection found our address in use
  FragOverlap, // RFC 5722, RFC 791 policy: the whole datagram is discarded
  FragDuplicate, // an exact duplicate fragment (RFC 8200 4.5 allows dropping just it)
  FragDiscarded, // a fragment of a datagram already discarded for an overlap
  FragTimeout, // RFC 791, RFC 8200 4.5: reassembly did not finish in time
  FragEvicted, // reassembly memory full: the oldest datagram made room
  FragTooManyPieces,
  FragTooBig, // reassembled datagram would exceed the buffer (65535 + headers)
  IcmpIgnored, // an ICMP/ICMPv6 type the host does not act on
  IcmpErrorUnmatched, // an ICMP error quoting something we cannot attribute
  UdpNoSocket, // nobody bound to the port: ICMP port unreachable (rate limited)
  NoTransport, // TCP/UDP with no transport registered
  NeighbourQueueOverflow, // RFC 1122 2.3.2.2: the oldest packet waiting for resolution went
  NeighbourUnresolved, // resolution failed or timed out
  NeighbourTableFull,
  TxNoFrame, // no free frame to build a packet or fragment in
  TxRingFull,

  // AF_XDP multi-buffer chains (Documentation/networking/af_xdp.rst, "Multi-Buffer Support")
  RxChainNotEnabled, // a packet spanning several buffers at an MTU one buffer holds
  RxChainTooLong, // more buffers than the kernel makes (18), or longer than the MTU allows
  RxChainTruncated, // the batch ended inside a chain (the kernel publishes whole packets)
  RxChainNoFrame, // no free run of frames to gather the chain's buffers in
}

function snakeCase(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase();
}

function reasonNames(): readonly string[] {
  const names: string[] = [];
  for (const [key, value] of Object.entries(DropReason)) {
    if (typeof value === 'number') names[value] = snakeCase(key);
  }
  return Object.freeze(names);
}

/** Report names indexed by reason, e.g. DROP_REASON_NAMES[DropReason.Ipv4BadChecksum] = 'ipv4_bad_checksum'. */
export const DROP_REASON_NAMES: readonly string[] = reasonNames();

/** Number of reasons (Ok included): the length of a counter array. */
export const DROP_REASON_COUNT: number = DROP_REASON_NAMES.length;

/** A per-worker counter array indexed by DropReason (Float64Array: exact beyond 2^32 packets). */
export type DropCounters = Float64Array;

export function createDropCounters(): DropCounters {
  return new Float64Array(DROP_REASON_COUNT);
}

/** Count `reason` (Ok is not a drop and is not counted); returns the reason for chaining. */
export function countDrop(counters: DropCounters, reason: DropReason): DropReason {
  if (reason !== DropReason.Ok) counters[reason]++;
  return reason;
}

/** Cold path: the non-zero counters by name, for stats reports. */
export function dropCountsByName(counters: DropCounters): Record<string, number> {
  const out: Record<string, number> = {};
  for (let r = 1; r < DROP_REASON_COUNT; r++) {
    if (counters[r] !== 0) out[DROP_REASON_NAMES[r]] = counters[r];
  }
  return out;
}

// IANA protocol numbers: the IPv4 Protocol field and the IPv6 Next Header field share them.

export const IpProtocol = {
  HopByHop: 0, // IPv6 Hop-by-Hop Options (RFC 8200 4.3)
  Icmp: 1,
  Tcp: 6,
  Udp: 17,
  Ipv6Routing: 43, // RFC 8200 4.4
  Ipv6Fragment: 44, // RFC 8200 4.5
  Icmpv6: 58,
  Ipv6NoNextHeader: 59, // RFC 8200 4.7
  Ipv6DestinationOptions: 60, // RFC 8200 4.6
} as const;

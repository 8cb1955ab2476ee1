// Which ICMP errors a connected UDP socket reports, and as what. Linux without IP_RECVERR
// reports only "hard" errors (icmp_err_convert in net/ipv4/icmp.c, icmpv6_err_convert) and only
// to connected sockets (RFC 1122 4.1.3.3: UDP MUST pass ICMP errors up to the application); an
// unconnected socket cannot tell which of its peers complained, so the error is dropped.

import { IcmpErrorKind } from '../../iface/transport.js';

/** The errno name to report for an IcmpErrorKind, or null to ignore it. */
export function icmpErrno(kind: number): string | null {
  switch (kind) {
    case IcmpErrorKind.PortUnreachable:
      return 'ECONNREFUSED';
    case IcmpErrorKind.NetUnreachable:
      return 'ENETUNREACH';
    case IcmpErrorKind.HostUnreachable:
    case IcmpErrorKind.AdminProhibited:
      return 'EHOSTUNREACH';
    case IcmpErrorKind.ProtocolUnreachable:
      return 'ENOPROTOOPT';
    default:
      // Packet too big only updates the path MTU cache (already done by the interface); time
      // exceeded, parameter problem and source quench are soft errors (RFC 1122 4.2.3.9).
      return null;
  }
}

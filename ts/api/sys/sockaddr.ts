// Socket addresses as this layer passes them: { family, address, port } with IP literals,
// the JavaScript shape of struct sockaddr_in / sockaddr_in6. Out-parameters are objects the
// caller owns and this layer fills (as accept(2) and recvfrom(2) fill a sockaddr).

import { Destination, parseDestination } from '../dgram-address.js';
import { formatIpv4Address, formatIpv6Address } from '../../wire/address.js';
import { AF_INET, AF_INET6 } from './constants.js';
import { Errno } from './errno.js';

export interface SockAddr {
  family: number;
  address: string;
  port: number;
}

/** An empty out-parameter. */
export function sockAddr(): SockAddr {
  return { family: 0, address: '', port: 0 };
}

/**
 * Parses `a` for a socket of `domain` into `out`: 0, or -EAFNOSUPPORT (wrong family, as
 * inet_bind and inet6_bind answer) or -EINVAL (not an IP literal, bad port).
 */
export function toDestination(a: SockAddr, domain: number, out: Destination): number {
  if (a.family !== domain) return -Errno.EAFNOSUPPORT;
  if (!Number.isInteger(a.port) || a.port < 0 || a.port > 65535) return -Errno.EINVAL;
  if (!parseDestination(a.address, domain === AF_INET6, out)) return -Errno.EINVAL;
  out.port = a.port;
  return 0;
}

/** Fills `out` (when given) with an address as a socket of `domain` shows it. */
export function fillSockAddr(
  out: SockAddr | undefined,
  domain: number,
  is4: boolean,
  addr4: number,
  addr6: Uint8Array,
  port: number,
): void {
  if (out === undefined) return;
  out.family = domain;
  out.port = port;
  if (!is4) out.address = formatIpv6Address(addr6, 0);
  else if (domain === AF_INET) out.address = formatIpv4Address(addr4);
  else out.address = `::ffff:${formatIpv4Address(addr4)}`; // RFC 4291 2.5.5.2
}

/** The wildcard of a domain with port 0 (getsockname of an unbound socket). */
export function fillUnbound(out: SockAddr | undefined, domain: number): void {
  if (out === undefined) return;
  out.family = domain;
  out.address = domain === AF_INET ? '0.0.0.0' : '::';
  out.port = 0;
}

export { Destination };

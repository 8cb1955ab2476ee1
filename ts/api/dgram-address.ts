// Destination addresses of the dgram API: IP literals parsed once into the form the UDP stack
// sends to (an IPv4 number, or 16 IPv6 bytes), with IPv4-mapped IPv6 (RFC 4291 2.5.5.2)
// carried as IPv4. There is no DNS here: names are refused with a hint.

import {
  formatIpv4Address,
  formatIpv6Address,
  parseIpv4Address,
  parseIpv6AddressInto,
} from '../wire/address.js';

export class Destination {
  is4 = true;
  addr4 = 0;
  readonly addr6 = new Uint8Array(16);
  port = 0;

  copyFrom(d: Destination): this {
    this.is4 = d.is4;
    this.addr4 = d.addr4;
    this.addr6.set(d.addr6);
    this.port = d.port;
    return this;
  }
}

/** True for ::ffff:0:0/96 at buf[off]. */
export function isV4Mapped(buf: Uint8Array, off: number): boolean {
  for (let i = 0; i < 10; i++) if (buf[off + i] !== 0) return false;
  return buf[off + 10] === 0xff && buf[off + 11] === 0xff;
}

export function mappedV4(buf: Uint8Array, off: number): number {
  return (
    ((buf[off + 12] << 24) | (buf[off + 13] << 16) | (buf[off + 14] << 8) | buf[off + 15]) >>> 0
  );
}

/**
 * Parses `text` for a socket of the given kind into `out`; returns false when it is not an
 * address that socket can use (an IPv6 literal on an udp4 socket, or not an IP literal).
 * An udp6 socket takes IPv6, IPv4-mapped IPv6, and plain IPv4 (as if mapped).
 */
export function parseDestination(text: string, v6Socket: boolean, out: Destination): boolean {
  try {
    if (!text.includes(':')) {
      out.is4 = true;
      out.addr4 = parseIpv4Address(text);
      return true;
    }
    if (!v6Socket) return false;
    parseIpv6AddressInto(text, out.addr6, 0);
    out.is4 = isV4Mapped(out.addr6, 0);
    out.addr4 = out.is4 ? mappedV4(out.addr6, 0) : 0;
    return true;
  } catch {
    return false;
  }
}

/** The text form of a destination as an udp4 or udp6 socket shows it. */
export function formatDestination(d: Destination, v6Socket: boolean): string {
  if (!d.is4) return formatIpv6Address(d.addr6, 0);
  const v4 = formatIpv4Address(d.addr4);
  return v6Socket ? `::ffff:${v4}` : v4;
}

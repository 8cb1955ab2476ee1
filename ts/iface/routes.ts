// Routes for both families: connected subnets (from our addresses), static routes and a default
// gateway, chosen by longest prefix match (RFC 1812 5.2.4.3). A host's table is small, so a
// linear scan over prefix-sorted entries is the cheapest lookup.

import { parseIpv4Address, parseIpv6AddressInto } from '../wire/address.js';
import { type InterfaceAddresses, type InterfaceConfig, ipv4Mask, splitCidr } from './config.js';

/** A route lookup result, reused by the caller. */
export class NextHop {
  /** Index of the route, or -1 (no route). */
  route = -1;
  /** IPv4 next hop (the destination itself when on-link). */
  hop4 = 0;
  /** IPv6 next hop, 16 bytes. */
  readonly hop6 = new Uint8Array(16);
  /** MTU of the route (the interface MTU unless the route sets one). */
  mtu = 0;
}

interface Route4 {
  net: number;
  mask: number;
  prefix: number;
  gateway: number; // 0: on-link
  mtu: number;
}

interface Route6 {
  net: Uint8Array;
  prefix: number;
  gateway: Uint8Array | null;
  mtu: number;
}

function routeError(message: string): Error {
  return Object.assign(new Error(message), { code: 'EINVAL' });
}

function prefixMatches(net: Uint8Array, prefix: number, buf: Uint8Array, off: number): boolean {
  const full = prefix >>> 3;
  for (let i = 0; i < full; i++) if (net[i] !== buf[off + i]) return false;
  const bits = prefix & 7;
  if (bits === 0) return true;
  const mask = (0xff << (8 - bits)) & 0xff;
  return (net[full] & mask) === (buf[off + full] & mask);
}

export class RouteTable {
  private readonly v4: Route4[] = [];
  private readonly v6: Route6[] = [];
  private readonly ifMtu: number;

  constructor(addrs: InterfaceAddresses, config: InterfaceConfig) {
    const mtu = addrs.mtu;
    this.ifMtu = mtu;
    addrs.v4.forEach((a, i) => {
      const mask = ipv4Mask(addrs.v4Prefix[i]);
      this.v4.push({ net: (a & mask) >>> 0, mask, prefix: addrs.v4Prefix[i], gateway: 0, mtu });
    });
    for (let i = 0; i < addrs.v6Count; i++) {
      const net = addrs.v6.slice(16 * i, 16 * i + 16);
      this.v6.push({ net, prefix: addrs.v6Prefix[i], gateway: null, mtu });
    }
    if (config.ipv4Gateway) this.add({ to: '0.0.0.0/0', via: config.ipv4Gateway }, mtu);
    if (config.ipv6Gateway) this.add({ to: '::/0', via: config.ipv6Gateway }, mtu);
    for (const r of config.routes ?? []) this.add(r, mtu);
    this.v4.sort((a, b) => b.prefix - a.prefix);
    this.v6.sort((a, b) => b.prefix - a.prefix);
  }

  private add(r: RouteConfig, ifMtu: number): void {
    const mtu = Math.min(r.mtu ?? ifMtu, ifMtu);
    if (r.to.includes(':')) {
      const { addr, prefix } = splitCidr(r.to, 128);
      const net = new Uint8Array(16);
      parseIpv6AddressInto(addr, net, 0);
      let gateway: Uint8Array | null = null;
      if (r.via) {
        gateway = new Uint8Array(16);
        parseIpv6AddressInto(r.via, gateway, 0);
      }
      this.v6.push({ net, prefix, gateway, mtu });
    } else {
      const { addr, prefix } = splitCidr(r.to, 32);
      const mask = ipv4Mask(prefix);
      const gateway = r.via ? parseIpv4Address(r.via) : 0;
      if (r.via && r.via.includes(':')) throw routeError(`route ${r.to}: via must be IPv4`);
      this.v4.push({ net: (parseIpv4Address(addr) & mask) >>> 0, mask, prefix, gateway, mtu });
    }
  }

  /** Longest-prefix match for an IPv4 destination; fills `out`, returns false when unroutable. */
  lookup4(dst: number, out: NextHop): boolean {
    const v4 = this.v4;
    for (let i = 0; i < v4.length; i++) {
      const r = v4[i];
      if ((dst & r.mask) >>> 0 === r.net) {
        out.route = i;
        out.hop4 = r.gateway !== 0 ? r.gateway : dst;
        out.mtu = r.mtu;
        return true;
      }
    }
    out.route = -1;
    return false;
  }

  /** Longest-prefix match for the IPv6 destination at `off`; link-local is always on-link. */
  lookup6(buf: Uint8Array, off: number, out: NextHop): boolean {
    const v6 = this.v6;
    for (let i = 0; i < v6.length; i++) {
      const r = v6[i];
      if (!prefixMatches(r.net, r.prefix, buf, off)) continue;
      out.route = i;
      out.mtu = r.mtu;
      const hop = out.hop6;
      if (r.gateway !== null) hop.set(r.gateway);
      else for (let j = 0; j < 16; j++) hop[j] = buf[off + j];
      return true;
    }
    // RFC 4861 5.2: fe80::/10 destinations are on-link even without a route.
    if (buf[off] === 0xfe && (buf[off + 1] & 0xc0) === 0x80) {
      out.route = v6.length;
      out.mtu = this.ifMtu;
      for (let j = 0; j < 16; j++) out.hop6[j] = buf[off + j];
      return true;
    }
    out.route = -1;
    return false;
  }
}

type RouteConfig = NonNullable<InterfaceConfig['routes']>[number];

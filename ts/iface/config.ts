// Interface configuration: what users write (text addresses, CIDR prefixes) and the parsed form
// the hot path reads (numbers and byte arrays). Parsing happens once, at construction.

import { parseIpv4Address, parseIpv6AddressInto, formatIpv6Address } from '../wire/address.js';
import { parseMac } from '../wire/ethernet.js';
import type { NeighbourTimers } from './neighbour-table.js';

export interface RouteConfig {
  /** Destination prefix, "198.18.5.0/24" or "2001:2:0:5::/64" ("default" is not accepted). */
  to: string;
  /** Next hop; omitted means on-link. */
  via?: string;
  /** A smaller MTU for this route (optional). */
  mtu?: number;
}

export interface InterfaceConfig {
  /** Our MAC, "aa:bb:cc:dd:ee:ff" or 6 bytes. */
  mac: string | Uint8Array;
  /** IP MTU in bytes (default 1500; at least 1280 when IPv6 is on, RFC 8200 5). */
  mtu?: number;
  /** IPv4 addresses with prefix, e.g. ["198.18.0.1/24"]: each brings its connected route. */
  ipv4?: string[];
  /** IPv6 addresses with prefix, e.g. ["2001:2::1/64"]. */
  ipv6?: string[];
  /**
   * The IPv6 link-local address (RFC 4291 2.5.6). Default: fe80::/64 with the modified EUI-64
   * interface identifier of `mac` (RFC 4291 2.5.1, RFC 2464 4) when any IPv6 address is
   * configured; null for none.
   */
  ipv6LinkLocal?: string | null;
  ipv4Gateway?: string;
  ipv6Gateway?: string;
  routes?: RouteConfig[];
  /** TTL / hop limit of what we send (default 64, as Linux). */
  ttl?: number;
  hopLimit?: number;
  /** Permanent neighbour entries. */
  staticNeighbours?: { ip: string; mac: string }[];
  /** Duplicate address detection for our IPv6 addresses (RFC 4862 5.4; default true). */
  dad?: boolean;
  /** DupAddrDetectTransmits (default 1) and the wait after each, RetransTimer (default 1000 ms). */
  dadTransmits?: number;
  dadRetransMs?: number;
  /** Gratuitous ARP announcements at start (RFC 5227 3; default 2, 0 for none). */
  gratuitousArp?: number;
  /** Neighbour timers (RFC 4861 10 defaults). */
  neighbourTimers?: Partial<NeighbourTimers>;
  /** Packets that may wait for address resolution in this worker (default 64, oldest dropped). */
  pendingPackets?: number;
  /** Datagrams being reassembled at once (default 16, each up to 64 KiB) and their timeout. */
  reassemblySlots?: number;
  reassemblyTimeoutMs?: number;
  /** Received fragments per datagram before it is dropped (default 128). */
  reassemblyMaxPieces?: number;
  /** ICMP error rate limit (RFC 1812 4.3.2.8, RFC 4443 2.4(f)): tokens per second and burst. */
  icmpErrorsPerSecond?: number;
  icmpErrorBurst?: number;
  /** How long a learnt path MTU holds (RFC 1191 6.3 / RFC 8201 4: 10 minutes). */
  pmtuExpiryMs?: number;
}

function configError(message: string): Error {
  return Object.assign(new Error(message), { code: 'EINVAL' });
}

/** "a.b.c.d/n" or "x::y/n" split and checked. */
export function splitCidr(text: string, maxPrefix: number): { addr: string; prefix: number } {
  const slash = text.lastIndexOf('/');
  if (slash < 0) throw configError(`'${text}' needs a prefix length, e.g. ${text}/${maxPrefix}`);
  const prefix = Number(text.slice(slash + 1));
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > maxPrefix) {
    throw configError(`'${text}': the prefix length must be 0..${maxPrefix}`);
  }
  return { addr: text.slice(0, slash), prefix };
}

export function ipv4Mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** fe80::/64 + modified EUI-64 of `mac` (RFC 4291 2.5.1 and appendix A, RFC 2464 4). */
export function linkLocalFromMac(mac: Uint8Array): string {
  const a = new Uint8Array(16);
  a[0] = 0xfe;
  a[1] = 0x80;
  a[8] = mac[0] ^ 0x02;
  a[9] = mac[1];
  a[10] = mac[2];
  a[11] = 0xff;
  a[12] = 0xfe;
  a[13] = mac[3];
  a[14] = mac[4];
  a[15] = mac[5];
  return formatIpv6Address(a, 0);
}

/** The parsed addresses of an interface; the hot path reads these arrays. */
export class InterfaceAddresses {
  readonly mac: Uint8Array;
  readonly mtu: number;
  readonly ttl: number;
  readonly hopLimit: number;
  /** IPv4 addresses (unsigned), their prefix lengths and subnet broadcast addresses. */
  readonly v4: number[] = [];
  readonly v4Prefix: number[] = [];
  readonly v4Broadcast: number[] = [];
  /** IPv6 addresses, 16 bytes each; index 0 is the link-local one when there is one. */
  readonly v6: Uint8Array;
  readonly v6Prefix: number[] = [];
  readonly v6Count: number;
  readonly v6LinkLocalIndex: number;

  constructor(config: InterfaceConfig) {
    this.mac = typeof config.mac === 'string' ? parseMac(config.mac) : Uint8Array.from(config.mac);
    if (this.mac.length !== 6 || (this.mac[0] & 1) !== 0) {
      throw configError('the interface MAC must be a 6-byte unicast address');
    }
    this.mtu = config.mtu ?? 1500;
    const v6Texts = [...(config.ipv6 ?? [])];
    let linkLocal = config.ipv6LinkLocal;
    if (linkLocal === undefined && v6Texts.length > 0) {
      linkLocal = `${linkLocalFromMac(this.mac)}/64`;
    }
    if (linkLocal) v6Texts.unshift(linkLocal.includes('/') ? linkLocal : `${linkLocal}/64`);
    const minMtu = v6Texts.length > 0 ? 1280 : 576;
    if (!Number.isInteger(this.mtu) || this.mtu < minMtu || this.mtu > 65535) {
      throw configError(`mtu ${this.mtu} must be an integer ${minMtu}..65535`);
    }
    this.ttl = config.ttl ?? 64;
    this.hopLimit = config.hopLimit ?? 64;
    for (const text of config.ipv4 ?? []) {
      const { addr, prefix } = splitCidr(text, 32);
      const a = parseIpv4Address(addr);
      this.v4.push(a);
      this.v4Prefix.push(prefix);
      this.v4Broadcast.push(prefix >= 31 ? 0xffffffff : (a | ~ipv4Mask(prefix)) >>> 0);
    }
    this.v6 = new Uint8Array(16 * v6Texts.length);
    v6Texts.forEach((text, i) => {
      const { addr, prefix } = splitCidr(text, 128);
      parseIpv6AddressInto(addr, this.v6, 16 * i);
      this.v6Prefix.push(prefix);
    });
    this.v6Count = v6Texts.length;
    this.v6LinkLocalIndex = linkLocal ? 0 : -1;
  }

  /** Index of `addr` among our IPv4 addresses, or -1. */
  indexOf4(addr: number): number {
    const v4 = this.v4;
    for (let i = 0; i < v4.length; i++) if (v4[i] === addr) return i;
    return -1;
  }

  /** Index of the 16 bytes at `off` of `buf` among our IPv6 addresses, or -1. */
  indexOf6(buf: Uint8Array, off: number): number {
    const v6 = this.v6;
    for (let i = 0; i < this.v6Count; i++) {
      const b = 16 * i;
      let j = 0;
      while (j < 16 && v6[b + j] === buf[off + j]) j++;
      if (j === 16) return i;
    }
    return -1;
  }

  /** Limited broadcast or the subnet broadcast of one of our prefixes (RFC 1122 3.3.6). */
  isBroadcast4(addr: number): boolean {
    if (addr === 0xffffffff) return true;
    const b = this.v4Broadcast;
    for (let i = 0; i < b.length; i++) if (b[i] === addr) return true;
    return false;
  }
}

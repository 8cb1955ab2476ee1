// A connection's cached path (Linux's sk_dst_cache): the route's next hop, the path MTU and the
// next hop's Ethernet header, so that a transport sending many datagrams to one destination does
// not repeat the route, path-MTU and neighbour lookups for each. The transport owns one per
// connection and binds its addresses once; the interface fills and checks it (IpOutput.refresh).
//
// What the cache depends on changes rarely and is stamped with generations: the interface's own
// (routes, addresses: worker-local), the neighbour table's and the path-MTU cache's (both in
// shared memory, so a change made by any worker is seen). A datagram compares three integers;
// when one moved, the interface looks everything up again. The next hop's MAC is kept only while
// its neighbour entry is REACHABLE or PERMANENT (neighbour-table.ts isCacheable): any other
// state sends through the full neighbour path (pending queue, resolution, RFC 4861 7.3.3 NUD).

import { newKey } from './shared-table.js';

export class IpPath {
  family: 4 | 6 = 4;
  /** IPv4 source and destination (family 4). */
  src4 = 0;
  dst4 = 0;
  /** IPv6 source and destination (family 6). */
  readonly src6 = new Uint8Array(16);
  readonly dst6 = new Uint8Array(16);

  // ---- filled by the interface ------------------------------------------------------------

  /** Generations seen at the last fill (interface, neighbour table, path-MTU cache); -1: none. */
  localGeneration = -1;
  neighbourGeneration = 0;
  pmtuGeneration = 0;
  /**
   * Whether the cached path applies: a unicast destination with a route and a source. When
   * false, datagrams take the interface's full path (which reports the error, if any).
   */
  usable = false;
  /** Path MTU in IP bytes: the route's, lowered by what PMTU discovery learnt. */
  mtu = 0;
  /** The next hop as a neighbour-table key. */
  readonly hopKey = newKey();
  /** Destination MAC (the next hop's), our MAC and the EtherType, when hasLinkHeader. */
  readonly linkHeader = new Uint8Array(14);
  /** The next hop's neighbour entry was REACHABLE or PERMANENT at the last fill. */
  hasLinkHeader = false;

  /**
   * Set by the transport when the peer showed it received what we sent (TCP: new data acked):
   * upper-layer reachability confirmation, RFC 4861 7.3.1 (Linux's dst_confirm). The next
   * datagram that finds the next hop's entry STALE, DELAY or PROBE makes it REACHABLE again, so a
   * busy connection keeps its cached link header instead of probing; cleared when consumed.
   */
  confirmed = false;

  /** A path from `src` to `dst` (IPv4); the next datagram fills it. */
  bind4(src: number, dst: number): void {
    this.family = 4;
    this.src4 = src;
    this.dst4 = dst;
    this.localGeneration = -1;
  }

  /** A path from the 16 bytes at src[srcOff] to those at dst[dstOff] (IPv6). */
  bind6(src: Uint8Array, srcOff: number, dst: Uint8Array, dstOff: number): void {
    this.family = 6;
    this.src6.set(src.subarray(srcOff, srcOff + 16));
    this.dst6.set(dst.subarray(dstOff, dstOff + 16));
    this.localGeneration = -1;
  }
}

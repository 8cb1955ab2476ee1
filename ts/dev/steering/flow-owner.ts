// Which worker owns a received frame: the RSS input a NIC would hash, read in place, the same
// rules as the Rust dispatcher (crates/node-xdp/src/dispatch/classify.rs), so a flow lands on the
// same worker whichever way it came in.
//
// - IPv4/IPv6 with TCP or UDP: the 4-tuple (addresses, then ports); the owner is the RETA entry
//   of its hash, or the worker a flow pin names (FlowSteering).
// - IPv4 fragments and other IP protocols: the addresses only, so every fragment of a datagram
//   meets on one worker (Microsoft RSS hashes fragments as plain IP).
// - IPv6 with an extension header before the transport header: the addresses only.
// - ARP, IPv6 neighbour discovery (ICMPv6 133-137) and anything that is not IP: the control
//   worker (worker 0 by default: the worker answering ARP/ND for the engine).
// - One 802.1Q tag is skipped.
import { FlowSteering, ToeplitzHasher, type RetaSize } from '../../rss/index.js';
import { ETH_HLEN, EtherType, IpProtocol, isNeighborDiscovery } from '../../wire/index.js';
import type { SteeringLayout } from './steering-layout.js';

export class FlowOwner {
  readonly steering: FlowSteering;
  readonly hasher: ToeplitzHasher;
  private readonly table: Uint8Array;
  private readonly mask: number;

  /** `reta`: the table's buckets (default: the workers round-robin over `retaSize`). */
  constructor(
    workers: number,
    key: Uint8Array,
    retaSize: RetaSize,
    readonly controlWorker = 0,
    reta?: ArrayLike<number>,
  ) {
    this.steering = new FlowSteering(workers, retaSize);
    this.hasher = new ToeplitzHasher(key);
    this.table = this.steering.reta.table;
    this.mask = this.steering.reta.mask;
    if (reta) this.table.set(reta);
  }

  /** The owner every worker of a steering layout computes. */
  static forLayout(layout: SteeringLayout): FlowOwner {
    const { workers, key, retaSize, controlWorker, reta } = layout;
    return new FlowOwner(workers, Uint8Array.from(key), retaSize, controlWorker, reta);
  }

  /** The worker owning the Ethernet frame at [off, off + len) of `buf`. No allocation. */
  ownerOf(buf: Uint8Array, off: number, len: number): number {
    if (len < ETH_HLEN) return this.controlWorker;
    let type = (buf[off + 12] << 8) | buf[off + 13];
    let l3 = off + ETH_HLEN;
    if (type === EtherType.Vlan && len >= ETH_HLEN + 4) {
      type = (buf[off + 16] << 8) | buf[off + 17];
      l3 += 4;
    }
    if (type === EtherType.Ipv4) return this.ipv4(buf, l3, off + len);
    if (type === EtherType.Ipv6) return this.ipv6(buf, l3, off + len);
    return this.controlWorker;
  }

  /** Owner of a flow given as tuple bytes in RSS order (12 or 36 bytes), for the main thread. */
  ownerOfTuple(tuple: Uint8Array): number {
    return this.steering.ownerOfTuple(this.hasher.hash(tuple), tuple);
  }

  private ipv4(buf: Uint8Array, l3: number, end: number): number {
    if (end < l3 + 20 || buf[l3] >>> 4 !== 4) return this.controlWorker;
    const ihl = (buf[l3] & 0x0f) << 2;
    if (ihl < 20 || end < l3 + ihl) return this.controlWorker;
    const addrs = l3 + 12;
    // RFC 791 3.1: the MF flag or a non-zero fragment offset marks a fragment.
    const fragment = (((buf[l3 + 6] << 8) | buf[l3 + 7]) & 0x3fff) !== 0;
    const proto = buf[l3 + 9];
    const l4 = l3 + ihl;
    if (!fragment && (proto === IpProtocol.Tcp || proto === IpProtocol.Udp) && end >= l4 + 4) {
      const hash = this.hasher.hashIpv4(buf, addrs, l4);
      return this.steering.ownerOfFrame(hash, buf, addrs, 4, l4);
    }
    return this.table[this.hasher.hashIpv4(buf, addrs, -1) & this.mask];
  }

  private ipv6(buf: Uint8Array, l3: number, end: number): number {
    if (end < l3 + 40 || buf[l3] >>> 4 !== 6) return this.controlWorker;
    const next = buf[l3 + 6];
    const l4 = l3 + 40;
    if (next === IpProtocol.Icmpv6 && end > l4 && isNeighborDiscovery(buf[l4])) {
      return this.controlWorker;
    }
    const addrs = l3 + 8;
    if ((next === IpProtocol.Tcp || next === IpProtocol.Udp) && end >= l4 + 4) {
      const hash = this.hasher.hashIpv6(buf, addrs, l4);
      return this.steering.ownerOfFrame(hash, buf, addrs, 16, l4);
    }
    return this.table[this.hasher.hashIpv6(buf, addrs, -1) & this.mask];
  }
}

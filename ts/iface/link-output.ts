// The bottom of the output path: Ethernet headers, neighbour resolution with the shared table,
// the per-worker queue of packets waiting for it, and the ARP requests / Neighbor Solicitations
// that resolution sends (RFC 826, RFC 4861 7.2.2).

import { copyBytes } from '../wire/bytes.js';
import { ETH_ALEN, ETH_HLEN, ETH_ZLEN, EtherType } from '../wire/ethernet.js';
import { ARP_LEN, ArpOperation, writeArp } from '../wire/arp.js';
import { DropReason } from '../wire/drop-reason.js';
import { write16 } from '../wire/bytes.js';
import { IpProtocol } from '../wire/ip-protocol.js';
import { IPV6_HLEN, Ipv6Header, writeIpv6Header } from '../wire/ipv6.js';
import {
  ND_HOP_LIMIT,
  setIcmpv6Checksum,
  writeIpv6MulticastMac,
  writeNeighborSolicitation,
  writeSolicitedNodeAddress,
} from '../wire/icmpv6.js';
import type { IfaceContext } from './context.js';
import { IfaceErrno } from './errno.js';
import {
  ConfirmResult,
  hasLinkAddress,
  NeighbourState,
  type NeighbourSolicitor,
} from './neighbour-table.js';
import { PendingQueue } from './pending-queue.js';
import { isKey4, keyToBytes, newKey, type Key } from './shared-table.js';

const BROADCAST = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
const ZERO_MAC = new Uint8Array(6);

export class LinkOutput implements NeighbourSolicitor {
  readonly pending: PendingQueue;
  private readonly scanKey = newKey();
  private readonly addr16 = new Uint8Array(16);
  private readonly group16 = new Uint8Array(16);
  private readonly mac6 = new Uint8Array(6);
  private readonly ip6 = new Ipv6Header();
  /** Set by confirm paths: pending packets may now go (serviced at the end of the batch). */
  pendingReady = false;
  /**
   * Told about each waiting datagram dropped because its neighbour never resolved (the IP
   * datagram at buf[ipOff, ipOff + len)), before its frame is released: the interface turns it
   * into a local "host unreachable" for the transport that sent it (Linux neigh error_report).
   */
  onUnresolved: ((buf: Uint8Array, ipOff: number, len: number) => void) | null = null;

  constructor(
    private readonly ctx: IfaceContext,
    pendingCapacity: number,
  ) {
    this.pending = new PendingQueue(pendingCapacity);
  }

  /** Writes our MAC as the source and the EtherType of the frame whose header is at `addr`. */
  writeHeader(addr: number, etherType: number): void {
    const off = this.ctx.offsetOf(addr);
    const b = this.ctx.bytes;
    copyBytes(b, off + ETH_ALEN, this.ctx.addrs.mac, 0, ETH_ALEN);
    write16(b, off + 2 * ETH_ALEN, etherType);
  }

  /** Puts a finished frame on the device queue; releases it and counts when the ring is full. */
  sendRaw(addr: number, len: number): number {
    const ctx = this.ctx;
    if (!ctx.device.send(addr, len)) {
      ctx.device.release(addr);
      ctx.drop(DropReason.TxRingFull);
      return IfaceErrno.ENOBUFS;
    }
    ctx.stats.txFrames++;
    return 0;
  }

  /** Sends to a known link address (broadcast, multicast). */
  transmitTo(addr: number, len: number, mac: Uint8Array, macOff: number): number {
    copyBytes(this.ctx.bytes, this.ctx.offsetOf(addr), mac, macOff, ETH_ALEN);
    return this.sendRaw(addr, len);
  }

  /**
   * Sends the frame at `addr` (header source and type written) to the neighbour `key`: fills in
   * its MAC and sends, or queues the frame until the neighbour resolves (starting resolution if
   * nobody has). The frame is always taken. Returns 0 (sent or queued) or a negative errno.
   */
  transmit(addr: number, len: number, key: Key): number {
    const ctx = this.ctx;
    const state = ctx.neighbours.lookup(key, ctx.bytes, ctx.offsetOf(addr));
    if (hasLinkAddress(state)) {
      if (state === NeighbourState.Stale) ctx.neighbours.noteStaleUse(key, ctx.now);
      return this.sendRaw(addr, len);
    }
    if (state === NeighbourState.Failed) {
      ctx.device.release(addr);
      ctx.drop(DropReason.NeighbourUnresolved);
      return IfaceErrno.EHOSTUNREACH;
    }
    if (state === NeighbourState.Absent) {
      const started = ctx.neighbours.startResolution(key, ctx.now, ctx.workerId);
      if (started < 0) {
        ctx.device.release(addr);
        ctx.drop(DropReason.NeighbourTableFull);
        return IfaceErrno.ENOBUFS;
      }
      if (started === 1) this.solicit(key, null);
    }
    const evicted = this.pending.push(addr, len, key, ctx.now);
    ctx.stats.pendingQueued++;
    if (evicted >= 0) {
      ctx.device.release(evicted);
      ctx.drop(DropReason.NeighbourQueueOverflow);
    }
    return 0;
  }

  /** Called after a neighbour learnt a link address here: its packets go at the batch end. */
  noteConfirm(result: number): void {
    if (result === ConfirmResult.BecameUsable && this.pending.size > 0) this.pendingReady = true;
  }

  /**
   * Sends the waiting packets whose neighbour has resolved, drops those whose resolution failed
   * or took longer than all its retries.
   */
  servicePending(): void {
    this.pendingReady = false;
    const q = this.pending;
    const ctx = this.ctx;
    const tm = ctx.neighbours.timers;
    const maxWait = (tm.maxMulticastProbes + 1) * tm.retransMs;
    const key = this.scanKey;
    for (let i = q.first(); i >= 0 && q.size > 0;) {
      const next = q.next(i);
      const addr = q.addrAt(i);
      if (addr >= 0) {
        q.keyAt(i, key);
        const state = ctx.neighbours.lookup(key, ctx.bytes, ctx.offsetOf(addr));
        if (hasLinkAddress(state)) {
          const len = q.lenAt(i);
          q.remove(i);
          if (this.sendRaw(addr, len) === 0) ctx.stats.pendingSent++;
        } else if (state === NeighbourState.Failed || ctx.now - q.timeAt(i) > maxWait) {
          const len = q.lenAt(i);
          // Out of the queue first: the report may send (and queue) more packets.
          q.remove(i);
          if (this.onUnresolved !== null && len > ETH_HLEN) {
            this.onUnresolved(ctx.bytes, ctx.offsetOf(addr) + ETH_HLEN, len - ETH_HLEN);
          }
          ctx.device.release(addr);
          ctx.drop(DropReason.NeighbourUnresolved);
        } else if (state === NeighbourState.Absent) {
          // The entry went (expired, or the table was full): start again while the packet waits.
          if (ctx.neighbours.startResolution(key, ctx.now, ctx.workerId) === 1) {
            this.solicit(key, null);
          }
        }
      }
      i = next;
    }
  }

  /** Releases every waiting frame (shutdown). */
  dropAllPending(): void {
    const q = this.pending;
    for (let i = q.first(); i >= 0 && q.size > 0;) {
      const next = q.next(i);
      const addr = q.addrAt(i);
      if (addr >= 0) {
        q.remove(i);
        this.ctx.device.release(addr);
        this.ctx.drop(DropReason.NeighbourUnresolved);
      }
      i = next;
    }
  }

  // ---- resolution messages ---------------------------------------------------------------------

  /** NeighbourSolicitor: an ARP request or a Neighbor Solicitation for `key`. */
  solicit(key: Key, unicastMac: Uint8Array | null): void {
    if (isKey4(key)) {
      const target = key[3] >>> 0;
      const i = this.ctx.sourceIndex4(target);
      if (i < 0) return;
      const src = this.ctx.addrs.v4[i];
      if (
        this.sendArp(ArpOperation.Request, src, ZERO_MAC, target, unicastMac ?? BROADCAST) === 0
      ) {
        this.ctx.stats.arpRequestsSent++;
      }
      return;
    }
    keyToBytes(key, this.addr16, 0);
    const srcIndex = this.ctx.sourceFor6(this.addr16, 0);
    if (srcIndex < 0) return; // nothing preferred yet (DAD running): the retry will try again
    if (this.sendNs(this.addr16, srcIndex, unicastMac) === 0) {
      this.ctx.stats.neighbourSolicitsSent++;
    }
  }

  /** An Ethernet/IPv4 ARP packet from us; `ethDst` is broadcast or the target's MAC. */
  sendArp(
    operation: number,
    senderIp: number,
    targetMac: Uint8Array,
    targetIp: number,
    ethDst: Uint8Array,
  ): number {
    const ctx = this.ctx;
    const addr = ctx.allocateTx();
    if (addr < 0) return IfaceErrno.EAGAIN;
    const off = ctx.offsetOf(addr);
    const b = ctx.bytes;
    this.writeHeader(addr, EtherType.Arp);
    writeArp(b, off + ETH_HLEN, operation, ctx.addrs.mac, 0, senderIp, targetMac, 0, targetIp);
    // IEEE 802.3 4.2.3.3: pad to the minimum frame (a NIC would; a veth does not).
    for (let i = ETH_HLEN + ARP_LEN; i < ETH_ZLEN; i++) b[off + i] = 0;
    return this.transmitTo(addr, ETH_ZLEN, ethDst, 0);
  }

  /**
   * A Neighbor Solicitation for `target` (16 bytes): from our address `srcIndex` with a source
   * link-layer option, or from :: without it for DAD (srcIndex -1, RFC 4862 5.4.2); to the
   * target's solicited-node group, or unicast to `unicastMac` (RFC 4861 7.2.2, 7.3.3 PROBE).
   */
  sendNs(target: Uint8Array, srcIndex: number, unicastMac: Uint8Array | null): number {
    const ctx = this.ctx;
    const addr = ctx.allocateTx();
    if (addr < 0) return IfaceErrno.EAGAIN;
    const off = ctx.offsetOf(addr);
    const b = ctx.bytes;
    const ipOff = off + ETH_HLEN;
    const icmpOff = ipOff + IPV6_HLEN;
    const mac = srcIndex >= 0 ? ctx.addrs.mac : null;
    const len = writeNeighborSolicitation(b, icmpOff, target, 0, mac, 0);
    const group = this.group16;
    if (unicastMac !== null) copyBytes(group, 0, target, 0, 16);
    else writeSolicitedNodeAddress(group, 0, target, 0);
    const h = this.ip6;
    h.trafficClass = 0;
    h.flowLabel = 0;
    h.payloadLength = len;
    h.nextHeader = IpProtocol.Icmpv6;
    h.hopLimit = ND_HOP_LIMIT;
    if (srcIndex >= 0) writeIpv6Header(b, ipOff, h, ctx.addrs.v6, 16 * srcIndex, group, 0);
    else writeIpv6Header(b, ipOff, h, ZERO16, 0, group, 0);
    setIcmpv6Checksum(b, icmpOff, len, b, ipOff + 8, b, ipOff + 24);
    this.writeHeader(addr, EtherType.Ipv6);
    if (unicastMac !== null)
      return this.transmitTo(addr, ETH_HLEN + IPV6_HLEN + len, unicastMac, 0);
    writeIpv6MulticastMac(this.mac6, 0, group, 0);
    return this.transmitTo(addr, ETH_HLEN + IPV6_HLEN + len, this.mac6, 0);
  }
}

const ZERO16 = new Uint8Array(16);

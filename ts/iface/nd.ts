// IPv6 Neighbor Discovery for a host (RFC 4861 7): answer solicitations for our addresses, learn
// from solicitations and advertisements into the shared neighbour table, and run duplicate
// address detection for our addresses (RFC 4862 5.4).

import { copyBytes, write16, write32 } from '../wire/bytes.js';
import { DropReason } from '../wire/drop-reason.js';
import { isIpv6Unspecified } from '../wire/address.js';
import { IpProtocol } from '../wire/ip-protocol.js';
import { IPV6_HLEN, type Ipv6Header } from '../wire/ipv6.js';
import {
  Icmpv6Type,
  NaFlag,
  ND_HOP_LIMIT,
  setIcmpv6Checksum,
  writeNeighborAdvertisement,
  type Icmpv6Header,
} from '../wire/icmpv6.js';
import { AddressState } from './address-states.js';
import { TAKEN, type IfaceContext } from './context.js';
import type { IpOutput } from './ip-output.js';
import type { LinkOutput } from './link-output.js';
import { newKey, setKey6 } from './shared-table.js';

/** ff02::1, all nodes (RFC 4291 2.7.1). */
const ALL_NODES = new Uint8Array([0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);

export class NeighbourDiscovery {
  private readonly key = newKey();
  private readonly target = new Uint8Array(16);
  readonly dadEnabled: boolean;

  constructor(
    private readonly ctx: IfaceContext,
    private readonly link: LinkOutput,
    private readonly out: IpOutput,
    dad: boolean,
    private readonly dadTransmits: number,
    private readonly dadRetransMs: number,
  ) {
    this.dadEnabled = dad;
    if (!dad) for (let i = 0; i < ctx.addrs.v6Count; i++) ctx.addrStates.setPreferred(i);
  }

  /** NS or NA (parsed and validated by the wire layer) in a frame at `frame`. */
  input(buf: Uint8Array, frame: number, ip: Ipv6Header, icmp: Icmpv6Header): number {
    if (icmp.type === Icmpv6Type.NeighborSolicitation)
      return this.solicitation(buf, frame, ip, icmp);
    if (icmp.type === Icmpv6Type.NeighborAdvertisement) return this.advertisement(buf, icmp);
    return DropReason.IcmpIgnored; // router solicitation/advertisement, redirect: not acted on
  }

  // RFC 4861 7.2.3, RFC 4862 5.4.3.
  private solicitation(buf: Uint8Array, frame: number, ip: Ipv6Header, icmp: Icmpv6Header): number {
    const ctx = this.ctx;
    const idx = ctx.addrs.indexOf6(buf, icmp.targetOff);
    if (idx < 0) return DropReason.NdNotForUs;
    const srcUnspecified = isIpv6Unspecified(buf, ip.srcOff);
    const state = ctx.addrStates.state(idx);
    if (state === AddressState.Tentative || state === AddressState.Probing) {
      // Another node runs DAD for the same address: it is a duplicate (RFC 4862 5.4.3). Other
      // solicitations for a tentative address are ignored.
      if (srcUnspecified) return this.duplicate(idx);
      return DropReason.Ipv6TentativeAddress;
    }
    if (state === AddressState.Duplicated) return DropReason.Ipv6TentativeAddress;
    if (!srcUnspecified && icmp.sourceMacOff >= 0) {
      const r = ctx.neighbours.confirm(
        setKey6(this.key, buf, ip.srcOff),
        buf,
        icmp.sourceMacOff,
        ctx.now,
        false,
        true,
        true,
      );
      this.link.noteConfirm(r);
    }
    return this.advertiseInPlace(buf, frame, ip, icmp, srcUnspecified);
  }

  // The solicitation's frame becomes the advertisement (RFC 4861 7.2.4): solicited and override
  // set, our link address attached; to the solicitor, or to all nodes when it had no address.
  private advertiseInPlace(
    buf: Uint8Array,
    frame: number,
    ip: Ipv6Header,
    icmp: Icmpv6Header,
    toAllNodes: boolean,
  ): number {
    const ctx = this.ctx;
    const ipOff = ip.srcOff - 8;
    const target = this.target;
    copyBytes(target, 0, buf, icmp.targetOff, 16);
    if (toAllNodes) copyBytes(buf, ipOff + 24, ALL_NODES, 0, 16);
    else copyBytes(buf, ipOff + 24, buf, ip.srcOff, 16);
    copyBytes(buf, ipOff + 8, target, 0, 16);
    const icmpOff = ipOff + IPV6_HLEN;
    const flags = (toAllNodes ? 0 : NaFlag.Solicited) | NaFlag.Override;
    const len = writeNeighborAdvertisement(buf, icmpOff, flags, target, 0, ctx.addrs.mac, 0);
    write32(buf, ipOff, 0x60000000);
    write16(buf, ipOff + 4, len);
    buf[ipOff + 6] = IpProtocol.Icmpv6;
    buf[ipOff + 7] = ND_HOP_LIMIT;
    setIcmpv6Checksum(buf, icmpOff, len, buf, ipOff + 8, buf, ipOff + 24);
    if (this.out.emit6(buf, ipOff, IPV6_HLEN + len, frame) === 0) {
      ctx.stats.neighbourAdvertsSent++;
    }
    return frame >= 0 ? TAKEN : DropReason.Ok;
  }

  // RFC 4861 7.2.5, RFC 4862 5.4.4.
  private advertisement(buf: Uint8Array, icmp: Icmpv6Header): number {
    const ctx = this.ctx;
    const idx = ctx.addrs.indexOf6(buf, icmp.targetOff);
    if (idx >= 0) {
      const state = ctx.addrStates.state(idx);
      if (state === AddressState.Tentative || state === AddressState.Probing) {
        return this.duplicate(idx);
      }
      return DropReason.NdNotForUs; // someone advertises our preferred address; keep it
    }
    if (icmp.targetMacOff < 0) return DropReason.Ok; // nothing to learn (RFC 4861 7.2.5)
    const solicited = (icmp.rest & NaFlag.Solicited) !== 0;
    const override = (icmp.rest & NaFlag.Override) !== 0;
    const r = ctx.neighbours.confirm(
      setKey6(this.key, buf, icmp.targetOff),
      buf,
      icmp.targetMacOff,
      ctx.now,
      solicited,
      false,
      override,
    );
    this.link.noteConfirm(r);
    return DropReason.Ok;
  }

  private duplicate(idx: number): number {
    const ctx = this.ctx;
    if (ctx.addrStates.markDuplicated(idx)) ctx.stats.dadFailures++;
    return DropReason.DadDuplicate;
  }

  /** Starts and finishes DAD probes (RFC 4862 5.4.2): the worker that claims an address runs it. */
  tick(now: number): void {
    const ctx = this.ctx;
    if (!this.dadEnabled) return;
    const st = ctx.addrStates;
    for (let i = 0; i < ctx.addrs.v6Count; i++) {
      const state = st.state(i);
      if (state === AddressState.Tentative) {
        if (!st.claim(i, ctx.workerId)) continue;
        st.setProbes(i, 0);
        st.setDeadline(i, now);
      } else if (state !== AddressState.Probing || st.claimant(i) !== ctx.workerId) {
        continue;
      }
      if (now < st.deadline(i)) continue;
      const sent = st.probes(i);
      if (sent >= this.dadTransmits) {
        st.finish(i);
        continue;
      }
      copyBytes(this.target, 0, ctx.addrs.v6, 16 * i, 16);
      if (this.link.sendNs(this.target, -1, null) === 0) ctx.stats.dadProbesSent++;
      st.setProbes(i, sent + 1);
      st.setDeadline(i, now + this.dadRetransMs);
    }
  }
}

// ICMP (RFC 792, RFC 1122 3.2.2) and ICMPv6 (RFC 4443) for a host: echo replies built in place,
// error messages to senders (rate limited, RFC 1812 4.3.2.8, RFC 4443 2.4(f)), and received
// errors attributed to the transport whose packet they quote, with fragmentation-needed and
// packet-too-big feeding the shared path-MTU cache (RFC 1191, RFC 8201).

import { read16, read32, write16, write32, copyBytes } from '../wire/bytes.js';
import { checksum } from '../wire/checksum.js';
import { DropReason } from '../wire/drop-reason.js';
import { ETH_HLEN } from '../wire/ethernet.js';
import {
  ICMPV4_HLEN,
  Icmpv4DestUnreachableCode,
  Icmpv4Type,
  isIcmpv4Error,
  writeIcmpv4Header,
  type Icmpv4Header,
} from '../wire/icmpv4.js';
import { ICMPV6_HLEN, Icmpv6Type, setIcmpv6Checksum, writeIcmpv6Header } from '../wire/icmpv6.js';
import type { Icmpv6Header } from '../wire/icmpv6.js';
import { IpProtocol } from '../wire/ip-protocol.js';
import { IPV4_MIN_HLEN, Ipv4Header, writeIpv4Header } from '../wire/ipv4.js';
import { IPV6_HLEN, type Ipv6Header } from '../wire/ipv6.js';
import { TAKEN, type IfaceContext } from './context.js';
import type { IpOutput } from './ip-output.js';
import { MIN_PMTU4, MIN_PMTU6, PMTU4_FLOOR } from './pmtu-cache.js';
import type { ReassemblyTimeoutSink } from './reassembly.js';
import { TokenBucket } from './rate-limiter.js';
import { newKey, setKey4, setKey6 } from './shared-table.js';
import { IcmpErrorInfo, IcmpErrorKind, type TransportHandler } from './transport.js';

/** RFC 1812 4.3.2.3: an ICMPv4 error is at most 576 bytes. */
const ICMP4_ERROR_MAX = 576;
/** RFC 4443 2.4(c): an ICMPv6 error never exceeds the minimum IPv6 MTU. */
const ICMP6_ERROR_MAX = 1280;

/** RFC 1191 7: MTU plateaus for routers that send fragmentation-needed without an MTU. */
const PLATEAUS = [65535, 32000, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296, 68];

function plateauBelow(length: number): number {
  for (const p of PLATEAUS) if (p < length) return p;
  return MIN_PMTU4;
}

export class IcmpHandler implements ReassemblyTimeoutSink {
  readonly bucket: TokenBucket;
  private readonly h4 = new Ipv4Header();
  private readonly err = new IcmpErrorInfo();
  private readonly key = newKey();
  private readonly addr16 = new Uint8Array(16);

  constructor(
    private readonly ctx: IfaceContext,
    private readonly out: IpOutput,
    private readonly transports: (TransportHandler | null)[],
    errorsPerSecond: number,
    burst: number,
  ) {
    this.bucket = new TokenBucket(errorsPerSecond, burst);
  }

  // ---- IPv4 ----------------------------------------------------------------------------------

  /** An ICMP message (parsed into `icmp`) in the IPv4 datagram `ip` at buf; frame or -1. */
  input4(
    buf: Uint8Array,
    frame: number,
    ip: Ipv4Header,
    icmp: Icmpv4Header,
    toGroup: boolean,
  ): number {
    switch (icmp.type) {
      case Icmpv4Type.EchoRequest:
        // Linux icmp_echo_ignore_broadcasts: answering broadcast pings amplifies (smurf).
        if (toGroup) return DropReason.IcmpIgnored;
        return this.echoReply4(buf, frame, ip);
      case Icmpv4Type.DestinationUnreachable:
      case Icmpv4Type.TimeExceeded:
      case Icmpv4Type.ParameterProblem:
      case Icmpv4Type.SourceQuench:
        return this.error4(buf, ip, icmp);
      default:
        return DropReason.IcmpIgnored;
    }
  }

  // RFC 792 / RFC 1122 3.2.2.6: the reply carries the request's data; built over the request.
  private echoReply4(buf: Uint8Array, frame: number, ip: Ipv4Header): number {
    const ipOff = ip.payloadOff - ip.headerLength;
    const icmpLen = ip.payloadLen;
    let icmpOff = ip.payloadOff;
    if (ip.headerLength !== IPV4_MIN_HLEN) {
      // Options are not echoed (RFC 1122 3.2.2.6 lets us drop them): slide the message down.
      copyBytes(buf, ipOff + IPV4_MIN_HLEN, buf, icmpOff, icmpLen);
      icmpOff = ipOff + IPV4_MIN_HLEN;
    }
    buf[icmpOff] = Icmpv4Type.EchoReply;
    write16(buf, icmpOff + 2, 0);
    write16(buf, icmpOff + 2, checksum(buf, icmpOff, icmpLen));
    const h = this.h4;
    this.header4(h, IPV4_MIN_HLEN + icmpLen);
    h.src = ip.dst;
    h.dst = ip.src;
    writeIpv4Header(buf, ipOff, h);
    if (this.out.emit4(buf, ipOff, h.totalLength, frame) === 0) this.ctx.stats.echoRepliesSent++;
    return frame >= 0 ? TAKEN : DropReason.Ok;
  }

  // Addresses are set by the caller, field to field (see IfaceContext.sourceIndex4).
  private header4(h: Ipv4Header, total: number): void {
    h.headerLength = IPV4_MIN_HLEN;
    h.dscp = 0;
    h.ecn = 0;
    h.totalLength = total;
    h.identification = this.out.nextIpId();
    h.dontFragment = false;
    h.moreFragments = false;
    h.fragmentOffset = 0;
    h.ttl = this.ctx.addrs.ttl;
    h.protocol = IpProtocol.Icmp;
  }

  private error4(buf: Uint8Array, ip: Ipv4Header, icmp: Icmpv4Header): number {
    const ctx = this.ctx;
    ctx.stats.icmpErrorsReceived++;
    const q = icmp.dataOff;
    const qlen = icmp.dataLen;
    const qhl = (buf[q] & 0x0f) << 2;
    if (buf[q] >>> 4 !== 4 || qhl < IPV4_MIN_HLEN || qhl + 8 > qlen) {
      return DropReason.IcmpErrorUnmatched;
    }
    const local = read32(buf, q + 12);
    if (ctx.addrs.indexOf4(local) < 0) return DropReason.IcmpErrorUnmatched;
    const remote = read32(buf, q + 16);
    const e = this.begin(4, icmp.type, icmp.code, this.kind4(icmp.type, icmp.code));
    if (e.kind === IcmpErrorKind.PacketTooBig) {
      let mtu = icmp.rest & 0xffff;
      // RFC 1191 5: an old router reports 0; estimate from the quoted length.
      if (mtu < MIN_PMTU4) mtu = plateauBelow(read16(buf, q + 2));
      const key = setKey4(this.key, remote);
      if (ctx.pmtu.update(key, mtu, ctx.now, PMTU4_FLOOR) > 0) ctx.stats.pmtuUpdates++;
      e.mtu = ctx.pmtu.get(key, ctx.addrs.mtu);
    }
    e.protocol = buf[q + 9];
    this.quote(e, buf, q, q + qhl, q + qlen, q + 12, q + 16);
    e.reporter4 = ip.src;
    e.reporterOff = ip.payloadOff - ip.headerLength + 12;
    return this.dispatchError(e);
  }

  private kind4(type: number, code: number): number {
    if (type === Icmpv4Type.TimeExceeded) return IcmpErrorKind.TimeExceeded;
    if (type === Icmpv4Type.ParameterProblem) return IcmpErrorKind.ParameterProblem;
    if (type !== Icmpv4Type.DestinationUnreachable) return IcmpErrorKind.Other;
    switch (code) {
      case Icmpv4DestUnreachableCode.NetUnreachable:
        return IcmpErrorKind.NetUnreachable;
      case Icmpv4DestUnreachableCode.HostUnreachable:
        return IcmpErrorKind.HostUnreachable;
      case Icmpv4DestUnreachableCode.ProtocolUnreachable:
        return IcmpErrorKind.ProtocolUnreachable;
      case Icmpv4DestUnreachableCode.PortUnreachable:
        return IcmpErrorKind.PortUnreachable;
      case Icmpv4DestUnreachableCode.FragmentationNeeded:
        return IcmpErrorKind.PacketTooBig;
      case 9:
      case 10:
      case 13:
        return IcmpErrorKind.AdminProhibited; // RFC 1122 3.2.2.1, RFC 1812 5.2.7.1
      default:
        return IcmpErrorKind.HostUnreachable;
    }
  }

  /**
   * Address resolution for our own datagram at buf[ipOff, ipOff + len) failed: tell its
   * transport "host unreachable", as Linux does (arp_error_report / ndisc_error_report send the
   * ICMP error to the local socket), so a connecting TCP socket fails with EHOSTUNREACH and a
   * connected UDP socket reports it on its next call. Nothing goes on the wire.
   */
  localUnreachable(buf: Uint8Array, ipOff: number, len: number): void {
    const v4 = buf[ipOff] >>> 4 === 4;
    const hl = v4 ? (buf[ipOff] & 0x0f) << 2 : IPV6_HLEN;
    if (len < hl + 8) return;
    const protocol = v4 ? buf[ipOff + 9] : buf[ipOff + 6];
    if (protocol !== IpProtocol.Tcp && protocol !== IpProtocol.Udp) return;
    // ICMP destination unreachable, host (RFC 792) / ICMPv6 address unreachable (RFC 4443 3.1).
    const type = v4 ? Icmpv4Type.DestinationUnreachable : Icmpv6Type.DestinationUnreachable;
    const code = v4 ? Icmpv4DestUnreachableCode.HostUnreachable : 3;
    const e = this.begin(v4 ? 4 : 6, type, code, IcmpErrorKind.HostUnreachable);
    e.protocol = protocol;
    const localOff = ipOff + (v4 ? 12 : 8);
    this.quote(e, buf, ipOff, ipOff + hl, ipOff + len, localOff, localOff + (v4 ? 4 : 16));
    e.reporter4 = e.local4;
    e.reporterOff = e.localOff;
    this.dispatchError(e);
  }

  // The error's own fields; the caller fills in the rest (quote, protocol, reporter).
  private begin(family: 4 | 6, type: number, code: number, kind: number): IcmpErrorInfo {
    const e = this.err;
    e.family = family;
    e.type = type;
    e.code = code;
    e.kind = kind;
    e.mtu = 0;
    return e;
  }

  /**
   * The quoted packet (one of ours, so its source is local): its IP header at `ipOff`, its
   * transport bytes from `l4Off` to `end`, its addresses at `localOff` and `remoteOff`.
   */
  private quote(
    e: IcmpErrorInfo,
    buf: Uint8Array,
    ipOff: number,
    l4Off: number,
    end: number,
    localOff: number,
    remoteOff: number,
  ): void {
    const v4 = e.family === 4;
    e.buf = buf;
    e.quotedIpOff = ipOff;
    e.l4Off = l4Off;
    e.l4Len = end - l4Off;
    e.local4 = v4 ? read32(buf, localOff) : 0;
    e.remote4 = v4 ? read32(buf, remoteOff) : 0;
    e.localOff = localOff;
    e.remoteOff = remoteOff;
    // UDP and TCP both start with the source and destination ports.
    const ports = l4Off + 4 <= end;
    e.localPort = ports ? read16(buf, l4Off) : 0;
    e.remotePort = ports ? read16(buf, l4Off + 2) : 0;
  }

  private dispatchError(e: IcmpErrorInfo): number {
    const handler = e.protocol === 6 || e.protocol === 17 ? this.transports[e.protocol] : null;
    if (handler) handler.icmpError(e);
    return DropReason.Ok;
  }

  /**
   * Sends an ICMP error about the datagram at buf[ipOff..] (`avail` bytes of it), rate limited.
   * RFC 1122 3.2.2: never about a datagram sent to a group, from a non-unicast source, or that is
   * a non-first fragment; callers never pass ICMP errors.
   */
  sendError4(
    type: number,
    code: number,
    rest: number,
    buf: Uint8Array,
    ipOff: number,
    avail: number,
  ): void {
    const ctx = this.ctx;
    const src = read32(buf, ipOff + 12);
    const dst = read32(buf, ipOff + 16);
    if (src === 0 || src >>> 28 === 0xe || ctx.addrs.isBroadcast4(src)) return;
    if ((read16(buf, ipOff + 6) & 0x1fff) !== 0) return;
    const hlen = (buf[ipOff] & 0x0f) << 2;
    if (buf[ipOff + 9] === IpProtocol.Icmp && avail > hlen && isIcmpv4Error(buf[ipOff + hlen])) {
      return; // never an error about an error
    }
    if (!this.takeToken()) return;
    const quote = Math.min(avail, ICMP4_ERROR_MAX - IPV4_MIN_HLEN - ICMPV4_HLEN);
    const addr = ctx.allocateTx();
    if (addr < 0) return;
    const f = ctx.offsetOf(addr) + ETH_HLEN;
    const b = ctx.bytes;
    copyBytes(b, f + IPV4_MIN_HLEN + ICMPV4_HLEN, buf, ipOff, quote);
    writeIcmpv4Header(b, f + IPV4_MIN_HLEN, type, code, rest, ICMPV4_HLEN + quote);
    const h = this.h4;
    this.header4(h, IPV4_MIN_HLEN + ICMPV4_HLEN + quote);
    h.src = ctx.addrs.indexOf4(dst) >= 0 ? dst : ctx.addrs.v4[ctx.sourceIndex4(src)];
    h.dst = src;
    writeIpv4Header(b, f, h);
    if (this.out.emit4(b, f, h.totalLength, addr) === 0) ctx.stats.icmpErrorsSent++;
  }

  // RFC 1812 4.3.2.8, RFC 4443 2.4(f): errors are rate limited, one token each.
  private takeToken(): boolean {
    if (this.bucket.take(this.ctx.now)) return true;
    this.ctx.stats.icmpRateLimited++;
    return false;
  }

  // ---- IPv6 ----------------------------------------------------------------------------------

  /** An ICMPv6 message other than Neighbor Discovery. */
  input6(
    buf: Uint8Array,
    frame: number,
    ip: Ipv6Header,
    icmp: Icmpv6Header,
    toGroup: boolean,
  ): number {
    switch (icmp.type) {
      case Icmpv6Type.EchoRequest:
        // RFC 4443 4.2: a request to a group (ff02::1) is answered too, as Linux does, from one
        // of our unicast addresses; those replies draw on the error rate limit, so a flood to a
        // group cannot make us send more than it allows.
        if (!toGroup) return this.echoReply6(buf, frame, ip, -1);
        return this.groupEchoReply6(buf, frame, ip);
      case Icmpv6Type.DestinationUnreachable:
      case Icmpv6Type.PacketTooBig:
      case Icmpv6Type.TimeExceeded:
      case Icmpv6Type.ParameterProblem:
        return this.error6(buf, ip, icmp);
      default:
        return DropReason.IcmpIgnored;
    }
  }

  private groupEchoReply6(buf: Uint8Array, frame: number, ip: Ipv6Header): number {
    const src = this.ctx.sourceFor6(buf, ip.srcOff);
    if (src < 0) return DropReason.IcmpIgnored;
    if (!this.takeToken()) return DropReason.IcmpIgnored; // counted as icmpRateLimited
    return this.echoReply6(buf, frame, ip, src);
  }

  // RFC 4443 4.2: the reply to a unicast request comes from the address it was sent to; the
  // reply to a group request from our address `srcIndex`.
  private echoReply6(buf: Uint8Array, frame: number, ip: Ipv6Header, srcIndex: number): number {
    const ipOff = ip.srcOff - 8;
    const icmpLen = ip.upperLen;
    let icmpOff = ip.upperOff;
    if (icmpOff !== ipOff + IPV6_HLEN) {
      copyBytes(buf, ipOff + IPV6_HLEN, buf, icmpOff, icmpLen); // extension headers not echoed
      icmpOff = ipOff + IPV6_HLEN;
    }
    const tmp = this.addr16;
    copyBytes(tmp, 0, buf, ip.srcOff, 16);
    if (srcIndex < 0) copyBytes(buf, ipOff + 8, buf, ip.dstOff, 16);
    else copyBytes(buf, ipOff + 8, this.ctx.addrs.v6, 16 * srcIndex, 16);
    copyBytes(buf, ipOff + 24, tmp, 0, 16);
    write32(buf, ipOff, 0x60000000);
    write16(buf, ipOff + 4, icmpLen);
    buf[ipOff + 6] = IpProtocol.Icmpv6;
    buf[ipOff + 7] = this.ctx.addrs.hopLimit;
    buf[icmpOff] = Icmpv6Type.EchoReply;
    write16(buf, icmpOff + 2, 0);
    setIcmpv6Checksum(buf, icmpOff, icmpLen, buf, ipOff + 8, buf, ipOff + 24);
    if (this.out.emit6(buf, ipOff, IPV6_HLEN + icmpLen, frame) === 0) {
      this.ctx.stats.echoRepliesSent++;
    }
    return frame >= 0 ? TAKEN : DropReason.Ok;
  }

  private error6(buf: Uint8Array, ip: Ipv6Header, icmp: Icmpv6Header): number {
    const ctx = this.ctx;
    ctx.stats.icmpErrorsReceived++;
    const q = icmp.dataOff;
    const end = q + icmp.dataLen;
    if (icmp.dataLen < IPV6_HLEN || buf[q] >>> 4 !== 6) return DropReason.IcmpErrorUnmatched;
    if (ctx.addrs.indexOf6(buf, q + 8) < 0) return DropReason.IcmpErrorUnmatched;
    const e = this.begin(6, icmp.type, icmp.code, this.kind6(icmp.type, icmp.code));
    if (e.kind === IcmpErrorKind.PacketTooBig) {
      // RFC 8201 4: never below 1280 (RFC 8021: no atomic fragments below it either).
      const key = setKey6(this.key, buf, q + 24);
      if (ctx.pmtu.update(key, icmp.rest >>> 0, ctx.now, MIN_PMTU6) > 0) ctx.stats.pmtuUpdates++;
      e.mtu = ctx.pmtu.get(key, ctx.addrs.mtu);
    }
    // Walk the quoted extension headers to the transport header (a bounded, in-quote walk).
    let next = buf[q + 6];
    let p = q + IPV6_HLEN;
    for (let n = 0; n < 8; n++) {
      if (next === IpProtocol.HopByHop || next === IpProtocol.Ipv6Routing || next === 60) {
        if (p + 8 > end) break;
        next = buf[p];
        p += (buf[p + 1] + 1) << 3;
      } else if (next === IpProtocol.Ipv6Fragment) {
        if (p + 8 > end || (read16(buf, p + 2) & 0xfff8) !== 0) break; // no ports in later ones
        next = buf[p];
        p += 8;
      } else break;
    }
    e.protocol = next;
    this.quote(e, buf, q, p, end, q + 8, q + 24);
    e.reporter4 = 0;
    e.reporterOff = ip.srcOff;
    if (p + 8 > end)
      return e.kind === IcmpErrorKind.PacketTooBig ? DropReason.Ok : DropReason.IcmpErrorUnmatched;
    return this.dispatchError(e);
  }

  private kind6(type: number, code: number): number {
    if (type === Icmpv6Type.PacketTooBig) return IcmpErrorKind.PacketTooBig;
    if (type === Icmpv6Type.TimeExceeded) return IcmpErrorKind.TimeExceeded;
    if (type === Icmpv6Type.ParameterProblem) return IcmpErrorKind.ParameterProblem;
    switch (code) {
      case 0:
        return IcmpErrorKind.NetUnreachable;
      case 1:
      case 5:
      case 6:
        return IcmpErrorKind.AdminProhibited;
      case 4:
        return IcmpErrorKind.PortUnreachable;
      default:
        return IcmpErrorKind.HostUnreachable;
    }
  }

  /**
   * Sends an ICMPv6 error about the packet at buf[ipOff..] (`avail` bytes), rate limited.
   * RFC 4443 2.4(e): not about a packet to a multicast address (unless `evenIfMulticast`: Packet
   * Too Big, Parameter Problem code 2) or from the unspecified address.
   */
  sendError6(
    type: number,
    code: number,
    rest: number,
    buf: Uint8Array,
    ipOff: number,
    avail: number,
    evenIfMulticast = false,
  ): void {
    const ctx = this.ctx;
    let zero = true;
    for (let i = 0; i < 16 && zero; i++) zero = buf[ipOff + 8 + i] === 0;
    if (zero || buf[ipOff + 8] === 0xff) return;
    if (buf[ipOff + 24] === 0xff && !evenIfMulticast) return;
    if (buf[ipOff + 6] === IpProtocol.Icmpv6 && avail > IPV6_HLEN && buf[ipOff + IPV6_HLEN] < 128) {
      return; // never an error about an error (RFC 4443 2.4(e.1))
    }
    if (!this.takeToken()) return;
    const own = ctx.addrs.indexOf6(buf, ipOff + 24);
    const srcIndex =
      own >= 0 && ctx.addrStates.isPreferred(own) ? own : ctx.sourceFor6(buf, ipOff + 8);
    if (srcIndex < 0) return;
    const quote = Math.min(avail, ICMP6_ERROR_MAX - IPV6_HLEN - ICMPV6_HLEN);
    const addr = ctx.allocateTx();
    if (addr < 0) return;
    const f = ctx.offsetOf(addr) + ETH_HLEN;
    const b = ctx.bytes;
    const len = ICMPV6_HLEN + quote;
    copyBytes(b, f + IPV6_HLEN + ICMPV6_HLEN, buf, ipOff, quote);
    copyBytes(b, f + 24, buf, ipOff + 8, 16);
    copyBytes(b, f + 8, ctx.addrs.v6, 16 * srcIndex, 16);
    write32(b, f, 0x60000000);
    write16(b, f + 4, len);
    b[f + 6] = IpProtocol.Icmpv6;
    b[f + 7] = ctx.addrs.hopLimit;
    writeIcmpv6Header(b, f + IPV6_HLEN, type, code, rest >>> 0);
    setIcmpv6Checksum(b, f + IPV6_HLEN, len, b, f + 8, b, f + 24);
    if (this.out.emit6(b, f, IPV6_HLEN + len, addr) === 0) ctx.stats.icmpErrorsSent++;
  }

  /** Port unreachable for a datagram nobody is bound to (RFC 1122 4.1.3.1, RFC 4443 3.1). */
  portUnreachable(family: 4 | 6, buf: Uint8Array, ipOff: number, avail: number): void {
    if (family === 4) {
      this.sendError4(
        Icmpv4Type.DestinationUnreachable,
        Icmpv4DestUnreachableCode.PortUnreachable,
        0,
        buf,
        ipOff,
        avail,
      );
    } else {
      this.sendError6(Icmpv6Type.DestinationUnreachable, 4, 0, buf, ipOff, avail);
    }
  }

  /** ReassemblyTimeoutSink: Time Exceeded, fragment reassembly time exceeded (code 1). */
  reassemblyTimedOut(family: 4 | 6, buf: Uint8Array, off: number, len: number): void {
    if (family === 4) this.sendError4(Icmpv4Type.TimeExceeded, 1, 0, buf, off, len);
    else this.sendError6(Icmpv6Type.TimeExceeded, 1, 0, buf, off, len);
  }
}

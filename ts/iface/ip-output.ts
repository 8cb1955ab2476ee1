// IP output for both families: route lookup, path MTU, fragmentation (RFC 791 3.2 for IPv4 when
// DF is clear; RFC 8200 4.5 at the source for IPv6), and the begin/finish API that lets a
// transport write its header and payload in place in a frame (or, for datagrams bigger than a
// frame, in a staging buffer the interface fragments from).

import { read16, read32, write16, write32, copyBytes } from '../wire/bytes.js';
import { checksum } from '../wire/checksum.js';
import { ETH_HLEN, EtherType } from '../wire/ethernet.js';
import { IpProtocol } from '../wire/ip-protocol.js';
import { IPV4_MIN_HLEN, Ipv4Header, writeIpv4Header } from '../wire/ipv4.js';
import { IPV6_FRAGMENT_HLEN, IPV6_HLEN, writeIpv6FragmentHeader } from '../wire/ipv6.js';
import { writeIpv6MulticastMac } from '../wire/icmpv6.js';
import type { IfaceContext } from './context.js';
import { IfaceErrno } from './errno.js';
import type { LinkOutput } from './link-output.js';
import type { IpPath } from './ip-path.js';
import { isCacheable } from './neighbour-table.js';
import { MIN_PMTU4, MIN_PMTU6 } from './pmtu-cache.js';
import { NextHop } from './routes.js';
import { newKey, setKey4, setKey6 } from './shared-table.js';

const BROADCAST = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
const FLAG_DF = 0x4000;
const FLAG_MF = 0x2000;
const STAGING_BYTES = 65536 + 64;

/**
 * The datagram a transport is building between beginIp4/beginIp6 and finishIp. The transport
 * writes its header and payload at `payloadOff` of `buf`; the IP addresses are already in place
 * at srcOff/dstOff (for pseudo-header checksums).
 */
export class TxDatagram {
  /** device.bytes (the datagram fits one frame) or the staging buffer (it will be fragmented). */
  buf: Uint8Array = new Uint8Array(0);
  payloadOff = 0;
  /** The most payload finishIp accepts for this datagram. */
  maxPayload = 0;
  family: 4 | 6 = 4;
  src4 = 0;
  dst4 = 0;
  /** Offsets in buf of the source and destination addresses (4 or 16 bytes). */
  srcOff = 0;
  dstOff = 0;
  /** Device address of the frame's Ethernet header, or -1 when staging. */
  frame = -1;
  ipOff = 0;
  active = false;
  /** The cached path the datagram goes by (beginOnPath), or null for the full lookups. */
  path: IpPath | null = null;
  /**
   * The datagram is in a frame of a device that fills TCP checksums (FrameDevice.txTcpChecksum):
   * a TCP segment sent with dontFragment (never cut into fragments) may leave its checksum.
   */
  deviceTcpChecksum = false;
}

export class IpOutput {
  readonly tx = new TxDatagram();
  private readonly staging = new Uint8Array(STAGING_BYTES);
  private readonly hop = new NextHop();
  private readonly key = newKey();
  private readonly mac = new Uint8Array(6);
  private readonly h4 = new Ipv4Header();
  private ipId: number;
  private fragId: number;

  constructor(
    private readonly ctx: IfaceContext,
    private readonly link: LinkOutput,
  ) {
    // RFC 6864 / RFC 7739: identifiers need not be sequential across workers, only unlikely to
    // repeat soon for a pair; a random start per worker keeps workers apart.
    this.ipId = (Math.random() * 0x10000) | 0;
    this.fragId = ((ctx.workerId & 0xff) << 24) | ((Math.random() * 0x1000000) | 0);
  }

  /** The MTU towards an IPv4 destination: the route's, lowered by what PMTU discovery learnt. */
  pathMtu4(dst: number): number {
    const ctx = this.ctx;
    if (!ctx.routes.lookup4(dst, this.hop)) return ctx.addrs.mtu;
    return ctx.pmtu.get(setKey4(this.key, dst), this.hop.mtu);
  }

  pathMtu6(buf: Uint8Array, off: number): number {
    const ctx = this.ctx;
    if (!ctx.routes.lookup6(buf, off, this.hop)) return ctx.addrs.mtu;
    return ctx.pmtu.get(setKey6(this.key, buf, off), this.hop.mtu);
  }

  // ---- whole datagrams ---------------------------------------------------------------------

  /**
   * Sends the IPv4 datagram at buf[ipOff, ipOff + total) (header complete, checksum set). When
   * `frame` >= 0 the datagram is in that frame (buf = device bytes, Ethernet header room in
   * front) and the frame is taken; otherwise it is copied into new frames. Fragments when it
   * exceeds the path MTU and DF is clear.
   */
  emit4(buf: Uint8Array, ipOff: number, total: number, frame: number): number {
    const ctx = this.ctx;
    const dst = read32(buf, ipOff + 16);
    const broadcast = ctx.addrs.isBroadcast4(dst);
    let mtu = ctx.addrs.mtu;
    if (!broadcast) {
      if (!ctx.routes.lookup4(dst, this.hop)) return this.release(frame, IfaceErrno.ENETUNREACH);
      mtu = ctx.pmtu.get(setKey4(this.key, dst), this.hop.mtu);
    }
    if (total > mtu) {
      if ((read16(buf, ipOff + 6) & FLAG_DF) !== 0) return this.release(frame, IfaceErrno.EMSGSIZE);
      // The fragments are copies: the datagram's own frame goes back.
      return this.release(frame, this.fragment4(buf, ipOff, total, mtu, broadcast));
    }
    const f = this.inFrame(buf, ipOff, total, frame);
    return f < 0 ? IfaceErrno.EAGAIN : this.linkSend4(f, ETH_HLEN + total, broadcast);
  }

  private linkSend4(frame: number, len: number, broadcast: boolean): number {
    this.link.writeHeader(frame, EtherType.Ipv4);
    if (broadcast) return this.link.transmitTo(frame, len, BROADCAST, 0);
    return this.link.transmit(frame, len, setKey4(this.key, this.hop.hop4));
  }

  // RFC 791 3.2: every fragment but the last carries a multiple of 8 bytes; the header is copied
  // (we emit no options, so nothing to filter by the copy flag).
  private fragment4(
    buf: Uint8Array,
    ipOff: number,
    total: number,
    mtu: number,
    broadcast: boolean,
  ): number {
    const ctx = this.ctx;
    const hlen = (buf[ipOff] & 0x0f) << 2;
    const flags = read16(buf, ipOff + 6);
    const baseOffset = (flags & 0x1fff) << 3;
    const lastHasMf = (flags & FLAG_MF) !== 0;
    const payload = total - hlen;
    const chunk = ((mtu - hlen) >>> 3) << 3;
    if (chunk <= 0) return IfaceErrno.EMSGSIZE;
    let result = 0;
    for (let o = 0; o < payload; o += chunk) {
      const len = Math.min(chunk, payload - o);
      const frame = ctx.allocateTxFor(ETH_HLEN + hlen + len);
      if (frame < 0) return IfaceErrno.EAGAIN;
      const f = ctx.offsetOf(frame) + ETH_HLEN;
      const b = ctx.bytes;
      copyBytes(b, f, buf, ipOff, hlen);
      copyBytes(b, f + hlen, buf, ipOff + hlen + o, len);
      write16(b, f + 2, hlen + len);
      const more = o + len < payload || lastHasMf;
      write16(b, f + 6, (more ? FLAG_MF : 0) | ((baseOffset + o) >>> 3));
      write16(b, f + 10, 0);
      write16(b, f + 10, checksum(b, f, hlen));
      ctx.stats.fragmentsSent++;
      const r = this.linkSend4(frame, ETH_HLEN + hlen + len, broadcast);
      if (r !== 0) result = r;
    }
    return result;
  }

  /**
   * Sends the IPv6 datagram at buf[ipOff, ipOff + total) (fixed header only, then the upper
   * layer). Fragments at the source (RFC 8200 4.5) when it exceeds the path MTU unless
   * `mayFragment` is false.
   */
  emit6(buf: Uint8Array, ipOff: number, total: number, frame: number, mayFragment = true): number {
    const ctx = this.ctx;
    const dstOff = ipOff + 24;
    const multicast = buf[dstOff] === 0xff;
    let mtu = ctx.addrs.mtu;
    if (!multicast) {
      if (!ctx.routes.lookup6(buf, dstOff, this.hop))
        return this.release(frame, IfaceErrno.ENETUNREACH);
      mtu = ctx.pmtu.get(setKey6(this.key, buf, dstOff), this.hop.mtu);
    } else {
      writeIpv6MulticastMac(this.mac, 0, buf, dstOff);
    }
    if (total > mtu) {
      if (!mayFragment) return this.release(frame, IfaceErrno.EMSGSIZE);
      return this.release(frame, this.fragment6(buf, ipOff, total, mtu, multicast));
    }
    const f = this.inFrame(buf, ipOff, total, frame);
    return f < 0 ? IfaceErrno.EAGAIN : this.linkSend6(f, ETH_HLEN + total, multicast);
  }

  private linkSend6(frame: number, len: number, multicast: boolean): number {
    this.link.writeHeader(frame, EtherType.Ipv6);
    if (multicast) return this.link.transmitTo(frame, len, this.mac, 0);
    return this.link.transmit(frame, len, setKey6(this.key, this.hop.hop6, 0));
  }

  private fragment6(
    buf: Uint8Array,
    ipOff: number,
    total: number,
    mtu: number,
    multicast: boolean,
  ): number {
    const ctx = this.ctx;
    const next = buf[ipOff + 6];
    const payload = total - IPV6_HLEN;
    const chunk = ((mtu - IPV6_HLEN - IPV6_FRAGMENT_HLEN) >>> 3) << 3;
    this.fragId = (this.fragId + 1) | 0;
    let result = 0;
    for (let o = 0; o < payload; o += chunk) {
      const len = Math.min(chunk, payload - o);
      const frame = ctx.allocateTxFor(ETH_HLEN + IPV6_HLEN + IPV6_FRAGMENT_HLEN + len);
      if (frame < 0) return IfaceErrno.EAGAIN;
      const f = ctx.offsetOf(frame) + ETH_HLEN;
      const b = ctx.bytes;
      copyBytes(b, f, buf, ipOff, IPV6_HLEN);
      write16(b, f + 4, IPV6_FRAGMENT_HLEN + len);
      b[f + 6] = IpProtocol.Ipv6Fragment;
      writeIpv6FragmentHeader(b, f + IPV6_HLEN, next, o, o + len < payload, this.fragId >>> 0);
      copyBytes(b, f + IPV6_HLEN + IPV6_FRAGMENT_HLEN, buf, ipOff + IPV6_HLEN + o, len);
      ctx.stats.fragmentsSent++;
      const r = this.linkSend6(frame, ETH_HLEN + IPV6_HLEN + IPV6_FRAGMENT_HLEN + len, multicast);
      if (r !== 0) result = r;
    }
    return result;
  }

  // The frame holding the datagram: its own (`frame` >= 0), or a new one it is copied into; -1
  // when none is free.
  private inFrame(buf: Uint8Array, ipOff: number, total: number, frame: number): number {
    if (frame >= 0) return frame;
    const copy = this.ctx.allocateTxFor(ETH_HLEN + total);
    if (copy >= 0) copyBytes(this.ctx.bytes, this.ctx.offsetOf(copy) + ETH_HLEN, buf, ipOff, total);
    return copy;
  }

  // Gives back the caller's frame, if it passed one, and returns `result`.
  private release(frame: number, result: number): number {
    if (frame >= 0) this.ctx.device.release(frame);
    return result;
  }

  nextIpId(): number {
    this.ipId = (this.ipId + 1) & 0xffff;
    return this.ipId;
  }

  // ---- the transport API -------------------------------------------------------------------

  /**
   * Starts an IPv4 datagram to `dst` with `payloadLen` bytes of transport header + data, from
   * `src` (0: chosen by route). Returns the offset in tx.buf where the transport writes, or a
   * negative errno.
   */
  beginIp4(dst: number, payloadLen: number, src = 0): number {
    const ctx = this.ctx;
    this.abortIp();
    if (!ctx.addrs.isBroadcast4(dst) && !ctx.routes.lookup4(dst, this.hop)) {
      return IfaceErrno.ENETUNREACH;
    }
    if (src === 0) {
      const i = ctx.sourceIndex4(dst);
      if (i < 0) return IfaceErrno.EADDRNOTAVAIL;
      src = ctx.addrs.v4[i];
    }
    if (!(payloadLen >= 0 && payloadLen <= 65535 - IPV4_MIN_HLEN)) return IfaceErrno.EMSGSIZE;
    const r = this.place(IPV4_MIN_HLEN, payloadLen);
    if (r < 0) return r;
    const tx = this.tx;
    tx.family = 4;
    tx.src4 = src;
    tx.dst4 = dst;
    tx.srcOff = tx.ipOff + 12;
    tx.dstOff = tx.ipOff + 16;
    write32(tx.buf, tx.srcOff, src);
    write32(tx.buf, tx.dstOff, dst);
    return tx.payloadOff;
  }

  /**
   * Starts an IPv6 datagram to the 16 bytes at dst[dstOff], source chosen by RFC 6724 rules
   * (simplified) unless `src` is given. Returns the payload offset in tx.buf or a negative errno.
   */
  beginIp6(
    dst: Uint8Array,
    dstOff: number,
    payloadLen: number,
    src: Uint8Array | null = null,
    srcOff = 0,
  ): number {
    const ctx = this.ctx;
    this.abortIp();
    if (dst[dstOff] !== 0xff && !ctx.routes.lookup6(dst, dstOff, this.hop)) {
      return IfaceErrno.ENETUNREACH;
    }
    if (src === null) {
      const i = ctx.sourceFor6(dst, dstOff);
      if (i < 0) return IfaceErrno.EADDRNOTAVAIL;
      src = ctx.addrs.v6;
      srcOff = 16 * i;
    }
    if (!(payloadLen >= 0 && payloadLen <= 65535)) return IfaceErrno.EMSGSIZE;
    const r = this.place(IPV6_HLEN, payloadLen);
    if (r < 0) return r;
    const tx = this.tx;
    tx.family = 6;
    tx.src4 = 0;
    tx.dst4 = 0;
    tx.srcOff = tx.ipOff + 8;
    tx.dstOff = tx.ipOff + 24;
    copyBytes(tx.buf, tx.srcOff, src, srcOff, 16);
    copyBytes(tx.buf, tx.dstOff, dst, dstOff, 16);
    return tx.payloadOff;
  }

  // ---- cached paths (ip-path.ts) ----------------------------------------------------------

  /**
   * Starts a datagram on `path` (its addresses bound by the transport) with `payloadLen` bytes
   * of transport header + data: beginIp4/beginIp6 without the per-datagram route, path-MTU and
   * neighbour lookups while the path's generations hold. Returns the payload offset in tx.buf or
   * a negative errno, as they do.
   */
  beginOnPath(path: IpPath, payloadLen: number): number {
    this.refresh(path);
    if (!path.usable) {
      // Broadcast, no route, no source: the full path decides (and reports the error).
      return path.family === 4
        ? this.beginIp4(path.dst4, payloadLen, path.src4)
        : this.beginIp6(path.dst6, 0, payloadLen, path.src6, 0);
    }
    this.abortIp();
    const is4 = path.family === 4;
    if (!(payloadLen >= 0 && payloadLen <= (is4 ? 65535 - IPV4_MIN_HLEN : 65535))) {
      return IfaceErrno.EMSGSIZE;
    }
    const r = this.place(is4 ? IPV4_MIN_HLEN : IPV6_HLEN, payloadLen);
    if (r < 0) return r;
    const tx = this.tx;
    tx.path = path;
    if (is4) {
      tx.family = 4;
      tx.src4 = path.src4;
      tx.dst4 = path.dst4;
      tx.srcOff = tx.ipOff + 12;
      tx.dstOff = tx.ipOff + 16;
      write32(tx.buf, tx.srcOff, path.src4);
      write32(tx.buf, tx.dstOff, path.dst4);
    } else {
      tx.family = 6;
      tx.src4 = 0;
      tx.dst4 = 0;
      tx.srcOff = tx.ipOff + 8;
      tx.dstOff = tx.ipOff + 24;
      copyBytes(tx.buf, tx.srcOff, path.src6, 0, 16);
      copyBytes(tx.buf, tx.dstOff, path.dst6, 0, 16);
    }
    return tx.payloadOff;
  }

  /**
   * Makes `path` current: three integer compares when nothing changed, else the full lookups.
   * The generations are read before the lookups, so a change racing with them leaves the path
   * stamped older than what it saw and the next datagram looks again.
   */
  refresh(path: IpPath): void {
    const ctx = this.ctx;
    const neighbourGeneration = ctx.neighbours.generation();
    const pmtuGeneration = ctx.pmtu.generation();
    if (
      path.localGeneration === ctx.pathGeneration &&
      path.neighbourGeneration === neighbourGeneration &&
      path.pmtuGeneration === pmtuGeneration
    ) {
      return;
    }
    ctx.stats.pathRefills++;
    path.localGeneration = ctx.pathGeneration;
    path.neighbourGeneration = neighbourGeneration;
    path.pmtuGeneration = pmtuGeneration;
    path.usable = false;
    path.hasLinkHeader = false;
    const hop = this.hop;
    const eth = path.linkHeader;
    if (path.family === 4) {
      const dst = path.dst4;
      if (path.src4 === 0 || ctx.addrs.isBroadcast4(dst) || !ctx.routes.lookup4(dst, hop)) return;
      path.mtu = ctx.pmtu.get(setKey4(this.key, dst), hop.mtu);
      setKey4(path.hopKey, hop.hop4);
      write16(eth, 12, EtherType.Ipv4);
    } else {
      const dst = path.dst6;
      if (dst[0] === 0xff || !ctx.routes.lookup6(dst, 0, hop)) return;
      path.mtu = ctx.pmtu.get(setKey6(this.key, dst, 0), hop.mtu);
      setKey6(path.hopKey, hop.hop6, 0);
      write16(eth, 12, EtherType.Ipv6);
    }
    path.usable = true;
    const state = ctx.neighbours.lookup(path.hopKey, eth, 0);
    if (isCacheable(state)) {
      copyBytes(eth, 6, ctx.addrs.mac, 0, 6);
      path.hasLinkHeader = true;
    }
  }

  // Sends a datagram begun on a path: straight to the cached next hop's MAC, or through the
  // neighbour path when the entry was not cacheable. Datagrams over the path MTU (or staged)
  // take the full path, which fragments or refuses them.
  private emitOnPath(path: IpPath, buf: Uint8Array, ipOff: number, total: number, frame: number) {
    if (frame < 0 || total > path.mtu) {
      return path.family === 4
        ? this.emit4(buf, ipOff, total, frame)
        : this.emit6(buf, ipOff, total, frame, false);
    }
    if (path.hasLinkHeader) {
      copyBytes(this.ctx.bytes, this.ctx.offsetOf(frame), path.linkHeader, 0, ETH_HLEN);
      return this.link.sendRaw(frame, ETH_HLEN + total);
    }
    if (path.confirmed) {
      path.confirmed = false;
      this.ctx.neighbours.confirmReachable(path.hopKey, this.ctx.now);
    }
    this.link.writeHeader(frame, path.family === 4 ? EtherType.Ipv4 : EtherType.Ipv6);
    return this.link.transmit(frame, ETH_HLEN + total, path.hopKey);
  }

  // A frame when the datagram fits one, else the staging buffer.
  private place(hlen: number, payloadLen: number): number {
    const ctx = this.ctx;
    const tx = this.tx;
    tx.path = null;
    const dev = ctx.device;
    const room = ctx.frameRoom - ETH_HLEN - hlen;
    const large = ctx.largeRoom - ETH_HLEN - hlen;
    if (payloadLen <= room || payloadLen <= large) {
      // One frame, or (multi-buffer devices) a run of contiguous frames sent as a chain.
      const fits = payloadLen <= room;
      const frame = fits ? ctx.allocateTx() : ctx.allocateTxFor(ctx.largeRoom);
      if (frame < 0) return IfaceErrno.EAGAIN;
      tx.frame = frame;
      tx.buf = ctx.bytes;
      tx.ipOff = ctx.offsetOf(frame) + ETH_HLEN;
      tx.maxPayload = fits ? room : large;
      tx.deviceTcpChecksum = dev.txTcpChecksum === true;
    } else {
      tx.deviceTcpChecksum = false;
      tx.frame = -1;
      tx.buf = this.staging;
      tx.ipOff = 0;
      tx.maxPayload = hlen === IPV4_MIN_HLEN ? 65535 - IPV4_MIN_HLEN : 65535;
    }
    tx.payloadOff = tx.ipOff + hlen;
    tx.active = true;
    return 0;
  }

  /**
   * Sends the datagram started by beginIp4/beginIp6 with `payloadLen` bytes written. With
   * `dontFragment` an IPv4 datagram carries DF (RFC 1191) and neither family is fragmented:
   * EMSGSIZE if it exceeds the path MTU. Returns 0 (sent, or queued for resolution) or a
   * negative errno.
   */
  finishIp(protocol: number, payloadLen: number, dontFragment = false): number {
    const tx = this.tx;
    if (!tx.active) return IfaceErrno.EINVAL;
    tx.active = false;
    if (!(payloadLen >= 0 && payloadLen <= tx.maxPayload)) {
      return this.release(tx.frame, IfaceErrno.EMSGSIZE);
    }
    const ctx = this.ctx;
    if (tx.family === 4) {
      const h = this.h4;
      h.headerLength = IPV4_MIN_HLEN;
      h.dscp = 0;
      h.ecn = 0;
      h.totalLength = IPV4_MIN_HLEN + payloadLen;
      h.identification = this.nextIpId();
      h.dontFragment = dontFragment;
      h.moreFragments = false;
      h.fragmentOffset = 0;
      h.ttl = ctx.addrs.ttl;
      h.protocol = protocol;
      h.src = tx.src4;
      h.dst = tx.dst4;
      writeIpv4Header(tx.buf, tx.ipOff, h);
      if (tx.path !== null)
        return this.emitOnPath(tx.path, tx.buf, tx.ipOff, h.totalLength, tx.frame);
      return this.emit4(tx.buf, tx.ipOff, h.totalLength, tx.frame);
    }
    const b = tx.buf;
    const o = tx.ipOff;
    write32(b, o, 0x60000000);
    write16(b, o + 4, payloadLen);
    b[o + 6] = protocol;
    b[o + 7] = ctx.addrs.hopLimit;
    if (tx.path !== null && dontFragment) {
      return this.emitOnPath(tx.path, b, o, IPV6_HLEN + payloadLen, tx.frame);
    }
    return this.emit6(b, o, IPV6_HLEN + payloadLen, tx.frame, !dontFragment);
  }

  /** Abandons a started datagram (its frame goes back). */
  abortIp(): void {
    const tx = this.tx;
    if (!tx.active) return;
    tx.active = false;
    if (tx.frame >= 0) this.ctx.device.release(tx.frame);
  }
}

export { MIN_PMTU4, MIN_PMTU6 };

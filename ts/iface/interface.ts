// One worker's network interface: takes RX batches from a FrameDevice, answers ARP, Neighbor
// Discovery and ICMP itself, reassembles fragments, and hands UDP/TCP datagrams to the registered
// transports in place; gives transports an allocation-free output path (beginIp*/finishIp). Every
// worker of an engine runs its own Interface over the same shared tables (neighbours, path MTUs,
// address states), so what one worker learns, all use. See ts/iface/README.md.

import type { FrameDevice } from '../dev/frame-device.js';
import { type Clock, monotonicNow } from '../dev/memory/clock.js';
import { bytesEqual } from '../wire/bytes.js';
import { DropReason, dropCountsByName, type DropCounters } from '../wire/drop-reason.js';
import { EthernetHeader, EtherType, isBroadcastMac, parseEthernet } from '../wire/ethernet.js';
import { isIpv6SolicitedNodeMulticast } from '../wire/address.js';
import { IpProtocol } from '../wire/ip-protocol.js';
import { isIpv4Fragment, parseIpv4, type Ipv4Header } from '../wire/ipv4.js';
import { isIpv6Fragment, ParamProblemCode, parseIpv6, type Ipv6Header } from '../wire/ipv6.js';
import {
  Icmpv4Header,
  Icmpv4Type,
  Icmpv4DestUnreachableCode,
  parseIcmpv4,
} from '../wire/icmpv4.js';
import { Icmpv6Header, Icmpv6Type, parseIcmpv6 } from '../wire/icmpv6.js';
import { AddressStates } from './address-states.js';
import { ArpHandler } from './arp.js';
import { InterfaceAddresses, type InterfaceConfig } from './config.js';
import { IfaceContext, TAKEN, type IfaceStats } from './context.js';
import { IcmpHandler } from './icmp.js';
import { IpOutput, type TxDatagram } from './ip-output.js';
import type { IpPath } from './ip-path.js';
import { LinkOutput } from './link-output.js';
import { NeighbourDiscovery } from './nd.js';
import { SharedNeighbourTable } from './neighbour-table.js';
import { PmtuCache } from './pmtu-cache.js';
import { Reassembler } from './reassembly.js';
import { RouteTable } from './routes.js';
import { newKey, setKey4, setKey6 } from './shared-table.js';
import { InputResult, RxDatagram, type TransportHandler } from './transport.js';
import { parseIpv4Address, parseIpv6AddressInto } from '../wire/address.js';
import { parseMac } from '../wire/ethernet.js';
import { RX_CONTINUED } from '../dev/xdp/umem-layout.js';

/** Most buffers one packet may span: MAX_SKB_FRAGS (17) after the first (net/xdp/xsk.c). */
const MAX_CHAIN = 18;
/** An RX length word without RX_CONTINUED. */
const RX_LENGTH_MASK = RX_CONTINUED - 1;

export interface InterfaceOptions {
  /** The neighbour cache shared by every worker (or its buffer, from another thread). */
  neighbours: SharedNeighbourTable | SharedArrayBuffer;
  /** The shared path-MTU cache; default a private one. */
  pmtu?: PmtuCache | SharedArrayBuffer;
  /** The shared DAD state of our IPv6 addresses; default a private one. */
  addressStates?: AddressStates | SharedArrayBuffer;
  /**
   * Time in ms. Must be the same time base in every worker sharing the tables; the default is
   * performance.timeOrigin + performance.now() (epoch-aligned, so it agrees across threads).
   */
  clock?: Clock;
  /** This worker's index (0 runs the start-up announcements). */
  workerId?: number;
}

/** Buffers of the state every worker of one interface shares; pass them in workerData. */
export interface SharedInterfaceState {
  neighbours: SharedArrayBuffer;
  pmtu: SharedArrayBuffer;
  addressStates: SharedArrayBuffer;
}

/** Creates the shared state once, on the main thread. */
export function createSharedInterfaceState(neighbourCapacity = 1024): SharedInterfaceState {
  return {
    neighbours: SharedNeighbourTable.create(neighbourCapacity).buffer,
    pmtu: PmtuCache.create().buffer,
    addressStates: new AddressStates().buffer,
  };
}

// Read once: the getter returns a new boxed double on every call.
const TIME_ORIGIN = performance.timeOrigin;

/** Epoch-aligned milliseconds: the same base in every thread (performance.now() is not). */
export const sharedClock: Clock = { now: () => TIME_ORIGIN + monotonicNow() };

const PMTU_EXPIRE_INTERVAL_MS = 10_000;

export class Interface {
  readonly device: FrameDevice;
  readonly addresses: InterfaceAddresses;
  readonly neighbours: SharedNeighbourTable;
  readonly pmtu: PmtuCache;
  readonly addressStates: AddressStates;
  readonly clock: Clock;
  readonly workerId: number;
  /** Drops by DropReason (wire and interface reasons). */
  readonly drops: DropCounters;
  readonly stats: IfaceStats;
  /** The datagram being built between beginIp4/beginIp6 and finishIp. */
  readonly tx: TxDatagram;
  readonly reassembler: Reassembler;

  private readonly ctx: IfaceContext;
  private readonly link: LinkOutput;
  private readonly out: IpOutput;
  private readonly icmp: IcmpHandler;
  private readonly arp: ArpHandler;
  private readonly nd: NeighbourDiscovery;
  private readonly transports: (TransportHandler | null)[] = new Array<TransportHandler | null>(
    256,
  ).fill(null);
  private readonly eth = new EthernetHeader();
  private readonly rx = new RxDatagram();
  /** The device verified the TCP/UDP checksum of the frame being handled (see poll()). */
  private rxChecksumOk = false;
  private readonly ip4: Ipv4Header;
  private readonly ip6: Ipv6Header;
  private readonly icmp4 = new Icmpv4Header();
  private readonly icmp6 = new Icmpv6Header();
  private nextPmtuExpiry = 0;
  private readonly scratchKey = newKey();
  /**
   * The longest packet a multi-buffer chain may carry: the MTU plus the Ethernet header, when
   * that is more than one frame holds and the device has large frames to gather it in; else 0
   * and a chain is dropped (RxChainNotEnabled).
   */
  private readonly chainMax: number;

  constructor(device: FrameDevice, config: InterfaceConfig, opts: InterfaceOptions) {
    this.device = device;
    this.addresses = new InterfaceAddresses(config);
    const n = opts.neighbours;
    this.neighbours =
      n instanceof SharedNeighbourTable ? n : new SharedNeighbourTable(n, config.neighbourTimers);
    const p = opts.pmtu;
    const pmtuExpiry = config.pmtuExpiryMs ?? 600_000;
    this.pmtu =
      p instanceof PmtuCache
        ? p
        : p
          ? new PmtuCache(p, pmtuExpiry)
          : PmtuCache.create(256, pmtuExpiry);
    const a = opts.addressStates;
    this.addressStates = a instanceof AddressStates ? a : new AddressStates(a);
    this.clock = opts.clock ?? sharedClock;
    this.workerId = opts.workerId ?? 0;
    const routes = new RouteTable(this.addresses, config);
    const ctx = new IfaceContext(
      device,
      this.addresses,
      routes,
      this.neighbours,
      this.pmtu,
      this.addressStates,
      this.workerId,
    );
    this.ctx = ctx;
    ctx.now = this.clock.now();
    this.drops = ctx.drops;
    this.stats = ctx.stats;
    this.link = new LinkOutput(ctx, config.pendingPackets ?? 64);
    this.out = new IpOutput(ctx, this.link);
    this.tx = this.out.tx;
    this.icmp = new IcmpHandler(
      ctx,
      this.out,
      this.transports,
      config.icmpErrorsPerSecond ?? 1000,
      config.icmpErrorBurst ?? 50,
    );
    const icmp = this.icmp;
    this.link.onUnresolved = (buf, ipOff, len) => icmp.localUnreachable(buf, ipOff, len);
    this.arp = new ArpHandler(
      ctx,
      this.link,
      this.workerId === 0 ? (config.gratuitousArp ?? 2) : 0,
    );
    this.nd = new NeighbourDiscovery(
      ctx,
      this.link,
      this.out,
      config.dad ?? true,
      config.dadTransmits ?? 1,
      config.dadRetransMs ?? 1000,
    );
    this.reassembler = new Reassembler(
      config.reassemblySlots ?? 16,
      config.reassemblyTimeoutMs ?? 30_000,
      config.reassemblyMaxPieces ?? 128,
    );
    this.ip4 = this.rx.ip4;
    this.ip6 = this.rx.ip6;
    const frameLen = this.addresses.mtu + 14;
    this.chainMax = frameLen > ctx.frameRoom && frameLen <= ctx.largeRoom ? frameLen : 0;
    this.addStaticNeighbours(config);
  }

  private addStaticNeighbours(config: InterfaceConfig): void {
    const key = newKey();
    const addr = new Uint8Array(16);
    for (const { ip, mac } of config.staticNeighbours ?? []) {
      if (ip.includes(':')) {
        parseIpv6AddressInto(ip, addr, 0);
        setKey6(key, addr, 0);
      } else {
        setKey4(key, parseIpv4Address(ip));
      }
      this.neighbours.setPermanent(key, parseMac(mac), 0);
    }
  }

  /** Hands UDP (17) or TCP (6) datagrams addressed to us to `handler` (null unregisters). */
  registerTransport(protocol: 6 | 17, handler: TransportHandler | null): void {
    if (protocol !== 6 && protocol !== 17) {
      throw Object.assign(new Error(`transport protocol must be 6 or 17, got ${protocol}`), {
        code: 'EINVAL',
      });
    }
    this.transports[protocol] = handler;
  }

  /**
   * Processes one RX batch at time `now` (a caller that just read the clock passes its reading):
   * reaps finished TX frames, receives, handles every frame (each is
   * released, sent or handed over exactly once), sends what resolved meanwhile, flushes TX and
   * refills RX. Returns the frames received.
   */
  poll(now: number = this.clock.now()): number {
    const ctx = this.ctx;
    const dev = this.device;
    ctx.now = now;
    dev.reap();
    const n = dev.receive();
    const desc = dev.rxDesc;
    const ok = dev.rxChecksumOk;
    for (let i = 0; i < n; i++) {
      this.rxChecksumOk = ok !== undefined && ok[i] === 1;
      const len = desc[2 * i + 1];
      // One compare on the single-buffer path: only multi-buffer devices set RX_CONTINUED.
      if (len < RX_CONTINUED) this.input(desc[2 * i], len);
      else i = this.inputChain(desc, i, n);
    }
    this.rxChecksumOk = false;
    ctx.stats.rxFrames += n;
    if (this.link.pendingReady) this.link.servicePending();
    dev.flush();
    dev.refill();
    return n;
  }

  /**
   * Timers: start-up announcements, DAD, neighbour retries and expiry, packets waiting for
   * resolution, reassembly timeouts, path-MTU expiry. Call every few ms to every 100 ms.
   */
  tick(nowMs: number = this.clock.now()): void {
    const ctx = this.ctx;
    ctx.now = nowMs;
    this.arp.tick(nowMs);
    this.nd.tick(nowMs);
    this.neighbours.tick(nowMs, this.workerId, this.link);
    if (this.link.pending.size > 0) this.link.servicePending();
    const expired = this.reassembler.expire(nowMs, this.icmp);
    if (expired > 0) ctx.drops[DropReason.FragTimeout] += expired;
    if (nowMs >= this.nextPmtuExpiry) {
      this.nextPmtuExpiry = nowMs + PMTU_EXPIRE_INTERVAL_MS;
      this.pmtu.expire(nowMs, this.scratchKey);
    }
    this.device.flush();
  }

  /** Pushes queued TX frames to the device (transports call it after a burst of finishIp). */
  flush(): number {
    return this.device.flush();
  }

  /** Frames the device's send side may still take (FrameDevice.txRoom); Infinity if unbounded. */
  txRoom(): number {
    const d = this.device;
    return d.txRoom === undefined ? Infinity : d.txRoom();
  }

  // ---- input ---------------------------------------------------------------------------------

  /** Handles one received frame; it is released, sent or handed over exactly once. */
  input(addr: number, len: number): void {
    const r = this.dispatch(addr, len);
    if (r !== TAKEN) {
      if (r !== DropReason.Ok) this.drops[r]++;
      this.device.release(addr);
    }
  }

  /**
   * Handles the packet whose buffers are rxDesc entries i.. (all but the last with RX_CONTINUED;
   * Documentation/networking/af_xdp.rst, "Multi-Buffer Support") and returns the index of its
   * last entry. The buffers are gathered into one run of contiguous frames from the device
   * (allocateLarge), which the stack then handles like any received frame, and go back at once.
   * The gathering is one memmove per buffer inside the UMEM (copyWithin: no allocation); TCP
   * copies the payload into its receive buffer from there, as it does from a single frame.
   */
  private inputChain(desc: Uint32Array, i: number, n: number): number {
    const ctx = this.ctx;
    let j = i;
    let total = 0;
    while (j < n && desc[2 * j + 1] >= RX_CONTINUED) {
      total += desc[2 * j + 1] & RX_LENGTH_MASK;
      j++;
    }
    let reason: number = DropReason.Ok;
    let frame = -1;
    if (j === n) {
      j = n - 1;
      reason = DropReason.RxChainTruncated;
    } else {
      total += desc[2 * j + 1];
      if (this.chainMax === 0) reason = DropReason.RxChainNotEnabled;
      else if (j - i + 1 > MAX_CHAIN || total > this.chainMax) reason = DropReason.RxChainTooLong;
      else {
        const base = this.device.allocateLarge?.() ?? -1;
        if (base < 0) reason = DropReason.RxChainNoFrame;
        else frame = base + this.device.txDataOffset;
      }
    }
    const b = ctx.bytes;
    let at = frame >= 0 ? ctx.offsetOf(frame) : 0;
    for (let k = i; k <= j; k++) {
      const addr = desc[2 * k];
      if (frame >= 0) {
        const off = ctx.offsetOf(addr);
        const len = desc[2 * k + 1] & RX_LENGTH_MASK;
        b.copyWithin(at, off, off + len);
        at += len;
      }
      this.device.release(addr);
    }
    ctx.stats.rxChains++;
    if (reason !== DropReason.Ok) {
      this.drops[reason]++;
      return j;
    }
    this.input(frame, total);
    return j;
  }

  private dispatch(addr: number, len: number): number {
    const ctx = this.ctx;
    const b = ctx.bytes;
    const eth = this.eth;
    const r = parseEthernet(b, ctx.offsetOf(addr), len, eth);
    if (r !== DropReason.Ok) return r;
    if (eth.vlanCount !== 0) return DropReason.EthVlanNotConfigured;
    const d = eth.dstOff;
    if ((b[d] & 1) === 0) {
      if (!bytesEqual(b, d, this.addresses.mac, 0, 6)) return DropReason.EthNotForUs;
    } else if (!isBroadcastMac(b, d) && !(b[d] === 0x33 && b[d + 1] === 0x33)) {
      return DropReason.EthNotForUs; // IPv4 multicast groups: we join none
    }
    switch (eth.etherType) {
      case EtherType.Arp:
        return this.arp.input(addr, eth);
      case EtherType.Ipv4:
        return this.input4(addr, eth);
      case EtherType.Ipv6:
        return this.input6(addr, eth);
      default:
        return DropReason.EthUnknownType;
    }
  }

  private input4(addr: number, eth: EthernetHeader): number {
    const ctx = this.ctx;
    const b = ctx.bytes;
    const ip = this.ip4;
    const r = parseIpv4(b, eth.payloadOff, eth.payloadLen, ip);
    if (r !== DropReason.Ok) return r;
    // Martian sources as Linux's fib_validate_source sees them: a broadcast address of ours or
    // one of our own addresses never sends (answers would go to the whole subnet, or to us).
    if (this.addresses.isBroadcast4(ip.src) || this.addresses.indexOf4(ip.src) >= 0) {
      return DropReason.Ipv4BadSource;
    }
    const local = this.addresses.indexOf4(ip.dst) >= 0;
    const toGroup = !local && this.addresses.isBroadcast4(ip.dst);
    if (!local && !toGroup) return DropReason.Ipv4NotForUs;
    if (!isIpv4Fragment(ip)) return this.deliver4(b, addr, ip, toGroup);
    ctx.stats.fragmentsReceived++;
    const added = this.reassembler.add4(b, eth.payloadOff, ip, ctx.now);
    return this.deliverIfReassembled(4, added, toGroup);
  }

  /**
   * After a fragment went into the reassembler (`added` is its verdict): a datagram it completed
   * is parsed again from the reassembly buffer and delivered like an unfragmented one.
   */
  private deliverIfReassembled(family: 4 | 6, added: number, toGroup: boolean): number {
    const ctx = this.ctx;
    const re = this.reassembler;
    if (re.takeEviction()) ctx.drops[DropReason.FragEvicted]++;
    if (added !== DropReason.Ok) return added;
    const s = re.completed;
    if (s >= 0) {
      ctx.stats.reassembled++;
      const rb = re.buffer;
      const off = re.datagramOffset(s);
      const len = re.datagramLength(s);
      let r: number;
      if (family === 4) {
        r = parseIpv4(rb, off, len, this.ip4);
        if (r === DropReason.Ok) r = this.deliver4(rb, -1, this.ip4, toGroup);
      } else {
        r = parseIpv6(rb, off, len, this.ip6);
        if (r === DropReason.Ok) r = this.deliver6(rb, -1, this.ip6, toGroup);
      }
      if (r !== TAKEN) ctx.drop(r);
      re.release(s);
    }
    return DropReason.Ok; // the fragment's bytes were copied; its frame goes back
  }

  private deliver4(buf: Uint8Array, frame: number, ip: Ipv4Header, toGroup: boolean): number {
    switch (ip.protocol) {
      case IpProtocol.Icmp: {
        const r = parseIcmpv4(buf, ip.payloadOff, ip.payloadLen, this.icmp4);
        if (r !== DropReason.Ok) return r;
        return this.icmp.input4(buf, frame, ip, this.icmp4, toGroup);
      }
      case IpProtocol.Udp:
      case IpProtocol.Tcp:
        return this.toTransport(4, buf, frame, ip.protocol, ip.payloadOff, ip.payloadLen, toGroup);
      default: {
        // RFC 1122 3.2.2.1: protocol unreachable (not for broadcasts).
        const ipOff = ip.payloadOff - ip.headerLength;
        if (!toGroup) {
          this.icmp.sendError4(
            Icmpv4Type.DestinationUnreachable,
            Icmpv4DestUnreachableCode.ProtocolUnreachable,
            0,
            buf,
            ipOff,
            ip.totalLength,
          );
        }
        return DropReason.Ipv4UnknownProtocol;
      }
    }
  }

  private input6(addr: number, eth: EthernetHeader): number {
    const ctx = this.ctx;
    const b = ctx.bytes;
    const ip = this.ip6;
    const r = parseIpv6(b, eth.payloadOff, eth.payloadLen, ip);
    if (r !== DropReason.Ok) {
      // RFC 8200 4: some malformed headers call for a Parameter Problem to the sender (only set
      // once the fixed header parsed, so the addresses are valid).
      if (ip.errorCode !== ParamProblemCode.None) {
        const to = this.classify6(b, ip);
        if (to >= 0 || (to === -1 && !ip.errorOnlyIfUnicast)) {
          this.icmp.sendError6(
            Icmpv6Type.ParameterProblem,
            ip.errorCode,
            ip.errorPointer,
            b,
            eth.payloadOff,
            eth.payloadLen,
            ip.errorCode === ParamProblemCode.UnrecognizedOption,
          );
        }
      }
      return r;
    }
    const dst = this.classify6(b, ip);
    if (dst === -3) return DropReason.Ipv6NotForUs;
    if (dst === -4) return DropReason.Ipv6TentativeAddress;
    const toGroup = dst === -1;
    if (!isIpv6Fragment(ip)) return this.deliver6(b, addr, ip, toGroup);
    ctx.stats.fragmentsReceived++;
    const added = this.reassembler.add6(b, eth.payloadOff, ip, ctx.now);
    return this.deliverIfReassembled(6, added, toGroup);
  }

  // >= 0: one of our preferred addresses; -1: a group we listen to (all nodes, or the
  // solicited-node group of one of our addresses); -3: not ours; -4: ours but not preferred.
  private classify6(b: Uint8Array, ip: Ipv6Header): number {
    const a = this.addresses;
    const idx = a.indexOf6(b, ip.dstOff);
    if (idx >= 0) return this.addressStates.isPreferred(idx) ? idx : -4;
    const d = ip.dstOff;
    if (b[d] !== 0xff) return -3;
    if (b[d + 1] === 0x02 && b[d + 15] === 1) {
      let allNodes = true;
      for (let i = 2; i < 15 && allNodes; i++) allNodes = b[d + i] === 0;
      if (allNodes) return -1;
    }
    if (isIpv6SolicitedNodeMulticast(b, d)) {
      for (let i = 0; i < a.v6Count; i++) {
        const o = 16 * i;
        if (
          a.v6[o + 13] === b[d + 13] &&
          a.v6[o + 14] === b[d + 14] &&
          a.v6[o + 15] === b[d + 15]
        ) {
          return -1;
        }
      }
    }
    return -3;
  }

  private deliver6(buf: Uint8Array, frame: number, ip: Ipv6Header, toGroup: boolean): number {
    switch (ip.upperProtocol) {
      case IpProtocol.Icmpv6: {
        const icmp = this.icmp6;
        const r = parseIcmpv6(buf, ip.upperOff, ip.upperLen, ip, icmp);
        if (r !== DropReason.Ok) return r;
        if (icmp.type >= Icmpv6Type.RouterSolicitation && icmp.type <= Icmpv6Type.Redirect) {
          return this.nd.input(buf, frame, ip, icmp);
        }
        return this.icmp.input6(buf, frame, ip, icmp, toGroup);
      }
      case IpProtocol.Tcp:
        // Linux's TCPv6 refuses IPv4-mapped sources (::ffff:a.b.c.d): on the wire they are a
        // way to pose as an IPv4 peer, and no answer to one can be delivered.
        if (isV4Mapped(buf, ip.srcOff)) return DropReason.Ipv6BadSource;
        return this.toTransport(6, buf, frame, ip.upperProtocol, ip.upperOff, ip.upperLen, toGroup);
      case IpProtocol.Udp:
        return this.toTransport(6, buf, frame, ip.upperProtocol, ip.upperOff, ip.upperLen, toGroup);
      case IpProtocol.Ipv6NoNextHeader:
        return DropReason.Ok; // RFC 8200 4.7: nothing follows; not an error
      default:
        // RFC 8200 4: unrecognized Next Header; the pointer is known when no extension precedes.
        if (ip.extensionCount === 0) {
          const ipOff = ip.srcOff - 8;
          this.icmp.sendError6(
            Icmpv6Type.ParameterProblem,
            1,
            6,
            buf,
            ipOff,
            40 + ip.payloadLength,
          );
        }
        return DropReason.Ipv6UnknownNextHeader;
    }
  }

  private toTransport(
    family: 4 | 6,
    buf: Uint8Array,
    frame: number,
    protocol: number,
    l4Off: number,
    l4Len: number,
    toGroup: boolean,
  ): number {
    const handler = this.transports[protocol];
    if (handler === null) return DropReason.NoTransport;
    const rx = this.rx;
    rx.family = family;
    rx.protocol = protocol;
    rx.buf = buf;
    rx.frameAddr = frame;
    rx.l4Off = l4Off;
    rx.l4Len = l4Len;
    rx.toGroup = toGroup;
    // A reassembled datagram (frame -1) was never checked whole by the device.
    rx.l4ChecksumOk = frame >= 0 && this.rxChecksumOk;
    let datagramLen: number;
    if (family === 4) {
      const ip = this.ip4;
      rx.ipOff = ip.payloadOff - ip.headerLength;
      rx.src4 = ip.src;
      rx.dst4 = ip.dst;
      rx.srcOff = rx.ipOff + 12;
      rx.dstOff = rx.ipOff + 16;
      datagramLen = ip.totalLength;
    } else {
      const ip = this.ip6;
      rx.ipOff = ip.srcOff - 8;
      rx.src4 = 0;
      rx.dst4 = 0;
      rx.srcOff = ip.srcOff;
      rx.dstOff = ip.dstOff;
      datagramLen = 40 + ip.payloadLength;
    }
    this.ctx.stats.deliveredToTransport++;
    if (rx.l4ChecksumOk) this.ctx.stats.l4ChecksumByDevice++;
    const result = handler.input(rx);
    if (result === InputResult.Kept && frame >= 0) return TAKEN;
    if (result === InputResult.NoSocket) {
      if (protocol === IpProtocol.Udp && !toGroup) {
        this.icmp.portUnreachable(family, buf, rx.ipOff, datagramLen);
      }
      return DropReason.UdpNoSocket;
    }
    return DropReason.Ok;
  }

  // ---- output for transports -------------------------------------------------------------------

  /**
   * Starts an IPv4 datagram of `payloadLen` bytes (transport header + data) to `dst`, from `src`
   * (0: chosen). Returns the offset in `tx.buf` to write at, or a negative errno (IfaceErrno).
   * Output uses the time of the last poll()/tick() (no clock read per packet).
   */
  beginIp4(dst: number, payloadLen: number, src = 0): number {
    return this.out.beginIp4(dst, payloadLen, src);
  }

  /** Starts an IPv6 datagram to the 16 bytes at dst[dstOff]; see beginIp4. */
  beginIp6(
    dst: Uint8Array,
    dstOff: number,
    payloadLen: number,
    src: Uint8Array | null = null,
    srcOff = 0,
  ): number {
    return this.out.beginIp6(dst, dstOff, payloadLen, src, srcOff);
  }

  /**
   * Starts a datagram on a connection's cached path (ip-path.ts): as beginIp4/beginIp6 towards
   * the path's addresses, without their per-datagram lookups while nothing changed. Finish it
   * with finishIp.
   */
  beginIpOnPath(path: IpPath, payloadLen: number): number {
    return this.out.beginOnPath(path, payloadLen);
  }

  /**
   * Cached paths look everything up again before their next datagram. Call after changing this
   * interface's routes or addresses (the shared tables bump their own generations).
   */
  invalidatePaths(): void {
    this.ctx.pathGeneration++;
  }

  /** Sends the started datagram; 0 (sent or queued for resolution) or a negative errno. */
  finishIp(protocol: number, payloadLen: number, dontFragment = false): number {
    return this.out.finishIp(protocol, payloadLen, dontFragment);
  }

  /** Abandons the started datagram. */
  abortIp(): void {
    this.out.abortIp();
  }

  /** Path MTU (IP bytes) towards an IPv4 destination; TCP derives its MSS from it. */
  pathMtu4(dst: number): number {
    return this.out.pathMtu4(dst);
  }

  /** Path MTU towards the IPv6 destination at buf[off]. */
  pathMtu6(buf: Uint8Array, off: number): number {
    return this.out.pathMtu6(buf, off);
  }

  /** Upper-layer reachability confirmation (RFC 4861 7.3.1), e.g. TCP saw new data acked. */
  confirmReachable4(addr: number): void {
    this.neighbours.confirmReachable(setKey4(this.scratchKey, addr), this.ctx.now);
  }

  /** Counts a drop on behalf of a transport (its frame is released when input() returns). */
  countDrop(reason: DropReason): void {
    this.ctx.drop(reason);
  }

  /** Non-zero drop counters by name (cold path). */
  dropCounts(): Record<string, number> {
    return dropCountsByName(this.drops);
  }

  /** Gives back every frame this interface holds (pending resolution, a started datagram). */
  close(): void {
    this.out.abortIp();
    this.link.dropAllPending();
  }
}

/** ::ffff:0:0/96, an IPv4-mapped address (RFC 4291 2.5.5.2), at `off`. */
function isV4Mapped(b: Uint8Array, off: number): boolean {
  for (let i = 0; i < 10; i++) if (b[off + i] !== 0) return false;
  return b[off + 10] === 0xff && b[off + 11] === 0xff;
}

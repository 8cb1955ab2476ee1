// UDP (RFC 768) for one worker: the port table, datagram input (matched to the best socket, as
// Linux's compute_score does), ICMP errors for connected sockets, and output written in place
// into the frame the interface hands out. Every worker has its own UdpStack; the app binds its
// ports in every worker, so each worker's table holds the sockets that receive the flows RSS
// steers to it (SO_REUSEPORT semantics across workers).

import type { Interface } from '../../iface/interface.js';
import { IfaceErrno } from '../../iface/errno.js';
import {
  InputResult,
  type IcmpErrorInfo,
  type RxDatagram,
  type TransportHandler,
} from '../../iface/transport.js';
import { copyBytes } from '../../wire/bytes.js';
import { DropReason } from '../../wire/drop-reason.js';
import {
  parseUdp4,
  parseUdp6,
  setUdp4Checksum,
  setUdp6Checksum,
  UdpHeader,
  UDP_HLEN,
  writeUdpHeader,
} from '../../wire/udp.js';
import { DEFAULT_EPHEMERAL_RANGE, pickEphemeralPort } from '../../rss/ephemeral-port.js';
import type { Reta } from '../../rss/reta.js';
import type { ToeplitzHasher } from '../../rss/toeplitz.js';
import { icmpErrno } from './icmp-errno.js';
import type { UdpPcb } from './udp-pcb.js';

/** Largest UDP payloads: 65535 - 20 (IPv4) - 8, and 65535 (IPv6 payload length) - 8. */
export const MAX_UDP4_PAYLOAD = 65507;
export const MAX_UDP6_PAYLOAD = 65527;

export interface UdpStackOptions {
  /** This worker and how many there are (for RSS-aware ephemeral ports). */
  workerId?: number;
  workerCount?: number;
  /**
   * The RSS hash and RETA that steer flows to workers. With it, a socket bound implicitly by
   * connect() or its first send() gets a source port whose replies hash to this worker.
   */
  steering?: { hasher: ToeplitzHasher; reta: Reta };
  /** Inclusive ephemeral port range; default Linux's 32768-60999. */
  ephemeralRange?: readonly [number, number];
  /** Default receive / send queue limits of new sockets in bytes (Linux's 212992 default). */
  recvBufferSize?: number;
  sendBufferSize?: number;
}

/** The counters of /proc/net/snmp's Udp line, for this worker. */
export class UdpStats {
  inDatagrams = 0;
  noPorts = 0;
  inErrors = 0;
  outDatagrams = 0;
  /** Received datagrams dropped because a socket's receive queue was full. */
  rcvbufErrors = 0;
  /** Sends refused because a socket's send queue was full. */
  sndbufErrors = 0;
  /** Exceptions thrown by 'message' listeners (rethrown asynchronously). */
  listenerErrors = 0;
}

export const DEFAULT_SOCKET_BUFFER = 212992;

export class UdpStack implements TransportHandler {
  readonly iface: Interface;
  readonly workerId: number;
  readonly workerCount: number;
  readonly stats = new UdpStats();
  readonly recvBufferSize: number;
  readonly sendBufferSize: number;
  private readonly steering: { hasher: ToeplitzHasher; reta: Reta } | null;
  private readonly range: readonly [number, number];
  /** port -> first PCB bound to it (a list through pcb.next; the latest bound first). */
  private readonly ports: (UdpPcb | null)[] = new Array<UdpPcb | null>(65536).fill(null);
  private readonly udp = new UdpHeader();
  private readonly addrScratch = new Uint8Array(16);
  private inputDepth = 0;

  constructor(iface: Interface, options: UdpStackOptions = {}) {
    this.iface = iface;
    this.workerId = options.workerId ?? iface.workerId;
    this.workerCount = options.workerCount ?? 1;
    this.steering = options.steering ?? null;
    this.range = options.ephemeralRange ?? DEFAULT_EPHEMERAL_RANGE;
    this.recvBufferSize = options.recvBufferSize ?? DEFAULT_SOCKET_BUFFER;
    this.sendBufferSize = options.sendBufferSize ?? DEFAULT_SOCKET_BUFFER;
    iface.registerTransport(17, this);
  }

  /** True while a datagram is being delivered (poll() flushes what listeners send then). */
  get inInput(): boolean {
    return this.inputDepth > 0;
  }

  // ---- the port table ------------------------------------------------------------------------

  /**
   * Binds `pcb` (its local addresses already set) to `port`, or to a free ephemeral port when
   * `port` is 0: RSS-aware towards `remote` when steering is configured and a remote is given.
   * Returns the port, or a negative errno (EADDRINUSE, EADDRNOTAVAIL when no port is free).
   */
  /** Every bound socket (cold path: introspection). */
  *allPcbs(): Generator<UdpPcb> {
    for (const first of this.ports) {
      for (let p = first; p !== null; p = p.next) yield p;
    }
  }

  bind(pcb: UdpPcb, port: number, remote: EphemeralHint | null = null): number {
    if (pcb.bound) return IfaceErrno.EINVAL;
    if (port === 0) {
      port = this.pickPort(pcb, remote);
      if (port < 0) return port;
    } else if (this.conflicts(pcb, port)) {
      return ERRNO_EADDRINUSE;
    }
    pcb.localPort = port;
    pcb.bound = true;
    pcb.next = this.ports[port];
    this.ports[port] = pcb;
    return port;
  }

  /** Removes `pcb` from the table (no-op when not bound). */
  unbind(pcb: UdpPcb): void {
    if (!pcb.bound) return;
    pcb.bound = false;
    const port = pcb.localPort;
    let p = this.ports[port];
    if (p === pcb) {
      this.ports[port] = pcb.next;
    } else {
      while (p !== null && p.next !== pcb) p = p.next;
      if (p !== null) p.next = pcb.next;
    }
    pcb.next = null;
  }

  /** True when binding `pcb` to `port` would clash with a socket already there. */
  conflicts(pcb: UdpPcb, port: number): boolean {
    for (let p = this.ports[port]; p !== null; p = p.next) {
      if (p !== pcb && pcb.overlaps(p) && !(pcb.reuseAddr && p.reuseAddr)) return true;
    }
    return false;
  }

  private pickPort(pcb: UdpPcb, remote: EphemeralHint | null): number {
    const [lo, hi] = this.range;
    if (this.steering !== null && remote !== null) {
      try {
        return pickEphemeralPort({
          hasher: this.steering.hasher,
          reta: this.steering.reta,
          worker: this.workerId,
          localAddr: this.sourceFor(pcb, remote),
          remoteAddr: remote.is4 ? v4Bytes(remote.addr4) : remote.addr6,
          remotePort: remote.port,
          inUse: (p: number) => this.conflicts(pcb, p),
          range: this.range,
        });
      } catch {
        return IfaceErrno.EADDRNOTAVAIL;
      }
    }
    const span = hi - lo + 1;
    const start = Math.floor(Math.random() * span);
    for (let k = 0; k < span; k++) {
      const port = lo + ((start + k) % span);
      if (!this.conflicts(pcb, port)) return port;
    }
    return IfaceErrno.EADDRNOTAVAIL; // Linux: bind(2) with port 0 and the range exhausted
  }

  // The source address the interface will pick (what the peer's replies are addressed to).
  // Mirrors the interface's choice: the address on the destination's subnet, else the first.
  /**
   * The local address a connected socket's datagrams carry (its bound one, or the one routing
   * picks for its peer), 4 or 16 bytes: with the ports and the peer, its flow's RSS input.
   * Cold path (flow pinning across a worker-count change).
   */
  connectedLocalAddress(pcb: UdpPcb): Uint8Array {
    const remote = {
      is4: pcb.remoteIs4,
      addr4: pcb.remote4,
      addr6: pcb.remote6,
      port: pcb.remotePort,
    };
    return this.sourceFor(pcb, remote);
  }

  private sourceFor(pcb: UdpPcb, remote: EphemeralHint): Uint8Array {
    const a = this.iface.addresses;
    if (remote.is4) {
      if (pcb.local4 !== 0) return v4Bytes(pcb.local4);
      for (let i = 0; i < a.v4.length; i++) {
        const p = a.v4Prefix[i];
        const mask = p === 0 ? 0 : (0xffffffff << (32 - p)) >>> 0;
        if (((a.v4[i] ^ remote.addr4) & mask) >>> 0 === 0) return v4Bytes(a.v4[i]);
      }
      return v4Bytes(a.v4.length > 0 ? a.v4[0] : 0);
    }
    if (!pcb.local6Any) return pcb.local6.slice();
    const linkLocal = remote.addr6[0] === 0xfe && (remote.addr6[1] & 0xc0) === 0x80;
    const ll = a.v6LinkLocalIndex;
    let pick = -1;
    for (let i = 0; i < a.v6Count && pick < 0; i++) if ((i === ll) === linkLocal) pick = i;
    if (pick < 0) pick = 0;
    return a.v6.slice(16 * pick, 16 * pick + 16);
  }

  // ---- input ---------------------------------------------------------------------------------

  input(d: RxDatagram): number {
    const h = this.udp;
    const r =
      d.family === 4
        ? parseUdp4(d.buf, d.l4Off, d.l4Len, d.ip4, h, d.l4ChecksumOk)
        : parseUdp6(d.buf, d.l4Off, d.l4Len, d.ip6, h, d.l4ChecksumOk);
    if (r !== DropReason.Ok) {
      this.stats.inErrors++;
      this.iface.countDrop(r);
      return InputResult.Done;
    }
    const pcb = d.family === 4 ? this.lookup4(d, h) : this.lookup6(d, h);
    if (pcb === null) {
      this.stats.noPorts++;
      return InputResult.NoSocket;
    }
    this.stats.inDatagrams++;
    this.inputDepth++;
    try {
      pcb.receiver.onDatagram(d.buf, h.payloadOff, h.payloadLen, d, h.srcPort);
    } catch (err) {
      // The receiver catches listener exceptions itself; this guards the stack's invariants
      // (the frame is released by the interface) against a receiver bug.
      this.stats.listenerErrors++;
      rethrowLater(err);
    } finally {
      this.inputDepth--;
    }
    return InputResult.Done;
  }

  // The best match, by Linux's compute_score: connected beats bound-to-address beats wildcard,
  // an udp4 socket beats a dual-stack udp6 one for IPv4; ties go to the latest bound.
  private lookup4(d: RxDatagram, h: UdpHeader): UdpPcb | null {
    let best: UdpPcb | null = null;
    let bestScore = -1;
    for (let p = this.ports[h.dstPort]; p !== null; p = p.next) {
      if (!p.acceptsV4 || (p.local4 !== 0 && p.local4 !== d.dst4)) continue;
      let score = p.v6Socket ? 0 : 1;
      if (p.local4 !== 0) score += 2;
      if (p.connected) {
        if (!p.remoteIs4 || p.remote4 !== d.src4 || p.remotePort !== h.srcPort) continue;
        score += 4;
      }
      if (score > bestScore) {
        best = p;
        bestScore = score;
      }
    }
    return best;
  }

  private lookup6(d: RxDatagram, h: UdpHeader): UdpPcb | null {
    const b = d.buf;
    let best: UdpPcb | null = null;
    let bestScore = -1;
    for (let p = this.ports[h.dstPort]; p !== null; p = p.next) {
      if (!p.acceptsV6 || (!p.local6Any && !equal16(p.local6, b, d.dstOff))) continue;
      let score = 1;
      if (!p.local6Any) score += 2;
      if (p.connected) {
        if (p.remoteIs4 || p.remotePort !== h.srcPort || !equal16(p.remote6, b, d.srcOff)) continue;
        score += 4;
      }
      if (score > bestScore) {
        best = p;
        bestScore = score;
      }
    }
    return best;
  }

  icmpError(e: IcmpErrorInfo): void {
    const code = icmpErrno(e.kind);
    if (code === null) return;
    for (let p = this.ports[e.localPort]; p !== null; p = p.next) {
      if (!p.connected || p.remotePort !== e.remotePort) continue;
      if (e.family === 4) {
        if (!p.remoteIs4 || p.remote4 !== e.remote4) continue;
        if (p.local4 !== 0 && p.local4 !== e.local4) continue;
      } else {
        if (p.remoteIs4 || !equal16(p.remote6, e.buf, e.remoteOff)) continue;
        if (!p.local6Any && !equal16(p.local6, e.buf, e.localOff)) continue;
      }
      p.receiver.onIcmpError(code);
      return;
    }
  }

  // ---- output --------------------------------------------------------------------------------

  /**
   * Sends data[off, off + len) from `pcb` to an IPv4 peer. Returns 0 (sent, or queued for
   * address resolution) or a negative errno: EMSGSIZE, ENETUNREACH, EHOSTUNREACH, EADDRNOTAVAIL,
   * EAGAIN (no free frame: retry after the next poll), ENOBUFS (TX ring full).
   */
  send4(
    pcb: UdpPcb,
    data: Uint8Array,
    off: number,
    len: number,
    dst: number,
    port: number,
  ): number {
    if (len > MAX_UDP4_PAYLOAD) return IfaceErrno.EMSGSIZE;
    if (!pcb.acceptsV4) return IfaceErrno.ENETUNREACH; // IPV6_V6ONLY, or bound to an IPv6 address
    const iface = this.iface;
    const udpLen = UDP_HLEN + len;
    const at = iface.beginIp4(dst, udpLen, pcb.local4);
    if (at < 0) return at;
    const tx = iface.tx;
    const b = tx.buf;
    writeUdpHeader(b, at, pcb.localPort, port, udpLen);
    copyBytes(b, at + UDP_HLEN, data, off, len);
    setUdp4Checksum(b, at, udpLen, tx.src4, tx.dst4);
    return this.finish(udpLen);
  }

  /** Sends to the IPv6 peer in the 16 bytes at dst[dstOff]; see send4. */
  send6(
    pcb: UdpPcb,
    data: Uint8Array,
    off: number,
    len: number,
    dst: Uint8Array,
    dstOff: number,
    port: number,
  ): number {
    if (len > MAX_UDP6_PAYLOAD) return IfaceErrno.EMSGSIZE;
    if (!pcb.acceptsV6) return IfaceErrno.ENETUNREACH;
    const iface = this.iface;
    const udpLen = UDP_HLEN + len;
    const at = pcb.local6Any
      ? iface.beginIp6(dst, dstOff, udpLen)
      : iface.beginIp6(dst, dstOff, udpLen, pcb.local6, 0);
    if (at < 0) return at;
    const tx = iface.tx;
    const b = tx.buf;
    writeUdpHeader(b, at, pcb.localPort, port, udpLen);
    copyBytes(b, at + UDP_HLEN, data, off, len);
    // RFC 8200 8.1: mandatory over IPv6.
    setUdp6Checksum(b, at, udpLen, b, tx.srcOff, b, tx.dstOff);
    return this.finish(udpLen);
  }

  private finish(udpLen: number): number {
    const r = this.iface.finishIp(17, udpLen);
    if (r === 0) this.stats.outDatagrams++;
    return r;
  }

  /**
   * Pushes queued frames to the device, unless a datagram is being delivered (poll() flushes
   * at the end of its batch then).
   */
  flush(): void {
    if (this.inputDepth === 0) this.iface.flush();
  }

  /** True when `addr` is one of our IPv4 addresses. */
  isLocal4(addr: number): boolean {
    return this.iface.addresses.indexOf4(addr) >= 0;
  }

  /** True when the 16 bytes at buf[off] are one of our IPv6 addresses. */
  isLocal6(buf: Uint8Array, off: number): boolean {
    return this.iface.addresses.indexOf6(buf, off) >= 0;
  }

  /** Copies the 16 bytes at buf[off] into a scratch array (valid until the next call). */
  scratch16(buf: Uint8Array, off: number): Uint8Array {
    copyBytes(this.addrScratch, 0, buf, off, 16);
    return this.addrScratch;
  }
}

/** Where an implicitly bound socket will send first: lets bind() pick an RSS-aware port. */
export interface EphemeralHint {
  is4: boolean;
  addr4: number;
  addr6: Uint8Array;
  port: number;
}

/** EADDRINUSE is not among the interface's errnos. */
export const ERRNO_EADDRINUSE = -98;

function v4Bytes(addr: number): Uint8Array {
  return new Uint8Array([addr >>> 24, (addr >>> 16) & 0xff, (addr >>> 8) & 0xff, addr & 0xff]);
}

function equal16(a: Uint8Array, b: Uint8Array, off: number): boolean {
  for (let i = 0; i < 16; i++) if (a[i] !== b[off + i]) return false;
  return true;
}

/** Rethrows outside the stack, as Node does for a throwing listener (an uncaught exception). */
export function rethrowLater(err: unknown): void {
  process.nextTick(() => {
    throw err;
  });
}

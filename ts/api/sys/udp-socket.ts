// A SOCK_DGRAM socket over the worker's UdpStack. It is its UdpPcb's receiver: datagrams are
// copied into the socket's queue (the frame goes back to the device right after delivery) and
// wake EPOLLIN; ICMP errors on a connected socket become the pending error (EPOLLERR).

import type { RxDatagram } from '../../iface/transport.js';
import {
  ERRNO_EADDRINUSE,
  MAX_UDP4_PAYLOAD,
  MAX_UDP6_PAYLOAD,
} from '../../socket/udp/udp-stack.js';
import { UdpPcb, type UdpReceiver } from '../../socket/udp/udp-pcb.js';
import {
  AF_INET6,
  AF_INET,
  EPOLLERR,
  EPOLLHUP,
  EPOLLIN,
  EPOLLOUT,
  EPOLLRDHUP,
  EPOLLRDNORM,
  EPOLLWRNORM,
  IPPROTO_IPV6,
  IPV6_V6ONLY,
  MSG_PEEK,
  MSG_TRUNC,
  SHUT_RD,
  SHUT_RDWR,
  SHUT_WR,
  SOCK_DGRAM,
  SOL_SOCKET,
} from './constants.js';
import { Errno, errnoOf } from './errno.js';
import type { NetContext } from './net-context.js';
import {
  Destination,
  fillSockAddr,
  fillUnbound,
  type SockAddr,
  toDestination,
} from './sockaddr.js';
import { SocketFile } from './socket-file.js';

const READ_BITS = EPOLLIN | EPOLLRDNORM;
const WRITE_BITS = EPOLLOUT | EPOLLWRNORM;
/** Bytes a queued datagram is charged beyond its payload (Linux charges skb truesize). */
const DATAGRAM_OVERHEAD = 256;

/** One queued datagram: a copy of the payload and who sent it. */
class Datagram {
  from4 = 0;
  readonly from6 = new Uint8Array(16);
  fromIs4 = true;
  fromPort = 0;
  constructor(readonly data: Uint8Array) {}
}

export class UdpSocketFile extends SocketFile implements UdpReceiver {
  private pcb: UdpPcb | null = null;
  private v6Only = false;
  private queue: Datagram[] = [];
  private qHead = 0;
  private queuedBytes = 0;
  private rcvShut = false;
  private sndShut = false;
  private readonly dest = new Destination();

  constructor(
    private readonly net: NetContext,
    domain: number,
    nonBlocking: boolean,
  ) {
    super(domain, SOCK_DGRAM, nonBlocking);
  }

  poll(): number {
    let mask = WRITE_BITS;
    if (this.qHead < this.queue.length) mask |= READ_BITS;
    if (this.rcvShut) mask |= READ_BITS | EPOLLRDHUP;
    if (this.rcvShut && this.sndShut) mask |= EPOLLHUP;
    if (this.softError !== 0) mask |= EPOLLERR;
    return mask;
  }

  // ---- UdpReceiver ---------------------------------------------------------------------------

  onDatagram(buf: Uint8Array, off: number, len: number, from: RxDatagram, srcPort: number): void {
    if (this.rcvShut) return;
    const cost = len + DATAGRAM_OVERHEAD;
    if (this.queuedBytes + cost > this.rcvLimit()) {
      this.net.udp.stats.rcvbufErrors++;
      return;
    }
    const d = new Datagram(buf.slice(off, off + len));
    d.fromPort = srcPort;
    if (from.family === 4) d.from4 = from.src4;
    else {
      d.fromIs4 = false;
      d.from6.set(buf.subarray(from.srcOff, from.srcOff + 16));
    }
    this.queue.push(d);
    this.queuedBytes += cost;
    this.wake(READ_BITS);
  }

  onIcmpError(code: string): void {
    this.softError = errnoOf(code);
    this.wake(EPOLLERR);
  }

  private rcvLimit(): number {
    return this.rcvBuf > 0 ? this.rcvBuf : this.net.udp.recvBufferSize;
  }

  // ---- binding -------------------------------------------------------------------------------

  bind(addr: SockAddr): number {
    const d = new Destination();
    const r = toDestination(addr, this.domain, d);
    if (r < 0) return r;
    if (this.pcb !== null) return -Errno.EINVAL;
    return this.bindTo(d, d.port, null);
  }

  // Sets the PCB's local addresses like dgram.ts's bindNow and takes the port.
  private bindTo(local: Destination, port: number, hint: Destination | null): number {
    const udp = this.net.udp;
    const v6 = this.domain === AF_INET6;
    const pcb = new UdpPcb(v6, this.v6Only, this.reuseAddr || this.reusePort, this);
    if (local.is4) {
      if (v6 && this.v6Only) return -Errno.EINVAL;
      if (local.addr4 !== 0 && !udp.isLocal4(local.addr4)) return -Errno.EADDRNOTAVAIL;
      pcb.acceptsV4 = true;
      pcb.local4 = local.addr4;
    } else if (local.addr6.every((b) => b === 0)) {
      pcb.acceptsV6 = true;
      pcb.acceptsV4 = !pcb.ipv6Only;
    } else {
      if (!udp.isLocal6(local.addr6, 0)) return -Errno.EADDRNOTAVAIL;
      pcb.acceptsV6 = true;
      pcb.local6Any = false;
      pcb.local6.set(local.addr6);
    }
    const r = udp.bind(pcb, port, hint);
    if (r < 0) return r === ERRNO_EADDRINUSE ? -Errno.EADDRINUSE : r;
    this.pcb = pcb;
    return 0;
  }

  // inet_autobind: the wildcard and an ephemeral port (RSS-aware towards `hint`).
  private autobind(hint: Destination): number {
    if (this.pcb !== null) return 0;
    const any = new Destination();
    any.is4 = this.domain === AF_INET;
    return this.bindTo(any, 0, hint);
  }

  listen(_backlog: number): number {
    return -Errno.EOPNOTSUPP;
  }

  connect(addr: SockAddr): number {
    if (addr.family === 0) {
      // AF_UNSPEC dissolves the association (udp_disconnect).
      if (this.pcb !== null) this.pcb.connected = false;
      return 0;
    }
    const d = this.dest;
    const r = toDestination(addr, this.domain, d);
    if (r < 0) return r;
    const b = this.autobind(d);
    if (b < 0) return b;
    const pcb = this.pcb as UdpPcb;
    if (d.is4 ? !pcb.acceptsV4 : !pcb.acceptsV6) return -Errno.ENETUNREACH;
    pcb.remoteIs4 = d.is4;
    pcb.remote4 = d.addr4;
    pcb.remote6.set(d.addr6);
    pcb.remotePort = d.port;
    pcb.connected = true;
    return 0;
  }

  // ---- data ----------------------------------------------------------------------------------

  recv(buf: Uint8Array, off: number, len: number, flags: number, from?: SockAddr): number {
    if (this.softError !== 0) return this.takeError(); // __skb_recv_udp: sock_error first
    if (this.qHead >= this.queue.length) return this.rcvShut ? 0 : -Errno.EAGAIN;
    const d = this.queue[this.qHead];
    const n = Math.min(len, d.data.length);
    buf.set(n === d.data.length ? d.data : d.data.subarray(0, n), off);
    fillSockAddr(from, this.domain, d.fromIs4, d.from4, d.from6, d.fromPort);
    if ((flags & MSG_PEEK) === 0) this.pop();
    return (flags & MSG_TRUNC) !== 0 ? d.data.length : n;
  }

  private pop(): void {
    const d = this.queue[this.qHead++];
    this.queuedBytes -= d.data.length + DATAGRAM_OVERHEAD;
    if (this.qHead >= 64 && this.qHead * 2 >= this.queue.length) {
      this.queue = this.queue.slice(this.qHead);
      this.qHead = 0;
    }
  }

  send(buf: Uint8Array, off: number, len: number, _flags: number, to?: SockAddr): number {
    if (this.sndShut) return -Errno.EPIPE;
    if (this.softError !== 0) return this.takeError();
    const d = this.dest;
    if (to !== undefined) {
      const r = toDestination(to, this.domain, d);
      if (r < 0) return r;
    } else {
      const pcb = this.pcb;
      if (pcb === null || !pcb.connected) return -Errno.EDESTADDRREQ;
      d.is4 = pcb.remoteIs4;
      d.addr4 = pcb.remote4;
      d.addr6.set(pcb.remote6);
      d.port = pcb.remotePort;
    }
    if (d.port === 0) return -Errno.EINVAL;
    if (len > (d.is4 ? MAX_UDP4_PAYLOAD : MAX_UDP6_PAYLOAD)) return -Errno.EMSGSIZE;
    const b = this.autobind(d);
    if (b < 0) return b;
    const pcb = this.pcb as UdpPcb;
    const udp = this.net.udp;
    const r = d.is4
      ? udp.send4(pcb, buf, off, len, d.addr4, d.port)
      : udp.send6(pcb, buf, off, len, d.addr6, 0, d.port);
    udp.flush();
    return r < 0 ? r : len;
  }

  shutdown(how: number): number {
    if (how !== SHUT_RD && how !== SHUT_WR && how !== SHUT_RDWR) return -Errno.EINVAL;
    // inet_shutdown: the bits are set either way; an unconnected socket also gets ENOTCONN.
    if (how !== SHUT_WR) this.rcvShut = true;
    if (how !== SHUT_RD) this.sndShut = true;
    this.wake(READ_BITS | WRITE_BITS | EPOLLRDHUP | EPOLLHUP);
    return this.pcb !== null && this.pcb.connected ? 0 : -Errno.ENOTCONN;
  }

  release(): void {
    if (this.pcb !== null) this.net.udp.unbind(this.pcb);
    this.pcb = null;
    this.queue = [];
    this.qHead = 0;
    this.queuedBytes = 0;
  }

  // ---- names and options ---------------------------------------------------------------------

  getsockname(out: SockAddr): number {
    const p = this.pcb;
    if (p === null) {
      fillUnbound(out, this.domain);
      return 0;
    }
    if (p.acceptsV4 && p.local4 !== 0) {
      fillSockAddr(out, this.domain, true, p.local4, p.local6, p.localPort);
    } else if (!p.local6Any) {
      fillSockAddr(out, this.domain, false, 0, p.local6, p.localPort);
    } else {
      fillUnbound(out, this.domain);
      out.port = p.localPort;
    }
    return 0;
  }

  getpeername(out: SockAddr): number {
    const p = this.pcb;
    if (p === null || !p.connected) return -Errno.ENOTCONN;
    fillSockAddr(out, this.domain, p.remoteIs4, p.remote4, p.remote6, p.remotePort);
    return 0;
  }

  defaultRcvBuf(): number {
    return this.net.udp.recvBufferSize;
  }

  defaultSndBuf(): number {
    return this.net.udp.sendBufferSize;
  }

  protected setProtoOpt(level: number, name: number, v: number): number {
    if (level === SOL_SOCKET) return 0; // stored by SocketFile; nothing else to do for UDP
    if (level === IPPROTO_IPV6 && this.domain === AF_INET6 && name === IPV6_V6ONLY) {
      if (this.pcb !== null) return -Errno.EINVAL;
      this.v6Only = v !== 0;
      return 0;
    }
    return -Errno.ENOPROTOOPT;
  }

  protected getProtoOpt(level: number, name: number): number {
    if (level === IPPROTO_IPV6 && this.domain === AF_INET6 && name === IPV6_V6ONLY) {
      return this.v6Only ? 1 : 0;
    }
    return -Errno.ENOPROTOOPT;
  }
}

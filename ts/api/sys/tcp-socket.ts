// A SOCK_STREAM socket over the worker's TcpStack. Its connection is a TcpHandle (the one net's
// Socket sits on too): the handle records what the stack reports as it happens and passes the
// events on once per loop pass, where they become one wake() with the epoll bits they may have
// changed; poll() recomputes readiness from the handle and its TCB the way Linux's tcp_poll
// does. Calls never block: the *Async wrappers in sys.ts wait on wake()s.

import { TcpState } from '../../socket/tcp/state.js';
import { ERRNO_EADDRINUSE } from '../../socket/tcp/tcp-stack.js';
import type { TcpConn, TcpListener } from '../../socket/tcp/tcp-conn.js';
import type { TcpConfig } from '../../socket/tcp/config.js';
import { HandleEvent, TcpHandle, type TcpHandleUser } from '../tcp-handle.js';
import {
  AF_INET,
  AF_INET6,
  EPOLLERR,
  EPOLLHUP,
  EPOLLIN,
  EPOLLOUT,
  EPOLLRDHUP,
  EPOLLRDNORM,
  EPOLLWRNORM,
  IPPROTO_IPV6,
  IPPROTO_TCP,
  IPV6_V6ONLY,
  MSG_PEEK,
  SHUT_RD,
  SHUT_RDWR,
  SHUT_WR,
  SO_KEEPALIVE,
  SO_RCVBUF,
  SO_SNDBUF,
  SOCK_STREAM,
  SOL_SOCKET,
  TCP_CORK,
  TCP_KEEPCNT,
  TCP_KEEPIDLE,
  TCP_KEEPINTVL,
  TCP_NODELAY,
  TCP_QUICKACK,
  TCP_SYNCNT,
  TCP_USER_TIMEOUT,
} from './constants.js';
import { Errno } from './errno.js';
import type { NetContext } from './net-context.js';
import {
  Destination,
  fillSockAddr,
  fillUnbound,
  type SockAddr,
  toDestination,
} from './sockaddr.js';
import { SocketFile } from './socket-file.js';
import type { TcpBinding } from './tcp-binds.js';
import { type ReuseportMember, ReuseportGroup, reuseportKey } from './reuseport.js';

/** Linux MAX_TCP_SYNCNT (include/net/tcp.h). */
const MAX_TCP_SYNCNT = 127;

const Phase = { Fresh: 0, Listening: 1, Connecting: 2, Connected: 3 } as const;
type Phase = (typeof Phase)[keyof typeof Phase];

const READ_BITS = EPOLLIN | EPOLLRDNORM;
const WRITE_BITS = EPOLLOUT | EPOLLWRNORM;
const ALL_BITS = READ_BITS | WRITE_BITS | EPOLLERR | EPOLLHUP | EPOLLRDHUP;

export class TcpSocketFile extends SocketFile implements TcpHandleUser, ReuseportMember {
  private phase: Phase = Phase.Fresh;
  /** The SO_REUSEPORT group this listener is in; its connections wait in `pending`. */
  private group: ReuseportGroup | null = null;
  readonly pending: TcpConn[] = [];
  /** listen(2)'s backlog, as clamped. */
  backlog = 0;
  /** The connection, its sk_shutdown bits, pending error and TCP options. */
  readonly handle = new TcpHandle(this);
  private listener: TcpListener | null = null;
  private binding: TcpBinding | null = null;
  private v6Only = false;
  private quickAck = true;

  constructor(
    private readonly net: NetContext,
    domain: number,
    nonBlocking: boolean,
  ) {
    super(domain, SOCK_STREAM, nonBlocking);
    // Linux's tcp_keepalive_time, _intvl and _probes, reported by getsockopt before any set.
    this.handle.keepIdleS = 7200;
    this.handle.keepIntvlS = 75;
    this.handle.keepCnt = 9;
  }

  get conn(): TcpConn | null {
    return this.handle.conn;
  }

  get listening(): boolean {
    return this.phase === Phase.Listening;
  }

  // ---- readiness (Linux tcp_poll) ------------------------------------------------------------

  poll(): number {
    if (this.phase === Phase.Listening) return this.acceptReady ? READ_BITS : 0;
    const h = this.handle;
    const st = h.state;
    const closed = st === TcpState.Closed || st === TcpState.TimeWait;
    let mask = 0;
    if ((h.rdShut && h.wrShut) || closed) mask |= EPOLLHUP;
    if (h.rdShut) mask |= READ_BITS | EPOLLRDHUP;
    if (st !== TcpState.SynSent && st !== TcpState.SynReceived) {
      if (h.readable() > 0) mask |= READ_BITS;
      if (h.wrShut || h.conn === null || closed || h.writable() > 0) mask |= WRITE_BITS;
    }
    if (h.error !== 0) mask |= EPOLLERR;
    return mask;
  }

  /** The handle's events of this pass, as the epoll bits they may have changed. */
  onHandleEvents(ev: number): void {
    let key = 0;
    if ((ev & (HandleEvent.Connected | HandleEvent.Writable)) !== 0) key |= WRITE_BITS;
    if ((ev & HandleEvent.Readable) !== 0) key |= READ_BITS;
    if ((ev & HandleEvent.PeerClosed) !== 0) key |= READ_BITS | EPOLLRDHUP;
    if ((ev & HandleEvent.Error) !== 0) key |= EPOLLERR;
    if ((ev & HandleEvent.Closed) !== 0) key |= ALL_BITS;
    if (key !== 0) this.wake(key);
  }

  override takeError(): number {
    return this.handle.takeError();
  }

  protected override takeSoftError(): number {
    const e = this.handle.takeSoftError();
    return e === 0 ? 0 : -e;
  }

  // ---- binding, listening, accepting ---------------------------------------------------------

  bind(addr: SockAddr): number {
    const d = new Destination();
    const r = toDestination(addr, this.domain, d);
    if (r < 0) return r;
    if (this.binding !== null || this.phase !== Phase.Fresh) return -Errno.EINVAL;
    const any = d.is4 ? d.addr4 === 0 : d.addr6.every((x) => x === 0);
    if (!any && (d.is4 ? !this.net.udp.isLocal4(d.addr4) : !this.net.udp.isLocal6(d.addr6, 0))) {
      return -Errno.EADDRNOTAVAIL;
    }
    if (this.domain === AF_INET6 && d.is4 && this.v6Only) return -Errno.EINVAL;
    const b: TcpBinding = {
      v6Socket: this.domain === AF_INET6,
      v6Only: this.v6Only,
      any,
      is4: d.is4,
      addr4: d.addr4,
      addr6: d.addr6.slice(),
      port: 0,
      reuseAddr: this.reuseAddr,
      reusePort: this.reusePort,
      listening: false,
    };
    // Connections on the port (TIME-WAIT ones included) conflict too unless SO_REUSEADDR, as
    // Linux decides at bind(), not at listen() (inet_csk_bind_conflict).
    if (d.port !== 0 && !this.reuseAddr && this.net.tcp.portUsedByConnections(d.port)) {
      return -Errno.EADDRINUSE;
    }
    if (this.net.tcpBinds.add(b, d.port) < 0) return -Errno.EADDRINUSE;
    this.binding = b;
    return 0;
  }

  listen(backlog: number): number {
    this.backlog = clampBacklog(backlog);
    if (this.phase === Phase.Listening) {
      if (this.group !== null) this.group.resize();
      else if (this.listener !== null) this.listener.backlog = this.backlog;
      return 0;
    }
    if (this.phase !== Phase.Fresh) return -Errno.EINVAL;
    const b = this.binding;
    // SO_REUSEPORT set before bind: join the group already listening there, or start one.
    const key = b !== null && b.reusePort ? bindingKey(b) : null;
    const existing = key === null ? undefined : this.net.reuseport.get(key);
    if (existing !== undefined) return this.joinGroup(existing);
    const is4 = this.domain === AF_INET || (b !== null && !b.any && b.is4);
    const r = this.net.tcp.listen({
      port: b?.port ?? 0,
      is4,
      addr4: b !== null && b.is4 ? b.addr4 : 0,
      addr6: b !== null && !b.is4 && !b.any ? b.addr6 : null,
      v6Only: this.v6Only,
      backlog: this.backlog,
      reuseAddr: this.reuseAddr,
    });
    if (typeof r === 'number') return r === ERRNO_EADDRINUSE ? -Errno.EADDRINUSE : r;
    if (key !== null)
      return this.joinGroup(new ReuseportGroup(key, r, this.net.tcp, this.net.reuseport));
    if (b !== null) b.listening = true;
    this.listener = r;
    this.phase = Phase.Listening;
    r.onAcceptable = () => this.wake(READ_BITS);
    return 0;
  }

  private joinGroup(g: ReuseportGroup): number {
    if (this.binding !== null) this.binding.listening = true;
    this.group = g;
    this.listener = g.listener; // for getsockname
    this.phase = Phase.Listening;
    g.join(this);
    return 0;
  }

  /** Takes one connection off the accept queue: a new socket, or a negative errno. */
  acceptConn(nonBlocking: boolean, peer?: SockAddr): TcpSocketFile | number {
    if (this.phase !== Phase.Listening || this.listener === null) return -Errno.EINVAL;
    const c = this.group !== null ? (this.pending.shift() ?? null) : this.listener.accept();
    if (c === null) return -Errno.EAGAIN;
    const s = new TcpSocketFile(this.net, this.domain, nonBlocking);
    s.adopt(c, this);
    fillSockAddr(peer, this.domain, c.is4, c.remote4, c.remote6, c.remotePort);
    return s;
  }

  /** True when accept() would return a connection now. */
  get acceptReady(): boolean {
    if (this.group !== null) return this.pending.length > 0;
    return this.listener !== null && this.listener.acceptQueue.length > 0;
  }

  // An accepted connection inherits the listener's options (Linux clones the socket).
  private adopt(c: TcpConn, parent: TcpSocketFile): void {
    this.phase = Phase.Connected;
    this.reuseAddr = parent.reuseAddr;
    this.keepAlive = parent.keepAlive;
    this.linger = { ...parent.linger };
    this.handle.inherit(parent.handle);
    this.handle.adopt(c);
  }

  // ---- connecting (Linux __inet_stream_connect) ----------------------------------------------

  connect(addr: SockAddr): number {
    switch (this.phase) {
      case Phase.Listening:
      case Phase.Connected:
        return -Errno.EISCONN;
      case Phase.Connecting:
        return this.connectAgain();
    }
    const d = new Destination();
    const r = toDestination(addr, this.domain, d);
    if (r < 0) return r;
    const b = this.binding;
    if (this.domain === AF_INET6 && d.is4 && this.v6Only) return -Errno.ENETUNREACH;
    const c = this.handle.connect(
      this.net.tcp,
      { is4: d.is4, addr4: d.addr4, addr6: d.addr6, port: d.port },
      {
        addr4: b !== null && b.is4 ? b.addr4 : 0,
        addr6: b !== null && !b.is4 && !b.any ? b.addr6 : null,
        port: b?.port ?? 0,
      },
      this.configOverrides(),
    );
    if (c < 0) return c === ERRNO_EADDRINUSE ? -Errno.EADDRNOTAVAIL : c;
    this.phase = Phase.Connecting;
    if (this.handle.state === TcpState.Closed) return this.connectAgain();
    return -Errno.EINPROGRESS;
  }

  // A second connect(): EALREADY while the handshake runs, 0 once it completed (and the socket
  // becomes connected), the error once it failed.
  private connectAgain(): number {
    const st = this.handle.state;
    if (st === TcpState.SynSent || st === TcpState.SynReceived) return -Errno.EALREADY;
    if (st === TcpState.Closed && !(this.conn?.established ?? false)) {
      this.phase = Phase.Fresh;
      const e = this.takeError();
      return e !== 0 ? e : -Errno.ECONNABORTED;
    }
    this.phase = Phase.Connected;
    return 0;
  }

  /** True once the handshake finished or failed (connectAsync waits for this). */
  get connectSettled(): boolean {
    const st = this.handle.state;
    return st !== TcpState.SynSent && st !== TcpState.SynReceived;
  }

  get connecting(): boolean {
    return this.phase === Phase.Connecting;
  }

  private configOverrides(): Partial<TcpConfig> {
    const o: Partial<TcpConfig> = {};
    if (this.rcvBuf > 0) o.receiveBufferBytes = this.rcvBuf;
    if (this.sndBuf > 0) o.sendBufferBytes = this.sndBuf;
    if (this.handle.synCnt > 0) o.synRetries = this.handle.synCnt;
    return o;
  }

  // ---- data (tcp_recvmsg / tcp_sendmsg) ------------------------------------------------------

  recv(buf: Uint8Array, off: number, len: number, flags: number, from?: SockAddr): number {
    if (this.phase === Phase.Listening) return -Errno.ENOTCONN;
    const n = this.handle.recv(buf, off, len, (flags & MSG_PEEK) !== 0);
    if (n > 0 && from !== undefined) this.getpeername(from);
    return n;
  }

  send(buf: Uint8Array, off: number, len: number, _flags: number, _to?: SockAddr): number {
    const h = this.handle;
    // sk_stream_wait_connect: the pending error first, then EPIPE outside the handshake.
    if (h.error !== 0) return this.takeError();
    const st = h.state;
    if (h.wrShut && (st === TcpState.Established || st === TcpState.CloseWait)) {
      return -Errno.EPIPE; // MSG_NOSIGNAL is implied: never a signal
    }
    return h.write(buf, off, len, false);
  }

  shutdown(how: number): number {
    if (how !== SHUT_RD && how !== SHUT_WR && how !== SHUT_RDWR) return -Errno.EINVAL;
    const rd = how !== SHUT_WR;
    const wr = how !== SHUT_RD;
    if (this.phase === Phase.Listening) {
      if (rd) this.stopListening();
      this.wake(ALL_BITS);
      return 0;
    }
    const r = this.handle.shutdown(rd, wr);
    this.wake(ALL_BITS);
    return r;
  }

  private stopListening(): void {
    if (this.group !== null) {
      this.group.leave(this);
      this.group = null;
      this.listener = null;
    } else if (this.listener !== null) {
      this.listener.onAcceptable = null;
      this.net.tcp.closeListener(this.listener);
      this.listener = null;
    }
    this.phase = Phase.Fresh;
    if (this.binding !== null) this.binding.listening = false;
  }

  release(): void {
    if (this.phase === Phase.Listening) this.stopListening();
    // SO_LINGER with a zero timeout: close(2) resets the connection (RFC 9293 3.10.5 ABORT).
    if (this.linger.onoff !== 0 && this.linger.linger === 0) this.handle.reset();
    else this.handle.close();
    if (this.binding !== null) this.net.tcpBinds.remove(this.binding);
    this.binding = null;
  }

  // ---- names ---------------------------------------------------------------------------------

  getsockname(out: SockAddr): number {
    const c = this.conn;
    if (c !== null) {
      fillSockAddr(out, this.domain, c.is4, c.local4, c.local6, c.localPort);
      return 0;
    }
    const l = this.listener;
    if (l !== null) {
      fillSockAddr(out, this.domain, !l.v6Socket, l.local4, l.local6, l.localPort);
      return 0;
    }
    const b = this.binding;
    if (b === null) fillUnbound(out, this.domain);
    else if (b.any) {
      fillUnbound(out, this.domain);
      out.port = b.port;
    } else fillSockAddr(out, this.domain, b.is4, b.addr4, b.addr6, b.port);
    return 0;
  }

  getpeername(out: SockAddr): number {
    const c = this.conn;
    const st = c?.tcb.state ?? TcpState.Closed;
    if (c === null || st === TcpState.Closed || st === TcpState.SynSent) return -Errno.ENOTCONN;
    fillSockAddr(out, this.domain, c.is4, c.remote4, c.remote6, c.remotePort);
    return 0;
  }

  // ---- options -------------------------------------------------------------------------------

  defaultRcvBuf(): number {
    return this.conn?.tcb.config.receiveBufferBytes ?? this.net.tcp.ctx.config.receiveBufferBytes;
  }

  defaultSndBuf(): number {
    return this.conn?.tcb.config.sendBufferBytes ?? this.net.tcp.ctx.config.sendBufferBytes;
  }

  protected setProtoOpt(level: number, name: number, v: number): number {
    const h = this.handle;
    if (level === SOL_SOCKET) {
      if (name === SO_KEEPALIVE) h.setKeepAlive(this.keepAlive);
      // SO_RCVBUF / SO_SNDBUF size the buffers of connections opened afterwards.
      return name === SO_RCVBUF || name === SO_SNDBUF || name === SO_KEEPALIVE
        ? 0
        : -Errno.ENOPROTOOPT;
    }
    if (level === IPPROTO_IPV6) {
      if (this.domain !== AF_INET6) return -Errno.ENOPROTOOPT;
      if (name !== IPV6_V6ONLY) return -Errno.ENOPROTOOPT;
      if (this.binding !== null || this.phase !== Phase.Fresh) return -Errno.EINVAL;
      this.v6Only = v !== 0;
      return 0;
    }
    if (level !== IPPROTO_TCP) return -Errno.ENOPROTOOPT;
    switch (name) {
      case TCP_NODELAY:
        h.setNoDelay(v !== 0);
        break;
      case TCP_CORK:
        h.setCork(v !== 0);
        break;
      case TCP_QUICKACK:
        this.quickAck = v !== 0; // a hint on Linux too; the TCB's delayed-ACK rules stand
        return 0;
      case TCP_USER_TIMEOUT:
        if (v < 0) return -Errno.EINVAL;
        h.setUserTimeout(v);
        break;
      case TCP_KEEPIDLE:
      case TCP_KEEPINTVL:
        if (v < 1 || v > 32767) return -Errno.EINVAL; // Linux MAX_TCP_KEEPIDLE / KEEPINTVL
        if (name === TCP_KEEPIDLE) h.setKeepAlive(this.keepAlive, v);
        else h.setKeepAlive(this.keepAlive, 0, v);
        break;
      case TCP_KEEPCNT:
        if (v < 1 || v > 127) return -Errno.EINVAL; // MAX_TCP_KEEPCNT
        h.setKeepAlive(this.keepAlive, 0, 0, v);
        break;
      case TCP_SYNCNT:
        if (v < 1 || v > MAX_TCP_SYNCNT) return -Errno.EINVAL;
        h.setSynRetries(v);
        return 0;
      default:
        return -Errno.ENOPROTOOPT;
    }
    return 0;
  }

  protected getProtoOpt(level: number, name: number): number {
    if (level === IPPROTO_IPV6) {
      if (this.domain !== AF_INET6 || name !== IPV6_V6ONLY) return -Errno.ENOPROTOOPT;
      return this.v6Only ? 1 : 0;
    }
    if (level !== IPPROTO_TCP) return -Errno.ENOPROTOOPT;
    const h = this.handle;
    switch (name) {
      case TCP_NODELAY:
        return h.noDelay === true ? 1 : 0;
      case TCP_CORK:
        return h.cork ? 1 : 0;
      case TCP_QUICKACK:
        return this.quickAck ? 1 : 0;
      case TCP_USER_TIMEOUT:
        return h.userTimeoutMs;
      case TCP_KEEPIDLE:
        return h.keepIdleS;
      case TCP_KEEPINTVL:
        return h.keepIntvlS;
      case TCP_KEEPCNT:
        return h.keepCnt;
      case TCP_SYNCNT:
        // do_tcp_getsockopt: icsk_syn_retries, else the sysctl (here the stack's default).
        return h.synCnt > 0 ? h.synCnt : this.net.tcp.ctx.config.synRetries;
      default:
        return -Errno.ENOPROTOOPT;
    }
  }
}

// Linux: a negative or too large backlog becomes somaxconn (4096).
function clampBacklog(backlog: number): number {
  if (!Number.isInteger(backlog) || backlog < 0 || backlog > 4096) return 4096;
  return Math.max(1, backlog);
}

// Sockets with SO_REUSEPORT share a listener when their bound address and port are the same.
function bindingKey(b: TcpBinding): string {
  const addr = b.any ? '*' : b.is4 ? String(b.addr4 >>> 0) : Array.from(b.addr6).join('.');
  return reuseportKey(b.v6Socket, b.v6Only, addr, b.port);
}

// A SOCK_STREAM socket over the worker's TcpStack. The socket is its TcpConn's user, so every
// TCB event (host.ts TcpEvent) arrives here synchronously and becomes a wake() with the epoll
// bits it may have changed; poll() then recomputes readiness from the TCB the way Linux's
// tcp_poll does. Calls never block: the *Async wrappers in sys.ts wait on wake()s.

import { TcpEvent } from '../../socket/tcp/host.js';
import { TcpState } from '../../socket/tcp/state.js';
import { ERRNO_EADDRINUSE } from '../../socket/tcp/tcp-stack.js';
import type { TcpConn, TcpConnUser, TcpListener } from '../../socket/tcp/tcp-conn.js';
import type { TcpConfig } from '../../socket/tcp/config.js';
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
import type { TcpBinding } from './tcp-binds.js';
import { type ReuseportMember, ReuseportGroup, reuseportKey } from './reuseport.js';

/** Linux MAX_TCP_SYNCNT (include/net/tcp.h). */
const MAX_TCP_SYNCNT = 127;

const Phase = { Fresh: 0, Listening: 1, Connecting: 2, Connected: 3 } as const;
type Phase = (typeof Phase)[keyof typeof Phase];

const READ_BITS = EPOLLIN | EPOLLRDNORM;
const WRITE_BITS = EPOLLOUT | EPOLLWRNORM;
const ALL_BITS = READ_BITS | WRITE_BITS | EPOLLERR | EPOLLHUP | EPOLLRDHUP;

export class TcpSocketFile extends SocketFile implements TcpConnUser, ReuseportMember {
  private phase: Phase = Phase.Fresh;
  /** The SO_REUSEPORT group this listener is in; its connections wait in `pending`. */
  private group: ReuseportGroup | null = null;
  readonly pending: TcpConn[] = [];
  /** listen(2)'s backlog, as clamped. */
  backlog = 0;
  conn: TcpConn | null = null;
  private listener: TcpListener | null = null;
  private binding: TcpBinding | null = null;
  /** sk_shutdown's two bits: ours (shutdown(2)) or the stack's (FIN received, reset, closed). */
  private rcvShut = false;
  private sndShut = false;
  private v6Only = false;
  private noDelay = false;
  private cork = false;
  private quickAck = true;
  private userTimeoutMs = 0;
  private keepIdleS = 7200;
  private keepIntvlS = 75;
  private keepCnt = 9;
  /** TCP_SYNCNT (Linux icsk_syn_retries); 0 = the stack's default (tcp_syn_retries). */
  private synCnt = 0;

  constructor(
    private readonly net: NetContext,
    domain: number,
    nonBlocking: boolean,
  ) {
    super(domain, SOCK_STREAM, nonBlocking);
  }

  get listening(): boolean {
    return this.phase === Phase.Listening;
  }

  // ---- readiness (Linux tcp_poll) ------------------------------------------------------------

  poll(): number {
    if (this.phase === Phase.Listening) return this.acceptReady ? READ_BITS : 0;
    const tcb = this.conn?.tcb;
    const st = tcb === undefined ? TcpState.Closed : tcb.state;
    const closed = st === TcpState.Closed || st === TcpState.TimeWait;
    let mask = 0;
    if ((this.rcvShut && this.sndShut) || closed) mask |= EPOLLHUP;
    if (this.rcvShut) mask |= READ_BITS | EPOLLRDHUP;
    if (st !== TcpState.SynSent && st !== TcpState.SynReceived) {
      if (tcb !== undefined && tcb.readable() > 0) mask |= READ_BITS;
      if (this.sndShut || tcb === undefined || closed || tcb.writable() > 0) mask |= WRITE_BITS;
    }
    if (this.softError !== 0) mask |= EPOLLERR;
    return mask;
  }

  onTcpEvent(c: TcpConn, event: TcpEvent): void {
    switch (event) {
      case TcpEvent.Connected:
        this.wake(WRITE_BITS);
        return;
      case TcpEvent.Readable:
        this.wake(READ_BITS);
        return;
      case TcpEvent.Writable:
        this.wake(WRITE_BITS);
        return;
      case TcpEvent.PeerClosed:
        this.rcvShut = true;
        this.wake(READ_BITS | EPOLLRDHUP);
        return;
      case TcpEvent.Error:
        this.softError = errnoOf(c.tcb.error ?? 'ECONNRESET');
        this.wake(EPOLLERR);
        return;
      case TcpEvent.Closed:
        // tcp_done: both directions shut; an ICMP error learned outside the TCB surfaces now.
        if (this.softError === 0 && c.error !== null) this.softError = errnoOf(c.error);
        this.rcvShut = true;
        this.sndShut = true;
        this.wake(ALL_BITS);
        return;
    }
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
    this.conn = c;
    c.user = this;
    this.phase = Phase.Connected;
    this.reuseAddr = parent.reuseAddr;
    this.keepAlive = parent.keepAlive;
    this.keepIdleS = parent.keepIdleS;
    this.keepIntvlS = parent.keepIntvlS;
    this.keepCnt = parent.keepCnt;
    this.synCnt = parent.synCnt;
    this.noDelay = parent.noDelay;
    this.userTimeoutMs = parent.userTimeoutMs;
    this.linger = { ...parent.linger };
    this.applyOptions();
    if (c.tcb.state !== TcpState.Established && c.tcb.state !== TcpState.FinWait1) {
      // FIN (or more) arrived while queued: PeerClosed went to nobody.
      if (c.tcb.state !== TcpState.FinWait2) this.rcvShut = true;
    }
  }

  private applyOptions(): void {
    const tcb = this.conn?.tcb;
    if (tcb === undefined) return;
    if (this.noDelay) tcb.setNoDelay(true);
    if (this.cork) tcb.setCork(true);
    if (this.userTimeoutMs > 0) tcb.setUserTimeout(this.userTimeoutMs);
    if (this.keepAlive) {
      tcb.setKeepAlive(true, this.keepIdleS * 1000, this.keepIntvlS * 1000, this.keepCnt);
    }
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
    const c = this.net.tcp.connect(
      { is4: d.is4, addr4: d.addr4, addr6: d.addr6, port: d.port },
      {
        addr4: b !== null && b.is4 ? b.addr4 : 0,
        addr6: b !== null && !b.is4 && !b.any ? b.addr6 : null,
        port: b?.port ?? 0,
      },
      this.configOverrides(),
    );
    if (typeof c === 'number') return c === ERRNO_EADDRINUSE ? -Errno.EADDRNOTAVAIL : c;
    this.conn = c;
    c.user = this;
    this.phase = Phase.Connecting;
    this.applyOptions();
    if (c.tcb.state === TcpState.Closed) return this.connectAgain();
    return -Errno.EINPROGRESS;
  }

  // A second connect(): EALREADY while the handshake runs, 0 once it completed (and the socket
  // becomes connected), the error once it failed.
  private connectAgain(): number {
    const st = this.conn?.tcb.state ?? TcpState.Closed;
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
    const st = this.conn?.tcb.state ?? TcpState.Closed;
    return st !== TcpState.SynSent && st !== TcpState.SynReceived;
  }

  get connecting(): boolean {
    return this.phase === Phase.Connecting;
  }

  private configOverrides(): Partial<TcpConfig> {
    const o: Partial<TcpConfig> = {};
    if (this.rcvBuf > 0) o.receiveBufferBytes = this.rcvBuf;
    if (this.sndBuf > 0) o.sendBufferBytes = this.sndBuf;
    if (this.synCnt > 0) o.synRetries = this.synCnt;
    return o;
  }

  // ---- data (tcp_recvmsg / tcp_sendmsg) ------------------------------------------------------

  recv(buf: Uint8Array, off: number, len: number, flags: number, from?: SockAddr): number {
    if (this.phase === Phase.Listening) return -Errno.ENOTCONN;
    const c = this.conn;
    if (c === null) return -Errno.ENOTCONN;
    const tcb = c.tcb;
    if (len === 0) return 0;
    const avail = tcb.readable();
    if (avail > 0) {
      const n =
        (flags & MSG_PEEK) !== 0 ? tcb.receiveBuffer.peek(buf, off, len) : tcb.read(buf, off, len);
      if (from !== undefined) this.getpeername(from);
      return n;
    }
    if (this.softError !== 0) return this.takeError();
    if (this.rcvShut) return 0;
    const st = tcb.state;
    if (st === TcpState.Closed) return -Errno.ENOTCONN;
    return -Errno.EAGAIN;
  }

  send(buf: Uint8Array, off: number, len: number, _flags: number, _to?: SockAddr): number {
    const st = this.conn?.tcb.state ?? TcpState.Closed;
    // sk_stream_wait_connect: the pending error, then EPIPE outside the handshake.
    if (st !== TcpState.Established && st !== TcpState.CloseWait) {
      if (this.softError !== 0) return this.takeError();
      if (st !== TcpState.SynSent && st !== TcpState.SynReceived) return -Errno.EPIPE;
      return -Errno.EAGAIN;
    }
    if (this.softError !== 0) return this.takeError();
    if (this.sndShut) return -Errno.EPIPE; // MSG_NOSIGNAL is implied: never a signal
    if (len === 0) return 0;
    const c = this.conn as TcpConn;
    const n = c.tcb.write(buf, off, len);
    return n === 0 ? -Errno.EAGAIN : n;
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
    const tcb = this.conn?.tcb;
    const st = tcb?.state ?? TcpState.Closed;
    if (rd) this.rcvShut = true;
    if (wr) this.sndShut = true;
    if (tcb !== undefined && st !== TcpState.Closed) {
      if (st === TcpState.SynSent) tcb.abort();
      else if (wr) tcb.shutdown();
    }
    this.wake(ALL_BITS);
    return st === TcpState.Closed ? -Errno.ENOTCONN : 0;
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
    const c = this.conn;
    if (c !== null) {
      c.user = null;
      // SO_LINGER with a zero timeout: close(2) resets the connection (RFC 9293 3.10.5 ABORT).
      if (this.linger.onoff !== 0 && this.linger.linger === 0) c.tcb.abort();
      else c.tcb.close();
      this.conn = null;
    }
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
    const tcb = this.conn?.tcb;
    if (level === SOL_SOCKET) {
      if (name === SO_KEEPALIVE) this.applyKeepAlive();
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
        this.noDelay = v !== 0;
        tcb?.setNoDelay(this.noDelay);
        break;
      case TCP_CORK:
        this.cork = v !== 0;
        tcb?.setCork(this.cork);
        break;
      case TCP_QUICKACK:
        this.quickAck = v !== 0; // a hint on Linux too; the TCB's delayed-ACK rules stand
        return 0;
      case TCP_USER_TIMEOUT:
        if (v < 0) return -Errno.EINVAL;
        this.userTimeoutMs = v;
        tcb?.setUserTimeout(v);
        break;
      case TCP_KEEPIDLE:
      case TCP_KEEPINTVL:
        if (v < 1 || v > 32767) return -Errno.EINVAL; // Linux MAX_TCP_KEEPIDLE / KEEPINTVL
        if (name === TCP_KEEPIDLE) this.keepIdleS = v;
        else this.keepIntvlS = v;
        this.applyKeepAlive();
        break;
      case TCP_KEEPCNT:
        if (v < 1 || v > 127) return -Errno.EINVAL; // MAX_TCP_KEEPCNT
        this.keepCnt = v;
        this.applyKeepAlive();
        break;
      case TCP_SYNCNT:
        if (v < 1 || v > MAX_TCP_SYNCNT) return -Errno.EINVAL;
        this.synCnt = v;
        // Linux's SYN timer reads icsk_syn_retries at every expiry: a connect() under way obeys.
        if (tcb !== undefined) tcb.config.synRetries = v;
        return 0;
      default:
        return -Errno.ENOPROTOOPT;
    }
    return 0;
  }

  private applyKeepAlive(): void {
    const tcb = this.conn?.tcb;
    if (tcb === undefined) return;
    tcb.setKeepAlive(this.keepAlive, this.keepIdleS * 1000, this.keepIntvlS * 1000, this.keepCnt);
  }

  protected override takeSoftError(): number {
    const tcb = this.conn?.tcb;
    if (tcb === undefined || tcb.softError === null) return 0;
    const e = errnoOf(tcb.softError);
    tcb.softError = null; // a later timeout then reports ETIMEDOUT, as after Linux's xchg
    return e;
  }

  protected getProtoOpt(level: number, name: number): number {
    if (level === IPPROTO_IPV6) {
      if (this.domain !== AF_INET6 || name !== IPV6_V6ONLY) return -Errno.ENOPROTOOPT;
      return this.v6Only ? 1 : 0;
    }
    if (level !== IPPROTO_TCP) return -Errno.ENOPROTOOPT;
    switch (name) {
      case TCP_NODELAY:
        return this.noDelay ? 1 : 0;
      case TCP_CORK:
        return this.cork ? 1 : 0;
      case TCP_QUICKACK:
        return this.quickAck ? 1 : 0;
      case TCP_USER_TIMEOUT:
        return this.userTimeoutMs;
      case TCP_KEEPIDLE:
        return this.keepIdleS;
      case TCP_KEEPINTVL:
        return this.keepIntvlS;
      case TCP_KEEPCNT:
        return this.keepCnt;
      case TCP_SYNCNT:
        // do_tcp_getsockopt: icsk_syn_retries, else the sysctl (here the stack's default).
        return this.synCnt > 0 ? this.synCnt : this.net.tcp.ctx.config.synRetries;
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

// One TCP connection as the API layers see it, the way Node's TCPWrap sits under lib/net.js:
// `net.Socket` (a stream.Duplex) and the sys TCP socket (descriptors, epoll) both sit on a
// TcpHandle. It owns the TcpConn attachment (connect, accept, detach), records what the stack
// reports as it happens (the read and write ends shut, the connection's error), hands the events
// on to its user coalesced, once per loop pass, and does read, write, shutdown, close and the
// socket options against the TCB. Every result is a byte count, 0, or a negative Linux errno
// (errno.ts); each layer turns those into its own errors at its edge. As every call into a Tcb
// tells the stack its deadline moved and the worker loop flushes once per pass, the handle does no
// timer bookkeeping and sends nothing itself.

import { TcpEvent } from '../socket/tcp/host.js';
import type { TcpConfig } from '../socket/tcp/config.js';
import { TcpState } from '../socket/tcp/state.js';
import type { TcpConn, TcpConnUser } from '../socket/tcp/tcp-conn.js';
import type { TcpEndpoint, TcpStack } from '../socket/tcp/tcp-stack.js';
import { Errno, errnoOf } from './sys/errno.js';

/** Receives a handle's events: bits (1 << TcpEvent), coalesced since the last call. */
export interface TcpHandleUser {
  onHandleEvents(events: number): void;
}

/** The event bits a TcpHandleUser gets. */
export const HandleEvent = {
  Connected: 1 << TcpEvent.Connected,
  Readable: 1 << TcpEvent.Readable,
  Writable: 1 << TcpEvent.Writable,
  PeerClosed: 1 << TcpEvent.PeerClosed,
  Error: 1 << TcpEvent.Error,
  Closed: 1 << TcpEvent.Closed,
} as const;

/** The local end of connect(): address (0 / null = the interface's choice) and port (0 = any). */
export interface LocalEnd {
  addr4?: number;
  addr6?: Uint8Array | null;
  port?: number;
}

export class TcpHandle implements TcpConnUser {
  conn: TcpConn | null = null;
  /** sk_shutdown's two bits: shutdown() or the stack's (FIN received, connection closed). */
  rdShut = false;
  wrShut = false;
  /** The connection's pending error, a negative errno (0 = none); takeError() clears it. */
  error = 0;

  // Socket options, kept here and applied to the TCB whenever there is one.
  /** TCP_NODELAY; null = never set (the TCB's default stands). */
  noDelay: boolean | null = null;
  cork = false;
  userTimeoutMs = 0;
  /** SO_KEEPALIVE; null = never set. */
  keepAlive: boolean | null = null;
  /** TCP_KEEPIDLE / TCP_KEEPINTVL (seconds) and TCP_KEEPCNT; 0 = the TCB's own value. */
  keepIdleS = 0;
  keepIntvlS = 0;
  keepCnt = 0;
  /** TCP_SYNCNT; 0 = the stack's default. */
  synCnt = 0;
  /** While true, options are only stored; applyOptions() applies them (net: once connected). */
  deferOptions = false;

  private events = 0;
  private scheduled = false;

  constructor(public user: TcpHandleUser | null = null) {}

  /** The TCB's state, CLOSED without a connection. */
  get state(): TcpState {
    return this.conn === null ? TcpState.Closed : this.conn.tcb.state;
  }

  // ---- attachment ----------------------------------------------------------------------------

  /** Active open: 0 with the connection attached (SYN-SENT, or CLOSED), or the stack's errno. */
  connect(
    stack: TcpStack,
    remote: TcpEndpoint,
    local: LocalEnd,
    overrides: Partial<TcpConfig>,
  ): number {
    const c = stack.connect(remote, local, overrides);
    if (typeof c === 'number') return c;
    this.attach(c);
    if (!this.deferOptions) this.applyOptions();
    return 0;
  }

  /**
   * A connection off a listener's accept queue. A FIN (or more) that arrived while it was queued
   * went to nobody: the read end starts shut.
   */
  adopt(c: TcpConn): void {
    this.attach(c);
    const st = c.tcb.state;
    if (st !== TcpState.Established && st !== TcpState.FinWait1 && st !== TcpState.FinWait2) {
      this.rdShut = true;
    }
    this.applyOptions();
  }

  private attach(c: TcpConn): void {
    this.conn = c;
    c.user = this;
  }

  /** Gives the connection up without closing it; its events stop here. */
  detach(): void {
    const c = this.conn;
    if (c === null) return;
    c.user = null;
    this.conn = null;
    this.events = 0;
  }

  /** close(2): a FIN after the queued data, or a RST when unread data is left (RFC 2525 2.17). */
  close(): void {
    const c = this.conn;
    this.detach();
    c?.tcb.close();
  }

  /** ABORT (RFC 9293 3.10.5, SO_LINGER {1, 0}): the peer gets a RST. */
  reset(): void {
    const c = this.conn;
    this.detach();
    c?.tcb.abort();
  }

  // ---- events from the stack -----------------------------------------------------------------

  // The state is recorded at once (poll(), recv() and send() see it in the same pass); the user
  // hears of it once per loop pass, after the batch that caused it.
  onTcpEvent(c: TcpConn, event: TcpEvent): void {
    switch (event) {
      case TcpEvent.PeerClosed:
        this.rdShut = true;
        break;
      case TcpEvent.Error:
        this.error = -errnoOf(c.tcb.error ?? 'ECONNRESET');
        break;
      case TcpEvent.Closed:
        // tcp_done: both directions shut; an ICMP error learned outside the TCB surfaces now.
        if (this.error === 0 && c.error !== null) this.error = -errnoOf(c.error);
        this.rdShut = true;
        this.wrShut = true;
        break;
    }
    this.post(1 << event);
  }

  /** Queues event bits for the user, as if the stack had reported them. */
  post(bits: number): void {
    this.events |= bits;
    if (!this.scheduled) {
      this.scheduled = true;
      process.nextTick(this.runEvents);
    }
  }

  private readonly runEvents = (): void => {
    this.scheduled = false;
    const ev = this.events;
    this.events = 0;
    if (ev !== 0 && this.conn !== null) this.user?.onHandleEvents(ev);
  };

  // ---- errors --------------------------------------------------------------------------------

  /** Takes the pending error (negative errno, or 0). */
  takeError(): number {
    const e = this.error;
    this.error = 0;
    return e;
  }

  /**
   * Takes the TCB's soft error (Linux sk_err_soft: an ICMP error an open connection survived), a
   * negative errno or 0. A later timeout then reports ETIMEDOUT, as after Linux's xchg.
   */
  takeSoftError(): number {
    const tcb = this.conn?.tcb;
    if (tcb === undefined || tcb.softError === null) return 0;
    const e = errnoOf(tcb.softError);
    tcb.softError = null;
    return -e;
  }

  // ---- data ----------------------------------------------------------------------------------

  /** Bytes ready to read. */
  readable(): number {
    return this.conn === null ? 0 : this.conn.tcb.readable();
  }

  /** Room in the send buffer. */
  writable(): number {
    return this.conn === null ? 0 : this.conn.tcb.writable();
  }

  /**
   * tcp_recvmsg: up to `len` bytes (copied, not consumed, with `peek`); else the pending error,
   * 0 at end of file, ENOTCONN once closed, EAGAIN.
   */
  recv(dst: Uint8Array, off: number, len: number, peek: boolean): number {
    const c = this.conn;
    if (c === null) return -Errno.ENOTCONN;
    if (len === 0) return 0;
    const tcb = c.tcb;
    if (tcb.readable() > 0) {
      return peek ? tcb.receiveBuffer.peek(dst, off, len) : tcb.read(dst, off, len);
    }
    if (this.error !== 0) return this.takeError();
    if (this.rdShut) return 0;
    return tcb.state === TcpState.Closed ? -Errno.ENOTCONN : -Errno.EAGAIN;
  }

  /**
   * tcp_sendmsg: queues up to `len` bytes; with `more` (MSG_MORE) they wait for the next write
   * without it, or go once the buffer is full. Returns how many were taken (0 for len 0); EAGAIN
   * when none fit or the handshake is still running, EPIPE when the connection sends no more.
   */
  write(src: Uint8Array, off: number, len: number, more: boolean): number {
    const c = this.conn;
    if (c === null) return -Errno.EPIPE;
    const tcb = c.tcb;
    const st = tcb.state;
    if (st !== TcpState.Established && st !== TcpState.CloseWait) {
      return st === TcpState.SynSent || st === TcpState.SynReceived ? -Errno.EAGAIN : -Errno.EPIPE;
    }
    if (len === 0) return 0;
    const n = tcb.write(src, off, len, more);
    if (n < len) {
      if (more) tcb.push(); // the buffer is full: send what the writes queued
      if (n === 0) return -Errno.EAGAIN;
    }
    return n;
  }

  /** Sends what earlier `more` writes queued. */
  push(): void {
    this.conn?.tcb.push();
  }

  /**
   * shutdown(2): the read end, the write end (a FIN after the queued data) or both. A handshake
   * under way is abandoned. ENOTCONN without a connection.
   */
  shutdown(rd: boolean, wr: boolean): number {
    const tcb = this.conn?.tcb;
    const st = tcb === undefined ? TcpState.Closed : tcb.state;
    if (rd) this.rdShut = true;
    if (wr) this.wrShut = true;
    if (tcb !== undefined && st !== TcpState.Closed) {
      if (st === TcpState.SynSent) tcb.abort();
      else if (wr) tcb.shutdown();
    }
    return st === TcpState.Closed ? -Errno.ENOTCONN : 0;
  }

  // ---- options -------------------------------------------------------------------------------

  /** Applies every stored option to the TCB (after connect or accept). */
  applyOptions(): void {
    this.deferOptions = false;
    const tcb = this.conn?.tcb;
    if (tcb === undefined) return;
    if (this.noDelay !== null) tcb.setNoDelay(this.noDelay);
    if (this.cork) tcb.setCork(true);
    if (this.userTimeoutMs > 0) tcb.setUserTimeout(this.userTimeoutMs);
    if (this.keepAlive !== null) this.applyKeepAlive();
  }

  /** The options an accepted connection inherits from its listener (Linux clones the socket). */
  inherit(from: TcpHandle): void {
    this.noDelay = from.noDelay;
    this.userTimeoutMs = from.userTimeoutMs;
    this.keepAlive = from.keepAlive;
    this.keepIdleS = from.keepIdleS;
    this.keepIntvlS = from.keepIntvlS;
    this.keepCnt = from.keepCnt;
    this.synCnt = from.synCnt;
  }

  private live(): TcpConn | null {
    return this.deferOptions ? null : this.conn;
  }

  setNoDelay(on: boolean): void {
    this.noDelay = on;
    this.live()?.tcb.setNoDelay(on);
  }

  setCork(on: boolean): void {
    this.cork = on;
    this.live()?.tcb.setCork(on);
  }

  setUserTimeout(ms: number): void {
    this.userTimeoutMs = ms;
    this.live()?.tcb.setUserTimeout(ms);
  }

  /** SO_KEEPALIVE with TCP_KEEPIDLE / TCP_KEEPINTVL (seconds) and TCP_KEEPCNT; 0 keeps a value. */
  setKeepAlive(on: boolean, idleS = 0, intvlS = 0, cnt = 0): void {
    this.keepAlive = on;
    if (idleS > 0) this.keepIdleS = idleS;
    if (intvlS > 0) this.keepIntvlS = intvlS;
    if (cnt > 0) this.keepCnt = cnt;
    if (this.live() !== null) this.applyKeepAlive();
  }

  private applyKeepAlive(): void {
    const tcb = (this.conn as TcpConn).tcb;
    tcb.setKeepAlive(
      this.keepAlive === true,
      this.keepIdleS > 0 ? this.keepIdleS * 1000 : undefined,
      this.keepIntvlS > 0 ? this.keepIntvlS * 1000 : undefined,
      this.keepCnt > 0 ? this.keepCnt : undefined,
    );
  }

  /** TCP_SYNCNT. Linux's SYN timer reads icsk_syn_retries at every expiry: a connect obeys. */
  setSynRetries(n: number): void {
    this.synCnt = n;
    const tcb = this.conn?.tcb;
    if (tcb !== undefined) tcb.config.synRetries = n;
  }
}

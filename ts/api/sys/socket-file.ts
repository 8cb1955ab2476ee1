// What TCP and UDP sockets share: the descriptor-level flags (O_NONBLOCK), the pending error
// behind SO_ERROR, and the SOL_SOCKET options every Linux socket stores whatever its protocol.

import {
  SO_ERROR,
  SO_KEEPALIVE,
  SO_LINGER,
  SO_RCVBUF,
  SO_REUSEADDR,
  SO_REUSEPORT,
  SO_SNDBUF,
  SO_TYPE,
  SOL_SOCKET,
} from './constants.js';
import { Errno } from './errno.js';
import { SysFile } from './file.js';
import type { SockAddr } from './sockaddr.js';

/** struct linger: SO_LINGER's value. */
export interface Linger {
  onoff: number;
  linger: number;
}

/** Linux's SOCK_MIN_SNDBUF / SOCK_MIN_RCVBUF on x86_64 (2 * (2048 + skb overhead)). */
const MIN_SNDBUF = 4608;
const MIN_RCVBUF = 2304;

/** A socket option value: an integer, or a Linger for SO_LINGER. */
export type OptValue = number | Linger;

export abstract class SocketFile extends SysFile {
  nonBlocking: boolean;
  /** Pending error (positive errno) reported once by SO_ERROR or the next call. */
  softError = 0;
  reuseAddr = false;
  reusePort = false;
  keepAlive = false;
  linger: Linger = { onoff: 0, linger: 0 };
  /** Doubled as Linux stores them (socket(7)); 0 = the protocol's default. */
  rcvBuf = 0;
  sndBuf = 0;

  constructor(
    readonly domain: number,
    readonly type: number,
    nonBlocking: boolean,
  ) {
    super();
    this.nonBlocking = nonBlocking;
  }

  abstract bind(addr: SockAddr): number;
  abstract listen(backlog: number): number;
  abstract connect(addr: SockAddr): number;
  abstract recv(buf: Uint8Array, off: number, len: number, flags: number, from?: SockAddr): number;
  abstract send(buf: Uint8Array, off: number, len: number, flags: number, to?: SockAddr): number;
  abstract shutdown(how: number): number;
  abstract getsockname(out: SockAddr): number;
  abstract getpeername(out: SockAddr): number;
  abstract defaultRcvBuf(): number;
  abstract defaultSndBuf(): number;
  /** Protocol levels (IPPROTO_TCP, IPPROTO_IPV6) and SOL_SOCKET options with side effects. */
  protected abstract setProtoOpt(level: number, name: number, value: number): number;
  protected abstract getProtoOpt(level: number, name: number): number;

  /** Takes the pending error (SO_ERROR reads and clears it, sock_error()). */
  takeError(): number {
    const e = this.softError;
    this.softError = 0;
    return e === 0 ? 0 : -e;
  }

  /**
   * Takes the protocol's soft error (Linux sk_err_soft: an ICMP or neighbour error an open
   * connection survived), a positive errno or 0. SO_ERROR reports it when no hard error waits.
   */
  protected takeSoftError(): number {
    return 0;
  }

  setsockopt(level: number, name: number, value: OptValue): number {
    if (level !== SOL_SOCKET) {
      if (typeof value !== 'number') return -Errno.EINVAL;
      return this.setProtoOpt(level, name, value | 0);
    }
    if (name === SO_LINGER) {
      if (typeof value === 'number') return -Errno.EINVAL;
      this.linger = { onoff: value.onoff !== 0 ? 1 : 0, linger: Math.max(0, value.linger | 0) };
      return 0;
    }
    if (typeof value !== 'number') return -Errno.EINVAL;
    const v = value | 0;
    switch (name) {
      case SO_REUSEADDR:
        this.reuseAddr = v !== 0;
        return 0;
      case SO_REUSEPORT:
        this.reusePort = v !== 0;
        return 0;
      case SO_RCVBUF:
        this.rcvBuf = Math.max(MIN_RCVBUF, 2 * Math.max(0, v)); // socket(7): the kernel doubles it
        return this.setProtoOpt(level, name, this.rcvBuf);
      case SO_SNDBUF:
        this.sndBuf = Math.max(MIN_SNDBUF, 2 * Math.max(0, v));
        return this.setProtoOpt(level, name, this.sndBuf);
      case SO_KEEPALIVE:
        this.keepAlive = v !== 0;
        return this.setProtoOpt(level, name, v);
      case SO_ERROR:
      case SO_TYPE:
        return -Errno.ENOPROTOOPT; // read-only
      default:
        return -Errno.ENOPROTOOPT;
    }
  }

  /** The option's value (>= 0) or a negative errno; SO_LINGER fills `linger`. */
  getsockopt(level: number, name: number, linger?: Linger): number {
    if (level !== SOL_SOCKET) return this.getProtoOpt(level, name);
    switch (name) {
      case SO_ERROR: {
        // sk_getsockopt: sock_error(sk), else xchg(&sk->sk_err_soft, 0). Both read once.
        const e = -this.takeError();
        return e !== 0 ? e : this.takeSoftError();
      }
      case SO_TYPE:
        return this.type;
      case SO_REUSEADDR:
        return this.reuseAddr ? 1 : 0;
      case SO_REUSEPORT:
        return this.reusePort ? 1 : 0;
      case SO_KEEPALIVE:
        return this.keepAlive ? 1 : 0;
      case SO_RCVBUF:
        return this.rcvBuf > 0 ? this.rcvBuf : this.defaultRcvBuf();
      case SO_SNDBUF:
        return this.sndBuf > 0 ? this.sndBuf : this.defaultSndBuf();
      case SO_LINGER:
        if (linger === undefined) return -Errno.EINVAL;
        linger.onoff = this.linger.onoff;
        linger.linger = this.linger.linger;
        return 0;
      default:
        return -Errno.ENOPROTOOPT;
    }
  }
}

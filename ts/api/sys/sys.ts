// The BSD socket calls and epoll/poll/select of one worker, over its UDP and TCP stacks.
//
// Conventions (those of the raw Linux system calls):
// - every call returns a non-negative result or a negative errno (-Errno.EAGAIN, ...); nothing
//   throws for a runtime condition (errnoName() names a result, check() turns one into an Error);
// - descriptors are small integers, the lowest free first, EMFILE past `fdLimit`;
// - synchronous calls never block: on a socket with work pending they return -EAGAIN or
//   -EINPROGRESS whatever its O_NONBLOCK flag. The *Async calls are the blocking forms: on a
//   blocking socket they wait for readiness; on a SOCK_NONBLOCK one (or with MSG_DONTWAIT)
//   they answer at once like the synchronous call;
// - data calls take Uint8Arrays (pass a subarray for a range); addresses are SockAddr objects.

import { TcpStack } from '../../socket/tcp/tcp-stack.js';
import type { UdpStack } from '../../socket/udp/udp-stack.js';
import {
  AF_INET,
  AF_INET6,
  EPOLL_CTL_ADD,
  EPOLL_CTL_DEL,
  EPOLL_CTL_MOD,
  EPOLLERR,
  EPOLLHUP,
  EPOLLIN,
  EPOLLOUT,
  EPOLLPRI,
  EPOLLRDNORM,
  EPOLLWRNORM,
  MSG_DONTWAIT,
  MSG_TRUNC,
  POLLERR,
  POLLHUP,
  POLLNVAL,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
  SOCK_NONBLOCK,
  SOCK_STREAM,
} from './constants.js';
import { EpollEvent, EpollFile } from './epoll.js';
import { Errno } from './errno.js';
import { DEFAULT_FD_LIMIT, FdTable } from './fd-table.js';
import type { SysFile } from './file.js';
import type { NetContext } from './net-context.js';
import type { SockAddr } from './sockaddr.js';
import { type Linger, type OptValue, SocketFile } from './socket-file.js';
import { lingerWait } from './linger.js';
import { TcpBindTable } from './tcp-binds.js';
import { TcpSocketFile } from './tcp-socket.js';
import { UdpSocketFile } from './udp-socket.js';

export interface SysOptions {
  /** Most open descriptors (RLIMIT_NOFILE); EMFILE past it. Default 1024. */
  fdLimit?: number;
  /** Most epoll watches over all instances (fs.epoll.max_user_watches); ENOSPC past it. */
  watchLimit?: number;
}

/** struct pollfd. */
export interface PollFd {
  fd: number;
  events: number;
  revents: number;
}

/** struct msghdr: scatter/gather buffers, the peer's address, and MSG_TRUNC on return. */
export interface MsgHdr {
  iov: Uint8Array[];
  name?: SockAddr;
  flags?: number;
}

export const DEFAULT_WATCH_LIMIT = 1 << 20;

// select(2)'s sets in Linux's terms (fs/select.c POLLIN_SET, POLLOUT_SET, POLLEX_SET).
const SELECT_IN = EPOLLIN | EPOLLRDNORM | EPOLLHUP | EPOLLERR;
const SELECT_OUT = EPOLLOUT | EPOLLWRNORM | EPOLLERR;
const SELECT_EX = EPOLLPRI;

export class Sys {
  readonly fds: FdTable;
  watchLimit: number;
  /** Epoll watches open over every instance of this Sys. */
  watchCount = 0;
  private readonly net: NetContext;

  /**
   * A Sys over stacks of its own; apps get this worker's from currentSys().
   * @internal A stack built outside an engine worker (tests, perf tools); the public API has no
   * way to build one.
   */
  constructor(stacks: { tcp: TcpStack; udp: UdpStack }, options: SysOptions = {}) {
    this.net = {
      tcp: stacks.tcp,
      udp: stacks.udp,
      tcpBinds: new TcpBindTable(),
      reuseport: new Map(),
    };
    this.fds = new FdTable(options.fdLimit ?? DEFAULT_FD_LIMIT);
    this.watchLimit = options.watchLimit ?? DEFAULT_WATCH_LIMIT;
  }

  // ---- descriptors ---------------------------------------------------------------------------

  private sock(fd: number): SocketFile | number {
    const f = this.fds.get(fd);
    if (f === null) return -Errno.EBADF;
    return f instanceof SocketFile ? f : -Errno.ENOTSOCK;
  }

  /** socket(2): AF_INET or AF_INET6; SOCK_STREAM or SOCK_DGRAM, or'ed with SOCK_NONBLOCK. */
  socket(domain: number, type: number, protocol = 0): number {
    if (domain !== AF_INET && domain !== AF_INET6) return -Errno.EAFNOSUPPORT;
    const base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
    const nonBlocking = (type & SOCK_NONBLOCK) !== 0;
    let f: SocketFile;
    if (base === SOCK_STREAM) {
      if (protocol !== 0 && protocol !== 6) return -Errno.EPROTONOSUPPORT;
      f = new TcpSocketFile(this.net, domain, nonBlocking);
    } else if (base === SOCK_DGRAM) {
      if (protocol !== 0 && protocol !== 17) return -Errno.EPROTONOSUPPORT;
      f = new UdpSocketFile(this.net, domain, nonBlocking);
    } else return -Errno.ESOCKTNOSUPPORT;
    return this.fds.install(f);
  }

  /** fcntl(F_SETFL, O_NONBLOCK) in one call. */
  setNonBlocking(fd: number, on: boolean): number {
    const s = this.sock(fd);
    if (typeof s === 'number') return s;
    s.nonBlocking = on;
    return 0;
  }

  close(fd: number): number {
    const f = this.fds.get(fd);
    if (f === null) return -Errno.EBADF;
    this.fds.remove(fd);
    for (const w of [...f.watches]) {
      w.forget();
      this.watchCount--;
    }
    if (f instanceof EpollFile) this.watchCount -= f.byFd.size;
    f.closeWaiters();
    f.release();
    return 0;
  }

  /**
   * close(2) as a blocking call. With SO_LINGER on and a positive l_linger it resolves once the
   * peer has acknowledged everything sent (our FIN included) or after l_linger seconds, with 0
   * either way; the connection is not reset when the time runs out (Linux tcp_close). As on Linux
   * this lingers whatever O_NONBLOCK says. Without a positive linger it is close(). The
   * synchronous close() never waits: a lingering socket's data still goes out after it.
   */
  async closeAsync(fd: number): Promise<number> {
    const f = this.fds.get(fd);
    const conn = f instanceof TcpSocketFile ? f.conn : null;
    const ms = f instanceof SocketFile && f.linger.onoff !== 0 ? f.linger.linger * 1000 : 0;
    const r = this.close(fd);
    if (r === 0 && conn !== null && ms > 0) await lingerWait(conn, this.net.tcp.clock, ms);
    return r;
  }

  /** Closes every descriptor (worker shutdown). */
  closeAll(): void {
    for (const f of this.fds.all()) this.close(f.fd);
  }

  // ---- socket calls --------------------------------------------------------------------------

  bind(fd: number, addr: SockAddr): number {
    const s = this.sock(fd);
    return typeof s === 'number' ? s : s.bind(addr);
  }

  listen(fd: number, backlog = 4096): number {
    const s = this.sock(fd);
    return typeof s === 'number' ? s : s.listen(backlog);
  }

  connect(fd: number, addr: SockAddr): number {
    const s = this.sock(fd);
    return typeof s === 'number' ? s : s.connect(addr);
  }

  accept(fd: number, peer?: SockAddr): number {
    return this.accept4(fd, peer, 0);
  }

  /** accept4(2): flags SOCK_NONBLOCK and SOCK_CLOEXEC. */
  accept4(fd: number, peer: SockAddr | undefined, flags: number): number {
    const s = this.sock(fd);
    if (typeof s === 'number') return s;
    if ((flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) !== 0) return -Errno.EINVAL;
    if (!(s instanceof TcpSocketFile)) return -Errno.EOPNOTSUPP;
    // The descriptor is reserved first, so EMFILE leaves the connection queued (as Linux).
    if (s.listening && s.acceptReady && this.fds.count >= this.fds.limit) return -Errno.EMFILE;
    const c = s.acceptConn((flags & SOCK_NONBLOCK) !== 0, peer);
    return typeof c === 'number' ? c : this.fds.install(c);
  }

  read(fd: number, buf: Uint8Array): number {
    return this.recvfrom(fd, buf, 0);
  }

  write(fd: number, buf: Uint8Array): number {
    return this.sendto(fd, buf, 0);
  }

  recv(fd: number, buf: Uint8Array, flags = 0): number {
    return this.recvfrom(fd, buf, flags);
  }

  send(fd: number, buf: Uint8Array, flags = 0): number {
    return this.sendto(fd, buf, flags);
  }

  /** recvfrom(2): MSG_PEEK, MSG_DONTWAIT, MSG_TRUNC (datagrams: the real length). */
  recvfrom(fd: number, buf: Uint8Array, flags = 0, from?: SockAddr): number {
    const s = this.sock(fd);
    return typeof s === 'number' ? s : s.recv(buf, 0, buf.length, flags, from);
  }

  /** sendto(2): EPIPE instead of SIGPIPE always (MSG_NOSIGNAL is implied). */
  sendto(fd: number, buf: Uint8Array, flags = 0, to?: SockAddr): number {
    const s = this.sock(fd);
    return typeof s === 'number' ? s : s.send(buf, 0, buf.length, flags, to);
  }

  /** recvmsg(2): scatters into msg.iov; msg.flags gets MSG_TRUNC when a datagram was cut. */
  recvmsg(fd: number, msg: MsgHdr, flags = 0): number {
    const s = this.sock(fd);
    if (typeof s === 'number') return s;
    const total = msg.iov.reduce((n, b) => n + b.length, 0);
    const one = msg.iov.length === 1;
    const tmp = one ? msg.iov[0] : new Uint8Array(total);
    const isDgram = s instanceof UdpSocketFile;
    const r = s.recv(tmp, 0, total, isDgram ? flags | MSG_TRUNC : flags, msg.name);
    if (r < 0) return r;
    const n = Math.min(r, total);
    msg.flags = isDgram && r > total ? MSG_TRUNC : 0;
    if (!one) scatter(tmp, n, msg.iov);
    return isDgram && (flags & MSG_TRUNC) !== 0 ? r : n;
  }

  /** sendmsg(2): gathers msg.iov into one datagram or one stream write. */
  sendmsg(fd: number, msg: MsgHdr, flags = 0): number {
    const s = this.sock(fd);
    if (typeof s === 'number') return s;
    const buf = msg.iov.length === 1 ? msg.iov[0] : gather(msg.iov);
    return s.send(buf, 0, buf.length, flags, msg.name);
  }

  shutdown(fd: number, how: number): number {
    const s = this.sock(fd);
    return typeof s === 'number' ? s : s.shutdown(how);
  }

  getsockname(fd: number, out: SockAddr): number {
    const s = this.sock(fd);
    return typeof s === 'number' ? s : s.getsockname(out);
  }

  getpeername(fd: number, out: SockAddr): number {
    const s = this.sock(fd);
    return typeof s === 'number' ? s : s.getpeername(out);
  }

  setsockopt(fd: number, level: number, name: number, value: OptValue): number {
    const s = this.sock(fd);
    return typeof s === 'number' ? s : s.setsockopt(level, name, value);
  }

  /** The option's value (>= 0) or a negative errno; SO_LINGER fills `linger` and returns 0. */
  getsockopt(fd: number, level: number, name: number, linger?: Linger): number {
    const s = this.sock(fd);
    return typeof s === 'number' ? s : s.getsockopt(level, name, linger);
  }

  // ---- blocking forms ------------------------------------------------------------------------

  // Runs `op` until it stops saying EAGAIN, waiting for `mask` in between; at once for a
  // non-blocking socket or MSG_DONTWAIT.
  private async blocking(fd: number, mask: number, flags: number, op: () => number) {
    for (;;) {
      const s = this.sock(fd);
      if (typeof s === 'number') return s;
      const r = op();
      if (r !== -Errno.EAGAIN || s.nonBlocking || (flags & MSG_DONTWAIT) !== 0) return r;
      await s.waitFor(mask);
      if (this.fds.get(fd) !== s) return -Errno.EBADF;
    }
  }

  acceptAsync(fd: number, peer?: SockAddr, flags = 0): Promise<number> {
    return this.blocking(fd, EPOLLIN, 0, () => this.accept4(fd, peer, flags));
  }

  readAsync(fd: number, buf: Uint8Array, flags = 0): Promise<number> {
    return this.recvfromAsync(fd, buf, flags);
  }

  recvAsync(fd: number, buf: Uint8Array, flags = 0): Promise<number> {
    return this.recvfromAsync(fd, buf, flags);
  }

  recvfromAsync(fd: number, buf: Uint8Array, flags = 0, from?: SockAddr): Promise<number> {
    return this.blocking(fd, EPOLLIN, flags, () => this.recvfrom(fd, buf, flags, from));
  }

  /** A blocking send writes everything unless an error comes first (then what was written). */
  async writeAsync(fd: number, buf: Uint8Array, flags = 0): Promise<number> {
    return this.sendAsync(fd, buf, flags);
  }

  async sendAsync(fd: number, buf: Uint8Array, flags = 0, to?: SockAddr): Promise<number> {
    let done = 0;
    for (;;) {
      const rest = done === 0 ? buf : buf.subarray(done);
      const r = await this.blocking(fd, EPOLLOUT, flags, () => this.sendto(fd, rest, flags, to));
      if (r < 0) return done > 0 ? done : r;
      done += r;
      const s = this.sock(fd);
      if (done >= buf.length || !(s instanceof TcpSocketFile) || s.nonBlocking) return done;
    }
  }

  /** connect(2) on a blocking socket: 0 once established, or the error. */
  async connectAsync(fd: number, addr: SockAddr): Promise<number> {
    const s = this.sock(fd);
    if (typeof s === 'number') return s;
    const r = s.connect(addr);
    if (r !== -Errno.EINPROGRESS || s.nonBlocking || !(s instanceof TcpSocketFile)) return r;
    while (!s.connectSettled) {
      await s.waitFor(EPOLLOUT);
      if (this.fds.get(fd) !== s) return -Errno.EBADF;
    }
    return s.connect(addr);
  }

  // ---- epoll ---------------------------------------------------------------------------------

  /** epoll_create(2): `size` is only checked to be positive, as Linux does. */
  epollCreate(size = 1): number {
    if (size <= 0) return -Errno.EINVAL;
    return this.fds.install(new EpollFile());
  }

  /** epoll_create1(2): flags 0 or EPOLL_CLOEXEC (= O_CLOEXEC). */
  epollCreate1(flags = 0): number {
    if ((flags & ~SOCK_CLOEXEC) !== 0) return -Errno.EINVAL;
    return this.fds.install(new EpollFile());
  }

  /** epoll_ctl(2); `event.data` defaults to `fd`. */
  epollCtl(epfd: number, op: number, fd: number, event?: { events: number; data?: number }) {
    const ep = this.fds.get(epfd);
    const f = this.fds.get(fd);
    if (op !== EPOLL_CTL_DEL && event === undefined) return -Errno.EFAULT;
    if (ep === null || f === null) return -Errno.EBADF;
    if (!(ep instanceof EpollFile) || ep === f) return -Errno.EINVAL;
    const events = event?.events ?? 0;
    const data = event?.data ?? fd;
    switch (op) {
      case EPOLL_CTL_ADD: {
        if (ep.byFd.has(fd)) return -Errno.EEXIST;
        if (this.watchCount >= this.watchLimit) return -Errno.ENOSPC;
        const r = ep.add(fd, f, events, data);
        if (r === 0) this.watchCount++;
        return r;
      }
      case EPOLL_CTL_MOD:
        return ep.modify(fd, events, data);
      case EPOLL_CTL_DEL: {
        const r = ep.remove(fd);
        if (r === 0) this.watchCount--;
        return r;
      }
      default:
        return -Errno.EINVAL;
    }
  }

  /** epoll_wait(2) with timeout 0: up to `maxEvents` into `events`; the count or -errno. */
  epollWaitSync(epfd: number, events: EpollEvent[], maxEvents = events.length): number {
    const ep = this.fds.get(epfd);
    if (ep === null) return -Errno.EBADF;
    if (!(ep instanceof EpollFile)) return -Errno.EINVAL;
    if (!Number.isInteger(maxEvents) || maxEvents <= 0 || maxEvents > events.length) {
      return -Errno.EINVAL;
    }
    return ep.collect(events, maxEvents);
  }

  /**
   * epoll_wait(2): resolves with the count once events are ready, or 0 after `timeoutMs`
   * (wall-clock; -1 waits for ever, 0 does not wait).
   */
  async epollWait(
    epfd: number,
    events: EpollEvent[],
    maxEvents = events.length,
    timeoutMs = -1,
  ): Promise<number> {
    let n = this.epollWaitSync(epfd, events, maxEvents);
    if (n !== 0 || timeoutMs === 0) return n;
    const ep = this.fds.get(epfd) as EpollFile;
    return this.waitLoop([ep], [EPOLLIN], timeoutMs, () => {
      n = this.epollWaitSync(epfd, events, maxEvents);
      return n;
    });
  }

  // Waits on `files` until `attempt` returns non-zero or the timeout passes (then 0).
  private async waitLoop(
    files: SysFile[],
    masks: number[],
    timeoutMs: number,
    attempt: () => number,
  ): Promise<number> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let timedOut = false;
    const deadline =
      timeoutMs > 0
        ? new Promise<void>((resolve) => {
            timer = setTimeout(() => {
              timedOut = true;
              resolve();
            }, timeoutMs);
          })
        : null;
    try {
      for (;;) {
        const waits: Promise<void>[] = files.map((f, i) => f.waitFor(masks[i]));
        if (deadline !== null) waits.push(deadline);
        await Promise.race(waits);
        const n = attempt();
        if (n !== 0 || timedOut) return n;
      }
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  }

  // ---- poll and select -----------------------------------------------------------------------

  /** poll(2) with timeout 0: fills revents; negative fds are skipped, bad ones get POLLNVAL. */
  poll(fds: PollFd[]): number {
    let n = 0;
    for (const p of fds) {
      p.revents = 0;
      if (p.fd < 0) continue;
      const f = this.fds.get(p.fd);
      p.revents = f === null ? POLLNVAL : f.poll() & (p.events | POLLERR | POLLHUP);
      if (p.revents !== 0) n++;
    }
    return n;
  }

  /** poll(2) that waits up to `timeoutMs` (-1: for ever) for one of `fds` to be ready. */
  async pollAsync(fds: PollFd[], timeoutMs = -1): Promise<number> {
    const n = this.poll(fds);
    if (n !== 0 || timeoutMs === 0) return n;
    const files: SysFile[] = [];
    const masks: number[] = [];
    for (const p of fds) {
      const f = p.fd >= 0 ? this.fds.get(p.fd) : null;
      if (f !== null) {
        files.push(f);
        masks.push(p.events);
      }
    }
    return this.waitLoop(files, masks, timeoutMs, () => this.poll(fds));
  }

  /**
   * select(2) with a zero timeout over arrays of descriptors: each array is rewritten in place
   * to the ready ones (as fd_sets are); returns how many bits are set, or -EBADF.
   */
  select(readfds: number[] | null, writefds: number[] | null, exceptfds: number[] | null) {
    const sets: [number[] | null, number][] = [
      [readfds, SELECT_IN],
      [writefds, SELECT_OUT],
      [exceptfds, SELECT_EX],
    ];
    for (const [set] of sets) {
      if (set !== null) for (const fd of set) if (this.fds.get(fd) === null) return -Errno.EBADF;
    }
    let n = 0;
    for (const [set, bits] of sets) {
      if (set === null) continue;
      const ready = set.filter((fd) => ((this.fds.get(fd) as SysFile).poll() & bits) !== 0);
      set.length = 0;
      set.push(...ready);
      n += ready.length;
    }
    return n;
  }
}

function scatter(src: Uint8Array, n: number, iov: Uint8Array[]): void {
  let at = 0;
  for (const b of iov) {
    if (at >= n) break;
    const k = Math.min(b.length, n - at);
    b.set(src.subarray(at, at + k));
    at += k;
  }
}

function gather(iov: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(iov.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of iov) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

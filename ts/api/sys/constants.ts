// The numbers of Linux's socket, epoll and poll ABI (include/uapi/linux/*.h, x86_64), so code
// written against the BSD socket API reads the same here.

export const AF_INET = 2;
export const AF_INET6 = 10;

export const SOCK_STREAM = 1;
export const SOCK_DGRAM = 2;
/** Flags or'ed into socket()'s type and accept4()'s flags. */
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;

export const MSG_PEEK = 0x2;
export const MSG_TRUNC = 0x20;
export const MSG_DONTWAIT = 0x40;
/** Accepted for portability: this layer never raises signals, EPIPE is always returned. */
export const MSG_NOSIGNAL = 0x4000;

export const SHUT_RD = 0;
export const SHUT_WR = 1;
export const SHUT_RDWR = 2;

export const SOL_SOCKET = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_IPV6 = 41;

export const SO_REUSEADDR = 2;
export const SO_TYPE = 3;
export const SO_ERROR = 4;
export const SO_SNDBUF = 7;
export const SO_RCVBUF = 8;
export const SO_KEEPALIVE = 9;
export const SO_LINGER = 13;
export const SO_REUSEPORT = 15;

export const TCP_NODELAY = 1;
export const TCP_CORK = 3;
export const TCP_KEEPIDLE = 4;
export const TCP_KEEPINTVL = 5;
export const TCP_KEEPCNT = 6;
/** SYN retransmissions of this socket's connect() before ETIMEDOUT (tcp(7), 1..127). */
export const TCP_SYNCNT = 7;
export const TCP_QUICKACK = 12;
export const TCP_USER_TIMEOUT = 18;

export const IPV6_V6ONLY = 26;

export const EPOLLIN = 0x1;
/**
 * Accepted in epoll/poll masks and never reported: the TCP here ignores the urgent pointer (RFC
 * 6093 4: new applications should not use urgent data) and queues no out-of-band byte, so there is
 * never priority data to signal. select()'s except set is therefore always empty.
 */
export const EPOLLPRI = 0x2;
export const EPOLLOUT = 0x4;
export const EPOLLERR = 0x8;
export const EPOLLHUP = 0x10;
export const EPOLLRDNORM = 0x40;
export const EPOLLWRNORM = 0x100;
export const EPOLLRDHUP = 0x2000;
export const EPOLLEXCLUSIVE = 1 << 28;
export const EPOLLWAKEUP = 1 << 29;
export const EPOLLONESHOT = 1 << 30;
/** Bit 31: compare with `(events & EPOLLET) !== 0`, JS bitwise results are signed. */
export const EPOLLET = 1 << 31;

export const EPOLL_CTL_ADD = 1;
export const EPOLL_CTL_DEL = 2;
export const EPOLL_CTL_MOD = 3;

export const POLLIN = 0x1;
export const POLLPRI = 0x2;
export const POLLOUT = 0x4;
export const POLLERR = 0x8;
export const POLLHUP = 0x10;
export const POLLNVAL = 0x20;
export const POLLRDHUP = 0x2000;

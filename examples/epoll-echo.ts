// A Reactor-style TCP echo server on xdpnet's epoll API: one non-blocking listener, accept
// until EAGAIN, edge-triggered reads until EAGAIN, writes queued when the send buffer is full
// and flushed on EPOLLOUT. The module runs in every engine worker; each has its own
// descriptors and serves the connections RSS steers to it.
//   npx xdpnet run dist/examples/epoll-echo.js        then, from the peer:   nc <ip> 7
// Applications outside this package import from 'xdpnet' instead of '../ts/index.js'.
import { sys } from '../ts/index.js';

const port = Number(process.env.ECHO_PORT ?? 7);
const {
  AF_INET6,
  EPOLL_CTL_ADD,
  EPOLL_CTL_DEL,
  EPOLL_CTL_MOD,
  EPOLLERR,
  EPOLLET,
  EPOLLHUP,
  EPOLLIN,
  EPOLLOUT,
  EPOLLRDHUP,
  Errno,
  SOCK_NONBLOCK,
  SOCK_STREAM,
  SOL_SOCKET,
  SO_REUSEADDR,
} = sys;

/** Bytes read but not yet written back, per connection. */
const pending = new Map<number, Uint8Array>();
const buf = new Uint8Array(65536);

function fail(what: string, r: number): never {
  throw Object.assign(new Error(`epoll-echo: ${what}: ${sys.errnoName(r)}`), {
    code: sys.errnoName(r),
  });
}

// A dual-stack listener on [::] takes IPv4 and IPv6.
const lfd = sys.socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK);
if (lfd < 0) fail('socket', lfd);
sys.setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, 1);
let r = sys.bind(lfd, { family: AF_INET6, address: '::', port });
if (r < 0) fail('bind', r);
r = sys.listen(lfd, 511);
if (r < 0) fail('listen', r);
const ep = sys.epollCreate1();
sys.epollCtl(ep, EPOLL_CTL_ADD, lfd, { events: EPOLLIN });

function acceptAll(): void {
  for (;;) {
    const fd = sys.accept4(lfd, undefined, SOCK_NONBLOCK);
    if (fd === -Errno.EAGAIN) return;
    if (fd < 0) {
      process.stderr.write(`epoll-echo: accept: ${sys.errnoName(fd)}\n`);
      return;
    }
    sys.epollCtl(ep, EPOLL_CTL_ADD, fd, { events: EPOLLIN | EPOLLRDHUP | EPOLLET });
  }
}

function drop(fd: number): void {
  pending.delete(fd);
  sys.epollCtl(ep, EPOLL_CTL_DEL, fd);
  sys.close(fd);
}

// Writes what is queued for fd; true when everything went out.
function flush(fd: number): boolean {
  const out = pending.get(fd);
  if (out === undefined) return true;
  const n = sys.write(fd, out);
  if (n === -Errno.EAGAIN) return false;
  if (n < 0) {
    drop(fd);
    return false;
  }
  if (n < out.length) {
    pending.set(fd, out.subarray(n));
    return false;
  }
  pending.delete(fd);
  return true;
}

// Edge-triggered: read until EAGAIN, or no edge will come for what is left.
function serve(fd: number, events: number): void {
  if ((events & (EPOLLERR | EPOLLHUP)) !== 0) return drop(fd);
  if ((events & EPOLLOUT) !== 0 && flush(fd)) {
    sys.epollCtl(ep, EPOLL_CTL_MOD, fd, { events: EPOLLIN | EPOLLRDHUP | EPOLLET });
  }
  while (!pending.has(fd)) {
    const n = sys.read(fd, buf);
    if (n === -Errno.EAGAIN) return;
    if (n <= 0) return drop(fd); // 0: the peer finished; < 0: an error
    pending.set(fd, buf.slice(0, n));
    if (!flush(fd)) {
      // The send buffer is full: wait for EPOLLOUT before reading more (backpressure).
      sys.epollCtl(ep, EPOLL_CTL_MOD, fd, { events: EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET });
      return;
    }
  }
}

async function loop(): Promise<void> {
  const events = sys.epollEvents(256);
  for (;;) {
    const n = await sys.epollWait(ep, events, events.length, -1);
    if (n < 0) fail('epoll_wait', n);
    for (let i = 0; i < n; i++) {
      const { data: fd, events: ev } = events[i];
      if (fd === lfd) acceptAll();
      else serve(fd, ev);
    }
  }
}

void loop();

// Engine-side half of test/sys/kernel.test.ts: one linear program over the sys API (BSD sockets,
// epoll, poll, select) whose peer is the Linux kernel, driven step by step by the Python client in
// the peer namespace through one-byte signals on a control connection. What it observes goes as
// JSON to XDPNET_SYS_RESULT (the test asserts on it); a failure writes { error } instead.
//   port 7100  control / data connections     port 7102  listener for the reset-before-accept case
//   XDPNET_SYS_PEER:7200 kernel listener      XDPNET_SYS_PEER:7201 closed kernel port
import { writeFileSync } from 'node:fs';
import * as sys from '../../../ts/api/sys/index.js';

const {
  AF_INET,
  EPOLL_CTL_ADD,
  EPOLL_CTL_MOD,
  EPOLLET,
  EPOLLIN,
  EPOLLONESHOT,
  EPOLLOUT,
  EPOLLRDHUP,
  MSG_PEEK,
  POLLIN,
  POLLOUT,
  SO_ERROR,
  SOCK_NONBLOCK,
  SOCK_STREAM,
  SOL_SOCKET,
} = sys;

const resultFile = process.env.XDPNET_SYS_RESULT ?? '';
const peer = process.env.XDPNET_SYS_PEER ?? '';
const STEP_MS = 8000;
const out: Record<string, unknown> = {};
const ev = sys.epollEvents(16);

function must(r: number, what: string): number {
  if (r < 0) throw new Error(`${what}: ${sys.errnoName(r)}`);
  return r;
}

function listener(port: number): number {
  const fd = must(sys.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK), 'socket');
  must(sys.bind(fd, { family: AF_INET, address: '0.0.0.0', port }), `bind ${port}`);
  must(sys.listen(fd, 64), 'listen');
  return fd;
}

/** Waits (poll) until `fd` has one of `mask`; returns revents, 0 on timeout. */
async function ready(fd: number, mask: number, ms = STEP_MS): Promise<number> {
  const p = [{ fd, events: mask, revents: 0 }];
  return (await sys.pollAsync(p, ms)) > 0 ? p[0].revents : 0;
}

async function acceptOne(lfd: number): Promise<number> {
  if ((await ready(lfd, POLLIN)) === 0) throw new Error('no connection to accept');
  return must(sys.accept4(lfd, undefined, SOCK_NONBLOCK), 'accept4');
}

/** One epollWaitSync as { data: events } (data is the descriptor). */
function waitNow(ep: number): Record<number, number> {
  const n = must(sys.epollWaitSync(ep, ev), 'epoll_wait');
  const r: Record<number, number> = {};
  for (let i = 0; i < n; i++) r[ev[i].data] = ev[i].events;
  return r;
}

async function waitAsync(ep: number, ms = STEP_MS): Promise<Record<number, number>> {
  const n = must(await sys.epollWait(ep, ev, ev.length, ms), 'epoll_wait');
  const r: Record<number, number> = {};
  for (let i = 0; i < n; i++) r[ev[i].data] = ev[i].events;
  return r;
}

function signal(fd: number, byte: string): void {
  must(sys.write(fd, new TextEncoder().encode(byte)), `signal ${byte}`);
}

async function expectSignal(fd: number, byte: string): Promise<void> {
  if ((await ready(fd, POLLIN)) === 0) throw new Error(`no '${byte}' from the peer`);
  const b = new Uint8Array(1);
  const n = sys.read(fd, b);
  if (n !== 1 || String.fromCharCode(b[0]) !== byte) {
    throw new Error(`expected '${byte}', read ${n} ${String.fromCharCode(b[0])}`);
  }
}

/** Polls MSG_PEEK until `n` bytes wait (one segment may be split); returns the peeked count. */
async function peekUntil(fd: number, n: number): Promise<number> {
  const b = new Uint8Array(n);
  const end = Date.now() + STEP_MS;
  let got = sys.recv(fd, b, MSG_PEEK);
  while (got < n && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 5));
    got = sys.recv(fd, b, MSG_PEEK);
  }
  return got;
}

// ET / LT / ONESHOT, MSG_PEEK, poll / select / epoll agreement, RDHUP and read 0 after FIN.
async function triggers(lfd: number): Promise<void> {
  const c = await acceptOne(lfd);
  const lt = sys.epollCreate1();
  const et = sys.epollCreate1();
  const os = sys.epollCreate1();
  const both = sys.epollCreate1();
  must(sys.epollCtl(lt, EPOLL_CTL_ADD, c, { events: EPOLLIN }), 'ctl lt');
  must(sys.epollCtl(et, EPOLL_CTL_ADD, c, { events: EPOLLIN | EPOLLET }), 'ctl et');
  must(sys.epollCtl(os, EPOLL_CTL_ADD, c, { events: EPOLLIN | EPOLLONESHOT }), 'ctl os');
  must(sys.epollCtl(both, EPOLL_CTL_ADD, c, { events: EPOLLIN | EPOLLOUT }), 'ctl both');
  must(sys.epollCtl(both, EPOLL_CTL_ADD, lfd, { events: EPOLLIN | EPOLLOUT }), 'ctl both l');
  signal(c, '0');
  out.peek = [await peekUntil(c, 100), sys.recv(c, new Uint8Array(100), MSG_PEEK)];
  const ten = new Uint8Array(10);
  out.firstRead = sys.read(c, ten);
  out.firstBytes = new TextDecoder().decode(ten);
  out.partly = {
    lt: [waitNow(lt)[c] ?? 0, waitNow(lt)[c] ?? 0],
    et: [waitNow(et)[c] ?? 0, waitNow(et)[c] ?? 0],
    os: [waitNow(os)[c] ?? 0, waitNow(os)[c] ?? 0],
  };
  // The same state three ways: epoll (level), poll (with a -1 entry), select.
  const fds = [
    { fd: -1, events: POLLIN | POLLOUT, revents: 0 },
    { fd: c, events: POLLIN | POLLOUT, revents: 0 },
    { fd: lfd, events: POLLIN | POLLOUT, revents: 0 },
  ];
  const pollN = sys.poll(fds);
  const rd = [c, lfd];
  const wr = [c, lfd];
  const ex = [c, lfd];
  const selectN = sys.select(rd, wr, ex);
  out.agree = {
    epoll: waitNow(both),
    pollN,
    poll: fds.map((p) => p.revents),
    selectN,
    select: { rd, wr, ex },
    c,
    lfd,
  };
  signal(c, '1'); // the peer sends 50 more bytes
  out.newData = { et: (await waitAsync(et))[c] ?? 0 };
  await peekUntil(c, 140);
  const nd = out.newData as Record<string, number>;
  nd.os = waitNow(os)[c] ?? 0; // still disarmed
  must(sys.epollCtl(os, EPOLL_CTL_MOD, c, { events: EPOLLIN | EPOLLONESHOT }), 'rearm');
  nd.osRearmed = waitNow(os)[c] ?? 0;
  nd.osAfter = waitNow(os)[c] ?? 0;
  const buf = new Uint8Array(64);
  let drained = 0;
  let r: number;
  while ((r = sys.read(c, buf)) > 0) drained += r;
  out.drain = {
    bytes: drained,
    last: sys.errnoName(r),
    lt: waitNow(lt)[c] ?? 0,
    et: waitNow(et)[c] ?? 0,
  };
  // RDHUP: the peer's shutdown(SHUT_WR).
  const rdhup = sys.epollCreate1();
  must(sys.epollCtl(rdhup, EPOLL_CTL_ADD, c, { events: EPOLLRDHUP }), 'ctl rdhup');
  signal(c, '2');
  out.rdhup = (await waitAsync(rdhup))[c] ?? 0;
  out.readAfterFin = sys.read(c, buf);
  signal(c, '3'); // our direction still works after the peer's half-close
  for (const fd of [lt, et, os, both, rdhup, c]) sys.close(fd);
}

// accept(2) on a non-blocking listener whose queued connection the client reset: EAGAIN, and the
// listener keeps serving the next client.
async function resetBeforeAccept(lfd: number, l2: number): Promise<number> {
  const k = await acceptOne(lfd);
  const ep = sys.epollCreate1();
  must(sys.epollCtl(ep, EPOLL_CTL_ADD, l2, { events: EPOLLIN }), 'ctl l2');
  const seen = await waitAsync(ep);
  signal(k, 'r'); // the client resets its queued connection now
  await expectSignal(k, 'a');
  out.resetBeforeAccept = {
    readable: seen[l2] ?? 0,
    accept: sys.errnoName(sys.accept4(l2, undefined, SOCK_NONBLOCK)),
    after: waitNow(ep)[l2] ?? 0,
  };
  signal(k, 'b'); // the next client connects and sends "hi"
  const again = await waitAsync(ep);
  const s = must(sys.accept4(l2, undefined, SOCK_NONBLOCK), 'accept next');
  await ready(s, POLLIN);
  const hi = new Uint8Array(2);
  const n = sys.read(s, hi);
  (out.resetBeforeAccept as Record<string, unknown>).next = [again[l2] ?? 0, n];
  sys.write(s, hi.subarray(0, Math.max(0, n)));
  sys.close(s);
  sys.close(ep);
  return k;
}

// A connection registered with no events at all still reports ERR and HUP when the kernel resets
// it; SO_ERROR then has ECONNRESET, and a write gets EPIPE.
async function resetUnasked(lfd: number, k: number): Promise<void> {
  const e = await acceptOne(lfd);
  const ep = sys.epollCreate1();
  must(sys.epollCtl(ep, EPOLL_CTL_ADD, e, { events: 0 }), 'ctl unasked');
  signal(k, 'e'); // the client resets e now
  const got = (await waitAsync(ep))[e] ?? 0;
  const soError = sys.getsockopt(e, SOL_SOCKET, SO_ERROR);
  const write = sys.write(e, new Uint8Array([1, 2, 3]));
  out.reset = {
    events: got,
    soError,
    write: sys.errnoName(write),
    writeAgain: sys.errnoName(sys.write(e, new Uint8Array([1]))),
  };
  sys.close(e);
  sys.close(ep);
}

// Non-blocking connect to the kernel: EINPROGRESS, then writable with SO_ERROR 0 (listener) or
// ECONNREFUSED (closed port).
async function connects(): Promise<void> {
  const ep = sys.epollCreate1();
  const res: Record<string, unknown> = {};
  for (const [name, port] of [
    ['open', 7200],
    ['closed', 7201],
  ] as const) {
    const s = must(sys.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK), 'socket');
    const first = sys.connect(s, { family: AF_INET, address: peer, port });
    must(sys.epollCtl(ep, EPOLL_CTL_ADD, s, { events: EPOLLOUT }), 'ctl connect');
    const events = (await waitAsync(ep))[s] ?? 0;
    res[name] = {
      first: sys.errnoName(first),
      events,
      soError: sys.getsockopt(s, SOL_SOCKET, SO_ERROR),
    };
    if (name === 'open') {
      must(sys.write(s, new TextEncoder().encode('ping')), 'write ping');
      await ready(s, POLLIN);
      const b = new Uint8Array(8);
      (res.open as Record<string, unknown>).echo = new TextDecoder().decode(
        b.subarray(0, Math.max(0, sys.read(s, b))),
      );
    }
    sys.close(s);
  }
  sys.close(ep);
  out.connect = res;
}

async function main(): Promise<void> {
  const lfd = listener(7100);
  const l2 = listener(7102);
  try {
    await triggers(lfd);
    const k = await resetBeforeAccept(lfd, l2);
    await resetUnasked(lfd, k);
    await connects();
    sys.close(k);
  } catch (err) {
    out.error = (err as Error).message;
  }
  sys.close(lfd);
  sys.close(l2);
  writeFileSync(resultFile, JSON.stringify(out));
}

void main();

// epoll, poll and select over sockets on a memory pair: trigger modes, always-reported ERR and
// HUP, RDHUP, epoll_ctl's errors, and a wait whose cost follows the ready count.
import assert from 'node:assert/strict';
import {
  AF_INET,
  EPOLL_CTL_ADD,
  EPOLL_CTL_DEL,
  EPOLL_CTL_MOD,
  EPOLLERR,
  EPOLLET,
  EPOLLEXCLUSIVE,
  EPOLLHUP,
  EPOLLIN,
  EPOLLONESHOT,
  EPOLLOUT,
  EPOLLRDHUP,
  EPOLLRDNORM,
  EPOLLWRNORM,
  POLLIN,
  POLLNVAL,
  POLLOUT,
  SHUT_WR,
  SOCK_DGRAM,
  SOCK_NONBLOCK,
  SOCK_STREAM,
} from '../../ts/api/sys/constants.js';
import { type EpollEvent, type EpollFile, epollEvents } from '../../ts/api/sys/epoll.js';
import { Errno } from '../../ts/api/sys/errno.js';
import type { Sys } from '../../ts/api/sys/sys.js';
import { A4, B4, bytes, SysFixture, type SysBed } from './harness.js';
import { connected } from './socket.test.js';

const NB = SOCK_NONBLOCK;

function wait(s: Sys, ep: number, ev: EpollEvent[]): Map<number, number> {
  const n = s.epollWaitSync(ep, ev);
  assert.ok(n >= 0, `epollWaitSync: ${n}`);
  const out = new Map<number, number>();
  for (let i = 0; i < n; i++) out.set(ev[i].data, ev[i].events);
  return out;
}

async function readable(bed: SysBed, s: Sys, fd: number): Promise<void> {
  assert.ok(await bed.until(() => s.poll([{ fd, events: POLLIN, revents: 0 }]) === 1));
}

describe('sys: epoll, poll, select', function () {
  const fx = new SysFixture();
  afterEach(async () => fx.closeAndAudit());

  it('ET reports a partly read socket once, LT until drained', async () => {
    const bed = fx.open();
    const { cfd, sfd } = await connected(bed);
    const s = bed.b.sys;
    const lt = s.epollCreate();
    const et = s.epollCreate();
    const ev = epollEvents(8);
    assert.equal(s.epollCtl(lt, EPOLL_CTL_ADD, sfd, { events: EPOLLIN }), 0);
    assert.equal(s.epollCtl(et, EPOLL_CTL_ADD, sfd, { events: EPOLLIN | EPOLLET }), 0);
    assert.equal(wait(s, lt, ev).size, 0);
    assert.equal(wait(s, et, ev).size, 0);
    bed.a.sys.write(cfd, bytes('0123456789'));
    await readable(bed, s, sfd);
    assert.equal(wait(s, lt, ev).get(sfd), EPOLLIN);
    assert.equal(wait(s, et, ev).get(sfd), EPOLLIN);
    assert.equal(s.read(sfd, new Uint8Array(4)), 4); // partly read
    assert.equal(wait(s, lt, ev).get(sfd), EPOLLIN, 'LT: still readable');
    assert.equal(wait(s, lt, ev).get(sfd), EPOLLIN, 'LT: and again');
    assert.equal(wait(s, et, ev).size, 0, 'ET: no new data, no event');
    bed.a.sys.write(cfd, bytes('more'));
    assert.ok(await bed.until(() => s.epollWaitSync(et, ev) === 1));
    assert.equal(ev[0].data, sfd);
    assert.equal(wait(s, et, ev).size, 0, 'ET: reported once per arrival');
    const buf = new Uint8Array(64);
    assert.equal(s.read(sfd, buf), 10);
    assert.equal(s.read(sfd, buf), -Errno.EAGAIN);
    assert.equal(wait(s, lt, ev).size, 0, 'LT: drained, quiet');
  });

  it('ONESHOT reports once until re-armed with MOD', async () => {
    const bed = fx.open();
    const { cfd, sfd } = await connected(bed);
    const s = bed.b.sys;
    const ep = s.epollCreate1();
    const ev = epollEvents(4);
    s.epollCtl(ep, EPOLL_CTL_ADD, sfd, { events: EPOLLIN | EPOLLONESHOT, data: 77 });
    bed.a.sys.write(cfd, bytes('a'));
    await readable(bed, s, sfd);
    assert.equal(wait(s, ep, ev).get(77), EPOLLIN);
    assert.equal(wait(s, ep, ev).size, 0);
    bed.a.sys.write(cfd, bytes('b'));
    await bed.settle();
    assert.equal(wait(s, ep, ev).size, 0, 'disarmed: new data reports nothing');
    bed.a.sys.shutdown(cfd, SHUT_WR);
    await bed.settle();
    assert.equal(wait(s, ep, ev).size, 0, 'disarmed: not even HUP-like changes');
    assert.equal(
      s.epollCtl(ep, EPOLL_CTL_MOD, sfd, { events: EPOLLIN | EPOLLONESHOT, data: 78 }),
      0,
    );
    assert.equal(wait(s, ep, ev).get(78), EPOLLIN);
    assert.equal(wait(s, ep, ev).size, 0);
  });

  it('ERR and HUP arrive without being asked for', async () => {
    const bed = fx.open();
    const s = bed.a.sys;
    const ep = s.epollCreate();
    const ev = epollEvents(4);
    const fd = s.socket(AF_INET, SOCK_STREAM | NB);
    assert.equal(s.connect(fd, { family: AF_INET, address: B4, port: 9 }), -Errno.EINPROGRESS);
    assert.equal(s.epollCtl(ep, EPOLL_CTL_ADD, fd, { events: 0 }), 0);
    assert.equal(wait(s, ep, ev).size, 0);
    assert.ok(await bed.until(() => s.epollWaitSync(ep, ev) === 1));
    assert.equal(ev[0].events, EPOLLERR | EPOLLHUP);
    assert.equal(s.getsockopt(fd, 1, 4), Errno.ECONNREFUSED);
    assert.equal(wait(s, ep, ev).get(fd), EPOLLHUP, 'LT: HUP stays, ERR went with SO_ERROR');
  });

  it('RDHUP on the peer half-close; HUP only when both directions are shut', async () => {
    const bed = fx.open();
    const { cfd, sfd } = await connected(bed);
    const s = bed.b.sys;
    const ep = s.epollCreate();
    const ev = epollEvents(4);
    s.epollCtl(ep, EPOLL_CTL_ADD, sfd, { events: EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET });
    assert.equal(wait(s, ep, ev).get(sfd), EPOLLOUT);
    bed.a.sys.shutdown(cfd, SHUT_WR);
    assert.ok(await bed.until(() => s.epollWaitSync(ep, ev) === 1));
    assert.equal(ev[0].events, EPOLLIN | EPOLLOUT | EPOLLRDHUP);
    const pfd = [{ fd: sfd, events: POLLIN | EPOLLRDHUP, revents: 0 }];
    s.poll(pfd);
    assert.equal(pfd[0].revents, POLLIN | EPOLLRDHUP);
    s.shutdown(sfd, SHUT_WR);
    assert.ok(await bed.until(() => (s.poll(pfd), (pfd[0].revents & EPOLLHUP) !== 0)));
  });

  it('epoll_ctl errors: EEXIST, ENOENT, EINVAL, EBADF, ELOOP, ENOSPC, EFAULT', () => {
    const bed = fx.open({ watchLimit: 4 });
    const s = bed.a.sys;
    const ep = s.epollCreate();
    const u = s.socket(AF_INET, SOCK_DGRAM | NB);
    assert.equal(s.epollCreate(0), -Errno.EINVAL);
    assert.equal(s.epollCtl(ep, EPOLL_CTL_ADD, u, { events: EPOLLIN }), 0);
    assert.equal(s.epollCtl(ep, EPOLL_CTL_ADD, u, { events: EPOLLIN }), -Errno.EEXIST);
    const v = s.socket(AF_INET, SOCK_DGRAM | NB);
    assert.equal(s.epollCtl(ep, EPOLL_CTL_MOD, v, { events: EPOLLIN }), -Errno.ENOENT);
    assert.equal(s.epollCtl(ep, EPOLL_CTL_DEL, v), -Errno.ENOENT);
    assert.equal(s.epollCtl(ep, EPOLL_CTL_ADD, ep, { events: EPOLLIN }), -Errno.EINVAL);
    assert.equal(s.epollCtl(u, EPOLL_CTL_ADD, v, { events: EPOLLIN }), -Errno.EINVAL);
    assert.equal(s.epollCtl(ep, 9, v, { events: EPOLLIN }), -Errno.EINVAL);
    assert.equal(s.epollCtl(99, EPOLL_CTL_ADD, v, { events: EPOLLIN }), -Errno.EBADF);
    assert.equal(s.epollCtl(ep, EPOLL_CTL_ADD, 99, { events: EPOLLIN }), -Errno.EBADF);
    assert.equal(s.epollCtl(ep, EPOLL_CTL_ADD, v), -Errno.EFAULT);
    const exclusive = { events: EPOLLIN | EPOLLEXCLUSIVE };
    assert.equal(
      s.epollCtl(ep, EPOLL_CTL_ADD, v, { events: exclusive.events | EPOLLONESHOT }),
      -Errno.EINVAL,
    );
    assert.equal(s.epollCtl(ep, EPOLL_CTL_ADD, v, exclusive), 0, 'EPOLLEXCLUSIVE accepted');
    assert.equal(s.epollCtl(ep, EPOLL_CTL_MOD, v, { events: EPOLLIN }), -Errno.EINVAL);
    // Nesting: ep2 may watch ep, but then ep must not watch ep2.
    const ep2 = s.epollCreate();
    assert.equal(s.epollCtl(ep2, EPOLL_CTL_ADD, ep, { events: EPOLLIN }), 0);
    assert.equal(s.epollCtl(ep, EPOLL_CTL_ADD, ep2, { events: EPOLLIN }), -Errno.ELOOP);
    const w = s.socket(AF_INET, SOCK_DGRAM | NB);
    assert.equal(s.epollCtl(ep2, EPOLL_CTL_ADD, w, { events: EPOLLIN }), 0);
    assert.equal(s.watchCount, 4);
    const x = s.socket(AF_INET, SOCK_DGRAM | NB);
    assert.equal(s.epollCtl(ep2, EPOLL_CTL_ADD, x, { events: EPOLLIN }), -Errno.ENOSPC);
    assert.equal(s.epollCtl(ep, EPOLL_CTL_DEL, u), 0);
    assert.equal(s.epollCtl(ep2, EPOLL_CTL_ADD, x, { events: EPOLLIN }), 0);
    assert.equal(s.close(x), 0);
    assert.equal(s.watchCount, 3, 'closing a descriptor drops its watches');
    assert.equal(s.epollWaitSync(u, epollEvents(1)), -Errno.EINVAL);
    assert.equal(s.epollWaitSync(ep, epollEvents(1), 0), -Errno.EINVAL);
  });

  it('a nested epoll is readable when its watches are ready', async () => {
    const bed = fx.open();
    const { a, b } = bed;
    const rx = b.sys.socket(AF_INET, SOCK_DGRAM | NB);
    b.sys.bind(rx, { family: AF_INET, address: B4, port: 7000 });
    const inner = b.sys.epollCreate();
    const outer = b.sys.epollCreate();
    b.sys.epollCtl(inner, EPOLL_CTL_ADD, rx, { events: EPOLLIN });
    b.sys.epollCtl(outer, EPOLL_CTL_ADD, inner, { events: EPOLLIN });
    const ev = epollEvents(2);
    assert.equal(b.sys.epollWaitSync(outer, ev), 0);
    const tx = a.sys.socket(AF_INET, SOCK_DGRAM | NB);
    a.sys.sendto(tx, bytes('x'), 0, { family: AF_INET, address: B4, port: 7000 });
    const got = b.sys.epollWait(outer, ev, 2, -1);
    let n = -1;
    void got.then((r) => (n = r));
    assert.ok(await bed.until(() => n >= 0));
    assert.equal(n, 1);
    assert.deepEqual([ev[0].data, ev[0].events], [inner, EPOLLIN]);
    assert.equal(await b.sys.epollWait(outer, ev, 2, 5), 1, 'LT: still there');
    b.sys.read(rx, new Uint8Array(4));
    assert.equal(await b.sys.epollWait(outer, ev, 2, 5), 0, 'times out once drained');
  });

  it('poll ignores fd -1 and flags closed descriptors with POLLNVAL; select and poll agree with epoll', async () => {
    const bed = fx.open();
    const { cfd, sfd, lfd } = await connected(bed);
    const { a, b } = bed;
    const s = b.sys;
    // A listener with a pending connection, a socket with data, an idle UDP socket, a refused one.
    const c2 = a.sys.socket(AF_INET, SOCK_STREAM | NB);
    a.sys.connect(c2, { family: AF_INET, address: B4, port: 8080 });
    a.sys.write(cfd, bytes('data'));
    const u = s.socket(AF_INET, SOCK_DGRAM | NB);
    const refused = s.socket(AF_INET, SOCK_STREAM | NB);
    s.connect(refused, { family: AF_INET, address: A4, port: 9 });
    const closed = s.socket(AF_INET, SOCK_DGRAM);
    s.close(closed);
    const ep = s.epollCreate(); // takes the closed descriptor's number: the lowest free
    assert.equal(ep, closed);
    const bad = 999;
    await bed.until(
      () =>
        s.poll([
          { fd: lfd, events: POLLIN, revents: 0 },
          { fd: sfd, events: POLLIN, revents: 0 },
          { fd: refused, events: 0, revents: 0 },
        ]) === 3,
    );
    const fds = [lfd, sfd, u, refused];
    for (const fd of fds) s.epollCtl(ep, EPOLL_CTL_ADD, fd, { events: EPOLLIN | EPOLLOUT });
    const viaEpoll = wait(s, ep, epollEvents(8));
    const pfds = [-1, ...fds, bad].map((fd) => ({ fd, events: POLLIN | POLLOUT, revents: 7 }));
    const n = s.poll(pfds);
    assert.equal(pfds[0].revents, 0, 'fd -1 is ignored');
    assert.equal(pfds[pfds.length - 1].revents, POLLNVAL);
    assert.equal(n, fds.length + 1);
    for (const p of pfds.slice(1, -1)) {
      assert.equal(p.revents & ~(EPOLLRDNORM | EPOLLWRNORM), viaEpoll.get(p.fd), `fd ${p.fd}`);
    }
    assert.equal(viaEpoll.get(lfd), EPOLLIN);
    assert.equal(viaEpoll.get(sfd), EPOLLIN | EPOLLOUT);
    assert.equal(viaEpoll.get(u), EPOLLOUT);
    assert.equal(viaEpoll.get(refused), EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP);
    const r = [...fds];
    const w = [...fds];
    const x = [...fds];
    const total = s.select(r, w, x);
    const rdy = (mask: number) => fds.filter((fd) => ((viaEpoll.get(fd) ?? 0) & mask) !== 0);
    assert.deepEqual(r, rdy(EPOLLIN | EPOLLHUP | EPOLLERR));
    assert.deepEqual(w, rdy(EPOLLOUT | EPOLLERR));
    assert.deepEqual(x, []);
    assert.equal(total, r.length + w.length);
    assert.equal(s.select([bad], null, null), -Errno.EBADF);
  });

  it('epollWait visits only ready entries: 10 ready of 100,000 watched', async function () {
    this.timeout(120_000);
    const bed = fx.open({ fdLimit: 200_000, watchLimit: 200_000 });
    const { a, b } = bed;
    const s = b.sys;
    const ep = s.epollCreate();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < 100_000; i++) {
      const fd = s.socket(AF_INET, SOCK_DGRAM | NB);
      assert.equal(s.epollCtl(ep, EPOLL_CTL_ADD, fd, { events: EPOLLIN }), 0);
    }
    const hot: number[] = [];
    for (let i = 0; i < 10; i++) {
      const fd = s.socket(AF_INET, SOCK_DGRAM | NB);
      s.bind(fd, { family: AF_INET, address: B4, port: 9000 + i });
      s.epollCtl(ep, EPOLL_CTL_ADD, fd, { events: EPOLLIN | EPOLLET });
      hot.push(fd);
    }
    const t1 = process.hrtime.bigint();
    const tx = a.sys.socket(AF_INET, SOCK_DGRAM | NB);
    for (let i = 0; i < 10; i++) {
      a.sys.sendto(tx, bytes(`p${i}`), 0, { family: AF_INET, address: B4, port: 9000 + i });
    }
    const epf = s.fds.get(ep) as EpollFile;
    assert.ok(await bed.until(() => epf.queuedCount === 10));
    const before = epf.visited;
    const ev = epollEvents(64);
    const t2 = process.hrtime.bigint();
    const n = s.epollWaitSync(ep, ev);
    const t3 = process.hrtime.bigint();
    assert.equal(n, 10);
    assert.deepEqual(
      ev
        .slice(0, 10)
        .map((e) => e.data)
        .sort((x, y) => x - y),
      hot,
    );
    assert.equal(epf.visited - before, 10, 'the wait visited the 10 ready entries only');
    assert.equal(s.epollWaitSync(ep, ev), 0);
    assert.equal(epf.visited - before, 10, 'ET: nothing left on the ready list');
    console.log(
      `      100,010 watches added in ${Number(t1 - t0) / 1e6} ms; ` +
        `epollWaitSync with 10 ready: ${Number(t3 - t2) / 1e3} us`,
    );
  });
});

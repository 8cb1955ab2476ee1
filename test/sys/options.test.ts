// Socket options with effects beyond being stored, on a memory pair: SO_REUSEPORT groups spread
// connections over their listeners; SO_LINGER with a positive time (close returns at once and the
// data still goes; closeAsync waits for the ACK or the time, then leaves the connection be);
// EPOLLPRI accepted and never reported; every descriptor closed when the worker stops.
import assert from 'node:assert/strict';
import {
  AF_INET,
  EPOLL_CTL_ADD,
  EPOLLIN,
  EPOLLPRI,
  POLLIN,
  POLLPRI,
  SO_ERROR,
  SO_LINGER,
  SO_REUSEPORT,
  SOCK_NONBLOCK,
  SOCK_STREAM,
  SOL_SOCKET,
} from '../../ts/api/sys/constants.js';
import { epollEvents } from '../../ts/api/sys/epoll.js';
import { Errno } from '../../ts/api/sys/errno.js';
import { currentSys } from '../../ts/api/sys/index.js';
import type { Sys } from '../../ts/api/sys/sys.js';
import { runWorkerStopHooks, setWorkerStack } from '../../ts/api/worker-stack.js';
import { TcpState } from '../../ts/socket/tcp/state.js';
import { A4, B4, SysFixture, type SysBed } from './harness.js';

const NB = SOCK_NONBLOCK;

function listenOn(s: Sys, port: number, reusePort: boolean): number {
  const fd = s.socket(AF_INET, SOCK_STREAM | NB);
  if (reusePort) assert.equal(s.setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, 1), 0);
  const r = s.bind(fd, { family: AF_INET, address: '0.0.0.0', port });
  if (r < 0) return r;
  assert.equal(s.listen(fd, 64), 0);
  return fd;
}

/** A connects to B:port from A:fromPort (0: ephemeral); resolves with A's fd once established. */
async function dial(bed: SysBed, port: number, fromPort = 0): Promise<number> {
  const s = bed.a.sys;
  const fd = s.socket(AF_INET, SOCK_STREAM | NB);
  if (fromPort > 0) assert.equal(s.bind(fd, { family: AF_INET, address: A4, port: fromPort }), 0);
  const to = { family: AF_INET, address: B4, port };
  assert.equal(s.connect(fd, to), -Errno.EINPROGRESS);
  assert.ok(await bed.until(() => s.connect(fd, to) !== -Errno.EALREADY));
  assert.equal(s.connect(fd, to), -Errno.EISCONN);
  return fd;
}

/** What a connect to B:port ends with (0, or the error it took). */
async function refused(bed: SysBed, port: number): Promise<number> {
  const s = bed.a.sys;
  const fd = s.socket(AF_INET, SOCK_STREAM | NB);
  const to = { family: AF_INET, address: B4, port };
  assert.equal(s.connect(fd, to), -Errno.EINPROGRESS);
  let r = -Errno.EALREADY;
  assert.ok(await bed.until(() => (r = s.connect(fd, to)) !== -Errno.EALREADY));
  s.close(fd);
  return r;
}

/** Accepts everything queued on `lfd`. */
function acceptAll(s: Sys, lfd: number): number[] {
  const out: number[] = [];
  for (let fd; (fd = s.accept4(lfd, undefined, NB)) >= 0;) out.push(fd);
  return out;
}

/** Reads `fd` until end of stream or an error; the byte count, or the negative errno. */
async function readToEnd(bed: SysBed, s: Sys, fd: number): Promise<number> {
  const buf = new Uint8Array(65536);
  let total = 0;
  let last = 1;
  assert.ok(
    await bed.until(() => {
      while ((last = s.read(fd, buf)) > 0) total += last;
      return last !== -Errno.EAGAIN;
    }, 20000),
  );
  return last < 0 ? last : total;
}

/** Writes until the send buffer is full; the byte count. */
function fill(s: Sys, fd: number, limit: number): number {
  const chunk = new Uint8Array(16384).fill(0x6b);
  let total = 0;
  for (let n; total < limit && (n = s.write(fd, chunk)) > 0;) total += n;
  return total;
}

describe('sys: SO_REUSEPORT, SO_LINGER, EPOLLPRI, closing on worker stop', function () {
  const fx = new SysFixture();
  afterEach(async () => fx.closeAndAudit());

  it('SO_REUSEPORT: listeners share a port and the connections are spread over them', async () => {
    const bed = fx.open();
    const s = bed.b.sys;
    const group = [listenOn(s, 9000, true), listenOn(s, 9000, true), listenOn(s, 9000, true)];
    for (const fd of group) assert.ok(fd >= 0, `listen: ${fd}`);
    // One without SO_REUSEPORT may not join them (Linux inet_csk_bind_conflict).
    assert.equal(listenOn(s, 9000, false), -Errno.EADDRINUSE);
    const clients: number[] = [];
    for (let i = 0; i < 24; i++) clients.push(await dial(bed, 9000, 41000 + i));
    await bed.settle();
    const pfds = group.map((fd) => ({ fd, events: POLLIN, revents: 0 }));
    assert.equal(s.poll(pfds), 3, 'every member has a connection waiting');
    const counts = group.map((fd) => acceptAll(s, fd).length);
    assert.equal(
      counts.reduce((x, y) => x + y, 0),
      24,
    );
    for (const n of counts) assert.ok(n >= 2, `spread: ${counts.join(' ')}`);
    // A member that closes resets what it had not accepted; the others keep serving.
    for (let i = 0; i < 12; i++) clients.push(await dial(bed, 9000, 42000 + i));
    await bed.settle();
    const waiting = [0, 1, 2].map((i) => s.poll([{ fd: group[i], events: POLLIN, revents: 0 }]));
    assert.equal(s.close(group[0]), 0);
    const late = await dial(bed, 9000, 43000);
    await bed.settle();
    const served = acceptAll(s, group[1]).length + acceptAll(s, group[2]).length;
    assert.ok(served >= 1, 'the remaining members accept');
    const reset = clients
      .slice(24)
      .concat(late)
      .filter((fd) => bed.a.sys.getsockopt(fd, SOL_SOCKET, SO_ERROR) === Errno.ECONNRESET);
    assert.equal(served + reset.length, 13, `waiting before close ${waiting.join(' ')}`);
    // The last member closes the shared listener: new connections are refused.
    s.close(group[1]);
    s.close(group[2]);
    assert.equal(await refused(bed, 9000), -Errno.ECONNREFUSED);
  });

  it('without SO_REUSEPORT on all of them a second listener gets EADDRINUSE', () => {
    const bed = fx.open();
    const s = bed.b.sys;
    assert.ok(listenOn(s, 9001, false) >= 0);
    assert.equal(listenOn(s, 9001, false), -Errno.EADDRINUSE);
    assert.equal(listenOn(s, 9001, true), -Errno.EADDRINUSE);
    assert.ok(listenOn(s, 9002, true) >= 0);
    assert.equal(listenOn(s, 9002, false), -Errno.EADDRINUSE);
  });

  it('SO_LINGER {1, 5}: close() returns at once and the peer still gets every byte', async () => {
    const bed = fx.open();
    const lfd = listenOn(bed.b.sys, 9010, false);
    const cfd = await dial(bed, 9010);
    await bed.settle();
    const [sfd] = acceptAll(bed.b.sys, lfd);
    const a = bed.a.sys;
    assert.equal(a.setsockopt(cfd, SOL_SOCKET, SO_LINGER, { onoff: 1, linger: 5 }), 0);
    const sent = fill(a, cfd, 256 * 1024);
    assert.ok(sent > 0);
    const t0 = bed.clock.now();
    assert.equal(a.close(cfd), 0);
    assert.equal(bed.clock.now(), t0);
    assert.equal(await readToEnd(bed, bed.b.sys, sfd), sent);
  });

  it('SO_LINGER {1, 5}: closeAsync resolves once the peer acknowledged everything', async () => {
    const bed = fx.open();
    const lfd = listenOn(bed.b.sys, 9011, false);
    const cfd = await dial(bed, 9011);
    await bed.settle();
    const [sfd] = acceptAll(bed.b.sys, lfd);
    const a = bed.a.sys;
    a.setsockopt(cfd, SOL_SOCKET, SO_LINGER, { onoff: 1, linger: 5 });
    const conn = a.fds.get(cfd) as unknown as { conn: { tcb: { state: number } } };
    const tcb = conn.conn.tcb;
    const sent = fill(a, cfd, 200 * 1024);
    const t0 = bed.clock.now();
    let closed: number | null = null;
    void a.closeAsync(cfd).then((r) => (closed = r));
    assert.equal(a.fds.get(cfd), null, 'the descriptor is gone at once');
    const got = await readToEnd(bed, bed.b.sys, sfd);
    assert.ok(await bed.until(() => closed !== null, 20000));
    assert.equal(closed, 0);
    assert.equal(got, sent);
    assert.ok(bed.clock.now() - t0 < 5000, `lingered ${bed.clock.now() - t0} ms`);
    assert.ok(
      tcb.state === TcpState.FinWait2 || tcb.state === TcpState.TimeWait,
      `state ${tcb.state}`,
    );
  });

  it('SO_LINGER {1, 2}: closeAsync gives up after 2 s; the data still arrives (no RST)', async () => {
    const bed = fx.open();
    const lfd = listenOn(bed.b.sys, 9012, false);
    const cfd = await dial(bed, 9012);
    await bed.settle();
    const [sfd] = acceptAll(bed.b.sys, lfd);
    const a = bed.a.sys;
    a.setsockopt(cfd, SOL_SOCKET, SO_LINGER, { onoff: 1, linger: 2 });
    // The peer does not read: its window closes and our FIN waits behind unsent data.
    let sent = 0;
    for (let i = 0; i < 50; i++) {
      sent += fill(a, cfd, 1 << 24);
      await bed.settle(2);
    }
    const tcb = (a.fds.get(cfd) as unknown as { conn: { tcb: { state: number } } }).conn.tcb;
    const t0 = bed.clock.now();
    let closed: number | null = null;
    let stateThen = -1;
    void a.closeAsync(cfd).then((r) => {
      closed = r;
      stateThen = tcb.state;
    });
    assert.ok(await bed.until(() => closed !== null, 50000));
    assert.equal(closed, 0);
    // It gave up on time, not because the FIN was acknowledged.
    assert.ok(bed.clock.now() - t0 >= 2000, `lingered ${bed.clock.now() - t0} ms`);
    assert.equal(stateThen, TcpState.FinWait1);
    assert.equal(await readToEnd(bed, bed.b.sys, sfd), sent);
  });

  it('EPOLLPRI is accepted in masks and never reported (no urgent data in this TCP)', async () => {
    const bed = fx.open();
    const lfd = listenOn(bed.b.sys, 9020, false);
    const cfd = await dial(bed, 9020);
    await bed.settle();
    const [sfd] = acceptAll(bed.b.sys, lfd);
    const s = bed.b.sys;
    const ep = s.epollCreate1();
    assert.equal(s.epollCtl(ep, EPOLL_CTL_ADD, sfd, { events: EPOLLIN | EPOLLPRI }), 0);
    bed.a.sys.write(cfd, new Uint8Array([1, 2, 3]));
    const ev = epollEvents(4);
    assert.ok(await bed.until(() => s.epollWaitSync(ep, ev) === 1));
    assert.equal(ev[0].events, EPOLLIN);
    const pfd = [{ fd: sfd, events: POLLIN | POLLPRI, revents: 0 }];
    assert.equal(s.poll(pfd), 1);
    assert.equal(pfd[0].revents, POLLIN);
    const ex = [sfd];
    assert.equal(s.select(null, null, ex), 0);
    assert.deepEqual(ex, []);
  });

  it('closeAll on worker stop closes every descriptor: the peer sees FIN, the port is closed', async () => {
    const bed = fx.open();
    const { b } = bed;
    setWorkerStack({ workerId: 0, workerCount: 1, iface: b.iface, udp: b.udp, tcp: b.tcp });
    try {
      const sys = currentSys();
      const lfd = listenOn(sys, 9030, false);
      const cfd = await dial(bed, 9030);
      await bed.settle();
      assert.equal(acceptAll(sys, lfd).length, 1);
      sys.epollCreate1();
      assert.equal(sys.fds.count, 3);
      runWorkerStopHooks();
      assert.equal(sys.fds.count, 0);
      assert.equal(await readToEnd(bed, bed.a.sys, cfd), 0); // FIN, not RST
      assert.equal(await refused(bed, 9030), -Errno.ECONNREFUSED);
    } finally {
      setWorkerStack(undefined);
    }
  });
});

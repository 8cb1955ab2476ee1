// TIME-WAIT and the ports it holds, as Linux decides (memory pair, virtual time): bind() without
// SO_REUSEADDR fails with EADDRINUSE on a port a TIME-WAIT connection uses (inet_csk_bind_conflict
// counts TIME-WAIT sockets; listen() is too late to say so). A connect over a TIME-WAIT 4-tuple
// (Linux tcp_twsk_unique): from a port the socket bound, it takes the TIME-WAIT over when that
// had timestamps, else EADDRNOTAVAIL; from a port the connect picks, only with the stack's
// twReuse (tcp_tw_reuse=1) and TS.Recent more than 1 s old, else the port is not used (here the
// only one: EADDRNOTAVAIL). test/tcp-kernel/time-wait-binds.test.ts runs the same steps on the
// Linux kernel.
import assert from 'node:assert/strict';
import {
  AF_INET,
  SO_REUSEADDR,
  SOCK_NONBLOCK,
  SOCK_STREAM,
  SOL_SOCKET,
} from '../../ts/api/sys/constants.js';
import { Errno } from '../../ts/api/sys/errno.js';
import type { Sys } from '../../ts/api/sys/sys.js';
import { TcpState } from '../../ts/socket/tcp/state.js';
import type { TcpConn } from '../../ts/socket/tcp/tcp-conn.js';
import { A4, B4, SysFixture, type SysBed } from './harness.js';

const NB = SOCK_NONBLOCK;

function socketOn(s: Sys, reuseAddr: boolean): number {
  const fd = s.socket(AF_INET, SOCK_STREAM | NB);
  if (reuseAddr) assert.equal(s.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, 1), 0);
  return fd;
}

function listenOn(s: Sys, address: string, port: number): number {
  const fd = socketOn(s, false);
  assert.equal(s.bind(fd, { family: AF_INET, address, port }), 0);
  assert.equal(s.listen(fd, 64), 0);
  return fd;
}

/** connect() until it is no longer in progress: 0 when connected, else the error. */
async function connected(bed: SysBed, s: Sys, fd: number, port: number): Promise<number> {
  const to = { family: AF_INET, address: B4, port };
  let r = s.connect(fd, to);
  if (r !== -Errno.EINPROGRESS) return r;
  assert.ok(await bed.until(() => (r = s.connect(fd, to)) !== -Errno.EALREADY, 20000));
  return r === -Errno.EISCONN ? 0 : r;
}

function timeWaits(bed: SysBed, port: number): TcpConn[] {
  return [...bed.a.tcp.allConnections()].filter(
    (c) => c.localPort === port && c.tcb.state === TcpState.TimeWait,
  );
}

/**
 * A (bound to `port` with SO_REUSEADDR) connects to B's listener, they exchange a byte, A closes
 * first and B closes back: A holds the 4-tuple in TIME-WAIT.
 */
async function leaveTimeWait(bed: SysBed, lfd: number, port: number, to: number): Promise<void> {
  const a = bed.a.sys;
  const b = bed.b.sys;
  const fd = socketOn(a, true);
  // port 0: the connect picks it (from the stack's one-port ephemeral range in those tests).
  if (port !== 0) assert.equal(a.bind(fd, { family: AF_INET, address: A4, port }), 0);
  assert.equal(await connected(bed, a, fd, to), 0);
  let sfd = -1;
  assert.ok(await bed.until(() => (sfd = b.accept4(lfd, undefined, NB)) >= 0));
  assert.equal(a.write(fd, Uint8Array.of(1)), 1);
  const buf = new Uint8Array(16);
  assert.ok(await bed.until(() => b.read(sfd, buf) === 1));
  assert.equal(a.close(fd), 0);
  assert.ok(await bed.until(() => b.read(sfd, buf) === 0), 'B reads our FIN');
  assert.equal(b.close(sfd), 0);
  assert.ok(
    await bed.until(() => timeWaits(bed, port === 0 ? EPHEMERAL : port).length === 1),
    'A in TIME-WAIT',
  );
}

/** The stack's ephemeral range in the tests of ports the connect picks: this one port. */
const EPHEMERAL = 45200;

describe('sys: TIME-WAIT ports: bind EADDRINUSE, connect over TIME-WAIT (twReuse)', function () {
  const fx = new SysFixture();
  afterEach(async () => fx.closeAndAudit());

  it('bind() without SO_REUSEADDR fails with EADDRINUSE on a port in TIME-WAIT', async () => {
    const bed = fx.open();
    const lfd = listenOn(bed.b.sys, B4, 9300);
    await leaveTimeWait(bed, lfd, 45000, 9300);
    const a = bed.a.sys;
    const plain = socketOn(a, false);
    assert.equal(
      a.bind(plain, { family: AF_INET, address: '0.0.0.0', port: 45000 }),
      -Errno.EADDRINUSE,
      'bind itself fails, as Linux',
    );
    const reuse = socketOn(a, true);
    assert.equal(a.bind(reuse, { family: AF_INET, address: '0.0.0.0', port: 45000 }), 0);
    assert.equal(a.listen(reuse, 8), 0, 'a server restarts over its TIME-WAIT with SO_REUSEADDR');
    assert.equal(a.bind(socketOn(a, false), { family: AF_INET, address: A4, port: 45001 }), 0);
  });

  it('a bound port takes over its TIME-WAIT (timestamps on) at once, past its sequence space', async () => {
    const bed = fx.open();
    const lfd = listenOn(bed.b.sys, B4, 9301);
    await leaveTimeWait(bed, lfd, 45010, 9301);
    const oldSndNxt = timeWaits(bed, 45010)[0].tcb.sndNxt;
    const a = bed.a.sys;
    const fd = socketOn(a, true);
    assert.equal(a.bind(fd, { family: AF_INET, address: A4, port: 45010 }), 0);
    assert.equal(await connected(bed, a, fd, 9301), 0, 'connected over the TIME-WAIT');
    assert.equal(timeWaits(bed, 45010).length, 0);
    assert.equal(bed.a.tcp.stats.timeWaitReused, 1);
    const now = [...bed.a.tcp.allConnections()].find((c) => c.localPort === 45010)!;
    assert.ok(
      ((now.tcb.iss - oldSndNxt) | 0) > 65535,
      'the new ISS is past the old sequence space',
    );
    let sfd = -1;
    assert.ok(await bed.until(() => (sfd = bed.b.sys.accept4(lfd, undefined, NB)) >= 0));
    assert.equal(a.write(fd, Uint8Array.of(7, 8)), 2);
    const buf = new Uint8Array(4);
    assert.ok(await bed.until(() => bed.b.sys.read(sfd, buf) === 2));
    assert.deepEqual([...buf.subarray(0, 2)], [7, 8]);
  });

  it('a bound port does not take over a TIME-WAIT without timestamps: EADDRNOTAVAIL', async () => {
    const bed = fx.open({}, { config: { twReuse: true, timestamps: false } });
    const lfd = listenOn(bed.b.sys, B4, 9303);
    await leaveTimeWait(bed, lfd, 45030, 9303);
    bed.clock.advanceTo(bed.clock.now() + 5000);
    const a = bed.a.sys;
    const fd = socketOn(a, true);
    assert.equal(a.bind(fd, { family: AF_INET, address: A4, port: 45030 }), 0);
    assert.equal(await connected(bed, a, fd, 9303), -Errno.EADDRNOTAVAIL);
    assert.equal(timeWaits(bed, 45030).length, 1, 'the TIME-WAIT stays');
  });

  it('a picked port over a TIME-WAIT: EADDRNOTAVAIL without twReuse, even after 1 s', async () => {
    const bed = fx.open({}, { ephemeralRange: [EPHEMERAL, EPHEMERAL] });
    const lfd = listenOn(bed.b.sys, B4, 9304);
    await leaveTimeWait(bed, lfd, 0, 9304);
    bed.clock.advanceTo(bed.clock.now() + 2000);
    const a = bed.a.sys;
    assert.equal(await connected(bed, a, socketOn(a, false), 9304), -Errno.EADDRNOTAVAIL);
    assert.equal(timeWaits(bed, EPHEMERAL).length, 1, 'the TIME-WAIT stays');
  });

  it('twReuse: a picked port takes over a TIME-WAIT older than 1 s, not a younger one', async () => {
    const bed = fx.open({}, { ephemeralRange: [EPHEMERAL, EPHEMERAL], config: { twReuse: true } });
    const lfd = listenOn(bed.b.sys, B4, 9302);
    await leaveTimeWait(bed, lfd, 0, 9302);
    const a = bed.a.sys;
    assert.equal(await connected(bed, a, socketOn(a, false), 9302), -Errno.EADDRNOTAVAIL);
    bed.clock.advanceTo(bed.clock.now() + 1100);
    const fd = socketOn(a, false);
    assert.equal(await connected(bed, a, fd, 9302), 0, 'connected over the TIME-WAIT');
    assert.equal(timeWaits(bed, EPHEMERAL).length, 0);
    assert.equal(bed.a.tcp.stats.timeWaitReused, 1);
    let sfd = -1;
    assert.ok(await bed.until(() => (sfd = bed.b.sys.accept4(lfd, undefined, NB)) >= 0));
    assert.equal(a.write(fd, Uint8Array.of(9)), 1);
    const buf = new Uint8Array(4);
    assert.ok(await bed.until(() => bed.b.sys.read(sfd, buf) === 1));
  });
});

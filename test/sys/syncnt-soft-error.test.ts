// TCP_SYNCNT and SO_ERROR's soft error on a memory pair in virtual time. TCP_SYNCNT bounds the SYN
// retransmissions of connect() (Linux icsk_syn_retries, 1..127, else EINVAL; read back as the
// stack's default until set). SO_ERROR returns the pending error, else takes the soft error an
// open connection keeps from an ICMP unreachable (Linux sk_getsockopt: sock_error(sk), then
// xchg(&sk->sk_err_soft, 0)).
import assert from 'node:assert/strict';
import {
  AF_INET,
  IPPROTO_TCP,
  SO_ERROR,
  SOCK_NONBLOCK,
  SOCK_STREAM,
  SOL_SOCKET,
  TCP_SYNCNT,
} from '../../ts/api/sys/constants.js';
import { Errno } from '../../ts/api/sys/errno.js';
import type { Sys } from '../../ts/api/sys/sys.js';
import type { TcpSocketFile } from '../../ts/api/sys/tcp-socket.js';
import { TcpState } from '../../ts/socket/tcp/state.js';
import { A4, B4, bytes, SysFixture } from './harness.js';
import { sendIcmp4Unreachable } from '../support/icmp4-unreachable.js';

const NB = SOCK_NONBLOCK;

// bed.until() may evaluate its condition twice per round: wait on state, then make the call.
function file(s: Sys, fd: number): TcpSocketFile {
  return s.fds.get(fd) as TcpSocketFile;
}

describe('sys: TCP_SYNCNT and SO_ERROR soft errors', () => {
  const fx = new SysFixture();
  afterEach(() => fx.closeAndAudit());

  it('TCP_SYNCNT reads the default, takes 1..127 (EINVAL outside) and bounds connect()', async () => {
    const bed = fx.open();
    const s = bed.a.sys;
    const fd = s.socket(AF_INET, SOCK_STREAM | NB);
    assert.equal(s.getsockopt(fd, IPPROTO_TCP, TCP_SYNCNT), 6, 'tcp_syn_retries default');
    for (const bad of [0, -1, 128]) {
      assert.equal(s.setsockopt(fd, IPPROTO_TCP, TCP_SYNCNT, bad), -Errno.EINVAL, String(bad));
    }
    assert.equal(s.setsockopt(fd, IPPROTO_TCP, TCP_SYNCNT, 2), 0);
    assert.equal(s.getsockopt(fd, IPPROTO_TCP, TCP_SYNCNT), 2);

    // B hears nothing: every SYN is lost.
    bed.pair.a.setFaults({ lossRate: 1 });
    const out0 = bed.a.tcp.stats.outSegs;
    const t0 = bed.clock.now();
    const to = { family: AF_INET, address: B4, port: 7100 };
    assert.equal(s.connect(fd, to), -Errno.EINPROGRESS);
    assert.ok(await bed.until(() => file(s, fd).connectSettled, 20_000));
    assert.equal(s.connect(fd, to), -Errno.ETIMEDOUT);
    assert.equal(bed.a.tcp.stats.outSegs - out0, 1 + 2, 'the SYN and 2 retransmissions');
    // RTO 1 s, doubling: the third wait ends at 1 + 2 + 4 s (Linux gives up after the same).
    const elapsed = bed.clock.now() - t0;
    assert.ok(elapsed >= 7000 && elapsed < 8000, `gave up after ${elapsed} ms`);
    s.close(fd);
  });

  it('TCP_SYNCNT set during a connect applies to the SYNs still to come', async () => {
    const bed = fx.open();
    const s = bed.a.sys;
    const fd = s.socket(AF_INET, SOCK_STREAM | NB);
    bed.pair.a.setFaults({ lossRate: 1 });
    const out0 = bed.a.tcp.stats.outSegs;
    const to = { family: AF_INET, address: B4, port: 7101 };
    assert.equal(s.connect(fd, to), -Errno.EINPROGRESS);
    assert.equal(s.setsockopt(fd, IPPROTO_TCP, TCP_SYNCNT, 1), 0);
    assert.ok(await bed.until(() => file(s, fd).connectSettled, 20_000));
    assert.equal(s.connect(fd, to), -Errno.ETIMEDOUT);
    assert.equal(bed.a.tcp.stats.outSegs - out0, 2);
    s.close(fd);
  });

  it('SO_ERROR takes the soft error of an open connection once; the connection goes on', async () => {
    const bed = fx.open();
    const sa = bed.a.sys;
    const sb = bed.b.sys;
    const lfd = sb.socket(AF_INET, SOCK_STREAM | NB);
    assert.equal(sb.bind(lfd, { family: AF_INET, address: B4, port: 7102 }), 0);
    assert.equal(sb.listen(lfd, 8), 0);
    const fd = sa.socket(AF_INET, SOCK_STREAM | NB);
    const to = { family: AF_INET, address: B4, port: 7102 };
    assert.equal(sa.connect(fd, to), -Errno.EINPROGRESS);
    assert.ok(await bed.until(() => file(sa, fd).connectSettled));
    assert.equal(sa.connect(fd, to), 0);
    assert.equal(sa.getsockopt(fd, SOL_SOCKET, SO_ERROR), 0, 'nothing pending yet');
    assert.ok(await bed.until(() => file(sb, lfd).acceptReady));
    const bfd = sb.accept4(lfd, undefined, NB);
    assert.ok(bfd >= 0);

    // Data in flight that B does not acknowledge, and an ICMP host unreachable quoting it.
    bed.pair.a.setFaults({ lossRate: 1 });
    const conn = file(sa, fd).conn!;
    assert.equal(sa.write(fd, bytes('hello')), 5);
    await bed.round();
    sendIcmp4Unreachable(bed.b, A4, 1, 0, {
      src: A4,
      dst: B4,
      sport: conn.localPort,
      dport: 7102,
      seq: conn.tcb.sndUna,
    });
    await bed.settle(2);
    assert.equal(conn.tcb.state, TcpState.Established, 'soft: RFC 1122 4.2.3.9');
    assert.equal(conn.tcb.softError, 'EHOSTUNREACH');

    assert.equal(sa.getsockopt(fd, SOL_SOCKET, SO_ERROR), Errno.EHOSTUNREACH);
    assert.equal(sa.getsockopt(fd, SOL_SOCKET, SO_ERROR), 0, 'read once, as xchg clears it');
    assert.equal(conn.tcb.softError, null);

    // The path heals: the data arrives and the connection works on.
    bed.pair.a.setFaults({ lossRate: 0 });
    const buf = new Uint8Array(16);
    assert.ok(await bed.until(() => file(sb, bfd).conn!.tcb.readable() === 5, 20_000));
    assert.equal(sb.read(bfd, buf), 5);
    assert.equal(sa.getsockopt(fd, SOL_SOCKET, SO_ERROR), 0);
  });
});

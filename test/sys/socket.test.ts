// BSD socket calls over two stacks on a memory pair: errno results as Linux returns them.
import assert from 'node:assert/strict';
import {
  AF_INET,
  AF_INET6,
  EPOLLERR,
  EPOLLHUP,
  EPOLLOUT,
  IPPROTO_IPV6,
  IPPROTO_TCP,
  IPV6_V6ONLY,
  MSG_PEEK,
  MSG_TRUNC,
  SHUT_WR,
  SO_ERROR,
  SO_KEEPALIVE,
  SO_LINGER,
  SO_RCVBUF,
  SO_REUSEADDR,
  SO_TYPE,
  SOCK_DGRAM,
  SOCK_NONBLOCK,
  SOCK_STREAM,
  SOL_SOCKET,
  TCP_CORK,
  TCP_KEEPCNT,
  TCP_KEEPIDLE,
  TCP_NODELAY,
  TCP_USER_TIMEOUT,
} from '../../ts/api/sys/constants.js';
import { Errno, check, errnoName } from '../../ts/api/sys/errno.js';
import { sockAddr } from '../../ts/api/sys/sockaddr.js';
import { A4, A6, B4, B6, bytes, SysFixture, type SysBed, text } from './harness.js';

const NB = SOCK_NONBLOCK;

/** B listens on `port`, A connects; both ends established and accepted. */
export async function connected(
  bed: SysBed,
  port = 8080,
  family = AF_INET,
): Promise<{ lfd: number; cfd: number; sfd: number }> {
  const { a, b } = bed;
  const lfd = b.sys.socket(family, SOCK_STREAM | NB);
  const addr = family === AF_INET ? '0.0.0.0' : '::';
  assert.equal(b.sys.bind(lfd, { family, address: addr, port }), 0);
  assert.equal(b.sys.listen(lfd, 16), 0);
  const cfd = a.sys.socket(family, SOCK_STREAM | NB);
  const to = family === AF_INET ? B4 : B6;
  assert.equal(a.sys.connect(cfd, { family, address: to, port }), -Errno.EINPROGRESS);
  let sfd = -1;
  assert.ok(
    await bed.until(() => {
      if (sfd < 0) sfd = b.sys.accept4(lfd, undefined, NB);
      return sfd >= 0 && a.sys.connect(cfd, { family, address: to, port }) === 0;
    }),
  );
  return { lfd, cfd, sfd };
}

describe('sys: BSD sockets', function () {
  const fx = new SysFixture();
  afterEach(async () => fx.closeAndAudit());

  it('non-blocking connect: EINPROGRESS, EALREADY, then writable with SO_ERROR 0', async () => {
    const bed = fx.open();
    const { a, b } = bed;
    const lfd = b.sys.socket(AF_INET, SOCK_STREAM | NB);
    b.sys.bind(lfd, { family: AF_INET, address: B4, port: 81 });
    b.sys.listen(lfd, 8);
    const fd = a.sys.socket(AF_INET, SOCK_STREAM | NB);
    const to = { family: AF_INET, address: B4, port: 81 };
    assert.equal(a.sys.connect(fd, to), -Errno.EINPROGRESS);
    assert.equal(a.sys.connect(fd, to), -Errno.EALREADY);
    assert.equal(a.sys.write(fd, bytes('x')), -Errno.EAGAIN);
    const pfd = [{ fd, events: EPOLLOUT, revents: 0 }];
    assert.equal(a.sys.poll(pfd), 0, 'not writable during the handshake');
    assert.ok(await bed.until(() => a.sys.poll(pfd) === 1));
    assert.equal(pfd[0].revents, EPOLLOUT);
    assert.equal(a.sys.getsockopt(fd, SOL_SOCKET, SO_ERROR), 0);
    assert.equal(a.sys.connect(fd, to), 0, 'the second connect reports success');
    assert.equal(a.sys.connect(fd, to), -Errno.EISCONN);
    const peer = sockAddr();
    assert.equal(a.sys.getpeername(fd, peer), 0);
    assert.deepEqual(peer, { family: AF_INET, address: B4, port: 81 });
    const me = sockAddr();
    assert.equal(a.sys.getsockname(fd, me), 0);
    assert.equal(me.address, A4);
    assert.ok(me.port >= 32768);
  });

  it('connect to a closed port: SO_ERROR ECONNREFUSED, with ERR and HUP', async () => {
    const bed = fx.open();
    const { a } = bed;
    const fd = a.sys.socket(AF_INET, SOCK_STREAM | NB);
    assert.equal(a.sys.connect(fd, { family: AF_INET, address: B4, port: 9 }), -Errno.EINPROGRESS);
    const pfd = [{ fd, events: 0, revents: 0 }];
    assert.ok(await bed.until(() => a.sys.poll(pfd) === 1));
    assert.equal(pfd[0].revents & (EPOLLERR | EPOLLHUP), EPOLLERR | EPOLLHUP);
    assert.equal(a.sys.getsockopt(fd, SOL_SOCKET, SO_ERROR), Errno.ECONNREFUSED);
    assert.equal(a.sys.getsockopt(fd, SOL_SOCKET, SO_ERROR), 0, 'SO_ERROR clears the error');
    assert.equal(a.sys.poll(pfd) && pfd[0].revents & EPOLLERR, 0);
  });

  it('accept on a non-blocking listener after the client reset returns EAGAIN', async () => {
    const bed = fx.open();
    const { a, b } = bed;
    const lfd = b.sys.socket(AF_INET, SOCK_STREAM | NB);
    b.sys.bind(lfd, { family: AF_INET, address: '0.0.0.0', port: 82 });
    b.sys.listen(lfd, 8);
    assert.equal(b.sys.accept(lfd), -Errno.EAGAIN);
    const fd = a.sys.socket(AF_INET, SOCK_STREAM | NB);
    a.sys.connect(fd, { family: AF_INET, address: B4, port: 82 });
    assert.ok(await bed.until(() => b.sys.poll([{ fd: lfd, events: 1, revents: 0 }]) === 1));
    assert.equal(a.sys.setsockopt(fd, SOL_SOCKET, SO_LINGER, { onoff: 1, linger: 0 }), 0);
    assert.equal(a.sys.close(fd), 0); // linger 0: a reset
    await bed.settle();
    assert.equal(b.sys.accept(lfd), -Errno.EAGAIN);
  });

  it('read returns the data, then 0 after FIN; EAGAIN while empty', async () => {
    const bed = fx.open();
    const { cfd, sfd } = await connected(bed);
    const buf = new Uint8Array(64);
    assert.equal(bed.b.sys.read(sfd, buf), -Errno.EAGAIN);
    assert.equal(bed.a.sys.write(cfd, bytes('hello')), 5);
    assert.equal(bed.a.sys.shutdown(cfd, SHUT_WR), 0);
    assert.equal(bed.a.sys.write(cfd, bytes('late')), -Errno.EPIPE);
    let got = '';
    let eof = false;
    assert.ok(
      await bed.until(() => {
        const n = bed.b.sys.read(sfd, buf);
        if (n > 0) got += text(buf, n);
        if (n === 0) eof = true;
        return eof;
      }),
    );
    assert.equal(got, 'hello');
    assert.equal(bed.b.sys.read(sfd, buf), 0, 'end of stream stays end of stream');
    assert.equal(bed.b.sys.write(sfd, bytes('back')), 4, 'half-closed: the other way still works');
  });

  it('write after the peer reset: the error once, then EPIPE', async () => {
    const bed = fx.open();
    const { cfd, sfd } = await connected(bed);
    bed.b.sys.setsockopt(sfd, SOL_SOCKET, SO_LINGER, { onoff: 1, linger: 0 });
    bed.b.sys.close(sfd);
    assert.ok(
      await bed.until(() => (bed.a.sys.poll([{ fd: cfd, events: 0, revents: 0 }]) ? true : false)),
    );
    assert.equal(bed.a.sys.write(cfd, bytes('x')), -Errno.ECONNRESET);
    assert.equal(bed.a.sys.write(cfd, bytes('x')), -Errno.EPIPE);
    assert.equal(bed.a.sys.send(cfd, bytes('x'), 0x4000 /* MSG_NOSIGNAL */), -Errno.EPIPE);
    assert.equal(bed.a.sys.read(cfd, new Uint8Array(4)), 0);
  });

  it('MSG_PEEK leaves the data in place', async () => {
    const bed = fx.open();
    const { cfd, sfd } = await connected(bed);
    bed.a.sys.write(cfd, bytes('abcdef'));
    const buf = new Uint8Array(16);
    assert.ok(await bed.until(() => bed.b.sys.recv(sfd, buf, MSG_PEEK) === 6));
    assert.equal(bed.b.sys.recv(sfd, buf.subarray(0, 3), MSG_PEEK), 3);
    assert.equal(text(buf, 3), 'abc');
    assert.equal(bed.b.sys.read(sfd, buf), 6);
    assert.equal(text(buf, 6), 'abcdef');
    assert.equal(bed.b.sys.read(sfd, buf), -Errno.EAGAIN);
  });

  it('recvmsg / sendmsg scatter and gather on a stream', async () => {
    const bed = fx.open();
    const { cfd, sfd } = await connected(bed);
    assert.equal(bed.a.sys.sendmsg(cfd, { iov: [bytes('ab'), bytes('cde'), bytes('f')] }), 6);
    const iov = [new Uint8Array(4), new Uint8Array(4)];
    const msg = { iov };
    let n = -1;
    assert.ok(await bed.until(() => (n = bed.b.sys.recvmsg(sfd, msg)) > 0));
    assert.equal(n, 6);
    assert.equal(text(iov[0], 4) + text(iov[1], 2), 'abcdef');
  });

  it('UDP: sendto / recvfrom with addresses, recvmsg MSG_TRUNC, connect and getpeername', async () => {
    const bed = fx.open();
    const { a, b } = bed;
    const rx = b.sys.socket(AF_INET6, SOCK_DGRAM | NB);
    assert.equal(b.sys.bind(rx, { family: AF_INET6, address: '::', port: 5000 }), 0);
    const tx = a.sys.socket(AF_INET, SOCK_DGRAM | NB);
    assert.equal(a.sys.read(tx, new Uint8Array(1)), -Errno.EAGAIN);
    assert.equal(a.sys.send(tx, bytes('x')), -Errno.EDESTADDRREQ);
    assert.equal(
      a.sys.sendto(tx, bytes('hello'), 0, { family: AF_INET, address: B4, port: 5000 }),
      5,
    );
    const buf = new Uint8Array(64);
    const from = sockAddr();
    let n = -1;
    assert.ok(await bed.until(() => (n = b.sys.recvfrom(rx, buf, 0, from)) > 0));
    assert.equal(text(buf, n), 'hello');
    const me = sockAddr();
    a.sys.getsockname(tx, me);
    assert.deepEqual(from, { family: AF_INET6, address: `::ffff:${A4}`, port: me.port });
    // A datagram larger than the buffers: cut, MSG_TRUNC says so.
    a.sys.sendto(tx, bytes('0123456789'), 0, { family: AF_INET, address: B4, port: 5000 });
    const msg = { iov: [new Uint8Array(3), new Uint8Array(3)], flags: 0 };
    assert.ok(await bed.until(() => (n = b.sys.recvmsg(rx, msg, MSG_PEEK | MSG_TRUNC)) > 0));
    assert.equal(n, 10, 'MSG_TRUNC returns the real length');
    assert.equal(b.sys.recvmsg(rx, msg), 6);
    assert.equal(msg.flags, MSG_TRUNC);
    assert.equal(text(msg.iov[0], 3) + text(msg.iov[1], 3), '012345');
    // Connected datagram socket over IPv6.
    const c6 = a.sys.socket(AF_INET6, SOCK_DGRAM | NB);
    const peer = sockAddr();
    assert.equal(a.sys.getpeername(c6, peer), -Errno.ENOTCONN);
    assert.equal(a.sys.connect(c6, { family: AF_INET6, address: B6, port: 5000 }), 0);
    assert.equal(a.sys.getpeername(c6, peer), 0);
    assert.deepEqual(peer, { family: AF_INET6, address: B6, port: 5000 });
    assert.equal(a.sys.write(c6, bytes('six')), 3);
    assert.ok(await bed.until(() => (n = b.sys.recvfrom(rx, buf, 0, from)) > 0));
    assert.equal(from.address, A6);
    assert.equal(b.sys.listen(rx, 1), -Errno.EOPNOTSUPP);
    assert.equal(b.sys.accept(rx), -Errno.EOPNOTSUPP);
  });

  it('errors: EBADF, ENOTSOCK, ENOTCONN, EADDRINUSE, EINVAL, EAFNOSUPPORT, EMFILE', async () => {
    const bed = fx.open({ fdLimit: 4 });
    const s = bed.a.sys;
    assert.equal(s.read(7, new Uint8Array(1)), -Errno.EBADF);
    assert.equal(s.close(7), -Errno.EBADF);
    assert.equal(s.socket(1 /* AF_UNIX */, SOCK_STREAM), -Errno.EAFNOSUPPORT);
    assert.equal(s.socket(AF_INET, 5 /* SOCK_SEQPACKET */), -Errno.ESOCKTNOSUPPORT);
    const t1 = s.socket(AF_INET, SOCK_STREAM | NB);
    const t2 = s.socket(AF_INET, SOCK_STREAM | NB);
    assert.deepEqual([t1, t2], [0, 1]);
    assert.equal(s.read(t1, new Uint8Array(1)), -Errno.ENOTCONN);
    assert.equal(s.write(t1, bytes('x')), -Errno.EPIPE);
    assert.equal(s.getpeername(t1, sockAddr()), -Errno.ENOTCONN);
    assert.equal(s.shutdown(t1, 7), -Errno.EINVAL);
    assert.equal(s.shutdown(t1, SHUT_WR), -Errno.ENOTCONN);
    assert.equal(s.bind(t1, { family: AF_INET6, address: '::', port: 1 }), -Errno.EAFNOSUPPORT);
    assert.equal(s.bind(t1, { family: AF_INET, address: 'localhost', port: 1 }), -Errno.EINVAL);
    assert.equal(
      s.bind(t1, { family: AF_INET, address: '198.18.99.9', port: 1 }),
      -Errno.EADDRNOTAVAIL,
    );
    assert.equal(s.bind(t1, { family: AF_INET, address: A4, port: 700 }), 0);
    assert.equal(s.bind(t1, { family: AF_INET, address: A4, port: 701 }), -Errno.EINVAL);
    assert.equal(s.bind(t2, { family: AF_INET, address: '0.0.0.0', port: 700 }), -Errno.EADDRINUSE);
    assert.equal(s.listen(t1, 4), 0);
    assert.equal(s.connect(t1, { family: AF_INET, address: B4, port: 1 }), -Errno.EISCONN);
    const e = s.epollCreate();
    const u = s.socket(AF_INET, SOCK_DGRAM);
    assert.deepEqual([e, u], [2, 3]);
    assert.equal(s.socket(AF_INET, SOCK_DGRAM), -Errno.EMFILE);
    assert.equal(s.bind(e, { family: AF_INET, address: A4, port: 1 }), -Errno.ENOTSOCK);
    assert.equal(s.close(t2), 0);
    assert.equal(s.socket(AF_INET, SOCK_DGRAM), 1, 'the lowest free descriptor is reused');
    assert.equal(errnoName(-Errno.EAGAIN), 'EAGAIN');
    assert.throws(() => check(-Errno.EMFILE, 'socket'), { code: 'EMFILE' });
  });

  it('socket options: SO_*, TCP_*, IPV6_V6ONLY', async () => {
    const bed = fx.open();
    const s = bed.a.sys;
    const fd = s.socket(AF_INET, SOCK_STREAM | NB);
    assert.equal(s.getsockopt(fd, SOL_SOCKET, SO_TYPE), SOCK_STREAM);
    assert.equal(s.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, 1), 0);
    assert.equal(s.getsockopt(fd, SOL_SOCKET, SO_REUSEADDR), 1);
    assert.equal(s.setsockopt(fd, SOL_SOCKET, SO_RCVBUF, 65536), 0);
    assert.equal(s.getsockopt(fd, SOL_SOCKET, SO_RCVBUF), 131072, 'Linux doubles SO_RCVBUF');
    assert.equal(s.setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, 1), 0);
    assert.equal(s.getsockopt(fd, SOL_SOCKET, SO_KEEPALIVE), 1);
    const linger = { onoff: 0, linger: 0 };
    assert.equal(s.setsockopt(fd, SOL_SOCKET, SO_LINGER, { onoff: 1, linger: 5 }), 0);
    assert.equal(s.getsockopt(fd, SOL_SOCKET, SO_LINGER, linger), 0);
    assert.deepEqual(linger, { onoff: 1, linger: 5 });
    assert.equal(s.setsockopt(fd, SOL_SOCKET, SO_LINGER, 1), -Errno.EINVAL);
    assert.equal(s.setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, 1), 0);
    assert.equal(s.getsockopt(fd, IPPROTO_TCP, TCP_NODELAY), 1);
    assert.equal(s.setsockopt(fd, IPPROTO_TCP, TCP_CORK, 1), 0);
    assert.equal(s.setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, 0), -Errno.EINVAL);
    assert.equal(s.setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, 30), 0);
    assert.equal(s.getsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE), 30);
    assert.equal(s.setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, 200), -Errno.EINVAL);
    assert.equal(s.setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, 5000), 0);
    assert.equal(s.getsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT), 5000);
    assert.equal(s.setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1), -Errno.ENOPROTOOPT);
    assert.equal(s.setsockopt(fd, SOL_SOCKET, 999, 1), -Errno.ENOPROTOOPT);
    const u = s.socket(AF_INET, SOCK_DGRAM);
    assert.equal(s.setsockopt(u, IPPROTO_TCP, TCP_NODELAY, 1), -Errno.ENOPROTOOPT);
    const v6 = s.socket(AF_INET6, SOCK_DGRAM | NB);
    assert.equal(s.setsockopt(v6, IPPROTO_IPV6, IPV6_V6ONLY, 1), 0);
    assert.equal(s.bind(v6, { family: AF_INET6, address: '::', port: 6000 }), 0);
    assert.equal(s.setsockopt(v6, IPPROTO_IPV6, IPV6_V6ONLY, 0), -Errno.EINVAL);
    // v6-only: the IPv4 port is still free for an AF_INET socket.
    const v4 = s.socket(AF_INET, SOCK_DGRAM | NB);
    assert.equal(s.bind(v4, { family: AF_INET, address: '0.0.0.0', port: 6000 }), 0);
  });

  it('accepted sockets inherit options; keep-alive and nodelay reach the TCB', async () => {
    const bed = fx.open();
    const { b } = bed;
    const lfd = b.sys.socket(AF_INET, SOCK_STREAM | NB);
    b.sys.setsockopt(lfd, IPPROTO_TCP, TCP_NODELAY, 1);
    b.sys.setsockopt(lfd, SOL_SOCKET, SO_KEEPALIVE, 1);
    b.sys.bind(lfd, { family: AF_INET, address: '0.0.0.0', port: 83 });
    b.sys.listen(lfd, 4);
    const cfd = bed.a.sys.socket(AF_INET, SOCK_STREAM | NB);
    bed.a.sys.connect(cfd, { family: AF_INET, address: B4, port: 83 });
    let sfd = -1;
    assert.ok(await bed.until(() => (sfd = b.sys.accept(lfd)) >= 0));
    assert.equal(b.sys.getsockopt(sfd, IPPROTO_TCP, TCP_NODELAY), 1);
    assert.equal(b.sys.getsockopt(sfd, SOL_SOCKET, SO_KEEPALIVE), 1);
    assert.equal(
      b.sys.read(sfd, new Uint8Array(1)),
      -Errno.EAGAIN,
      'accept() without flags: blocking, but sync calls never block',
    );
  });

  it('blocking forms: connectAsync, acceptAsync, readAsync, writeAsync over IPv6', async () => {
    const bed = fx.open();
    const { a, b } = bed;
    const lfd = b.sys.socket(AF_INET6, SOCK_STREAM);
    b.sys.bind(lfd, { family: AF_INET6, address: '::', port: 84 });
    b.sys.listen(lfd, 4);
    const fd = a.sys.socket(AF_INET6, SOCK_STREAM);
    const peer = sockAddr();
    const results: number[] = [];
    const accepted = b.sys.acceptAsync(lfd, peer).then((r) => results.push(r));
    const conn = a.sys.connectAsync(fd, { family: AF_INET6, address: B6, port: 84 });
    let done = false;
    void conn.then((r) => {
      results.push(r);
      done = true;
    });
    assert.ok(await bed.until(() => done && results.length === 2));
    await accepted;
    const sfd = results.find((r) => r > 0) as number;
    assert.ok(results.includes(0));
    assert.equal(peer.address, A6);
    const buf = new Uint8Array(32);
    let n = -1;
    void b.sys.readAsync(sfd, buf).then((r) => (n = r));
    await bed.settle(3);
    assert.equal(n, -1, 'readAsync waits on a blocking socket');
    const big = new Uint8Array(300_000).fill(7);
    let wrote = -1;
    void a.sys.writeAsync(fd, big).then((r) => (wrote = r));
    assert.ok(await bed.until(() => n > 0));
    // Drain the server so the whole write goes through.
    const sink = new Uint8Array(65536);
    let total = n;
    assert.ok(
      await bed.until(() => {
        const r = b.sys.read(sfd, sink);
        if (r > 0) total += r;
        return wrote === big.length && total === big.length;
      }, 5000),
    );
    const nb = a.sys.socket(AF_INET, SOCK_STREAM | NB);
    assert.equal(await a.sys.readAsync(nb, buf), -Errno.ENOTCONN);
  });
});

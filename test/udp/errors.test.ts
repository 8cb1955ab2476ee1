// Node-style errors of the dgram API over the xdpnet stack: bind conflicts and bad addresses,
// EMSGSIZE, ICMP port unreachable on a connected socket, connect/disconnect/send rules.
import assert from 'node:assert/strict';
import type { SystemError } from '../../ts/api/errors.js';
import { A4, B4, B6, UdpFixture, nextEvent } from './harness.js';

describe('udp: errors', function () {
  const fixture = new UdpFixture();
  afterEach(() => fixture.closeAndAudit());

  it('bind: EADDRINUSE on a taken port, as an error event with syscall and address', async function () {
    const bed = fixture.open();
    const first = bed.a.socket('udp4');
    first.bind(9000);
    await nextEvent(first, 'listening');
    const second = bed.a.socket('udp4');
    second.bind(9000, A4);
    const err = await nextEvent<SystemError>(second, 'error');
    assert.equal(err.code, 'EADDRINUSE');
    assert.equal(err.errno, -98);
    assert.equal(err.syscall, 'bind');
    assert.equal(err.address, A4);
    assert.equal(err.port, 9000);
    assert.match(err.message, /^bind EADDRINUSE 198\.18\.14\.1:9000/);
    // A dual-stack udp6 wildcard overlaps the IPv4 wildcard too (Linux does the same).
    const dual = bed.a.socket('udp6');
    dual.bind(9000);
    assert.equal((await nextEvent<SystemError>(dual, 'error')).code, 'EADDRINUSE');
    // ...but an IPv6-only one does not, and reuseAddr sockets share.
    const v6only = bed.a.socket({ type: 'udp6', ipv6Only: true });
    v6only.bind(9000);
    await nextEvent(v6only, 'listening');
    const r1 = bed.a.socket({ type: 'udp4', reuseAddr: true });
    const r2 = bed.a.socket({ type: 'udp4', reuseAddr: true });
    r1.bind(9001);
    r2.bind(9001);
    await Promise.all([nextEvent(r1, 'listening'), nextEvent(r2, 'listening')]);
    // After a failed bind the socket may bind again.
    second.bind(9002);
    await nextEvent(second, 'listening');
    assert.equal(second.address().port, 9002);
  });

  it('bind: EADDRNOTAVAIL for an address that is not ours, EINVAL for a non-address', async function () {
    const bed = fixture.open();
    const s = bed.a.socket('udp4');
    s.bind(9010, B4);
    const err = await nextEvent<SystemError>(s, 'error');
    assert.equal(err.code, 'EADDRNOTAVAIL');
    const s6 = bed.a.socket('udp6');
    s6.bind(9010, B6);
    assert.equal((await nextEvent<SystemError>(s6, 'error')).code, 'EADDRNOTAVAIL');
    const bad = bed.a.socket('udp4');
    bad.bind(9010, 'not-an-ip');
    assert.equal((await nextEvent<SystemError>(bad, 'error')).code, 'EINVAL');
  });

  it('bind: bad ports throw ERR_SOCKET_BAD_PORT; binding twice throws', function () {
    const bed = fixture.open();
    const s = bed.a.socket('udp4');
    for (const port of [-1, 65536, 1.5, 'x']) {
      assert.throws(() => s.bind(port as number), {
        code: 'ERR_SOCKET_BAD_PORT',
        name: 'RangeError',
      });
    }
    s.bind(0);
    assert.throws(() => s.bind(0), { code: 'ERR_SOCKET_ALREADY_BOUND' });
    const port = s.address().port;
    assert.ok(port >= 32768 && port <= 60999, `ephemeral port ${port}`);
  });

  it('EMSGSIZE for more than 65507 bytes over IPv4 and 65527 over IPv6', async function () {
    const bed = fixture.open();
    const s4 = bed.a.socket('udp4');
    const s6 = bed.a.socket('udp6');
    const errors: (Error | null)[] = [];
    s4.send(Buffer.alloc(65508), 9020, B4, (err) => errors.push(err));
    s6.send(Buffer.alloc(65528), 9020, B6, (err) => errors.push(err));
    assert.ok(await bed.until(() => errors.length === 2));
    for (const err of errors) {
      assert.equal((err as SystemError).code, 'EMSGSIZE');
      assert.equal((err as SystemError).syscall, 'send');
    }
  });

  it('ICMP port unreachable reaches a connected socket as ECONNREFUSED (recvmsg)', async function () {
    const bed = fixture.open();
    const s = bed.a.socket('udp4');
    s.connect(9030, B4);
    await nextEvent(s, 'connect');
    s.send('anyone?');
    const err = await Promise.race([
      nextEvent<SystemError>(s, 'error'),
      (async () => {
        await bed.until(() => false, 20);
        return null;
      })(),
    ]);
    assert.ok(err, 'an error event');
    assert.equal(err.code, 'ECONNREFUSED');
    assert.equal(err.syscall, 'recvmsg');
    assert.equal(err.address, B4);
    assert.equal(err.port, 9030);
    assert.equal(bed.b.udp.stats.noPorts, 1);
    // An unconnected socket cannot tell which peer complained: Linux drops the error, so do we.
    const u = bed.a.socket('udp4');
    let errors = 0;
    u.on('error', () => errors++);
    u.send('x', 9031, B4);
    await bed.until(() => bed.b.udp.stats.noPorts === 2);
    await bed.until(() => false, 5);
    assert.equal(errors, 0);
  });

  it('connect/disconnect rules, like Node', async function () {
    const bed = fixture.open();
    const s = bed.a.socket('udp4');
    assert.throws(() => s.disconnect(), { code: 'ERR_SOCKET_DGRAM_NOT_CONNECTED' });
    assert.throws(() => s.remoteAddress(), { code: 'ERR_SOCKET_DGRAM_NOT_CONNECTED' });
    assert.throws(() => s.connect(0, B4), { code: 'ERR_SOCKET_BAD_PORT' });
    const events: string[] = [];
    s.on('listening', () => events.push('listening'));
    s.connect(9040, B4, () => events.push('connect'));
    assert.throws(() => s.connect(9041, B4), { code: 'ERR_SOCKET_DGRAM_IS_CONNECTED' });
    // Node's rule: with offset and length, a port or address on a connected socket throws.
    assert.throws(() => s.send('x', 0, 1, 9040, B4), { code: 'ERR_SOCKET_DGRAM_IS_CONNECTED' });
    assert.throws(() => s.sendBatch([{ msg: 'x', port: 9040, address: B4 }]), {
      code: 'ERR_SOCKET_DGRAM_IS_CONNECTED',
    });
    await bed.until(() => events.length === 2);
    assert.deepEqual(events, ['listening', 'connect']);
    assert.deepEqual(s.remoteAddress(), { address: B4, family: 'IPv4', port: 9040 });
    // Connected: only the peer's datagrams arrive.
    const server = bed.b.socket('udp4');
    server.bind(9040);
    const other = bed.b.socket('udp4');
    other.bind(9041);
    await nextEvent(other, 'listening');
    const got: string[] = [];
    s.on('message', (m: Buffer) => got.push(m.toString()));
    server.send('from-peer', s.address().port, A4);
    other.send('from-other', s.address().port, A4);
    await bed.until(() => got.length === 1 && bed.a.udp.stats.noPorts === 1);
    assert.deepEqual(got, ['from-peer']);
    s.disconnect();
    assert.throws(() => s.remoteAddress(), { code: 'ERR_SOCKET_DGRAM_NOT_CONNECTED' });
    assert.throws(() => s.send('x'), { code: 'ERR_SOCKET_BAD_PORT' });
    other.send('again', s.address().port, A4);
    assert.ok(await bed.until(() => got.length === 2));
    assert.deepEqual(got, ['from-peer', 'again']);
  });

  it('send to an unroutable address fails with ENETUNREACH; udp4 refuses IPv6 (EINVAL)', async function () {
    const bed = fixture.open();
    const s = bed.a.socket('udp4');
    const errs: SystemError[] = [];
    s.send('x', 9050, '198.19.99.1', (err) => errs.push(err as SystemError));
    s.send('x', 9050, B6, (err) => errs.push(err as SystemError));
    s.send('x', 9050, '198.18.14.255', (err) => errs.push(err as SystemError));
    assert.ok(await bed.until(() => errs.length === 3));
    assert.deepEqual(
      errs.map((e) => e.code),
      ['ENETUNREACH', 'EINVAL', 'EACCES'],
    );
  });
});

// Echo over IPv4 and IPv6 between two engines on a memory pair, every byte checked: each size
// that fits one frame, a fragmented 4000-byte datagram, and the largest UDP datagram.
import assert from 'node:assert/strict';
import type { RemoteInfo, Socket } from '../../ts/api/dgram.js';
import { A4, A6, B4, B6, UdpFixture, type Bed } from './harness.js';
import { pattern } from '../support/byte-pattern.js';

interface Got {
  msg: Buffer;
  rinfo: RemoteInfo;
}

function echoServer(bed: Bed, type: 'udp4' | 'udp6', port: number): Socket {
  const server = bed.b.socket(type);
  server.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
    server.send(msg, rinfo.port, rinfo.address);
  });
  server.bind(port);
  return server;
}

async function echoSizes(
  bed: Bed,
  client: Socket,
  to: string,
  port: number,
  sizes: number[],
): Promise<Got[]> {
  const got: Got[] = [];
  client.on('message', (msg: Buffer, rinfo: RemoteInfo) => got.push({ msg, rinfo }));
  // In windows of 32, so the pair's rings and frames never run short.
  for (let i = 0; i < sizes.length; i += 32) {
    const window = sizes.slice(i, i + 32);
    for (const size of window) client.send(pattern(size, size), port, to);
    const want = got.length + window.length;
    assert.ok(await bed.until(() => got.length >= want, 100), `echo of sizes from ${window[0]}`);
  }
  return got;
}

function checkEchoes(
  got: Got[],
  sizes: number[],
  from: string,
  family: string,
  port: number,
): void {
  assert.equal(got.length, sizes.length);
  got.forEach(({ msg, rinfo }, i) => {
    const size = sizes[i];
    assert.equal(msg.length, size, `size ${size}`);
    assert.ok(msg.equals(pattern(size, size)), `bytes of the ${size}-byte datagram`);
    assert.deepEqual(rinfo, { address: from, family, port, size });
  });
}

describe('udp: echo between two engines', function () {
  const fixture = new UdpFixture();
  afterEach(() => fixture.closeAndAudit());

  const sizes = [...Array.from({ length: 1473 }, (_, i) => i), 4000];

  it('IPv4: sizes 0..1472 and 4000 (fragmented and reassembled), every byte', async function () {
    const bed = fixture.open();
    echoServer(bed, 'udp4', 7000);
    const client = bed.a.socket('udp4');
    const got = await echoSizes(bed, client, B4, 7000, sizes);
    checkEchoes(got, sizes, B4, 'IPv4', 7000);
    assert.ok(bed.a.iface.stats.reassembled >= 1 && bed.b.iface.stats.reassembled >= 1);
    assert.equal(bed.b.udp.stats.inDatagrams, sizes.length);
    assert.equal(bed.a.udp.stats.outDatagrams, sizes.length);
  });

  it('IPv6: sizes 0..1452 and 4000, every byte', async function () {
    const bed = fixture.open();
    echoServer(bed, 'udp6', 7001);
    const client = bed.a.socket('udp6');
    const six = [...Array.from({ length: 1453 }, (_, i) => i), 4000];
    const got = await echoSizes(bed, client, B6, 7001, six);
    checkEchoes(got, six, B6, 'IPv6', 7001);
    assert.ok(bed.b.iface.stats.reassembled >= 1);
  });

  it('carries the largest datagrams: 65507 bytes over IPv4 and 65527 over IPv6', async function () {
    const bed = fixture.open({ framesPerPort: 1024 }, {}, { reassemblyMaxPieces: 128 });
    echoServer(bed, 'udp4', 7002);
    echoServer(bed, 'udp6', 7003);
    const c4 = bed.a.socket('udp4');
    const c6 = bed.a.socket('udp6');
    checkEchoes(await echoSizes(bed, c4, B4, 7002, [65507]), [65507], B4, 'IPv4', 7002);
    checkEchoes(await echoSizes(bed, c6, B6, 7003, [65527]), [65527], B6, 'IPv6', 7003);
  });

  it('send callbacks report the bytes; A sees its own address and port at B', async function () {
    const bed = fixture.open();
    const server = bed.b.socket('udp4');
    const seen: RemoteInfo[] = [];
    server.on('message', (_m: Buffer, r: RemoteInfo) => seen.push(r));
    server.bind(7004, B4);
    const client = bed.a.socket('udp4');
    const results: [Error | null, number][] = [];
    client.send('hello', 7004, B4, (err, bytes) => results.push([err, bytes]));
    client.send(pattern(100, 1), 10, 50, 7004, B4, (err, bytes) => results.push([err, bytes]));
    client.send([Buffer.from('ab'), 'cd'], 7004, B4, (err, bytes) => results.push([err, bytes]));
    assert.ok(await bed.until(() => seen.length === 3 && results.length === 3));
    assert.deepEqual(results, [
      [null, 5],
      [null, 50],
      [null, 4],
    ]);
    assert.deepEqual(
      seen.map((r) => r.size),
      [5, 50, 4],
    );
    assert.equal(seen[0].address, A4);
    assert.equal(seen[0].port, client.address().port);
    assert.equal(client.address().address, '0.0.0.0');
  });

  it('an udp6 socket on :: receives IPv4 as ::ffff:a.b.c.d and answers it', async function () {
    const bed = fixture.open();
    const server = echoServer(bed, 'udp6', 7005);
    const got: RemoteInfo[] = [];
    server.on('message', (_m: Buffer, r: RemoteInfo) => got.push(r));
    const client = bed.a.socket('udp4');
    const back: Buffer[] = [];
    client.on('message', (m: Buffer) => back.push(m));
    client.send('mapped', 7005, B4);
    assert.ok(await bed.until(() => back.length === 1));
    assert.equal(got[0].address, `::ffff:${A4}`);
    assert.equal(got[0].family, 'IPv6');
    assert.equal(back[0].toString(), 'mapped');
  });

  it('ipv6Only: an udp6 socket on :: does not receive IPv4 (port unreachable instead)', async function () {
    const bed = fixture.open();
    const server = bed.b.socket({ type: 'udp6', ipv6Only: true });
    let n = 0;
    server.on('message', () => n++);
    server.bind(7006);
    const client = bed.a.socket('udp4');
    client.send('x', 7006, B4);
    const six = bed.a.socket('udp6');
    six.send('y', 7006, B6);
    assert.ok(await bed.until(() => n === 1 && bed.b.udp.stats.noPorts === 1));
    assert.equal(bed.b.iface.stats.icmpErrorsSent, 1);
  });

  it('the source address of an IPv6 reply is the address the request went to', async function () {
    const bed = fixture.open();
    echoServer(bed, 'udp6', 7007);
    const client = bed.a.socket('udp6');
    const from: string[] = [];
    client.on('message', (_m: Buffer, r: RemoteInfo) => from.push(r.address));
    client.bind(0, A6);
    client.send('q', 7007, B6);
    assert.ok(await bed.until(() => from.length === 1));
    assert.equal(from[0], B6);
    assert.equal(client.address().address, A6);
  });
});

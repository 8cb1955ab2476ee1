// xdpnet's net API over two TcpStacks on a memory pair (virtual time): handshake and echo in
// both families, refused connections, half-close, backpressure, resets and bind rules.
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from '../../ts/api/net.js';
import { A4, A6, B4, TcpFixture, type TcpBed } from './harness.js';
import { pattern } from '../support/byte-pattern.js';

function collect(s: Socket): { data: Buffer[]; ended: boolean; bytes(): number } {
  const st = {
    data: [] as Buffer[],
    ended: false,
    bytes: () => st.data.reduce((n, b) => n + b.length, 0),
  };
  s.on('data', (d: Buffer) => st.data.push(d));
  s.on('end', () => (st.ended = true));
  return st;
}

function echoServer(bed: TcpBed, port: number): Server {
  const server = createServer({ stack: bed.a.tcp }, (s) => s.pipe(s));
  server.listen({ port });
  return server;
}

describe('tcp-stack: net over memory pair', function () {
  const fx = new TcpFixture();
  afterEach(() => fx.closeAndAudit());

  for (const [family, host] of [
    ['IPv4', A4],
    ['IPv6', A6],
  ] as const) {
    it(`connects and echoes over ${family}`, async () => {
      const bed = fx.open();
      const server = echoServer(bed, 7000);
      let accepted: Socket | null = null;
      server.on('connection', (s) => (accepted = s));
      let connected = false;
      const c = connect({ port: 7000, host, stack: bed.b.tcp }, () => (connected = true));
      const got = collect(c);
      assert.ok(await bed.until(() => connected));
      assert.equal(c.remoteAddress, host);
      assert.equal(c.remotePort, 7000);
      assert.equal(c.remoteFamily, family);
      const msg = pattern(100_000, 1);
      c.end(msg);
      assert.ok(await bed.until(() => got.ended, 5000));
      assert.ok(Buffer.concat(got.data).equals(msg));
      assert.ok(accepted !== null);
      assert.equal(c.bytesWritten, msg.length);
      assert.equal(c.bytesRead, msg.length);
      const sa = bed.a.tcp.stats;
      const sb = bed.b.tcp.stats;
      assert.equal(sa.passiveOpens, 1);
      assert.equal(sb.activeOpens, 1);
      assert.ok(sa.inSegs > 0 && sb.outSegs > 0);
      server.close();
    });
  }

  it('refuses a connection to a closed port with ECONNREFUSED and a RST', async () => {
    const bed = fx.open();
    let err: NodeJS.ErrnoException | null = null;
    let closedWithError: boolean | null = null;
    const c = connect({ port: 7001, host: A4, stack: bed.b.tcp });
    c.on('error', (e) => (err = e));
    c.on('close', (h: boolean) => (closedWithError = h));
    assert.ok(await bed.until(() => closedWithError !== null));
    assert.equal(err!.code, 'ECONNREFUSED');
    assert.equal(err!.syscall, 'connect');
    assert.equal(closedWithError, true);
    assert.equal(bed.a.tcp.stats.outRsts, 1);
    assert.equal(bed.b.tcp.stats.attemptFails, 1);
  });

  it('half-closes: the server keeps sending after the client ends (allowHalfOpen)', async () => {
    const bed = fx.open();
    const server = createServer({ stack: bed.a.tcp, allowHalfOpen: true }, (s) => {
      const got: Buffer[] = [];
      s.on('data', (d: Buffer) => got.push(d));
      s.on('end', () => {
        s.write(Buffer.from(`got ${Buffer.concat(got).length}`));
        s.end(Buffer.from(' bye'));
      });
    });
    server.listen(7002);
    const c = connect({ port: 7002, host: A4, stack: bed.b.tcp, allowHalfOpen: true });
    const got = collect(c);
    c.end(pattern(5000, 2));
    assert.ok(await bed.until(() => got.ended, 5000));
    assert.equal(Buffer.concat(got.data).toString(), 'got 5000 bye');
  });

  it('sends chunks written while corked together (_writev): one segment, not one per chunk', async () => {
    const bed = fx.open();
    const got: Buffer[] = [];
    const server = createServer({ stack: bed.a.tcp }, (s) =>
      s.on('data', (d: Buffer) => got.push(d)),
    );
    server.listen(7008);
    let connected = false;
    const c = connect({ port: 7008, host: A4, stack: bed.b.tcp }, () => (connected = true));
    assert.ok(await bed.until(() => connected));
    const before = bed.b.tcp.stats.outSegs;
    c.cork();
    const parts = [pattern(400, 1), pattern(400, 2), pattern(400, 3)];
    for (const p of parts) c.write(p);
    c.uncork();
    // Uncorking hands all three to the stack at once, and the loop's settle builds what the app
    // wrote between passes: they fit one 1448-byte segment.
    bed.b.tcp.settle();
    assert.equal(bed.b.tcp.stats.outSegs - before, 1);
    assert.ok(await bed.until(() => Buffer.concat(got).length === 1200));
    assert.ok(Buffer.concat(got).equals(Buffer.concat(parts)));
    assert.equal(c.bytesWritten, 1200);
    c.destroy();
    server.close();
  });

  it('applies backpressure: write() returns false, drain follows once the peer reads', async () => {
    const bed = fx.open();
    let serverSide: Socket | null = null;
    const server = createServer({ stack: bed.a.tcp }, (s) => {
      serverSide = s;
      s.pause(); // stop reading: the receive buffer fills and the window closes
    });
    server.listen(7003);
    let connected = false;
    const c = connect({ port: 7003, host: A4, stack: bed.b.tcp }, () => (connected = true));
    assert.ok(await bed.until(() => connected && serverSide !== null));
    const chunk = pattern(64 * 1024, 3);
    // Write while 'drain' keeps coming; once the paused peer's window and our send buffer are
    // full it stops coming.
    let writes = 0;
    let drained = true;
    while (drained) {
      writes++;
      assert.ok(writes < 100, 'the send side never stalled');
      if (c.write(chunk)) continue;
      drained = false;
      c.once('drain', () => (drained = true));
      await bed.until(() => drained, 300);
    }
    assert.ok(writes * chunk.length > 256 * 1024, 'buffers took something before stalling');
    const got: Buffer[] = [];
    serverSide!.on('data', (d: Buffer) => got.push(d));
    serverSide!.resume();
    assert.ok(await bed.until(() => drained, 5000));
    const total = writes * chunk.length;
    assert.ok(await bed.until(() => got.reduce((n, b) => n + b.length, 0) === total, 5000));
  });

  it('resetAndDestroy() reaches the peer as ECONNRESET', async () => {
    const bed = fx.open();
    let serverSide: Socket | null = null;
    const server = createServer({ stack: bed.a.tcp }, (s) => (serverSide = s));
    server.listen(7004);
    const c = connect({ port: 7004, host: A4, stack: bed.b.tcp });
    assert.ok(await bed.until(() => serverSide !== null));
    let err: NodeJS.ErrnoException | null = null;
    serverSide!.on('error', (e) => (err = e));
    c.resetAndDestroy();
    assert.ok(await bed.until(() => err !== null));
    assert.equal(err!.code, 'ECONNRESET');
    assert.equal(bed.a.tcp.stats.estabResets, 1);
  });

  it('enforces bind rules: EADDRINUSE, wildcard vs specific, families, reuse over TIME-WAIT', async () => {
    const bed = fx.open();
    const tcp = bed.a.tcp;
    const l1 = tcp.listen({ port: 8000, is4: true });
    assert.equal(typeof l1, 'object');
    assert.equal(tcp.listen({ port: 8000, is4: true }), -98); // same wildcard
    assert.equal(tcp.listen({ port: 8000, is4: true, addr4: 0xc6120f01 }), -98); // specific vs *
    assert.equal(tcp.listen({ port: 8000, is4: false }), -98); // dual-stack [::] covers IPv4
    assert.equal(typeof tcp.listen({ port: 8000, is4: false, v6Only: true }), 'object');
    assert.equal(tcp.listen({ port: 8001, is4: true, addr4: 0xc6120f63 }), -99); // not ours
    // Through the API: the error event with Node's shape.
    const s1 = createServer({ stack: tcp }).listen(8002, '0.0.0.0');
    const s2 = createServer({ stack: tcp });
    let err: NodeJS.ErrnoException | null = null;
    s2.on('error', (e) => (err = e));
    s2.listen(8002, A4);
    assert.ok(await bed.until(() => err !== null));
    assert.equal(err!.code, 'EADDRINUSE');
    assert.equal(err!.syscall, 'listen');
    s1.close();
    // A server closed with a connection in TIME-WAIT on its port: SO_REUSEADDR lets it back.
    const server = createServer({ stack: tcp }, (s) => s.end());
    server.listen(8003);
    const c = connect({ port: 8003, host: A4, stack: bed.b.tcp });
    c.resume();
    let closed = false;
    c.on('close', () => (closed = true));
    c.end();
    assert.ok(await bed.until(() => closed, 5000));
    server.close();
    await bed.until(() => false, 20);
    assert.ok(tcp.connectionCount + bed.b.tcp.connectionCount >= 1, 'someone is in TIME-WAIT');
    assert.ok(tcp.stats.timeWait + bed.b.tcp.stats.timeWait >= 1);
    const again = tcp.listen({ port: 8003, is4: true, reuseAddr: true });
    assert.equal(typeof again, 'object');
    void B4;
  });
});

// TcpStack behaviour under stress on a memory pair (virtual time): a 10 MB transfer through
// loss, reordering and duplication; accept-queue overflow (dropped and counted, never reset);
// a SYN flood answered with cookies while a real client still gets through; a timer that stays
// due does not spin the loop.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, connect, type Socket } from '../../ts/api/net.js';
import { InputResult, type RxDatagram, type TransportHandler } from '../../ts/iface/transport.js';
import { TcpFlag, TcpHeader, setTcp4Checksum, writeTcpHeader } from '../../ts/wire/tcp.js';
import { parseIpv4Address } from '../../ts/wire/address.js';
import type { TcpConn } from '../../ts/socket/tcp/tcp-conn.js';
import { A4, B4, TcpFixture } from './harness.js';
import { pattern } from '../support/byte-pattern.js';

describe('tcp-stack: stack behaviour', function () {
  const fx = new TcpFixture();
  afterEach(() => fx.closeAndAudit());

  it('moves 10 MB byte-exact through 2% loss, reordering and duplication', async () => {
    const bed = fx.open({
      faults: { lossRate: 0.02, reorderRate: 0.02, reorderDistance: 3, duplicateRate: 0.02 },
    });
    const server = createServer({ stack: bed.a.tcp, allowHalfOpen: true }, (s) => {
      const h = createHash('sha256');
      let n = 0;
      s.on('data', (d: Buffer) => {
        h.update(d);
        n += d.length;
      });
      s.on('end', () => s.end(`${n} ${h.digest('hex')}`));
    });
    server.listen(9000);
    const total = 10 * 1024 * 1024;
    const chunk = pattern(256 * 1024, 7);
    const want = createHash('sha256');
    const c = connect({ port: 9000, host: A4, stack: bed.b.tcp, allowHalfOpen: true });
    let reply = '';
    c.on('data', (d: Buffer) => (reply += d.toString()));
    let sent = 0;
    const pump = (): void => {
      while (sent < total) {
        want.update(chunk);
        sent += chunk.length;
        if (!c.write(chunk)) return;
      }
      c.end();
    };
    c.on('drain', pump);
    c.once('connect', pump);
    let ended = false;
    c.on('end', () => (ended = true));
    assert.ok(await bed.until(() => ended, 400_000), `stalled after ${c.bytesWritten} bytes`);
    assert.equal(reply, `${total} ${want.digest('hex')}`);
    const st = bed.b.tcp.stats;
    assert.ok(st.retransSegs > 0, 'losses were repaired by retransmission');
  });

  it('runs a connection whose timer stays due at most once per clock reading', async () => {
    const bed = fx.open();
    const l = bed.b.tcp.listen({ port: 9020, is4: true });
    assert.ok(typeof l === 'object');
    const c = bed.a.tcp.connect({
      is4: true,
      addr4: parseIpv4Address(B4),
      addr6: new Uint8Array(16),
      port: 9020,
    }) as TcpConn;
    assert.ok(await bed.until(() => c.established));
    // A TCB whose timer re-arms for the moment it fired at and, as every call into a TCB does,
    // says its deadline moved (the soak found keep-alive doing this, test/soak).
    const tcb = c.tcb;
    const due = bed.clock.now();
    let runs = 0;
    tcb.nextDeadline = () => due;
    tcb.onTimer = () => {
      runs++;
      bed.a.tcp.deadlineChanged(tcb);
    };
    bed.a.tcp.deadlineChanged(tcb);
    for (let i = 0; i < 5; i++) bed.a.tcp.runTimers(due);
    assert.equal(runs, 1, 'not again at the same time: the stack defers it');
    bed.a.tcp.runTimers(due + 1);
    assert.equal(runs, 2, 'but again once the clock has moved on');
    // Back to the class's own methods for the audit's resets.
    delete (tcb as Partial<typeof tcb>).nextDeadline;
    delete (tcb as Partial<typeof tcb>).onTimer;
  });

  it('close() closes every listener, several on one port included', () => {
    const bed = fx.open();
    const l4 = bed.a.tcp.listen({ port: 9010, is4: true });
    const l6 = bed.a.tcp.listen({ port: 9010, is4: false, v6Only: true });
    assert.ok(typeof l4 === 'object' && typeof l6 === 'object');
    bed.a.tcp.close();
    assert.equal(l4.open, false);
    assert.equal(l6.open, false);
    assert.equal([...bed.a.tcp.allListeners()].length, 0);
  });

  it("a server's neighbour entry for its client stays REACHABLE while its data is acked (RFC 4861 7.3.1)", async () => {
    const bed = fx.open({}, {}, { staticNeighbours: [] }); // both ends resolve by ARP
    const server = createServer({ stack: bed.a.tcp }, (s) => s.pipe(s));
    server.listen(9011, A4);
    const client = connect({ port: 9011, host: A4, stack: bed.b.tcp });
    let echoed = 0;
    client.on('data', (d: Buffer) => (echoed += d.length));
    const key = (state: string): boolean =>
      bed.a.iface.neighbours.entries().some((e) => e.state === state);
    // A learnt B's MAC from B's ARP request: unconfirmed, so STALE (RFC 4861 7.2.3).
    assert.ok(await bed.until(() => client.readyState === 'open'));
    assert.ok(key('stale') || key('delay'), 'learnt from a request, not yet confirmed');
    const probesBefore = bed.a.iface.stats.arpRequestsSent;
    // A minute of echoes, one every 2 s: B acks each of A's replies, and A's next segment passes
    // the confirmation on (as Linux's dst_confirm does), so the entry never reaches PROBE and,
    // when REACHABLE_TIME (30 s) runs out, turns REACHABLE again at the next reply.
    for (let i = 1; i <= 30; i++) {
      client.write('x');
      assert.ok(await bed.until(() => echoed === i));
      assert.ok(key('reachable'), `reachable once A replied to request ${i}`);
      bed.clock.advanceTo(bed.clock.now() + 2000);
      await bed.round();
    }
    assert.equal(bed.a.iface.stats.arpRequestsSent, probesBefore, 'never probed');
    client.destroy();
    server.close();
  });

  it('drops SYNs when the accept queue is full: counted, no RST; the client gets in later', async () => {
    const bed = fx.open();
    const l = bed.a.tcp.listen({ port: 9001, is4: true, backlog: 2 });
    assert.ok(typeof l === 'object');
    const clients: Socket[] = [];
    const connected: boolean[] = [];
    const errors: Error[] = [];
    const open = (i: number): void => {
      const c = connect({ port: 9001, host: A4, stack: bed.b.tcp }, () => (connected[i] = true));
      c.on('error', (e) => errors.push(e));
      clients.push(c);
    };
    open(0);
    open(1);
    assert.ok(await bed.until(() => l.acceptQueue.length === 2));
    open(2);
    open(3);
    await bed.until(() => false, 200);
    assert.equal(l.acceptQueue.length, 2);
    assert.ok(bed.a.tcp.stats.listenOverflows >= 2);
    assert.equal(bed.a.tcp.stats.outRsts, 0);
    assert.equal(connected.filter(Boolean).length, 2);
    assert.deepEqual(errors, []);
    // Accept both: the SYN retransmissions of the other two now find room.
    assert.ok(l.accept() !== null && l.accept() !== null);
    assert.ok(await bed.until(() => l.acceptQueue.length === 2, 5000));
    assert.ok(await bed.until(() => connected.filter(Boolean).length === 4, 5000));
    bed.a.tcp.closeListener(l);
  });

  it('answers a SYN flood with cookies while a real client still connects and echoes', async () => {
    const bed = fx.open();
    // B's side swallows what comes back to the flood's ports (a real flooder ignores SYN-ACKs;
    // B's stack would otherwise reset them and empty A's SYN queue).
    const tcpB = bed.b.tcp;
    const sink: TransportHandler = {
      input: (d: RxDatagram) => {
        const port = (d.buf[d.l4Off + 2] << 8) | d.buf[d.l4Off + 3];
        return port >= 20000 && port < 21000 ? InputResult.Done : tcpB.input(d);
      },
      icmpError: (e) => tcpB.icmpError(e),
    };
    bed.b.iface.registerTransport(6, sink);
    const server = createServer({ stack: bed.a.tcp }, (s) => s.pipe(s));
    server.listen({ port: 9002, backlog: 8 });
    await bed.round();
    const h = new TcpHeader();
    const dst = parseIpv4Address(A4);
    for (let i = 0; i < 200; i++) {
      const iface = bed.b.iface;
      const at = iface.beginIp4(dst, 24, parseIpv4Address(B4));
      assert.ok(at >= 0);
      h.srcPort = 20000 + i;
      h.dstPort = 9002;
      h.seq = (i * 7919) >>> 0;
      h.ack = 0;
      h.flags = TcpFlag.Syn;
      h.window = 65535;
      const b = iface.tx.buf;
      writeTcpHeader(b, at, h, null);
      b[at + 12] = 6 << 4; // data offset 24: an MSS option
      b.set([2, 4, 0x05, 0xb4], at + 20);
      setTcp4Checksum(b, at, 24, iface.tx.src4, iface.tx.dst4);
      assert.equal(iface.finishIp(6, 24, true), 0);
      if (i % 32 === 31) await bed.round();
    }
    for (let i = 0; i < 10; i++) await bed.round();
    const sa = bed.a.tcp.stats;
    assert.ok(sa.syncookiesSent >= 150, `cookies sent: ${sa.syncookiesSent}`);
    const c = connect({ port: 9002, host: A4, stack: tcpB });
    const got: Buffer[] = [];
    c.on('data', (d: Buffer) => got.push(d));
    const msg = pattern(1_000_000, 9);
    c.write(msg);
    assert.ok(await bed.until(() => got.reduce((n, b) => n + b.length, 0) === msg.length, 20_000));
    assert.ok(Buffer.concat(got).equals(msg));
    assert.equal(sa.syncookiesRecv, 1);
    server.close();
  });
});

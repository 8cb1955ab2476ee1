// TcpStack paths below and beside the TCB, on a memory pair in virtual time: RetransSegs counts
// SYN, SYN-ACK and FIN retransmissions; an ICMP "fragmentation needed" mid-transfer lowers the
// open connection's MSS and the transfer completes through the smaller MTU (RFC 1191, RFC 9293
// 3.7.3); a next hop that never answers ARP fails connects with EHOSTUNREACH and reports it on a
// connected UDP socket; an ICMP unreachable on an open connection is a soft error reported when
// the connection times out (Linux sk_err_soft).

import assert from 'node:assert/strict';
import { connect, type Socket } from '../../ts/api/net.js';
import { createSocket } from '../../ts/api/dgram.js';
import { TcpState } from '../../ts/socket/tcp/state.js';
import type { TcpConn, TcpListener } from '../../ts/socket/tcp/tcp-conn.js';
import { UdpStack } from '../../ts/socket/udp/udp-stack.js';
import { A4, B4, TcpFixture, type TcpBed, listen4, dial4 } from '../tcp-stack/harness.js';
import { pattern } from '../support/byte-pattern.js';
import { sendIcmp4Unreachable } from '../support/icmp4-unreachable.js';

/** An address on the pair's subnet that no one answers ARP for. */
const SILENT4 = '198.18.15.77';

/** Pumps `data` into conn's TCB whenever it has room. */
function pump(c: TcpConn, data: Uint8Array, state: { sent: number }): void {
  while (state.sent < data.length) {
    const n = c.tcb.write(data, state.sent, data.length - state.sent);
    if (n === 0) break;
    state.sent += n;
  }
}

function drain(c: TcpConn, into: number[]): void {
  const buf = new Uint8Array(65536);
  for (;;) {
    const n = c.tcb.read(buf, 0, buf.length);
    if (n === 0) return;
    for (let i = 0; i < n; i++) into.push(buf[i]);
  }
}

async function established(bed: TcpBed, l: TcpListener, c: TcpConn): Promise<TcpConn> {
  let server: TcpConn | null = null;
  assert.ok(
    await bed.until(() => {
      server ??= l.accept();
      return server !== null && c.tcb.state === TcpState.Established;
    }, 20_000),
    'handshake',
  );
  return server!;
}

describe('tcp-stack paths: RetransSegs, path MTU, unreachable next hops', function () {
  const fx = new TcpFixture();
  afterEach(() => fx.closeAndAudit());

  it('counts SYN, SYN-ACK and FIN retransmissions in RetransSegs', async () => {
    const bed = fx.open();
    const l = listen4(bed.a.tcp, 7001);
    // B's first SYN is lost.
    bed.pair.b.setFaults({ lossRate: 1 });
    const c = dial4(bed.b.tcp, A4, 7001);
    await bed.round();
    bed.pair.b.setFaults({ lossRate: 0 });
    assert.equal(bed.b.tcp.stats.retransSegs, 0);
    // A's first SYN-ACK is lost.
    bed.pair.a.setFaults({ lossRate: 1 });
    assert.ok(await bed.until(() => bed.a.tcp.stats.outSegs > 0, 20_000));
    bed.pair.a.setFaults({ lossRate: 0 });
    const server = await established(bed, l, c);
    assert.equal(bed.b.tcp.stats.retransSegs, 1, 'the SYN retransmission');
    assert.ok(bed.a.tcp.stats.retransSegs >= 1, 'the SYN-ACK retransmission');
    const aBefore = bed.a.tcp.stats.retransSegs;
    // B's first FIN is lost.
    bed.pair.b.setFaults({ lossRate: 1 });
    c.tcb.shutdown(); // a direct TCB call: the TCB tells the stack its deadline moved
    await bed.round();
    bed.pair.b.setFaults({ lossRate: 0 });
    assert.ok(await bed.until(() => server.tcb.state === TcpState.CloseWait, 20_000));
    assert.equal(bed.b.tcp.stats.retransSegs, 2, 'and the FIN retransmission');
    assert.equal(bed.a.tcp.stats.retransSegs, aBefore);
  });

  it('lowers an open connection\u2019s MSS on ICMP fragmentation needed and completes byte-exact', async () => {
    const bed = fx.open();
    const l = listen4(bed.a.tcp, 7002);
    const c = dial4(bed.b.tcp, A4, 7002);
    const server = await established(bed, l, c);
    const data = pattern(400_000, 3);
    const st = { sent: 0 };
    const got: number[] = [];
    assert.ok(c.tcb.sendMss > 1000, `initial MSS ${c.tcb.sendMss}`);
    // Half way: the path's MTU falls to 1000 (the link now drops longer frames) and a router
    // says so, quoting a segment in flight.
    assert.ok(
      await bed.until(() => {
        pump(c, data, st);
        drain(server, got);
        return got.length >= 200_000;
      }, 50_000),
    );
    const mtu = 1000;
    bed.pair.b.setFaults({ mtu });
    sendIcmp4Unreachable(bed.a, B4, 4, mtu, {
      src: B4,
      dst: A4,
      sport: c.localPort,
      dport: 7002,
      seq: c.tcb.sndUna,
    });
    assert.ok(
      await bed.until(() => {
        pump(c, data, st);
        drain(server, got);
        return got.length === data.length;
      }, 200_000),
      `stalled at ${got.length} of ${data.length}`,
    );
    assert.ok(Buffer.from(got).equals(data), 'byte-exact');
    assert.equal(c.tcb.sendMss, mtu - 40, 'MSS = new path MTU - 40');
    assert.ok(c.tcb.smss() <= mtu - 40);
    assert.equal(bed.b.tcp.ctx.stats.pmtuMssReductions, 1);
  });

  // Found by xdpnet-peer fuzz: an ICMP fragmentation needed quoting another packet to the same
  // host (another port, or no connection at all) lowers the shared path MTU without telling the
  // connection; every full-size segment then failed with EMSGSIZE and the connection stalled,
  // retransmitting, until it timed out. Linux's TCP follows the destination's path MTU (its
  // per-destination route exception) whoever learnt it.
  for (const [reported, mtu] of [
    [1000, 1000],
    // A forged 68 (RFC 1191's minimum) goes no lower than 552 (Linux's min_pmtu).
    [68, 552],
  ]) {
    it(`follows a path MTU lowered to ${reported} by an ICMP about another flow to the same host`, async () => {
      await lowerMtuByAnotherFlow(reported, mtu);
    });
  }

  async function lowerMtuByAnotherFlow(reported: number, mtu: number): Promise<void> {
    const bed = fx.open();
    const l = listen4(bed.a.tcp, 7003);
    const c = dial4(bed.b.tcp, A4, 7003);
    const server = await established(bed, l, c);
    const data = pattern(400_000, 4);
    const st = { sent: 0 };
    const got: number[] = [];
    assert.ok(
      await bed.until(() => {
        pump(c, data, st);
        drain(server, got);
        return got.length >= 100_000;
      }, 50_000),
    );
    bed.pair.b.setFaults({ mtu });
    // The quote is of a segment of no connection of B's: only the path MTU cache learns it.
    sendIcmp4Unreachable(bed.a, B4, 4, reported, {
      src: B4,
      dst: A4,
      sport: 1,
      dport: 2,
      seq: 0,
    });
    assert.ok(
      await bed.until(() => {
        pump(c, data, st);
        drain(server, got);
        return got.length === data.length;
      }, 200_000),
      `stalled at ${got.length} of ${data.length}`,
    );
    assert.ok(Buffer.from(got).equals(data), 'byte-exact');
    assert.equal(c.tcb.sendMss, mtu - 40, 'MSS = new path MTU - 40');
    assert.equal(bed.b.tcp.ctx.stats.pmtuMssReductions, 1);
  }

  it('fails a connect with EHOSTUNREACH when the next hop never answers ARP, at once when known failed', async () => {
    const bed = fx.open();
    const errors: string[] = [];
    const s1: Socket = connect({ port: 80, host: SILENT4, stack: bed.a.tcp });
    s1.on('error', (e: NodeJS.ErrnoException) => errors.push(e.code ?? '?'));
    const t0 = bed.clock.now();
    assert.ok(await bed.until(() => errors.length > 0, 20_000), 'the connect failed');
    assert.deepEqual(errors, ['EHOSTUNREACH']);
    const took = bed.clock.now() - t0;
    // Three ARP requests a second apart (RFC 1122 2.3.2.1 / Linux mcast_solicit 3), not the
    // ~127 s of SYN retries that ETIMEDOUT would take.
    assert.ok(took >= 2000 && took < 10_000, `failed after ${took} ms`);
    assert.ok(bed.a.iface.stats.arpRequestsSent >= 3);
    // While the neighbour entry is FAILED a new connect fails without waiting again.
    const s2: Socket = connect({ port: 81, host: SILENT4, stack: bed.a.tcp });
    s2.on('error', (e: NodeJS.ErrnoException) => errors.push(e.code ?? '?'));
    const t1 = bed.clock.now();
    assert.ok(await bed.until(() => errors.length > 1, 20_000));
    assert.deepEqual(errors, ['EHOSTUNREACH', 'EHOSTUNREACH']);
    assert.ok(bed.clock.now() - t1 < 1000, 'no second resolution wait');
  });

  it('reports EHOSTUNREACH on a connected UDP socket whose next hop never answers ARP', async () => {
    const bed = fx.open();
    const udp = new UdpStack(bed.a.iface);
    const sock = createSocket({ type: 'udp4', stack: udp });
    const errors: NodeJS.ErrnoException[] = [];
    sock.on('error', (e: NodeJS.ErrnoException) => errors.push(e));
    let connected = false;
    sock.connect(5000, SILENT4, () => (connected = true));
    assert.ok(await bed.until(() => connected, 100));
    sock.send(Buffer.from('hello'));
    assert.ok(await bed.until(() => errors.length > 0, 20_000), 'an error was reported');
    assert.equal(errors[0].code, 'EHOSTUNREACH');
    sock.close();
  });

  it('keeps an ICMP unreachable on an open connection as a soft error reported at timeout', async () => {
    const bed = fx.open();
    const l = listen4(bed.a.tcp, 7003);
    const c = dial4(bed.b.tcp, A4, 7003);
    await established(bed, l, c);
    c.tcb.setUserTimeout(3000);
    bed.pair.b.setFaults({ lossRate: 1 });
    c.tcb.write(new Uint8Array(1000), 0, 1000);
    await bed.round();
    sendIcmp4Unreachable(bed.a, B4, 1, 0, {
      src: B4,
      dst: A4,
      sport: c.localPort,
      dport: 7003,
      seq: c.tcb.sndUna,
    });
    await bed.round();
    assert.equal(
      c.tcb.state,
      TcpState.Established,
      'soft: the connection goes on (RFC 1122 4.2.3.9)',
    );
    assert.equal(c.tcb.softError, 'EHOSTUNREACH');
    assert.ok(await bed.until(() => c.tcb.state === TcpState.Closed, 20_000));
    assert.equal(
      c.tcb.error,
      'EHOSTUNREACH',
      'reported instead of ETIMEDOUT (Linux tcp_write_err)',
    );
  });
});

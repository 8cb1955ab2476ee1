// Closing connections (RFC 9293 3.6, 3.10.4, 3.10.7.4): active/passive close, half-close,
// simultaneous close, TIME-WAIT (2MSL, re-ACKing a retransmitted FIN, RFC 1337, reuse by a newer
// SYN), FIN-WAIT-2 timeout, resets on close with unread data or data after close.

import assert from 'node:assert/strict';
import { TcpFlag, TcpOptions } from '../../ts/wire/tcp.js';
import { TcpEvent } from '../../ts/socket/tcp/host.js';
import { TcpState } from '../../ts/socket/tcp/state.js';
import { Tcb } from '../../ts/socket/tcp/tcb.js';
import { IsnGenerator } from '../../ts/socket/tcp/isn.js';
import { BulkTransfer, CLEAN_LINK, hasFlag, Network, type Sent } from './harness.js';

const isFin = (s: Sent): boolean => hasFlag(s, TcpFlag.Fin);
const payload = (n: number): Uint8Array => new Uint8Array(n).fill(0x5a);

describe('tcp close', () => {
  it('active close: FIN-WAIT-1/2 and TIME-WAIT for 2MSL; passive: CLOSE-WAIT, LAST-ACK', () => {
    const net = new Network();
    net.establish();
    net.a.tcb.write(payload(3000), 0, 3000);
    net.a.tcb.close();
    assert.equal(net.a.tcb.state, TcpState.FinWait1);
    net.run(net.clock.t + 100);
    assert.equal(net.a.tcb.state, TcpState.FinWait2);
    assert.equal(net.b.tcb.state, TcpState.CloseWait);
    assert.ok(net.b.has(TcpEvent.PeerClosed));
    const buf = new Uint8Array(4000);
    assert.equal(net.b.tcb.read(buf, 0, 4000), 3000);
    net.b.tcb.close();
    assert.equal(net.b.tcb.state, TcpState.LastAck);
    net.run(net.clock.t + 100);
    assert.equal(net.b.tcb.state, TcpState.Closed);
    assert.equal(net.a.tcb.state, TcpState.TimeWait);
    const enteredTimeWait = net.clock.t - 100 + 15; // B's FIN arrives 5 ms after close
    net.run(enteredTimeWait + 59_000);
    assert.equal(net.a.tcb.state, TcpState.TimeWait);
    net.run(enteredTimeWait + 60_001);
    assert.equal(net.a.tcb.state, TcpState.Closed);
    assert.ok(net.a.has(TcpEvent.Closed) && net.b.has(TcpEvent.Closed));
    assert.equal(net.a.tcb.error, null);
  });

  it('FIN rides on the last data segment when the app closes with data queued', () => {
    const net = new Network();
    net.establish();
    net.a.tcb.setCork(true);
    net.a.tcb.write(payload(500), 0, 500);
    net.a.tcb.shutdown();
    const last = net.segmentsFrom('A').at(-1)!;
    assert.ok(isFin(last) && last.len === 500);
  });

  it('half-close: the other direction keeps flowing after shutdown()', () => {
    const net = new Network();
    net.establish();
    net.a.tcb.shutdown();
    net.run(net.clock.t + 50);
    assert.equal(net.a.tcb.state, TcpState.FinWait2);
    assert.equal(net.b.tcb.state, TcpState.CloseWait);
    const bulk = new BulkTransfer(net.b, net.a, 300_000);
    bulk.pump();
    net.run(
      net.clock.t + 60_000,
      () => bulk.received === 300_000 && net.b.tcb.state === TcpState.Closed,
    );
    assert.equal(bulk.mismatch, -1);
    assert.equal(bulk.received, 300_000);
    assert.equal(net.a.tcb.state, TcpState.TimeWait);
  });

  it('simultaneous close: both go through CLOSING to TIME-WAIT', () => {
    const net = new Network();
    net.establish();
    const seen = new Set<string>();
    for (const ep of [net.a, net.b]) {
      ep.onEvent = () => {};
    }
    const watch = (): void => {
      seen.add(`A${net.a.tcb.state}`);
      seen.add(`B${net.b.tcb.state}`);
    };
    net.a.tcb.close();
    net.b.tcb.close();
    net.run(net.clock.t + 100, () => {
      watch();
      return false;
    });
    assert.ok(seen.has(`A${TcpState.Closing}`) && seen.has(`B${TcpState.Closing}`));
    assert.equal(net.a.tcb.state, TcpState.TimeWait);
    assert.equal(net.b.tcb.state, TcpState.TimeWait);
    net.run(net.clock.t + 61_000);
    assert.equal(net.a.tcb.state, TcpState.Closed);
    assert.equal(net.b.tcb.state, TcpState.Closed);
  });

  it('TIME-WAIT re-ACKs a retransmitted FIN and restarts 2MSL', () => {
    const net = new Network(CLEAN_LINK, 1, { timeWaitMs: 10_000 });
    net.establish();
    net.a.tcb.close();
    net.run(net.clock.t + 50);
    net.b.tcb.close();
    // Drop A's ACK of B's FIN once: B retransmits the FIN after its RTO.
    let dropped = false;
    net.filter = (from, s) => {
      if (from.name === 'A' && !dropped && s.ack === net.b.tcb.sndNxt) return !(dropped = true);
      return true;
    };
    net.run(net.clock.t + 5000, () => net.b.tcb.state === TcpState.Closed);
    assert.equal(net.b.tcb.state, TcpState.Closed);
    const fins = net.segmentsFrom('B', isFin);
    assert.equal(fins.length, 2, 'B retransmitted its FIN');
    const reAck = net.segmentsFrom('A').at(-1)!;
    assert.equal(reAck.time, fins[1].time + 5);
    assert.equal(net.a.tcb.timeWaitDeadline, reAck.time + 10_000, '2MSL restarted');
  });

  it('ignores a reset in TIME-WAIT (RFC 1337)', () => {
    const net = new Network();
    net.establish();
    net.a.tcb.close();
    net.b.tcb.close();
    net.run(net.clock.t + 100);
    assert.equal(net.a.tcb.state, TcpState.TimeWait);
    net.b.answerClosed = false;
    net.inject(net.a, { seq: net.a.tcb.rcvNxt, ack: net.a.tcb.sndNxt, flags: TcpFlag.Rst });
    net.run(net.clock.t + 100);
    assert.equal(net.a.tcb.state, TcpState.TimeWait);
  });

  for (const timestamps of [true, false]) {
    it(`lets a newer SYN reuse a TIME-WAIT connection (RFC 6191, timestamps ${timestamps})`, () => {
      const net = new Network(CLEAN_LINK, 1, { timestamps }, { timestamps });
      const key = new Uint8Array(32).fill(3);
      net.a.isn = new IsnGenerator(key);
      net.b.isn = new IsnGenerator(key);
      net.clock.t = 123_456;
      net.establish();
      net.a.tcb.write(payload(5000), 0, 5000);
      net.run(net.clock.t + 100);
      assert.equal(net.b.tcb.read(new Uint8Array(5000), 0, 5000), 5000);
      net.b.tcb.close(); // the listener side closes first and keeps TIME-WAIT
      net.run(net.clock.t + 50);
      net.a.tcb.close();
      net.run(net.clock.t + 50);
      assert.equal(net.b.tcb.state, TcpState.TimeWait);
      assert.equal(net.a.tcb.state, TcpState.Closed);
      const old = net.b.tcb;
      net.run(net.clock.t + 1000);
      net.a.tcb = new Tcb(net.a.ctx, net.a.port, net.a.peerPort);
      net.a.tcb.connect();
      net.run(net.clock.t + 100);
      assert.notEqual(net.b.tcb, old, 'a new TCB took over');
      assert.equal(old.state, TcpState.Closed);
      assert.equal(net.a.tcb.state, TcpState.Established);
      assert.equal(net.b.tcb.state, TcpState.Established);
      assert.equal(net.b.tcb.rcvNxt, (net.a.tcb.iss + 1) >>> 0);
    });
  }

  it('TIME-WAIT answers an old SYN with an ACK instead of reopening', () => {
    const net = new Network();
    net.establish();
    net.b.tcb.close();
    net.run(net.clock.t + 50);
    net.a.tcb.close();
    net.run(net.clock.t + 50);
    const o = new TcpOptions();
    o.hasTimestamps = true;
    o.tsVal = 1; // older than TS.Recent
    net.inject(net.b, { seq: 5, ack: 0, flags: TcpFlag.Syn, options: o });
    const before = net.segmentsFrom('B').length;
    net.run(net.clock.t + 10);
    assert.equal(net.b.tcb.state, TcpState.TimeWait);
    const reply = net.segmentsFrom('B').slice(before);
    assert.equal(reply.length, 1);
    assert.equal(reply[0].flags, TcpFlag.Ack);
  });

  it('an orphaned FIN-WAIT-2 gives up after finWait2TimeoutMs', () => {
    const net = new Network(CLEAN_LINK, 1, { finWait2TimeoutMs: 30_000 });
    net.establish();
    net.a.tcb.close();
    net.run(net.clock.t + 100);
    assert.equal(net.a.tcb.state, TcpState.FinWait2);
    net.run(net.clock.t + 29_000);
    assert.equal(net.a.tcb.state, TcpState.FinWait2);
    net.run(net.clock.t + 2_000);
    assert.equal(net.a.tcb.state, TcpState.Closed);
  });

  it('a half-closed (shutdown) FIN-WAIT-2 waits for the peer indefinitely', () => {
    const net = new Network(CLEAN_LINK, 1, { finWait2TimeoutMs: 30_000 });
    net.establish();
    net.a.tcb.shutdown();
    net.run(net.clock.t + 300_000);
    assert.equal(net.a.tcb.state, TcpState.FinWait2);
  });

  it('close() with unread data resets the connection (RFC 2525 2.17)', () => {
    const net = new Network();
    net.establish();
    net.b.tcb.write(payload(100), 0, 100);
    net.run(net.clock.t + 50);
    assert.equal(net.a.tcb.readable(), 100);
    net.a.tcb.close();
    assert.equal(net.a.tcb.state, TcpState.Closed);
    net.run(net.clock.t + 50);
    assert.equal(net.b.tcb.error, 'ECONNRESET');
  });

  it('data arriving after close() is answered with a reset (RFC 1122 4.2.2.13)', () => {
    const net = new Network();
    net.establish();
    net.a.tcb.close();
    net.run(net.clock.t + 50);
    net.b.tcb.write(payload(100), 0, 100);
    net.run(net.clock.t + 50);
    assert.equal(net.a.tcb.state, TcpState.Closed);
    assert.ok(net.segmentsFrom('A').some((s) => hasFlag(s, TcpFlag.Rst)));
    assert.equal(net.b.tcb.error, 'ECONNRESET');
  });

  it('abort() sends a reset and the peer reports ECONNRESET', () => {
    const net = new Network();
    net.establish();
    net.a.tcb.abort();
    net.run(net.clock.t + 50);
    assert.equal(net.a.tcb.state, TcpState.Closed);
    assert.equal(net.a.tcb.error, null);
    assert.equal(net.b.tcb.state, TcpState.Closed);
    assert.equal(net.b.tcb.error, 'ECONNRESET');
    const codes = net.b.events.map((e) => e.event);
    assert.deepEqual(codes.slice(-2), [TcpEvent.Error, TcpEvent.Closed]);
  });

  it('a lost FIN is retransmitted', () => {
    const net = new Network();
    net.establish();
    let dropped = false;
    net.filter = (from, s) => !(from.name === 'A' && isFin(s) && !dropped && (dropped = true));
    net.a.tcb.shutdown();
    net.run(net.clock.t + 5000, () => net.a.tcb.state === TcpState.FinWait2);
    assert.equal(net.a.tcb.state, TcpState.FinWait2);
    assert.equal(net.segmentsFrom('A', isFin).length, 2);
  });
});

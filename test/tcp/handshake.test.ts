// Opening connections (RFC 9293 3.5, 3.10.7.2-3): three-way handshake, options negotiation,
// simultaneous open, lost SYN / SYN-ACK, SYN retries ending in ETIMEDOUT, refused connections.

import assert from 'node:assert/strict';
import { TcpFlag } from '../../ts/wire/tcp.js';
import { TcpEvent } from '../../ts/socket/tcp/host.js';
import { TcpState } from '../../ts/socket/tcp/state.js';
import { CLEAN_LINK, hasFlag, Network, type Sent } from './harness.js';

const isSyn = (s: Sent): boolean => hasFlag(s, TcpFlag.Syn);

describe('tcp handshake', () => {
  it('completes a three-way handshake with every option negotiated', () => {
    const net = new Network();
    net.a.iss = 0x11111111;
    net.b.iss = 0x22222222;
    net.establish();
    const [s1, s2, s3] = net.log;
    assert.deepEqual([s1.from, s1.flags, s1.seq], ['A', TcpFlag.Syn, 0x11111111]);
    assert.deepEqual([s2.from, s2.flags, s2.seq], ['B', TcpFlag.Syn | TcpFlag.Ack, 0x22222222]);
    assert.equal(s2.ack, 0x11111112);
    assert.deepEqual(
      [s3.from, s3.flags, s3.seq, s3.ack],
      ['A', TcpFlag.Ack, 0x11111112, 0x22222223],
    );
    for (const s of [s1, s2]) {
      assert.equal(s.mss, 1460);
      assert.equal(s.windowScale, 7, '4 MiB receive buffer cap needs shift 7');
      assert.ok(s.sackPermitted && s.hasTimestamps);
    }
    assert.equal(s3.mss, -1, 'MSS only in SYNs');
    assert.ok(s3.hasTimestamps, 'timestamps on every segment (RFC 7323 3.2)');
    for (const ep of [net.a, net.b]) {
      const t = ep.tcb;
      assert.ok(t.sackOk && t.tsOk);
      assert.deepEqual([t.sndShift, t.rcvShift, t.sendMss, t.smss()], [7, 7, 1460, 1448]);
      assert.ok(ep.has(TcpEvent.Connected));
      assert.ok(t.rtt.hasSample, 'the handshake gives an RTT sample');
      assert.ok(Math.abs(t.rtt.srtt - 10) < 1, `srtt ${t.rtt.srtt}`);
    }
    assert.equal(net.a.tcb.state, TcpState.Established);
  });

  it('negotiates down to what the passive side supports and clamps the MSS', () => {
    const net = new Network(
      CLEAN_LINK,
      1,
      {},
      {
        sack: false,
        timestamps: false,
        windowScaling: false,
        mss: 1000,
      },
    );
    net.establish();
    const synAck = net.log[1];
    assert.deepEqual(
      [synAck.mss, synAck.windowScale, synAck.sackPermitted, synAck.hasTimestamps],
      [1000, -1, false, false],
    );
    for (const t of [net.a.tcb, net.b.tcb]) {
      assert.ok(!t.sackOk && !t.tsOk);
      assert.deepEqual([t.sndShift, t.rcvShift, t.sendMss], [0, 0, 1000]);
    }
    assert.ok(net.log[2].window <= 0xffff);
  });

  it('answers only the options offered: no window scale in the SYN-ACK if the SYN had none', () => {
    const net = new Network(CLEAN_LINK, 1, { windowScaling: false }, {});
    net.establish();
    assert.equal(net.log[1].windowScale, -1);
    assert.equal(net.b.tcb.rcvShift, 0);
    assert.ok(net.b.tcb.sackOk && net.b.tcb.tsOk);
  });

  it('handles a simultaneous open (RFC 9293 3.5 figure 7)', () => {
    const net = new Network();
    net.a.tcb.connect();
    net.b.tcb.connect();
    net.run(
      10_000,
      () => net.a.tcb.state === TcpState.Established && net.b.tcb.state === TcpState.Established,
    );
    assert.equal(net.a.tcb.state, TcpState.Established);
    assert.equal(net.b.tcb.state, TcpState.Established);
    const synAcks = net.log.filter((s) => s.flags === (TcpFlag.Syn | TcpFlag.Ack));
    assert.deepEqual(synAcks.map((s) => s.from).sort(), ['A', 'B']);
    assert.equal(net.a.tcb.rcvNxt, (net.b.tcb.iss + 1) >>> 0);
    assert.equal(net.b.tcb.rcvNxt, (net.a.tcb.iss + 1) >>> 0);
  });

  it('retransmits a lost SYN after 1 s and a lost SYN-ACK on its own timer', () => {
    const net = new Network();
    const dropped = new Set<string>();
    net.filter = (from, s) => {
      if (!isSyn(s) || dropped.has(from.name)) return true;
      dropped.add(from.name); // the first SYN and the first SYN-ACK
      return false;
    };
    net.establish();
    assert.deepEqual(
      net.segmentsFrom('A', isSyn).map((s) => s.time),
      [0, 1000],
    );
    assert.deepEqual(
      net.segmentsFrom('B', isSyn).map((s) => s.time),
      [1005, 2005],
    );
  });

  it('SYN-RECEIVED answers a retransmitted SYN with the SYN-ACK again', () => {
    const net = new Network();
    let first = true;
    net.filter = (from, s) => !(from.name === 'B' && isSyn(s) && first && !(first = false));
    net.b.tcb.listen();
    net.a.tcb.connect();
    net.run(100);
    assert.equal(net.b.tcb.state, TcpState.SynReceived);
    const synAcksBefore = net.segmentsFrom('B', isSyn).length;
    net.inject(net.b, { seq: net.a.tcb.iss, ack: 0, flags: TcpFlag.Syn });
    net.run(200);
    assert.equal(net.segmentsFrom('B', isSyn).length, synAcksBefore + 1);
    assert.equal(net.a.tcb.state, TcpState.Established);
    assert.equal(net.b.tcb.state, TcpState.Established);
  });

  it('gives up after synRetries with ETIMEDOUT, backing off exponentially', () => {
    const net = new Network(CLEAN_LINK, 1, { synRetries: 4 });
    net.filter = () => false;
    net.b.tcb.listen();
    net.a.tcb.connect();
    net.run(1_000_000);
    const times = net.segmentsFrom('A', isSyn).map((s) => s.time);
    assert.deepEqual(times, [0, 1000, 3000, 7000, 15000]);
    assert.equal(net.a.tcb.state, TcpState.Closed);
    assert.equal(net.a.tcb.error, 'ETIMEDOUT');
    const err = net.a.events.find((e) => e.event === TcpEvent.Error);
    assert.equal(err?.time, 31000);
    assert.ok(net.a.has(TcpEvent.Closed));
  });

  it('reports ECONNREFUSED when the SYN is answered by a reset', () => {
    const net = new Network();
    net.a.tcb.connect(); // B is CLOSED: the harness answers with fillResetFor
    net.run(10_000);
    assert.equal(net.a.tcb.state, TcpState.Closed);
    assert.equal(net.a.tcb.error, 'ECONNREFUSED');
    const rst = net.segmentsFrom('B')[0];
    assert.equal(rst.flags, TcpFlag.Rst | TcpFlag.Ack);
    assert.equal(rst.ack, (net.a.tcb.iss + 1) >>> 0);
  });

  it('in SYN-SENT ignores a reset without an acceptable ACK (RFC 5961 3)', () => {
    const net = new Network();
    net.filter = () => false;
    net.a.tcb.connect();
    net.inject(net.a, { seq: 0, ack: 0, flags: TcpFlag.Rst }, 1);
    net.inject(net.a, { seq: 0, ack: 12345, flags: TcpFlag.Rst | TcpFlag.Ack }, 2);
    net.run(500);
    assert.equal(net.a.tcb.state, TcpState.SynSent);
    net.inject(net.a, { seq: 0, ack: net.a.tcb.iss + 1, flags: TcpFlag.Rst | TcpFlag.Ack });
    net.run(600);
    assert.equal(net.a.tcb.error, 'ECONNREFUSED');
  });

  it('LISTEN answers a stray ACK with <SEQ=SEG.ACK><CTL=RST> and ignores RSTs', () => {
    const net = new Network();
    net.b.tcb.listen();
    net.inject(net.b, { seq: 5, ack: 9999, flags: TcpFlag.Ack });
    net.inject(net.b, { seq: 5, ack: 0, flags: TcpFlag.Rst });
    net.run(100);
    const out = net.segmentsFrom('B');
    assert.equal(out.length, 1);
    assert.deepEqual([out[0].flags, out[0].seq], [TcpFlag.Rst, 9999]);
    assert.equal(net.b.tcb.state, TcpState.Listen);
  });

  it('SYN-SENT answers an unacceptable ACK with a reset (RFC 9293 3.10.7.3)', () => {
    const net = new Network();
    net.filter = (from) => from.name !== 'A' || net.log.length > 1;
    net.a.iss = 5000;
    net.a.tcb.connect();
    net.inject(net.a, { seq: 77, ack: 4000, flags: TcpFlag.Syn | TcpFlag.Ack });
    net.run(100);
    const rst = net.segmentsFrom('A').find((s) => hasFlag(s, TcpFlag.Rst));
    assert.equal(rst?.seq, 4000);
    assert.equal(net.a.tcb.state, TcpState.SynSent);
  });

  it('queues data written before the handshake completes and sends it after', () => {
    const net = new Network();
    net.b.tcb.listen();
    net.a.tcb.connect();
    assert.equal(net.a.tcb.write(new Uint8Array(100).fill(7), 0, 100), 100);
    net.run(1000);
    assert.equal(net.b.tcb.readable(), 100);
  });
});

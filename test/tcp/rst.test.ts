// Blind attacks of RFC 5961: RSTs (3), SYNs (4) and data (5) from an off-path attacker who does
// not know the exact sequence numbers, challenge ACKs and their rate limit (7), and PAWS
// (RFC 7323 5).

import assert from 'node:assert/strict';
import { TcpFlag, TcpOptions } from '../../ts/wire/tcp.js';
import { TcpState } from '../../ts/socket/tcp/state.js';
import { CLEAN_LINK, Network } from './harness.js';

function established(config = {}): Network {
  const net = new Network(CLEAN_LINK, 1, config, config);
  net.establish();
  net.run(net.clock.t + 100);
  return net;
}

describe('tcp RFC 5961 protections', () => {
  it('a RST with exactly RCV.NXT resets the connection (ECONNRESET)', () => {
    const net = established();
    net.inject(net.b, { seq: net.b.tcb.rcvNxt, ack: 0, flags: TcpFlag.Rst });
    net.run(net.clock.t + 1);
    assert.equal(net.b.tcb.state, TcpState.Closed);
    assert.equal(net.b.tcb.error, 'ECONNRESET');
  });

  it('a RST inside the window but not at RCV.NXT gets a challenge ACK and changes nothing', () => {
    const net = established();
    const before = net.segmentsFrom('B').length;
    net.inject(net.b, { seq: net.b.tcb.rcvNxt + 1000, ack: 0, flags: TcpFlag.Rst });
    net.run(net.clock.t + 1);
    assert.equal(net.b.tcb.state, TcpState.Established);
    const challenge = net.segmentsFrom('B').slice(before);
    assert.equal(challenge.length, 1);
    assert.equal(net.b.ctx.stats.challengeAcks, 1, 'TCPChallengeACK');
    assert.equal(net.b.ctx.stats.synChallenges, 0, 'TCPSYNChallenge');
    assert.deepEqual(
      [challenge[0].flags, challenge[0].seq, challenge[0].ack],
      [TcpFlag.Ack, net.b.tcb.sndNxt, net.b.tcb.rcvNxt],
    );
    // The real peer answers the challenge ACK with nothing (it is a valid ACK to it); the
    // connection keeps working.
    net.run(net.clock.t + 100);
    net.a.tcb.write(new Uint8Array(10), 0, 10);
    net.run(net.clock.t + 100);
    assert.equal(net.b.tcb.readable(), 10);
  });

  it('a RST outside the window is dropped silently', () => {
    const net = established();
    const before = net.segmentsFrom('B').length;
    net.inject(net.b, { seq: net.b.tcb.rcvNxt + 0x10000000, ack: 0, flags: TcpFlag.Rst });
    net.inject(net.b, { seq: net.b.tcb.rcvNxt - 1, ack: 0, flags: TcpFlag.Rst });
    net.run(net.clock.t + 1);
    assert.equal(net.b.tcb.state, TcpState.Established);
    assert.equal(net.segmentsFrom('B').length, before);
    assert.equal(net.b.ctx.stats.challengeAcks, 0, 'TCPChallengeACK');
  });

  it('any SYN in a synchronized state gets a challenge ACK and is dropped (RFC 5961 4.2)', () => {
    const net = established();
    const before = net.segmentsFrom('B').length;
    net.inject(net.b, { seq: net.b.tcb.rcvNxt, ack: 0, flags: TcpFlag.Syn });
    net.inject(net.b, { seq: net.b.tcb.rcvNxt + 77, ack: 0, flags: TcpFlag.Syn });
    net.run(net.clock.t + 1);
    assert.equal(net.b.tcb.state, TcpState.Established);
    const replies = net.segmentsFrom('B').slice(before);
    assert.ok(replies.length >= 1 && replies.every((s) => s.flags === TcpFlag.Ack));
    // Linux counts each SYN (TCPSYNChallenge) and each challenge ACK it sends (TCPChallengeACK).
    assert.equal(net.b.ctx.stats.synChallenges, 2, 'TCPSYNChallenge');
    assert.equal(net.b.ctx.stats.challengeAcks, 2, 'TCPChallengeACK');
  });

  it('drops data whose ACK is older than SND.UNA - MAX.SND.WND (RFC 5961 5.2)', () => {
    const net = established();
    const b = net.b.tcb;
    const before = net.segmentsFrom('B').length;
    const oldAck = (b.sndUna - b.maxSndWnd - 1) >>> 0;
    net.inject(net.b, {
      seq: b.rcvNxt,
      ack: oldAck,
      flags: TcpFlag.Ack,
      payload: new Uint8Array(100),
    });
    net.run(net.clock.t + 1);
    assert.equal(b.readable(), 0, 'injected data not accepted');
    assert.equal(net.segmentsFrom('B').slice(before).length, 1, 'challenge ACK');
    assert.equal(net.b.ctx.stats.challengeAcks, 1, 'TCPChallengeACK');
    // An ACK within MAX.SND.WND behind SND.UNA is fine.
    net.inject(net.b, {
      seq: b.rcvNxt,
      ack: b.sndUna,
      flags: TcpFlag.Ack,
      payload: new Uint8Array(100),
    });
    net.run(net.clock.t + 100);
    assert.equal(b.readable(), 100);
  });

  it('drops a segment acknowledging data never sent, answering with an ACK', () => {
    const net = established();
    const b = net.b.tcb;
    const before = net.segmentsFrom('B').length;
    net.inject(net.b, {
      seq: b.rcvNxt,
      ack: b.sndNxt + 5000,
      flags: TcpFlag.Ack,
      payload: new Uint8Array(100),
    });
    net.run(net.clock.t + 1);
    assert.equal(b.readable(), 0);
    assert.equal(b.sndUna, b.sndNxt);
    assert.equal(net.segmentsFrom('B').slice(before).length, 1);
  });

  it('rate-limits challenge ACKs (RFC 5961 7)', () => {
    const net = established({ challengeAckLimit: 5 });
    const before = net.segmentsFrom('B').length;
    for (let i = 0; i < 50; i++) {
      net.inject(net.b, { seq: net.b.tcb.rcvNxt + 10 + i, ack: 0, flags: TcpFlag.Rst });
    }
    net.run(net.clock.t + 1);
    assert.equal(net.segmentsFrom('B').slice(before).length, 5);
    assert.equal(net.b.ctx.stats.challengeAcks, 5, 'TCPChallengeACK');
    assert.equal(net.b.ctx.stats.ackSkippedChallenges, 45, 'TCPACKSkippedChallenge');
    net.run(net.clock.t + 1000);
    net.inject(net.b, { seq: net.b.tcb.rcvNxt + 10, ack: 0, flags: TcpFlag.Rst });
    net.run(net.clock.t + 1);
    assert.equal(net.segmentsFrom('B').slice(before).length, 6, 'a new second, a new budget');
  });

  it('PAWS drops a segment with an old timestamp and ACKs it (RFC 7323 5.3)', () => {
    const net = established();
    const b = net.b.tcb;
    const o = new TcpOptions();
    o.hasTimestamps = true;
    o.tsVal = 1;
    o.tsEcr = 0;
    const before = net.segmentsFrom('B').length;
    net.inject(net.b, {
      seq: b.rcvNxt,
      ack: b.sndNxt,
      flags: TcpFlag.Ack,
      payload: new Uint8Array(50),
      options: o,
    });
    net.run(net.clock.t + 1);
    assert.equal(b.readable(), 0);
    assert.equal(net.segmentsFrom('B').slice(before).length, 1);
  });

  it('a RST in SYN-RECEIVED of a passive open closes quietly', () => {
    const net = new Network();
    net.filter = (from) => from.name !== 'B';
    net.b.tcb.listen();
    net.a.tcb.connect();
    net.run(6);
    assert.equal(net.b.tcb.state, TcpState.SynReceived);
    net.inject(net.b, { seq: net.b.tcb.rcvNxt, ack: 0, flags: TcpFlag.Rst });
    net.run(7);
    assert.equal(net.b.tcb.state, TcpState.Closed);
    assert.equal(net.b.tcb.error, null);
  });
});

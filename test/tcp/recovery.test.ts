// Loss recovery: SACK-based recovery of several holes in one window (RFC 6675), NewReno partial
// ACKs without SACK (RFC 6582), RTO with exponential backoff (RFC 6298), giving up after
// maxRetries or the user timeout, and a lost retransmission.

import assert from 'node:assert/strict';
import { TcpEvent } from '../../ts/socket/tcp/host.js';
import { TcpState } from '../../ts/socket/tcp/state.js';
import { BulkTransfer, CLEAN_LINK, Network, type Sent, isRst } from './harness.js';
import type { TcpConfig } from '../../ts/socket/tcp/config.js';

const MSS = 1448;

/** Drop the first transmission of the segments starting at these stream offsets. */
function dropOnce(net: Network, offsets: number[]): Set<number> {
  const base = (net.a.tcb.sndNxt + 0) >>> 0;
  const pending = new Set(offsets.map((o) => (base + o) >>> 0));
  net.filter = (from, s) => {
    if (from.name !== 'A' || s.len === 0 || !pending.has(s.seq)) return true;
    pending.delete(s.seq);
    return false;
  };
  return pending;
}

function retransmissions(net: Network): Sent[] {
  const seen = new Set<number>();
  const out: Sent[] = [];
  for (const s of net.segmentsFrom('A', (x) => x.len > 0)) {
    if (seen.has(s.seq)) out.push(s);
    seen.add(s.seq);
  }
  return out;
}

function bigWindowNet(config: Partial<TcpConfig>): Network {
  const net = new Network({ ...CLEAN_LINK, delayMs: 10 }, 1, config, config);
  net.establish();
  return net;
}

describe('tcp loss recovery', () => {
  it('SACK recovers four holes in one window with four retransmissions and no timeout', () => {
    const net = bigWindowNet({ noDelay: true });
    const timeouts = net.countTimeouts(net.a);
    const holes = [3, 6, 9, 12].map((i) => i * MSS);
    dropOnce(net, holes);
    const bulk = new BulkTransfer(net.a, net.b, 40 * MSS);
    bulk.pump();
    const t0 = net.clock.t;
    net.run(t0 + 10_000, () => bulk.received === 40 * MSS);
    assert.equal(bulk.received, 40 * MSS);
    assert.equal(bulk.mismatch, -1);
    assert.equal(timeouts.count, 0, 'no RTO');
    const rtx = retransmissions(net);
    assert.equal(rtx.length, 4, 'each hole retransmitted once, nothing else');
    assert.ok(
      rtx.every((s) => s.time < t0 + 2 * 20 + 5),
      `within ~2 RTTs: ${rtx.map((s) => s.time - t0)}`,
    );
    // The receiver reported the holes with several SACK blocks at once.
    assert.ok(net.segmentsFrom('B').some((s) => s.sackCount >= 3));
  });

  it('NewReno without SACK repairs several holes through partial ACKs, one per RTT', () => {
    const net = bigWindowNet({ noDelay: true, sack: false, congestion: 'newreno' });
    const timeouts = net.countTimeouts(net.a);
    dropOnce(net, [3 * MSS, 6 * MSS, 9 * MSS]);
    const bulk = new BulkTransfer(net.a, net.b, 40 * MSS);
    bulk.pump();
    net.run(net.clock.t + 10_000, () => bulk.received === 40 * MSS);
    assert.equal(bulk.received, 40 * MSS);
    assert.equal(timeouts.count, 0);
    const rtx = retransmissions(net);
    assert.equal(rtx.length, 3);
    const gaps = rtx.slice(1).map((s, i) => s.time - rtx[i].time);
    assert.ok(
      gaps.every((g) => g >= 19 && g <= 25),
      `one RTT apart: ${gaps}`,
    );
  });

  it('retransmits on RTO with exponential backoff and gives up after maxRetries', () => {
    const net = bigWindowNet({ maxRetries: 5, noDelay: true });
    net.filter = (from, s) => !(from.name === 'A' && s.len > 0);
    const t0 = net.clock.t;
    net.a.tcb.write(new Uint8Array(1000), 0, 1000);
    net.run(t0 + 600_000);
    const sends = net.segmentsFrom('A', (s) => s.len > 0).map((s) => s.time - t0);
    assert.equal(sends.length, 6, 'original + 5 retransmissions');
    const gaps = sends.slice(1).map((t, i) => t - sends[i]);
    for (let i = 1; i < gaps.length; i++) assert.equal(gaps[i], 2 * gaps[i - 1]);
    assert.ok(gaps[0] >= 200, 'RTO at least minRto');
    assert.equal(net.a.tcb.error, 'ETIMEDOUT');
    assert.equal(net.a.tcb.state, TcpState.Closed);
    assert.ok(isRst(net.segmentsFrom('A').at(-1)!), 'the peer is told');
  });

  it('caps the backoff at maxRtoMs', () => {
    const net = bigWindowNet({ maxRetries: 10, maxRtoMs: 1000, noDelay: true });
    net.filter = (from, s) => !(from.name === 'A' && s.len > 0);
    const t0 = net.clock.t;
    net.a.tcb.write(new Uint8Array(10), 0, 10);
    net.run(t0 + 600_000);
    const sends = net.segmentsFrom('A', (s) => s.len > 0).map((s) => s.time);
    const gaps = sends.slice(1).map((t, i) => t - sends[i]);
    assert.deepEqual(gaps.slice(-3), [1000, 1000, 1000]);
  });

  it('honours the user timeout (RFC 5482 / RFC 9293 3.8.3)', () => {
    const net = bigWindowNet({ userTimeoutMs: 3000, noDelay: true });
    net.filter = (from, s) => !(from.name === 'A' && s.len > 0);
    const t0 = net.clock.t;
    net.a.tcb.write(new Uint8Array(10), 0, 10);
    net.run(t0 + 600_000);
    const err = net.a.events.find((e) => e.event === TcpEvent.Error)!;
    assert.equal(net.a.tcb.error, 'ETIMEDOUT');
    assert.ok(err.time - t0 >= 3000 && err.time - t0 < 8000, `gave up at ${err.time - t0}`);
  });

  it('gives up once at the user timeout when its end spans a power of two of the clock', () => {
    // The first retransmission plus the user timeout can round down across 2^26 ms; the timer
    // clamped to that sum must then end the connection, not resend again for the same instant.
    let spanned = 0;
    for (let i = 0; i < 200; i++) {
      const net = new Network({ ...CLEAN_LINK, delayMs: 10 }, 1, { userTimeoutMs: 3000 });
      net.clock.t = 2 ** 26 - 3300 + i * 0.7312345;
      net.establish();
      net.filter = (from, s) => !(from.name === 'A' && s.len > 0);
      net.a.tcb.write(new Uint8Array(10), 0, 10);
      net.run(net.clock.t + 60_000);
      assert.equal(net.a.tcb.error, 'ETIMEDOUT');
      const sends = net.segmentsFrom('A', (s) => s.len > 0).map((s) => s.time);
      assert.equal(new Set(sends).size, sends.length, `case ${i}: resent twice at one instant`);
      const first = (net.a.tcb as unknown as { firstRtxTime: number }).firstRtxTime;
      if (first + 3000 - first < 3000) spanned++;
    }
    assert.ok(spanned > 0, 'some cases have a sum that rounds down');
  });

  it('recovers when the fast retransmission itself is lost (RTO, then go-back from SND.UNA)', () => {
    const net = bigWindowNet({ noDelay: true });
    const timeouts = net.countTimeouts(net.a);
    const base = net.a.tcb.sndNxt;
    let drops = 0;
    net.filter = (from, s) =>
      !(from.name === 'A' && s.seq === (base + 5 * MSS) >>> 0 && drops++ < 2);
    const bulk = new BulkTransfer(net.a, net.b, 30 * MSS);
    bulk.pump();
    net.run(net.clock.t + 10_000, () => bulk.received === 30 * MSS);
    assert.equal(bulk.received, 30 * MSS);
    assert.equal(drops, 3, 'original, fast retransmit, then the RTO retransmission got through');
    assert.equal(timeouts.count, 1);
  });

  it('resets the backoff once new data is acknowledged', () => {
    const net = bigWindowNet({ noDelay: true });
    let drop = 3;
    net.filter = (from, s) => !(from.name === 'A' && s.len > 0 && drop-- > 0);
    net.a.tcb.write(new Uint8Array(100), 0, 100);
    net.run(net.clock.t + 10_000, () => net.a.tcb.unacknowledged() === 0);
    assert.equal(net.a.tcb.unacknowledged(), 0);
    assert.equal(net.a.tcb.rtt.backoffCount, 0);
    assert.ok(net.a.tcb.rtt.rto < 1000);
  });
});

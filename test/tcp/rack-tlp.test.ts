// RACK-TLP (RFC 8985): a tail loss is repaired by a probe about two round trips after the last
// segment, not by a retransmission timeout; RACK's time-based detection repairs a loss in a flight
// too small for three duplicate ACKs. Each test runs with the feature off as the control, which
// needs a retransmission timeout for the same loss.

import assert from 'node:assert/strict';
import type { TcpConfig } from '../../ts/socket/tcp/config.js';
import { Rack } from '../../ts/socket/tcp/rack.js';
import { SackScoreboard } from '../../ts/socket/tcp/sack-scoreboard.js';
import { CLEAN_LINK, Network } from './harness.js';

const MSS = 1448;
const ONE_WAY_MS = 10;

function net(config: Partial<TcpConfig>): Network {
  const n = new Network({ ...CLEAN_LINK, delayMs: ONE_WAY_MS }, 1, config, config);
  n.establish();
  return n;
}

/** Drop the first transmission of the data segments starting at these stream offsets. */
function dropOnce(n: Network, offsets: number[]): void {
  const base = n.a.tcb.sndNxt >>> 0;
  const pending = new Set(offsets.map((o) => (base + o) >>> 0));
  n.filter = (from, s) => {
    if (from.name !== 'A' || s.len === 0 || !pending.has(s.seq)) return true;
    pending.delete(s.seq);
    return false;
  };
}

interface Outcome {
  doneAt: number;
  timeouts: number;
  probes: number;
  probeRecoveries: number;
  srtt: number;
  rto: number;
}

/** Warm up the RTT, then send `segments` full segments with the last `lost` dropped once. */
function tailLoss(config: Partial<TcpConfig>, segments: number, lost: number): Outcome {
  const n = net({ noDelay: true, ...config });
  const tcb = n.a.tcb;
  const warm = new Uint8Array(MSS);
  tcb.write(warm, 0, MSS);
  n.run(n.clock.t + 1000, () => tcb.sndUna === tcb.sndNxt);
  const offsets = [];
  for (let i = segments - lost; i < segments; i++) offsets.push(i * MSS);
  dropOnce(n, offsets);
  const timeouts = n.countTimeouts(n.a);
  const stats = n.a.ctx.stats;
  const probes0 = stats.lossProbes;
  const recov0 = stats.lossProbeRecovery;
  const srtt = tcb.rtt.srtt;
  const rto = tcb.rtt.rto;
  const t0 = n.clock.t;
  tcb.write(new Uint8Array(segments * MSS), 0, segments * MSS);
  const done = n.run(t0 + 60_000, () => tcb.sndUna === tcb.sndNxt);
  assert.ok(done, 'the flight was acknowledged');
  return {
    doneAt: n.clock.t - t0,
    timeouts: timeouts.count,
    probes: stats.lossProbes - probes0,
    probeRecoveries: stats.lossProbeRecovery - recov0,
    srtt,
    rto,
  };
}

describe('tcp RACK-TLP (RFC 8985)', () => {
  it('repairs a tail loss of 2 segments with a probe after ~2 SRTT, not an RTO', () => {
    const on = tailLoss({}, 8, 2);
    assert.equal(on.timeouts, 0, 'no retransmission timeout');
    assert.equal(on.probes, 1, 'one probe for the tail');
    assert.equal(on.probeRecoveries, 1, 'TCPLossProbeRecovery counts the repair');
    // Flight out (1 RTT) + PTO (2 SRTT) + probe and repair (1-2 RTT), well below the RTO.
    assert.ok(on.doneAt < 6 * on.srtt, `done after ${on.doneAt} ms (srtt ${on.srtt})`);
    assert.ok(on.doneAt < on.rto, `done after ${on.doneAt} ms, RTO ${on.rto}`);

    const off = tailLoss({ tlp: false, rack: false }, 8, 2);
    assert.ok(off.timeouts >= 1, 'without RACK-TLP the tail needs an RTO');
    assert.equal(off.probes, 0);
    assert.ok(off.doneAt >= off.rto, `control done after ${off.doneAt} ms`);
  });

  it('repairs a 1-segment tail loss after 2 SRTT + WCDelAckT when that beats the RTO', () => {
    // One segment in flight: the PTO adds the worst-case delayed ACK (RFC 8985 7.2), so with
    // Linux's 200 ms minimum RTO the probe would go no sooner than the RTO; with RFC 6298's 1 s
    // minimum it repairs the tail long before.
    const cfg = { minRtoMs: 1000 };
    const on = tailLoss(cfg, 8, 1);
    assert.equal(on.timeouts, 0);
    assert.equal(on.probes, 1);
    assert.equal(on.probeRecoveries, 1);
    const pto = 2 * on.srtt + 200;
    // The last ACK before the tail may be a delayed one (40 ms); the PTO runs from it.
    assert.ok(on.doneAt < pto + 40 + 4 * on.srtt, `done after ${on.doneAt} ms (PTO ${pto})`);
    const off = tailLoss({ ...cfg, tlp: false, rack: false }, 8, 1);
    assert.ok(off.timeouts >= 1);
    assert.ok(off.doneAt >= 1000);
  });

  it('RACK alone repairs a loss in a flight too small for three duplicate ACKs', () => {
    // Three segments, the first lost: two SACKs, below DupThresh, and no tail to probe.
    const run = (rack: boolean): Outcome => {
      const n = net({ noDelay: true, tlp: false, rack });
      const tcb = n.a.tcb;
      tcb.write(new Uint8Array(MSS), 0, MSS);
      n.run(n.clock.t + 1000, () => tcb.sndUna === tcb.sndNxt);
      dropOnce(n, [0]);
      const timeouts = n.countTimeouts(n.a);
      const t0 = n.clock.t;
      tcb.write(new Uint8Array(3 * MSS), 0, 3 * MSS);
      assert.ok(n.run(t0 + 60_000, () => tcb.sndUna === tcb.sndNxt));
      return {
        doneAt: n.clock.t - t0,
        timeouts: timeouts.count,
        probes: n.a.ctx.stats.rackLost,
        probeRecoveries: 0,
        srtt: tcb.rtt.srtt,
        rto: tcb.rtt.rto,
      };
    };
    const on = run(true);
    assert.equal(on.timeouts, 0);
    assert.ok(on.probes >= 1, 'RACK marked the segment lost');
    // Lost after RTT + min_RTT/4 from its sending; repaired one RTT later.
    assert.ok(on.doneAt < 3 * on.srtt, `done after ${on.doneAt} ms (srtt ${on.srtt})`);
    const off = run(false);
    assert.ok(off.timeouts >= 1, 'without RACK it takes an RTO');
  });

  it('sends new data as the probe when the window allows, and then no loss is counted', () => {
    // The ACKs of a cwnd-limited flight are lost: the probe carries new data past cwnd, and its
    // ACK covers everything (TLP of new data delivered, RFC 8985 7.4.2: no congestion response).
    const n = net({ noDelay: true });
    const tcb = n.a.tcb;
    tcb.write(new Uint8Array(MSS), 0, MSS);
    n.run(n.clock.t + 1000, () => tcb.sndUna === tcb.sndNxt);
    const t0 = n.clock.t;
    n.filter = (from) => !(from.name === 'B' && n.clock.t < t0 + 2 * ONE_WAY_MS + 5);
    const stats = n.a.ctx.stats;
    const probes0 = stats.lossProbes;
    const recov0 = stats.lossProbeRecovery;
    const total = 2 * tcb.cc.cwnd;
    tcb.write(new Uint8Array(total), 0, total);
    const firstFlightEnd = tcb.sndNxt;
    const timeouts = n.countTimeouts(n.a);
    n.run(t0 + 60_000, () => stats.lossProbes > probes0);
    const probe = n.log[n.log.length - 1];
    assert.equal(probe.seq, firstFlightEnd, 'the probe is the next new segment');
    assert.ok(n.run(t0 + 60_000, () => tcb.sndUna === tcb.sndNxt));
    assert.equal(timeouts.count, 0);
    assert.equal(stats.lossProbes - probes0, 1);
    assert.equal(stats.lossProbeRecovery - recov0, 0, 'nothing was lost');
  });

  it('resends the last segment sent when the receive window holds the rest back', () => {
    // The receiver's window closes on a flight whose ACKs are lost: the probe may not carry the
    // data queued behind it, which was never sent and lies outside the window (RFC 8985 7.3).
    const n = new Network(
      { ...CLEAN_LINK, delayMs: ONE_WAY_MS },
      1,
      { noDelay: true },
      { receiveBufferBytes: 6 * MSS },
    );
    n.establish();
    const tcb = n.a.tcb;
    const t0 = n.clock.t;
    n.filter = (from) => from.name !== 'B' || n.clock.t >= t0 + 5000;
    const probes0 = n.a.ctx.stats.lossProbes;
    tcb.write(new Uint8Array(64 * MSS), 0, 64 * MSS);
    const flightEnd = tcb.sndNxt;
    assert.equal((tcb.sndUna + tcb.sndWnd - flightEnd) | 0, 0, 'the window is full');
    assert.ok(n.run(t0 + 5000, () => n.a.ctx.stats.lossProbes > probes0));
    const probe = n.segmentsFrom('A').at(-1)!;
    assert.equal(probe.len, MSS);
    assert.equal((probe.seq + probe.len) >>> 0, flightEnd >>> 0, 'the probe ends at SND.NXT');
  });

  it('is off when configured so (rack: false, tlp: false), and both need SACK', () => {
    const n = net({ rack: false, tlp: false });
    assert.equal(n.a.tcb.rack, null);
    const noSack = tailLoss({ sack: false }, 8, 1);
    assert.equal(noSack.probes, 0, 'TLP needs SACK (as Linux)');
  });
});

describe('tcp RACK records (RFC 8985 6.2)', () => {
  it('marks lost what was sent before a delivered segment once RTT + reo_wnd passed', () => {
    const rack = new Rack();
    const sb = new SackScoreboard();
    for (let i = 0; i < 4; i++) rack.onTransmit(i * 100, (i + 1) * 100, i, true);
    // Segment 3 SACKed at t=20: RTT 17 ms from its sending.
    sb.addBlock(300, 400, 0, 400);
    rack.onAck(0, sb, 20);
    assert.equal(rack.rtt, 17);
    assert.equal(rack.minRtt, 17);
    rack.detect(20, 4);
    assert.equal(rack.anyLost, false, 'segment 0 waits until 0 + 17 + 4');
    assert.equal(rack.timeout, 3, 'the timer waits for the last candidate (segment 2)');
    rack.detect(21, 4);
    assert.ok(rack.anyLost && rack.newlyLost);
    assert.equal(rack.lostEnd, 100, 'only segment 0 (segments 1 and 2 have time left)');
    rack.detect(23, 4);
    assert.equal(rack.lostEnd, 300, 'then segments 1 and 2');
    // A retransmission clears LOST; its ACK within min_RTT is taken for the original's.
    rack.onTransmit(0, 100, 30, false);
    rack.onAck(100, sb, 35);
    assert.equal(rack.xmitTs, 3, 'ambiguous ACK did not move RACK.xmit_ts');
    assert.equal(rack.size, 3);
  });

  it('sees reordering when a never-resent segment is delivered below RACK.fack', () => {
    const rack = new Rack();
    const sb = new SackScoreboard();
    for (let i = 0; i < 3; i++) rack.onTransmit(i * 100, (i + 1) * 100, i, true);
    sb.addBlock(200, 300, 0, 300);
    rack.onAck(0, sb, 10);
    assert.equal(rack.reord, false);
    rack.onAck(100, sb, 11);
    assert.equal(rack.reord, true);
    assert.ok(rack.reorderWindow(true, 3, 50) > 0, 'reordering keeps a window in recovery');
  });
});

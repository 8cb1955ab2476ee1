// Congestion controllers: RFC 6928 initial window, RFC 5681 slow start / congestion avoidance
// with RFC 3465 byte counting (NewReno), RFC 9438 CUBIC.

import assert from 'node:assert/strict';
import {
  createCongestionControl,
  Cubic,
  CUBIC_BETA,
  initialWindow,
  NewReno,
} from '../../ts/socket/tcp/congestion/index.js';

const MSS = 1448;

describe('tcp congestion', () => {
  it('initial window is min(10*MSS, max(2*MSS, 14600)) (RFC 6928)', () => {
    assert.equal(initialWindow(1460), 14600);
    assert.equal(initialWindow(536), 5360);
    assert.equal(initialWindow(9000), 18000);
    assert.equal(new NewReno(MSS).cwnd, 10 * MSS);
    assert.equal(new Cubic(MSS).cwnd, 10 * MSS);
    assert.equal(createCongestionControl('cubic', MSS).name, 'cubic');
    assert.equal(createCongestionControl('newreno', MSS).name, 'newreno');
  });

  it('NewReno slow start grows by at most 2*SMSS per ACK (RFC 3465 L=2)', () => {
    const cc = new NewReno(MSS);
    const w = cc.cwnd;
    cc.onAck(10 * MSS, true, 0, 10);
    assert.equal(cc.cwnd, w + 2 * MSS);
    cc.onAck(MSS, true, 0, 10);
    assert.equal(cc.cwnd, w + 3 * MSS);
  });

  it('NewReno does not grow a window the sender is not filling', () => {
    const cc = new NewReno(MSS);
    const w = cc.cwnd;
    cc.onAck(MSS, false, 0, 10);
    assert.equal(cc.cwnd, w);
  });

  it('NewReno congestion avoidance adds one SMSS per cwnd of bytes ACKed (RFC 3465 2.1)', () => {
    const cc = new NewReno(MSS);
    cc.onLoss(40 * MSS, 0);
    assert.equal(cc.ssthresh, 20 * MSS);
    assert.equal(cc.cwnd, 20 * MSS);
    for (let i = 0; i < 19; i++) cc.onAck(MSS, true, 0, 10);
    assert.equal(cc.cwnd, 20 * MSS);
    cc.onAck(MSS, true, 0, 10);
    assert.equal(cc.cwnd, 21 * MSS);
  });

  it('NewReno: loss halves FlightSize (at least 2*SMSS), timeout drops to one segment', () => {
    const cc = new NewReno(MSS);
    cc.onLoss(3 * MSS, 0);
    assert.equal(cc.ssthresh, 2 * MSS);
    cc.onTimeout(30 * MSS, 0);
    assert.equal(cc.ssthresh, 15 * MSS);
    assert.equal(cc.cwnd, MSS);
  });

  it('CUBIC reduces by beta = 0.7 and remembers W_max (RFC 9438 4.6)', () => {
    const cc = new Cubic(MSS);
    for (let i = 0; i < 90; i++) cc.onAck(MSS, true, 0, 10); // slow start to 100 segments
    assert.equal(cc.cwnd, 100 * MSS);
    cc.onLoss(100 * MSS, 0);
    assert.equal(cc.wMax, 100 * MSS);
    assert.equal(cc.ssthresh, Math.floor(100 * MSS * CUBIC_BETA));
    assert.equal(cc.cwnd, cc.ssthresh);
  });

  it('CUBIC fast convergence lowers W_max when losses come below the last W_max (RFC 9438 4.7)', () => {
    const cc = new Cubic(MSS);
    for (let i = 0; i < 90; i++) cc.onAck(MSS, true, 0, 10);
    cc.onLoss(100 * MSS, 0);
    cc.onLoss(cc.cwnd, 1);
    assert.ok(Math.abs(cc.wMax - (70 * MSS * (1 + CUBIC_BETA)) / 2) < MSS, `wMax ${cc.wMax / MSS}`);
  });

  it('CUBIC grows concave back to W_max, plateaus near K, then probes convexly (RFC 9438 4.2)', () => {
    const cc = new Cubic(MSS);
    for (let i = 0; i < 90; i++) cc.onAck(MSS, true, 0, 100);
    cc.onLoss(100 * MSS, 0);
    const rtt = 100; // ms
    const k = Math.cbrt((100 - 70) / 0.4); // seconds, RFC 9438 eq 2
    const samples: number[] = [];
    let t = 0;
    // One cwnd of ACKs per RTT, for 2K seconds.
    while (t < 2 * k * 1000) {
      const segs = Math.floor(cc.cwnd / MSS);
      for (let i = 0; i < segs; i++) cc.onAck(MSS, true, t + (i * rtt) / segs, rtt);
      t += rtt;
      samples.push(cc.cwnd / MSS);
    }
    const atK = samples[Math.round((k * 1000) / rtt) - 1];
    assert.ok(atK > 95 && atK < 106, `cwnd near K is ${atK} segments, W_max is 100`);
    const early = samples[5] - samples[0];
    const midK = Math.round((k * 1000) / rtt);
    const plateau = samples[midK + 2] - samples[midK - 3];
    const late = samples[samples.length - 1] - samples[samples.length - 6];
    assert.ok(early > plateau, `concave: ${early} > ${plateau}`);
    assert.ok(late > plateau, `convex: ${late} > ${plateau}`);
  });

  it('CUBIC follows the Reno-friendly estimate when it is ahead (RFC 9438 4.3)', () => {
    // Tiny RTT: W_cubic grows slowly in time, Reno-style growth per ACK wins.
    const cc = new Cubic(MSS);
    cc.onLoss(20 * MSS, 0);
    const start = cc.cwnd;
    let t = 0;
    for (let r = 0; r < 50; r++) {
      const segs = Math.floor(cc.cwnd / MSS);
      for (let i = 0; i < segs; i++) cc.onAck(MSS, true, t, 1);
      t += 1;
    }
    // W_cubic barely moves in 50 ms (K is about 2.5 s), so any real growth is Reno-friendly:
    // alpha ~0.53 segments per RTT up to W_max = 20 segments (~11 RTTs), then 1 per RTT.
    const grown = (cc.cwnd - start) / MSS;
    assert.ok(cc.wCubic(0.05) < start + MSS, 'the cubic curve alone would not grow');
    assert.ok(grown > 35 && grown < 50, `grew ${grown} segments`);
  });

  it('CUBIC timeout: cwnd one segment, ssthresh beta*flight (RFC 9438 4.8)', () => {
    const cc = new Cubic(MSS);
    cc.onTimeout(50 * MSS, 0);
    assert.equal(cc.cwnd, MSS);
    assert.equal(cc.ssthresh, Math.floor(50 * MSS * CUBIC_BETA));
  });
});

// RFC 6298 RTT estimation and RTO.

import assert from 'node:assert/strict';
import { DEFAULT_RTO_CONFIG, INITIAL_RTO_MS, RttEstimator } from '../../ts/socket/tcp/rto.js';

describe('tcp rto', () => {
  it('starts at 1 s and takes the first sample as SRTT, RTTVAR = R/2 (RFC 6298 2.1, 2.2)', () => {
    const r = new RttEstimator({ minRtoMs: 1, maxRtoMs: 60_000, granularityMs: 1 });
    assert.equal(r.rto, INITIAL_RTO_MS);
    r.sample(100);
    assert.equal(r.srtt, 100);
    assert.equal(r.rttvar, 50);
    assert.equal(r.rto, 300);
  });

  it('smooths later samples with alpha 1/8, beta 1/4 (RFC 6298 2.3)', () => {
    const r = new RttEstimator({ minRtoMs: 1, maxRtoMs: 60_000, granularityMs: 1 });
    r.sample(100);
    r.sample(200);
    assert.equal(r.rttvar, 0.75 * 50 + 0.25 * 100);
    assert.equal(r.srtt, 0.875 * 100 + 0.125 * 200);
    assert.equal(r.rto, r.srtt + 4 * r.rttvar);
  });

  it('floors the variance term at the minimum, as Linux does, and clamps to the maximum', () => {
    const r = new RttEstimator(DEFAULT_RTO_CONFIG);
    r.sample(1);
    assert.equal(r.rto, 1 + DEFAULT_RTO_CONFIG.minRtoMs);
    // SRTT raised by a peer's delayed ACKs: the RTO stays above SRTT + 200 ms, the longest
    // delayed ACK of a Linux peer, rather than max(200, SRTT + 4 RTTVAR).
    for (let i = 0; i < 50; i++) r.sample(36);
    assert.ok(r.rto > 36 + 200 - 0.5 && r.rto < 36 + 200 + 1, `rto ${r.rto}`);
    for (let i = 0; i < 30; i++) r.backoff();
    assert.equal(r.rto, DEFAULT_RTO_CONFIG.maxRtoMs);
  });

  it('doubles on backoff and returns to the estimate after a new ACK (RFC 6298 5.5, 5.7)', () => {
    const r = new RttEstimator({ minRtoMs: 200, maxRtoMs: 120_000, granularityMs: 1 });
    r.sample(100);
    const base = r.rto;
    r.backoff();
    assert.equal(r.rto, 2 * base);
    r.backoff();
    assert.equal(r.rto, 4 * base);
    r.resetBackoff();
    assert.equal(r.rto, base);
  });

  it('uses 3 s after a timed-out SYN when no sample exists (RFC 6298 5.7)', () => {
    const r = new RttEstimator(DEFAULT_RTO_CONFIG);
    r.synTimedOut();
    assert.equal(r.rto, 3000);
  });

  it('applies the clock granularity G when RTTVAR is tiny', () => {
    const r = new RttEstimator({ minRtoMs: 0, maxRtoMs: 60_000, granularityMs: 10 });
    for (let i = 0; i < 50; i++) r.sample(50);
    assert.ok(Math.abs(r.rto - 60) < 0.01, `rto ${r.rto}`);
  });
});

// LossRecovery: fast recovery entry and exit, NewReno partial ACKs (RFC 6582), RFC 6582's
// `recover` guard, timeout recovery (RFC 6675 5.1), limited transmit (RFC 3042).

import assert from 'node:assert/strict';
import { LossRecovery, RecoveryKind } from '../../ts/socket/tcp/recovery.js';
import { SackScoreboard } from '../../ts/socket/tcp/sack-scoreboard.js';

const MSS = 1000;

function fresh(): LossRecovery {
  const r = new LossRecovery(new SackScoreboard());
  r.reset(0);
  return r;
}

describe('tcp loss recovery state', () => {
  it('starts fast recovery on the third duplicate ACK, allowing limited transmit before', () => {
    const r = fresh();
    assert.ok(!r.onDuplicateAck(0, false, MSS));
    assert.equal(r.limitedTransmitBytes(MSS), MSS);
    assert.ok(!r.onDuplicateAck(0, false, MSS));
    assert.equal(r.limitedTransmitBytes(MSS), 2 * MSS);
    assert.ok(r.onDuplicateAck(0, false, MSS));
    r.enterFast(0, 10 * MSS, false, MSS, 0);
    assert.equal(r.kind, RecoveryKind.Fast);
    assert.equal(r.limitedTransmitBytes(MSS), 0);
    // First segment lost; three duplicate ACKs count as SACKed segments.
    assert.equal(r.pipe(0, 10 * MSS, MSS), 10 * MSS - MSS - 3 * MSS);
    assert.ok(r.nextRetransmission(0, 10 * MSS, MSS, 1));
    assert.deepEqual([r.nextSeq, r.nextLen], [0, MSS]);
    r.retransmitted(MSS);
    assert.equal(r.pipe(0, 10 * MSS, MSS), 10 * MSS - 3 * MSS);
    assert.ok(!r.nextRetransmission(0, 10 * MSS, MSS, 1), 'nothing else is known lost');
  });

  it('treats a partial ACK as the next loss (NewReno) and a full ACK as the end', () => {
    const r = fresh();
    for (let i = 0; i < 3; i++) r.onDuplicateAck(0, false, MSS);
    r.enterFast(0, 10 * MSS, false, MSS, 0);
    r.retransmitted(MSS);
    assert.ok(!r.onNewAck(4 * MSS, 4 * MSS, false, MSS), 'no cwnd growth inside fast recovery');
    assert.ok(r.nextRetransmission(4 * MSS, 10 * MSS, MSS, 1));
    assert.deepEqual([r.nextSeq, r.nextLen], [4 * MSS, MSS]);
    assert.ok(!r.onNewAck(10 * MSS, 6 * MSS, false, MSS));
    assert.equal(r.kind, RecoveryKind.None);
    assert.ok(r.onNewAck(11 * MSS, MSS, false, MSS), 'normal growth again');
  });

  it('does not start a second fast recovery for losses from before the last one (RFC 6582)', () => {
    const r = fresh();
    r.enterTimeout(0, 20 * MSS, 0, false);
    assert.equal(r.kind, RecoveryKind.Timeout);
    assert.ok(r.onNewAck(5 * MSS, 5 * MSS, false, MSS), 'slow start continues after a timeout');
    assert.equal(r.kind, RecoveryKind.Timeout);
    r.onNewAck(20 * MSS, 15 * MSS, false, MSS);
    assert.equal(r.kind, RecoveryKind.None);
    // Duplicate ACKs at SND.UNA == recover: not allowed to start recovery.
    const r2 = fresh();
    r2.enterTimeout(0, 20 * MSS, 0, false);
    for (let i = 0; i < 3; i++) r2.onDuplicateAck(0, false, MSS); // in Timeout recovery
    r2.onNewAck(20 * MSS, 20 * MSS, false, MSS);
    let started = false;
    for (let i = 0; i < 3; i++) started = r2.onDuplicateAck(20 * MSS, false, MSS) || started;
    assert.ok(!started, 'SND.UNA has not passed recover');
    r2.onNewAck(21 * MSS, MSS, false, MSS);
    for (let i = 0; i < 3; i++) started = r2.onDuplicateAck(21 * MSS, false, MSS) || started;
    assert.ok(started, 'past recover: a new loss episode');
  });

  it('after a timeout presumes everything outstanding lost', () => {
    const r = fresh();
    r.scoreboard.addBlock(5 * MSS, 6 * MSS, 0, 10 * MSS);
    r.enterTimeout(0, 10 * MSS, 0, false);
    assert.equal(r.pipe(0, 10 * MSS, MSS), 0);
    assert.ok(r.nextRetransmission(0, 10 * MSS, MSS, 1));
    assert.deepEqual([r.nextSeq, r.nextLen], [0, MSS]);
    r.retransmitted(5 * MSS);
    assert.ok(r.nextRetransmission(0, 10 * MSS, MSS, 1));
    assert.deepEqual([r.nextSeq, r.nextLen], [6 * MSS, MSS], 'SACKed data is skipped');
    r.enterTimeout(0, 10 * MSS, 0, true);
    assert.ok(r.scoreboard.isEmpty, 'a repeated timeout forgets SACKs (RFC 2018 8)');
  });

  it('uses SACK to start recovery before three duplicate ACKs when IsLost says so', () => {
    const r = fresh();
    r.scoreboard.addBlock(1 * MSS, 2 * MSS, 0, 10 * MSS);
    r.scoreboard.addBlock(3 * MSS, 4 * MSS, 0, 10 * MSS);
    r.scoreboard.addBlock(5 * MSS, 6 * MSS, 0, 10 * MSS);
    assert.ok(r.onDuplicateAck(0, true, MSS), 'three SACK blocks above SND.UNA');
  });
});

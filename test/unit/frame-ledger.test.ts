import assert from 'node:assert/strict';
import { FrameLedger, FramePlace } from '../../ts/dev/xdp/frame-ledger.js';

describe('frame ledger', function () {
  it('counts frames per place and accepts legal moves', function () {
    const ledger = new FrameLedger(100, 4);
    ledger.move(100, FramePlace.Free, FramePlace.Fill);
    ledger.move(101, FramePlace.Free, FramePlace.App);
    ledger.move(101, FramePlace.App, FramePlace.Tx);
    assert.deepEqual(ledger.census(), { free: 2, fill: 1, app: 0, tx: 1 });
    assert.equal(ledger.violations, 0);
  });

  it('flags a double free and a frame outside its range', function () {
    const ledger = new FrameLedger(0, 2);
    ledger.move(0, FramePlace.Free, FramePlace.App);
    ledger.move(0, FramePlace.App, FramePlace.Free);
    ledger.move(0, FramePlace.App, FramePlace.Free); // second free
    ledger.move(7, FramePlace.Free, FramePlace.App); // not ours
    assert.equal(ledger.violations, 2);
    assert.deepEqual(ledger.census(), { free: 2, fill: 0, app: 0, tx: 0 });
  });
});

// The sender's SACK scoreboard (RFC 6675 IsLost, pipe, NextSeg) and the receiver's block
// generation order (RFC 2018 4).

import assert from 'node:assert/strict';
import { RangeSet } from '../../ts/socket/tcp/range-set.js';
import { Reassembly } from '../../ts/socket/tcp/reassembly.js';
import { SackScoreboard } from '../../ts/socket/tcp/sack-scoreboard.js';
import { seqAdd } from '../../ts/socket/tcp/seq.js';

const MSS = 1000;

function ranges(r: RangeSet): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < r.count; i++) out.push([r.left(i), r.right(i)]);
  return out;
}

describe('tcp range set', () => {
  it('merges overlapping and adjacent ranges and counts new bytes', () => {
    const r = new RangeSet(8);
    assert.equal(r.add(100, 200), 100);
    assert.equal(r.add(300, 400), 100);
    assert.equal(r.add(150, 250), 50);
    assert.equal(r.add(250, 300), 50);
    assert.deepEqual(ranges(r), [[100, 400]]);
    assert.equal(r.add(120, 180), 0);
    assert.equal(r.add(50, 500), 150);
    assert.deepEqual(ranges(r), [[50, 500]]);
  });

  it('keeps ranges sorted across the 2^32 wrap', () => {
    const r = new RangeSet(8);
    r.add(10, 20);
    r.add(0xfffffff0, 0xfffffff8);
    r.add(0xfffffffc, 4);
    assert.deepEqual(ranges(r), [
      [0xfffffff0, 0xfffffff8],
      [0xfffffffc, 4],
      [10, 20],
    ]);
    r.trimBelow(2);
    assert.deepEqual(ranges(r), [
      [2, 4],
      [10, 20],
    ]);
  });

  it('refuses a new range when full but still merges into existing ones', () => {
    const r = new RangeSet(2);
    r.add(0, 10);
    r.add(20, 30);
    assert.equal(r.add(40, 50), -1);
    assert.equal(r.add(10, 20), 10);
    assert.deepEqual(ranges(r), [[0, 30]]);
  });
});

describe('tcp sack scoreboard', () => {
  // Ten segments outstanding from 0; the receiver SACKs segments 2, 4, 6-7 (holes 0-1, 3, 5, 8-9).
  function board(): SackScoreboard {
    const sb = new SackScoreboard();
    assert.ok(sb.addBlock(2 * MSS, 3 * MSS, 0, 10 * MSS));
    assert.ok(sb.addBlock(4 * MSS, 5 * MSS, 0, 10 * MSS));
    assert.ok(sb.addBlock(6 * MSS, 8 * MSS, 0, 10 * MSS));
    assert.ok(!sb.addBlock(6 * MSS, 7 * MSS, 0, 10 * MSS), 'old news');
    assert.ok(!sb.addBlock(11 * MSS, 12 * MSS, 0, 10 * MSS), 'beyond SND.NXT ignored');
    return sb;
  }

  it('IsLost needs DupThresh blocks or more than 2*SMSS SACKed above (RFC 6675 4)', () => {
    const sb = board();
    assert.ok(sb.isLost(0, MSS), '3 blocks, 4 segments above');
    assert.ok(sb.isLost(3 * MSS, MSS), '2 blocks, 3 segments above');
    assert.ok(!sb.isLost(5 * MSS, MSS), '1 block, 2 segments above: not more than 2 SMSS');
    assert.ok(!sb.isLost(8 * MSS, MSS));
  });

  it('pipe counts un-SACKed, not-lost bytes plus retransmissions (RFC 6675 SetPipe)', () => {
    const sb = board();
    // Lost: holes 0-1 and 3. Not lost: 5, 8-9 => 3 segments.
    assert.equal(sb.pipe(0, 10 * MSS, 0, 0, MSS), 3 * MSS);
    // Retransmitted the first hole: +2 segments.
    assert.equal(sb.pipe(0, 10 * MSS, 2 * MSS, 0, MSS), 5 * MSS);
    // A loss mark (RTO) at SND.NXT marks everything lost.
    assert.equal(sb.pipe(0, 10 * MSS, 0, 10 * MSS, MSS), 0);
  });

  it('NextSeg walks lost holes from HighRxt, then un-SACKed ones (rules 1 and 3)', () => {
    const sb = board();
    assert.ok(sb.nextLost(0, 0, 10 * MSS, 0, MSS));
    assert.deepEqual([sb.nextSeq, sb.nextLen], [0, 2 * MSS]);
    assert.ok(sb.nextLost(2 * MSS, 0, 10 * MSS, 0, MSS));
    assert.deepEqual([sb.nextSeq, sb.nextLen], [3 * MSS, MSS]);
    assert.ok(!sb.nextLost(4 * MSS, 0, 10 * MSS, 0, MSS), 'holes 5 and 8-9 are not lost');
    assert.ok(sb.nextUnsacked(4 * MSS, 0, 10 * MSS));
    assert.deepEqual([sb.nextSeq, sb.nextLen], [5 * MSS, MSS]);
    assert.ok(sb.nextLost(8 * MSS, 0, 10 * MSS, 10 * MSS, MSS), 'with a loss mark');
    assert.deepEqual([sb.nextSeq, sb.nextLen], [8 * MSS, 2 * MSS]);
  });

  it('forgets what SND.UNA passed', () => {
    const sb = board();
    sb.ackTo(4 * MSS + 500);
    assert.equal(sb.sackedFrom(0), 2500);
    assert.equal(sb.highSacked(0), 8 * MSS);
    sb.ackTo(8 * MSS);
    assert.ok(sb.isEmpty);
  });

  it('works across the sequence wrap', () => {
    const base = 0xffffffff - 3 * MSS;
    const sb = new SackScoreboard();
    const at = (n: number): number => seqAdd(base, n * MSS);
    sb.addBlock(at(1), at(2), base, at(6));
    sb.addBlock(at(3), at(4), base, at(6));
    sb.addBlock(at(5), at(6), base, at(6));
    assert.ok(sb.isLost(base, MSS));
    assert.equal(sb.pipe(base, at(6), base, base, MSS), 2 * MSS); // holes 2, 4 not lost
    assert.ok(sb.nextLost(base, base, at(6), base, MSS));
    assert.equal(sb.nextSeq, base);
  });
});

describe('tcp receiver sack blocks', () => {
  it('reports the newest block first, then the other recent ones (RFC 2018 4)', () => {
    const q = new Reassembly();
    const edges = new Uint32Array(8);
    q.insert(2000, 3000);
    q.insert(5000, 6000);
    q.insert(8000, 9000);
    assert.equal(q.sackBlocks(1000, edges, 3), 3);
    assert.deepEqual(Array.from(edges.subarray(0, 6)), [8000, 9000, 5000, 6000, 2000, 3000]);
    q.insert(3000, 4000); // extends the oldest block: it becomes the newest
    assert.equal(q.sackBlocks(1000, edges, 3), 3);
    assert.deepEqual(Array.from(edges.subarray(0, 6)), [2000, 4000, 8000, 9000, 5000, 6000]);
  });

  it('limits the count and drops blocks the cumulative ACK has passed', () => {
    const q = new Reassembly();
    const edges = new Uint32Array(8);
    for (let i = 0; i < 5; i++) q.insert(2000 + 2000 * i, 3000 + 2000 * i);
    assert.equal(q.sackBlocks(1000, edges, 3), 3);
    assert.equal(edges[0], 10000);
    assert.equal(q.advance(1000), 1000, 'gap still open');
    assert.equal(q.advance(2000), 3000, 'first block joins RCV.NXT');
    assert.equal(q.sackBlocks(3000, edges, 4), 4);
    assert.deepEqual(Array.from(edges.subarray(0, 2)), [10000, 11000]);
    assert.ok(!Array.from(edges.subarray(0, 8)).includes(2000));
  });
});

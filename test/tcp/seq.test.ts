// Sequence arithmetic modulo 2^32 (RFC 9293 3.4), including across the wrap.

import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  seqAdd,
  seqBetween,
  seqGe,
  seqGt,
  seqInWindow,
  seqLe,
  seqLt,
  seqMax,
  seqMin,
  seqSub,
} from '../../ts/socket/tcp/seq.js';

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const step = fc.integer({ min: 1, max: 0x7fffffff });

describe('tcp seq', () => {
  it('adds and subtracts with wrap-around', () => {
    assert.equal(seqAdd(0xffffffff, 1), 0);
    assert.equal(seqAdd(0xfffffff0, 0x20), 0x10);
    assert.equal(seqAdd(5, -10), 0xfffffffb);
    assert.equal(seqSub(0x10, 0xfffffff0), 0x20);
    assert.equal(seqSub(0xfffffff0, 0x10), -0x20);
  });

  it('orders numbers across the wrap', () => {
    assert.ok(seqLt(0xffffffff, 0));
    assert.ok(seqGt(0, 0xffffffff));
    assert.ok(seqLe(7, 7) && seqGe(7, 7) && !seqLt(7, 7) && !seqGt(7, 7));
    assert.ok(seqLt(0x7ffffff0, 0x80000010));
    assert.equal(seqMax(0xfffffff0, 5), 5);
    assert.equal(seqMin(0xfffffff0, 5), 0xfffffff0);
  });

  it('window tests are half-open / closed as documented', () => {
    assert.ok(seqInWindow(0xfffffffe, 0xfffffffe, 2));
    assert.ok(seqInWindow(1, 0xfffffffe, 2));
    assert.ok(!seqInWindow(2, 0xfffffffe, 2));
    assert.ok(seqBetween(2, 0xfffffffe, 2));
    assert.ok(!seqBetween(0xfffffffd, 0xfffffffe, 2));
  });

  it('a + d is after a for every distance below 2^31 (property)', () => {
    fc.assert(
      fc.property(u32, step, (a, d) => {
        const b = seqAdd(a, d);
        return (
          seqLt(a, b) &&
          seqGt(b, a) &&
          seqSub(b, a) === d &&
          seqInWindow(seqAdd(a, d - 1), a, b) &&
          !seqInWindow(b, a, b) &&
          seqMax(a, b) === b &&
          seqMin(a, b) === a
        );
      }),
    );
  });
});

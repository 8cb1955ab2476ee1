// RFC 6528 initial sequence numbers: keyed per 4-tuple, moving with a 4 µs clock.

import assert from 'node:assert/strict';
import { IsnGenerator } from '../../ts/socket/tcp/isn.js';
import { seqSub } from '../../ts/socket/tcp/seq.js';

const A = Uint8Array.of(198, 18, 0, 1);
const B = Uint8Array.of(198, 18, 0, 2);
const KEY = new Uint8Array(32).fill(7);

describe('tcp isn', () => {
  it('is reproducible for one key, tuple and time', () => {
    const g1 = new IsnGenerator(KEY);
    const g2 = new IsnGenerator(KEY);
    assert.equal(g1.next(A, 40000, B, 80, 1234.5), g2.next(A, 40000, B, 80, 1234.5));
  });

  it('advances by 250 per millisecond (4 µs ticks) for one tuple', () => {
    const g = new IsnGenerator(KEY);
    const a = g.next(A, 40000, B, 80, 1000);
    const b = g.next(A, 40000, B, 80, 1010);
    assert.equal(seqSub(b, a), 2500);
  });

  it('differs between tuples and between keys (unpredictable offsets)', () => {
    const g = new IsnGenerator(KEY);
    const base = g.next(A, 40000, B, 80, 0);
    assert.notEqual(g.next(A, 40001, B, 80, 0), base);
    assert.notEqual(g.next(B, 40000, A, 80, 0), base);
    assert.notEqual(g.next(A, 40000, B, 81, 0), base);
    assert.notEqual(new IsnGenerator(new Uint8Array(32).fill(8)).next(A, 40000, B, 80, 0), base);
    assert.notEqual(
      new IsnGenerator().next(A, 40000, B, 80, 0),
      new IsnGenerator().next(A, 40000, B, 80, 0),
    );
  });

  it('takes IPv6 addresses', () => {
    const g = new IsnGenerator(KEY);
    const v6a = new Uint8Array(16).fill(1);
    const v6b = new Uint8Array(16).fill(2);
    assert.notEqual(g.next(v6a, 1, v6b, 2, 0), g.next(v6b, 1, v6a, 2, 0));
  });
});

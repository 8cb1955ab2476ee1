import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checkPattern, writePattern } from '../../ts/worker/loops/pattern.js';

describe('test payload pattern', function () {
  it('round-trips any sequence number and length', function () {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 52 }),
        fc.integer({ min: 8, max: 1472 }),
        (seq, len) => {
          const buf = new Uint8Array(len + 16);
          writePattern(buf, 16, len, seq);
          assert.equal(checkPattern(buf, 16, len), seq);
        },
      ),
    );
  });

  it('detects any single corrupted byte', function () {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 40 }),
        fc.integer({ min: 9, max: 300 }),
        fc.nat(),
        (seq, len, at) => {
          const buf = new Uint8Array(len);
          writePattern(buf, 0, len, seq);
          const i = 8 + (at % (len - 8));
          buf[i] ^= 0x01;
          assert.equal(checkPattern(buf, 0, len), -1);
        },
      ),
    );
  });

  it('matches the layout xdpnet-peer uses: big-endian seq, then (seq + i) & 0xff', function () {
    const buf = new Uint8Array(12);
    writePattern(buf, 0, 12, 0x0102030405);
    assert.deepEqual([...buf], [0, 0, 0, 1, 2, 3, 4, 5, (0x05 + 8) & 0xff, 0x0e, 0x0f, 0x10]);
  });
});

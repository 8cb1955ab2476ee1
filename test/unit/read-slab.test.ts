// ReadSlab: Buffers cut one after another from shared slabs never overlap, and keep their bytes
// when later Buffers are filled.
import assert from 'node:assert/strict';
import { ReadSlab } from '../../ts/api/read-slab.js';

describe('ReadSlab', () => {
  it('hands out Buffers that never overlap, across slab boundaries', () => {
    const slab = new ReadSlab();
    const taken: Buffer[] = [];
    let total = 0;
    for (let i = 0; total < 3 << 20; i++) {
      const n = 1 + ((i * 7919) % 65536);
      const b = slab.take(n);
      assert.equal(b.length, n);
      b.fill(i & 0xff);
      taken.push(b);
      total += n;
    }
    taken.forEach((b, i) =>
      assert.ok(
        b.every((x) => x === (i & 0xff)),
        `buffer ${i} intact`,
      ),
    );
  });

  it('gives a read larger than a slab a backing store of its own', () => {
    const b = new ReadSlab().take(3 << 20);
    assert.equal(b.length, 3 << 20);
  });
});

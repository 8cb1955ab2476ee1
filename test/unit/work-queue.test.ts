import assert from 'node:assert/strict';
import fc from 'fast-check';
import { WorkQueue } from '../../ts/socket/work-queue.js';

describe('WorkQueue', () => {
  it('gives items back oldest first, as an array used as a queue does, through compaction', () => {
    // Operations: a number n >= 0 pushes n, -1 shifts (when not empty).
    const op = fc.oneof(fc.nat(), fc.constant(-1));
    fc.assert(
      fc.property(fc.array(op, { maxLength: 5000 }), (ops) => {
        const q = new WorkQueue<number>();
        const model: number[] = [];
        for (const o of ops) {
          if (o >= 0) {
            q.push(o);
            model.push(o);
          } else if (model.length > 0) {
            assert.equal(q.shift(), model.shift());
          }
          assert.equal(q.length, model.length);
        }
        while (model.length > 0) assert.equal(q.shift(), model.shift());
        assert.equal(q.length, 0);
      }),
      { numRuns: 50 },
    );
  });

  it('keeps a line that never empties to its length (compaction)', () => {
    const q = new WorkQueue<number>();
    for (let i = 0; i < 10; i++) q.push(i);
    for (let i = 10; i < 100_000; i++) {
      assert.equal(q.shift(), i - 10);
      q.push(i);
    }
    assert.equal(q.length, 10);
    const storage = (q as unknown as { items: unknown[] }).items.length;
    assert.ok(storage <= 2048 + 10, `storage grew to ${storage}`);
  });
});

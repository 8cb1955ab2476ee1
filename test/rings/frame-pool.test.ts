import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import {
  DESC_ENTRY_SIZE,
  FramePool,
  createFramePool,
  initRing,
  ringByteLength,
} from '../../rings/index.js';
import type { PoolJob, PoolResult } from './frame-pool.worker.js';

describe('rings: frame pool (single thread)', () => {
  it('hands out each home frame once, then -1', () => {
    const shared = createFramePool({ workers: 2, framesPerWorker: 8, frameSize: 2048 });
    const pool = new FramePool(shared, 1);
    const seen = new Set<number>();
    for (let i = 0; i < 8; i++) seen.add(pool.alloc());
    assert.deepEqual(
      [...seen].sort((a, b) => a - b),
      [8, 9, 10, 11, 12, 13, 14, 15].map((i) => i * 2048),
    );
    assert.equal(pool.alloc(), -1);
  });

  it('sends foreign frames home in batches and takes them back on reclaim', () => {
    const shared = createFramePool({
      workers: 2,
      framesPerWorker: 8,
      frameSize: 2048,
      returnBatch: 4,
    });
    const a = new FramePool(shared, 0);
    const b = new FramePool(shared, 1);
    const frames = [a.alloc(), a.alloc(), a.alloc(), a.alloc(), a.alloc()];
    assert.equal(a.localFree, 3);
    for (const f of frames.slice(0, 3)) b.free(f + 256); // addresses past the headroom
    assert.equal(b.stagedFrames, 3);
    assert.equal(a.reclaim(), 0, 'nothing reaches home before a full batch or a flush');
    b.free(frames[3]);
    assert.equal(b.stagedFrames, 0, 'a full batch goes home at once');
    assert.equal(a.reclaim(), 4);
    b.free(frames[4]);
    b.flush();
    assert.equal(a.reclaim(), 1);
    assert.equal(a.localFree, 8);
  });

  it('catches a double free and addresses outside the pool', () => {
    const shared = createFramePool({ workers: 1, framesPerWorker: 4, frameSize: 4096 });
    const pool = new FramePool(shared, 0);
    const f = pool.alloc();
    pool.free(f);
    assert.throws(() => pool.free(f), { code: 'EINVAL' });
    assert.throws(() => pool.free(4 * 4096), { code: 'ERANGE' });
    assert.throws(() => createFramePool({ workers: 2, framesPerWorker: 4, frameSize: 3000 }), {
      code: 'EINVAL',
    });
  });
});

describe('rings: frame pool (worker_threads)', () => {
  it('loses and doubles no frame while workers return each other’s frames', async function () {
    this.timeout(90_000);
    const workers = 4;
    const framesPerWorker = 1024;
    const pool = createFramePool({ workers, framesPerWorker, frameSize: 2048, baseAddr: 1 << 20 });
    const ringBytes = ringByteLength(256, DESC_ENTRY_SIZE);
    const forwardSab = new SharedArrayBuffer(workers * workers * ringBytes);
    const forwardOffsets: number[] = [];
    for (let r = 0; r < workers * workers; r++) {
      initRing(forwardSab, r * ringBytes, 256, DESC_ENTRY_SIZE);
      forwardOffsets.push(r * ringBytes);
    }
    const holders = new SharedArrayBuffer(4 * workers * framesPerWorker);
    const phase = new SharedArrayBuffer(12);
    const results = await Promise.all(
      Array.from({ length: workers }, (_, worker) => {
        const job: PoolJob = {
          pool,
          worker,
          forwardSab,
          forwardOffsets,
          holders,
          phase,
          rounds: 20_000,
          seed: 1 + worker,
        };
        return new Promise<PoolResult>((resolve, reject) => {
          const w = new Worker(new URL('./frame-pool.worker.js', import.meta.url), {
            workerData: job,
          });
          w.once('message', resolve);
          w.once('error', reject);
        });
      }),
    );
    const all: number[] = [];
    for (const r of results) {
      assert.deepEqual(r.errors, []);
      // Scheduling decides how much goes across (a worker descheduled on a loaded machine lets its
      // inbound rings fill); what matters is that frames did cross, and all came home.
      assert.ok(r.forwarded > 1_000, `worker ${r.worker} forwarded ${r.forwarded}`);
      assert.equal(
        r.freeFrames.length,
        framesPerWorker,
        `worker ${r.worker} got all its frames back`,
      );
      for (const f of r.freeFrames) {
        assert.equal(
          Math.floor((f - (1 << 20)) / 2048 / framesPerWorker),
          r.worker,
          'frame went home',
        );
      }
      all.push(...r.freeFrames);
    }
    assert.equal(new Set(all).size, workers * framesPerWorker, 'no frame doubled');
    assert.ok(new Int32Array(holders).every((h) => h === 0));
  });
});

import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import {
  AddrConsumer,
  AddrProducer,
  CONSUMER_OFFSET,
  CONSUMER_WAKEUP_OFFSET,
  DESC_ENTRY_SIZE,
  ADDR_ENTRY_SIZE,
  DescConsumer,
  DescProducer,
  ENTRIES_OFFSET,
  PRODUCER_OFFSET,
  initRing,
  ringByteLength,
} from '../../rings/index.js';
import type { StressJob, StressResult } from './ring-stress.worker.js';

function descRing(capacity: number, initialIndex = 0): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(ringByteLength(capacity, DESC_ENTRY_SIZE));
  initRing(sab, 0, capacity, DESC_ENTRY_SIZE, initialIndex);
  return sab;
}

function runWorker(job: StressJob): Promise<StressResult> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('./ring-stress.worker.js', import.meta.url), { workerData: job });
    w.once('message', (r: StressResult) => resolve(r));
    w.once('error', reject);
    w.once('exit', (code) => {
      if (code !== 0) reject(new Error(`${job.role} worker exited with ${code}`));
    });
  });
}

async function runPair(
  total: number,
  capacity: number,
  maxBatch: number,
  spinsBeforePark: number,
  initialIndex: number,
): Promise<[StressResult, StressResult]> {
  const sab = descRing(capacity, initialIndex);
  const base = { sab, byteOffset: 0, total, maxBatch, seed: 0x1234567, spinsBeforePark };
  const [p, c] = await Promise.all([
    runWorker({ ...base, role: 'producer' }),
    runWorker({ ...base, role: 'consumer' }),
  ]);
  return [p, c];
}

describe('rings: layout contract', () => {
  it('puts indices and entries at the documented byte offsets, little-endian', () => {
    const sab = descRing(8);
    const bytes = new DataView(sab);
    const p = new DescProducer(sab, 0);
    assert.equal(p.reserve(2), 2);
    p.write(0, 0x11223344, 60);
    p.write(1, 0x2000, 1514);
    p.submit(2);
    assert.equal(bytes.getUint32(PRODUCER_OFFSET, true), 2);
    assert.equal(bytes.getUint32(CONSUMER_OFFSET, true), 0);
    assert.equal(bytes.getUint32(ENTRIES_OFFSET, true), 0x11223344);
    assert.equal(bytes.getUint32(ENTRIES_OFFSET + 4, true), 60);
    assert.equal(bytes.getUint32(ENTRIES_OFFSET + 8, true), 0x2000);
    assert.equal(bytes.getUint32(ENTRIES_OFFSET + 12, true), 1514);
    const c = new DescConsumer(sab, 0);
    assert.equal(c.peek(8), 2);
    c.release(2);
    assert.equal(bytes.getUint32(CONSUMER_OFFSET, true), 2);
  });

  it('sizes rings as header plus entries rounded to a cache line', () => {
    assert.equal(ringByteLength(4, ADDR_ENTRY_SIZE), 256 + 64);
    assert.equal(ringByteLength(1024, DESC_ENTRY_SIZE), 256 + 8192);
  });

  it('rejects bad capacities, misaligned offsets, short buffers and the wrong entry size', () => {
    const sab = new SharedArrayBuffer(4096);
    assert.throws(() => initRing(sab, 0, 12, DESC_ENTRY_SIZE), { code: 'EINVAL' });
    assert.throws(() => initRing(sab, 32, 8, DESC_ENTRY_SIZE), { code: 'EINVAL' });
    assert.throws(() => initRing(sab, 0, 1024, DESC_ENTRY_SIZE), { code: 'ERANGE' });
    assert.throws(() => new DescProducer(sab, 0), { code: 'EINVAL' });
    initRing(sab, 0, 8, ADDR_ENTRY_SIZE);
    assert.throws(() => new DescConsumer(sab, 0), { code: 'EINVAL' });
  });
});

describe('rings: single thread', () => {
  it('reserves no more than the free slots and peeks no more than were submitted', () => {
    const sab = descRing(4);
    const p = new DescProducer(sab, 0);
    const c = new DescConsumer(sab, 0);
    assert.equal(c.peek(4), 0);
    assert.equal(p.reserve(10), 4);
    for (let i = 0; i < 4; i++) p.write(i, i, i * 10);
    p.submit(3); // the fourth reserved slot is dropped
    assert.equal(p.reserve(4), 1);
    assert.equal(c.peek(10), 3);
    assert.deepEqual([c.addr(0), c.addr(1), c.addr(2), c.len(2)], [0, 1, 2, 20]);
    c.release(1);
    assert.equal(c.peek(10), 2);
    assert.equal(c.addr(0), 1);
    assert.throws(() => c.release(3), { code: 'EINVAL' });
    assert.throws(() => p.submit(5), { code: 'EINVAL' });
  });

  it('keeps order across the 2^32 wrap of the free-running indices', () => {
    const sab = descRing(8, 0xfffffffa);
    const p = new DescProducer(sab, 0);
    const c = new DescConsumer(sab, 0);
    let next = 0;
    let expect = 0;
    for (let round = 0; round < 10; round++) {
      const n = p.reserve(5);
      for (let i = 0; i < n; i++) p.write(i, next + i, 0);
      p.submit(n);
      next += n;
      const m = c.peek(8);
      for (let i = 0; i < m; i++) assert.equal(c.addr(i), expect++);
      c.release(m);
    }
    assert.equal(expect, 50);
    assert.equal(new DataView(sab).getUint32(PRODUCER_OFFSET, true), (0xfffffffa + 50) >>> 0);
  });

  it('address rings carry one u32 per entry', () => {
    const sab = new SharedArrayBuffer(ringByteLength(4, ADDR_ENTRY_SIZE));
    initRing(sab, 0, 4, ADDR_ENTRY_SIZE);
    const p = new AddrProducer(sab, 0);
    const c = new AddrConsumer(sab, 0);
    for (const a of [4096, 8192, 0xfffff000]) assert.ok(p.push(a));
    assert.equal(new DataView(sab).getUint32(ENTRIES_OFFSET + 4, true), 8192);
    assert.deepEqual([c.pop(), c.pop(), c.pop(), c.pop()], [4096, 8192, 0xfffff000, -1]);
  });

  it('sets and clears the need-wakeup flag around a park', () => {
    const sab = descRing(4);
    const c = new DescConsumer(sab, 0);
    const p = new DescProducer(sab, 0);
    assert.equal(p.consumerNeedsWakeup(), false);
    assert.equal(c.waitForEntries(5), 0); // times out: nothing was published
    assert.equal(new DataView(sab).getUint32(CONSUMER_WAKEUP_OFFSET, true), 0);
    p.push(1, 2);
    assert.equal(c.waitForEntries(1000), 1); // returns at once: an entry is there
  });

  it('waitForEntriesAsync resolves when another thread publishes', async () => {
    const sab = descRing(4);
    const c = new DescConsumer(sab, 0);
    const w = new Worker(
      `const { workerData } = require('node:worker_threads');
       const words = new Int32Array(workerData, 0, 64);
       setTimeout(() => {
         const e = new Uint32Array(workerData, 256, 2); e[0] = 7; e[1] = 9;
         Atomics.store(words, 0, 1);
         if (Atomics.load(words, 32) & 1) Atomics.notify(words, 0, 1);
       }, 50);`,
      { eval: true, workerData: sab },
    );
    const t0 = Date.now();
    const n = await c.waitForEntriesAsync(5000);
    assert.equal(n, 1);
    assert.ok(Date.now() - t0 < 4000, 'woken by notify, not by the timeout');
    assert.equal(c.peek(1), 1);
    assert.deepEqual([c.addr(0), c.len(0)], [7, 9]);
    await w.terminate();
  });
});

describe('rings: two threads (worker_threads)', () => {
  it('moves 10 million descriptors with random batches: none lost, doubled or reordered', async function () {
    this.timeout(90_000);
    const total = 10_000_000;
    // A small ring near the 2^32 wrap: it fills and empties constantly and wraps early. Both
    // sides spin a while, then park, so a descheduled peer on a busy 2-core box costs no spin.
    const [p, c] = await runPair(total, 512, 256, 4000, 0xffffff00);
    assert.equal(p.count, total);
    assert.equal(c.mismatches, 0, c.firstMismatch);
    assert.equal(c.count, total);
    assert.equal(p.lostWakeups + c.lostWakeups, 0);
  });

  it('parks and wakes both sides without losing a wake-up', async function () {
    this.timeout(90_000);
    const total = 300_000;
    const [p, c] = await runPair(total, 64, 48, 20, 0);
    assert.equal(c.mismatches, 0, c.firstMismatch);
    assert.equal(c.count, total);
    assert.equal(p.lostWakeups + c.lostWakeups, 0);
    assert.ok(p.parks + c.parks > 0, 'the run parked at least once, so the wake-up path ran');
  });
});

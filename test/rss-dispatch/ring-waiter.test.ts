// The native park of RSS workers (RingWaiter, a futex on the rx ring's consumer need-wakeup
// word): a RingDoorbell after a push wakes it at once; Atomics.notify alone does not reach it
// (rings/README.md "Native wake-ups"). The waiter runs in a worker thread, since it blocks.
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { createDispatchRings } from '../../ts/dev/dispatch/dispatch-layout.js';
import { nodeXdpDispatch } from '../../ts/dev/dispatch/native-dispatch.js';
import { DescProducer } from '../../rings/index.js';

const nativeDispatch = new URL('../../ts/dev/dispatch/native-dispatch.js', import.meta.url).href;

// Parks once for `timeoutMs`, then reports what wait() returned and how long it took.
const waiterScript = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  const { nodeXdpDispatch } = await import(workerData.module);
  const { rings, rx, comp, timeoutMs } = workerData;
  const waiter = nodeXdpDispatch().RingWaiter.attach(new Uint8Array(rings), rx, comp);
  const flag = new Int32Array(rings, rx + 128, 1);
  parentPort.postMessage('parking');
  const started = performance.now();
  const waiting = waiter.wait(timeoutMs);
  parentPort.postMessage({ waiting, ms: performance.now() - started, flag: Atomics.load(flag, 0) });
})();
`;

interface Parked {
  waiting: number;
  ms: number;
  flag: number;
}

async function park(
  rings: SharedArrayBuffer,
  rx: number,
  comp: number,
  timeoutMs: number,
  push: () => void,
): Promise<Parked> {
  const worker = new Worker(waiterScript, {
    eval: true,
    workerData: { module: nativeDispatch, rings, rx, comp, timeoutMs },
  });
  try {
    const result = new Promise<Parked>((resolve, reject) => {
      worker.on('message', (m: Parked | string) => {
        if (typeof m !== 'string') resolve(m);
      });
      worker.once('error', reject);
    });
    await new Promise<void>((resolve) => worker.once('message', () => resolve()));
    // Let it reach the futex (a push before that is seen by its re-check instead).
    const flag = new Int32Array(rings, rx + 128, 1);
    while (Atomics.load(flag, 0) === 0) await new Promise((r) => setTimeout(r, 1));
    await new Promise((r) => setTimeout(r, 50));
    push();
    return await result;
  } finally {
    await worker.terminate();
  }
}

describe('rss-dispatch: native worker park (RingWaiter / RingDoorbell)', () => {
  it('wakes at once when the producer rings the doorbell after a push', async () => {
    const { rings, offsets } = createDispatchRings(1, 64, 64, 64);
    const o = offsets[0];
    const producer = new DescProducer(rings, o.rx);
    const bell = nodeXdpDispatch().RingDoorbell.attach(new Uint8Array(rings), o.rx, 8);
    let rang = false;
    const parked = await park(rings, o.rx, o.comp, 10_000, () => {
      producer.reserve(1);
      producer.write(0, 4096, 60);
      producer.submit(1);
      rang = bell.ring();
    });
    assert.equal(parked.waiting, 1);
    assert.ok(parked.ms < 5000, `woke after ${parked.ms} ms`);
    assert.equal(parked.flag, 0, 'the need-wakeup word is cleared after the wait');
    assert.ok(rang, 'the doorbell saw the parked consumer');
    assert.equal(bell.ring(), false, 'nobody parked now: no wake');
  });

  it('is not woken by Atomics.notify alone: it waits out its timeout', async () => {
    const { rings, offsets } = createDispatchRings(1, 64, 64, 64);
    const o = offsets[0];
    const producer = new DescProducer(rings, o.rx);
    const parked = await park(rings, o.rx, o.comp, 400, () => {
      producer.reserve(1);
      producer.write(0, 4096, 60);
      producer.submit(1); // sees NEED_WAKEUP and calls Atomics.notify
    });
    assert.equal(parked.waiting, 1, 'the entry is there after the timeout');
    assert.ok(parked.ms >= 350, `returned after ${parked.ms} ms, before its timeout`);
  });
});

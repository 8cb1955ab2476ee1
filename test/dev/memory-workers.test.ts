import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { MemoryPair } from '../../ts/dev/memory/memory-pair.js';
import type { Faults } from '../../ts/dev/memory/faults.js';
import type { MemoryPairConfig } from '../../ts/dev/memory/pair-layout.js';
import type { PeerJob, PeerResult } from './memory-peer.worker.js';

/** Runs both ends of a pair in two workers; resolves with their reports (a first). */
async function runWorkers(config: MemoryPairConfig, count: number): Promise<PeerResult[]> {
  const done = new SharedArrayBuffer(8);
  return Promise.all(
    [config.a, config.b].map(
      (port) =>
        new Promise<PeerResult>((resolve, reject) => {
          const job: PeerJob = { port, count, done };
          const w = new Worker(new URL('./memory-peer.worker.js', import.meta.url), {
            workerData: job,
          });
          w.once('message', resolve);
          w.once('error', reject);
          w.once('exit', (code) => code !== 0 && reject(new Error(`worker exited with ${code}`)));
        }),
    ),
  );
}

function assertAccounting(config: MemoryPairConfig, results: PeerResult[]): void {
  for (const r of results) {
    assert.ok(r.audit.ok, `port ${r.side}: ${r.audit.problems.join('; ')}`);
  }
  const whole = MemoryPair.audit(config);
  assert.ok(whole.ok, whole.problems.join('; '));
}

describe('memory device: across worker_threads', () => {
  it('delivers frames byte-exact in order both ways between two workers', async function () {
    this.timeout(60_000);
    const count = 50_000;
    const config = MemoryPair.create({ framesPerPort: 512, ringSize: 256 });
    const results = await runWorkers(config, count);
    const expect = Array.from({ length: count }, (_, i) => i);
    for (const r of results) {
      assert.equal(r.received.length, count, `${r.side} received all`);
      assert.ok(
        r.received.every((seq, i) => seq === expect[i]),
        `${r.side} received every frame intact and in order`,
      );
      assert.equal(r.counters.txPackets, count);
      assert.equal(r.counters.rxPackets, count);
    }
    assertAccounting(config, results);
  });

  it('reproduces the same faulted deliveries from the same seed across workers', async function () {
    this.timeout(60_000);
    const faults: Partial<Faults> = {
      lossRate: 0.05,
      duplicateRate: 0.05,
      reorderRate: 0.05,
      reorderDistance: 2,
      reorderHoldMs: 1e9,
      corruptRate: 0.01,
    };
    const runOnce = async (seed: number): Promise<PeerResult[]> => {
      const config = MemoryPair.create({ framesPerPort: 512, ringSize: 64, seed, faults });
      const results = await runWorkers(config, 10_000);
      assertAccounting(config, results);
      return results;
    };
    const [first, second, other] = [await runOnce(5), await runOnce(5), await runOnce(6)];
    for (const side of [0, 1]) {
      const c = first[side].counters;
      assert.ok(c.lost > 0 && c.duplicated > 0 && c.reordered > 0 && c.corrupted > 0);
      assert.equal(c.duplicateFailures, 0);
      assert.deepEqual(second[side].received, first[side].received, `side ${side} reproduced`);
      assert.notDeepEqual(other[side].received, first[side].received, 'another seed differs');
      const bad = first[side].received.filter((s) => s < 0).length;
      // Every corrupted frame fails the byte check, and so does its copy when it was duplicated.
      const sender = first[1 - side].counters;
      assert.ok(bad >= sender.corrupted && bad <= sender.corrupted + sender.duplicated);
    }
  });
});

// Opens memory pairs for a test and, after it, lets everything in flight land, frees it and
// checks the frame accounting of both ports and of the pair (the done-when: after every test).
import assert from 'node:assert/strict';
import { MemoryPair, type MemoryPairOptions } from '../../ts/dev/memory/memory-pair.js';
import type { MemoryPort } from '../../ts/dev/memory/memory-port.js';
import type { MemoryPairConfig } from '../../ts/dev/memory/pair-layout.js';
import { VirtualClock } from '../../ts/dev/memory/clock.js';
import { drain } from './frames.js';

export interface OpenPair {
  a: MemoryPort;
  b: MemoryPort;
  config: MemoryPairConfig;
}

export class PairFixture {
  private pairs: { pair: OpenPair; clock?: VirtualClock }[] = [];

  open(options: MemoryPairOptions = {}): OpenPair {
    const pair = MemoryPair.open(options);
    this.pairs.push({ pair, clock: options.clock });
    return pair;
  }

  /** Settles every pair opened since the last call and asserts its accounting. */
  settleAndAudit(): void {
    const pairs = this.pairs;
    this.pairs = [];
    for (const { pair, clock } of pairs) {
      settle(pair, clock);
      for (const port of [pair.a, pair.b]) {
        const audit = port.audit();
        assert.ok(audit.ok, `port ${port.side}: ${audit.problems.join('; ')}`);
      }
      const whole = MemoryPair.audit(pair.config);
      assert.ok(whole.ok, `pair: ${whole.problems.join('; ')}`);
      assert.equal(whole.a.free + whole.b.free, whole.frames, 'every frame is home and free');
    }
  }
}

/** Runs both ports until nothing is in flight (advancing a virtual clock to each event). */
export function settle({ a, b }: OpenPair, clock?: VirtualClock): void {
  const deadline = performance.now() + 5000;
  while (performance.now() < deadline) {
    if (clock) {
      const next = Math.min(a.nextEventTime(), b.nextEventTime());
      if (next !== Infinity) clock.advanceTo(next);
    }
    const moved = a.flush() + b.flush() + drain(a) + drain(b) + a.reap() + b.reap();
    if (moved === 0 && a.pendingTx === 0 && b.pendingTx === 0) return;
  }
  assert.fail(`pair did not settle: pending a ${a.pendingTx}, b ${b.pendingTx}`);
}

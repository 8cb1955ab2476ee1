// The perf harness's progress log: a phase that repeats a side and label (the mem modes take
// turns) continues that series, in time and packets; a new label starts its own.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { ProgressLog, type ProgressSample } from '../../perf/harness/progress.js';
import { byteShares, MEM_TURNS, oursFirst } from '../../perf/harness/mem-tcp-pair.js';

/** Runs a phase that counts `packets` more over about `ms`, starting from `start`. */
async function phase(
  log: ProgressLog,
  label: string,
  start: number,
  packets: number,
  ms: number,
  tailMs = 0,
): Promise<void> {
  let count = start;
  await log.during({ side: 'engine', label, packets: () => count }, async () => {
    const steps = 5;
    for (let i = 0; i < steps; i++) {
      await sleep(ms / steps);
      count += packets / steps;
    }
    // Past one more interval, so a sample sees the last count.
    await sleep(tailMs);
  });
}

function of(log: ProgressLog, label: string): ProgressSample[] {
  return log.samples.filter((s) => s.label === label);
}

describe('perf progress: phases that take turns', () => {
  it('a repeated phase goes on from where its series stood', async () => {
    const log = new ProgressLog({ intervalSeconds: 0.05, print: false });
    // The counter of each turn starts anywhere (a fresh pair counts from 0, a device from its
    // total): only what the phase added counts.
    await phase(log, 'ours', 0, 1000, 200, 60);
    const first = of(log, 'ours');
    await phase(log, 'other', 500, 300, 100, 60);
    await phase(log, 'ours', 7000, 2000, 200, 60);
    const ours = of(log, 'ours');
    const second = ours.slice(first.length);
    assert.ok(first.length > 0 && second.length > 0, 'both turns sampled');
    assert.equal(first[first.length - 1].packets, 1000);
    assert.equal(second[second.length - 1].packets, 3000, 'the second turn adds to the first');
    for (let i = 1; i < ours.length; i++) {
      assert.ok(ours[i].t > ours[i - 1].t, `time goes on across turns: ${ours.map((s) => s.t)}`);
      assert.ok(ours[i].packets >= ours[i - 1].packets, 'packets only climb');
    }
    // The other series' time did not run on ours' clock: ours' last sample is about 0.52 s in.
    assert.ok(ours[ours.length - 1].t < 0.7, `ours ends at ${ours[ours.length - 1].t} s`);
    const other = of(log, 'other');
    assert.equal(other[other.length - 1].packets, 300, 'a new label starts from 0');
    assert.ok(other[0].t < 0.15, `the other series starts near 0 s: ${other[0].t}`);
  });

  it('a turn left with a sliver unsampled still hands its packets on', async () => {
    // An interval far longer than the turn: one sample at the end of each turn.
    const log = new ProgressLog({ intervalSeconds: 10, print: false });
    await phase(log, 'ours', 0, 100, 20);
    await phase(log, 'ours', 0, 100, 20);
    const ours = of(log, 'ours');
    assert.deepEqual(
      ours.map((s) => s.packets),
      [100, 200],
    );
  });

  it('shares of a stream and the ABBA order', () => {
    // Whole equal shares, the remainder in the last.
    const ten = byteShares(10);
    assert.equal(ten.length, MEM_TURNS);
    assert.ok(
      ten.slice(0, -1).every((n) => n === Math.floor(10 / MEM_TURNS)),
      `${ten}`,
    );
    // Fewer bytes than turns: a byte a turn, never an empty one.
    assert.deepEqual(byteShares(1), [1]);
    assert.equal(byteShares(2).length, Math.min(2, MEM_TURNS));
    assert.ok(byteShares(2).every((n) => n >= 1));
    for (const total of [1, 5, 1023, 2 ** 30 + 7]) {
      assert.equal(
        byteShares(total).reduce((a, b) => a + b, 0),
        total,
        `${total} bytes in shares`,
      );
    }
    assert.deepEqual([0, 1, 2, 3].map(oursFirst), [true, false, true, false]);
  });
});

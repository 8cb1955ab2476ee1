import assert from 'node:assert/strict';
import { MemoryPair } from '../../ts/dev/memory/memory-pair.js';
import { VirtualClock } from '../../ts/dev/memory/clock.js';
import type { Faults } from '../../ts/dev/memory/faults.js';
import { checkFrame, drain, frameLength, sendFrame, seqOf, writeFrame } from './frames.js';
import { PairFixture, type OpenPair } from './pair-fixture.js';

interface Delivery {
  seq: number;
  len: number;
  /** Virtual time of arrival (ms). */
  time: number;
  intact: boolean;
  /** The received bytes (kept only when asked). */
  bytes?: Uint8Array;
}

interface Run {
  pair: OpenPair;
  clock: VirtualClock;
  got: Delivery[];
}

/** Binomial count within 5 standard deviations of n * p. */
function assertRate(count: number, n: number, p: number, what: string): void {
  const sd = Math.sqrt(n * p * (1 - p));
  assert.ok(
    Math.abs(count - n * p) <= 5 * sd,
    `${what}: ${count} of ${n}, expected ${n * p} ± ${(5 * sd).toFixed(1)}`,
  );
}

describe('memory device: faults (virtual time)', () => {
  const fixture = new PairFixture();
  afterEach(() => fixture.settleAndAudit());

  /**
   * Sends `count` frames from a to b, frame i at virtual time i * stepMs, moving the clock from
   * event to event, and records what b receives and when.
   */
  function run(
    faults: Partial<Faults>,
    count: number,
    { seed = 1, stepMs = 0.1, keepBytes = false } = {},
  ): Run {
    const clock = VirtualClock.create();
    const pair = fixture.open({ framesPerPort: 4096, seed, faults, clock });
    const { a, b } = pair;
    const got: Delivery[] = [];
    const record = (addr: number, len: number): void => {
      const at = b.umemOffset + addr;
      got.push({
        seq: seqOf(b, addr),
        len,
        time: clock.now(),
        intact: checkFrame(b.bytes, at, len, 0) >= 0,
        bytes: keepBytes ? b.bytes.slice(at, at + len) : undefined,
      });
    };
    let i = 0;
    while (i < count || a.pendingTx > 0) {
      const nextSend = i < count ? i * stepMs : Infinity;
      clock.advanceTo(Math.min(nextSend, a.nextEventTime()));
      if (i < count && clock.now() >= nextSend) sendFrame(a, 0, i++);
      a.flush();
      drain(b, record);
      a.reap();
    }
    return { pair, clock, got };
  }

  const fingerprint = (got: Delivery[]): string =>
    got.map((d) => `${d.seq}/${d.len}/${d.time.toFixed(6)}/${d.intact ? 1 : 0}`).join(' ');

  it('loses lossRate of the packets, and only those', () => {
    const n = 20_000;
    const { pair, got } = run({ lossRate: 0.1 }, n);
    const c = pair.a.counters;
    assertRate(c.lost, n, 0.1, 'lost');
    assert.equal(got.length + c.lost, n);
    assert.equal(c.sent, n);
    assert.ok(got.every((d) => d.intact));
    assert.ok(
      got.every((d, k) => k === 0 || d.seq > got[k - 1].seq),
      'loss does not reorder',
    );
  });

  it('duplicates duplicateRate of the packets right behind the original', () => {
    const n = 10_000;
    const { pair, got } = run({ duplicateRate: 0.05 }, n);
    const c = pair.a.counters;
    assertRate(c.duplicated, n, 0.05, 'duplicated');
    assert.equal(got.length, n + c.duplicated);
    assert.equal(c.duplicateFailures, 0);
    let dups = 0;
    for (let k = 1; k < got.length; k++) {
      if (got[k].seq === got[k - 1].seq) dups++;
      else assert.equal(got[k].seq, got[k - 1].seq + 1, 'otherwise in order');
    }
    assert.equal(dups, c.duplicated);
    assert.ok(
      got.every((d) => d.intact),
      'copies are byte-exact',
    );
  });

  it('reorders reorderRate of the packets by exactly reorderDistance', () => {
    const n = 10_000;
    const distance = 3;
    const { pair, got } = run({ reorderRate: 0.05, reorderDistance: distance }, n);
    const c = pair.a.counters;
    assertRate(c.reordered, n, 0.05, 'reordered');
    assert.deepEqual(
      got.map((d) => d.seq).sort((x, y) => x - y),
      Array.from({ length: n }, (_, i) => i),
      'every packet arrives once',
    );
    // Lateness: how many higher-numbered packets overtook this one.
    let late = 0;
    let maxSeen = -1;
    const seenAbove = (seq: number, upto: number): number => {
      let k = 0;
      for (let j = 0; j < upto; j++) if (got[j].seq > seq) k++;
      return k;
    };
    for (let k = 0; k < got.length; k++) {
      const { seq } = got[k];
      if (seq < maxSeen) {
        late++;
        const overtaken = seenAbove(seq, k);
        // A held packet waits for exactly `distance` later ones, except at the very end where
        // its hold times out.
        if (seq < n - 2 * distance) assert.equal(overtaken, distance, `seq ${seq}`);
      }
      if (seq > maxSeen) maxSeen = seq;
    }
    assert.equal(late, c.reordered);
  });

  it('lets a held packet go after reorderHoldMs when nothing overtakes it', () => {
    const clock = VirtualClock.create();
    const { a, b } = fixture.open({
      framesPerPort: 16,
      clock,
      faults: { reorderRate: 1, reorderDistance: 5, reorderHoldMs: 2 },
    });
    sendFrame(a, 0, 0);
    assert.equal(a.nextEventTime(), 2);
    clock.advance(1.9);
    a.flush();
    assert.equal(b.receive(), 0);
    a.setFaults({ reorderHoldMs: 1 }); // applies to packets already held
    a.flush();
    assert.equal(b.receive(), 1);
    b.release(b.rxDesc[0]);
  });

  it('delays every packet by delayMs exactly when there is no jitter', () => {
    const { pair, got } = run({ delayMs: 10 }, 500, { stepMs: 1 });
    assert.equal(got.length, 500);
    got.forEach((d, k) => {
      assert.equal(d.seq, k);
      assert.equal(d.time, k + 10);
    });
    assert.equal(pair.a.counters.delayed, 500);
  });

  it('spreads delays uniformly over delay ± jitter, reordering as netem does', () => {
    const n = 4000;
    const { got } = run({ delayMs: 10, jitterMs: 4 }, n, { stepMs: 1 });
    assert.equal(got.length, n);
    const latency = got.map((d) => d.time - d.seq);
    assert.ok(Math.min(...latency) >= 6 && Math.max(...latency) <= 14);
    const mean = latency.reduce((s, x) => s + x, 0) / n;
    assert.ok(Math.abs(mean - 10) < 0.15, `mean latency ${mean}`);
    const low = latency.filter((x) => x < 8).length; // uniform: a quarter below 8
    assertRate(low, n, 0.25, 'latency below 8 ms');
    const inversions = got.filter((d, k) => k > 0 && d.seq < got[k - 1].seq).length;
    assert.ok(inversions > n / 10, `jitter of 4 ms at 1 packet/ms reorders (${inversions})`);
  });

  it('flips exactly one bit after the Ethernet header of corruptRate of the packets', () => {
    const n = 5000;
    const { pair, got } = run({ corruptRate: 0.05 }, n, { keepBytes: true });
    const c = pair.a.counters;
    assertRate(c.corrupted, n, 0.05, 'corrupted');
    assert.equal(got.length, n);
    let corrupted = 0;
    const expect = new Uint8Array(2048);
    got.forEach((d, k) => {
      const len = writeFrame(expect, 0, 0, k);
      assert.equal(d.len, len);
      let bits = 0;
      let first = -1;
      for (let i = 0; i < len; i++) {
        const diff = d.bytes![i] ^ expect[i];
        if (diff !== 0 && first < 0) first = i;
        for (let x = diff; x !== 0; x &= x - 1) bits++;
      }
      if (bits > 0) {
        corrupted++;
        assert.equal(bits, 1, `packet ${k} has one flipped bit`);
        assert.ok(first >= 14, `packet ${k}: the Ethernet header is left alone`);
      }
    });
    assert.equal(corrupted, c.corrupted);
  });

  it('drops and counts frames longer than mtu + 14', () => {
    const n = 2000;
    const { pair, got } = run({ mtu: 1000 }, n);
    const long = Array.from({ length: n }, (_, i) => frameLength(0, i)).filter((l) => l > 1014);
    assert.ok(long.length > 100);
    assert.equal(pair.a.counters.mtuDrops, long.length);
    assert.equal(got.length, n - long.length);
    assert.ok(got.every((d) => d.len <= 1014 && d.intact));
  });

  it('lets exactly mtu + 14 bytes through and drops one more', () => {
    const { a, b } = fixture.open({ framesPerPort: 16, faults: { mtu: 1000 } });
    for (const len of [1014, 1015]) {
      const frame = a.allocate();
      a.send(frame + a.txDataOffset, len);
    }
    a.flush();
    assert.deepEqual([b.receive(), b.rxDesc[1], a.counters.mtuDrops], [1, 1014, 1]);
    b.release(b.rxDesc[0]);
  });

  it('holds the rate limit: departures never beat the token bucket', () => {
    const n = 300;
    const rate = 1_000_000; // 1 Mbit/s = 1000 bits per ms
    const burst = 1514;
    const { pair, got } = run(
      { rateBitsPerSecond: rate, rateBurstBytes: burst, rateQueueBytes: 10_000_000 },
      n,
      { stepMs: 0 },
    );
    assert.equal(got.length, n);
    let bits = 0;
    for (const d of got) {
      bits += d.len * 8;
      // Everything was offered at t = 0: by time t at most burst + rate * t may have left, and
      // since the link never idles, exactly that much has (to rounding).
      const allowed = burst * 8 + (rate / 1000) * d.time;
      assert.ok(bits <= allowed + 1e-6, `at ${d.time} ms ${bits} bits left, allowed ${allowed}`);
      if (d.time > 0) assert.ok(Math.abs(bits - allowed) < 1e-3, `link idle at ${d.time} ms`);
    }
    assert.ok(
      got.every((d, k) => d.seq === k),
      'shaping keeps order',
    );
    const c = pair.a.counters;
    assert.equal(c.rateDrops, 0);
    const atOnce = got.filter((d) => d.time === 0);
    assert.ok(atOnce.length >= 1 && atOnce.reduce((s, d) => s + d.len, 0) <= burst);
    assert.equal(c.rateDelayed, n - atOnce.length);
  });

  it('tail-drops what would wait behind more than rateQueueBytes', () => {
    const n = 200;
    const { pair, got } = run({ rateBitsPerSecond: 1_000_000, rateQueueBytes: 20_000 }, n, {
      stepMs: 0,
    });
    const c = pair.a.counters;
    assert.ok(c.rateDrops > 100, `dropped ${c.rateDrops}`);
    assert.equal(got.length + c.rateDrops, n);
    // Whatever left waited at most queue / rate = 160 ms plus one packet.
    assert.ok(
      got.every((d) => d.time <= 160 + 12.2),
      `last at ${got[got.length - 1].time}`,
    );
  });

  it('gives the same deliveries for the same seed and different ones for another', () => {
    const faults: Partial<Faults> = {
      lossRate: 0.05,
      duplicateRate: 0.03,
      reorderRate: 0.04,
      reorderDistance: 2,
      delayMs: 3,
      jitterMs: 1,
      corruptRate: 0.02,
      rateBitsPerSecond: 50_000_000,
    };
    const first = fingerprint(run(faults, 3000, { seed: 42 }).got);
    const second = fingerprint(run(faults, 3000, { seed: 42 }).got);
    const other = fingerprint(run(faults, 3000, { seed: 43 }).got);
    assert.equal(first, second);
    assert.notEqual(first, other);
  });

  it('draws the same decisions whatever else is on: loss ignores jitter and delay', () => {
    const lossOnly = run({ lossRate: 0.2 }, 2000, { seed: 9 }).got.map((d) => d.seq);
    const withJitter = run({ lossRate: 0.2, delayMs: 5, jitterMs: 2 }, 2000, { seed: 9 })
      .got.map((d) => d.seq)
      .sort((x, y) => x - y);
    assert.deepEqual(withJitter, lossOnly);
  });

  it('takes fault changes at run time, from the port or from another holder of the config', () => {
    const clock = VirtualClock.create();
    const pair = fixture.open({ framesPerPort: 256, clock });
    const { a, b, config } = pair;
    const pass = (from: number): number => {
      for (let i = 0; i < 100; i++) sendFrame(a, 0, from + i);
      a.flush();
      return drain(b);
    };
    assert.equal(pass(0), 100);
    MemoryPair.setFaults(config.a, { lossRate: 1 });
    assert.equal(a.faults.lossRate, 1);
    assert.equal(pass(100), 0);
    a.setFaults({ lossRate: 0, mtu: 500 });
    const short = Array.from({ length: 100 }, (_, i) => frameLength(0, 200 + i)).filter(
      (l) => l <= 514,
    ).length;
    assert.equal(pass(200), short);
    assert.deepEqual(MemoryPair.getFaults(config.a).mtu, 500);
    assert.equal(MemoryPair.getFaults(config.b).mtu, 1500, 'b’s direction is unchanged');
    assert.equal(MemoryPair.counters(config.a).lost, 100);
    a.reap();
  });

  it('skips a duplicate (and counts it) when no frame is free for the copy', () => {
    const { a, b } = fixture.open({ framesPerPort: 4, faults: { duplicateRate: 1 } });
    const frames = [0, 1, 2, 3].map(() => a.allocate());
    for (const f of frames) a.send(f + a.txDataOffset, 100);
    a.flush();
    const c = a.counters;
    assert.deepEqual([c.duplicated, c.duplicateFailures, c.allocFailures], [0, 4, 0]);
    assert.equal(drain(b), 4);
  });
});

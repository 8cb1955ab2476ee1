import assert from 'node:assert/strict';
import {
  DEFAULT_RSS_KEY,
  FlowSteering,
  Reta,
  ToeplitzHasher,
  type OpenFlow,
  type RetaSize,
} from '../../ts/rss/index.js';
import { xorshift } from '../support/xorshift.js';

/** Upper critical value of chi-square with `df` degrees of freedom (Wilson-Hilferty). */
function chiSquareCritical(df: number, z: number): number {
  const a = 2 / (9 * df);
  return df * Math.pow(1 - a + z * Math.sqrt(a), 3);
}

function chiSquare(observed: ArrayLike<number>, expected: ArrayLike<number>): number {
  let x = 0;
  for (let i = 0; i < observed.length; i++) x += (observed[i] - expected[i]) ** 2 / expected[i];
  return x;
}

const Z_0_001 = 3.0902; // one-sided normal quantile for significance 0.001

describe('rss: RETA distribution', () => {
  const hasher = new ToeplitzHasher(DEFAULT_RSS_KEY);

  for (const size of [128, 512] as RetaSize[]) {
    for (const workers of [2, 3, 4]) {
      it(`spreads a million random IPv4 4-tuples evenly (RETA ${size}, ${workers} workers)`, () => {
        const reta = new Reta(workers, size);
        const rand = xorshift(0xc0ffee + size + workers); // fixed seed: the verdict cannot flake
        const tuple = new Uint8Array(12);
        const view = new DataView(tuple.buffer);
        const buckets = new Float64Array(size);
        const perWorker = new Float64Array(workers);
        const N = 1_000_000;
        for (let i = 0; i < N; i++) {
          view.setUint32(0, rand());
          view.setUint32(4, rand());
          view.setUint32(8, rand());
          const h = hasher.hashIpv4(tuple, 0, 8);
          buckets[reta.bucketOf(h)]++;
          perWorker[reta.ownerOf(h)]++;
        }
        const expectBuckets = new Float64Array(size).fill(N / size);
        const x2 = chiSquare(buckets, expectBuckets);
        assert.ok(x2 < chiSquareCritical(size - 1, Z_0_001), `bucket chi-square ${x2.toFixed(1)}`);
        // Workers own unequal bucket counts when size % workers != 0: expect in proportion.
        const share = new Float64Array(workers);
        for (let b = 0; b < size; b++) share[reta.table[b]] += N / size;
        const w2 = chiSquare(perWorker, share);
        assert.ok(
          w2 < chiSquareCritical(workers - 1, Z_0_001),
          `worker chi-square ${w2.toFixed(1)}`,
        );
      });
    }
  }

  it('the test detects a skewed hash (a chi-square test that cannot fail proves nothing)', () => {
    const rand = xorshift(1);
    const buckets = new Float64Array(128);
    for (let i = 0; i < 1_000_000; i++) buckets[rand() % 120]++; // 8 buckets never hit
    const x2 = chiSquare(buckets, new Float64Array(128).fill(1_000_000 / 128));
    assert.ok(x2 > chiSquareCritical(127, Z_0_001));
  });
});

describe('rss: RETA resize', () => {
  function counts(reta: Reta): number[] {
    const c = new Array<number>(reta.workers).fill(0);
    for (const w of reta.table) c[w]++;
    return c;
  }

  it('stays balanced and moves only the surplus buckets', () => {
    for (const size of [128, 512] as RetaSize[]) {
      const reta = new Reta(2, size);
      for (const workers of [3, 4, 5, 2, 7, 1, 6, 4]) {
        const before = Uint8Array.from(reta.table);
        const previous = reta.resize(workers);
        const c = counts(reta);
        assert.ok(Math.max(...c) - Math.min(...c) <= 1, `balanced: ${c.join(',')}`);
        // The fewest moves any balanced table allows: each surviving worker keeps at most its
        // share, and the size % workers larger shares are best given to the biggest holders.
        const held = new Array<number>(workers).fill(0);
        for (const w of before) if (w < workers) held[w]++;
        held.sort((a, b) => b - a);
        const fair = Math.floor(size / workers);
        let canKeep = 0;
        held.forEach((h, rank) => (canKeep += Math.min(h, fair + (rank < size % workers ? 1 : 0))));
        const fewest = size - canKeep;
        let moved = 0;
        for (let b = 0; b < size; b++) {
          if (before[b] !== reta.table[b]) {
            moved++;
            assert.equal(previous[b], before[b]);
          } else {
            assert.equal(previous[b], -1);
          }
        }
        assert.equal(moved, fewest, `${workers} workers`);
      }
    }
  });

  it('moves exactly a third of the buckets going from 2 to 3 workers', () => {
    const reta = new Reta(2, 512);
    const previous = reta.resize(3);
    assert.equal(previous.filter((p) => p >= 0).length, 512 - 171 - 171);
  });
});

describe('rss: flow pins across a resize', () => {
  const hasher = new ToeplitzHasher(DEFAULT_RSS_KEY);

  function randomFlows(n: number, seed: number, family: 4 | 16): OpenFlow[] {
    const rand = xorshift(seed);
    const flows: OpenFlow[] = [];
    for (let i = 0; i < n; i++) {
      const tuple = Uint8Array.from({ length: 2 * family + 4 }, () => rand() & 0xff);
      flows.push({ hash: hasher.hash(tuple), tuple, owner: -1 });
    }
    return flows;
  }

  it('keeps open flows on their old owner, sends new flows by the new RETA, unpins on close', () => {
    for (const family of [4, 16] as const) {
      const steering = new FlowSteering(2, 128);
      const open = randomFlows(2000, 99 + family, family);
      for (const f of open) f.owner = steering.ownerOfTuple(f.hash, f.tuple);
      const pinned = steering.resize(3, open);
      assert.ok(pinned > 0 && pinned < open.length, `${pinned} of ${open.length} pinned`);
      assert.equal(steering.pinned, pinned);
      for (const f of open) assert.equal(steering.ownerOfTuple(f.hash, f.tuple), f.owner);
      // New flows, even in moved buckets, follow the new table.
      for (const f of randomFlows(2000, 7 + family, family)) {
        assert.equal(steering.ownerOfTuple(f.hash, f.tuple), steering.reta.ownerOf(f.hash));
      }
      // The same lookup straight from a frame: tuple at some offsets inside a bigger buffer.
      const f0 = open.find((f) => steering.reta.ownerOf(f.hash) !== f.owner)!;
      const frame = new Uint8Array(100);
      frame.set(f0.tuple.subarray(0, 2 * family), 30);
      frame.set(f0.tuple.subarray(2 * family), 70);
      assert.equal(steering.ownerOfFrame(f0.hash, frame, 30, family, 70), f0.owner);
      // Flows close: the pins go and every flow follows the table again.
      for (const f of open) steering.unpin(f.hash, f.tuple);
      assert.equal(steering.pinned, 0);
      for (const f of open) {
        assert.equal(steering.ownerOfTuple(f.hash, f.tuple), steering.reta.ownerOf(f.hash));
      }
    }
  });

  it('pins nothing for flows whose bucket kept its owner', () => {
    const steering = new FlowSteering(4, 128);
    const open = randomFlows(500, 3, 4);
    for (const f of open) f.owner = steering.ownerOfTuple(f.hash, f.tuple);
    const before = Uint8Array.from(steering.reta.table);
    steering.resize(4, open); // same worker count: nothing moves
    assert.deepEqual(steering.reta.table, before);
    assert.equal(steering.pinned, 0);
  });
});

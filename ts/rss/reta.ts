// The RSS indirection table (RETA): hash -> bucket (the hash's low bits, as NICs index it) ->
// worker. 128 entries is what many NICs (ixgbe, virtio) expose, 512 what larger ones (i40e, mlx5)
// do; more buckets than workers keeps the split even and lets a resize move a few buckets.

function invalid(message: string): Error {
  return Object.assign(new Error(message), { code: 'EINVAL' });
}

/** RETA sizes accepted. */
export type RetaSize = 128 | 512;

/** The indirection table: bucket -> worker. */
export class Reta {
  /** Number of buckets. */
  readonly size: RetaSize;
  /** bucket -> worker index. Read it directly on hot paths: `table[hash & mask]`. */
  readonly table: Uint8Array;
  /** size - 1. */
  readonly mask: number;
  private workerCount: number;

  /** A table spreading `workers` round-robin over `size` buckets (ethtool's default spread). */
  constructor(workers: number, size: RetaSize = 128) {
    if (size !== 128 && size !== 512) throw invalid(`RETA size ${size} must be 128 or 512`);
    checkWorkers(workers, size);
    this.size = size;
    this.mask = size - 1;
    this.table = new Uint8Array(size);
    for (let b = 0; b < size; b++) this.table[b] = b % workers;
    this.workerCount = workers;
  }

  /** A copy of this table that can be resized without touching this one (a resize preview). */
  clone(): Reta {
    const copy = new Reta(this.workerCount, this.size);
    copy.table.set(this.table);
    return copy;
  }

  /** Workers the table currently spreads over. */
  get workers(): number {
    return this.workerCount;
  }

  /** Bucket of a hash. */
  bucketOf(hash: number): number {
    return hash & this.mask;
  }

  /** Worker owning a hash according to the table alone (no flow pins). */
  ownerOf(hash: number): number {
    return this.table[hash & this.mask];
  }

  /**
   * Re-spreads the buckets over `workers`, moving as few as possible: each worker keeps up to
   * its fair share (size / workers, the remainder going to those already holding most), and
   * only the surplus moves. Returns the moved buckets' previous owners: -1 for buckets that
   * did not move.
   */
  resize(workers: number): Int16Array {
    checkWorkers(workers, this.size);
    const quota = fairShares(this.holdings(workers), workers, this.size);
    const kept = new Int32Array(workers);
    const previous = new Int16Array(this.size).fill(-1);
    for (let b = 0; b < this.size; b++) {
      const w = this.table[b];
      if (w < workers && kept[w] < quota[w]) kept[w]++;
      else previous[b] = w;
    }
    let w = 0;
    for (let b = 0; b < this.size; b++) {
      if (previous[b] < 0) continue;
      while (kept[w] >= quota[w]) w = (w + 1) % workers;
      this.table[b] = w;
      kept[w]++;
      w = (w + 1) % workers; // interleave the moved buckets over the workers that need them
    }
    this.workerCount = workers;
    return previous;
  }

  /** Buckets each of the first `workers` workers holds now. */
  private holdings(workers: number): Int32Array {
    const held = new Int32Array(workers);
    for (let b = 0; b < this.size; b++) if (this.table[b] < workers) held[this.table[b]]++;
    return held;
  }
}

/** Fair bucket counts; the `size % workers` extra buckets go to the workers holding most. */
function fairShares(held: Int32Array, workers: number, size: number): Int32Array {
  const quota = new Int32Array(workers).fill(Math.floor(size / workers));
  const order = Array.from({ length: workers }, (_, i) => i).sort((a, b) => held[b] - held[a]);
  for (let k = 0; k < size % workers; k++) quota[order[k]]++;
  return quota;
}

function checkWorkers(workers: number, size: number): void {
  if (!Number.isInteger(workers) || workers < 1 || workers > Math.min(size, 255)) {
    throw invalid(`worker count ${workers} must be an integer in 1..${Math.min(size, 255)}`);
  }
}

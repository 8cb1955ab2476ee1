// Where received bytes go on their way to the application: Buffers carved out of a large slab,
// one after another, instead of one allocation per read. A 64 KiB Buffer.allocUnsafe per read
// is a backing store of its own (allocUnsafe pools only below 4 KiB), and a bulk receiver
// allocating thousands of them a second spent about a tenth of its time there and in the
// garbage collector that frees them. A slab is freed once every Buffer cut from it is gone, as
// Node's own Buffer pool works; the price is that one Buffer the app keeps holds its slab.

/** Bytes per slab: many reads per backing store, small enough to drop quickly. */
const SLAB_BYTES = 1 << 20;

export class ReadSlab {
  private slab: Buffer = Buffer.alloc(0);
  private used = 0;

  /**
   * A Buffer of `n` bytes for the caller to fill (contents undefined, as allocUnsafe's).
   * Reads larger than a slab get a backing store of their own.
   */
  take(n: number): Buffer {
    if (n > SLAB_BYTES) return Buffer.allocUnsafe(n);
    if (this.used + n > this.slab.length) {
      // Uninitialised, as allocUnsafe's: zeroing a megabyte per slab cost as much as the reads.
      this.slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
      this.used = 0;
    }
    const b = this.slab.subarray(this.used, this.used + n);
    this.used += n;
    return b;
  }
}

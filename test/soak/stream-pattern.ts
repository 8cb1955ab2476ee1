// The bytes of a soak connection's streams: byte i of the stream with seed s is
// PATTERN[(s + i) % PERIOD]. The period is prime, so a segment delivered at the wrong offset does
// not match by accident, and the table is one chunk longer than the period so every slice a
// writer or checker needs is contiguous (no copy to send, one native compare to check).

const PERIOD = 65_521;
/** Largest slice written or checked at once. */
export const CHUNK = 65_536;

const PATTERN = (() => {
  const p = Buffer.allocUnsafe(PERIOD + CHUNK);
  for (let i = 0; i < p.length; i++) p[i] = Math.imul(i % PERIOD, 0x9e3779b1) >>> 24;
  return p;
})();

/** Bytes [offset, offset + len) of stream `seed`; len <= CHUNK. Shares the table's memory. */
export function streamSlice(seed: number, offset: number, len: number): Buffer {
  const at = (seed + offset) % PERIOD;
  return PATTERN.subarray(at, at + len);
}

/**
 * Checks received bytes against stream `seed` from `offset`. Returns the offset of the first
 * byte that differs, or -1 when all match.
 */
export function firstMismatch(seed: number, offset: number, got: Uint8Array): number {
  for (let done = 0; done < got.length; done += CHUNK) {
    const len = Math.min(CHUNK, got.length - done);
    const want = streamSlice(seed, offset + done, len);
    const part = got.subarray(done, done + len);
    if (Buffer.compare(part, want) !== 0) {
      for (let i = 0; i < len; i++) if (part[i] !== want[i]) return offset + done + i;
    }
  }
  return -1;
}

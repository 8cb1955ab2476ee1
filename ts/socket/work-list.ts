// A list of items to visit once per loop pass (connections owing an ACK, deadlines to re-file)
// that keeps its storage when cleared. `array.length = 0` gives V8's backing store back, so the
// next push allocates a new one: about 150 bytes per pass on the TCP fast path, most of the
// garbage of a request/response loop.

export class WorkList<T> {
  private readonly items: (T | undefined)[] = [];
  /** How many items are listed: `at(0)` to `at(length - 1)`. */
  length = 0;

  push(item: T): void {
    this.items[this.length++] = item;
  }

  /** The item at `i` (0 <= i < length). */
  at(i: number): T {
    return this.items[i] as T;
  }

  /** Empties the list, keeping its storage; the items are dropped so they can be collected. */
  clear(): void {
    const items = this.items;
    for (let i = 0; i < this.length; i++) items[i] = undefined;
    this.length = 0;
  }
}

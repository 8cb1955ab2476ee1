// A first-in, first-out line of items (connections waiting for device room) that keeps its
// storage as it empties, like WorkList: a Set would give its table back and allocate a new one as
// it shrinks and grows, once per pass on the request/response path.

export class WorkQueue<T> {
  private readonly items: (T | undefined)[] = [];
  private head = 0;
  private tail = 0;

  get length(): number {
    return this.tail - this.head;
  }

  push(item: T): void {
    this.items[this.tail++] = item;
  }

  /** Takes the oldest item; the queue must not be empty. */
  shift(): T {
    const items = this.items;
    const item = items[this.head] as T;
    items[this.head++] = undefined;
    if (this.head === this.tail) this.head = this.tail = 0;
    else if (this.head >= 1024 && this.head >= this.tail - this.head) this.compact();
    return item;
  }

  /** Moves the items to the front, so a line that never empties does not grow without end. */
  private compact(): void {
    const items = this.items;
    const n = this.tail - this.head;
    items.copyWithin(0, this.head, this.tail);
    items.fill(undefined, n, this.tail);
    this.head = 0;
    this.tail = n;
  }
}

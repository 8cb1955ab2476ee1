// The workload's own timetable in virtual time: what the soak's apps do next (open a connection,
// close one, start a loss period) is an entry here, so the loop can jump the clock straight to
// the next entry when the stacks are idle. A binary heap by time; entries due at the same time
// run in the order they were added, so a seeded run repeats exactly.

interface Entry {
  at: number;
  seq: number;
  run: () => void;
}

export class Agenda {
  private readonly heap: Entry[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  /** Runs `run` once the clock reads `at` (ms). */
  at(at: number, run: () => void): void {
    this.heap.push({ at, seq: this.seq++, run });
    this.up(this.heap.length - 1);
  }

  /** When the next entry is due; Infinity when there is none. */
  next(): number {
    return this.heap.length === 0 ? Infinity : this.heap[0].at;
  }

  /** Runs every entry due at `now` (entries they add for `now` too). Returns how many ran. */
  runDue(now: number): number {
    let ran = 0;
    while (this.heap.length > 0 && this.heap[0].at <= now) {
      const e = this.pop();
      e.run();
      ran++;
    }
    return ran;
  }

  private pop(): Entry {
    const h = this.heap;
    const top = h[0];
    const last = h.pop() as Entry;
    if (h.length > 0) {
      h[0] = last;
      this.down(0);
    }
    return top;
  }

  private before(i: number, j: number): boolean {
    const a = this.heap[i];
    const b = this.heap[j];
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private swap(i: number, j: number): void {
    const h = this.heap;
    [h[i], h[j]] = [h[j], h[i]];
  }

  private up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(i, parent)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(i: number): void {
    const n = this.heap.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.before(l, m)) m = l;
      if (r < n && this.before(r, m)) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }
}

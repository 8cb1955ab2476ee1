// A binary min-heap of connections keyed by their TCB's next deadline, with each connection's
// slot stored on it so a deadline can move in O(log n) without searching (the owner's side of
// tcb.ts's timer contract: the stack re-files the TCBs that said their deadline moved).

import type { TcpConn } from './tcp-conn.js';

export class TimerHeap {
  private readonly items: TcpConn[] = [];

  get size(): number {
    return this.items.length;
  }

  /** The connection with the earliest deadline, or null. */
  peek(): TcpConn | null {
    return this.items.length > 0 ? this.items[0] : null;
  }

  /** Files `c` under `deadline` (Infinity removes it). */
  set(c: TcpConn, deadline: number): void {
    if (deadline === Infinity) {
      this.remove(c);
      c.deadline = Infinity;
      return;
    }
    const old = c.deadline;
    c.deadline = deadline;
    if (c.heapIndex < 0) {
      c.heapIndex = this.items.length;
      this.items.push(c);
      this.up(c.heapIndex);
    } else if (deadline < old) {
      this.up(c.heapIndex);
    } else if (deadline > old) {
      this.down(c.heapIndex);
    }
  }

  remove(c: TcpConn): void {
    const i = c.heapIndex;
    if (i < 0) return;
    const items = this.items;
    const last = items.pop() as TcpConn;
    c.heapIndex = -1;
    if (last === c) return;
    items[i] = last;
    last.heapIndex = i;
    this.up(i);
    this.down(last.heapIndex);
  }

  private up(i: number): void {
    const items = this.items;
    const c = items[i];
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (items[p].deadline <= c.deadline) break;
      items[i] = items[p];
      items[i].heapIndex = i;
      i = p;
    }
    items[i] = c;
    c.heapIndex = i;
  }

  private down(i: number): void {
    const items = this.items;
    const n = items.length;
    const c = items[i];
    for (;;) {
      let m = 2 * i + 1;
      if (m >= n) break;
      if (m + 1 < n && items[m + 1].deadline < items[m].deadline) m++;
      if (items[m].deadline >= c.deadline) break;
      items[i] = items[m];
      items[i].heapIndex = i;
      i = m;
    }
    items[i] = c;
    c.heapIndex = i;
  }
}

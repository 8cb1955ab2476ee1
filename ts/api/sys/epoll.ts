// An epoll instance (Linux fs/eventpoll.c, reduced to one thread): the watches keyed by
// descriptor and a ready list that sockets push onto through wake(), so a wait visits only the
// watches that were woken — O(ready), never O(watched). Each visited watch is polled again, as
// ep_send_events does: a stale entry (drained since it was queued) is dropped silently;
// level-triggered ones that are still ready go back on the list for the next wait.

import {
  EPOLLERR,
  EPOLLET,
  EPOLLEXCLUSIVE,
  EPOLLHUP,
  EPOLLIN,
  EPOLLONESHOT,
  EPOLLOUT,
  EPOLLWAKEUP,
} from './constants.js';
import { Errno } from './errno.js';
import { type FileWatch, SysFile } from './file.js';

/** Flags that are not events (Linux EP_PRIVATE_BITS). */
export const EP_PRIVATE_BITS = EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE;
/** What EPOLLEXCLUSIVE may be combined with (Linux EPOLLEXCLUSIVE_OK_BITS). */
const EXCLUSIVE_OK_BITS = EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLWAKEUP | EPOLLET;
/** Linux EP_MAX_NESTS: deeper chains of epolls watching epolls are refused with ELOOP. */
const MAX_NESTS = 4;

/** One reported event, as struct epoll_event: reuse an array of these across waits. */
export class EpollEvent {
  events = 0;
  /** The user data given to epollCtl (the descriptor unless set). */
  data = 0;
}

/** `n` reusable EpollEvent slots for epollWait. */
export function epollEvents(n: number): EpollEvent[] {
  const out: EpollEvent[] = [];
  for (let i = 0; i < n; i++) out.push(new EpollEvent());
  return out;
}

export class EpollWatch implements FileWatch {
  /** Interest plus flags; ERR and HUP are always in it (epoll_ctl(2)). */
  events = 0;
  data = 0;
  queued = false;
  prev: EpollWatch | null = null;
  next: EpollWatch | null = null;

  constructor(
    readonly ep: EpollFile,
    readonly file: SysFile,
    readonly fd: number,
  ) {}

  forget(): void {
    this.ep.forget(this);
  }

  // ep_poll_callback: a disarmed ONESHOT watch and keys outside the interest queue nothing.
  notify(key: number): void {
    const ev = this.events & ~EP_PRIVATE_BITS;
    if (ev === 0 || (key & ev) === 0) return;
    // Already queued (maybe stale when it was queued): the wait polls it again, but a blocked
    // wait must still learn that something changed.
    if (this.queued) this.ep.wake(EPOLLIN);
    else this.ep.enqueue(this);
  }
}

export class EpollFile extends SysFile {
  readonly byFd = new Map<number, EpollWatch>();
  private head: EpollWatch | null = null;
  private tail: EpollWatch | null = null;
  private readyCount = 0;
  /** Ready-list entries examined by waits so far: what a wait costs (tests check O(ready)). */
  visited = 0;

  poll(): number {
    for (let w = this.head; w !== null; w = w.next) {
      if ((w.file.poll() & w.events & ~EP_PRIVATE_BITS) !== 0) return EPOLLIN;
    }
    return 0;
  }

  release(): void {
    for (const w of this.byFd.values()) this.detach(w);
    this.byFd.clear();
  }

  /** Entries on the ready list (some may be stale until the next wait polls them). */
  get queuedCount(): number {
    return this.readyCount;
  }

  add(fd: number, file: SysFile, events: number, data: number): number {
    if (this.byFd.has(fd)) return -Errno.EEXIST;
    if ((events & EPOLLEXCLUSIVE) !== 0) {
      if ((events & ~EXCLUSIVE_OK_BITS & ~EPOLLEXCLUSIVE) !== 0 || file instanceof EpollFile) {
        return -Errno.EINVAL;
      }
    }
    if (file instanceof EpollFile && file.reaches(this, 0)) return -Errno.ELOOP;
    const w = new EpollWatch(this, file, fd);
    w.events = events | EPOLLERR | EPOLLHUP;
    w.data = data;
    this.byFd.set(fd, w);
    file.watches.push(w);
    if ((file.poll() & w.events) !== 0) this.enqueue(w);
    return 0;
  }

  modify(fd: number, events: number, data: number): number {
    const w = this.byFd.get(fd);
    if (w === undefined) return -Errno.ENOENT;
    // Linux refuses MOD on, or to, an exclusive watch.
    if (((events | w.events) & EPOLLEXCLUSIVE) !== 0) return -Errno.EINVAL;
    w.events = events | EPOLLERR | EPOLLHUP;
    w.data = data;
    if (!w.queued && (w.file.poll() & w.events) !== 0) this.enqueue(w);
    return 0;
  }

  remove(fd: number): number {
    const w = this.byFd.get(fd);
    if (w === undefined) return -Errno.ENOENT;
    this.byFd.delete(fd);
    this.detach(w);
    return 0;
  }

  /** The watched file is closing (eventpoll_release). */
  forget(w: EpollWatch): void {
    if (this.byFd.get(w.fd) === w) this.byFd.delete(w.fd);
    this.detach(w);
  }

  private detach(w: EpollWatch): void {
    if (w.queued) this.unlink(w);
    const ws = w.file.watches;
    const i = ws.indexOf(w);
    if (i >= 0) ws.splice(i, 1);
  }

  /** True when `target` is this epoll or one it watches, directly or through nested epolls. */
  reaches(target: EpollFile, depth: number): boolean {
    if (this === target || depth >= MAX_NESTS) return true;
    for (const w of this.byFd.values()) {
      if (w.file instanceof EpollFile && w.file.reaches(target, depth + 1)) return true;
    }
    return false;
  }

  enqueue(w: EpollWatch): void {
    w.queued = true;
    w.next = null;
    w.prev = this.tail;
    if (this.tail !== null) this.tail.next = w;
    else this.head = w;
    this.tail = w;
    this.readyCount++;
    this.wake(EPOLLIN); // nested epolls and blocked waits
  }

  private unlink(w: EpollWatch): void {
    if (w.prev !== null) w.prev.next = w.next;
    else this.head = w.next;
    if (w.next !== null) w.next.prev = w.prev;
    else this.tail = w.prev;
    w.prev = w.next = null;
    w.queued = false;
    this.readyCount--;
  }

  /**
   * ep_send_events: up to `max` events into `out`; visits each entry queued now at most once.
   * Level-triggered watches still ready are queued again; ONESHOT ones are disarmed.
   */
  collect(out: EpollEvent[], max: number): number {
    let n = 0;
    let budget = this.readyCount;
    while (n < max && budget-- > 0 && this.head !== null) {
      const w = this.head;
      this.unlink(w);
      this.visited++;
      const mask = w.file.poll() & w.events & ~EP_PRIVATE_BITS;
      if (mask === 0) continue;
      const e = out[n++];
      e.events = mask;
      e.data = w.data;
      if ((w.events & EPOLLONESHOT) !== 0) w.events &= EP_PRIVATE_BITS;
      else if ((w.events & EPOLLET) === 0) this.enqueue(w);
    }
    return n;
  }
}

// What every descriptor refers to: an open file with a readiness mask (poll()) and the ones
// watching it. Readiness is pushed, not scanned: when a socket's state changes it calls wake()
// with the events that may have changed (Linux's wake_up_poll key), which queues its epoll
// watches whose interest intersects the key and settles the async callers waiting on it.

import { EPOLLERR, EPOLLHUP } from './constants.js';

/** One epoll watch of a file (Linux's epitem); defined in epoll.ts. */
export interface FileWatch {
  /** Called by wake(); queues the watch on its epoll's ready list when `key` concerns it. */
  notify(key: number): void;
  /** The file is closing: leave the epoll (eventpoll_release). */
  forget(): void;
}

interface Waiter {
  mask: number;
  resolve: () => void;
}

export abstract class SysFile {
  /** The descriptor while open, -1 after close. */
  fd = -1;
  /** Epoll watches of this file; a handful at most, so an array. */
  readonly watches: FileWatch[] = [];
  private waiters: Waiter[] = [];

  /** EPOLL* bits true now (Linux's f_op->poll). Cheap: state checks only. */
  abstract poll(): number;

  /** Frees what the file holds (sockets close, epolls drop their watches). */
  abstract release(): void;

  /** The state changed in ways `key` (EPOLL* bits) describes. */
  wake(key: number): void {
    const w = this.watches;
    for (let i = 0; i < w.length; i++) w[i].notify(key);
    if (this.waiters.length > 0) this.settleWaiters();
  }

  /** Resolves once poll() has a bit of `mask` (ERR and HUP always count) or the file closes. */
  waitFor(mask: number): Promise<void> {
    if (this.fd < 0 || (this.poll() & (mask | EPOLLERR | EPOLLHUP)) !== 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ mask, resolve }));
  }

  private settleWaiters(): void {
    const now = this.fd < 0 ? -1 : this.poll();
    const keep: Waiter[] = [];
    for (const w of this.waiters) {
      if ((now & (w.mask | EPOLLERR | EPOLLHUP)) !== 0) w.resolve();
      else keep.push(w);
    }
    this.waiters = keep;
  }

  /** Closing: waiters return and see EBADF; watches are dropped by the caller. */
  closeWaiters(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const x of w) x.resolve();
  }
}

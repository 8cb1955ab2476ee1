// The descriptor table of one worker: the lowest free number first (POSIX requires it of
// open/socket/accept), EMFILE past a configurable limit (RLIMIT_NOFILE's role).

import { Errno } from './errno.js';
import type { SysFile } from './file.js';

export const DEFAULT_FD_LIMIT = 1024;

export class FdTable {
  private readonly files: (SysFile | null)[] = [];
  /** Freed descriptors below files.length, kept as a min-heap so the lowest is reused first. */
  private readonly free: number[] = [];
  private open = 0;

  constructor(public limit: number = DEFAULT_FD_LIMIT) {}

  get count(): number {
    return this.open;
  }

  /** Installs `f` at the lowest free descriptor; returns it, or -EMFILE. */
  install(f: SysFile): number {
    if (this.open >= this.limit) return -Errno.EMFILE;
    const fd = this.free.length > 0 ? heapPop(this.free) : this.files.length;
    if (fd === this.files.length) this.files.push(f);
    else this.files[fd] = f;
    f.fd = fd;
    this.open++;
    return fd;
  }

  get(fd: number): SysFile | null {
    if (!Number.isInteger(fd) || fd < 0 || fd >= this.files.length) return null;
    return this.files[fd];
  }

  /** Removes `fd`; the caller releases the file. */
  remove(fd: number): SysFile | null {
    const f = this.get(fd);
    if (f === null) return null;
    this.files[fd] = null;
    f.fd = -1;
    this.open--;
    heapPush(this.free, fd);
    return f;
  }

  /** Every open file (shutdown). */
  all(): SysFile[] {
    return this.files.filter((f): f is SysFile => f !== null);
  }
}

function heapPush(h: number[], v: number): void {
  let i = h.length;
  h.push(v);
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (h[p] <= v) break;
    h[i] = h[p];
    i = p;
  }
  h[i] = v;
}

function heapPop(h: number[]): number {
  const top = h[0];
  const last = h.pop() as number;
  if (h.length === 0) return top;
  let i = 0;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= h.length) break;
    const c = l + 1 < h.length && h[l + 1] < h[l] ? l + 1 : l;
    if (h[c] >= last) break;
    h[i] = h[c];
    i = c;
  }
  h[i] = last;
  return top;
}

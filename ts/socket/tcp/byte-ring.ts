// A preallocated ring of bytes: the storage under the send and receive buffers. `length` bytes
// starting at `head` are committed; the free space after them can also be written at an offset
// without committing (the receive side parks out-of-order data there, at its place in the
// stream). Copies go byte by byte through plain loops so nothing allocates per segment.

import { copyBytes } from '../../wire/bytes.js';

export class ByteRing {
  private buf: Uint8Array;
  private head = 0;
  /** Committed bytes. */
  length = 0;

  constructor(capacity: number) {
    this.buf = new Uint8Array(capacity);
  }

  get capacity(): number {
    return this.buf.length;
  }

  get free(): number {
    return this.buf.length - this.length;
  }

  /** Append up to `len` bytes; returns how many fitted. */
  append(src: Uint8Array, off: number, len: number): number {
    const n = Math.min(len, this.free);
    this.writeAt(0, src, off, n);
    this.length += n;
    return n;
  }

  /**
   * Write `len` bytes `offset` bytes past the committed ones, without committing them.
   * offset + len must not exceed `free`.
   */
  writeAt(offset: number, src: Uint8Array, off: number, len: number): void {
    const cap = this.buf.length;
    let pos = (this.head + this.length + offset) % cap;
    let done = 0;
    while (done < len) {
      const chunk = Math.min(len - done, cap - pos);
      copyBytes(this.buf, pos, src, off + done, chunk);
      done += chunk;
      pos = 0;
    }
  }

  /** Make `n` bytes written by writeAt part of the committed data. */
  commit(n: number): void {
    this.length += n;
  }

  /** Copy `len` committed bytes starting `offset` bytes past the head, without consuming them. */
  peek(offset: number, dst: Uint8Array, dstOff: number, len: number): void {
    const cap = this.buf.length;
    let pos = (this.head + offset) % cap;
    let done = 0;
    while (done < len) {
      const chunk = Math.min(len - done, cap - pos);
      copyBytes(dst, dstOff + done, this.buf, pos, chunk);
      done += chunk;
      pos = 0;
    }
  }

  /** Drop `n` bytes from the head. */
  consume(n: number): void {
    this.head = (this.head + n) % this.buf.length;
    this.length -= n;
  }

  /** Copy out and consume up to `len` bytes; returns how many. */
  read(dst: Uint8Array, dstOff: number, len: number): number {
    const n = Math.min(len, this.length);
    this.peek(0, dst, dstOff, n);
    this.consume(n);
    return n;
  }

  /**
   * Reallocate with a larger capacity (a cold path: buffer auto-tuning). The whole old ring is
   * carried over in stream order, uncommitted bytes included.
   */
  grow(capacity: number): void {
    const old = this.buf;
    if (capacity <= old.length) return;
    const next = new Uint8Array(capacity);
    const first = old.length - this.head;
    next.set(old.subarray(this.head), 0);
    next.set(old.subarray(0, this.head), first);
    this.buf = next;
    this.head = 0;
  }
}

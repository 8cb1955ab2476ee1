// The receive buffer: in-order bytes waiting for the application, and room after them where
// out-of-order segments are parked at their stream position (reassembly.ts tracks which ranges
// are there). Its free space is what the receive window may offer (RFC 9293 3.8.6.2.2), so an
// acceptable segment always fits. Auto-tuning (like Linux's dynamic right-sizing) doubles the
// capacity, up to a cap, when the application drains more than half the buffer per RTT.

import { ByteRing } from './byte-ring.js';

export class ReceiveBuffer {
  private readonly ring: ByteRing;
  private copiedSinceMark = 0;
  private markTime = -1;
  /** How far past the committed bytes anything was written (parked data), 0 if nothing. */
  private writtenPast = 0;

  constructor(
    initialCapacity: number,
    /** The most auto-tuning may grow to; also what the window scale is chosen for. */
    readonly maxCapacity: number,
  ) {
    this.ring = new ByteRing(Math.min(initialCapacity, maxCapacity));
  }

  /** In-order bytes the application can read. */
  get length(): number {
    return this.ring.length;
  }

  get capacity(): number {
    return this.ring.capacity;
  }

  /** Room for new data past the in-order bytes (the most the window may offer). */
  get free(): number {
    return this.ring.free;
  }

  /** Park segment bytes `offset` bytes past RCV.NXT (offset + len <= free). */
  writeAt(offset: number, src: Uint8Array, off: number, len: number): void {
    // An empty buffer may start anywhere: start where the copy from UMEM is fastest. One that
    // holds bytes is rotated into line now and then (ByteRing.lineUp).
    if (this.writtenPast === 0) this.ring.alignNextWrite(offset, src, off);
    this.ring.lineUp(offset, src, off, len, this.ring.length + this.writtenPast);
    this.ring.writeAt(offset, src, off, len);
    if (offset + len > this.writtenPast) this.writtenPast = offset + len;
  }

  /** RCV.NXT advanced by `n`: those bytes are now readable. */
  commit(n: number): void {
    this.ring.commit(n);
    this.writtenPast = n < this.writtenPast ? this.writtenPast - n : 0;
  }

  /** Copy up to `len` in-order bytes without consuming them (MSG_PEEK); returns how many. */
  peek(dst: Uint8Array, dstOff: number, len: number): number {
    const n = Math.min(len, this.ring.length);
    this.ring.peek(0, dst, dstOff, n);
    return n;
  }

  read(dst: Uint8Array, dstOff: number, len: number): number {
    const n = this.ring.read(dst, dstOff, len);
    this.copiedSinceMark += n;
    if (this.ring.length === 0 && this.writtenPast === 0) this.ring.releaseStorage();
    return n;
  }

  /**
   * Called after reads: once per RTT, grow if the application consumed more than half the buffer
   * in that RTT. Returns true when the capacity changed.
   */
  autotune(nowMs: number, rttMs: number): boolean {
    if (this.markTime < 0) this.markTime = nowMs;
    if (nowMs - this.markTime < Math.max(rttMs, 1)) return false;
    const copied = this.copiedSinceMark;
    this.copiedSinceMark = 0;
    this.markTime = nowMs;
    const cap = this.ring.capacity;
    if (2 * copied <= cap || cap >= this.maxCapacity) return false;
    this.ring.grow(Math.min(this.maxCapacity, 2 * cap));
    return true;
  }
}

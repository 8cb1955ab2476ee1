// The send buffer: bytes the application wrote that are not yet acknowledged, addressed by
// sequence number. [startSeq, startSeq + length) is everything from SND.UNA (data only, the SYN
// excluded) to the last byte written; the TCB tracks how much of it has been sent. Segments copy
// their payload straight from here into the frame (copyOut), first transmission or
// retransmission alike.

import { ByteRing } from './byte-ring.js';
import { seqAdd, seqSub } from './seq.js';

export class SendBuffer {
  private readonly ring: ByteRing;
  /** Sequence number of the first byte held. */
  startSeq = 0;

  constructor(capacity: number) {
    this.ring = new ByteRing(capacity);
  }

  get length(): number {
    return this.ring.length;
  }

  get free(): number {
    return this.ring.free;
  }

  get capacity(): number {
    return this.ring.capacity;
  }

  /** The sequence number just past the last byte written. */
  get endSeq(): number {
    return seqAdd(this.startSeq, this.ring.length);
  }

  /** Queue up to `len` bytes from the application; returns how many were taken. */
  write(src: Uint8Array, off: number, len: number): number {
    return this.ring.append(src, off, len);
  }

  /** Copy `len` bytes starting at sequence `seq` into a frame (lined up first: see lineUp). */
  copyOut(seq: number, dst: Uint8Array, dstOff: number, len: number): void {
    const offset = seqSub(seq, this.startSeq);
    this.ring.lineUp(offset, dst, dstOff, len, this.ring.length);
    this.ring.peek(offset, dst, dstOff, len);
  }

  /** Bytes held from `seq` to the end (0 if seq is past the end). */
  bytesFrom(seq: number): number {
    return Math.max(0, this.ring.length - seqSub(seq, this.startSeq));
  }

  /** Release everything before `seq` (it was acknowledged); returns the bytes released. */
  ackTo(seq: number): number {
    const n = Math.min(Math.max(0, seqSub(seq, this.startSeq)), this.ring.length);
    this.ring.consume(n);
    this.startSeq = seqAdd(this.startSeq, n);
    if (this.ring.length === 0) this.ring.releaseStorage();
    return n;
  }
}

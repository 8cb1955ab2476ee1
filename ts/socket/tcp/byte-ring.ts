// A ring of bytes: the storage under the send and receive buffers. `length` bytes
// starting at `head` are committed; the free space after them can also be written at an offset
// without committing (the receive side parks out-of-order data there, at its place in the
// stream). Copies of a segment's payload are one memcpy (TypedArray.prototype.set) rather than
// a byte loop: a 1448-byte loop costs about 2.5 us in V8, set about 0.1-0.5 us including the
// subarray view it needs; a short copy (a few bytes of a request) stays a loop, which
// allocates nothing.

import { copyBytes } from '../../wire/bytes.js';

/** Below this many bytes a plain loop beats creating a view for set(). */
const SET_MIN_BYTES = 64;
/** Copies shorter than this gain too little from alignment to rotate the storage for. */
const ALIGN_MIN_BYTES = 512;

/** Copies `len` bytes (the ranges must not overlap unless dst !== src). */
function copyRange(
  dst: Uint8Array,
  dstOff: number,
  src: Uint8Array,
  srcOff: number,
  len: number,
): void {
  if (len < SET_MIN_BYTES) copyBytes(dst, dstOff, src, srcOff, len);
  else dst.set(src.subarray(srcOff, srcOff + len), dstOff);
}

// Storage comes on demand and doubles up to the capacity: ten thousand idle connections must not
// hold 384 KiB each (Linux, too, charges a socket only for the skbs it queues), and allocating
// it per connection at SYN time cost ~0.5 ms each (calloc, external-memory GC pressure).
const NO_STORAGE = new Uint8Array(0);
/** The first allocation: request/response traffic mostly fits without growing. */
const FIRST_STORAGE = 4096;
/**
 * First-size storages given back by rings that emptied (releaseStorage), for the next ring that
 * needs one: a connection per request (tcp-crr, HTTP without keep-alive) would otherwise
 * allocate two ArrayBuffers per connection, and every allocation adds external memory that
 * brings the next garbage collection closer. Per thread, as each stack is; bounded, so a burst
 * of 20,000 connections does not leave 80 MB parked here.
 */
const storagePool: Uint8Array[] = [];
const STORAGE_POOL_MAX = 1024;

export class ByteRing {
  private buf: Uint8Array = NO_STORAGE;
  private head = 0;
  private cap: number;
  /** Bytes of aligned-size copies since the storage was last rotated (see lineUp). */
  private copiedSinceRotation = 0;
  /** Committed bytes. */
  length = 0;

  constructor(capacity: number) {
    this.cap = capacity;
  }

  get capacity(): number {
    return this.cap;
  }

  get free(): number {
    return this.cap - this.length;
  }

  /** Bytes of storage allocated so far (at most the capacity). */
  get allocated(): number {
    return this.buf.length;
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
    if (len === 0) return;
    const need = this.length + offset + len;
    if (need > this.buf.length) this.reserve(need);
    const cap = this.buf.length;
    let pos = (this.head + this.length + offset) % cap;
    let done = 0;
    while (done < len) {
      const chunk = Math.min(len - done, cap - pos);
      copyRange(this.buf, pos, src, off + done, chunk);
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
      copyRange(dst, dstOff + done, this.buf, pos, chunk);
      done += chunk;
      pos = 0;
    }
  }

  /**
   * With nothing held (committed or parked), move the head so that the byte written `offset`
   * bytes past it lands at the same address modulo 8 as `srcOff` in `src`. V8 copies out of a
   * SharedArrayBuffer (the UMEM) word by word only when source and destination share that
   * alignment, and byte by byte otherwise (4x slower); full-sized 1448-byte segments then all
   * stay aligned.
   */
  alignNextWrite(offset: number, src: Uint8Array, srcOff: number): void {
    if (this.length !== 0) return;
    // Storage comes now rather than in writeAt, so the first write after releaseStorage lines up.
    if (this.buf.length === 0) this.reserve(1);
    const want = (src.byteOffset + srcOff - offset - this.buf.byteOffset) & 7;
    if (want < this.buf.length) this.head = want;
  }

  /**
   * The address modulo 8 of the byte `offset` bytes past the head, or -1 with no storage yet.
   */
  addressMod8(offset: number): number {
    const cap = this.buf.length;
    if (cap === 0) return -1;
    return (this.buf.byteOffset + ((this.head + offset) % cap)) & 7;
  }

  /**
   * Called before copying `len` bytes between `offset` bytes past the head and other[otherOff]
   * (a frame in the UMEM), with `held` bytes from the head in use (committed plus parked). V8
   * copies to or from a SharedArrayBuffer word by word only when both sides have the same address
   * modulo 8, and byte by byte otherwise (3-4x slower for a full segment). Full-sized segments are
   * a multiple of 8 bytes and sit at the same offset in every frame, so once the ring lines up
   * with the frames it stays lined up. When a copy finds it out of line (the first segment, or
   * after a short one), the held bytes move into line, once at least as many bytes were copied
   * since the last move as it moves: the moves cost at most one extra plain copy (two, through a
   * scratch buffer) per byte copied, however the segment sizes alternate.
   */
  lineUp(offset: number, other: Uint8Array, otherOff: number, len: number, held: number): void {
    if (len < ALIGN_MIN_BYTES) return;
    this.copiedSinceRotation += len;
    const at = this.addressMod8(offset);
    const want = (other.byteOffset + otherOff) & 7;
    if (at === want || at < 0 || this.copiedSinceRotation < held) return;
    this.shiftHeld(held, (want - at) & 7);
    this.copiedSinceRotation = 0;
  }

  /** Move the first `held` bytes (and the head) `delta` bytes forward in the storage. */
  private shiftHeld(held: number, delta: number): void {
    const n = this.buf.length;
    if (held + delta > n) {
      this.rotateStorage(delta);
      return;
    }
    const scratch = new Uint8Array(held); // rare: see lineUp
    this.copyOutAt(this.head, scratch, held);
    this.head = (this.head + delta) % n;
    this.copyInAt(this.head, scratch, held);
  }

  /**
   * Rotate the storage so that the byte `offset` bytes past the head lands at address `mod8`
   * modulo 8, whatever the ring holds, parked bytes included (one move of the whole storage).
   */
  rotateToAlign(offset: number, mod8: number): void {
    const at = this.addressMod8(offset);
    if (at >= 0 && at !== mod8) this.rotateStorage((mod8 - at) & 7);
  }

  private rotateStorage(delta: number): void {
    const b = this.buf;
    const n = b.length;
    const wrapped = b.slice(n - delta); // at most 7 bytes
    b.copyWithin(delta, 0, n - delta);
    b.set(wrapped, 0);
    this.head = (this.head + delta) % n;
  }

  private copyOutAt(pos: number, dst: Uint8Array, len: number): void {
    const first = Math.min(len, this.buf.length - pos);
    dst.set(this.buf.subarray(pos, pos + first), 0);
    if (first < len) dst.set(this.buf.subarray(0, len - first), first);
  }

  private copyInAt(pos: number, src: Uint8Array, len: number): void {
    const first = Math.min(len, this.buf.length - pos);
    this.buf.set(src.subarray(0, first), pos);
    if (first < len) this.buf.set(src.subarray(first, len), 0);
  }

  /**
   * Give first-size storage back to the pool while nothing is held (the owner knows: parked
   * bytes past the committed ones count as held): an idle connection then holds no storage, as
   * an idle Linux socket holds no skbs. Storage that grew stays: the connection moves bulk data
   * and would only grow it again.
   */
  releaseStorage(): void {
    if (this.length !== 0 || this.buf.length !== FIRST_STORAGE) return;
    if (storagePool.length < STORAGE_POOL_MAX) storagePool.push(this.buf);
    this.buf = NO_STORAGE;
    this.head = 0;
    this.copiedSinceRotation = 0;
  }

  /** Drop `n` bytes from the head. */
  consume(n: number): void {
    if (n === 0) return; // keeps head a number while there is no storage
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

  /** Raise the capacity (buffer auto-tuning); storage follows when bytes need it. */
  grow(capacity: number): void {
    if (capacity > this.cap) this.cap = capacity;
  }

  /**
   * Storage for `need` bytes past the head (a cold path: a few times per connection). The whole
   * old ring moves over in stream order, uncommitted bytes included; the head keeps its address
   * modulo 8 (see alignNextWrite).
   */
  private reserve(need: number): void {
    const old = this.buf;
    let size = Math.max(FIRST_STORAGE, 2 * old.length);
    while (size < need) size *= 2;
    size = Math.min(size, this.cap);
    if (old.length === 0 && size === FIRST_STORAGE && storagePool.length > 0) {
      this.buf = storagePool.pop() as Uint8Array;
      this.head = 0;
      return;
    }
    const next = new Uint8Array(size);
    const at = (this.head & 7) + old.length <= next.length ? this.head & 7 : 0;
    next.set(old.subarray(this.head), at);
    next.set(old.subarray(0, this.head), at + old.length - this.head);
    this.buf = next;
    this.head = at;
  }
}

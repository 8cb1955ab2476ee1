// The byte layout of one ring inside a SharedArrayBuffer. This is a contract shared with the Rust
// side (crates/node-xdp); rings/README.md is its normative description. Change both or neither.

/** Bytes in a cache line; each index lives alone on one so the two sides never false-share. */
export const CACHE_LINE = 64;

/** Byte offset (from the ring start) of the producer index: u32 LE, free-running mod 2^32. */
export const PRODUCER_OFFSET = 0;
/** Byte offset of the consumer index: u32 LE, free-running mod 2^32. */
export const CONSUMER_OFFSET = 64;
/** Byte offset of the consumer's need-wakeup word (written by the consumer, read by the producer). */
export const CONSUMER_WAKEUP_OFFSET = 128;
/** Byte offset of the producer's need-wakeup word (written by the producer, read by the consumer). */
export const PRODUCER_WAKEUP_OFFSET = 132;
/** Byte offset of the magic word, written once at init. */
export const MAGIC_OFFSET = 192;
/** Byte offset of the layout version, written once at init. */
export const VERSION_OFFSET = 196;
/** Byte offset of the capacity in entries (a power of two), written once at init. */
export const CAPACITY_OFFSET = 200;
/** Byte offset of the entry size in bytes (8 descriptor ring, 4 address ring), written once at init. */
export const ENTRY_SIZE_OFFSET = 204;
/** Byte offset of the first entry; the header above takes four cache lines. */
export const ENTRIES_OFFSET = 256;

/** "XDPR" read as a little-endian u32. */
export const RING_MAGIC = 0x52504458;
/** Layout version; bump on any incompatible change of this file. */
export const RING_VERSION = 1;

/** Bit 0 of a need-wakeup word: the writer of the word is (about to be) parked and wants a notify. */
export const NEED_WAKEUP = 1;

/** Entry size in bytes of a descriptor ring: [addr u32, len u32]. */
export const DESC_ENTRY_SIZE = 8;
/** Entry size in bytes of an address ring: [addr u32]. */
export const ADDR_ENTRY_SIZE = 4;

/** The two ring kinds, named by their entry size in bytes. */
export type EntrySize = typeof DESC_ENTRY_SIZE | typeof ADDR_ENTRY_SIZE;

/** Largest capacity accepted: keeps free-running u32 index arithmetic unambiguous. */
export const MAX_CAPACITY = 1 << 24;

// Uint32Array uses the platform byte order; the contract says little-endian, so refuse to run
// on a big-endian host rather than silently disagree with the Rust side.
const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** An Error carrying a Node-style errno `code`. */
export function ringError(code: string, message: string): Error & { code: string } {
  return Object.assign(new Error(message), { code });
}

/** True for 1, 2, 4, ... 2^30. */
export function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && n <= 0x40000000 && (n & (n - 1)) === 0;
}

/** Bytes one ring takes (header plus entries), rounded up to a whole cache line. */
export function ringByteLength(capacity: number, entrySize: EntrySize): number {
  checkCapacity(capacity);
  const raw = ENTRIES_OFFSET + capacity * entrySize;
  return Math.ceil(raw / CACHE_LINE) * CACHE_LINE;
}

/**
 * Writes a fresh ring header at `byteOffset` of `sab`: indices set to `initialIndex` (0 normally;
 * tests start near 2^32 to exercise wrap-around), wake-up words cleared, metadata filled in.
 */
export function initRing(
  sab: SharedArrayBuffer,
  byteOffset: number,
  capacity: number,
  entrySize: EntrySize,
  initialIndex = 0,
): void {
  checkPlacement(sab, byteOffset, ringByteLength(capacity, entrySize));
  const words = new Uint32Array(sab, byteOffset, ENTRIES_OFFSET / 4);
  words.fill(0);
  words[MAGIC_OFFSET / 4] = RING_MAGIC;
  words[VERSION_OFFSET / 4] = RING_VERSION;
  words[CAPACITY_OFFSET / 4] = capacity;
  words[ENTRY_SIZE_OFFSET / 4] = entrySize;
  // Publish the indices last and atomically so a side attaching right after sees a whole header.
  Atomics.store(words, CONSUMER_OFFSET / 4, initialIndex >>> 0);
  Atomics.store(words, PRODUCER_OFFSET / 4, initialIndex >>> 0);
}

/** Reads and validates a ring header; returns its capacity. Throws EINVAL on a bad header. */
export function readRingHeader(
  sab: SharedArrayBuffer,
  byteOffset: number,
  entrySize: EntrySize,
): number {
  checkPlacement(sab, byteOffset, ENTRIES_OFFSET);
  const words = new Uint32Array(sab, byteOffset, ENTRIES_OFFSET / 4);
  if (Atomics.load(words, MAGIC_OFFSET / 4) !== RING_MAGIC) {
    throw ringError('EINVAL', `no ring at byte ${byteOffset}: call initRing() there first`);
  }
  if (words[VERSION_OFFSET / 4] !== RING_VERSION) {
    throw ringError(
      'EINVAL',
      `ring layout version ${words[VERSION_OFFSET / 4]} is not ${RING_VERSION}`,
    );
  }
  if (words[ENTRY_SIZE_OFFSET / 4] !== entrySize) {
    throw ringError(
      'EINVAL',
      `ring at byte ${byteOffset} has ${words[ENTRY_SIZE_OFFSET / 4]}-byte entries, not ${entrySize}: ` +
        'use the descriptor classes for 8-byte rings and the address classes for 4-byte rings',
    );
  }
  const capacity = words[CAPACITY_OFFSET / 4];
  checkCapacity(capacity);
  checkPlacement(sab, byteOffset, ringByteLength(capacity, entrySize));
  return capacity;
}

function checkCapacity(capacity: number): void {
  if (!isPowerOfTwo(capacity) || capacity > MAX_CAPACITY) {
    throw ringError(
      'EINVAL',
      `ring capacity ${capacity} must be a power of two between 1 and ${MAX_CAPACITY}`,
    );
  }
}

function checkPlacement(sab: SharedArrayBuffer, byteOffset: number, length: number): void {
  if (!littleEndian) {
    throw ringError('ENOTSUP', 'rings need a little-endian host (the layout is little-endian)');
  }
  if (!(sab instanceof SharedArrayBuffer)) {
    throw ringError('EINVAL', 'rings live in a SharedArrayBuffer; pass one');
  }
  if (!Number.isInteger(byteOffset) || byteOffset < 0 || byteOffset % CACHE_LINE !== 0) {
    throw ringError('EINVAL', `ring offset ${byteOffset} must be a multiple of ${CACHE_LINE}`);
  }
  if (byteOffset + length > sab.byteLength) {
    throw ringError(
      'ERANGE',
      `ring at byte ${byteOffset} needs ${length} bytes but the buffer has ${sab.byteLength}`,
    );
  }
}

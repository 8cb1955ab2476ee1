// A fixed-size open-addressing hash table in a SharedArrayBuffer, keyed by 16-byte addresses
// (IPv4 as ::ffff:a.b.c.d, RFC 4291 2.5.5.2), that several worker threads read and write at once.
// The neighbour table and the path-MTU cache are built on it.
//
// Concurrency: each entry has a sequence word. A writer takes the entry by CAS from an even value
// to value + 1 (odd: "being written"), writes, and publishes value + 2. A reader reads the
// sequence, the fields, the sequence again, and retries if it was odd or moved (a seqlock), so no
// reader ever sees a torn entry and readers never write shared memory. Writers spin on a locked
// entry; they hold it for a few stores only.
//
// Entries are never moved. A removed entry becomes a tombstone so probe chains stay intact; an
// insert reuses the first tombstone of its chain after re-checking it under the lock.

/** Words (int32) per entry: 64 bytes, one cache line. */
export const ENTRY_WORDS = 16;
const ENTRY_BYTES = ENTRY_WORDS * 4;
const HEADER_BYTES = 64;
const MAGIC = 0x78646e74; // "xdnt"
// Header words: magic, capacity, the insert lock, the generation.
const H_INSERT_LOCK = 2;
const H_GENERATION = 3;

// Word offsets inside an entry.
const W_SEQ = 0;
const W_STATE = 1;
const W_KEY = 2; // 4 words
export const W_DATA0 = 6;
export const W_DATA1 = 7;
export const W_CLAIM = 8;
export const W_COUNT = 9;
export const W_AUX = 10;
// Float64 slots (index into the Float64Array) inside an entry: bytes 48 and 56.
const F_TIME0 = 6;
const F_TIME1 = 7;

/** State word values with a meaning to the table itself; users define states >= 1. */
export const SLOT_EMPTY = 0;
export const SLOT_TOMBSTONE = -1;

/** A consistent copy of one entry, filled by SharedTable.read(). */
export class EntrySnapshot {
  state = 0;
  data0 = 0;
  data1 = 0;
  claim = 0;
  count = 0;
  aux = 0;
  time0 = 0;
  time1 = 0;
}

function tableError(message: string): Error {
  return Object.assign(new Error(message), { code: 'EINVAL' });
}

/** A 16-byte key as four int32 words, reused by callers to avoid allocation. */
export type Key = Int32Array;

export function newKey(): Key {
  return new Int32Array(4);
}

/** IPv4 address (unsigned 32-bit) as the IPv4-mapped IPv6 key ::ffff:a.b.c.d. */
export function setKey4(key: Key, addr: number): Key {
  key[0] = 0;
  key[1] = 0;
  key[2] = 0xffff;
  key[3] = addr | 0;
  return key;
}

/** 16 bytes at `off` of `buf` as a key. */
export function setKey6(key: Key, buf: Uint8Array, off: number): Key {
  for (let i = 0; i < 4; i++) {
    const o = off + 4 * i;
    key[i] = (buf[o] << 24) | (buf[o + 1] << 16) | (buf[o + 2] << 8) | buf[o + 3];
  }
  return key;
}

export function isKey4(key: Key): boolean {
  return key[0] === 0 && key[1] === 0 && key[2] === 0xffff;
}

/** Writes the key's 16 bytes at `off` (big-endian words). */
export function keyToBytes(key: Key, buf: Uint8Array, off: number): void {
  for (let i = 0; i < 4; i++) {
    const w = key[i];
    buf[off + 4 * i] = w >>> 24;
    buf[off + 4 * i + 1] = w >>> 16;
    buf[off + 4 * i + 2] = w >>> 8;
    buf[off + 4 * i + 3] = w;
  }
}

function hashKey(key: Key): number {
  let h = Math.imul(key[0] ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ key[1] ^ (h >>> 15), 0xc2b2ae35);
  h = Math.imul(h ^ key[2] ^ (h >>> 13), 0x85ebca6b);
  h = Math.imul(h ^ key[3] ^ (h >>> 16), 0xc2b2ae35);
  return (h ^ (h >>> 15)) >>> 0;
}

export class SharedTable {
  readonly buffer: SharedArrayBuffer;
  readonly capacity: number;
  private readonly words: Int32Array;
  private readonly floats: Float64Array;
  private readonly mask: number;
  private readonly header: Int32Array;

  /** Opens a table made by SharedTable.create() (in this or another thread). */
  constructor(buffer: SharedArrayBuffer) {
    if (!(buffer instanceof SharedArrayBuffer) || buffer.byteLength < HEADER_BYTES) {
      throw tableError('a shared table needs the SharedArrayBuffer of SharedTable.create()');
    }
    const header = new Int32Array(buffer, 0, 4);
    const capacity = header[1];
    if (header[0] !== MAGIC || buffer.byteLength !== HEADER_BYTES + capacity * ENTRY_BYTES) {
      throw tableError('that SharedArrayBuffer does not hold a shared table');
    }
    this.buffer = buffer;
    this.capacity = capacity;
    this.mask = capacity - 1;
    this.header = header;
    this.words = new Int32Array(buffer, HEADER_BYTES);
    this.floats = new Float64Array(buffer, HEADER_BYTES);
  }

  /** A new empty table of `capacity` entries (a power of two). */
  static create(capacity: number): SharedTable {
    if (!Number.isInteger(capacity) || capacity < 8 || (capacity & (capacity - 1)) !== 0) {
      throw tableError(`table capacity ${capacity} must be a power of two, at least 8`);
    }
    const buffer = new SharedArrayBuffer(HEADER_BYTES + capacity * ENTRY_BYTES);
    const header = new Int32Array(buffer, 0, 2);
    header[0] = MAGIC;
    header[1] = capacity;
    return new SharedTable(buffer);
  }

  private base(slot: number): number {
    return slot * ENTRY_WORDS;
  }

  private keyMatches(b: number, key: Key): boolean {
    const w = this.words;
    return (
      Atomics.load(w, b + W_KEY) === key[0] &&
      Atomics.load(w, b + W_KEY + 1) === key[1] &&
      Atomics.load(w, b + W_KEY + 2) === key[2] &&
      Atomics.load(w, b + W_KEY + 3) === key[3]
    );
  }

  /** The slot holding `key`, or -1. Lock-free; the answer may be stale by the time it is used. */
  find(key: Key): number {
    const w = this.words;
    let slot = hashKey(key) & this.mask;
    for (let i = 0; i < this.capacity; i++, slot = (slot + 1) & this.mask) {
      const b = this.base(slot);
      for (;;) {
        const seq = Atomics.load(w, b + W_SEQ);
        if ((seq & 1) !== 0) continue; // being written: wait for it
        const state = Atomics.load(w, b + W_STATE);
        const match = state > 0 && this.keyMatches(b, key);
        if (Atomics.load(w, b + W_SEQ) !== seq) continue;
        if (state === SLOT_EMPTY) return -1;
        if (match) return slot;
        break;
      }
    }
    return -1;
  }

  /**
   * A consistent copy of `slot` into `out` if it still holds `key`; false when it holds something
   * else (removed or reused since find()).
   */
  read(slot: number, key: Key, out: EntrySnapshot): boolean {
    const w = this.words;
    const f = this.floats;
    const b = this.base(slot);
    const fb = b >>> 1;
    for (;;) {
      const seq = Atomics.load(w, b + W_SEQ);
      if ((seq & 1) !== 0) continue;
      const state = Atomics.load(w, b + W_STATE);
      const match = state > 0 && this.keyMatches(b, key);
      out.state = state;
      out.data0 = Atomics.load(w, b + W_DATA0);
      out.data1 = Atomics.load(w, b + W_DATA1);
      out.claim = Atomics.load(w, b + W_CLAIM);
      out.count = Atomics.load(w, b + W_COUNT);
      out.aux = Atomics.load(w, b + W_AUX);
      // Float64 has no Atomics access; the sequence check below rejects a torn value.
      out.time0 = f[fb + F_TIME0];
      out.time1 = f[fb + F_TIME1];
      if (Atomics.load(w, b + W_SEQ) === seq) return match;
    }
  }

  /** Takes the writer lock of `slot` (spins while another writer holds it). */
  lock(slot: number): void {
    const w = this.words;
    const i = this.base(slot) + W_SEQ;
    for (;;) {
      const seq = Atomics.load(w, i);
      if ((seq & 1) === 0 && Atomics.compareExchange(w, i, seq, seq + 1) === seq) return;
    }
  }

  /** Publishes the writes made under lock(). */
  unlock(slot: number): void {
    Atomics.add(this.words, this.base(slot) + W_SEQ, 1);
  }

  /**
   * Locks the slot holding `key` and returns it, or -1 if the key is absent. The caller writes
   * and unlock()s.
   */
  lockExisting(key: Key): number {
    for (;;) {
      const slot = this.find(key);
      if (slot < 0) return -1;
      this.lock(slot);
      const b = this.base(slot);
      if (this.words[b + W_STATE] > 0 && this.keyMatches(b, key)) return slot;
      this.unlock(slot); // removed or reused between find and lock: look again
    }
  }

  /**
   * Locks the slot holding `key`, inserting it with `state` (and zeroed fields) if absent.
   * Returns the slot, or -1 when the table is full; wasCreated() tells which happened. The
   * caller writes and unlock()s.
   */
  lockOrInsert(key: Key, state: number): number {
    this.created = false;
    const existing = this.lockExisting(key);
    if (existing >= 0) return existing;
    // Inserts are rare (a new neighbour) and take one table-wide lock, so two writers can never
    // both find the key absent and put it in two slots. Updates and reads do not touch it.
    const h = this.header;
    while (Atomics.compareExchange(h, H_INSERT_LOCK, 0, 1) !== 0);
    try {
      const again = this.lockExisting(key);
      if (again >= 0) return again;
      const slot = this.freeSlotFor(key);
      if (slot < 0) return -1;
      this.lock(slot);
      const b = this.base(slot);
      const w = this.words;
      for (let i = 0; i < 4; i++) Atomics.store(w, b + W_KEY + i, key[i]);
      Atomics.store(w, b + W_STATE, state);
      for (let i = W_DATA0; i <= W_AUX; i++) Atomics.store(w, b + i, 0);
      this.floats[(b >>> 1) + F_TIME0] = 0;
      this.floats[(b >>> 1) + F_TIME1] = 0;
      this.created = true;
      return slot;
    } finally {
      Atomics.store(h, H_INSERT_LOCK, 0);
    }
  }

  private created = false;

  /**
   * The table's generation: a counter its user bumps after a change that caches built on the
   * table must see (a neighbour's MAC or state, a path MTU). It lives in the shared header, so a
   * change made by one worker invalidates every worker's caches. Read it before reading entries.
   */
  generation(): number {
    return Atomics.load(this.header, H_GENERATION);
  }

  /** Bumps the generation; call after the change is written (readers check it first). */
  bumpGeneration(): void {
    Atomics.add(this.header, H_GENERATION, 1);
  }

  /** Whether the last lockOrInsert() created the entry. */
  wasCreated(): boolean {
    return this.created;
  }

  /** First empty or tombstone slot on `key`'s probe chain, or -1 when the table is full. */
  private freeSlotFor(key: Key): number {
    const w = this.words;
    let slot = hashKey(key) & this.mask;
    for (let i = 0; i < this.capacity; i++, slot = (slot + 1) & this.mask) {
      const s = Atomics.load(w, this.base(slot) + W_STATE);
      if (s === SLOT_EMPTY || s === SLOT_TOMBSTONE) return slot;
    }
    return -1;
  }

  // ---- field access for the holder of the lock ------------------------------------------------

  state(slot: number): number {
    return Atomics.load(this.words, this.base(slot) + W_STATE);
  }

  setState(slot: number, state: number): void {
    Atomics.store(this.words, this.base(slot) + W_STATE, state);
  }

  /** Removes the entry (the caller holds the lock). */
  remove(slot: number): void {
    this.setState(slot, SLOT_TOMBSTONE);
  }

  word(slot: number, field: number): number {
    return Atomics.load(this.words, this.base(slot) + field);
  }

  setWord(slot: number, field: number, value: number): void {
    Atomics.store(this.words, this.base(slot) + field, value);
  }

  /** CAS of a word without the entry lock (the "resolving" claim); returns the old value. */
  casWord(slot: number, field: number, expected: number, value: number): number {
    return Atomics.compareExchange(this.words, this.base(slot) + field, expected, value);
  }

  time0(slot: number): number {
    return this.floats[(this.base(slot) >>> 1) + F_TIME0];
  }

  time1(slot: number): number {
    return this.floats[(this.base(slot) >>> 1) + F_TIME1];
  }

  setTime0(slot: number, t: number): void {
    this.floats[(this.base(slot) >>> 1) + F_TIME0] = t;
  }

  setTime1(slot: number, t: number): void {
    this.floats[(this.base(slot) >>> 1) + F_TIME1] = t;
  }

  /** Copies the key of `slot` into `out` (for scans; read it under read()'s seqlock or the lock). */
  keyOf(slot: number, out: Key): Key {
    const b = this.base(slot);
    for (let i = 0; i < 4; i++) out[i] = Atomics.load(this.words, b + W_KEY + i);
    return out;
  }

  /** Whether `slot` holds a live entry for `key`. */
  holds(slot: number, key: Key): boolean {
    const b = this.base(slot);
    return Atomics.load(this.words, b + W_STATE) > 0 && this.keyMatches(b, key);
  }

  /** Live entries (cold path: tests and stats). */
  size(): number {
    let n = 0;
    for (let s = 0; s < this.capacity; s++) if (this.state(s) > 0) n++;
    return n;
  }
}

// The path-MTU cache (RFC 1191 for IPv4, RFC 8201 for IPv6), shared by the workers of an
// interface: an ICMP "fragmentation needed" or "packet too big" reaches whichever worker its own
// hash lands on, not necessarily the worker that owns the TCP flow it is about, so what one
// worker learns every worker must see. Entries hold for `expiryMs` (RFC 1191 6.3: 10 minutes),
// after which the route MTU applies again.

import { EntrySnapshot, SharedTable, W_DATA0, type Key } from './shared-table.js';

const LIVE = 1;

/** RFC 1191 3 / RFC 791: no IPv4 path is below 68; RFC 8200 5: no IPv6 link below 1280. */
export const MIN_PMTU4 = 68;
export const MIN_PMTU6 = 1280;
/**
 * The least IPv4 path MTU an ICMP error may set: Linux's net.ipv4.route.min_pmtu (552). RFC 1191
 * allows 68, but a forged "fragmentation needed" of 68 would leave TCP (headers and timestamps
 * take 52 of those bytes) unable to send a full segment with DF at all.
 */
export const PMTU4_FLOOR = 552;
/**
 * The largest MTU worth recording: no interface here goes above 65535 (config.ts), so a larger
 * report can never lower a path. It also keeps the value inside the table's int32 word, where a
 * Packet Too Big MTU of 2^31 or more (a 32-bit field, RFC 4443 3.2) would turn negative.
 */
export const MAX_PMTU = 65535;

export class PmtuCache {
  readonly table: SharedTable;
  readonly expiryMs: number;
  private readonly snap = new EntrySnapshot();

  constructor(buffer: SharedArrayBuffer, expiryMs = 600_000) {
    this.table = new SharedTable(buffer);
    this.expiryMs = expiryMs;
  }

  static create(capacity = 256, expiryMs = 600_000): PmtuCache {
    return new PmtuCache(SharedTable.create(capacity).buffer, expiryMs);
  }

  get buffer(): SharedArrayBuffer {
    return this.table.buffer;
  }

  /**
   * The path MTU to `key`: the learnt value, else `routeMtu`. Takes no time argument (a
   * timestamp is a double, and passing one per packet would box it): expired entries are
   * removed by expire(), which the interface runs from tick().
   */
  get(key: Key, routeMtu: number): number {
    const t = this.table;
    const slot = t.find(key);
    if (slot < 0) return routeMtu;
    const s = this.snap;
    if (!t.read(slot, key, s)) return routeMtu;
    return s.data0 < routeMtu ? s.data0 : routeMtu;
  }

  /**
   * Records a smaller MTU for `key` (RFC 1191 6.3: never raise it from an ICMP message; RFC 8201
   * 4: never below the minimum). Returns the MTU now in force, or -1 when nothing changed.
   */
  update(key: Key, mtu: number, now: number, min: number): number {
    if (mtu < min) mtu = min;
    if (mtu > MAX_PMTU) mtu = MAX_PMTU;
    const t = this.table;
    const slot = t.lockOrInsert(key, LIVE);
    if (slot < 0) return -1;
    const fresh = !t.wasCreated() && now < t.time1(slot);
    const old = t.word(slot, W_DATA0);
    if (fresh && old <= mtu) {
      t.unlock(slot);
      return -1;
    }
    t.setWord(slot, W_DATA0, mtu);
    t.setTime1(slot, now + this.expiryMs);
    t.bumpGeneration(); // after the write: see generation()
    t.unlock(slot);
    return mtu;
  }

  /**
   * Changes whenever a learnt MTU is set, lowered or expires, in any worker (the counter is in
   * shared memory): path caches (ip-path.ts) compare it per packet. Read it before get().
   */
  generation(): number {
    return this.table.generation();
  }

  /** Drops expired entries (cold path, from tick). */
  expire(now: number, scratch: Key): void {
    const t = this.table;
    for (let slot = 0; slot < t.capacity; slot++) {
      if (t.state(slot) !== LIVE || now < t.time1(slot)) continue;
      t.keyOf(slot, scratch);
      const locked = t.lockExisting(scratch);
      if (locked < 0) continue;
      if (now >= t.time1(locked)) {
        t.remove(locked);
        t.bumpGeneration(); // the route MTU applies again
      }
      t.unlock(locked);
    }
  }
}

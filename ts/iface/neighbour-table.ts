// The neighbour cache shared by every worker of an interface: IPv4 (ARP, RFC 826) and IPv6
// (Neighbor Discovery, RFC 4861) entries in one SharedTable, with the RFC 4861 7.3.2 states.
// Workers share what they learn: one resolution per neighbour, not one per worker. The worker
// that creates an INCOMPLETE entry holds its "resolving" claim and sends the requests; the others
// queue their packets and wait. A claim whose holder misses a retransmission is taken over (CAS),
// so a stalled worker cannot wedge resolution.

import {
  EntrySnapshot,
  SharedTable,
  W_CLAIM,
  W_COUNT,
  W_DATA0,
  W_DATA1,
  newKey,
  type Key,
} from './shared-table.js';

export const NeighbourState = {
  Absent: 0,
  Incomplete: 1,
  Reachable: 2,
  Stale: 3,
  Delay: 4,
  Probe: 5,
  Failed: 6,
  Permanent: 7,
} as const;

export const NEIGHBOUR_STATE_NAMES = [
  'absent',
  'incomplete',
  'reachable',
  'stale',
  'delay',
  'probe',
  'failed',
  'permanent',
] as const;

/** Whether packets can go to a neighbour in `state` (RFC 4861 7.3.3: STALE ones too). */
export function hasLinkAddress(state: number): boolean {
  return state >= NeighbourState.Reachable && state <= NeighbourState.Probe
    ? true
    : state === NeighbourState.Permanent;
}

/**
 * Whether a path cache (ip-path.ts) may keep using the MAC of a neighbour in `state` without
 * looking the entry up per packet: REACHABLE and PERMANENT only. A STALE entry must be seen by
 * every send (RFC 4861 7.3.3: the first packet moves it to DELAY and starts NUD), and DELAY and
 * PROBE entries are about to be confirmed or dropped.
 */
export function isCacheable(state: number): boolean {
  return state === NeighbourState.Reachable || state === NeighbourState.Permanent;
}

/** Timers in ms; defaults are RFC 4861 10 (and Linux's for ARP, which uses the same machine). */
export interface NeighbourTimers {
  /** Requests while INCOMPLETE (MAX_MULTICAST_SOLICIT). */
  maxMulticastProbes: number;
  /** Unicast requests in PROBE (MAX_UNICAST_SOLICIT). */
  maxUnicastProbes: number;
  /** RETRANS_TIMER. */
  retransMs: number;
  /** REACHABLE_TIME: a confirmed entry goes STALE after this. */
  reachableMs: number;
  /** DELAY_FIRST_PROBE_TIME. */
  delayFirstProbeMs: number;
  /** A STALE entry not refreshed for this long is removed (Linux gc_stale_time). */
  staleGcMs: number;
  /** How long a FAILED entry stays, so senders see the failure before it goes. */
  failedHoldMs: number;
}

export const defaultNeighbourTimers: Readonly<NeighbourTimers> = Object.freeze({
  maxMulticastProbes: 3,
  maxUnicastProbes: 3,
  retransMs: 1000,
  reachableMs: 30_000,
  delayFirstProbeMs: 5000,
  staleGcMs: 60_000,
  failedHoldMs: 3000,
});

/** What the table asks its owner to send while ticking. */
export interface NeighbourSolicitor {
  /**
   * Send an ARP request / Neighbor Solicitation for `key`: broadcast/multicast when `unicastMac`
   * is null, else unicast to that MAC (bytes 0-5 of the array).
   */
  solicit(key: Key, unicastMac: Uint8Array | null): void;
}

/** Outcome of confirm(): whether queued packets can now go. */
export const ConfirmResult = {
  Ignored: 0,
  Updated: 1,
  /** The entry just got a link address: flush what waits for it. */
  BecameUsable: 2,
  TableFull: 3,
} as const;

function macWord0(mac: Uint8Array, off: number): number {
  return (mac[off] << 24) | (mac[off + 1] << 16) | (mac[off + 2] << 8) | mac[off + 3];
}

function macWord1(mac: Uint8Array, off: number): number {
  return (mac[off + 4] << 8) | mac[off + 5];
}

function writeMac(d0: number, d1: number, out: Uint8Array, off: number): void {
  out[off] = d0 >>> 24;
  out[off + 1] = d0 >>> 16;
  out[off + 2] = d0 >>> 8;
  out[off + 3] = d0;
  out[off + 4] = d1 >>> 8;
  out[off + 5] = d1;
}

export class SharedNeighbourTable {
  readonly table: SharedTable;
  readonly timers: NeighbourTimers;
  private readonly snap = new EntrySnapshot();
  private readonly scanKey = newKey();
  private readonly scanMac = new Uint8Array(6);

  /** Opens the table whose memory is `buffer` (from create(), possibly in another thread). */
  constructor(buffer: SharedArrayBuffer, timers: Partial<NeighbourTimers> = {}) {
    this.table = new SharedTable(buffer);
    this.timers = { ...defaultNeighbourTimers, ...timers };
  }

  /** A new empty table for `capacity` neighbours (power of two); pass `.buffer` to workers. */
  static create(capacity = 1024, timers: Partial<NeighbourTimers> = {}): SharedNeighbourTable {
    return new SharedNeighbourTable(SharedTable.create(capacity).buffer, timers);
  }

  get buffer(): SharedArrayBuffer {
    return this.table.buffer;
  }

  /**
   * The state of `key`'s entry (NeighbourState.Absent if none), with its MAC copied to
   * `mac[macOff..]` when the state has one. Hot path: lock-free, allocation-free.
   */
  lookup(key: Key, mac: Uint8Array, macOff: number): number {
    const t = this.table;
    const slot = t.find(key);
    if (slot < 0) return NeighbourState.Absent;
    const s = this.snap;
    if (!t.read(slot, key, s)) return NeighbourState.Absent;
    if (hasLinkAddress(s.state)) writeMac(s.data0, s.data1, mac, macOff);
    return s.state;
  }

  /**
   * Starts resolving `key` if nobody is: creates an INCOMPLETE entry claimed by `worker`.
   * Returns 1 when the caller must send the first request now, 0 when the entry already exists
   * (someone else resolves, or it resolved meanwhile), -1 when the table is full.
   */
  startResolution(key: Key, now: number, worker: number): number {
    const t = this.table;
    const slot = t.lockOrInsert(key, NeighbourState.Incomplete);
    if (slot < 0) return -1;
    const created = t.wasCreated();
    if (created) {
      t.setWord(slot, W_CLAIM, worker + 1);
      t.setWord(slot, W_COUNT, 1);
      t.setTime0(slot, now);
      t.setTime1(slot, now + this.timers.retransMs);
    }
    t.unlock(slot);
    return created ? 1 : 0;
  }

  /**
   * Records a link address for `key` (RFC 4861 7.2.5, RFC 826 "merge"). `reachable` when this
   * confirms reachability (a solicited reply); `create` when an absent entry should be made
   * (in STALE, RFC 4861 7.2.3); `override` when a different MAC replaces a known one.
   */
  confirm(
    key: Key,
    mac: Uint8Array,
    macOff: number,
    now: number,
    reachable: boolean,
    create: boolean,
    override: boolean,
  ): number {
    const t = this.table;
    const slot = create ? t.lockOrInsert(key, NeighbourState.Stale) : t.lockExisting(key);
    if (slot < 0) return create ? ConfirmResult.TableFull : ConfirmResult.Ignored;
    const d0 = macWord0(mac, macOff);
    const d1 = macWord1(mac, macOff);
    const state = t.state(slot);
    const old0 = t.word(slot, W_DATA0);
    const old1 = t.word(slot, W_DATA1);
    const created = create && t.wasCreated();
    let result: number = ConfirmResult.Updated;
    if (state === NeighbourState.Permanent) {
      result = ConfirmResult.Ignored;
    } else if (created || !hasLinkAddress(state)) {
      // INCOMPLETE or FAILED learns the address: RFC 4861 7.2.5 (REACHABLE if solicited).
      t.setWord(slot, W_DATA0, d0);
      t.setWord(slot, W_DATA1, d1);
      t.setState(slot, reachable ? NeighbourState.Reachable : NeighbourState.Stale);
      t.setWord(slot, W_CLAIM, 0);
      t.setWord(slot, W_COUNT, 0);
      t.setTime0(slot, now);
      result = ConfirmResult.BecameUsable;
    } else {
      const same = t.word(slot, W_DATA0) === d0 && t.word(slot, W_DATA1) === d1;
      if (!same && !override) {
        // RFC 4861 7.2.5: a non-override advertisement with another address only marks the
        // entry STALE (if REACHABLE); it does not replace the address.
        if (state === NeighbourState.Reachable) t.setState(slot, NeighbourState.Stale);
      } else {
        t.setWord(slot, W_DATA0, d0);
        t.setWord(slot, W_DATA1, d1);
        if (reachable) {
          t.setState(slot, NeighbourState.Reachable);
          t.setWord(slot, W_CLAIM, 0);
          t.setTime0(slot, now);
        } else if (!same) {
          t.setState(slot, NeighbourState.Stale);
          t.setTime0(slot, now);
        }
      }
    }
    this.unlockChanged(slot, state, old0, old1);
    return result;
  }

  /** A permanent entry (static neighbour): never probed, never expires. */
  setPermanent(key: Key, mac: Uint8Array, macOff: number): boolean {
    const t = this.table;
    const slot = t.lockOrInsert(key, NeighbourState.Permanent);
    if (slot < 0) return false;
    const state = t.wasCreated() ? NeighbourState.Absent : t.state(slot);
    const old0 = t.word(slot, W_DATA0);
    const old1 = t.word(slot, W_DATA1);
    t.setState(slot, NeighbourState.Permanent);
    t.setWord(slot, W_DATA0, macWord0(mac, macOff));
    t.setWord(slot, W_DATA1, macWord1(mac, macOff));
    this.unlockChanged(slot, state, old0, old1);
    return true;
  }

  /**
   * Upper-layer reachability hint (RFC 4861 7.3.1), e.g. from TCP forward progress: a STALE,
   * DELAY or PROBE entry becomes REACHABLE without probing.
   */
  confirmReachable(key: Key, now: number): void {
    const t = this.table;
    const slot = t.lockExisting(key);
    if (slot < 0) return;
    const state = t.state(slot);
    if (state >= NeighbourState.Reachable && state <= NeighbourState.Probe) {
      t.setState(slot, NeighbourState.Reachable);
      t.setWord(slot, W_CLAIM, 0);
      t.setTime0(slot, now);
    }
    if (state !== NeighbourState.Reachable && t.state(slot) === NeighbourState.Reachable) {
      t.bumpGeneration(); // cacheable again
    }
    t.unlock(slot);
  }

  /**
   * A packet was just sent to a STALE entry: RFC 4861 7.3.3 moves it to DELAY, after which the
   * ticking worker probes it. Called only when lookup() returned STALE.
   */
  noteStaleUse(key: Key, now: number): void {
    const t = this.table;
    const slot = t.lockExisting(key);
    if (slot < 0) return;
    if (t.state(slot) === NeighbourState.Stale) {
      t.setState(slot, NeighbourState.Delay);
      t.setTime1(slot, now + this.timers.delayFirstProbeMs);
    }
    t.unlock(slot);
  }

  /** Removes `key`'s entry (cold path). */
  remove(key: Key): void {
    const t = this.table;
    const slot = t.lockExisting(key);
    if (slot < 0) return;
    const was = t.state(slot);
    t.remove(slot);
    if (isCacheable(was)) t.bumpGeneration();
    t.unlock(slot);
  }

  /**
   * Runs the timers of every entry: retransmissions of entries this worker resolves (or takes
   * over), REACHABLE -> STALE, DELAY -> PROBE, expiry of FAILED and old STALE entries.
   */
  tick(now: number, worker: number, solicitor: NeighbourSolicitor): void {
    const t = this.table;
    const s = this.snap;
    const key = this.scanKey;
    for (let slot = 0; slot < t.capacity; slot++) {
      const state = t.state(slot);
      if (state <= 0 || state === NeighbourState.Permanent) continue;
      t.keyOf(slot, key);
      if (!t.read(slot, key, s)) continue;
      if (this.due(s, now, worker)) this.advance(slot, key, now, worker, solicitor);
    }
  }

  // Cheap unlocked pre-check, so a tick over a quiet table takes no locks.
  private due(s: EntrySnapshot, now: number, worker: number): boolean {
    const tm = this.timers;
    switch (s.state) {
      case NeighbourState.Incomplete:
      case NeighbourState.Probe:
        // The claimant acts at time1; the others a full retransmission later (takeover).
        return now >= s.time1 + (s.claim === worker + 1 ? 0 : tm.retransMs);
      case NeighbourState.Reachable:
        return now - s.time0 >= tm.reachableMs;
      case NeighbourState.Delay:
      case NeighbourState.Failed:
        return now >= s.time1;
      case NeighbourState.Stale:
        return now - s.time0 >= tm.staleGcMs;
      default:
        return false;
    }
  }

  private advance(
    slot: number,
    key: Key,
    now: number,
    worker: number,
    solicitor: NeighbourSolicitor,
  ): void {
    const t = this.table;
    const tm = this.timers;
    t.lock(slot);
    // Re-read under the lock: another worker may have acted since the snapshot.
    const s = this.snap;
    s.state = t.state(slot);
    s.claim = t.word(slot, W_CLAIM);
    s.time0 = t.time0(slot);
    s.time1 = t.time1(slot);
    if (!t.holds(slot, key) || !this.due(s, now, worker)) {
      t.unlock(slot);
      return;
    }
    let send = false;
    let unicast = false;
    const before = s.state;
    switch (s.state) {
      case NeighbourState.Incomplete:
      case NeighbourState.Probe: {
        const max =
          s.state === NeighbourState.Incomplete ? tm.maxMulticastProbes : tm.maxUnicastProbes;
        const count = t.word(slot, W_COUNT);
        if (count >= max) {
          t.setState(slot, NeighbourState.Failed);
          t.setWord(slot, W_CLAIM, 0);
          t.setTime1(slot, now + tm.failedHoldMs);
        } else {
          t.setWord(slot, W_CLAIM, worker + 1);
          t.setWord(slot, W_COUNT, count + 1);
          t.setTime1(slot, now + tm.retransMs);
          send = true;
          unicast = s.state === NeighbourState.Probe;
        }
        break;
      }
      case NeighbourState.Reachable:
        t.setState(slot, NeighbourState.Stale);
        break;
      case NeighbourState.Delay:
        t.setState(slot, NeighbourState.Probe);
        t.setWord(slot, W_CLAIM, worker + 1);
        t.setWord(slot, W_COUNT, 1);
        t.setTime1(slot, now + tm.retransMs);
        send = true;
        unicast = true;
        break;
      case NeighbourState.Stale:
      case NeighbourState.Failed:
        t.remove(slot);
        break;
    }
    if (unicast) writeMac(t.word(slot, W_DATA0), t.word(slot, W_DATA1), this.scanMac, 0);
    // REACHABLE -> STALE: path caches must go back to a lookup per packet (see isCacheable).
    if (isCacheable(before) && !isCacheable(t.state(slot))) t.bumpGeneration();
    t.unlock(slot);
    // Sent after unlocking: the solicitor may look the table up itself.
    if (send) solicitor.solicit(key, unicast ? this.scanMac : null);
  }

  /**
   * Changes when a neighbour enters or leaves a cacheable state or a cacheable entry's MAC
   * changes, in any worker (the counter is in shared memory). Read it before lookup().
   */
  generation(): number {
    return this.table.generation();
  }

  // Unlocks `slot` after a write, bumping the generation when the write changed what a path
  // cache may hold: a cacheable state entered or left, or the MAC of a cacheable entry. The bump
  // comes after the writes, so a reader that sees the new generation sees the new entry.
  private unlockChanged(slot: number, oldState: number, old0: number, old1: number): void {
    const t = this.table;
    const state = t.state(slot);
    const cacheable = isCacheable(state);
    if (
      cacheable !== isCacheable(oldState) ||
      (cacheable && (t.word(slot, W_DATA0) !== old0 || t.word(slot, W_DATA1) !== old1))
    ) {
      t.bumpGeneration();
    }
    t.unlock(slot);
  }

  /** Cold path: every live entry, for tests and `ip neigh`-like reports. */
  entries(): { key: Int32Array; state: string; mac: string; probes: number; claim: number }[] {
    const t = this.table;
    const out = [];
    const key = newKey();
    const s = new EntrySnapshot();
    const mac = new Uint8Array(6);
    for (let slot = 0; slot < t.capacity; slot++) {
      if (t.state(slot) <= 0) continue;
      t.keyOf(slot, key);
      if (!t.read(slot, key, s)) continue;
      writeMac(s.data0, s.data1, mac, 0);
      out.push({
        key: key.slice(),
        state: NEIGHBOUR_STATE_NAMES[s.state] ?? String(s.state),
        mac: Array.from(mac, (b) => b.toString(16).padStart(2, '0')).join(':'),
        probes: s.count,
        claim: s.claim - 1,
      });
    }
    return out;
  }
}

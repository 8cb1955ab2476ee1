// Flow ownership: the RETA, plus pins that keep flows open across a RETA resize on their old
// owner until they close. Without pins, a resize sends the rest of an open connection (or the
// final ACK of a handshake) to a worker that has never heard of it, which resets it: the
// SO_REUSEPORT failure when the listener count changes.
//
// Cheap by construction: a per-bucket pin count is checked first, so a bucket without pins
// (every bucket, except for a while after a resize) costs one extra typed-array load.

import { Reta, type RetaSize } from './reta.js';

/** One pinned flow: its hash, its tuple bytes in RSS order and the worker it stays on. */
export interface Pin {
  hash: number;
  tuple: Uint8Array;
  owner: number;
}

/** An open flow offered to resize() for pinning. */
export interface OpenFlow {
  /** Its RSS hash (of `tuple`). */
  hash: number;
  /** The tuple bytes in RSS order (12 bytes IPv4, 36 bytes IPv6): src, dst, sport, dport. */
  tuple: Uint8Array;
  /** The worker that owns it now. */
  owner: number;
}

// Map keys that stay small integers (no heap numbers on lookup); the tuple compare settles ties.
function pinKey(hash: number): number {
  return hash & 0x3fffffff;
}

/** RETA plus flow pins: decides which worker owns a flow. */
export class FlowSteering {
  /** The indirection table; change it only through resize() so pins stay right. */
  readonly reta: Reta;
  private readonly pinsInBucket: Uint32Array;
  private readonly pins = new Map<number, Pin[]>();
  private pinCount = 0;

  constructor(workers: number, retaSize: RetaSize = 128) {
    this.reta = new Reta(workers, retaSize);
    this.pinsInBucket = new Uint32Array(retaSize);
  }

  /** Flows pinned now. */
  get pinned(): number {
    return this.pinCount;
  }

  /**
   * Owner of the IPv4 or IPv6 flow whose tuple sits in `frame`: `addrOff` at the source
   * address (destination following), `portOff` at the source port (destination following).
   * `addrLen` is 4 (IPv4) or 16 (IPv6). `hash` is the flow's RSS hash.
   */
  ownerOfFrame(
    hash: number,
    frame: Uint8Array,
    addrOff: number,
    addrLen: number,
    portOff: number,
  ): number {
    const bucket = hash & this.reta.mask;
    if (this.pinsInBucket[bucket] === 0) return this.reta.table[bucket];
    const pin = this.findPin(hash, frame, addrOff, addrLen, portOff);
    return pin === undefined ? this.reta.table[bucket] : pin.owner;
  }

  /** Owner of a flow given as tuple bytes in RSS order (12 or 36 bytes). */
  ownerOfTuple(hash: number, tuple: Uint8Array): number {
    const addrLen = (tuple.length - 4) >>> 1;
    return this.ownerOfFrame(hash, tuple, 0, addrLen, 2 * addrLen);
  }

  /**
   * Changes the worker count (see Reta.resize) and pins each flow in `openFlows` whose bucket
   * moved away from its owner, so it keeps reaching that owner. Returns the number pinned.
   */
  resize(workers: number, openFlows: Iterable<OpenFlow>): number {
    const previous = this.reta.resize(workers);
    let pinned = 0;
    for (const flow of openFlows) {
      const bucket = flow.hash & this.reta.mask;
      if (previous[bucket] < 0 || this.reta.table[bucket] === flow.owner) continue;
      if (this.pin(flow.hash, flow.tuple, flow.owner)) pinned++;
    }
    return pinned;
  }

  /** Pins one flow to `owner`; false if it was already pinned (the old pin stays). */
  pin(hash: number, tuple: Uint8Array, owner: number): boolean {
    const addrLen = checkTuple(tuple);
    if (this.findPin(hash, tuple, 0, addrLen, 2 * addrLen) !== undefined) return false;
    const key = pinKey(hash);
    const list = this.pins.get(key);
    const pin = { hash, tuple: Uint8Array.from(tuple), owner };
    if (list === undefined) this.pins.set(key, [pin]);
    else list.push(pin);
    this.pinsInBucket[hash & this.reta.mask]++;
    this.pinCount++;
    return true;
  }

  /** Every pin (cold path: finding the pins whose flows have closed). */
  *allPins(): Generator<Readonly<Pin>> {
    for (const list of this.pins.values()) yield* list;
  }

  /** Drops a flow's pin when it closes; a no-op (and cheap) for flows that were never pinned. */
  unpin(hash: number, tuple: Uint8Array): boolean {
    const bucket = hash & this.reta.mask;
    if (this.pinsInBucket[bucket] === 0) return false;
    const key = pinKey(hash);
    const list = this.pins.get(key);
    if (list === undefined) return false;
    const addrLen = (tuple.length - 4) >>> 1;
    let i = 0;
    while (i < list.length && !samePinTuple(list[i], tuple, 0, addrLen, 2 * addrLen)) i++;
    if (i === list.length) return false;
    list.splice(i, 1);
    if (list.length === 0) this.pins.delete(key);
    this.pinsInBucket[bucket]--;
    this.pinCount--;
    return true;
  }

  private findPin(
    hash: number,
    buf: Uint8Array,
    addrOff: number,
    addrLen: number,
    portOff: number,
  ): Pin | undefined {
    const list = this.pins.get(pinKey(hash));
    if (list === undefined) return undefined;
    for (let i = 0; i < list.length; i++) {
      if (samePinTuple(list[i], buf, addrOff, addrLen, portOff)) return list[i];
    }
    return undefined;
  }
}

function samePinTuple(
  pin: Pin,
  buf: Uint8Array,
  addrOff: number,
  addrLen: number,
  portOff: number,
): boolean {
  const t = pin.tuple;
  if (t.length !== 2 * addrLen + 4) return false;
  for (let i = 0; i < 2 * addrLen; i++) if (t[i] !== buf[addrOff + i]) return false;
  for (let i = 0; i < 4; i++) if (t[2 * addrLen + i] !== buf[portOff + i]) return false;
  return true;
}

function checkTuple(tuple: Uint8Array): number {
  if (tuple.length !== 12 && tuple.length !== 36) {
    throw Object.assign(new Error('a flow tuple is 12 (IPv4) or 36 (IPv6) bytes in RSS order'), {
      code: 'EINVAL',
    });
  }
  return (tuple.length - 4) >>> 1;
}

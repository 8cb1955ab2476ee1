// IPv4 (RFC 791 3.2, RFC 815) and IPv6 (RFC 8200 4.5) fragment reassembly into preallocated
// contiguous buffers, with bounded memory:
// - a fixed number of slots, each one buffer big enough for the largest datagram; a new datagram
//   when every slot is busy evicts the oldest (counted), so endless fragments cost a bounded
//   amount of memory and time;
// - overlapping fragments discard the whole datagram and any later fragment of it (RFC 5722 for
//   IPv6; the same policy for IPv4, where overlaps serve only to evade inspection), while an
//   exact duplicate is dropped alone (RFC 8200 4.5 allows it; networks duplicate packets);
// - a datagram not complete `timeoutMs` after its first fragment is dropped (counted, and the
//   owner may send Time Exceeded when the first fragment had arrived).
// Fragment data is copied out of the frame, and the frame released at once: a datagram never
// pins frames of the device.

import { read16, write16, copyBytes } from '../wire/bytes.js';
import { checksum } from '../wire/checksum.js';
import { DropReason } from '../wire/drop-reason.js';
import { IpProtocol } from '../wire/ip-protocol.js';
import type { Ipv4Header } from '../wire/ipv4.js';
import { IPV6_HLEN, type Ipv6Header } from '../wire/ipv6.js';

/** Bytes in front of the payload for the headers that precede it (IPv4 <= 60; IPv6 more). */
export const REASSEMBLY_HEADROOM = 256;
const SLOT_BYTES = REASSEMBLY_HEADROOM + 65536;

const FREE = 0;
const ACTIVE = 1;
/** Poisoned by an overlap: later fragments of the datagram are dropped until it times out. */
const DISCARDING = 2;

/** Told about datagrams that time out with their first fragment in hand. */
export interface ReassemblyTimeoutSink {
  /** The datagram's headers and first payload bytes are at buf[off, off + len). */
  reassemblyTimedOut(family: 4 | 6, buf: Uint8Array, off: number, len: number): void;
}

export class Reassembler {
  readonly slots: number;
  readonly timeoutMs: number;
  readonly maxPieces: number;
  /** One arena for every slot (one buffer for the checksum code's word view). */
  private readonly arena: Uint8Array;
  private readonly state: Uint8Array;
  private readonly family: Uint8Array;
  private readonly keys: Int32Array; // src(4) dst(4) id protocol
  private readonly created: Float64Array;
  private readonly total: Int32Array; // datagram payload length, -1 until the last fragment
  private readonly received: Int32Array; // payload bytes received
  private readonly headerLen: Int32Array; // bytes of headers before the payload, 0 until first
  private readonly nextHeader: Int32Array; // IPv6: Next Header of the first fragment's header
  private readonly nextFieldOff: Int32Array; // IPv6: offset (from the IPv6 header) to patch
  private readonly pieceStart: Int32Array;
  private readonly pieceEnd: Int32Array;
  private readonly pieceCount: Int32Array;
  private readonly key = new Int32Array(10);
  /** After add4/add6 returned Ok: the slot whose datagram is complete, or -1. */
  completed = -1;

  constructor(slots = 16, timeoutMs = 30_000, maxPieces = 128) {
    if (!Number.isInteger(slots) || slots < 1 || !Number.isInteger(maxPieces) || maxPieces < 2) {
      throw Object.assign(new Error('reassembly needs at least 1 slot and 2 pieces'), {
        code: 'EINVAL',
      });
    }
    this.slots = slots;
    this.timeoutMs = timeoutMs;
    this.maxPieces = maxPieces;
    this.arena = new Uint8Array(slots * SLOT_BYTES);
    this.state = new Uint8Array(slots);
    this.family = new Uint8Array(slots);
    this.keys = new Int32Array(slots * 10);
    this.created = new Float64Array(slots);
    this.total = new Int32Array(slots);
    this.received = new Int32Array(slots);
    this.headerLen = new Int32Array(slots);
    this.nextHeader = new Int32Array(slots);
    this.nextFieldOff = new Int32Array(slots);
    this.pieceStart = new Int32Array(slots * maxPieces);
    this.pieceEnd = new Int32Array(slots * maxPieces);
    this.pieceCount = new Int32Array(slots);
  }

  /** The buffer completed datagrams are read from (one for all slots). */
  get buffer(): Uint8Array {
    return this.arena;
  }

  /** Where slot `s`'s datagram (headers included) starts in `buffer`, once complete. */
  datagramOffset(s: number): number {
    return s * SLOT_BYTES + REASSEMBLY_HEADROOM - this.headerLen[s];
  }

  /** Length of slot `s`'s complete datagram, headers included. */
  datagramLength(s: number): number {
    return this.headerLen[s] + this.total[s];
  }

  /** Frees slot `s` after its datagram was delivered. */
  release(s: number): void {
    this.state[s] = FREE;
  }

  /** Datagrams in progress (tests and stats). */
  get active(): number {
    let n = 0;
    for (let s = 0; s < this.slots; s++) if (this.state[s] !== FREE) n++;
    return n;
  }

  /** Evicted datagrams since construction (each also counted as FragEvicted by the caller). */
  evictions = 0;

  /** Adds an IPv4 fragment (parsed from `buf` at `ipOff`). */
  add4(buf: Uint8Array, ipOff: number, ip: Ipv4Header, now: number): DropReason {
    const k = this.key;
    k.fill(0);
    k[3] = ip.src | 0;
    k[7] = ip.dst | 0;
    k[8] = ip.identification;
    k[9] = ip.protocol;
    const s = this.slotFor(4, now);
    if (s < 0) return this.lastReason;
    const first = ip.fragmentOffset === 0;
    if (first && this.headerLen[s] === 0) {
      this.headerLen[s] = ip.headerLength;
      copyBytes(this.arena, this.payloadBase(s) - ip.headerLength, buf, ipOff, ip.headerLength);
    }
    return this.addPiece(
      s,
      buf,
      ip.payloadOff,
      ip.payloadLen,
      ip.fragmentOffset,
      !ip.moreFragments,
    );
  }

  /** Adds an IPv6 fragment (parsed from `buf` at `ipOff`; ip.fragmentHeaderOff >= 0). */
  add6(buf: Uint8Array, ipOff: number, ip: Ipv6Header, now: number): DropReason {
    const k = this.key;
    for (let i = 0; i < 4; i++) {
      k[i] = read16(buf, ip.srcOff + 4 * i) * 0x10000 + read16(buf, ip.srcOff + 4 * i + 2);
      k[4 + i] = read16(buf, ip.dstOff + 4 * i) * 0x10000 + read16(buf, ip.dstOff + 4 * i + 2);
    }
    k[8] = ip.fragmentId | 0;
    k[9] = 0; // RFC 8200 4.5: source, destination and identification only
    const s = this.slotFor(6, now);
    if (s < 0) return this.lastReason;
    if (ip.fragmentOffset === 0 && this.headerLen[s] === 0) {
      // The unfragmentable part: the IPv6 header and the extension headers before the Fragment
      // header (RFC 8200 4.5), copied in front of the payload.
      const unfragLen = ip.fragmentHeaderOff - ipOff;
      if (unfragLen > REASSEMBLY_HEADROOM) return this.discard(s, DropReason.FragTooBig);
      const field = this.nextFieldBefore(buf, ipOff, ip.fragmentHeaderOff);
      if (field < 0) return this.discard(s, DropReason.Ipv6BadFragment);
      this.headerLen[s] = unfragLen;
      this.nextFieldOff[s] = field - ipOff;
      this.nextHeader[s] = buf[ip.fragmentHeaderOff];
      copyBytes(this.arena, this.payloadBase(s) - unfragLen, buf, ipOff, unfragLen);
    }
    return this.addPiece(s, buf, ip.upperOff, ip.upperLen, ip.fragmentOffset, !ip.moreFragments);
  }

  // The offset of the Next Header byte whose value is 44 (pointing at the Fragment header).
  private nextFieldBefore(buf: Uint8Array, ipOff: number, fragOff: number): number {
    let field = ipOff + 6;
    let p = ipOff + IPV6_HLEN;
    while (p < fragOff) {
      field = p;
      p += (buf[p + 1] + 1) << 3;
    }
    return p === fragOff && buf[field] === IpProtocol.Ipv6Fragment ? field : -1;
  }

  private payloadBase(s: number): number {
    return s * SLOT_BYTES + REASSEMBLY_HEADROOM;
  }

  private lastReason: DropReason = DropReason.Ok;

  // Finds the slot of the current key, or starts one (evicting the oldest when all are busy).
  // Returns -1 with lastReason set when the fragment must be dropped.
  private slotFor(family: 4 | 6, now: number): number {
    this.completed = -1;
    let freeSlot = -1;
    let oldest = -1;
    for (let s = 0; s < this.slots; s++) {
      const st = this.state[s];
      if (st === FREE) {
        if (freeSlot < 0) freeSlot = s;
        continue;
      }
      if (this.family[s] === family && this.keyMatches(s)) {
        if (st === DISCARDING) {
          this.lastReason = DropReason.FragDiscarded;
          return -1;
        }
        return s;
      }
      if (oldest < 0 || this.created[s] < this.created[oldest]) oldest = s;
    }
    let s = freeSlot;
    if (s < 0) {
      s = oldest;
      this.evictions++;
    }
    this.state[s] = ACTIVE;
    this.family[s] = family;
    for (let i = 0; i < 10; i++) this.keys[s * 10 + i] = this.key[i];
    this.created[s] = now;
    this.total[s] = -1;
    this.received[s] = 0;
    this.headerLen[s] = 0;
    this.pieceCount[s] = 0;
    return s;
  }

  /** Whether the last add started a datagram by evicting another (the caller counts it). */
  takeEviction(): boolean {
    if (this.evictions === this.reportedEvictions) return false;
    this.reportedEvictions = this.evictions;
    return true;
  }

  private reportedEvictions = 0;

  private keyMatches(s: number): boolean {
    const ks = this.keys;
    const k = this.key;
    const b = s * 10;
    for (let i = 0; i < 10; i++) if (ks[b + i] !== k[i]) return false;
    return true;
  }

  private discard(s: number, reason: DropReason): DropReason {
    this.state[s] = DISCARDING;
    return reason;
  }

  private addPiece(
    s: number,
    buf: Uint8Array,
    dataOff: number,
    len: number,
    offset: number,
    last: boolean,
  ): DropReason {
    const end = offset + len;
    const total = this.total[s];
    // A fragment past the known end, or a second "last" fragment that disagrees: inconsistent.
    if (total >= 0 && (end > total || (last && end !== total))) {
      return this.discard(s, DropReason.FragOverlap);
    }
    const base = s * this.maxPieces;
    const n = this.pieceCount[s];
    for (let i = 0; i < n; i++) {
      const ps = this.pieceStart[base + i];
      const pe = this.pieceEnd[base + i];
      if (ps === offset && pe === end) return DropReason.FragDuplicate;
      if (offset < pe && ps < end) return this.discard(s, DropReason.FragOverlap);
      // RFC 8200 4.5 / RFC 791: nothing may follow the end set by the last fragment.
      if (last && pe > end) return this.discard(s, DropReason.FragOverlap);
    }
    if (n === this.maxPieces) return this.discard(s, DropReason.FragTooManyPieces);
    if (len === 0 && !last) return DropReason.Ipv4BadFragment;
    this.pieceStart[base + n] = offset;
    this.pieceEnd[base + n] = end;
    this.pieceCount[s] = n + 1;
    copyBytes(this.arena, this.payloadBase(s) + offset, buf, dataOff, len);
    this.received[s] += len;
    if (last) this.total[s] = end;
    if (this.total[s] >= 0 && this.received[s] === this.total[s] && this.headerLen[s] > 0) {
      this.complete(s);
    }
    return DropReason.Ok;
  }

  // Rewrites the headers in front of the payload into those of the whole datagram.
  private complete(s: number): void {
    const a = this.arena;
    const off = this.datagramOffset(s);
    const hlen = this.headerLen[s];
    if (this.family[s] === 4) {
      write16(a, off + 2, hlen + this.total[s]);
      write16(a, off + 6, read16(a, off + 6) & 0x4000); // keep DF; clear MF and the offset
      write16(a, off + 10, 0);
      write16(a, off + 10, checksum(a, off, hlen));
    } else {
      write16(a, off + 4, hlen - IPV6_HLEN + this.total[s]);
      a[off + this.nextFieldOff[s]] = this.nextHeader[s];
    }
    this.completed = s;
  }

  /**
   * Drops datagrams older than the timeout; returns how many. `sink` hears of those whose first
   * fragment had arrived (RFC 792 Time Exceeded code 1, RFC 8200 4.5).
   */
  expire(now: number, sink: ReassemblyTimeoutSink | null): number {
    let n = 0;
    for (let s = 0; s < this.slots; s++) {
      if (this.state[s] === FREE || now - this.created[s] < this.timeoutMs) continue;
      const reportable = this.state[s] === ACTIVE && this.headerLen[s] > 0;
      this.state[s] = FREE;
      n++;
      if (reportable && sink !== null) {
        const hlen = this.headerLen[s];
        const have = this.firstPieceLength(s);
        sink.reassemblyTimedOut(
          this.family[s] as 4 | 6,
          this.arena,
          this.datagramOffset(s),
          hlen + have,
        );
      }
    }
    return n;
  }

  private firstPieceLength(s: number): number {
    const base = s * this.maxPieces;
    for (let i = 0; i < this.pieceCount[s]; i++) {
      if (this.pieceStart[base + i] === 0) return this.pieceEnd[base + i];
    }
    return 0;
  }
}

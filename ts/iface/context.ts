// What the parts of one Interface (link output, IP output, ARP, ND, ICMP, input) share: the
// device, the configuration, the shared tables, the counters and the time of the current batch.

import type { FrameDevice } from '../dev/frame-device.js';
import { createDropCounters, DropReason, type DropCounters } from '../wire/drop-reason.js';
import type { AddressStates } from './address-states.js';
import type { InterfaceAddresses } from './config.js';
import type { SharedNeighbourTable } from './neighbour-table.js';
import type { PmtuCache } from './pmtu-cache.js';
import type { RouteTable } from './routes.js';

/** A handler's answer meaning "the frame is no longer ours to release" (sent, queued or kept). */
export const TAKEN = -1;

/** Event counters of one Interface (drops are in `drops`, by reason). */
export class IfaceStats {
  rxFrames = 0;
  /** Received packets that spanned several buffers (AF_XDP multi-buffer chains). */
  rxChains = 0;
  txFrames = 0;
  arpRequestsSent = 0;
  arpRepliesSent = 0;
  gratuitousArpSent = 0;
  neighbourSolicitsSent = 0;
  neighbourAdvertsSent = 0;
  dadProbesSent = 0;
  dadFailures = 0;
  echoRepliesSent = 0;
  icmpErrorsSent = 0;
  icmpRateLimited = 0;
  icmpErrorsReceived = 0;
  pmtuUpdates = 0;
  fragmentsSent = 0;
  fragmentsReceived = 0;
  reassembled = 0;
  pendingQueued = 0;
  pendingSent = 0;
  deliveredToTransport = 0;
  /** Of those, datagrams whose TCP/UDP checksum the device had verified (not summed here). */
  l4ChecksumByDevice = 0;
  /** Cached paths (ip-path.ts) looked up again because a generation moved, or first used. */
  pathRefills = 0;
}

export class IfaceContext {
  readonly bytes: Uint8Array;
  readonly drops: DropCounters = createDropCounters();
  readonly stats = new IfaceStats();
  /** Milliseconds on the interface clock at the start of the current poll or tick. */
  now = 0;
  /**
   * Generation of this worker's routes and addresses, stamped on cached paths (ip-path.ts):
   * bumped by Interface.invalidatePaths() whenever they change.
   */
  pathGeneration = 0;

  /** Bytes of Ethernet frame one TX frame holds (from txDataOffset to the frame's end). */
  readonly frameRoom: number;
  /** Bytes a large (multi-buffer) TX allocation holds; 0 when the device has none. */
  readonly largeRoom: number;

  constructor(
    readonly device: FrameDevice,
    readonly addrs: InterfaceAddresses,
    readonly routes: RouteTable,
    readonly neighbours: SharedNeighbourTable,
    readonly pmtu: PmtuCache,
    readonly addrStates: AddressStates,
    readonly workerId: number,
  ) {
    this.bytes = device.bytes;
    this.frameRoom = device.frameSize - device.txDataOffset;
    this.largeRoom = device.largeTxRoom ?? 0;
  }

  /** Counts a drop (not Ok). */
  drop(reason: DropReason): void {
    if (reason !== 0) this.drops[reason]++;
  }

  /**
   * A TX frame from the device: the device address where its Ethernet header goes, or -1 (counted
   * as TxNoFrame) when none is free.
   */
  allocateTx(): number {
    const frame = this.device.allocate();
    if (frame < 0) {
      this.drops[DropReason.TxNoFrame]++;
      return -1;
    }
    return frame + this.device.txDataOffset;
  }

  /**
   * A TX frame for an Ethernet frame of `len` bytes: one frame when it fits, else a run of
   * contiguous frames from a multi-buffer device (allocateLarge); -1 (counted as TxNoFrame) when
   * none is free or nothing holds `len` bytes.
   */
  allocateTxFor(len: number): number {
    if (len <= this.frameRoom) return this.allocateTx();
    const frame = len <= this.largeRoom ? (this.device.allocateLarge?.() ?? -1) : -1;
    if (frame < 0) {
      this.drops[DropReason.TxNoFrame]++;
      return -1;
    }
    return frame + this.device.txDataOffset;
  }

  /** Byte offset in `bytes` of device address `addr`. */
  offsetOf(addr: number): number {
    return this.device.umemOffset + addr;
  }

  /**
   * Index of a preferred IPv6 source for talking to the 16-byte address at `off` (RFC 6724
   * simplified): link-local for link-local destinations, else the global address sharing the
   * longest prefix, else any preferred global one, else link-local. -1 if none is usable.
   */
  sourceFor6(buf: Uint8Array, off: number): number {
    const a = this.addrs;
    const ll = a.v6LinkLocalIndex;
    const dstLinkLocal = buf[off] === 0xfe && (buf[off + 1] & 0xc0) === 0x80;
    if (dstLinkLocal || (buf[off] === 0xff && (buf[off + 1] & 0x0f) === 2)) {
      if (ll >= 0 && this.addrStates.isPreferred(ll)) return ll;
    }
    let best = -1;
    let bestLen = -1;
    for (let i = 0; i < a.v6Count; i++) {
      if (i === ll || !this.addrStates.isPreferred(i)) continue;
      let n = 0;
      while (
        n < 128 &&
        ((a.v6[16 * i + (n >>> 3)] ^ buf[off + (n >>> 3)]) & (0x80 >>> (n & 7))) === 0
      )
        n++;
      if (n > bestLen) {
        best = i;
        bestLen = n;
      }
    }
    if (best >= 0) return best;
    return ll >= 0 && this.addrStates.isPreferred(ll) ? ll : -1;
  }

  /**
   * Index (in addrs.v4) of our IPv4 address on the subnet of `dst`, else 0; -1 when none is
   * configured. An index, not the address: returning a 32-bit address above 2^31 from a call
   * boxes a double, which would allocate per packet.
   */
  sourceIndex4(dst: number): number {
    const a = this.addrs;
    for (let i = 0; i < a.v4.length; i++) {
      const p = a.v4Prefix[i];
      const mask = p === 0 ? 0 : (0xffffffff << (32 - p)) >>> 0;
      if (((a.v4[i] ^ dst) & mask) >>> 0 === 0) return i;
    }
    return a.v4.length > 0 ? 0 : -1;
  }
}

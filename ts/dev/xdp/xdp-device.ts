// The worker-side device over one AF_XDP socket: batched RX, fill, TX and completion calls on
// descriptor arrays in shared memory, a free stack of frames, and the frame ledger. Packet bytes
// are never copied: callers read and write `bytes` at `umemOffset + addr`.
import { nodeXdp, type NativeXskPort, type NodeXdp, type RingCounts } from './native.js';
import type { FrameAccount, FrameDevice } from '../frame-device.js';
import { FrameLedger, FramePlace } from './frame-ledger.js';
import { type DeviceCounters, UmemDevice } from './umem-device.js';
import { XDP_PACKET_HEADROOM } from './umem-layout.js';
import type { UmemLayout } from './umem-layout.js';

/**
 * Most buffers one packet may span: MAX_SKB_FRAGS (17) fragments after the first
 * (net/xdp/xsk.c; the port's l4sum::MAX_CHAIN).
 */
export const MAX_CHAIN = 18;

/** Largest Ethernet frame a multi-buffer device sends from one large allocation by default. */
const DEFAULT_MAX_FRAME = 9216 + 14;

/** tx() returns the count in bits 0-30 and sets bit 31 while descriptors wait (TX_STILL_PENDING). */
const TX_COUNT_MASK = 0x7fffffff;

export type { DeviceCounters } from './umem-device.js';

export interface XdpDeviceConfig {
  umem: UmemLayout;
  /** Registry id of the XskSocket (created on the main thread). */
  socketId: number;
  /** The range of UMEM frames this device owns. */
  firstFrame: number;
  frameCount: number;
  /** Descriptors per native call. */
  batch: number;
  /** Frames to keep in the fill ring (the rest serve TX); defaults to half. */
  fillFrames?: number;
  /**
   * Multi-buffer UMEMs only: the longest Ethernet frame to send (MTU + 14; default 9230), which
   * sizes the runs of contiguous frames allocateLarge() hands out.
   */
  maxFrameLen?: number;
}

/** What frame accounting finds at a quiet point. */
export interface FrameAudit {
  frames: number;
  free: number;
  fill: number;
  app: number;
  tx: number;
  kernel: RingCounts;
  violations: number;
  ok: boolean;
  problems: string[];
}

export class XdpDevice extends UmemDevice implements FrameDevice {
  /** RX descriptors of the last receive(): [addr, len] pairs. */
  readonly rxDesc: Uint32Array;
  /** The port verifies TCP/UDP checksums of the batch in its rx() call (see FrameDevice). */
  readonly rxChecksumOk: Uint8Array;
  /** The port fills TCP checksums in its tx() call (see FrameDevice). */
  readonly txTcpChecksum = true;
  /** Bytes from txDataOffset that allocateLarge() holds; 0 without multi-buffer (FrameDevice). */
  readonly largeTxRoom: number;
  readonly ledger: FrameLedger;
  readonly counters: DeviceCounters = {
    rxPackets: 0,
    rxBytes: 0,
    txPackets: 0,
    txBytes: 0,
    txRingFull: 0,
    allocFailures: 0,
    reclaims: 0,
  };

  private readonly port: NativeXskPort;
  /** The addon, whose xskRx/xskFill/xskTx/xskComplete run the port's data path by handle. */
  private readonly native: NodeXdp;
  private readonly handle: number;
  private readonly fillAddrs: Uint32Array;
  private readonly compAddrs: Uint32Array;
  private sentNotReaped = 0;
  /**
   * The last tx() left descriptors in the kernel's TX ring (copy mode sends a bounded batch per
   * wake-up): flush() kicks again, even with nothing new, until they are taken.
   */
  private txWaiting = false;
  private readonly fillTarget: number;
  private inFill = 0;
  /** Most frames sent, queued or in the kernel's TX ring at once: see txRoom(). */
  private readonly txLimit: number;

  // Large TX packets (multi-buffer only) go out of "slabs": runs of `slabFrames` contiguous
  // frames at the top of the device's range, so the stack writes one contiguous packet, as it
  // does into a single frame, and the port sends it as one descriptor per frame. Every address
  // at or above slabFirstAddr is a slab frame (2^32, above any address, when there are none:
  // the single-frame paths pay one compare).
  private readonly slabFirstAddr: number;
  private readonly slabFrames: number;
  private readonly slabBytes: number;
  private readonly slabStack: Uint32Array;
  private slabTop = 0;
  /** Per slab: frames of its packet still being sent (their completions not reaped). */
  private readonly slabSending: Uint8Array;
  /** Per slab: frames its packet left unused, free but not reusable until the slab returns. */
  private readonly slabUnused: Uint8Array;
  /** Sum of slabUnused over the slabs being sent. */
  private spareFrames = 0;

  constructor(config: XdpDeviceConfig) {
    const { batch } = config;
    const { frameSize, headroom } = config.umem;
    const txDataOffset = headroom + XDP_PACKET_HEADROOM;
    const mb = config.umem.multiBuffer === true;
    const slabFrames = mb
      ? Math.ceil(
          (txDataOffset + (config.maxFrameLen ?? config.umem.maxFrameLen ?? DEFAULT_MAX_FRAME)) /
            frameSize,
        )
      : 0;
    // A quarter of the frames for large TX packets; the rest feed the fill ring and small TX.
    const slabs = mb ? Math.floor(config.frameCount / 4 / slabFrames) : 0;
    const singles = config.frameCount - slabs * slabFrames;
    super(config.umem, batch, shared(batch * 2), config.firstFrame, singles);
    // Room for a chain that a full batch cut: the port completes it in the same call.
    this.rxDesc = shared(batch * 2 + (mb ? 2 * MAX_CHAIN : 0));
    this.slabFrames = slabFrames;
    this.slabBytes = slabFrames * frameSize;
    this.slabFirstAddr = mb ? (config.firstFrame + singles) * frameSize : 2 ** 32;
    this.largeTxRoom = mb ? this.slabBytes - txDataOffset : 0;
    this.slabStack = new Uint32Array(slabs);
    for (let i = slabs - 1; i >= 0; i--) {
      this.slabStack[this.slabTop++] = this.slabFirstAddr + i * this.slabBytes;
    }
    this.slabSending = new Uint8Array(slabs);
    this.slabUnused = new Uint8Array(slabs);
    this.rxChecksumOk = new Uint8Array(batch);
    this.fillTarget = Math.min(config.fillFrames ?? config.frameCount >>> 1, singles);
    // A frame sent can draw two in reply (a FIN's ACK and the peer's own FIN) into the RX ring,
    // which holds the fill target: a quarter of it in flight leaves room for what arrives unasked.
    this.txLimit = Math.max(batch, this.fillTarget >>> 2);
    // One reap takes every completion there can be, so sent frames come back at the rate they
    // go out (a batch per reap fell behind a pass that sends a batch of ACKs and more).
    this.compAddrs = shared(this.txLimit + batch);
    // Room for the whole fill target: one call tops the ring up, at start-up and after a burst.
    // A batch-sized top-up per poll left the ring a few batches deep when the first burst came
    // (the loop parks between polls), so a burst outran it and the kernel dropped frames.
    this.fillAddrs = shared(Math.max(this.fillTarget, 1));
    this.native = nodeXdp();
    this.port = this.native.XskPort.open(config.socketId, {
      rx: this.rxDesc,
      tx: this.txDesc,
      fill: this.fillAddrs,
      comp: this.compAddrs,
      umem: this.bytes,
    });
    this.handle = this.port.handle;
    this.ledger = new FrameLedger(config.firstFrame, config.frameCount);
    this.refill();
  }

  /** Tops the fill ring up to its target from the free stack. One native call. */
  refill(): number {
    let want = this.fillTarget - this.inFill;
    if (want > this.freeTop) want = this.freeTop;
    if (want <= 0) return 0;
    for (let i = 0; i < want; i++) this.fillAddrs[i] = this.freeStack[this.freeTop - 1 - i];
    const n = this.native.xskFill(this.handle, want);
    for (let i = 0; i < n; i++) {
      const addr = this.freeStack[--this.freeTop];
      this.ledger.move(addr >>> this.shift, FramePlace.Free, FramePlace.Fill);
    }
    this.inFill += n;
    return n;
  }

  /** Takes up to one batch of received packets; their [addr, len] are in rxDesc. */
  receive(): number {
    const n = this.native.xskRx(this.handle, this.batch);
    const desc = this.rxDesc;
    const ok = this.rxChecksumOk;
    let bytes = 0;
    for (let i = 0; i < n; i++) {
      this.ledger.move(desc[2 * i] >>> this.shift, FramePlace.Fill, FramePlace.App);
      const word = desc[2 * i + 1];
      ok[i] = word >>> 31; // L4_CHECKSUM_OK from the port
      // RX_CONTINUED (bit 30) stays: it marks a buffer that the packet continues after.
      const len = word & 0x7fffffff;
      desc[2 * i + 1] = len;
      bytes += len & 0x3fffffff;
    }
    this.inFill -= n;
    this.counters.rxPackets += n;
    this.counters.rxBytes += bytes;
    return n;
  }

  /** Returns a received (or allocated, unsent) frame to the free stack. */
  release(addr: number): void {
    const base = addr & ~(this.frameSize - 1);
    if (base >= this.slabFirstAddr) {
      this.releaseSlab(base);
      return;
    }
    this.ledger.move(base >>> this.shift, FramePlace.App, FramePlace.Free);
    this.freeStack[this.freeTop++] = base;
  }

  /** A free frame's base address for building a packet, or -1 when none is free. */
  allocate(): number {
    if (this.freeTop === 0 && !this.reclaim()) {
      this.counters.allocFailures++;
      return -1;
    }
    const addr = this.freeStack[--this.freeTop];
    this.ledger.move(addr >>> this.shift, FramePlace.Free, FramePlace.App);
    return addr;
  }

  /**
   * A slab's base address for building a packet longer than one frame (up to largeTxRoom bytes
   * from txDataOffset), or -1 when none is free or the device is single-buffer.
   */
  allocateLarge(): number {
    if (this.slabTop === 0) {
      if (this.slabStack.length === 0) return -1;
      this.counters.reclaims++;
      this.flush();
      this.reap();
      if (this.slabTop === 0) {
        this.counters.allocFailures++;
        return -1;
      }
    }
    const base = this.slabStack[--this.slabTop];
    const first = base >>> this.shift;
    for (let f = 0; f < this.slabFrames; f++) {
      this.ledger.move(first + f, FramePlace.Free, FramePlace.App);
    }
    return base;
  }

  /** An allocated slab that was never sent goes back whole. */
  private releaseSlab(base: number): void {
    const first = base >>> this.shift;
    for (let f = 0; f < this.slabFrames; f++) {
      this.ledger.move(first + f, FramePlace.App, FramePlace.Free);
    }
    this.slabStack[this.slabTop++] = base;
  }

  /**
   * A slab's packet went to the TX ring as one descriptor per frame it covers; frames it did not
   * reach are free again for the books but stay with the slab until the sent ones complete.
   * Returns the frames sent.
   */
  private slabSent(addr: number, len: number): number {
    const base = addr & ~(this.frameSize - 1);
    const first = base >>> this.shift;
    const used = Math.ceil((addr - base + len) / this.frameSize);
    for (let f = 0; f < this.slabFrames; f++) {
      this.ledger.move(first + f, FramePlace.App, f < used ? FramePlace.Tx : FramePlace.Free);
    }
    const s = (base - this.slabFirstAddr) / this.slabBytes;
    this.slabSending[s] = used;
    this.slabUnused[s] = this.slabFrames - used;
    this.spareFrames += this.slabFrames - used;
    return used;
  }

  /** One completed frame of a slab; the slab is free again with its packet's last one. */
  private slabCompleted(frameBase: number): void {
    this.ledger.move(frameBase >>> this.shift, FramePlace.Tx, FramePlace.Free);
    const s = Math.floor((frameBase - this.slabFirstAddr) / this.slabBytes);
    if (--this.slabSending[s] === 0) {
      this.spareFrames -= this.slabUnused[s];
      this.slabStack[this.slabTop++] = this.slabFirstAddr + s * this.slabBytes;
    }
  }

  /** Frames the packets queued by send() hold (a slab holds all of its frames). Cold path. */
  private queuedFrames(): number {
    let frames = 0;
    for (let i = 0; i < this.txCount; i++) {
      frames += this.txDesc[2 * i] >= this.slabFirstAddr ? this.slabFrames : 1;
    }
    return frames;
  }

  /** Byte offset in `bytes` of UMEM address `addr`. */
  offsetOf(addr: number): number {
    return this.umemOffset + addr;
  }

  /** Submits the queued packets to the TX ring. Packets that do not fit stay queued. */
  flush(): number {
    const count = this.txCount;
    if (count === 0) {
      // In copy mode the kernel sends a bounded number of frames per wake-up; frames still in
      // the TX ring would wait for the next send otherwise, so keep kicking until they are done.
      if (this.txWaiting) this.txWaiting = this.native.xskTx(this.handle, 0) >>> 31 === 1;
      return 0;
    }
    const r = this.native.xskTx(this.handle, count);
    this.txWaiting = r >>> 31 === 1;
    const n = r & TX_COUNT_MASK;
    const desc = this.txDesc;
    let bytes = 0;
    let frames = n;
    for (let i = 0; i < n; i++) {
      const addr = desc[2 * i];
      if (addr >= this.slabFirstAddr) {
        frames += this.slabSent(addr, desc[2 * i + 1]) - 1;
      } else {
        this.ledger.move(addr >>> this.shift, FramePlace.App, FramePlace.Tx);
      }
      bytes += desc[2 * i + 1];
    }
    this.dequeueSent(n, count, bytes);
    this.sentNotReaped += frames;
    return n;
  }

  /**
   * Frames the send side may still take (FrameDevice.txRoom). Two limits: the free frames the
   * fill ring does not need to get back to its target, less a batch for this pass's ACKs; and
   * txLimit frames queued or in flight. In copy mode the kernel sends a small batch per
   * wake-up, so a burst of 20,000 FINs would otherwise sit in the TX ring holding every frame
   * while the fill ring ran dry and the veth dropped the replies (Linux's TCP small queues
   * bound a socket's bytes below the device for the same reason).
   */
  txRoom(): number {
    const fillDeficit = Math.max(0, this.fillTarget - this.inFill);
    const spare = this.freeTop - fillDeficit - this.batch;
    const unsent = this.txLimit - this.sentNotReaped - this.txCount;
    return spare < unsent ? spare : unsent;
  }

  /** Frames handed to the kernel for sending whose completion has not been reaped yet. */
  get txInFlight(): number {
    return this.sentNotReaped;
  }

  /** Reaps completed TX frames back into the free stack. One native call. */
  reap(): number {
    const n = this.native.xskComplete(this.handle, this.compAddrs.length);
    const comp = this.compAddrs;
    for (let i = 0; i < n; i++) {
      const base = comp[i] & ~(this.frameSize - 1);
      if (base >= this.slabFirstAddr) {
        this.slabCompleted(base);
        continue;
      }
      this.ledger.move(base >>> this.shift, FramePlace.Tx, FramePlace.Free);
      this.freeStack[this.freeTop++] = base;
    }
    this.sentNotReaped -= n;
    return n;
  }

  /** Parks the thread in poll(2) until a packet arrives or the timeout passes. */
  waitReadable(timeoutMs: number): boolean {
    return this.port.waitReadable(timeoutMs);
  }

  /**
   * Checks the frame accounting invariant. Call at a quiet point, after draining RX into the app
   * and releasing everything: every frame must be free, in the fill ring, or still being sent.
   */
  audit(): FrameAudit {
    const census = this.ledger.census();
    const kernel = this.port.occupancy();
    const problems: string[] = [];
    if (this.ledger.violations > 0) {
      problems.push(`${this.ledger.violations} frame moves started from the wrong place`);
    }
    const slabFree = this.slabTop * this.slabFrames + this.spareFrames;
    if (census.free !== this.freeTop + slabFree) {
      problems.push(
        `ledger has ${census.free} free frames, free stack ${this.freeTop} + ${slabFree} in slabs`,
      );
    }
    if (census.fill !== kernel.fill + kernel.rx) {
      problems.push(
        `${census.fill} frames given to the fill ring, kernel shows ${kernel.fill} + rx ${kernel.rx}`,
      );
    }
    if (census.tx !== kernel.tx + kernel.comp) {
      problems.push(
        `${census.tx} frames sent, kernel shows tx ${kernel.tx} + completion ${kernel.comp}`,
      );
    }
    const queued = this.queuedFrames();
    if (census.app !== queued) {
      problems.push(`${census.app} frames held by the app, ${queued} queued for TX`);
    }
    const frames = census.free + census.fill + census.app + census.tx;
    return {
      frames,
      ...census,
      kernel,
      violations: this.ledger.violations,
      ok: problems.length === 0 && frames === this.ledger.frameCount,
      problems,
    };
  }

  /**
   * Where every frame is now, with the kernel's rings as they are at this moment (FrameAccount).
   * Unlike audit() it needs no quiet point: the app may hold frames and the kernel may be busy.
   */
  frameAccount(): FrameAccount {
    const census = this.ledger.census();
    const kernel = this.port.occupancy();
    const rx = Math.min(kernel.rx, census.fill);
    const completion = Math.min(kernel.comp, census.tx);
    const queued = this.queuedFrames();
    return {
      frames: this.ledger.frameCount,
      free: census.free,
      fill: census.fill - rx,
      rx,
      app: census.app - queued,
      txQueued: queued,
      tx: census.tx - completion,
      completion,
      violations: this.ledger.violations,
    };
  }

  /** Entries in the kernel's fill, RX, TX and completion rings now. One native call. */
  ringOccupancy(): RingCounts {
    return this.port.occupancy();
  }

  /** Releases the data path; the socket itself is closed by whoever created it. */
  close(): void {
    this.port.close();
  }
}

/** A Uint32Array in its own SharedArrayBuffer, which the native side can read and write. */
function shared(words: number): Uint32Array {
  return new Uint32Array(new SharedArrayBuffer(words * 4));
}

// What the two devices over an AF_XDP UMEM share, whoever moves their descriptors (the kernel for
// XdpDevice, the dispatcher thread for DispatchedDevice): views of the UMEM, a stack of the free
// frames the device owns, and the queue of packets send() collects for one flush().
import { frameShift, XDP_PACKET_HEADROOM, type UmemLayout } from './umem-layout.js';

/** Counters of one device; read on the cold path. */
export interface DeviceCounters {
  rxPackets: number;
  rxBytes: number;
  txPackets: number;
  txBytes: number;
  txRingFull: number;
  allocFailures: number;
  /** Times allocate() found the free stack empty and flushed and reaped. */
  reclaims: number;
}

export abstract class UmemDevice {
  /** The whole UMEM buffer; packet bytes are read and written here in place. */
  readonly bytes: Uint8Array;
  readonly view: DataView;
  /** Byte offset of UMEM address 0 in `bytes`. */
  readonly umemOffset: number;
  readonly frameSize: number;
  /** log2 of frameSize: a frame's index is `addr >>> shift`. */
  readonly shift: number;
  /** Where TX packets start inside a frame (the same place the kernel puts RX data). */
  readonly txDataOffset: number;
  /** Descriptors per batch. */
  readonly batch: number;
  abstract readonly counters: DeviceCounters;

  /** Base addresses of free frames; the top is freeStack[freeTop - 1]. */
  protected readonly freeStack: Uint32Array;
  protected freeTop = 0;
  /** [addr, len] pairs queued by send() and not yet taken by flush(). */
  protected readonly txDesc: Uint32Array;
  protected txCount = 0;

  /**
   * `txDesc` holds one batch of [addr, len] pairs; the frames [firstFrame, firstFrame +
   * freeFrames) start free, handed out lowest first.
   */
  constructor(
    umem: UmemLayout,
    batch: number,
    txDesc: Uint32Array,
    firstFrame: number,
    freeFrames: number,
  ) {
    this.bytes = new Uint8Array(umem.memory);
    this.view = new DataView(umem.memory);
    this.umemOffset = umem.offset;
    this.frameSize = umem.frameSize;
    this.shift = frameShift(umem.frameSize);
    this.txDataOffset = umem.headroom + XDP_PACKET_HEADROOM;
    this.batch = batch;
    this.txDesc = txDesc;
    this.freeStack = new Uint32Array(freeFrames);
    for (let i = freeFrames - 1; i >= 0; i--) {
      this.freeStack[this.freeTop++] = (firstFrame + i) * this.frameSize;
    }
  }

  /** Pushes queued packets on towards the wire; returns how many went. */
  abstract flush(): number;

  /** Takes completed TX frames back into the free stack; returns how many. */
  abstract reap(): number;

  /**
   * The slow path of an allocate() that found the free stack empty: the loop reaps once per
   * iteration, but a burst of sends (10,000 SYNs from one loop of connect() calls) can use up the
   * frames in between. Sends what is queued and reaps the completions waiting, once: whoever
   * completes (the kernel's kick in copy mode, or the dispatcher thread) is not waited for.
   */
  protected reclaim(): boolean {
    this.counters.reclaims++;
    this.flush();
    this.reap();
    return this.freeTop > 0;
  }

  /**
   * Queues the packet at UMEM address `addr` (inside a frame the app holds) for sending, flushing
   * a full batch first. Returns false when the TX ring is full too: the frame stays the app's.
   * Call flush() at the end of a loop iteration.
   */
  send(addr: number, len: number): boolean {
    if (this.txCount === this.batch && this.flush() === 0) return false;
    this.txDesc[2 * this.txCount] = addr;
    this.txDesc[2 * this.txCount + 1] = len;
    this.txCount++;
    return true;
  }

  /** Packets queued by send() and not yet in the TX ring. */
  get pendingTx(): number {
    return this.txCount;
  }

  /** Free frames allocate() can hand out. */
  get freeFrames(): number {
    return this.freeTop;
  }

  /**
   * Ends a flush() that put the first `sent` of the `queued` packets (`bytes` in all) into the
   * TX ring: counts them and moves the ones that did not fit to the front of the queue.
   */
  protected dequeueSent(sent: number, queued: number, bytes: number): void {
    if (sent < queued) {
      this.counters.txRingFull++;
      this.txDesc.copyWithin(0, 2 * sent, 2 * queued);
    }
    this.txCount = queued - sent;
    this.counters.txPackets += sent;
    this.counters.txBytes += bytes;
  }
}

// The worker-side device of software RSS: the same FrameDevice as the AF_XDP device, but its
// descriptors come from and go to the dispatcher thread's rings instead of a socket. Every call
// is plain JS on shared memory (no native call); the dispatcher does the syscalls.
//
// Received frames belong to the dispatcher's RX partition: release() returns them through the
// free ring. Frames for sending come from this worker's TX partition: the dispatcher returns
// them through the comp ring when the kernel is done. A received frame may also be sent as is
// (echo, forward); its completion then goes back to the dispatcher by address range.
import { AddrConsumer, AddrProducer, DescConsumer, DescProducer } from '../../../rings/index.js';
import type { FrameDevice } from '../frame-device.js';
import { FrameLedger, FramePlace } from '../xdp/frame-ledger.js';
import { type DeviceCounters, UmemDevice } from '../xdp/umem-device.js';
import type { DispatchWorkerConfig } from './dispatch-layout.js';
import { nodeXdpDispatch, type NativeRingWaiter } from './native-dispatch.js';

/** The frames this worker holds at a quiet point, for the engine-wide audit. */
export interface WorkerHoldings {
  /** Frame base addresses held here: TX free stack, frames the app holds, staged returns. */
  frames: number[];
  violations: number;
  problems: string[];
}

export class DispatchedDevice extends UmemDevice implements FrameDevice {
  readonly rxDesc: Uint32Array;
  readonly worker: number;
  readonly counters: DeviceCounters = {
    rxPackets: 0,
    rxBytes: 0,
    txPackets: 0,
    txBytes: 0,
    txRingFull: 0,
    allocFailures: 0,
    reclaims: 0,
  };
  /** RX partition: App while this worker holds a frame, Fill while anyone else does. */
  readonly rxLedger: FrameLedger;
  /** This worker's TX partition: Free, App or Tx (with the dispatcher/kernel). */
  readonly txLedger: FrameLedger;

  private readonly rxRing: DescConsumer;
  private readonly freeRing: AddrProducer;
  private readonly txRing: DescProducer;
  private readonly compRing: AddrConsumer;
  private readonly waiter: NativeRingWaiter;
  private readonly rxFirst: number;
  private readonly rxCount: number;
  /** RX frames released and not yet pushed into the free ring. */
  private readonly returns: Uint32Array;
  private returnCount = 0;
  /**
   * Set by close(): the worker's frames were reported (holdings) and its rings may pass to a
   * successor, so nothing moves any more, whatever the app still calls.
   */
  private closed = false;

  constructor(config: DispatchWorkerConfig) {
    const { layout, worker, batch } = config;
    const { umem, rings } = layout;
    const o = layout.offsets[worker];
    const txFirst = layout.txFirstFrame + worker * layout.txFramesPerWorker;
    super(umem, batch, new Uint32Array(2 * batch), txFirst, layout.txFramesPerWorker);
    this.worker = worker;
    this.rxDesc = new Uint32Array(2 * batch);
    this.rxRing = new DescConsumer(rings, o.rx);
    this.freeRing = new AddrProducer(rings, o.free);
    this.txRing = new DescProducer(rings, o.tx);
    this.compRing = new AddrConsumer(rings, o.comp);
    this.waiter = nodeXdpDispatch().RingWaiter.attach(new Uint8Array(rings), o.rx, o.comp);
    this.rxFirst = layout.rxFirstFrame;
    this.rxCount = layout.rxFrameCount;
    this.rxLedger = new FrameLedger(layout.rxFirstFrame, layout.rxFrameCount);
    this.rxLedger.places.fill(FramePlace.Fill);
    this.txLedger = new FrameLedger(txFirst, layout.txFramesPerWorker);
    this.returns = new Uint32Array(batch);
    if (config.resume) this.takeOver(config.resume);
  }

  /**
   * Starts from what a stopped predecessor on the same rings held: its TX frames become free,
   * its RX frames go back to the dispatcher, and the rest of the TX partition (sent before it
   * stopped) is still with the kernel or in the comp ring, where reap() finds it.
   */
  private takeOver(held: number[]): void {
    this.freeTop = 0;
    this.txLedger.places.fill(FramePlace.Tx);
    for (const addr of held) {
      const frame = addr >>> this.shift;
      if (this.isRx(frame)) {
        this.rxLedger.move(frame, FramePlace.Fill, FramePlace.App);
        this.release(addr);
      } else {
        this.txLedger.move(frame, FramePlace.Tx, FramePlace.Free);
        this.freeStack[this.freeTop++] = frame << this.shift;
      }
    }
  }

  private isRx(frame: number): boolean {
    return frame - this.rxFirst >= 0 && frame - this.rxFirst < this.rxCount;
  }

  /** Takes up to one batch from the dispatcher; [addr, len] pairs land in rxDesc. */
  receive(): number {
    if (this.closed) return 0;
    const ring = this.rxRing;
    const n = ring.peek(this.batch);
    const desc = this.rxDesc;
    let bytes = 0;
    for (let i = 0; i < n; i++) {
      const addr = ring.addr(i);
      const len = ring.len(i);
      desc[2 * i] = addr;
      desc[2 * i + 1] = len;
      bytes += len;
      this.rxLedger.move(addr >>> this.shift, FramePlace.Fill, FramePlace.App);
    }
    ring.release(n);
    this.counters.rxPackets += n;
    this.counters.rxBytes += bytes;
    return n;
  }

  /** Gives a frame back: RX frames to the dispatcher (batched), TX frames to our free stack. */
  release(addr: number): void {
    if (this.closed) return;
    const frame = addr >>> this.shift;
    const base = frame << this.shift;
    if (this.isRx(frame)) {
      this.rxLedger.move(frame, FramePlace.App, FramePlace.Fill);
      if (this.returnCount === this.returns.length) this.pushReturns();
      this.returns[this.returnCount++] = base;
    } else {
      this.txLedger.move(frame, FramePlace.App, FramePlace.Free);
      this.freeStack[this.freeTop++] = base;
    }
  }

  /** A free TX frame's base address, or -1 when none is free even after reclaiming. */
  allocate(): number {
    if (this.freeTop === 0 && !this.reclaim()) {
      this.counters.allocFailures++;
      return -1;
    }
    const addr = this.freeStack[--this.freeTop];
    this.txLedger.move(addr >>> this.shift, FramePlace.Free, FramePlace.App);
    return addr;
  }

  /** Publishes queued packets to the TX ring; what does not fit stays queued. */
  flush(): number {
    const count = this.txCount;
    if (count === 0 || this.closed) return 0;
    const ring = this.txRing;
    const n = ring.reserve(count);
    const desc = this.txDesc;
    let bytes = 0;
    for (let i = 0; i < n; i++) {
      const addr = desc[2 * i];
      ring.write(i, addr, desc[2 * i + 1]);
      bytes += desc[2 * i + 1];
      const frame = addr >>> this.shift;
      // A received frame sent on leaves us for good: its completion goes to the dispatcher.
      if (this.isRx(frame)) this.rxLedger.move(frame, FramePlace.App, FramePlace.Fill);
      else this.txLedger.move(frame, FramePlace.App, FramePlace.Tx);
    }
    ring.submit(n);
    this.dequeueSent(n, count, bytes);
    return n;
  }

  /** Takes completed TX frames back into the free stack. */
  reap(): number {
    if (this.closed) return 0;
    const ring = this.compRing;
    const n = ring.peek(this.compRing.capacity);
    for (let i = 0; i < n; i++) {
      const base = ring.addr(i);
      this.txLedger.move(base >>> this.shift, FramePlace.Tx, FramePlace.Free);
      this.freeStack[this.freeTop++] = base;
    }
    ring.release(n);
    return n;
  }

  /** Hands released RX frames back to the dispatcher, which keeps the kernel's fill ring full. */
  refill(): number {
    if (this.closed) return 0;
    const n = this.returnCount;
    if (n > 0) this.pushReturns();
    return n - this.returnCount;
  }

  private pushReturns(): void {
    const ring = this.freeRing;
    // The free ring holds the whole RX partition, so it always has room for our returns.
    const n = ring.reserve(this.returnCount);
    for (let i = 0; i < n; i++) ring.write(i, this.returns[i]);
    ring.submit(n);
    this.returns.copyWithin(0, n, this.returnCount);
    this.returnCount -= n;
  }

  /**
   * Parks until the dispatcher publishes a received frame or a TX completion, or `timeoutMs`
   * passes; returns the entries waiting. The dispatcher is a native thread and cannot notify an
   * Atomics.wait (docs/architecture.md#verified-platform-facts), so the park is a native futex
   * wait that the dispatcher wakes (rings/README.md "Native wake-ups").
   */
  waitForWork(timeoutMs: number): number {
    // Completions already waiting would end every park at once: take them first.
    this.reap();
    return this.waiter.wait(timeoutMs);
  }

  /** Native parks so far. */
  get parks(): number {
    return this.waiter.parks;
  }

  /**
   * Stops every movement of frames (after holdings()): a stopped worker's app may still send
   * from a timer, and what it sent would then be both in the rings and in the holdings its
   * successor takes over. allocate() fails from here on.
   */
  close(): void {
    this.closed = true;
    this.freeTop = 0;
  }

  /** The frames held here, for the engine-wide audit (call at a quiet point). */
  holdings(): WorkerHoldings {
    const frames: number[] = [];
    for (let i = 0; i < this.freeTop; i++) frames.push(this.freeStack[i]);
    for (let i = 0; i < this.returnCount; i++) frames.push(this.returns[i]);
    for (const ledger of [this.rxLedger, this.txLedger]) {
      for (let i = 0; i < ledger.frameCount; i++) {
        if (ledger.places[i] === FramePlace.App) {
          frames.push((ledger.firstFrame + i) * this.frameSize);
        }
      }
    }
    const problems: string[] = [];
    const violations = this.rxLedger.violations + this.txLedger.violations;
    if (violations > 0) problems.push(`worker ${this.worker}: ${violations} misplaced frame moves`);
    const census = this.txLedger.census();
    if (census.free !== this.freeTop) {
      problems.push(
        `worker ${this.worker}: ledger has ${census.free} free TX frames, free stack ${this.freeTop}`,
      );
    }
    return { frames, violations, problems };
  }
}

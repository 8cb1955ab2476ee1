// One end of a memory pair (DPDK's net_ring): a FrameDevice whose wire is a pair of descriptor
// rings in shared memory. Frames move to the peer by descriptor, never copied; the peer frees
// them back home through a return ring, which reap() drains. What this port sends first passes
// its fault stage (loss, MTU, corruption, duplication, reordering, rate limit, delay and jitter),
// driven by a seeded PRNG in a fixed order so the same seed and traffic give the same outcome.
import { adoptPacketMemory } from '../../wire/simd-sum.js';
import { AddrConsumer, AddrProducer, DescConsumer, DescProducer } from '../../../rings/index.js';
import type { FrameDevice } from '../frame-device.js';
import { realClock, VirtualClock, type Clock } from './clock.js';
import { Counter, COUNTER_SLOTS, readCounters, type MemoryCounters } from './counters.js';
import { Custody, CustodyLedger, custodyNames, type CustodyCensus } from './custody-ledger.js';
import { DepartureQueue } from './departure-queue.js';
import { FAULT_SLOTS, FaultField, readFaults, writeFaults, type Faults } from './faults.js';
import type { MemoryPortConfig } from './pair-layout.js';
import { Xoshiro128 } from './prng.js';
import { ReorderHold } from './reorder-hold.js';
import { TokenBucket } from './token-bucket.js';

/** Bytes of the Ethernet header that corruption leaves alone and the MTU does not count. */
const ETHERNET_HEADER = 14;
/** Packets the reorder stage can hold at once; more are sent in order. */
const HOLD_CAPACITY = 256;
/** PRNG draws per packet: loss, corrupt, bit, duplicate, reorder, jitter, copy's jitter. */
const DRAWS = 7;

/** What a port's frame accounting finds at a quiet point. */
export interface MemoryAudit {
  /** Frames this port owns (its home range). */
  frames: number;
  /** Frames (of either port) in this port's custody, by place. */
  free: number;
  app: number;
  queued: number;
  /** This port's own frames that are elsewhere (with the peer or in a ring). */
  lent: number;
  violations: number;
  ok: boolean;
  problems: string[];
}

export interface MemoryPortOptions {
  /** Overrides the pair's clock for this port (e.g. a VirtualClock made in this thread). */
  clock?: Clock;
}

export class MemoryPort implements FrameDevice {
  readonly side: 'a' | 'b';
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly umemOffset = 0;
  readonly frameSize: number;
  readonly txDataOffset: number;
  readonly batch: number;
  readonly rxDesc: Uint32Array;
  readonly clock: Clock;
  readonly ledger: CustodyLedger;

  private readonly shift: number;
  private readonly frameMask: number;
  private readonly framesPerPort: number;
  /** Address range of this port's own frames: [ownStart, ownEnd). */
  private readonly ownStart: number;
  private readonly ownEnd: number;
  private readonly freeStack: Uint32Array;
  private freeTop = 0;
  private readonly wireOut: DescProducer;
  private readonly wireIn: DescConsumer;
  private readonly returnOut: AddrProducer;
  private readonly returnIn: AddrConsumer;
  private readonly stats: Float64Array;
  private readonly faultSlots: Float64Array;
  private readonly prng: Xoshiro128;
  private readonly departures: DepartureQueue;
  private readonly hold = new ReorderHold(HOLD_CAPACITY);
  private readonly bucket = new TokenBucket();
  // The time and jitter draw of the packet being scheduled. Kept in fields rather than passed
  // as arguments: V8 boxes a double passed to a call it does not inline, which would allocate
  // on every packet. -Infinity means "no timed fault is on": queue in order, no clock read.
  private nowMs = -Infinity;
  private jitterDraw = 0;
  /** This packet's PRNG draws. */
  private readonly draws = new Float64Array(DRAWS);

  constructor(config: MemoryPortConfig, options: MemoryPortOptions = {}) {
    this.side = config.side;
    if (config.framesMemory !== null) adoptPacketMemory(config.framesMemory);
    this.bytes = new Uint8Array(config.frames);
    this.view = new DataView(config.frames);
    this.frameSize = config.frameSize;
    this.shift = 31 - Math.clz32(config.frameSize);
    this.frameMask = config.frameSize - 1;
    this.txDataOffset = config.headroom;
    this.batch = config.batch;
    this.rxDesc = new Uint32Array(config.batch * 2);
    this.framesPerPort = config.framesPerPort;
    this.ownStart = config.index * config.framesPerPort * config.frameSize;
    this.ownEnd = this.ownStart + config.framesPerPort * config.frameSize;
    this.clock = options.clock ?? (config.clock ? VirtualClock.attach(config.clock) : realClock);

    const control = config.control;
    this.wireOut = new DescProducer(control, config.txRing);
    this.wireIn = new DescConsumer(control, config.rxRing);
    this.returnOut = new AddrProducer(control, config.returnOut);
    this.returnIn = new AddrConsumer(control, config.returnIn);
    const totalFrames = 2 * config.framesPerPort;
    this.ledger = new CustodyLedger(
      new Uint8Array(control, config.ledger, totalFrames),
      this.shift,
    );
    this.stats = new Float64Array(control, config.counters, COUNTER_SLOTS);
    this.faultSlots = new Float64Array(control, config.faults, FAULT_SLOTS);
    this.prng = new Xoshiro128(config.seed);
    // Every frame of the pair could be waiting here at once (the peer's too, when forwarded).
    this.departures = new DepartureQueue(totalFrames);

    this.freeStack = new Uint32Array(config.framesPerPort);
    for (let addr = this.ownEnd - this.frameSize; addr >= this.ownStart; addr -= this.frameSize) {
      this.freeStack[this.freeTop++] = addr;
      this.ledger.places[addr >>> this.shift] = Custody.Free;
    }
  }

  // ---- FrameDevice: receive side -------------------------------------------------------------

  /** Takes up to one batch of packets off the wire; their [addr, len] are in rxDesc. */
  receive(): number {
    const ring = this.wireIn;
    const n = ring.peek(this.batch);
    if (n === 0) return 0;
    const desc = this.rxDesc;
    let bytes = 0;
    for (let i = 0; i < n; i++) {
      const addr = ring.addr(i);
      const len = ring.len(i);
      desc[2 * i] = addr;
      desc[2 * i + 1] = len;
      bytes += len;
      if (!this.ledger.move(addr, Custody.Away, Custody.App)) {
        this.stats[Counter.Violations]++;
        this.ledger.places[addr >>> this.shift] = Custody.App;
      }
    }
    ring.release(n);
    this.stats[Counter.RxPackets] += n;
    this.stats[Counter.RxBytes] += bytes;
    return n;
  }

  /**
   * Gives back a frame the app holds (received or allocated; any address inside it). Own frames
   * go to the free stack, the peer's go home through the return ring. Throws EINVAL on a frame
   * the app does not hold (a double free).
   */
  release(addr: number): void {
    if (!this.ledger.move(addr, Custody.App, Custody.Away)) throw this.misuse('release', addr);
    this.giveBack(addr);
  }

  /** The memory port's receive side needs no buffers of its own: frames arrive with packets. */
  refill(): number {
    return 0;
  }

  /** Parks the thread until a packet arrives or `timeoutMs` passes; true when one is there. */
  waitReadable(timeoutMs: number): boolean {
    if (this.wireIn.available() > 0) return true;
    return this.wireIn.waitForEntries(timeoutMs) > 0;
  }

  /** Like waitReadable but yields to the event loop while waiting. */
  async waitReadableAsync(timeoutMs: number): Promise<boolean> {
    if (this.wireIn.available() > 0) return true;
    return (await this.wireIn.waitForEntriesAsync(timeoutMs)) > 0;
  }

  // ---- FrameDevice: send side ----------------------------------------------------------------

  /** A free frame's base address (one of this port's own), or -1 when none is free. */
  allocate(): number {
    const addr = this.takeFrame();
    if (addr < 0) this.stats[Counter.AllocFailures]++;
    return addr;
  }

  /**
   * Sends the packet at `addr` (inside a frame the app holds, own or received) through the fault
   * stage. Always true: like a NIC, the port takes the frame and a fault may then drop it. Call
   * flush() to put due packets on the wire. Throws EINVAL on a frame the app does not hold and
   * ERANGE on a packet that does not fit its frame.
   */
  send(addr: number, len: number): boolean {
    if (len <= 0 || (addr & this.frameMask) + len > this.frameSize) {
      throw Object.assign(
        new Error(
          `packet of ${len} bytes at ${addr} does not fit its ${this.frameSize}-byte frame`,
        ),
        { code: 'ERANGE' },
      );
    }
    if (!this.ledger.move(addr, Custody.App, Custody.Queued)) throw this.misuse('send', addr);
    this.stats[Counter.Sent]++;
    this.applyFaults(addr, len);
    return true;
  }

  /**
   * Puts the packets whose release time has come on the wire, as many as the ring takes; the
   * rest wait for the next call. Call it every loop iteration: it also lets delayed and held
   * packets go when their time comes. Returns how many went.
   */
  flush(): number {
    const queue = this.departures;
    const hold = this.hold;
    if (queue.size === 0 && hold.size === 0) return 0;
    // Packets queued while no timed fault was on are due at once; only others need the clock.
    this.nowMs = hold.size === 0 && queue.tailTime() === -Infinity ? -Infinity : this.clock.now();
    this.releaseHeld();
    const ring = this.wireOut;
    let total = 0;
    for (;;) {
      const due = queue.due(this.nowMs, ring.capacity);
      if (due === 0) break;
      const n = ring.reserve(due);
      if (n === 0) break;
      let bytes = 0;
      for (let i = 0; i < n; i++) {
        const addr = queue.addrAt(i);
        const len = queue.lenAt(i);
        ring.write(i, addr, len);
        this.ledger.move(addr, Custody.Queued, Custody.Away);
        bytes += len;
      }
      ring.submit(n);
      queue.drop(n);
      this.stats[Counter.TxPackets] += n;
      this.stats[Counter.TxBytes] += bytes;
      total += n;
      if (n < due) break;
    }
    return total;
  }

  /** Takes back this port's frames that the peer has freed. */
  reap(): number {
    const ring = this.returnIn;
    const n = ring.peek(this.framesPerPort);
    for (let i = 0; i < n; i++) {
      const addr = ring.addr(i);
      if (!this.ledger.move(addr, Custody.Away, Custody.Free)) {
        this.stats[Counter.Violations]++;
        continue;
      }
      this.freeStack[this.freeTop++] = addr;
    }
    ring.release(n);
    return n;
  }

  // ---- faults, time, counters -----------------------------------------------------------------

  /** This port's fault settings (what it sends). */
  get faults(): Faults {
    return readFaults(this.faultSlots);
  }

  /** Changes some of this port's fault settings; the next send() uses them. */
  setFaults(faults: Partial<Faults>): void {
    writeFaults(this.faultSlots, faults);
    if (faults.rateBitsPerSecond !== undefined) this.bucket.reset();
  }

  /** Restarts the fault PRNG from `seed`. */
  reseed(seed: number): void {
    this.prng.reseed(seed);
  }

  /** A snapshot of the counters. Cold path. */
  get counters(): MemoryCounters {
    return readCounters(this.stats);
  }

  /** Packets sent and not yet on the wire (held for reordering or waiting for their time). */
  get pendingTx(): number {
    return this.departures.size + this.hold.size;
  }

  /** Free frames in the free stack (not counting ones the peer has yet to return). */
  get freeFrames(): number {
    return this.freeTop;
  }

  /**
   * When something queued here is next due (ms on this port's clock), or Infinity when nothing
   * is queued: a virtual-time test can advance straight to it.
   */
  nextEventTime(): number {
    const a = this.departures.headTime();
    const b = this.hold.nextDeadline(this.faultSlots[FaultField.ReorderHoldMs]);
    return a < b ? a : b;
  }

  /**
   * Checks this port's frame accounting. Call at a quiet point; frames the app still holds are
   * a problem unless `expectApp` says how many. auditMemoryPair() checks the pair as a whole.
   */
  audit(expectApp = 0): MemoryAudit {
    const census: CustodyCensus = this.ledger.census();
    const own = this.ledger.census(
      this.ownStart >>> this.shift,
      (this.ownStart >>> this.shift) + this.framesPerPort,
    );
    const violations = this.stats[Counter.Violations];
    const problems: string[] = [];
    if (violations > 0) problems.push(`${violations} frame moves found a frame out of place`);
    if (census.free !== this.freeTop || own.free !== this.freeTop) {
      problems.push(
        `ledger has ${census.free} free frames (${own.free} own), free stack ${this.freeTop}`,
      );
    }
    if (census.queued !== this.pendingTx) {
      problems.push(`ledger has ${census.queued} queued frames, fault stage ${this.pendingTx}`);
    }
    if (census.app !== expectApp) {
      problems.push(`${census.app} frames held by the app, expected ${expectApp}`);
    }
    return {
      frames: this.framesPerPort,
      free: census.free,
      app: census.app,
      queued: census.queued,
      lent: own.away,
      violations,
      ok: problems.length === 0,
      problems,
    };
  }

  // ---- the fault stage ------------------------------------------------------------------------

  // The PRNG is drawn the same number of times for every packet, in this order, whatever the
  // settings: turning one fault on or off does not shift the decisions of the others. With no
  // random or timed fault on there is no decision to shift, and the packet skips the draws
  // (about a third of a small packet's cost through the pair).
  private applyFaults(addr: number, len: number): void {
    const f = this.faultSlots;
    if (
      f[FaultField.LossRate] === 0 &&
      f[FaultField.CorruptRate] === 0 &&
      f[FaultField.DuplicateRate] === 0 &&
      f[FaultField.ReorderRate] === 0 &&
      f[FaultField.DelayMs] === 0 &&
      f[FaultField.JitterMs] === 0 &&
      f[FaultField.RateBitsPerSecond] === 0 &&
      this.hold.size === 0
    ) {
      if (len > f[FaultField.Mtu] + ETHERNET_HEADER) {
        this.stats[Counter.MtuDrops]++;
        this.discard(addr);
      } else {
        this.nowMs = -Infinity;
        this.schedule(addr, len);
      }
      return;
    }
    this.applyDrawnFaults(addr, len);
  }

  private applyDrawnFaults(addr: number, len: number): void {
    const u = this.draws;
    this.prng.fill(u, DRAWS);
    const uLoss = u[0];
    const uCorrupt = u[1];
    const uBit = u[2];
    const uDuplicate = u[3];
    const uReorder = u[4];
    const uJitter = u[5];
    const uCopyJitter = u[6];
    const f = this.faultSlots;
    const stats = this.stats;

    if (len > f[FaultField.Mtu] + ETHERNET_HEADER) {
      stats[Counter.MtuDrops]++;
      this.discard(addr);
      return;
    }
    if (uLoss < f[FaultField.LossRate]) {
      stats[Counter.Lost]++;
      this.discard(addr);
      return;
    }
    if (uCorrupt < f[FaultField.CorruptRate] && len > ETHERNET_HEADER) {
      const first = ETHERNET_HEADER * 8;
      const bit = first + Math.floor(uBit * (len * 8 - first));
      this.bytes[addr + (bit >>> 3)] ^= 1 << (bit & 7);
      stats[Counter.Corrupted]++;
    }
    const copy = uDuplicate < f[FaultField.DuplicateRate] ? this.duplicate(addr, len) : -1;
    const hold = this.hold;
    const timed =
      f[FaultField.DelayMs] > 0 ||
      f[FaultField.JitterMs] > 0 ||
      f[FaultField.RateBitsPerSecond] > 0 ||
      f[FaultField.ReorderRate] > 0 ||
      hold.size > 0;
    this.nowMs = timed ? this.clock.now() : -Infinity;
    this.releaseHeld();
    if (
      uReorder < f[FaultField.ReorderRate] &&
      hold.hold(addr, len, uJitter, f[FaultField.ReorderDistance], this.nowMs)
    ) {
      stats[Counter.Reordered]++;
    } else {
      this.jitterDraw = uJitter;
      this.schedule(addr, len);
      hold.passed();
    }
    if (copy >= 0) {
      this.jitterDraw = uCopyJitter;
      this.schedule(copy, len);
    }
    this.releaseHeld();
  }

  /** A copy of the packet in a new frame of ours (queued), or -1 when no frame is free. */
  private duplicate(addr: number, len: number): number {
    const frame = this.takeFrame();
    if (frame < 0) {
      this.stats[Counter.DuplicateFailures]++;
      return -1;
    }
    const copy = frame + (addr & this.frameMask);
    this.bytes.copyWithin(copy, addr, addr + len);
    this.ledger.move(frame, Custody.App, Custody.Queued);
    this.stats[Counter.Duplicated]++;
    return copy;
  }

  /**
   * Gives the packet its release time (rate limit, then delay and jitter, from `nowMs` and
   * `jitterDraw`) and queues it.
   */
  private schedule(addr: number, len: number): void {
    const now = this.nowMs;
    if (now === -Infinity) {
      this.departures.append(addr, len);
      return;
    }
    const f = this.faultSlots;
    let time = now;
    const rate = f[FaultField.RateBitsPerSecond];
    if (rate > 0) {
      const leave = this.bucket.depart(
        now,
        len * 8,
        rate,
        f[FaultField.RateBurstBytes] * 8,
        f[FaultField.RateQueueBytes] * 8,
      );
      if (leave < 0) {
        this.stats[Counter.RateDrops]++;
        this.discard(addr);
        return;
      }
      if (leave > now) this.stats[Counter.RateDelayed]++;
      time = leave;
    }
    const jitter = f[FaultField.JitterMs];
    let delay = f[FaultField.DelayMs] + (jitter > 0 ? (2 * this.jitterDraw - 1) * jitter : 0);
    if (delay < 0) delay = 0;
    time += delay;
    if (time > now) this.stats[Counter.Delayed]++;
    this.departures.insert(time, addr, len);
  }

  /** Schedules held packets whose wait is over at `nowMs`, oldest first. */
  private releaseHeld(): void {
    const hold = this.hold;
    if (hold.size === 0) return;
    const holdMs = this.faultSlots[FaultField.ReorderHoldMs];
    for (
      let k = hold.firstReady(this.nowMs, holdMs);
      k >= 0;
      k = hold.firstReady(this.nowMs, holdMs)
    ) {
      const addr = hold.addrAt(k);
      const len = hold.lenAt(k);
      this.jitterDraw = hold.jitterAt(k);
      hold.remove(k);
      this.schedule(addr, len);
    }
  }

  /** Moves a free frame of ours to the app (reaping returns when none is left); -1 if none. */
  private takeFrame(): number {
    if (this.freeTop === 0) this.reap();
    if (this.freeTop === 0) return -1;
    const addr = this.freeStack[--this.freeTop];
    this.ledger.move(addr, Custody.Free, Custody.App);
    return addr;
  }

  /** Frees a queued frame that a fault dropped. */
  private discard(addr: number): void {
    this.ledger.move(addr, Custody.Queued, Custody.Away);
    this.giveBack(addr);
  }

  /** Returns a frame that just left custody (ledger says Away) to its home. */
  private giveBack(addr: number): void {
    const base = addr & ~this.frameMask;
    if (base >= this.ownStart && base < this.ownEnd) {
      this.ledger.move(base, Custody.Away, Custody.Free);
      this.freeStack[this.freeTop++] = base;
      return;
    }
    // The ring holds every frame of the peer, so it is never full unless a frame was doubled.
    if (!this.returnOut.push(base)) {
      this.stats[Counter.Violations]++;
      throw Object.assign(new Error(`return ring full at frame ${base}: a frame was doubled`), {
        code: 'EINVAL',
      });
    }
  }

  private misuse(op: string, addr: number): Error {
    this.stats[Counter.Violations]++;
    const place = this.ledger.placeOf(addr);
    const where = place < 0 ? 'outside the pair' : custodyNames[place];
    return Object.assign(
      new Error(
        `${op}(${addr}): the app does not hold that frame (it is ${where}); ` +
          'each received or allocated frame must be sent or released exactly once',
      ),
      { code: 'EINVAL' },
    );
  }
}

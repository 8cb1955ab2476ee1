// Flow steering for queues >= workers: each worker owns its queue's device and calls its burst
// functions itself, but the NIC's hash cannot always be trusted to pick the right worker (veth
// picks a queue by the sender's flow hash, not by our Toeplitz key). SteeredDevice wraps the
// worker's own device: per received batch it computes each packet's owner (FlowOwner: RETA and
// pins) and keeps it or forwards its descriptor to the owner through an inter-worker ring
// (Seastar's approach), and it merges the packets peers forwarded to it into its own rxDesc.
// Only descriptors move between workers; the bytes stay where the kernel wrote them.
//
// Frame custody stays exact because a frame never changes hands in the inner devices' books:
// a forwarded frame stays "held by the app" in the device that received it (its lender) until
// the borrower gives it back. release() of a borrowed frame sends it home through the return
// ring, and the lender releases it into its own device; send() of a borrowed frame sends it
// through the transmit ring, and the lender puts it on its own TX ring, so its completion comes
// back to the device whose ledger expects it. Each device records which worker lent it each
// frame it holds (one byte per UMEM frame), which also catches a frame arriving twice.
import { AddrConsumer, AddrProducer, DescConsumer, DescProducer } from '../../../rings/index.js';
import type { FrameDevice } from '../frame-device.js';
import { FlowOwner } from './flow-owner.js';
import type { SteeringLayout } from './steering-layout.js';

/** A device a worker owns directly; parking is optional (a memory port may not block). */
export interface SteerableDevice extends FrameDevice {
  /** Frames allocate() can hand out without a slow path. */
  readonly freeFrames: number;
  waitReadable?(timeoutMs: number): boolean;
}

/** What steering did; read on the cold path. */
export interface SteeringCounters {
  /** Packets handed to the app (own queue's kept ones plus those forwarded here). */
  rxPackets: number;
  rxBytes: number;
  /** Packets from the own queue that this worker owns. */
  kept: number;
  /** Packets from the own queue forwarded to their owner. */
  forwarded: number;
  /** Packets that could not be forwarded (ring full: only after a doubled frame) and were dropped. */
  forwardDrops: number;
  /** Packets peers forwarded here. */
  adopted: number;
  /** Borrowed frames given back to their lender, and own frames taken back. */
  returned: number;
  reclaimed: number;
  /** Borrowed frames sent through their lender, and frames sent for a borrower. */
  sentHome: number;
  sentForPeers: number;
  /** A frame forwarded here that this worker already held: a doubled frame. */
  violations: number;
}

/** Steering's share of frame accounting at a quiet point. */
export interface SteeringAudit {
  worker: number;
  /** Own frames at other workers (forwarded and not yet back). */
  lent: number;
  /** Frames of other workers held here. */
  borrowed: number;
  /** Entries staged here and not yet published to a ring. */
  staged: number;
  /** Entries waiting in the rings into this worker. */
  inbound: number;
  counters: SteeringCounters;
  ok: boolean;
  problems: string[];
}

/** Marks a frame this worker does not hold on loan. */
const NOT_BORROWED = 0xff;
/** A parked worker wakes at least this often to look at its inbound rings (forwards cannot wake poll(2)). */
const MAX_PARK_MS = 1;

/** Per-peer staging of [addr, len] pairs (or addresses) until one publish per batch. */
class Stage {
  readonly entries: Uint32Array;
  count = 0;

  constructor(
    readonly capacity: number,
    readonly width: 1 | 2,
  ) {
    this.entries = new Uint32Array(capacity * width);
  }
}

export class SteeredDevice implements FrameDevice {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly umemOffset: number;
  readonly frameSize: number;
  readonly txDataOffset: number;
  /** The inner device's batch; receive() returns up to two of them (own queue + forwarded). */
  readonly batch: number;
  readonly rxDesc: Uint32Array;
  readonly worker: number;
  readonly workers: number;
  readonly owner: FlowOwner;
  readonly counters: SteeringCounters = {
    rxPackets: 0,
    rxBytes: 0,
    kept: 0,
    forwarded: 0,
    forwardDrops: 0,
    adopted: 0,
    returned: 0,
    reclaimed: 0,
    sentHome: 0,
    sentForPeers: 0,
    violations: 0,
  };

  private readonly shift: number;
  /** Per UMEM frame: the worker that lent it to us, or NOT_BORROWED. */
  private readonly lender: Uint8Array;
  private borrowed = 0;
  private lent = 0;
  /** Other workers, in order; rings are indexed by worker. */
  private readonly peers: number[];
  private nextPeer = 0;
  private readonly forwardOut: DescProducer[] = [];
  private readonly forwardIn: DescConsumer[] = [];
  private readonly returnOut: AddrProducer[] = [];
  private readonly returnIn: AddrConsumer[] = [];
  private readonly transmitOut: DescProducer[] = [];
  private readonly transmitIn: DescConsumer[] = [];
  private readonly forwardStage: Stage[] = [];
  private readonly returnStage: Stage[] = [];
  private readonly transmitStage: Stage[] = [];

  constructor(
    readonly inner: SteerableDevice,
    layout: SteeringLayout,
    worker: number,
  ) {
    const { workers, rings } = layout;
    if (!Number.isInteger(worker) || worker < 0 || worker >= workers) {
      throw Object.assign(new Error(`worker ${worker} is not one of the ${workers} workers`), {
        code: 'EINVAL',
      });
    }
    this.worker = worker;
    this.workers = workers;
    this.bytes = inner.bytes;
    this.view = inner.view;
    this.umemOffset = inner.umemOffset;
    this.frameSize = inner.frameSize;
    this.txDataOffset = inner.txDataOffset;
    this.batch = inner.batch;
    this.rxDesc = new Uint32Array(4 * inner.batch);
    this.shift = 31 - Math.clz32(inner.frameSize);
    this.owner = FlowOwner.forLayout(layout);
    const frames = Math.ceil((inner.bytes.length - inner.umemOffset) / inner.frameSize);
    this.lender = new Uint8Array(frames).fill(NOT_BORROWED);
    this.peers = [];
    for (let p = 0; p < workers; p++) {
      if (p === worker) continue;
      this.peers.push(p);
      const out = worker * workers + p;
      const inbound = p * workers + worker;
      this.forwardOut[p] = new DescProducer(rings, layout.forward[out]);
      this.forwardIn[p] = new DescConsumer(rings, layout.forward[inbound]);
      // Return and transmit rings run against the forward direction: p gives back to us on
      // (p -> us), we give back to p on (us -> p); offsets are indexed [lender * workers + borrower].
      this.returnIn[p] = new AddrConsumer(rings, layout.return[out]);
      this.returnOut[p] = new AddrProducer(rings, layout.return[inbound]);
      this.transmitIn[p] = new DescConsumer(rings, layout.transmit[out]);
      this.transmitOut[p] = new DescProducer(rings, layout.transmit[inbound]);
      this.forwardStage[p] = new Stage(inner.batch, 2);
      this.returnStage[p] = new Stage(inner.batch, 1);
      this.transmitStage[p] = new Stage(inner.batch, 2);
    }
  }

  // ---- FrameDevice: receive side -------------------------------------------------------------

  /**
   * Takes a batch from the own queue, keeps the packets this worker owns and forwards the rest,
   * then adds up to one batch that peers forwarded here. [addr, len] pairs land in rxDesc.
   */
  receive(): number {
    this.service();
    const inner = this.inner;
    const n = inner.receive();
    const src = inner.rxDesc;
    const desc = this.rxDesc;
    const buf = inner.bytes;
    const base = inner.umemOffset;
    const me = this.worker;
    let k = 0;
    let bytes = 0;
    for (let i = 0; i < n; i++) {
      const addr = src[2 * i];
      const len = src[2 * i + 1];
      const owner = this.owner.ownerOf(buf, base + addr, len);
      if (owner === me) {
        desc[2 * k] = addr;
        desc[2 * k + 1] = len;
        bytes += len;
        k++;
      } else {
        this.stageForward(owner, addr, len);
      }
    }
    this.counters.kept += k;
    if (k < n) this.publishForwards();
    const total = this.adopt(k);
    for (let i = k; i < total; i++) bytes += desc[2 * i + 1];
    this.counters.rxPackets += total;
    this.counters.rxBytes += bytes;
    return total;
  }

  /** Gives a frame back: a borrowed one to its lender (staged, batched), an own one to the device. */
  release(addr: number): void {
    const frame = addr >>> this.shift;
    const from = this.lender[frame];
    if (from === NOT_BORROWED) {
      this.inner.release(addr);
      return;
    }
    const stage = this.returnStage[from];
    if (stage.count === stage.capacity) this.publishReturns(from);
    stage.entries[stage.count++] = frame << this.shift;
    this.lender[frame] = NOT_BORROWED;
    this.borrowed--;
  }

  /** Publishes staged returns, takes back what peers returned, then refills the own queue. */
  refill(): number {
    this.service();
    return this.inner.refill();
  }

  /**
   * Parks until the own queue has a packet or `timeoutMs` passes, at most MAX_PARK_MS at a time:
   * a peer's forward cannot wake poll(2), so a parked worker looks at its inbound rings often.
   */
  waitReadable(timeoutMs: number): boolean {
    if (this.inboundWaiting() > 0) return true;
    const wait = this.inner.waitReadable;
    if (wait === undefined) return false;
    return wait.call(this.inner, timeoutMs < MAX_PARK_MS ? timeoutMs : MAX_PARK_MS);
  }

  // ---- FrameDevice: send side ----------------------------------------------------------------

  /**
   * A frame from the own device. With none free, frames peers gave back (still in the return
   * rings) are taken home first: plain ring reads, before the device's own slow path.
   */
  allocate(): number {
    if (this.inner.freeFrames === 0) this.takeReturns();
    return this.inner.allocate();
  }

  /**
   * Queues a packet. A borrowed frame goes to its lender, which sends it on its own queue (its
   * device holds the frame and expects its completion); false when that ring is full.
   */
  send(addr: number, len: number): boolean {
    const frame = addr >>> this.shift;
    const from = this.lender[frame];
    if (from === NOT_BORROWED) return this.inner.send(addr, len);
    const stage = this.transmitStage[from];
    if (stage.count === stage.capacity) {
      this.publishTransmits(from);
      if (stage.count === stage.capacity) return false;
    }
    stage.entries[2 * stage.count] = addr;
    stage.entries[2 * stage.count + 1] = len;
    stage.count++;
    this.lender[frame] = NOT_BORROWED;
    this.borrowed--;
    return true;
  }

  /** Publishes everything staged for peers and pushes queued packets to the wire. */
  flush(): number {
    for (let j = 0; j < this.peers.length; j++) {
      const p = this.peers[j];
      this.publishReturns(p);
      this.publishTransmits(p);
    }
    return this.inner.flush();
  }

  /** Takes back frames peers returned, sends what they asked us to, and reaps completions. */
  reap(): number {
    return this.service() + this.inner.reap();
  }

  // ---- quiet points --------------------------------------------------------------------------

  /**
   * One pass of settling at a quiet point (no loop running): receives and releases everything,
   * publishes and takes back everything. Returns how much moved; call on every worker in turn
   * until no worker moves anything.
   */
  settle(): number {
    let moved = 0;
    for (let i = 0; i < 1024; i++) {
      const n = this.receive();
      for (let j = 0; j < n; j++) this.release(this.rxDesc[2 * j]);
      const more = n + this.flush() + this.reap() + this.service();
      this.inner.refill();
      moved += more;
      if (more === 0) break;
    }
    return moved;
  }

  /** Steering's part of frame accounting; at a quiet point nothing is lent, borrowed or staged. */
  audit(): SteeringAudit {
    const problems: string[] = [];
    let held = 0;
    for (let f = 0; f < this.lender.length; f++) if (this.lender[f] !== NOT_BORROWED) held++;
    if (held !== this.borrowed) {
      problems.push(`lender table shows ${held} borrowed frames, count ${this.borrowed}`);
    }
    let staged = 0;
    for (let j = 0; j < this.peers.length; j++) {
      const p = this.peers[j];
      staged +=
        this.forwardStage[p].count + this.returnStage[p].count + this.transmitStage[p].count;
    }
    const inbound = this.inboundWaiting();
    if (this.lent !== 0) problems.push(`${this.lent} frames still lent to other workers`);
    if (this.borrowed !== 0) problems.push(`${this.borrowed} borrowed frames not given back`);
    if (staged !== 0) problems.push(`${staged} entries staged and not published`);
    if (inbound !== 0) problems.push(`${inbound} entries waiting in inbound rings`);
    if (this.counters.violations !== 0) {
      problems.push(`${this.counters.violations} frames forwarded here twice`);
    }
    return {
      worker: this.worker,
      lent: this.lent,
      borrowed: this.borrowed,
      staged,
      inbound,
      counters: { ...this.counters },
      ok: problems.length === 0,
      problems,
    };
  }

  // ---- inter-worker rings --------------------------------------------------------------------

  private stageForward(owner: number, addr: number, len: number): void {
    const stage = this.forwardStage[owner];
    stage.entries[2 * stage.count] = addr;
    stage.entries[2 * stage.count + 1] = len;
    stage.count++;
  }

  /** One publish per peer per batch. A full ring (only after a doubled frame) drops the rest. */
  private publishForwards(): void {
    for (let j = 0; j < this.peers.length; j++) {
      const p = this.peers[j];
      const stage = this.forwardStage[p];
      const count = stage.count;
      if (count === 0) continue;
      const ring = this.forwardOut[p];
      const got = ring.reserve(count);
      const e = stage.entries;
      for (let i = 0; i < got; i++) ring.write(i, e[2 * i], e[2 * i + 1]);
      ring.submit(got);
      for (let i = got; i < count; i++) this.inner.release(e[2 * i]);
      this.lent += got;
      this.counters.forwarded += got;
      this.counters.forwardDrops += count - got;
      stage.count = 0;
    }
  }

  /** Appends up to one batch of packets forwarded here to rxDesc after `k` entries. */
  private adopt(k: number): number {
    const peers = this.peers;
    if (peers.length === 0) return k;
    const limit = k + this.batch;
    const desc = this.rxDesc;
    const shift = this.shift;
    // Start at a different peer each call so no peer's ring waits behind another's.
    const first = this.nextPeer;
    this.nextPeer = first + 1 === peers.length ? 0 : first + 1;
    for (let j = 0; j < peers.length && k < limit; j++) {
      const p = peers[(first + j) % peers.length];
      const ring = this.forwardIn[p];
      const m = ring.peek(limit - k);
      for (let i = 0; i < m; i++) {
        const addr = ring.addr(i);
        desc[2 * k] = addr;
        desc[2 * k + 1] = ring.len(i);
        k++;
        const frame = addr >>> shift;
        if (this.lender[frame] !== NOT_BORROWED) this.counters.violations++;
        else this.borrowed++;
        this.lender[frame] = p;
      }
      ring.release(m);
      this.counters.adopted += m;
    }
    return k;
  }

  private publishReturns(p: number): void {
    const stage = this.returnStage[p];
    const count = stage.count;
    if (count === 0) return;
    const ring = this.returnOut[p];
    const got = ring.reserve(count);
    if (got < count) {
      // The ring holds every frame of the UMEM: it fills only if a frame was returned twice.
      throw Object.assign(new Error(`return ring to worker ${p} is full: a frame was doubled`), {
        code: 'EINVAL',
      });
    }
    for (let i = 0; i < count; i++) ring.write(i, stage.entries[i]);
    ring.submit(count);
    this.counters.returned += count;
    stage.count = 0;
  }

  private publishTransmits(p: number): void {
    const stage = this.transmitStage[p];
    const count = stage.count;
    if (count === 0) return;
    const ring = this.transmitOut[p];
    const got = ring.reserve(count);
    const e = stage.entries;
    for (let i = 0; i < got; i++) ring.write(i, e[2 * i], e[2 * i + 1]);
    ring.submit(got);
    if (got < count) e.copyWithin(0, 2 * got, 2 * count);
    stage.count = count - got;
    this.counters.sentHome += got;
  }

  /**
   * Publishes staged returns and transmits, takes back own frames peers returned and sends what
   * they asked us to send. Returns entries handled.
   */
  private service(): number {
    let moved = 0;
    let sent = 0;
    for (let j = 0; j < this.peers.length; j++) {
      const p = this.peers[j];
      this.publishReturns(p);
      this.publishTransmits(p);
      const n = this.takeReturnsFrom(p);
      const tx = this.transmitIn[p];
      const m = tx.peek(this.batch);
      let s = 0;
      while (s < m && this.inner.send(tx.addr(s), tx.len(s))) s++;
      tx.release(s);
      this.lent -= s;
      this.counters.sentForPeers += s;
      moved += n + s;
      sent += s;
    }
    if (sent > 0) this.inner.flush();
    return moved;
  }

  /** Takes back the own frames every peer returned; returns how many. */
  private takeReturns(): number {
    let n = 0;
    for (let j = 0; j < this.peers.length; j++) n += this.takeReturnsFrom(this.peers[j]);
    return n;
  }

  /** Takes back the own frames peer `p` returned into the own device; returns how many. */
  private takeReturnsFrom(p: number): number {
    const back = this.returnIn[p];
    const n = back.peek(back.capacity);
    for (let i = 0; i < n; i++) this.inner.release(back.addr(i));
    back.release(n);
    this.lent -= n;
    this.counters.reclaimed += n;
    return n;
  }

  private inboundWaiting(): number {
    let n = 0;
    for (let j = 0; j < this.peers.length; j++) {
      const p = this.peers[j];
      n += this.forwardIn[p].available() + this.returnIn[p].available();
      n += this.transmitIn[p].available();
    }
    return n;
  }
}

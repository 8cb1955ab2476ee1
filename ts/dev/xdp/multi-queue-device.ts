// The device of a worker that owns several queues of the NIC (fewer workers than queues): the NIC
// spreads flows over all its queues, so a worker must read every queue it owns or the flows
// hashed there are lost. Each queue keeps its own XdpDevice (its frame range, fill ring, ledger);
// this device takes one queue's batch per receive(), turning round so that no queue waits behind
// another, sends a frame on the queue whose device owns it (its completion then comes back to
// the ledger that expects it), and parks in one poll(2) over all the queues' sockets.
import { nodeXdp, type NativeXskPollSet, type RingCounts } from './native.js';
import type { FrameAccount, FrameDevice } from '../frame-device.js';
import type { QueueAssignment } from './xdp-binding.js';
import { XdpDevice, type FrameAudit } from './xdp-device.js';
import { frameShift } from './umem-layout.js';

/** Marks a UMEM frame that none of this device's queues owns. */
const NO_QUEUE = 0xff;

export class MultiQueueDevice implements FrameDevice {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly umemOffset: number;
  readonly frameSize: number;
  readonly txDataOffset: number;
  readonly batch: number;
  /** The last receive()'s [addr, len] pairs, copied from the queue that had them. */
  readonly rxDesc: Uint32Array;
  readonly rxChecksumOk: Uint8Array;
  /** Every queue's port fills TCP checksums (XdpDevice). */
  readonly txTcpChecksum = true;
  readonly queues: XdpDevice[];
  /** The NIC queue number of each of `queues`. */
  readonly queueNumbers: number[];

  private readonly shift: number;
  /** Per UMEM frame: the index in `queues` of the device whose range holds it. */
  private readonly queueOfFrame: Uint8Array;
  private readonly pollSet: NativeXskPollSet;
  /** The queue receive() looks at first next time. */
  private nextRx = 0;
  /** The queue allocate() takes a frame from first next time. */
  private nextTx = 0;

  constructor(assignments: QueueAssignment[], batch: number) {
    if (assignments.length < 1 || assignments.length >= NO_QUEUE) {
      throw Object.assign(new Error(`a worker owns 1..254 queues, got ${assignments.length}`), {
        code: 'EINVAL',
      });
    }
    const umem = assignments[0].umem;
    this.queueOfFrame = new Uint8Array(umem.frameCount).fill(NO_QUEUE);
    this.queues = [];
    this.queueNumbers = assignments.map((a) => a.queue);
    try {
      for (const a of assignments) this.addQueue(a, batch);
      this.pollSet = nodeXdp().XskPollSet.open(assignments.map((a) => a.socketId));
    } catch (err) {
      for (const q of this.queues) q.close();
      throw err;
    }
    const first = this.queues[0];
    this.bytes = first.bytes;
    this.view = first.view;
    this.umemOffset = first.umemOffset;
    this.frameSize = first.frameSize;
    this.txDataOffset = first.txDataOffset;
    this.batch = batch;
    this.shift = frameShift(first.frameSize);
    this.rxDesc = new Uint32Array(2 * batch);
    this.rxChecksumOk = new Uint8Array(batch);
  }

  private addQueue(a: QueueAssignment, batch: number): void {
    const index = this.queues.length;
    this.queues.push(new XdpDevice({ ...a, batch }));
    this.queueOfFrame.fill(index, a.firstFrame, a.firstFrame + a.frameCount);
  }

  /** The queue device whose frame range holds UMEM address `addr` (the first for a stray). */
  private queueOf(addr: number): XdpDevice {
    const q = this.queueOfFrame[addr >>> this.shift];
    // A stray frame goes to the first queue, whose ledger counts it as a violation.
    return this.queues[q === NO_QUEUE || q === undefined ? 0 : q];
  }

  /** Takes one batch from the next queue that has packets; [addr, len] pairs land in rxDesc. */
  receive(): number {
    const queues = this.queues;
    for (let i = 0; i < queues.length; i++) {
      const q = queues[this.nextRx];
      this.nextRx = this.nextRx + 1 === queues.length ? 0 : this.nextRx + 1;
      const n = q.receive();
      if (n === 0) continue;
      const src = q.rxDesc;
      const ok = q.rxChecksumOk;
      for (let j = 0; j < n; j++) {
        this.rxDesc[2 * j] = src[2 * j];
        this.rxDesc[2 * j + 1] = src[2 * j + 1];
        this.rxChecksumOk[j] = ok[j];
      }
      return n;
    }
    return 0;
  }

  release(addr: number): void {
    this.queueOf(addr).release(addr);
  }

  /**
   * A free frame, taken from the queues in turn so that TX does not drain one queue's frames
   * (and with them its fill ring) while the others have plenty; -1 when none has one.
   */
  allocate(): number {
    const queues = this.queues;
    for (let i = 0; i < queues.length; i++) {
      const q = queues[this.nextTx];
      this.nextTx = this.nextTx + 1 === queues.length ? 0 : this.nextTx + 1;
      if (q.freeFrames > 0) return q.allocate();
    }
    // Every free stack is empty: the slow path (flush and reap) of one queue, which counts it.
    return queues[this.nextTx].allocate();
  }

  /** Queues the packet on the queue whose device owns its frame. */
  send(addr: number, len: number): boolean {
    return this.queueOf(addr).send(addr, len);
  }

  flush(): number {
    let n = 0;
    for (const q of this.queues) n += q.flush();
    return n;
  }

  reap(): number {
    let n = 0;
    for (const q of this.queues) if (q.txInFlight > 0) n += q.reap();
    return n;
  }

  refill(): number {
    let n = 0;
    for (const q of this.queues) n += q.refill();
    return n;
  }

  /** Parks the thread in one poll(2) over every queue's socket. */
  waitReadable(timeoutMs: number): boolean {
    return this.pollSet.wait(timeoutMs);
  }

  /** FrameDevice.txRoom: what every queue's send side may still take, added up. */
  txRoom(): number {
    let room = 0;
    for (const q of this.queues) room += Math.max(0, q.txRoom());
    return room;
  }

  get txInFlight(): number {
    let n = 0;
    for (const q of this.queues) n += q.txInFlight;
    return n;
  }

  get freeFrames(): number {
    let n = 0;
    for (const q of this.queues) n += q.freeFrames;
    return n;
  }

  get pendingTx(): number {
    let n = 0;
    for (const q of this.queues) n += q.pendingTx;
    return n;
  }

  /** Every queue's frame accounting, added up; a problem names its queue. */
  audit(): FrameAudit {
    const audits = this.queues.map((q) => q.audit());
    const sum = (pick: (a: FrameAudit) => number) => audits.reduce((n, a) => n + pick(a), 0);
    const kernel: RingCounts = {
      rx: sum((a) => a.kernel.rx),
      tx: sum((a) => a.kernel.tx),
      fill: sum((a) => a.kernel.fill),
      comp: sum((a) => a.kernel.comp),
    };
    return {
      frames: sum((a) => a.frames),
      free: sum((a) => a.free),
      fill: sum((a) => a.fill),
      app: sum((a) => a.app),
      tx: sum((a) => a.tx),
      kernel,
      violations: sum((a) => a.violations),
      ok: audits.every((a) => a.ok),
      problems: audits.flatMap((a, i) =>
        a.problems.map((p) => `queue ${this.queueNumbers[i]}: ${p}`),
      ),
    };
  }

  /** Where every frame of every queue is now, added up. */
  frameAccount(): FrameAccount {
    const total: FrameAccount = {
      frames: 0,
      free: 0,
      fill: 0,
      rx: 0,
      app: 0,
      txQueued: 0,
      tx: 0,
      completion: 0,
      violations: 0,
    };
    for (const q of this.queues) {
      const a = q.frameAccount();
      for (const k of Object.keys(total) as (keyof FrameAccount)[]) total[k] += a[k];
    }
    return total;
  }

  /** Releases every queue's data path and the poll set; the sockets are the binding's. */
  close(): void {
    for (const q of this.queues) q.close();
    this.pollSet.close();
  }
}

// The main thread's side of software RSS (queues < workers): the interface binding with one
// socket, the dispatcher thread on it, the per-worker rings, and flow ownership (RETA + pins).
// Workers open their side with DispatchedDevice(workerConfig(w)).
//
// Resizing the worker set remaps RETA buckets; flows registered as open whose bucket moved stay
// pinned to their old owner until closeFlow(), so no connection or handshake is reset (the
// SO_REUSEPORT failure docs/architecture.md#rss-and-flow-ownership describes).
import { XdpBinding, type XdpBindingOptions } from '../xdp/xdp-binding.js';
import {
  DEFAULT_RSS_KEY,
  FlowSteering,
  ToeplitzHasher,
  type OpenFlow,
  type Pin,
  type RetaSize,
} from '../../rss/index.js';
import {
  createDispatchRings,
  framesInWorkerRings,
  type DispatchLayout,
  type DispatchWorkerConfig,
} from './dispatch-layout.js';
import {
  DispatchPlace,
  nodeXdpDispatch,
  type DispatcherAudit,
  type DispatcherStats,
  type NativeDispatcher,
} from './native-dispatch.js';
import type { WorkerHoldings } from './dispatched-device.js';

export interface DispatchBindingOptions extends Omit<
  XdpBindingOptions,
  'queues' | 'framesPerQueue'
> {
  /** The queue to dispatch (default 0). */
  queue?: number;
  /** Workers that have rings (the most the set can grow to). */
  workers: number;
  /** Workers the RETA spreads over at start (default all). */
  activeWorkers?: number;
  /** Frames of the dispatcher's RX partition (default 4096). */
  rxFrames?: number;
  /** Frames of each worker's TX partition (default 1024). */
  txFramesPerWorker?: number;
  /** Entries of each worker's rx and tx rings (default 2048). */
  workerRingSize?: number;
  /** RSS key (default the Microsoft key most NICs use). */
  key?: Uint8Array;
  retaSize?: RetaSize;
  /** Descriptors per dispatcher burst (default 64). */
  batch?: number;
}

/** Engine-wide frame accounting: every frame in exactly one place. */
export interface DispatchAudit {
  ok: boolean;
  frames: number;
  dispatcher: DispatcherAudit;
  problems: string[];
}

function errno(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

export class DispatchBinding {
  readonly xdp: XdpBinding;
  readonly layout: DispatchLayout;
  readonly steering: FlowSteering;
  readonly hasher: ToeplitzHasher;
  readonly workers: number;
  private readonly dispatcher: NativeDispatcher;

  private constructor(
    xdp: XdpBinding,
    layout: DispatchLayout,
    steering: FlowSteering,
    hasher: ToeplitzHasher,
    dispatcher: NativeDispatcher,
  ) {
    this.xdp = xdp;
    this.layout = layout;
    this.steering = steering;
    this.hasher = hasher;
    this.workers = layout.offsets.length;
    this.dispatcher = dispatcher;
  }

  static open(opts: DispatchBindingOptions): DispatchBinding {
    const workers = opts.workers;
    const active = opts.activeWorkers ?? workers;
    if (!Number.isInteger(workers) || workers < 1 || active < 1 || active > workers) {
      throw errno('EINVAL', `workers must be >= 1 and activeWorkers 1..workers`);
    }
    const rxFrames = opts.rxFrames ?? 4096;
    const txFrames = opts.txFramesPerWorker ?? 1024;
    const key = opts.key ?? DEFAULT_RSS_KEY;
    const xdp = XdpBinding.open({
      ...opts,
      queues: [opts.queue ?? 0],
      framesPerQueue: rxFrames + workers * txFrames,
    });
    try {
      const { rings, offsets } = createDispatchRings(
        workers,
        opts.workerRingSize ?? 2048,
        rxFrames,
        txFrames,
      );
      const layout: DispatchLayout = {
        umem: xdp.umemLayout,
        rings,
        offsets,
        rxFirstFrame: 0,
        rxFrameCount: rxFrames,
        txFirstFrame: rxFrames,
        txFramesPerWorker: txFrames,
      };
      const steering = new FlowSteering(active, opts.retaSize ?? 128);
      const dispatcher = nodeXdpDispatch().Dispatcher.start(
        new Uint8Array(layout.umem.memory),
        new Uint8Array(rings),
        {
          socketId: xdp.sockets[0].id,
          workers,
          ringOffsets: offsets.flatMap((o) => [o.rx, o.free, o.tx, o.comp]),
          rxFirstFrame: 0,
          rxFrameCount: rxFrames,
          txFirstFrame: rxFrames,
          txFramesPerWorker: txFrames,
          key: Array.from(key),
          reta: Array.from(steering.reta.table),
          batch: opts.batch,
        },
      );
      return new DispatchBinding(xdp, layout, steering, new ToeplitzHasher(key), dispatcher);
    } catch (err) {
      xdp.close();
      throw err;
    }
  }

  /**
   * What worker `w` passes to DispatchedDevice. A worker taking over the rings of a stopped one
   * passes `resume`, the frames its predecessor held when it stopped (WorkerHoldings.frames).
   */
  workerConfig(worker: number, batch = 64, resume?: number[]): DispatchWorkerConfig {
    return { layout: this.layout, worker, batch, resume };
  }

  /**
   * Every frame of worker `w`'s TX partition: what a worker that never ran holds (the
   * dispatcher counts them as the worker's from the start), for the audit.
   */
  txFramesOf(worker: number): number[] {
    const { txFirstFrame, txFramesPerWorker, umem } = this.layout;
    const first = txFirstFrame + worker * txFramesPerWorker;
    return Array.from({ length: txFramesPerWorker }, (_, i) => (first + i) * umem.frameSize);
  }

  /** The RETA that resize(`workers`) would make, without changing anything. */
  previewResize(workers: number): Uint8Array {
    const next = this.steering.reta.clone();
    next.resize(workers);
    return next.table;
  }

  /** Workers the RETA spreads over now. */
  get activeWorkers(): number {
    return this.steering.reta.workers;
  }

  /** An open flow (tuple in RSS order) with its hash and current owner, for resize(). */
  openFlow(tuple: Uint8Array): OpenFlow {
    const hash = this.hasher.hash(tuple);
    return { hash, tuple, owner: this.steering.ownerOfTuple(hash, tuple) };
  }

  /** The worker that owns a flow now (RETA and pins), as the dispatcher decides it. */
  ownerOf(tuple: Uint8Array): number {
    return this.steering.ownerOfTuple(this.hasher.hash(tuple), tuple);
  }

  /**
   * Spreads the RETA over `workers` (at most `this.workers`) and pins every flow of `openFlows`
   * whose bucket moved away from its owner. The dispatcher applies RETA and pins in one step
   * between two bursts; resolves once it has. Returns the number of flows pinned.
   */
  async resize(workers: number, openFlows: Iterable<OpenFlow>): Promise<number> {
    if (workers > this.workers) {
      throw errno('EINVAL', `only ${this.workers} workers have rings; open with more workers`);
    }
    const flows = [...openFlows];
    const pinned = this.steering.resize(workers, flows);
    const pins = flows
      .filter(
        (f) => this.steering.ownerOfTuple(f.hash, f.tuple) !== this.steering.reta.ownerOf(f.hash),
      )
      .map((f) => ({ tuple: Array.from(f.tuple), owner: f.owner }));
    const generation = this.dispatcher.update(Array.from(this.steering.reta.table), pins, null);
    await this.applied(generation);
    return pinned;
  }

  /** A flow closed: drop its pin (if it had one) here and in the dispatcher. */
  async closeFlow(tuple: Uint8Array): Promise<void> {
    if (!this.steering.unpin(this.hasher.hash(tuple), tuple)) return;
    await this.applied(this.dispatcher.update(null, null, [Array.from(tuple)]));
  }

  /** Every pinned flow (cold path). */
  pins(): Readonly<Pin>[] {
    return [...this.steering.allPins()];
  }

  /** Flows closed: drops their pins here and in the dispatcher, in one update. */
  async unpinFlows(tuples: Iterable<Uint8Array>): Promise<number> {
    const gone: number[][] = [];
    for (const t of tuples)
      if (this.steering.unpin(this.hasher.hash(t), t)) gone.push(Array.from(t));
    if (gone.length > 0) await this.applied(this.dispatcher.update(null, null, gone));
    return gone.length;
  }

  private async applied(generation: number): Promise<void> {
    const deadline = performance.now() + 5000;
    while (this.dispatcher.appliedGeneration < generation) {
      if (!this.dispatcher.running) throw errno('ESRCH', 'the dispatcher thread is not running');
      if (performance.now() > deadline) {
        throw errno('ETIMEDOUT', 'the dispatcher did not apply a RETA update within 5 s');
      }
      await new Promise((r) => setTimeout(r, 1));
    }
  }

  stats(): DispatcherStats {
    return this.dispatcher.stats();
  }

  /** Stops the dispatcher thread (stop the workers' loops first). */
  stop(): void {
    this.dispatcher.stop();
  }

  /**
   * Frame accounting at a quiet point: workers stopped and reporting their holdings, dispatcher
   * stopped. Every frame the dispatcher counts as "with the workers" must be in exactly one
   * worker ring or worker holding, and nowhere else.
   */
  audit(holdings: WorkerHoldings[]): DispatchAudit {
    this.stop();
    const dispatcher = this.dispatcher.audit();
    const problems = [...dispatcher.problems, ...holdings.flatMap((h) => h.problems)];
    const shift = 31 - Math.clz32(this.layout.umem.frameSize);
    const seen = new Uint8Array(dispatcher.places.length);
    const count = (addr: number, where: string) => {
      const f = addr >>> shift;
      if (dispatcher.places[f] !== DispatchPlace.Worker) {
        problems.push(
          `frame ${f} is ${where} but the dispatcher has it in place ${dispatcher.places[f]}`,
        );
      } else if (seen[f]++ > 0) {
        problems.push(`frame ${f} is in two places (again ${where})`);
      }
    };
    this.layout.offsets.forEach((o, w) => {
      for (const a of framesInWorkerRings(this.layout.rings, o)) count(a, `in worker ${w}'s rings`);
    });
    holdings.forEach((h, w) => h.frames.forEach((a) => count(a, `held by worker ${w}`)));
    let lost = 0;
    dispatcher.places.forEach((p, f) => {
      if (p === DispatchPlace.Worker && seen[f] === 0) lost++;
    });
    if (lost > 0)
      problems.push(`${lost} frames are with the workers by the ledger but nowhere found`);
    return {
      ok: problems.length === 0,
      frames: dispatcher.places.filter((p) => p !== DispatchPlace.Unused).length,
      dispatcher,
      problems,
    };
  }

  /** Stops the dispatcher and closes the socket, program and UMEM. Idempotent. */
  close(): void {
    try {
      this.dispatcher.close();
    } finally {
      this.xdp.close();
    }
  }
}

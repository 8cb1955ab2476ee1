// The engine: the main thread's control of an interface and its stack workers. It attaches the
// XDP program and opens the sockets, picks how frames reach the workers (each worker on its own
// queue, or a Rust dispatcher spreading one queue over the workers by RSS), starts one stack
// worker per core and loads the app module in each.
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import { spawn, Thread, Worker, type ModuleThread } from 'threads';
import { XdpBinding, type BindingFacts, type XdpBindingOptions } from '../dev/xdp/xdp-binding.js';
import type { BusyPollOptions } from '../dev/xdp/busy-poll.js';
import { checkFrameFit, planBinding, type BindingPlan } from './binding-plan.js';
import { chooseRss, type RssChoice, type RssMode } from './rss-choice.js';
import { nicRssReading } from '../dev/xdp/nic-info.js';
import { ProgrammedNicRss } from '../dev/xdp/nic-rss-writer.js';
import { DispatchBinding } from '../dev/dispatch/dispatch-binding.js';
import { createSteeringLayout, type SteeringLayout } from '../dev/steering/index.js';
import { nodeXdp } from '../dev/xdp/native.js';
import { createSharedInterfaceState } from '../iface/interface.js';
import { linkLocalFromMac, type InterfaceConfig } from '../iface/config.js';
import { parseMac } from '../wire/index.js';
import type { OpenFlow } from '../rss/index.js';
import type { ShutdownReport, StackWorkerApi } from './stack-worker.js';
import type { DeviceSpec, StackWorkerConfig, StackWorkerStats } from './stack-config.js';
import type { SocketEntry } from './socket-report.js';
import { ControlServer } from './control-server.js';
import type { TcpConfig } from '../socket/tcp/config.js';
import { onGracefulStop, releaseThreadsSignalHandlers } from './signals.js';
import { parseMetricsAddress, type MetricsOption } from './metrics/address.js';
import { MetricsServer } from './metrics/server.js';
import { engineRegistry } from './metrics/registry.js';
import { engineSnapshot } from './metrics/snapshot.js';
import type { EngineSnapshot } from './metrics/families.js';
import { CaptureFiles } from '../dev/pcap/capture-files.js';
import type { WorkerHoldings } from '../dev/dispatch/dispatched-device.js';
import { flowKey } from './open-flows.js';

// threads' own SIGINT/SIGTERM handlers would exit(0) past the graceful stop (signals.ts).
releaseThreadsSignalHandlers();

export interface EngineOptions extends Omit<InterfaceConfig, 'mac'> {
  /** The interface to run on. */
  ifname: string;
  /**
   * Stack workers. Default: the interface's queue count, each worker on its own queue; with
   * `softwareRss`, the CPU count behind the software-RSS dispatcher. Fewer workers than queues
   * share the queues out (every queue is read); more workers than queues need an interface with
   * one queue (ENOTSUP otherwise).
   */
  workers?: number;
  /** Spread the queue over more workers than it has queues (the Rust dispatcher). */
  softwareRss?: boolean;
  /**
   * The most workers `resize()` may grow to (default `workers`). Above 1 on a one-queue
   * interface the engine runs behind the software-RSS dispatcher even with one worker, so that
   * it can resize; each possible worker has its rings and TX frames from the start.
   */
  maxWorkers?: number;
  /** The app module loaded in every worker (an absolute path or file URL). */
  app?: string;
  /**
   * XDP attach mode and AF_XDP bind mode (default auto for both: native where the driver has XDP,
   * zero-copy where it offers xsk-zerocopy; copy mode when a zero-copy bind fails). `engine.xdp`
   * says what came of them.
   */
  xdpMode?: 'auto' | 'native' | 'generic';
  bindMode?: 'auto' | 'zerocopy' | 'copy';
  /**
   * Busy polling (ts/dev/xdp/busy-poll.ts): true for the defaults (SO_BUSY_POLL 20 µs, budget 64,
   * SO_PREFER_BUSY_POLL, napi_defer_hard_irqs 2, gro_flush_timeout 200 µs), a number for
   * SO_BUSY_POLL's microseconds, or each setting. The device's knobs are put back on stop.
   */
  busyPoll?: boolean | number | BusyPollOptions;
  /**
   * How flow ownership meets the NIC's RSS (runtime/rss-choice.ts): 'follow' computes ownership
   * and connect()'s source ports with the NIC's key and indirection table as read; 'program'
   * writes the engine's key, a table over the workers' queues and 4-tuple hashing for TCP and UDP
   * to the NIC and puts the NIC's own back on stop; 'software' keeps the engine's own and steers
   * flows between workers. Default: follow where the NIC reports a Toeplitz key and table, else
   * software (`engine.rss` says which and why). 'follow' and 'program' throw ENOTSUP where the
   * driver reports no RSS (veth) or more workers than queues need the dispatcher.
   */
  rss?: RssMode;
  /** Replace a foreign XDP program on the interface instead of failing. */
  force?: boolean;
  /**
   * The control channel `xdpnet ss` / `xdpnet netstat` use: a Unix socket path, true for
   * /run/xdpnet/engine-<pid>.sock (the default), false for none.
   */
  control?: boolean | string;
  /** TCP defaults for every connection (e.g. a short `timeWaitMs` in tests), as TcpConfig. */
  tcp?: Partial<TcpConfig>;
  /**
   * The ports TCP connect() picks from, inclusive (Linux ip_local_port_range); default
   * 32768-60999. A worker takes only those whose replies hash back to it.
   */
  ephemeralPorts?: readonly [number, number];
  /**
   * SIGINT and SIGTERM run `stop()` (open connections get their FIN, or a RST when unread data
   * is left, as close does), then the process exits with 128 + the signal's number unless the
   * application set `process.exitCode`; a second signal exits at once. Default true; false leaves
   * the signals to the application.
   */
  handleSignals?: boolean;
  /**
   * Serve Prometheus metrics (every worker's counters, drops by reason, the frame account, the
   * AF_XDP statistics) at http://HOST:PORT/metrics: 'HOST:PORT' ('[::1]:9464' for IPv6) or
   * { host, port } (host 127.0.0.1 by default; port 0 picks a free one, see `metricsUrl`).
   * Only that address is bound. Closed when the engine stops.
   */
  metrics?: MetricsOption;
  /**
   * Capture every frame the stacks receive and send into this pcap file (tshark, Wireshark,
   * tcpdump -r), flushed every second. One worker writes FILE itself; with more, each writes
   * FILE.worker<N> while running and stop() merges them into FILE in time order, then removes
   * them.
   */
  pcap?: string;
}

type Binding =
  | { kind: 'xdp'; binding: XdpBinding }
  | { kind: 'steered'; binding: XdpBinding; layout: SteeringLayout }
  | { kind: 'dispatch'; binding: DispatchBinding };

/**
 * How frames reach the workers: the plan (binding-plan.ts, made for the most workers the engine
 * may have), carried out; steered workers decide ownership by `rss`'s key and RETA. Only the
 * dispatcher can change the worker count while running: it starts with `workers` in its RETA.
 */
function bind(
  plan: BindingPlan,
  workers: number,
  rss: RssChoice,
  common: Omit<XdpBindingOptions, 'queues'>,
): Binding {
  const { queues } = plan;
  const maxWorkers = plan.workers;
  checkFrameFit(plan, common.mtu ?? 1500, common.frameSize, common.headroom);
  if (plan.kind === 'dispatch') {
    return {
      kind: 'dispatch',
      binding: DispatchBinding.open({ ...common, workers: maxWorkers, activeWorkers: workers }),
    };
  }
  if (maxWorkers > workers) {
    throw errno(
      'ENOTSUP',
      `maxWorkers ${maxWorkers} on ${common.ifname}, which has ${queues} RX queues: only the ` +
        'software-RSS dispatcher (an interface with one queue) can add workers while running',
    );
  }
  const binding = XdpBinding.open({
    ...common,
    queues: Array.from({ length: queues }, (_, q) => q),
    framesPerQueue: framesPerQueue(Math.ceil(queues / workers)),
  });
  if (plan.kind === 'xdp') return { kind: 'xdp', binding };
  try {
    const layout = createSteeringLayout({
      workers,
      frames: binding.umemLayout.frameCount,
      key: rss.key,
      reta: rss.reta,
    });
    return { kind: 'steered', binding, layout };
  } catch (err) {
    binding.close();
    throw err;
  }
}

/**
 * UMEM frames per queue: 8192 with one queue per worker (XdpBinding's default, half of them in
 * the fill ring). A worker with several queues shares that budget among them, since each carries
 * a share of its load, but keeps at least 4096 per queue so that one busy flow's queue still has
 * a deep fill ring. (64 queues at 8192 would pin 1 GiB of UMEM.)
 */
function framesPerQueue(queuesPerWorker: number): number {
  return Math.max(4096, Math.floor(8192 / queuesPerWorker));
}

function deviceSpec(bound: Binding, worker: number, workers: number): DeviceSpec {
  switch (bound.kind) {
    case 'xdp':
      return { kind: 'xdp', queues: bound.binding.workerQueues(0, 1), batch: 64 };
    case 'steered':
      return {
        kind: 'steered',
        queues: bound.binding.workerQueues(worker, workers),
        layout: bound.layout,
        batch: 64,
      };
    case 'dispatch':
      return { kind: 'dispatch', config: bound.binding.workerConfig(worker) };
  }
}

// threads.js resolves a worker script relative to the file that constructs the Worker (this one).
const workerPath = './stack-worker.js';

function errno(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

function hostPart(cidr: string): string {
  return cidr.split('/')[0];
}

/** Engine.rss: how ownership meets the NIC's RSS. */
export interface EngineRssFacts {
  mode: RssMode;
  requested: RssMode | 'default';
  why: string;
  notes: string[];
  /** The ownership key's length and the RETA's entries. */
  keyBytes: number;
  retaSize: number;
}

/** Frame accounting at shutdown. */
export interface EngineAudit {
  /** False when this engine's kind of device could not be audited (or it was stopped before). */
  audited: boolean;
  ok: boolean;
  problems: string[];
}

/**
 * A worker's place in a resizable engine: 'active' in the RETA; 'draining' out of it, serving
 * the flows pinned to it until they close; 'stopped' (its rings wait for a worker to come back).
 */
export type WorkerState = 'active' | 'draining' | 'stopped';

/** What `Engine.resize` did. */
export interface ResizeReport {
  /** Workers in the RETA now. */
  workers: number;
  maxWorkers: number;
  /** Open flows pinned to their worker because their bucket moved. */
  pinned: number;
  /** Every worker and its state after the change. */
  states: WorkerState[];
}

interface WorkerSlot {
  thread: ModuleThread<StackWorkerApi> | undefined;
  state: WorkerState;
  /** What the last worker on these rings held when it stopped (dispatch), for its successor. */
  held?: WorkerHoldings;
  /** The final counters of the workers that ran here and stopped, added up. */
  retired?: StackWorkerStats;
}

/** Everything a stack worker's config has that does not depend on which worker it is. */
type WorkerTemplate = Omit<StackWorkerConfig, 'workerId' | 'device' | 'reta' | 'pcap'>;

function addCounters(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const sum = { ...a };
  for (const [k, v] of Object.entries(b)) sum[k] = (sum[k] ?? 0) + v;
  return sum;
}

/** `now`'s counters plus those of stopped workers of the same number (frames and rings: now's). */
function addStats(now: StackWorkerStats, retired: StackWorkerStats): StackWorkerStats {
  return {
    ...now,
    iface: addCounters(now.iface, retired.iface),
    drops: addCounters(now.drops, retired.drops),
    udp: addCounters(now.udp, retired.udp),
    tcp: addCounters(now.tcp, retired.tcp),
    tcpExt: addCounters(now.tcpExt, retired.tcpExt),
    loop: addCounters(now.loop, retired.loop) as StackWorkerStats['loop'],
  };
}

/** How often a resized engine looks for closed pinned flows and drained workers. */
const REAP_MS = 200;

/**
 * Engines started and not yet stopped. A listening net.Server stays alive with no reference of
 * the app's (the event loop holds its handle); so must an engine: collected by the GC, its
 * binding's native objects would close the XDP program and sockets under the running workers.
 */
const runningEngines = new Set<Engine>();

export class Engine {
  private closed = false;
  /** stop() has begun: no resize or reap starts from here on. */
  private stopping = false;
  private control: ControlServer | undefined;
  private metrics: MetricsServer | undefined;
  private capture: CaptureFiles | undefined;
  private unregisterStop: (() => void) | undefined;
  private programmedRss: ProgrammedNicRss | undefined;
  private readonly slots: WorkerSlot[];
  /** Resizes and reaps run one at a time, in order. */
  private serial: Promise<unknown> = Promise.resolve();
  private reapTimer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly bound: Binding,
    slotCount: number,
    private readonly template: WorkerTemplate,
    private readonly rssChoice: RssChoice,
  ) {
    this.slots = Array.from({ length: slotCount }, () => ({
      thread: undefined,
      state: 'stopped' as WorkerState,
    }));
  }

  static async start(opts: EngineOptions): Promise<Engine> {
    // A bad address fails before anything is set up.
    const metricsAddress =
      opts.metrics === undefined ? undefined : parseMetricsAddress(opts.metrics);
    const info = nodeXdp().interfaceInfo(opts.ifname);
    const queues = Math.max(info.rxQueues, 1);
    const workers = opts.workers ?? (opts.softwareRss ? os.availableParallelism() : queues);
    if (!Number.isInteger(workers) || workers < 1) {
      throw errno('EINVAL', `workers must be a positive integer, got ${workers}`);
    }
    const maxWorkers = opts.maxWorkers ?? workers;
    if (!Number.isInteger(maxWorkers) || maxWorkers < workers) {
      throw errno(
        'EINVAL',
        `maxWorkers must be an integer >= workers (${workers}), got ${maxWorkers}`,
      );
    }
    // A capture that cannot be written fails before anything is attached.
    const capture = opts.pcap === undefined ? undefined : CaptureFiles.open(opts.pcap, maxWorkers);
    const ipv4 = (opts.ipv4 ?? []).map(hostPart);
    const ipv6 = (opts.ipv6 ?? []).map(hostPart);
    if (ipv6.length > 0) {
      // The XDP program must also take what comes to the link-local address the interface uses
      // (RFC 4291 2.5.6) and to all-nodes, where DAD hears a defending advertisement (RFC 4862
      // 5.4.5).
      const linkLocal = opts.ipv6LinkLocal ?? linkLocalFromMac(parseMac(info.mac));
      if (linkLocal) ipv6.push(hostPart(linkLocal), 'ff02::1');
    }
    const common = {
      ifname: opts.ifname,
      ipv4,
      ipv6,
      xdpMode: opts.xdpMode,
      bindMode: opts.bindMode,
      force: opts.force,
      busyPoll: opts.busyPoll,
      mtu: opts.mtu,
    };
    const plan = planBinding(opts.ifname, maxWorkers, queues);
    // Decided (and refused, ENOTSUP) before anything is set up; written to the NIC once the
    // engine can put it back.
    const rss = chooseRss(opts.rss, nicRssReading(opts.ifname, info.driver), plan);
    const bound = bind(plan, workers, rss, common);
    // The key the workers' connect() ports must agree with: the dispatcher's, or the one the
    // steering layout also uses (the RETA: Engine.currentReta).
    const key = bound.kind === 'dispatch' ? bound.binding.hasher.key : rss.key;
    const template: WorkerTemplate = {
      workerCount: maxWorkers,
      iface: { ...opts, mac: info.mac },
      shared: createSharedInterfaceState(),
      rssKey: Uint8Array.from(key),
      // One secret for all: a cookie may come back to another worker after a resize.
      cookieSecret: randomBytes(16),
      app: opts.app,
      tcp: opts.tcp,
      ephemeralPorts: opts.ephemeralPorts,
    };
    const engine = new Engine(bound, maxWorkers, template, rss);
    runningEngines.add(engine);
    engine.capture = capture;
    if (opts.handleSignals !== false) engine.unregisterStop = onGracefulStop(() => engine.stop());
    try {
      if (rss.program) {
        const { apply, restore } = rss.program;
        engine.programmedRss = ProgrammedNicRss.write(opts.ifname, apply, restore);
        rss.notes.push(...engine.programmedRss.notes);
      }
      for (let w = 0; w < workers; w++) await engine.startWorker(w, engine.currentReta());
      if (opts.control !== false) {
        const target = {
          sockets: () => engine.sockets(),
          stats: () => engine.stats(),
          info: () => engine.info(),
          resize: (n: number) => engine.resize(n),
        };
        engine.control = await ControlServer.start(
          target,
          typeof opts.control === 'string' ? opts.control : undefined,
        );
      }
      if (metricsAddress) {
        const source = () => engine.snapshot();
        engine.metrics = await MetricsServer.start(
          engineRegistry(source, await source()),
          metricsAddress,
        );
      }
    } catch (err) {
      await engine.stop().catch(() => undefined);
      throw err;
    }
    return engine;
  }

  /**
   * The RETA the workers' connect() ports must agree with: the dispatcher's now, or the one the
   * steering layout also uses.
   */
  private currentReta(): Uint8Array {
    const bound = this.bound;
    return Uint8Array.from(
      bound.kind === 'dispatch' ? bound.binding.steering.reta.table : this.rssChoice.reta,
    );
  }

  /** Starts stack worker `w` (on the rings a stopped worker left, if one ran there). */
  private async startWorker(w: number, reta: Uint8Array): Promise<void> {
    const slot = this.slots[w];
    const config: StackWorkerConfig = {
      ...this.template,
      workerId: w,
      device: this.deviceSpec(w, slot.held?.frames),
      reta,
      pcap: this.capture?.workerFile(w),
    };
    const thread = await spawn<StackWorkerApi>(new Worker(workerPath), { timeout: 30000 });
    slot.thread = thread;
    slot.state = 'active';
    slot.held = undefined;
    await thread.start(config);
  }

  private deviceSpec(w: number, resume: number[] | undefined): DeviceSpec {
    const bound = this.bound;
    if (bound.kind === 'dispatch') {
      return { kind: 'dispatch', config: bound.binding.workerConfig(w, 64, resume) };
    }
    return deviceSpec(bound, w, this.slots.length);
  }

  private runningSlots(): { worker: number; thread: ModuleThread<StackWorkerApi> }[] {
    const out: { worker: number; thread: ModuleThread<StackWorkerApi> }[] = [];
    this.slots.forEach((s, worker) => {
      if (s.thread) out.push({ worker, thread: s.thread });
    });
    return out;
  }

  /**
   * Per-worker counters of the interface, drops, UDP and the run loop, by worker number. A worker
   * number that a resize stopped (and maybe started again) counts what every worker that ran
   * under it counted, so totals never go back.
   */
  async stats(): Promise<StackWorkerStats[]> {
    const running = this.runningSlots();
    const live = await Promise.all(running.map((s) => s.thread.stats()));
    const byWorker = new Map(running.map((s, i) => [s.worker, live[i]]));
    return this.slots.flatMap((slot, w) => {
      const now = byWorker.get(w);
      if (slot.retired === undefined) return now ? [now] : [];
      return [now ? addStats(now, slot.retired) : slot.retired];
    });
  }

  /** Every worker's sockets (TCP listeners and connections, UDP), as `ss` lists them. */
  async sockets(): Promise<SocketEntry[]> {
    return (await Promise.all(this.runningSlots().map((s) => s.thread.sockets()))).flat();
  }

  /** What the control channel's `info` (and `xdpnet workers`) reports. */
  info(): {
    pid: number;
    workers: number;
    maxWorkers: number;
    states: WorkerState[];
    mode: string;
  } {
    return {
      pid: process.pid,
      workers: this.workers,
      maxWorkers: this.maxWorkers,
      states: this.workerStates,
      mode: this.mode,
    };
  }

  /** Everything a metrics scrape reads, from the workers and the main thread's sockets. */
  private async snapshot(): Promise<EngineSnapshot> {
    const workers = await this.stats();
    const bound = this.bound;
    const snapshot =
      bound.kind === 'dispatch'
        ? engineSnapshot(this.mode, workers, bound.binding.xdp, bound.binding.stats())
        : engineSnapshot(this.mode, workers, bound.binding);
    return { ...snapshot, running: this.runningSlots().length };
  }

  /** Where the metrics are served (http://HOST:PORT/metrics), when the engine serves them. */
  get metricsUrl(): string | undefined {
    return this.metrics?.url;
  }

  /** The control socket's path, when the engine has one. */
  get controlPath(): string | undefined {
    return this.control?.path;
  }

  /** Workers that take new flows (draining ones, still serving their old flows, not counted). */
  get workers(): number {
    return this.slots.filter((s) => s.state === 'active').length;
  }

  /** The most workers resize() can grow to. */
  get maxWorkers(): number {
    return this.bound.kind === 'dispatch' ? this.slots.length : this.workers;
  }

  /** Open flows pinned to a worker other than the RETA's (after a resize, until they close). */
  get pinnedFlows(): number {
    const bound = this.bound;
    return bound.kind === 'dispatch' ? bound.binding.steering.pinned : 0;
  }

  /** Each worker's state, by worker number. */
  get workerStates(): WorkerState[] {
    return this.slots.map((s) => s.state);
  }

  /**
   * How the engine is bound to its interface: XDP attach mode, AF_XDP bind mode (zero-copy or
   * copy, and why), need_wakeup, and busy polling as the sockets read it back now (their NAPI ids
   * appear with the first packet). After stop(), the last reading.
   */
  get bindingFacts(): BindingFacts {
    return this.xdp;
  }

  /**
   * How flow ownership meets the NIC's RSS: 'follow', 'program' or 'software', what was asked
   * for, why, and notes (hash fields that differ, a write the driver refused).
   */
  get rss(): EngineRssFacts {
    const { mode, requested, why, notes, key, reta } = this.rssChoice;
    return { mode, requested, why, notes: [...notes], keyBytes: key.length, retaSize: reta.length };
  }

  /** How frames reach the workers: 'xdp' (direct), 'steered' or 'dispatch' (software RSS). */
  get mode(): string {
    return this.bound.kind;
  }

  get xdp(): BindingFacts {
    const bound = this.bound;
    return bound.kind === 'dispatch' ? bound.binding.xdp.facts : bound.binding.facts;
  }

  /**
   * Changes the number of workers that take new flows to `workers` (1..maxWorkers), without
   * resetting anything: TCP connections in any state (SYN-RECEIVED and TIME-WAIT included) and
   * connected UDP sockets stay with the worker that has them until they close (the dispatcher
   * pins them), cookies in flight are accepted by whichever worker their ACK reaches (one
   * secret), a worker that leaves drains (serves its pinned flows, then stops), and one that
   * joins starts on the rings its predecessor left (or stops draining). Resolves once the
   * dispatcher steers by the new table. EINVAL for a bad count, ENOTSUP unless the engine runs
   * behind the software-RSS dispatcher.
   */
  resize(workers: number): Promise<ResizeReport> {
    if (this.stopping) return Promise.reject(errno('ESHUTDOWN', 'the engine has stopped'));
    const bound = this.bound;
    if (bound.kind !== 'dispatch') {
      return Promise.reject(
        errno(
          'ENOTSUP',
          `a '${bound.kind}' engine cannot change its worker count while running: each worker ` +
            'reads its own queues. Start it on a one-queue interface with softwareRss (and ' +
            'maxWorkers to grow past the start count), or restart it with the new count',
        ),
      );
    }
    if (!Number.isInteger(workers) || workers < 1 || workers > this.slots.length) {
      return Promise.reject(
        errno(
          'EINVAL',
          `workers must be an integer from 1 to ${this.slots.length} (this engine's ` +
            `maxWorkers), got ${workers}; start the engine with a larger maxWorkers to grow further`,
        ),
      );
    }
    return this.exclusive(() => this.resizeNow(bound.binding, workers));
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.serial.then(fn, fn);
    this.serial = run.catch(() => undefined);
    return run;
  }

  private async resizeNow(binding: DispatchBinding, workers: number): Promise<ResizeReport> {
    const next = binding.previewResize(workers);
    const current = this.currentReta();
    for (let w = 0; w < workers; w++) {
      if (this.slots[w].state === 'stopped') await this.startWorker(w, current);
    }
    // Every worker stops opening flows whose bucket is moving and says what it has open; those
    // go to the dispatcher as pins in the same step as the new table.
    const running = this.runningSlots();
    let open: Uint8Array[][];
    try {
      open = await Promise.all(running.map((s) => s.thread.prepareResize(next)));
    } catch (err) {
      await this.settleWorkers(binding, current); // the dispatcher still has the old table
      throw err;
    }
    const flows: OpenFlow[] = [];
    open.forEach((tuples, i) => {
      for (const tuple of tuples) {
        flows.push({ hash: binding.hasher.hash(tuple), tuple, owner: running[i].worker });
      }
    });
    let pinned: number;
    try {
      pinned = await binding.resize(workers, flows);
    } finally {
      // Applied, or (after a timeout) queued in the dispatcher: the workers follow it either way.
      await this.settleWorkers(binding, next);
    }
    return { workers, maxWorkers: this.slots.length, pinned, states: this.workerStates };
  }

  /**
   * Every running worker takes `table` as the one in force (for connect() and new flows), and
   * its state follows it: active when the RETA has it, draining otherwise.
   */
  private async settleWorkers(binding: DispatchBinding, table: Uint8Array): Promise<void> {
    const running = this.runningSlots();
    await Promise.allSettled(running.map((s) => s.thread.commitResize(table)));
    const active = binding.activeWorkers;
    for (const { worker } of running) {
      this.slots[worker].state = worker < active ? 'active' : 'draining';
    }
    this.scheduleReap();
  }

  private scheduleReap(): void {
    if (this.reapTimer || this.stopping) return;
    this.reapTimer = setTimeout(() => {
      this.reapTimer = undefined;
      void this.exclusive(() => this.reap()).then(
        (more) => {
          if (more) this.scheduleReap();
        },
        () => this.scheduleReap(),
      );
    }, REAP_MS);
    this.reapTimer.unref();
  }

  /**
   * Drops the pins of flows that have closed (or that the RETA now sends to their worker anyway)
   * and stops draining workers that have nothing open. True while there is more to wait for.
   */
  private async reap(): Promise<boolean> {
    const bound = this.bound;
    if (this.stopping || bound.kind !== 'dispatch') return false;
    const binding = bound.binding;
    const open = await this.openFlowKeys();
    const reta = binding.steering.reta;
    const gone = binding
      .pins()
      .filter((p) => reta.ownerOf(p.hash) === p.owner || !open.get(p.owner)?.has(flowKey(p.tuple)))
      .map((p) => p.tuple);
    await binding.unpinFlows(gone);
    for (const [w, keys] of open) {
      if (this.slots[w].state === 'draining' && keys.size === 0) await this.retire(w);
    }
    return binding.steering.pinned > 0 || this.slots.some((s) => s.state === 'draining');
  }

  /** Each running worker's open flows, as keys. */
  private async openFlowKeys(): Promise<Map<number, Set<string>>> {
    const running = this.runningSlots();
    const lists = await Promise.all(running.map((s) => s.thread.openFlows()));
    return new Map(running.map((s, i) => [s.worker, new Set(lists[i].map(flowKey))]));
  }

  /** Stops drained worker `w`, keeping its counters and what it held for its successor. */
  private async retire(w: number): Promise<void> {
    const slot = this.slots[w];
    const thread = slot.thread;
    if (!thread) return;
    slot.thread = undefined;
    slot.state = 'stopped';
    try {
      const last = await thread.stats();
      slot.retired = slot.retired ? addStats(last, slot.retired) : last;
      const report = await thread.stop();
      if (report?.kind === 'dispatch') slot.held = report.holdings;
    } finally {
      await Thread.terminate(thread);
    }
  }

  /**
   * Stops every worker, detaches the XDP program and closes the sockets. Idempotent. Returns the
   * frame accounting at shutdown: every frame in exactly one place (steered engines excepted,
   * whose lent frames only settle with all workers running; `audited` is false there).
   */
  async stop(): Promise<EngineAudit> {
    this.stopping = true;
    this.unregisterStop?.();
    clearTimeout(this.reapTimer);
    this.reapTimer = undefined;
    await this.serial;
    await this.metrics?.close();
    await this.control?.close();
    const running = this.runningSlots();
    for (const s of running) {
      this.slots[s.worker].thread = undefined;
      this.slots[s.worker].state = 'stopped';
    }
    const reports = await Promise.allSettled(
      running.map(async ({ thread }) => {
        try {
          return await thread.stop();
        } finally {
          await Thread.terminate(thread);
        }
      }),
    );
    const audit = this.account(
      reports,
      running.map((s) => s.worker),
    );
    if (!this.closed) {
      this.closed = true;
      this.bound.binding.close();
    }
    const unrestored = this.programmedRss?.restore() ?? [];
    if (unrestored.length > 0) audit.problems.push(...unrestored);
    audit.ok &&= unrestored.length === 0;
    this.capture?.finish(); // the workers have closed their files
    runningEngines.delete(this);
    return audit;
  }

  private account(
    reports: PromiseSettledResult<ShutdownReport | undefined>[],
    workers: number[],
  ): EngineAudit {
    const problems: string[] = [];
    const done: ShutdownReport[] = [];
    reports.forEach((r, i) => {
      if (r.status === 'rejected') problems.push(`a worker failed to stop: ${String(r.reason)}`);
      else if (r.value) {
        done.push(r.value);
        if (r.value.kind === 'dispatch') this.slots[workers[i]].held = r.value.holdings;
      }
    });
    if (this.closed) return { audited: false, ok: problems.length === 0, problems };
    const bound = this.bound;
    if (bound.kind === 'dispatch' && done.length > 0 && problems.length === 0) {
      problems.push(...bound.binding.audit(this.dispatchHoldings(bound.binding)).problems);
    }
    for (const d of done) if (d.kind === 'xdp') problems.push(...d.audit.problems);
    const audited = bound.kind !== 'steered' && done.length > 0;
    return { audited, ok: problems.length === 0, problems };
  }

  /** Every worker's frames at shutdown: what it held when it stopped, or its whole TX share. */
  private dispatchHoldings(binding: DispatchBinding): WorkerHoldings[] {
    return this.slots.map(
      (s, w) => s.held ?? { frames: binding.txFramesOf(w), violations: 0, problems: [] },
    );
  }
}

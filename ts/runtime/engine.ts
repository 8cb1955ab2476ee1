// The engine: the main thread's control of an interface and its stack workers. It attaches the
// XDP program and opens the sockets, picks how frames reach the workers (each worker on its own
// queue, or a Rust dispatcher spreading one queue over the workers by RSS), starts one stack
// worker per core and loads the app module in each.
import os from 'node:os';
import { spawn, Thread, Worker, type ModuleThread } from 'threads';
import { XdpBinding, type BindingFacts, type XdpBindingOptions } from '../dev/xdp/xdp-binding.js';
import type { BusyPollOptions } from '../dev/xdp/busy-poll.js';
import { planBinding, type BindingPlan } from './binding-plan.js';
import { chooseRss, type RssChoice, type RssMode } from './rss-choice.js';
import { nicRssReading } from '../dev/xdp/nic-info.js';
import { ProgrammedNicRss } from '../dev/xdp/nic-rss-writer.js';
import { DispatchBinding } from '../dev/dispatch/dispatch-binding.js';
import { createSteeringLayout, type SteeringLayout } from '../dev/steering/index.js';
import { nodeXdp } from '../dev/xdp/native.js';
import { needsMultiBuffer } from '../dev/xdp/umem-layout.js';
import { createSharedInterfaceState } from '../iface/interface.js';
import { linkLocalFromMac, type InterfaceConfig } from '../iface/config.js';
import { parseMac } from '../wire/index.js';
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
 * How frames reach the workers: the plan (binding-plan.ts), carried out; steered workers decide
 * ownership by `rss`'s key and RETA.
 */
function bind(
  plan: BindingPlan,
  rss: RssChoice,
  common: Omit<XdpBindingOptions, 'queues'>,
): Binding {
  const { workers, queues } = plan;
  const mtu = common.mtu ?? 1500;
  if (needsMultiBuffer(mtu, common.frameSize ?? 2048, common.headroom ?? 0)) {
    // Chains of descriptors are handled by the device a worker reads itself (XdpDevice); the
    // dispatcher, steering and multi-queue devices move one descriptor per packet.
    if (plan.kind !== 'xdp' || queues > 1) {
      throw Object.assign(
        new Error(
          `MTU ${mtu} needs multi-buffer frames, which run on an interface with one queue and ` +
            `one worker (got ${queues} queues, ${workers} workers)`,
        ),
        { code: 'ENOTSUP' },
      );
    }
  }
  if (plan.kind === 'dispatch') {
    return { kind: 'dispatch', binding: DispatchBinding.open({ ...common, workers }) };
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

export class Engine {
  private closed = false;
  private control: ControlServer | undefined;
  private metrics: MetricsServer | undefined;
  private capture: CaptureFiles | undefined;
  private unregisterStop: (() => void) | undefined;
  private programmedRss: ProgrammedNicRss | undefined;

  private constructor(
    private readonly bound: Binding,
    private readonly threads: ModuleThread<StackWorkerApi>[],
    private readonly rssChoice: RssChoice,
  ) {}

  static async start(opts: EngineOptions): Promise<Engine> {
    // A bad address fails before anything is set up.
    const metricsAddress =
      opts.metrics === undefined ? undefined : parseMetricsAddress(opts.metrics);
    const info = nodeXdp().interfaceInfo(opts.ifname);
    const queues = Math.max(info.rxQueues, 1);
    const workers = opts.workers ?? (opts.softwareRss ? os.availableParallelism() : queues);
    if (!Number.isInteger(workers) || workers < 1) {
      throw Object.assign(new Error(`workers must be a positive integer, got ${workers}`), {
        code: 'EINVAL',
      });
    }
    const capture = opts.pcap === undefined ? undefined : CaptureFiles.open(opts.pcap, workers);
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
    const plan = planBinding(opts.ifname, workers, queues);
    // Decided (and refused, ENOTSUP) before anything is set up; written to the NIC once the
    // engine can put it back.
    const rss = chooseRss(opts.rss, nicRssReading(opts.ifname, info.driver), plan);
    const bound = bind(plan, rss, common);
    const threads: ModuleThread<StackWorkerApi>[] = [];
    const engine = new Engine(bound, threads, rss);
    engine.capture = capture;
    if (opts.handleSignals !== false) engine.unregisterStop = onGracefulStop(() => engine.stop());
    try {
      if (rss.program) {
        const { apply, restore } = rss.program;
        engine.programmedRss = ProgrammedNicRss.write(opts.ifname, apply, restore);
        rss.notes.push(...engine.programmedRss.notes);
      }
      const shared = createSharedInterfaceState();
      // The key and RETA the workers' connect() ports must agree with: the dispatcher's, or the
      // ones the steering layout also uses.
      const ownership =
        bound.kind === 'dispatch'
          ? { key: bound.binding.hasher.key, reta: bound.binding.steering.reta.table }
          : rss;
      for (let w = 0; w < workers; w++) {
        const config: StackWorkerConfig = {
          workerId: w,
          workerCount: workers,
          device: deviceSpec(bound, w, workers),
          iface: { ...opts, mac: info.mac },
          shared,
          rssKey: Uint8Array.from(ownership.key),
          reta: Uint8Array.from(ownership.reta),
          app: opts.app,
          tcp: opts.tcp,
          ephemeralPorts: opts.ephemeralPorts,
          pcap: capture?.workerFile(w),
        };
        const thread = await spawn<StackWorkerApi>(new Worker(workerPath), { timeout: 30000 });
        threads.push(thread);
        await thread.start(config);
      }
      if (opts.control !== false) {
        const target = {
          sockets: () => engine.sockets(),
          stats: () => engine.stats(),
          info: () => ({ pid: process.pid, workers: engine.workers, mode: engine.mode }),
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

  /** Per-worker counters of the interface, drops, UDP and the run loop. */
  stats(): Promise<StackWorkerStats[]> {
    return Promise.all(this.threads.map((t) => t.stats()));
  }

  /** Every worker's sockets (TCP listeners and connections, UDP), as `ss` lists them. */
  async sockets(): Promise<SocketEntry[]> {
    return (await Promise.all(this.threads.map((t) => t.sockets()))).flat();
  }

  /** Everything a metrics scrape reads, from the workers and the main thread's sockets. */
  private async snapshot(): Promise<EngineSnapshot> {
    const workers = await this.stats();
    const bound = this.bound;
    if (bound.kind === 'dispatch') {
      return engineSnapshot(this.mode, workers, bound.binding.xdp, bound.binding.stats());
    }
    return engineSnapshot(this.mode, workers, bound.binding);
  }

  /** Where the metrics are served (http://HOST:PORT/metrics), when the engine serves them. */
  get metricsUrl(): string | undefined {
    return this.metrics?.url;
  }

  /** The control socket's path, when the engine has one. */
  get controlPath(): string | undefined {
    return this.control?.path;
  }

  get workers(): number {
    return this.threads.length;
  }

  /**
   * How the XDP program attached and whether the sockets bound zero-copy: the same facts as
   * {@link Engine.xdp} (bind mode and why, need_wakeup, busy polling included).
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

  /**
   * How the engine is bound to its interface: XDP attach mode, AF_XDP bind mode (zero-copy or
   * copy, and why), need_wakeup, and busy polling as the sockets read it back now (their NAPI ids
   * appear with the first packet). After stop(), the last reading.
   */
  get xdp(): BindingFacts {
    const bound = this.bound;
    return bound.kind === 'dispatch' ? bound.binding.xdp.facts : bound.binding.facts;
  }

  /**
   * Stops every worker, detaches the XDP program and closes the sockets. Idempotent. Returns the
   * frame accounting at shutdown: every frame in exactly one place (steered engines excepted,
   * whose lent frames only settle with all workers running; `audited` is false there).
   */
  async stop(): Promise<EngineAudit> {
    this.unregisterStop?.();
    await this.metrics?.close();
    await this.control?.close();
    const threads = this.threads.splice(0);
    const reports = await Promise.allSettled(
      threads.map(async (t) => {
        try {
          return await t.stop();
        } finally {
          await Thread.terminate(t);
        }
      }),
    );
    const audit = this.account(reports);
    if (!this.closed) {
      this.closed = true;
      this.bound.binding.close();
    }
    const unrestored = this.programmedRss?.restore() ?? [];
    if (unrestored.length > 0) audit.problems.push(...unrestored);
    audit.ok &&= unrestored.length === 0;
    this.capture?.finish(); // the workers have closed their files
    return audit;
  }

  private account(reports: PromiseSettledResult<ShutdownReport | undefined>[]): EngineAudit {
    const problems: string[] = [];
    const done: ShutdownReport[] = [];
    for (const r of reports) {
      if (r.status === 'rejected') problems.push(`a worker failed to stop: ${String(r.reason)}`);
      else if (r.value) done.push(r.value);
    }
    if (this.closed) return { audited: false, ok: problems.length === 0, problems };
    const bound = this.bound;
    if (bound.kind === 'dispatch') {
      const holdings = done.flatMap((d) => (d.kind === 'dispatch' ? [d.holdings] : []));
      if (holdings.length === done.length && done.length > 0) {
        problems.push(...bound.binding.audit(holdings).problems);
      }
    }
    for (const d of done) if (d.kind === 'xdp') problems.push(...d.audit.problems);
    const audited = bound.kind !== 'steered' && done.length > 0;
    return { audited, ok: problems.length === 0, problems };
  }
}

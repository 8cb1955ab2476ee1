// The main thread's side of an interface: our XDP program, one UMEM shared by every queue, and one
// AF_XDP socket per queue. Workers open the data path of their socket by id (XdpDevice).
import {
  nodeXdp,
  type BindMode,
  type InterfaceInfo,
  type NativeUmem,
  type NativeXdpProgram,
  type NativeXskSocket,
  type XdpAttachMode,
  type XskOptions,
} from './native.js';
import {
  allocateUmemMemory,
  DEFAULT_FRAME_SIZE,
  needsMultiBuffer,
  type UmemLayout,
} from './umem-layout.js';
import {
  chooseAttachMode,
  chooseBindMode,
  zeroCopyFailed,
  type BindModeChoice,
  type XdpFeatureReading,
} from './bind-mode.js';
import {
  BUSY_POLL_DEFAULTS,
  DeviceNapiKnobs,
  busyPollNotes,
  busyPollOptions,
  type BusyPollFacts,
  type BusyPollOptions,
} from './busy-poll.js';

export interface XdpBindingOptions {
  ifname: string;
  /** Queues to bind; default every RX queue of the interface. */
  queues?: number[];
  /** Frames per queue (default 8192), each `frameSize` bytes (default 2048). */
  framesPerQueue?: number;
  frameSize?: 2048 | 4096;
  headroom?: number;
  /**
   * The MTU the engine runs at (default 1500). One that a single frame cannot hold turns on
   * multi-buffer frames (`facts.multiBuffer`): the sockets bind with XDP_USE_SG, the XDP program
   * is loaded as taking multi-buffer packets, and frames default to 4096 bytes.
   */
  mtu?: number;
  /**
   * AF_XDP bind mode. Default auto: zero-copy where the driver offers xsk-zerocopy (netdev
   * netlink) and the program runs in native mode, else copy; copy too when a zero-copy bind
   * fails, with the reason in `facts.bindModeWhy`.
   */
  bindMode?: BindMode;
  /**
   * XDP attach mode (default auto: native where the driver's xdp-features have basic and
   * redirect, generic where they say it has not, native-else-generic where the kernel does not say).
   */
  xdpMode?: XdpAttachMode;
  /** Replace a foreign XDP program instead of failing. */
  force?: boolean;
  ringSize?: number;
  needWakeup?: boolean;
  /**
   * Busy polling (busy-poll.ts): SO_PREFER_BUSY_POLL, SO_BUSY_POLL and SO_BUSY_POLL_BUDGET on
   * each socket and the device's napi_defer_hard_irqs and gro_flush_timeout, put back on close.
   * true for the defaults, a number for SO_BUSY_POLL's microseconds.
   */
  busyPoll?: boolean | number | BusyPollOptions;
  /**
   * The driver's XDP features as the netdev family reported them (nicXdpFeatures), where the
   * caller has them already; asked of the kernel otherwise. 'auto' picks the bind mode by them.
   */
  xdpFeatures?: XdpFeatureReading;
  /** The engine's addresses: frames for these are redirected to the sockets. */
  ipv4?: string[];
  ipv6?: string[];
}

/** Everything a worker needs to drive one queue; plain data for workerData. */
export interface QueueAssignment {
  umem: UmemLayout;
  socketId: number;
  queue: number;
  firstFrame: number;
  frameCount: number;
}

/**
 * Kernel ring entries per socket. Half of a queue's frames wait in the fill ring, so a worker that
 * is off the CPU for a few milliseconds (two cores shared with the load) loses nothing.
 */
const DEFAULT_RING_SIZE = 4096;

/** The XSKMAP size the addon picks itself (more queues than most NICs have). */
const DEFAULT_MAX_QUEUES = 64;

/** How the binding came up; kept after close() for reports. */
export interface BindingFacts {
  /** Where the XDP program runs: in the driver (native) or on the kernel's skb path (generic). */
  xdpMode: 'native' | 'generic';
  zeroCopy: boolean;
  queues: number;
  /** The AF_XDP mode the sockets are bound in. */
  bindMode: 'zerocopy' | 'copy';
  /** Why that mode: what was asked for, what the driver offers, or why zero-copy failed. */
  bindModeWhy: string;
  needWakeup: boolean;
  /** false when not asked for. */
  busyPoll: BusyPollFacts | false;
  /** Packets may span several UMEM frames (XDP_USE_SG), because the MTU needs it. */
  multiBuffer: boolean;
}

/** Busy polling as a binding asked for it, and how far it got. */
interface BusyPollState {
  options: Required<BusyPollOptions>;
  knobs?: DeviceNapiKnobs;
  /** Why the sockets have no busy-poll options (a kernel without CONFIG_NET_RX_BUSY_POLL). */
  unsupported?: string;
  /** Why the device knobs were left alone or put back early (no NAPI for busy polling to run). */
  knobsWithdrawn?: string;
  /** Watches the first packets for a NAPI id (watchBusyPoll), until it has decided. */
  watch?: NodeJS.Timeout;
}

/** How often a binding looks at its sockets' NAPI ids until it has seen packets. */
const BUSY_POLL_WATCH_MS = 100;

/**
 * The mode to attach with: generic where the driver's features rule native out; otherwise as
 * asked, so that 'auto' still falls back to generic if the driver refuses the program.
 */
function attachMode(
  requested: XdpAttachMode,
  driver: string,
  features: XdpFeatureReading,
): XdpAttachMode {
  const choice = chooseAttachMode(requested, driver, features);
  return choice.mode === 'generic' ? 'generic' : requested;
}

export class XdpBinding {
  readonly info: InterfaceInfo;
  readonly umemLayout: UmemLayout;
  readonly sockets: NativeXskSocket[] = [];
  private readonly framesPerQueue: number;
  private bindChoice: BindModeChoice = { mode: 'auto', why: '' };
  private busy: BusyPollState | undefined;
  private lastFacts: BindingFacts | undefined;

  private constructor(
    info: InterfaceInfo,
    layout: UmemLayout,
    private readonly umem: NativeUmem,
    readonly program: NativeXdpProgram,
    framesPerQueue: number,
  ) {
    this.info = info;
    this.umemLayout = layout;
    this.framesPerQueue = framesPerQueue;
  }

  static open(opts: XdpBindingOptions): XdpBinding {
    const xdp = nodeXdp();
    const info = xdp.interfaceInfo(opts.ifname);
    const features = opts.xdpFeatures ?? xdp.nicXdpFeatures(opts.ifname);
    const busyPoll = busyPollOptions(opts.busyPoll);
    const queues = opts.queues ?? Array.from({ length: Math.max(info.rxQueues, 1) }, (_, i) => i);
    const headroom = opts.headroom ?? 0;
    // Multi-buffer only where the MTU needs it: up to that, today's one frame per packet.
    const multiBuffer = needsMultiBuffer(
      opts.mtu ?? 1500,
      opts.frameSize ?? DEFAULT_FRAME_SIZE,
      headroom,
    );
    // 4 KiB frames for jumbo MTUs: 9000 bytes take three buffers instead of five.
    const frameSize = opts.frameSize ?? (multiBuffer ? 4096 : DEFAULT_FRAME_SIZE);
    const framesPerQueue = opts.framesPerQueue ?? 8192;
    const frameCount = framesPerQueue * queues.length;
    const memory = allocateUmemMemory(frameSize, frameCount);
    const umem = new xdp.Umem(new Uint8Array(memory), { frameSize, frameCount, headroom });
    const layout: UmemLayout = {
      memory,
      offset: umem.offset,
      frameSize,
      frameCount,
      headroom: umem.headroom,
      multiBuffer,
      maxFrameLen: multiBuffer ? (opts.mtu ?? 1500) + 14 : undefined,
    };
    let program: NativeXdpProgram | undefined;
    const binding: { value?: XdpBinding } = {};
    try {
      program = xdp.XdpProgram.attach(opts.ifname, {
        mode: attachMode(opts.xdpMode ?? 'auto', info.driver, features),
        force: opts.force ?? false,
        // The XSKMAP is indexed by queue: room for the highest one bound.
        maxQueues: Math.max(DEFAULT_MAX_QUEUES, ...queues.map((q) => q + 1)),
        frags: multiBuffer,
      });
      for (const a of opts.ipv4 ?? []) program.addIpv4(a);
      for (const a of opts.ipv6 ?? []) program.addIpv6(a);
      const bound = new XdpBinding(info, layout, umem, program, framesPerQueue);
      binding.value = bound;
      bound.bindChoice = chooseBindMode(
        opts.bindMode ?? 'auto',
        program.mode,
        info.driver,
        features,
      );
      if (busyPoll) {
        const options = { ...BUSY_POLL_DEFAULTS, ...busyPoll };
        bound.busy = { options };
        if (program.mode === 'generic') {
          bound.busy.knobsWithdrawn =
            'napi_defer_hard_irqs and gro_flush_timeout left alone, and no idle syscalls: generic ' +
            'XDP gives the sockets no NAPI id, so busy polling has no NAPI to run and deferring ' +
            'would only delay packets';
        } else {
          bound.busy.knobs = DeviceNapiKnobs.apply(
            opts.ifname,
            options.deferHardIrqs,
            options.groFlushTimeoutNs,
          );
          bound.busy.watch = setInterval(() => bound.watchBusyPoll(), BUSY_POLL_WATCH_MS);
          bound.busy.watch.unref();
        }
      }
      const socketOptions = (queue: number): XskOptions => ({
        ifname: opts.ifname,
        queue,
        needWakeup: opts.needWakeup ?? true,
        rxSize: opts.ringSize ?? DEFAULT_RING_SIZE,
        txSize: opts.ringSize ?? DEFAULT_RING_SIZE,
        fillSize: opts.ringSize ?? DEFAULT_RING_SIZE,
        compSize: opts.ringSize ?? DEFAULT_RING_SIZE,
        multiBuffer,
        busyPoll:
          bound.busy && !bound.busy.unsupported
            ? {
                preferBusyPoll: bound.busy.options.prefer,
                usecs: bound.busy.options.usecs,
                budget: bound.busy.options.budget,
              }
            : undefined,
      });
      for (const queue of queues) {
        const socket =
          bound.sockets.length === 0
            ? bound.bindFirst(umem, socketOptions(queue), opts.bindMode ?? 'auto')
            : // The UMEM's first socket settled the mode; the others share it.
              xdp.XskSocket.create(umem, { ...socketOptions(queue), mode: bound.sockets[0].mode });
        bound.sockets.push(socket);
        program.setSocket(queue, socket.fd);
        if (bound.busy?.knobsWithdrawn && socket.busyPoll) socket.setIdleSyscalls(false);
      }
      bound.lastFacts = bound.readFacts();
      return bound;
    } catch (err) {
      if (binding.value) binding.value.close();
      else {
        program?.detach();
        umem.close();
      }
      throw err;
    }
  }

  /**
   * The UMEM's first socket, in the chosen mode; in copy mode after all where 'auto' chose
   * zero-copy and the bind failed, and without busy polling where the kernel has none
   * (ENOPROTOOPT), the reason kept either way.
   */
  private bindFirst(umem: NativeUmem, options: XskOptions, requested: BindMode): NativeXskSocket {
    const xdp = nodeXdp();
    for (;;) {
      try {
        return xdp.XskSocket.create(umem, { ...options, mode: this.bindChoice.mode });
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (this.busy && options.busyPoll && code === 'ENOPROTOOPT') {
          this.busy.unsupported = (err as Error).message;
          options = { ...options, busyPoll: undefined };
        } else if (requested === 'auto' && this.bindChoice.mode === 'zerocopy') {
          this.bindChoice = { mode: 'copy', why: zeroCopyFailed(this.bindChoice, err) };
        } else {
          throw err;
        }
      }
    }
  }

  /**
   * How the binding came up: modes, and busy polling as the sockets read it back now (their NAPI
   * ids appear with the first packet). After close(), the last reading.
   */
  get facts(): BindingFacts {
    if (this.sockets.length > 0) this.lastFacts = this.readFacts();
    return this.lastFacts ?? this.readFacts();
  }

  private readFacts(): BindingFacts {
    const first = this.sockets[0];
    const zeroCopy = this.sockets.length > 0 && this.sockets.every((s) => s.zeroCopy);
    let why = this.bindChoice.why;
    if (this.bindChoice.mode === 'auto') why += zeroCopy ? ': zero-copy' : ': copy mode';
    return {
      xdpMode: this.program.mode,
      zeroCopy,
      queues: this.sockets.length,
      bindMode: zeroCopy ? 'zerocopy' : 'copy',
      bindModeWhy: why,
      needWakeup: first?.needWakeup ?? false,
      busyPoll: this.busy ? this.busyPollFacts() : false,
      multiBuffer: this.umemLayout.multiBuffer === true,
    };
  }

  /**
   * Busy polling runs the NAPI whose id a socket learnt from its packets. A driver that registers
   * its XDP RX queues without one (veth) never gives one: then nothing busy-polls the NAPI, and
   * napi_defer_hard_irqs with gro_flush_timeout only hold its packets back (by up to the timeout:
   * 200 µs on every round trip by default). So once a socket has received packets without a NAPI
   * id, the knobs go back to what they were and the data path stops its idle syscalls (which
   * would poll nothing); once every socket has one, watching stops.
   */
  private watchBusyPoll(): void {
    const busy = this.busy;
    if (!busy?.watch) return;
    try {
      const polling = this.sockets.filter((s) => s.busyPoll);
      const seen = polling.map((s) => ({
        packets: s.stats().rxPackets,
        napiId: s.busyPollSettings().napiId,
      }));
      const without = seen.find((s) => s.packets > 0 && s.napiId === 0);
      if (without) {
        const problems = busy.knobs?.restore() ?? [];
        for (const s of polling) s.setIdleSyscalls(false);
        busy.knobsWithdrawn =
          `napi_defer_hard_irqs and gro_flush_timeout put back, and the data path's idle ` +
          `syscalls stopped, after ${without.packets} packets without a NAPI id: nothing can ` +
          `busy-poll ${this.info.driver || 'this driver'}'s NAPI, so deferring it would only ` +
          `delay packets${problems.length ? ` (${problems.join('; ')})` : ''}`;
      } else if (seen.length > 0 && !seen.every((s) => s.napiId > 0)) {
        return;
      }
    } catch {
      // The binding is closing; close() puts the knobs back.
    }
    clearInterval(busy.watch);
    busy.watch = undefined;
  }

  private busyPollFacts(): BusyPollFacts {
    const busy = this.busy!;
    const polling = this.sockets.filter((s) => s.busyPoll);
    const settings = polling.map((s) => s.busyPollSettings());
    const knobs = busy.knobs?.knobs;
    const none = { value: null, previous: null };
    const facts = {
      usecs: settings.length > 0 ? Math.min(...settings.map((s) => s.usecs)) : 0,
      preferBusyPoll: settings.length > 0 && settings.every((s) => s.preferBusyPoll),
      budget: settings.length > 0 ? busy.options.budget : 0,
      napiDeferHardIrqs: knobs?.napiDeferHardIrqs ?? none,
      groFlushTimeoutNs: knobs?.groFlushTimeoutNs ?? none,
      napiIds: settings.map((s) => s.napiId),
    };
    const notes = busy.unsupported
      ? [busy.unsupported]
      : busyPollNotes(
          this.info.driver,
          facts,
          busy.options.usecs,
          settings.map((s) => s.budget),
          polling.map((s) => s.stats().rxPackets),
        );
    if (busy.knobsWithdrawn) notes.push(busy.knobsWithdrawn);
    return { ...facts, notes };
  }

  /** The work of queue number `index` (position in `sockets`), for a worker. */
  assignment(index: number): QueueAssignment {
    const socket = this.sockets[index];
    return {
      umem: this.umemLayout,
      socketId: socket.id,
      queue: socket.queue,
      firstFrame: index * this.framesPerQueue,
      frameCount: this.framesPerQueue,
    };
  }

  /**
   * The queues worker `worker` of `workers` drives: every `workers`-th socket from its own index,
   * so that with fewer workers than queues every queue still has a worker.
   */
  workerQueues(worker: number, workers: number): QueueAssignment[] {
    const share: QueueAssignment[] = [];
    for (let i = worker; i < this.sockets.length; i += workers) share.push(this.assignment(i));
    return share;
  }

  /**
   * Detaches the program, closes the sockets and the UMEM, and puts the device's busy-poll knobs
   * back. Idempotent.
   */
  close(): void {
    if (this.busy?.watch) {
      clearInterval(this.busy.watch);
      this.busy.watch = undefined;
    }
    try {
      if (this.sockets.length > 0) this.lastFacts = this.readFacts();
    } catch {
      // A report that cannot be read must not keep the binding from closing.
    }
    try {
      for (const s of this.sockets.splice(0)) {
        try {
          this.program.clearSocket(s.queue);
        } catch {
          // The program may already be gone; the socket still closes.
        }
        s.close();
      }
      this.program.detach();
      this.umem.close();
    } finally {
      const problems = this.busy?.knobs?.restore() ?? [];
      if (problems.length > 0) {
        process.emitWarning(problems.join('; '), { code: 'XDPNET_BUSY_POLL' });
      }
    }
  }
}

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
} from './native.js';
import { allocateUmemMemory, type UmemLayout } from './umem-layout.js';

export interface XdpBindingOptions {
  ifname: string;
  /** Queues to bind; default every RX queue of the interface. */
  queues?: number[];
  /** Frames per queue (default 8192), each `frameSize` bytes (default 2048). */
  framesPerQueue?: number;
  frameSize?: 2048 | 4096;
  headroom?: number;
  /** AF_XDP bind mode (default auto: zero-copy if the driver can, else copy). */
  bindMode?: BindMode;
  /** XDP attach mode (default auto: native, else generic). */
  xdpMode?: XdpAttachMode;
  /** Replace a foreign XDP program instead of failing. */
  force?: boolean;
  ringSize?: number;
  needWakeup?: boolean;
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
  xdpMode: 'native' | 'generic';
  zeroCopy: boolean;
  queues: number;
}

export class XdpBinding {
  readonly info: InterfaceInfo;
  facts: BindingFacts = { xdpMode: 'native', zeroCopy: false, queues: 0 };
  readonly umemLayout: UmemLayout;
  readonly sockets: NativeXskSocket[] = [];
  private readonly framesPerQueue: number;

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
    const queues = opts.queues ?? Array.from({ length: Math.max(info.rxQueues, 1) }, (_, i) => i);
    const frameSize = opts.frameSize ?? 2048;
    const framesPerQueue = opts.framesPerQueue ?? 8192;
    const frameCount = framesPerQueue * queues.length;
    const memory = allocateUmemMemory(frameSize, frameCount);
    const umem = new xdp.Umem(new Uint8Array(memory), {
      frameSize,
      frameCount,
      headroom: opts.headroom ?? 0,
    });
    const layout: UmemLayout = {
      memory,
      offset: umem.offset,
      frameSize,
      frameCount,
      headroom: umem.headroom,
    };
    let program: NativeXdpProgram | undefined;
    const binding: { value?: XdpBinding } = {};
    try {
      program = xdp.XdpProgram.attach(opts.ifname, {
        mode: opts.xdpMode ?? 'auto',
        force: opts.force ?? false,
        // The XSKMAP is indexed by queue: room for the highest one bound.
        maxQueues: Math.max(DEFAULT_MAX_QUEUES, ...queues.map((q) => q + 1)),
      });
      for (const a of opts.ipv4 ?? []) program.addIpv4(a);
      for (const a of opts.ipv6 ?? []) program.addIpv6(a);
      binding.value = new XdpBinding(info, layout, umem, program, framesPerQueue);
      for (const queue of queues) {
        const socket = xdp.XskSocket.create(umem, {
          ifname: opts.ifname,
          queue,
          mode: opts.bindMode ?? 'auto',
          needWakeup: opts.needWakeup ?? true,
          rxSize: opts.ringSize ?? DEFAULT_RING_SIZE,
          txSize: opts.ringSize ?? DEFAULT_RING_SIZE,
          fillSize: opts.ringSize ?? DEFAULT_RING_SIZE,
          compSize: opts.ringSize ?? DEFAULT_RING_SIZE,
        });
        binding.value.sockets.push(socket);
        program.setSocket(queue, socket.fd);
      }
      binding.value.facts = {
        xdpMode: program.mode,
        zeroCopy: binding.value.sockets.every((s) => s.zeroCopy),
        queues: queues.length,
      };
      return binding.value;
    } catch (err) {
      if (binding.value) binding.value.close();
      else {
        program?.detach();
        umem.close();
      }
      throw err;
    }
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

  /** Detaches the program and closes the sockets and the UMEM. Idempotent. */
  close(): void {
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
  }
}

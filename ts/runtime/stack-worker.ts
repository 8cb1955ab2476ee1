// A stack worker: one worker_thread running a full stack shard (device, interface, transports)
// and the user's app module on top of it. Control plane through threads.js; packets never go
// through postMessage.
import { pathToFileURL } from 'node:url';
import { expose } from 'threads/worker';
import type { FrameAccount, FrameDevice } from '../dev/frame-device.js';
import { XdpDevice } from '../dev/xdp/xdp-device.js';
import { MultiQueueDevice } from '../dev/xdp/multi-queue-device.js';
import type { QueueAssignment } from '../dev/xdp/xdp-binding.js';
import { DispatchedDevice } from '../dev/dispatch/dispatched-device.js';
import { SteeredDevice } from '../dev/steering/index.js';
import { PcapTap, PcapWriter } from '../dev/pcap/index.js';
import { Interface } from '../iface/interface.js';
import { UdpStack } from '../socket/udp/udp-stack.js';
import { TcpStack } from '../socket/tcp/tcp-stack.js';
import { TcpState } from '../socket/tcp/state.js';
import { Reta, ToeplitzHasher, type RetaSize } from '../rss/index.js';
import { threadCpuSeconds } from '../worker/thread-cpu.js';
import { drainDevice } from '../worker/loops/packet-loop.js';
import type { FrameAudit } from '../dev/xdp/xdp-device.js';
import type { WorkerHoldings } from '../dev/dispatch/dispatched-device.js';
import { runWorkerStopHooks, setWorkerStack, type WorkerStack } from '../api/worker-stack.js';
import { socketReport, type SocketEntry } from './socket-report.js';
import { openFlowTuples } from './open-flows.js';
import { StackLoop, type PollTarget } from './stack-loop.js';
import type {
  DeviceSpec,
  QueueRings,
  StackWorkerConfig,
  StackWorkerStats,
} from './stack-config.js';

interface Running {
  stack: WorkerStack;
  /** The RETA connect() picks ports by, shared by TCP and UDP (a worker-count change rewrites it). */
  reta: Reta;
  opened: OpenDevice;
  loop: StackLoop;
  cpu0: number;
  capture?: Capture;
}

/** A pcap capture of the stack's frames, and the timer that keeps its file current. */
interface Capture {
  writer: PcapWriter;
  timer: NodeJS.Timeout;
}

/**
 * How often a capture's buffered records go to its file: the file lags the wire by a second at
 * most, so it can be read while the engine runs. The packet path itself makes no system call.
 */
const CAPTURE_FLUSH_MS = 1000;

/**
 * How many frames full receive batches may bring in before the TCP timers run anyway (see the
 * poll target): the default fill target, i.e. what the kernel can have waiting in the ring.
 */
const TIMERS_DEFERRED_FRAMES = 4096;

function startCapture(file: string): Capture {
  const writer = new PcapWriter(file);
  const timer = setInterval(() => writer.flush(), CAPTURE_FLUSH_MS);
  timer.unref();
  return { writer, timer };
}

function stopCapture(capture: Capture | undefined): void {
  if (!capture) return;
  clearInterval(capture.timer);
  capture.writer.close();
}

let running: Running | undefined;

/** A RETA entry no worker has: connect() finds no port there (a bucket changing hands). */
const NO_WORKER = 0xff;

/** How a worker's frames stood when it stopped, for the engine's frame accounting. */
export type ShutdownReport =
  | { kind: 'xdp'; audit: FrameAudit }
  | { kind: 'dispatch'; holdings: WorkerHoldings }
  | { kind: 'steered' };

interface OpenDevice {
  device: FrameDevice;
  park(ms: number): void;
  /** Where every frame of the worker's own AF_XDP queues is now (not for dispatched devices). */
  frameAccount?(): FrameAccount;
  /** Entries in the kernel's rings of each AF_XDP socket the worker reads, now. */
  rings?(): QueueRings[];
  /** Drains what is in flight and reports where every frame is; then closes the data path. */
  shutdown(): ShutdownReport;
}

/**
 * How long a worker may park. Not at all while its TX ring holds frames: in copy mode the kernel
 * sends only a small batch (32 frames on veth) per wake-up, so the rest would wait out the park
 * (10 ms a turn) while TCP's bursts (10,000 SYNs) ran the free frames out.
 */
function parkFor(device: XdpDevice | MultiQueueDevice, ms: number): number {
  return device.txInFlight > 0 ? 0 : ms;
}

/** The queues a worker reads itself, as one device: its only queue's, or all of them together. */
function openQueues(queues: QueueAssignment[], batch: number): XdpDevice | MultiQueueDevice {
  return queues.length === 1
    ? new XdpDevice({ ...queues[0], batch })
    : new MultiQueueDevice(queues, batch);
}

/** Each queue's kernel rings now, by queue number. One native call per queue. */
function ringsOf(queues: QueueAssignment[], device: XdpDevice | MultiQueueDevice): QueueRings[] {
  const devices = device instanceof MultiQueueDevice ? device.queues : [device];
  return devices.map((d, i) => ({ queue: queues[i].queue, ...d.ringOccupancy() }));
}

function openDevice(spec: DeviceSpec, workerId: number): OpenDevice {
  switch (spec.kind) {
    case 'xdp': {
      const device = openQueues(spec.queues, spec.batch);
      return {
        device,
        park: (ms) => void device.waitReadable(parkFor(device, ms)),
        frameAccount: () => device.frameAccount(),
        rings: () => ringsOf(spec.queues, device),
        shutdown() {
          drainDevice(device);
          const audit = device.audit();
          device.close();
          return { kind: 'xdp', audit };
        },
      };
    }
    case 'steered': {
      // Frames lent between workers settle only with every worker's help (SteeredWorkers.audit);
      // a single worker cannot account for them alone.
      const queue = openQueues(spec.queues, spec.batch);
      const device = new SteeredDevice(queue, spec.layout, workerId);
      return {
        device,
        park: (ms) => void device.waitReadable(parkFor(queue, ms)),
        // The queue device's books: a frame lent to another worker counts as held by the app
        // until it comes back, so this worker's places still add up to its frames.
        frameAccount: () => queue.frameAccount(),
        rings: () => ringsOf(spec.queues, queue),
        shutdown() {
          queue.close();
          return { kind: 'steered' };
        },
      };
    }
    case 'dispatch': {
      const device = new DispatchedDevice(spec.config);
      return {
        device,
        park: (ms) => void device.waitForWork(ms),
        shutdown() {
          drainDevice(device);
          const holdings = device.holdings();
          device.close();
          return { kind: 'dispatch', holdings };
        },
      };
    }
  }
}

/** States in which our FIN (or data before it) may still be unacknowledged. */
function finPending(state: TcpState): boolean {
  return (
    state === TcpState.SynReceived ||
    state === TcpState.Established ||
    state === TcpState.CloseWait ||
    state === TcpState.FinWait1 ||
    state === TcpState.Closing ||
    state === TcpState.LastAck
  );
}

/**
 * The graceful part of a stop: listeners close (SYNs get a RST from here on; connections not yet
 * accepted are reset, as Linux does when a listener closes), every connection closes as close(2)
 * would (a FIN after its queued data, or a RST when unread data is left: RFC 2525 2.17), and the
 * loop keeps running for up to `graceMs` until each FIN was acknowledged, so that what the stack
 * then drops quietly is only TIME-WAIT and FIN-WAIT-2 state the peer no longer needs from us.
 */
async function closeGracefully(tcp: TcpStack, graceMs: number): Promise<void> {
  for (const l of [...tcp.allListeners()]) tcp.closeListener(l);
  for (const c of [...tcp.allConnections()]) c.tcb.close();
  const deadline = Date.now() + graceMs;
  const pending = (): boolean => {
    for (const c of tcp.allConnections()) if (finPending(c.tcb.state)) return true;
    return false;
  };
  while (pending() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  // A FIN that was acknowledged leaves nothing the peer waits for: no RST after it.
  for (const c of [...tcp.allConnections()]) if (!finPending(c.tcb.state)) c.tcb.abortQuietly();
}

function counters(obj: object): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(obj)) if (typeof v === 'number') out[k] = v;
  return out;
}

const api = {
  async start(config: StackWorkerConfig): Promise<void> {
    if (running)
      throw Object.assign(new Error('stack worker already started'), { code: 'EISCONN' });
    const opened = openDevice(config.device, config.workerId);
    const { park } = opened;
    const capture = config.pcap === undefined ? undefined : startCapture(config.pcap);
    // The stack sees the device through the tap, so the capture has what the stack had.
    const device = capture ? new PcapTap(opened.device, capture.writer) : opened.device;
    const iface = new Interface(device, config.iface, {
      neighbours: config.shared.neighbours,
      pmtu: config.shared.pmtu,
      addressStates: config.shared.addressStates,
      workerId: config.workerId,
    });
    const reta = new Reta(config.workerCount, config.reta.length as RetaSize);
    reta.table.set(config.reta);
    const steering = { hasher: new ToeplitzHasher(config.rssKey), reta };
    const udp = new UdpStack(iface, {
      workerId: config.workerId,
      workerCount: config.workerCount,
      steering,
    });
    const tcp = new TcpStack(iface, {
      workerId: config.workerId,
      workerCount: config.workerCount,
      steering,
      config: config.tcp,
      ephemeralRange: config.ephemeralPorts,
      cookieSecret: config.cookieSecret,
    });
    const stack: WorkerStack = {
      workerId: config.workerId,
      workerCount: config.workerCount,
      iface,
      udp,
      tcp,
    };
    /** Frames read by the current run of full receive batches (0 while the ring keeps up). */
    let backlogRead = 0;
    const target: PollTarget = {
      // One pass: one receive batch, ending with one flush (iface.poll), then the due TCP timers
      // (delayed ACK 40 ms, RTO >= 200 ms; a heap peek when idle) once the ring is drained. TCP
      // defers its ACKs past the app's callbacks for the batch (they run between passes);
      // settle() sends them, with whatever the callbacks and timers wrote, in one more flush.
      poll: () => {
        const now = tcp.clock.now();
        let received: number;
        tcp.beginBatch(now);
        try {
          received = iface.poll(now);
        } finally {
          tcp.endBatch();
        }
        // Input before timers, as Linux's softirq reads the ring before its timers fire: after
        // a stall (the thread descheduled, long app callbacks) the ACK that stops a
        // retransmission timer may be waiting in the ring. So timers wait while full batches
        // come in, until this run of full batches has read as many frames as the ring can hold:
        // whatever waited when the stall ended has been read by then. Counted in frames, not
        // milliseconds: the app's callbacks between passes can take longer than the RTO's
        // margin (20,000 connections ended at once on a loaded machine: 80-170 ms a turn), and
        // a time limit let the timers fire while those ACKs still waited (tens of spurious RTOs).
        if (received >= device.batch) {
          backlogRead += received;
          if (backlogRead < TIMERS_DEFERRED_FRAMES) return received;
        }
        backlogRead = 0;
        // Due timers count as work: the loop keeps polling (not parking) until all have run.
        return received + tcp.runTimers(now, device.batch);
      },
      tick: () => iface.tick(),
      park,
      settle: () => {
        tcp.settle();
        iface.flush();
      },
    };
    const loop = new StackLoop(target, device.batch);
    running = { stack, reta, opened, loop, cpu0: threadCpuSeconds(), capture };
    setWorkerStack(stack);
    loop.start();
    if (config.app) {
      const url = config.app.startsWith('file:') ? config.app : pathToFileURL(config.app).href;
      await import(url);
    }
  },

  stats(): StackWorkerStats {
    if (!running) throw Object.assign(new Error('stack worker not started'), { code: 'ENOTCONN' });
    const { stack, loop } = running;
    return {
      workerId: stack.workerId,
      iface: counters(stack.iface.stats),
      drops: stack.iface.dropCounts(),
      udp: counters(stack.udp.stats),
      tcp: counters(stack.tcp.stats),
      tcpExt: counters(stack.tcp.ctx.stats),
      loop: {
        passes: loop.passes,
        parks: loop.backoff.parks,
        naps: loop.backoff.naps,
        cpuSeconds: threadCpuSeconds() - running.cpu0,
      },
      frames: running.opened.frameAccount?.(),
      rings: running.opened.rings?.(),
    };
  },

  /** This worker's sockets (TCP listeners and connections, UDP), as `ss` lists them. */
  sockets(): SocketEntry[] {
    if (!running) throw Object.assign(new Error('stack worker not started'), { code: 'ENOTCONN' });
    return socketReport(running.stack);
  },

  /**
   * A worker-count change, first step (Engine.resize): from now on this worker opens only the
   * new flows that `next` (the RETA about to take effect) gives it, and connect() picks only
   * ports whose bucket stays its own under both tables, so nothing it opens from here on needs
   * a pin. Returns the flows it has open, which the engine pins here when their bucket moves.
   */
  prepareResize(next: Uint8Array): Uint8Array[] {
    if (!running) throw Object.assign(new Error('stack worker not started'), { code: 'ENOTCONN' });
    const { stack, reta } = running;
    stack.tcp.ownNewFlowsBy(next);
    const table = reta.table;
    for (let b = 0; b < table.length; b++) if (table[b] !== next[b]) table[b] = NO_WORKER;
    return openFlowTuples(stack);
  },

  /**
   * Second step, once the dispatcher steers by `table` (or, after a failed first step, still
   * steers by it): new flows and connect() go by it.
   */
  commitResize(table: Uint8Array): void {
    if (!running) throw Object.assign(new Error('stack worker not started'), { code: 'ENOTCONN' });
    running.stack.tcp.ownNewFlowsBy(table);
    running.reta.table.set(table);
  },

  /** The flows this worker has open (see open-flows.ts), for dropping the pins of closed ones. */
  openFlows(): Uint8Array[] {
    if (!running) throw Object.assign(new Error('stack worker not started'), { code: 'ENOTCONN' });
    return openFlowTuples(running.stack);
  },

  /**
   * Stops the loop, drops what waits in the interface, and closes the device; the app's sockets
   * go with it: each gets its FIN (a RST with unread data), acknowledged within `graceMs` or
   * reset. Reports where every frame was, for the engine's frame accounting.
   */
  async stop(graceMs = 1000): Promise<ShutdownReport | undefined> {
    if (!running) return undefined;
    const { loop, stack, opened, capture } = running;
    running = undefined;
    runWorkerStopHooks(); // the app's descriptors close (FINs go out) while the loop still runs
    await closeGracefully(stack.tcp, graceMs);
    await loop.stop();
    setWorkerStack(undefined);
    stack.tcp.close();
    stack.iface.close();
    const report = opened.shutdown();
    stopCapture(capture);
    return report;
  },
};

export type StackWorkerApi = typeof api;

expose(api);

// The control-plane state a loop worker (port, RSS or steered) keeps beside its data path: the
// device once open()ed, whether a loop runs, and the stop request; and the timing of one run.
// Called once per control call: the per-packet work stays in the loop and its runner.
import { threadCpuSeconds } from './thread-cpu.js';

/** What a run took: wall-clock seconds and CPU time of the worker thread. */
export interface LoopRun<T> {
  value: T;
  seconds: number;
  threadCpuSeconds: number;
}

/** Runs a loop until `stopped()`, the loop is done or `deadline` (performance.now() time). */
export type LoopRunner<T> = (deadline: number, stopped: () => boolean) => Promise<T>;

export class LoopWorkerState<D> {
  private device: D | undefined;
  private running = false;
  private stopRequested = false;
  private readonly stopped = (): boolean => this.stopRequested;

  /** `role` names the worker in errors ("port worker"). */
  constructor(private readonly role: string) {}

  /** Keeps the device `open` makes; EISCONN if one is open already. */
  open(open: () => D): void {
    if (this.device)
      throw Object.assign(new Error(`${this.role} already open`), { code: 'EISCONN' });
    this.device = open();
  }

  /** The open device; EBADF before open(). */
  requireDevice(): D {
    if (!this.device) {
      throw Object.assign(new Error(`${this.role} has no device; call open() first`), {
        code: 'EBADF',
      });
    }
    return this.device;
  }

  /** The open device while no loop runs on it; EBUSY with `busy` as the message otherwise. */
  idleDevice(busy: string): D {
    const device = this.requireDevice();
    if (this.running) throw Object.assign(new Error(busy), { code: 'EBUSY' });
    return device;
  }

  get isRunning(): boolean {
    return this.running;
  }

  /**
   * The worker's one loop: `runner` runs it until stop(), the loop is done, or `seconds` (an hour
   * when not given) have passed; measures wall-clock and thread CPU time around it.
   */
  async run<T>(seconds: number | undefined, runner: LoopRunner<T>): Promise<LoopRun<T>> {
    this.idleDevice('a loop is already running');
    this.stopRequested = false;
    this.running = true;
    const started = performance.now();
    const cpu0 = threadCpuSeconds();
    let value: T;
    try {
      value = await runner(started + (seconds ?? 3600) * 1000, this.stopped);
    } finally {
      this.running = false;
    }
    return {
      value,
      seconds: (performance.now() - started) / 1000,
      threadCpuSeconds: threadCpuSeconds() - cpu0,
    };
  }

  /** Asks the running loop to end; its run() then resolves. */
  stop(): void {
    this.stopRequested = true;
  }

  /** Forgets the device and returns it, for the caller to close. */
  close(): D | undefined {
    const device = this.device;
    this.device = undefined;
    return device;
  }
}

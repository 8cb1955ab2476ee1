// The run loop of a stack worker: poll the interface in batches, run its timers, and back off
// when idle (ts/worker/idle-backoff.ts), giving the Node event loop a turn at least every few
// milliseconds so the app's timers, promises and I/O keep running.
import { defaultBackoff, IdleAction, IdleBackoff } from '../worker/idle-backoff.js';
import { monotonicNow } from '../dev/memory/clock.js';

export interface PollTarget {
  /** One batch of work; returns frames handled. */
  poll(): number;
  /** Timers (neighbour retries, reassembly, transport timers). */
  tick(): void;
  /** Blocks until packets may be there, or `ms` passes. */
  park(ms: number): void;
  /**
   * The app's callbacks for the last batch have run: send what they left owed (TCP's deferred
   * ACKs) and what they wrote, in one flush.
   */
  settle(): void;
}

/**
 * A stack never naps to gather fuller batches (the raw packet loops do): much of what it receives
 * waits for an answer (32 echo connections at 100k requests/s look like a stream to the rate
 * estimate), and a nap of up to 200 us before each batch halved that echo rate and doubled its
 * latency. Idle passes still spin briefly, then park.
 */
const STACK_BACKOFF = { ...defaultBackoff, napAbovePps: 0 };

/** Longest run of passes before the event loop gets a turn. */
const SLICE_MS = 2;
/**
 * How often the interface's timers run. Its tick scans the shared neighbour table, so not every
 * pass; retransmission timers of its own are at least this coarse.
 */
const TICK_MS = 10;

export class StackLoop {
  passes = 0;
  private running = false;
  private stopped: (() => void) | undefined;
  private lastTick = 0;
  readonly backoff: IdleBackoff;

  constructor(
    private readonly target: PollTarget,
    batch: number,
  ) {
    this.backoff = new IdleBackoff(batch, STACK_BACKOFF);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    setImmediate(this.slice);
  }

  /** Resolves once the loop has stopped (after the slice in progress). */
  stop(): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => {
      this.stopped = resolve;
      this.running = false;
    });
  }

  private readonly slice = (): void => {
    if (!this.running) {
      this.stopped?.();
      return;
    }
    const target = this.target;
    target.settle();
    const end = monotonicNow() + SLICE_MS;
    let work: number;
    for (;;) {
      const now = monotonicNow();
      if (now - this.lastTick >= TICK_MS) {
        this.lastTick = now;
        target.tick();
      }
      this.passes++;
      work = target.poll();
      if (this.backoff.next(work, now) === IdleAction.Park) {
        target.park(this.backoff.parkMs);
        break;
      }
      // Packets went to the app: let its callbacks (microtasks, 'message' listeners) run now, so
      // their replies go out with the next poll instead of after a park.
      if (work > 0 || now >= end) break;
    }
    // The app's callbacks for this batch are queued as ticks already; settling after them sends
    // their replies in this turn of the event loop rather than the next one's slice.
    if (work > 0) process.nextTick(this.settle);
    setImmediate(this.slice);
  };

  private readonly settle = (): void => {
    if (this.running) this.target.settle();
  };
}

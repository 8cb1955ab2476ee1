// The run loop of a stack worker: poll the interface in batches, run its timers, and back off
// when idle (ts/worker/idle-backoff.ts), giving the Node event loop a turn at least every few
// milliseconds so the app's timers, promises and I/O keep running.
import { IdleAction, IdleBackoff, nap } from '../worker/idle-backoff.js';

export interface PollTarget {
  /** One batch of work; returns frames handled. */
  poll(): number;
  /** Timers (neighbour retries, reassembly, transport timers). */
  tick(): void;
  /** Blocks until packets may be there, or `ms` passes. */
  park(ms: number): void;
  /**
   * The app's callbacks for the last batch have run (each slice starts after them): send what
   * they left owed (TCP's deferred ACKs), before the loop naps or polls again.
   */
  settle(): void;
}

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
  /** A nap the last slice chose, taken once the app's callbacks and settle() have run. */
  private napMs = 0;
  readonly backoff: IdleBackoff;

  constructor(
    private readonly target: PollTarget,
    batch: number,
  ) {
    this.backoff = new IdleBackoff(batch);
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
    if (this.napMs > 0) {
      nap(this.napMs);
      this.napMs = 0;
    }
    const end = performance.now() + SLICE_MS;
    let work: number;
    for (;;) {
      const now = performance.now();
      if (now - this.lastTick >= TICK_MS) {
        this.lastTick = now;
        target.tick();
      }
      this.passes++;
      work = target.poll();
      const action = this.backoff.next(work);
      if (action === IdleAction.Nap) {
        // After a batch, the ACKs it owes go out first (next slice), so the sender keeps
        // sending while this thread waits for a fuller batch.
        if (work > 0) this.napMs = this.backoff.napMs;
        else nap(this.backoff.napMs);
      } else if (action === IdleAction.Park) {
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

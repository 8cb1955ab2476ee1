// How a worker waits when there is little or no work, trading a little latency for much less CPU.
// - Busy stream: when packets arrive steadily but a pass finds less than a batch, nap for about
//   the time half a batch takes to arrive, so wake-ups are paid per batch, not per packet (the
//   idea behind NAPI and interrupt coalescing). Sparse traffic (request/response) never naps.
// - No work: spin a few passes (a burst that arrives now is handled at once), then park in poll(2)
//   on the socket, so an idle engine uses next to no CPU. Every park also gives the Node event loop
//   a turn, so the app's timers, promises and fs callbacks keep running.

import { monotonicNow } from '../dev/memory/clock.js';

export interface BackoffPolicy {
  /** Idle passes that retry at once before parking. */
  spinPasses: number;
  /**
   * Keep spinning while the last packet is at most this recent, in microseconds: request/response
   * traffic then never pays a wake-up from poll(2) (tens to hundreds of microseconds on a VM),
   * at the price of a busy core while it lasts. 0 parks as soon as spinPasses run out.
   */
  spinAfterWorkUs: number;
  /** How long one park may block the thread, in milliseconds. */
  parkMs: number;
  /** Packets per second above which partial batches nap; 0 turns napping off. */
  napAbovePps: number;
  /** The longest nap, in microseconds. */
  maxNapUs: number;
}

export const defaultBackoff: BackoffPolicy = {
  spinPasses: 2,
  spinAfterWorkUs: 200,
  parkMs: 10,
  napAbovePps: 50_000,
  maxNapUs: 200,
};

export const enum IdleAction {
  Continue = 0,
  Park = 1,
  Nap = 2,
}

/** Rate estimate window, milliseconds. */
const WINDOW_MS = 2;

export class IdleBackoff {
  private idlePasses = 0;
  private lastWorkAt = 0;
  private windowStart = monotonicNow();
  private windowPackets = 0;
  /** Smoothed packets per millisecond. */
  private ratePerMs = 0;
  /** How long the next nap lasts, in milliseconds. */
  napMs = 0;
  parks = 0;
  naps = 0;

  constructor(
    private readonly batch: number,
    private readonly policy: BackoffPolicy = defaultBackoff,
  ) {}

  /**
   * Call after every pass with the work it did; says what to do next. `now` is the pass's
   * performance.now() when the caller has one.
   */
  next(work: number, now: number = monotonicNow()): IdleAction {
    this.track(work, now);
    if (work >= this.batch) {
      this.idlePasses = 0;
      return IdleAction.Continue;
    }
    const perMs = this.ratePerMs;
    if (this.policy.napAbovePps > 0 && perMs * 1000 >= this.policy.napAbovePps) {
      this.idlePasses = 0;
      this.napMs = Math.min(this.policy.maxNapUs / 1000, this.batch / 2 / perMs);
      this.naps++;
      return IdleAction.Nap;
    }
    if (work > 0) {
      this.idlePasses = 0;
      return IdleAction.Continue;
    }
    if (++this.idlePasses <= this.policy.spinPasses) return IdleAction.Continue;
    if (this.now - this.lastWorkAt < this.policy.spinAfterWorkUs / 1000) return IdleAction.Continue;
    this.parks++;
    return IdleAction.Park;
  }

  get parkMs(): number {
    return this.policy.parkMs;
  }

  /** performance.now() of the latest pass. */
  private now = 0;

  private track(work: number, now: number): void {
    this.windowPackets += work;
    this.now = now;
    if (work > 0) this.lastWorkAt = now;
    const elapsed = now - this.windowStart;
    if (elapsed < WINDOW_MS) return;
    this.ratePerMs = (this.ratePerMs + this.windowPackets / elapsed) / 2;
    this.windowPackets = 0;
    this.windowStart = now;
  }
}

/** Sleeps the calling worker thread for `ms` (fractions allowed) without a native call. */
const napCell = new Int32Array(new SharedArrayBuffer(4));
export function nap(ms: number): void {
  Atomics.wait(napCell, 0, 0, ms);
}

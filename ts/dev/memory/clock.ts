// Time for the memory device's delay, jitter, reorder hold and rate limit, and for pcap
// timestamps. Milliseconds as a float, like performance.now(). Tests use a VirtualClock so time
// moves only when they say so and every fault that depends on time is reproducible.

/** A source of time in milliseconds. */
export interface Clock {
  now(): number;
}

// Node defines the global `performance` with a getter: looked up on every reading, it cost as
// much as the reading itself in loops that read the clock each pass.
const PERFORMANCE = performance;

/** performance.now() (this thread's monotonic milliseconds) without the global's getter. */
export function monotonicNow(): number {
  return PERFORMANCE.now();
}

/** Real monotonic time of this thread (performance.now(); each thread has its own origin). */
export const realClock: Clock = { now: monotonicNow };

// Layout of a VirtualClock's buffer: a sequence word, then the time as a float64 at byte 8.
// Atomics has no float64 access, so the writer brackets the store with sequence increments
// (a seqlock): a reader retries while the sequence is odd or changed under it.
const SEQ = 0;
const BYTES = 16;

/**
 * Time that moves only when advanced. Its state is a SharedArrayBuffer, so one clock can drive
 * ports in several workers: pass `clock.buffer` along and `VirtualClock.attach()` it there.
 * Advance it from one thread at a time.
 */
export class VirtualClock implements Clock {
  readonly buffer: SharedArrayBuffer;
  private readonly seq: Int32Array;
  private readonly time: Float64Array;

  private constructor(buffer: SharedArrayBuffer) {
    if (!(buffer instanceof SharedArrayBuffer) || buffer.byteLength < BYTES) {
      throw Object.assign(new Error('a virtual clock needs the buffer of VirtualClock.create()'), {
        code: 'EINVAL',
      });
    }
    this.buffer = buffer;
    this.seq = new Int32Array(buffer, 0, 2);
    this.time = new Float64Array(buffer, 8, 1);
  }

  /** A new clock reading `startMs`. */
  static create(startMs = 0): VirtualClock {
    const clock = new VirtualClock(new SharedArrayBuffer(BYTES));
    clock.set(startMs);
    return clock;
  }

  /** The clock whose state is `buffer` (made by create(), possibly in another thread). */
  static attach(buffer: SharedArrayBuffer): VirtualClock {
    return new VirtualClock(buffer);
  }

  now(): number {
    for (;;) {
      const before = Atomics.load(this.seq, SEQ);
      const t = this.time[0];
      if ((before & 1) === 0 && Atomics.load(this.seq, SEQ) === before) return t;
    }
  }

  /** Moves time forward by `ms` (>= 0); returns the new time. */
  advance(ms: number): number {
    if (!(ms >= 0)) {
      throw Object.assign(new Error(`time only moves forward; cannot advance by ${ms} ms`), {
        code: 'EINVAL',
      });
    }
    return this.set(this.now() + ms);
  }

  /** Moves time forward to `ms` (no-op if the clock is already there or past it). */
  advanceTo(ms: number): number {
    const now = this.now();
    return ms > now ? this.set(ms) : now;
  }

  private set(ms: number): number {
    Atomics.add(this.seq, SEQ, 1);
    this.time[0] = ms;
    Atomics.add(this.seq, SEQ, 1);
    return ms;
  }
}

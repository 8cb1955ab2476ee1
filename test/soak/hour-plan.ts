// One simulated hour of the soak, planned up front from the seeded PRNG: when exchanges
// arrive, when idle keep-alive connections open and how long they live, when a listener with a
// small backlog comes and goes under a burst of clients, and the weather (periods of loss,
// duplication, reordering and corruption, and blackouts where one side goes silent). Everything
// happens in the first ACTIVE_MS of the hour; the rest is quiet, so that by the hour's end every
// connection has closed and every TIME-WAIT has run out, and the checkpoint can demand zero.
import type { Xoshiro128 } from '../../ts/dev/memory/prng.js';
import type { Faults } from '../../ts/dev/memory/faults.js';

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
/** New connections and listeners start only before this offset into the hour. */
export const ACTIVE_MS = 50 * MINUTE;
/** Weather clears before this offset. */
const WEATHER_END = 48 * MINUTE;
/** Listener churn episodes start before this offset (they last about a minute at most). */
const CHURN_END = 45 * MINUTE;

/**
 * How long one side goes silent. Longer than an idle keep-alive connection lasts without
 * answers (idle at most 30 s, then 10 probes a second apart: net's setKeepAlive), so every such
 * connection open across a blackout dies; shorter than a connect lasts without answers (SYN
 * retransmissions 1, 3, 7, 15, 31 and 63 s after the first), so every exchange survives it,
 * given that no loss period comes near it (the SYN that gets through must not be lost).
 */
export const BLACKOUT_MS = 45 * SECOND;
/** How long a client keeps trying to connect: its SYN retransmissions (Linux's 6). */
const CONNECT_RETRY_MS = 130 * SECOND;
/** An idle connection opened or closed this close to a blackout could go either way: none is. */
const BLACKOUT_MARGIN_MS = 10 * SECOND;

export interface Period {
  start: number;
  end: number;
}

export interface LossPeriod extends Period {
  faults: Partial<Faults>;
}

export interface Blackout extends Period {
  /** The side whose frames are all lost. */
  silent: 'a' | 'b';
}

export interface KeepAliveConn {
  at: number;
  life: number;
  /** The client's keep-alive idle time (the server's is fixed). */
  idleMs: number;
  /** It is open across a whole blackout: keep-alive must end it. */
  expectDeath: boolean;
}

export interface ChurnEpisode {
  at: number;
  backlog: number;
  /** The listener closes this long after it opens, whatever is still queued. */
  life: number;
  /** The server takes one connection off the accept queue this often. */
  acceptEveryMs: number;
  clients: number;
  /**
   * A loss period overlaps the episode or the minutes its clients retry: a client whose last
   * SYN or the reset answering it is lost gives up (ETIMEDOUT) instead of being refused.
   */
  lossy: boolean;
}

export interface HourPlan {
  exchanges: number[];
  keepAlives: KeepAliveConn[];
  churn: ChurnEpisode[];
  losses: LossPeriod[];
  blackouts: Blackout[];
}

/** How busy an hour is. */
export interface HourShape {
  exchangesPerMinute: number;
  keepAlivesPerHour: number;
  churnEpisodesPerHour: number;
  lossPeriodsPerHour: number;
  blackoutsPerHour: number;
}

function uniform(rng: Xoshiro128, lo: number, hi: number): number {
  return lo + (hi - lo) * rng.next();
}

function overlaps(a: Period, b: Period, gap: number): boolean {
  return a.start < b.end + gap && b.start < a.end + gap;
}

/** Poisson arrivals over [0, ACTIVE_MS). */
function arrivals(rng: Xoshiro128, perMinute: number): number[] {
  const out: number[] = [];
  for (let t = 0; ;) {
    t += (-Math.log(1 - rng.next()) * MINUTE) / perMinute;
    if (t >= ACTIVE_MS) return out;
    out.push(t);
  }
}

/**
 * Up to n periods of the given length, placed in [from, to), `gap` apart from each other and
 * from the periods in `avoid`.
 */
function periods(
  rng: Xoshiro128,
  n: number,
  from: number,
  to: number,
  len: () => number,
  gap: number,
  avoid: readonly Period[] = [],
): Period[] {
  const out: Period[] = [];
  for (let tries = 0; out.length < n && tries < 20 * n; tries++) {
    const l = len();
    const start = uniform(rng, from, to - l);
    const p = { start, end: start + l };
    if (![...out, ...avoid].some((q) => overlaps(p, q, gap))) out.push(p);
  }
  return out.sort((p, q) => p.start - q.start);
}

/** Loss with some duplication, reordering (by jitter and holds) and bit flips. */
function lossFaults(rng: Xoshiro128): Partial<Faults> {
  return {
    lossRate: uniform(rng, 0.002, 0.05),
    duplicateRate: uniform(rng, 0, 0.01),
    reorderRate: uniform(rng, 0, 0.02),
    reorderDistance: 3,
    corruptRate: uniform(rng, 0, 0.005),
    jitterMs: uniform(rng, 0, 1),
  };
}

function keepAlives(rng: Xoshiro128, n: number, blackouts: Blackout[]): KeepAliveConn[] {
  const near = (t: number, b: Blackout): boolean =>
    t > b.start - BLACKOUT_MARGIN_MS && t < b.end + BLACKOUT_MARGIN_MS;
  const out: KeepAliveConn[] = [];
  for (let i = 0; i < n; i++) {
    const at = uniform(rng, 0, CHURN_END);
    const life = Math.min(uniform(rng, 1, 30) * MINUTE, ACTIVE_MS - at);
    const idleMs = Math.round(uniform(rng, 10, 30)) * SECOND;
    if (blackouts.some((b) => near(at, b) || near(at + life, b))) continue;
    const expectDeath = blackouts.some((b) => at < b.start && at + life > b.end);
    out.push({ at, life, idleMs, expectDeath });
  }
  return out;
}

export function planHour(rng: Xoshiro128, shape: HourShape, hour: number): HourPlan {
  const blackouts = periods(
    rng,
    shape.blackoutsPerHour,
    5 * MINUTE,
    CHURN_END,
    () => BLACKOUT_MS,
    2 * MINUTE,
  ).map((p, i) => ({ ...p, silent: (hour + i) % 2 === 0 ? ('a' as const) : ('b' as const) }));
  // No loss during a blackout or the minutes after it: a connect begun in the blackout has one
  // SYN retransmission left once it ends, and the exchanges are to survive the blackout.
  const losses = periods(
    rng,
    shape.lossPeriodsPerHour,
    0,
    WEATHER_END,
    () => uniform(rng, 2, 8) * MINUTE,
    MINUTE,
    blackouts.map((b) => ({ start: b.start, end: b.end + CONNECT_RETRY_MS })),
  ).map((p) => ({ ...p, faults: lossFaults(rng) }));
  // Churn clients give up on a silent listener only after minutes: no episode near a blackout.
  const lossy = (p: Period): boolean => losses.some((l) => overlaps(p, l, 0));
  const churn = periods(rng, shape.churnEpisodesPerHour, MINUTE, CHURN_END, () => MINUTE, MINUTE)
    .filter((p) => !blackouts.some((b) => overlaps(p, b, 2 * MINUTE)))
    .map((p) => ({
      at: p.start,
      backlog: 1 + Math.floor(rng.next() * 8),
      life: uniform(rng, 5, 40) * SECOND,
      acceptEveryMs: uniform(rng, 50, 2000),
      clients: 5 + Math.floor(rng.next() * 36),
      lossy: lossy({ start: p.start, end: p.start + CONNECT_RETRY_MS }),
    }));
  return {
    exchanges: arrivals(rng, shape.exchangesPerMinute),
    keepAlives: keepAlives(rng, shape.keepAlivesPerHour, blackouts),
    churn,
    losses,
    blackouts,
  };
}

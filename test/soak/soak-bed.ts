// Two engines (Interface + TcpStack each) on a memory pair in virtual time, driven the way a
// stack worker drives its stack (ts/runtime/stack-worker.ts, stack-loop.ts): each pass runs the
// due TCP timers, one receive batch between beginBatch/endBatch, lets the app's callbacks run
// (stream events, writes, ends), then sends the ACKs owed and what the callbacks wrote in one
// flush. When a pass moved nothing, the clock jumps to whatever is due next: a connection
// deadline, a frame the pair holds back, or an entry of the workload's agenda. An idle hour
// costs a handful of passes.
import type { VirtualClock } from '../../ts/dev/memory/clock.js';
import type { Faults } from '../../ts/dev/memory/faults.js';
import type { Interface } from '../../ts/iface/interface.js';
import { tcpStateName } from '../../ts/socket/tcp/state.js';
import type { TcpConn } from '../../ts/socket/tcp/tcp-conn.js';
import { TcpStack } from '../../ts/socket/tcp/tcp-stack.js';
import { PairFixture, type OpenPair } from '../dev/pair-fixture.js';
import { openInterfacePair } from '../support/interface-pair.js';
import type { Agenda } from './agenda.js';
import { seededSecret } from './seeded-random.js';

export const A4 = '198.18.19.1';
export const B4 = '198.18.19.2';
export const A6 = '2001:2:0:19::1';
export const B6 = '2001:2:0:19::2';

/** How often each interface's timers run (ARP/ND, reassembly, path MTU), as in the tests' rounds. */
const TICK_MS = 100;
/** A loop that makes no virtual progress for this long (wall clock) has wedged. */
const STALL_MS = 10_000;
/**
 * Passes at one virtual instant before the loop counts as spinning: every frame takes the link's
 * delay, so a busy instant takes a few passes, never thousands.
 */
const SPIN_PASSES = 10_000;

export interface Side {
  iface: Interface;
  tcp: TcpStack;
}

export class SoakBed {
  readonly clock: VirtualClock;
  readonly pair: OpenPair;
  readonly a: Side;
  readonly b: Side;
  /** Passes run and clock jumps taken (the test's cost in virtual time). */
  passes = 0;
  jumps = 0;
  /** Called after every pass (the soak samples its connection tables from here). */
  onPass: (() => void) | null = null;
  private readonly pairs = new PairFixture();
  private lastTick: number;

  constructor(faults: Partial<Faults>, seed: number) {
    const ifaces = openInterfacePair(
      this.pairs,
      { aMac: '02:00:00:00:00:3a', bMac: '02:00:00:00:00:3b', a4: A4, b4: B4, a6: A6, b6: B6 },
      { framesPerPort: 1024, seed, faults },
    );
    this.clock = ifaces.clock;
    this.pair = ifaces.pair;
    const secrets = (n: number) => ({
      isnSecret: seededSecret(seed * 4 + n),
      cookieSecret: seededSecret(seed * 4 + n + 2),
    });
    this.a = { iface: ifaces.a, tcp: new TcpStack(ifaces.a, secrets(0)) };
    this.b = { iface: ifaces.b, tcp: new TcpStack(ifaces.b, secrets(1)) };
    this.lastTick = this.clock.now();
  }

  /** Sets the faults of what side `from` sends (the other direction keeps its own). */
  setFaults(from: 'a' | 'b', faults: Partial<Faults>): void {
    this.pair[from].setFaults(faults);
  }

  /**
   * One pass of both stacks. Returns the work it did: timers run, frames received, and frames
   * the app's callbacks put on the wire.
   */
  async pass(): Promise<number> {
    this.passes++;
    const now = this.clock.now();
    if (now - this.lastTick >= TICK_MS) {
      this.lastTick = now;
      this.a.iface.tick(now);
      this.b.iface.tick(now);
    }
    let work = receive(this.a, now) + receive(this.b, now);
    // The app's callbacks for this batch run as ticks and microtasks before the immediate.
    await new Promise((resolve) => setImmediate(resolve));
    work += settle(this.a) + settle(this.b);
    this.onPass?.();
    return work;
  }

  /**
   * Runs the agenda's entries as they come due and passes in between until the clock reads
   * `until`; when a pass moved nothing the clock jumps to the next thing due.
   */
  async runUntil(until: number, agenda: Agenda): Promise<void> {
    const watchdog = new Watchdog(this);
    for (;;) {
      const now = this.clock.now();
      watchdog.check(now);
      const ran = agenda.runDue(now);
      if (now >= until && ran === 0) return;
      const work = await this.pass();
      if (work > 0 || ran > 0) {
        watchdog.moved();
        continue;
      }
      const next = Math.min(this.nextDue(), agenda.next(), until);
      if (next > now) {
        this.clock.advanceTo(next);
        this.jumps++;
        watchdog.moved();
      } else watchdog.idle(now);
    }
  }

  /** The earliest connection deadline or held frame of either side. */
  private nextDue(): number {
    return Math.min(
      this.a.tcp.nextDeadline(),
      this.b.tcp.nextDeadline(),
      this.pair.a.nextEventTime(),
      this.pair.b.nextEventTime(),
    );
  }

  /** Resets whatever is left, closes the interfaces, lets the pair settle and audits it. */
  async closeAndAudit(): Promise<void> {
    this.a.tcp.close();
    this.b.tcp.close();
    for (let i = 0; i < 4; i++) await this.pass();
    this.a.iface.close();
    this.b.iface.close();
    this.pairs.settleAndAudit();
  }
}

/**
 * Fails a loop that stops making progress: pass after pass at one virtual instant (a timer
 * that re-arms for the moment it fired at), or nothing to do and nothing due for STALL_MS.
 */
class Watchdog {
  private instant = -1;
  private passesAtInstant = 0;
  private lastMove = performance.now();

  constructor(private readonly bed: SoakBed) {}

  check(now: number): void {
    if (now !== this.instant) {
      this.instant = now;
      this.passesAtInstant = 0;
    } else if (++this.passesAtInstant > SPIN_PASSES) {
      throw Object.assign(new Error(`the loop spins at virtual ${now} ms: ${this.stacks()}`), {
        code: 'ELOOP',
      });
    }
  }

  moved(): void {
    this.lastMove = performance.now();
  }

  idle(now: number): void {
    if (performance.now() - this.lastMove > STALL_MS) {
      throw Object.assign(new Error(`the loop stalled at virtual ${now} ms: ${this.stacks()}`), {
        code: 'ETIMEDOUT',
      });
    }
  }

  private stacks(): string {
    const now = this.bed.clock.now();
    return `a ${describeStack(this.bed.a.tcp, now)}; b ${describeStack(this.bed.b.tcp, now)}`;
  }
}

/** What a stack holds, for a failure message: states, and the timers of what is due. */
function describeStack(tcp: TcpStack, now: number): string {
  const states: Record<string, number> = {};
  const due: Record<string, unknown>[] = [];
  for (const c of tcp.allConnections()) {
    const name = tcpStateName(c.tcb.state);
    states[name] = (states[name] ?? 0) + 1;
    if (c.tcb.nextDeadline() <= now) due.push(timersOf(c));
  }
  return JSON.stringify({ states, next: tcp.nextDeadline(), due, stats: tcp.stats });
}

/** A connection's deadlines and sequence state (the TCB's fields, read for a diagnosis). */
function timersOf(c: TcpConn): Record<string, unknown> {
  const t = c.tcb as unknown as Record<string, unknown>;
  const fields = Object.keys(t).filter((k) => /Deadline$|^snd|^rcv|retrans/i.test(k));
  return {
    ports: `${c.localPort}->${c.remotePort}`,
    ...Object.fromEntries(fields.map((k) => [k, t[k]])),
    keepAlive: c.tcb.keepAlive,
    filedUnder: c.deadline,
    moved: c.deadlineMoved,
  };
}

/** Due timers, then one receive batch, as the worker loop's poll does. */
function receive(s: Side, now: number): number {
  const timers = s.tcp.runTimers(now, s.iface.device.batch);
  s.tcp.beginBatch(now);
  try {
    return timers + s.iface.poll(now);
  } finally {
    s.tcp.endBatch();
  }
}

/** The worker loop's settle: what the app wrote, what waited for room and the owed ACKs, in one flush. */
function settle(s: Side): number {
  s.tcp.settle();
  return s.iface.flush();
}

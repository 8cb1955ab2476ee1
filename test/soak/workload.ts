// The soak's churn over xdpnet's net API: side A serves, side B connects. Three kinds of
// connection run through each simulated hour (hour-plan.ts):
//  - exchanges to a dual-stack echo-like server: random upload and download sizes, every byte
//    checked at the receiving end, ending by a FIN from either side, a reset from either side
//    partway, or a client abort at a random moment (SYN-SENT included);
//  - idle connections with keep-alive on both ends, closed by the client when their life is
//    up, or killed by keep-alive when a blackout silences one side;
//  - bursts of clients at a short-lived listener with a small backlog that accepts slowly, so
//    SYN queues overflow into cookies, accept queues overflow, and closing the listener resets
//    what is still queued.
// Each end reports what it saw when its socket closes and is judged against its plan; what
// the plan does not allow is flagged. The weather (loss, blackouts) changes the pair's faults.
import { connect, createServer, Socket, type Server } from '../../ts/api/net.js';
import type { Faults } from '../../ts/dev/memory/faults.js';
import type { Xoshiro128 } from '../../ts/dev/memory/prng.js';
import type { TcpConn } from '../../ts/socket/tcp/tcp-conn.js';
import type { Agenda } from './agenda.js';
import type { Tracker } from './census.js';
import { Ending, runExchange, serveExchange, type EndReport, type Plan } from './exchange.js';
import type { Blackout, ChurnEpisode, HourPlan, KeepAliveConn, LossPeriod } from './hour-plan.js';
import { A4, A6, type SoakBed } from './soak-bed.js';
import { Tally } from './tally.js';

const EXCHANGE_PORT = 7000;
const KEEPALIVE_PORT = 7001;
/** Churn listeners take these ports in turn, so a new one often finds TIME-WAITs of an old one. */
const CHURN_PORT_BASE = 7100;
const CHURN_PORTS = 8;
/**
 * Keep-alive on the exchange and churn connections too: an end whose peer has gone (its reset
 * lost in a loss period) learns so from the probe's answer instead of waiting forever.
 */
const GUARD_KEEPALIVE_MS = 60_000;
/** The idle server's keep-alive (its clients pick their own, 10 to 30 s). */
const IDLE_SERVER_KEEPALIVE_MS = 15_000;
/** A client abort comes this long after the connect at most: SYN-SENT to mid-transfer. */
const ABORT_WITHIN_MS = 20;
/** Exchange sizes are log-uniform up to 2^MAX_LOG2 bytes, or zero. */
const MAX_LOG2 = 20;
/** How often the loop looks for new connections to track (every so many passes). */
const TRACK_EVERY_PASSES = 8;

/** The link when the weather is fair: 1 ms each way. */
export const FAIR_WEATHER: Partial<Faults> = {
  delayMs: 1,
  lossRate: 0,
  duplicateRate: 0,
  reorderRate: 0,
  corruptRate: 0,
  jitterMs: 0,
};

/** How exchanges end, and how often. */
const EXCHANGE_ENDINGS: readonly [Ending, number][] = [
  [Ending.ClientFin, 0.38],
  [Ending.ServerFin, 0.38],
  [Ending.ClientReset, 0.1],
  [Ending.ServerReset, 0.1],
  [Ending.ClientAbort, 0.04],
];

/** The ending a uniform draw `u` in [0, 1) falls on. */
function pickEnding(u: number): Ending {
  for (const [ending, weight] of EXCHANGE_ENDINGS) {
    if (u < weight) return ending;
    u -= weight;
  }
  return Ending.ClientFin;
}

/** What an end that was reset (or wrote into a reset) may report. */
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE']);

export class Workload {
  tally = new Tally();
  /** Sockets (either side) not yet closed. */
  openSockets = 0;
  /** Idle connections planned to die in a blackout (each must see an ETIMEDOUT at one end). */
  doomed = 0;
  private readonly servers: Server[] = [];
  private churnEpisodes = 0;
  private loss: LossPeriod | null = null;
  private blackout: Blackout | null = null;
  private passes = 0;

  constructor(
    private readonly bed: SoakBed,
    private readonly agenda: Agenda,
    private readonly rng: Xoshiro128,
    private readonly tracker: Tracker,
  ) {}

  /** The exchange and idle servers on A, dual-stack, for the whole day. */
  startServers(): void {
    const stack = this.bed.a.tcp;
    const serve = (s: Socket): void => this.serve(s);
    const exchange = createServer(
      { stack, keepAlive: true, keepAliveInitialDelay: GUARD_KEEPALIVE_MS },
      serve,
    );
    const idle = createServer(
      { stack, keepAlive: true, keepAliveInitialDelay: IDLE_SERVER_KEEPALIVE_MS },
      serve,
    );
    exchange.listen({ port: EXCHANGE_PORT, host: '::' });
    idle.listen({ port: KEEPALIVE_PORT, host: '::' });
    this.servers.push(exchange, idle);
  }

  stopServers(): void {
    for (const s of this.servers) s.close();
  }

  /** Returns the hour's tally and starts a new one. */
  takeTally(): Tally {
    const t = this.tally;
    this.tally = new Tally();
    return t;
  }

  /** Puts an hour starting at `h0` (virtual ms) on the agenda. */
  scheduleHour(h0: number, plan: HourPlan): void {
    const at = (t: number, run: () => void): void => this.agenda.at(h0 + t, run);
    for (const t of plan.exchanges) at(t, () => this.openExchange());
    for (const k of plan.keepAlives) at(k.at, () => this.openIdle(k));
    for (const e of plan.churn) at(e.at, () => this.startChurn(e));
    for (const p of plan.losses) {
      at(p.start, () => this.setLoss(p));
      at(p.end, () => this.setLoss(null));
    }
    for (const b of plan.blackouts) {
      at(b.start, () => this.setBlackout(b));
      at(b.end, () => this.setBlackout(null));
    }
  }

  /**
   * Tracks the connections in both stacks' tables now and then: with the sockets, every one of
   * them must be collectable at the checkpoint.
   */
  trackConnections(): void {
    if (++this.passes % TRACK_EVERY_PASSES !== 0) return;
    for (const tcp of [this.bed.a.tcp, this.bed.b.tcp]) {
      for (const c of tcp.allConnections()) this.tracker.track(c);
    }
  }

  /** Notes an outcome the plan does not allow, with when and what. */
  private flag(what: string, plan: Plan | null, r: EndReport): void {
    const at = `at ${(this.bed.clock.now() / 1000).toFixed(3)} s`;
    this.tally.flag(what, `${at}: ${JSON.stringify(plan)} -> ${JSON.stringify(r)}`);
  }

  // ---- weather -------------------------------------------------------------------------------

  private setLoss(p: LossPeriod | null): void {
    if (p !== null) this.tally.lossPeriods++;
    this.loss = p;
    this.applyWeather();
  }

  private setBlackout(b: Blackout | null): void {
    if (b !== null) this.tally.blackouts++;
    this.blackout = b;
    this.applyWeather();
  }

  private applyWeather(): void {
    for (const side of ['a', 'b'] as const) {
      const silent = this.blackout?.silent === side ? { lossRate: 1 } : {};
      this.bed.setFaults(side, { ...FAIR_WEATHER, ...this.loss?.faults, ...silent });
    }
  }

  // ---- the server side -----------------------------------------------------------------------

  /** `fragile`: a connection off a lossy churn listener, which the peer may have reset. */
  private serve(s: Socket, fragile = false): void {
    this.track(s);
    serveExchange(s, (plan, r) => this.judgeServer(plan, r, fragile));
  }

  private judgeServer(plan: Plan | null, r: EndReport, fragile: boolean): void {
    const t = this.tally;
    if (r.mismatch >= 0) return this.flag('corrupt bytes at the server', plan, r);
    t.bytesUp += r.verified;
    // A SYN-cookie connection whose first segment was overtaken (reordering): the cookie check
    // of the segment that came first fails and the listener resets the client, while the first
    // segment, arriving next, passes it and makes this end (Linux answers the same way). The
    // client was counted as reset; this end then hears of it.
    if (fragile && r.error !== null && RESET_CODES.has(r.error)) return;
    if (plan === null) {
      // A client that aborted before its header arrived.
      if (r.error !== null && !RESET_CODES.has(r.error))
        this.flag(`server, no header: ${r.error}`, plan, r);
      return;
    }
    let ok: boolean;
    switch (plan.ending) {
      case Ending.ClientFin:
      case Ending.ServerFin:
        ok = r.error === null && r.verified === plan.up && r.written === plan.down && r.peerEnded;
        break;
      case Ending.ClientReset:
        ok = r.error !== null && RESET_CODES.has(r.error) && r.verified === plan.up;
        if (ok) t.resetsSeen++;
        break;
      case Ending.ServerReset:
        ok = r.resetSent && r.error === null;
        if (ok) t.resetsSent++;
        break;
      case Ending.ClientAbort:
        ok = r.error === null || RESET_CODES.has(r.error);
        break;
      default:
        return this.judgeIdle('server', plan, r);
    }
    if (!ok) this.flag(`server, ending ${plan.ending}: ${r.error}`, plan, r);
  }

  // ---- the client side -----------------------------------------------------------------------

  private track(s: Socket): void {
    this.tracker.track(s);
    this.openSockets++;
    s.once('close', () => this.openSockets--);
  }

  private connectClient(port: number, keepAliveMs: number): Socket {
    const host = this.rng.next() < 0.5 ? A4 : A6;
    const s = connect({ port, host, stack: this.bed.b.tcp });
    s.setKeepAlive(true, keepAliveMs);
    s.once('connect', () => this.tally.connected++);
    this.track(s);
    return s;
  }

  /** 0 (sometimes) or log-uniform up to 1 MiB. */
  private size(): number {
    return this.rng.next() < 0.15 ? 0 : Math.floor(2 ** (this.rng.next() * MAX_LOG2));
  }

  private exchangePlan(): Plan {
    const ending = pickEnding(this.rng.next());
    let up = this.size();
    let down = this.size();
    let resetAt = 0;
    if (ending === Ending.ClientReset) {
      down = Math.max(down, 2);
      resetAt = 1 + Math.floor(this.rng.next() * (down - 1));
    } else if (ending === Ending.ServerReset) {
      up = Math.max(up, 2);
      resetAt = 1 + Math.floor(this.rng.next() * (up - 1));
    }
    return { ending, up, down, seed: this.rng.nextU32(), resetAt, expectDeath: false };
  }

  private openExchange(): void {
    const plan = this.exchangePlan();
    const s = this.connectClient(EXCHANGE_PORT, GUARD_KEEPALIVE_MS);
    this.tally.exchanges++;
    runExchange(s, plan, (r) => this.judgeExchange(plan, r));
    if (plan.ending === Ending.ClientAbort) {
      this.agenda.at(this.bed.clock.now() + this.rng.next() * ABORT_WITHIN_MS, () => s.destroy());
    }
  }

  private judgeExchange(plan: Plan, r: EndReport): void {
    const t = this.tally;
    if (r.mismatch >= 0) return this.flag('corrupt bytes at the client', plan, r);
    t.bytesDown += r.verified;
    let ok: boolean;
    switch (plan.ending) {
      case Ending.ClientFin:
      case Ending.ServerFin:
        ok = r.error === null && r.verified === plan.down && r.peerEnded;
        if (ok) t.completed++;
        break;
      case Ending.ClientReset:
        ok = r.error === null && r.resetSent;
        if (ok) t.resetsSent++;
        break;
      case Ending.ServerReset:
        ok = r.error !== null && RESET_CODES.has(r.error);
        if (ok) t.resetsSeen++;
        break;
      default:
        ok = r.error === null;
        if (ok) t.aborts++;
    }
    if (!ok) this.flag(`client, ending ${plan.ending}: ${r.error}`, plan, r);
  }

  private openIdle(k: KeepAliveConn): void {
    const plan: Plan = {
      ending: Ending.Idle,
      up: 0,
      down: 0,
      seed: this.rng.nextU32(),
      resetAt: 0,
      expectDeath: k.expectDeath,
    };
    if (k.expectDeath) this.doomed++;
    const s = this.connectClient(KEEPALIVE_PORT, k.idleMs);
    this.tally.keepAlives++;
    runExchange(s, plan, (r) => this.judgeIdle('client', plan, r));
    this.agenda.at(this.bed.clock.now() + k.life, () => {
      if (!s.destroyed) s.end();
    });
  }

  /** An idle connection lives until its client ends it, unless a blackout outlasts keep-alive. */
  private judgeIdle(who: string, plan: Plan, r: EndReport): void {
    const t = this.tally;
    if (plan.expectDeath) {
      if (r.error === 'ETIMEDOUT') t.keepAliveExpired++;
      // A reset: the other end's keep-alive gave up first and said so.
      else if (r.error !== 'ECONNRESET')
        this.flag(`idle ${who} across a blackout: ${r.error}`, plan, r);
    } else if (r.error === null && r.peerEnded) {
      if (who === 'client') t.keepAliveSurvived++;
    } else this.flag(`idle ${who}: ${r.error}`, plan, r);
  }

  // ---- listener churn ------------------------------------------------------------------------

  private startChurn(e: ChurnEpisode): void {
    const tcp = this.bed.a.tcp;
    const port = CHURN_PORT_BASE + (this.churnEpisodes++ % CHURN_PORTS);
    const l = tcp.listen({ port, is4: false, addr6: null, backlog: e.backlog, reuseAddr: true });
    if (typeof l === 'number')
      return this.tally.flag('churn listen failed', `errno ${l} on ${port}`);
    this.tally.churnListeners++;
    const now = this.bed.clock.now();
    const acceptOne = (): void => {
      if (!l.open) return;
      const c = l.accept();
      if (c !== null) this.adopt(c, e.lossy);
      this.agenda.at(this.bed.clock.now() + e.acceptEveryMs, acceptOne);
    };
    this.agenda.at(now + e.acceptEveryMs, acceptOne);
    this.agenda.at(now + e.life, () => tcp.closeListener(l));
    for (let i = 0; i < e.clients; i++) {
      this.agenda.at(now + this.rng.next() * 200, () => this.openChurnClient(port, e.lossy));
    }
  }

  /** A connection off a churn listener's queue, served as the exchange server serves. */
  private adopt(c: TcpConn, lossy: boolean): void {
    const stack = this.bed.a.tcp;
    const s = new Socket({ stack });
    s.setKeepAlive(true, GUARD_KEEPALIVE_MS);
    s.attachAccepted(c, stack);
    this.serve(s, lossy);
  }

  private openChurnClient(port: number, lossy: boolean): void {
    const plan: Plan = {
      ending: this.rng.next() < 0.5 ? Ending.ClientFin : Ending.ServerFin,
      up: Math.floor(this.rng.next() * 4096),
      down: Math.floor(this.rng.next() * 4096),
      seed: this.rng.nextU32(),
      resetAt: 0,
      expectDeath: false,
    };
    const s = this.connectClient(port, GUARD_KEEPALIVE_MS);
    this.tally.churnClients++;
    runExchange(s, plan, (r) => this.judgeChurnClient(plan, r, lossy));
  }

  /**
   * Served, refused (no listener by then) or reset (still queued when it closed); under loss it
   * may also have given up (its last SYN or the reset answering it lost).
   */
  private judgeChurnClient(plan: Plan, r: EndReport, lossy: boolean): void {
    const t = this.tally;
    if (r.mismatch >= 0) return this.flag('corrupt bytes at a churn client', plan, r);
    t.bytesDown += r.verified;
    if (r.error === null && r.verified === plan.down && r.peerEnded) t.churnServed++;
    else if (r.error === 'ECONNREFUSED') t.churnRefused++;
    else if (r.error !== null && RESET_CODES.has(r.error)) t.churnReset++;
    else if (r.error === 'ETIMEDOUT' && lossy) t.churnGaveUp++;
    else this.flag(`churn client: ${r.error}`, plan, r);
  }
}

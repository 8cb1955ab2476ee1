// TCP for one worker: the owner that wires the parts together and keeps the timers. A received
// segment goes to its connection (connection-table.ts), else to a listener (listener-table.ts,
// listen-path.ts), else is answered with a reset (RFC 9293 3.10.7.1); TCBs send through
// segment-output.ts. Every worker has its own TcpStack; listeners exist in every worker
// (SO_REUSEPORT semantics) and connect() picks source ports whose replies hash back to the
// calling worker (conn-setup.ts). Sending only queues frames: the worker loop flushes the device
// once per pass, whoever sent (input, timers, the application's calls). See README.md.

import type { Interface } from '../../iface/interface.js';
import { IfaceErrno } from '../../iface/errno.js';
import {
  InputResult,
  type IcmpErrorInfo,
  type RxDatagram,
  type TransportHandler,
} from '../../iface/transport.js';
import { DropReason } from '../../wire/drop-reason.js';
import { parseTcp4, parseTcp6, TcpHeader } from '../../wire/tcp.js';
import { DEFAULT_EPHEMERAL_RANGE } from '../../rss/ephemeral-port.js';
import type { Reta } from '../../rss/reta.js';
import type { ToeplitzHasher } from '../../rss/toeplitz.js';
import { isZero16, writeV4 } from './addr-bytes.js';
import { type TcpConfig, tcpConfig } from './config.js';
import { ConnSetup } from './conn-setup.js';
import { ConnectionTable } from './connection-table.js';
import { type Clock, TcpEvent, type TcpHost, type TcpOutSegment } from './host.js';
import { applyIcmpError } from './icmp-errors.js';
import { IsnGenerator } from './isn.js';
import { ListenPath } from './listen-path.js';
import { ListenerTable } from './listener-table.js';
import { SegmentOutput } from './segment-output.js';
import { TcpState } from './state.js';
import { seqGt } from './seq.js';
import { Tcb, TcpContext, TcpInputResult } from './tcb.js';
import { TcpConn, TcpListener } from './tcp-conn.js';
import { TcpStats } from './tcp-stats.js';
import { TimerHeap } from './timer-heap.js';
import { WorkList } from '../work-list.js';
import { WorkQueue } from '../work-queue.js';

export { TcpStats } from './tcp-stats.js';

export interface TcpStackOptions {
  workerId?: number;
  workerCount?: number;
  /** RSS hash and RETA: connect() then picks ports whose replies reach this worker. */
  steering?: { hasher: ToeplitzHasher; reta: Reta };
  ephemeralRange?: readonly [number, number];
  /** Defaults for every connection (buffers, timers, options). */
  config?: Partial<TcpConfig>;
  /** Secrets for reproducible ISNs and cookies in tests. */
  isnSecret?: Uint8Array;
  cookieSecret?: Uint8Array;
  /** Answer SYNs with cookies when a SYN queue is full (Linux tcp_syncookies=1); default true. */
  syncookies?: boolean;
}

/** Where a connection goes: one of `addr4` (IPv4) or the 16 bytes `addr6` (IPv6). */
export interface TcpEndpoint {
  is4: boolean;
  addr4: number;
  addr6: Uint8Array;
  port: number;
}

export interface ListenOptions {
  port: number;
  /** IPv4 listener: address (0 = any). */
  is4: boolean;
  addr4?: number;
  /** IPv6 listener: address, or null for any. */
  addr6?: Uint8Array | null;
  v6Only?: boolean;
  backlog?: number;
  reuseAddr?: boolean;
}

/** EADDRINUSE is not among the interface's errnos. */
export const ERRNO_EADDRINUSE = -98;
export const ERRNO_ECONNREFUSED = -111;

export class TcpStack implements TransportHandler, TcpHost {
  readonly iface: Interface;
  readonly stats = new TcpStats(() => this.countEstablished());
  readonly ctx: TcpContext;
  readonly clock: Clock;
  readonly workerId: number;
  private readonly isn: IsnGenerator;
  private readonly conns = new ConnectionTable();
  private readonly listeners = new ListenerTable();
  private readonly setup: ConnSetup;
  private readonly output: SegmentOutput;
  private readonly listenPath: ListenPath;
  private readonly heap = new TimerHeap();
  /** Connections whose deadline may have moved since the timers were last looked at. */
  private readonly moved = new WorkList<TcpConn>();
  private readonly hdr = new TcpHeader();
  /** TCBs owing an ACK at the end of the current receive batch (ctx.ackBatch while open). */
  private readonly owedAcks = new WorkList<Tcb>();
  /** Connections waiting for device room (mayTransmit or settle found none), oldest first. */
  private readonly waitingForRoom = new WorkQueue<TcpConn>();
  /**
   * Connections the app gave data or a FIN between passes: built at settle(), just before the
   * flush that sends them, not when the app called (see defersOutput).
   */
  private readonly outputAtSettle = new WorkList<TcpConn>();
  /** Nonzero while the stack itself runs: input, timers, settle. */
  private stackDepth = 0;
  private readonly isnLocal = new Uint8Array(16);
  private readonly isnRemote = new Uint8Array(16);
  /** While a connect takes over a TIME-WAIT (twReuse): the lowest ISS it may use, else -1. */
  private issFloor = -1;
  private readonly hasher: ToeplitzHasher | null;
  /** The RETA that says which worker may open a new flow; null: any flow that reaches us. */
  private newFlowTable: Uint8Array | null = null;

  constructor(iface: Interface, options: TcpStackOptions = {}) {
    this.iface = iface;
    this.clock = iface.clock;
    this.workerId = options.workerId ?? iface.workerId;
    this.isn = new IsnGenerator(options.isnSecret);
    this.ctx = new TcpContext(this.clock, this, tcpConfig(options.config));
    const range = options.ephemeralRange ?? DEFAULT_EPHEMERAL_RANGE;
    const steering = options.steering ?? null;
    this.hasher = steering?.hasher ?? null;
    this.setup = new ConnSetup(
      iface,
      this.ctx,
      this.conns,
      this.listeners,
      this.workerId,
      steering,
      range,
    );
    this.output = new SegmentOutput(iface, this.stats);
    this.listenPath = new ListenPath(
      iface,
      this.ctx,
      this.stats,
      this.conns,
      this.setup,
      this.output,
      options.syncookies ?? true,
      options.cookieSecret,
    );
    iface.registerTransport(6, this);
  }

  /** CurrEstab: connections in ESTABLISHED or CLOSE-WAIT (cold path: counters). */
  private countEstablished(): number {
    let n = 0;
    for (const c of this.conns.all()) {
      const st = c.tcb.state;
      if (st === TcpState.Established || st === TcpState.CloseWait) n++;
    }
    return n;
  }

  /** Connections in the demux table (any state but CLOSED). */
  get connectionCount(): number {
    return this.conns.size;
  }

  /** Connections filed in the timer heap (leak checks: 0 once every connection is gone). */
  get timerCount(): number {
    this.refileMoved();
    return this.heap.size;
  }

  /** Local ports held by connections (cold path: leak checks of the port bookkeeping). */
  get portsInUse(): number {
    return this.conns.portsInUse;
  }

  /** Last errno of a transmit (0 = sent). */
  get lastTxError(): number {
    return this.output.lastTxError;
  }

  // ---- listeners -----------------------------------------------------------------------------

  /** Opens a listener; returns it, or a negative errno (EADDRINUSE, EADDRNOTAVAIL). */
  listen(o: ListenOptions): TcpListener | number {
    const l = new TcpListener();
    l.v6Socket = !o.is4;
    l.local4 = o.is4 ? (o.addr4 ?? 0) : 0;
    if (!o.is4 && o.addr6 !== undefined && o.addr6 !== null && !isZero16(o.addr6)) {
      l.local6.set(o.addr6);
      l.local6Any = false;
    }
    l.v6Only = o.v6Only ?? false;
    l.reuseAddr = o.reuseAddr ?? false;
    l.backlog = Math.max(1, o.backlog ?? 511);
    l.synBacklog = l.backlog;
    if (o.is4 && l.local4 !== 0 && this.iface.addresses.indexOf4(l.local4) < 0) {
      return IfaceErrno.EADDRNOTAVAIL;
    }
    if (!l.local6Any && this.iface.addresses.indexOf6(l.local6, 0) < 0) {
      return IfaceErrno.EADDRNOTAVAIL;
    }
    let port = o.port;
    if (port === 0) {
      port = this.setup.randomPort((p) => this.listeners.conflicts(l, p, this.conns));
      if (port < 0) return port;
    } else if (this.listeners.conflicts(l, port, this.conns)) {
      return ERRNO_EADDRINUSE;
    }
    l.localPort = port;
    this.listeners.add(l);
    return l;
  }

  /**
   * Closes a listener: unaccepted connections are reset (Linux inet_csk_listen_stop), SYN queue
   * children are dropped.
   */
  closeListener(l: TcpListener): void {
    if (!l.open) return;
    l.open = false;
    this.listeners.remove(l);
    for (const c of this.conns.synQueueOf(l)) c.tcb.abort();
    let c: TcpConn | null;
    while ((c = l.accept()) !== null) c.tcb.abort();
  }

  // ---- active open ---------------------------------------------------------------------------

  /**
   * Active open towards `remote`, from `localPort` (0 = ephemeral, RSS-aware) and the local
   * address in `local` (or the interface's choice). Returns the connection in SYN-SENT, or a
   * negative errno (EADDRINUSE, EADDRNOTAVAIL, ENETUNREACH).
   */
  connect(
    remote: TcpEndpoint,
    local: { addr4?: number; addr6?: Uint8Array | null; port?: number } = {},
    overrides: Partial<TcpConfig> = {},
  ): TcpConn | number {
    const c = new TcpConn();
    const err = this.bindLocal(c, remote, local);
    if (err < 0) return err;
    const old = err > 0 ? this.conns.lookup(c, c.localPort) : null;
    if (old !== null) {
      // tcp_tw_reuse: the TIME-WAIT goes quietly; the new ISS starts past anything the old
      // incarnation sent (Linux: tw_snd_nxt + 65535 + 2), so its segments cannot be mistaken
      // for the new one's.
      this.issFloor = (old.tcb.sndNxt + 65537) >>> 0;
      old.tcb.abortQuietly();
      this.stats.timeWaitReused++;
    }
    this.conns.attach(c, this.setup.newTcb(c, overrides));
    this.stats.activeOpens++;
    this.output.lastTxError = 0;
    try {
      c.tcb.connect();
    } finally {
      this.issFloor = -1;
    }
    const tx = this.output.lastTxError;
    if (tx === IfaceErrno.ENETUNREACH || tx === IfaceErrno.EADDRNOTAVAIL) {
      c.tcb.abortQuietly(); // Linux connect(2) fails at once without a route
      return tx;
    }
    return c;
  }

  /**
   * Fills in c's 4-tuple for connect(); returns 0, 1 when it is held by a TIME-WAIT that
   * tcp_tw_reuse lets the connect take over, or a negative errno.
   */
  private bindLocal(
    c: TcpConn,
    remote: TcpEndpoint,
    local: { addr4?: number; addr6?: Uint8Array | null; port?: number },
  ): number {
    c.is4 = remote.is4;
    c.remotePort = remote.port;
    if (remote.is4) {
      c.remote4 = remote.addr4;
      c.local4 =
        local.addr4 !== undefined && local.addr4 !== 0 ? local.addr4 : this.setup.source4(c);
      if (c.local4 === 0) return IfaceErrno.EADDRNOTAVAIL;
      if (this.iface.addresses.indexOf4(c.local4) < 0) return IfaceErrno.EADDRNOTAVAIL;
    } else {
      c.remote6.set(remote.addr6);
      if (local.addr6 !== undefined && local.addr6 !== null && !isZero16(local.addr6)) {
        if (this.iface.addresses.indexOf6(local.addr6, 0) < 0) return IfaceErrno.EADDRNOTAVAIL;
        c.local6.set(local.addr6);
      } else if (!this.setup.source6(c)) return IfaceErrno.EADDRNOTAVAIL;
    }
    let port = local.port ?? 0;
    if (port === 0) {
      const takeOver = this.ctx.config.twReuse
        ? (p: number) => {
            const old = this.conns.lookup(c, p);
            return old !== null && this.timeWaitReusable(old, true);
          }
        : null;
      port = this.setup.pickPort(c, takeOver);
      if (port < 0) return port;
      c.localPort = port;
      return this.conns.lookup(c, port) !== null ? 1 : 0;
    }
    if (this.setup.ephemeralInUse(port)) {
      const old = this.conns.lookup(c, port);
      if (old !== null) {
        if (!this.timeWaitReusable(old, false)) return ERRNO_EADDRINUSE;
        c.localPort = port;
        return 1;
      }
    }
    c.localPort = port;
    return 0;
  }

  /**
   * Linux tcp_twsk_unique: whether a new outgoing connection may take over the 4-tuple `old`
   * holds. Only a TIME-WAIT that had timestamps, so that PAWS (RFC 7323 5) keeps the old
   * incarnation's duplicates out. From a port the socket bound itself (`ephemeral` false) that
   * is all Linux asks; a port the connect picks (`ephemeral`) also needs tcp_tw_reuse=1 (config
   * twReuse) and TS.Recent more than 1 s old.
   */
  private timeWaitReusable(old: TcpConn, ephemeral: boolean): boolean {
    const t = old.tcb;
    if (t.state !== TcpState.TimeWait || !t.tsOk) return false;
    if (!ephemeral) return true;
    return this.ctx.config.twReuse && t.timestamps.recentAgeMs(this.clock.now()) > 1000;
  }

  // ---- timers --------------------------------------------------------------------------------
  /**
   * host.deadlineChanged: the TCB's deadline may have moved. Noted once per connection; the
   * marked connections are re-filed together before the stack next looks at its timers, so a
   * batch of segments for one connection costs one heap update, and no caller above the stack
   * ever does timer bookkeeping.
   */
  deadlineChanged(tcb: Tcb): void {
    const c = tcb.context as TcpConn;
    if (c.deadlineMoved || !c.inTable) return;
    c.deadlineMoved = true;
    this.moved.push(c);
  }

  /** Re-files every connection whose deadline moved since the last call. */
  private refileMoved(): void {
    const moved = this.moved;
    for (let i = 0; i < moved.length; i++) {
      const c = moved.at(i);
      if (!c.deadlineMoved) continue; // re-filed since (runTimers files what onTimer moved)
      c.deadlineMoved = false;
      this.refile(c);
    }
    moved.clear();
  }

  /**
   * Files the connection under its TCB's next deadline. A deadline that only moved later (the
   * retransmission timer pushed back by every ACK) keeps its earlier slot: when that fires, the
   * TCB finds nothing due and the connection is filed again under its real deadline. So a
   * stream of ACKs costs no heap sift, as with Linux's lazily re-armed timers.
   */
  private refile(c: TcpConn): void {
    if (!c.inTable) return;
    const st = c.tcb.state;
    if (st === TcpState.TimeWait && !c.countedTimeWait) {
      c.countedTimeWait = true;
      this.stats.timeWait++;
    }
    const d = c.tcb.nextDeadline();
    if (c.heapIndex >= 0 && d >= c.deadline && d !== Infinity) return;
    if (d !== c.deadline || c.heapIndex < 0) this.heap.set(c, d);
  }

  /** Every listener (cold path: introspection). */
  allListeners(): Generator<TcpListener> {
    return this.listeners.all();
  }

  /** Every connection (cold path: introspection). */
  allConnections(): Generator<TcpConn> {
    return this.conns.all();
  }

  /**
   * Starts a receive batch at time `now` (the worker loop calls it around one iface.poll(), with
   * the reading it passes to that poll, so that one pass reads the clock once): until endBatch(),
   * every-second-segment ACKs and ACKs of FINs are deferred, so a connection sends one ACK per
   * batch, and the application's reply or FIN can carry it. The worker loop calls
   * sendOwedAcks() once the application's callbacks for the batch have run.
   */
  beginBatch(now: number = this.clock.now()): void {
    this.sendOwedAcks();
    this.ctx.ackBatch = this.owedAcks;
    this.ctx.batchNow = now;
    this.ctx.passNow = now;
  }

  endBatch(): void {
    this.ctx.ackBatch = null;
    this.ctx.batchNow = -1;
  }

  /**
   * The end of a pass, after the application's callbacks and before the device flush:
   * connections that waited for device room send (oldest first, while there is room), then
   * what the application wrote or ended since the last pass, then the ACKs deferred in the
   * last batch that nothing has carried since.
   */
  settle(): void {
    const building = this.waitingForRoom.length > 0 || this.outputAtSettle.length > 0;
    if (!building && this.owedAcks.length === 0) return;
    // One clock reading for all it builds, taken now: the app's callbacks may have run long.
    const ctx = this.ctx;
    const outer = ctx.batchNow;
    ctx.batchNow = ctx.passNow = this.clock.now();
    this.stackDepth++;
    try {
      if (this.waitingForRoom.length > 0) this.resumeWaiting();
      if (this.outputAtSettle.length > 0) this.sendAppOutput();
      this.sendOwedAcks();
    } finally {
      this.stackDepth--;
      ctx.batchNow = outer;
    }
  }

  /**
   * What the app wrote or ended since the last pass, while there is room; the rest waits for
   * room like any other output. Building it here, at the flush, rather than in the app's call
   * starts each retransmission timer when its segment leaves: an app that ends 20,000
   * connections in one callback spends a good part of an RTO in that callback, and segments
   * built at its start would time out before their ACKs could be read.
   */
  private sendAppOutput(): void {
    const pending = this.outputAtSettle;
    for (let i = 0; i < pending.length; i++) {
      const c = pending.at(i);
      c.outputDue = false;
      if (this.iface.txRoom() > 0) c.tcb.resumeOutput();
      else this.waitForRoom(c);
    }
    pending.clear();
  }

  /** Puts the connection at the back of the line for device room, unless it is in it. */
  private waitForRoom(c: TcpConn): void {
    if (c.waitingForRoom) return;
    c.waitingForRoom = true;
    this.waitingForRoom.push(c);
  }

  /**
   * At most a quarter batch of connections per pass: each may send a FIN that draws two frames
   * back (its ACK and the peer's FIN), and a pass receives one batch, so 20,000 connections
   * ended at once go out at the rate their replies can be taken in. A bulk sender is one
   * connection and sends what the room allows.
   */
  private resumeWaiting(): void {
    const waiting = this.waitingForRoom;
    let budget = Math.max(1, this.iface.device.batch >>> 2);
    // Only those in line now: one that waits again goes to the back, for a later pass.
    for (let n = waiting.length; n > 0; n--) {
      if (budget-- === 0 || this.iface.txRoom() <= 0) return;
      const c = waiting.shift();
      c.waitingForRoom = false;
      c.tcb.resumeOutput();
    }
  }

  /** Sends the ACKs deferred in the last batch that nothing has carried since, in one flush. */
  sendOwedAcks(): void {
    const owed = this.owedAcks;
    if (owed.length === 0) return;
    for (let i = 0; i < owed.length; i++) owed.at(i).sendOwedAck();
    owed.clear();
  }

  /**
   * Runs due connection timers, at most `max` of them (the worker loop passes its batch: ten
   * thousand SYNs retransmitted by one call would need more TX frames than the device has free,
   * while a few per pass go out as completions come back). Returns how many ran.
   */
  runTimers(now: number = this.clock.now(), max = 100_000): number {
    this.stackDepth++;
    try {
      return this.runDueTimers(now, max);
    } finally {
      this.stackDepth--;
    }
  }

  private runDueTimers(now: number, max: number): number {
    this.refileMoved();
    const heap = this.heap;
    let ran = 0;
    for (; ran < max; ran++) {
      const c = heap.peek();
      if (c === null || c.deadline > now) break;
      heap.remove(c);
      c.deadline = Infinity;
      c.tcb.onTimer();
      // Whatever onTimer moved is filed here, once: left in `moved`, it would be filed again
      // at the next look under its own deadline, undoing the guard below.
      c.deadlineMoved = false;
      this.refile(c);
      if (c.inTable && c.deadline <= now) heap.set(c, now + 1); // never spin on one TCB
    }
    return ran;
  }

  /** The earliest connection deadline (Infinity when none): how long the loop may park. */
  nextDeadline(): number {
    this.refileMoved();
    const c = this.heap.peek();
    return c === null ? Infinity : c.deadline;
  }

  /**
   * From a worker-count change on: create state for a new flow (a SYN-RECEIVED child, a cookie's
   * connection) or answer a segment without a connection with a reset only when `table` (a
   * RETA, indexed by the flow's RSS hash) gives the flow to this worker; null lifts the rule.
   * While the RETA changes, segments of a flow nobody has opened yet can still reach the worker
   * that owned its bucket before (sent before the change, or read from its ring after it):
   * state made there would be stranded when the flow's next segment goes to the new owner, and a
   * reset would kill a handshake the new owner is about to complete (the SO_REUSEPORT failure).
   * Dropped, the segment is retransmitted by the peer and reaches the owner.
   */
  ownNewFlowsBy(table: Uint8Array | null): void {
    if (table !== null && this.hasher === null) {
      throw Object.assign(new Error('new-flow ownership needs RSS steering'), { code: 'EINVAL' });
    }
    this.newFlowTable = table;
  }

  /** Whether this worker may open (or reset) the flow of `d`; see ownNewFlowsBy. */
  private ownsNewFlow(d: RxDatagram): boolean {
    const table = this.newFlowTable;
    if (table === null) return true;
    // Only a packet the dispatcher steered by its 4-tuple has its bucket: a reassembled IPv4
    // datagram or an IPv6 packet with extension headers went by its addresses alone
    // (ts/dev/steering/flow-owner.ts has the rules), to a worker the 4-tuple does not name.
    if (d.frameAddr < 0 || (d.family === 6 && d.l4Off !== d.ipOff + 40)) return true;
    const hasher = this.hasher as ToeplitzHasher;
    const hash =
      d.family === 4
        ? hasher.hashIpv4(d.buf, d.srcOff, d.l4Off)
        : hasher.hashIpv6(d.buf, d.srcOff, d.l4Off);
    if (table[hash & (table.length - 1)] === this.workerId) return true;
    this.stats.newFlowsNotOwned++;
    return false;
  }

  // ---- input ---------------------------------------------------------------------------------

  input(d: RxDatagram): number {
    const h = this.hdr;
    const r =
      d.family === 4
        ? parseTcp4(d.buf, d.l4Off, d.l4Len, d.ip4, h, d.l4ChecksumOk)
        : parseTcp6(d.buf, d.l4Off, d.l4Len, d.ip6, h, d.l4ChecksumOk);
    if (r !== DropReason.Ok) {
      this.stats.inErrs++;
      this.iface.countDrop(r);
      return InputResult.Done;
    }
    if (d.toGroup) return InputResult.Done; // RFC 1122 4.2.3.10: TCP is unicast only
    this.stats.inSegs++;
    this.stackDepth++;
    try {
      this.dispatch(d, h);
    } finally {
      this.stackDepth--;
    }
    return InputResult.Done;
  }

  /** Connection, else listener, else a reset (RFC 9293 3.10.7.1). */
  private dispatch(d: RxDatagram, h: TcpHeader): void {
    const c = this.conns.find(d, h);
    if (c !== null && c.inSynQueue && this.listenPath.cookieBeatsChild(c, d, h)) {
      this.listenPath.replaceChild(c, d, h);
      return;
    }
    if (c !== null) {
      const r = c.tcb.input(h, d.buf);
      if (r !== TcpInputResult.NewConnection) return;
      c.tcb.abortQuietly(); // RFC 6191: TIME-WAIT gives way to the new SYN
    }
    if (!this.ownsNewFlow(d)) return;
    const l = this.listeners.find(d, h);
    if (l === null) {
      this.output.resetFor(d, h, this.ctx.seg);
      return;
    }
    this.listenPath.input(l, d, h);
  }

  icmpError(e: IcmpErrorInfo): void {
    if (e.protocol !== 6) return;
    const c = this.conns.findIcmp(e);
    if (c !== null) applyIcmpError(c, e);
  }

  // ---- TcpHost -------------------------------------------------------------------------------

  transmit(tcb: Tcb, seg: TcpOutSegment): void {
    this.output.transmit(tcb, seg);
  }

  /**
   * Input, timers and settle() build segments at once. A call from the app (write, end) between
   * passes leaves them for settle(), which the loop runs before its flush: the frames leave at
   * the same moment either way, and the clock the TCB reads is the one they leave by. Writes of
   * one callback share segments, and the TCB's output path runs once for them.
   */
  defersOutput(tcb: Tcb): boolean {
    if (this.stackDepth > 0) return false;
    const c = tcb.context as TcpConn;
    if (!c.outputDue) {
      c.outputDue = true;
      this.outputAtSettle.push(c);
    }
    return true;
  }

  mayTransmit(tcb: Tcb): boolean {
    if (this.iface.txRoom() > 0) return true;
    this.waitForRoom(tcb.context as TcpConn);
    return false;
  }

  /** RFC 6528 ISN for the connection's 4-tuple, or the cookie's while rebuilding from one. */
  initialSequence(tcb: Tcb): number {
    const forced = this.listenPath.forcedIss;
    if (forced >= 0) return forced;
    const isn = this.isnFor(tcb.context as TcpConn);
    const floor = this.issFloor;
    return floor >= 0 && !seqGt(isn, floor) ? floor : isn;
  }

  private isnFor(c: TcpConn): number {
    const now = this.clock.now();
    if (!c.is4) return this.isn.next(c.local6, c.localPort, c.remote6, c.remotePort, now);
    const l = this.isnLocal;
    const r = this.isnRemote;
    writeV4(l, c.local4);
    writeV4(r, c.remote4);
    return this.isn.next(l.subarray(0, 4), c.localPort, r.subarray(0, 4), c.remotePort, now);
  }

  /**
   * Whether connections (in any state, TIME-WAIT included) use local `port`: bind(2) without
   * SO_REUSEADDR fails over them with EADDRINUSE (Linux inet_csk_bind_conflict; the bind bucket
   * holds connected and TIME-WAIT sockets too).
   */
  portUsedByConnections(port: number): boolean {
    return this.conns.portUsed(port);
  }

  notify(tcb: Tcb, event: TcpEvent): void {
    const c = tcb.context as TcpConn;
    switch (event) {
      case TcpEvent.Connected:
        c.established = true;
        this.listenPath.established(c);
        break;
      case TcpEvent.Error:
        if (!c.established) this.stats.attemptFails++;
        else if (tcb.error === 'ECONNRESET') this.stats.estabResets++;
        break;
      case TcpEvent.Closed:
        c.established = false;
        this.listenPath.leave(c);
        this.forget(c);
        break;
    }
    c.user?.onTcpEvent(c, event);
  }

  /** Out of the demux table and the timer heap. */
  private forget(c: TcpConn): void {
    if (!this.conns.detach(c)) return;
    this.heap.remove(c);
    c.deadline = Infinity;
  }

  /** Resets every connection and closes every listener (worker shutdown). */
  close(): void {
    // Snapshots: closing unlinks listeners from their chains and connections from the table.
    for (const l of [...this.listeners.all()]) this.closeListener(l);
    for (const c of [...this.conns.all()]) c.tcb.abort();
    this.iface.flush(); // the loop that would flush the resets is stopping
  }
}

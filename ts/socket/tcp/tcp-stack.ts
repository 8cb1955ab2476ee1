// TCP for one worker: demultiplexing by 4-tuple, listeners with SYN and accept queues, SYN
// cookies when a SYN queue is full (RFC 4987), resets for segments nobody owns (RFC 9293
// 3.10.7.1), the TcpHost that writes segments straight into TX frames, and a timer heap over
// TCB deadlines run from the worker loop. Every worker has its own TcpStack; listeners exist in
// every worker (SO_REUSEPORT semantics) and connect() picks source ports whose replies hash back
// to the calling worker. Sending only queues frames: the worker loop flushes the device once
// per pass, whoever sent (input, timers, the application's calls).

import type { Interface } from '../../iface/interface.js';
import { IfaceErrno } from '../../iface/errno.js';
import {
  IcmpErrorKind,
  InputResult,
  type IcmpErrorInfo,
  type RxDatagram,
  type TransportHandler,
} from '../../iface/transport.js';
import { DropReason } from '../../wire/drop-reason.js';
import {
  parseTcp4,
  parseTcp6,
  setTcp4Checksum,
  setTcp6Checksum,
  TcpFlag,
  TcpHeader,
  type TcpOptions,
  TCP_MAX_OPTIONS_LEN,
  TCP_MIN_HLEN,
  writeTcpHeader,
} from '../../wire/tcp.js';
import { DEFAULT_EPHEMERAL_RANGE, pickEphemeralPort } from '../../rss/ephemeral-port.js';
import type { Reta } from '../../rss/reta.js';
import type { ToeplitzHasher } from '../../rss/toeplitz.js';
import { type TcpConfig, tcpConfig } from './config.js';
import { type Clock, TcpEvent, type TcpHost, type TcpOutSegment } from './host.js';
import { IsnGenerator } from './isn.js';
import { fillResetFor } from './reset.js';
import { seqAdd, seqGe, seqLt } from './seq.js';
import { TcpState } from './state.js';
import { cookieSackOk, cookieTsVal, cookieWindowScale, SynCookies } from './syn-cookie.js';
import { Tcb, TcpContext, TcpInputResult } from './tcb.js';
import { TcpConn, TcpListener } from './tcp-conn.js';
import { TimerHeap } from './timer-heap.js';
import { MAX_UNSCALED_WINDOW, windowScaleFor } from './window.js';

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

/** The counters of /proc/net/snmp's Tcp line and TcpExt's listen/cookie ones, for this worker. */
export class TcpStats {
  activeOpens = 0;
  passiveOpens = 0;
  attemptFails = 0;
  estabResets = 0;
  currEstab = 0;
  inSegs = 0;
  outSegs = 0;
  retransSegs = 0;
  inErrs = 0;
  outRsts = 0;
  listenOverflows = 0;
  listenDrops = 0;
  syncookiesSent = 0;
  syncookiesRecv = 0;
  syncookiesFailed = 0;
  timeWait = 0;
  /** Segments the interface could not send (no frame, no route): retransmission covers them. */
  outErrors = 0;
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

const IP4_HLEN = 20;
const IP6_HLEN = 40;

export class TcpStack implements TransportHandler, TcpHost {
  readonly iface: Interface;
  readonly stats = new TcpStats();
  readonly ctx: TcpContext;
  readonly clock: Clock;
  readonly workerId: number;
  private readonly steering: { hasher: ToeplitzHasher; reta: Reta } | null;
  private readonly range: readonly [number, number];
  private readonly isn: IsnGenerator;
  private readonly cookies: SynCookies;
  private readonly syncookies: boolean;
  /** Demux: hash -> chain of connections (through conn.next). Keys are small integers. */
  private readonly conns = new Map<number, TcpConn>();
  private readonly listeners: (TcpListener | null)[] = new Array<TcpListener | null>(65536).fill(
    null,
  );
  /** Connections using each local port (bind and ephemeral-port conflicts). */
  private readonly portUsers = new Int32Array(65536);
  private readonly heap = new TimerHeap();
  /** Connections whose deadline may have moved since the timers were last looked at. */
  private readonly moved: TcpConn[] = [];
  private readonly hdr = new TcpHeader();
  /** TCBs owing an ACK at the end of the current receive batch (ctx.ackBatch while open). */
  private readonly owedAcks: Tcb[] = [];
  private readonly synHdr = new TcpHeader();
  private readonly w1 = new Uint32Array(4);
  private readonly w2 = new Uint32Array(4);
  private readonly isnLocal = new Uint8Array(16);
  private readonly isnRemote = new Uint8Array(16);
  /** Set while rebuilding a connection from a cookie: its SYN-ACK was already sent. */
  private suppressTransmit = false;
  private forcedIss = -1;
  /** Last errno of a transmit (0 = sent). */
  lastTxError = 0;

  constructor(iface: Interface, options: TcpStackOptions = {}) {
    this.iface = iface;
    this.clock = iface.clock;
    this.workerId = options.workerId ?? iface.workerId;
    this.steering = options.steering ?? null;
    this.range = options.ephemeralRange ?? DEFAULT_EPHEMERAL_RANGE;
    this.isn = new IsnGenerator(options.isnSecret);
    this.cookies = new SynCookies(options.cookieSecret);
    this.syncookies = options.syncookies ?? true;
    this.ctx = new TcpContext(this.clock, this, tcpConfig(options.config));
    iface.registerTransport(6, this);
  }

  /** Connections in the demux table (any state but CLOSED). */
  get connectionCount(): number {
    let n = 0;
    for (let c of this.conns.values()) for (; c !== null; c = c.next as TcpConn) n++;
    return n;
  }

  /** Connections filed in the timer heap (leak checks: 0 once every connection is gone). */
  get timerCount(): number {
    this.refileMoved();
    return this.heap.size;
  }

  /** Local ports held by connections (cold path: leak checks of the port bookkeeping). */
  get portsInUse(): number {
    let n = 0;
    for (let p = 0; p < 65536; p++) if (this.portUsers[p] !== 0) n++;
    return n;
  }

  // ---- listeners and ports -------------------------------------------------------------------

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
      port = this.randomPort((p) => this.listenConflicts(l, p));
      if (port < 0) return port;
    } else if (this.listenConflicts(l, port)) {
      return ERRNO_EADDRINUSE;
    }
    l.localPort = port;
    l.next = this.listeners[port];
    this.listeners[port] = l;
    return l;
  }

  /**
   * Closes a listener: unaccepted connections are reset (Linux inet_csk_listen_stop), SYN queue
   * children are dropped.
   */
  closeListener(l: TcpListener): void {
    if (!l.open) return;
    l.open = false;
    let p = this.listeners[l.localPort];
    if (p === l) this.listeners[l.localPort] = l.next;
    else {
      while (p !== null && p.next !== l) p = p.next;
      if (p !== null) p.next = l.next;
    }
    l.next = null;
    for (const c of this.connsOf(l)) c.tcb.abort();
    let c: TcpConn | null;
    while ((c = l.accept()) !== null) c.tcb.abort();
  }

  private connsOf(l: TcpListener): TcpConn[] {
    const out: TcpConn[] = [];
    for (let c of this.conns.values()) {
      for (; c !== null; c = c.next as TcpConn) if (c.listener === l && c.inSynQueue) out.push(c);
    }
    return out;
  }

  // Linux inet_csk_bind_conflict: another listener on an overlapping address always conflicts
  // (no SO_REUSEPORT here: every worker has its own table); connections on the port conflict
  // unless SO_REUSEADDR (which is what lets a server restart over TIME-WAIT).
  private listenConflicts(l: TcpListener, port: number): boolean {
    for (let p = this.listeners[port]; p !== null; p = p.next) if (overlaps(l, p)) return true;
    return !l.reuseAddr && this.portUsers[port] > 0;
  }

  private randomPort(conflicts: (port: number) => boolean): number {
    const [lo, hi] = this.range;
    const span = hi - lo + 1;
    const start = Math.floor(Math.random() * span);
    for (let k = 0; k < span; k++) {
      const port = lo + ((start + k) % span);
      if (!conflicts(port)) return port;
    }
    return IfaceErrno.EADDRNOTAVAIL;
  }

  private ephemeralInUse(port: number): boolean {
    return this.listeners[port] !== null || this.portUsers[port] > 0;
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
    c.is4 = remote.is4;
    c.remotePort = remote.port;
    if (remote.is4) {
      c.remote4 = remote.addr4;
      c.local4 = local.addr4 !== undefined && local.addr4 !== 0 ? local.addr4 : this.source4(c);
      if (c.local4 === 0) return IfaceErrno.EADDRNOTAVAIL;
      if (this.iface.addresses.indexOf4(c.local4) < 0) return IfaceErrno.EADDRNOTAVAIL;
    } else {
      c.remote6.set(remote.addr6);
      if (local.addr6 !== undefined && local.addr6 !== null && !isZero16(local.addr6)) {
        if (this.iface.addresses.indexOf6(local.addr6, 0) < 0) return IfaceErrno.EADDRNOTAVAIL;
        c.local6.set(local.addr6);
      } else if (!this.source6(c)) return IfaceErrno.EADDRNOTAVAIL;
    }
    let port = local.port ?? 0;
    if (port === 0) {
      port = this.pickPort(c);
      if (port < 0) return port;
    } else if (this.ephemeralInUse(port) && this.lookupConn(c, port) !== null) {
      return ERRNO_EADDRINUSE;
    }
    c.localPort = port;
    this.attach(c, this.newTcb(c, overrides));
    this.stats.activeOpens++;
    this.lastTxError = 0;
    c.tcb.connect();
    const err = this.lastTxError;
    if (err === IfaceErrno.ENETUNREACH || err === IfaceErrno.EADDRNOTAVAIL) {
      c.tcb.abortQuietly(); // Linux connect(2) fails at once without a route
      return err;
    }
    return c;
  }

  private pickPort(c: TcpConn): number {
    if (this.steering !== null) {
      try {
        return pickEphemeralPort({
          hasher: this.steering.hasher,
          reta: this.steering.reta,
          worker: this.workerId,
          localAddr: c.is4 ? v4Bytes(c.local4) : c.local6.slice(),
          remoteAddr: c.is4 ? v4Bytes(c.remote4) : c.remote6.slice(),
          remotePort: c.remotePort,
          inUse: (p: number) => this.ephemeralInUse(p),
          range: this.range,
        });
      } catch {
        return IfaceErrno.EADDRNOTAVAIL;
      }
    }
    return this.randomPort((p) => this.ephemeralInUse(p));
  }

  // The source the interface would pick: the address on the destination's subnet, else the first.
  private source4(c: TcpConn): number {
    const a = this.iface.addresses;
    for (let i = 0; i < a.v4.length; i++) {
      const p = a.v4Prefix[i];
      const mask = p === 0 ? 0 : (0xffffffff << (32 - p)) >>> 0;
      if (((a.v4[i] ^ c.remote4) & mask) >>> 0 === 0) return a.v4[i];
    }
    return a.v4.length > 0 ? a.v4[0] : 0;
  }

  private source6(c: TcpConn): boolean {
    const a = this.iface.addresses;
    if (a.v6Count === 0) return false;
    const linkLocal = c.remote6[0] === 0xfe && (c.remote6[1] & 0xc0) === 0x80;
    const ll = a.v6LinkLocalIndex;
    let pick = -1;
    for (let i = 0; i < a.v6Count && pick < 0; i++) if ((i === ll) === linkLocal) pick = i;
    if (pick < 0) pick = 0;
    c.local6.set(a.v6.subarray(16 * pick, 16 * pick + 16));
    return true;
  }

  private newTcb(c: TcpConn, overrides: Partial<TcpConfig>): Tcb {
    // RFC 9293 3.7.1 / RFC 1191: advertise what the path MTU carries.
    const mtu = c.is4 ? this.iface.pathMtu4(c.remote4) : this.iface.pathMtu6(c.remote6, 0);
    const mss = Math.max(88, mtu - (c.is4 ? IP4_HLEN : IP6_HLEN) - TCP_MIN_HLEN);
    const o = { ...overrides };
    if (o.mss === undefined || o.mss > mss) o.mss = mss;
    const tcb = new Tcb(this.ctx, c.localPort, c.remotePort, o);
    tcb.context = c;
    return tcb;
  }

  private attach(c: TcpConn, tcb: Tcb): void {
    c.tcb = tcb;
    if (c.is4) c.path.bind4(c.local4, c.remote4);
    else c.path.bind6(c.local6, 0, c.remote6, 0);
    c.key = c.is4
      ? key4(c.remote4, c.local4, c.remotePort, c.localPort)
      : key6(c.remote6, 0, c.local6, 0, c.remotePort, c.localPort);
    c.next = this.conns.get(c.key) ?? null;
    this.conns.set(c.key, c);
    c.inTable = true;
    this.portUsers[c.localPort]++;
  }

  private detach(c: TcpConn): void {
    if (!c.inTable) return;
    c.inTable = false;
    this.portUsers[c.localPort]--;
    const head = this.conns.get(c.key) ?? null;
    if (head === c) {
      if (c.next === null) this.conns.delete(c.key);
      else this.conns.set(c.key, c.next);
    } else {
      let p = head;
      while (p !== null && p.next !== c) p = p.next;
      if (p !== null) p.next = c.next;
    }
    c.next = null;
    this.heap.remove(c);
    c.deadline = Infinity;
  }

  /** An existing connection with c's addresses and remote port on `port`, or null. */
  private lookupConn(c: TcpConn, port: number): TcpConn | null {
    const k = c.is4
      ? key4(c.remote4, c.local4, c.remotePort, port)
      : key6(c.remote6, 0, c.local6, 0, c.remotePort, port);
    for (let p = this.conns.get(k) ?? null; p !== null; p = p.next) {
      if (p.localPort !== port || p.remotePort !== c.remotePort || p.is4 !== c.is4) continue;
      if (c.is4 ? p.remote4 === c.remote4 && p.local4 === c.local4 : eq16(p.remote6, c.remote6, 0))
        return p;
    }
    return null;
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
      const c = moved[i];
      c.deadlineMoved = false;
      this.refile(c);
    }
    moved.length = 0;
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
  *allListeners(): Generator<TcpListener> {
    for (const first of this.listeners) {
      for (let l = first; l !== null; l = l.next) yield l;
    }
  }

  /** Every connection (cold path: introspection). */
  *allConnections(): Generator<TcpConn> {
    for (const first of this.conns.values()) {
      for (let c: TcpConn | null = first; c !== null; c = c.next) yield c;
    }
  }

  /**
   * Starts a receive batch (the worker loop calls it around one iface.poll()): until endBatch(),
   * every-second-segment ACKs and ACKs of FINs are deferred, so a connection sends one ACK per
   * batch, and the application's reply or FIN can carry it. The worker loop calls
   * sendOwedAcks() once the application's callbacks for the batch have run.
   */
  beginBatch(): void {
    this.sendOwedAcks();
    this.ctx.ackBatch = this.owedAcks;
  }

  endBatch(): void {
    this.ctx.ackBatch = null;
  }

  /** Sends the ACKs deferred in the last batch that nothing has carried since, in one flush. */
  sendOwedAcks(): void {
    const owed = this.owedAcks;
    if (owed.length === 0) return;
    for (let i = 0; i < owed.length; i++) owed[i].sendOwedAck();
    owed.length = 0;
  }

  /**
   * Runs due connection timers, at most `max` of them (the worker loop passes its batch: ten
   * thousand SYNs retransmitted by one call would need more TX frames than the device has free,
   * while a few per pass go out as completions come back). Returns how many ran.
   */
  runTimers(now: number = this.clock.now(), max = 100_000): number {
    this.refileMoved();
    const heap = this.heap;
    let ran = 0;
    for (; ran < max; ran++) {
      const c = heap.peek();
      if (c === null || c.deadline > now) break;
      heap.remove(c);
      c.deadline = Infinity;
      c.tcb.onTimer();
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

  // ---- input ---------------------------------------------------------------------------------

  input(d: RxDatagram): number {
    const h = this.hdr;
    const r =
      d.family === 4
        ? parseTcp4(d.buf, d.l4Off, d.l4Len, d.ip4, h)
        : parseTcp6(d.buf, d.l4Off, d.l4Len, d.ip6, h);
    if (r !== DropReason.Ok) {
      this.stats.inErrs++;
      this.iface.countDrop(r);
      return InputResult.Done;
    }
    if (d.toGroup) return InputResult.Done; // RFC 1122 4.2.3.10: TCP is unicast only
    this.stats.inSegs++;
    this.dispatch(d, h);
    return InputResult.Done;
  }

  private dispatch(d: RxDatagram, h: TcpHeader): void {
    const c = this.find(d, h);
    if (c !== null && c.inSynQueue && this.cookieBeatsChild(c, d, h)) {
      // The peer completed the handshake with a cookie SYN-ACK of ours while its retransmitted
      // SYN made this child (with another ISS): Linux would reset an established peer here.
      // The cookie wins: the child goes quietly and the listener rebuilds from the cookie.
      const l = c.listener as TcpListener;
      c.tcb.abortQuietly();
      this.inputListen(l, d, h);
      return;
    }
    if (c !== null) {
      const r = c.tcb.input(h, d.buf);
      if (r !== TcpInputResult.NewConnection) return;
      c.tcb.abortQuietly(); // RFC 6191: TIME-WAIT gives way to the new SYN
    }
    const l = this.findListener(d, h);
    if (l === null) {
      this.resetFor(d, h);
      return;
    }
    this.inputListen(l, d, h);
  }

  /** A bare ACK for a SYN-RECEIVED child that acknowledges a valid cookie, not the child's ISS. */
  private cookieBeatsChild(c: TcpConn, d: RxDatagram, h: TcpHeader): boolean {
    if (!this.syncookies || c.listener === null) return false;
    if ((h.flags & (TcpFlag.Syn | TcpFlag.Rst | TcpFlag.Ack)) !== TcpFlag.Ack) return false;
    if (h.ack === seqAdd(c.tcb.iss, 1)) return false;
    this.tupleWords(d);
    const ports = (h.srcPort << 16) | h.dstPort;
    const irs = (h.seq - 1) >>> 0;
    const iss = (h.ack - 1) >>> 0;
    return this.cookies.check(this.w1, this.w2, ports, irs, iss, this.clock.now()) >= 0;
  }

  private find(d: RxDatagram, h: TcpHeader): TcpConn | null {
    if (d.family === 4) {
      const k = key4(d.src4, d.dst4, h.srcPort, h.dstPort);
      for (let c = this.conns.get(k) ?? null; c !== null; c = c.next) {
        if (
          c.is4 &&
          c.remote4 === d.src4 &&
          c.local4 === d.dst4 &&
          c.remotePort === h.srcPort &&
          c.localPort === h.dstPort
        )
          return c;
      }
      return null;
    }
    const b = d.buf;
    const k = key6(b, d.srcOff, b, d.dstOff, h.srcPort, h.dstPort);
    for (let c = this.conns.get(k) ?? null; c !== null; c = c.next) {
      if (
        !c.is4 &&
        c.remotePort === h.srcPort &&
        c.localPort === h.dstPort &&
        eq16(c.remote6, b, d.srcOff) &&
        eq16(c.local6, b, d.dstOff)
      )
        return c;
    }
    return null;
  }

  // The most specific listener: bound address beats wildcard, IPv4 socket beats dual-stack.
  private findListener(d: RxDatagram, h: TcpHeader): TcpListener | null {
    let best: TcpListener | null = null;
    let bestScore = -1;
    for (let l = this.listeners[h.dstPort]; l !== null; l = l.next) {
      let score: number;
      if (d.family === 4) {
        if (!l.acceptsV4) continue;
        if (l.local4 !== 0 && l.local4 !== d.dst4) continue;
        score = (l.v6Socket ? 0 : 1) + (l.local4 !== 0 ? 2 : 0);
      } else {
        if (!l.acceptsV6) continue;
        if (!l.local6Any && !eq16(l.local6, d.buf, d.dstOff)) continue;
        score = l.local6Any ? 1 : 3;
      }
      if (score > bestScore) {
        best = l;
        bestScore = score;
      }
    }
    return best;
  }

  /** RFC 9293 3.10.7.2, with Linux's queue limits and RFC 4987 cookies. */
  private inputListen(l: TcpListener, d: RxDatagram, h: TcpHeader): void {
    const f = h.flags;
    if ((f & TcpFlag.Rst) !== 0) return;
    if ((f & TcpFlag.Ack) !== 0) {
      if ((f & TcpFlag.Syn) === 0 && this.syncookies && this.acceptCookie(l, d, h)) return;
      this.resetFor(d, h);
      return;
    }
    if ((f & TcpFlag.Syn) === 0) return;
    // Linux tcp_conn_request: a full accept queue drops the SYN silently (the client retries).
    if (l.acceptQueue.length >= l.backlog) {
      this.stats.listenOverflows++;
      this.stats.listenDrops++;
      return;
    }
    if (l.synQueueLength >= l.synBacklog) {
      if (this.syncookies) this.sendCookie(d, h);
      else this.stats.listenDrops++;
      return;
    }
    const c = this.childFor(l, d, h);
    if (c === null) return;
    c.tcb.openPassive(h, d.buf);
  }

  private childFor(l: TcpListener, d: RxDatagram, h: TcpHeader): TcpConn | null {
    const c = new TcpConn();
    c.is4 = d.family === 4;
    c.localPort = h.dstPort;
    c.remotePort = h.srcPort;
    if (c.is4) {
      c.local4 = d.dst4;
      c.remote4 = d.src4;
    } else {
      c.local6.set(d.buf.subarray(d.dstOff, d.dstOff + 16));
      c.remote6.set(d.buf.subarray(d.srcOff, d.srcOff + 16));
    }
    c.listener = l;
    c.inSynQueue = true;
    l.synQueueLength++;
    this.attach(c, this.newTcb(c, {}));
    this.stats.passiveOpens++;
    return c;
  }

  private tupleWords(d: RxDatagram): void {
    const r = this.w1;
    const q = this.w2;
    if (d.family === 4) {
      r.fill(0);
      q.fill(0);
      r[0] = d.src4;
      q[0] = d.dst4;
      return;
    }
    const b = d.buf;
    for (let i = 0; i < 4; i++) {
      r[i] = read32(b, d.srcOff + 4 * i);
      q[i] = read32(b, d.dstOff + 4 * i);
    }
  }

  /** A SYN-ACK whose ISN is a cookie; nothing is kept (RFC 4987 3.6). */
  private sendCookie(d: RxDatagram, h: TcpHeader): void {
    const now = this.clock.now();
    const cfg = this.ctx.config;
    this.tupleWords(d);
    const peerMss = h.options.mss >= 0 ? h.options.mss : 536;
    const mtu = d.family === 4 ? this.iface.pathMtu4(d.src4) : this.iface.pathMtu6(d.buf, d.srcOff);
    const ourMss = mtu - (d.family === 4 ? IP4_HLEN : IP6_HLEN) - TCP_MIN_HLEN;
    const iss = this.cookies.make(
      this.w1,
      this.w2,
      (h.srcPort << 16) | h.dstPort,
      h.seq,
      Math.min(peerMss, ourMss),
      now,
    );
    const seg = this.ctx.seg;
    seg.reset();
    const o = seg.header;
    o.srcPort = h.dstPort;
    o.dstPort = h.srcPort;
    o.seq = iss;
    o.ack = seqAdd(h.seq, 1);
    o.flags = TcpFlag.Syn | TcpFlag.Ack;
    o.window = Math.min(cfg.receiveBufferBytes, MAX_UNSCALED_WINDOW);
    const opt = seg.options;
    opt.mss = ourMss;
    const ts = cfg.timestamps && h.options.hasTimestamps;
    const ws = cfg.windowScaling && h.options.windowScale >= 0 && ts;
    const sack = cfg.sack && h.options.sackPermitted && ts;
    if (ws) opt.windowScale = windowScaleFor(cfg.receiveBufferMaxBytes);
    opt.sackPermitted = sack;
    if (ts) {
      // Without timestamps a cookie carries only the MSS (RFC 4987 3.6's known cost).
      opt.hasTimestamps = true;
      opt.tsVal = cookieTsVal(now, ws ? h.options.windowScale : -1, sack);
      opt.tsEcr = h.options.tsVal;
    }
    seg.hasOptions = true;
    this.stats.syncookiesSent++;
    this.sendRaw(d, seg);
  }

  /** The ACK completing a cookie handshake: rebuild the connection from it (RFC 4987 3.6). */
  private acceptCookie(l: TcpListener, d: RxDatagram, h: TcpHeader): boolean {
    if (l.acceptQueue.length >= l.backlog) {
      this.stats.listenOverflows++;
      this.stats.listenDrops++;
      return true; // Linux drops it: the client's retransmission may find room
    }
    this.tupleWords(d);
    const iss = (h.ack - 1) >>> 0;
    const irs = (h.seq - 1) >>> 0;
    const mss = this.cookies.check(
      this.w1,
      this.w2,
      (h.srcPort << 16) | h.dstPort,
      irs,
      iss,
      this.clock.now(),
    );
    if (mss < 0) {
      this.stats.syncookiesFailed++;
      return false;
    }
    this.stats.syncookiesRecv++;
    // The SYN as the peer sent it, as far as the cookie remembers.
    const syn = this.synHdr;
    syn.srcPort = h.srcPort;
    syn.dstPort = h.dstPort;
    syn.seq = irs;
    syn.ack = 0;
    syn.flags = TcpFlag.Syn;
    syn.window = h.window;
    syn.payloadLen = 0;
    syn.payloadOff = h.payloadOff;
    const so = syn.options;
    so.clear();
    so.mss = mss;
    const o = h.options;
    if (o.hasTimestamps && this.ctx.config.timestamps) {
      so.hasTimestamps = true;
      so.tsVal = o.tsVal;
      so.windowScale = cookieWindowScale(o.tsEcr);
      so.sackPermitted = cookieSackOk(o.tsEcr);
      o.tsEcr = 0; // our TSval was a cookie, not a clock reading: no RTT sample from it
    }
    const c = this.childFor(l, d, syn);
    if (c === null) return true;
    this.suppressTransmit = true;
    this.forcedIss = iss;
    try {
      c.tcb.openPassive(syn, d.buf);
      c.tcb.timestamps.clearOffset();
    } finally {
      this.suppressTransmit = false;
      this.forcedIss = -1;
    }
    c.tcb.input(h, d.buf);
    return true;
  }

  /** RFC 9293 3.10.7.1: a reset for a segment no connection or listener takes. */
  private resetFor(d: RxDatagram, h: TcpHeader): void {
    const seg = this.ctx.seg;
    if (!fillResetFor(h, seg)) return;
    this.sendRaw(d, seg);
  }

  icmpError(e: IcmpErrorInfo): void {
    if (e.protocol !== 6) return;
    const c = this.findIcmp(e);
    if (c === null) return;
    // RFC 5927 4.1: believe only errors quoting a sequence number in flight.
    const seq = read32(e.buf, e.l4Off + 4);
    const tcb = c.tcb;
    if (!(seqGe(seq, tcb.sndUna) && seqLt(seq, tcb.sndNxt))) return;
    if (e.kind === IcmpErrorKind.PacketTooBig) {
      // RFC 1191 6.3 / RFC 8201 5 / RFC 9293 3.7.3: the open connection adopts the new path MTU.
      tcb.pathMtuChanged(e.mtu - (c.is4 ? IP4_HLEN : IP6_HLEN) - TCP_MIN_HLEN);
      return;
    }
    const code = icmpCode(e.kind);
    if (code === null) return;
    // RFC 1122 4.2.3.9: hard errors abort only a connection still being opened; on an
    // established one they are soft (Linux keeps them in sk_err_soft and reports one if the
    // connection later times out).
    if (tcb.state !== TcpState.SynSent && tcb.state !== TcpState.SynReceived) {
      tcb.softError = code;
      return;
    }
    c.error = code;
    tcb.abortQuietly();
  }

  private findIcmp(e: IcmpErrorInfo): TcpConn | null {
    if (e.family === 4) {
      const k = key4(e.remote4, e.local4, e.remotePort, e.localPort);
      for (let c = this.conns.get(k) ?? null; c !== null; c = c.next) {
        if (c.is4 && c.remote4 === e.remote4 && c.local4 === e.local4) {
          if (c.remotePort === e.remotePort && c.localPort === e.localPort) return c;
        }
      }
      return null;
    }
    const k = key6(e.buf, e.remoteOff, e.buf, e.localOff, e.remotePort, e.localPort);
    for (let c = this.conns.get(k) ?? null; c !== null; c = c.next) {
      if (c.is4 || c.remotePort !== e.remotePort || c.localPort !== e.localPort) continue;
      if (eq16(c.remote6, e.buf, e.remoteOff) && eq16(c.local6, e.buf, e.localOff)) return c;
    }
    return null;
  }

  // ---- TcpHost -------------------------------------------------------------------------------

  transmit(tcb: Tcb, seg: TcpOutSegment): void {
    if (this.suppressTransmit) return;
    const c = tcb.context as TcpConn;
    if (c.noteSent(seg.header.seq, seg.header.flags, seg.payloadLen)) this.stats.retransSegs++;
    const len = TCP_MIN_HLEN + (seg.hasOptions ? optionsLength(seg.options) : 0) + seg.payloadLen;
    const at = this.iface.beginIpOnPath(c.path, len);
    if (at < 0) this.txFailed(at);
    else this.writeSegment(c.is4, at, len, seg);
    // A next hop whose resolution failed (the neighbour entry is FAILED): tell the TCB.
    if (this.lastTxError === IfaceErrno.EHOSTUNREACH) tcb.linkFailed('EHOSTUNREACH');
  }

  /** Sends `seg` back to the sender of `d` (resets and cookie SYN-ACKs: no connection). */
  private sendRaw(d: RxDatagram, seg: TcpOutSegment): void {
    const len = TCP_MIN_HLEN + (seg.hasOptions ? optionsLength(seg.options) : 0);
    const iface = this.iface;
    let at: number;
    if (d.family === 4) at = iface.beginIp4(d.src4, len, d.dst4);
    else {
      // beginIp6 copies the addresses, but into a frame other than the one being read.
      const r = this.isnRemote;
      const l = this.isnLocal;
      r.set(d.buf.subarray(d.srcOff, d.srcOff + 16));
      l.set(d.buf.subarray(d.dstOff, d.dstOff + 16));
      at = iface.beginIp6(r, 0, len, l, 0);
    }
    if (at < 0) {
      this.txFailed(at);
      return;
    }
    this.writeSegment(d.family === 4, at, len, seg);
  }

  private writeSegment(is4: boolean, at: number, len: number, seg: TcpOutSegment): void {
    const iface = this.iface;
    const tx = iface.tx;
    const b = tx.buf;
    const hl = writeTcpHeader(b, at, seg.header, seg.hasOptions ? seg.options : null);
    seg.copyPayload(b, at + hl);
    if (is4) setTcp4Checksum(b, at, len, tx.src4, tx.dst4);
    else setTcp6Checksum(b, at, len, b, tx.srcOff, b, tx.dstOff);
    const r = iface.finishIp(6, len, true);
    if (r !== 0) {
      this.txFailed(r);
      return;
    }
    this.lastTxError = 0;
    this.stats.outSegs++;
    if ((seg.header.flags & TcpFlag.Rst) !== 0) this.stats.outRsts++;
  }

  private txFailed(errno: number): void {
    this.lastTxError = errno;
    this.stats.outErrors++;
  }

  initialSequence(tcb: Tcb): number {
    if (this.forcedIss >= 0) return this.forcedIss;
    const c = tcb.context as TcpConn;
    const l = this.isnLocal;
    const r = this.isnRemote;
    if (c.is4) {
      writeV4(l, c.local4);
      writeV4(r, c.remote4);
      return this.isn.next(
        l.subarray(0, 4),
        c.localPort,
        r.subarray(0, 4),
        c.remotePort,
        this.clock.now(),
      );
    }
    return this.isn.next(c.local6, c.localPort, c.remote6, c.remotePort, this.clock.now());
  }

  notify(tcb: Tcb, event: TcpEvent): void {
    const c = tcb.context as TcpConn;
    switch (event) {
      case TcpEvent.Connected:
        c.established = true;
        this.stats.currEstab++;
        if (c.inSynQueue && c.listener !== null) {
          const l = c.listener;
          c.inSynQueue = false;
          l.synQueueLength--;
          c.inAcceptQueue = true;
          l.acceptQueue.push(c);
          l.onAcceptable?.();
        }
        break;
      case TcpEvent.Error:
        if (!c.established) this.stats.attemptFails++;
        else if (tcb.error === 'ECONNRESET') this.stats.estabResets++;
        break;
      case TcpEvent.Closed:
        if (c.established) this.stats.currEstab--;
        c.established = false;
        this.leaveListener(c);
        this.detach(c);
        break;
    }
    c.user?.onTcpEvent(c, event);
  }

  private leaveListener(c: TcpConn): void {
    const l = c.listener;
    if (l === null) return;
    if (c.inSynQueue) {
      c.inSynQueue = false;
      l.synQueueLength--;
    }
    if (c.inAcceptQueue) {
      c.inAcceptQueue = false;
      const i = l.acceptQueue.indexOf(c);
      if (i >= 0) l.acceptQueue.splice(i, 1);
    }
    c.listener = null;
  }

  // ---- output --------------------------------------------------------------------------------

  /** Resets every connection and closes every listener (worker shutdown). */
  close(): void {
    // A snapshot: closeListener unlinks the listener (and its next) from the port's chain.
    for (const l of [...this.allListeners()]) this.closeListener(l);
    const all: TcpConn[] = [];
    for (let c of this.conns.values()) for (; c !== null; c = c.next as TcpConn) all.push(c);
    for (const c of all) c.tcb.abort();
    this.iface.flush(); // the loop that would flush the resets is stopping
  }
}

/** Bytes writeTcpOptions will write for `o` (the same layout, without writing). */
function optionsLength(o: TcpOptions): number {
  let n = 0;
  if (o.mss >= 0) n += 4;
  if (o.hasTimestamps) n += 12;
  else if (o.sackPermitted) n += 4;
  if (o.windowScale >= 0) n += 4;
  const room = (TCP_MAX_OPTIONS_LEN - n - 4) >> 3;
  const blocks = Math.min(o.sackCount, room);
  if (blocks > 0) n += 4 + 8 * blocks;
  return n;
}

function icmpCode(kind: number): string | null {
  switch (kind) {
    case IcmpErrorKind.NetUnreachable:
      return 'ENETUNREACH';
    case IcmpErrorKind.HostUnreachable:
    case IcmpErrorKind.AdminProhibited:
      return 'EHOSTUNREACH';
    case IcmpErrorKind.PortUnreachable:
    case IcmpErrorKind.ProtocolUnreachable:
      return 'ECONNREFUSED';
    default:
      return null;
  }
}

function overlaps(a: TcpListener, b: TcpListener): boolean {
  if (!a.v6Socket && !b.v6Socket) return a.local4 === 0 || b.local4 === 0 || a.local4 === b.local4;
  if (a.v6Socket && b.v6Socket) {
    return a.local6Any || b.local6Any || eq16(a.local6, b.local6, 0);
  }
  const v6 = a.v6Socket ? a : b;
  return v6.acceptsV4;
}

function mixKey(h: number, v: number): number {
  h ^= Math.imul(v, 0x85ebca6b);
  h = (h << 13) | (h >>> 19);
  return Math.imul(h, 5) + 0xe6546b64;
}

/** Demux key: a 30-bit hash (a small integer, so Map lookups do not allocate). */
function key4(remote: number, local: number, rport: number, lport: number): number {
  let h = mixKey(0x2545f491, remote);
  h = mixKey(h, local);
  h = mixKey(h, (rport << 16) | lport);
  h ^= h >>> 16;
  return Math.imul(h, 0x7feb352d) & 0x3fffffff;
}

function key6(
  rb: Uint8Array,
  roff: number,
  lb: Uint8Array,
  loff: number,
  rport: number,
  lport: number,
): number {
  let h = 0x6a09e667;
  for (let i = 0; i < 16; i += 4) h = mixKey(h, read32(rb, roff + i));
  for (let i = 0; i < 16; i += 4) h = mixKey(h, read32(lb, loff + i));
  h = mixKey(h, (rport << 16) | lport);
  h ^= h >>> 16;
  return Math.imul(h, 0x7feb352d) & 0x3fffffff;
}

function read32(b: Uint8Array, off: number): number {
  return ((b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]) >>> 0;
}

function eq16(a: Uint8Array, b: Uint8Array, off: number): boolean {
  for (let i = 0; i < 16; i++) if (a[i] !== b[off + i]) return false;
  return true;
}

function isZero16(a: Uint8Array): boolean {
  for (let i = 0; i < 16; i++) if (a[i] !== 0) return false;
  return true;
}

function writeV4(b: Uint8Array, v: number): void {
  b[0] = v >>> 24;
  b[1] = (v >>> 16) & 0xff;
  b[2] = (v >>> 8) & 0xff;
  b[3] = v & 0xff;
}

function v4Bytes(addr: number): Uint8Array {
  const b = new Uint8Array(4);
  writeV4(b, addr);
  return b;
}

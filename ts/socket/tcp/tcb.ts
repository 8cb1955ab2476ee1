// The transmission control block: one TCP connection's state machine (RFC 9293 3.3.2, 3.10),
// driven by three kinds of calls and nothing else:
//
// - input(h, buf): a parsed segment for this connection (header fields and options in `h`, the
//   payload at buf[h.payloadOff .. + h.payloadLen]);
// - the application's calls: connect/listen/openPassive, write/read, shutdown/close/abort and
//   the socket options;
// - onTimer(): the owner calls it once clock.now() >= nextDeadline(). Every timer of the
//   connection (retransmission, persist, delayed ACK, keep-alive, TIME-WAIT, FIN-WAIT-2) is a
//   deadline field here; nextDeadline() is their minimum. The owner keeps TCBs in its own timer
//   wheel or heap keyed by nextDeadline(). Every call into the TCB (input, app calls, socket
//   options, onTimer) ends by telling the host that the deadline may have moved
//   (host.deadlineChanged), so whoever calls in never does timer bookkeeping: the host re-reads
//   nextDeadline() for the marked TCBs once per loop pass. No setTimeout per segment.
//
// Output goes through the stack's TcpHost (host.ts): transmit() for segments, notify() for
// events, initialSequence() for ISNs. Time comes from the injected clock, in milliseconds.

import { TcpFlag, type TcpHeader, type TcpOptions } from '../../wire/tcp.js';
import { AckCheck, checkAck, segmentAcceptable } from './acceptable.js';
import { type TcpConfig, tcpConfig } from './config.js';
import { type CongestionControl, createCongestionControl } from './congestion/index.js';
import { TcpExtStats } from './ext-stats.js';
import { KeepAlive, KeepAliveAction } from './keepalive.js';
import { type Clock, TcpEvent, type TcpHost, TcpOutSegment } from './host.js';
import { ReceiveBuffer } from './receive-buffer.js';
import { Reassembly } from './reassembly.js';
import { Rack } from './rack.js';
import { RttEstimator } from './rto.js';
import { LossRecovery, RecoveryKind } from './recovery.js';
import { DUP_THRESH, firstBlockIsDsack, SackScoreboard } from './sack-scoreboard.js';
import { SendBuffer } from './send-buffer.js';
import { seqAdd, seqGe, seqGt, seqLe, seqLt, seqMin, seqSub } from './seq.js';
import { canReceiveData, canSendData, TcpState } from './state.js';
import { Timestamps } from './timestamps.js';
import { WorkList } from '../work-list.js';
import {
  MAX_UNSCALED_WINDOW,
  receiveWindow,
  type SendDecisionInput,
  sendableBytes,
  windowScaleFor,
} from './window.js';

/** RFC 9293 3.7.1: the MSS assumed when the peer sends none. */
const DEFAULT_PEER_MSS = 536;
/** Bytes a timestamps option takes in every segment (with its two NOPs). */
const TS_OPTION_BYTES = 12;
/** The smallest send MSS a path-MTU message may impose (Linux tcp_min_snd_mss). */
const MIN_SEND_MSS = 48;
/** RFC 8985 7.2: the PTO before any RTT sample. */
const PTO_NO_RTT_MS = 1000;

/** What input() asks of its caller. */
export const TcpInputResult = {
  Done: 0,
  /**
   * A SYN arrived in TIME-WAIT that may start a new incarnation (RFC 9293 3.10.7.4, RFC 6191):
   * close this TCB (abortQuietly) and hand the same segment to the listener.
   */
  NewConnection: 1,
} as const;
export type TcpInputResult = (typeof TcpInputResult)[keyof typeof TcpInputResult];

/**
 * Header prediction (see Tcb.inputPredicted) is on unless a test turns it off to compare the
 * fast path with the full one; nothing else should touch it.
 */
let headerPrediction = true;

/** Tests only: turn header prediction on or off for every TCB. */
export function setHeaderPrediction(on: boolean): void {
  headerPrediction = on;
}

/** Shared by every TCB of one stack: created once. */
export class TcpContext {
  /** The one outgoing segment struct, filled just before each transmit(). */
  readonly seg = new TcpOutSegment();
  /** Loss-detection counters of every TCB of the stack (Linux TcpExt names). */
  readonly stats = new TcpExtStats();
  /**
   * Set by the owner while it processes one receive batch: a TCB owing an every-second-segment
   * ACK (or the ACK of a FIN) lists itself here once instead of sending it, and the owner calls
   * sendOwedAck() on each once the application has seen the batch, so a reply or a FIN it sends
   * carries the ACK. One ACK per batch per connection, as GRO plus delayed ACK give Linux;
   * out-of-order, duplicate and gap-filling ACKs still go at once.
   */
  ackBatch: WorkList<Tcb> | null = null;
  /**
   * The clock reading the owner took as the receive batch began, or -1 outside one: the segments
   * of one batch share it (as Linux's skbs carry their arrival stamp) rather than each reading
   * the clock.
   */
  batchNow = -1;
  /**
   * The owner's latest clock reading (a batch's or a settle's), -1 before the first: for what
   * needs only a pass's precision, as Linux's tcp_mstamp serves receive-buffer auto-tuning.
   */
  passNow = -1;
  constructor(
    readonly clock: Clock,
    readonly host: TcpHost,
    readonly config: TcpConfig = tcpConfig(),
  ) {}
}

export class Tcb {
  state: TcpState = TcpState.Closed;
  /** For the owner (addresses, socket object); the TCB never looks at it. */
  context: unknown = null;
  /** Errno code after an Error event. */
  error: string | null = null;
  /**
   * The last soft error (an ICMP unreachable or a failed neighbour on an open connection): a
   * connection that later times out reports it instead of ETIMEDOUT (Linux sk_err_soft,
   * tcp_write_err; RFC 1122 4.2.3.9 keeps such errors from aborting by themselves).
   */
  softError: string | null = null;
  /** Next hop unreachable while opening: fail with it at the next timer run (not re-entrantly). */
  private hardError: string | null = null;
  readonly config: TcpConfig;

  // Send sequence space (RFC 9293 3.3.1). sndNxt is the highest sequence sent so far: loss
  // recovery retransmits below it without moving it.
  iss = 0;
  sndUna = 0;
  sndNxt = 0;
  sndWnd = 0;
  sndWl1 = 0;
  sndWl2 = 0;
  maxSndWnd = 0;
  /** Shift applied to the peer's window field (its window scale). */
  sndShift = 0;
  // Receive sequence space.
  irs = 0;
  rcvNxt = 0;
  /** The right edge of the window we last advertised (never moves left). */
  rcvAdvRight = 0;
  /** Shift applied to our window field (our window scale). */
  rcvShift = 0;

  // Negotiated options.
  sendMss = DEFAULT_PEER_MSS;
  sackOk = false;
  readonly timestamps = new Timestamps();
  /** Timestamps negotiated (RFC 7323). */
  get tsOk(): boolean {
    return this.timestamps.enabled;
  }
  private lastAckSent = 0;
  private offerWindowScale = false;

  readonly sendBuffer: SendBuffer;
  readonly receiveBuffer: ReceiveBuffer;
  readonly reassembly: Reassembly;
  readonly rtt: RttEstimator;
  cc: CongestionControl;

  // FIN bookkeeping.
  private finQueued = false;
  private finSent = false;
  private finSeq = 0;
  private peerFinPending = false;
  private peerFinSeq = 0;
  private orphaned = false;
  private passiveOpen = false;

  /** Loss recovery (RFC 6675, RFC 6582), with the SACK scoreboard. */
  readonly recovery: LossRecovery;
  private cwndLimited = false;
  retransmits = 0;
  private firstRtxTime = -1;
  /**
   * New data was acknowledged since the host last sent for us: the peer is reachable (RFC 4861
   * 7.3.1). The host passes it on to its neighbour cache and clears it.
   */
  peerConfirmed = false;

  /** RACK (RFC 8985 6) when configured; SACK connections only. */
  readonly rack: Rack | null;
  // Tail loss probe (RFC 8985 7): one probe per tail; TLP.end_seq and TLP.is_retrans.
  private tlpPending = false;
  private tlpEndSeq = 0;
  private tlpIsRetrans = false;
  /** New data went out or new data was ACKed: output() restarts the PTO (RFC 8985 7.2). */
  private probeRestart = false;
  private probing = false;

  // RTT timing without timestamps (Karn).
  private rttTiming = false;
  private rttSeq = 0;
  private rttStart = 0;

  // ACK generation.
  private ackNow = false;
  private unackedBytes = 0;
  /** Listed in ctx.ackBatch: an ACK is owed at the end of the receive batch. */
  private ackOwed = false;
  private rcvMss = DEFAULT_PEER_MSS;

  private readonly sendDecision: SendDecisionInput = {
    queued: 0,
    usable: 0,
    mss: 0,
    inFlight: 0,
    maxSendWindow: 0,
    noDelay: false,
    cork: false,
    finQueued: false,
  };

  // Socket options.
  noDelay: boolean;
  cork = false;
  readonly keepAlive: KeepAlive;

  // Timers: absolute deadlines in ms, Infinity when off.
  rtxDeadline = Infinity;
  /** A send failed on the path MTU (pathMtuExceeded): the MSS it allows, applied at this time. */
  private pmtuMss = 0;
  private pmtuDeadline = Infinity;
  /** Tail loss probe timeout (RFC 8985 7.2). */
  probeDeadline = Infinity;
  /** RACK reordering timer (RFC 8985 6.3). */
  rackDeadline = Infinity;
  persistDeadline = Infinity;
  delAckDeadline = Infinity;
  timeWaitDeadline = Infinity;
  finWait2Deadline = Infinity;
  private persistBackoff = 0;
  private challengeWindowStart = -Infinity;
  private challengeCount = 0;
  /** Events raised while processing, delivered when the TCB is consistent again (bit per event). */
  private pendingEvents = 0;
  private flushing = false;
  /** Inside a call (input, onTimer, write, read, ...): now() reads the clock at most once. */
  private inCall = false;
  /** The call's clock reading; NaN until the call's first now() (see beginCall). */
  private callNow = NaN;

  constructor(
    private readonly ctx: TcpContext,
    readonly localPort: number,
    readonly remotePort: number,
    overrides: Partial<TcpConfig> = {},
  ) {
    this.config = { ...ctx.config, ...overrides };
    const c = this.config;
    this.sendBuffer = new SendBuffer(c.sendBufferBytes);
    this.receiveBuffer = new ReceiveBuffer(c.receiveBufferBytes, c.receiveBufferMaxBytes);
    this.reassembly = new Reassembly(c.reassemblyRanges);
    this.recovery = new LossRecovery(new SackScoreboard(c.scoreboardRanges));
    this.rack = c.rack ? new Rack() : null;
    this.rtt = new RttEstimator(c);
    this.cc = createCongestionControl(c.congestion, DEFAULT_PEER_MSS);
    this.noDelay = c.noDelay;
    this.keepAlive = new KeepAlive(c.keepAliveIdleMs, c.keepAliveIntervalMs, c.keepAliveCount);
    this.keepAlive.enabled = c.keepAlive;
  }

  /**
   * The clock, read once per segment, timer run or application call (as Linux's
   * tcp_mstamp_refresh per segment): while one runs, every step (RTT samples, the TSval of each
   * segment a 64 KiB write sends, RACK, timers) sees the same reading instead of reading the
   * clock once per step (about 100 ns each in Node).
   */
  private now(): number {
    if (!this.inCall) return this.ctx.clock.now();
    // NaN !== NaN: the first now() of an application call reads the clock.
    if (this.callNow !== this.callNow) this.callNow = this.ctx.clock.now();
    return this.callNow;
  }

  /** Opens an application call's clock scope unless a call is already running; see endCall. */
  private beginCall(): boolean {
    if (this.inCall) return false;
    this.inCall = true;
    // Inside the owner's batch or settle, its reading; otherwise the first now() reads one.
    this.callNow = this.ctx.batchNow >= 0 ? this.ctx.batchNow : NaN;
    return true;
  }

  /** Closes the scope beginCall opened (`opened` is what it returned). */
  private endCall(opened: boolean): void {
    if (opened) this.inCall = false;
  }

  // ---- Application calls -------------------------------------------------------------------

  /** Active open (RFC 9293 3.10.1): send a SYN and enter SYN-SENT. */
  connect(): void {
    this.openActive();
    this.flush();
  }

  private openActive(): void {
    if (this.state !== TcpState.Closed) throw this.stateError('connect');
    this.chooseIss();
    this.offerWindowScale = this.config.windowScaling;
    this.rcvShift = this.offerWindowScale ? windowScaleFor(this.receiveBuffer.maxCapacity) : 0;
    this.state = TcpState.SynSent;
    this.sendSyn(false);
  }

  /** Passive open (RFC 9293 3.10.1): wait for a SYN. */
  listen(): void {
    if (this.state !== TcpState.Closed) throw this.stateError('listen');
    this.state = TcpState.Listen;
  }

  /** A listener's new connection: LISTEN plus the SYN that created it. */
  openPassive(syn: TcpHeader, buf: Uint8Array): void {
    this.listen();
    this.input(syn, buf);
  }

  /**
   * Queue up to `len` bytes for sending; returns how many were taken (0 when full). With `more`
   * (Linux MSG_MORE) the bytes only queue: more follow at once, and the next write without it
   * sends them all in full-sized segments.
   */
  write(src: Uint8Array, off: number, len: number, more = false): number {
    const opened = this.beginCall();
    let r: number;
    try {
      r = this.writeData(src, off, len, more);
    } finally {
      this.endCall(opened);
    }
    this.flush();
    return r;
  }

  /** The host has room again after mayTransmit() said no: send what is waiting. */
  resumeOutput(): void {
    if (!this.isSendingState()) return;
    const opened = this.beginCall();
    try {
      this.output();
    } finally {
      this.endCall(opened);
    }
    this.flush();
  }

  /** Sends what writes with `more` queued (a write without MSG_MORE that adds nothing). */
  push(): void {
    if (this.sendBuffer.length > 0 && canSendData(this.state)) this.output();
    this.flush();
  }

  private writeData(src: Uint8Array, off: number, len: number, more: boolean): number {
    if (this.finQueued || !this.canQueueData()) return 0;
    const n = this.sendBuffer.write(src, off, len);
    if (!more && this.sendBuffer.length > 0 && canSendData(this.state)) this.output();
    return n;
  }

  /** Copy up to `len` in-order received bytes out; returns how many. */
  read(dst: Uint8Array, off: number, len: number): number {
    const opened = this.beginCall();
    let r: number;
    try {
      r = this.readData(dst, off, len);
    } finally {
      this.endCall(opened);
    }
    this.flush();
    return r;
  }

  private readData(dst: Uint8Array, off: number, len: number): number {
    const n = this.receiveBuffer.read(dst, off, len);
    if (n === 0) return 0;
    const passNow = this.ctx.passNow;
    const now = passNow >= 0 ? passNow : this.now();
    this.receiveBuffer.autotune(now, this.rtt.hasSample ? this.rtt.srtt : 100);
    if (canReceiveData(this.state) && this.windowUpdateWorthSending()) this.sendAck();
    return n;
  }

  /** Bytes ready for read(). */
  readable(): number {
    return this.receiveBuffer.length;
  }

  /** Room in the send buffer. */
  writable(): number {
    return this.finQueued || !this.canQueueData() ? 0 : this.sendBuffer.free;
  }

  /** Bytes written but not yet acknowledged. */
  unacknowledged(): number {
    return this.sendBuffer.length;
  }

  /** Close the sending side (shutdown(SHUT_WR)): a FIN follows the queued data. */
  shutdown(): void {
    this.shutdownWrite();
    this.flush();
  }

  private shutdownWrite(): void {
    switch (this.state) {
      case TcpState.Listen:
      case TcpState.SynSent:
        this.enterClosed(null);
        return;
      case TcpState.SynReceived:
        this.finQueued = true; // RFC 9293 3.10.4: sent once ESTABLISHED
        return;
      case TcpState.Established:
        this.finQueued = true;
        this.state = TcpState.FinWait1;
        this.output();
        return;
      case TcpState.CloseWait:
        this.finQueued = true;
        this.state = TcpState.LastAck;
        this.output();
        return;
    }
  }

  /**
   * Close both directions (close(2)). Unread received data turns it into an abort (RFC 2525
   * 2.17, as Linux does); data arriving afterwards is answered with a reset (RFC 1122 4.2.2.13).
   */
  close(): void {
    this.closeBoth();
    this.flush();
  }

  private closeBoth(): void {
    if (this.state === TcpState.Closed) return;
    if (this.receiveBuffer.length > 0) {
      this.abortNow();
      return;
    }
    this.orphaned = true;
    this.shutdownWrite();
    if (this.state === TcpState.FinWait2) this.armFinWait2(this.now());
  }

  /** ABORT (RFC 9293 3.10.5): reset the peer if synchronized, then CLOSED. */
  abort(): void {
    this.abortNow();
    this.flush();
  }

  private abortNow(): void {
    if (this.isSynchronized() && this.state !== TcpState.TimeWait) {
      this.sendReset(this.sndNxt);
    }
    this.enterClosed(null);
  }

  /** Go to CLOSED without sending anything (e.g. TIME-WAIT handing over to a new SYN). */
  abortQuietly(): void {
    this.enterClosed(null);
    this.flush();
  }

  setNoDelay(on: boolean): void {
    this.noDelay = on;
    if (on && canSendData(this.state)) this.output();
    this.flush();
  }

  /** TCP_CORK: only full segments go out until uncorked. */
  setCork(on: boolean): void {
    this.cork = on;
    if (!on && this.isSendingState()) this.output();
    this.flush();
  }

  setKeepAlive(on: boolean, idleMs?: number, intervalMs?: number, count?: number): void {
    const k = this.keepAlive;
    if (idleMs !== undefined) k.idleMs = idleMs;
    if (intervalMs !== undefined) k.intervalMs = intervalMs;
    if (count !== undefined) k.count = count;
    k.set(on);
    this.flush();
  }

  setUserTimeout(ms: number): void {
    this.config.userTimeoutMs = ms;
    this.flush();
  }

  /** The earliest deadline of any timer, in clock milliseconds (Infinity if none). */
  nextDeadline(): number {
    return Math.min(
      this.rtxDeadline,
      this.pmtuDeadline,
      this.probeDeadline,
      this.rackDeadline,
      this.persistDeadline,
      this.delAckDeadline,
      this.keepAlive.deadline,
      this.timeWaitDeadline,
      this.finWait2Deadline,
    );
  }

  /** Run every timer whose deadline has passed. */
  onTimer(): void {
    this.callNow = this.ctx.clock.now();
    this.inCall = true;
    try {
      this.runTimers();
    } finally {
      this.inCall = false;
    }
    this.flush();
  }

  private runTimers(): void {
    const now = this.now();
    if (this.timeWaitDeadline <= now || this.finWait2Deadline <= now) {
      this.enterClosed(null);
      return;
    }
    if (this.pmtuDeadline <= now) {
      this.pmtuDeadline = Infinity;
      const mss = this.pmtuMss;
      this.pmtuMss = 0;
      this.pathMtuChanged(mss);
    }
    // A timer that closes the connection stops the others (enterClosed), so the order is safe.
    if (this.rackDeadline <= now) this.onRackTimeout(now);
    // A probe capped at the RTO's expiry goes first and re-arms the RTO (RFC 8985 7.2, 7.3).
    if (this.probeDeadline <= now) this.onProbeTimeout(now);
    if (this.rtxDeadline <= now) this.onRetransmitTimeout(now);
    if (this.persistDeadline <= now) this.onPersistTimeout(now);
    if (this.keepAlive.deadline <= now) this.onKeepAliveTimeout(now);
    if (this.delAckDeadline <= now) {
      this.delAckDeadline = Infinity;
      this.sendAck();
    }
  }

  // ---- Segment arrival (RFC 9293 3.10.7) ---------------------------------------------------

  input(h: TcpHeader, buf: Uint8Array): TcpInputResult {
    const batchNow = this.ctx.batchNow;
    this.callNow = batchNow >= 0 ? batchNow : this.ctx.clock.now();
    this.inCall = true;
    let r: TcpInputResult = TcpInputResult.Done;
    try {
      if (!headerPrediction || !this.inputPredicted(h, buf)) r = this.inputSegment(h, buf);
    } finally {
      // Events go out from flush(): what the application does there reads the clock afresh.
      this.inCall = false;
    }
    this.flush();
    return r;
  }

  /**
   * Header prediction (Van Jacobson's, as Linux tcp_rcv_established's fast path): in
   * ESTABLISHED, the next in-order segment (SEG.SEQ = RCV.NXT) with only ACK and maybe PSH set,
   * no SACK blocks, a TSval no older than TS.Recent (RFC 7323 5.3 R1 passes trivially), while no
   * loss recovery, tail loss probe or out-of-order data is pending, is one of two kinds:
   *
   * (a) a pure ACK of new data (SND.UNA < SEG.ACK <= SND.NXT), the sender's common case;
   * (b) in-order data that fits the window and the buffer, with an acceptable ACK
   *     (SND.UNA <= SEG.ACK <= SND.NXT): the receiver's case, and with a new ACK both at once
   *     (request/response, transfers both ways; Linux takes those through tcp_ack too).
   *
   * For those the checks of RFC 9293 3.10.7.4 cannot fail (the segment is acceptable, no RST or
   * SYN, the ACK is neither future nor too old, our FIN is not being acknowledged in
   * ESTABLISHED, no FIN to process) and the duplicate-ACK logic has nothing to count, so this
   * runs only the steps that do something, in the same order as the full path: keep-alive,
   * TS.Recent, the ACK, RACK, SND.WND, the text, output. Returns false (nothing done) for any
   * other segment, which then takes the full path.
   */
  private inputPredicted(h: TcpHeader, buf: Uint8Array): boolean {
    if (this.state !== TcpState.Established) return false;
    if ((h.flags & ~TcpFlag.Psh) !== TcpFlag.Ack) return false;
    const seq = h.seq;
    if (seq !== this.rcvNxt || this.tlpPending || this.peerFinPending || this.recovery.active) {
      return false;
    }
    const o = h.options;
    if (o.sackCount !== 0) return false;
    const ts = this.timestamps;
    if (ts.enabled && !(o.hasTimestamps && seqGe(o.tsVal, ts.recent))) return false;
    const ack = h.ack;
    const len = h.payloadLen;
    const newAck = seqGt(ack, this.sndUna);
    if (seqGt(ack, this.sndNxt) || seqLt(ack, this.sndUna)) return false;
    if (len === 0) {
      // A duplicate ACK or a window update: the full path counts it (RFC 5681 2, RFC 6675 2).
      if (!newAck) return false;
    } else if (
      !this.reassembly.isEmpty ||
      this.orphaned ||
      seqSub(this.rcvAdvRight, this.rcvNxt) <= 0 ||
      len > this.receiveBuffer.free
    ) {
      return false;
    }
    const now = this.callNow;
    this.keepAlive.heard(now);
    ts.update(o, seq, this.lastAckSent, now);
    if (newAck) this.onNewAck(h, ack, now);
    if (this.rack !== null && this.sackOk) this.rackOnAck(now);
    this.updateSendWindow(seq, ack, h.window << this.sndShift);
    if (len > 0) this.receiveData(seq, buf, h.payloadOff, len, now);
    this.output();
    return true;
  }

  private inputSegment(h: TcpHeader, buf: Uint8Array): TcpInputResult {
    switch (this.state) {
      case TcpState.Closed:
        return TcpInputResult.Done; // the owner answers with fillResetFor (reset.ts)
      case TcpState.Listen:
        this.inputListen(h);
        return TcpInputResult.Done;
      case TcpState.SynSent:
        this.inputSynSent(h);
        return TcpInputResult.Done;
      default:
        return this.inputSynchronized(h, buf);
    }
  }

  /** RFC 9293 3.10.7.2. */
  private inputListen(h: TcpHeader): void {
    const f = h.flags;
    if ((f & TcpFlag.Rst) !== 0) return;
    if ((f & TcpFlag.Ack) !== 0) {
      this.sendReset(h.ack);
      return;
    }
    if ((f & TcpFlag.Syn) === 0) return;
    this.irs = h.seq;
    this.rcvNxt = seqAdd(h.seq, 1);
    this.rcvAdvRight = this.rcvNxt;
    this.lastAckSent = this.rcvNxt;
    this.offerWindowScale = this.config.windowScaling && h.options.windowScale >= 0;
    this.negotiate(h.options);
    this.chooseIss();
    this.setInitialWindow(h);
    this.passiveOpen = true;
    this.state = TcpState.SynReceived;
    this.sendSyn(true);
  }

  /** RFC 9293 3.10.7.3. */
  private inputSynSent(h: TcpHeader): void {
    const f = h.flags;
    const hasAck = (f & TcpFlag.Ack) !== 0;
    if (hasAck && (seqLe(h.ack, this.iss) || seqGt(h.ack, this.sndNxt))) {
      if ((f & TcpFlag.Rst) === 0) this.sendReset(h.ack);
      return;
    }
    if ((f & TcpFlag.Rst) !== 0) {
      // RFC 5961 3.2: only a RST that acknowledges our SYN is believed.
      if (hasAck) this.fail('ECONNREFUSED');
      return;
    }
    if ((f & TcpFlag.Syn) === 0) return;
    this.irs = h.seq;
    this.rcvNxt = seqAdd(h.seq, 1);
    this.rcvAdvRight = this.rcvNxt;
    this.lastAckSent = this.rcvNxt;
    this.negotiate(h.options);
    this.setInitialWindow(h);
    if (!hasAck) {
      this.state = TcpState.SynReceived; // simultaneous open (RFC 9293 3.5 figure 7)
      this.sendSyn(true);
      return;
    }
    this.sampleRttOnAck(h, h.ack, this.now());
    this.sndUna = h.ack;
    this.establish();
    this.ackNow = true;
    this.output();
  }

  private inputSynchronized(h: TcpHeader, buf: Uint8Array): TcpInputResult {
    const now = this.now();
    const f = h.flags;
    const syn = (f & TcpFlag.Syn) !== 0;
    const rst = (f & TcpFlag.Rst) !== 0;
    if (
      this.state === TcpState.SynReceived &&
      syn &&
      (f & TcpFlag.Ack) === 0 &&
      h.seq === this.irs
    ) {
      this.sendSyn(true); // our SYN-ACK was lost: the peer retransmitted its SYN
      return TcpInputResult.Done;
    }
    if (this.state === TcpState.TimeWait && syn && (f & (TcpFlag.Ack | TcpFlag.Rst)) === 0) {
      if (this.timeWaitAcceptsSyn(h)) return TcpInputResult.NewConnection;
    }
    if (this.timestamps.rejects(h.options, rst, now)) {
      if (!rst) this.sendAck();
      return TcpInputResult.Done;
    }
    let fin = (f & TcpFlag.Fin) !== 0;
    let payLen = h.payloadLen;
    const segLen = payLen + (syn ? 1 : 0) + (fin ? 1 : 0);
    const rcvWnd = Math.max(0, seqSub(this.rcvAdvRight, this.rcvNxt));
    if (!segmentAcceptable(h.seq, segLen, this.rcvNxt, rcvWnd)) {
      // RFC 9293 3.10.7.4: with a zero window, ACKs (and RSTs) at RCV.NXT still count.
      if (!(rcvWnd === 0 && h.seq === this.rcvNxt)) {
        if (syn && this.state !== TcpState.TimeWait) {
          // RFC 5961 4.2: a SYN, whatever its sequence number, gets a (rate-limited) challenge
          // ACK; Linux counts it so (TCPSYNChallenge) before its sequence check too.
          this.ctx.stats.synChallenges++;
          this.challengeAck(now);
          return TcpInputResult.Done;
        }
        if (!rst) {
          if (this.state === TcpState.TimeWait && fin) this.armTimeWait(now);
          if (payLen > 0 && seqLt(h.seq, this.rcvNxt)) this.noteDuplicate(h.seq, payLen);
          this.sendAck();
        }
        return TcpInputResult.Done;
      }
      payLen = 0;
      fin = false;
      this.ackNow = true;
    }
    if (rst) {
      this.inputReset(h, now);
      return TcpInputResult.Done;
    }
    if (syn) {
      this.ctx.stats.synChallenges++;
      this.challengeAck(now); // RFC 5961 4.2: any SYN in a synchronized state
      return TcpInputResult.Done;
    }
    if ((f & TcpFlag.Ack) === 0) return TcpInputResult.Done;
    this.keepAlive.heard(now);
    this.timestamps.update(h.options, h.seq, this.lastAckSent, now);
    if (!this.inputAck(h, now)) return TcpInputResult.Done;
    this.inputText(h, buf, payLen, fin, now);
    if (this.state !== TcpState.Closed) this.output();
    return TcpInputResult.Done;
  }

  /** RFC 9293 3.10.7.4 second check, as amended by RFC 5961 3.2 and RFC 1337. */
  private inputReset(h: TcpHeader, now: number): void {
    if (h.seq !== this.rcvNxt) {
      this.challengeAck(now);
      return;
    }
    switch (this.state) {
      case TcpState.SynReceived:
        if (this.passiveOpen) this.enterClosed(null);
        else this.fail('ECONNREFUSED');
        return;
      case TcpState.Established:
      case TcpState.FinWait1:
      case TcpState.FinWait2:
      case TcpState.CloseWait:
        this.fail('ECONNRESET');
        return;
      case TcpState.TimeWait:
        return; // RFC 1337: a RST must not cut TIME-WAIT short
      default:
        this.enterClosed(null);
    }
  }

  /** RFC 9293 3.10.7.4 fifth check. Returns false when the segment is to be dropped. */
  private inputAck(h: TcpHeader, now: number): boolean {
    const ack = h.ack;
    if (this.state === TcpState.SynReceived) {
      if (!(seqGt(ack, this.sndUna) && seqLe(ack, this.sndNxt))) {
        this.sendReset(ack);
        return false;
      }
      this.establish();
      this.sndWnd = h.window << this.sndShift;
    }
    const check = checkAck(ack, this.sndUna, this.sndNxt, this.maxSndWnd);
    if (check === AckCheck.Future) {
      this.sendAck();
      return false;
    }
    if (check === AckCheck.TooOld) {
      this.challengeAck(now);
      return false;
    }
    const newSack = this.absorbSack(h);
    const window = h.window << this.sndShift;
    if (this.tlpPending) this.tlpProcessAck(h, ack, newSack, now);
    if (seqGt(ack, this.sndUna)) this.onNewAck(h, ack, now);
    else if (ack === this.sndUna) this.onSameAck(h, newSack, window, now);
    if (this.rack !== null && this.sackOk) this.rackOnAck(now);
    this.updateSendWindow(h.seq, ack, window);
    return this.afterAck(now);
  }

  /** State changes once our FIN is acknowledged. Returns false if the TCB closed. */
  private afterAck(now: number): boolean {
    const finAcked = this.finSent && seqGt(this.sndUna, this.finSeq);
    if (!finAcked) return true;
    switch (this.state) {
      case TcpState.FinWait1:
        this.state = TcpState.FinWait2;
        if (this.orphaned) this.armFinWait2(now);
        this.emit(TcpEvent.FinAcked);
        return true;
      case TcpState.Closing:
        this.enterTimeWait(now);
        this.emit(TcpEvent.FinAcked);
        return true;
      case TcpState.LastAck:
        this.enterClosed(null);
        return false;
    }
    return true;
  }

  /** RFC 9293 3.10.7.4 fifth check, SND.WND update. */
  private updateSendWindow(seq: number, ack: number, window: number): void {
    if (seqLt(this.sndWl1, seq) || (this.sndWl1 === seq && seqLe(this.sndWl2, ack))) {
      this.sndWnd = window;
      this.sndWl1 = seq;
      this.sndWl2 = ack;
      if (window > this.maxSndWnd) this.maxSndWnd = window;
    }
  }

  private absorbSack(h: TcpHeader): boolean {
    const o = h.options;
    if (!this.sackOk || o.sackCount === 0) return false;
    let news = false;
    let i = 0;
    if (firstBlockIsDsack(o.sackBlocks, o.sackCount, h.ack)) {
      this.onDsack(o.sackBlocks[0], o.sackBlocks[1]);
      i = 1;
    }
    for (; i < o.sackCount; i++) {
      const left = o.sackBlocks[2 * i];
      const right = o.sackBlocks[2 * i + 1];
      if (this.recovery.scoreboard.addBlock(left, right, this.sndUna, this.sndNxt)) news = true;
    }
    return news;
  }

  /**
   * RFC 2883 / RFC 3708: the peer received [left, right) twice. If we had retransmitted it, the
   * retransmission was spurious: RACK widens its reordering window (RFC 8985 6.2 step 4) and
   * once every retransmission of the episode is shown spurious, the episode is undone.
   */
  private onDsack(left: number, right: number): void {
    const r = this.recovery;
    if (!r.onDsack(left, right, this.smss())) return;
    this.rack?.onSpuriousRetransmit(this.sndUna, this.sndNxt);
    if (r.undoByDsackDue) this.undoRecovery(true, r.kind);
  }

  /**
   * The episode's retransmissions were all spurious (RFC 3522 / RFC 3708): restore cwnd and
   * ssthresh (RFC 4015 3.2, Linux tcp_undo_cwnd_reduction), leave recovery, forget loss marks.
   */
  private undoRecovery(byDsack: boolean, kind: RecoveryKind): void {
    const r = this.recovery;
    const wasActive = r.active;
    const wasFast = kind === RecoveryKind.Fast;
    r.undo(this.sndUna, byDsack);
    this.cc.undo();
    if (this.rack !== null) {
      this.rack.unmarkLost();
      // Data marked lost arrived after all: that was reordering (RFC 8985 6.2 step 3's RACK.reord).
      if (wasFast || byDsack) this.rack.reord = true;
      if (wasActive) this.rack.onRecoveryEnd();
    }
  }

  /** An ACK that advances SND.UNA. */
  private onNewAck(h: TcpHeader, ack: number, now: number): void {
    const acked = seqSub(ack, this.sndUna);
    this.sampleRttOnAck(h, ack, now);
    this.rtt.resetBackoff();
    this.retransmits = 0;
    this.firstRtxTime = -1;
    const r = this.recovery;
    const o = h.options;
    r.onAckAdvance(this.sndUna, this.tsOk && o.hasTimestamps && o.tsEcr !== 0, o.tsEcr);
    const wasActive = r.active;
    const kind = r.kind;
    this.sndUna = ack;
    this.peerConfirmed = true;
    const released = this.sendBuffer.ackTo(seqMin(ack, this.sendBuffer.endSeq));
    if (r.onNewAck(ack, acked, this.sackOk, this.smss())) {
      this.cc.onAck(acked, this.cwndLimited, now, this.rtt.srtt);
    }
    if (wasActive) {
      if (r.undoByTimestampsDue(!r.active)) this.undoRecovery(false, kind);
      else if (!r.active) this.rack?.onRecoveryEnd();
    }
    this.persistBackoff = 0;
    this.rtxDeadline = this.sndNxt === this.sndUna ? Infinity : now + this.rtt.rto; // RFC 6298 5.2/5.3
    this.probeRestart = true; // RFC 8985 7.2
    if (released > 0) this.emit(TcpEvent.Writable);
  }

  /** An ACK that does not advance SND.UNA: a duplicate ACK or not (RFC 5681 2, RFC 6675 2). */
  private onSameAck(h: TcpHeader, newSack: boolean, window: number, now: number): void {
    const flight = seqSub(this.sndNxt, this.sndUna);
    if (flight === 0 || h.payloadLen > 0 || (h.flags & (TcpFlag.Syn | TcpFlag.Fin)) !== 0) return;
    if (this.sackOk ? !newSack : window !== this.sndWnd) return;
    const mss = this.smss();
    if (!this.recovery.onDuplicateAck(this.sndUna, this.sackOk, mss)) return;
    // RFC 6675 5 steps (4.1)-(4.3): reduce, then retransmit the first segment whatever pipe says.
    this.enterFastRecovery(now);
    this.retransmitFrom(this.sndUna, mss, now);
  }

  private enterFastRecovery(now: number): void {
    this.armUndo(now);
    const s = this.ctx.stats;
    if (this.sackOk) s.sackRecovery++;
    else s.renoRecovery++;
    if (this.tlpPending) {
      // The probe's ACK revealed the loss (RFC 8985 7.4): the episode ends in recovery.
      this.tlpPending = false;
      s.lossProbeRecovery++;
    }
    const mss = this.smss();
    this.recovery.enterFast(this.sndUna, this.sndNxt, this.sackOk, mss, this.timestamps.value(now));
    this.cc.onLoss(this.flight(), now);
    this.probeDeadline = Infinity;
  }

  /** A recovery episode starts (none running): remember what an undo restores. */
  private armUndo(now: number): void {
    if (this.recovery.active) return;
    this.recovery.armUndo(this.sndUna, this.timestamps.value(now), this.tsOk);
    this.cc.saveUndo();
  }

  // ---- RACK and TLP (RFC 8985) ---------------------------------------------------------------

  /** RFC 8985 6.2: update RACK from this ACK, mark what is lost, arm the reordering timer. */
  private rackOnAck(now: number): void {
    const rack = this.rack!;
    const sb = this.recovery.scoreboard;
    rack.onAck(this.sndUna, sb, now);
    // RFC 8985 6.2 step 4: with reordering seen, DupThresh no longer marks losses; RACK does.
    sb.dupThreshLoss = !rack.reord;
    this.rackDetect(now);
  }

  private rackDetect(now: number): void {
    const rack = this.rack!;
    if (this.flight() === 0) {
      this.rackDeadline = Infinity;
      return;
    }
    const r = this.recovery;
    const srtt = this.rtt.hasSample ? this.rtt.srtt : Infinity;
    rack.detect(now, rack.reorderWindow(r.active, DUP_THRESH, srtt));
    // RFC 8985 6.3: wake up when the next candidate's reordering window ends.
    this.rackDeadline = rack.timeout > 0 ? now + rack.timeout : Infinity;
    if (!rack.anyLost) return;
    if (rack.newlyLost) this.ctx.stats.rackLost++;
    if (!r.active) this.enterFastRecovery(now);
    r.markLostTo(rack.lostEnd);
  }

  private onRackTimeout(now: number): void {
    this.rackDeadline = Infinity;
    if (this.rack === null || !this.sackOk || !this.isSendingState()) return;
    this.rackDetect(now);
    this.output();
  }

  /** RFC 8985 7.2: (re)start the PTO after new data went out or new data was ACKed. */
  private armProbe(now: number): void {
    this.probeDeadline = Infinity;
    if (!this.config.tlp || !this.sackOk || this.tlpPending || this.recovery.active) return;
    // Not while SACKed data waits for the cumulative ACK: RACK handles that flight.
    if (!this.recovery.scoreboard.isEmpty) return;
    const flight = this.flight();
    if (flight === 0 || this.rtxDeadline === Infinity) return;
    let pto = PTO_NO_RTT_MS;
    if (this.rtt.hasSample) {
      pto = 2 * this.rtt.srtt;
      // One segment in flight: the receiver may hold its ACK for a delayed-ACK time.
      if (flight <= this.smss()) pto += this.config.tlpWorstCaseDelAckMs;
    }
    // RFC 8985 7.2 caps the PTO at the RTO's expiry; a probe that would go no sooner than the
    // RTO only postpones it, so then the RTO alone acts (and its backoff stays as RFC 6298 has it).
    if (now + pto < this.rtxDeadline) this.probeDeadline = now + pto;
  }

  /**
   * RFC 8985 7.3: send one probe, new data if the receive window allows, else the last
   * segment again, then re-arm the RTO (not the PTO). The probe ignores cwnd (it is one segment).
   */
  private onProbeTimeout(now: number): void {
    this.probeDeadline = Infinity;
    if (!this.isSendingState() || this.flight() === 0 || this.recovery.active || this.tlpPending) {
      return;
    }
    const queued = this.finSent ? 0 : this.sendBuffer.bytesFrom(this.sndNxt);
    const room = seqSub(seqAdd(this.sndUna, this.sndWnd), this.sndNxt);
    this.probing = true;
    if (queued > 0 && room > 0) {
      this.transmitData(this.sndNxt, Math.min(queued, room, this.maxPayload()), true, now);
      this.tlpIsRetrans = false;
    } else {
      // The highest segment sent so far (RFC 8985 7.3): data queued behind a closed receive
      // window has never been sent and lies outside it.
      const dataEnd = this.finSent ? this.finSeq : this.sndNxt;
      const len = Math.min(this.maxPayload(), seqSub(dataEnd, this.sndUna));
      this.retransmitFrom(seqAdd(dataEnd, -len), len, now);
      this.tlpIsRetrans = true;
    }
    this.probing = false;
    this.tlpPending = true;
    this.tlpEndSeq = this.sndNxt;
    this.ctx.stats.lossProbes++;
    this.rtxDeadline = now + this.rtt.rto;
  }

  /** RFC 8985 7.4.2 TLP_process_ack, with Linux's pure-duplicate-ACK rule. */
  private tlpProcessAck(h: TcpHeader, ack: number, newSack: boolean, now: number): void {
    if (seqGe(ack, this.tlpEndSeq)) {
      this.tlpPending = false;
      // New data as the probe, or a D-SACK (RFC 2883) saying the original arrived too: no loss.
      if (!this.tlpIsRetrans || this.hasDsack(h, ack)) return;
      // The probe repaired a loss: respond to it as to any loss (RFC 8985 7.4.2).
      this.ctx.stats.lossProbeRecovery++;
      this.cc.onLoss(this.flight(), now);
      return;
    }
    const pureDup = ack === this.sndUna && !newSack && h.payloadLen === 0;
    if (pureDup && this.tlpIsRetrans) this.tlpPending = false; // original and probe both arrived
  }

  /** RFC 2883 4: the ACK carries a D-SACK. */
  private hasDsack(h: TcpHeader, ack: number): boolean {
    const o = h.options;
    return this.sackOk && firstBlockIsDsack(o.sackBlocks, o.sackCount, ack);
  }

  // ---- Path MTU and next-hop failures --------------------------------------------------------

  /**
   * The path MTU towards the peer fell so that segments may carry at most `mss` bytes (RFC 1191
   * 6.3, RFC 8201 5, RFC 9293 3.7.3): lower the send MSS and resend in the new size what was
   * sent in the old one. The loss is the path's, not congestion's: cwnd stays.
   */
  pathMtuChanged(mss: number): void {
    const m = Math.max(MIN_SEND_MSS, mss);
    if (!this.isSynchronized() || m >= this.sendMss) return;
    const now = this.now();
    this.sendMss = m;
    this.cc.setMss(this.smss());
    this.ctx.stats.pmtuMssReductions++;
    if (this.flight() > 0 && this.isSendingState()) {
      this.recovery.enterPathMtu(this.sndUna, this.sndNxt, this.timestamps.value(now));
      this.tlpPending = false;
      this.probeDeadline = Infinity;
      this.output();
    }
    this.flush();
  }

  /**
   * A segment did not fit the path MTU (EMSGSIZE from below): the path's MTU fell without an
   * ICMP error quoting this connection (one about another flow to the same host lowered the
   * shared cache, as Linux's per-destination PMTU is shared). The MSS becomes `mss` at the next
   * timer run, as pathMtuChanged would make it, not inside the send that failed.
   */
  pathMtuExceeded(mss: number): void {
    const m = Math.max(MIN_SEND_MSS, mss);
    if (m >= this.sendMss) return;
    this.pmtuMss = this.pmtuMss > 0 ? Math.min(this.pmtuMss, m) : m;
    this.pmtuDeadline = this.now();
  }

  /**
   * The layer below could not send to the next hop (`code`, e.g. EHOSTUNREACH when address
   * resolution failed). Opening connections fail with it, as Linux fails a connect() once the
   * neighbour is FAILED; open ones keep it as their soft error. Called from transmit(), so the
   * failure itself happens at the next timer run, not inside the call that sent.
   */
  linkFailed(code: string): void {
    this.softError = code;
    if (this.state === TcpState.SynSent) {
      this.hardError = code;
      this.rtxDeadline = this.now();
    }
  }

  /** RFC 9293 3.10.7.4 seventh and eighth steps: segment text and FIN. */
  private inputText(
    h: TcpHeader,
    buf: Uint8Array,
    payLen: number,
    fin: boolean,
    now: number,
  ): void {
    let seq = h.seq;
    let off = h.payloadOff;
    let len = payLen;
    const finSeq = seqAdd(seq, len);
    if (seqLt(seq, this.rcvNxt)) {
      const dup = Math.min(seqSub(this.rcvNxt, seq), len);
      if (dup > 0) {
        this.noteDuplicate(seq, dup);
        this.ackNow = true; // RFC 2883 4: the D-SACK goes in the next ACK, so at once
      }
      off += dup;
      len -= dup;
      seq = seqAdd(seq, dup);
    }
    const room = this.receiveBuffer.free - seqSub(seq, this.rcvNxt);
    if (len > room) {
      len = Math.max(0, room);
      fin = false; // the FIN lies beyond what we can take
      this.ackNow = true;
    }
    if (len > 0) {
      if (this.orphaned) {
        this.abortNow(); // RFC 1122 4.2.2.13: nobody will read it
        return;
      }
      if (canReceiveData(this.state)) this.receiveData(seq, buf, off, len, now);
    } else if (payLen > 0) {
      this.ackNow = true; // a duplicate: tell the sender where we are (RFC 5681 4.2)
    }
    if (fin && seqGe(finSeq, this.rcvNxt) && canReceiveData(this.state)) {
      this.peerFinPending = true;
      this.peerFinSeq = finSeq;
    }
    if (this.peerFinPending && this.rcvNxt === this.peerFinSeq) this.receiveFin(now);
  }

  private receiveData(seq: number, buf: Uint8Array, off: number, len: number, now: number): void {
    const offset = seqSub(seq, this.rcvNxt);
    if (len > this.rcvMss) this.rcvMss = Math.min(len, this.config.mss);
    if (offset > 0) {
      // Out of order: park it and ACK at once (RFC 5681 4.2, RFC 2018 4 SACK).
      if (this.reassembly.insert(seq, seqAdd(seq, len))) {
        this.receiveBuffer.writeAt(offset, buf, off, len);
      }
      this.ackNow = true;
      return;
    }
    this.receiveBuffer.writeAt(0, buf, off, len);
    const filledGap = !this.reassembly.isEmpty;
    const next = this.reassembly.advance(seqAdd(this.rcvNxt, len));
    this.receiveBuffer.commit(seqSub(next, this.rcvNxt));
    this.unackedBytes += seqSub(next, this.rcvNxt);
    this.rcvNxt = next;
    // RFC 5681 4.2 / RFC 9293 3.8.6.3: ACK every second full-sized segment, at once when a gap
    // was filled, otherwise within delayedAckMs.
    if (filledGap) this.ackNow = true;
    else if (this.unackedBytes >= 2 * this.rcvMss) this.ackAfterBatch();
    else if (this.delAckDeadline === Infinity) this.delAckDeadline = now + this.config.delayedAckMs;
    this.emit(TcpEvent.Readable);
  }

  /** RFC 2883 4: `len` bytes from `seq` arrived a second time; report them as a D-SACK. */
  private noteDuplicate(seq: number, len: number): void {
    if (!this.sackOk) return;
    this.reassembly.noteDuplicate(seq, seqAdd(seq, Math.min(len, seqSub(this.rcvNxt, seq))));
  }

  /** An ACK due now (RFC 5681 4.2), or once the application has seen the receive batch. */
  private ackAfterBatch(): void {
    const batch = this.ctx.ackBatch;
    if (batch === null) this.ackNow = true;
    else if (!this.ackOwed) {
      this.ackOwed = true;
      batch.push(this);
    }
  }

  /** After a receive batch: the ACK ackAfterBatch deferred, unless one went out since. */
  sendOwedAck(): void {
    if (!this.ackOwed) return;
    this.ackOwed = false;
    if (this.lastAckSent !== this.rcvNxt) {
      const opened = this.beginCall();
      try {
        this.sendAck();
      } finally {
        this.endCall(opened);
      }
    }
    this.flush();
  }

  /** RFC 9293 3.10.7.4 eighth step. */
  private receiveFin(now: number): void {
    this.peerFinPending = false;
    this.rcvNxt = seqAdd(this.rcvNxt, 1);
    // Deferred past the batch, the ACK usually rides on the application's own FIN (as Linux's
    // delayed ACK does for interactive connections).
    this.ackAfterBatch();
    switch (this.state) {
      case TcpState.SynReceived:
      case TcpState.Established:
        this.state = TcpState.CloseWait;
        break;
      case TcpState.FinWait1:
        if (this.finSent && seqGt(this.sndUna, this.finSeq)) this.enterTimeWait(now);
        else this.state = TcpState.Closing;
        break;
      case TcpState.FinWait2:
        this.enterTimeWait(now);
        break;
    }
    this.finWait2Deadline = Infinity;
    this.emit(TcpEvent.PeerClosed);
  }

  // ---- Sending -----------------------------------------------------------------------------

  /** Send what windows, Nagle and loss recovery allow, then any ACK still owed. */
  private output(): void {
    if (this.ctx.host.defersOutput(this)) return;
    const now = this.now();
    if (this.isSendingState()) {
      this.cwndLimited = false;
      while (this.sendOne(now));
      this.armPersist(now);
      if (this.probeRestart) {
        this.probeRestart = false;
        this.armProbe(now);
      }
    }
    if (this.ackNow) this.sendAck();
  }

  private isSendingState(): boolean {
    const s = this.state;
    return (
      s === TcpState.Established ||
      s === TcpState.CloseWait ||
      s === TcpState.FinWait1 ||
      s === TcpState.Closing ||
      s === TcpState.LastAck
    );
  }

  /** Send one segment if anything may go; returns false when nothing did. */
  private sendOne(now: number): boolean {
    const r = this.recovery;
    if (!r.active) {
      // RFC 3042 limited transmit: each of the first two duplicate ACKs lets one new segment out.
      return this.sendNewData(now, this.flight() - r.limitedTransmitBytes(this.smss()));
    }
    // RFC 6675 5 step (C): while cwnd - pipe >= 1 SMSS, NextSeg().
    const mss = this.smss();
    const pipe = r.pipe(this.sndUna, this.sndNxt, mss);
    if (this.cc.cwnd - pipe < mss) {
      this.cwndLimited = true;
      return false;
    }
    if (r.nextRetransmission(this.sndUna, this.sndNxt, mss, 1)) {
      this.retransmitFrom(r.nextSeq, r.nextLen, now);
      return true;
    }
    if (this.sendNewData(now, pipe)) return true;
    // Rule 3 (un-SACKed but not yet lost) only means something with SACK information.
    if (
      r.kind === RecoveryKind.Fast &&
      this.sackOk &&
      r.nextRetransmission(this.sndUna, this.sndNxt, mss, 3)
    ) {
      this.retransmitFrom(r.nextSeq, r.nextLen, now);
      return true;
    }
    return false;
  }

  private flight(): number {
    return seqSub(this.sndNxt, this.sndUna);
  }

  /** New data (or a lone FIN) at SND.NXT, if the windows and Nagle allow. */
  private sendNewData(now: number, inUse: number): boolean {
    const queued = this.finSent ? 0 : this.sendBuffer.bytesFrom(this.sndNxt);
    const mss = this.maxPayload();
    const windowRoom = seqSub(seqAdd(this.sndUna, this.sndWnd), this.sndNxt);
    const cwndRoom = this.cc.cwnd - inUse;
    const d = this.sendDecision; // reused: no object per segment
    d.queued = queued;
    d.usable = Math.max(0, Math.min(windowRoom, cwndRoom));
    d.mss = mss;
    d.inFlight = this.flight();
    d.maxSendWindow = this.maxSndWnd;
    d.noDelay = this.noDelay;
    d.cork = this.cork;
    d.finQueued = this.finQueued;
    const len = sendableBytes(d);
    if (len > 0) {
      if (!this.ctx.host.mayTransmit(this)) return false;
      this.transmitData(this.sndNxt, len, true, now);
      return true;
    }
    if (queued > 0 && cwndRoom < Math.min(queued, mss)) this.cwndLimited = true;
    if (queued === 0 && this.finQueued && !this.finSent) {
      if (!this.ctx.host.mayTransmit(this)) return false;
      this.transmitData(this.sndNxt, 0, true, now);
      return true;
    }
    return false;
  }

  /** Retransmit up to `maxLen` sequence numbers from `seq` (data, and the FIN if it is there). */
  private retransmitFrom(seq: number, maxLen: number, now: number): void {
    const dataEnd = this.finSent ? this.finSeq : this.sendBuffer.endSeq;
    const len = Math.max(0, Math.min(maxLen, this.maxPayload(), seqSub(dataEnd, seq)));
    this.rttTiming = false; // Karn: no sample from an ambiguous ACK
    this.transmitData(seq, len, false, now);
    const fin = this.finSent && seqAdd(seq, len) === this.finSeq;
    this.recovery.retransmitted(seqAdd(seq, len + (fin ? 1 : 0)), seq, this.smss());
  }

  /**
   * Emit a segment carrying `len` bytes from `seq`; a FIN rides along when the segment ends the
   * data and the application closed. New data moves SND.NXT.
   */
  private transmitData(seq: number, len: number, isNew: boolean, now: number): void {
    const end = seqAdd(seq, len);
    const withFin = this.finQueued && end === this.sendBuffer.endSeq && (isNew || this.finSent);
    let flags = TcpFlag.Ack;
    if (len > 0 && end === this.sendBuffer.endSeq) flags |= TcpFlag.Psh;
    if (withFin) flags |= TcpFlag.Fin;
    const seg = this.prepare(seq, flags, true);
    if (len > 0) {
      seg.payloadLen = len;
      seg.payloadSeq = seq;
      seg.source = this.sendBuffer;
    }
    if (this.rack !== null && (len > 0 || withFin)) {
      this.rack.onTransmit(seq, seqAdd(end, withFin ? 1 : 0), now, isNew);
    }
    if (isNew && !this.probing) this.probeRestart = true;
    if (isNew) {
      if (!this.rttTiming && len > 0 && !this.tsOk) {
        this.rttTiming = true;
        this.rttSeq = end;
        this.rttStart = now;
      }
      this.sndNxt = seqAdd(end, withFin ? 1 : 0);
      if (withFin) {
        this.finSent = true;
        this.finSeq = end;
      }
    }
    if (this.rtxDeadline === Infinity) this.rtxDeadline = now + this.rtt.rto; // RFC 6298 5.1
    this.ctx.host.transmit(this, seg);
  }

  /** <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>. */
  private sendAck(): void {
    if (!this.isSynchronized()) return;
    this.ctx.host.transmit(this, this.prepare(this.sndNxt, TcpFlag.Ack, true));
  }

  /** RFC 5961 7: challenge ACKs, at most challengeAckLimit per second. */
  private challengeAck(now: number): void {
    if (now - this.challengeWindowStart >= 1000) {
      this.challengeWindowStart = now;
      this.challengeCount = 0;
    }
    if (this.challengeCount >= this.config.challengeAckLimit) {
      this.ctx.stats.ackSkippedChallenges++;
      return;
    }
    this.challengeCount++;
    this.ctx.stats.challengeAcks++;
    this.sendAck();
  }

  private sendReset(seq: number): void {
    const seg = this.ctx.seg;
    seg.reset();
    const o = seg.header;
    o.srcPort = this.localPort;
    o.dstPort = this.remotePort;
    o.seq = seq;
    o.ack = 0;
    o.flags = TcpFlag.Rst;
    o.window = 0;
    this.ctx.host.transmit(this, seg);
  }

  /** SYN (active open) or SYN-ACK, from ISS, with our options (RFC 9293 3.10.7.2/3). */
  private sendSyn(withAck: boolean): void {
    const now = this.now();
    const seg = this.ctx.seg;
    seg.reset();
    const h = seg.header;
    h.srcPort = this.localPort;
    h.dstPort = this.remotePort;
    h.seq = this.iss;
    h.ack = withAck ? this.rcvNxt : 0;
    h.flags = TcpFlag.Syn | (withAck ? TcpFlag.Ack : 0);
    // RFC 7323 2.2: the window in a SYN is never scaled.
    const wnd = Math.min(this.receiveBuffer.free, MAX_UNSCALED_WINDOW);
    h.window = wnd;
    if (withAck) this.rcvAdvRight = seqAdd(this.rcvNxt, wnd);
    this.fillSynOptions(seg.options, withAck, now);
    seg.hasOptions = true;
    if (this.retransmits === 0) {
      this.rttTiming = true;
      this.rttSeq = seqAdd(this.iss, 1);
      this.rttStart = now;
    }
    if (this.rtxDeadline === Infinity) this.rtxDeadline = now + this.rtt.rto;
    this.ctx.host.transmit(this, seg);
  }

  private fillSynOptions(o: TcpOptions, synAck: boolean, now: number): void {
    const c = this.config;
    o.mss = c.mss;
    if (this.offerWindowScale) o.windowScale = this.rcvShift;
    o.sackPermitted = synAck ? this.sackOk : c.sack;
    if (synAck ? this.tsOk : c.timestamps) {
      o.hasTimestamps = true;
      o.tsVal = this.timestamps.value(now);
      o.tsEcr = synAck ? this.timestamps.recent : 0;
    }
  }

  /**
   * Fill the shared segment with our ports, `seq`, RCV.NXT, `flags`, the receive window and the
   * per-segment options (timestamps, SACK blocks). Sending an ACK settles any owed ACK.
   */
  private prepare(seq: number, flags: number, withOptions: boolean): TcpOutSegment {
    const seg = this.ctx.seg;
    seg.reset();
    const h = seg.header;
    h.srcPort = this.localPort;
    h.dstPort = this.remotePort;
    h.seq = seq;
    h.ack = this.rcvNxt;
    h.flags = flags;
    h.window = this.windowField();
    if (withOptions) this.fillOptions(seg);
    this.ackNow = false;
    this.unackedBytes = 0;
    this.delAckDeadline = Infinity;
    this.lastAckSent = this.rcvNxt;
    return seg;
  }

  private fillOptions(seg: TcpOutSegment): void {
    const o = seg.options;
    if (this.tsOk) {
      o.hasTimestamps = true;
      o.tsVal = this.timestamps.value(this.now());
      o.tsEcr = this.timestamps.recent;
      seg.hasOptions = true;
    }
    if (this.sackOk && this.reassembly.hasBlocks) {
      const max = this.tsOk ? 3 : 4;
      o.sackCount = this.reassembly.sackBlocks(this.rcvNxt, o.sackBlocks, max);
      seg.hasOptions = o.sackCount > 0 || seg.hasOptions;
    }
  }

  /** The window field for a non-SYN segment, moving our advertised right edge. */
  private windowField(): number {
    const advertised = Math.max(0, seqSub(this.rcvAdvRight, this.rcvNxt));
    const rb = this.receiveBuffer;
    const wnd = receiveWindow(advertised, rb.free, rb.capacity, this.config.mss, this.rcvShift);
    this.rcvAdvRight = seqAdd(this.rcvNxt, wnd);
    return Math.min(MAX_UNSCALED_WINDOW, wnd >>> this.rcvShift);
  }

  /** After a read: does the window now open enough to tell the peer (RFC 9293 3.8.6.2.2)? */
  private windowUpdateWorthSending(): boolean {
    const advertised = Math.max(0, seqSub(this.rcvAdvRight, this.rcvNxt));
    const rb = this.receiveBuffer;
    // Only when the window was down to a quarter of the buffer and at least doubles (as Linux's
    // tcp_cleanup_rbuf): reading a request must not cost an ACK of its own ahead of the reply
    // that would carry it (the SYN's unscaled 64 KiB is half of the default 128 KiB buffer).
    if (advertised > rb.capacity / 4) return false;
    const offer = receiveWindow(advertised, rb.free, rb.capacity, this.config.mss, this.rcvShift);
    return offer > advertised && offer >= 2 * advertised;
  }

  // ---- Timers ------------------------------------------------------------------------------

  private onRetransmitTimeout(now: number): void {
    this.rtxDeadline = Infinity;
    if (this.state === TcpState.SynSent || this.state === TcpState.SynReceived) {
      this.onSynTimeout();
      return;
    }
    const flight = this.flight();
    if (flight === 0) return;
    this.ctx.stats.timeouts++;
    this.tlpPending = false;
    this.probeDeadline = Infinity;
    this.rackDeadline = Infinity;
    this.retransmits++;
    if (this.firstRtxTime < 0) this.firstRtxTime = now;
    const ut = this.config.userTimeoutMs;
    // now >= the deadline's own sum, not now - firstRtxTime >= ut: the sum can round down (across
    // a power of two), and then the clamped timer below would fire again and again at this time.
    if (this.retransmits > this.config.maxRetries || (ut > 0 && now >= this.firstRtxTime + ut)) {
      this.sendReset(this.sndNxt);
      this.fail(this.softError ?? 'ETIMEDOUT'); // Linux tcp_write_err
      return;
    }
    this.armUndo(now);
    this.cc.onTimeout(flight, now);
    this.rtt.backoff();
    // RFC 6675 5.1: everything outstanding is presumed lost; resend it as cwnd allows.
    const forgetSacks = this.retransmits > 1;
    this.recovery.enterTimeout(this.sndUna, this.sndNxt, this.timestamps.value(now), forgetSacks);
    this.rttTiming = false;
    this.output();
    if (this.rtxDeadline === Infinity) this.rtxDeadline = now + this.rtt.rto;
    // Linux tcp_clamp_rto_to_user_timeout: the backed-off RTO never runs past the user
    // timeout, so the connection fails when it ends rather than up to one RTO later.
    if (ut > 0) this.rtxDeadline = Math.min(this.rtxDeadline, this.firstRtxTime + ut);
  }

  private onSynTimeout(): void {
    if (this.hardError !== null) {
      this.fail(this.hardError);
      return;
    }
    if (this.retransmits >= this.config.synRetries) {
      if (this.state === TcpState.SynReceived && this.passiveOpen) this.enterClosed(null);
      else this.fail(this.softError ?? 'ETIMEDOUT');
      return;
    }
    this.retransmits++;
    this.rtt.backoff();
    this.rttTiming = false;
    this.sendSyn(this.state === TcpState.SynReceived);
  }

  /** Arm the persist timer when data waits, nothing is in flight and nothing may be sent. */
  private armPersist(now: number): void {
    const waiting =
      !this.finSent &&
      this.sendBuffer.bytesFrom(this.sndNxt) > 0 &&
      this.flight() === 0 &&
      this.rtxDeadline === Infinity;
    if (!waiting) {
      this.persistDeadline = Infinity;
      return;
    }
    if (this.persistDeadline !== Infinity) return;
    const interval = Math.min(this.config.maxPersistMs, this.rtt.rto * 2 ** this.persistBackoff);
    this.persistDeadline = now + interval;
  }

  /**
   * RFC 9293 3.8.6.1: probe a zero window. The probe is <SEQ=SND.UNA-1> with no data (as Linux
   * sends it), which any receiver answers with an ACK carrying its window and which never
   * counts as data in flight. A small non-zero window held back by SWS avoidance is the override
   * timeout of RFC 9293 3.8.6.2.1 (4): send what fits.
   */
  private onPersistTimeout(now: number): void {
    this.persistDeadline = Infinity;
    if (!this.isSendingState()) return;
    this.persistBackoff++;
    const room = seqSub(seqAdd(this.sndUna, this.sndWnd), this.sndNxt);
    const queued = this.sendBuffer.bytesFrom(this.sndNxt);
    if (room > 0 && queued > 0) {
      this.transmitData(this.sndNxt, Math.min(room, queued, this.maxPayload()), true, now);
    } else {
      this.ctx.host.transmit(this, this.prepare(seqAdd(this.sndUna, -1), TcpFlag.Ack, true));
    }
    this.armPersist(now);
  }

  /** RFC 9293 3.8.4 / RFC 1122 4.2.3.6 keep-alive. */
  private onKeepAliveTimeout(now: number): void {
    const s = this.state;
    const open = s === TcpState.Established || s === TcpState.CloseWait;
    switch (this.keepAlive.fire(now, open && this.flight() === 0)) {
      case KeepAliveAction.Probe:
        // <SEQ=SND.UNA-1> with no data: any live peer answers with an ACK.
        this.ctx.host.transmit(this, this.prepare(seqAdd(this.sndUna, -1), TcpFlag.Ack, true));
        return;
      case KeepAliveAction.Dead:
        this.sendReset(this.sndNxt);
        this.fail(this.softError ?? 'ETIMEDOUT');
        return;
    }
  }

  private armTimeWait(now: number): void {
    this.timeWaitDeadline = now + this.config.timeWaitMs;
  }

  private armFinWait2(now: number): void {
    this.finWait2Deadline = now + this.config.finWait2TimeoutMs;
  }

  private enterTimeWait(now: number): void {
    this.state = TcpState.TimeWait;
    this.stopTimers();
    this.armTimeWait(now);
  }

  // ---- Helpers -----------------------------------------------------------------------------

  private establish(): void {
    // RFC 6298 5.7: a handshake that needed retransmissions starts data transfer with RTO = 3 s.
    if (this.retransmits > 0) this.rtt.synTimedOut();
    this.rtt.resetBackoff();
    this.retransmits = 0;
    this.rtxDeadline = Infinity;
    this.state = TcpState.Established;
    this.keepAlive.start(this.now());
    this.emit(TcpEvent.Connected);
    if (this.finQueued) this.state = TcpState.FinWait1;
  }

  private chooseIss(): void {
    this.iss = this.ctx.host.initialSequence(this) >>> 0;
    this.sndUna = this.iss;
    this.sndNxt = seqAdd(this.iss, 1);
    this.sendBuffer.startSeq = this.sndNxt;
    this.recovery.reset(this.sndNxt);
    this.rack?.reset();
    this.timestamps.setOffsetFromIss(this.iss, this.now());
  }

  /** The window from a SYN or SYN-ACK, which is never scaled (RFC 7323 2.2). */
  private setInitialWindow(h: TcpHeader): void {
    this.sndWnd = h.window;
    this.maxSndWnd = h.window;
    this.sndWl1 = h.seq;
    this.sndWl2 = h.ack;
  }

  /** Options of the peer's SYN or SYN-ACK (RFC 9293 3.7.1, RFC 7323 2.2/3.2, RFC 2018 2). */
  private negotiate(o: TcpOptions): void {
    const c = this.config;
    const peerMss = o.mss >= 0 ? o.mss : DEFAULT_PEER_MSS;
    this.sendMss = Math.max(64, Math.min(peerMss, c.mss));
    this.rcvMss = Math.min(this.sendMss, DEFAULT_PEER_MSS);
    if (this.offerWindowScale && o.windowScale >= 0) {
      this.sndShift = o.windowScale;
      this.rcvShift = windowScaleFor(this.receiveBuffer.maxCapacity);
    } else {
      this.offerWindowScale = false;
      this.sndShift = 0;
      this.rcvShift = 0;
    }
    this.sackOk = c.sack && o.sackPermitted;
    this.timestamps.negotiate(c.timestamps, o, this.now());
    this.cc.setMss(this.smss());
  }

  /** SMSS: the payload of a full segment carrying the usual options. */
  smss(): number {
    return this.sendMss - (this.tsOk ? TS_OPTION_BYTES : 0);
  }

  /** Payload room of the next segment (SACK blocks take some, RFC 9293 3.7.1). */
  private maxPayload(): number {
    if (!this.sackOk || !this.reassembly.hasBlocks) return this.smss();
    const blocks = this.reassembly.blockCount(this.tsOk ? 3 : 4);
    return this.smss() - 4 - 8 * blocks;
  }

  private sampleRttOnAck(h: TcpHeader, ack: number, now: number): void {
    const o = h.options;
    if (this.tsOk && o.hasTimestamps && o.tsEcr !== 0) {
      // RFC 7323 4.2, except for echoes older than the start of loss recovery: a receiver that
      // answers a retransmitted duplicate echoes a stale TS.Recent, and the sample would count
      // the whole recovery as path delay (Karn's ambiguity again).
      const r = this.recovery;
      const stale = r.active && seqLt(o.tsEcr, r.startTsVal);
      if (!stale) this.rtt.sample(this.timestamps.rttOf(o.tsEcr, now));
    } else if (this.rttTiming && seqGe(ack, this.rttSeq)) {
      this.rtt.sample(now - this.rttStart);
      this.rttTiming = false;
    }
  }

  /** RFC 6191 / RFC 9293 3.10.7.4: a SYN in TIME-WAIT may reopen if it is clearly newer. */
  private timeWaitAcceptsSyn(h: TcpHeader): boolean {
    const o = h.options;
    if (this.tsOk && o.hasTimestamps) return this.timestamps.isNewer(o);
    return seqGt(h.seq, this.rcvNxt);
  }

  private isSynchronized(): boolean {
    return (
      this.state !== TcpState.Closed &&
      this.state !== TcpState.Listen &&
      this.state !== TcpState.SynSent
    );
  }

  private canQueueData(): boolean {
    const s = this.state;
    return (
      s === TcpState.SynSent ||
      s === TcpState.SynReceived ||
      s === TcpState.Established ||
      s === TcpState.CloseWait
    );
  }

  private stopTimers(): void {
    this.rtxDeadline = Infinity;
    this.pmtuDeadline = Infinity;
    this.probeDeadline = Infinity;
    this.rackDeadline = Infinity;
    this.persistDeadline = Infinity;
    this.delAckDeadline = Infinity;
    this.keepAlive.stop();
    this.timeWaitDeadline = Infinity;
    this.finWait2Deadline = Infinity;
  }

  private emit(event: TcpEvent): void {
    this.pendingEvents |= 1 << event;
  }

  /**
   * Ends every call into the TCB. Delivers raised events, in TcpEvent order, once the call that
   * raised them is done (the application may call back into the TCB from notify() without
   * finding it half-updated), then tells the host that the deadlines may have moved.
   */
  private flush(): void {
    if (this.flushing) return;
    this.flushing = true;
    while (this.pendingEvents !== 0) {
      const bit = 31 - Math.clz32(this.pendingEvents & -this.pendingEvents);
      this.pendingEvents &= ~(1 << bit);
      this.ctx.host.notify(this, bit as TcpEvent);
    }
    this.flushing = false;
    this.ctx.host.deadlineChanged(this);
  }

  private fail(code: string): void {
    this.enterClosed(code);
  }

  private enterClosed(code: string | null): void {
    if (this.state === TcpState.Closed) return;
    this.state = TcpState.Closed;
    this.stopTimers();
    if (code !== null) {
      this.error = code;
      this.emit(TcpEvent.Error);
    }
    this.emit(TcpEvent.Closed);
  }

  private stateError(call: string): Error {
    return Object.assign(new Error(`${call}() needs a CLOSED connection; create a new one`), {
      code: 'EISCONN',
    });
  }
}

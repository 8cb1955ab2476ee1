// Two TCBs wired back to back through a simulated link, in virtual time. Segments are really
// serialized with the wire codecs (writeTcpHeader + checksum) and parsed back (parseTcp4), so
// what crosses the link is what would cross a NIC. The link can delay, drop, duplicate and
// reorder with a seeded PRNG, squeeze through a bottleneck with a drop-tail queue, and run a
// per-segment filter for targeted drops. The event loop jumps the clock to the next delivery
// or TCB deadline, so a minute of TCP time costs nothing.

import {
  Ipv4Header,
  TcpFlag,
  TcpHeader,
  TcpOptions,
  parseTcp4,
  setTcp4Checksum,
  writeTcpHeader,
} from '../../ts/wire/index.js';
import { type TcpConfig, tcpConfig } from '../../ts/socket/tcp/config.js';
import { TcpEvent, type TcpHost, type TcpOutSegment } from '../../ts/socket/tcp/host.js';
import { IsnGenerator } from '../../ts/socket/tcp/isn.js';
import { fillResetFor } from '../../ts/socket/tcp/reset.js';
import { Tcb, TcpContext, TcpInputResult } from '../../ts/socket/tcp/tcb.js';
import { TcpState } from '../../ts/socket/tcp/state.js';

/** mulberry32: small, fast, seeded. */
export class Prng {
  constructor(private s: number) {}
  next(): number {
    this.s = (this.s + 0x6d2b79f5) | 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}

export class TestClock {
  t = 0;
  now(): number {
    return this.t;
  }
}

/** The byte at stream offset i of the test pattern. */
export function patternByte(i: number, salt = 0): number {
  return (Math.imul(i + salt, 0x9e3779b1) >>> 24) ^ (i & 0xff);
}

export interface LinkFaults {
  delayMs: number;
  jitterMs: number;
  loss: number;
  duplicate: number;
  /** Probability a segment is held back by up to reorderMs extra. */
  reorder: number;
  reorderMs: number;
  /** Bottleneck in bytes per ms (0 = none) and its drop-tail queue in bytes. */
  rateBytesPerMs: number;
  queueBytes: number;
}

export const CLEAN_LINK: LinkFaults = {
  delayMs: 5,
  jitterMs: 0,
  loss: 0,
  duplicate: 0,
  reorder: 0,
  reorderMs: 0,
  rateBytesPerMs: 0,
  queueBytes: 0,
};

/**
 * A 100 Mbit/s link with a 10 ms delay, 1 ms jitter and a 200 kB queue, plus random `loss`,
 * `reorder` (15 ms late) and `duplicate` rates.
 */
export function impairedLink(loss: number, reorder: number, duplicate: number): LinkFaults {
  return {
    ...CLEAN_LINK,
    delayMs: 10,
    jitterMs: 1,
    loss,
    reorder,
    reorderMs: 15,
    duplicate,
    rateBytesPerMs: 12_500, // 100 Mbit/s
    queueBytes: 200_000,
  };
}

/** A segment as it crossed the link, for assertions. */
export interface Sent {
  time: number;
  from: string;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  len: number;
  tsVal: number;
  sackCount: number;
  sackBlocks: number[];
  mss: number;
  windowScale: number;
  sackPermitted: boolean;
  hasTimestamps: boolean;
}

interface InFlight {
  at: number;
  order: number;
  to: Endpoint;
  bytes: Uint8Array;
}

const ADDR_A = 0xc6120001; // 198.18.0.1
const ADDR_B = 0xc6120002; // 198.18.0.2

export class Endpoint implements TcpHost {
  readonly ctx: TcpContext;
  tcb: Tcb;
  peer!: Endpoint;
  readonly events: { time: number; event: TcpEvent; state: TcpState }[] = [];
  /** Extra TCBs created for NewConnection (TIME-WAIT reuse). */
  iss = 1000;
  /** When set, ISNs come from it (RFC 6528) instead of `iss`. */
  isn: IsnGenerator | null = null;
  onEvent: (ep: Endpoint, event: TcpEvent) => void = () => {};
  private readonly rx = new TcpHeader();
  private readonly ip = new Ipv4Header();
  /** Drop every segment this endpoint sends while true (a dead host). */
  silent = false;
  /** Answer segments for a CLOSED TCB with a reset. */
  answerClosed = true;

  constructor(
    readonly name: string,
    readonly net: Network,
    readonly addr: number,
    config: TcpConfig,
    readonly port: number,
    readonly peerPort: number,
  ) {
    this.ctx = new TcpContext(net.clock, this, config);
    this.tcb = new Tcb(this.ctx, port, peerPort);
  }

  /** The network reads both TCBs' nextDeadline() at every step: nothing to re-file. */
  deadlineChanged(): void {}

  /** The harness's wire never runs short of room. */
  defersOutput(): boolean {
    return false;
  }

  mayTransmit(): boolean {
    return true;
  }

  transmit(_tcb: Tcb, seg: TcpOutSegment): void {
    const bytes = new Uint8Array(60 + seg.payloadLen);
    const hlen = writeTcpHeader(bytes, 0, seg.header, seg.hasOptions ? seg.options : null);
    seg.copyPayload(bytes, hlen);
    const len = hlen + seg.payloadLen;
    setTcp4Checksum(bytes, 0, len, this.addr, this.peer.addr);
    const frame = bytes.subarray(0, len);
    this.net.record(this, frame, seg.header, seg.hasOptions ? seg.options : null, seg.payloadLen);
    if (this.silent) return;
    this.net.send(this, frame);
  }

  initialSequence(): number {
    if (this.isn === null) return this.iss;
    const local = Uint8Array.of(this.addr >>> 24, this.addr >>> 16, this.addr >>> 8, this.addr);
    const p = this.peer.addr;
    const remote = Uint8Array.of(p >>> 24, p >>> 16, p >>> 8, p);
    return this.isn.next(local, this.port, remote, this.peerPort, this.net.clock.t);
  }

  notify(tcb: Tcb, event: TcpEvent): void {
    this.events.push({ time: this.net.clock.t, event, state: tcb.state });
    this.onEvent(this, event);
  }

  /** Parse and hand a frame to the TCB, as the IP layer would. */
  deliver(bytes: Uint8Array): void {
    this.ip.src = this.peer.addr;
    this.ip.dst = this.addr;
    const reason = parseTcp4(bytes, 0, bytes.length, this.ip, this.rx);
    if (reason !== 0) throw new Error(`harness built a bad segment: drop reason ${reason}`);
    if (this.tcb.state === TcpState.Closed) {
      // What the socket layer does for a port without a connection (RFC 9293 3.10.7.1).
      if (this.answerClosed && fillResetFor(this.rx, this.ctx.seg))
        this.transmit(this.tcb, this.ctx.seg);
      return;
    }
    const result = this.tcb.input(this.rx, bytes);
    if (result === TcpInputResult.NewConnection) {
      this.tcb.abortQuietly();
      this.tcb = new Tcb(this.ctx, this.port, this.peerPort);
      this.tcb.openPassive(this.rx, bytes);
    }
  }

  has(event: TcpEvent): boolean {
    return this.events.some((e) => e.event === event);
  }
}

export class Network {
  readonly clock = new TestClock();
  readonly a: Endpoint;
  readonly b: Endpoint;
  readonly log: Sent[] = [];
  private queue: InFlight[] = [];
  private order = 0;
  private readonly busyUntil = new Map<Endpoint, number>();
  private readonly lastArrival = new Map<Endpoint, number>();
  readonly prng: Prng;
  /** Return false to drop a segment (runs before random faults). */
  filter: (from: Endpoint, s: Sent) => boolean = () => true;
  private lastSent: Sent | null = null;
  delivered = 0;
  dropped = 0;

  constructor(
    readonly faults: LinkFaults = CLEAN_LINK,
    seed = 1,
    configA: Partial<TcpConfig> = {},
    configB: Partial<TcpConfig> = {},
  ) {
    this.prng = new Prng(seed);
    this.a = new Endpoint('A', this, ADDR_A, tcpConfig(configA), 40000, 80);
    this.b = new Endpoint('B', this, ADDR_B, tcpConfig(configB), 80, 40000);
    this.a.peer = this.b;
    this.b.peer = this.a;
  }

  record(
    from: Endpoint,
    _frame: Uint8Array,
    h: TcpHeader,
    o: TcpOptions | null,
    len: number,
  ): void {
    const s: Sent = {
      time: this.clock.t,
      from: from.name,
      seq: h.seq,
      ack: h.ack,
      flags: h.flags,
      window: h.window,
      len,
      tsVal: o?.hasTimestamps ? o.tsVal : -1,
      sackCount: o?.sackCount ?? 0,
      sackBlocks: o ? Array.from(o.sackBlocks.subarray(0, 2 * o.sackCount)) : [],
      mss: o?.mss ?? -1,
      windowScale: o?.windowScale ?? -1,
      sackPermitted: o?.sackPermitted ?? false,
      hasTimestamps: o?.hasTimestamps ?? false,
    };
    this.log.push(s);
    this.lastSent = s;
  }

  send(from: Endpoint, frame: Uint8Array): void {
    const f = this.faults;
    const s = this.lastSent!;
    if (!this.filter(from, s)) {
      this.dropped++;
      return;
    }
    if (f.loss > 0 && this.prng.next() < f.loss) {
      this.dropped++;
      return;
    }
    let departs = this.clock.t;
    if (f.rateBytesPerMs > 0) {
      const busy = Math.max(this.busyUntil.get(from) ?? 0, departs);
      if ((busy - departs) * f.rateBytesPerMs > f.queueBytes) {
        this.dropped++;
        return;
      }
      departs = busy + frame.length / f.rateBytesPerMs;
      this.busyUntil.set(from, departs);
    }
    let at = departs + f.delayMs + (f.jitterMs > 0 ? this.prng.next() * f.jitterMs : 0);
    // Jitter alone keeps the link FIFO (as a real path does); only `reorder` reorders.
    at = Math.max(at, this.lastArrival.get(from) ?? 0);
    this.lastArrival.set(from, at);
    if (f.reorder > 0 && this.prng.next() < f.reorder) at += this.prng.next() * f.reorderMs;
    this.enqueue(at, from.peer, frame);
    if (f.duplicate > 0 && this.prng.next() < f.duplicate) {
      this.enqueue(at + this.prng.next() * 2, from.peer, frame.slice());
    }
  }

  /** Put a hand-made segment on the wire towards `to`, arriving after `delayMs`. */
  inject(
    to: Endpoint,
    fields: {
      seq: number;
      ack: number;
      flags: number;
      window?: number;
      payload?: Uint8Array;
      options?: TcpOptions;
    },
    delayMs = 0,
  ): void {
    const h = new TcpHeader();
    h.srcPort = to.peerPort;
    h.dstPort = to.port;
    h.seq = fields.seq >>> 0;
    h.ack = fields.ack >>> 0;
    h.flags = fields.flags;
    h.window = fields.window ?? 65535;
    const payload = fields.payload ?? new Uint8Array(0);
    const bytes = new Uint8Array(60 + payload.length);
    const hlen = writeTcpHeader(bytes, 0, h, fields.options ?? null);
    bytes.set(payload, hlen);
    const len = hlen + payload.length;
    setTcp4Checksum(bytes, 0, len, to.peer.addr, to.addr);
    this.enqueue(this.clock.t + delayMs, to, bytes.subarray(0, len));
  }

  /** Count retransmission timeouts that found data outstanding on `ep`'s TCB. */
  countTimeouts(ep: Endpoint): { count: number } {
    const counter = { count: 0 };
    const tcb = ep.tcb as unknown as Record<string, (now: number) => void> & Tcb;
    const original = tcb['onRetransmitTimeout'].bind(tcb);
    tcb['onRetransmitTimeout'] = (now: number) => {
      if (tcb.sndNxt !== tcb.sndUna) counter.count++;
      original(now);
    };
    return counter;
  }

  private enqueue(at: number, to: Endpoint, bytes: Uint8Array): void {
    const item = { at, order: this.order++, to, bytes };
    let i = this.queue.length;
    while (i > 0 && this.queue[i - 1].at > at) i--;
    this.queue.splice(i, 0, item);
  }

  /** An application timer: `fn` runs every `intervalMs` of virtual time while set. */
  ticker: { intervalMs: number; fn: () => void } | null = null;
  private nextTick = 0;

  /** Next thing to happen: a delivery, a TCB deadline or the ticker. */
  private nextTime(): number {
    const q = this.queue.length > 0 ? this.queue[0].at : Infinity;
    const tick = this.ticker === null ? Infinity : Math.max(this.nextTick, this.clock.t);
    return Math.min(q, this.a.tcb.nextDeadline(), this.b.tcb.nextDeadline(), tick);
  }

  /** Run until `done()` or the clock would pass `untilMs`. Returns done(). */
  run(untilMs: number, done: () => boolean = () => false): boolean {
    for (;;) {
      if (done()) return true;
      const t = this.nextTime();
      if (t > untilMs) {
        this.clock.t = Math.max(this.clock.t, untilMs);
        return done();
      }
      this.clock.t = Math.max(this.clock.t, t);
      this.step();
    }
  }

  private step(): void {
    const now = this.clock.t;
    if (this.ticker !== null && now >= this.nextTick) {
      this.nextTick = now + this.ticker.intervalMs;
      this.ticker.fn();
    }
    while (this.queue.length > 0 && this.queue[0].at <= now) {
      const item = this.queue.shift()!;
      this.delivered++;
      item.to.deliver(item.bytes);
    }
    for (const ep of [this.a, this.b]) {
      if (ep.tcb.nextDeadline() <= now) ep.tcb.onTimer();
    }
  }

  /** Connect A (active) to B (listening) and run until both are past the handshake. */
  establish(): void {
    this.b.tcb.listen();
    this.a.tcb.connect();
    const ok = this.run(this.clock.t + 60_000, () => {
      // Past the handshake (an eager app may already have closed its side).
      return this.a.tcb.state >= TcpState.Established && this.b.tcb.state >= TcpState.Established;
    });
    if (!ok) throw new Error('handshake did not complete');
  }

  segmentsFrom(name: string, pred: (s: Sent) => boolean = () => true): Sent[] {
    return this.log.filter((s) => s.from === name && pred(s));
  }
}

export function hasFlag(s: Sent, flag: number): boolean {
  return (s.flags & flag) !== 0;
}

export const isData = (s: Sent): boolean => s.len > 0;
export const isRst = (s: Sent): boolean => hasFlag(s, TcpFlag.Rst);

/**
 * A bulk transfer of `total` pattern bytes from `src` to `dst`, then src shuts down, dst closes
 * at end of file. Verifies every byte as it is read.
 */
export class BulkTransfer {
  written = 0;
  received = 0;
  mismatch = -1;
  eof = false;
  private readonly chunk = new Uint8Array(64 * 1024);
  private readonly readBuf = new Uint8Array(64 * 1024);

  constructor(
    readonly src: Endpoint,
    readonly dst: Endpoint,
    readonly total: number,
    readonly readPaused = () => false,
    /** Close at end of file (false: only read, for transfers in both directions at once). */
    readonly closeOnEof = true,
  ) {
    src.onEvent = (ep, e) => this.onSourceEvent(e);
    dst.onEvent = (ep, e) => this.onSinkEvent(e);
  }

  onSourceEvent(e: TcpEvent): void {
    if (e === TcpEvent.Connected || e === TcpEvent.Writable) this.pump();
  }

  onSinkEvent(e: TcpEvent): void {
    if (e === TcpEvent.Readable || e === TcpEvent.PeerClosed) this.drain();
  }

  pump(): void {
    const tcb = this.src.tcb;
    while (this.written < this.total) {
      const n = Math.min(this.chunk.length, this.total - this.written, tcb.writable());
      if (n <= 0) return;
      for (let i = 0; i < n; i++) this.chunk[i] = patternByte(this.written + i);
      const took = tcb.write(this.chunk, 0, n);
      this.written += took;
      if (took < n) return;
    }
    if (this.written === this.total) tcb.shutdown();
  }

  drain(): void {
    if (this.readPaused()) return;
    const tcb = this.dst.tcb;
    for (;;) {
      const n = tcb.read(this.readBuf, 0, this.readBuf.length);
      if (n === 0) break;
      for (let i = 0; i < n; i++) {
        if (this.mismatch < 0 && this.readBuf[i] !== patternByte(this.received + i)) {
          this.mismatch = this.received + i;
        }
      }
      this.received += n;
    }
    if (this.dst.has(TcpEvent.PeerClosed) && !this.eof) {
      this.eof = true;
      if (this.closeOnEof) tcb.close();
    }
  }

  get done(): boolean {
    return this.eof && this.received === this.total;
  }
}

// What happens to a segment that reaches a listener (RFC 9293 3.10.7.2): a SYN makes a
// SYN-RECEIVED child in the listener's SYN queue, or, when that queue is full, is answered with
// a SYN cookie and forgotten (RFC 4987 3.6); an ACK may complete a cookie handshake and rebuild
// the connection from the cookie. A child joins the accept queue once ESTABLISHED. Queue limits
// follow Linux (tcp_conn_request): a full accept queue drops SYNs silently, the client retries.

import type { Interface } from '../../iface/interface.js';
import type { RxDatagram } from '../../iface/transport.js';
import { TcpFlag, TcpHeader, TCP_MIN_HLEN } from '../../wire/tcp.js';
import { read32 } from './addr-bytes.js';
import { IP4_HLEN, IP6_HLEN, type ConnSetup } from './conn-setup.js';
import type { ConnectionTable } from './connection-table.js';
import type { SegmentOutput } from './segment-output.js';
import { seqAdd } from './seq.js';
import { cookieSackOk, cookieTsVal, cookieWindowScale, SynCookies } from './syn-cookie.js';
import type { TcpContext } from './tcb.js';
import { TcpConn, type TcpListener } from './tcp-conn.js';
import type { TcpStats } from './tcp-stats.js';
import { MAX_UNSCALED_WINDOW, windowScaleFor } from './window.js';

export class ListenPath {
  /** The ISS a connection rebuilt from a cookie must take (the cookie itself); -1 otherwise. */
  forcedIss = -1;
  private readonly cookies: SynCookies;
  /** The SYN a cookie stands for, as far as the cookie remembers it. */
  private readonly synHdr = new TcpHeader();
  /** The 4-tuple's addresses as words for the cookie hash (remote, local). */
  private readonly w1 = new Uint32Array(4);
  private readonly w2 = new Uint32Array(4);

  constructor(
    private readonly iface: Interface,
    private readonly ctx: TcpContext,
    private readonly stats: TcpStats,
    private readonly conns: ConnectionTable,
    private readonly setup: ConnSetup,
    private readonly output: SegmentOutput,
    /** Answer SYNs with cookies when a SYN queue is full (Linux tcp_syncookies=1). */
    private readonly syncookies: boolean,
    cookieSecret: Uint8Array | undefined,
  ) {
    this.cookies = new SynCookies(cookieSecret);
  }

  /** RFC 9293 3.10.7.2, with Linux's queue limits and RFC 4987 cookies. */
  input(l: TcpListener, d: RxDatagram, h: TcpHeader): void {
    const f = h.flags;
    if ((f & TcpFlag.Rst) !== 0) return;
    if ((f & TcpFlag.Ack) !== 0) {
      if ((f & TcpFlag.Syn) === 0 && this.syncookies && this.acceptCookie(l, d, h)) return;
      this.output.resetFor(d, h, this.ctx.seg);
      return;
    }
    if ((f & TcpFlag.Syn) === 0) return;
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
    c.tcb.openPassive(h, d.buf);
  }

  /**
   * An ACK for a SYN-RECEIVED child that acknowledges a valid cookie, not the child's ISS: two
   * copies of the peer's SYN came in, one answered with a cookie SYN-ACK (the SYN queue was
   * full) and one with the child's (it had room), and the peer completed the handshake with the
   * cookie. The cookie is checked against the child's IRS, not the segment's seq - 1: the ACK
   * may be the peer's answer to the child's SYN-ACK, sent after its first data. Linux would
   * reset an established peer here; the cookie wins instead (see replaceChild).
   */
  cookieBeatsChild(c: TcpConn, d: RxDatagram, h: TcpHeader): boolean {
    if (!this.syncookies || c.listener === null) return false;
    if ((h.flags & (TcpFlag.Syn | TcpFlag.Rst | TcpFlag.Ack)) !== TcpFlag.Ack) return false;
    if (h.ack === seqAdd(c.tcb.iss, 1)) return false;
    this.tupleWords(d);
    const ports = (h.srcPort << 16) | h.dstPort;
    const iss = (h.ack - 1) >>> 0;
    return this.cookies.check(this.w1, this.w2, ports, c.tcb.irs, iss, this.ctx.clock.now()) >= 0;
  }

  /**
   * The cookie beat child `c` (cookieBeatsChild): the connection is rebuilt from the cookie,
   * with the child's IRS, in the child's place.
   */
  replaceChild(c: TcpConn, d: RxDatagram, h: TcpHeader): void {
    const l = c.listener as TcpListener;
    const irs = c.tcb.irs;
    c.tcb.abortQuietly();
    this.acceptCookie(l, d, h, irs);
  }

  /** Connected: a child moves from the SYN queue to the accept queue and wakes the listener. */
  established(c: TcpConn): void {
    const l = c.listener;
    if (!c.inSynQueue || l === null) return;
    c.inSynQueue = false;
    l.synQueueLength--;
    c.inAcceptQueue = true;
    l.acceptQueue.push(c);
    l.onAcceptable?.();
  }

  /** Closed: a child leaves whichever queue it is in. */
  leave(c: TcpConn): void {
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

  /** A SYN-RECEIVED child of `l` for the SYN `h`, in the SYN queue and the demux table. */
  private childFor(l: TcpListener, d: RxDatagram, h: TcpHeader): TcpConn {
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
    this.conns.attach(c, this.setup.newTcb(c, {}));
    this.stats.passiveOpens++;
    return c;
  }

  /** A SYN-ACK whose ISN is a cookie; nothing is kept (RFC 4987 3.6). */
  private sendCookie(d: RxDatagram, h: TcpHeader): void {
    const now = this.ctx.clock.now();
    const cfg = this.ctx.config;
    this.tupleWords(d);
    const peerMss = h.options.mss >= 0 ? h.options.mss : 536; // RFC 9293 3.7.1 default
    const mtu = d.family === 4 ? this.iface.pathMtu4(d.src4) : this.iface.pathMtu6(d.buf, d.srcOff);
    const ourMss = mtu - (d.family === 4 ? IP4_HLEN : IP6_HLEN) - TCP_MIN_HLEN;
    const ports = (h.srcPort << 16) | h.dstPort;
    const mss = Math.min(peerMss, ourMss);
    const iss = this.cookies.make(this.w1, this.w2, ports, h.seq, mss, now);
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
    // Window scale and SACK-permitted survive only in the low bits of our TSval (syn-cookie.ts).
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
    this.output.raw(d, seg);
  }

  /**
   * The ACK completing a cookie handshake: rebuild the connection from it (RFC 4987 3.6). The
   * peer's ISN is the ACK's seq - 1 unless `knownIrs` (a child's, see replaceChild) says it.
   * Returns false when the cookie is not valid (the caller resets).
   */
  private acceptCookie(
    l: TcpListener,
    d: RxDatagram,
    h: TcpHeader,
    knownIrs = (h.seq - 1) >>> 0,
  ): boolean {
    this.tupleWords(d);
    const iss = (h.ack - 1) >>> 0;
    const ports = (h.srcPort << 16) | h.dstPort;
    const mss = this.cookies.check(this.w1, this.w2, ports, knownIrs, iss, this.ctx.clock.now());
    if (mss < 0) {
      this.stats.syncookiesFailed++;
      return false;
    }
    this.stats.syncookiesRecv++;
    const full = l.acceptQueue.length >= l.backlog;
    const syn = this.synFromCookie(h, knownIrs, mss);
    const c = this.childFor(l, d, syn);
    // Replay the SYN without answering it: the cookie SYN-ACK already went out, with ISS `iss`.
    this.output.suppress = true;
    this.forcedIss = iss;
    try {
      c.tcb.openPassive(syn, d.buf);
      c.tcb.timestamps.clearOffset();
    } finally {
      this.output.suppress = false;
      this.forcedIss = -1;
    }
    if (full) {
      // Linux drops this ACK (the accept queue is full) and keeps nothing, so the client's
      // next segment must carry seq irs + 1 to match the cookie again; its answer to a
      // duplicate SYN-ACK (a challenge ACK, RFC 5961 4.2) carries seq irs + 1 + the data it
      // sent and was reset. The connection stays SYN-RECEIVED instead, as Linux keeps a
      // request sock whose ACK met a full accept queue: the client's next segment completes it.
      this.stats.listenOverflows++;
      this.stats.listenDrops++;
      return true;
    }
    c.tcb.input(h, d.buf);
    return true;
  }

  /** The SYN as the peer sent it, as far as the cookie (and the ACK's timestamps) remember. */
  private synFromCookie(h: TcpHeader, irs: number, mss: number): TcpHeader {
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
    return syn;
  }

  /** The 4-tuple's addresses into w1 (remote) and w2 (local), as the cookie hash takes them. */
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
}

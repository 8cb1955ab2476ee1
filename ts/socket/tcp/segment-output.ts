// The output path: a TCB's segment (or a reply to a segment no connection owns) written straight
// into a TX frame: IP header by the interface, TCP header and options, payload copied from the
// send buffer, checksum. Sending only queues the frame; the worker loop flushes the device once
// per pass. A segment that finds no frame or no route is dropped and counted: the TCB's
// retransmission covers it (RFC 9293 3.8.1).

import type { Interface } from '../../iface/interface.js';
import { IfaceErrno } from '../../iface/errno.js';
import type { RxDatagram } from '../../iface/transport.js';
import {
  setTcp4Checksum,
  setTcp6Checksum,
  TcpFlag,
  type TcpHeader,
  type TcpOptions,
  TCP_MAX_OPTIONS_LEN,
  TCP_MIN_HLEN,
  writeTcpHeader,
} from '../../wire/tcp.js';
import { IP4_HLEN, IP6_HLEN } from './conn-setup.js';
import type { TcpOutSegment } from './host.js';
import { fillResetFor } from './reset.js';
import type { Tcb } from './tcb.js';
import type { TcpConn } from './tcp-conn.js';
import type { TcpStats } from './tcp-stats.js';

export class SegmentOutput {
  /** Last errno of a transmit (0 = sent). */
  lastTxError = 0;
  /** Set while rebuilding a connection from a SYN cookie: its SYN-ACK was already sent. */
  suppress = false;
  /** Scratch copies of the addresses of a received IPv6 segment (see raw()). */
  private readonly remote6 = new Uint8Array(16);
  private readonly local6 = new Uint8Array(16);

  constructor(
    private readonly iface: Interface,
    private readonly stats: TcpStats,
  ) {}

  /** TcpHost.transmit: `seg` on the path of tcb's connection. */
  transmit(tcb: Tcb, seg: TcpOutSegment): void {
    if (this.suppress) return;
    const c = tcb.context as TcpConn;
    if (c.noteSent(seg.header.seq, seg.header.flags, seg.payloadLen)) this.stats.retransSegs++;
    const len = TCP_MIN_HLEN + (seg.hasOptions ? optionsLength(seg.options) : 0) + seg.payloadLen;
    if (tcb.peerConfirmed) {
      tcb.peerConfirmed = false;
      c.path.confirmed = true;
    }
    const at = this.iface.beginIpOnPath(c.path, len);
    if (at < 0) this.failed(at);
    else this.write(c.is4, at, len, seg);
    // A next hop whose resolution failed (the neighbour entry is FAILED): tell the TCB.
    if (this.lastTxError === IfaceErrno.EHOSTUNREACH) tcb.linkFailed('EHOSTUNREACH');
    // Too big for the path MTU, which fell without an ICMP error about this connection.
    if (this.lastTxError === IfaceErrno.EMSGSIZE) {
      const iface = this.iface;
      const mtu = c.is4 ? iface.pathMtu4(c.remote4) : iface.pathMtu6(c.remote6, 0);
      tcb.pathMtuExceeded(mtu - (c.is4 ? IP4_HLEN : IP6_HLEN) - TCP_MIN_HLEN);
    }
  }

  /** RFC 9293 3.10.7.1: a reset for a segment no connection or listener takes. */
  resetFor(d: RxDatagram, h: TcpHeader, seg: TcpOutSegment): void {
    if (!fillResetFor(h, seg)) return;
    this.raw(d, seg);
  }

  /** Sends `seg` back to the sender of `d` (resets and cookie SYN-ACKs: no connection). */
  raw(d: RxDatagram, seg: TcpOutSegment): void {
    const len = TCP_MIN_HLEN + (seg.hasOptions ? optionsLength(seg.options) : 0);
    const iface = this.iface;
    let at: number;
    if (d.family === 4) at = iface.beginIp4(d.src4, len, d.dst4);
    else {
      // beginIp6 copies the addresses, but into a frame other than the one being read.
      const r = this.remote6;
      const l = this.local6;
      r.set(d.buf.subarray(d.srcOff, d.srcOff + 16));
      l.set(d.buf.subarray(d.dstOff, d.dstOff + 16));
      at = iface.beginIp6(r, 0, len, l, 0);
    }
    if (at < 0) {
      this.failed(at);
      return;
    }
    this.write(d.family === 4, at, len, seg);
  }

  /** TCP header, options, payload and checksum behind the IP header begun at `at`. */
  private write(is4: boolean, at: number, len: number, seg: TcpOutSegment): void {
    const iface = this.iface;
    const tx = iface.tx;
    const b = tx.buf;
    const hl = writeTcpHeader(b, at, seg.header, seg.hasOptions ? seg.options : null);
    seg.copyPayload(b, at + hl);
    // Sent with DF, so never fragmented: a device that fills TCP checksums sums it in one pass.
    if (!tx.deviceTcpChecksum) {
      if (is4) setTcp4Checksum(b, at, len, tx.src4, tx.dst4);
      else setTcp6Checksum(b, at, len, b, tx.srcOff, b, tx.dstOff);
    }
    const r = iface.finishIp(6, len, true);
    if (r !== 0) {
      this.failed(r);
      return;
    }
    this.lastTxError = 0;
    this.stats.outSegs++;
    if ((seg.header.flags & TcpFlag.Rst) !== 0) this.stats.outRsts++;
  }

  private failed(errno: number): void {
    this.lastTxError = errno;
    this.stats.outErrors++;
  }
}

/** Bytes writeTcpOptions will write for `o` (the same layout, without writing). */
export function optionsLength(o: TcpOptions): number {
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

// What an ICMP error quoting one of our segments does to its connection (RFC 5927, RFC 1122
// 4.2.3.9, RFC 1191 / RFC 8201 for Packet Too Big).

import { IcmpErrorKind, type IcmpErrorInfo } from '../../iface/transport.js';
import { TCP_MIN_HLEN } from '../../wire/tcp.js';
import { read32 } from './addr-bytes.js';
import { IP4_HLEN, IP6_HLEN } from './conn-setup.js';
import { seqGe, seqLt } from './seq.js';
import { TcpState } from './state.js';
import type { TcpConn } from './tcp-conn.js';

/** Applies `e` to `c`, the connection whose segment it quotes. */
export function applyIcmpError(c: TcpConn, e: IcmpErrorInfo): void {
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

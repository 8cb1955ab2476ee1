// The reset sent for a segment that has no connection to go to (RFC 9293 3.10.7.1, CLOSED
// state) or that LISTEN refuses (RFC 9293 3.10.7.2). The socket layer uses this for ports
// without a TCB; TCBs use it for themselves.

import { TcpFlag, type TcpHeader } from '../../wire/tcp.js';
import type { TcpOutSegment } from './host.js';
import { seqAdd } from './seq.js';

/**
 * Fill `out` with the RST answering `h` (a segment with `h.payloadLen` data bytes), or return
 * false when `h` is itself a RST (never answered). If the segment has an ACK the reset is
 * <SEQ=SEG.ACK><CTL=RST>, otherwise <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.
 */
export function fillResetFor(h: TcpHeader, out: TcpOutSegment): boolean {
  if ((h.flags & TcpFlag.Rst) !== 0) return false;
  out.reset();
  const o = out.header;
  o.srcPort = h.dstPort;
  o.dstPort = h.srcPort;
  o.window = 0;
  if ((h.flags & TcpFlag.Ack) !== 0) {
    o.seq = h.ack;
    o.ack = 0;
    o.flags = TcpFlag.Rst;
  } else {
    const segLen =
      h.payloadLen +
      ((h.flags & TcpFlag.Syn) !== 0 ? 1 : 0) +
      ((h.flags & TcpFlag.Fin) !== 0 ? 1 : 0);
    o.seq = 0;
    o.ack = seqAdd(h.seq, segLen);
    o.flags = TcpFlag.Rst | TcpFlag.Ack;
  }
  return true;
}

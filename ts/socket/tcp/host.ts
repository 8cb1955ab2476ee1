// How a TCB talks to the rest of the stack. The layer below implements TcpHost once per stack
// (not per packet, not per connection): it turns outgoing segments into frames and tells the
// socket layer about events. A TCB never allocates to send: it fills the stack's one
// TcpOutSegment and calls transmit(), which must finish with it before returning.

import { TcpHeader, TcpOptions } from '../../wire/tcp.js';
import type { SendBuffer } from './send-buffer.js';
import type { Tcb } from './tcb.js';

/** A source of time in milliseconds (structurally the same as the device layer's Clock). */
export interface Clock {
  now(): number;
}

export const TcpEvent = {
  /** The handshake completed (ESTABLISHED). */
  Connected: 0,
  /** In-order data arrived (tcb.readable() > 0). */
  Readable: 1,
  /** Send buffer space was freed by an ACK. */
  Writable: 2,
  /** The peer's FIN arrived in order: no more data will come (read end of file). */
  PeerClosed: 3,
  /** The connection failed; tcb.error holds the code (ECONNREFUSED, ECONNRESET, ETIMEDOUT). */
  Error: 4,
  /** The TCB reached CLOSED and can be freed (after Error, if any). */
  Closed: 5,
  /** Our FIN (and so every byte before it) was acknowledged: FIN-WAIT-2 or TIME-WAIT follows. */
  FinAcked: 6,
} as const;

export type TcpEvent = (typeof TcpEvent)[keyof typeof TcpEvent];

/** One outgoing segment, filled by a TCB just before transmit(). */
export class TcpOutSegment {
  /** Ports, seq, ack, flags, window; the rest of the struct is unused. */
  readonly header = new TcpHeader();
  readonly options = new TcpOptions();
  /** Pass `options` to writeTcpHeader only when this is true. */
  hasOptions = false;
  payloadLen = 0;
  /** Sequence number of the first payload byte (in `source`). */
  payloadSeq = 0;
  source: SendBuffer | null = null;

  /** Copy the payload into a frame at dst[dstOff..]. */
  copyPayload(dst: Uint8Array, dstOff: number): void {
    if (this.payloadLen > 0 && this.source !== null) {
      this.source.copyOut(this.payloadSeq, dst, dstOff, this.payloadLen);
    }
  }

  reset(): void {
    this.options.clear();
    this.hasOptions = false;
    this.payloadLen = 0;
    this.source = null;
    this.header.urgentPointer = 0;
  }
}

export interface TcpHost {
  /**
   * Send `seg` for `tcb`: build the IP header from the TCB's addresses (the host's business:
   * use tcb.context), then writeTcpHeader(buf, off, seg.header, seg.hasOptions ? seg.options :
   * null), seg.copyPayload(buf, off + headerLength), and the checksum. A segment that cannot be
   * sent (no frame free) may be dropped: retransmission covers it.
   */
  transmit(tcb: Tcb, seg: TcpOutSegment): void;
  /**
   * Whether `tcb` may build a new segment (data or FIN) now. When the device has no room the
   * host says no and calls tcb.resumeOutput() once it has (as Linux's TCP small queues resume a
   * socket from tcp_tsq_handler): the segment waits in the send buffer instead of being built
   * and dropped, which only a retransmission timeout would repair.
   */
  mayTransmit(tcb: Tcb): boolean;
  /**
   * Whether the host builds `tcb`'s output later, at its flush, rather than now: it then calls
   * tcb.resumeOutput() before that flush. Asked each time the TCB is about to send what its
   * windows allow; a host that sends at once says false.
   */
  defersOutput(tcb: Tcb): boolean;
  /** RFC 6528 ISN for the TCB's 4-tuple (see isn.ts). */
  initialSequence(tcb: Tcb): number;
  /** Something happened on `tcb` (see TcpEvent). Called synchronously from TCB methods. */
  notify(tcb: Tcb, event: TcpEvent): void;
  /**
   * `tcb.nextDeadline()` may have moved: called at the end of every call into the TCB. The host
   * re-reads it before it next looks for due timers (once per loop pass, not per call).
   */
  deadlineChanged(tcb: Tcb): void;
}

// One connection as the stack sees it: the TCB plus what the TCB leaves to its owner (addresses,
// the demux chain, the timer heap slot, the listener it belongs to until accepted, the socket).

import { IpPath } from '../../iface/ip-path.js';
import { TcpFlag } from '../../wire/tcp.js';
import type { TcpEvent } from './host.js';
import { seqAdd, seqGt, seqLt } from './seq.js';
import type { Tcb } from './tcb.js';

/** What the socket layer above gets from the stack. */
export interface TcpConnUser {
  onTcpEvent(conn: TcpConn, event: TcpEvent): void;
}

export class TcpConn {
  tcb!: Tcb;
  is4 = true;
  local4 = 0;
  remote4 = 0;
  readonly local6 = new Uint8Array(16);
  readonly remote6 = new Uint8Array(16);
  localPort = 0;
  remotePort = 0;
  /** The route, path MTU and next hop every segment takes (bound with the addresses). */
  readonly path = new IpPath();
  /** Demux hash (a small integer) and the next connection with the same hash. */
  key = 0;
  next: TcpConn | null = null;
  inTable = false;
  /** Slot in the timer heap, -1 when not in it; the deadline it is filed under. */
  heapIndex = -1;
  deadline = Infinity;
  /** Listed in the stack's moved-deadline list, to be re-filed before timers are next looked at. */
  deadlineMoved = false;
  /** Listed for the stack's settle(): the app wrote or ended between passes. */
  outputDue = false;
  /** In the stack's line of connections waiting for device room. */
  waitingForRoom = false;
  /** The listener of a passive open until the application accepts it. */
  listener: TcpListener | null = null;
  inSynQueue = false;
  inAcceptQueue = false;
  /** Reached ESTABLISHED once (for AttemptFails / EstabResets). */
  established = false;
  countedTimeWait = false;
  /** Highest sequence sent so far (tells retransmissions apart for RetransSegs). */
  highTx = 0;
  highTxSet = false;
  /** An error learned outside the TCB (ICMP unreachable), reported with the Closed event. */
  error: string | null = null;
  user: TcpConnUser | null = null;

  /**
   * Notes a segment going out (its seq, flags and payload length). Returns true when it resends
   * sequence space already sent: RetransSegs counts every such segment, SYN, SYN-ACK and FIN
   * included, as Linux does (RFC 1213 tcpRetransSegs: "segments retransmitted").
   */
  noteSent(seq: number, flags: number, payloadLen: number): boolean {
    const space =
      payloadLen + ((flags & TcpFlag.Syn) !== 0 ? 1 : 0) + ((flags & TcpFlag.Fin) !== 0 ? 1 : 0);
    if (space === 0 || (flags & TcpFlag.Rst) !== 0) return false;
    const end = seqAdd(seq, space);
    const again = this.highTxSet && seqLt(seq, this.highTx);
    if (!this.highTxSet || seqGt(end, this.highTx)) this.highTx = end;
    this.highTxSet = true;
    return again;
  }
}

/** A listening socket: LISTEN on (address, port) with its SYN and accept queues. */
export class TcpListener {
  localPort = 0;
  /** IPv4 listener address, 0 = any. */
  local4 = 0;
  /** For IPv6 listeners: the address, or any. */
  readonly local6 = new Uint8Array(16);
  local6Any = true;
  /** An IPv6 listener (which also takes IPv4 unless v6Only). */
  v6Socket = false;
  v6Only = false;
  reuseAddr = false;
  backlog = 511;
  /** SYN-RECEIVED children; past synBacklog new SYNs are answered with cookies. */
  synQueueLength = 0;
  synBacklog = 511;
  readonly acceptQueue: TcpConn[] = [];
  next: TcpListener | null = null;
  open = true;
  /** Called when a connection joins the accept queue. */
  onAcceptable: (() => void) | null = null;

  get acceptsV4(): boolean {
    return this.v6Socket ? !this.v6Only && this.local6Any : true;
  }

  get acceptsV6(): boolean {
    return this.v6Socket;
  }

  /** Takes the oldest established connection off the accept queue. */
  accept(): TcpConn | null {
    const c = this.acceptQueue.shift();
    if (c === undefined) return null;
    c.inAcceptQueue = false;
    c.listener = null;
    return c;
  }
}

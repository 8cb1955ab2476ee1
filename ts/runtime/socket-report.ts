// One worker's sockets as `ss -tuanpo` shows them: state, queues, local and peer address, the
// timer that runs. Built on demand from the stacks (a control-plane call, never on the data path).
import { formatIpv4Address, formatIpv6Address } from '../wire/address.js';
import { TcpState } from '../socket/tcp/state.js';
import type { TcpConn, TcpListener } from '../socket/tcp/tcp-conn.js';
import type { UdpPcb } from '../socket/udp/udp-pcb.js';
import type { WorkerStack } from '../api/worker-stack.js';

/** The timer a socket waits on, named as Linux's ss names them. */
export interface SocketTimer {
  /** on = retransmission (or SYN), persist = zero-window probe, keepalive, timewait. */
  kind: 'on' | 'persist' | 'keepalive' | 'timewait';
  /** Milliseconds until it fires (0 when overdue). */
  ms: number;
  /** Retransmissions so far (the third field of ss's timer:(...)). */
  retransmits: number;
}

export interface SocketEntry {
  proto: 'tcp' | 'udp';
  /** ss's state names: LISTEN, ESTAB, SYN-SENT, SYN-RECV, FIN-WAIT-1, ..., TIME-WAIT, UNCONN. */
  state: string;
  /** Bytes received and not yet read (listeners: connections waiting in the accept queue). */
  recvQ: number;
  /** Bytes written and not yet acknowledged (listeners: the backlog). */
  sendQ: number;
  localAddress: string;
  localPort: number;
  /** '*' and port 0 when there is no peer (listeners, unconnected UDP). */
  peerAddress: string;
  peerPort: number;
  family: 4 | 6 | 46;
  worker: number;
  timer: SocketTimer | null;
}

// ss -t state names (iproute2 misc/ss.c sstate_name), indexed by TcpState.
const SS_STATE = [
  'CLOSED',
  'LISTEN',
  'SYN-SENT',
  'SYN-RECV',
  'ESTAB',
  'FIN-WAIT-1',
  'FIN-WAIT-2',
  'CLOSE-WAIT',
  'CLOSING',
  'LAST-ACK',
  'TIME-WAIT',
];

/** The state names `ss --state` and `xdpnet ss --state` accept, as they appear in output. */
export function socketStateName(state: TcpState): string {
  return SS_STATE[state];
}

/** Every socket of this worker: TCP listeners and connections, then UDP sockets. */
export function socketReport(stack: WorkerStack): SocketEntry[] {
  const now = stack.iface.clock.now();
  const out: SocketEntry[] = [];
  for (const l of stack.tcp.allListeners()) out.push(listenerEntry(l, stack.workerId));
  for (const c of stack.tcp.allConnections()) out.push(connEntry(c, stack.workerId, now));
  for (const p of stack.udp.allPcbs()) out.push(udpEntry(p, stack.workerId));
  return out;
}

function listenerEntry(l: TcpListener, worker: number): SocketEntry {
  const any = anyAddress(l.v6Socket, l.v6Only || !l.local6Any, l.local4, l.local6, l.local6Any);
  return {
    proto: 'tcp',
    state: 'LISTEN',
    recvQ: l.acceptQueue.length,
    sendQ: l.backlog,
    localAddress: any.address,
    localPort: l.localPort,
    peerAddress: '*',
    peerPort: 0,
    family: any.family,
    worker,
    timer: null,
  };
}

function connEntry(c: TcpConn, worker: number, now: number): SocketEntry {
  const tcb = c.tcb;
  return {
    proto: 'tcp',
    state: SS_STATE[tcb.state],
    recvQ: tcb.readable(),
    sendQ: tcb.unacknowledged(),
    localAddress: c.is4 ? formatIpv4Address(c.local4) : formatIpv6Address(c.local6),
    localPort: c.localPort,
    peerAddress: c.is4 ? formatIpv4Address(c.remote4) : formatIpv6Address(c.remote6),
    peerPort: c.remotePort,
    family: c.is4 ? 4 : 6,
    worker,
    timer: connTimer(c, now),
  };
}

/**
 * The timer ss would show, in Linux's order of precedence (tcp_diag: retransmit, then
 * zero-window probe, then keep-alive; TIME-WAIT and an orphan FIN-WAIT-2 show as timewait).
 */
function connTimer(c: TcpConn, now: number): SocketTimer | null {
  const tcb = c.tcb;
  const left = (deadline: number): number => Math.max(0, Math.round(deadline - now));
  if (tcb.state === TcpState.TimeWait && Number.isFinite(tcb.timeWaitDeadline)) {
    return { kind: 'timewait', ms: left(tcb.timeWaitDeadline), retransmits: 0 };
  }
  if (Number.isFinite(tcb.rtxDeadline)) {
    return { kind: 'on', ms: left(tcb.rtxDeadline), retransmits: tcb.retransmits };
  }
  if (Number.isFinite(tcb.persistDeadline)) {
    return { kind: 'persist', ms: left(tcb.persistDeadline), retransmits: 0 };
  }
  if (tcb.state === TcpState.FinWait2 && Number.isFinite(tcb.finWait2Deadline)) {
    return { kind: 'timewait', ms: left(tcb.finWait2Deadline), retransmits: 0 };
  }
  if (tcb.keepAlive.enabled && Number.isFinite(tcb.keepAlive.deadline)) {
    return { kind: 'keepalive', ms: left(tcb.keepAlive.deadline), retransmits: 0 };
  }
  return null;
}

function udpEntry(p: UdpPcb, worker: number): SocketEntry {
  const any = anyAddress(p.v6Socket, p.ipv6Only || !p.acceptsV4, p.local4, p.local6, p.local6Any);
  const peer = p.connected
    ? p.remoteIs4
      ? formatIpv4Address(p.remote4)
      : formatIpv6Address(p.remote6)
    : '*';
  return {
    proto: 'udp',
    state: p.connected ? 'ESTAB' : 'UNCONN',
    recvQ: 0,
    sendQ: 0,
    localAddress: any.address,
    localPort: p.localPort,
    peerAddress: peer,
    peerPort: p.connected ? p.remotePort : 0,
    family: any.family,
    worker,
    timer: null,
  };
}

/** A bound address as ss prints it: `*` for a dual-stack wildcard, else the address. */
function anyAddress(
  v6Socket: boolean,
  v6Only: boolean,
  local4: number,
  local6: Uint8Array,
  local6Any: boolean,
): { address: string; family: 4 | 6 | 46 } {
  if (!v6Socket) return { address: formatIpv4Address(local4), family: 4 };
  if (!local6Any) return { address: formatIpv6Address(local6), family: 6 };
  return v6Only ? { address: '::', family: 6 } : { address: '*', family: 46 };
}

/** `addr:port` as ss prints it: IPv6 in brackets, `*` for no port. */
export function formatEndpoint(address: string, port: number): string {
  const a = address.includes(':') ? `[${address}]` : address;
  return `${a}:${port === 0 ? '*' : port}`;
}

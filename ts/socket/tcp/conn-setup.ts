// The local side of a new connection: the source address an active open uses, the local port
// (ephemeral ports chosen so that replies hash back to this worker), and a TCB whose MSS fits
// the path MTU. Cold paths (once per connection), so closures are fine here.

import type { Interface } from '../../iface/interface.js';
import { IfaceErrno } from '../../iface/errno.js';
import { TCP_MIN_HLEN } from '../../wire/tcp.js';
import { pickEphemeralPort } from '../../rss/ephemeral-port.js';
import type { Reta } from '../../rss/reta.js';
import type { ToeplitzHasher } from '../../rss/toeplitz.js';
import { v4Bytes } from './addr-bytes.js';
import type { TcpConfig } from './config.js';
import type { ConnectionTable } from './connection-table.js';
import type { ListenerTable } from './listener-table.js';
import { Tcb, type TcpContext } from './tcb.js';
import type { TcpConn } from './tcp-conn.js';

export const IP4_HLEN = 20;
export const IP6_HLEN = 40;

export interface Steering {
  hasher: ToeplitzHasher;
  reta: Reta;
}

export class ConnSetup {
  constructor(
    private readonly iface: Interface,
    private readonly ctx: TcpContext,
    private readonly conns: ConnectionTable,
    private readonly listeners: ListenerTable,
    private readonly workerId: number,
    private readonly steering: Steering | null,
    private readonly range: readonly [number, number],
  ) {}

  /** A TCB for `c` (RFC 9293 3.7.1 / RFC 1191: advertise the MSS the path MTU carries). */
  newTcb(c: TcpConn, overrides: Partial<TcpConfig>): Tcb {
    const mtu = c.is4 ? this.iface.pathMtu4(c.remote4) : this.iface.pathMtu6(c.remote6, 0);
    const mss = Math.max(88, mtu - (c.is4 ? IP4_HLEN : IP6_HLEN) - TCP_MIN_HLEN);
    const o = { ...overrides };
    if (o.mss === undefined || o.mss > mss) o.mss = mss;
    const tcb = new Tcb(this.ctx, c.localPort, c.remotePort, o);
    tcb.context = c;
    return tcb;
  }

  /** A port in the ephemeral range `conflicts` accepts, tried from a random start; or an errno. */
  randomPort(conflicts: (port: number) => boolean): number {
    const [lo, hi] = this.range;
    const span = hi - lo + 1;
    const start = Math.floor(Math.random() * span);
    for (let k = 0; k < span; k++) {
      const port = lo + ((start + k) % span);
      if (!conflicts(port)) return port;
    }
    return IfaceErrno.EADDRNOTAVAIL;
  }

  /** A port some listener or connection holds: never handed out as an ephemeral port. */
  ephemeralInUse(port: number): boolean {
    return this.listeners.has(port) || this.conns.portUsed(port);
  }

  /** connect()'s local port: with RSS steering, one whose replies reach this worker. */
  pickPort(c: TcpConn, takeOver: ((port: number) => boolean) | null = null): number {
    // `takeOver`: a used port the connect may still have (tcp_tw_reuse: its 4-tuple is held by
    // a TIME-WAIT that may be taken over).
    const inUse =
      takeOver === null
        ? (p: number) => this.ephemeralInUse(p)
        : (p: number) => this.ephemeralInUse(p) && !takeOver(p);
    if (this.steering === null) return this.randomPort(inUse);
    try {
      return pickEphemeralPort({
        hasher: this.steering.hasher,
        reta: this.steering.reta,
        worker: this.workerId,
        localAddr: c.is4 ? v4Bytes(c.local4) : c.local6.slice(),
        remoteAddr: c.is4 ? v4Bytes(c.remote4) : c.remote6.slice(),
        remotePort: c.remotePort,
        inUse,
        range: this.range,
      });
    } catch {
      return IfaceErrno.EADDRNOTAVAIL;
    }
  }

  /** The source the interface would pick: the address on the destination's subnet, else the first. */
  source4(c: TcpConn): number {
    const a = this.iface.addresses;
    for (let i = 0; i < a.v4.length; i++) {
      const p = a.v4Prefix[i];
      const mask = p === 0 ? 0 : (0xffffffff << (32 - p)) >>> 0;
      if (((a.v4[i] ^ c.remote4) & mask) >>> 0 === 0) return a.v4[i];
    }
    return a.v4.length > 0 ? a.v4[0] : 0;
  }

  /** Sets c.local6 to a link-local source for a link-local peer, a global one otherwise. */
  source6(c: TcpConn): boolean {
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
}

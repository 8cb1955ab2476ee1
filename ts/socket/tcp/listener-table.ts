// Listeners by local port, and which one a SYN reaches. Every worker has its own table, and a
// listen() is made in every worker (SO_REUSEPORT semantics across workers), so within one table
// two listeners on overlapping addresses always conflict.

import type { RxDatagram } from '../../iface/transport.js';
import type { TcpHeader } from '../../wire/tcp.js';
import { eq16 } from './addr-bytes.js';
import type { ConnectionTable } from './connection-table.js';
import type { TcpListener } from './tcp-conn.js';

export class ListenerTable {
  /** Port -> chain of listeners (through listener.next). */
  private readonly byPort: (TcpListener | null)[] = new Array<TcpListener | null>(65536).fill(null);

  add(l: TcpListener): void {
    l.next = this.byPort[l.localPort];
    this.byPort[l.localPort] = l;
  }

  remove(l: TcpListener): void {
    let p = this.byPort[l.localPort];
    if (p === l) this.byPort[l.localPort] = l.next;
    else {
      while (p !== null && p.next !== l) p = p.next;
      if (p !== null) p.next = l.next;
    }
    l.next = null;
  }

  has(port: number): boolean {
    return this.byPort[port] !== null;
  }

  /**
   * Whether `l` may not bind `port` (Linux inet_csk_bind_conflict): another listener on an
   * overlapping address always conflicts; connections on the port conflict unless SO_REUSEADDR
   * (which is what lets a server restart over its TIME-WAITs).
   */
  conflicts(l: TcpListener, port: number, conns: ConnectionTable): boolean {
    for (let p = this.byPort[port]; p !== null; p = p.next) if (overlaps(l, p)) return true;
    return !l.reuseAddr && conns.portUsed(port);
  }

  /** The most specific listener: bound address beats wildcard, IPv4 socket beats dual-stack. */
  find(d: RxDatagram, h: TcpHeader): TcpListener | null {
    let best: TcpListener | null = null;
    let bestScore = -1;
    for (let l = this.byPort[h.dstPort]; l !== null; l = l.next) {
      const score = d.family === 4 ? score4(l, d.dst4) : score6(l, d.buf, d.dstOff);
      if (score > bestScore) {
        best = l;
        bestScore = score;
      }
    }
    return best;
  }

  /** Every listener (cold path: introspection, shutdown). */
  *all(): Generator<TcpListener> {
    for (const first of this.byPort) {
      for (let l = first; l !== null; l = l.next) yield l;
    }
  }
}

/** How well `l` matches IPv4 destination `dst` (-1: not at all). */
function score4(l: TcpListener, dst: number): number {
  if (!l.acceptsV4) return -1;
  if (l.local4 !== 0 && l.local4 !== dst) return -1;
  return (l.v6Socket ? 0 : 1) + (l.local4 !== 0 ? 2 : 0);
}

/** How well `l` matches the IPv6 destination at b[off..] (-1: not at all). */
function score6(l: TcpListener, b: Uint8Array, off: number): number {
  if (!l.acceptsV6) return -1;
  if (!l.local6Any && !eq16(l.local6, b, off)) return -1;
  return l.local6Any ? 1 : 3;
}

function overlaps(a: TcpListener, b: TcpListener): boolean {
  if (!a.v6Socket && !b.v6Socket) return a.local4 === 0 || b.local4 === 0 || a.local4 === b.local4;
  if (a.v6Socket && b.v6Socket) {
    return a.local6Any || b.local6Any || eq16(a.local6, b.local6, 0);
  }
  const v6 = a.v6Socket ? a : b;
  return v6.acceptsV4;
}

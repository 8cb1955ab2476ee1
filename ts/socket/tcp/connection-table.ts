// The demux table: every connection not yet CLOSED, found by its 4-tuple. Buckets are chains
// (through conn.next) under a 30-bit hash of the tuple: a small integer, so the Map lookup on
// every received segment allocates nothing. The table also counts the connections on each local
// port, which bind conflicts and ephemeral-port choice consult.

import type { IcmpErrorInfo, RxDatagram } from '../../iface/transport.js';
import type { TcpHeader } from '../../wire/tcp.js';
import { eq16, read32 } from './addr-bytes.js';
import type { Tcb } from './tcb.js';
import type { TcpConn, TcpListener } from './tcp-conn.js';

export class ConnectionTable {
  /** Demux: hash -> chain of connections (through conn.next). */
  private readonly chains = new Map<number, TcpConn>();
  /** Connections using each local port (bind and ephemeral-port conflicts). */
  private readonly portUsers = new Int32Array(65536);

  /** Connections in the table (cold path). */
  get size(): number {
    let n = 0;
    for (let c of this.chains.values()) for (; c !== null; c = c.next as TcpConn) n++;
    return n;
  }

  /** Local ports held by connections (cold path: leak checks of the port bookkeeping). */
  get portsInUse(): number {
    let n = 0;
    for (let p = 0; p < 65536; p++) if (this.portUsers[p] !== 0) n++;
    return n;
  }

  portUsed(port: number): boolean {
    return this.portUsers[port] > 0;
  }

  /** Gives `c` its TCB and path, and files it under its 4-tuple. */
  attach(c: TcpConn, tcb: Tcb): void {
    c.tcb = tcb;
    if (c.is4) c.path.bind4(c.local4, c.remote4);
    else c.path.bind6(c.local6, 0, c.remote6, 0);
    c.key = c.is4
      ? key4(c.remote4, c.local4, c.remotePort, c.localPort)
      : key6(c.remote6, 0, c.local6, 0, c.remotePort, c.localPort);
    c.next = this.chains.get(c.key) ?? null;
    this.chains.set(c.key, c);
    c.inTable = true;
    this.portUsers[c.localPort]++;
  }

  /** Takes `c` out; false when it was not in. */
  detach(c: TcpConn): boolean {
    if (!c.inTable) return false;
    c.inTable = false;
    this.portUsers[c.localPort]--;
    const head = this.chains.get(c.key) ?? null;
    if (head === c) {
      if (c.next === null) this.chains.delete(c.key);
      else this.chains.set(c.key, c.next);
    } else {
      let p = head;
      while (p !== null && p.next !== c) p = p.next;
      if (p !== null) p.next = c.next;
    }
    c.next = null;
    return true;
  }

  /** The connection a received segment belongs to, or null (the hot path: no allocation). */
  find(d: RxDatagram, h: TcpHeader): TcpConn | null {
    if (d.family === 4) return this.find4(d.src4, d.dst4, h.srcPort, h.dstPort);
    return this.find6(d.buf, d.srcOff, d.dstOff, h.srcPort, h.dstPort);
  }

  /** The connection an ICMP error quotes (RFC 5927: the quoted header names the 4-tuple). */
  findIcmp(e: IcmpErrorInfo): TcpConn | null {
    if (e.family === 4) return this.find4(e.remote4, e.local4, e.remotePort, e.localPort);
    return this.find6(e.buf, e.remoteOff, e.localOff, e.remotePort, e.localPort);
  }

  /** An existing connection with c's addresses and remote port on `port`, or null. */
  lookup(c: TcpConn, port: number): TcpConn | null {
    if (c.is4) return this.find4(c.remote4, c.local4, c.remotePort, port);
    const k = key6(c.remote6, 0, c.local6, 0, c.remotePort, port);
    for (let p = this.chains.get(k) ?? null; p !== null; p = p.next) {
      if (p.localPort !== port || p.remotePort !== c.remotePort || p.is4) continue;
      if (eq16(p.remote6, c.remote6, 0)) return p;
    }
    return null;
  }

  /** The SYN-queue children of `l` (cold path: closing a listener). */
  synQueueOf(l: TcpListener): TcpConn[] {
    const out: TcpConn[] = [];
    for (let c of this.chains.values()) {
      for (; c !== null; c = c.next as TcpConn) if (c.listener === l && c.inSynQueue) out.push(c);
    }
    return out;
  }

  /** Every connection (cold path: introspection, shutdown). */
  *all(): Generator<TcpConn> {
    for (const first of this.chains.values()) {
      for (let c: TcpConn | null = first; c !== null; c = c.next) yield c;
    }
  }

  private find4(remote: number, local: number, rport: number, lport: number): TcpConn | null {
    const k = key4(remote, local, rport, lport);
    for (let c = this.chains.get(k) ?? null; c !== null; c = c.next) {
      if (c.is4 && c.remote4 === remote && c.local4 === local) {
        if (c.remotePort === rport && c.localPort === lport) return c;
      }
    }
    return null;
  }

  private find6(
    b: Uint8Array,
    remoteOff: number,
    localOff: number,
    rport: number,
    lport: number,
  ): TcpConn | null {
    const k = key6(b, remoteOff, b, localOff, rport, lport);
    for (let c = this.chains.get(k) ?? null; c !== null; c = c.next) {
      if (c.is4 || c.remotePort !== rport || c.localPort !== lport) continue;
      if (eq16(c.remote6, b, remoteOff) && eq16(c.local6, b, localOff)) return c;
    }
    return null;
  }
}

function mixKey(h: number, v: number): number {
  h ^= Math.imul(v, 0x85ebca6b);
  h = (h << 13) | (h >>> 19);
  return Math.imul(h, 5) + 0xe6546b64;
}

/** Demux key: a 30-bit hash (a small integer, so Map lookups do not allocate). */
function key4(remote: number, local: number, rport: number, lport: number): number {
  let h = mixKey(0x2545f491, remote);
  h = mixKey(h, local);
  h = mixKey(h, (rport << 16) | lport);
  h ^= h >>> 16;
  return Math.imul(h, 0x7feb352d) & 0x3fffffff;
}

function key6(
  rb: Uint8Array,
  roff: number,
  lb: Uint8Array,
  loff: number,
  rport: number,
  lport: number,
): number {
  let h = 0x6a09e667;
  for (let i = 0; i < 16; i += 4) h = mixKey(h, read32(rb, roff + i));
  for (let i = 0; i < 16; i += 4) h = mixKey(h, read32(lb, loff + i));
  h = mixKey(h, (rport << 16) | lport);
  h ^= h >>> 16;
  return Math.imul(h, 0x7feb352d) & 0x3fffffff;
}

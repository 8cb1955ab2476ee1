// Ports bound by TCP sockets of this layer before they listen or connect. TcpStack only knows
// listeners and connections, so bind(2)'s EADDRINUSE between two of our sockets is decided here
// with Linux's inet_csk_bind_conflict rules: overlapping addresses conflict unless both set
// SO_REUSEPORT, or both set SO_REUSEADDR and neither listens.

import { DEFAULT_EPHEMERAL_RANGE } from '../../rss/ephemeral-port.js';

export interface TcpBinding {
  readonly v6Socket: boolean;
  v6Only: boolean;
  /** Bound address: any (wildcard), or is4 with addr4, or addr6. */
  any: boolean;
  is4: boolean;
  addr4: number;
  readonly addr6: Uint8Array;
  port: number;
  reuseAddr: boolean;
  reusePort: boolean;
  listening: boolean;
}

export class TcpBindTable {
  private readonly byPort = new Map<number, TcpBinding[]>();

  /** True when `b` may take `port` next to the bindings already there. */
  free(b: TcpBinding, port: number): boolean {
    const list = this.byPort.get(port);
    if (list === undefined) return true;
    for (const o of list) if (o !== b && overlaps(b, o) && !reusable(b, o)) return false;
    return true;
  }

  /** Binds to `port`, or to a free ephemeral port when 0; returns the port or -1. */
  add(b: TcpBinding, port: number): number {
    if (port === 0) {
      const [lo, hi] = DEFAULT_EPHEMERAL_RANGE;
      const span = hi - lo + 1;
      const start = Math.floor(Math.random() * span);
      port = -1;
      for (let k = 0; k < span && port < 0; k++) {
        const p = lo + ((start + k) % span);
        if (!this.byPort.has(p)) port = p;
      }
      if (port < 0) return -1;
    } else if (!this.free(b, port)) return -1;
    b.port = port;
    const list = this.byPort.get(port);
    if (list === undefined) this.byPort.set(port, [b]);
    else list.push(b);
    return port;
  }

  remove(b: TcpBinding): void {
    const list = this.byPort.get(b.port);
    if (list === undefined) return;
    const i = list.indexOf(b);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.byPort.delete(b.port);
  }
}

function reusable(a: TcpBinding, b: TcpBinding): boolean {
  if (a.reusePort && b.reusePort) return true;
  return a.reuseAddr && b.reuseAddr && !a.listening && !b.listening;
}

function overlaps(a: TcpBinding, b: TcpBinding): boolean {
  if (!sameFamilyReach(a, b)) return false;
  if (a.any || b.any) return true;
  if (a.is4 !== b.is4) return false;
  if (a.is4) return a.addr4 === b.addr4;
  for (let i = 0; i < 16; i++) if (a.addr6[i] !== b.addr6[i]) return false;
  return true;
}

// An IPv4 binding meets an IPv6 one only through a dual-stack (not v6-only) socket.
function sameFamilyReach(a: TcpBinding, b: TcpBinding): boolean {
  if (a.v6Socket === b.v6Socket) return true;
  const v6 = a.v6Socket ? a : b;
  return !v6.v6Only;
}

// The flows a worker has state for, as the RSS input of the packets that reach it (the peer as
// source: remote address, local address, remote port, local port; 12 bytes IPv4, 36 IPv6). A
// worker-count change pins each of them to this worker while its bucket moves elsewhere
// (Engine.resize), and the pins go once the flow no longer appears here. Cold path.
import type { WorkerStack } from '../api/worker-stack.js';

function writeV4(out: Uint8Array, at: number, addr: number): void {
  out[at] = addr >>> 24;
  out[at + 1] = (addr >>> 16) & 0xff;
  out[at + 2] = (addr >>> 8) & 0xff;
  out[at + 3] = addr & 0xff;
}

function tupleV4(
  remote: number,
  local: Uint8Array | number,
  remotePort: number,
  localPort: number,
): Uint8Array {
  const t = new Uint8Array(12);
  writeV4(t, 0, remote);
  if (typeof local === 'number') writeV4(t, 4, local);
  else t.set(local, 4);
  t[8] = remotePort >>> 8;
  t[9] = remotePort & 0xff;
  t[10] = localPort >>> 8;
  t[11] = localPort & 0xff;
  return t;
}

function tupleV6(
  remote: Uint8Array,
  local: Uint8Array,
  remotePort: number,
  localPort: number,
): Uint8Array {
  const t = new Uint8Array(36);
  t.set(remote, 0);
  t.set(local, 16);
  t[32] = remotePort >>> 8;
  t[33] = remotePort & 0xff;
  t[34] = localPort >>> 8;
  t[35] = localPort & 0xff;
  return t;
}

/**
 * Every TCP connection in any state but CLOSED (SYN-RECEIVED children and TIME-WAIT included:
 * a segment of theirs reaching another worker would be reset there), and every connected UDP
 * socket (with the local address its datagrams carry; an unconnected one is served wherever a
 * datagram lands).
 */
export function openFlowTuples(stack: WorkerStack): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const c of stack.tcp.allConnections()) {
    out.push(
      c.is4
        ? tupleV4(c.remote4, c.local4, c.remotePort, c.localPort)
        : tupleV6(c.remote6, c.local6, c.remotePort, c.localPort),
    );
  }
  for (const p of stack.udp.allPcbs()) {
    if (!p.connected) continue;
    const local = stack.udp.connectedLocalAddress(p);
    out.push(
      p.remoteIs4
        ? tupleV4(p.remote4, local, p.remotePort, p.localPort)
        : tupleV6(p.remote6, local, p.remotePort, p.localPort),
    );
  }
  return out;
}

/** One tuple as a map key (cold path). */
export function flowKey(tuple: Uint8Array): string {
  return Buffer.from(tuple.buffer, tuple.byteOffset, tuple.byteLength).toString('hex');
}

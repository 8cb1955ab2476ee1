// Ephemeral source ports for connect() that bring the replies back to the calling worker: the
// peer's replies are hashed with the peer as source, so we pick a local port whose
// return-direction hash (remote addr, local addr, remote port, local port) lands on us in the
// RETA. F-Stack, mTCP and Seastar do the same; it saves forwarding every reply between workers.

import type { Reta } from './reta.js';
import type { ToeplitzHasher } from './toeplitz.js';

/** Linux's default net.ipv4.ip_local_port_range. */
export const DEFAULT_EPHEMERAL_RANGE: readonly [number, number] = [32768, 60999];

/** What pickEphemeralPort needs to know. */
export interface EphemeralPortRequest {
  /** Hasher for the RSS key the NIC (or dispatcher) uses. */
  hasher: ToeplitzHasher;
  /** The RETA deciding ownership (flow pins never apply to a new flow). */
  reta: Reta;
  /** The calling worker. */
  worker: number;
  /** Our address: 4 bytes (IPv4) or 16 bytes (IPv6). */
  localAddr: Uint8Array;
  /** The peer's address, same family. */
  remoteAddr: Uint8Array;
  /** The peer's port. */
  remotePort: number;
  /**
   * Ports not to use for this remote endpoint: in use, or in TIME_WAIT without reuse allowed.
   * A set of ports or a predicate.
   */
  inUse?: ReadonlySet<number> | ((port: number) => boolean);
  /** Inclusive port range; default 32768-60999 like Linux. */
  range?: readonly [number, number];
  /** Where to start the scan within the range (Linux randomizes it); default random. */
  startOffset?: number;
}

function errno(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

/**
 * Picks a free local port in the range whose return-direction hash maps to `worker`; throws
 * EADDRNOTAVAIL (like connect(2)) when every such port is taken. Costs two table lookups per
 * candidate: the hash is linear, so only the local port's contribution changes.
 */
export function pickEphemeralPort(req: EphemeralPortRequest): number {
  const { hasher, reta, worker, localAddr, remoteAddr, remotePort } = req;
  const [lo, hi] = req.range ?? DEFAULT_EPHEMERAL_RANGE;
  if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 1 || hi > 65535 || lo > hi) {
    throw errno('EINVAL', `ephemeral port range ${lo}-${hi} must lie within 1-65535`);
  }
  const inUse = req.inUse;
  const taken =
    inUse === undefined
      ? () => false
      : typeof inUse === 'function'
        ? inUse
        : (port: number) => inUse.has(port);
  // Return direction: source = remote, destination = local; local port is the last field.
  const base = hasher.hashTuple(remoteAddr, localAddr, remotePort, 0);
  const portPos = 2 * localAddr.length + 2;
  const span = hi - lo + 1;
  const start = req.startOffset ?? Math.floor(Math.random() * span);
  for (let k = 0; k < span; k++) {
    const port = lo + ((start + k) % span);
    const hash = (base ^ hasher.portAt(portPos, port)) >>> 0;
    if (reta.ownerOf(hash) === worker && !taken(port)) return port;
  }
  throw errno(
    'EADDRNOTAVAIL',
    `no free port in ${lo}-${hi} routes replies from the peer to worker ${worker}: ` +
      'close idle connections, widen the ephemeral range or add local addresses',
  );
}

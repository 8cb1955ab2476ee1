// What the main thread asks a port worker to run, and what it reports back. Plain data: these
// cross the threads.js control channel.

interface CommonSpec {
  /** Stop after this many seconds at most. */
  seconds?: number;
}

export type LoopSpec = CommonSpec &
  (
    | { mode: 'rxdrop' }
    | { mode: 'l2fwd' }
    | { mode: 'rxcheck'; expect: number; port: number }
    | {
        mode: 'txonly';
        srcMac: string;
        dstMac: string;
        srcIp: string;
        dstIp: string;
        srcPort: number;
        dstPort: number;
        size: number;
        count?: number;
        rate?: number;
      }
  );

export interface LoopReport {
  mode: LoopSpec['mode'];
  seconds: number;
  rxPackets: number;
  rxBytes: number;
  txPackets: number;
  txBytes: number;
  /** CPU time of the worker thread while the loop ran. */
  threadCpuSeconds: number;
  loop: Record<string, number>;
}

/** "aa:bb:cc:dd:ee:ff" to bytes. Cold path. */
export function macBytes(mac: string): Uint8Array {
  const parts = mac.split(':');
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) {
    throw Object.assign(new Error(`not a MAC address: '${mac}'`), { code: 'EINVAL' });
  }
  return Uint8Array.from(parts.map((p) => parseInt(p, 16)));
}

/** Dotted IPv4 to an unsigned 32-bit number. Cold path. */
export function ipv4Number(ip: string): number {
  const parts = ip.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) {
    throw Object.assign(new Error(`not an IPv4 address: '${ip}'`), { code: 'EINVAL' });
  }
  return parts.reduce((n, p) => n * 256 + Number(p), 0) >>> 0;
}

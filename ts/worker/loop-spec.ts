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

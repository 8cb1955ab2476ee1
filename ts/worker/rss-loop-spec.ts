// What the main thread asks an RSS worker (a worker behind the dispatcher) to run. Plain data.

export type RssLoopSpec = { seconds?: number } & (
  | { mode: 'rxdrop' }
  /** Record the source port and pattern sequence number of every UDP datagram to `port`. */
  | { mode: 'flowrecord'; port: number; maxSeq: number }
);

export interface RssLoopReport {
  mode: RssLoopSpec['mode'];
  worker: number;
  seconds: number;
  rxPackets: number;
  rxBytes: number;
  /** CPU time of the worker thread while the loop ran. */
  threadCpuSeconds: number;
  loop: Record<string, number>;
}

/** What a flowrecord loop saw: packets per UDP source port, and per sequence number. */
export interface FlowRecords {
  ports: Uint32Array;
  seqs: Uint8Array;
}

/** Every worker's records, as the workers' records() calls gave them; ENOENT for a worker without. */
export function everyWorkerRecords(all: (FlowRecords | undefined)[]): FlowRecords[] {
  return all.map((r, w) => {
    if (!r) {
      throw Object.assign(new Error(`worker ${w} ran no flowrecord loop`), { code: 'ENOENT' });
    }
    return r;
  });
}

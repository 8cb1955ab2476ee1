// UDP flows from the kernel peer to the engine, told apart by source port, and the accounting of
// where each one landed: the test of software RSS and of flow steering on the test bed. The
// peer's flood numbers every datagram; the workers' flow records count ports and sequences.
import type { TestBed } from '../../ts/testbed/testbed.js';
import type { FlowRecords } from '../../ts/worker/rss-loop-spec.js';
import { runPeerTool, type FloodReport } from '../../perf/harness/peer-tool.js';

export const PORT = 9;
export const FLOWS = 1000;
export const SRC_PORT_BASE = 20000;

function ipv4Bytes(ip: string): number[] {
  return ip.split('.').map(Number);
}

/** The tuple of a flow from the peer, in RSS order (what the dispatcher hashes). */
export function flowTuple(bed: TestBed, srcPort: number): Uint8Array {
  return Uint8Array.from([
    ...ipv4Bytes(bed.peerIpv4),
    ...ipv4Bytes(bed.engineIpv4),
    srcPort >>> 8,
    srcPort & 0xff,
    PORT >>> 8,
    PORT & 0xff,
  ]);
}

/** `count` 64-byte datagrams over the FLOWS flows at `rate` per second. */
export function flood(bed: TestBed, count: number, rate: number): Promise<FloodReport> {
  return runPeerTool<FloodReport>(
    bed,
    [
      'flood',
      '--dst',
      bed.engineIpv4,
      '--port',
      String(PORT),
      '--flows',
      String(FLOWS),
      '--src-port-base',
      String(SRC_PORT_BASE),
      '--batch',
      '1',
      '--size',
      '64',
      '--count',
      String(count),
      '--rate',
      String(rate),
      '--seconds',
      '30',
    ],
    40000,
  );
}

/** Workers that saw flow `srcPort`. */
export function seenOn(records: FlowRecords[], srcPort: number): number[] {
  return records.flatMap((r, w) => (r.ports[srcPort] > 0 ? [w] : []));
}

/** Sequence numbers below `count` not seen exactly once across the workers. */
export function badSequences(
  records: FlowRecords[],
  count: number,
): { lost: number; doubled: number } {
  let lost = 0;
  let doubled = 0;
  for (let s = 0; s < count; s++) {
    let n = 0;
    for (const r of records) n += r.seqs[s];
    if (n === 0) lost++;
    else if (n > 1) doubled++;
  }
  return { lost, doubled };
}

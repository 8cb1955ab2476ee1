// Interface counters of the peer's end of the bed, read inside its namespace: how many frames the
// kernel peer's interface actually received, whatever happened to them above layer 2.
import type { TestBed } from '../../ts/testbed/testbed.js';

export async function peerRxPackets(bed: TestBed): Promise<number> {
  const { code, stdout } = await bed.exec(
    ['cat', `/sys/class/net/${bed.peerIf}/statistics/rx_packets`],
    {
      timeoutMs: 5000,
    },
  );
  if (code !== 0)
    throw Object.assign(new Error(`cannot read ${bed.peerIf} counters`), { code: 'EIO' });
  return Number(stdout.trim());
}

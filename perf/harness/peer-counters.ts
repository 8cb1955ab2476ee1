// Interface counters of the peer's end of the bed, read inside its namespace: how many frames the
// kernel peer's interface actually received or sent, whatever happened to them above layer 2.
import type { TestBed } from '../../ts/testbed/testbed.js';

/** rx: frames the peer received (what the side under test sent); tx: what the peer sent. */
export type PeerCounter = 'rx' | 'tx';

export async function peerPackets(bed: TestBed, counter: PeerCounter): Promise<number> {
  const file = `/sys/class/net/${bed.peerIf}/statistics/${counter}_packets`;
  const { code, stdout } = await bed.exec(['cat', file], { timeoutMs: 5000 });
  if (code !== 0) {
    throw Object.assign(new Error(`cannot read ${bed.peerIf} counters`), { code: 'EIO' });
  }
  return Number(stdout.trim());
}

export function peerRxPackets(bed: TestBed): Promise<number> {
  return peerPackets(bed, 'rx');
}

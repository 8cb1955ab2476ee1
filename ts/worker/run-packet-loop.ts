// Runs a packet loop in slices so the worker's event loop (and its control calls, stop() among
// them) keeps getting turns, with the idle back-off between passes.
import type { PacketLoop } from './loops/packet-loop.js';
import { IdleAction, IdleBackoff, nap } from './idle-backoff.js';
import { monotonicNow } from '../dev/memory/clock.js';

export interface ParkableDevice {
  readonly batch: number;
  /** Blocks until packets may be there, or `ms` passes. */
  waitReadable(ms: number): boolean;
}

/** Resolves with the back-off's counters once `stopped()`, the loop is done, or the deadline. */
export function runPacketLoop(
  dev: ParkableDevice,
  loop: PacketLoop,
  deadline: number,
  stopped: () => boolean,
): Promise<IdleBackoff> {
  const backoff = new IdleBackoff(dev.batch);
  return new Promise((resolve) => {
    const slice = (): void => {
      for (let pass = 0; pass < 256; pass++) {
        if (stopped() || loop.done() || monotonicNow() >= deadline) return resolve(backoff);
        const action = backoff.next(loop.step());
        if (action === IdleAction.Nap) nap(backoff.napMs);
        else if (action === IdleAction.Park) {
          dev.waitReadable(backoff.parkMs);
          break;
        }
      }
      setImmediate(slice);
    };
    slice();
  });
}

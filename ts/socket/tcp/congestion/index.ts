import type { CongestionControl } from './congestion-control.js';
import { Cubic } from './cubic.js';
import { NewReno } from './new-reno.js';

export * from './congestion-control.js';
export { Cubic, CUBIC_BETA, CUBIC_C } from './cubic.js';
export { NewReno } from './new-reno.js';

export type CongestionAlgorithm = 'newreno' | 'cubic';

export function createCongestionControl(
  algorithm: CongestionAlgorithm,
  mss: number,
): CongestionControl {
  return algorithm === 'cubic' ? new Cubic(mss) : new NewReno(mss);
}

// The memory device: two virtual ports joined by rings in shared memory, with seeded faults.
export { MemoryPair, type MemoryPairOptions, type MemoryPairAudit } from './memory-pair.js';
export { MemoryPort, type MemoryAudit, type MemoryPortOptions } from './memory-port.js';
export type { MemoryPairConfig, MemoryPortConfig } from './pair-layout.js';
export { defaultFaults, type Faults } from './faults.js';
export { counterNames, type MemoryCounters } from './counters.js';
export { realClock, VirtualClock, type Clock } from './clock.js';
export { Xoshiro128 } from './prng.js';
export {
  custodyNames,
  type Custody,
  type CustodyCensus,
  type CustodyLedger,
} from './custody-ledger.js';

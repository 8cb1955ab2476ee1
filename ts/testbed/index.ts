// The built-in test bed (veth pair + network namespace with the Linux kernel as peer).
export {
  TestBed,
  type TestBedOptions,
  type BedSummary,
  type WireStats,
  type WireDirectionStats,
} from './testbed.js';
export type { NetemOptions } from './netem.js';
export type { CommandResult, CommandOptions } from './command.js';

// Flow steering for queues >= workers: each worker owns its queue(s) and forwards packets of
// flows it does not own to their owner through inter-worker rings, zero copy.
export {
  createSteeringLayout,
  type SteeringLayout,
  type SteeringLayoutOptions,
} from './steering-layout.js';
export { FlowOwner } from './flow-owner.js';
export {
  SteeredDevice,
  type SteerableDevice,
  type SteeringAudit,
  type SteeringCounters,
} from './steered-device.js';

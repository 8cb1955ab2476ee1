// What the main thread asks a steered worker (queues >= workers, flows steered between workers)
// to run, and what it reports. Plain data: these cross the threads.js control channel.
import type { FrameAudit } from '../dev/xdp/xdp-device.js';
import type { SteeringAudit, SteeringCounters } from '../dev/steering/index.js';
import type { RssLoopSpec } from './rss-loop-spec.js';

/** The same loops as behind the dispatcher. */
export type SteeredLoopSpec = RssLoopSpec;

export interface SteeredLoopReport {
  mode: SteeredLoopSpec['mode'];
  worker: number;
  seconds: number;
  /** Packets handed to the loop (kept from the own queue plus forwarded here). */
  rxPackets: number;
  rxBytes: number;
  /** Packets the worker's own queue received (before steering). */
  queuePackets: number;
  /** What steering did during the run. */
  steering: SteeringCounters;
  /** CPU time of the worker thread while the loop ran. */
  threadCpuSeconds: number;
  loop: Record<string, number>;
}

/** A steered worker's frame accounting: its queue's device and its share of steering. */
export interface SteeredAudit {
  device: FrameAudit;
  steering: SteeringAudit;
  ok: boolean;
  problems: string[];
}

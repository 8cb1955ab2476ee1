// A packet loop is what a port worker runs: step() does one batch of work and says how much.

import type { FrameDevice } from '../../dev/frame-device.js';

export interface PacketLoop {
  /** One batch: returns the packets handled (0 when idle). */
  step(): number;
  /** True once the loop has done what it was asked (a count reached). */
  done(): boolean;
  /** Loop-specific figures for the report. */
  result(): Record<string, number>;
}

/** Gives every frame the app still holds back to the device, and drains RX and completions. */
export function drainDevice(device: FrameDevice): void {
  for (let i = 0; i < 1024; i++) {
    const n = device.receive();
    for (let j = 0; j < n; j++) device.release(device.rxDesc[2 * j]);
    device.flush();
    if (n === 0 && device.reap() === 0) break;
  }
}

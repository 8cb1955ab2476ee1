// What a perf mode runs against: the built-in test bed (with the kernel peer as load and a Node
// baseline beside the engine) or a real NIC queue (the engine alone; load comes from outside).
import type { TestBed } from '../../ts/testbed/testbed.js';

export interface PerfOptions {
  seconds: number;
  /** UDP payload bytes of generated packets. */
  size: number;
  /** Packets per second for generated load; 0 = as fast as possible. */
  rate: number;
  batch: number;
  /** On a real NIC: interface and queue. */
  iface?: string;
  queue?: number;
  xdpMode?: 'auto' | 'native' | 'generic';
  bindMode?: 'auto' | 'zerocopy' | 'copy';
  /** txonly on a real NIC: where to send. */
  dstMac?: string;
  dstIp?: string;
  srcIp?: string;
}

export interface PerfTarget {
  bed?: TestBed;
  options: PerfOptions;
}

/** The port the load is sent to (discard). */
export const LOAD_PORT = 9;

/** Address of the kernel-stack baseline on the engine's side of the bed (.3 of the bed's /24). */
export function baselineAddress(bed: TestBed): string {
  return bed.engineIpv4.replace(/\.\d+$/, '.3');
}

export function bindingOptions(target: PerfTarget) {
  const { bed, options } = target;
  return {
    ifname: bed ? bed.engineIf : (options.iface as string),
    queues: bed ? undefined : [options.queue ?? 0],
    ipv4: bed ? [bed.engineIpv4] : options.srcIp ? [options.srcIp] : [],
    ipv6: bed ? [bed.engineIpv6] : [],
    xdpMode: options.xdpMode,
    bindMode: options.bindMode,
  };
}

/** Waits `ms` with no load to report (a real NIC, where the load comes from outside). */
export function sleepThenUndefined(ms: number): Promise<undefined> {
  return new Promise((resolve) => setTimeout(() => resolve(undefined), ms));
}

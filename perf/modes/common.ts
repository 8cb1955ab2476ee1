// What a perf mode runs against: the built-in test bed (with the kernel peer as load and a Node
// baseline beside the engine) or a real NIC queue (the engine alone; load comes from outside).
import { flood, type FloodReport } from '../harness/peer-tool.js';
import { BaselineProcess } from '../harness/bed-engine.js';
import type { TestBed } from '../../ts/testbed/testbed.js';
import type { ProgressLog, Side } from '../harness/progress.js';
import type { Histogram } from '../harness/latency.js';
import type { RssMode } from '../../ts/runtime/rss-choice.js';

export interface PerfOptions {
  seconds: number;
  /** UDP payload bytes of generated packets. */
  size: number;
  /** Packets per second for generated load; 0 = as fast as possible. */
  rate: number;
  batch: number;
  /** Bytes a bulk transfer moves (mem-tcp-stream); the mode's default when absent. */
  bytes?: number;
  /** Frames the fuzzer sends (fuzz); the mode's default when absent. */
  count?: number;
  /** The fuzzer's seed (fuzz; default 1). */
  seed?: number;
  /** On a real NIC: interface and queue. */
  iface?: string;
  queue?: number;
  xdpMode?: 'auto' | 'native' | 'generic';
  bindMode?: 'auto' | 'zerocopy' | 'copy';
  /** Busy polling, SO_BUSY_POLL's microseconds (ts/dev/xdp/busy-poll.ts); absent: off. */
  busyPoll?: number;
  /** How the engine's flow ownership meets the NIC's RSS (EngineOptions.rss); the engine modes. */
  rss?: RssMode;
  /** txonly on a real NIC: where to send. */
  dstMac?: string;
  dstIp?: string;
  srcIp?: string;
  /** Seconds between progress lines on stderr; 0 or absent: none (samples still kept). */
  interval?: number;
  /** Write the HTML report here. */
  report?: string;
  /** Save the latency histograms here (beside the report by default). */
  histogramDir?: string;
  /** Capture the engine's frames into this pcap file (the modes that read it: mode-catalogue). */
  pcap?: string;
  /**
   * The bed's MTU, both ends, and the engine's (default 1500); one above what a UMEM frame holds
   * runs the engine on AF_XDP multi-buffer frames.
   */
  mtu?: number;
}

export interface PerfTarget {
  bed?: TestBed;
  options: PerfOptions;
  /** Where every phase's progress goes (see ProgressLog.during). */
  progress: ProgressLog;
  /** The latency modes' histograms, engine and baseline. */
  histograms: Partial<Record<Side, Histogram>>;
}

/** The port the load is sent to (discard). */
export const LOAD_PORT = 9;

/** The bed of a mode that runs on the built-in test bed only; EINVAL without one. */
export function requireBed(target: PerfTarget, mode: string): TestBed {
  if (!target.bed) {
    throw Object.assign(new Error(`${mode} runs on the built-in test bed only`), {
      code: 'EINVAL',
    });
  }
  return target.bed;
}

/** The peer's UDP flood to `dst`'s discard port with the run's size, length and rate. */
export function floodLoad(
  bed: TestBed,
  dst: string,
  options: PerfOptions,
  flows?: { flows: number; srcPortBase: number },
): Promise<FloodReport> {
  return flood(bed, {
    dst,
    port: LOAD_PORT,
    size: options.size,
    seconds: options.seconds,
    rate: options.rate,
    ...flows,
  });
}

/**
 * Puts the kernel-stack baseline's address on the engine's side of the bed (.3 of the bed's /24)
 * and returns it.
 */
export async function addBaselineAddress(bed: TestBed): Promise<string> {
  const address = bed.engineIpv4.replace(/\.\d+$/, '.3');
  await bed.addKernelAddressOnEngineSide(`${address}/24`);
  return address;
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
    busyPoll: options.busyPoll,
    pcap: options.pcap,
  };
}

/** Waits `ms` with no load to report (a real NIC, where the load comes from outside). */
export function sleepThenUndefined(ms: number): Promise<undefined> {
  return new Promise((resolve) => setTimeout(() => resolve(undefined), ms));
}

/**
 * Starts the baseline server perf/baselines/<script> on the kernel stack at the bed's .3 address,
 * serving `port` for `maxSeconds` at most (`more`: its further options).
 */
export async function startBaselineServer(
  bed: TestBed,
  script: string,
  port: number,
  maxSeconds: number,
  more: string[] = [],
): Promise<{ address: string; server: BaselineProcess }> {
  const address = await addBaselineAddress(bed);
  const args = ['--bind', address, '--port', String(port), '--seconds', String(maxSeconds)];
  const server = await BaselineProcess.start(script, [...args, ...more]);
  return { address, server };
}

// What the main thread hands each stack worker: how to open its device, the interface settings,
// the state every worker of the interface shares, RSS facts and the app to load. Plain data.
import type { FrameAccount } from '../dev/frame-device.js';
import type { QueueAssignment } from '../dev/xdp/xdp-binding.js';
import type { RingCounts } from '../dev/xdp/native.js';
import type { DispatchWorkerConfig } from '../dev/dispatch/dispatch-layout.js';
import type { SteeringLayout } from '../dev/steering/index.js';
import type { InterfaceConfig } from '../iface/config.js';
import type { SharedInterfaceState } from '../iface/interface.js';
import type { TcpConfig } from '../socket/tcp/config.js';

/** How a worker reaches its frames: the queues it reads itself, or the dispatcher's rings. */
export type DeviceSpec =
  | { kind: 'xdp'; queues: QueueAssignment[]; batch: number }
  | { kind: 'dispatch'; config: DispatchWorkerConfig }
  | { kind: 'steered'; queues: QueueAssignment[]; layout: SteeringLayout; batch: number };

export interface StackWorkerConfig {
  workerId: number;
  workerCount: number;
  device: DeviceSpec;
  iface: InterfaceConfig;
  shared: SharedInterfaceState;
  /** The RSS key and RETA that decide which worker owns a flow (for connect() ports). */
  rssKey: Uint8Array;
  reta: Uint8Array;
  /**
   * The SYN-cookie secret, the same in every worker: after a worker-count change the ACK that
   * returns a cookie may reach another worker than the one that sent it (random when absent).
   */
  cookieSecret?: Uint8Array;
  /** Absolute path or file URL of the app module loaded in this worker, if any. */
  app?: string;
  /** TCP defaults for every connection of this worker (timers, buffers, options). */
  tcp?: Partial<TcpConfig>;
  /** The ports connect() picks from (Linux ip_local_port_range), inclusive. */
  ephemeralPorts?: readonly [number, number];
  /** A pcap file this worker writes every frame its stack receives and sends into. */
  pcap?: string;
}

/** The kernel's rings of one queue's AF_XDP socket, as a worker reads them. */
export interface QueueRings extends RingCounts {
  queue: number;
}

/** What a stack worker reports. */
export interface StackWorkerStats {
  workerId: number;
  iface: Record<string, number>;
  drops: Record<string, number>;
  udp: Record<string, number>;
  tcp: Record<string, number>;
  /** Loss-detection counters (TcpContext.stats, ext-stats.ts): netstat's TcpExt section. */
  tcpExt: Record<string, number>;
  loop: { passes: number; parks: number; naps: number; cpuSeconds: number };
  /**
   * Where every frame of the worker's own AF_XDP queue is now (absent for dispatched workers,
   * whose frames the dispatcher shares out).
   */
  frames?: FrameAccount;
  /**
   * Entries in the kernel's rings of each AF_XDP socket the worker reads, by queue number (absent
   * when dispatched).
   */
  rings?: QueueRings[];
}

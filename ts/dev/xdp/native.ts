// Loads the node-xdp addon (crates/node-xdp) and states the contract this package relies on.
// The addon is context-aware, so the main thread and every worker_thread load it separately and
// reach the same process-wide sockets by id.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import { artifactPath, missingArtifactMessage } from './artifacts.js';

export interface InterfaceInfo {
  name: string;
  ifindex: number;
  mac: string;
  mtu: number;
  driver: string;
  up: boolean;
  carrier: boolean;
  channels: {
    rx: number;
    tx: number;
    combined: number;
    other: number;
    maxRx: number;
    maxTx: number;
    maxCombined: number;
  };
  /** RX queues an AF_XDP socket can bind (real_num_rx_queues): every queue a flow may land on. */
  rxQueues: number;
}

/** A reading the driver does not offer (no such ethtool operation: EOPNOTSUPP). */
export interface NativeUnsupported {
  code: string;
  message: string;
}

export type ChannelCounts = InterfaceInfo['channels'];

export interface NativeRssFacts {
  /** 'toeplitz', 'xor', 'crc32', 'none' or 'unknown(0x..)'. */
  hashFunction: string;
  /** 'none', 'sym-xor' or 'sym-or-xor'. */
  inputTransform: string;
  key: number[];
  indirectionTable: number[];
}

/** What nicSetRss writes (ETHTOOL_SRSSH). */
export interface NativeRssWrite {
  /** The whole RETA at the NIC's size: the RX queue of each bucket. */
  indirectionTable: number[];
  /** The key at the NIC's key size; empty keeps the NIC's key. */
  key: number[];
  /** 'toeplitz', 'xor' or 'crc32'; absent keeps the NIC's hash function. */
  hashFunction?: string;
  /** 'none', 'sym-xor' or 'sym-or-xor'; absent: 'none'. */
  inputTransform?: string;
}

export interface NativeFlowHash {
  flow: 'tcp4' | 'udp4' | 'tcp6' | 'udp6';
  /** Hashed fields: 'ip-src', 'ip-dst', 'src-port', 'dst-port', ... */
  fields?: string[];
  bits?: number;
  unsupported?: NativeUnsupported;
}

/** What the netdev netlink family says about a device's XDP and AF_XDP support. */
export interface NativeXdpFeatures {
  /** 'basic', 'redirect', 'ndo-xmit', 'xsk-zerocopy', 'hw-offload', 'rx-sg', 'ndo-xmit-sg'. */
  xdpFeatures: string[];
  xdpFeaturesBits: number;
  xdpZcMaxSegs?: number;
  /** 'timestamp', 'hash', 'vlan-tag' (Linux 6.8+). */
  xdpRxMetadata?: string[];
  /** 'tx-timestamp', 'tx-checksum', 'tx-launch-time-fifo' (Linux 6.8+). */
  xskFeatures?: string[];
}

/** One offload feature as `ethtool -k` shows it. */
export interface NativeOffload {
  name: string;
  active: boolean;
  /** Not changeable on this device. */
  fixed: boolean;
}

/** The busy-poll socket options of an AF_XDP socket, read back from the kernel. */
export interface BusyPollSettings {
  preferBusyPoll: boolean;
  usecs: number;
  /** Absent where the kernel's getsockopt cannot report SO_BUSY_POLL_BUDGET (ENOPROTOOPT). */
  budget?: number | null;
  /** The NAPI instance busy polling drives; 0 until a packet arrived, or where there is none. */
  napiId: number;
}

/** One poll(2) over the AF_XDP sockets of a worker that owns several queues. */
export interface NativeXskPollSet {
  wait(timeoutMs: number): boolean;
  close(): void;
}

export interface UmemOptions {
  frameSize: number;
  headroom?: number;
  frameCount?: number;
}

/** UMEM registered over the page-aligned interior of a JS SharedArrayBuffer. */
export interface NativeUmem {
  /** Byte offset of UMEM address 0 from the start of the SharedArrayBuffer. */
  readonly offset: number;
  readonly size: number;
  readonly frameSize: number;
  readonly frameCount: number;
  readonly headroom: number;
  close(): void;
}

export type BindMode = 'auto' | 'zerocopy' | 'copy';

export interface XskOptions {
  ifname: string;
  queue: number;
  mode?: BindMode;
  needWakeup?: boolean;
  rxSize?: number;
  txSize?: number;
  fillSize?: number;
  compSize?: number;
  busyPoll?: { preferBusyPoll?: boolean; usecs?: number; budget?: number };
  /**
   * XDP_USE_SG: packets longer than a frame come and go as chains of descriptors (bit 30 of an RX
   * length word, RX_CONTINUED; a TX [addr, len] may run over several contiguous frames).
   */
  multiBuffer?: boolean;
}

export interface XskStats {
  rxDropped: number;
  rxInvalidDescs: number;
  txInvalidDescs: number;
  rxRingFull: number;
  rxFillRingEmptyDescs: number;
  txRingEmptyDescs: number;
  rxPackets: number;
  rxBytes: number;
  txPackets: number;
  txBytes: number;
  kicks: number;
  fillEmptyEvents: number;
  invalidDescs: number;
}

export interface RingCounts {
  rx: number;
  tx: number;
  fill: number;
  comp: number;
}

/** One AF_XDP socket bound to (interface, queue); the control-plane handle. */
export interface NativeXskSocket {
  readonly id: number;
  readonly fd: number;
  readonly ifname: string;
  readonly ifindex: number;
  readonly queue: number;
  readonly zeroCopy: boolean;
  readonly mode: 'zerocopy' | 'copy';
  readonly needWakeup: boolean;
  /** SO_BUSY_POLL is set on the socket. */
  readonly busyPoll: boolean;
  /** The data path makes its syscall whenever the rings are idle (busy polling's NAPI runs). */
  readonly idleSyscalls: boolean;
  readonly ringSizes: RingCounts;
  busyPollSettings(): BusyPollSettings;
  /** Stops or restarts those idle syscalls; the socket options stay as set. */
  setIdleSyscalls(on: boolean): void;
  stats(): XskStats;
  close(): void;
}

export interface PortBuffers {
  rx: Uint32Array;
  tx: Uint32Array;
  fill: Uint32Array;
  comp: Uint32Array;
  /**
   * The UMEM's whole buffer: rx() then verifies TCP/UDP checksums (bit 31 of len = good) and
   * tx() fills TCP checksums.
   */
  umem?: Uint8Array;
}

/** The data path of one socket: one native call per batch, descriptors in shared arrays. */
export interface NativeXskPort {
  /** The id xskRx, xskFill, xskTx and xskComplete take (the data path's calls). */
  readonly handle: number;
  rx(max: number): number;
  fill(count: number): number;
  tx(count: number): number;
  complete(max: number): number;
  kick(): void;
  waitReadable(timeoutMs: number): boolean;
  occupancy(): RingCounts;
  close(): void;
}

export type XdpAttachMode = 'auto' | 'native' | 'generic';

export interface NativeXdpProgram {
  readonly progId: number;
  readonly ifname: string;
  readonly ifindex: number;
  readonly mode: 'native' | 'generic';
  readonly attachKind: 'link' | 'netlink';
  addIpv4(addr: string): void;
  removeIpv4(addr: string): void;
  addIpv6(addr: string): void;
  removeIpv6(addr: string): void;
  setSocket(queue: number, fd: number): void;
  clearSocket(queue: number): void;
  counters(): { redirected: number; passed: number };
  detach(): void;
}

export interface NodeXdp {
  version(): string;
  interfaceInfo(ifname: string): InterfaceInfo;
  attachedXdpProgram(ifname: string): { progId: number; mode: string } | null;
  nicChannels(ifname: string): { counts?: ChannelCounts; unsupported?: NativeUnsupported };
  nicRss(ifname: string): { facts?: NativeRssFacts; unsupported?: NativeUnsupported };
  nicFlowHashes(ifname: string): NativeFlowHash[];
  /** Writes the NIC's RSS table, key and hash function; throws (EOPNOTSUPP, EINVAL, EPERM). */
  nicSetRss(ifname: string, write: NativeRssWrite): void;
  /** Writes the RXH_* fields hashed for one flow type; throws as nicSetRss does. */
  nicSetFlowHash(ifname: string, flow: NativeFlowHash['flow'], bits: number): void;
  nicXdpFeatures(ifname: string): {
    features?: NativeXdpFeatures;
    unsupported?: NativeUnsupported;
  };
  nicOffloads(ifname: string): { features?: NativeOffload[]; unsupported?: NativeUnsupported };
  Umem: new (memory: Uint8Array, opts: UmemOptions) => NativeUmem;
  XskSocket: { create(umem: NativeUmem, opts: XskOptions): NativeXskSocket };
  XskPort: { open(socketId: number, buffers: PortBuffers): NativeXskPort };
  // The data path of an XskPort by its handle: the same as its methods, as plain functions that
  // skip the per-call costs of a class method (see crates/node-xdp/src/port.rs).
  xskRx(handle: number, max: number): number;
  xskFill(handle: number, count: number): number;
  xskTx(handle: number, count: number): number;
  xskComplete(handle: number, max: number): number;
  XskPollSet: { open(socketIds: number[]): NativeXskPollSet };
  XdpProgram: {
    attach(
      ifname: string,
      opts?: { mode?: XdpAttachMode; force?: boolean; maxQueues?: number; frags?: boolean },
    ): NativeXdpProgram;
  };
}

export { packageRoot } from './artifacts.js';

let loaded: NodeXdp | undefined;

/**
 * The addon, loaded on first use so that pure-TypeScript users never need it: from the build
 * tree in a clone, from the platform package (xdpnet-linux-x64-gnu) when installed (artifacts.ts).
 */
export function nodeXdp(): NodeXdp {
  if (loaded) return loaded;
  const addonPath = artifactPath('addon');
  if (!fs.existsSync(addonPath)) {
    throw Object.assign(new Error(missingArtifactMessage('addon')), { code: 'ENOENT' });
  }
  loaded = createRequire(import.meta.url)(addonPath) as NodeXdp;
  return loaded;
}

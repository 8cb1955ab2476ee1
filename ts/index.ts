// xdpnet's public API. Every type that a public function, option or result names is exported
// here too (test/unit/public-types.test.ts imports them through the package's own name), so
// an app can spell its options and the engine's reports out in its own code.

// Node-shaped APIs that run in an engine worker, each a namespace as Node's modules are.
export * as dgram from './api/dgram.js';
export * as net from './api/net.js';
export * as http from './api/http.js';
export * as https from './api/https.js';
export * as http2 from './api/http2.js';
export * as tls from './api/tls-ns.js';
export * as undici from './api/undici-ns.js';
export * as sys from './api/sys/index.js';

// The engine: options, and what stats(), sockets() and stop() report.
export {
  Engine,
  type EngineOptions,
  type EngineAudit,
  type EngineRssFacts,
  type ResizeReport,
  type WorkerState,
} from './runtime/engine.js';
export type { RssMode } from './runtime/rss-choice.js';
export type { MetricsOption } from './runtime/metrics/address.js';
export type { BindingFacts } from './dev/xdp/xdp-binding.js';
export type { BusyPollOptions, BusyPollFacts, KnobReport } from './dev/xdp/busy-poll.js';
export type { StackWorkerStats, QueueRings } from './runtime/stack-config.js';
export type { RingCounts } from './dev/xdp/native.js';
export type { SocketEntry, SocketTimer } from './runtime/socket-report.js';
export type { TcpConfig } from './socket/tcp/config.js';
export type { CongestionAlgorithm } from './socket/tcp/congestion/index.js';
export type { RouteConfig } from './iface/config.js';
export type { NeighbourTimers } from './iface/neighbour-table.js';

// RSS: Toeplitz hashing, the indirection table, RSS-aware ephemeral ports.
export {
  toeplitzHash,
  ToeplitzHasher,
  Reta,
  DEFAULT_RSS_KEY,
  SYMMETRIC_RSS_KEY,
  pickEphemeralPort,
  type RetaSize,
  type EphemeralPortRequest,
} from './rss/index.js';

// The test bed: a veth pair with the Linux kernel as the peer.
export {
  TestBed,
  type TestBedOptions,
  type BedSummary,
  type NetemOptions,
  type WireStats,
  type WireDirectionStats,
  type CommandResult,
  type CommandOptions,
} from './testbed/index.js';

// Devices for tests: the memory pair and the pcap tap, and what a device provides.
export {
  MemoryPair,
  MemoryPort,
  VirtualClock,
  counterNames,
  custodyNames,
  type MemoryPairOptions,
  type MemoryPairAudit,
  type MemoryPairConfig,
  type MemoryPortOptions,
  type MemoryPortConfig,
  type MemoryAudit,
  type MemoryCounters,
  type Faults,
  type Clock,
  type CustodyLedger,
  type Custody,
  type CustodyCensus,
} from './dev/memory/index.js';
export type { PacketMemory } from './wire/simd-sum.js';
export {
  PcapWriter,
  PcapTap,
  type PcapWriterOptions,
  type PcapTapOptions,
} from './dev/pcap/index.js';
export type { FrameDevice, FrameAccount } from './dev/frame-device.js';

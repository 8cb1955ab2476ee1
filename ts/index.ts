// xdpnet's public API.
export * as dgram from './api/dgram.js';
export * as net from './api/net.js';
export * as http from './api/http.js';
export * as https from './api/https.js';
export * as http2 from './api/http2.js';
export * as tls from './api/tls-ns.js';
export * as undici from './api/undici-ns.js';
export { Engine, type EngineOptions } from './runtime/engine.js';
export type { MetricsOption } from './runtime/metrics/address.js';
export {
  toeplitzHash,
  ToeplitzHasher,
  Reta,
  DEFAULT_RSS_KEY,
  SYMMETRIC_RSS_KEY,
} from './rss/index.js';
export { pickEphemeralPort } from './rss/index.js';
export { TestBed, type TestBedOptions } from './testbed/index.js';
export { MemoryPair, MemoryPort } from './dev/memory/index.js';
export { PcapWriter, PcapTap } from './dev/pcap/index.js';
export type { FrameDevice } from './dev/frame-device.js';
export * as sys from './api/sys/index.js';

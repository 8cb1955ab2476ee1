// Devices: the FrameDevice contract, the AF_XDP device (its addon loads on first use), the
// memory pair and the pcap tap.
export type { FrameDevice } from './frame-device.js';
export * from './xdp/xdp-device.js';
export * from './xdp/xdp-binding.js';
export * from './memory/index.js';
export * from './pcap/index.js';

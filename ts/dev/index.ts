// Devices: the FrameDevice contract, the AF_XDP device (its addon loads on first use), the
// memory pair, the pcap tap, and what a NIC says about its queues and RSS.
export type { FrameDevice } from './frame-device.js';
export * from './xdp/xdp-device.js';
export * from './xdp/xdp-binding.js';
export * from './memory/index.js';
export * from './pcap/index.js';
export * from './xdp/nic-info.js';

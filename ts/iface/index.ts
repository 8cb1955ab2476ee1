// The interface layer: per-worker IP input/output over a FrameDevice, with neighbour, path-MTU
// and address state shared between workers. See README.md for the transport-facing API.
export * from './interface.js';
export * from './config.js';
export * from './transport.js';
export * from './errno.js';
export { TxDatagram } from './ip-output.js';
export { IpPath } from './ip-path.js';
export { IfaceStats, TAKEN } from './context.js';
export * from './neighbour-table.js';
export * from './pmtu-cache.js';
export * from './address-states.js';
export * from './shared-table.js';
export { Reassembler, REASSEMBLY_HEADROOM } from './reassembly.js';
export { RouteTable, NextHop } from './routes.js';
export { TokenBucket } from './rate-limiter.js';
export { PendingQueue } from './pending-queue.js';

// RSS: Toeplitz hashing, the indirection table, flow pinning across resizes, and
// RSS-aware ephemeral ports for connect().

export * from './key.js';
export * from './toeplitz.js';
export * from './reta.js';
export * from './flow-steering.js';
export * from './ephemeral-port.js';
export * from './queue-table.js';

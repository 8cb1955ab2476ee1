// Shared-memory rings: SPSC descriptor/address rings over SharedArrayBuffer and the frame pool.
// The byte layout is a contract with the Rust side: see rings/README.md.

export * from './layout.js';
export * from './producer.js';
export * from './consumer.js';
export * from './wait.js';
export * from './frame-pool.js';

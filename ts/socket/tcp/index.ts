// The TCP core: pure, deterministic connection logic with time injected and output through a
// TcpHost. See tcb.ts for how an owner drives a connection.

export * from './seq.js';
export * from './isn.js';
export * from './rto.js';
export * from './congestion/index.js';
export * from './range-set.js';
export * from './reassembly.js';
export * from './sack-scoreboard.js';
export * from './byte-ring.js';
export * from './send-buffer.js';
export * from './receive-buffer.js';
export * from './window.js';
export * from './acceptable.js';
export * from './reset.js';
export * from './state.js';
export * from './config.js';
export * from './host.js';
export * from './tcb.js';
export * from './recovery.js';
export * from './timestamps.js';
export * from './keepalive.js';

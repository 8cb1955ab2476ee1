// xdpnet's `https`: Node's https module with servers that listen on the engine.
export { createHttpsServer as createServer } from './http/server.js';
export type { Server, ServerOptions } from 'node:https';
export * from './https-client-ns.js';

// xdpnet's `http`: Node's http module with servers that listen on the engine.
export { createHttpServer as createServer } from './http/server.js';
export { IncomingMessage, ServerResponse, STATUS_CODES, METHODS } from 'node:http';
export type { Server, ServerOptions, RequestListener } from 'node:http';
export * from './http-client-ns.js';

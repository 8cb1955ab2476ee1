// xdpnet's `http2`: Node's http2 module with servers that listen on the engine.
export {
  createHttp2Server as createServer,
  createSecureHttp2Server as createSecureServer,
  type Http2Handler,
} from './http/server.js';
export { constants, Http2ServerRequest, Http2ServerResponse } from 'node:http2';
export type {
  Http2Server,
  Http2SecureServer,
  ServerOptions,
  SecureServerOptions,
} from 'node:http2';

// Node's own http, https and http2 servers listening on the engine. Each create function builds
// the Node server as Node would and replaces only how it listens: listen() opens an xdpnet `net`
// listener in this worker (every worker listens: SO_REUSEPORT semantics) and hands each engine
// socket to the server with emit('connection'), the way a net.Server hands it a kernel socket.
// Node accepts any stream.Duplex there; TLS and HTTP/2 wrap it in a JSStreamSocket.
//
// The engine listener is installed as the server's `_handle` (net.Server's listening handle:
// close(), getsockname(), ref(), unref()), and every engine connection counts in `_connections`,
// so Node's own close() (http's closes idle connections first), address(), `listening`,
// getConnections() and the 'close' once the last connection is gone behave as on the kernel.

import http from 'node:http';
import https from 'node:https';
import http2 from 'node:http2';
import type { Server as NodeNetServer } from 'node:net';
import { nodeError } from '../errors.js';
import * as net from '../net.js';

/** What net.Server keeps about its listening handle and connections (lib/net.js). */
interface NetServerInternals {
  _handle: EngineListenHandle | null;
  _connections: number;
  _emitCloseIfDrained(): void;
  allowHalfOpen: boolean;
  pauseOnConnect: boolean;
  noDelay: boolean;
  keepAlive: boolean;
  /** In seconds (net.Server divides the option by 1000). */
  keepAliveInitialDelay: number;
}

type EngineServed = NodeNetServer & NetServerInternals;

/** The engine listener in the place of net.Server's TCPWrap. */
class EngineListenHandle {
  constructor(readonly listener: net.Server) {}

  getsockname(out: Record<string, unknown>): number {
    Object.assign(out, this.listener.address());
    return 0;
  }

  close(): void {
    this.listener.close();
  }

  ref(): void {}
  unref(): void {}
}

/** listen()'s arguments as Node takes them: (port, host, backlog, cb), (options, cb), (cb). */
function listenArgs(args: unknown[]): { options: net.ListenOptions; callback?: () => void } {
  const callback = args.find((a): a is () => void => typeof a === 'function');
  const [first, second, third] = args;
  if (typeof first === 'object' && first !== null) {
    const options = first as net.ListenOptions & { path?: string };
    if (options.path !== undefined) {
      throw nodeError(
        'ERR_INVALID_ARG_VALUE',
        'the engine listens on TCP ports only, not on a path',
        TypeError,
      );
    }
    return { options: { ...options, port: validPort(options.port ?? 0) }, callback };
  }
  const options: net.ListenOptions = { port: validPort(typeof first === 'function' ? 0 : first) };
  if (typeof second === 'string') options.host = second;
  if (typeof second === 'number') options.backlog = second;
  else if (typeof third === 'number') options.backlog = third;
  return { options, callback };
}

// As Node's validatePort: an integer (or a numeric string) from 0 to 65535; undefined is 0.
function validPort(port: unknown): number {
  const n = typeof port === 'string' && port.trim() !== '' ? Number(port) : port;
  if (n === undefined || n === null) return 0;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 65535) {
    throw nodeError(
      'ERR_SOCKET_BAD_PORT',
      `options.port should be >= 0 and < 65536. Received ${String(port)}.`,
      RangeError,
    );
  }
  return n;
}

/** Hands an engine connection to the Node server, counted as net.Server counts its own. */
function admit(server: EngineServed, socket: net.Socket): void {
  if (server.maxConnections > 0 && server._connections >= server.maxConnections) {
    socket.destroy();
    server.emit('drop', {
      localAddress: socket.localAddress,
      localPort: socket.localPort,
      localFamily: socket.remoteFamily, // both ends of a connection have one family
      remoteAddress: socket.remoteAddress,
      remotePort: socket.remotePort,
      remoteFamily: socket.remoteFamily,
    });
    return;
  }
  server._connections++;
  socket.once('close', () => {
    server._connections--;
    server._emitCloseIfDrained();
  });
  if (server.pauseOnConnect) socket.pause();
  server.emit('connection', socket);
}

function listenOnEngine(server: EngineServed, args: unknown[]): EngineServed {
  const { options, callback } = listenArgs(args);
  if (server._handle !== null) {
    throw nodeError(
      'ERR_SERVER_ALREADY_LISTEN',
      'Listen method has been called more than once without closing.',
    );
  }
  const listener = net.createServer(
    {
      allowHalfOpen: server.allowHalfOpen,
      noDelay: server.noDelay,
      keepAlive: server.keepAlive,
      keepAliveInitialDelay: server.keepAliveInitialDelay * 1000,
    },
    (socket) => admit(server, socket),
  );
  listener.on('error', (err: Error) => server.emit('error', err));
  // As Node's emitListeningNT: a server closed before the next tick never says it listened.
  listener.on('listening', () => {
    if (server._handle?.listener === listener) server.emit('listening');
  });
  listener.listen({ ...options, signal: undefined });
  // A listen that failed (EADDRINUSE, ...) reports its error on the next tick.
  if (listener.listening) server._handle = new EngineListenHandle(listener);
  if (callback !== undefined) server.once('listening', callback);
  const signal = options.signal;
  if (signal?.aborted) process.nextTick(() => server.close());
  else signal?.addEventListener('abort', () => server.close(), { once: true });
  return server;
}

/** Makes a Node server (net.Server or a subclass) listen on the engine. */
function servedByEngine<T extends NodeNetServer>(server: T): T {
  const served = server as T & EngineServed;
  Object.defineProperty(server, 'listen', {
    value: (...args: unknown[]) => listenOnEngine(served, args),
    writable: true,
    configurable: true,
  });
  return server;
}

/** As Node's http.createServer; the server's listen() listens on the engine. */
export function createHttpServer(handler?: http.RequestListener): http.Server;
export function createHttpServer(
  options: http.ServerOptions,
  handler?: http.RequestListener,
): http.Server;
export function createHttpServer(
  options?: http.ServerOptions | http.RequestListener,
  handler?: http.RequestListener,
): http.Server {
  if (typeof options === 'function') return servedByEngine(http.createServer(options));
  return servedByEngine(http.createServer(options ?? {}, handler));
}

/** As Node's https.createServer; the server's listen() listens on the engine. */
export function createHttpsServer(handler?: http.RequestListener): https.Server;
export function createHttpsServer(
  options: https.ServerOptions,
  handler?: http.RequestListener,
): https.Server;
export function createHttpsServer(
  options?: https.ServerOptions | http.RequestListener,
  handler?: http.RequestListener,
): https.Server {
  if (typeof options === 'function') return servedByEngine(https.createServer(options));
  return servedByEngine(https.createServer(options ?? {}, handler));
}

/** The request handler of an HTTP/2 server (Node's http2 'request' event). */
export type Http2Handler = (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void;

/** As Node's http2.createServer (cleartext); the server's listen() listens on the engine. */
export function createHttp2Server(handler?: Http2Handler): http2.Http2Server;
export function createHttp2Server(
  options: http2.ServerOptions,
  handler?: Http2Handler,
): http2.Http2Server;
export function createHttp2Server(
  options?: http2.ServerOptions | Http2Handler,
  handler?: Http2Handler,
): http2.Http2Server {
  if (typeof options === 'function') return servedByEngine(http2.createServer(options));
  return servedByEngine(http2.createServer(options ?? {}, handler));
}

/** As Node's http2.createSecureServer; the server's listen() listens on the engine. */
export function createSecureHttp2Server(handler?: Http2Handler): http2.Http2SecureServer;
export function createSecureHttp2Server(
  options: http2.SecureServerOptions,
  handler?: Http2Handler,
): http2.Http2SecureServer;
export function createSecureHttp2Server(
  options?: http2.SecureServerOptions | Http2Handler,
  handler?: Http2Handler,
): http2.Http2SecureServer {
  if (typeof options === 'function') return servedByEngine(http2.createSecureServer(options));
  return servedByEngine(http2.createSecureServer(options ?? {}, handler));
}

// fetch and undici through the engine: undici's Agent with a connect function that dials engine
// connections (TLS, Node's, over them for https:), as undici's own connector does over the
// kernel: TCP keep-alive, no Nagle, a connect timeout, ALPN (http/1.1, and h2 with allowH2) and
// a TLS session per server name.

import type { Socket as NodeSocket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import * as undici from 'undici';
import { dial } from './dial.js';
import { connect as tlsConnect, type ConnectionOptions } from './tls.js';

/**
 * As the object form of undici's `connect` option: TLS options for https: origins (ca,
 * rejectUnauthorized, cert, key, ...), `timeout` (ms from dialling to a usable connection, TLS
 * included; default 10 s) and `keepAliveInitialDelay` (TCP keep-alive idle; default 60 s).
 */
export type ConnectorOptions = ConnectionOptions & {
  keepAliveInitialDelay?: number;
  /** Offer HTTP/2 by ALPN to https: origins (undici then speaks h2 where the server agrees). */
  allowH2?: boolean;
};

/** undici's cache size (maxCachedSessions). */
const MAX_CACHED_SESSIONS = 100;

/** An undici connect function (`new undici.Agent({ connect })`) dialling through the engine. */
export function connector(options: ConnectorOptions = {}): undici.buildConnector.connector {
  const sessions = new Map<string, Buffer>();
  const { keepAliveInitialDelay, timeout, allowH2, ...tlsOptions } = options;
  const alpn = allowH2 === true ? ['h2', 'http/1.1'] : ['http/1.1'];
  const timeoutMs = timeout ?? 10000;
  return (opts, callback) => {
    const https = opts.protocol === 'https:';
    const port = Number(opts.port) || (https ? 443 : 80);
    const sessionKey = opts.servername || opts.hostname;
    let socket: NodeSocket | TLSSocket;
    if (https) {
      const tlsSocket = tlsConnect({
        ...tlsOptions,
        host: opts.hostname,
        port,
        servername: opts.servername || tlsOptions.servername,
        session: sessions.get(sessionKey),
        localAddress: opts.localAddress ?? undefined,
        ALPNProtocols: alpn,
        // undici's upgrade (a proxy's CONNECT tunnel): TLS over that socket, no new dial.
        socket: opts.httpSocket,
      });
      tlsSocket.on('session', (session: Buffer) => {
        sessions.delete(sessionKey);
        if (sessions.size >= MAX_CACHED_SESSIONS) sessions.delete(sessions.keys().next().value!);
        sessions.set(sessionKey, session);
      });
      socket = tlsSocket;
    } else {
      // undici calls Node's net.Socket methods only; xdpnet's Socket has them all.
      socket = dial(
        { hostname: opts.hostname, port, localAddress: opts.localAddress },
        80,
      ) as unknown as NodeSocket;
    }
    socket.setKeepAlive(true, keepAliveInitialDelay ?? 60000);
    socket.setNoDelay(true);
    let pending: typeof callback | null = callback;
    const settle = (err: Error | null): void => {
      clearTimeout(timer);
      const cb = pending;
      pending = null;
      if (cb === null) return;
      if (err === null) cb(null, socket);
      else cb(err, null);
    };
    const timer = setTimeout(() => {
      const err = new undici.errors.ConnectTimeoutError(
        `Connect Timeout Error (attempted address: ${opts.hostname}:${port}, timeout: ${timeoutMs}ms)`,
      );
      settle(err);
      socket.destroy(err);
    }, timeoutMs);
    socket.once(https ? 'secureConnect' : 'connect', () => settle(null));
    socket.on('error', (err: Error) => settle(err));
  };
}

/** undici's Agent (a Dispatcher) whose connections go through the engine. */
export class Agent extends undici.Agent {
  /**
   * undici's Agent options; `connect` (an object, as undici's) configures the engine dial, and
   * `allowH2` is offered by ALPN as undici's own connector does.
   */
  constructor(
    options: Omit<undici.Agent.Options, 'connect'> & { connect?: ConnectorOptions } = {},
  ) {
    super({ ...options, connect: connector({ allowH2: options.allowH2, ...options.connect }) });
  }
}

let defaultAgent: Agent | null = null;

/** This worker's engine Agent for fetch and request without a dispatcher of their own. */
export function engineDispatcher(): Agent {
  defaultAgent ??= new Agent();
  return defaultAgent;
}

/** undici's fetch, through the engine unless `init.dispatcher` names another dispatcher. */
export function fetch(
  input: undici.RequestInfo,
  init: undici.RequestInit = {},
): Promise<undici.Response> {
  return undici.fetch(input, { ...init, dispatcher: init.dispatcher ?? engineDispatcher() });
}

/** undici.request, through the engine unless `options.dispatcher` names another dispatcher. */
export function request(
  url: string | URL,
  options: Parameters<typeof undici.request>[1] = {},
): ReturnType<typeof undici.request> {
  return undici.request(url, { ...options, dispatcher: options?.dispatcher ?? engineDispatcher() });
}

// Dialling a TCP connection through the engine for the HTTP, TLS and fetch clients. Those clients
// take hosts from URLs and Node's request options, so a host may come bracketed ("[2001:2::1]")
// or be a name; the engine has no resolver, so a name fails the way a failed lookup does in
// Node (ENOTFOUND, on the socket, after the call returns) with a message saying what to do.

import { isIP } from 'node:net';
import { Socket } from '../net.js';

export interface DialOptions {
  host?: string | null;
  hostname?: string | null;
  port?: number | string | null;
  localAddress?: string | null;
  localPort?: number | null;
  family?: number | null;
  noDelay?: boolean;
  keepAlive?: boolean;
  keepAliveInitialDelay?: number;
  timeout?: number;
}

/** The IP literal in `host`, brackets removed; null when `host` is not an IP literal. */
export function ipLiteral(host: string): string | null {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return isIP(bare) === 0 ? null : bare;
}

/** Node's lookup failure (getaddrinfo ENOTFOUND), saying that the engine needs an IP literal. */
export function hostNotFound(host: string): Error {
  return Object.assign(
    new Error(
      `getaddrinfo ENOTFOUND ${host} (xdpnet has no DNS: use an IP literal such as 198.18.0.2 or [2001:2::2])`,
    ),
    { code: 'ENOTFOUND', errno: -3008, syscall: 'getaddrinfo', hostname: host },
  );
}

/**
 * An engine connection to `options.host` (or `hostname`) and `port`. It is returned connecting;
 * an unusable host destroys it with ENOTFOUND on the next tick, as a failed lookup would.
 */
export function dial(options: DialOptions, defaultPort: number): Socket {
  const host = options.hostname ?? options.host ?? (options.family === 6 ? '::1' : '127.0.0.1');
  const address = ipLiteral(host);
  const socket = new Socket();
  if (address === null) {
    process.nextTick(() => socket.destroy(hostNotFound(host)));
    return socket;
  }
  return socket.connect({
    host: address,
    port: Number(options.port ?? defaultPort) || defaultPort,
    localAddress: options.localAddress ?? undefined,
    localPort: options.localPort ?? undefined,
    noDelay: options.noDelay,
    keepAlive: options.keepAlive,
    keepAliveInitialDelay: options.keepAliveInitialDelay,
    timeout: options.timeout,
  });
}

// tls.connect over an engine connection: Node's own TLS (tls.connect({ socket })) on top of
// xdpnet's net.Socket, so certificates, ALPN, sessions and checkServerIdentity are Node's.

import * as nodeTls from 'node:tls';
import type { Socket as NodeSocket } from 'node:net';
import { dial, ipLiteral } from './dial.js';

/** Node's tls.connect options, with the TCP ones that apply to the engine connection. */
export type ConnectionOptions = nodeTls.ConnectionOptions & {
  localAddress?: string;
  localPort?: number;
  family?: number;
};

/**
 * As Node's tls.connect({ host, port, ... }, cb), dialled through the engine. `host` must be an IP
 * literal (there is no DNS; a name fails with ENOTFOUND); the certificate is checked against
 * `servername` when given, else against the host's IP (the certificate's IP SANs), as in Node.
 * Connection errors (ECONNREFUSED, ...) arrive as 'error' on the returned TLSSocket. With
 * `socket` it is Node's tls.connect over that socket.
 */
export function connect(
  options: ConnectionOptions,
  secureConnectListener?: () => void,
): nodeTls.TLSSocket {
  const host = options.host === undefined ? undefined : (ipLiteral(options.host) ?? options.host);
  if (options.socket !== undefined) {
    return nodeTls.connect({ ...options, host }, secureConnectListener);
  }
  const raw = dial({ ...options, timeout: undefined }, 443);
  // Node's TLSSocket over a JS stream: the ClientHello waits in the engine socket's write queue
  // until the TCP handshake completes. net.Socket is Node's type; ours is shaped like it.
  // Its JS-stream wrapper passes the engine socket's errors (ECONNREFUSED, ...) on to the
  // TLSSocket.
  return nodeTls.connect(
    { ...options, host, socket: raw as unknown as NodeSocket },
    secureConnectListener,
  );
}

// http.Agent and https.Agent that dial through the engine. Everything else is Node's Agent:
// pooling, keep-alive (a socket goes back to the pool on 'free'), maxSockets, timeouts, and for
// https the TLS session cache.

import * as nodeHttp from 'node:http';
import * as nodeHttps from 'node:https';
import type { Duplex } from 'node:stream';
import { dial } from './dial.js';
import { connect as tlsConnect, type ConnectionOptions } from './tls.js';

/** The callback of Agent.createConnection, as Node's (unused: the connection is returned). */
export type CreateConnectionCallback = (err: Error | null, stream: Duplex) => void;

/** Node's http.Agent; its connections are engine TCP connections (hosts: IP literals). */
export class Agent extends nodeHttp.Agent {
  override createConnection(
    options: nodeHttp.ClientRequestArgs,
    _cb?: CreateConnectionCallback,
  ): Duplex {
    return dial(options, 80);
  }
}

/** The https.Agent internals Node's own createConnection uses to cache TLS sessions per host. */
interface SessionCache {
  _getSession(key: string): Buffer | undefined;
  _cacheSession(key: string, session: Buffer): void;
  _evictSession(key: string): void;
}

/** Node's https.Agent; TLS (Node's) runs over engine TCP connections. */
export class HttpsAgent extends nodeHttps.Agent {
  override createConnection(
    options: nodeHttps.RequestOptions,
    _cb?: CreateConnectionCallback,
  ): Duplex {
    // As Node's https.Agent: resume the last session with this host when there is one.
    const key = (options as { _agentKey?: string })._agentKey;
    const cache = this as unknown as SessionCache;
    const session = key === undefined ? undefined : cache._getSession(key);
    const socket = tlsConnect({
      ...(options as ConnectionOptions),
      host: options.hostname ?? options.host ?? undefined,
      port: Number(options.port ?? 443) || 443,
      session,
    });
    if (key !== undefined) {
      socket.once('session', (s: Buffer) => cache._cacheSession(key, s));
      socket.once('close', (hadError: boolean) => {
        if (hadError) cache._evictSession(key);
      });
    }
    return socket;
  }
}

/** As Node 20's http.globalAgent, with keep-alive: what xdpnet's http.get/request use. */
export const globalAgent = new Agent({ keepAlive: true });
/** As Node 20's https.globalAgent, with keep-alive: what xdpnet's https.get/request use. */
export const httpsGlobalAgent = new HttpsAgent({ keepAlive: true });

// The metrics endpoint: an HTTP server on one address that answers GET /metrics with the
// registry in Prometheus's text format. It never keeps the process alive (like the control
// socket) and closes, with its connections, when the engine stops.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { formatHostPort, type MetricsAddress } from './address.js';

export class MetricsServer {
  private closed = false;

  private constructor(
    private readonly server: http.Server,
    private readonly registry: Registry,
    /** The endpoint's URL, with the port the system picked when asked for 0. */
    readonly url: string,
  ) {
    server.on('request', (req, res) => void this.answer(req, res));
  }

  /** Listens on `address`; fails as listen(2) does (EADDRINUSE, EADDRNOTAVAIL, ...), saying where. */
  static async start(registry: Registry, address: MetricsAddress): Promise<MetricsServer> {
    const server = http.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => reject(listenError(err, address)));
      server.listen({ host: address.host, port: address.port, exclusive: true }, () => resolve());
    });
    server.unref();
    const bound = server.address() as AddressInfo;
    return new MetricsServer(
      server,
      registry,
      `http://${formatHostPort(bound.address, bound.port)}/metrics`,
    );
  }

  private async answer(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') return reply(res, 404, 'not found: the metrics are at /metrics\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return reply(res, 405, 'method not allowed: use GET\n');
    }
    try {
      const body = await this.registry.metrics();
      res.setHeader('Content-Type', this.registry.contentType);
      reply(res, 200, req.method === 'HEAD' ? '' : body);
    } catch (err) {
      reply(res, 500, `xdpnet: the engine did not answer: ${(err as Error).message}\n`);
    }
  }

  /** Stops listening and drops open connections. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const done = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await done;
  }
}

function reply(res: http.ServerResponse, status: number, body: string): void {
  res.statusCode = status;
  if (status !== 200) res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.end(body);
}

/** listen()'s error with the same code, and a message that names the metrics endpoint. */
function listenError(err: NodeJS.ErrnoException, address: MetricsAddress): Error {
  const where = formatHostPort(address.host, address.port);
  const hint =
    err.code === 'EADDRINUSE'
      ? ' (another process listens there: pick another port, or 0 for any free one)'
      : err.code === 'EADDRNOTAVAIL'
        ? ' (no interface of this machine has that address)'
        : '';
  return Object.assign(new Error(`metrics endpoint ${where}: ${err.message}${hint}`), {
    code: err.code,
    errno: err.errno,
    syscall: err.syscall,
    address: address.host,
    port: address.port,
    cause: err,
  });
}

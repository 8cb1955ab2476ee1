// perf https's server, the same file on the engine and on the kernel (see app-side.ts): Node's
// https server (TLS 1.3, keep-alive) with http-app's handler. The perf mode makes the key and
// certificate and passes their paths in XDPNET_PERF_TLS_KEY and XDPNET_PERF_TLS_CERT.
import fs from 'node:fs';
import type nodeHttp from 'node:http';
import nodeHttps from 'node:https';
import { https as engineHttps } from '../../ts/index.js';
import { APP_BODY, appHost, appPort, onKernel } from './app-side.js';

// Node's createServer or xdpnet's (the same signature; xdpnet's listens on the engine).
const createServer: (
  options: nodeHttps.ServerOptions,
  handler: nodeHttp.RequestListener,
) => nodeHttps.Server = onKernel() ? nodeHttps.createServer : engineHttps.createServer;

function pem(variable: string): Buffer {
  const file = process.env[variable];
  if (file === undefined) {
    throw Object.assign(new Error(`https-app needs ${variable} (a PEM file)`), { code: 'EINVAL' });
  }
  return fs.readFileSync(file);
}

export const server = createServer(
  { key: pem('XDPNET_PERF_TLS_KEY'), cert: pem('XDPNET_PERF_TLS_CERT') },
  (req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': APP_BODY.length });
    res.end(req.method === 'HEAD' ? undefined : APP_BODY);
  },
);
server.keepAliveTimeout = 60_000;
server.on('error', (err) => process.stderr.write(`https-app: ${err.message}\n`));
server.listen(appPort(), appHost());

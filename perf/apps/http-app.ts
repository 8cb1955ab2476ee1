// perf http's server, the same file on the engine and on the kernel (see app-side.ts): Node's
// http server with one handler answering every request with a short text body, keep-alive on.
import nodeHttp from 'node:http';
import { http as engineHttp } from '../../ts/index.js';
import { APP_BODY, appHost, appPort, onKernel } from './app-side.js';

// Node's createServer or xdpnet's (the same signature; xdpnet's listens on the engine).
const createServer: (handler: nodeHttp.RequestListener) => nodeHttp.Server = onKernel()
  ? nodeHttp.createServer
  : engineHttp.createServer;

export const server = createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': APP_BODY.length });
  res.end(req.method === 'HEAD' ? undefined : APP_BODY);
});
server.keepAliveTimeout = 60_000;
server.on('error', (err) => process.stderr.write(`http-app: ${err.message}\n`));
server.listen(appPort(), appHost());

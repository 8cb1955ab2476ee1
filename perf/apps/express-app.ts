// perf express's server, the same file on the engine and on the kernel (see app-side.ts): an
// Express app (router, a middleware, a route with a parameter) behind Node's http server.
import nodeHttp from 'node:http';
import express from 'express';
import { http as engineHttp } from '../../ts/index.js';
import { APP_BODY, appHost, appPort, onKernel } from './app-side.js';

// Node's createServer or xdpnet's (the same signature; xdpnet's listens on the engine).
const createServer: (handler: nodeHttp.RequestListener) => nodeHttp.Server = onKernel()
  ? nodeHttp.createServer
  : engineHttp.createServer;

const app = express();
app.disable('x-powered-by');
app.use((_req, res, next) => {
  res.set('Cache-Control', 'no-store');
  next();
});
app.get('/', (_req, res) => {
  res.type('text/plain').send(APP_BODY);
});
app.get('/users/:id', (req, res) => {
  res.json({ id: Number(req.params.id) });
});

export const server = createServer(app);
server.keepAliveTimeout = 60_000;
server.on('error', (err) => process.stderr.write(`express-app: ${err.message}\n`));
server.listen(appPort(), appHost());

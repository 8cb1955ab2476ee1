// Baseline HTTP server: Node's `http` on the kernel stack with the same response as
// examples/minimal-http-server (200, text/plain, the same body and keep-alive), until the run ends.
import http from 'node:http';
import { runServer } from './net-server.js';

const body = Buffer.from(process.env.HTTP_BODY ?? 'Hello from xdpnet\n');

const server = http.createServer((req, res) => {
  run.seen();
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': body.length });
  res.end(req.method === 'HEAD' ? undefined : body);
});
server.keepAliveTimeout = 60_000;
server.on('connection', (socket) => {
  run.track(socket);
  socket.setNoDelay(true);
});
const run = runServer(server);

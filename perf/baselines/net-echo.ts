// Baseline TCP echo server: Node's `net` on the kernel stack sends every byte back (as
// examples/tcp-echo does on the engine), until the run ends (net-server.ts).
import net from 'node:net';
import { runServer } from './net-server.js';

const server = net.createServer((socket) => {
  run.track(socket);
  socket.setNoDelay(true);
  socket.on('data', (d: Buffer) => {
    run.bytes += d.length;
    run.seen();
  });
  socket.pipe(socket);
});
const run = runServer(server);

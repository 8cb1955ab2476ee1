// Baseline TCP sink: Node's `net` on the kernel stack reads and drops everything, and ends its
// side once the sender has (the tcp-stream sender waits for that FIN), until the run ends.
import net from 'node:net';
import { runServer } from './net-server.js';

const server = net.createServer({ allowHalfOpen: true }, (socket) => {
  run.track(socket);
  socket.on('data', (d: Buffer) => {
    run.bytes += d.length;
    run.seen();
  });
  socket.on('end', () => socket.end());
});
const run = runServer(server);

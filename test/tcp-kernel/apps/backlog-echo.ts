// Test app for test/tcp-kernel/resize.test.ts: examples/tcp-echo.js's echo server on port 7, but
// listening with a backlog of XDPNET_ECHO_BACKLOG (default 1), so its SYN queue holds one
// handshake and every other SYN that arrives meanwhile is answered with a SYN cookie.
import { net } from '../../../ts/index.js';

const backlog = Number(process.env.XDPNET_ECHO_BACKLOG ?? 1);

const server = net.createServer((socket) => {
  socket.pipe(socket);
  socket.on('error', () => socket.destroy());
});
server.on('error', (err) => process.stderr.write(`backlog-echo: ${err.message}\n`));
server.listen({ port: 7, backlog });

// A TCP echo server on xdpnet: every byte sent to port 7 comes back, with Node's `net` API. The
// module runs in every engine worker; each listens on port 7 (SO_REUSEPORT semantics) and
// serves the connections that hash to it.
//   npx xdpnet run dist/examples/tcp-echo.js        then, from the peer:   nc <ip> 7
// Applications outside this package import from 'xdpnet' instead of '../ts/index.js'.
import { net } from '../ts/index.js';

const port = Number(process.env.ECHO_PORT ?? 7);

// One dual-stack listener on [::] takes IPv4 and IPv6, as Node's default does.
const server = net.createServer((socket) => {
  socket.pipe(socket); // backpressure both ways: pipe() pauses reading while writes wait
  socket.on('error', () => socket.destroy());
});
server.on('error', (err) => process.stderr.write(`tcp-echo: ${err.message}\n`));
server.listen(port);

// A UDP echo server on xdpnet: every datagram to port 7 goes back to its sender. The module runs
// in every engine worker; each binds port 7 and answers the flows that hash to it.
//   npx xdpnet run dist/examples/udp-echo.js            (on a fresh test bed)
//   npx xdpnet run dist/examples/udp-echo.js --iface eth1 --ip 198.18.0.1/24
// Applications outside this package import from 'xdpnet' instead of '../ts/index.js'.
import { dgram } from '../ts/index.js';

const port = Number(process.env.ECHO_PORT ?? 7);

// udp6 with ipv6Only: a dual-stack socket would claim the IPv4 port too (EADDRINUSE, as on Linux).
// zeroCopy: `msg` is a view of the received frame, valid during the listener, which is all an
// echo needs (send() copies it into the reply's frame before returning).
for (const type of ['udp4', 'udp6'] as const) {
  const socket = dgram.createSocket({ type, ipv6Only: type === 'udp6', zeroCopy: true });
  socket.on('message', (msg, rinfo) => {
    socket.send(msg, rinfo.port, rinfo.address);
  });
  socket.on('error', (err) => {
    process.stderr.write(`udp-echo (${type}): ${err.message}\n`);
  });
  socket.bind(port);
}

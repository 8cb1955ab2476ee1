// A UDP server that `sockperf ping-pong` and `sockperf under-load` can measure: sockperf's header
// is a u64 sequence number, then u16 flags (big endian: 1 = sent by the client, 2 = asks for a
// reply), then a u32 length. The server answers a message that asks for a reply with the same
// bytes and the client flag cleared, as `sockperf server` does.
//   npx xdpnet run dist/examples/sockperf-server.js   then, from the peer:   sockperf ping-pong -i <ip>
import { dgram } from '../ts/index.js';

const port = Number(process.env.SOCKPERF_PORT ?? 11111);
const FLAGS_LOW_BYTE = 9;
const CLIENT = 1;
const REPLY_WANTED = 2;

// udp6 with ipv6Only: a dual-stack socket would claim the IPv4 port too (EADDRINUSE, as on Linux).
// zeroCopy: `msg` is a view of the received frame, valid during the listener, which is all an
// echo needs (send() copies it into the reply's frame before returning).
for (const type of ['udp4', 'udp6'] as const) {
  const socket = dgram.createSocket({ type, ipv6Only: type === 'udp6', zeroCopy: true });
  socket.on('message', (msg, rinfo) => {
    if (msg.length < 14 || (msg[FLAGS_LOW_BYTE] & REPLY_WANTED) === 0) return;
    msg[FLAGS_LOW_BYTE] &= ~CLIENT;
    socket.send(msg, rinfo.port, rinfo.address);
  });
  socket.bind(port);
}

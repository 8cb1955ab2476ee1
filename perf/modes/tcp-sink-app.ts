// The engine app tcp-stream measures: a TCP sink on port 9 (discard) that reads and drops
// everything and ends its side once the sender has, so the sender knows all bytes arrived.
import { net } from '../../ts/index.js';

const server = net.createServer({ allowHalfOpen: true }, (socket) => {
  socket.on('data', () => undefined);
  socket.on('end', () => socket.end());
  socket.on('error', () => socket.destroy());
});
server.on('error', (err) => process.stderr.write(`tcp-sink: ${err.message}\n`));
server.listen(9);

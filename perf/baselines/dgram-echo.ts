// Baseline echo server: Node's dgram on the kernel stack sends every datagram back to its sender
// until `--seconds` pass or traffic stops for `--idle` seconds, then prints one JSON line.
// Usage: node dgram-echo.js --bind ADDR --port P --seconds S [--idle 1]
import { startDgramServer } from './dgram-server.js';

let received = 0;
let echoed = 0;

const server = startDgramServer((s) => {
  const result = { received, echoed, seconds: s.activeSeconds(), cpuSeconds: s.cpuSeconds() };
  process.stdout.write(`${JSON.stringify(result)}\n`);
});

server.socket.on('message', (msg, rinfo) => {
  received++;
  server.seen();
  server.socket.send(msg, rinfo.port, rinfo.address, (err) => {
    if (!err) echoed++;
  });
});

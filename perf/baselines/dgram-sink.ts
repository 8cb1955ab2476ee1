// Baseline receiver: Node's dgram on the kernel stack counts datagrams until `--seconds` pass or
// traffic stops for `--idle` seconds after it started, then prints one JSON line.
// Usage: node dgram-sink.js --bind ADDR --port P --seconds S [--idle 1]
import { startDgramServer } from './dgram-server.js';

let received = 0;
let bytes = 0;

const server = startDgramServer(
  (s) => {
    const result = { received, bytes, seconds: s.activeSeconds(), cpuSeconds: s.cpuSeconds() };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  },
  () => received,
);

server.socket.on('message', (msg) => {
  received++;
  bytes += msg.length;
  server.seen();
});

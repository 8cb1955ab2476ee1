// Baseline sender: Node's dgram on the kernel stack sends `--size`-byte datagrams as fast as it can
// (a bounded number of sends in flight) for `--seconds`, then prints one JSON line.
// Usage: node dgram-send.js --bind ADDR --dst ADDR --port P --size N --seconds S
import dgram from 'node:dgram';
import { numberOption, stringOption } from './options.js';

const bind = stringOption('bind') ?? '127.0.0.1';
const dst = stringOption('dst') ?? '127.0.0.1';
const port = numberOption('port', 9);
const size = numberOption('size', 18);
const seconds = numberOption('seconds', 5);
const IN_FLIGHT = 64;

const socket = dgram.createSocket(bind.includes(':') ? 'udp6' : 'udp4');
const payload = Buffer.alloc(size, 0x5a);
let sent = 0;
let errors = 0;
let inFlight = 0;
let stopping = false;
const cpu0 = process.cpuUsage();
let started = 0;

// Send callbacks can arrive on the nextTick queue, which starves timers: check the clock here.
function pump(): void {
  if (!stopping && performance.now() - started >= seconds * 1000) stopping = true;
  while (!stopping && inFlight < IN_FLIGHT) {
    inFlight++;
    socket.send(payload, port, dst, (err) => {
      inFlight--;
      if (err) errors++;
      else sent++;
      if (stopping && inFlight === 0) finish();
      else pump();
    });
  }
}

function finish(): void {
  const cpu = process.cpuUsage(cpu0);
  const secs = (performance.now() - started) / 1000;
  process.stdout.write(
    `${JSON.stringify({ sent, errors, seconds: secs, cpuSeconds: (cpu.user + cpu.system) / 1e6 })}\n`,
  );
  socket.close();
}

socket.bind(0, bind, () => {
  process.stdout.write('ready\n');
  started = performance.now();
  pump();
});

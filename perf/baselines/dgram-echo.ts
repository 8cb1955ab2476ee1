// Baseline echo server: Node's dgram on the kernel stack sends every datagram back to its sender
// until `--seconds` pass or traffic stops for `--idle` seconds, then prints one JSON line.
// Usage: node dgram-echo.js --bind ADDR --port P --seconds S [--idle 1]
import dgram from 'node:dgram';
import { parseArgs, numberOption, stringOption } from '../../ts/cli/args.js';

const args = parseArgs(process.argv.slice(2));
const bind = stringOption(args, 'bind') ?? '127.0.0.1';
const port = numberOption(args, 'port', 9);
const seconds = numberOption(args, 'seconds', 10);
const idleSeconds = numberOption(args, 'idle', 1);

const socket = dgram.createSocket({
  type: bind.includes(':') ? 'udp6' : 'udp4',
  recvBufferSize: 1 << 24,
});
let received = 0;
let echoed = 0;
let first = 0;
let last = 0;
const cpu0 = process.cpuUsage();

socket.on('message', (msg, rinfo) => {
  received++;
  last = performance.now();
  if (first === 0) first = last;
  socket.send(msg, rinfo.port, rinfo.address, (err) => {
    if (!err) echoed++;
  });
});

socket.bind(port, bind, () => {
  process.stdout.write('ready\n');
  const started = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    if ((first !== 0 && now - last > idleSeconds * 1000) || now - started > seconds * 1000) {
      clearInterval(timer);
      const cpu = process.cpuUsage(cpu0);
      const active = first ? (last - first) / 1000 : 0;
      const cpuSeconds = (cpu.user + cpu.system) / 1e6;
      process.stdout.write(
        `${JSON.stringify({ received, echoed, seconds: active, cpuSeconds })}\n`,
      );
      socket.close();
    }
  }, 50);
});
